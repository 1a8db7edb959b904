//! The AOF manifest: which files make up the dataset, in which order.
//!
//! Format (Redis 7.0): one file per line, `file <name> seq <n> type <b|h|i>`, the
//! three keys in any order (unknown keys are ignored, for files of later versions),
//! lines starting with `#` ignored. `b` is the base (at most one), `i` the
//! incremental files (sequence numbers strictly increasing, in replay order), `h`
//! history files (replaced by a rewrite, waiting to be deleted). Names that need it
//! are written double-quoted with C escapes, as Redis writes them (`sdscatrepr`),
//! and read back with Redis's argument splitting.
//!
//! Invariants of a parsed [`Manifest`]: at least one file; no name contains a path
//! separator (a manifest cannot point outside its directory).

use std::fmt;

/// Redis refuses manifest lines longer than this.
pub const MAX_LINE: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofInfo {
    pub name: String,
    pub seq: u64,
    pub kind: FileType,
}

/// A manifest: the base, the history files and the incremental files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofInfo>,
    pub history: Vec<AofInfo>,
    /// In replay order (increasing `seq`).
    pub incrs: Vec<AofInfo>,
    /// The highest base sequence number used (the next base is one more).
    pub curr_base_seq: u64,
    /// The highest incr sequence number used (the next incr is one more).
    pub curr_incr_seq: u64,
}

/// Why a manifest was refused, and on which line (1-based; 0 for the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.msg)
        } else {
            f.write_str(&self.msg)
        }
    }
}

impl std::error::Error for ManifestError {}

fn err(line: usize, msg: impl Into<String>) -> ManifestError {
    ManifestError {
        line,
        msg: msg.into(),
    }
}

impl Manifest {
    /// Parses a manifest's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut lineno = 0;
        let mut rest = bytes;
        while !rest.is_empty() {
            lineno += 1;
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => {
                    // Redis writes every line with its newline: a last line without
                    // one is a manifest cut short.
                    return Err(err(lineno, "line not terminated by a newline"));
                }
            };
            rest = next;
            if line.len() > MAX_LINE {
                return Err(err(lineno, format!("line longer than {MAX_LINE} bytes")));
            }
            if line.first() == Some(&b'#') {
                continue;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(args) = shoal_resp::split_args(line) else {
                return Err(err(lineno, "unbalanced quotes"));
            };
            if args.is_empty() {
                return Err(err(lineno, "empty line"));
            }
            if args.len() % 2 != 0 {
                return Err(err(lineno, "expected key value pairs"));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in args.chunks(2) {
                let v = &kv[1];
                match &kv[0][..] {
                    b"file" => name = Some(v),
                    b"seq" => seq = Some(v),
                    b"type" => kind = Some(v),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(err(lineno, "missing file, seq or type"));
            };
            let name = std::str::from_utf8(name)
                .map_err(|_| err(lineno, "file name is not valid UTF-8"))?
                .to_string();
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(err(lineno, format!("invalid file name {name:?}")));
            }
            let seq = std::str::from_utf8(seq)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|&s| s > 0)
                .ok_or_else(|| err(lineno, "seq is not a positive integer"))?;
            let kind = match &kind[..] {
                b"b" => FileType::Base,
                b"h" => FileType::History,
                b"i" => FileType::Incr,
                _ => return Err(err(lineno, "unknown file type (b, h or i expected)")),
            };
            let info = AofInfo { name, seq, kind };
            match kind {
                FileType::Base => {
                    if m.base.is_some() {
                        return Err(err(lineno, "a second base file"));
                    }
                    m.curr_base_seq = seq;
                    m.base = Some(info);
                }
                FileType::History => m.history.push(info),
                FileType::Incr => {
                    if seq <= m.curr_incr_seq {
                        return Err(err(lineno, "incr sequence numbers not increasing"));
                    }
                    m.curr_incr_seq = seq;
                    m.incrs.push(info);
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err(err(0, "the manifest lists no base and no incr file"));
        }
        Ok(m)
    }

    /// The manifest's bytes, as Redis writes them: base, history, incrs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let all = self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter());
        for f in all {
            out.extend_from_slice(b"file ");
            push_name(&mut out, f.name.as_bytes());
            out.extend_from_slice(format!(" seq {} type {}\n", f.seq, f.kind.letter()).as_bytes());
        }
        out
    }

    /// The files to load, in order: the base, then the incrs.
    pub fn load_order(&self) -> impl Iterator<Item = &AofInfo> {
        self.base.iter().chain(self.incrs.iter())
    }

    /// Adds the next incremental file and returns its info.
    pub fn add_incr(&mut self, appendfilename: &str) -> AofInfo {
        self.curr_incr_seq += 1;
        let info = AofInfo {
            name: crate::incr_file_name(appendfilename, self.curr_incr_seq),
            seq: self.curr_incr_seq,
            kind: FileType::Incr,
        };
        self.incrs.push(info.clone());
        info
    }

    /// Installs a new base (after a rewrite): the old base and the incrs up to and
    /// including `last_incr_seq` become history (to delete). Returns the new base.
    pub fn install_base(&mut self, appendfilename: &str, rdb: bool, last_incr_seq: u64) -> AofInfo {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.push(old);
        }
        let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.incrs)
            .into_iter()
            .partition(|f| f.seq <= last_incr_seq);
        self.history.extend(old.into_iter().map(|mut f| {
            f.kind = FileType::History;
            f
        }));
        self.incrs = keep;
        self.curr_base_seq += 1;
        let base = AofInfo {
            name: crate::base_file_name(appendfilename, self.curr_base_seq, rdb),
            seq: self.curr_base_seq,
            kind: FileType::Base,
        };
        self.base = Some(base.clone());
        base
    }
}

/// Whether Redis would quote this name (`sdsneedsrepr`).
fn needs_repr(name: &[u8]) -> bool {
    name.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8) || !(0x21..=0x7e).contains(&c)
    })
}

fn push_name(out: &mut Vec<u8>, name: &[u8]) {
    if !needs_repr(name) {
        out.extend_from_slice(name);
        return;
    }
    out.push(b'"');
    for &c in name {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_redis_writes() {
        let text = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incrs.len(), 1);
        assert_eq!(m.curr_incr_seq, 1);
        assert_eq!(m.to_bytes(), text);
    }

    #[test]
    fn quoted_names_round_trip_as_redis_quotes_them() {
        // What Redis 7.0.15 wrote for appendfilename 'my "f" ile.aof'.
        let text = b"file \"my \\\"f\\\" ile.aof.1.base.rdb\" seq 1 type b\nfile \"my \\\"f\\\" ile.aof.1.incr.aof\" seq 1 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "my \"f\" ile.aof.1.base.rdb");
        assert_eq!(m.to_bytes(), text);
    }

    #[test]
    fn keys_in_any_order_comments_and_unknown_keys() {
        let m = Manifest::parse(b"# hi\ntype i seq 2 file x.2.incr.aof extra 1\n").unwrap();
        assert!(m.base.is_none());
        assert_eq!(m.incrs[0].seq, 2);
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&[u8], usize)] = &[
            (b"file a seq 1 type b\nfile b seq 1\n", 2),
            (b"file a seq 1 type b\nfile b seq 2 type b\n", 2),
            (b"file a seq 2 type i\nfile b seq 2 type i\n", 2),
            (b"file a seq x type i\n", 1),
            (b"file a seq 1 type z\n", 1),
            (b"file \"a seq 1 type i\n", 1),
            (b"file ../a seq 1 type i\n", 1),
            (b"file a seq 1 type i", 1),
            (b"\n", 1),
            (b"", 0),
        ];
        for (text, line) in cases {
            let e = Manifest::parse(text).unwrap_err();
            assert_eq!(e.line, *line, "{:?}: {e}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn rewrite_moves_old_files_to_history() {
        let mut m =
            Manifest::parse(b"file a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type i\n")
                .unwrap();
        let next = m.add_incr("a");
        assert_eq!(next.name, "a.2.incr.aof");
        let base = m.install_base("a", true, 1);
        assert_eq!(base.name, "a.2.base.rdb");
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            "file a.2.base.rdb seq 2 type b\nfile a.1.base.rdb seq 1 type h\nfile a.1.incr.aof seq 1 type h\nfile a.2.incr.aof seq 2 type i\n"
        );
        m.history.clear();
        assert_eq!(Manifest::parse(&m.to_bytes()).unwrap(), m);
    }
}
