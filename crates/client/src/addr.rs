//! Where a server listens: a TCP host and port, or a Unix socket path.
//!
//! Text forms accepted by [`Addr::parse`]: `host:port`, `[v6addr]:port`,
//! `unix:/path`, and any string containing a `/` (a path). The `Display` form is
//! the one used in messages and prompts: `host:port`, `[v6]:port`, or the path.

use crate::ClientError;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A server address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    /// A host name or IP literal (without brackets) and a port.
    Tcp { host: String, port: u16 },
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl Addr {
    pub fn tcp(host: impl Into<String>, port: u16) -> Addr {
        Addr::Tcp {
            host: host.into(),
            port,
        }
    }

    pub fn unix(path: impl Into<PathBuf>) -> Addr {
        Addr::Unix(path.into())
    }

    /// Parses the text forms described in the module docs.
    pub fn parse(s: &str) -> Result<Addr, ClientError> {
        if let Some(p) = s.strip_prefix("unix:") {
            return Ok(Addr::Unix(PathBuf::from(p)));
        }
        if s.contains('/') {
            return Ok(Addr::Unix(PathBuf::from(s)));
        }
        let bad = || ClientError::Addr(format!("invalid address '{s}'"));
        let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Addr::tcp(host, port))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Anything a client can connect to.
pub trait ToAddr {
    fn to_addr(&self) -> Result<Addr, ClientError>;
}

impl ToAddr for Addr {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(self.clone())
    }
}

impl<T: ToAddr + ?Sized> ToAddr for &T {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        (**self).to_addr()
    }
}

impl ToAddr for str {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Addr::parse(self)
    }
}

impl ToAddr for String {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Addr::parse(self)
    }
}

impl ToAddr for SocketAddr {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(Addr::tcp(self.ip().to_string(), self.port()))
    }
}

impl ToAddr for (&str, u16) {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(Addr::tcp(self.0, self.1))
    }
}

impl ToAddr for (String, u16) {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(Addr::tcp(self.0.clone(), self.1))
    }
}

impl ToAddr for Path {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(Addr::Unix(self.to_path_buf()))
    }
}

impl ToAddr for PathBuf {
    fn to_addr(&self) -> Result<Addr, ClientError> {
        Ok(Addr::Unix(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_forms() {
        assert_eq!(
            Addr::parse("127.0.0.1:7000").unwrap(),
            Addr::tcp("127.0.0.1", 7000)
        );
        assert_eq!(Addr::parse("[::1]:7000").unwrap(), Addr::tcp("::1", 7000));
        assert_eq!(
            Addr::parse("/tmp/s.sock").unwrap(),
            Addr::unix("/tmp/s.sock")
        );
        assert_eq!(
            Addr::parse("unix:rel.sock").unwrap(),
            Addr::unix("rel.sock")
        );
        assert!(Addr::parse("nohost").is_err());
        assert!(Addr::parse("h:99999").is_err());
        assert!(Addr::parse(":1").is_err());
    }

    #[test]
    fn displays_like_the_cli() {
        assert_eq!(Addr::tcp("::1", 6379).to_string(), "[::1]:6379");
        assert_eq!(Addr::tcp("localhost", 1).to_string(), "localhost:1");
        assert_eq!(Addr::unix("/x.sock").to_string(), "/x.sock");
    }
}
