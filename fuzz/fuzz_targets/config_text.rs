//! The configuration loader and CONFIG REWRITE on arbitrary file contents: no
//! panic or runaway memory, loading the original and loading what was rewritten.
//! (A rewritten file need not load: Redis itself writes back values it accepted
//! but cannot read again, e.g. a `save` change count that wrapped to -1.)
//!
//! `include` lines are rewritten to a path that does not exist, so the fuzzer
//! never reads real files; the loader's "can't open" path is still exercised.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_config::{Config, LoadOptions, RewriteExtra};
use std::io::Cursor;

fn load(text: &[u8]) -> Option<Config> {
    let mut input = Cursor::new(text.to_vec());
    let opts = LoadOptions {
        sentinel_mode: false,
        stdin: Some(&mut input),
        cwd: Some(std::path::PathBuf::from("/")),
        hooks: None,
    };
    Config::load_with(&["-".to_string()], opts).ok()
}

fuzz_target!(|data: &[u8]| {
    let text: Vec<u8> = String::from_utf8_lossy(data)
        .lines()
        .map(|l| {
            if l.trim_start().to_ascii_lowercase().starts_with("include") {
                "include /nonexistent-shoal-fuzz/x.conf".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    let Some(cfg) = load(&text) else { return };
    let rewritten = cfg.rewrite_content(&String::from_utf8_lossy(&text), &RewriteExtra::default());
    let _ = load(rewritten.as_bytes());
});
