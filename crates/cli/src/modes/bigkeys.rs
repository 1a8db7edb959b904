//! `--bigkeys` and `--memkeys`: SCAN the keyspace, ask each key's type and size
//! (pipelined per SCAN batch), report each new biggest key per type as it is
//! found, then a summary.
//!
//! Types are rows of [`TYPES`] (name, size command, unit); a type the server
//! reports that is not in the table is counted by `MEMORY USAGE` (`--memkeys`)
//! or listed with no size. `--memkeys` sizes every key with `MEMORY USAGE`.

use crate::format::repr;
use crate::modes::scan::{scan_command, scan_once};
use crate::out;
use crate::session::Session;
use shoal_client::{Frame, FrameExt};
use std::thread::sleep;

/// A key type as the summary reports it.
#[derive(Debug, Clone, Copy)]
pub struct TypeSpec {
    /// As `TYPE` names it.
    pub name: &'static str,
    /// The command giving the size in `unit`s.
    pub size_cmd: &'static str,
    pub unit: &'static str,
}

/// Known types in the order of the summary.
pub const TYPES: &[TypeSpec] = &[
    TypeSpec {
        name: "list",
        size_cmd: "LLEN",
        unit: "items",
    },
    TypeSpec {
        name: "hash",
        size_cmd: "HLEN",
        unit: "fields",
    },
    TypeSpec {
        name: "string",
        size_cmd: "STRLEN",
        unit: "bytes",
    },
    TypeSpec {
        name: "stream",
        size_cmd: "XLEN",
        unit: "entries",
    },
    TypeSpec {
        name: "set",
        size_cmd: "SCARD",
        unit: "members",
    },
    TypeSpec {
        name: "zset",
        size_cmd: "ZCARD",
        unit: "members",
    },
];

/// Running totals for one type.
#[derive(Debug, Clone, Default)]
pub struct TypeStats {
    pub name: String,
    pub size_cmd: Option<&'static str>,
    pub unit: &'static str,
    pub count: u64,
    pub total: u64,
    pub biggest: u64,
    /// Quoted as redis-cli quotes keys.
    pub biggest_key: Option<String>,
}

/// All the state of one run; separate from I/O so that it can be tested.
#[derive(Debug, Clone)]
pub struct Survey {
    pub memory: bool,
    pub types: Vec<TypeStats>,
    pub sampled: u64,
    pub total_key_len: u64,
}

impl Survey {
    pub fn new(memory: bool) -> Survey {
        let types = TYPES
            .iter()
            .map(|t| TypeStats {
                name: t.name.to_string(),
                size_cmd: Some(t.size_cmd),
                unit: t.unit,
                ..TypeStats::default()
            })
            .collect();
        Survey {
            memory,
            types,
            sampled: 0,
            total_key_len: 0,
        }
    }

    fn unit<'a>(&self, t: &'a TypeStats) -> &'a str {
        if self.memory {
            "bytes"
        } else {
            t.unit
        }
    }

    /// The index of `name` in `types`, adding unknown types at the end.
    pub fn type_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.types.iter().position(|t| t.name == name) {
            return i;
        }
        self.types.push(TypeStats {
            name: name.to_string(),
            size_cmd: None,
            unit: "bytes",
            ..TypeStats::default()
        });
        self.types.len() - 1
    }

    /// Records one key; returns the progress line when it is a new biggest.
    pub fn record(&mut self, key: &[u8], type_idx: usize, size: u64, pct: f64) -> Option<String> {
        self.sampled += 1;
        self.total_key_len += key.len() as u64;
        let memory = self.memory;
        let t = &mut self.types[type_idx];
        t.count += 1;
        t.total += size;
        let mut line = None;
        if t.biggest < size {
            let quoted = String::from_utf8_lossy(&repr(key)).into_owned();
            let unit = if memory { "bytes" } else { t.unit };
            line = Some(format!(
                "[{pct:05.2}%] Biggest {:<6} found so far '{quoted}' with {size} {unit}\n",
                t.name
            ));
            t.biggest_key = Some(quoted);
            t.biggest = size;
        }
        if self.sampled.is_multiple_of(1_000_000) {
            let s = format!("[{pct:05.2}%] Sampled {} keys so far\n", self.sampled);
            line = Some(line.unwrap_or_default() + &s);
        }
        line
    }

    /// The closing report.
    pub fn summary(&self) -> String {
        let mut s = String::from("\n-------- summary -------\n\n");
        s.push_str(&format!("Sampled {} keys in the keyspace!\n", self.sampled));
        let avg_len = ratio(self.total_key_len as f64, self.sampled as f64);
        s.push_str(&format!(
            "Total key length in bytes is {} (avg len {avg_len:.2})\n\n",
            self.total_key_len
        ));
        for t in &self.types {
            if let Some(k) = &t.biggest_key {
                s.push_str(&format!(
                    "Biggest {:>6} found '{k}' has {} {}\n",
                    t.name,
                    t.biggest,
                    self.unit(t)
                ));
            }
        }
        s.push('\n');
        for t in &self.types {
            let pct = 100.0 * ratio(t.count as f64, self.sampled as f64);
            let avg = ratio(t.total as f64, t.count as f64);
            s.push_str(&format!(
                "{} {}s with {} {} ({pct:05.2}% of keys, avg size {avg:.2})\n",
                t.count,
                t.name,
                t.total,
                self.unit(t)
            ));
        }
        s
    }
}

const INTRO: &str = "\n# Scanning the entire keyspace to find biggest keys as well as\n\
# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n\
# per 100 SCAN commands (not usually needed).\n\n";

pub fn run(session: &mut Session, memory: bool) -> i32 {
    let dbsize = session.call_or_exit(&["DBSIZE"]);
    let Some(total_keys) = dbsize
        .as_int()
        .filter(|_| matches!(dbsize, Frame::Integer(_)))
    else {
        out::eprint_line("Couldn't determine DBSIZE!");
        return 1;
    };
    out::print(INTRO.as_bytes());
    let mut survey = Survey::new(memory);
    let samples = session.cfg.memkeys_samples;
    let interval = session.cfg.interval;
    let mut cursor = b"0".to_vec();
    let mut loops: u64 = 0;
    loop {
        let pct = if total_keys > 0 {
            100.0 * survey.sampled as f64 / total_keys as f64
        } else {
            0.0
        };
        let (next, keys) = scan_once(session, &scan_command(&cursor, None, None));
        let keys: Vec<Vec<u8>> = keys
            .iter()
            .filter_map(|k| k.as_bytes().map(<[u8]>::to_vec))
            .collect();
        let types = key_types(session, &mut survey, &keys);
        let sizes = key_sizes(session, &survey, &keys, &types, memory, samples);
        for ((key, ty), size) in keys.iter().zip(&types).zip(&sizes) {
            // A key deleted between SCAN and TYPE has no type.
            let Some(ty) = ty else { continue };
            if let Some(line) = survey.record(key, *ty, *size, pct) {
                out::print(line.as_bytes());
            }
        }
        loops += 1;
        if !interval.is_zero() && loops.is_multiple_of(100) {
            sleep(interval);
        }
        cursor = next;
        if cursor == b"0" {
            break;
        }
    }
    out::print(survey.summary().as_bytes());
    0
}

fn key_types(session: &mut Session, survey: &mut Survey, keys: &[Vec<u8>]) -> Vec<Option<usize>> {
    let cmds: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| vec![b"TYPE".to_vec(), k.clone()])
        .collect();
    let replies = session.pipeline_or_exit(&cmds);
    replies
        .iter()
        .map(|r| {
            if let Some(e) = r.error_text() {
                out::eprint_line(&format!(
                    "TYPE returned an error: {}",
                    String::from_utf8_lossy(e)
                ));
                std::process::exit(1);
            }
            let name = String::from_utf8_lossy(r.as_bytes().unwrap_or(b"none")).into_owned();
            (name != "none").then(|| survey.type_index(&name))
        })
        .collect()
}

fn key_sizes(
    session: &mut Session,
    survey: &Survey,
    keys: &[Vec<u8>],
    types: &[Option<usize>],
    memory: bool,
    samples: Option<u64>,
) -> Vec<u64> {
    let mut cmds = Vec::new();
    let mut slots = Vec::new();
    for (k, t) in keys.iter().zip(types) {
        let Some(t) = t else {
            slots.push(None);
            continue;
        };
        let cmd = match (memory, survey.types[*t].size_cmd) {
            (false, Some(c)) => vec![c.as_bytes().to_vec(), k.clone()],
            (false, None) => {
                slots.push(None);
                continue;
            }
            (true, _) => {
                let mut c = vec![b"MEMORY".to_vec(), b"USAGE".to_vec(), k.clone()];
                if let Some(n) = samples {
                    c.push(b"SAMPLES".to_vec());
                    c.push(n.to_string().into_bytes());
                }
                c
            }
        };
        slots.push(Some(cmds.len()));
        cmds.push(cmd);
    }
    let replies = if cmds.is_empty() {
        Vec::new()
    } else {
        session.pipeline_or_exit(&cmds)
    };
    keys.iter()
        .zip(slots)
        .map(|(k, slot)| {
            let Some(i) = slot else { return 0 };
            let r = &replies[i];
            if let Some(e) = r.error_text() {
                out::eprint_line(&format!(
                    "Error getting size for key '{}': {}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(e)
                ));
                std::process::exit(1);
            }
            r.as_int().unwrap_or(0).max(0) as u64
        })
        .collect()
}

/// `a / b`, or 0 when `b` is 0 (nothing sampled).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_and_summary_match_the_reference() {
        let mut s = Survey::new(false);
        let string = s.type_index("string");
        assert_eq!(
            s.record(b"a", string, 1, 0.0).unwrap(),
            "[00.00%] Biggest string found so far '\"a\"' with 1 bytes\n"
        );
        assert!(s.record(b"b", string, 1, 0.0).is_none());
        assert!(s.record(b"c", string, 3, 0.0).is_some());
        let expected = "\n-------- summary -------\n\n\
Sampled 3 keys in the keyspace!\n\
Total key length in bytes is 3 (avg len 1.00)\n\n\
Biggest string found '\"c\"' has 3 bytes\n\n\
0 lists with 0 items (00.00% of keys, avg size 0.00)\n\
0 hashs with 0 fields (00.00% of keys, avg size 0.00)\n\
3 strings with 5 bytes (100.00% of keys, avg size 1.67)\n\
0 streams with 0 entries (00.00% of keys, avg size 0.00)\n\
0 sets with 0 members (00.00% of keys, avg size 0.00)\n\
0 zsets with 0 members (00.00% of keys, avg size 0.00)\n";
        assert_eq!(s.summary(), expected);
    }
}
