//! Runs short sequences of keyspace commands, built from the input by a small
//! byte-driven grammar, through `shoal_commands::testing::TestDb`.
//!
//! Checks: no handler panics; every reply is exactly one well-formed RESP frame (or
//! nothing, when a blocking command asked to wait); after the sequence, the values
//! left in the keyspace pass their representation checks and can be digested and
//! read in full.
//!
//! Input layout: two bytes of settings (protocol, notifications, blocking, small
//! encoding thresholds, LFU, a starting dataset), the thresholds, the type of each
//! key in the starting dataset (a stream with groups and pending entries, a zset,
//! ...), then commands until the input runs out. Each command is a
//! header byte (free or spec-guided arguments, clock step, database, re-run of a
//! blocked command), a byte choosing the command among those the crate implements,
//! then its arguments. Spec-guided arguments follow the command's argument tree
//! from the command table (tokens, optional and repeated parts, one-of choices) and
//! draw each value from a pool matching its kind and name; keys come from a pool
//! of four names so that commands interact.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use shoal_commands::spec::{Arg, CommandSpec};
use shoal_commands::testing::TestDb;
use shoal_keyspace::{class, Value, Want};
use shoal_resp::{parse_frame, Proto};
use std::sync::OnceLock;

mod common;
use common::Reader;

const KEYS: &[&[u8]] = &[b"a", b"b", b"c", b"{a}x"];

const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "5",
    "10",
    "100",
    "-2",
    "-100",
    "127",
    "128",
    "255",
    "256",
    "512",
    "2147483647",
    "2147483648",
    "-2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4611686018427387903",
    "-4611686018427387904",
    "-4611686018427387905",
    "1700000000",
    "1700000000000",
    "00",
    "-0",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "1e3",
    "",
];

const FLOATS: &[&str] = &[
    "0",
    "1.5",
    "-1.5",
    "0.0",
    "-0.0",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "nan",
    "-nan",
    "NaN",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    "1e-320",
    "3.4e38",
    "1.7976931348623157e308",
    "0.1",
    "2.5e-5",
    ".5",
    "5.",
    "1e",
    "0x1p3",
    "9007199254740993",
    "-9223372036854775808",
    "123456789012345678901234567890",
];

const IDS: &[&str] = &[
    "0-0",
    "0-1",
    "1-0",
    "1-1",
    "1-2",
    "2-1",
    "1",
    "2",
    "0",
    "$",
    ">",
    "+",
    "-",
    "*",
    "1-*",
    "(1-1",
    "(0-0",
    "(18446744073709551615-18446744073709551615",
    "18446744073709551615-18446744073709551615",
    "18446744073709551615-18446744073709551614",
    "18446744073709551615",
    "18446744073709551615-*",
    "18446744073709551616-0",
    "1700000000000-0",
    "1700000000000-5",
    "-1",
    "1-",
    "-1-1",
    "1--1",
    "((1",
];

const RANGES: &[&str] = &[
    "(1", "[a", "(a", "[b", "(c", "[", "(", "-", "+", "[\u{0}", "(1.5", "(inf", "(-inf", "(nan",
    "[-", "(+",
];

const MEMBERS: &[&str] = &[
    "m",
    "n",
    "x",
    "y",
    "a",
    "b",
    "c",
    "1",
    "2",
    "3",
    "-1",
    "10",
    "123456789",
    "1.5",
    "field",
    "v",
    "",
    " ",
    "*",
    "a*",
    "?",
    "[a-c]",
    "\\",
    "\r\n",
    "HYLL",
];

const GEO: &[&str] = &[
    "13.361389",
    "38.115556",
    "15.087269",
    "37.502669",
    "-180",
    "180",
    "180.0000001",
    "85.05112878",
    "-85.05112878",
    "85.05112879",
    "90",
    "0",
    "200",
    "1000",
    "0.0001",
    "40000000",
];

/// A settings value from a small pool: thresholds at 0, tiny, Redis's default, huge.
fn pick<T: Copy>(r: &mut Reader, pool: &[T]) -> T {
    pool[usize::from(r.byte()) % pool.len()]
}

struct Cmd {
    spec: &'static CommandSpec,
    /// Every token and subcommand name of the command (for free arguments).
    words: Vec<&'static str>,
}

fn tokens(args: &[Arg], out: &mut Vec<&'static str>) {
    for a in args {
        if !a.token.is_empty() {
            out.push(a.token);
        }
        tokens(a.value, out);
    }
}

fn commands() -> &'static [Cmd] {
    static CMDS: OnceLock<Vec<Cmd>> = OnceLock::new();
    CMDS.get_or_init(|| {
        shoal_commands::table::all()
            .iter()
            // PFSELFTEST takes no input and runs for long.
            .filter(|s| shoal_commands::handler(s.name).is_some() && s.name != "pfselftest")
            .map(|spec| {
                let mut words = Vec::new();
                tokens(spec.arguments, &mut words);
                for sub in spec.subcommands {
                    words.push(sub.name);
                    tokens(sub.arguments, &mut words);
                }
                Cmd { spec, words }
            })
            .collect()
    })
}

/// A value of any kind.
fn any_value(r: &mut Reader, words: &[&'static str]) -> Vec<u8> {
    let sel = r.byte();
    match sel % 13 {
        0 => KEYS[usize::from(r.byte()) % KEYS.len()].to_vec(),
        1 if !words.is_empty() => words[usize::from(r.byte()) % words.len()]
            .as_bytes()
            .to_vec(),
        2 => pick(r, INTS).as_bytes().to_vec(),
        3 => (i64::from(r.byte() as i8)).to_string().into_bytes(),
        4 => pick(r, FLOATS).as_bytes().to_vec(),
        5 => pick(r, IDS).as_bytes().to_vec(),
        6 => pick(r, RANGES).as_bytes().to_vec(),
        7 => pick(r, MEMBERS).as_bytes().to_vec(),
        8 => pick(r, GEO).as_bytes().to_vec(),
        9 => {
            // An HLL-looking string: the magic, then raw bytes.
            let mut v = b"HYLL".to_vec();
            v.extend_from_slice(r.bytes_len());
            v
        }
        10 => {
            // A number built from the input: wide range, both signs.
            let v = r.u64();
            let v = if sel & 0x80 != 0 {
                -(v as i64)
            } else {
                v as i64
            };
            v.to_string().into_bytes()
        }
        _ => r.bytes_len().to_vec(),
    }
}

/// What a command's arguments share: the number of repetitions of every
/// "multiple" argument (so that `numkeys`, keys and weights, or the keys and IDs of
/// XREAD's STREAMS agree), and whether it is a stream command.
struct Shape<'w> {
    reps: usize,
    stream: bool,
    words: &'w [&'static str],
}

/// A value for argument `a`, from a pool matching its kind and name; now and then
/// any value.
fn value_for(r: &mut Reader, a: &Arg, sh: &Shape) -> Vec<u8> {
    let sel = r.byte();
    if sel >= 224 {
        return any_value(r, sh.words);
    }
    let name = a.name;
    let from = |r: &mut Reader, pool: &[&str]| pick(r, pool).as_bytes().to_vec();
    match (a.kind, name) {
        ("key", _) => KEYS[usize::from(sel) % KEYS.len()].to_vec(),
        (_, "numkeys") if !sel.is_multiple_of(4) => sh.reps.to_string().into_bytes(),
        (_, "group" | "groupname") => from(r, &["g", "h"]),
        (_, "consumer" | "consumername") => from(r, &["c1", "c2"]),
        (_, "min-idle-time") => from(r, &["0", "1", "100", "-1", "9223372036854775807"]),
        (_, "operation") => from(r, &["AND", "OR", "XOR", "NOT", "and", "NAND"]),
        (_, "subcommand") => from(r, &["GETREG", "DECODE", "ENCODING", "TODENSE", "SIMD"]),
        ("integer" | "unix-time", _) => match sel % 4 {
            0 | 1 => from(r, INTS),
            _ => (i64::from(r.byte() as i8)).to_string().into_bytes(),
        },
        ("double", _) => match sel % 3 {
            0 => from(r, FLOATS),
            1 => from(r, GEO),
            _ => (i64::from(r.byte() as i8)).to_string().into_bytes(),
        },
        ("pattern", _) => from(r, &["*", "a*", "?", "[a-c]*", "{a}*", "\\*", "[", "*x*"]),
        (_, "id" | "last-id" | "start" | "end" | "threshold" | "min" | "max")
            if sh.stream && !sel.is_multiple_of(4) =>
        {
            from(r, IDS)
        }
        (_, "min" | "max" | "start" | "stop") => match sel % 5 {
            0 => from(r, RANGES),
            1 => from(r, FLOATS),
            2 => from(r, INTS),
            _ => (i64::from(r.byte() as i8)).to_string().into_bytes(),
        },
        _ => match sel % 6 {
            0..=2 => from(r, MEMBERS),
            3 => from(r, INTS),
            4 => from(r, FLOATS),
            _ => r.bytes_len().to_vec(),
        },
    }
}

/// Appends arguments following the spec tree `args`.
fn gen_args(r: &mut Reader, args: &[Arg], sh: &Shape, out: &mut Vec<Vec<u8>>) {
    for a in args {
        if out.len() > 24 {
            return;
        }
        let optional = a.flags.contains(&"optional");
        if optional && r.byte() & 1 == 0 {
            continue;
        }
        let reps = if a.flags.contains(&"multiple") {
            sh.reps
        } else {
            1
        };
        for i in 0..reps {
            gen_one(r, a, i == 0 || a.flags.contains(&"multiple_token"), sh, out);
        }
    }
}

fn gen_one(r: &mut Reader, a: &Arg, with_token: bool, sh: &Shape, out: &mut Vec<Vec<u8>>) {
    if with_token && !a.token.is_empty() {
        out.push(a.token.as_bytes().to_vec());
    }
    match a.kind {
        "pure-token" => {}
        "oneof" => {
            if !a.value.is_empty() {
                let c = &a.value[usize::from(r.byte()) % a.value.len()];
                gen_one(r, c, true, sh, out);
            }
        }
        "block" => gen_args(r, a.value, sh, out),
        _ => out.push(value_for(r, a, sh)),
    }
}

fn parse_i64(a: &[u8]) -> Option<i64> {
    std::str::from_utf8(a)
        .ok()?
        .trim_start_matches('#')
        .parse()
        .ok()
}

/// Commands whose valid arguments can legitimately allocate hundreds of megabytes
/// (Redis does too) or run for long: skip those argument values.
fn too_costly(db: &mut TestDb, name: &str, argv: &[Vec<u8>]) -> bool {
    match name {
        "setrange" | "setbit" | "bitfield" | "bitfield_ro" => argv[1..]
            .iter()
            .filter_map(|a| parse_i64(a))
            .any(|v| (1 << 16..1 << 34).contains(&v)),
        "srandmember" | "hrandfield" | "zrandmember" => argv
            .get(2)
            .and_then(|a| parse_i64(a))
            .is_some_and(|v| (-(1 << 62)..-4096).contains(&v)),
        "lcs" if argv.len() >= 3 => {
            let mut len = |k: &[u8]| match db.call(&[b"STRLEN", k]) {
                shoal_resp::Frame::Integer(n) => n.max(1),
                _ => 1,
            };
            len(&argv[1]) * len(&argv[2]) > 1 << 22
        }
        _ => false,
    }
}

/// SHOAL_FUZZ_TRACE=1 prints each command and its reply (to look at what the
/// grammar produces when replaying an input).
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("SHOAL_FUZZ_TRACE").is_some())
}

/// Values to start from, so that deep states (pending entries, consumers, big
/// encodings) are reachable in a few commands.
const PRELUDES: &[&[&[u8]]] = &[
    // A stream with two groups, pending entries and consumers.
    &[b"XADD", b"K", b"1-1", b"f", b"v"],
    &[b"XADD", b"K", b"2-1", b"f", b"v", b"g", b"w"],
    &[b"XADD", b"K", b"3-0", b"x", b"1"],
    &[b"XGROUP", b"CREATE", b"K", b"g", b"0"],
    &[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"c1",
        b"COUNT",
        b"2",
        b"STREAMS",
        b"K",
        b">",
    ],
    &[b"XGROUP", b"CREATE", b"K", b"h", b"$"],
    &[b"XGROUP", b"CREATECONSUMER", b"K", b"h", b"c2"],
];

fn prelude(db: &mut TestDb, key: &[u8], kind: u8) {
    let cmds: &[&[&[u8]]] = match kind % 8 {
        1 => PRELUDES,
        2 => &[&[
            b"ZADD", b"K", b"1", b"m", b"2", b"n", b"2", b"x", b"-inf", b"a", b"inf", b"b",
        ]],
        3 => &[&[b"HSET", b"K", b"f", b"v", b"n", b"1", b"m", b"1.5"]],
        4 => &[&[b"RPUSH", b"K", b"a", b"b", b"1", b"2", b"c", b"a"]],
        5 => &[&[b"SADD", b"K", b"1", b"2", b"3", b"-5"]],
        6 => &[&[b"SADD", b"K", b"m", b"n", b"x", b"1"]],
        7 => &[&[b"PFADD", b"K", b"a", b"b", b"c"]],
        _ => &[],
    };
    for c in cmds {
        let argv: Vec<Vec<u8>> = c
            .iter()
            .map(|a| if *a == b"K" { key.to_vec() } else { a.to_vec() })
            .collect();
        run(db, &argv);
    }
}

/// Runs one command; checks the reply shape.
fn run(db: &mut TestDb, argv: &[Vec<u8>]) {
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let raw = db.call_raw(&argv);
    if trace() {
        eprintln!("{:?} -> {:?}", argv, String::from_utf8_lossy(&raw));
    }
    if db.last_block.is_some() {
        assert!(raw.is_empty(), "blocked and replied: {argv:?} {raw:?}");
        return;
    }
    match parse_frame(&raw) {
        Ok(Some((_, n))) if n == raw.len() => {}
        other => panic!("malformed reply to {argv:?}: {other:?} {raw:?}"),
    }
}

/// Representation checks and full reads of every key left.
fn check_keys(db: &mut TestDb) {
    let now = db.now_ms;
    for dbi in 0..2 {
        for &key in KEYS {
            db.ks.with_key_shard(key, |s| {
                let Some(e) = s.dbs[dbi].peek(key, now) else {
                    return;
                };
                match &e.value {
                    Value::List(l) => l.check().unwrap(),
                    Value::Hash(h) => h.check().unwrap(),
                    Value::Set(s) => s.check().unwrap(),
                    _ => {}
                }
                shoal_commands::digest::value_digest(&e.value, false);
            });
        }
    }
    db.db = 0;
    db.woken = false;
    db.may_block = false;
    for &key in KEYS {
        for read in [
            &[&b"OBJECT"[..], b"ENCODING", key][..],
            &[b"GET", key],
            &[b"LRANGE", key, b"0", b"-1"],
            &[b"HGETALL", key],
            &[b"SMEMBERS", key],
            &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
            &[b"XRANGE", key, b"-", b"+"],
            &[b"XINFO", b"STREAM", key, b"FULL"],
        ] {
            let argv: Vec<Vec<u8>> = read.iter().map(|a| a.to_vec()).collect();
            run(db, &argv);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let cmds = commands();
    let mut r = Reader::new(data);
    let mut db = TestDb::default();
    let s0 = r.byte();
    let s1 = r.byte();
    if s0 & 1 != 0 {
        db.proto = Proto::Resp3;
    }
    if s0 & 2 != 0 {
        db.ev.want = Want {
            touched: true,
            classes: class::ALL | class::KEY_MISS | class::NEW,
        };
    }
    db.may_block = s0 & 4 != 0;
    if s0 & 8 != 0 {
        // Small thresholds, so that encodings convert within a few commands.
        let st = &mut db.settings;
        st.list_max_listpack_size = pick(&mut r, &[-5, -2, -1, 0, 1, 2, 3, 128]);
        st.hash_max_listpack_entries = pick(&mut r, &[0, 1, 2, 3, 128]);
        st.hash_max_listpack_value = pick(&mut r, &[0, 1, 4, 64]);
        st.set_max_intset_entries = pick(&mut r, &[0, 1, 2, 3, 512]);
        st.zset_max_listpack_entries = pick(&mut r, &[0, 1, 2, 3, 128]);
        st.zset_max_listpack_value = pick(&mut r, &[0, 1, 4, 64]);
        st.stream_node_max_bytes = pick(&mut r, &[0, 1, 64, 4096]);
        st.stream_node_max_entries = pick(&mut r, &[0, 1, 2, 100]);
        st.hll_sparse_max_bytes = pick(&mut r, &[0, 1, 16, 3000, 100_000]);
    }
    if s0 & 16 != 0 {
        db.settings.lfu_policy = true;
    }
    db.rng = rand::SeedableRng::seed_from_u64(u64::from(s1));
    if s0 & 32 != 0 {
        for &key in KEYS {
            let kind = r.byte();
            prelude(&mut db, key, kind);
        }
    }

    // Blocked commands waiting to be run again, as the server does on a wake-up.
    let mut pending: Vec<Vec<Bytes>> = Vec::new();
    let mut n = 0;
    while !r.is_empty() && n < 32 {
        n += 1;
        let h = r.byte();
        db.now_ms += [0, 1, 999, 100_000][usize::from(h >> 6)];
        db.db = usize::from(h & 0x30 == 0x30);
        if h & 0x18 == 0x08 {
            if let Some(argv) = pending.pop() {
                db.woken = true;
                db.may_block = true;
                let raw = db.call_raw(&argv);
                db.woken = false;
                db.may_block = s0 & 4 != 0;
                match db.last_block.take() {
                    Some(b) => {
                        assert!(raw.is_empty());
                        pending.push(b.argv.unwrap_or(argv));
                    }
                    None => match parse_frame(&raw) {
                        Ok(Some((_, n))) if n == raw.len() => {}
                        other => panic!("malformed reply to woken {argv:?}: {other:?} {raw:?}"),
                    },
                }
                continue;
            }
        }
        let c = &cmds[usize::from(r.byte()) % cmds.len()];
        let spec = c.spec;
        let mut argv: Vec<Vec<u8>> = vec![spec.name.as_bytes().to_vec()];
        let mut args = spec.arguments;
        if !spec.subcommands.is_empty() {
            let sub = &spec.subcommands[usize::from(r.byte()) % spec.subcommands.len()];
            argv.push(sub.name.as_bytes().to_vec());
            args = sub.arguments;
        }
        if h & 1 == 0 {
            let shape = Shape {
                reps: 1 + usize::from(r.byte() % 4),
                stream: spec.name.starts_with('x'),
                words: &c.words,
            };
            gen_args(&mut r, args, &shape, &mut argv);
        } else {
            for _ in 0..r.byte() % 8 {
                argv.push(any_value(&mut r, &c.words));
            }
        }
        if too_costly(&mut db, spec.name, &argv) {
            continue;
        }
        run(&mut db, &argv);
        if let Some(b) = db.last_block.take() {
            let argv = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
            if pending.len() < 4 {
                pending.push(b.argv.unwrap_or(argv));
            }
        }
    }
    check_keys(&mut db);
});
