//! Feeds arbitrary bytes to the AOF command-stream reader and the manifest parser.
//!
//! Checks: no panic; commands come with increasing offsets inside the input; a
//! truncation or corruption is reported at an offset no further than the input;
//! the valid prefix re-reads to the same commands without error; a parsed
//! manifest writes back to bytes that parse to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_aof::{CommandReader, Manifest, ReadError};

fuzz_target!(|data: &[u8]| {
    let mut rd = CommandReader::new(data, 0);
    let mut cmds = Vec::new();
    let mut last_end = 0;
    let valid = loop {
        match rd.next_command() {
            Ok(Some(c)) => {
                assert!(c.offset >= last_end && c.end > c.offset);
                assert!(c.end <= data.len() as u64);
                last_end = c.end;
                cmds.push(c);
            }
            Ok(None) => break data.len() as u64,
            Err(e) => {
                if let ReadError::Corrupt { at, .. } = &e {
                    assert!(*at <= data.len() as u64);
                }
                let v = e.valid_up_to();
                assert!(v >= last_end && v <= data.len() as u64);
                break v;
            }
        }
    };
    // The valid prefix reads cleanly to the same commands.
    let mut again = CommandReader::new(&data[..valid as usize], 0);
    let mut n = 0;
    while let Some(c) = again.next_command().expect("valid prefix re-reads") {
        assert_eq!(c, cmds[n]);
        n += 1;
    }
    assert_eq!(n, cmds.len());

    if let Ok(m) = Manifest::parse(data) {
        let bytes = m.to_bytes();
        let back = Manifest::parse(&bytes).expect("written manifest parses");
        assert_eq!(back.base, m.base);
        assert_eq!(back.incrs, m.incrs);
        assert_eq!(back.history, m.history);
    }
});
