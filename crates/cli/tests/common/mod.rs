//! Process-level helpers: the server under test on an ephemeral loopback port, and
//! the CLI binary run against it with a deadline.
//!
//! The server binary is `$SHOAL_TEST_SERVER`, else `/usr/bin/redis-server`; when it
//! does not exist the tests that need it return early (see [`server_or_skip!`]).
//! The CLI binary is `$SHOAL_CLI_BIN`, else this crate's `shoal-cli-core`.

#![allow(dead_code, unused_imports)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The server under test (`shoal-testkit`), with the CLI run against it.
pub struct TestServer(shoal_testkit::TestServer);

impl std::ops::Deref for TestServer {
    type Target = shoal_testkit::TestServer;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub use shoal_testkit::{free_port, scratch_dir, server_binary};

pub fn cli_binary() -> PathBuf {
    std::env::var_os("SHOAL_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoal-cli-core")))
}

impl TestServer {
    pub fn start() -> Option<TestServer> {
        shoal_testkit::TestServer::start().map(TestServer)
    }

    pub fn start_with(extra: &[&str]) -> Option<TestServer> {
        shoal_testkit::TestServer::start_with(extra).map(TestServer)
    }

    /// Runs the CLI with `-p <port>` and `args`, no stdin.
    pub fn cli(&self, args: &[&str]) -> Run {
        self.cli_with(args, b"", &[])
    }

    /// Runs the CLI with `-p <port>`, `args`, `stdin` and extra environment.
    pub fn cli_with(&self, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
        let port = self.port.to_string();
        let mut all = vec!["-p", port.as_str()];
        all.extend_from_slice(args);
        run_cli(&all, stdin, env)
    }
}

/// What a CLI run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
}

impl Run {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs the CLI binary with a 60-second deadline (killed and failed past it).
pub fn run_cli(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    run_program(&cli_binary(), args, stdin, env, Duration::from_secs(60))
}

pub fn run_program(
    bin: &std::path::Path,
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
    deadline: Duration,
) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("FAKETTY")
        .env_remove("REDISCLI_AUTH")
        .env("REDISCLI_HISTFILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn cli");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        let _ = tx.send((0, b));
    });
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        let _ = tx2.send((1, b));
    });
    let start = Instant::now();
    let mut stdout = None;
    let mut stderr = None;
    while stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok((0, b)) => stdout = Some(b),
            Ok((_, b)) => stderr = Some(b),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} {args:?} did not finish in {deadline:?}", bin.display());
            }
        }
    }
    let status = child.wait().unwrap();
    Run {
        stdout: stdout.unwrap(),
        stderr: stderr.unwrap(),
        code: status.code().unwrap_or(-1),
    }
}

/// Starts the server or returns from the test with a note.
#[macro_export]
macro_rules! server_or_skip {
    () => {
        server_or_skip!(&[])
    };
    ($extra:expr) => {
        match common::TestServer::start_with($extra) {
            Some(s) => s,
            None => {
                eprintln!("skipped: no server binary");
                return;
            }
        }
    };
}
