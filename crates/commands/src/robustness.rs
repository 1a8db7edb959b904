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
