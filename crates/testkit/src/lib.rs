//! Test helpers shared by the crates' process-level tests: the server under test
//! on an ephemeral loopback port (and a Unix socket) in a scratch directory,
//! stopped and cleaned up on drop.
//!
//! The binary is `$SHOAL_TEST_SERVER`, else `/usr/bin/redis-server`; when it does
//! not exist, [`TestServer::start`] returns `None` and the test returns early (see
//! [`server_or_skip!`]). Never port 6379: ports come from the kernel.

use shoal_client::{Client, Frame};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary under test, if it exists.
pub fn server_binary() -> Option<PathBuf> {
    let p = std::env::var_os("SHOAL_TEST_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/redis-server"));
    p.exists().then_some(p)
}

/// A port nobody listens on (bound then released; a collision is retried by
/// [`TestServer::start_with`]).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("shoal-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

pub struct TestServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl TestServer {
    pub fn start() -> Option<TestServer> {
        Self::start_with(&[])
    }

    /// Starts the server with Redis's command line plus `extra`; `None` if there is
    /// no server binary. Panics if it does not come up after a few ports.
    pub fn start_with(extra: &[&str]) -> Option<TestServer> {
        let bin = server_binary()?;
        for _ in 0..5 {
            let port = free_port();
            let dir = scratch_dir(&format!("srv{port}"));
            let socket = dir.join("s.sock");
            let child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--unixsocket", &socket.to_string_lossy()])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--dir", &dir.to_string_lossy()])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn server");
            let mut srv = TestServer {
                child,
                port,
                dir,
                socket,
            };
            if srv.wait_ready(extra.contains(&"--requirepass")) {
                return Some(srv);
            }
        }
        panic!("server did not start");
    }

    /// Waits until PING answers (with NOAUTH counting as up when a password is set).
    fn wait_ready(&mut self, auth_required: bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::connect(self.addr(), Duration::from_secs(1)) {
                match c.call(&["PING"]) {
                    Ok(Frame::Simple(_)) => return true,
                    Ok(Frame::Error(_)) if auth_required => return true,
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A client on db 0.
    pub fn client(&self) -> Client {
        Client::connect(self.addr(), Duration::from_secs(2)).expect("connect")
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
        match $crate::TestServer::start() {
            Some(s) => s,
            None => {
                eprintln!("skipped: no server binary");
                return;
            }
        }
    };
}
