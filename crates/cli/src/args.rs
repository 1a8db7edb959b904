//! The command line: options first, then the command and its arguments.
//!
//! As in redis-cli, the first argument that does not start with `-` ends the
//! options; an option that is unknown, or lacks its value, is an error naming it.
//! Numbers are read the way C's `atoi`/`atof` read them (leading digits, else 0).

use crate::config::Config;
use crate::format::OutputMode;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::Duration;

/// What the run should do once the options are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Run,
    Help,
    Version,
    /// A redis-cli option Shoal does not implement yet (`--cluster`, TLS, ...).
    Unsupported(String),
}

/// The parsed command line.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    pub action: Action,
    /// The command and its arguments (may be empty: interactive mode).
    pub command: Vec<Vec<u8>>,
}

/// Options redis-cli has that Shoal does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "--cluster",
    "--tls",
    "--sni",
    "--cacert",
    "--cacertdir",
    "--insecure",
    "--cert",
    "--key",
    "--tls-ciphers",
    "--tls-ciphersuites",
    "--replica",
    "--slave",
    "--rdb",
    "--functions-rdb",
    "--hotkeys",
    "--lru-test",
    "--latency-dist",
    "--intrinsic-latency",
    "--ldb",
    "--ldb-sync-mode",
    "--askpass",
];

/// Parses `argv` (without the program name).
pub fn parse(argv: &[OsString], stdout_tty: bool) -> Result<Parsed, String> {
    let mut cfg = Config::new(stdout_tty);
    let mut action = Action::Run;
    let mut i = 0;
    while i < argv.len() {
        let arg = argv[i].to_string_lossy().into_owned();
        let has_value = i + 1 < argv.len();
        let value = |i: usize| argv[i + 1].clone();
        let text = |i: usize| argv[i + 1].to_string_lossy().into_owned();
        match arg.as_str() {
            "-h" if has_value => {
                cfg.host = text(i);
                i += 1;
            }
            "-p" if has_value => {
                cfg.port = atoi(&text(i)) as u16;
                i += 1;
            }
            "-s" if has_value => {
                cfg.socket = Some(PathBuf::from(value(i)));
                i += 1;
            }
            "-a" | "--pass" if has_value => {
                cfg.password = Some(value(i).into_vec());
                i += 1;
            }
            "--user" if has_value => {
                cfg.user = Some(value(i).into_vec());
                i += 1;
            }
            "-u" if has_value => {
                parse_uri(&value(i).into_vec(), &mut cfg)?;
                i += 1;
            }
            "-r" if has_value => {
                cfg.repeat = atoi(&text(i));
                i += 1;
            }
            "-i" if has_value => {
                cfg.interval = seconds(&text(i));
                i += 1;
            }
            "-n" if has_value => {
                cfg.db = atoi(&text(i));
                i += 1;
            }
            "-t" if has_value => {
                let t = seconds(&text(i));
                cfg.connect_timeout = (!t.is_zero()).then_some(t);
                i += 1;
            }
            "-d" if has_value => {
                cfg.mb_delim = unescape(&value(i).into_vec());
                i += 1;
            }
            "-D" if has_value => {
                cfg.cmd_delim = unescape(&value(i).into_vec());
                i += 1;
            }
            "--show-pushes" if has_value => {
                cfg.show_pushes = yes_no(&text(i))
                    .ok_or_else(|| format!("--show-pushes expects yes or no, not '{}'", text(i)))?;
                i += 1;
            }
            "--pipe-timeout" if has_value => {
                cfg.pipe_timeout = Duration::from_secs(atoi(&text(i)).max(0) as u64);
                i += 1;
            }
            "--pattern" | "--quoted-pattern" if has_value => {
                cfg.pattern = Some(value(i).into_vec());
                i += 1;
            }
            "--count" if has_value => {
                cfg.count = Some(atoi(&text(i)).max(1) as u64);
                i += 1;
            }
            "--memkeys-samples" if has_value => {
                cfg.memkeys = true;
                cfg.memkeys_samples = Some(atoi(&text(i)).max(0) as u64);
                i += 1;
            }
            "--eval" if has_value => {
                cfg.eval = Some(PathBuf::from(value(i)));
                i += 1;
            }
            "-2" | "--resp2" => cfg.resp3 = false,
            "-3" | "--resp3" => cfg.resp3 = true,
            "-x" => cfg.stdin_last_arg = true,
            "-c" => cfg.cluster_mode = true,
            "-e" => cfg.exit_on_error = true,
            "--raw" => cfg.output = OutputMode::Raw,
            "--no-raw" => cfg.output = OutputMode::Standard,
            "--csv" => cfg.output = OutputMode::Csv,
            "--quoted-input" => {}
            "--no-auth-warning" => cfg.no_auth_warning = true,
            "--verbose" => cfg.verbose = true,
            "--stat" => cfg.stat = true,
            "--latency" => cfg.latency = true,
            "--latency-history" => {
                cfg.latency = true;
                cfg.latency_history = true;
            }
            "--pipe" => cfg.pipe = true,
            "--bigkeys" => cfg.bigkeys = true,
            "--memkeys" => cfg.memkeys = true,
            "--scan" => cfg.scan = true,
            "--help" => action = Action::Help,
            "-v" | "--version" => action = Action::Version,
            a if UNSUPPORTED.contains(&a) => {
                if action == Action::Run {
                    action = Action::Unsupported(a.to_string());
                }
                // Swallow the option's values so they are not taken as a command.
                while i + 1 < argv.len() && !argv[i + 1].as_bytes().starts_with(b"-") {
                    i += 1;
                }
            }
            a if a.starts_with('-') => {
                return Err(format!(
                    "Unrecognized option or bad number of args for: '{a}'"
                ));
            }
            _ => break,
        }
        i += 1;
    }
    let command = argv[i..].iter().map(|a| a.as_bytes().to_vec()).collect();
    Ok(Parsed {
        config: cfg,
        action,
        command,
    })
}

/// Reads `redis://[[user]:[password]@][host][:port][/db]` into `cfg`.
pub fn parse_uri(uri: &[u8], cfg: &mut Config) -> Result<(), String> {
    const SCHEME: &[u8] = b"redis://";
    const TLS_SCHEME: &[u8] = b"rediss://";
    let lower: Vec<u8> = uri
        .iter()
        .take(TLS_SCHEME.len())
        .map(u8::to_ascii_lowercase)
        .collect();
    if lower.starts_with(TLS_SCHEME) {
        return Err("rediss:// is not supported by shoal-cli yet (no TLS)".to_string());
    }
    if !lower.starts_with(SCHEME) {
        return Err("Invalid URI scheme".to_string());
    }
    let mut rest = &uri[SCHEME.len()..];
    if let Some(at) = rest.iter().position(|&c| c == b'@') {
        let userinfo = &rest[..at];
        match userinfo.iter().position(|&c| c == b':') {
            Some(colon) => {
                cfg.user = Some(percent_decode(&userinfo[..colon]));
                cfg.password = Some(percent_decode(&userinfo[colon + 1..]));
            }
            None => cfg.password = Some(percent_decode(userinfo)),
        }
        rest = &rest[at + 1..];
    }
    if rest.is_empty() {
        return Ok(());
    }
    let slash = rest.iter().position(|&c| c == b'/');
    let hostport = &rest[..slash.unwrap_or(rest.len())];
    if !hostport.is_empty() {
        let (host, port) = match hostport.iter().position(|&c| c == b':') {
            Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
            None => (hostport, None),
        };
        cfg.host = String::from_utf8_lossy(host).into_owned();
        if let Some(p) = port {
            cfg.port = atoi(&String::from_utf8_lossy(p)) as u16;
        }
    }
    if let Some(s) = slash {
        let db = &rest[s + 1..];
        if !db.is_empty() {
            cfg.db = atoi(&String::from_utf8_lossy(db));
        }
    }
    Ok(())
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// C's `atoi`: optional sign and leading digits; anything else gives 0.
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Seconds as C's `atof` reads them, as a duration (negative and junk give zero).
pub fn seconds(s: &str) -> Duration {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let v: f64 = s[..end].parse().unwrap_or(0.0);
    if v.is_finite() && v > 0.0 {
        Duration::from_secs_f64(v)
    } else {
        Duration::ZERO
    }
}

fn yes_no(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// `\n`, `\r`, `\t`, `\\` in delimiters given on the command line.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter().copied().peekable();
    while let Some(c) = it.next() {
        if c == b'\\' {
            match it.peek() {
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(b't') => out.push(b'\t'),
                Some(b'\\') => out.push(b'\\'),
                _ => {
                    out.push(c);
                    continue;
                }
            }
            it.next();
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Parsed, String> {
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&argv, false)
    }

    #[test]
    fn options_then_command() {
        let r = p(&[
            "-h", "10.0.0.1", "-p", "7000", "-n", "2", "--raw", "set", "k", "-1",
        ])
        .unwrap();
        assert_eq!(r.config.host, "10.0.0.1");
        assert_eq!(r.config.port, 7000);
        assert_eq!(r.config.db, 2);
        assert_eq!(r.config.output, OutputMode::Raw);
        assert_eq!(
            r.command,
            vec![b"set".to_vec(), b"k".to_vec(), b"-1".to_vec()]
        );
    }

    #[test]
    fn unknown_or_incomplete_options() {
        assert_eq!(
            p(&["--foo"]).unwrap_err(),
            "Unrecognized option or bad number of args for: '--foo'"
        );
        assert_eq!(
            p(&["-p"]).unwrap_err(),
            "Unrecognized option or bad number of args for: '-p'"
        );
    }

    #[test]
    fn output_flags_override_the_default() {
        let argv: Vec<OsString> = vec!["--no-raw".into()];
        assert_eq!(
            parse(&argv, false).unwrap().config.output,
            OutputMode::Standard
        );
        assert_eq!(p(&[]).unwrap().config.output, OutputMode::Raw);
        assert_eq!(
            parse(&[], true).unwrap().config.output,
            OutputMode::Standard
        );
        assert_eq!(p(&["--csv"]).unwrap().config.output, OutputMode::Csv);
    }

    #[test]
    fn uris() {
        let mut c = Config::new(false);
        parse_uri(b"redis://alice:p%40ss@example.com:7001/3", &mut c).unwrap();
        assert_eq!(c.user.as_deref(), Some(&b"alice"[..]));
        assert_eq!(c.password.as_deref(), Some(&b"p@ss"[..]));
        assert_eq!((c.host.as_str(), c.port, c.db), ("example.com", 7001, 3));

        let mut c = Config::new(false);
        parse_uri(b"redis://secret@h", &mut c).unwrap();
        assert_eq!(
            (c.user.is_none(), c.password.as_deref()),
            (true, Some(&b"secret"[..]))
        );
        assert_eq!((c.host.as_str(), c.port), ("h", 6379));

        let mut c = Config::new(false);
        parse_uri(b"REDIS://:pw@127.0.0.1:7/", &mut c).unwrap();
        assert_eq!(c.user.as_deref(), Some(&b""[..]));
        assert_eq!((c.port, c.db), (7, 0));

        let mut c = Config::new(false);
        assert_eq!(
            parse_uri(b"http://x", &mut c).unwrap_err(),
            "Invalid URI scheme"
        );
    }

    #[test]
    fn numbers_like_c() {
        assert_eq!(atoi("12ab"), 12);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(seconds("0.5"), Duration::from_millis(500));
        assert_eq!(seconds("junk"), Duration::ZERO);
    }

    #[test]
    fn modes_and_values() {
        let r = p(&["--scan", "--pattern", "user:*", "--count", "50"]).unwrap();
        assert!(r.config.scan);
        assert_eq!(r.config.pattern.as_deref(), Some(&b"user:*"[..]));
        assert_eq!(r.config.count, Some(50));
        let r = p(&["--eval", "f.lua", "k", ",", "a"]).unwrap();
        assert_eq!(r.config.eval, Some(PathBuf::from("f.lua")));
        assert_eq!(r.command.len(), 3);
        assert_eq!(
            p(&["--cluster", "create", "x"]).unwrap().action,
            Action::Unsupported("--cluster".into())
        );
        assert_eq!(p(&["--version"]).unwrap().action, Action::Version);
    }
}
