//! SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH
//! SPUBLISH PUBSUB.
//!
//! Confirmations are push messages (RESP3 `>`, RESP2 arrays), one per channel, each
//! with the client's subscription count after it. In RESP2 a client with any
//! subscription is in "subscribed mode", where dispatch admits only the commands
//! listed in [`allowed_in_subscribed_mode`].

use super::SCtx;
use crate::pubsub::{Publisher, Space};
use bytes::Bytes;
use shoal_commands::errors;

pub const HANDLERS: &[(&str, super::ServerHandler)] = &[
    ("subscribe", subscribe),
    ("unsubscribe", unsubscribe),
    ("psubscribe", psubscribe),
    ("punsubscribe", punsubscribe),
    ("ssubscribe", ssubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish),
    ("spublish", spublish),
    ("pubsub", pubsub),
];

/// Commands a RESP2 client in subscribed mode may send (Redis 7.0's list).
pub fn allowed_in_subscribed_mode(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

fn subscribe(c: &mut SCtx, argv: &[Bytes]) {
    subscribe_generic(c, argv, Space::Channel);
}

fn psubscribe(c: &mut SCtx, argv: &[Bytes]) {
    subscribe_generic(c, argv, Space::Pattern);
}

fn ssubscribe(c: &mut SCtx, argv: &[Bytes]) {
    subscribe_generic(c, argv, Space::Shard);
}

fn unsubscribe(c: &mut SCtx, argv: &[Bytes]) {
    unsubscribe_generic(c, argv, Space::Channel);
}

fn punsubscribe(c: &mut SCtx, argv: &[Bytes]) {
    unsubscribe_generic(c, argv, Space::Pattern);
}

fn sunsubscribe(c: &mut SCtx, argv: &[Bytes]) {
    unsubscribe_generic(c, argv, Space::Shard);
}

fn subscribe_generic(c: &mut SCtx, argv: &[Bytes], space: Space) {
    let (verb, _) = space.verbs();
    for name in &argv[1..] {
        let count = c.srv.pubsub.subscribe(&c.s.info, space, name);
        c.out.push(3);
        c.out.bulk_str(verb);
        c.out.bulk(name);
        c.out.int(count as i64);
    }
    c.s.refresh_subscriptions();
}

fn unsubscribe_generic(c: &mut SCtx, argv: &[Bytes], space: Space) {
    let (_, verb) = space.verbs();
    let names: Vec<Bytes> = if argv.len() > 1 {
        argv[1..].to_vec()
    } else {
        c.srv.pubsub.names_of(&c.s.info, space)
    };
    if names.is_empty() {
        // Nothing to leave: one confirmation with a null name.
        let count = c.s.info.subs.lock().count(space);
        c.out.push(3);
        c.out.bulk_str(verb);
        c.out.null();
        c.out.int(count as i64);
    }
    for name in &names {
        let count = c.srv.pubsub.unsubscribe(&c.s.info, space, name);
        c.out.push(3);
        c.out.bulk_str(verb);
        c.out.bulk(name);
        c.out.int(count as i64);
    }
    c.s.refresh_subscriptions();
}

fn publish(c: &mut SCtx, argv: &[Bytes]) {
    publish_generic(c, argv, Space::Channel);
}

fn spublish(c: &mut SCtx, argv: &[Bytes]) {
    publish_generic(c, argv, Space::Shard);
}

fn publish_generic(c: &mut SCtx, argv: &[Bytes], space: Space) {
    let n = c.srv.pubsub.publish(
        space,
        &argv[1],
        &argv[2],
        Publisher {
            id: c.s.info.id,
            out: Some(&mut *c.out),
        },
    );
    c.out.int(n as i64);
    // Redis replicates PUBLISH (may-replicate) but keeps it out of the AOF.
    if c.srv.propagation.active() {
        crate::propagate::record(crate::propagate::Op {
            db: c.s.db,
            target: crate::propagate::target::REPL,
            argv: argv.to_vec(),
        });
    }
}

fn pubsub(c: &mut SCtx, argv: &[Bytes]) {
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "channels" | "shardchannels" => {
            let space = if sub == "channels" {
                Space::Channel
            } else {
                Space::Shard
            };
            let pattern = argv.get(2).map(|p| &p[..]);
            let list = c.srv.pubsub.channels(space, pattern);
            c.out.array(list.len());
            for ch in &list {
                c.out.bulk(ch);
            }
        }
        "numsub" | "shardnumsub" => {
            let space = if sub == "numsub" {
                Space::Channel
            } else {
                Space::Shard
            };
            let chans = &argv[2..];
            // A flat array even in RESP3, as Redis 7.0 replies.
            c.out.array(chans.len() * 2);
            for ch in chans {
                c.out.bulk(ch);
                c.out.int(c.srv.pubsub.numsub(space, ch) as i64);
            }
        }
        "numpat" => {
            let (_, patterns, _) = c.srv.pubsub.counts();
            c.out.int(patterns as i64);
        }
        "help" => super::help_reply(
            c.out,
            "PUBSUB",
            &[
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
            ],
        ),
        _ => c.out.error(&errors::unknown_subcommand(&argv[1], "PUBSUB")),
    }
}
