//! `--pipe`: mass insertion. Stdin (already RESP) is copied to the server while a
//! reader thread counts the replies and prints error replies to stderr. After
//! stdin ends, an `ECHO` of 20 random bytes marks the end: its reply means every
//! earlier reply has arrived. Exit code 1 when any reply was an error or the
//! server stopped answering for `--pipe-timeout` seconds.

use crate::out;
use crate::session::Session;
use shoal_client::{ClientError, ClientReader, Frame, FrameExt};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the reader thread saw.
struct Tally {
    replies: u64,
    errors: u64,
    /// The marker's reply arrived.
    done: bool,
    /// The connection failed first.
    failure: Option<ClientError>,
}

pub fn run(session: &mut Session) -> i32 {
    let Some(client) = session.take_client() else {
        return 1;
    };
    let (reader, mut writer) = client.into_split();
    let marker = random_marker();
    let start = Instant::now();
    // Milliseconds since `start` of the last reply, for --pipe-timeout.
    let last_reply = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let reader_marker = marker.clone();
    let reader_last = last_reply.clone();
    std::thread::spawn(move || {
        let tally = count_replies(reader, &reader_marker, &reader_last, start);
        let _ = tx.send(tally);
    });

    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out::eprint_line(&format!("Error reading from stdin: {e}"));
                return 1;
            }
        };
        if let Err(e) = writer.send_raw(&buf[..n]) {
            out::eprint_line(&format!("Error writing to the server: {e}"));
            return 1;
        }
    }
    out::print(b"All data transferred. Waiting for the last reply...\n");
    if let Err(e) = writer.send(&[&b"ECHO"[..], &marker]) {
        out::eprint_line(&format!("Error writing to the server: {e}"));
        return 1;
    }
    // Replies may still be arriving: the timeout counts from the later of the
    // end of the input and the last reply.
    last_reply.fetch_max(start.elapsed().as_millis() as u64, Ordering::Relaxed);

    let timeout = session.cfg.pipe_timeout;
    let tally = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(t) => break t,
            Err(mpsc::RecvTimeoutError::Disconnected) => return 1,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let idle = (start.elapsed().as_millis() as u64)
                    .saturating_sub(last_reply.load(Ordering::Relaxed));
                if !timeout.is_zero() && idle > timeout.as_millis() as u64 {
                    out::eprint_line(&format!(
                        "No replies for {} seconds: exiting.",
                        timeout.as_secs()
                    ));
                    writer.shutdown();
                    let mut t = rx.recv().unwrap_or(Tally {
                        replies: 0,
                        errors: 0,
                        done: false,
                        failure: None,
                    });
                    t.errors += 1;
                    t.failure = None;
                    break t;
                }
            }
        }
    };
    if let Some(e) = &tally.failure {
        out::eprint_line(&format!("Error reading from the server: {e}"));
    }
    out::print(format!("errors: {}, replies: {}\n", tally.errors, tally.replies).as_bytes());
    if tally.errors > 0 || !tally.done {
        1
    } else {
        0
    }
}

fn count_replies(
    mut reader: ClientReader,
    marker: &[u8],
    last: &AtomicU64,
    start: Instant,
) -> Tally {
    let mut t = Tally {
        replies: 0,
        errors: 0,
        done: false,
        failure: None,
    };
    loop {
        let f = match reader.read_frame() {
            Ok(f) => f,
            Err(e) => {
                t.failure = Some(e);
                return t;
            }
        };
        last.fetch_max(start.elapsed().as_millis() as u64, Ordering::Relaxed);
        if let Some(e) = f.error_text() {
            out::eprint(&[e, b"\n"].concat());
            t.errors += 1;
        } else if matches!(&f, Frame::Bulk(b) if &b[..] == marker) {
            out::print(b"Last reply received from server.\n");
            t.done = true;
            return t;
        }
        t.replies += 1;
    }
}

/// 20 bytes that no real reply will equal by chance (time, pid and a counter
/// mixed by a 64-bit hash; no RNG dependency needed).
fn random_marker() -> Vec<u8> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (nanos as u64) ^ ((std::process::id() as u64) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(20);
    while out.len() < 20 {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(20);
    out
}
