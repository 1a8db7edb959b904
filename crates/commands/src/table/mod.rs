//! The command table: every command of Redis 7.0.15 with its facts (`data.rs`,
//! generated), our own one-line summaries (`summaries.rs`) and the name lookup used
//! on every request.
//!
//! Invariant: `data::COMMANDS` is sorted by name and each command's subcommands are
//! sorted by name; names are lowercase ASCII.

mod build;
pub mod data;
pub mod summaries;

use crate::spec::CommandSpec;
use bytes::Bytes;
use std::sync::OnceLock;

/// Longer than any command name (the longest is 20 bytes); longer input is unknown.
const MAX_NAME: usize = 32;

/// Every command, sorted by name.
pub fn all() -> &'static [CommandSpec] {
    data::COMMANDS
}

/// Slots of the name index: a power of two, about four times the number of commands
/// so that probes are short.
const SLOTS: usize = 1024;
const EMPTY: u16 = u16::MAX;

/// A name folded for lookup: ASCII-lowercased and zero-padded to `MAX_NAME` bytes, as
/// four little-endian words, so that hashing and comparing take a few word operations.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Folded {
    words: [u64; MAX_NAME / 8],
    len: usize,
}

/// ASCII-lowercases the eight bytes of `x` at once (bytes >= 0x80 are left alone).
fn lower8(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    // Each byte's low seven bits plus a bias sets the byte's high bit iff the value is
    // >= 'A' (resp. > 'Z'); the sums stay below 0x100, so no carry crosses bytes.
    let low7 = x & !HIGH;
    let ge_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let gt_z = low7 + ONES * (0x7f - u64::from(b'Z'));
    let upper = ge_a & !gt_z & !x & HIGH;
    x | (upper >> 2)
}

fn fold(name: &[u8]) -> Option<Folded> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    buf[..name.len()].copy_from_slice(name);
    let mut words = [0u64; MAX_NAME / 8];
    for (w, chunk) in words.iter_mut().zip(buf.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = lower8(u64::from_le_bytes(b));
    }
    Some(Folded {
        words,
        len: name.len(),
    })
}

/// Multiplicative hashing, keeping the top bits of the products (names of up to eight
/// bytes, most of them, differ in the first word only).
fn slot_of(f: &Folded) -> usize {
    let [a, b, c, d] = f.words;
    let h = (a ^ f.len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (b ^ c ^ d).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

struct Index {
    /// Indexes into `data::COMMANDS`, or `EMPTY`; linear probing.
    slots: [u16; SLOTS],
    /// The folded name of each command, by the same index.
    names: Vec<Folded>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Box<Index>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut ix = Box::new(Index {
            slots: [EMPTY; SLOTS],
            names: Vec::with_capacity(data::COMMANDS.len()),
        });
        for (i, c) in data::COMMANDS.iter().enumerate() {
            // Invariant (checked in tests): names fit MAX_NAME, fewer than SLOTS / 2
            // commands, so folding succeeds, a free slot exists and i fits a u16.
            let f = fold(c.name.as_bytes()).expect("command names fit MAX_NAME");
            let mut s = slot_of(&f);
            while ix.slots[s] != EMPTY {
                s = (s + 1) & (SLOTS - 1);
            }
            ix.slots[s] = i as u16;
            ix.names.push(f);
        }
        ix
    })
}

/// The top-level command called `name`, in any letter case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let f = fold(name)?;
    let ix = index();
    let mut s = slot_of(&f);
    loop {
        let i = usize::from(ix.slots[s]);
        if i == usize::from(EMPTY) {
            return None;
        }
        if ix.names[i] == f {
            return data::COMMANDS.get(i);
        }
        s = (s + 1) & (SLOTS - 1);
    }
}

/// A command or a subcommand by its full name ("get", "config|get"), as `COMMAND INFO`
/// and ACL rules name them. A name with more than one '|' is unknown.
pub fn lookup_full(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup(name),
        Some(i) => {
            let parent = lookup(&name[..i])?;
            let rest = &name[i + 1..];
            if rest.contains(&b'|') {
                return None;
            }
            parent.subcommand(rest)
        }
    }
}

/// How a call's name resolves, as Redis's `lookupCommand` does it.
#[derive(Debug, Clone, Copy)]
pub enum Resolved {
    /// The spec that governs the call: the subcommand's when the command has
    /// subcommands and the call names one.
    Found(&'static CommandSpec),
    /// Unknown command name.
    Unknown,
    /// The command has subcommands and `argv[1]` is none of them (the parent is given
    /// for the error text).
    UnknownSubcommand(&'static CommandSpec),
}

/// Resolves `argv[0]` (and `argv[1]` for commands with subcommands). A container
/// called without a subcommand resolves to itself, so that its arity check fails the
/// way Redis's does.
pub fn resolve(argv: &[Bytes]) -> Resolved {
    let Some(name) = argv.first() else {
        return Resolved::Unknown;
    };
    let Some(cmd) = lookup(name) else {
        return Resolved::Unknown;
    };
    if cmd.subcommands.is_empty() || argv.len() < 2 {
        return Resolved::Found(cmd);
    }
    match cmd.subcommand(&argv[1]) {
        Some(s) => Resolved::Found(s),
        None => Resolved::UnknownSubcommand(cmd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_lowercase() {
        let names: Vec<&str> = all().iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for c in all() {
            assert!(c.name.bytes().all(|b| !b.is_ascii_uppercase()));
            assert!(c.name.len() <= MAX_NAME);
            let subs: Vec<&str> = c.subcommands.iter().map(|s| s.name).collect();
            let mut sorted = subs.clone();
            sorted.sort_unstable();
            assert_eq!(subs, sorted, "{}", c.name);
            for s in c.subcommands {
                assert_eq!(s.parent, c.name);
            }
        }
        assert_eq!(all().len(), 240);
        assert!(all().len() < SLOTS / 2);
        let ix = index();
        for c in all() {
            let f = fold(c.name.as_bytes()).unwrap();
            let home = slot_of(&f);
            let probes = (0..SLOTS)
                .position(|d| {
                    let i = ix.slots[(home + d) & (SLOTS - 1)];
                    i != EMPTY && all()[usize::from(i)].name == c.name
                })
                .unwrap();
            assert!(probes < 4, "{} needs {} probes", c.name, probes + 1);
        }
        for c in all() {
            assert!(std::ptr::eq(lookup(c.name.as_bytes()).unwrap(), c));
            assert!(std::ptr::eq(
                lookup(c.name.to_uppercase().as_bytes()).unwrap(),
                c
            ));
        }
    }

    #[test]
    fn lower8_matches_std() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut bytes = *b"aZ_-09Q\xff";
                bytes[pos] = b;
                let want = u64::from_le_bytes(bytes.map(|c| c.to_ascii_lowercase()));
                assert_eq!(lower8(u64::from_le_bytes(bytes)), want, "{b} at {pos}");
            }
        }
    }

    #[test]
    fn lookups() {
        assert!(lookup(b"get\0").is_none());
        assert!(lookup(b"GE").is_none());
        assert!(lookup(b"\xc7ET").is_none());
        assert_eq!(lookup(b"GET").map(|c| c.name), Some("get"));
        assert_eq!(lookup(b"gEt").map(|c| c.arity), Some(2));
        assert!(lookup(b"nosuch").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
        assert!(lookup(b"").is_none());
        assert_eq!(
            lookup_full(b"CONFIG|Get").map(|c| c.full_name()),
            Some("config|get".to_string())
        );
        assert!(lookup_full(b"config|get|x").is_none());
        assert!(lookup_full(b"get|x").is_none());
        let argv = [
            Bytes::from_static(b"object"),
            Bytes::from_static(b"ENCODING"),
        ];
        assert!(matches!(resolve(&argv), Resolved::Found(s) if s.full_name() == "object|encoding"));
        let argv = [Bytes::from_static(b"object"), Bytes::from_static(b"nope")];
        assert!(matches!(resolve(&argv), Resolved::UnknownSubcommand(s) if s.name == "object"));
        assert!(matches!(resolve(&argv[..1]), Resolved::Found(s) if s.name == "object"));
        assert!(matches!(resolve(&[]), Resolved::Unknown));
    }
}
