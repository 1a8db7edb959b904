//! Start-up upgrade of a Redis 6 style single AOF (`dir/<appendfilename>`) into
//! a multi-part AOF directory, as Redis 7.0 does.
//!
//! When `appendonly yes`, the old file exists in `dir` and the AOF directory has
//! no usable manifest, the old file becomes the base of a new directory, kept
//! under its own name (`appendonly.aof`, seq 1, type `b`, whatever it holds: RDB
//! preamble or commands). Redis 7.0.15 does exactly this, and logs
//! `Successfully migrated an old-style AOF file (<name>) into the AOF directory
//! (<dir>).`; loading then creates the first incr file as for any directory
//! without one.
//!
//! Crash safety: the manifest naming the base is persisted before the file is
//! moved. A crash in between leaves a manifest whose only entry is a base named
//! `<appendfilename>` that is not in the directory while the old file is still in
//! `dir`: that state is upgraded again (Redis treats it the same way).

use super::{sync_dir, write_manifest, Settings};
use shoal_aof::{AofInfo, FileType, Manifest};
use std::path::Path;

/// Whether start-up must upgrade an old-style AOF; `m` is the manifest on disk,
/// if one exists. Paths are relative to `dir` (the working directory).
pub fn needed(s: &Settings, m: Option<&Manifest>) -> bool {
    if !Path::new(&s.appendfilename).is_file() {
        return false;
    }
    match m {
        None => true,
        Some(m) if m.base.is_none() && m.incrs.is_empty() => true,
        // An upgrade interrupted between the manifest and the move.
        Some(m) => {
            m.incrs.is_empty()
                && m.base.as_ref().is_some_and(|b| b.name == s.appendfilename)
                && !s.dir.join(&s.appendfilename).exists()
        }
    }
}

/// Moves the old file into the AOF directory as its base and persists the
/// manifest; returns that manifest (no incr file yet). Logs and returns the exit
/// code on failure.
pub fn run(s: &Settings) -> Result<Manifest, i32> {
    let dirname = s.dir.display().to_string();
    if let Err(e) = std::fs::create_dir_all(&s.dir) {
        crate::warning!("Can't create AOF directory {dirname}: {e}");
        return Err(1);
    }
    let m = Manifest {
        base: Some(AofInfo {
            name: s.appendfilename.clone(),
            seq: 1,
            kind: FileType::Base,
        }),
        curr_base_seq: 1,
        ..Default::default()
    };
    if let Err(e) = write_manifest(&s.dir, &s.appendfilename, &m) {
        crate::warning!("Can't persist the AOF manifest while upgrading: {e}");
        return Err(1);
    }
    if let Err(e) = std::fs::rename(&s.appendfilename, s.dir.join(&s.appendfilename)) {
        crate::warning!(
            "Error trying to rename the existing AOF to the AOF directory {dirname}: {e}"
        );
        return Err(1);
    }
    sync_dir(&s.dir);
    sync_dir(Path::new("."));
    crate::notice!(
        "Successfully migrated an old-style AOF file ({}) into the AOF directory ({dirname}).",
        s.appendfilename
    );
    Ok(m)
}
