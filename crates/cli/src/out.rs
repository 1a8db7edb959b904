//! Writing to stdout and stderr. Rust ignores SIGPIPE, so a closed stdout (a reader
//! such as `head` that went away) shows up as a write error; the CLI then exits
//! quietly, as redis-cli does when SIGPIPE ends it.

use std::io::Write;

/// Writes and flushes stdout (one reply at a time, so output is grep-friendly).
pub fn print(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    if o.write_all(bytes).and_then(|_| o.flush()).is_err() {
        std::process::exit(1);
    }
}

/// Writes and flushes stderr, ignoring failures.
pub fn eprint(bytes: &[u8]) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(bytes);
    let _ = e.flush();
}

/// One line to stderr.
pub fn eprint_line(s: &str) {
    eprint(format!("{s}\n").as_bytes());
}

/// A buffered stdout for modes that print many lines (`--scan`); flush at the end.
pub struct Buffered {
    inner: std::io::BufWriter<std::io::Stdout>,
}

impl Buffered {
    pub fn new() -> Buffered {
        Buffered {
            inner: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        if self.inner.write_all(bytes).is_err() {
            std::process::exit(1);
        }
    }

    pub fn flush(&mut self) {
        if self.inner.flush().is_err() {
            std::process::exit(1);
        }
    }
}

impl Default for Buffered {
    fn default() -> Self {
        Buffered::new()
    }
}
