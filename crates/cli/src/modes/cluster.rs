//! Cluster support. For now: reading `MOVED` / `ASK` redirections, which the
//! session follows with `-c`. The `--cluster <subcommand>` tools (create, check,
//! fix, reshard, ...) will live here too.

use shoal_client::{Frame, FrameExt};

/// Where a redirection points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub ask: bool,
    pub slot: u16,
    pub host: String,
    pub port: u16,
}

/// `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>`, if `f` is one.
pub fn parse_redirect(f: &Frame) -> Option<Redirect> {
    let text = std::str::from_utf8(f.error_text()?).ok()?;
    let mut words = text.split(' ');
    let ask = match words.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    let slot = words.next()?.parse().ok()?;
    let (host, port) = words.next()?.rsplit_once(':')?;
    Some(Redirect {
        ask,
        slot,
        host: host.to_string(),
        port: port.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn redirects() {
        let m = Frame::Error(Bytes::from_static(b"MOVED 3999 127.0.0.1:6381"));
        assert_eq!(
            parse_redirect(&m),
            Some(Redirect {
                ask: false,
                slot: 3999,
                host: "127.0.0.1".into(),
                port: 6381
            })
        );
        let a = Frame::Error(Bytes::from_static(b"ASK 1 h:7"));
        assert!(parse_redirect(&a).unwrap().ask);
        assert_eq!(
            parse_redirect(&Frame::Error(Bytes::from_static(b"ERR x"))),
            None
        );
    }
}
