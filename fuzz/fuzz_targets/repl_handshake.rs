//! Feeds arbitrary bytes as a master's replies to the replica's handshake
//! machine, then the rest as an `$EOF:`-framed payload, and a replica's input
//! to the PSYNC decision.
//!
//! Checks: no panic; after `Abort`, `StartRdb` or `Continue` the machine is
//! finished and answers nothing more; the EOF scanner never outputs more bytes
//! than it was fed and, once done, hands back only bytes it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_repl::handshake::take_line;
use shoal_repl::{
    psync_decide, Action, Backlog, CachedMaster, EofScan, EofScanner, Event, Handshake,
    HandshakeConfig, PayloadFraming, ReplId, ReplIds,
};

fn cfg(flags: u8) -> HandshakeConfig {
    HandshakeConfig {
        master_host: "127.0.0.1".into(),
        master_port: 6380,
        listening_port: 6381,
        announce_ip: (flags & 1 != 0).then(|| b"10.0.0.1".to_vec()),
        masteruser: (flags & 2 != 0).then(|| b"u".to_vec()),
        masterauth: (flags & 4 != 0).then(|| b"p".to_vec()),
        timeout: 60_000,
        diskless_load: flags & 8 != 0,
        reconnect: flags & 16 != 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let cached = (flags & 32 != 0).then(|| CachedMaster {
        replid: ReplId::parse(b"1ff829fa2abd247bb757bee732ac5efba9ad6d78").unwrap(),
        reploff: 100,
    });
    let mut hs = Handshake::new(cfg(flags), cached);
    hs.handle(0, Event::Start);
    hs.handle(1, Event::Connected);
    let mut buf = rest.to_vec();
    let mut now = 2;
    let mut framing = None;
    while !hs.is_finished() {
        match take_line(&mut buf) {
            Ok(Some(line)) => {
                for a in hs.handle(now, Event::Line(line)) {
                    if let Action::StartRdb(s) = a {
                        framing = Some(s.framing);
                    }
                }
            }
            _ => break,
        }
        now += 1;
    }
    if hs.is_finished() {
        assert!(hs.handle(now, Event::Tick).is_empty());
        assert!(hs.handle(now, Event::Line(b"+OK".to_vec())).is_empty());
    } else {
        hs.handle(now + 120_000, Event::Tick);
    }
    if let Some(PayloadFraming::EofMark(mark)) = framing {
        let mut sc = EofScanner::new(mark);
        let mut out = Vec::new();
        let mut fed = 0usize;
        for chunk in buf.chunks(7) {
            fed += chunk.len();
            match sc.feed(chunk, &mut out) {
                EofScan::More => assert!(out.len() <= fed),
                EofScan::Done { rest } => {
                    assert!(out.len() + rest.len() <= fed);
                    break;
                }
            }
        }
    }
    // The master's decision on a PSYNC built from the same bytes.
    let mut ids = ReplIds {
        replid: ReplId::parse(b"1ff829fa2abd247bb757bee732ac5efba9ad6d78").unwrap(),
        replid2: ReplId::parse(b"9c93ddca20e2ff4f31c6cddffe21a7873afc14b1").unwrap(),
        second_repl_offset: 50,
    };
    let mut b = Backlog::new(64, 0);
    b.feed(rest);
    let off = rest
        .get(..8)
        .map(|s| i64::from_le_bytes(s.try_into().unwrap()))
        .unwrap_or(1);
    let d = psync_decide(&ids, Some(&b), b.master_repl_offset(), rest, off, flags & 64 != 0);
    let _ = d.reply_line();
    let _ = d.log_lines(&ids, "127.0.0.1:1");
    ids.clear_replid2();
    let _ = b.copy_from(off);
});
