//! Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX XX GT LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME, PERSIST.
//!
//! Propagation follows Redis 7.0: a time that is still in the future goes to replicas
//! and the AOF as `PEXPIREAT key <absolute ms> [flags]`, so that every copy expires the
//! key at the same instant; a time already past deletes the key at once and goes out
//! as `DEL key` (Redis uses UNLINK instead under `lazyfree-lazy-expire`). A replica (or
//! a node applying its master's stream) never deletes here: it stores the past time
//! and waits for the master's DEL.
//!
//! Events: "expire" when a TTL is set, "del" when a past time deletes the key,
//! "persist" when PERSIST removes a TTL.

use super::{c_str, unsupported_option, EXPIRE_GT_LT_CONFLICT, EXPIRE_NX_CONFLICT};
use crate::args;
use crate::ctx::{Ctx, Propagate};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::{class, Access, ExpireMode};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// EXPIRE's condition flags, as parsed (any combination that passed the checks).
#[derive(Default, Clone, Copy)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_cond(opts: &[Bytes]) -> Result<Cond, String> {
    let mut c = Cond::default();
    for o in opts {
        let o = c_str(o);
        if args::is(o, "nx") {
            c.nx = true;
        } else if args::is(o, "xx") {
            c.xx = true;
        } else if args::is(o, "gt") {
            c.gt = true;
        } else if args::is(o, "lt") {
            c.lt = true;
        } else {
            return Err(unsupported_option(o));
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(EXPIRE_NX_CONFLICT.to_string());
    }
    if c.gt && c.lt {
        return Err(EXPIRE_GT_LT_CONFLICT.to_string());
    }
    Ok(c)
}

impl Cond {
    /// Whether the new time `when` may replace `current` (None: no TTL, which GT and
    /// LT treat as infinite).
    fn allows(self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        // No TTL counts as infinite: GT can never beat it.
        if self.gt && !matches!(current, Some(cur) if when > cur) {
            return false;
        }
        if self.lt {
            if let Some(cur) = current {
                if when >= cur {
                    return false;
                }
            }
        }
        true
    }
}

pub(super) fn expire(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, true, Unit::Seconds, "expire");
}

pub(super) fn pexpire(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, true, Unit::Millis, "pexpire");
}

pub(super) fn expireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, false, Unit::Seconds, "expireat");
}

pub(super) fn pexpireat(ctx: &mut Ctx, argv: &[Bytes]) {
    expire_generic(ctx, argv, false, Unit::Millis, "pexpireat");
}

/// The absolute time in ms for `n` units after `base`, or None if it overflows `i64`
/// (Redis checks the unit conversion and the addition separately, with the same
/// outcome).
fn absolute_ms(n: i64, unit: Unit, base: i64) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => n.checked_mul(1000)?,
        Unit::Millis => n,
    };
    // Redis rejects `ms > LLONG_MAX - base` only; a negative sum is fine.
    if ms > i64::MAX - base {
        return None;
    }
    Some(ms + base)
}

fn expire_generic(ctx: &mut Ctx, argv: &[Bytes], relative: bool, unit: Unit, name: &str) {
    let key = &argv[1];
    let cond = match parse_cond(&argv[3..]) {
        Ok(c) => c,
        Err(e) => return ctx.error(&e),
    };
    let n = match args::int(&argv[2]) {
        Ok(n) => n,
        Err(e) => return ctx.error(e),
    };
    let base = if relative { ctx.now.ms } else { 0 };
    let Some(when) = absolute_ms(n, unit, base) else {
        return ctx.error(&errors::invalid_expire(name));
    };
    if ctx.write(key).is_none() {
        return ctx.out.int(0);
    }
    let current = ctx.db(key).expire_time(key);
    if !cond.allows(current, when) {
        return ctx.out.int(0);
    }
    let may_delete = !ctx.settings.replica && ctx.now.expire == ExpireMode::Delete;
    if when <= ctx.now.ms && may_delete {
        if let Some((entry, _)) = ctx.db(key).remove(key) {
            super::free_entry(entry, false);
        }
        ctx.dirty += 1;
        ctx.notify(class::GENERIC, "del", key);
        ctx.propagate = Propagate::Rewritten(vec![vec![Bytes::from_static(b"DEL"), key.clone()]]);
        return ctx.out.int(1);
    }
    ctx.db(key).set_expire(key, when);
    ctx.dirty += 1;
    ctx.notify(class::GENERIC, "expire", key);
    if relative || unit == Unit::Seconds {
        let mut cmd = Vec::with_capacity(argv.len());
        cmd.push(Bytes::from_static(b"PEXPIREAT"));
        cmd.push(key.clone());
        let mut buf = [0u8; 20];
        cmd.push(Bytes::copy_from_slice(shoal_ds::num::format_i64(
            when, &mut buf,
        )));
        cmd.extend(argv[3..].iter().cloned());
        ctx.propagate = Propagate::Rewritten(vec![cmd]);
    }
    ctx.out.int(1);
}

/// What TTL-like commands report.
#[derive(Clone, Copy)]
enum TtlOut {
    Remaining(Unit),
    Absolute(Unit),
}

pub(super) fn ttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, &argv[1], TtlOut::Remaining(Unit::Seconds));
}

pub(super) fn pttl(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, &argv[1], TtlOut::Remaining(Unit::Millis));
}

pub(super) fn expiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, &argv[1], TtlOut::Absolute(Unit::Seconds));
}

pub(super) fn pexpiretime(ctx: &mut Ctx, argv: &[Bytes]) {
    ttl_generic(ctx, &argv[1], TtlOut::Absolute(Unit::Millis));
}

fn ttl_generic(ctx: &mut Ctx, key: &[u8], what: TtlOut) {
    if ctx.lookup(key, Access::ReadNoTouch).is_none() {
        return ctx.out.int(-2);
    }
    let Some(at) = ctx.db(key).expire_time(key) else {
        return ctx.out.int(-1);
    };
    let (ms, unit) = match what {
        TtlOut::Remaining(u) => (at.saturating_sub(ctx.now.ms), u),
        TtlOut::Absolute(u) => (at, u),
    };
    let ms = ms.max(0);
    let v = match unit {
        Unit::Millis => ms,
        // Rounded to the nearest second; computed wide so that a time near i64::MAX
        // rounds up as Redis's reply shows instead of overflowing.
        Unit::Seconds => ((i128::from(ms) + 500) / 1000) as i64,
    };
    ctx.out.int(v);
}

pub(super) fn persist(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    if ctx.write(key).is_none() {
        return ctx.out.int(0);
    }
    if ctx.db(key).persist(key) {
        ctx.dirty += 1;
        ctx.notify(class::GENERIC, "persist", key);
        ctx.out.int(1);
    } else {
        ctx.out.int(0);
    }
}
