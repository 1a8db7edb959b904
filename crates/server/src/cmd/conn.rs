//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, AUTH, HELLO, TIME, LASTSAVE.

use super::{SCtx, ServerHandler};
use crate::session::{After, ReplyMode};
use bytes::Bytes;
use shoal_commands::{args, errors};
use shoal_resp::Proto;
use std::sync::atomic::Ordering::Relaxed;

pub const HANDLERS: &[(&str, ServerHandler)] = &[
    ("ping", ping),
    ("echo", echo),
    ("select", select),
    ("quit", quit),
    ("reset", reset),
    ("auth", auth),
    ("hello", hello),
    ("time", time),
    ("lastsave", lastsave),
];

pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
const AUTH_NO_PASSWORD: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

fn ping(c: &mut SCtx, argv: &[Bytes]) {
    if c.s.subscriptions > 0 && c.s.proto == Proto::Resp2 {
        // Subscribed mode answers with a message-shaped array.
        c.out.array(2);
        c.out.bulk_str("pong");
        return c.out.bulk(argv.get(1).map_or(&b""[..], |a| &a[..]));
    }
    match argv.len() {
        1 => c.out.simple("PONG"),
        2 => c.out.bulk(&argv[1]),
        _ => c.out.error(&errors::wrong_arity("ping")),
    }
}

fn echo(c: &mut SCtx, argv: &[Bytes]) {
    c.out.bulk(&argv[1]);
}

fn select(c: &mut SCtx, argv: &[Bytes]) {
    let db = match args::int(&argv[1]) {
        Ok(v) => v,
        Err(e) => return c.out.error(e),
    };
    if db < i32::MIN as i64 || db > i32::MAX as i64 {
        return c.out.error(errors::INT_OUT_OF_RANGE);
    }
    if db < 0 || db as usize >= c.srv.ks.num_dbs() {
        return c.out.error(errors::DB_OUT_OF_RANGE);
    }
    c.s.db = db as usize;
    c.s.info.db.store(db as usize, Relaxed);
    c.out.ok();
}

fn quit(c: &mut SCtx, _argv: &[Bytes]) {
    c.out.ok();
    c.s.after = After::Close;
}

fn reset(c: &mut SCtx, _argv: &[Bytes]) {
    c.s.db = 0;
    c.s.info.db.store(0, Relaxed);
    c.s.proto = Proto::Resp2;
    c.out.proto = Proto::Resp2;
    c.s.info.resp.store(2, Relaxed);
    c.s.reply_mode = ReplyMode::On;
    *c.s.info.name.lock() = None;
    if c.s.monitor {
        c.s.monitor = false;
        c.srv.clients.remove_monitor(c.s.info.id);
    }
    c.s.authenticated = !c.srv.hot.has_password.load(Relaxed);
    c.srv.pubsub.remove_client(&c.s.info);
    c.s.refresh_subscriptions();
    c.srv.tracking.disable(&c.s.info);
    if let Some(_m) = c.s.multi.take() {
        c.s.info.multi.store(-1, Relaxed);
        c.s.info.set_flag(crate::client::cflag::MULTI, false);
    }
    crate::cmd::multi::forget_watches(c.srv, c.s);
    c.out.simple("RESET");
}

/// Checks a password for `user` against the configuration. Only the default user
/// exists until ACLs land.
fn check_password(c: &SCtx, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let required = c.srv.config.read().string("requirepass");
    required.is_empty() || required.as_bytes() == pass
}

fn auth(c: &mut SCtx, argv: &[Bytes]) {
    if argv.len() > 3 {
        return c.out.error(errors::SYNTAX);
    }
    let (user, pass): (&[u8], &[u8]) = if argv.len() == 2 {
        if !c.srv.hot.has_password.load(Relaxed) {
            return c.out.error(AUTH_NO_PASSWORD);
        }
        (b"default", &argv[1])
    } else {
        (&argv[1], &argv[2])
    };
    if check_password(c, user, pass) {
        c.s.authenticated = true;
        *c.s.info.user.lock() = String::from_utf8_lossy(user).into_owned();
        c.out.ok();
    } else {
        crate::warning!("(auth failure) from {}", c.s.info.addr);
        c.out.error(WRONGPASS);
    }
}

/// Client names may not contain spaces, newlines or other special characters.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

pub const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

fn hello(c: &mut SCtx, argv: &[Bytes]) {
    let mut ver = None;
    let mut i = 1;
    if argv.len() >= 2 {
        match shoal_ds::num::parse_i64(&argv[1]) {
            Some(v) if v == 2 || v == 3 => ver = Some(v),
            Some(_) => return c.out.error("NOPROTO unsupported protocol version"),
            None => {
                return c
                    .out
                    .error("ERR Protocol version is not an integer or out of range")
            }
        }
        i = 2;
    }
    let mut auth: Option<(&Bytes, &Bytes)> = None;
    let mut name: Option<&Bytes> = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if args::is(&argv[i], "AUTH") && more >= 2 {
            auth = Some((&argv[i + 1], &argv[i + 2]));
            i += 3;
        } else if args::is(&argv[i], "SETNAME") && more >= 1 {
            name = Some(&argv[i + 1]);
            i += 2;
        } else {
            return c.out.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                errors::truncated_lossy(&argv[i], 128)
            ));
        }
    }
    if let Some((u, p)) = auth {
        if check_password(c, u, p) {
            c.s.authenticated = true;
            *c.s.info.user.lock() = String::from_utf8_lossy(u).into_owned();
        } else {
            return c.out.error(WRONGPASS);
        }
    }
    if !c.s.authenticated {
        return c.out.error(HELLO_NOAUTH);
    }
    if let Some(n) = name {
        if !valid_client_name(n) {
            return c.out.error(BAD_CLIENT_NAME);
        }
        *c.s.info.name.lock() = if n.is_empty() { None } else { Some(n.clone()) };
    }
    if let Some(v) = ver {
        c.s.proto = if v == 3 { Proto::Resp3 } else { Proto::Resp2 };
        c.out.proto = c.s.proto;
        c.s.info.resp.store(v as usize, Relaxed);
    }
    let proto = if c.s.proto == Proto::Resp3 { 3 } else { 2 };
    c.out.map(7);
    c.out.bulk_str("server");
    c.out.bulk_str("redis");
    c.out.bulk_str("version");
    c.out.bulk_str(crate::REDIS_VERSION);
    c.out.bulk_str("proto");
    c.out.int(proto);
    c.out.bulk_str("id");
    c.out.int(c.s.info.id as i64);
    c.out.bulk_str("mode");
    c.out.bulk_str(if c.srv.sentinel_mode {
        "sentinel"
    } else {
        "standalone"
    });
    c.out.bulk_str("role");
    c.out.bulk_str(if c.srv.repl.is_replica.load(Relaxed) {
        "replica"
    } else {
        "master"
    });
    c.out.bulk_str("modules");
    c.out.array(0);
}

fn time(c: &mut SCtx, _argv: &[Bytes]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    c.out.array(2);
    c.out.bulk_int(now.as_secs() as i64);
    c.out.bulk_int(now.subsec_micros() as i64);
}

fn lastsave(c: &mut SCtx, _argv: &[Bytes]) {
    c.out.int(c.srv.lastsave.load(Relaxed));
}
