//! The same command lines through Shoal's CLI and the reference `redis-cli`
//! (`$REDIS_CLI_REFERENCE`, else `/usr/bin/redis-cli`; skipped when absent), against
//! the same server: stdout, stderr and exit codes must be identical, on a pipe and
//! with FAKETTY (the terminal form).

mod common;

use common::{cli_binary, run_program, Run};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn reference() -> Option<PathBuf> {
    let p = std::env::var_os("REDIS_CLI_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/redis-cli"));
    p.exists().then_some(p)
}

fn both(reference: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> (Run, Run) {
    let d = Duration::from_secs(30);
    (
        run_program(reference, args, stdin, env, d),
        run_program(&cli_binary(), args, stdin, env, d),
    )
}

fn same(reference: &Path, args: &[&str], stdin: &[u8], failures: &mut Vec<String>) {
    for env in [&[][..], &[("FAKETTY", "1")][..]] {
        let (want, got) = both(reference, args, stdin, env);
        if (want.out(), want.err(), want.code) != (got.out(), got.err(), got.code) {
            failures.push(format!(
                "{args:?} {env:?}\n  redis-cli: {:?} {:?} {}\n  shoal-cli: {:?} {:?} {}",
                want.out(),
                want.err(),
                want.code,
                got.out(),
                got.err(),
                got.code
            ));
        }
    }
}

#[test]
fn one_shot_commands_match_redis_cli() {
    let Some(reference) = reference() else {
        eprintln!("skipped: no reference redis-cli");
        return;
    };
    let srv = server_or_skip!(&["--enable-debug-command", "yes"]);
    let mut c = srv.client();
    c.call(&["RPUSH", "l", "a", "b", "c"]).unwrap();
    c.call(&["HSET", "h", "f", "v", "g", "w"]).unwrap();
    c.call(&["SET", "s", "a\"b\\c\nd\x01"]).unwrap();
    c.call(&["SADD", "set", "x"]).unwrap();
    for i in 1..=12 {
        c.call(&["RPUSH", "big", &i.to_string()]).unwrap();
    }
    let p = srv.port.to_string();
    let p = p.as_str();
    let cases: Vec<Vec<&str>> = vec![
        vec!["-p", p, "lrange", "l", "0", "-1"],
        vec!["-p", p, "lrange", "big", "0", "-1"],
        vec!["-p", p, "get", "s"],
        vec!["-p", p, "get", "missing"],
        vec!["-p", p, "incr", "s"],
        vec!["-p", p, "-e", "incr", "s"],
        vec!["-p", p, "lrange", "none", "0", "-1"],
        vec!["-p", p, "hgetall", "h"],
        vec!["-p", p, "-3", "hgetall", "h"],
        vec!["-p", p, "-3", "hgetall", "none"],
        vec!["-p", p, "-3", "smembers", "set"],
        vec!["-p", p, "-3", "smembers", "none"],
        vec!["-p", p, "eval", "return {1,{2,{3,'x'}},'y',{}}", "0"],
        vec!["-p", p, "eval", "return {1,{err='x'}}", "0"],
        vec!["-p", p, "-3", "eval", "return {1,{map={a={1,2}}}}", "0"],
        vec![
            "-p",
            p,
            "-3",
            "eval",
            "return {map={a={map={b='c'}}, x={}}}",
            "0",
        ],
        vec![
            "-p",
            p,
            "-3",
            "eval",
            "return {{map={a=1}},{map={b={1}}}}",
            "0",
        ],
        vec!["-p", p, "-3", "debug", "protocol", "double"],
        vec!["-p", p, "-3", "debug", "protocol", "true"],
        vec!["-p", p, "-3", "debug", "protocol", "verbatim"],
        vec!["-p", p, "-3", "debug", "protocol", "map"],
        vec!["-p", p, "-3", "debug", "protocol", "push"],
        vec!["-p", p, "--csv", "lrange", "l", "0", "-1"],
        vec!["-p", p, "--no-raw", "get", "s"],
        vec!["-p", p, "--raw", "get", "s"],
        vec!["-p", p, "-n", "3", "ping"],
        vec!["-p", p, "-n", "99", "ping"],
        vec!["-p", p, "-r", "3", "echo", "hi"],
        vec!["-p", p, "unsubscribe"],
        vec!["-p", p, "--scan", "--pattern", "b*"],
        vec!["-p", "1", "ping"],
        vec!["--bogus"],
    ];
    let mut failures = Vec::new();
    for args in &cases {
        same(&reference, args, b"", &mut failures);
    }
    same(
        &reference,
        &["-p", p, "-x", "echo"],
        b"from\nstdin",
        &mut failures,
    );
    same(
        &reference,
        &["-p", p],
        b"get s\nselect 4\nping\n\"bad\nlrange l 0 -1\n",
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
