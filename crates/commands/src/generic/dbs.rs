//! Commands on a whole database: RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.
//!
//! Each locks every shard first ([`Ctx::lock_all`]), so it sees (and changes) the
//! databases atomically with respect to every other command.

use super::{parse_i32, INVALID_FIRST_DB, INVALID_SECOND_DB};
use crate::args;
use crate::ctx::{Ctx, Propagate};
use crate::errors;
use bytes::Bytes;
use rand::Rng;
use shoal_keyspace::{Access, DbShard, ExpireMode};

/// How many random picks RANDOMKEY makes before settling for an expired key
/// (replicas, where expired keys cannot be deleted) or giving up.
const RANDOMKEY_TRIES: usize = 100;

pub(super) fn randomkey(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.lock_all();
    let (db, now) = (ctx.db, ctx.now);
    let mut last_expired = None;
    for _ in 0..RANDOMKEY_TRIES {
        // Pick a shard with probability proportional to its size, then a key in it,
        // so that every key is (about) equally likely.
        let mut sizes = Vec::with_capacity(ctx.ks.num_shards());
        ctx.locked
            .for_each_shard(|i, s| sizes.push((i, s.dbs[db].len())));
        let total: usize = sizes.iter().map(|&(_, n)| n).sum();
        if total == 0 {
            break;
        }
        let mut r = ctx.rng.gen_range(0..total);
        let Some(idx) = sizes.iter().find_map(|&(i, n)| {
            if r < n {
                Some(i)
            } else {
                r -= n;
                None
            }
        }) else {
            break;
        };
        let Some(shard) = ctx.locked.shard(idx) else {
            break;
        };
        let dbs = &mut shard.dbs[db];
        let Some(key) = dbs.random_key(ctx.rng, now.ms) else {
            continue;
        };
        if dbs.peek(&key, now.ms).is_some() {
            return ctx.out.bulk(&key);
        }
        // Expired: delete it through the choke point (reported as an expiry) and
        // pick again; a replica can only hide it.
        if now.expire == ExpireMode::Delete {
            dbs.lookup(db, &key, now, Access::NoTouch, ctx.ev);
        } else {
            last_expired = Some(key);
        }
    }
    match last_expired {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
}

pub(super) fn dbsize(ctx: &mut Ctx, _argv: &[Bytes]) {
    ctx.lock_all();
    let db = ctx.db;
    let mut n = 0usize;
    ctx.locked.for_each_shard(|_, s| n += s.dbs[db].len());
    ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
}

/// FLUSHDB/FLUSHALL's optional argument: `Ok(true)` for an asynchronous flush.
fn flush_async(ctx: &Ctx, argv: &[Bytes]) -> Result<bool, &'static str> {
    match argv.len() {
        1 => Ok(ctx.settings.lazyfree_lazy_user_flush),
        2 if args::is(&argv[1], "sync") => Ok(false),
        2 if args::is(&argv[1], "async") => Ok(true),
        _ => Err(errors::SYNTAX),
    }
}

/// Empties database `db` (or all of them) in every shard; returns how many keys went.
/// An asynchronous flush hands the old tables to a background thread.
fn empty_dbs(ctx: &mut Ctx, db: Option<usize>, lazy: bool) -> u64 {
    ctx.lock_all();
    let mut removed = 0u64;
    let mut taken: Vec<DbShard> = Vec::new();
    ctx.locked.for_each_shard(|_, shard| {
        for (i, d) in shard.dbs.iter_mut().enumerate() {
            if db.is_some_and(|want| want != i) || d.is_empty() {
                continue;
            }
            removed += d.len() as u64;
            if lazy {
                taken.push(d.take());
            } else {
                d.clear();
            }
        }
    });
    if !taken.is_empty() {
        shoal_keyspace::lazyfree::free_later(taken);
    }
    removed
}

pub(super) fn flushdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let lazy = match flush_async(ctx, argv) {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    let db = ctx.db;
    ctx.dirty += empty_dbs(ctx, Some(db), lazy);
    ctx.ev.flushed.push(db);
    // Propagated even when the database was already empty (Redis forces it).
    ctx.propagate = Propagate::Rewritten(vec![argv.to_vec()]);
    ctx.out.ok();
}

/// FLUSHALL. Redis also saves an RDB right after when save points are configured and
/// kills a running RDB child; those belong to the server.
pub(super) fn flushall(ctx: &mut Ctx, argv: &[Bytes]) {
    let lazy = match flush_async(ctx, argv) {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    ctx.dirty += empty_dbs(ctx, None, lazy) + 1;
    let n = ctx.ks.num_dbs();
    ctx.ev.flushed.extend(0..n);
    ctx.propagate = Propagate::Rewritten(vec![argv.to_vec()]);
    ctx.out.ok();
}

pub(super) fn swapdb(ctx: &mut Ctx, argv: &[Bytes]) {
    let Ok(a) = parse_i32(&argv[1]) else {
        return ctx.error(INVALID_FIRST_DB);
    };
    let Ok(b) = parse_i32(&argv[2]) else {
        return ctx.error(INVALID_SECOND_DB);
    };
    let n = ctx.ks.num_dbs();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return ctx.error(errors::DB_OUT_OF_RANGE);
    };
    if a >= n || b >= n {
        return ctx.error(errors::DB_OUT_OF_RANGE);
    }
    if a != b {
        ctx.lock_all();
        ctx.locked.for_each_shard(|_, shard| shard.dbs.swap(a, b));
        ctx.ev.flushed.extend([a, b]);
    }
    ctx.dirty += 1;
    ctx.out.ok();
}
