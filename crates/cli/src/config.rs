//! The settings of one run. [`crate::args`] fills them from the command line; the
//! session and the modes only read them (the session updates the connection
//! target, credentials, db and protocol as the user changes them).

use crate::format::OutputMode;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// `-s`: a Unix socket path, used instead of host and port.
    pub socket: Option<PathBuf>,
    pub user: Option<Vec<u8>>,
    pub password: Option<Vec<u8>>,
    /// `-n`: the db to SELECT after connecting.
    pub db: i64,
    /// `-3` / `--resp3`: send `HELLO 3` after connecting.
    pub resp3: bool,
    pub output: OutputMode,
    /// `-d`: between the elements of an aggregate in raw output.
    pub mb_delim: Vec<u8>,
    /// `-D`: after each reply in raw output.
    pub cmd_delim: Vec<u8>,
    /// `-r`: how many times to run the command (negative: forever).
    pub repeat: i64,
    /// `-i`: pause between repeats, SCAN calls, `--stat` rows; zero when not given.
    pub interval: Duration,
    /// `-x`: read the last argument from stdin.
    pub stdin_last_arg: bool,
    /// `-e`: exit with 1 when the command's reply is an error.
    pub exit_on_error: bool,
    /// `-c`: follow MOVED and ASK redirections.
    pub cluster_mode: bool,
    /// `-t`: connect timeout.
    pub connect_timeout: Option<Duration>,
    pub no_auth_warning: bool,
    /// `--show-pushes`: print RESP3 pushes that arrive between replies.
    pub show_pushes: bool,
    pub hints: bool,
    pub verbose: bool,
    // Modes.
    pub pipe: bool,
    pub pipe_timeout: Duration,
    pub scan: bool,
    pub pattern: Option<Vec<u8>>,
    pub count: Option<u64>,
    pub stat: bool,
    pub latency: bool,
    pub latency_history: bool,
    pub bigkeys: bool,
    pub memkeys: bool,
    pub memkeys_samples: Option<u64>,
    pub eval: Option<PathBuf>,
}

impl Config {
    /// Defaults; `stdout_tty` decides the output form as redis-cli does.
    pub fn new(stdout_tty: bool) -> Config {
        Config {
            host: "127.0.0.1".to_string(),
            port: 6379,
            socket: None,
            user: None,
            password: None,
            db: 0,
            resp3: false,
            output: if stdout_tty {
                OutputMode::Standard
            } else {
                OutputMode::Raw
            },
            mb_delim: b"\n".to_vec(),
            cmd_delim: b"\n".to_vec(),
            repeat: 1,
            interval: Duration::ZERO,
            stdin_last_arg: false,
            exit_on_error: false,
            cluster_mode: false,
            connect_timeout: None,
            no_auth_warning: false,
            show_pushes: stdout_tty,
            hints: true,
            verbose: false,
            pipe: false,
            pipe_timeout: Duration::from_secs(30),
            scan: false,
            pattern: None,
            count: None,
            stat: false,
            latency: false,
            latency_history: false,
            bigkeys: false,
            memkeys: false,
            memkeys_samples: None,
            eval: None,
        }
    }
}
