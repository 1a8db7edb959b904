//! Redis's RDB format (versions 9 to 11 read, 10 written) and DUMP payloads.
//!
//! Owns the bytes on disk and on the wire, nothing else: the server decides when
//! to save and where; this crate turns keyspace values into RDB bytes and back.
//!
//! - [`consts`]: opcodes, value type bytes, length and string encodings.
//! - [`lzf`]: LZF compression as Redis uses it for strings.
//! - [`listpack`], [`legacy`]: Redis's compact blobs (listpack; ziplist, intset,
//!   zipmap), decoded from older files and listpacks written by ours.
//! - [`encode`]: a value to its RDB type byte and body; [`FileWriter`] for files.
//! - [`decode`]: the reverse, validating as it goes; [`FileReader`] for files.
//! - [`dump`]: DUMP/RESTORE payloads (value + RDB version + CRC64).
//! - [`check`]: the report of `shoal-check-rdb`.
//!
//! Invariant: nothing read from a file or a payload can panic this crate; every
//! malformed input is an [`Error`] naming what was wrong and at which offset.

pub mod check;
pub mod consts;
pub mod decode;
pub mod dump;
pub mod encode;
pub mod error;
pub mod legacy;
pub mod listpack;
pub mod lzf;

pub use decode::{FileReader, Item, ReadOptions};
pub use encode::{FileWriter, WriteOptions};
pub use error::Error;

/// The encoding thresholds a loaded value is converted with, from the
/// `*-max-listpack-*`, `set-max-intset-entries` and `list-max-listpack-size`
/// directives (Redis converts values on load the same way).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub hash: shoal_keyspace::hash::Limits,
    pub zset: shoal_keyspace::ZLimits,
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size` (negative: bytes class, positive: entries).
    pub list_fill: i64,
    /// `stream-node-max-bytes` and `stream-node-max-entries`.
    pub stream_node_max_bytes: i64,
    pub stream_node_max_entries: i64,
}

impl Default for Limits {
    /// Redis's defaults.
    fn default() -> Self {
        Limits {
            hash: shoal_keyspace::hash::Limits::HASH_DEFAULTS,
            zset: shoal_keyspace::ZLimits::new(128, 64),
            set_max_intset_entries: 512,
            list_fill: -2,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}
