//! `--scan [--pattern P] [--count N]`: every key, one per line (quoted on a
//! terminal), iterating `SCAN` until the cursor returns to 0. `-i` pauses between
//! calls.

use crate::format::{repr, OutputMode};
use crate::out;
use crate::session::Session;
use shoal_client::{Frame, FrameExt};
use std::thread::sleep;

/// The SCAN command for `cursor` with the configured MATCH and COUNT.
pub fn scan_command(cursor: &[u8], pattern: Option<&[u8]>, count: Option<u64>) -> Vec<Vec<u8>> {
    let mut cmd = vec![b"SCAN".to_vec(), cursor.to_vec()];
    if let Some(p) = pattern {
        cmd.push(b"MATCH".to_vec());
        cmd.push(p.to_vec());
    }
    if let Some(c) = count {
        cmd.push(b"COUNT".to_vec());
        cmd.push(c.to_string().into_bytes());
    }
    cmd
}

/// Sends one SCAN; exits with redis-cli's messages when the reply is not
/// `[cursor, [keys...]]`. Returns the next cursor and the keys.
pub fn scan_once(session: &mut Session, cmd: &[Vec<u8>]) -> (Vec<u8>, Vec<Frame>) {
    let reply = session.call_or_exit(cmd);
    if let Some(e) = reply.error_text() {
        out::eprint_line(&format!("SCAN error: {}", String::from_utf8_lossy(e)));
        std::process::exit(1);
    }
    let Some(items) = reply.as_items() else {
        out::eprint_line("Non ARRAY response from SCAN!");
        std::process::exit(1);
    };
    if items.len() != 2 {
        out::eprint_line("Invalid element count from SCAN!");
        std::process::exit(1);
    }
    let cursor = items[0].as_bytes().unwrap_or(b"0").to_vec();
    let keys = items[1]
        .as_items()
        .map(<[Frame]>::to_vec)
        .unwrap_or_default();
    (cursor, keys)
}

pub fn run(session: &mut Session) -> i32 {
    let pattern = session.cfg.pattern.clone();
    let count = session.cfg.count;
    let quoted = session.cfg.output == OutputMode::Standard;
    let interval = session.cfg.interval;
    let mut cursor = b"0".to_vec();
    let mut stdout = out::Buffered::new();
    loop {
        let cmd = scan_command(&cursor, pattern.as_deref(), count);
        let (next, keys) = scan_once(session, &cmd);
        for k in &keys {
            let k = k.as_bytes().unwrap_or_default();
            if quoted {
                stdout.write(&repr(k));
            } else {
                stdout.write(k);
            }
            stdout.write(b"\n");
        }
        cursor = next;
        if cursor == b"0" {
            break;
        }
        if !interval.is_zero() {
            stdout.flush();
            sleep(interval);
        }
    }
    stdout.flush();
    0
}
