//! Redis 7's multi-part append-only file, as files on disk.
//!
//! Owns the bytes, never the server: the server decides when to write, fsync and
//! rewrite; this crate names the files, reads and writes the manifest, reads the
//! command stream of an AOF file, and checks (and repairs) a directory or a file
//! for `shoal-check-aof`.
//!
//! - [`manifest`]: the `<appendfilename>.manifest` file (`file <name> seq <n>
//!   type <b|h|i>` lines), parsed with line numbers in errors, and written back the
//!   way Redis 7.0 writes it.
//! - [`reader`]: RESP arrays of bulk strings, `#...` annotation lines skipped
//!   (`aof-timestamp-enabled`), each command with its byte offset; a tail cut
//!   mid-command is told apart from corruption in the middle.
//! - [`check`]: the logic of `shoal-check-aof [--fix] FILE|MANIFEST`.
//!
//! Invariant: nothing read from a file can panic this crate; every malformed
//! input is an error naming what was wrong and where (line or byte offset).

pub mod check;
pub mod manifest;
pub mod reader;

pub use manifest::{AofInfo, FileType, Manifest, ManifestError};
pub use reader::{Command, CommandReader, ReadError};

/// The base file of sequence `seq`: `<appendfilename>.<seq>.base.rdb` (RDB
/// preamble) or `.base.aof` (commands).
pub fn base_file_name(appendfilename: &str, seq: u64, rdb: bool) -> String {
    let ext = if rdb { "rdb" } else { "aof" };
    format!("{appendfilename}.{seq}.base.{ext}")
}

/// The incremental file of sequence `seq`: `<appendfilename>.<seq>.incr.aof`.
pub fn incr_file_name(appendfilename: &str, seq: u64) -> String {
    format!("{appendfilename}.{seq}.incr.aof")
}

/// The manifest: `<appendfilename>.manifest`.
pub fn manifest_file_name(appendfilename: &str) -> String {
    format!("{appendfilename}.manifest")
}

/// The temporary name a new manifest is written under before it is renamed into
/// place (Redis uses the same prefix).
pub fn temp_manifest_file_name(appendfilename: &str) -> String {
    format!("temp-{appendfilename}.manifest")
}

/// Whether `bytes` start like an RDB file (an RDB preamble in an AOF).
pub fn is_rdb(bytes: &[u8]) -> bool {
    bytes.starts_with(b"REDIS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_redis_writes_them() {
        assert_eq!(
            base_file_name("appendonly.aof", 1, true),
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(
            base_file_name("appendonly.aof", 3, false),
            "appendonly.aof.3.base.aof"
        );
        assert_eq!(
            incr_file_name("appendonly.aof", 12),
            "appendonly.aof.12.incr.aof"
        );
        assert_eq!(manifest_file_name("a b"), "a b.manifest");
        assert_eq!(temp_manifest_file_name("x"), "temp-x.manifest");
    }
}
