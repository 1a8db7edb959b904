//! `shoal-check-rdb`: reads a whole RDB file and reports, in the format of
//! `redis-check-rdb`, what it holds or where and why it is broken.

use std::io::{BufReader, Write};
use std::path::Path;

use crate::{FileReader, Item, ReadOptions};

/// What a check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub keys: u64,
    pub expires: u64,
    pub already_expired: u64,
    pub ok: bool,
}

fn printable(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Checks `path`, writing the report to `out`. `now_ms` decides which TTLs have
/// already passed.
pub fn check(path: &Path, now_ms: i64, out: &mut dyn Write) -> std::io::Result<Summary> {
    let mut s = Summary::default();
    writeln!(out, "[offset 0] Checking RDB file {}", path.display())?;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            writeln!(out, "--- RDB ERROR DETECTED ---")?;
            writeln!(out, "[offset 0] Cannot open {}: {e}", path.display())?;
            return Ok(s);
        }
    };
    // Deep validation: a check is where a careful, slower read belongs.
    let opts = ReadOptions {
        deep_sanitize: true,
        ..ReadOptions::default()
    };
    let result = (|| -> Result<(), crate::Error> {
        let mut r = FileReader::new(BufReader::with_capacity(1 << 16, file), opts)?;
        while let Some(item) = r.next_item()? {
            let at = r.offset();
            match item {
                Item::Aux { key, value } => {
                    let _ = writeln!(
                        out,
                        "[offset {at}] AUX FIELD {} = '{}'",
                        printable(&key),
                        printable(&value)
                    );
                }
                Item::SelectDb(db) => {
                    let _ = writeln!(out, "[offset {at}] Selecting DB ID {db}");
                }
                Item::ResizeDb { .. } => {}
                Item::Function(_) => {
                    let _ = writeln!(out, "[offset {at}] Function library");
                }
                Item::Entry { expire_ms, .. } => {
                    s.keys += 1;
                    if let Some(t) = expire_ms {
                        s.expires += 1;
                        if t < now_ms {
                            s.already_expired += 1;
                        }
                    }
                }
            }
        }
        let _ = writeln!(out, "[offset {}] Checksum OK", r.offset());
        let _ = writeln!(out, "[offset {}] \\o/ RDB looks OK! \\o/", r.offset());
        Ok(())
    })();
    match result {
        Ok(()) => s.ok = true,
        Err(e) => {
            writeln!(out, "--- RDB ERROR DETECTED ---")?;
            writeln!(out, "[offset {}] {}", e.offset, e.kind)?;
        }
    }
    writeln!(out, "[info] {} keys read", s.keys)?;
    writeln!(out, "[info] {} expires", s.expires)?;
    writeln!(out, "[info] {} already expired", s.already_expired)?;
    Ok(s)
}
