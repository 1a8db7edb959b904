//! Sorted set commands.
//!
//! | module | commands |
//! |---|---|
//! | [`add`] | ZADD ZINCRBY ZREM ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX |
//! | [`read`] | ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANDMEMBER ZSCAN |
//! | [`range`] | ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX |
//! | [`pop`] | ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP |
//! | [`setops`] | ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD |
//!
//! Behaviour is Redis 7.0.15's: the order of argument checks and type checks, error
//! texts, reply shapes (RESP3 doubles; WITHSCORES pairs nested in RESP3), `dirty`
//! increments and keyspace events. Scores are replied with `%.17g`
//! ([`shoal_resp::ReplyWriter::double`]).
//!
//! Invariants:
//! - a sorted set key never exists empty: whatever removes the last member deletes
//!   the key in the same command (and reports "del" after the type's event);
//! - a handler touches only the keys dispatch locked for it: commands taking
//!   `numkeys` validate it before reading any key;
//! - keywords are compared like Redis's `strcasecmp` ([`crate::args::kw`]).

mod add;
mod pop;
mod range;
mod read;
mod setops;

#[cfg(test)]
mod tests;

use crate::ctx::{Ctx, WrongType};
use crate::settings::Settings;
use crate::Handler;
use shoal_keyspace::{Access, Value, ZLimits, ZSet};
use shoal_resp::ReplyWriter;

pub(crate) use add::zadd as zadd_argv;
pub use range::{LexRange, ScoreRange};
pub use setops::{set_contains, set_members};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("zadd", add::zadd),
    ("zincrby", add::zincrby),
    ("zrem", add::zrem),
    ("zremrangebyrank", add::zremrangebyrank),
    ("zremrangebyscore", add::zremrangebyscore),
    ("zremrangebylex", add::zremrangebylex),
    ("zcard", read::zcard),
    ("zscore", read::zscore),
    ("zmscore", read::zmscore),
    ("zrank", read::zrank),
    ("zrevrank", read::zrevrank),
    ("zcount", read::zcount),
    ("zlexcount", read::zlexcount),
    ("zrandmember", read::zrandmember),
    ("zscan", read::zscan),
    ("zrange", range::zrange),
    ("zrangestore", range::zrangestore),
    ("zrevrange", range::zrevrange),
    ("zrangebyscore", range::zrangebyscore),
    ("zrevrangebyscore", range::zrevrangebyscore),
    ("zrangebylex", range::zrangebylex),
    ("zrevrangebylex", range::zrevrangebylex),
    ("zpopmin", pop::zpopmin),
    ("zpopmax", pop::zpopmax),
    ("zmpop", pop::zmpop),
    ("bzpopmin", pop::bzpopmin),
    ("bzpopmax", pop::bzpopmax),
    ("bzmpop", pop::bzmpop),
    ("zunion", setops::zunion),
    ("zinter", setops::zinter),
    ("zdiff", setops::zdiff),
    ("zunionstore", setops::zunionstore),
    ("zinterstore", setops::zinterstore),
    ("zdiffstore", setops::zdiffstore),
    ("zintercard", setops::zintercard),
];

/// The listpack thresholds of the configuration.
pub fn limits(settings: &Settings) -> ZLimits {
    ZLimits::new(
        settings.zset_max_listpack_entries,
        settings.zset_max_listpack_value,
    )
}

/// Looks `key` up and hands back its sorted set together with the reply writer.
pub(crate) fn zset_and_out<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> (Result<Option<&'c mut ZSet>, WrongType>, &'c mut ReplyWriter) {
    ctx.typed_and_out(key, access, Value::as_zset_mut)
}

/// The reply of ZMSCORE, GEOHASH and GEOPOS: an array with, for each member
/// `argv[2..]` of the sorted set at `argv[1]`, what `each` writes for its score
/// (`None`: not a member, or no key). WRONGTYPE for another type.
pub(crate) fn reply_member_scores(
    ctx: &mut Ctx<'_>,
    argv: &[bytes::Bytes],
    mut each: impl FnMut(&mut ReplyWriter, Option<f64>),
) {
    let (z, out) = zset_and_out(ctx, &argv[1], Access::Read);
    let z = match z {
        Err(WrongType) => return out.error(crate::errors::WRONGTYPE),
        Ok(z) => z,
    };
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        each(out, z.as_ref().and_then(|z| z.score(m)));
    }
}

/// The sorted set at `key`: `Ok(None)` if absent, `Err` if another type.
pub(crate) fn get_zset<'c>(
    ctx: &'c mut Ctx<'_>,
    key: &[u8],
    access: Access,
) -> Result<Option<&'c mut ZSet>, WrongType> {
    zset_and_out(ctx, key, access).0
}

/// Replies one member with its score: flat in RESP2 (`member score`), a pair
/// when `nested` (RESP3 WITHSCORES, ZMPOP).
pub(crate) fn reply_pair(out: &mut ReplyWriter, nested: bool, m: &[u8], s: f64) {
    if nested {
        out.array(2);
    }
    out.bulk(m);
    out.double(s);
}

/// Whether the client speaks RESP3.
pub(crate) fn resp3(out: &ReplyWriter) -> bool {
    out.proto == shoal_resp::Proto::Resp3
}

/// Saturating conversion for counts in replies.
pub(crate) fn count_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
