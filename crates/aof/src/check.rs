//! `shoal-check-aof [--fix] FILE|MANIFEST`: what is wrong with an AOF, and where.
//!
//! Given a manifest, every file it lists is checked in load order (base, then
//! incrs); given one file, that file. A file may start with an RDB preamble
//! (checked record by record with shoal-rdb, checksum included), then holds
//! commands. The messages, the "AOF analyzed: ..." summary and the exit codes mean
//! what redis-check-aof 7.0's do: 0 when everything is valid (or was fixed), 1
//! otherwise. `--fix` truncates the last file to its last complete command, after
//! asking on stdin; a damaged file that is not the last, or a damaged RDB part,
//! cannot be fixed by truncation and is refused.

use crate::manifest::Manifest;
use crate::reader::{CommandReader, MultiTracker, ReadError};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The result of checking one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub size: u64,
    /// The valid prefix: up to the last complete command (or the whole file).
    pub ok_up_to: u64,
    /// The line the valid prefix ends on (1-based).
    pub ok_up_to_line: u64,
    /// What is wrong, with its offset; None when the file is valid.
    pub error: Option<(u64, String)>,
    /// Whether the damage is in the RDB preamble (truncation cannot fix that).
    pub in_rdb: bool,
}

impl FileReport {
    pub fn valid(&self) -> bool {
        self.error.is_none()
    }
}

/// Checks one AOF file, writing progress to `out`.
pub fn check_file(path: &Path, shown: &str, out: &mut dyn Write) -> io::Result<FileReport> {
    let f = File::open(path)?;
    let size = f.metadata()?.len();
    let mut src = BufReader::with_capacity(64 * 1024, f);
    let mut report = FileReport {
        size,
        ok_up_to: size,
        ok_up_to_line: 0,
        error: None,
        in_rdb: false,
    };
    let mut start = 0;
    if crate::is_rdb(src.fill_buf()?) {
        writeln!(out, "[offset 0] Checking RDB file {shown}")?;
        match check_rdb(src, out)? {
            Ok((rest, end)) => {
                writeln!(out, "RDB preamble is OK, proceeding with AOF tail...")?;
                src = rest;
                start = end;
            }
            Err(e) => {
                writeln!(out, "[offset {}] RDB is not valid: {e}", e.offset)?;
                report.error = Some((e.offset, e.to_string()));
                report.ok_up_to = 0;
                report.in_rdb = true;
                report.ok_up_to_line = 1;
                return Ok(report);
            }
        }
    }
    let mut rd = CommandReader::new(src, start);
    let mut multi = MultiTracker::default();
    let failure = loop {
        match rd.next_command() {
            Ok(Some(c)) => multi.see(&c),
            Ok(None) => {
                break multi.open_at.map(|at| {
                    (
                        at,
                        size,
                        "Reached EOF before reading EXEC for MULTI".to_string(),
                    )
                });
            }
            Err(ReadError::Io { err, .. }) => return Err(err),
            Err(e @ ReadError::Truncated { .. }) => {
                break Some((e.valid_up_to(), size, "Unexpected end of file".to_string()));
            }
            Err(ReadError::Corrupt { offset, at, msg }) => break Some((offset, at, msg)),
        }
    };
    if let Some((valid, at, msg)) = failure {
        writeln!(out, "0x{at:>16x}: {msg}")?;
        report.ok_up_to = valid;
        report.error = Some((at, msg));
    }
    report.ok_up_to_line = count_lines(path, report.ok_up_to)?;
    Ok(report)
}

type RdbChecked = Result<(BufReader<File>, u64), shoal_rdb::Error>;

fn check_rdb(src: BufReader<File>, out: &mut dyn Write) -> io::Result<RdbChecked> {
    let opts = shoal_rdb::ReadOptions::default();
    let mut rdb = match shoal_rdb::FileReader::new(src, opts) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let mut keys = 0u64;
    loop {
        match rdb.next_item() {
            Ok(Some(shoal_rdb::Item::Entry { .. })) => keys += 1,
            Ok(Some(shoal_rdb::Item::Aux { key, value })) => writeln!(
                out,
                "[offset {}] AUX FIELD {} = '{}'",
                rdb.offset(),
                String::from_utf8_lossy(&key),
                String::from_utf8_lossy(&value)
            )?,
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return Ok(Err(e)),
        }
    }
    let end = rdb.offset();
    writeln!(out, "[offset {end}] Checksum OK")?;
    writeln!(out, "[offset {end}] RDB looks OK")?;
    writeln!(out, "[info] {keys} keys read")?;
    Ok(Ok((rdb.into_inner(), end)))
}

/// The 1-based line number at byte `upto` (newlines before it, plus one).
fn count_lines(path: &Path, upto: u64) -> io::Result<u64> {
    let mut f = BufReader::new(File::open(path)?).take(upto);
    let mut buf = [0u8; 64 * 1024];
    let mut lines = 1;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Whether `bytes` are a manifest rather than an AOF: the first line that is
/// not a comment starts with `file ` (an AOF line never does).
pub fn looks_like_manifest(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.starts_with(b"#"))
        .is_some_and(|l| l.starts_with(b"file "))
}

/// The whole tool: parses `args` (without the program name), checks, maybe fixes.
/// Returns the exit code.
pub fn run(args: &[String], stdin: &mut dyn BufRead, out: &mut dyn Write) -> i32 {
    let (fix, path) = match args {
        [p] if p != "--fix" => (false, p),
        [f, p] if f == "--fix" => (true, p),
        _ => {
            let _ = writeln!(
                out,
                "Usage: shoal-check-aof [--fix] <file.manifest|file.aof>"
            );
            return 1;
        }
    };
    match run_checked(fix, Path::new(path), stdin, out) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(out, "Cannot open file {path}: {e}");
            1
        }
    }
}

fn run_checked(
    fix: bool,
    path: &Path,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let mut head = Vec::new();
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    if !crate::is_rdb(&head) && looks_like_manifest(&head) {
        return check_manifest(fix, path, stdin, out);
    }
    writeln!(out, "Start checking Old-Style AOF")?;
    let shown = path.display().to_string();
    let r = check_file(path, &shown, out)?;
    summary(out, &shown, &r)?;
    if r.valid() {
        writeln!(out, "AOF {shown} is valid")?;
        return Ok(0);
    }
    damaged(fix, true, path, &shown, &r, stdin, out)
}

fn check_manifest(
    fix: bool,
    path: &Path,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<i32> {
    writeln!(out, "Start checking Multi Part AOF")?;
    let bytes = std::fs::read(path)?;
    let m = match Manifest::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            writeln!(out, "Invalid AOF manifest file format: {e}")?;
            return Ok(1);
        }
    };
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let files: Vec<_> = m.load_order().collect();
    for (i, f) in files.iter().enumerate() {
        let is_base = m.base.as_ref().is_some_and(|b| b.name == f.name) && i == 0;
        if is_base {
            let what = if f.name.ends_with(".rdb") {
                "RDB"
            } else {
                "AOF"
            };
            writeln!(out, "Start to check BASE AOF ({what} format).")?;
        } else if i == 0 || (i == 1 && m.base.is_some()) {
            writeln!(out, "Start to check INCR files.")?;
        }
        let p = dir.join(&f.name);
        let r = match check_file(&p, &f.name, out) {
            Ok(r) => r,
            Err(e) => {
                writeln!(out, "Cannot open file {}: {e}", f.name)?;
                return Ok(1);
            }
        };
        summary(out, &f.name, &r)?;
        let kind = if is_base { "BASE" } else { "INCR" };
        if r.valid() {
            writeln!(out, "{kind} AOF {} is valid", f.name)?;
            continue;
        }
        let last = i + 1 == files.len();
        let code = damaged(fix, last, &p, &f.name, &r, stdin, out)?;
        if code != 0 {
            return Ok(code);
        }
    }
    writeln!(out, "All AOF files and manifest are valid")?;
    Ok(0)
}

fn summary(out: &mut dyn Write, shown: &str, r: &FileReport) -> io::Result<()> {
    writeln!(
        out,
        "AOF analyzed: filename={shown}, size={}, ok_up_to={}, ok_up_to_line={}, diff={}",
        r.size,
        r.ok_up_to,
        r.ok_up_to_line,
        r.size - r.ok_up_to.min(r.size)
    )
}

/// A damaged file: explain, or (with --fix, on the last file) ask and truncate.
fn damaged(
    fix: bool,
    last: bool,
    path: &Path,
    shown: &str,
    r: &FileReport,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> io::Result<i32> {
    if !fix {
        writeln!(
            out,
            "AOF {shown} is not valid. Use the --fix option to try fixing it."
        )?;
        return Ok(1);
    }
    if r.in_rdb {
        writeln!(
            out,
            "RDB preamble of AOF file {shown} is not sane, aborting."
        )?;
        return Ok(1);
    }
    if !last {
        writeln!(
            out,
            "Failed to truncate AOF {shown} because it is not the last file"
        )?;
        return Ok(1);
    }
    writeln!(
        out,
        "This will shrink the AOF {shown} from {} bytes, with {} bytes, to {} bytes",
        r.size,
        r.size - r.ok_up_to,
        r.ok_up_to
    )?;
    write!(out, "Continue? [y/N]: ")?;
    out.flush()?;
    let mut answer = String::new();
    stdin.read_line(&mut answer)?;
    if !answer.trim_start().starts_with(['y', 'Y']) {
        writeln!(out, "Aborting...")?;
        return Ok(1);
    }
    let truncated = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(r.ok_up_to)?;
            f.sync_all()
        });
    match truncated {
        Ok(()) => {
            writeln!(out, "Successfully truncated AOF {shown}")?;
            Ok(0)
        }
        Err(e) => {
            writeln!(out, "Failed to truncate AOF {shown}: {e}")?;
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMDS: &[u8] =
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";

    fn run_on(args: &[&str], answer: &str) -> (i32, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        let code = run(&args, &mut answer.as_bytes(), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn valid_truncated_and_fixed_single_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.aof");
        std::fs::write(&p, CMDS).unwrap();
        let ps = p.to_str().unwrap();
        let (code, out) = run_on(&[ps], "");
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("is valid"), "{out}");
        std::fs::write(&p, &CMDS[..CMDS.len() - 3]).unwrap();
        let (code, out) = run_on(&[ps], "");
        assert_eq!(code, 1);
        assert!(out.contains("ok_up_to=23"), "{out}");
        assert!(out.contains("Use the --fix option"), "{out}");
        let (code, out) = run_on(&["--fix", ps], "n\n");
        assert_eq!(code, 1);
        assert!(out.contains("Aborting..."), "{out}");
        let (code, out) = run_on(&["--fix", ps], "y\n");
        assert_eq!(code, 0, "{out}");
        assert_eq!(std::fs::read(&p).unwrap(), &CMDS[..23]);
        assert_eq!(run_on(&[ps], "").0, 0);
        assert_eq!(run_on(&[], "").0, 1);
        assert_eq!(run_on(&["/nonexistent/x"], "").0, 1);
    }

    #[test]
    fn manifest_only_the_last_file_is_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("x.1.base.aof"), CMDS).unwrap();
        std::fs::write(d.join("x.1.incr.aof"), &CMDS[..30]).unwrap();
        std::fs::write(d.join("x.2.incr.aof"), CMDS).unwrap();
        let m = d.join("x.manifest");
        std::fs::write(
            &m,
            "file x.1.base.aof seq 1 type b\nfile x.1.incr.aof seq 1 type i\nfile x.2.incr.aof seq 2 type i\n",
        )
        .unwrap();
        let ms = m.to_str().unwrap();
        let (code, out) = run_on(&["--fix", ms], "y\n");
        assert_eq!(code, 1);
        assert!(out.contains("because it is not the last file"), "{out}");
        std::fs::write(d.join("x.1.incr.aof"), CMDS).unwrap();
        std::fs::write(d.join("x.2.incr.aof"), b"*1\r\n$5\r\nMULTI\r\n").unwrap();
        let (code, out) = run_on(&[ms], "");
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("EXEC for MULTI"), "{out}");
        let (code, out) = run_on(&["--fix", ms], "y\n");
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("All AOF files and manifest are valid"),
            "{out}"
        );
        assert_eq!(std::fs::metadata(d.join("x.2.incr.aof")).unwrap().len(), 0);
        std::fs::write(&m, "file x.1.base.aof seq 1\n").unwrap();
        let (code, out) = run_on(&[ms], "");
        assert_eq!(code, 1);
        assert!(out.contains("line 1"), "{out}");
    }

    #[test]
    fn corruption_in_the_middle_is_reported_with_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.aof");
        let mut b = CMDS.to_vec();
        b[25] = b'!';
        std::fs::write(&p, &b).unwrap();
        let (code, out) = run_on(&[p.to_str().unwrap()], "");
        assert_eq!(code, 1);
        assert!(
            out.contains("0x              17: expected a command header"),
            "{out}"
        );
    }
}
