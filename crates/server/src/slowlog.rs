//! The slow log: commands that took longer than `slowlog-log-slower-than` µs.
//!
//! Arguments are stored the way Redis shows them: at most 32 (the last slot says how
//! many more there were) and each at most 128 bytes (with a "... (N more bytes)" tail).

use bytes::Bytes;
use std::collections::VecDeque;

const MAX_ARGS: usize = 32;
const MAX_ARG_LEN: usize = 128;

pub struct SlowEntry {
    pub id: u64,
    pub time_secs: i64,
    pub duration_us: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub name: Bytes,
}

pub struct SlowLog {
    pub entries: VecDeque<SlowEntry>,
    pub next_id: u64,
    pub max_len: usize,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            entries: VecDeque::new(),
            next_id: 0,
            max_len: 128,
        }
    }
}

impl SlowLog {
    pub fn set_max_len(&mut self, n: usize) {
        self.max_len = n;
        self.entries.truncate(n);
    }

    pub fn push(
        &mut self,
        argv: &[Bytes],
        duration_us: u64,
        time_secs: i64,
        peer: String,
        name: Bytes,
    ) {
        let mut stored = Vec::with_capacity(argv.len().min(MAX_ARGS));
        for (i, a) in argv.iter().enumerate() {
            if i == MAX_ARGS - 1 && argv.len() > MAX_ARGS {
                stored.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    argv.len() - MAX_ARGS + 1
                )));
                break;
            }
            if a.len() > MAX_ARG_LEN {
                let mut v = a[..MAX_ARG_LEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes(),
                );
                stored.push(Bytes::from(v));
            } else {
                stored.push(a.clone());
            }
        }
        self.entries.push_front(SlowEntry {
            id: self.next_id,
            time_secs,
            duration_us,
            argv: stored,
            peer,
            name,
        });
        self.next_id += 1;
        self.entries.truncate(self.max_len);
    }
}
