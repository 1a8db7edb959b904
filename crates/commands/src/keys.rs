//! Which arguments of a call are keys, as Redis 7.0 finds them.
//!
//! The key specs of the command table say it for almost every command: a start (an
//! index, or a keyword searched forwards or backwards), then a range or a key count.
//! A few commands need a procedure because their keys cannot be described that way
//! (SORT's STORE can be anywhere, MIGRATE's KEYS form depends on an empty key), or
//! because a spec does not apply to a malformed call; Redis then falls back to a
//! per-command procedure, and so do we, matching `COMMAND GETKEYS` of the reference
//! byte for byte on the cases in the tests below.
//!
//! Invariants: every function here is bounded by the number of arguments (a key count
//! larger than what is left is rejected, never iterated) and never panics on any argv.
//! Positions are argv indexes, `argv[0]` being the command name.

use crate::spec::{BeginSearch, CommandSpec, FindKeys, KeySpec};
use crate::table;
use bytes::Bytes;

/// A key of a call and the flags of the key spec that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: &'static [&'static str],
}

/// The argv indexes of the keys of a call, in Redis's order (spec by spec). `spec` may
/// be the container of a subcommand call (`OBJECT ENCODING k`): the subcommand named
/// by `argv[1]` is used then. Nothing is pushed for a keyless or malformed call.
pub fn key_positions(spec: &CommandSpec, argv: &[Bytes], out: &mut Vec<usize>) {
    find_into(spec, argv, false, out);
}

/// Whether a call must run under every shard's lock: a command with keys whose
/// call yielded none (`PFMERGE dest`, whose sources' spec starts past the end;
/// malformed calls) may still touch its arguments as keys, and no declared key
/// tells which shard they are in.
pub fn needs_all_shards(spec: &CommandSpec, positions: &[usize]) -> bool {
    positions.is_empty() && !spec.key_specs.is_empty()
}

/// Like [`key_positions`] with each key's flags. With `include_not_keys`, arguments
/// that key specs mark `not_key` (the shard channels of SPUBLISH and SSUBSCRIBE, which
/// cluster routing hashes like keys) are included. Returns false when the call is
/// malformed in a way that leaves no keys (`out` is then left empty).
pub fn find_keys(
    spec: &CommandSpec,
    argv: &[Bytes],
    include_not_keys: bool,
    out: &mut Vec<KeyRef>,
) -> bool {
    find_into(spec, argv, include_not_keys, out)
}

/// Where found keys go: positions only (the hot path, no allocation beyond `out`) or
/// positions with flags.
trait Sink {
    fn len(&self) -> usize;
    fn truncate(&mut self, len: usize);
    fn push_key(&mut self, pos: usize, flags: &'static [&'static str]);
}

impl Sink for Vec<usize> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len)
    }
    fn push_key(&mut self, pos: usize, _: &'static [&'static str]) {
        self.push(pos)
    }
}

impl Sink for Vec<KeyRef> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len)
    }
    fn push_key(&mut self, pos: usize, flags: &'static [&'static str]) {
        self.push(KeyRef { pos, flags })
    }
}

fn find_into<S: Sink>(
    spec: &CommandSpec,
    argv: &[Bytes],
    include_not_keys: bool,
    out: &mut S,
) -> bool {
    let spec = effective_spec(spec, argv);
    let start = out.len();
    let ok = find_keys_inner(spec, argv, include_not_keys, out);
    if !ok || out.len() == start {
        out.truncate(start);
    }
    ok && out.len() > start
}

/// The subcommand's spec for a container called with a subcommand name; `spec` itself
/// otherwise.
fn effective_spec<'a>(spec: &'a CommandSpec, argv: &[Bytes]) -> &'a CommandSpec {
    match argv.get(1) {
        Some(name) if !spec.subcommands.is_empty() => spec.subcommand(name).unwrap_or(spec),
        _ => spec,
    }
}

/// Whether the command takes keys at all (Redis's `doesCommandHaveKeys`): it has a
/// key procedure, or a key spec that is not `not_key`.
pub fn has_keys(spec: &CommandSpec) -> bool {
    proc_for::<Vec<usize>>(spec).is_some()
        || spec
            .key_specs
            .iter()
            .any(|ks| !ks.flags.contains(&"not_key"))
        || (spec.key_specs.is_empty() && spec.first_key > 0)
}

fn find_keys_inner<S: Sink>(
    spec: &CommandSpec,
    argv: &[Bytes],
    include_not_keys: bool,
    out: &mut S,
) -> bool {
    let proc_ = proc_for(spec);
    let variable_flags = spec
        .key_specs
        .iter()
        .any(|ks| ks.flags.contains(&"variable_flags"));
    if let (Some(p), true) = (proc_, variable_flags) {
        return p(argv, out);
    }
    if !spec.key_specs.is_empty() {
        let start = out.len();
        if from_specs(spec.key_specs, argv, include_not_keys, out) {
            return true;
        }
        out.truncate(start);
    } else if spec.first_key > 0 {
        return from_legacy(spec, argv, out);
    }
    match proc_ {
        Some(p) => p(argv, out),
        None => false,
    }
}

/// Runs the key specs; false when one of them cannot be applied (unknown, incomplete,
/// or out of the call's bounds), in which case the caller falls back to a procedure.
fn from_specs<S: Sink>(
    specs: &'static [KeySpec],
    argv: &[Bytes],
    include_not_keys: bool,
    out: &mut S,
) -> bool {
    let argc = argv.len() as i64;
    for ks in specs {
        if !include_not_keys && ks.flags.contains(&"not_key") {
            continue;
        }
        let mut first = match ks.begin_search {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => match search_keyword(argv, keyword, start_from) {
                Some(i) => i + 1,
                None => continue,
            },
            BeginSearch::Unknown => return false,
        };
        let (last, step) = match ks.find_keys {
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => {
                let last = if last_key >= 0 {
                    first + i64::from(last_key)
                } else if limit <= 0 {
                    argc + i64::from(last_key)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(last_key))
                };
                (last, i64::from(key_step))
            }
            FindKeys::KeyNum {
                key_num_idx,
                first_key,
                key_step,
            } => {
                let idx = first + i64::from(key_num_idx);
                let Some(n) = arg_at(argv, idx).and_then(parse_i64) else {
                    return false;
                };
                if n < 0 {
                    return false;
                }
                first += i64::from(first_key);
                // Redis narrows the count to a C int here: 2^32 + 1 counts as 1.
                (first + i64::from(n as i32) - 1, i64::from(key_step))
            }
            FindKeys::Unknown => return false,
        };
        if last >= argc || last < first || first >= argc || first < 0 || step <= 0 {
            return false;
        }
        let mut i = first;
        while i <= last {
            out.push_key(i as usize, ks.flags);
            i += step;
        }
        if ks.flags.contains(&"incomplete") {
            return false;
        }
    }
    true
}

/// The index of `keyword` (case-insensitive): searching forwards from `start_from`
/// up to the last argument, or backwards from `argc + start_from` down to index 2
/// when `start_from` is negative.
fn search_keyword(argv: &[Bytes], keyword: &str, start_from: i32) -> Option<i64> {
    let argc = argv.len() as i64;
    let kw = keyword.as_bytes();
    if start_from > 0 {
        (i64::from(start_from)..argc - 1)
            .find(|&i| arg_at(argv, i).is_some_and(|a| a.eq_ignore_ascii_case(kw)))
    } else {
        let start = argc + i64::from(start_from);
        (2..=start)
            .rev()
            .find(|&i| arg_at(argv, i).is_some_and(|a| a.eq_ignore_ascii_case(kw)))
    }
}

fn from_legacy<S: Sink>(spec: &CommandSpec, argv: &[Bytes], out: &mut S) -> bool {
    let argc = argv.len() as i64;
    let first = i64::from(spec.first_key);
    let last = if spec.last_key < 0 {
        argc + i64::from(spec.last_key)
    } else {
        i64::from(spec.last_key)
    };
    let step = i64::from(spec.step).max(1);
    let mut i = first;
    while i <= last && i < argc {
        out.push_key(i as usize, &[]);
        i += step;
    }
    true
}

fn arg_at(argv: &[Bytes], i: i64) -> Option<&[u8]> {
    usize::try_from(i)
        .ok()
        .and_then(|i| argv.get(i))
        .map(|b| &b[..])
}

/// A strict decimal i64, as Redis's `string2ll` accepts it.
fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

type KeyProc<S> = fn(&[Bytes], &mut S) -> bool;

/// The procedures of the commands whose keys Redis finds by code rather than by
/// key spec alone (its `getkeys_proc`s). They run when a spec cannot be applied to
/// the call, or always for commands whose key flags depend on the arguments.
fn proc_for<S: Sink>(spec: &CommandSpec) -> Option<KeyProc<S>> {
    if !spec.parent.is_empty() {
        return None;
    }
    Some(match spec.name {
        "set" => proc_set::<S>,
        "bitfield" => proc_bitfield::<S>,
        "sort" => proc_sort::<S>,
        "sort_ro" => proc_sort_ro::<S>,
        "migrate" => proc_migrate::<S>,
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => {
            |a, o| numkeys_keys(a, 2, None, o)
        }
        "georadius" | "georadiusbymember" => proc_georadius::<S>,
        "xread" | "xreadgroup" => proc_xread::<S>,
        "lmpop" | "zmpop" | "sintercard" | "zintercard" | "zunion" | "zinter" | "zdiff" => {
            |a, o| numkeys_keys(a, 1, None, o)
        }
        "blmpop" | "bzmpop" => |a, o| numkeys_keys(a, 2, None, o),
        "zunionstore" | "zinterstore" | "zdiffstore" => |a, o| numkeys_keys(a, 2, Some(1), o),
        _ => return None,
    })
}

const RO_ACCESS: &[&str] = &["RO", "access"];
const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
const OW_UPDATE: &[&str] = &["OW", "update"];
const RW_ACCESS_DELETE: &[&str] = &["RW", "access", "delete"];

fn push<S: Sink>(out: &mut S, pos: usize, flags: &'static [&'static str]) {
    out.push_key(pos, flags);
}

/// SET reads the old value only with GET (looked for from the first option on).
fn proc_set<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    if argv.len() < 2 {
        return false;
    }
    let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    push(out, 1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE });
    true
}

/// BITFIELD is read-only when every operation is a complete GET or OVERFLOW; anything
/// else, malformed operations included, counts as a write.
fn proc_bitfield<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    if argv.len() < 2 {
        return false;
    }
    let mut readonly = true;
    let mut i = 2;
    while i < argv.len() {
        let rem = argv.len() - i - 1;
        let a = &argv[i][..];
        if a.eq_ignore_ascii_case(b"get") && rem >= 2 {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            i += 1;
        } else {
            readonly = false;
            break;
        }
        i += 1;
    }
    push(
        out,
        1,
        if readonly {
            RO_ACCESS
        } else {
            RW_ACCESS_UPDATE
        },
    );
    true
}

fn sort_keys<S: Sink>(argv: &[Bytes], out: &mut S, with_store: bool) -> bool {
    if argv.len() < 2 {
        return false;
    }
    push(out, 1, RO_ACCESS);
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i][..];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if with_store && a.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            // the last STORE wins, as in SORT itself
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(s) = store {
        push(out, s, OW_UPDATE);
    }
    true
}

fn proc_sort<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    sort_keys(argv, out, true)
}

fn proc_sort_ro<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    sort_keys(argv, out, false)
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
/// [KEYS key...]: the KEYS form applies only when the key argument is empty.
fn proc_migrate<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    if argv.len() < 4 {
        return false;
    }
    let mut first = 3;
    let mut num = 1;
    let mut i = 6;
    while i < argv.len() {
        let a = &argv[i][..];
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if !argv[3].is_empty() {
                return false;
            }
            first = i + 1;
            num = argv.len() - first;
            break;
        }
        i += 1;
    }
    for p in first..first + num {
        push(out, p, RW_ACCESS_DELETE);
    }
    true
}

/// C's `atoi`: leading white space, a sign, digits up to the first non-digit; the
/// value is clamped to 64 bits and then narrowed to a C int, as glibc does.
fn atoi(b: &[u8]) -> i32 {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for &d in &b[i..] {
        if !d.is_ascii_digit() {
            break;
        }
        let d = i64::from(d - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v as i32
}

/// The numkeys procedure (Redis's generic one): a count at `argv[at]` read with
/// `atoi`, that many keys right after it, then the destination at `store` if any.
/// Keys found this way carry no flags.
fn numkeys_keys<S: Sink>(argv: &[Bytes], at: usize, store: Option<usize>, out: &mut S) -> bool {
    let Some(count) = argv.get(at) else {
        return false;
    };
    let n = atoi(count);
    let avail = argv.len().saturating_sub(at + 1);
    if n < 1 || n as usize > avail {
        return false;
    }
    for p in at + 1..at + 1 + n as usize {
        push(out, p, &[]);
    }
    if let Some(s) = store {
        push(out, s, &[]);
    }
    true
}

/// GEORADIUS[BYMEMBER] key ... [STORE key] [STOREDIST key]: the last store option wins.
fn proc_georadius<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    if argv.len() < 2 {
        return false;
    }
    push(out, 1, RO_ACCESS);
    let mut store = None;
    let mut i = 5;
    while i < argv.len() {
        let a = &argv[i][..];
        if (a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist"))
            && i + 1 < argv.len()
        {
            store = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    if let Some(s) = store {
        push(out, s, OW_UPDATE);
    }
    true
}

/// XREAD / XREADGROUP: options up to STREAMS, then as many keys as IDs. Anything
/// unexpected before STREAMS is a syntax error, leaving no keys.
fn proc_xread<S: Sink>(argv: &[Bytes], out: &mut S) -> bool {
    let mut streams = None;
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i][..];
        if a.eq_ignore_ascii_case(b"block") || a.eq_ignore_ascii_case(b"count") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"group") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"streams") {
            streams = Some(i);
            break;
        } else if !a.eq_ignore_ascii_case(b"noack") {
            break;
        }
        i += 1;
    }
    let Some(s) = streams else {
        return false;
    };
    let rest = argv.len() - s - 1;
    if rest == 0 || rest % 2 == 1 {
        return false;
    }
    for p in s + 1..s + 1 + rest / 2 {
        push(out, p, RO_ACCESS);
    }
    true
}

/// Why `COMMAND GETKEYS` gives no keys, with the reference's error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetKeysError {
    /// Unknown command or subcommand (or one this server does not implement).
    InvalidCommand,
    /// The command takes no keys.
    NoKeyArguments,
    /// The call does not satisfy the command's arity.
    WrongArity,
    /// The arguments leave no keys (a bad key count, a missing STREAMS, ...).
    InvalidArguments,
}

/// The error reply text (with its "ERR " prefix) for a `COMMAND GETKEYS` failure.
pub fn getkeys_error(e: GetKeysError) -> &'static str {
    match e {
        GetKeysError::InvalidCommand => "ERR Invalid command specified",
        GetKeysError::NoKeyArguments => "ERR The command has no key arguments",
        GetKeysError::WrongArity => "ERR Invalid number of arguments specified for command",
        GetKeysError::InvalidArguments => "ERR Invalid arguments specified for command",
    }
}

/// `COMMAND GETKEYS` / `GETKEYSANDFLAGS` on `call` (the command under test, from its
/// name on). `implemented` hides commands the server does not run. On success `out`
/// holds the keys, possibly none for a command flagged `no_mandatory_keys`.
pub fn getkeys(
    call: &[Bytes],
    implemented: &dyn Fn(&CommandSpec) -> bool,
    out: &mut Vec<KeyRef>,
) -> Result<(), GetKeysError> {
    let spec = match table::resolve(call) {
        table::Resolved::Found(s) => s,
        _ => return Err(GetKeysError::InvalidCommand),
    };
    let top = if spec.parent.is_empty() {
        spec
    } else {
        table::lookup(spec.parent.as_bytes()).unwrap_or(spec)
    };
    if !implemented(top) || !implemented(spec) {
        return Err(GetKeysError::InvalidCommand);
    }
    if !has_keys(spec) {
        return Err(GetKeysError::NoKeyArguments);
    }
    if !spec.arity_ok(call.len()) {
        return Err(GetKeysError::WrongArity);
    }
    if find_keys(spec, call, false, out) || spec.has_flag("no_mandatory_keys") {
        Ok(())
    } else {
        Err(GetKeysError::InvalidArguments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(call: &str) -> Vec<Bytes> {
        call.split(' ')
            .map(|a| {
                if a == "''" {
                    Bytes::new()
                } else {
                    Bytes::copy_from_slice(a.as_bytes())
                }
            })
            .collect()
    }

    /// `COMMAND GETKEYSANDFLAGS <call>` answers of redis-server 7.0.15, as
    /// "key:flag,flag ..." or the error text (captured with tools/resp_min.py).
    const REFERENCE: &[(&str, &str)] = &[
        ("get k", "k:RO,access"),
        ("set k v", "k:OW,update"),
        ("set k v EX 10 GET", "k:RW,access,update"),
        ("mset a 1 b 2", "a:OW,update b:OW,update"),
        ("mset a 1 b", "a:OW,update b:OW,update"),
        ("del a b c", "a:RM,delete b:RM,delete c:RM,delete"),
        ("OBJECT ENCODING k", "k:RO"),
        ("object freq k", "k:RO"),
        ("object help", "ERR The command has no key arguments"),
        ("nosuch a", "ERR Invalid command specified"),
        (
            "get a b",
            "ERR Invalid number of arguments specified for command",
        ),
        ("config get x", "ERR The command has no key arguments"),
        ("object nosuch k", "ERR Invalid command specified"),
        ("lcs a b", "a:RO,access b:RO,access"),
        ("blpop a b 0", "a:RW,access,delete b:RW,access,delete"),
        ("rename a b", "a:RW,access,delete b:OW,update"),
        ("msetnx a 1 b 2", "a:OW,insert b:OW,insert"),
        ("eval s 2 a b c", "a:RW,access,update b:RW,access,update"),
        ("eval s 0", ""),
        ("eval s 3 a", ""),
        ("eval s x a", ""),
        ("eval s 01 a", "a:"),
        ("eval s 4294967297 a", "a:RW,access,update"),
        ("fcall_ro f 1 a", "a:RO,access"),
        ("sort k", "k:RO,access"),
        ("sort k BY w GET # STORE d", "k:RO,access d:OW,update"),
        ("sort k STORE a STORE b", "k:RO,access b:OW,update"),
        ("sort k LIMIT 0 STORE STORE x", "k:RO,access x:OW,update"),
        ("sort_ro k STORE d", "k:RO,access"),
        ("migrate h p k 0 5000", "k:RW,access,delete"),
        (
            "migrate h p '' 0 5000 AUTH pw KEYS a b",
            "a:RW,access,delete b:RW,access,delete",
        ),
        (
            "migrate h p k 0 5000 KEYS a",
            "ERR Invalid arguments specified for command",
        ),
        (
            "migrate h p '' 0 5000 AUTH2 u KEYS KEYS a",
            "a:RW,access,delete",
        ),
        ("xread COUNT 1 STREAMS a b 0 0", "a:RO,access b:RO,access"),
        ("xread STREAMS a b 0", "a:RO,access"),
        (
            "xread COUNT 1 STREAMS",
            "ERR Invalid arguments specified for command",
        ),
        ("xreadgroup GROUP g c NOACK STREAMS a 0", "a:RO,access"),
        ("xreadgroup GROUP g c x STREAMS a 0", "a:RO,access"),
        (
            "zunionstore d 2 a b WEIGHTS 1 2",
            "d:OW,update a:RO,access b:RO,access",
        ),
        (
            "zunionstore d 0 a",
            "ERR Invalid arguments specified for command",
        ),
        ("zinterstore d 1x a", "a: d:"),
        ("zdiff 2 a b", "a:RO,access b:RO,access"),
        (
            "zunion 3 a b",
            "ERR Invalid arguments specified for command",
        ),
        ("lmpop 2 a b LEFT", "a:RW,access,delete b:RW,access,delete"),
        ("blmpop 0 1 a LEFT", "a:RW,access,delete"),
        (
            "bzmpop 0 2 a b MIN",
            "a:RW,access,delete b:RW,access,delete",
        ),
        ("sintercard 2 a b LIMIT 1", "a:RO,access b:RO,access"),
        (
            "georadius k 0 0 1 m STORE a STOREDIST b",
            "k:RO,access a:OW,update b:OW,update",
        ),
        (
            "georadius k 0 0 1 m STORE d STOREDIST",
            "k:RO,access d:OW,update",
        ),
        (
            "georadiusbymember k m 1 m STOREDIST d",
            "k:RO,access d:OW,update",
        ),
        ("bitfield k GET u8 0", "k:RO,access"),
        ("bitfield k GET u8 0 SET u8 0 1", "k:RW,access,update"),
        ("bitfield k GET u8", "k:RW,access,update"),
        ("bitfield_ro k GET u8 0", "k:RO,access"),
        ("spublish ch m", "ERR The command has no key arguments"),
        ("ssubscribe a b", "ERR The command has no key arguments"),
        ("publish c m", "ERR The command has no key arguments"),
        ("xinfo stream k", "k:RO,access"),
        ("xgroup create k g $", "k:RW,insert"),
        ("memory usage k", "k:RO"),
        (
            "pfmerge d a b",
            "d:RW,access,insert a:RO,access b:RO,access",
        ),
        (
            "geosearchstore d s FROMMEMBER m BYRADIUS 1 m",
            "d:OW,update s:RO,access",
        ),
        ("bitop and d a b", "d:OW,update a:RO,access b:RO,access"),
        ("keys *", "ERR The command has no key arguments"),
        ("restore k 0 p", "k:OW,update"),
        ("debug object k", "ERR The command has no key arguments"),
    ];

    #[test]
    fn matches_reference_getkeysandflags() {
        for (call, expected) in REFERENCE {
            let argv = argv(call);
            let mut out = Vec::new();
            let got = match getkeys(&argv, &|_| true, &mut out) {
                Ok(()) => out
                    .iter()
                    .map(|k| {
                        format!(
                            "{}:{}",
                            String::from_utf8_lossy(&argv[k.pos]),
                            k.flags.join(",")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                Err(e) => getkeys_error(e).to_string(),
            };
            assert_eq!(&got, expected, "COMMAND GETKEYSANDFLAGS {call}");
        }
    }

    #[test]
    fn positions_and_subcommands() {
        let mut out = Vec::new();
        let object = table::lookup(b"object").unwrap();
        key_positions(object, &argv("object encoding k"), &mut out);
        assert_eq!(out, [2]);
        out.clear();
        key_positions(object, &argv("object"), &mut out);
        assert!(out.is_empty());
        let zunionstore = table::lookup(b"zunionstore").unwrap();
        key_positions(zunionstore, &argv("zunionstore d 2 a b"), &mut out);
        assert_eq!(out, [1, 3, 4]);
        out.clear();
        let mset = table::lookup(b"mset").unwrap();
        key_positions(mset, &argv("mset a 1 b 2 c 3"), &mut out);
        assert_eq!(out, [1, 3, 5]);
    }

    #[test]
    fn shard_channels_only_on_request() {
        let spublish = table::lookup(b"spublish").unwrap();
        let mut refs = Vec::new();
        assert!(!find_keys(
            spublish,
            &argv("spublish ch m"),
            false,
            &mut refs
        ));
        assert!(find_keys(spublish, &argv("spublish ch m"), true, &mut refs));
        assert_eq!(refs.iter().map(|k| k.pos).collect::<Vec<_>>(), [1]);
        let ssubscribe = table::lookup(b"ssubscribe").unwrap();
        refs.clear();
        assert!(find_keys(
            ssubscribe,
            &argv("ssubscribe a b c"),
            true,
            &mut refs
        ));
        assert_eq!(refs.len(), 3);
    }

    #[test]
    fn no_panic_on_any_argv() {
        let words: &[&[u8]] = &[
            b"",
            b"0",
            b"1",
            b"2",
            b"-1",
            b"-2147483648",
            b"9223372036854775807",
            b"4294967296",
            b"STREAMS",
            b"STORE",
            b"KEYS",
            b"GET",
            b"LIMIT",
            b"AUTH2",
            b"k",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut out = Vec::new();
        for spec in table::all() {
            for sub in std::iter::once(spec).chain(spec.subcommands) {
                for _ in 0..50 {
                    let n = (next() % 10) as usize;
                    let mut argv = vec![Bytes::from_static(sub.name.as_bytes())];
                    argv.extend((0..n).map(|_| {
                        Bytes::from_static(words[(next() % words.len() as u64) as usize])
                    }));
                    out.clear();
                    key_positions(sub, &argv, &mut out);
                    assert!(out.iter().all(|&p| p < argv.len()));
                    let mut refs = Vec::new();
                    let _ = getkeys(&argv, &|_| true, &mut refs);
                    assert!(refs.iter().all(|k| k.pos < argv.len()));
                }
                out.clear();
                key_positions(sub, &[], &mut out);
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn hidden_commands_are_invalid() {
        let mut out = Vec::new();
        let only_get = |s: &CommandSpec| s.name == "get";
        assert_eq!(getkeys(&argv("get k"), &only_get, &mut out), Ok(()));
        assert_eq!(
            getkeys(&argv("set k v"), &only_get, &mut out),
            Err(GetKeysError::InvalidCommand)
        );
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b" +12x"), 12);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4294967297"), 1);
        assert_eq!(atoi(b"99999999999999999999999"), -1);
        assert_eq!(atoi(b"-99999999999999999999999"), 0);
    }
}
