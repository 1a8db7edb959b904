//! The other modes: --scan, --bigkeys, --memkeys, --latency, --stat, and the prompt
//! reading from a non-terminal stdin.

mod common;

use common::{cli_binary, Run};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn lines(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = r.out().lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn scan_with_pattern_and_count() {
    let srv = server_or_skip!();
    let mut c = srv.client();
    for i in 0..50 {
        c.call(&["SET", &format!("user:{i}"), "x"]).unwrap();
        c.call(&["SET", &format!("other:{i}"), "x"]).unwrap();
    }
    let mut want: Vec<String> = (0..50).map(|i| format!("user:{i}")).collect();
    want.sort();
    assert_eq!(lines(&srv.cli(&["--scan", "--pattern", "user:*"])), want);
    assert_eq!(
        lines(&srv.cli(&["--scan", "--pattern", "user:*", "--count", "7"])),
        want
    );
    assert_eq!(srv.cli(&["--scan"]).out().lines().count(), 100);
    let quoted = srv.cli(&["--no-raw", "--scan", "--pattern", "user:1"]);
    assert_eq!(quoted.out(), "\"user:1\"\n");
}

#[test]
fn bigkeys_report() {
    let srv = server_or_skip!();
    let mut c = srv.client();
    c.call(&["SET", "a", "x"]).unwrap();
    c.call(&["SET", "c", "xyz"]).unwrap();
    c.call(&["RPUSH", "l", "1", "2"]).unwrap();
    let r = srv.cli(&["--bigkeys"]);
    let out = r.out();
    assert!(out.starts_with(
        "\n# Scanning the entire keyspace to find biggest keys as well as\n\
         # average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n\
         # per 100 SCAN commands (not usually needed).\n\n"
    ));
    assert!(out.contains("[00.00%] Biggest list   found so far '\"l\"' with 2 items\n"));
    assert!(out.contains("[00.00%] Biggest string found so far '\"c\"' with 3 bytes\n"));
    let summary = out.split("-------- summary -------").nth(1).unwrap();
    assert_eq!(
        summary,
        "\n\nSampled 3 keys in the keyspace!\n\
         Total key length in bytes is 3 (avg len 1.00)\n\n\
         Biggest   list found '\"l\"' has 2 items\n\
         Biggest string found '\"c\"' has 3 bytes\n\n\
         1 lists with 2 items (33.33% of keys, avg size 2.00)\n\
         0 hashs with 0 fields (00.00% of keys, avg size 0.00)\n\
         2 strings with 4 bytes (66.67% of keys, avg size 2.00)\n\
         0 streams with 0 entries (00.00% of keys, avg size 0.00)\n\
         0 sets with 0 members (00.00% of keys, avg size 0.00)\n\
         0 zsets with 0 members (00.00% of keys, avg size 0.00)\n"
    );
    let mem = srv.cli(&["--memkeys"]).out();
    assert!(mem.contains("2 strings with "), "{mem}");
    assert!(
        mem.contains("1 lists with ") && mem.contains(" bytes (33.33% of keys"),
        "{mem}"
    );
}

#[test]
fn latency_raw_prints_one_line() {
    let srv = server_or_skip!();
    let r = srv.cli(&["--latency", "-i", "0.2"]);
    let out = r.out();
    let fields: Vec<&str> = out.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 4, "{out}");
    assert!(fields[2].contains('.') && fields[3].parse::<u64>().unwrap() > 0);
    assert_eq!(r.code, 0);
}

#[test]
fn stat_rows() {
    let srv = server_or_skip!();
    let mut child = Command::new(cli_binary())
        .args(["-p", &srv.port.to_string(), "--stat", "-i", "0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut rd = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for _ in 0..4 {
        let mut l = String::new();
        rd.read_line(&mut l).unwrap();
        got.push(l);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        got[0],
        "------- data ------ --------------------- load -------------------- - child -\n"
    );
    assert_eq!(
        got[1],
        "keys       mem      clients blocked requests            connections          \n"
    );
    assert!(
        got[2].starts_with("0          ") && got[2].contains(" (+0) "),
        "{:?}",
        got[2]
    );
    assert!(got[3].contains(" (+1) "), "{:?}", got[3]);
}

#[test]
fn prompt_from_a_pipe() {
    let srv = server_or_skip!();
    let input = b"set a 5\nget a\n\nincr a\n\"unbalanced\nselect 2\nget a\n3 ping\nquit\nping\n";
    let r = srv.cli_with(&[], input, &[]);
    assert_eq!(
        r.out(),
        "OK\n5\n6\nInvalid argument(s)\nOK\n\nPONG\nPONG\nPONG\n"
    );
    assert_eq!(r.code, 0);
    let r = srv.cli_with(&["--no-raw"], b"get a\nselect 2\nget a\n", &[]);
    assert_eq!(r.out(), "\"6\"\nOK\n(nil)\n");
}

#[test]
fn prompt_reconnects_after_a_lost_connection() {
    let srv = server_or_skip!();
    let input = b"select 2\nclient kill type normal skipme no\nping\nset x 1\n";
    let r = srv.cli_with(&[], input, &[]);
    assert_eq!(r.out(), "OK\n1\nOK\n");
    // Whether the next request meets a closed socket (EOF) or a reset one depends
    // on timing, for redis-cli as for us: both are reported, by their system text.
    assert!(
        matches!(
            r.err().as_str(),
            "Error: Server closed the connection\n" | "Error: Connection reset by peer\n"
        ),
        "{}",
        r.err()
    );
    // The reconnection selected db 2 again.
    let mut c = srv.client();
    c.select(2).unwrap();
    assert!(matches!(
        c.call(&["EXISTS", "x"]).unwrap(),
        shoal_client::Frame::Integer(1)
    ));
}
