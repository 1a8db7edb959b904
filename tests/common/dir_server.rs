//! A server process in a directory the test owns, for the persistence tests
//! (RDB, AOF, files exchanged with Debian's redis-server): the directory
//! outlives the process, so that a restart in it finds the files the previous
//! one wrote. Also the reply accessors those tests share.
//!
//! Invariants: every process is killed and reaped on drop; every wait is
//! bounded; the base command line is only what every such test needs
//! (`--port`, `--bind 127.0.0.1`, `--dir`, `--logfile`,
//! `--enable-debug-command yes`), each test file adds its own defaults.

use super::{free_port, listen_args, Client, Frame, REFERENCE_SERVER};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a server may take to answer PING before the test fails.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The server under test.
pub fn shoal() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_shoal-server"))
}

/// Debian's redis-server, or `None` (with `note` printed) when it is absent.
pub fn redis_or_skip(note: &str) -> Option<&'static Path> {
    let p = Path::new(REFERENCE_SERVER);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("{note}: {REFERENCE_SERVER} not installed");
        None
    }
}

/// A server (shoal-server or redis-server) started in a directory of the
/// test's, on a free loopback port, logging to a file there; killed on drop.
pub struct DirServer {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    /// The binary's file name, for messages.
    pub name: String,
    /// Read timeout of the clients [`DirServer::client`] opens (the client's
    /// default when `None`).
    pub reply_timeout: Option<Duration>,
}

impl Drop for DirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl DirServer {
    /// Starts `bin` in `dir` with the base arguments and `extra`; Ok once it
    /// answers PING, Err with its exit status and log if it exits first.
    /// Panics if it neither answers nor exits in time.
    pub fn try_start(
        bin: &Path,
        dir: &Path,
        extra: &[&str],
    ) -> Result<DirServer, (Option<i32>, String)> {
        let port = free_port();
        let log = dir.join(format!("server-{port}.log"));
        let port_s = port.to_string();
        let dir_s = dir.to_string_lossy().into_owned();
        let log_s = log.to_string_lossy().into_owned();
        let mut args = listen_args(&port_s, &dir_s);
        args.extend_from_slice(&["--logfile", &log_s, "--enable-debug-command", "yes"]);
        args.extend_from_slice(extra);
        let child = Command::new(bin)
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let name = bin.file_name().unwrap_or_default().to_string_lossy().into();
        let mut p = DirServer {
            child,
            port,
            log,
            name,
            reply_timeout: None,
        };
        let end = Instant::now() + START_LIMIT;
        loop {
            if let Ok(Some(st)) = p.child.try_wait() {
                return Err((st.code(), p.log_text()));
            }
            if let Ok(mut c) = Client::connect(port) {
                if matches!(c.cmd(&["PING"]), Ok(Frame::Simple(s)) if s == b"PONG") {
                    return Ok(p);
                }
            }
            assert!(
                Instant::now() < end,
                "{} did not start; log:\n{}",
                p.name,
                p.log_text()
            );
            sleep(Duration::from_millis(20));
        }
    }

    /// [`DirServer::try_start`], panicking with the log if the server exits
    /// during start-up.
    pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> DirServer {
        match Self::try_start(bin, dir, extra) {
            Ok(p) => p,
            Err((code, log)) => panic!(
                "{} exited during start-up ({code:?}); log:\n{log}",
                bin.display()
            ),
        }
    }

    pub fn client(&self) -> Client {
        let c = Client::connect(self.port).expect("connect");
        if let Some(t) = self.reply_timeout {
            c.set_read_timeout(Some(t)).expect("read timeout");
        }
        c
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and the exit reaped.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits (bounded, 10 s) for the process to exit; true if it did.
    pub fn wait_exit(&mut self) -> bool {
        self.wait_exit_within(Duration::from_secs(10))
    }

    fn wait_exit_within(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            sleep(Duration::from_millis(20));
        }
        false
    }

    /// Checks DEBUG DIGEST is `want` (the log in the message), then
    /// [`DirServer::stop`].
    pub fn check_digest_and_stop(self, want: &[u8]) {
        assert_eq!(digest(&mut self.client()), want, "{}", self.log_text());
        self.stop();
    }

    /// SHUTDOWN NOSAVE and a bounded wait (then the kill of drop).
    pub fn stop(mut self) {
        let _ = self.client().cmd(&["SHUTDOWN", "NOSAVE"]);
        self.wait_exit();
    }

    /// SHUTDOWN with the given option; panics if the process does not exit
    /// within 30 s.
    pub fn shutdown(mut self, opt: &str) {
        let _ = self.client().cmd(&["SHUTDOWN", opt]);
        if !self.wait_exit_within(Duration::from_secs(30)) {
            panic!("{} did not exit on SHUTDOWN", self.name);
        }
    }
}

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

/// The bytes of a bulk reply; `None` for a null or any other reply.
pub fn bulk(f: &Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Bulk(b) => b.clone(),
        _ => None,
    }
}

/// The text of a simple or error reply; panics on any other.
pub fn simple(f: Frame) -> String {
    match f {
        Frame::Simple(s) => String::from_utf8(s).unwrap(),
        Frame::Error(e) => String::from_utf8(e).unwrap(),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// A reply as text: strings and errors as they are, integers in decimal, the
/// rest as displayed.
pub fn text(f: &Frame) -> String {
    match f {
        Frame::Simple(s) | Frame::Error(s) | Frame::Bulk(Some(s)) => {
            String::from_utf8_lossy(s).into_owned()
        }
        Frame::Integer(i) => i.to_string(),
        other => format!("{other}"),
    }
}

/// A command's reply as [`text`].
pub fn cmd(c: &mut Client, args: &[&str]) -> String {
    text(&c.cmd(args).expect("reply"))
}

/// DEBUG DIGEST.
pub fn digest(c: &mut Client) -> Vec<u8> {
    match c.cmd(&["DEBUG", "DIGEST"]).unwrap() {
        Frame::Simple(s) => s,
        other => panic!("DEBUG DIGEST: {other:?}"),
    }
}

/// One field of INFO persistence; panics if it is absent.
pub fn info(c: &mut Client, field: &str) -> String {
    let Frame::Bulk(Some(text)) = c.cmd(&["INFO", "persistence"]).unwrap() else {
        panic!("INFO")
    };
    let text = String::from_utf8(text).unwrap();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
        .to_string()
}

/// Waits (bounded) until no AOF rewrite runs or is scheduled.
pub fn wait_rewrite_done(c: &mut Client) {
    let end = Instant::now() + Duration::from_secs(30);
    while info(c, "aof_rewrite_in_progress") != "0" || info(c, "aof_rewrite_scheduled") != "0" {
        assert!(Instant::now() < end, "rewrite did not end");
        sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until no background save runs.
pub fn wait_bgsave(c: &mut Client) {
    for _ in 0..1000 {
        if info(c, "rdb_bgsave_in_progress") == "0" {
            return;
        }
        sleep(Duration::from_millis(10));
    }
    panic!("BGSAVE did not finish");
}

/// The AOF directory under `dir` (the default `appenddirname`).
pub fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// Copies the files of directory `from` into `to` (created if needed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

/// Copies the AOF directory of `from` into `to`.
pub fn copy_aof_dir(from: &Path, to: &Path) {
    copy_dir(&aof_dir(from), &aof_dir(to));
}

/// A temporary directory named with `prefix`, removed on drop.
pub fn tempdir_named(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("tempdir")
}
