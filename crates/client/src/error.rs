//! The one error type of the crate. Its `Display` texts are the ones the CLI prints
//! after `Error: ` or `Could not connect to Redis at ...: `, so I/O errors are shown
//! the way the C library would (`Connection refused`, without Rust's
//! `(os error N)` suffix).

use bytes::Bytes;
use std::fmt;
use std::io;

/// Everything that can go wrong talking to a server, apart from error replies
/// (which are returned as `Frame::Error` by `call`).
#[derive(Debug)]
pub enum ClientError {
    /// A socket error (connect, read or write).
    Io(io::Error),
    /// The server closed the connection (EOF), possibly in the middle of a reply.
    Closed,
    /// The bytes from the server are not RESP.
    Protocol(String),
    /// A connect, read or write deadline passed.
    Timeout,
    /// The address could not be understood or resolved to nothing.
    Addr(String),
    /// An error reply where a helper required success (AUTH, SELECT, HELLO).
    Server(Bytes),
}

impl ClientError {
    /// True for errors after which the connection cannot be used any more.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            ClientError::Io(_) | ClientError::Closed | ClientError::Protocol(_)
        )
    }

    /// True when a deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout)
    }
}

/// The C library's text for an I/O error: `strerror` without Rust's decorations.
pub(crate) fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    match s.strip_prefix("failed to lookup address information: ") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => f.write_str(&io_text(e)),
            ClientError::Closed => f.write_str("Server closed the connection"),
            ClientError::Protocol(m) => f.write_str(m),
            ClientError::Timeout => f.write_str("Connection timed out"),
            ClientError::Addr(m) => f.write_str(m),
            ClientError::Server(m) => f.write_str(&String::from_utf8_lossy(m)),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout,
            io::ErrorKind::UnexpectedEof => ClientError::Closed,
            _ => ClientError::Io(e),
        }
    }
}
