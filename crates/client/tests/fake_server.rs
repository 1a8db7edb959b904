//! The blocking client against an in-process fake server: replies split at every
//! byte, several replies in one packet, garbage, refused connections. Needs no
//! server binary.

use shoal_client::{Client, ClientError, Frame, FrameExt};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

/// Accepts one connection, reads one request, then writes `reply` in `chunks`.
fn fake(reply: &'static [u8], chunk: usize) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        for part in reply.chunks(chunk) {
            s.write_all(part).unwrap();
            s.flush().unwrap();
            thread::sleep(Duration::from_millis(1));
        }
    });
    addr
}

#[test]
fn reply_split_at_every_byte() {
    let addr = fake(b"*2\r\n$5\r\nhello\r\n%1\r\n+k\r\n:7\r\n", 1);
    let mut c = Client::connect(addr.as_str(), None).unwrap();
    let f = c.call(&["X"]).unwrap();
    let items = f.as_items().unwrap();
    assert_eq!(items[0].as_bytes().unwrap(), b"hello");
    assert!(matches!(&items[1], Frame::Map(p) if p.len() == 1));
}

#[test]
fn several_replies_in_one_packet() {
    let addr = fake(b"+a\r\n+b\r\n:3\r\n", 64);
    let mut c = Client::connect(addr.as_str(), None).unwrap();
    c.send(&["X"]).unwrap();
    assert_eq!(c.read_frame().unwrap().as_bytes().unwrap(), b"a");
    assert_eq!(c.read_frame().unwrap().as_bytes().unwrap(), b"b");
    assert_eq!(c.read_frame().unwrap().as_int(), Some(3));
    assert!(matches!(c.read_frame(), Err(ClientError::Closed)));
}

#[test]
fn truncated_reply_is_closed() {
    let addr = fake(b"$10\r\nabc", 64);
    let mut c = Client::connect(addr.as_str(), None).unwrap();
    assert!(matches!(c.call(&["X"]), Err(ClientError::Closed)));
}

#[test]
fn garbage_is_a_protocol_error() {
    let addr = fake(b"?what\r\n", 64);
    let mut c = Client::connect(addr.as_str(), None).unwrap();
    let e = c.call(&["X"]).unwrap_err();
    assert!(matches!(e, ClientError::Protocol(_)), "{e:?}");
}

#[test]
fn refused_connection_reads_like_strerror() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let e = match Client::connect(addr.as_str(), Duration::from_secs(1)) {
        Err(e) => e,
        Ok(_) => return, // someone grabbed the port meanwhile
    };
    assert_eq!(e.to_string(), "Connection refused");
}

#[test]
fn missing_unix_socket() {
    let e = match Client::connect("/nonexistent/shoal.sock", None) {
        Err(e) => e,
        Ok(_) => panic!("connected to nothing"),
    };
    assert_eq!(e.to_string(), "No such file or directory");
}
