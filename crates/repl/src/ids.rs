//! Replication IDs and the master's PSYNC decision.
//!
//! Owns: the 40-character replication ID, the pair (replid, replid2) with
//! `second_repl_offset`, the shift a promotion performs, and
//! [`psync_decide`], Redis 7.0.15's choice between `+FULLRESYNC` and
//! `+CONTINUE` for a `PSYNC <replid> <offset>` request, with the reply line and
//! the master's log lines.
//!
//! Invariants:
//! - A [`ReplId`] is exactly 40 lowercase hex characters when generated; IDs
//!   received from the network are compared case-insensitively, as Redis does
//!   (`strcasecmp`), and only an exact-length match counts.
//! - With no secondary ID, `replid2` is forty `'0'` and `second_repl_offset`
//!   is -1 (what INFO shows on a fresh master).
//! - `second_repl_offset` is the offset of the first byte written under the
//!   new ID: a replica asking with replid2 may continue only from an offset
//!   `<= second_repl_offset` (beyond it the two histories differ).

use rand::RngCore;

use crate::backlog::Backlog;

/// Length of a replication ID (Redis's CONFIG_RUN_ID_SIZE).
pub const REPLID_LEN: usize = 40;

/// A replication ID: 40 hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplId([u8; REPLID_LEN]);

impl std::fmt::Debug for ReplId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplId({})", self.as_str())
    }
}

impl std::fmt::Display for ReplId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ReplId {
    /// Forty `'0'`: "no ID", the value of replid2 without a secondary ID.
    pub const ZERO: ReplId = ReplId([b'0'; REPLID_LEN]);

    /// A fresh random ID (lowercase hex) drawn from `rng`.
    pub fn random(rng: &mut dyn RngCore) -> ReplId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut raw = [0u8; REPLID_LEN / 2];
        rng.fill_bytes(&mut raw);
        let mut id = [0u8; REPLID_LEN];
        for (i, b) in raw.iter().enumerate() {
            id[2 * i] = HEX[(b >> 4) as usize];
            id[2 * i + 1] = HEX[(b & 15) as usize];
        }
        ReplId(id)
    }

    /// Parses exactly 40 hex digits (either case, kept as given); `None`
    /// otherwise. Used for IDs read from RDB aux fields and master replies.
    pub fn parse(bytes: &[u8]) -> Option<ReplId> {
        if bytes.len() != REPLID_LEN || !bytes.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut id = [0u8; REPLID_LEN];
        id.copy_from_slice(bytes);
        Some(ReplId(id))
    }

    pub fn as_bytes(&self) -> &[u8; REPLID_LEN] {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        // Invariant: built only from hex digits (random or parse), so ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Redis's `strcasecmp(requested, id) == 0`.
    pub fn matches(&self, requested: &[u8]) -> bool {
        requested.eq_ignore_ascii_case(&self.0)
    }
}

/// A master's replication identity: the current ID and the previous one with
/// the offset up to which it is still valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplIds {
    pub replid: ReplId,
    pub replid2: ReplId,
    pub second_repl_offset: i64,
}

impl ReplIds {
    /// A fresh identity: random replid, no secondary ID.
    pub fn new(rng: &mut dyn RngCore) -> ReplIds {
        ReplIds {
            replid: ReplId::random(rng),
            replid2: ReplId::ZERO,
            second_repl_offset: -1,
        }
    }

    /// A new random replid (history restarts: e.g. the first replica attaches
    /// to a master with no backlog, or a replica finishes a full sync).
    pub fn change_replid(&mut self, rng: &mut dyn RngCore) {
        self.replid = ReplId::random(rng);
    }

    /// Forgets the secondary ID.
    pub fn clear_replid2(&mut self) {
        self.replid2 = ReplId::ZERO;
        self.second_repl_offset = -1;
    }

    /// Promotion (REPLICAOF NO ONE, failover): the current ID becomes the
    /// secondary one, valid up to `master_repl_offset + 1`, and a new random
    /// ID starts. Returns Redis's log line.
    pub fn shift(&mut self, master_repl_offset: i64, rng: &mut dyn RngCore) -> String {
        self.shift_to(ReplId::random(rng), master_repl_offset)
    }

    /// The shift with a given new ID: what a replica does when its master
    /// answers `+CONTINUE <other id>` (it adopts the master's new ID and keeps
    /// the old one as secondary, so its own replicas can still continue).
    pub fn shift_to(&mut self, new: ReplId, master_repl_offset: i64) -> String {
        self.replid2 = self.replid;
        self.second_repl_offset = master_repl_offset + 1;
        self.replid = new;
        format!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2, self.second_repl_offset, self.replid
        )
    }
}

/// Why a PSYNC request gets a full resynchronization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FullResyncReason {
    /// The replica asked for one (`PSYNC ? -1`, any replid starting with '?').
    Requested,
    /// The requested ID is neither replid nor replid2.
    IdMismatch { requested: Vec<u8> },
    /// The requested ID is replid2 but the offset is past `second_repl_offset`.
    SecondIdOffsetTooHigh {
        requested: i64,
        second_repl_offset: i64,
    },
    /// No backlog, or the offset is outside what it holds.
    Backlog {
        requested: i64,
        beyond_master_offset: bool,
    },
}

/// The master's answer to `PSYNC <replid> <offset>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsyncDecision {
    /// Start a full resync. `replid`/`offset` are the current ones; the server
    /// sends `+FULLRESYNC` with the values at the moment its snapshot starts
    /// (use [`fullresync_reply`] then).
    FullResync {
        reason: FullResyncReason,
        replid: ReplId,
        offset: i64,
    },
    /// Continue from `offset`: send the reply, then the backlog bytes from
    /// `offset` (`backlog_bytes` of them), then the live stream.
    Continue {
        offset: i64,
        backlog_bytes: i64,
        replid: ReplId,
        /// The replica sent `capa psync2`: the reply carries our replid.
        psync2: bool,
        /// The replica asked with our replid2 (it followed our old master).
        via_replid2: bool,
    },
}

/// `+FULLRESYNC <replid> <offset>\r\n`.
pub fn fullresync_reply(replid: &ReplId, offset: i64) -> Vec<u8> {
    format!("+FULLRESYNC {replid} {offset}\r\n").into_bytes()
}

impl PsyncDecision {
    /// The status line the master writes first.
    pub fn reply_line(&self) -> Vec<u8> {
        match self {
            PsyncDecision::FullResync { replid, offset, .. } => fullresync_reply(replid, *offset),
            PsyncDecision::Continue {
                replid,
                psync2: true,
                ..
            } => format!("+CONTINUE {replid}\r\n").into_bytes(),
            PsyncDecision::Continue { psync2: false, .. } => b"+CONTINUE\r\n".to_vec(),
        }
    }

    /// The master's log lines for this decision, `replica` naming the replica
    /// as Redis does (`ip:port`).
    pub fn log_lines(&self, ids: &ReplIds, replica: &str) -> Vec<String> {
        match self {
            PsyncDecision::Continue {
                offset,
                backlog_bytes,
                ..
            } => vec![format!(
                "Partial resynchronization request from {replica} accepted. Sending {backlog_bytes} bytes of backlog starting from offset {offset}."
            )],
            PsyncDecision::FullResync { reason, .. } => match reason {
                FullResyncReason::Requested => {
                    vec![format!("Full resync requested by replica {replica}")]
                }
                FullResyncReason::IdMismatch { requested } => vec![format!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                    String::from_utf8_lossy(requested),
                    ids.replid,
                    ids.replid2
                )],
                FullResyncReason::SecondIdOffsetTooHigh {
                    requested,
                    second_repl_offset,
                } => vec![format!(
                    "Partial resynchronization not accepted: Requested offset for second ID was {requested}, but I can reply up to {second_repl_offset}"
                )],
                FullResyncReason::Backlog {
                    requested,
                    beyond_master_offset,
                } => {
                    let mut v = vec![format!(
                        "Unable to partial resync with replica {replica} for lack of backlog (Replica request was: {requested})."
                    )];
                    if *beyond_master_offset {
                        v.push(format!(
                            "Warning: replica {replica} tried to PSYNC with an offset that is greater than the master replication offset."
                        ));
                    }
                    v
                }
            },
        }
    }
}

/// Parses the offset argument of PSYNC like Redis's integer parsing; the
/// error is the reply Redis sends (and then no sync happens).
pub fn parse_psync_offset(arg: &[u8]) -> Result<i64, &'static str> {
    std::str::from_utf8(arg)
        .ok()
        .filter(|s| {
            // Redis's strict integer syntax: no '+', no leading zeros.
            let digits = s.strip_prefix('-').unwrap_or(s);
            *s == "0" || (!digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()))
        })
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or("-ERR value is not an integer or out of range\r\n")
}

/// Redis 7.0.15's `masterTryPartialResynchronization` decision.
///
/// The request continues iff (a) `requested_replid` equals our replid, or
/// equals replid2 with `requested_offset <= second_repl_offset`, and (b) a
/// backlog exists and `first_byte_offset <= requested_offset <=
/// first_byte_offset + histlen`. `master_repl_offset` is used when there is
/// no backlog (it must equal the backlog's when there is one).
pub fn psync_decide(
    ids: &ReplIds,
    backlog: Option<&Backlog>,
    master_repl_offset: i64,
    requested_replid: &[u8],
    requested_offset: i64,
    psync2: bool,
) -> PsyncDecision {
    let master_repl_offset = backlog.map_or(master_repl_offset, Backlog::master_repl_offset);
    let full = |reason| PsyncDecision::FullResync {
        reason,
        replid: ids.replid,
        offset: master_repl_offset,
    };
    let is_current = ids.replid.matches(requested_replid);
    let is_second = ids.replid2.matches(requested_replid);
    if !is_current && (!is_second || requested_offset > ids.second_repl_offset) {
        let reason = if requested_replid.first() == Some(&b'?') {
            FullResyncReason::Requested
        } else if !is_second {
            FullResyncReason::IdMismatch {
                requested: requested_replid.to_vec(),
            }
        } else {
            FullResyncReason::SecondIdOffsetTooHigh {
                requested: requested_offset,
                second_repl_offset: ids.second_repl_offset,
            }
        };
        return full(reason);
    }
    match backlog {
        Some(b) if b.contains(requested_offset) => PsyncDecision::Continue {
            offset: requested_offset,
            backlog_bytes: b.master_repl_offset() - requested_offset + 1,
            replid: ids.replid,
            psync2,
            via_replid2: !is_current,
        },
        _ => full(FullResyncReason::Backlog {
            requested: requested_offset,
            beyond_master_offset: requested_offset > master_repl_offset,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn random_ids_are_40_lowercase_hex_and_differ() {
        let mut r = rng();
        let a = ReplId::random(&mut r);
        let b = ReplId::random(&mut r);
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 40);
        assert!(a
            .as_str()
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(ReplId::parse(a.as_bytes()), Some(a));
        assert!(a.matches(a.as_str().to_uppercase().as_bytes()));
        assert!(!a.matches(&a.as_bytes()[..39]));
        assert_eq!(ReplId::parse(b"xyz"), None);
        assert_eq!(ReplId::parse(&[b'g'; 40]), None);
        assert_eq!(
            ReplId::ZERO.as_str(),
            "0000000000000000000000000000000000000000"
        );
    }

    #[test]
    fn new_and_shift() {
        let mut r = rng();
        let mut ids = ReplIds::new(&mut r);
        assert_eq!(ids.replid2, ReplId::ZERO);
        assert_eq!(ids.second_repl_offset, -1);
        let old = ids.replid;
        let line = ids.shift(50, &mut r);
        assert_eq!(ids.replid2, old);
        assert_eq!(ids.second_repl_offset, 51);
        assert_ne!(ids.replid, old);
        assert_eq!(
            line,
            format!(
                "Setting secondary replication ID to {old}, valid up to offset: 51. New replication ID is {}",
                ids.replid
            )
        );
        ids.clear_replid2();
        assert_eq!((ids.replid2, ids.second_repl_offset), (ReplId::ZERO, -1));
    }

    /// A master at offset 100 with a 30-byte backlog holding 71..=100.
    fn master() -> (ReplIds, Backlog) {
        let mut r = rng();
        let ids = ReplIds::new(&mut r);
        let mut b = Backlog::new(30, 0);
        b.feed(&[b'x'; 100]);
        (ids, b)
    }

    #[test]
    fn question_mark_is_full_resync_requested() {
        let (ids, b) = master();
        let d = psync_decide(&ids, Some(&b), 100, b"?", -1, true);
        assert_eq!(
            d,
            PsyncDecision::FullResync {
                reason: FullResyncReason::Requested,
                replid: ids.replid,
                offset: 100
            }
        );
        assert_eq!(
            d.reply_line(),
            format!("+FULLRESYNC {} 100\r\n", ids.replid).into_bytes()
        );
        assert_eq!(
            d.log_lines(&ids, "127.0.0.1:7001"),
            vec!["Full resync requested by replica 127.0.0.1:7001"]
        );
    }

    #[test]
    fn current_id_offsets_at_the_edges() {
        let (ids, b) = master();
        let id = ids.replid.as_bytes();
        // first_byte_offset = 71, master_repl_offset = 100.
        for (off, ok) in [
            (70, false),
            (71, true),
            (100, true),
            (101, true),
            (102, false),
        ] {
            let d = psync_decide(&ids, Some(&b), 100, id, off, true);
            match d {
                PsyncDecision::Continue {
                    offset,
                    backlog_bytes,
                    via_replid2,
                    ..
                } => {
                    assert!(ok, "offset {off} should not continue");
                    assert_eq!(offset, off);
                    assert_eq!(backlog_bytes, 101 - off);
                    assert!(!via_replid2);
                }
                PsyncDecision::FullResync { ref reason, .. } => {
                    assert!(!ok, "offset {off} should continue");
                    assert_eq!(
                        *reason,
                        FullResyncReason::Backlog {
                            requested: off,
                            beyond_master_offset: off > 100
                        }
                    );
                }
            }
        }
        let d = psync_decide(&ids, Some(&b), 100, id, 102, true);
        let lines = d.log_lines(&ids, "r:1");
        assert_eq!(lines[0], "Unable to partial resync with replica r:1 for lack of backlog (Replica request was: 102).");
        assert_eq!(lines[1], "Warning: replica r:1 tried to PSYNC with an offset that is greater than the master replication offset.");
        let d = psync_decide(&ids, Some(&b), 100, id, 80, true);
        assert_eq!(
            d.log_lines(&ids, "r:1"),
            vec!["Partial resynchronization request from r:1 accepted. Sending 21 bytes of backlog starting from offset 80."]
        );
    }

    #[test]
    fn continue_reply_depends_on_psync2_capa() {
        let (ids, b) = master();
        let id = ids.replid.as_str().to_uppercase();
        let d = psync_decide(&ids, Some(&b), 100, id.as_bytes(), 90, true);
        assert_eq!(
            d.reply_line(),
            format!("+CONTINUE {}\r\n", ids.replid).into_bytes()
        );
        let d = psync_decide(&ids, Some(&b), 100, ids.replid.as_bytes(), 90, false);
        assert_eq!(d.reply_line(), b"+CONTINUE\r\n");
    }

    #[test]
    fn no_backlog_is_full_resync() {
        let (ids, _) = master();
        let d = psync_decide(&ids, None, 100, ids.replid.as_bytes(), 100, true);
        assert_eq!(
            d,
            PsyncDecision::FullResync {
                reason: FullResyncReason::Backlog {
                    requested: 100,
                    beyond_master_offset: false
                },
                replid: ids.replid,
                offset: 100
            }
        );
    }

    #[test]
    fn unknown_id_is_a_mismatch() {
        let (ids, b) = master();
        let d = psync_decide(
            &ids,
            Some(&b),
            100,
            b"0123456789012345678901234567890123456789",
            90,
            true,
        );
        let PsyncDecision::FullResync { reason, .. } = &d else {
            panic!("expected full resync: {d:?}")
        };
        assert!(matches!(reason, FullResyncReason::IdMismatch { .. }));
        assert_eq!(
            d.log_lines(&ids, "r:1"),
            vec![format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '0123456789012345678901234567890123456789', my replication IDs are '{}' and '0000000000000000000000000000000000000000')",
                ids.replid
            )]
        );
    }

    #[test]
    fn replid2_after_promotion() {
        // A replica at offset 100 is promoted; it then receives 20 more bytes.
        let mut r = StdRng::seed_from_u64(8);
        let (mut ids, mut b) = master();
        let old = ids.replid;
        ids.shift(b.master_repl_offset(), &mut r);
        assert_eq!(ids.second_repl_offset, 101);
        b.feed(&[b'y'; 20]); // now 91..=120 held
                             // The other replica, also at 100 with the old ID, asks for 101: continue.
        let d = psync_decide(&ids, Some(&b), 120, old.as_bytes(), 101, true);
        assert_eq!(
            d,
            PsyncDecision::Continue {
                offset: 101,
                backlog_bytes: 20,
                replid: ids.replid,
                psync2: true,
                via_replid2: true
            }
        );
        assert_eq!(
            d.reply_line(),
            format!("+CONTINUE {}\r\n", ids.replid).into_bytes()
        );
        // An older replica (offset 95) too.
        assert!(matches!(
            psync_decide(&ids, Some(&b), 120, old.as_bytes(), 95, true),
            PsyncDecision::Continue { offset: 95, .. }
        ));
        // Asking with the old ID past the switch point is not the same history.
        let d = psync_decide(&ids, Some(&b), 120, old.as_bytes(), 102, true);
        assert_eq!(
            d,
            PsyncDecision::FullResync {
                reason: FullResyncReason::SecondIdOffsetTooHigh {
                    requested: 102,
                    second_repl_offset: 101
                },
                replid: ids.replid,
                offset: 120
            }
        );
        assert_eq!(
            d.log_lines(&ids, "r:1"),
            vec!["Partial resynchronization not accepted: Requested offset for second ID was 102, but I can reply up to 101"]
        );
        // replid2 matches, offset fine, but trimmed out of the backlog.
        assert!(matches!(
            psync_decide(&ids, Some(&b), 120, old.as_bytes(), 90, true),
            PsyncDecision::FullResync {
                reason: FullResyncReason::Backlog { requested: 90, .. },
                ..
            }
        ));
    }

    #[test]
    fn psync_offset_parsing() {
        assert_eq!(parse_psync_offset(b"-1"), Ok(-1));
        assert_eq!(parse_psync_offset(b"51"), Ok(51));
        assert!(parse_psync_offset(b"abc").is_err());
        assert!(parse_psync_offset(b"").is_err());
        assert!(parse_psync_offset(b"+5").is_err());
        assert!(parse_psync_offset(b"05").is_err());
        assert_eq!(parse_psync_offset(b"0"), Ok(0));
        assert!(parse_psync_offset(b"99999999999999999999").is_err());
    }
}
