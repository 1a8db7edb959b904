//! Process-level tests of shoal-server: start-up and shutdown, networking limits,
//! protocol handling on the wire, connection commands that need several clients.
//! Every test starts its own server on an ephemeral loopback port in a temporary
//! directory (see `common::ServerProcess`), and the server is killed on drop.

mod common;

use common::{free_port, Frame, ServerProcess};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_shoal-server"))
}

fn start(extra: &[&str]) -> ServerProcess {
    ServerProcess::start(bin(), extra).expect("server starts")
}

fn simple(s: &str) -> Frame {
    Frame::Simple(s.as_bytes().to_vec())
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(Some(s.as_bytes().to_vec()))
}

fn is_err_with(f: &Frame, prefix: &str) -> bool {
    matches!(f, Frame::Error(e) if e.starts_with(prefix.as_bytes()))
}

/// Waits until `cond` holds, checking every 20 ms, for at most `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        sleep(Duration::from_millis(20));
    }
    cond()
}

/// Reads until EOF or timeout; returns what arrived and whether EOF was seen.
fn read_to_close(c: &mut std::net::TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    c.set_read_timeout(Some(limit)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match c.read(&mut chunk) {
            Ok(0) => return (buf, true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return (buf, false),
        }
    }
}

#[test]
fn startup_log_lines() {
    let s = start(&[]);
    let log = std::fs::read_to_string(&s.log_path).unwrap();
    assert!(log.contains("Shoal is starting"), "{log}");
    assert!(
        log.contains(&format!("Running mode=standalone, port={}.", s.port)),
        "{log}"
    );
    assert!(log.contains("Server initialized"), "{log}");
    assert!(log.contains("Ready to accept connections tcp"), "{log}");
    // pid:role dd Mon yyyy hh:mm:ss.mmm <level> message
    let line = log
        .lines()
        .find(|l| l.contains("Server initialized"))
        .unwrap();
    let (pid, rest) = line.split_once(':').unwrap();
    assert_eq!(pid.parse::<u32>().unwrap(), s.pid());
    assert!(rest.starts_with("M "), "{line}");
    let parts: Vec<&str> = rest.split(' ').collect();
    assert_eq!(parts[2].len(), 3, "month name in {line}");
    assert_eq!(parts[4].len(), 12, "hh:mm:ss.mmm in {line}");
    assert_eq!(parts[5], "#", "{line}");
}

#[test]
fn logo_when_asked() {
    let s = start(&["--always-show-logo", "yes"]);
    let log = std::fs::read_to_string(&s.log_path).unwrap();
    assert!(log.contains("Running in standalone mode"), "{log}");
    assert!(log.contains(&format!("Port: {}", s.port)), "{log}");
    assert!(log.contains(&format!("PID: {}", s.pid())), "{log}");
}

#[test]
fn port_in_use_aborts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("Failed listening on port {port} (tcp), aborting.")),
        "{text}"
    );
}

#[test]
fn bad_directive_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args([
            "--port",
            &free_port().to_string(),
            "--no-such-directive",
            "1",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("FATAL CONFIG FILE ERROR"), "{text}");
    assert!(
        text.contains("Bad directive or wrong number of arguments"),
        "{text}"
    );
}

#[test]
fn config_file_then_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("shoal.conf");
    std::fs::write(&conf, "# a comment\nmaxclients 123\ndatabases 4\n").unwrap();
    // The file comes first, then directives that override it, as redis-server takes them.
    let port = free_port();
    let mut child = Command::new(bin())
        .args([
            conf.to_str().unwrap(),
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--maxclients",
            "77",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut c = None;
    eventually(Duration::from_secs(10), || {
        c = common::Client::connect(port).ok();
        c.is_some()
    });
    let mut c = c.expect("server with a config file answers");
    let r = c.cmd(&["CONFIG", "GET", "maxclients"]).unwrap();
    assert_eq!(r, Frame::Array(Some(vec![bulk("maxclients"), bulk("77")])));
    assert!(is_err_with(
        &c.cmd(&["SELECT", "4"]).unwrap(),
        "ERR DB index is out of range"
    ));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn shutdown_command_stops_the_server() {
    let mut s = start(&[]);
    let mut c = s.connect().unwrap();
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(eventually(Duration::from_secs(5), || !s.is_running()));
    let log = std::fs::read_to_string(&s.log_path).unwrap();
    assert!(log.contains("User requested shutdown..."), "{log}");
    assert!(log.contains("ready to exit, bye bye"), "{log}");
}

#[test]
fn sigterm_stops_the_server() {
    let mut s = start(&[]);
    // SAFETY: sending a signal to our own child process.
    unsafe { libc_kill(s.pid() as i32, 15) };
    assert!(eventually(Duration::from_secs(5), || !s.is_running()));
    let log = std::fs::read_to_string(&s.log_path).unwrap();
    assert!(
        log.contains("Received SIGTERM scheduling shutdown..."),
        "{log}"
    );
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn inline_commands_and_pipelining() {
    let s = start(&[]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(b"set k 1\r\nget k\nPING\r\n").unwrap();
    let mut reader = std::io::BufReader::new(raw.try_clone().unwrap());
    assert_eq!(common::read_frame(&mut reader).unwrap(), simple("OK"));
    assert_eq!(common::read_frame(&mut reader).unwrap(), bulk("1"));
    assert_eq!(common::read_frame(&mut reader).unwrap(), simple("PONG"));
    let mut c = s.connect().unwrap();
    assert_eq!(c.cmd(&["GET", "k"]).unwrap(), bulk("1"));
    // 1000 pipelined commands in one write, answered in order.
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(common::encode_command(&[
            "INCR".to_string(),
            format!("n{}", i % 7),
        ]));
    }
    raw.write_all(&batch).unwrap();
    let mut counts = [0i64; 7];
    for i in 0..1000 {
        counts[i % 7] += 1;
        assert_eq!(
            common::read_frame(&mut reader).unwrap(),
            Frame::Integer(counts[i % 7])
        );
    }
}

#[test]
fn protocol_error_closes_the_connection() {
    let s = start(&[]);
    for (input, reply) in [
        (
            &b"*1\r\n$foo\r\n"[..],
            &b"-ERR Protocol error: invalid bulk length\r\n"[..],
        ),
        (
            b"*abc\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n+foo\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"set \"k 1\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ] {
        let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        raw.write_all(input).unwrap();
        let (got, closed) = read_to_close(&mut raw, Duration::from_secs(5));
        assert_eq!(got, reply, "{:?}", String::from_utf8_lossy(input));
        assert!(closed);
    }
    // The server is still fine.
    assert_eq!(s.connect().unwrap().cmd(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn query_buffer_limit_closes_the_connection() {
    let s = start(&["--client-query-buffer-limit", "1mb"]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(b"*2\r\n$3\r\nget\r\n$4000000\r\n").unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut closed = false;
    for _ in 0..60 {
        if raw.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        let (_, eof) = read_to_close(&mut raw, Duration::from_secs(5));
        closed = eof;
    }
    assert!(
        closed,
        "a client past client-query-buffer-limit is disconnected"
    );
    assert_eq!(s.connect().unwrap().cmd(&["PING"]).unwrap(), simple("PONG"));
}

#[test]
fn maxclients_refuses_extra_connections() {
    let s = start(&["--maxclients", "2"]);
    let mut a = s.connect().unwrap();
    let mut b = s.connect().unwrap();
    assert_eq!(a.cmd(&["PING"]).unwrap(), simple("PONG"));
    assert_eq!(b.cmd(&["PING"]).unwrap(), simple("PONG"));
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let (got, closed) = read_to_close(&mut raw, Duration::from_secs(5));
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert!(closed);
}

#[test]
fn idle_timeout_closes_clients() {
    let s = start(&["--timeout", "1"]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let (_, closed) = read_to_close(&mut raw, Duration::from_secs(5));
    assert!(closed, "idle client closed after `timeout` seconds");
}

#[test]
fn unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("shoal.sock");
    let _s = start(&["--unixsocket", sock.to_str().unwrap()]);
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut buf = [0u8; 7];
    u.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}

#[test]
fn requirepass_and_auth() {
    let s = start(&[]);
    let mut admin = s.connect().unwrap();
    assert!(is_err_with(
        &admin.cmd(&["AUTH", "x"]).unwrap(),
        "ERR AUTH <password> called without any password configured"
    ));
    assert_eq!(
        admin
            .cmd(&["CONFIG", "SET", "requirepass", "secret"])
            .unwrap(),
        simple("OK")
    );
    // A connection made before the password was set stays authenticated.
    assert_eq!(admin.cmd(&["PING"]).unwrap(), simple("PONG"));
    let mut c = s.connect().unwrap();
    assert!(is_err_with(
        &c.cmd(&["GET", "x"]).unwrap(),
        "NOAUTH Authentication required."
    ));
    assert!(is_err_with(
        &c.cmd(&["AUTH", "wrong"]).unwrap(),
        "WRONGPASS"
    ));
    assert_eq!(c.cmd(&["AUTH", "secret"]).unwrap(), simple("OK"));
    assert_eq!(c.cmd(&["GET", "x"]).unwrap(), Frame::Bulk(None));
    let mut d = s.connect().unwrap();
    assert!(is_err_with(
        &d.cmd(&["HELLO", "3"]).unwrap(),
        "NOAUTH HELLO must be called"
    ));
    let r = d.cmd(&["HELLO", "3", "AUTH", "default", "secret"]).unwrap();
    assert_eq!(r.type_name(), "map");
    // Before authenticating, a client may not send big requests.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(b"*20\r\n").unwrap();
    let (got, closed) = read_to_close(&mut raw, Duration::from_secs(5));
    assert_eq!(
        got,
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert!(closed);
}

#[test]
fn client_kill_and_list() {
    let s = start(&[]);
    let mut a = s.connect().unwrap();
    let mut b = s.connect().unwrap();
    assert_eq!(
        b.cmd(&["CLIENT", "SETNAME", "victim"]).unwrap(),
        simple("OK")
    );
    let id = match b.cmd(&["CLIENT", "ID"]).unwrap() {
        Frame::Integer(i) => i,
        f => panic!("{f}"),
    };
    let list = a.cmd(&["CLIENT", "LIST"]).unwrap();
    let text = String::from_utf8_lossy(list.as_bytes().unwrap()).into_owned();
    assert!(text.contains("name=victim"), "{text}");
    assert!(text.contains("cmd=client|list"), "{text}");
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]).unwrap(),
        Frame::Integer(1)
    );
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(b.cmd(&["PING"]).is_err(), "killed connection is closed");
}

#[test]
fn monitor_sees_commands() {
    let s = start(&[]);
    let mut m = s.connect().unwrap();
    assert_eq!(m.cmd(&["MONITOR"]).unwrap(), simple("OK"));
    let mut c = s.connect().unwrap();
    c.cmd(&["SET", "mk", "a b"]).unwrap();
    m.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let line = m.read().unwrap();
    let text = String::from_utf8_lossy(line.as_bytes().unwrap()).into_owned();
    assert!(text.ends_with("\"SET\" \"mk\" \"a b\""), "{text}");
    assert!(text.contains(" [0 127.0.0.1:"), "{text}");
}

#[test]
fn client_reply_off_and_skip() {
    let s = start(&[]);
    let mut c = s.connect().unwrap();
    c.send(&["CLIENT", "REPLY", "OFF"]).unwrap();
    c.send(&["SET", "a", "1"]).unwrap();
    c.send(&["CLIENT", "REPLY", "ON"]).unwrap();
    assert_eq!(c.read().unwrap(), simple("OK"));
    c.send(&["CLIENT", "REPLY", "SKIP"]).unwrap();
    c.send(&["GET", "a"]).unwrap();
    c.send(&["ECHO", "after"]).unwrap();
    assert_eq!(c.read().unwrap(), bulk("after"));
}

#[test]
fn client_pause_write_holds_writes_only() {
    let s = start(&[]);
    let mut admin = s.connect().unwrap();
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "500", "WRITE"]).unwrap(),
        simple("OK")
    );
    let mut c = s.connect().unwrap();
    let t = Instant::now();
    assert_eq!(c.cmd(&["GET", "x"]).unwrap(), Frame::Bulk(None));
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "reads are not paused"
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["SET", "x", "1"]).unwrap(), simple("OK"));
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "writes wait for the pause"
    );
}

#[test]
fn wait_without_replicas() {
    let s = start(&[]);
    let mut c = s.connect().unwrap();
    assert_eq!(c.cmd(&["WAIT", "0", "0"]).unwrap(), Frame::Integer(0));
    let t = Instant::now();
    assert_eq!(c.cmd(&["WAIT", "1", "200"]).unwrap(), Frame::Integer(0));
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn active_expiry_removes_unread_keys() {
    let s = start(&["--hz", "100"]);
    let mut c = s.connect().unwrap();
    for i in 0..200 {
        c.cmd(&["SET", &format!("e{i}"), "v", "PX", "50"]).unwrap();
    }
    c.cmd(&["SET", "keep", "v"]).unwrap();
    assert!(eventually(Duration::from_secs(5), || {
        c.cmd(&["DBSIZE"]).unwrap() == Frame::Integer(1)
    }));
    let info = c.cmd(&["INFO", "stats"]).unwrap();
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    assert!(text.contains("expired_keys:200"), "{text}");
}

#[test]
fn info_sections_and_commandstats() {
    let s = start(&[]);
    let mut c = s.connect().unwrap();
    c.cmd(&["SET", "a", "1"]).unwrap();
    c.cmd(&["GET", "a"]).unwrap();
    c.cmd(&["GET", "a", "b"]).unwrap();
    let info = c.cmd(&["INFO", "everything"]).unwrap();
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Modules",
        "# Commandstats",
        "# Errorstats",
        "# Cluster",
        "# Keyspace",
    ] {
        assert!(text.contains(section), "{section} missing");
    }
    assert!(text.contains("cmdstat_get:calls=1,"), "{text}");
    assert!(text.contains("rejected_calls=1"), "{text}");
    assert!(text.contains("errorstat_ERR:count=1"), "{text}");
    assert!(text.contains("db0:keys=1,expires=0"), "{text}");
    assert!(text.contains("redis_version:7.0.15"), "{text}");
}

/// Connects from a loopback address other than 127.0.0.1, which Redis does not
/// count as local.
fn connect_from(src: &str, port: u16) -> std::net::TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let src: std::net::SocketAddr = format!("{src}:0").parse().unwrap();
    sock.bind(&src.into()).unwrap();
    let dst: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    sock.connect(&dst.into()).unwrap();
    sock.into()
}

#[test]
fn protected_mode_refuses_non_local_peers() {
    let s = start(&["--protected-mode", "yes"]);
    // (Nothing is sent first: unread input would turn the close into a reset.)
    let mut raw = connect_from("127.0.0.5", s.port);
    let (got, closed) = read_to_close(&mut raw, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."),
        "{text}"
    );
    assert!(
        text.ends_with("connections from the outside.\r\n"),
        "{text}"
    );
    assert!(closed);
    // With a password set, the same peer is let in (and must authenticate).
    let mut c = s.connect().unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", "pw"]).unwrap(),
        simple("OK")
    );
    let mut raw = connect_from("127.0.0.5", s.port);
    raw.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = raw.read(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"-NOAUTH"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    // protected-mode no lets anybody in.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", ""]).unwrap(),
        simple("OK")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "protected-mode", "no"]).unwrap(),
        simple("OK")
    );
    let mut raw = connect_from("127.0.0.5", s.port);
    raw.write_all(b"PING\r\n").unwrap();
    let n = raw.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"+PONG\r\n");
}

#[test]
fn binds_several_addresses() {
    let s = start(&["--bind", "127.0.0.1 127.0.0.2", "--protected-mode", "no"]);
    let mut c = std::net::TcpStream::connect(("127.0.0.2", s.port)).unwrap();
    c.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}

#[test]
fn client_may_pipeline_without_reading() {
    // Redis keeps reading while replies pile up; a client that sends everything
    // before reading anything must not deadlock against the server.
    let s = start(&[]);
    let raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let n = 200_000;
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(common::encode_command(&[
            "SET".to_string(),
            format!("k{i}"),
            "v".to_string(),
        ]));
    }
    let mut w = raw.try_clone().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = w.write_all(&batch);
        let _ = tx.send(r.is_ok());
    });
    let sent = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server keeps reading while its replies are not read");
    assert!(sent);
    raw.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = std::io::BufReader::new(raw);
    for _ in 0..n {
        assert_eq!(common::read_frame(&mut reader).unwrap(), simple("OK"));
    }
}

#[test]
fn config_set_port_rebinds() {
    let s = start(&[]);
    let mut c = s.connect().unwrap();
    // A port that is taken: refused, and the old port keeps working.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let r = c.cmd(&["CONFIG", "SET", "port", &taken_port]).unwrap();
    assert!(
        is_err_with(&r, "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port."),
        "{r}"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]).unwrap(),
        Frame::Array(Some(vec![bulk("port"), bulk(&s.port.to_string())]))
    );
    assert_eq!(
        common::Client::connect(s.port)
            .unwrap()
            .cmd(&["PING"])
            .unwrap(),
        simple("PONG")
    );
    // A free port: the server moves there; existing connections stay.
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()])
            .unwrap(),
        simple("OK")
    );
    assert_eq!(
        common::Client::connect(new_port)
            .unwrap()
            .cmd(&["PING"])
            .unwrap(),
        simple("PONG")
    );
    assert!(eventually(Duration::from_secs(5), || {
        common::Client::connect(s.port).is_err()
    }));
    assert_eq!(c.cmd(&["PING"]).unwrap(), simple("PONG"));
    let info = c.cmd(&["INFO", "server"]).unwrap();
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    assert!(text.contains(&format!("tcp_port:{new_port}")), "{text}");
}

/// Sends `args` on `c` until the reply is an error starting with `prefix` (the
/// server may still answer normally before a script started); returns that reply.
fn until_error(c: &mut common::Client, args: &[&str], prefix: &str) -> Frame {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.cmd(args).unwrap();
        if is_err_with(&r, prefix) || Instant::now() > end {
            return r;
        }
    }
}

#[test]
fn busy_script_kill_function_kill_and_unkillable() {
    const BUSY_EVAL: &str =
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    const BUSY_FUNCTION: &str =
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    let mut s = start(&[]);
    let mut admin = s.connect().unwrap();
    let mut looping = s.connect().unwrap();
    let mut other = s.connect().unwrap();
    assert_eq!(
        admin
            .cmd(&["CONFIG", "SET", "busy-reply-threshold", "200"])
            .unwrap(),
        simple("OK")
    );

    // An EVAL script looping forever: BUSY after the threshold, then SCRIPT KILL.
    let t = Instant::now();
    looping.send(&["EVAL", "while true do end", "0"]).unwrap();
    let r = until_error(&mut other, &["GET", "x"], "BUSY");
    assert_eq!(r, Frame::Error(BUSY_EVAL.as_bytes().to_vec()));
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "BUSY only after busy-reply-threshold: {:?}",
        t.elapsed()
    );
    assert!(is_err_with(&other.cmd(&["PING"]).unwrap(), "BUSY"));
    // The wrong kill names the right one; FUNCTION STATS has nothing to say.
    assert_eq!(
        admin.cmd(&["FUNCTION", "KILL"]).unwrap(),
        Frame::Error(BUSY_EVAL.as_bytes().to_vec())
    );
    assert!(is_err_with(
        &admin.cmd(&["FUNCTION", "STATS"]).unwrap(),
        "BUSY"
    ));
    assert_eq!(admin.cmd(&["SCRIPT", "KILL"]).unwrap(), simple("OK"));
    let r = looping.read().unwrap();
    assert!(
        is_err_with(
            &r,
            "ERR Script killed by user with SCRIPT KILL... script: 694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7, on @user_script:1."
        ),
        "{r:?}"
    );
    assert_eq!(other.cmd(&["PING"]).unwrap(), simple("PONG"));
    assert_eq!(other.cmd(&["GET", "x"]).unwrap(), Frame::Bulk(None));
    assert!(is_err_with(
        &admin.cmd(&["SCRIPT", "KILL"]).unwrap(),
        "NOTBUSY"
    ));

    // A looping function: FUNCTION KILL.
    let lib = "#!lua name=loop\nredis.register_function('spin', function() while true do end end)";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", lib]).unwrap(), bulk("loop"));
    looping.send(&["FCALL", "spin", "0"]).unwrap();
    let r = until_error(&mut other, &["GET", "x"], "BUSY");
    assert_eq!(r, Frame::Error(BUSY_FUNCTION.as_bytes().to_vec()));
    assert_eq!(
        admin.cmd(&["SCRIPT", "KILL"]).unwrap(),
        Frame::Error(BUSY_FUNCTION.as_bytes().to_vec())
    );
    let stats = admin.cmd(&["FUNCTION", "STATS"]).unwrap().to_string();
    assert!(stats.contains("spin"), "{stats}");
    assert_eq!(admin.cmd(&["FUNCTION", "KILL"]).unwrap(), simple("OK"));
    let r = looping.read().unwrap();
    assert!(
        is_err_with(
            &r,
            "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
        ),
        "{r:?}"
    );
    assert_eq!(other.cmd(&["PING"]).unwrap(), simple("PONG"));
    assert_eq!(other.cmd(&["SET", "x", "after"]).unwrap(), simple("OK"));
    assert_eq!(other.cmd(&["GET", "x"]).unwrap(), bulk("after"));

    // A script that wrote cannot be killed: only SHUTDOWN NOSAVE ends it.
    looping
        .send(&["EVAL", "redis.call('set', 'k', 'v') while true do end", "0"])
        .unwrap();
    let r = until_error(&mut other, &["GET", "x"], "BUSY");
    assert_eq!(r, Frame::Error(BUSY_EVAL.as_bytes().to_vec()));
    for kill in [["SCRIPT", "KILL"], ["FUNCTION", "KILL"]] {
        assert!(is_err_with(
            &admin.cmd(&kill).unwrap(),
            "UNKILLABLE Sorry the script already executed write commands"
        ));
    }
    admin.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    assert!(eventually(Duration::from_secs(10), || !s.is_running()));
}

#[test]
fn script_errors_in_errorstats_and_commandstats() {
    // Values checked against Redis 7.0.15: an error raised by a command the script
    // called counts once in errorstats; EVAL fails when its own reply is an error.
    let s = start(&[]);
    let mut c = s.connect().unwrap();
    assert_eq!(c.cmd(&["SET", "str", "x"]).unwrap(), simple("OK"));
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]).unwrap(), simple("OK"));
    for (script, err) in [
        ("return redis.call('incr','str')", true),
        ("return redis.pcall('incr','str')", true),
        ("return redis.call('nosuch')", true),
        ("error('x')", true),
        ("return 1", false),
        ("return redis.call('get','a','b')", true),
        ("redis.pcall('incr','str'); return 1", false),
        ("return {1, {err='x'}}", false),
    ] {
        let r = c.cmd(&["EVAL", script, "0"]).unwrap();
        assert_eq!(r.is_error(), err, "{script}: {r:?}");
    }
    let info = |c: &mut common::Client, section: &str| match c.cmd(&["INFO", section]).unwrap() {
        Frame::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    let errors = info(&mut c, "errorstats");
    assert!(errors.contains("errorstat_ERR:count=7\r\n"), "{errors}");
    let stats = info(&mut c, "commandstats");
    let line = |name: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .map(|l| {
                l.split_once(",rejected")
                    .map_or(l, |(_, rest)| rest)
                    .to_owned()
            })
            .unwrap_or_default()
    };
    assert_eq!(line("eval"), "_calls=0,failed_calls=6", "{stats}");
    assert_eq!(line("incr"), "_calls=0,failed_calls=3", "{stats}");
    assert_eq!(line("get"), "_calls=1,failed_calls=0", "{stats}");
}

/// A subscriber that never reads its messages passes the `pubsub` class of
/// `client-output-buffer-limit` and is disconnected; the publisher sees the
/// subscriber count drop to 0 and INFO stops counting the client.
#[test]
fn pubsub_output_buffer_limit_disconnects_slow_subscriber() {
    let s = start(&[]);
    let mut main = s.connect().unwrap();
    assert_eq!(
        main.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 256kb 0 0"
        ])
        .unwrap(),
        simple("OK")
    );
    // The subscriber: a raw socket that reads its confirmation and nothing after.
    let mut sub = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sub.write_all(b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")
        .unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut confirmation = [0u8; 64];
    let n = sub.read(&mut confirmation).unwrap();
    assert!(confirmation[..n].starts_with(b"*3\r\n$9\r\nsubscribe\r\n"));
    let connected = |c: &mut common::Client| -> i64 {
        let info = c.cmd(&["INFO", "clients"]).unwrap();
        let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    assert_eq!(connected(&mut main), 2);

    // Publish 64 KB messages until nobody receives them any more: the kernel's
    // socket buffers take a few MB, then the server's own buffer passes 256 KB.
    let payload = "x".repeat(64 * 1024);
    let start_time = Instant::now();
    let mut receivers = 1;
    let mut published = 0;
    while receivers > 0 && published < 4000 && start_time.elapsed() < Duration::from_secs(30) {
        match main.cmd(&["PUBLISH", "ch", &payload]).unwrap() {
            Frame::Integer(n) => receivers = n,
            other => panic!("PUBLISH answered {other:?}"),
        }
        published += 1;
    }
    eprintln!("subscriber dropped after {published} messages");
    assert_eq!(
        receivers, 0,
        "subscriber still there after {published} messages"
    );
    assert!(eventually(Duration::from_secs(5), || connected(&mut main) == 1));
    assert_eq!(
        main.cmd(&["PUBSUB", "NUMSUB", "ch"]).unwrap(),
        Frame::Array(Some(vec![bulk("ch"), Frame::Integer(0)]))
    );
    // The subscriber's connection ends (after whatever was already in flight).
    let (_, eof) = read_to_close(&mut sub, Duration::from_secs(10));
    assert!(eof, "subscriber connection not closed");
    let log = std::fs::read_to_string(&s.log_path).unwrap();
    assert!(
        log.contains("scheduled to be closed ASAP for overcoming of output buffer limits"),
        "{log}"
    );
}
