//! CONFIG SET: atomic multi-directive changes (Redis 7 semantics).
//!
//! Three passes, as in Redis: first every name is checked in order (unknown,
//! immutable, protected, given twice — case-insensitively, though a name and
//! its alias are not seen as the same), then every value is parsed in order,
//! and only if all succeed are the values stored. The first failure is
//! reported and nothing changes. Multi-argument directives take their words
//! from one string split on single spaces (so doubled spaces make empty
//! words, which Redis rejects where a number is expected).
//!
//! Values Redis adjusts when applying are adjusted here too: `hz` is clamped
//! to 1..=500, `repl-backlog-size` raised to 16 KiB, and a non-zero
//! `watchdog-period` raised to two cron ticks (2000 / hz ms). Applying a change to
//! the running server (rebinding, chdir, resizing the backlog, ...) is the
//! caller's job; it gets the canonical names of the directives whose value
//! changed, and can keep a clone of the [`Config`] to roll back if applying
//! fails (Redis then restores the previous values).

use std::path::PathBuf;

use crate::error::ConfigSetError;
use crate::table::{Kind, DIRECTIVES, IMMUTABLE, PROTECTED};
use crate::value::{self, ParseCtx, Value};
use crate::{lookup, Config};

/// Context of a CONFIG SET that this crate cannot know by itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetOptions {
    /// The client is connected locally (loopback or unix socket); lets
    /// `enable-protected-configs local` allow protected directives.
    pub local_client: bool,
}

/// Smallest replication backlog Redis allocates; CONFIG SET shows the raise.
const REPL_BACKLOG_MIN_SIZE: i128 = 16 * 1024;

impl Config {
    /// CONFIG SET with `(name, value)` pairs from a client that is not known
    /// to be local. Returns the canonical names whose value changed.
    pub fn set(&mut self, pairs: &[(String, String)]) -> Result<Vec<&'static str>, ConfigSetError> {
        self.set_with(pairs, SetOptions::default())
    }

    /// CONFIG SET with explicit options.
    pub fn set_with(
        &mut self,
        pairs: &[(String, String)],
        opts: SetOptions,
    ) -> Result<Vec<&'static str>, ConfigSetError> {
        let protected_ok = match self.int("enable-protected-configs") {
            1 => true,
            2 => opts.local_client,
            _ => false,
        };
        let mut indices = Vec::with_capacity(pairs.len());
        for (k, (name, _)) in pairs.iter().enumerate() {
            let idx = lookup(name).ok_or_else(|| ConfigSetError::Unknown { name: name.clone() })?;
            let d = &DIRECTIVES[idx];
            if d.has(IMMUTABLE) {
                return Err(ConfigSetError::failed(name, "can't set immutable config"));
            }
            if d.has(PROTECTED) && !protected_ok {
                return Err(ConfigSetError::failed(name, "can't set protected config"));
            }
            if pairs[..k].iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(ConfigSetError::failed(name, "duplicate parameter"));
            }
            indices.push(idx);
        }

        let cwd = PathBuf::from(self.string("dir"));
        let mut staged: Vec<(usize, Value)> = Vec::with_capacity(pairs.len());
        for ((name, val), &idx) in pairs.iter().zip(&indices) {
            let d = &DIRECTIVES[idx];
            let args: Vec<String> = if d.kind.is_multi_arg() {
                if val.is_empty() {
                    Vec::new()
                } else {
                    val.split(' ').map(str::to_string).collect()
                }
            } else {
                vec![val.clone()]
            };
            let mut ctx = ParseCtx {
                loading: false,
                save_seen: false,
                cwd: &cwd,
            };
            // A directive given through both its names merges with the staged value.
            let current = staged
                .iter()
                .rev()
                .find(|(i, _)| *i == idx)
                .map(|(_, v)| v)
                .unwrap_or(&self.values[idx]);
            let mut v = value::parse_value(d, &args, current, &mut ctx)
                .map_err(|r| ConfigSetError::failed(name, r))?;
            if let Value::Num(n) = &mut v {
                match d.name {
                    "repl-backlog-size" => *n = (*n).max(REPL_BACKLOG_MIN_SIZE),
                    // The watchdog cannot fire more often than every two cron ticks.
                    "watchdog-period" if *n > 0 => {
                        *n = (*n).max(i128::from(2 * (1000 / self.int("hz").max(1))))
                    }
                    _ => {}
                }
            }
            debug_assert!(d.kind != Kind::Dir || matches!(v, Value::Str(_)));
            staged.push((idx, v));
        }

        let mut changed: Vec<&'static str> = Vec::new();
        for (idx, v) in staged {
            if self.values[idx] != v {
                self.values[idx] = v;
                let name = DIRECTIVES[idx].name;
                if !changed.contains(&name) {
                    changed.push(name);
                }
            }
        }
        Ok(changed)
    }
}
