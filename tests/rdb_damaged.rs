//! A damaged dump.rdb stops start-up with the file, the offset and the reason in
//! the log and exit code 1; it is never loaded in part.

mod common;

use common::ServerProcess;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_shoal-server");

/// Starts shoal-server on `dir` (its dump.rdb) and returns its exit code and
/// output; kills it after 20 s.
fn start_on(dir: &Path) -> (Option<i32>, String) {
    let log = dir.join("start.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--port",
            &common::free_port().to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--save", "", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (code, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn damaged_rdb_files_stop_start_up() {
    let srv = ServerProcess::start(Path::new(BIN), &[]).expect("start shoal-server");
    let mut c = srv.connect().unwrap();
    for i in 0..500 {
        let k = format!("key:{i}");
        c.cmd(&["SET", &k, "some value that takes room"]).unwrap();
    }
    c.cmd(&["RPUSH", "list", "a", "b", "c"]).unwrap();
    c.cmd(&["SAVE"]).unwrap();
    let good = std::fs::read(srv.dir.path().join("dump.rdb")).unwrap();
    drop(c);
    drop(srv);

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("dump.rdb"), &good[..good.len() / 2]).unwrap();
    let (code, log) = start_on(tmp.path());
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("Fatal error loading the DB (dump.rdb)"),
        "{log}"
    );
    assert!(
        log.contains("Unexpected EOF reading RDB file at offset"),
        "{log}"
    );

    // One flipped bit inside a value: the structure still reads, the checksum
    // does not match.
    let mut flipped = good.clone();
    let at = good.windows(4).position(|w| w == b"some").unwrap() + 1;
    flipped[at] ^= 0x01;
    std::fs::write(tmp.path().join("dump.rdb"), &flipped).unwrap();
    let (code, log) = start_on(tmp.path());
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("Wrong RDB checksum"), "{log}");

    // Not an RDB file at all.
    std::fs::write(tmp.path().join("dump.rdb"), b"hello, world\n").unwrap();
    let (code, log) = start_on(tmp.path());
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("Fatal error loading the DB"), "{log}");
}
