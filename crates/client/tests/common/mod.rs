//! Spawns the server under test on an ephemeral loopback port (and a Unix socket).
//!
//! The binary is `$SHOAL_TEST_SERVER`, else `/usr/bin/redis-server`; when it does not
//! exist, [`TestServer::start`] returns `None` and the calling test returns early.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

pub fn server_binary() -> Option<PathBuf> {
    let p = std::env::var_os("SHOAL_TEST_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/redis-server"));
    p.exists().then_some(p)
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

impl TestServer {
    pub fn start() -> Option<TestServer> {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Option<TestServer> {
        let bin = server_binary()?;
        for attempt in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "shoal-client-test-{}-{}-{}",
                std::process::id(),
                port,
                attempt
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let socket = dir.join("s.sock");
            let mut cmd = Command::new(&bin);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--unixsocket", socket.to_str().unwrap()])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--dir", dir.to_str().unwrap()])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn server");
            let mut srv = TestServer {
                child,
                port,
                dir,
                socket,
            };
            if srv.wait_ready() {
                return Some(srv);
            }
        }
        panic!("server did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = shoal_client::Client::connect(self.addr(), Duration::from_secs(1)) {
                if let Ok(shoal_client::Frame::Simple(s)) = c.call(&["PING"]) {
                    if &s[..] == b"PONG" {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the server or returns from the test with a note.
#[macro_export]
macro_rules! server_or_skip {
    () => {
        match common::TestServer::start() {
            Some(s) => s,
            None => {
                eprintln!("skipped: no server binary");
                return;
            }
        }
    };
}
