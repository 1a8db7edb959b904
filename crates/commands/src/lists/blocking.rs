//! BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
//!
//! Each runs its non-blocking counterpart's step ([`try_pop_first`],
//! [`move_element`]); when nothing is there it asks to wait on its keys
//! ([`Ctx::block_on`]) and runs again when one of them changes. On such a run
//! (`ctx.woken`) a key holding another type is skipped, not an error: Redis 7.0
//! leaves the client blocked. Served commands propagate as their non-blocking
//! forms (LPOP/RPOP with the popped count, LMOVE, RPOPLPUSH).

use super::pushpop::{move_element, parse_mpop, try_pop_first, MoveOutcome, PopOutcome, PopShape};
use super::{get_list, parse_end};
use crate::args;
use crate::ctx::{Ctx, Propagate, TimeoutReply};
use bytes::Bytes;
use shoal_keyspace::{Access, End};

pub(super) fn blpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bpop(ctx, argv, End::Head);
}

pub(super) fn brpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bpop(ctx, argv, End::Tail);
}

/// The deadline from a timeout argument, or the error already replied.
fn deadline(ctx: &mut Ctx<'_>, arg: &[u8]) -> Result<Option<i64>, ()> {
    args::timeout_secs(arg, ctx.now.ms).map_err(|e| ctx.error(e))
}

/// Keys that hold a list or nothing, when woken (wrong types are waited past).
fn ready_keys(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Vec<Bytes> {
    if !ctx.woken {
        return keys.to_vec();
    }
    keys.iter()
        .filter(|k| get_list(ctx, k, Access::NoTouch).is_ok())
        .cloned()
        .collect()
}

fn bpop(ctx: &mut Ctx<'_>, argv: &[Bytes], end: End) {
    let Ok(deadline) = deadline(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let keys = &argv[1..argv.len() - 1];
    let candidates = ready_keys(ctx, keys);
    match try_pop_first(ctx, &candidates, end, 1, PopShape::KeyAndSingle) {
        PopOutcome::Popped | PopOutcome::WrongType => {}
        PopOutcome::Empty => ctx.block_on(keys.to_vec(), deadline, TimeoutReply::NullArray, None),
    }
}

pub(super) fn blmpop(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let Ok(deadline) = deadline(ctx, &argv[1]) else {
        return;
    };
    let a = match parse_mpop(&argv[2..]) {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    let candidates = ready_keys(ctx, a.keys);
    match try_pop_first(ctx, &candidates, a.end, a.count, PopShape::KeyAndArray) {
        PopOutcome::Popped | PopOutcome::WrongType => {}
        PopOutcome::Empty => ctx.block_on(a.keys.to_vec(), deadline, TimeoutReply::NullArray, None),
    }
}

pub(super) fn blmove(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (from, to) = match (parse_end(&argv[3]), parse_end(&argv[4])) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return ctx.error(e),
    };
    bmove(ctx, argv, &argv[5], from, to, "LMOVE");
}

pub(super) fn brpoplpush(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    bmove(ctx, argv, &argv[3], End::Tail, End::Head, "RPOPLPUSH");
}

fn bmove(ctx: &mut Ctx<'_>, argv: &[Bytes], timeout: &[u8], from: End, to: End, name: &str) {
    let Ok(deadline) = deadline(ctx, timeout) else {
        return;
    };
    let (src, dst) = (&argv[1], &argv[2]);
    if ctx.woken && get_list(ctx, src, Access::NoTouch).is_err() {
        return ctx.block_on(vec![src.clone()], deadline, TimeoutReply::NullBulk, None);
    }
    match move_element(ctx, src, dst, from, to) {
        MoveOutcome::Moved => {
            let mut cmd = vec![
                Bytes::copy_from_slice(name.as_bytes()),
                src.clone(),
                dst.clone(),
            ];
            if name == "LMOVE" {
                cmd.push(argv[3].clone());
                cmd.push(argv[4].clone());
            }
            ctx.propagate = Propagate::Rewritten(vec![cmd]);
        }
        MoveOutcome::WrongType => {}
        MoveOutcome::NoSource => {
            ctx.block_on(vec![src.clone()], deadline, TimeoutReply::NullBulk, None)
        }
    }
}
