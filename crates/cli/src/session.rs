//! The connection as the user sees it.
//!
//! A [`Session`] holds at most one live [`Client`]. Connecting runs the handshake
//! redis-cli runs (AUTH, SELECT of the chosen db, HELLO 3), printing but not
//! failing on its errors. Sending a command follows redis-cli's rules: repeats and
//! intervals, MONITOR and SUBSCRIBE streams, replies printed as they arrive, the
//! state behind the prompt (db, MULTI) tracked from successful replies, and a lost
//! connection reported and dropped so that the next command reconnects.
//!
//! Cluster redirections (`-c`) are followed here, since every command passes here.

use crate::config::Config;
use crate::format::{format_reply, Delims, OutputMode};
use crate::hints;
use crate::out;
use shoal_client::{Addr, Client, ClientError, Frame, FrameExt};
use std::thread::sleep;
use std::time::Duration;

/// Why a command did not succeed; the message is already printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

/// The live connection and the state the prompt shows.
pub struct Session {
    pub cfg: Config,
    client: Option<Client>,
    /// The db selected on the live connection.
    pub dbnum: i64,
    pub in_multi: bool,
    pre_multi_dbnum: i64,
    /// Interactive mode: lost connections are reported and retried, not fatal.
    pub interactive: bool,
    pub delims: Delims,
}

impl Session {
    pub fn new(cfg: Config) -> Session {
        let delims = Delims {
            element: cfg.mb_delim.clone(),
            reply: cfg.cmd_delim.clone(),
        };
        Session {
            cfg,
            client: None,
            dbnum: 0,
            in_multi: false,
            pre_multi_dbnum: 0,
            interactive: false,
            delims,
        }
    }

    /// Where the session connects.
    pub fn addr(&self) -> Addr {
        match &self.cfg.socket {
            Some(p) => Addr::unix(p.clone()),
            None => Addr::tcp(self.cfg.host.clone(), self.cfg.port),
        }
    }

    /// The address as connection errors name it (`host:port`, no brackets).
    fn addr_text(&self) -> String {
        match &self.cfg.socket {
            Some(p) => p.display().to_string(),
            None => format!("{}:{}", self.cfg.host, self.cfg.port),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.client.is_some()
    }

    /// The client, when connected.
    pub fn client(&mut self) -> Option<&mut Client> {
        self.client.as_mut()
    }

    /// Hands the live connection over (to a mode that drives it itself).
    pub fn take_client(&mut self) -> Option<Client> {
        self.client.take()
    }

    /// Drops the connection (the next command reconnects).
    pub fn disconnect(&mut self) {
        self.client = None;
    }

    /// Connects unless already connected (or always, with `force`), then runs the
    /// handshake. Prints why it failed; handshake errors are printed, not fatal.
    pub fn connect(&mut self, force: bool) -> bool {
        if self.client.is_some() && !force {
            return true;
        }
        self.client = None;
        self.in_multi = false;
        let mut c = match Client::connect(self.addr(), self.cfg.connect_timeout) {
            Ok(c) => c,
            Err(e) => {
                out::eprint_line(&format!(
                    "Could not connect to Redis at {}: {e}",
                    self.addr_text()
                ));
                return false;
            }
        };
        self.dbnum = 0;
        if let Err(e) = self.handshake(&mut c) {
            out::eprint_line(&format!("Error: {e}"));
            return false;
        }
        self.client = Some(c);
        true
    }

    fn handshake(&mut self, c: &mut Client) -> Result<(), ClientError> {
        if let Some(pass) = &self.cfg.password {
            let reply = match &self.cfg.user {
                Some(u) => c.call(&[&b"AUTH"[..], u, pass])?,
                None => c.call(&[&b"AUTH"[..], pass])?,
            };
            if let Some(e) = reply.error_text() {
                out::eprint_line(&format!("AUTH failed: {}", String::from_utf8_lossy(e)));
            }
        }
        if self.cfg.db != 0 {
            let reply = c.call(&["SELECT".to_string(), self.cfg.db.to_string()])?;
            match reply.error_text() {
                Some(e) => out::eprint_line(&format!(
                    "SELECT {} failed: {}",
                    self.cfg.db,
                    String::from_utf8_lossy(e)
                )),
                None => self.dbnum = self.cfg.db,
            }
        }
        if self.cfg.resp3 {
            let reply = c.call(&["HELLO", "3"])?;
            if let Some(e) = reply.error_text() {
                out::eprint_line(&format!("HELLO 3 failed: {}", String::from_utf8_lossy(e)));
            }
        }
        Ok(())
    }

    /// The interactive prompt: `host:port[db](TX)> `, or `not connected> `.
    pub fn prompt(&self) -> String {
        if self.client.is_none() {
            return "not connected> ".to_string();
        }
        let mut p = match &self.cfg.socket {
            Some(path) => format!("redis {}", path.display()),
            None => self.addr().to_string(),
        };
        if self.dbnum != 0 {
            p.push_str(&format!("[{}]", self.dbnum));
        }
        if self.in_multi {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    /// Runs a command `repeat` times (negative: forever) and prints the replies;
    /// answers `help` locally. Errors are printed before `Err` is returned.
    pub fn issue(&mut self, args: &[Vec<u8>], repeat: i64) -> Result<(), Failed> {
        let Some(first) = args.first() else {
            return Ok(());
        };
        if first.eq_ignore_ascii_case(b"help") || first == b"?" {
            self.print_help(&args[1..]);
            return Ok(());
        }
        let mut redirects = 0;
        let mut repeat = repeat;
        loop {
            if self.client.is_none() && !self.connect(true) {
                return Err(Failed);
            }
            match self.send_command(args, repeat) {
                Ok(Outcome::Done(r)) => return r,
                Ok(Outcome::Redirect(left)) if redirects < 16 => {
                    redirects += 1;
                    repeat = left;
                }
                Ok(Outcome::Redirect(_)) => return Err(Failed),
                Err(e) => {
                    out::eprint_line(&format!("Error: {e}"));
                    self.client = None;
                    return Err(Failed);
                }
            }
        }
    }

    fn send_command(&mut self, args: &[Vec<u8>], repeat: i64) -> Result<Outcome, ClientError> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let shutdown = name == "shutdown";
        let monitor = name == "monitor";
        let pubsub = matches!(name.as_str(), "subscribe" | "psubscribe" | "ssubscribe");
        let raw_strings = raw_string_command(args);
        let mut remaining = repeat;
        while remaining != 0 {
            let left = remaining;
            if remaining > 0 {
                remaining -= 1;
            }
            let client = self.client.as_mut().ok_or(ClientError::Closed)?;
            client.send(args)?;
            if monitor || pubsub {
                return self.stream_replies(pubsub, raw_strings).map(Outcome::Done);
            }
            let reply = match self.read_reply() {
                Ok(r) => r,
                Err(_) if shutdown => {
                    // The server went away as asked.
                    self.client = None;
                    return Ok(Outcome::Done(Ok(())));
                }
                Err(e) => return Err(e),
            };
            if self.cfg.cluster_mode {
                if let Some(redirect) = crate::modes::cluster::parse_redirect(&reply) {
                    self.follow_redirect(&redirect)?;
                    return Ok(Outcome::Redirect(left));
                }
            }
            let is_error = reply.error_text().is_some();
            if is_error && self.cfg.exit_on_error && !self.interactive {
                let text = reply.error_text().unwrap_or_default();
                out::eprint(&[text, b"\n"].concat());
                return Ok(Outcome::Done(Err(Failed)));
            }
            self.print_reply(&reply, raw_strings);
            self.track_state(&name, args, &reply);
            if !self.cfg.interval.is_zero() {
                sleep(self.cfg.interval);
            }
        }
        Ok(Outcome::Done(Ok(())))
    }

    /// MONITOR and SUBSCRIBE: print every reply until the connection ends or the
    /// first reply is an error.
    fn stream_replies(
        &mut self,
        pubsub: bool,
        raw_strings: bool,
    ) -> Result<Result<(), Failed>, ClientError> {
        if pubsub && self.cfg.output != OutputMode::Raw {
            out::print(b"Reading messages... (press Ctrl-C to quit)\n");
        }
        loop {
            let client = self.client.as_mut().ok_or(ClientError::Closed)?;
            let reply = client.read_frame()?;
            self.print_reply(&reply, raw_strings);
            if reply.error_text().is_some() {
                return Ok(Ok(()));
            }
        }
    }

    /// The next reply, printing (or skipping) RESP3 pushes that come before it.
    pub fn read_reply(&mut self) -> Result<Frame, ClientError> {
        loop {
            let client = self.client.as_mut().ok_or(ClientError::Closed)?;
            let f = client.read_frame()?;
            if let Frame::Push(_) = f.without_attribute() {
                if self.cfg.show_pushes {
                    self.print_reply(&f, false);
                }
                continue;
            }
            return Ok(f);
        }
    }

    /// Prints one reply in the configured form.
    pub fn print_reply(&self, f: &Frame, raw_strings: bool) {
        out::print(&format_reply(f, self.cfg.output, raw_strings, &self.delims));
    }

    /// Keeps the prompt's db and MULTI state, credentials and protocol in step
    /// with what the server accepted.
    fn track_state(&mut self, name: &str, args: &[Vec<u8>], reply: &Frame) {
        let ok = reply.error_text().is_none();
        let argc = args.len();
        match name {
            "select" if argc == 2 && ok => {
                let db = crate::args::atoi(&String::from_utf8_lossy(&args[1]));
                self.dbnum = db;
                self.cfg.db = db;
            }
            "auth" if (argc == 2 || argc == 3) && ok => {
                self.cfg.password = Some(args[argc - 1].clone());
                self.cfg.user = (argc == 3).then(|| args[1].clone());
            }
            "multi" if argc == 1 && ok => {
                self.in_multi = true;
                self.pre_multi_dbnum = self.dbnum;
            }
            "exec" if argc == 1 && self.in_multi => {
                self.in_multi = false;
                if !ok || reply.is_null() {
                    self.dbnum = self.pre_multi_dbnum;
                    self.cfg.db = self.pre_multi_dbnum;
                }
            }
            "discard" if argc == 1 && ok => {
                self.in_multi = false;
                self.dbnum = self.pre_multi_dbnum;
                self.cfg.db = self.pre_multi_dbnum;
            }
            "reset" if argc == 1 && ok => {
                self.in_multi = false;
                self.dbnum = 0;
                self.cfg.db = 0;
                self.cfg.resp3 = false;
            }
            "hello" if ok => match reply.without_attribute() {
                Frame::Map(_) => self.cfg.resp3 = true,
                Frame::Array(_) => self.cfg.resp3 = false,
                _ => {}
            },
            _ => {}
        }
    }

    fn follow_redirect(&mut self, r: &crate::modes::cluster::Redirect) -> Result<(), ClientError> {
        // Only the prompt says so; one-shot output stays the reply alone.
        if self.interactive {
            out::print(
                format!(
                    "-> Redirected to slot [{}] located at {}:{}\n",
                    r.slot, r.host, r.port
                )
                .as_bytes(),
            );
        }
        self.cfg.host = r.host.clone();
        self.cfg.port = r.port;
        self.cfg.socket = None;
        if !self.connect(true) {
            return Err(ClientError::Closed);
        }
        if r.ask {
            if let Some(c) = self.client.as_mut() {
                c.call(&["ASKING"])?;
            }
        }
        Ok(())
    }

    fn print_help(&mut self, topic: &[Vec<u8>]) {
        let mut lookup = |name: &str| self.command_summary(name);
        let text = hints::help_text(topic, &mut lookup);
        out::print(text.as_bytes());
    }

    /// The server's one-line summary of a command, from `COMMAND DOCS`.
    fn command_summary(&mut self, name: &str) -> Option<String> {
        // Inside MULTI the lookup would be queued into the user's transaction.
        if self.in_multi {
            return None;
        }
        let client = self.client.as_mut()?;
        let lower = name.to_ascii_lowercase();
        let (container, full) = match lower.split_once(' ') {
            Some((c, s)) => (c.to_string(), format!("{c}|{s}")),
            None => (lower.clone(), lower.clone()),
        };
        let reply = client.call(&["COMMAND", "DOCS", container.as_str()]).ok()?;
        let docs = field(&reply, container.as_bytes())?;
        let doc = if full == container {
            docs
        } else {
            field(field(docs, b"subcommands")?, full.as_bytes())?
        };
        field(doc, b"summary")?
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Runs one command, reconnecting (and saying so) while the server is away, as
    /// the monitoring modes do. Exits on errors that are not about the connection.
    pub fn reconnecting_call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        let mut tries = 0;
        loop {
            while self.client.is_none() {
                tries += 1;
                out::print(format!("\r\x1b[0KReconnecting... {tries}\r").as_bytes());
                if self.connect_quiet() {
                    break;
                }
                sleep(Duration::from_secs(1));
            }
            let r = self.client.as_mut().map(|c| c.call(args));
            match r {
                Some(Ok(f)) => {
                    if tries > 0 {
                        out::print(b"\r\x1b[0K");
                    }
                    return f;
                }
                Some(Err(e)) if e.is_connection_lost() => self.client = None,
                Some(Err(e)) => {
                    out::eprint_line(&format!("Error: {e}"));
                    std::process::exit(1);
                }
                None => {}
            }
        }
    }

    /// Connects without printing connection errors (reconnect loops print their own).
    fn connect_quiet(&mut self) -> bool {
        let mut c = match Client::connect(self.addr(), self.cfg.connect_timeout) {
            Ok(c) => c,
            Err(_) => return false,
        };
        self.dbnum = 0;
        if self.handshake(&mut c).is_err() {
            return false;
        }
        self.client = Some(c);
        true
    }

    /// One command for the scanning modes: I/O errors end the process.
    pub fn call_or_exit<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        let r = match self.client.as_mut() {
            Some(c) => c.call(args),
            None => Err(ClientError::Closed),
        };
        match r {
            Ok(f) => f,
            Err(_) => {
                out::eprint(b"\nI/O error\n");
                std::process::exit(1);
            }
        }
    }

    /// Several commands in one round trip, for the scanning modes.
    pub fn pipeline_or_exit(&mut self, cmds: &[Vec<Vec<u8>>]) -> Vec<Frame> {
        let r = match self.client.as_mut() {
            Some(c) => c.pipeline(cmds),
            None => Err(ClientError::Closed),
        };
        match r {
            Ok(f) => f,
            Err(_) => {
                out::eprint(b"\nI/O error\n");
                std::process::exit(1);
            }
        }
    }
}

enum Outcome {
    Done(Result<(), Failed>),
    /// A cluster redirection was followed: send the command again, this many
    /// more times.
    Redirect(i64),
}

/// A field of a RESP3 map or of a RESP2 flat key/value array.
fn field<'a>(f: &'a Frame, key: &[u8]) -> Option<&'a Frame> {
    match f.without_attribute() {
        Frame::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(key))
            .map(|(_, v)| v),
        Frame::Array(items) => items
            .chunks(2)
            .find(|kv| kv.len() == 2 && kv[0].as_bytes() == Some(key))
            .map(|kv| &kv[1]),
        _ => None,
    }
}

/// Commands whose replies are text for people, printed raw even on a terminal.
pub fn raw_string_command(args: &[Vec<u8>]) -> bool {
    let lower: Vec<String> = args
        .iter()
        .take(2)
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let cmd = lower[0].as_str();
    let sub = lower.get(1).map(String::as_str).unwrap_or("");
    let argc = args.len();
    match cmd {
        "info" | "lolwut" => true,
        "debug" => argc >= 2 && matches!(sub, "htstats" | "htstats-key" | "client-eviction"),
        "memory" => argc >= 2 && matches!(sub, "malloc-stats" | "doctor"),
        "cluster" => argc == 2 && matches!(sub, "nodes" | "info"),
        "client" => argc >= 2 && matches!(sub, "list" | "info"),
        "latency" => (argc == 3 && sub == "graph") || (argc == 2 && sub == "doctor"),
        "proxy" => argc >= 2 && sub == "info",
        _ => false,
    }
}
