//! The blocking client against a real server.

mod common;

use shoal_client::{Addr, Client, ClientError, Frame, FrameExt};
use std::time::Duration;

fn bulk(f: &Frame) -> &[u8] {
    f.as_bytes().expect("a string reply")
}

#[test]
fn call_renders_every_reply_kind() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), Duration::from_secs(2)).unwrap();
    assert!(matches!(c.call(&["SET", "k", "v"]).unwrap(), Frame::Simple(s) if &s[..] == b"OK"));
    assert_eq!(bulk(&c.call(&["GET", "k"]).unwrap()), b"v");
    assert!(c.call(&["GET", "missing"]).unwrap().is_null());
    assert!(matches!(c.call(&["INCR", "n"]).unwrap(), Frame::Integer(1)));
    let err = c.call(&["INCR", "k"]).unwrap();
    assert!(err
        .error_text()
        .unwrap()
        .starts_with(b"ERR value is not an integer"));
    c.call(&["RPUSH", "l", "a", "b"]).unwrap();
    let items = c.call(&["LRANGE", "l", "0", "-1"]).unwrap();
    let items = items.as_items().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(bulk(&items[1]), b"b");
}

#[test]
fn binary_and_large_values_round_trip() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    c.call(&[&b"SET"[..], b"big", &big]).unwrap();
    assert_eq!(bulk(&c.call(&["GET", "big"]).unwrap()), &big[..]);
    let odd = b"a\r\nb\0c";
    c.call(&[&b"SET"[..], odd, odd]).unwrap();
    assert_eq!(bulk(&c.call(&[&b"GET"[..], odd]).unwrap()), odd);
}

#[test]
fn pipelined_replies_arrive_in_order() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    for _ in 0..1000 {
        c.send(&["INCR", "ctr"]).unwrap();
    }
    for i in 1..=1000 {
        assert!(matches!(c.read_frame().unwrap(), Frame::Integer(n) if n == i));
    }
    let replies = c
        .pipeline(&[vec!["SET", "a", "1"], vec!["GET", "a"], vec!["DEL", "a"]])
        .unwrap();
    assert_eq!(replies.len(), 3);
    assert_eq!(bulk(&replies[1]), b"1");
    assert!(matches!(replies[2], Frame::Integer(1)));
}

#[test]
fn raw_bytes_and_inline_commands() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\ny\r\nPING\r\n")
        .unwrap();
    assert!(matches!(c.read_frame().unwrap(), Frame::Simple(_)));
    assert!(matches!(c.read_frame().unwrap(), Frame::Simple(s) if &s[..] == b"PONG"));
}

#[test]
fn unix_socket_and_select() {
    let srv = server_or_skip!();
    let mut c = Client::connect(Addr::unix(&srv.socket), None).unwrap();
    c.select(3).unwrap();
    c.call(&["SET", "in3", "yes"]).unwrap();
    let mut c0 = Client::connect(srv.socket.as_path(), None).unwrap();
    assert!(c0.call(&["GET", "in3"]).unwrap().is_null());
    assert!(matches!(c0.select(999), Err(ClientError::Server(_))));
}

#[test]
fn hello_3_switches_to_resp3() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    assert!(matches!(c.hello(3).unwrap(), Frame::Map(_)));
    c.call(&["HSET", "h", "f", "v"]).unwrap();
    match c.call(&["HGETALL", "h"]).unwrap() {
        Frame::Map(pairs) => assert_eq!(bulk(&pairs[0].1), b"v"),
        _ => panic!("expected a map"),
    }
    assert!(matches!(c.call(&["GET", "nothing"]).unwrap(), Frame::Null));
}

#[test]
fn auth_errors_are_server_errors() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    match c.auth(Some(b"nobody"), b"pw") {
        Err(ClientError::Server(m)) => assert!(m.starts_with(b"WRONGPASS")),
        _ => panic!("expected WRONGPASS"),
    }
}

#[test]
fn subscribe_stream_with_split_halves() {
    let srv = server_or_skip!();
    let c = Client::connect(srv.addr(), None).unwrap();
    let (mut r, mut w) = c.into_split();
    w.send(&["SUBSCRIBE", "ch"]).unwrap();
    let confirm = r.read_frame().unwrap();
    assert_eq!(bulk(&confirm.as_items().unwrap()[0]), b"subscribe");
    let addr = srv.addr();
    let publisher = std::thread::spawn(move || {
        let mut p = Client::connect(addr, None).unwrap();
        p.call(&["PUBLISH", "ch", "hello"]).unwrap()
    });
    let msg = r.read_frame().unwrap();
    let items = msg.as_items().unwrap();
    assert_eq!(bulk(&items[0]), b"message");
    assert_eq!(bulk(&items[2]), b"hello");
    assert!(matches!(publisher.join().unwrap(), Frame::Integer(1)));
}

#[test]
fn server_hangup_is_closed() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    c.call(&["QUIT"]).unwrap();
    let e = c.read_frame().unwrap_err();
    assert!(matches!(e, ClientError::Closed), "{e:?}");
    assert_eq!(e.to_string(), "Server closed the connection");
    assert!(e.is_connection_lost());
}

#[test]
fn read_timeout() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    c.set_timeout(Some(Duration::from_millis(100))).unwrap();
    c.send(&["BLPOP", "nolist", "0"]).unwrap();
    assert!(c.read_frame().unwrap_err().is_timeout());
}

#[test]
fn large_aggregate_reply() {
    let srv = server_or_skip!();
    let mut c = Client::connect(srv.addr(), None).unwrap();
    let cmds: Vec<Vec<String>> = (0..100)
        .map(|chunk| {
            let mut cmd = vec!["RPUSH".to_string(), "biglist".to_string()];
            cmd.extend((0..1000).map(|i| format!("item-{}", chunk * 1000 + i)));
            cmd
        })
        .collect();
    c.pipeline(&cmds).unwrap();
    let reply = c.call(&["LRANGE", "biglist", "0", "-1"]).unwrap();
    let items = reply.as_items().unwrap();
    assert_eq!(items.len(), 100_000);
    assert_eq!(bulk(&items[99_999]), b"item-99999");
}
