//! `--pipe`: mass insertion from RESP on stdin.

mod common;

use shoal_client::{Frame, FrameExt};

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn ten_thousand_sets() {
    let srv = server_or_skip!();
    let mut input = Vec::new();
    for i in 0..10_000 {
        input.extend(resp(&["SET", &format!("key:{i}"), &format!("value:{i}")]));
    }
    let r = srv.cli_with(&["--pipe"], &input, &[]);
    assert_eq!(
        r.out(),
        "All data transferred. Waiting for the last reply...\n\
         Last reply received from server.\n\
         errors: 0, replies: 10000\n"
    );
    assert_eq!((r.err().as_str(), r.code), ("", 0));
    let mut c = srv.client();
    assert!(matches!(
        c.call(&["DBSIZE"]).unwrap(),
        Frame::Integer(10_000)
    ));
    assert_eq!(
        c.call(&["GET", "key:9999"]).unwrap().as_bytes(),
        Some(&b"value:9999"[..])
    );
}

#[test]
fn errors_are_counted_and_printed() {
    let srv = server_or_skip!();
    let mut input = resp(&["SET", "a", "x"]);
    input.extend(resp(&["INCR", "a"]));
    input.extend(resp(&["INCR", "b", "extra"]));
    input.extend(resp(&["INCR", "c"]));
    let r = srv.cli_with(&["--pipe"], &input, &[]);
    assert!(r.out().ends_with("errors: 2, replies: 4\n"), "{}", r.out());
    assert_eq!(
        r.err(),
        "ERR value is not an integer or out of range\n\
         ERR wrong number of arguments for 'incr' command\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn respects_selected_db() {
    let srv = server_or_skip!();
    let r = srv.cli_with(&["-n", "5", "--pipe"], &resp(&["SET", "k", "v"]), &[]);
    assert_eq!(r.code, 0);
    let mut c = srv.client();
    c.select(5).unwrap();
    assert_eq!(c.call(&["GET", "k"]).unwrap().as_bytes(), Some(&b"v"[..]));
}
