//! One-shot mode: a command on the command line, its reply printed, the exit code.

mod common;

use common::{free_port, run_cli, scratch_dir};
use shoal_client::FrameExt;

#[test]
fn set_then_get_raw_and_formatted() {
    let srv = server_or_skip!();
    let r = srv.cli(&["set", "k", "v"]);
    assert_eq!((r.out().as_str(), r.code), ("OK\n", 0));
    assert_eq!(srv.cli(&["get", "k"]).out(), "v\n");
    assert_eq!(srv.cli(&["--no-raw", "get", "k"]).out(), "\"v\"\n");
    assert_eq!(srv.cli(&["--no-raw", "get", "nothing"]).out(), "(nil)\n");
    assert_eq!(srv.cli(&["get", "nothing"]).out(), "\n");
    assert_eq!(srv.cli(&["--no-raw", "incr", "n"]).out(), "(integer) 1\n");
    // FAKETTY makes a pipe look like a terminal, as for redis-cli.
    assert_eq!(
        srv.cli_with(&["get", "k"], b"", &[("FAKETTY", "1")]).out(),
        "\"v\"\n"
    );
    // --raw wins over FAKETTY.
    assert_eq!(
        srv.cli_with(&["--raw", "get", "k"], b"", &[("FAKETTY", "1")])
            .out(),
        "v\n"
    );
}

#[test]
fn aggregates_raw_and_formatted() {
    let srv = server_or_skip!();
    srv.cli(&["rpush", "l", "a", "b c", "d"]);
    assert_eq!(srv.cli(&["lrange", "l", "0", "-1"]).out(), "a\nb c\nd\n");
    assert_eq!(
        srv.cli(&["--no-raw", "lrange", "l", "0", "-1"]).out(),
        "1) \"a\"\n2) \"b c\"\n3) \"d\"\n"
    );
    assert_eq!(
        srv.cli(&["--no-raw", "lrange", "none", "0", "-1"]).out(),
        "(empty array)\n"
    );
    srv.cli(&["hset", "h", "f", "v"]);
    assert_eq!(
        srv.cli(&["-3", "--no-raw", "hgetall", "h"]).out(),
        "1# \"f\" => \"v\"\n"
    );
    assert_eq!(srv.cli(&["--resp3", "hgetall", "h"]).out(), "f v\n");
    assert_eq!(
        srv.cli(&["--csv", "lrange", "l", "0", "-1"]).out(),
        "\"a\",\"b c\",\"d\"\n"
    );
}

#[test]
fn error_replies_and_dash_e() {
    let srv = server_or_skip!();
    srv.cli(&["set", "s", "text"]);
    let msg = "ERR value is not an integer or out of range";
    let r = srv.cli(&["incr", "s"]);
    assert_eq!((r.out(), r.code), (format!("{msg}\n\n"), 0));
    let r = srv.cli(&["--no-raw", "incr", "s"]);
    assert_eq!((r.out(), r.code), (format!("(error) {msg}\n"), 0));
    let r = srv.cli(&["-e", "incr", "s"]);
    assert_eq!(
        (r.out(), r.err(), r.code),
        (String::new(), format!("{msg}\n"), 1)
    );
}

#[test]
fn db_selection_with_dash_n_and_uri() {
    let srv = server_or_skip!();
    assert_eq!(srv.cli(&["-n", "3", "set", "k", "in3"]).out(), "OK\n");
    assert!(srv
        .cli(&["-n", "3", "client", "info"])
        .out()
        .contains(" db=3 "));
    let mut c = srv.client();
    assert!(c.call(&["GET", "k"]).unwrap().is_null());
    c.select(3).unwrap();
    assert_eq!(c.call(&["GET", "k"]).unwrap().as_bytes(), Some(&b"in3"[..]));

    let uri = format!("redis://127.0.0.1:{}/4", srv.port);
    assert_eq!(
        run_cli(&["-u", &uri, "set", "u", "in4"], b"", &[]).out(),
        "OK\n"
    );
    c.select(4).unwrap();
    assert_eq!(c.call(&["GET", "u"]).unwrap().as_bytes(), Some(&b"in4"[..]));

    let r = srv.cli(&["-n", "99", "ping"]);
    assert_eq!(r.err(), "SELECT 99 failed: ERR DB index is out of range\n");
    assert_eq!((r.out().as_str(), r.code), ("PONG\n", 0));
}

#[test]
fn last_argument_from_stdin() {
    let srv = server_or_skip!();
    let value = b"line one\nline two\n\x00binary\xff";
    let r = srv.cli_with(&["-x", "set", "blob"], value, &[]);
    assert_eq!(r.out(), "OK\n");
    let mut c = srv.client();
    assert_eq!(
        c.call(&["GET", "blob"]).unwrap().as_bytes(),
        Some(&value[..])
    );
    // With -n, the stdin argument lands in that db.
    srv.cli_with(&["-n", "2", "-x", "set", "blob2"], b"two", &[]);
    c.select(2).unwrap();
    assert_eq!(
        c.call(&["GET", "blob2"]).unwrap().as_bytes(),
        Some(&b"two"[..])
    );
}

#[test]
fn repeat_and_interval() {
    let srv = server_or_skip!();
    let start = std::time::Instant::now();
    let r = srv.cli(&["-r", "3", "-i", "0.1", "incr", "c"]);
    assert_eq!(r.out(), "1\n2\n3\n");
    assert!(start.elapsed() >= std::time::Duration::from_millis(250));
}

#[test]
fn unix_socket_and_resp3() {
    let srv = server_or_skip!();
    let sock = srv.socket.to_str().unwrap();
    let r = run_cli(&["-s", sock, "--no-raw", "-3", "hello", "3"], b"", &[]);
    assert!(r.out().starts_with("1# \"server\" => "), "{}", r.out());
}

#[test]
fn passwords_and_warnings() {
    let srv = server_or_skip!(&["--requirepass", "secret"]);
    let warn = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n";
    let r = srv.cli(&["-a", "secret", "ping"]);
    assert_eq!((r.out().as_str(), r.err().as_str()), ("PONG\n", warn));
    let r = srv.cli(&["--no-auth-warning", "-a", "secret", "ping"]);
    assert_eq!((r.out().as_str(), r.err().as_str()), ("PONG\n", ""));
    let r = srv.cli_with(&["ping"], b"", &[("REDISCLI_AUTH", "secret")]);
    assert_eq!((r.out().as_str(), r.err().as_str()), ("PONG\n", ""));
    let uri = format!("redis://default:secret@127.0.0.1:{}", srv.port);
    let r = run_cli(&["-u", &uri, "ping"], b"", &[]);
    assert_eq!((r.out().as_str(), r.err().as_str()), ("PONG\n", warn));
    let r = srv.cli(&["--no-auth-warning", "-a", "wrong", "ping"]);
    assert!(r.err().starts_with("AUTH failed: WRONGPASS"), "{}", r.err());
    assert!(r.out().starts_with("NOAUTH"), "{}", r.out());
}

#[test]
fn eval_file_with_keys_and_args() {
    let srv = server_or_skip!();
    let dir = scratch_dir("eval");
    let script = dir.join("s.lua");
    std::fs::write(&script, "return {KEYS[1], ARGV[1], #KEYS, #ARGV}\n").unwrap();
    let s = script.to_str().unwrap();
    let r = srv.cli(&["--eval", s, "k1", "k2", ",", "a1", "a2", "a3"]);
    assert_eq!(r.out(), "k1\na1\n2\n3\n");
    assert_eq!(srv.cli(&["--eval", s, "k,a"]).out(), "k,a\n");
    let r = srv.cli(&["--eval", "/nonexistent/x.lua"]);
    assert_eq!(
        r.err(),
        "Can't open file '/nonexistent/x.lua': No such file or directory\n"
    );
    assert_eq!(r.code, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn connection_failures() {
    let port = free_port().to_string();
    let r = run_cli(&["-p", &port, "ping"], b"", &[]);
    assert_eq!(
        r.err(),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
    assert_eq!(r.code, 1);
    let r = run_cli(&["-s", "/nonexistent/shoal.sock", "ping"], b"", &[]);
    assert_eq!(
        r.err(),
        "Could not connect to Redis at /nonexistent/shoal.sock: No such file or directory\n"
    );
    assert_eq!(r.code, 1);
}

#[test]
fn bad_options() {
    let r = run_cli(&["--foo"], b"", &[]);
    assert_eq!(
        (r.err().as_str(), r.code),
        (
            "Unrecognized option or bad number of args for: '--foo'\n",
            1
        )
    );
    let r = run_cli(&["-p"], b"", &[]);
    assert_eq!(
        (r.err().as_str(), r.code),
        ("Unrecognized option or bad number of args for: '-p'\n", 1)
    );
    let r = run_cli(&["-u", "http://x", "ping"], b"", &[]);
    assert_eq!((r.err().as_str(), r.code), ("Invalid URI scheme\n", 1));
    let r = run_cli(&["--version"], b"", &[]);
    assert!(r.out().starts_with("shoal-cli "));
    let r = run_cli(&["--help"], b"", &[]);
    assert!(r.out().contains("--pipe"));
    assert_eq!(r.code, 0);
}
