//! Observability commands: SLOWLOG, LATENCY, MEMORY.

use super::{help_reply, lossy, SCtx, ServerHandler};
use crate::server::unix_ms;
use bytes::Bytes;
use shoal_commands::{args, errors};
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[
    ("slowlog", slowlog),
    ("latency", latency),
    ("memory", memory),
];

fn slowlog(c: &mut SCtx, argv: &[Bytes]) {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "get" => {
            let count = match argv.get(2) {
                None => 10,
                Some(a) => match shoal_ds::num::parse_i64(a) {
                    Some(v) if v >= -1 => v,
                    _ => {
                        return c
                            .out
                            .error("ERR count should be greater than or equal to -1")
                    }
                },
            };
            let log = c.srv.slowlog.lock();
            let n = if count == -1 {
                log.entries.len()
            } else {
                (count as usize).min(log.entries.len())
            };
            c.out.array(n);
            for e in log.entries.iter().take(n) {
                c.out.array(6);
                c.out.int(e.id as i64);
                c.out.int(e.time_secs);
                c.out.int(e.duration_us as i64);
                c.out.array(e.argv.len());
                for a in &e.argv {
                    c.out.bulk(a);
                }
                c.out.bulk_str(&e.peer);
                c.out.bulk(&e.name);
            }
        }
        "len" => {
            let n = c.srv.slowlog.lock().entries.len();
            c.out.int(n as i64);
        }
        "reset" => {
            c.srv.slowlog.lock().entries.clear();
            c.out.ok();
        }
        "help" => help_reply(
            c.out,
            "SLOWLOG",
            &[
                "GET [<count>]",
                "    The latest <count> entries (10 by default, -1 for all), newest first.",
                "    Each: id, unix time, duration in microseconds, arguments, client",
                "    address, client name.",
                "LEN",
                "    How many entries the log holds.",
                "RESET",
                "    Empty the log.",
            ],
        ),
        _ => c
            .out
            .error(&errors::unknown_subcommand(&argv[1], "SLOWLOG")),
    }
}

const LATENCY_DISABLED: &str = "Latency monitoring is disabled in this Shoal instance. Enable it with \"CONFIG SET latency-monitor-threshold <milliseconds>\".\n";

fn latency(c: &mut SCtx, argv: &[Bytes]) {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "latest" => {
            let lm = c.srv.latency.lock();
            c.out.array(lm.events.len());
            for (name, h) in &lm.events {
                let (ts, ms) = h.samples.back().copied().unwrap_or((0, 0));
                c.out.array(4);
                c.out.bulk_str(name);
                c.out.int(ts);
                c.out.int(ms as i64);
                c.out.int(h.max as i64);
            }
        }
        "history" => {
            let name = lossy(&argv[2]);
            let lm = c.srv.latency.lock();
            match lm.events.get(&name) {
                None => c.out.array(0),
                Some(h) => {
                    c.out.array(h.samples.len());
                    for (ts, ms) in &h.samples {
                        c.out.array(2);
                        c.out.int(*ts);
                        c.out.int(*ms as i64);
                    }
                }
            }
        }
        "reset" => {
            let names: Vec<String> = argv[2..].iter().map(|a| lossy(a)).collect();
            let n = c.srv.latency.lock().reset(&names);
            c.out.int(n as i64);
        }
        "graph" => {
            let name = lossy(&argv[2]);
            let lm = c.srv.latency.lock();
            match lm.events.get(&name) {
                None => c
                    .out
                    .error(&format!("ERR No samples available for event '{name}'")),
                Some(h) => {
                    let mut text = format!(
                        "{name} - high {} ms, low {} ms\n",
                        h.max,
                        h.samples.iter().map(|s| s.1).min().unwrap_or(0)
                    );
                    for (ts, ms) in &h.samples {
                        text.push_str(&format!("{ts} {ms}ms\n"));
                    }
                    c.out.verbatim("txt", text.as_bytes());
                }
            }
        }
        "doctor" => {
            let text = if c.srv.hot.latency_threshold_ms.load(Relaxed) == 0 {
                LATENCY_DISABLED.to_string()
            } else {
                let lm = c.srv.latency.lock();
                if lm.events.is_empty() {
                    "No latency spikes were observed since the monitor was enabled or reset.\n"
                        .to_string()
                } else {
                    let mut t = String::from("Latency spikes observed per event:\n\n");
                    for (name, h) in &lm.events {
                        let avg = h.samples.iter().map(|s| s.1).sum::<u64>()
                            / h.samples.len().max(1) as u64;
                        t.push_str(&format!(
                            "{name}: {} latency spikes (average {avg}ms, worst {}ms).\n",
                            h.samples.len(),
                            h.max
                        ));
                    }
                    t
                }
            };
            c.out.verbatim("txt", text.as_bytes());
        }
        "histogram" => histogram(c, &argv[2..]),
        "help" => help_reply(
            c.out,
            "LATENCY",
            &[
                "LATEST",
                "    The latest and worst spike of every event: name, time, latency, max.",
                "HISTORY <event>",
                "    The recorded (time, latency) samples of <event>.",
                "RESET [<event> ...]",
                "    Forget the samples of the given events (all by default).",
                "GRAPH <event>",
                "    A text picture of the samples of <event>.",
                "DOCTOR",
                "    A short report about the recorded spikes.",
                "HISTOGRAM [<command> ...]",
                "    Per-command latency histograms.",
            ],
        ),
        _ => c
            .out
            .error(&errors::unknown_subcommand(&argv[1], "LATENCY")),
    }
}

fn memory(c: &mut SCtx, argv: &[Bytes]) {
    let sub = lossy(&argv[1]).to_ascii_lowercase();
    match sub.as_str() {
        "usage" => usage(c, argv),
        "stats" => stats(c),
        "doctor" => c.out.verbatim(
            "txt",
            b"No memory problems detected by the Shoal memory doctor.\n",
        ),
        "malloc-stats" => c.out.verbatim(
            "txt",
            format!(
                "Allocator: {}\nallocated: {}\n",
                crate::memory::ALLOCATOR_NAME,
                crate::memory::used_memory()
            )
            .as_bytes(),
        ),
        "purge" => c.out.ok(),
        "help" => help_reply(
            c.out,
            "MEMORY",
            &[
                "USAGE <key> [SAMPLES <count>]",
                "    Bytes used by <key> and its value (estimated for big collections).",
                "STATS",
                "    Where the memory goes.",
                "DOCTOR",
                "    Advice about memory use.",
                "MALLOC-STATS",
                "    The allocator's own statistics.",
                "PURGE",
                "    Ask the allocator to return free memory to the system.",
            ],
        ),
        _ => c.out.error(&errors::unknown_subcommand(&argv[1], "MEMORY")),
    }
}

fn usage(c: &mut SCtx, argv: &[Bytes]) {
    let mut i = 3;
    while i < argv.len() {
        if args::is(&argv[i], "SAMPLES") && i + 1 < argv.len() {
            match shoal_ds::num::parse_i64(&argv[i + 1]) {
                Some(v) if v >= 0 => {}
                Some(_) => return c.out.error(errors::SYNTAX),
                None => return c.out.error(errors::NOT_INTEGER),
            }
            i += 2;
        } else {
            return c.out.error(errors::SYNTAX);
        }
    }
    let key = &argv[2];
    let db = c.s.db;
    let now = unix_ms();
    let size = c.srv.ks.with_key_shard(key, |s| {
        s.dbs[db].peek(key, now).map(|e| {
            // Key bytes, the entry (value + metadata) and the value's heap part.
            key.len() + std::mem::size_of::<shoal_keyspace::Entry>() + e.value.heap_bytes()
        })
    });
    match size {
        Some(n) => c.out.int(n as i64),
        None => c.out.null(),
    }
}

fn stats(c: &mut SCtx) {
    let used = crate::memory::used_memory();
    let peak = crate::memory::peak_memory();
    let startup = crate::memory::startup_memory();
    let rss = crate::cmd::info::rss_bytes();
    let mut keys = 0usize;
    let mut per_db: Vec<(usize, usize, usize)> = Vec::new();
    {
        let mut all = c.srv.ks.lock_all();
        let shards = all.shards_mut();
        for db in 0..c.srv.ks.num_dbs() {
            let (mut main, mut exp, mut n) = (0, 0, 0);
            for s in shards.iter() {
                main += s.dbs[db].heap_bytes();
                exp += 0;
                n += s.dbs[db].len();
            }
            keys += n;
            if n > 0 {
                per_db.push((db, main, exp));
            }
        }
    }
    let dataset = used.saturating_sub(startup);
    let fields: Vec<(String, Stat)> = {
        let mut v: Vec<(String, Stat)> = vec![
            ("peak.allocated".into(), Stat::Int(peak as i64)),
            ("total.allocated".into(), Stat::Int(used as i64)),
            ("startup.allocated".into(), Stat::Int(startup as i64)),
            ("replication.backlog".into(), Stat::Int(0)),
            ("clients.slaves".into(), Stat::Int(0)),
            ("clients.normal".into(), Stat::Int(0)),
            ("cluster.links".into(), Stat::Int(0)),
            ("aof.buffer".into(), Stat::Int(0)),
            ("lua.caches".into(), Stat::Int(0)),
            ("functions.caches".into(), Stat::Int(0)),
        ];
        for (db, main, exp) in &per_db {
            v.push((format!("db.{db}"), Stat::Db(*main as i64, *exp as i64)));
        }
        v.extend([
            ("overhead.total".into(), Stat::Int(startup as i64)),
            ("keys.count".into(), Stat::Int(keys as i64)),
            (
                "keys.bytes-per-key".into(),
                Stat::Int(if keys > 0 {
                    (dataset / keys as u64) as i64
                } else {
                    0
                }),
            ),
            ("dataset.bytes".into(), Stat::Int(dataset as i64)),
            (
                "dataset.percentage".into(),
                Stat::Float(if used > 0 {
                    dataset as f64 * 100.0 / used as f64
                } else {
                    0.0
                }),
            ),
            (
                "peak.percentage".into(),
                Stat::Float(if peak > 0 {
                    used as f64 * 100.0 / peak as f64
                } else {
                    100.0
                }),
            ),
            ("allocator.allocated".into(), Stat::Int(used as i64)),
            ("allocator.active".into(), Stat::Int(used as i64)),
            ("allocator.resident".into(), Stat::Int(rss as i64)),
            ("allocator-fragmentation.ratio".into(), Stat::Float(1.0)),
            ("allocator-fragmentation.bytes".into(), Stat::Int(0)),
            ("allocator-rss.ratio".into(), Stat::Float(ratio(rss, used))),
            (
                "allocator-rss.bytes".into(),
                Stat::Int(rss as i64 - used as i64),
            ),
            ("rss-overhead.ratio".into(), Stat::Float(1.0)),
            ("rss-overhead.bytes".into(), Stat::Int(0)),
            ("fragmentation".into(), Stat::Float(ratio(rss, used))),
            (
                "fragmentation.bytes".into(),
                Stat::Int(rss as i64 - used as i64),
            ),
        ]);
        v
    };
    c.out.map(fields.len());
    for (k, v) in fields {
        c.out.bulk_str(&k);
        match v {
            Stat::Int(i) => c.out.int(i),
            Stat::Float(f) => c.out.double(f),
            Stat::Db(main, exp) => {
                c.out.map(2);
                c.out.bulk_str("overhead.hashtable.main");
                c.out.int(main);
                c.out.bulk_str("overhead.hashtable.expires");
                c.out.int(exp);
            }
        }
    }
}

enum Stat {
    Int(i64),
    Float(f64),
    Db(i64, i64),
}

/// A command's name, calls, and cumulative counts at power-of-two bounds.
type HistogramRow = (String, u64, Vec<(u64, u64)>);

/// LATENCY HISTOGRAM [command ...]: per command, its calls and cumulative counts at
/// power-of-two microsecond bounds. Without names, every command that ran.
fn histogram(c: &mut SCtx, names: &[Bytes]) {
    let reg = &c.srv.registry;
    let mut entries: Vec<&crate::registry::Entry> = Vec::new();
    if names.is_empty() {
        entries.extend(reg.entries.iter());
    } else {
        for n in names {
            let name = lossy(n).to_ascii_lowercase();
            if let Some(e) = reg.by_full_name(&name) {
                // A container named alone stands for all of its subcommands.
                if e.subs.is_empty() {
                    entries.push(e);
                } else {
                    entries.extend(e.subs.iter().map(|&i| &reg.entries[i]));
                }
            }
        }
    }
    let rows: Vec<HistogramRow> = entries
        .into_iter()
        .filter_map(|e| {
            let h = crate::stats::command_histogram(e.id)?;
            let (calls, ..) = crate::stats::command_totals(e.id);
            Some((
                e.full_name.clone(),
                calls,
                crate::histogram::power_of_two_buckets(&h),
            ))
        })
        .collect();
    c.out.map(rows.len());
    for (name, calls, buckets) in rows {
        c.out.bulk_str(&name);
        c.out.map(2);
        c.out.bulk_str("calls");
        c.out.int(calls as i64);
        c.out.bulk_str("histogram_usec");
        c.out.map(buckets.len());
        for (bound, count) in buckets {
            c.out.int(bound as i64);
            c.out.int(count as i64);
        }
    }
}

/// `a / b`, or 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b > 0 {
        a as f64 / b as f64
    } else {
        0.0
    }
}
