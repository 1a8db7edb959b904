//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP.
//!
//! Field names and order are Redis 7.0.15's; every reply is a map in RESP3 and a
//! flat field/value array in RESP2.

use super::group::reply_help;
use super::{c_str, no_group_for_key, reply_entry, reply_id, stream_and_out};
use crate::args::kw;
use crate::ctx::{Ctx, WrongType};
use crate::errors;
use bytes::Bytes;
use shoal_keyspace::stream::{Group, StreamData, StreamId, ENTRIES_READ_UNKNOWN};
use shoal_keyspace::Access;
use shoal_resp::ReplyWriter;

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    List the consumers of a group.",
    "GROUPS <key>",
    "    List the consumer groups of a stream.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Describe the stream (FULL: with entries, groups and consumers).",
    "HELP",
    "    Print this help.",
];

pub(super) fn xinfo(ctx: &mut Ctx<'_>, argv: &[Bytes]) {
    let sub = &argv[1];
    if kw(sub, "help") {
        return reply_help(ctx.out, XINFO_HELP);
    }
    let syntax = |ctx: &mut Ctx<'_>| ctx.error(&errors::subcommand_syntax(sub, "XINFO"));
    let is_consumers = kw(sub, "consumers") && argv.len() == 4;
    let is_groups = kw(sub, "groups") && argv.len() == 3;
    let is_stream = kw(sub, "stream") && argv.len() >= 3;
    if !(is_consumers || is_groups || is_stream) {
        return syntax(ctx);
    }
    let now = ctx.now.ms;
    let key = &argv[2];
    let (s, out) = stream_and_out(ctx, key, Access::Read);
    let s = match s {
        Err(WrongType) => return ctx.wrong_type(),
        Ok(None) => return out.error(errors::NO_SUCH_KEY),
        Ok(Some(s)) => &**s,
    };
    // FULL [COUNT n] is checked after the key.
    let mut full = None;
    if is_stream && argv.len() > 3 {
        if !kw(&argv[3], "full") || (argv.len() != 4 && argv.len() != 6) {
            return out.error(&errors::subcommand_syntax(sub, "XINFO"));
        }
        let mut count = 10i64;
        if argv.len() == 6 {
            if !kw(&argv[4], "count") {
                return out.error(&errors::subcommand_syntax(sub, "XINFO"));
            }
            match crate::args::int(&argv[5]) {
                Ok(n) => count = if n < 0 { 10 } else { n },
                Err(e) => return out.error(e),
            }
        }
        full = Some(if count == 0 {
            usize::MAX
        } else {
            count as usize
        });
    }
    if is_consumers {
        let Some(g) = s.groups.get(&argv[3][..]) else {
            return no_group_for_key(out, key, c_str(&argv[3]));
        };
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int(now.saturating_sub(c.seen_time).max(0));
        }
    } else if is_groups {
        out.array(s.groups.len());
        for (name, g) in &s.groups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            reply_read_and_lag(out, s, g);
        }
    } else {
        reply_stream(out, s, full);
    }
}

/// `entries-read` and `lag` (null when unknown).
fn reply_read_and_lag(out: &mut ReplyWriter, s: &StreamData, g: &Group) {
    out.bulk(b"entries-read");
    if g.entries_read == ENTRIES_READ_UNKNOWN {
        out.null();
    } else {
        out.int(g.entries_read);
    }
    out.bulk(b"lag");
    match s.group_lag(g) {
        Some(lag) => out.int(lag),
        None => out.null(),
    }
}

fn reply_stream(out: &mut ReplyWriter, s: &StreamData, full: Option<usize>) {
    out.map(if full.is_some() { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_node_count() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    let Some(count) = full else {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, end) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match s.range(StreamId::ZERO, StreamId::MAX, end).next() {
                Some((id, e)) => reply_entry(out, id, e),
                None => out.null(),
            }
        }
        return;
    };
    out.bulk(b"entries");
    let d = out.defer_len();
    let mut n = 0;
    for (id, e) in s.range(StreamId::ZERO, StreamId::MAX, false).take(count) {
        reply_entry(out, id, e);
        n += 1;
    }
    out.set_deferred_array(d, n);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_read_and_lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let shown = g.pel.len().min(count);
        out.array(shown);
        for (id, p) in g.pel.iter().take(shown) {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&p.consumer);
            out.int(p.delivery_time);
            out.int(p.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let shown = c.pel.len().min(count);
            out.array(shown);
            for id in c.pel.iter().take(shown) {
                out.array(3);
                reply_id(out, *id);
                let (t, n) = g
                    .pel
                    .get(id)
                    .map(|p| (p.delivery_time, p.delivery_count))
                    .unwrap_or((0, 0));
                out.int(t);
                out.int(n as i64);
            }
        }
    }
}
