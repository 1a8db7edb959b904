//! `-c`: following MOVED redirections across a two-node cluster built by hand
//! (ADDSLOTSRANGE + MEET), so it needs nothing but the server binary.

mod common;

use common::{free_port, TestServer};
use shoal_client::FrameExt;
use std::time::{Duration, Instant};

fn node() -> Option<(TestServer, u16)> {
    let bus = free_port();
    let bus_s = bus.to_string();
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-port",
        bus_s.as_str(),
    ];
    let s = TestServer::start_with(&args)?;
    // A server without cluster support (Shoal before its cluster issue) cannot
    // host this test: skip rather than fail.
    let info = s.client().call(&["CLUSTER", "INFO"]).ok()?;
    if info.error_text().is_some() {
        eprintln!("skipped: the server under test has no cluster mode");
        return None;
    }
    Some((s, bus))
}

fn cluster_ok(s: &TestServer) -> bool {
    let info = s.client().call(&["CLUSTER", "INFO"]).unwrap();
    String::from_utf8_lossy(info.as_bytes().unwrap_or_default()).contains("cluster_state:ok")
}

#[test]
fn follows_moved_redirections() {
    let Some((a, _)) = node() else {
        eprintln!("skipped: no server binary, or one without cluster mode");
        return;
    };
    let (b, b_bus) = node().unwrap();
    let mut ca = a.client();
    let mut cb = b.client();
    ca.call(&["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]).unwrap();
    cb.call(&["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"])
        .unwrap();
    let meet = ca.call(&[
        "CLUSTER",
        "MEET",
        "127.0.0.1",
        &b.port.to_string(),
        &b_bus.to_string(),
    ]);
    assert!(meet.unwrap().error_text().is_none());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(cluster_ok(&a) && cluster_ok(&b)) {
        assert!(Instant::now() < deadline, "cluster did not become ok");
        std::thread::sleep(Duration::from_millis(100));
    }

    // "a" hashes to slot 15495 (node b); "b" to slot 3300 (node a).
    let moved = format!("MOVED 15495 127.0.0.1:{}\n\n", b.port);
    assert_eq!(a.cli(&["set", "a", "1"]).out(), moved);
    assert_eq!(a.cli(&["-c", "set", "a", "1"]).out(), "OK\n");
    assert_eq!(a.cli(&["-c", "get", "a"]).out(), "1\n");
    assert_eq!(a.cli(&["-c", "--no-raw", "set", "b", "2"]).out(), "OK\n");
    assert_eq!(cb.call(&["GET", "a"]).unwrap().as_bytes(), Some(&b"1"[..]));
    assert_eq!(ca.call(&["GET", "b"]).unwrap().as_bytes(), Some(&b"2"[..]));

    // The prompt says where it went, and stays connected there.
    let r = a.cli_with(&["-c"], b"get a\nget a\n", &[]);
    assert_eq!(
        r.out(),
        format!(
            "-> Redirected to slot [15495] located at 127.0.0.1:{}\n1\n1\n",
            b.port
        )
    );
}
