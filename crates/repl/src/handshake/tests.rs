//! The handshake against scripted master replies (texts from Redis 7.0.15).

use super::*;

const MID: &str = "1ff829fa2abd247bb757bee732ac5efba9ad6d78";
const MID2: &str = "9c93ddca20e2ff4f31c6cddffe21a7873afc14b1";

fn cfg() -> HandshakeConfig {
    HandshakeConfig {
        master_host: "127.0.0.1".into(),
        master_port: 7502,
        listening_port: 7503,
        announce_ip: None,
        masteruser: None,
        masterauth: None,
        timeout: 60_000,
        diskless_load: false,
        reconnect: false,
    }
}

fn sends(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn logs(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(_, s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn line(h: &mut Handshake, now: u64, l: &str) -> Vec<Action> {
    h.handle(now, Event::Line(l.as_bytes().to_vec()))
}

/// Drives start, connect and PING; returns the pipelined block sent.
fn through_ping(h: &mut Handshake, ping_reply: &str) -> Vec<u8> {
    let a = h.handle(0, Event::Start);
    assert_eq!(
        logs(&a),
        [
            "Connecting to MASTER 127.0.0.1:7502",
            "MASTER <-> REPLICA sync started"
        ]
    );
    let a = h.handle(1, Event::Connected);
    assert_eq!(sends(&a), b"*1\r\n$4\r\nPING\r\n");
    let a = line(h, 2, ping_reply);
    assert_eq!(
        logs(&a),
        ["Master replied to PING, replication can continue..."]
    );
    sends(&a)
}

const PORT_CAPA: &[u8] = b"*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7503\r\n*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n";

#[test]
fn fresh_replica_full_resync_eof_marked() {
    // The exchange captured between two Redis 7.0.15 servers.
    let mut h = Handshake::new(cfg(), None);
    assert_eq!(through_ping(&mut h, "+PONG"), PORT_CAPA);
    assert!(line(&mut h, 3, "+OK").is_empty());
    let a = line(&mut h, 3, "+OK");
    assert_eq!(
        logs(&a),
        ["Partial resynchronization not possible (no cached master)"]
    );
    assert_eq!(sends(&a), b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
    for t in 4..10 {
        assert!(line(&mut h, t, "").is_empty(), "keepalive");
    }
    let a = line(&mut h, 10, &format!("+FULLRESYNC {MID} 50"));
    assert_eq!(logs(&a), [format!("Full resync from master: {MID}:50")]);
    assert!(a.contains(&Action::DiscardCachedMaster));
    assert!(h.is_transferring());
    let a = line(&mut h, 11, "");
    assert!(a.is_empty());
    let a = line(&mut h, 11, "$EOF:3225b69d1cc9e63cc7f1228b7944a8086734a7ee");
    assert_eq!(
        a,
        vec![
            notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk"),
            Action::StartRdb(RdbStart {
                replid: ReplId::parse(MID.as_bytes()),
                offset: 50,
                framing: PayloadFraming::EofMark(*b"3225b69d1cc9e63cc7f1228b7944a8086734a7ee"),
            })
        ]
    );
    assert!(h.is_finished());
    assert!(line(&mut h, 12, "+OK").is_empty());
}

#[test]
fn auth_and_ip_sized_payload() {
    let mut c = cfg();
    c.masterauth = Some(b"pw".to_vec());
    c.announce_ip = Some(b"10.0.0.9".to_vec());
    c.diskless_load = true;
    let mut h = Handshake::new(c, None);
    // -NOAUTH to PING is expected before AUTH.
    let block = through_ping(&mut h, "-NOAUTH Authentication required.");
    let mut want = b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n".to_vec();
    want.extend_from_slice(b"*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7503\r\n");
    want.extend_from_slice(b"*3\r\n$8\r\nREPLCONF\r\n$10\r\nip-address\r\n$8\r\n10.0.0.9\r\n");
    want.extend_from_slice(
        b"*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n",
    );
    assert_eq!(block, want);
    for _ in 0..3 {
        assert!(line(&mut h, 3, "+OK").is_empty());
    }
    let a = line(&mut h, 3, "+OK");
    assert_eq!(sends(&a), b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
    line(&mut h, 4, &format!("+FULLRESYNC {MID2} 0"));
    let a = line(&mut h, 4, "$172");
    assert_eq!(
        a,
        vec![
            notice("MASTER <-> REPLICA sync: receiving 172 bytes from master to parser"),
            Action::StartRdb(RdbStart {
                replid: ReplId::parse(MID2.as_bytes()),
                offset: 0,
                framing: PayloadFraming::Sized(172),
            })
        ]
    );
}

#[test]
fn masteruser_auth_and_auth_failure() {
    let mut c = cfg();
    c.masteruser = Some(b"repl".to_vec());
    c.masterauth = Some(b"secret".to_vec());
    let mut h = Handshake::new(c, None);
    let block = through_ping(&mut h, "+PONG");
    assert!(block
        .starts_with(b"*3\r\n$4\r\nAUTH\r\n$4\r\nrepl\r\n$6\r\nsecret\r\n*3\r\n$8\r\nREPLCONF"));
    let a = line(
        &mut h,
        3,
        "-WRONGPASS invalid username-password pair or user is disabled.",
    );
    assert_eq!(
        a,
        vec![
            warning("Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled."),
            Action::Abort
        ]
    );
    assert!(h.is_finished());
}

#[test]
fn masteruser_without_masterauth_sends_no_auth() {
    let mut c = cfg();
    c.masteruser = Some(b"repl".to_vec());
    let mut h = Handshake::new(c, None);
    assert_eq!(through_ping(&mut h, "+PONG"), PORT_CAPA);
}

#[test]
fn ping_errors() {
    for tolerated in [
        "-NOPERM this user has no permissions to run the 'ping' command",
        "-ERR operation not permitted",
    ] {
        let mut h = Handshake::new(cfg(), None);
        assert_eq!(through_ping(&mut h, tolerated), PORT_CAPA);
    }
    let mut h = Handshake::new(cfg(), None);
    h.handle(0, Event::Start);
    h.handle(0, Event::Connected);
    let a = line(&mut h, 1, "-ERR unknown command");
    assert_eq!(
        a,
        vec![
            warning("Error reply to PING from master: '-ERR unknown command'"),
            Action::Abort
        ]
    );
}

#[test]
fn replconf_errors_are_not_critical() {
    let mut c = cfg();
    c.announce_ip = Some(b"10.0.0.9".to_vec());
    let mut h = Handshake::new(c, None);
    through_ping(&mut h, "+PONG");
    let a = line(&mut h, 3, "-NOAUTH Authentication required.");
    assert_eq!(
        logs(&a),
        ["(Non critical) Master does not understand REPLCONF listening-port: -NOAUTH Authentication required."]
    );
    let a = line(&mut h, 3, "-ERR Unrecognized REPLCONF option: ip-address");
    assert_eq!(
        logs(&a),
        ["(Non critical) Master does not understand REPLCONF ip-address: -ERR Unrecognized REPLCONF option: ip-address"]
    );
    let a = line(&mut h, 3, "-ERR x");
    assert_eq!(
        logs(&a),
        [
            "(Non critical) Master does not understand REPLCONF capa: -ERR x",
            "Partial resynchronization not possible (no cached master)"
        ]
    );
    assert!(!h.is_finished());
}

fn cached() -> CachedMaster {
    CachedMaster {
        replid: ReplId::parse(MID.as_bytes()).unwrap(),
        reploff: 50,
    }
}

fn through_psync(h: &mut Handshake) {
    through_ping(h, "+PONG");
    line(h, 3, "+OK");
    let a = line(h, 3, "+OK");
    assert_eq!(
        logs(&a),
        [format!(
            "Trying a partial resynchronization (request {MID}:51)."
        )]
    );
    let mut want = b"*3\r\n$5\r\nPSYNC\r\n$40\r\n".to_vec();
    want.extend_from_slice(MID.as_bytes());
    want.extend_from_slice(b"\r\n$2\r\n51\r\n");
    assert_eq!(sends(&a), want);
}

#[test]
fn continue_same_and_new_replid() {
    let mut h = Handshake::new(cfg(), Some(cached()));
    through_psync(&mut h);
    let a = line(&mut h, 4, &format!("+CONTINUE {MID}"));
    assert_eq!(
        logs(&a),
        [
            "Successful partial resynchronization with master.",
            "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
        ]
    );
    assert_eq!(
        a.last(),
        Some(&Action::Continue {
            replid: cached().replid,
            reploff: 50,
            new_replid: None
        })
    );

    let mut h = Handshake::new(cfg(), Some(cached()));
    through_psync(&mut h);
    let a = line(&mut h, 4, &format!("+CONTINUE {MID2}"));
    assert_eq!(
        logs(&a),
        [
            "Successful partial resynchronization with master.".to_string(),
            format!("Master replication ID changed to {MID2}"),
            "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.".to_string()
        ]
    );
    // Redis prints this one at warning level (`#`).
    assert!(a.contains(&warning(format!("Master replication ID changed to {MID2}"))));
    let new = ReplId::parse(MID2.as_bytes());
    assert_eq!(
        a.last(),
        Some(&Action::Continue {
            replid: new.unwrap(),
            reploff: 50,
            new_replid: new
        })
    );

    // Old-style master: bare +CONTINUE keeps the cached ID.
    let mut h = Handshake::new(cfg(), Some(cached()));
    through_psync(&mut h);
    let a = line(&mut h, 4, "+CONTINUE");
    assert_eq!(
        a.last(),
        Some(&Action::Continue {
            replid: cached().replid,
            reploff: 50,
            new_replid: None
        })
    );
}

#[test]
fn cached_master_refused_gets_full_resync() {
    let mut h = Handshake::new(cfg(), Some(cached()));
    through_psync(&mut h);
    let a = line(&mut h, 4, &format!("+FULLRESYNC {MID2} 50"));
    assert_eq!(logs(&a), [format!("Full resync from master: {MID2}:50")]);
    assert!(a.contains(&Action::DiscardCachedMaster));
}

#[test]
fn psync_error_replies() {
    for (reply, log) in [
        ("-NOMASTERLINK Can't SYNC while not connected with my master", "Master is currently unable to PSYNC but should be in the future: -NOMASTERLINK Can't SYNC while not connected with my master"),
        ("-LOADING Redis is loading the dataset in memory", "Master is currently unable to PSYNC but should be in the future: -LOADING Redis is loading the dataset in memory"),
    ] {
        let mut h = Handshake::new(cfg(), Some(cached()));
        through_psync(&mut h);
        assert_eq!(line(&mut h, 4, reply), vec![notice(log), Action::Abort]);
    }
    // Unknown command: fall back to SYNC, then a sized payload with no ID.
    let mut h = Handshake::new(cfg(), None);
    through_ping(&mut h, "+PONG");
    line(&mut h, 3, "+OK");
    line(&mut h, 3, "+OK");
    let a = line(&mut h, 4, "-ERR unknown command 'PSYNC'");
    assert!(logs(&a).contains(&"Retrying with SYNC...".to_string()));
    assert_eq!(sends(&a), b"SYNC\r\n");
    let a = line(&mut h, 5, "$10");
    assert_eq!(
        a.last(),
        Some(&Action::StartRdb(RdbStart {
            replid: None,
            offset: -1,
            framing: PayloadFraming::Sized(10)
        }))
    );
}

#[test]
fn malformed_fullresync_and_bad_payload_headers() {
    let mut h = Handshake::new(cfg(), None);
    through_ping(&mut h, "+PONG");
    line(&mut h, 3, "+OK");
    line(&mut h, 3, "+OK");
    let a = line(&mut h, 4, "+FULLRESYNC nonsense");
    assert_eq!(logs(&a), ["Master replied with wrong +FULLRESYNC syntax."]);
    let a = line(&mut h, 4, "-ERR snapshot failed");
    assert_eq!(
        a,
        vec![
            warning("MASTER aborted replication with an error: ERR snapshot failed"),
            Action::Abort
        ]
    );

    for (hdr, log) in [
        ("+OK", "Bad protocol from MASTER, the first byte is not '$' (we received '+OK'), are you sure the host and port are right?"),
        ("$abc", "Bad protocol from MASTER, invalid bulk length '$abc'"),
        ("$-1", "Bad protocol from MASTER, invalid bulk length '$-1'"),
        ("$EOF:short", "Bad protocol from MASTER, invalid bulk length '$EOF:short'"),
    ] {
        let mut h = Handshake::new(cfg(), None);
        through_ping(&mut h, "+PONG");
        line(&mut h, 3, "+OK");
        line(&mut h, 3, "+OK");
        line(&mut h, 4, &format!("+FULLRESYNC {MID} 0"));
        assert_eq!(line(&mut h, 5, hdr), vec![warning(log), Action::Abort]);
    }
}

#[test]
fn unexpected_continue_without_cache_aborts() {
    let mut h = Handshake::new(cfg(), None);
    through_ping(&mut h, "+PONG");
    line(&mut h, 3, "+OK");
    line(&mut h, 3, "+OK");
    let a = line(&mut h, 4, "+CONTINUE");
    assert_eq!(a.last(), Some(&Action::Abort));
}

#[test]
fn timeouts_and_close() {
    let mut h = Handshake::new(cfg(), None);
    h.handle(0, Event::Start);
    assert!(h.handle(60_000, Event::Tick).is_empty());
    assert_eq!(
        h.handle(60_001, Event::Tick),
        vec![
            warning("Timeout connecting to the MASTER..."),
            Action::Abort
        ]
    );

    let mut h = Handshake::new(cfg(), None);
    through_ping(&mut h, "+PONG");
    line(&mut h, 3, "+OK");
    line(&mut h, 3, "+OK");
    line(&mut h, 10, &format!("+FULLRESYNC {MID} 0"));
    line(&mut h, 50_000, ""); // keepalives count as I/O
    assert!(h.handle(100_000, Event::Tick).is_empty());
    let a = h.handle(110_001, Event::Tick);
    assert_eq!(a.len(), 2);
    assert!(logs(&a)[0].starts_with("Timeout receiving bulk data from MASTER..."));

    let mut h = Handshake::new(cfg(), None);
    through_ping(&mut h, "+PONG");
    assert_eq!(
        h.handle(5, Event::Closed),
        vec![
            warning("Master did not respond to command during SYNC handshake"),
            Action::Abort
        ]
    );
    assert!(h.handle(6, Event::Tick).is_empty());

    let mut h = Handshake::new(cfg(), None);
    h.handle(0, Event::Start);
    assert_eq!(
        h.handle(1, Event::ConnectFailed("Connection refused".into())),
        vec![
            warning("Error condition on socket for SYNC: Connection refused"),
            Action::Abort
        ]
    );
}

#[test]
fn take_line_splits_crlf_and_bare_lf() {
    let mut buf = b"+PONG\r\n\n+FULLRESYNC x 1\r\n$5\r\nREDIS".to_vec();
    assert_eq!(take_line(&mut buf), Ok(Some(b"+PONG".to_vec())));
    assert_eq!(take_line(&mut buf), Ok(Some(b"".to_vec())));
    assert_eq!(take_line(&mut buf), Ok(Some(b"+FULLRESYNC x 1".to_vec())));
    assert_eq!(take_line(&mut buf), Ok(Some(b"$5".to_vec())));
    assert_eq!(take_line(&mut buf), Ok(None));
    assert_eq!(buf, b"REDIS");
    let mut big = vec![b'x'; MAX_LINE + 1];
    assert!(take_line(&mut big).is_err());
}
