//! XGROUP XACK XPENDING XCLAIM XAUTOCLAIM.

use super::{any_id, c_str, no_group_for_key, no_key_or_group, range_end, range_start};
use super::{pending_effect, reply_entry, reply_id, setid_effect, stream_and_out, strict_id};
use crate::args::kw;
use crate::ctx::{Ctx, Propagate, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::stream::{Group, Pending, StreamId, ENTRIES_READ_UNKNOWN};
use shoal_keyspace::{class, Access, Stream, Value};
use shoal_resp::ReplyWriter;

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a consumer group starting at the given ID ($: the stream's last ID).",
    "    Options:",
    "    * MKSTREAM",
    "      Create an empty stream when the key does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's count of entries read.",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Add a consumer to the group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove a consumer from the group.",
    "DESTROY <key> <groupname>",
    "    Remove the group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Move the group's last delivered ID and its count of entries read.",
    "HELP",
    "    Print this help.",
];

pub(crate) fn reply_help(out: &mut ReplyWriter, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

pub(super) fn xgroup(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let sub = &argv[1];
    let is = |w: &str| kw(sub, w);
    if argv.len() == 2 && is("help") {
        return reply_help(ctx.out, XGROUP_HELP);
    }
    let syntax = |ctx: &mut Ctx<'_>| ctx.error(&errors::subcommand_syntax(sub, "XGROUP"));
    if argv.len() < 4 {
        return syntax(ctx);
    }
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_UNKNOWN;
    if is("create") || is("setid") {
        let mut i = 5;
        while i < argv.len() {
            if is("create") && kw(&argv[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if kw(&argv[i], "entriesread") && i + 1 < argv.len() {
                match crate::args::int(&argv[i + 1]) {
                    Err(e) => return ctx.error(e),
                    Ok(n) if n < 0 && n != ENTRIES_READ_UNKNOWN => {
                        return ctx.error(errors::ENTRIESREAD_NEGATIVE)
                    }
                    Ok(n) => entries_read = n,
                }
                i += 2;
            } else {
                return syntax(ctx);
            }
        }
    }
    let key = &argv[2];
    let gname = &argv[3];
    let now = ctx.now.ms;
    let (s, out) = stream_and_out(ctx, key, Access::Write);
    let s = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(s) => s,
    };
    if s.is_none() && !(is("create") && mkstream) {
        return out.error(errors::XGROUP_KEY_MISSING);
    }
    let needs_group = is("setid") || is("createconsumer") || is("delconsumer");
    if needs_group
        && !s
            .as_ref()
            .is_some_and(|s| s.groups.contains_key(&gname[..]))
    {
        return no_group_for_key(out, key, gname);
    }
    if is("create") && (5..=8).contains(&argv.len()) {
        let id = if &argv[4][..] == b"$" {
            s.as_ref().map(|s| s.last_id).unwrap_or(StreamId::ZERO)
        } else {
            match strict_id(&argv[4], 0) {
                Ok(id) => id,
                Err(e) => return out.error(e),
            }
        };
        let created = match s {
            Some(s) => add_group(s, gname, id, entries_read),
            None => {
                let mut s = Stream::new();
                add_group(&mut s, gname, id, entries_read);
                let ms = ctx.now;
                ctx.db(key).set(key, Value::Stream(s), false, ms);
                ctx.ev.touch(ctx.db, key);
                true
            }
        };
        if !created {
            return ctx.error(errors::BUSYGROUP);
        }
        ctx.out.ok();
        ctx.dirty += 1;
        ctx.notify(class::STREAM, "xgroup-create", key);
    } else if is("setid") && (argv.len() == 5 || argv.len() == 7) {
        let Some(s) = s else { return };
        let id = if &argv[4][..] == b"$" {
            s.last_id
        } else {
            match any_id(&argv[4], 0) {
                Ok(id) => id,
                Err(e) => return out.error(e),
            }
        };
        if let Some(g) = s.groups.get_mut(&gname[..]) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        out.ok();
        ctx.dirty += 1;
        ctx.notify(class::STREAM, "xgroup-setid", key);
    } else if is("destroy") && argv.len() == 4 {
        let Some(s) = s else { return };
        if s.groups.remove(&gname[..]).is_some() {
            out.int(1);
            ctx.dirty += 1;
            ctx.notify(class::STREAM, "xgroup-destroy", key);
        } else {
            out.int(0);
        }
    } else if is("createconsumer") && argv.len() == 5 {
        let created = s
            .and_then(|s| s.groups.get_mut(&gname[..]))
            .is_some_and(|g| g.create_consumer(&argv[4], now));
        ctx.out.int(created as i64);
        if created {
            ctx.dirty += 1;
            ctx.notify(class::STREAM, "xgroup-createconsumer", key);
        }
    } else if is("delconsumer") && argv.len() == 5 {
        let pending = s
            .and_then(|s| s.groups.get_mut(&gname[..]))
            .and_then(|g| g.delete_consumer(&argv[4]));
        ctx.out.int(pending.unwrap_or(0) as i64);
        if pending.is_some() {
            ctx.dirty += 1;
            ctx.notify(class::STREAM, "xgroup-delconsumer", key);
        }
    } else {
        syntax(ctx);
    }
}

fn add_group(s: &mut Stream, name: &[u8], id: StreamId, entries_read: i64) -> bool {
    if s.groups.contains_key(name) {
        return false;
    }
    s.groups.insert(name.into(), Group::new(id, entries_read));
    true
}

pub(super) fn xack(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (s, out) = stream_and_out(ctx, &argv[1], Access::Read);
    let exists = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(s) => s.is_some_and(|s| s.groups.contains_key(&argv[2][..])),
    };
    if !exists {
        return out.int(0);
    }
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for a in &argv[3..] {
        match strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return ctx.error(e),
        }
    }
    let (s, out) = stream_and_out(ctx, &argv[1], Access::NoTouch);
    let mut acked = 0;
    if let Ok(Some(s)) = s {
        if let Some(g) = s.groups.get_mut(&argv[2][..]) {
            for id in ids {
                if g.ack(id) {
                    acked += 1;
                }
            }
        }
    }
    out.int(acked);
    ctx.dirty += acked as u64;
}

pub(super) fn xpending(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.error(errors::SYNTAX);
    }
    let mut range = None;
    let mut min_idle = 0i64;
    let mut consumer = None;
    if argc >= 6 {
        let mut at = 3;
        if kw(&argv[3], "idle") {
            match crate::args::int(&argv[4]) {
                Ok(v) => min_idle = v,
                Err(e) => return ctx.error(e),
            }
            if argc < 8 {
                return ctx.error(errors::SYNTAX);
            }
            at += 2;
        }
        let count = match crate::args::int(&argv[at + 2]) {
            Ok(v) => v.max(0) as u64,
            Err(e) => return ctx.error(e),
        };
        let start = match range_start(&argv[at]) {
            Ok(id) => id,
            Err(e) => return ctx.error(e),
        };
        let end = match range_end(&argv[at + 1]) {
            Ok(id) => id,
            Err(e) => return ctx.error(e),
        };
        if at + 3 < argc {
            consumer = Some(&argv[at + 3]);
        }
        range = Some((start, end, count));
    }
    let now = ctx.now.ms;
    let (key, gname) = (&argv[1], &argv[2]);
    let (s, out) = stream_and_out(ctx, key, Access::Read);
    let g = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(s) => s.and_then(|s| s.groups.get(&gname[..])),
    };
    let Some(g) = g else {
        return no_key_or_group(out, key, gname, "");
    };
    let Some((start, end, mut count)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(&first), Some(&last)) => {
                reply_id(out, first);
                reply_id(out, last);
                let with: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(with.len());
                for (name, c) in with {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return;
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            Some(c) => c.pel.iter().copied().collect(),
            None => return out.array(0),
        },
        None => g.pel.keys().copied().collect(),
    };
    let d = out.defer_len();
    let mut n = 0;
    if start <= end {
        for id in ids.into_iter().filter(|id| (start..=end).contains(id)) {
            if count == 0 {
                break;
            }
            let Some(p) = g.pel.get(&id) else { continue };
            let idle = now.saturating_sub(p.delivery_time);
            if min_idle != 0 && idle < min_idle {
                continue;
            }
            count -= 1;
            n += 1;
            out.array(4);
            reply_id(out, id);
            out.bulk(&p.consumer);
            out.int(idle.max(0));
            out.int(p.delivery_count as i64);
        }
    }
    out.set_deferred_array(d, n);
}

/// Marks `consumer` seen now; returns true if it does not exist yet (the claim
/// about to happen creates it).
fn note_consumer(g: &mut Group, consumer: &[u8], now: i64) -> bool {
    match g.consumers.get_mut(consumer) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => true,
    }
}

/// Moves `id`'s PEL entry to `consumer` (creating the consumer if needed).
fn claim_to<'g>(g: &'g mut Group, id: StreamId, consumer: &[u8], now: i64) -> &'g mut Pending {
    if !g.consumers.contains_key(consumer) {
        g.create_consumer(consumer, now);
    }
    let old = g.pel.get(&id).map(|p| p.consumer.clone());
    if let Some(old) = old {
        if *old != *consumer {
            if let Some(c) = g.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
    }
    if let Some(c) = g.consumers.get_mut(consumer) {
        c.pel.insert(id);
    }
    let p = g.pel.entry(id).or_insert_with(|| Pending {
        consumer: consumer.into(),
        delivery_time: now,
        delivery_count: 1,
    });
    p.consumer = consumer.into();
    p
}

/// XCLAIM's and XAUTOCLAIM's first check: the key holds a stream with the group.
/// Otherwise replies WRONGTYPE or NOGROUP and returns false.
fn group_exists_or_reply(ctx: &mut Ctx<'_>, key: &Bytes, gname: &Bytes) -> bool {
    let (s, out) = stream_and_out(ctx, key, Access::Read);
    match s {
        Err(WrongType) => {
            ctx.wrong_type();
            false
        }
        Ok(s)
            if s.as_ref()
                .is_some_and(|s| s.groups.contains_key(&gname[..])) =>
        {
            true
        }
        Ok(_) => {
            no_key_or_group(out, key, gname, "");
            false
        }
    }
}

/// A min-idle-time argument (negative counts as 0), if it is an integer.
fn min_idle_of(arg: &[u8]) -> Option<i64> {
    shoal_ds::num::parse_i64(arg).map(|v| v.max(0))
}

pub(super) fn xclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    if !group_exists_or_reply(ctx, key, gname) {
        return;
    }
    let Some(min_idle) = min_idle_of(&argv[4]) else {
        return ctx.error(errors::XCLAIM_MIN_IDLE);
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match strict_id(&argv[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.now.ms;
    let (mut force, mut justid) = (false, false);
    let mut retry: Option<u64> = None;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::ZERO;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if kw(opt, "force") {
            force = true;
        } else if kw(opt, "justid") {
            justid = true;
        } else if kw(opt, "idle") && more > 0 {
            j += 1;
            match shoal_ds::num::parse_i64(&argv[j]) {
                Some(v) => delivery = Some(now.wrapping_sub(v)),
                None => return ctx.error(errors::XCLAIM_IDLE),
            }
        } else if kw(opt, "time") && more > 0 {
            j += 1;
            match shoal_ds::num::parse_i64(&argv[j]) {
                Some(v) => delivery = Some(v),
                None => return ctx.error(errors::XCLAIM_TIME),
            }
        } else if kw(opt, "retrycount") && more > 0 {
            j += 1;
            match shoal_ds::num::parse_i64(&argv[j]) {
                Some(v) => retry = (v >= 0).then_some(v as u64),
                None => return ctx.error(errors::XCLAIM_RETRYCOUNT),
            }
        } else if kw(opt, "lastid") && more > 0 {
            j += 1;
            match strict_id(&argv[j], 0) {
                Ok(id) => last_id = id,
                Err(e) => return ctx.error(e),
            }
        } else {
            let mut msg = b"ERR Unrecognized XCLAIM option '".to_vec();
            msg.extend_from_slice(c_str(opt));
            msg.push(b'\'');
            return ctx.out.error_bytes(&msg);
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    let (s, out) = stream_and_out(ctx, key, Access::NoTouch);
    let Ok(Some(s)) = s else { return };
    let mut effects = Vec::new();
    let mut dirty = 0;
    let mut created = false;
    let mut moved_last = false;
    let exists: Vec<bool> = ids.iter().map(|&id| s.get(id).is_some()).collect();
    let Some(g) = s.groups.get_mut(&gname[..]) else {
        return;
    };
    if last_id > g.last_id {
        g.last_id = last_id;
        moved_last = true;
    }
    let mut claimed = Vec::new();
    for (&id, &exists) in ids.iter().zip(&exists) {
        if !exists {
            if let Some(p) = g.pel.get(&id) {
                effects.push(pending_effect(key, gname, id, p, g.last_id));
                moved_last = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        let had = g.pel.get(&id).map(|p| p.delivery_time);
        if had.is_none() && !force {
            continue;
        }
        if let Some(t) = had {
            if min_idle > 0 && now.saturating_sub(t) < min_idle {
                continue;
            }
        }
        created |= note_consumer(g, cname, now);
        let last = g.last_id;
        let p = claim_to(g, id, cname, now);
        p.delivery_time = delivery;
        match retry {
            Some(n) => p.delivery_count = n,
            None if !justid && had.is_some() => p.delivery_count += 1,
            None if !justid => p.delivery_count = 2,
            None => {}
        }
        effects.push(pending_effect(key, gname, id, p, last));
        moved_last = false;
        dirty += 1;
        claimed.push(id);
    }
    if moved_last {
        effects.push(setid_effect(key, gname, g.last_id, g.entries_read));
        dirty += 1;
    }
    out.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(out, id);
        } else {
            match s.get(id) {
                Some(e) => reply_entry(out, id, e),
                None => out.null(),
            }
        }
    }
    ctx.dirty += dirty;
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate = if effects.is_empty() {
        Propagate::Nothing
    } else {
        Propagate::Rewritten(effects)
    };
}

pub(super) fn xautoclaim(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    if !group_exists_or_reply(ctx, key, gname) {
        return;
    }
    let Some(min_idle) = min_idle_of(&argv[4]) else {
        return ctx.error(errors::XAUTOCLAIM_MIN_IDLE);
    };
    let start = match range_start(&argv[5]) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if kw(&argv[j], "count") && more > 0 {
            match shoal_ds::num::parse_i64(&argv[j + 1]) {
                Some(v) if (1..=i64::MAX / 16).contains(&v) => count = v as u64,
                _ => return ctx.error(errors::XAUTOCLAIM_COUNT),
            }
            // Redis allocates COUNT IDs up front; beyond what an address space
            // holds (2^47 bytes of 16-byte IDs) the allocation fails. Shoal
            // allocates nothing per COUNT but answers the same.
            if count > (1u64 << 47) / 16 {
                return ctx.error(errors::XAUTOCLAIM_COUNT_MEMORY);
            }
            j += 2;
        } else if kw(&argv[j], "justid") {
            justid = true;
            j += 1;
        } else {
            return ctx.error(errors::SYNTAX);
        }
    }
    let now = ctx.now.ms;
    let mut attempts = count.saturating_mul(10);
    let (s, out) = stream_and_out(ctx, key, Access::NoTouch);
    let Ok(Some(s)) = s else { return };
    let mut effects = Vec::new();
    let mut deleted = Vec::new();
    let mut claimed = Vec::new();
    let mut created = false;
    let mut cursor = Some(start);
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(from) = cursor else { break };
        let Some(g) = s.groups.get(&gname[..]) else {
            break;
        };
        let Some(id) = g.pel.range(from..).next().map(|(k, _)| *k) else {
            cursor = None;
            break;
        };
        cursor = id.incr();
        let exists = s.get(id).is_some();
        let Some(g) = s.groups.get_mut(&gname[..]) else {
            break;
        };
        if !exists {
            if let Some(p) = g.pel.get(&id) {
                effects.push(pending_effect(key, gname, id, p, g.last_id));
            }
            g.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        let t = g.pel.get(&id).map(|p| p.delivery_time).unwrap_or(now);
        if min_idle > 0 && now.saturating_sub(t) < min_idle {
            continue;
        }
        created |= note_consumer(g, cname, now);
        let last = g.last_id;
        let p = claim_to(g, id, cname, now);
        p.delivery_time = now;
        if !justid {
            p.delivery_count += 1;
        }
        effects.push(pending_effect(key, gname, id, p, last));
        claimed.push(id);
        count -= 1;
    }
    // The cursor is the first PEL entry not examined.
    let next = cursor
        .and_then(|from| {
            s.groups
                .get(&gname[..])
                .and_then(|g| g.pel.range(from..).next().map(|(k, _)| *k))
        })
        .unwrap_or(StreamId::ZERO);
    out.array(3);
    reply_id(out, next);
    out.array(claimed.len());
    for id in &claimed {
        if justid {
            reply_id(out, *id);
        } else {
            match s.get(*id) {
                Some(e) => reply_entry(out, *id, e),
                None => out.null(),
            }
        }
    }
    out.array(deleted.len());
    for id in &deleted {
        reply_id(out, *id);
    }
    ctx.dirty += (claimed.len() + deleted.len()) as u64;
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    ctx.propagate = if effects.is_empty() {
        Propagate::Nothing
    } else {
        Propagate::Rewritten(effects)
    };
}
