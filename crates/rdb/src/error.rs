//! Errors of reading RDB bytes: what was wrong and where.

use std::fmt;

/// A malformed or unsupported input, or an I/O failure, at a byte offset of the
/// file or payload.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    /// Offset from the start of the file (or payload) where the problem was found.
    pub offset: u64,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// Not an RDB file (bad magic) or a version outside what we read.
    BadHeader(String),
    /// The input ended inside a structure.
    Truncated,
    /// A structure that cannot be what it claims (bad lengths, bad encodings,
    /// duplicate members, entries out of order...).
    Corrupt(String),
    /// The CRC64 at the end does not match the content.
    Checksum {
        expected: u64,
        computed: u64,
    },
    /// Valid but not supported by Shoal (module types and module aux data).
    Unsupported(String),
    Io(std::io::Error),
}

impl Error {
    pub fn new(kind: ErrorKind, offset: u64) -> Error {
        Error { kind, offset }
    }

    pub fn corrupt(what: impl Into<String>, offset: u64) -> Error {
        Error::new(ErrorKind::Corrupt(what.into()), offset)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadHeader(s) => write!(f, "Wrong RDB header: {s}"),
            ErrorKind::Truncated => write!(f, "Unexpected EOF reading RDB file"),
            ErrorKind::Corrupt(s) => write!(f, "Corrupt RDB data: {s}"),
            ErrorKind::Checksum { expected, computed } => write!(
                f,
                "Wrong RDB checksum expected: ({expected:016x}) got: ({computed:016x})"
            ),
            ErrorKind::Unsupported(s) => write!(f, "Unsupported in RDB: {s}"),
            ErrorKind::Io(e) => write!(f, "I/O error reading RDB: {e}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for Error {}
