//! Every keyspace command, called with random arguments many times: no panic, and
//! every reply is one well-formed RESP frame. Arguments are drawn from the
//! command's own option words (from the command table), key names shared across
//! types, and integers and floats at the edges of their ranges.

use crate::spec::{Arg, CommandSpec};
use crate::testing::TestDb;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn tokens(args: &[Arg], out: &mut Vec<&'static str>) {
    for a in args {
        if !a.token.is_empty() {
            out.push(a.token);
        }
        tokens(a.value, out);
    }
}

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "100",
    "-100",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "1.5",
    "-0",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1e308",
    "0x10",
    "",
    " ",
    "abc",
    "\0",
    "a\r\nb",
    "*",
    "?",
    "[a",
    "k",
    "l",
    "s",
    "x",
    "#2",
    "i8",
    "u63",
    "i64",
    "u64",
    "BYTE",
    "BIT",
];
const KEYS: &[&str] = &["k", "l", "s", "x", "missing", "{t}a", "{t}b"];

fn random_arg(rng: &mut SmallRng, words: &[&'static str]) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0..=2 if !words.is_empty() => words[rng.gen_range(0..words.len())].as_bytes().to_vec(),
        3..=4 => KEYS[rng.gen_range(0..KEYS.len())].as_bytes().to_vec(),
        5 => rng.gen_range(-5i64..50).to_string().into_bytes(),
        6 => (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect(),
        _ => VALUES[rng.gen_range(0..VALUES.len())].as_bytes().to_vec(),
    }
}

fn exercise(db: &mut TestDb, spec: &'static CommandSpec, rng: &mut SmallRng, rounds: usize) {
    let mut words = Vec::new();
    tokens(spec.arguments, &mut words);
    for sub in spec.subcommands {
        words.push(sub.name);
        tokens(sub.arguments, &mut words);
    }
    for _ in 0..rounds {
        let n = rng.gen_range(0..8);
        let mut argv: Vec<Vec<u8>> = vec![spec.name.as_bytes().to_vec()];
        if !spec.subcommands.is_empty() && rng.gen_bool(0.8) {
            let sub = &spec.subcommands[rng.gen_range(0..spec.subcommands.len())];
            argv.push(sub.name.as_bytes().to_vec());
        }
        for _ in 0..n {
            argv.push(random_arg(rng, &words));
        }
        let args: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
        // `call` panics on a malformed reply; a handler panic fails the test too.
        db.call(&args);
        // Keep the clock moving so expiry paths run.
        db.now_ms += rng.gen_range(0..50);
    }
}

#[test]
fn random_arguments_never_panic() {
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut db = TestDb::default();
    // Seed keys of the types that exist, so type checks and real work happen.
    db.cmd(&["SET", "k", "12"]);
    db.cmd(&["SET", "x", "hello world"]);
    db.cmd(&["RPUSH", "l", "a", "b", "3"]);
    // SHOAL_ROBUSTNESS_ROUNDS raises the count for a longer local run.
    let rounds = std::env::var("SHOAL_ROBUSTNESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    for spec in crate::table::all() {
        // Commands that block, touch the whole server or sleep are not in this crate.
        if crate::handler(spec.name).is_none() {
            continue;
        }
        exercise(&mut db, spec, &mut rng, rounds);
        // Reset the dataset now and then so destructive commands don't starve
        // the others of data.
        db.cmd(&["SET", "k", "12"]);
        db.cmd(&["RPUSH", "l", "a", "b", "3"]);
    }
}

/// The blocking commands where they may block, and their re-runs as woken clients
/// (as the server does when a key they wait on changes): no panic, no reply when
/// they block, one well-formed frame otherwise.
#[test]
fn blocking_commands_block_and_wake_without_panic() {
    use bytes::Bytes;
    let mut rng = SmallRng::seed_from_u64(0xb10c);
    let mut db = TestDb {
        may_block: true,
        ..TestDb::default()
    };
    let reply_ok = |db: &TestDb, raw: &[u8]| {
        if db.last_block.is_some() {
            assert!(raw.is_empty(), "blocked and replied {raw:?}");
        } else {
            assert!(matches!(shoal_resp::parse_frame(raw), Ok(Some((_, n))) if n == raw.len()));
        }
    };
    let blocking: Vec<&'static CommandSpec> = crate::table::all()
        .iter()
        .filter(|s| s.has_flag("blocking") && crate::handler(s.name).is_some())
        .collect();
    assert!(!blocking.is_empty());
    let mut waiting: Vec<Vec<Bytes>> = Vec::new();
    let (mut blocked, mut served_on_wake) = (0, 0);
    for round in 0..3000 {
        // Change the keys now and then, as the wake-ups would.
        match round % 7 {
            0 => drop(db.cmd(&["RPUSH", KEYS[rng.gen_range(0..3)], "v"])),
            1 => drop(db.cmd(&["ZADD", KEYS[rng.gen_range(0..3)], "1", "m"])),
            2 => drop(db.cmd(&["XADD", KEYS[rng.gen_range(0..3)], "*", "f", "v"])),
            3 => drop(db.cmd(&["XGROUP", "CREATE", KEYS[rng.gen_range(0..3)], "g", "0"])),
            4 => drop(db.cmd(&["DEL", KEYS[rng.gen_range(0..3)]])),
            _ => {}
        }
        if rng.gen_bool(0.3) && !waiting.is_empty() {
            let argv = waiting.swap_remove(rng.gen_range(0..waiting.len()));
            {
                db.woken = true;
                let raw = db.call_raw(&argv);
                db.woken = false;
                reply_ok(&db, &raw);
                match db.last_block.take() {
                    Some(b) => waiting.push(b.argv.unwrap_or(argv)),
                    None => served_on_wake += 1,
                }
                continue;
            }
        }
        let argv: Vec<Bytes> = if rng.gen_bool(0.5) {
            // A well-formed call on the keys written above.
            let k = || KEYS[..3].iter().copied();
            let mut keys = k().cycle().skip(rng.gen_range(0..3));
            let (a, b) = (keys.next().unwrap_or("k"), keys.next().unwrap_or("l"));
            let t = ["0", "0.01", "1"][rng.gen_range(0..3)];
            let forms: [&[&str]; 10] = [
                &["BLPOP", a, t],
                &["BRPOP", a, b, t],
                &["BLMOVE", a, b, "LEFT", "RIGHT", t],
                &["BRPOPLPUSH", a, b, t],
                &["BLMPOP", t, "2", a, b, "LEFT", "COUNT", "2"],
                &["BZPOPMIN", a, t],
                &["BZPOPMAX", a, b, t],
                &["BZMPOP", t, "1", a, "MIN", "COUNT", "2"],
                &["XREAD", "BLOCK", "0", "STREAMS", a, b, "$", "0-0"],
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    a,
                    ">",
                ],
            ];
            let form = forms[rng.gen_range(0..forms.len())];
            form.iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect()
        } else {
            let spec = blocking[rng.gen_range(0..blocking.len())];
            let mut words = Vec::new();
            tokens(spec.arguments, &mut words);
            words.extend(["0", "0.01", ">", "$", "g", "c"]);
            let mut argv = vec![Bytes::from_static(spec.name.as_bytes())];
            for _ in 0..rng.gen_range(1..9) {
                argv.push(Bytes::from(random_arg(&mut rng, &words)));
            }
            argv
        };
        db.now_ms += rng.gen_range(0..50);
        let raw = db.call_raw(&argv);
        reply_ok(&db, &raw);
        if let Some(b) = db.last_block.take() {
            blocked += 1;
            if waiting.len() < 16 {
                waiting.push(b.argv.unwrap_or(argv));
            }
        }
    }
    // The test means something only if both paths ran.
    assert!(
        blocked > 100 && served_on_wake > 20,
        "{blocked} {served_on_wake}"
    );
}
