//! Glob-style pattern matching with the exact semantics of Redis 7.0's
//! `stringmatchlen` (KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE, CONFIG GET,
//! ACL key and channel patterns...).
//!
//! Owns: [`glob_match`].
//!
//! The syntax, as Redis interprets it, including its quirks:
//! - `*` matches any run of bytes, `?` any single byte, `\x` the byte `x` (a
//!   trailing lone `\` is a literal backslash).
//! - `[...]` matches one byte from a set; `[^...]` negates it. Inside, `\x` is the
//!   literal `x` (compared case-sensitively even in `nocase` mode), `a-z` a range
//!   (reversed ranges such as `z-a` work; the bounds are compared as *signed* chars,
//!   so a bound at or above 0x80 sorts below `\0`), and any other byte is itself.
//!   A range is recognised whenever a byte is followed by `-` and at least one more
//!   pattern byte, so `[a-]` is the range `a`..`]` and the class is still open.
//!   `[]` matches nothing and `[^]` any byte. A class left unterminated at the end
//!   of the pattern ends there.
//! - `nocase` folds ASCII letters only.
//! - An empty string is matched only by the empty pattern (so `*` does not match an
//!   empty string; KEYS and SCAN special-case the pattern `*` before calling this).
//! - Redis refuses to recurse more than 1000 levels into `*`: a pattern that needs
//!   to pass more than 1000 non-final groups of `*` against a non-empty string never
//!   matches (`a*` repeated 1001 times can match, 1002 times cannot).
//!
//! Invariants: matching is iterative with a single backtracking point (the last
//! `*`), which is equivalent to Redis's recursive search because every other token
//! consumes exactly one byte. Time is O(pattern × string) in the worst case, never
//! exponential; no allocation; no panic on any input.

/// Star groups a match may pass before Redis's recursion limit rejects it.
const MAX_STAR_GROUPS: usize = 1000;

/// Whether `s` matches the glob `pattern`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let p = pattern;
    if s.is_empty() {
        return p.is_empty();
    }
    let mut pi = 0usize;
    let mut si = 0usize;
    // Where to resume after a mismatch: pattern index just after the last star
    // group, and the string index that group's expansion currently ends at.
    let mut resume: Option<(usize, usize)> = None;
    let mut star_groups = 0usize;
    loop {
        // Invariant: si < s.len().
        if pi < p.len() && p[pi] == b'*' {
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            if pi == p.len() {
                return true;
            }
            star_groups += 1;
            if star_groups > MAX_STAR_GROUPS {
                return false;
            }
            resume = Some((pi, si));
            continue;
        }
        if pi < p.len() {
            if let Some(next) = match_one(p, pi, s[si], nocase) {
                pi = next;
                si += 1;
                if si < s.len() {
                    continue;
                }
                while pi < p.len() && p[pi] == b'*' {
                    pi += 1;
                }
                if pi == p.len() {
                    return true;
                }
            }
        }
        // Mismatch: let the last star swallow one more byte, if one is left that
        // the rest of the pattern could still start at.
        match resume {
            Some((rp, rs)) if rs + 1 < s.len() => {
                resume = Some((rp, rs + 1));
                pi = rp;
                si = rs + 1;
            }
            _ => return false,
        }
    }
}

/// Matches the single-byte token at `p[i]` (not a `*`) against `c`. Returns the
/// index of the next token on success.
fn match_one(p: &[u8], i: usize, c: u8, nocase: bool) -> Option<usize> {
    match p[i] {
        b'?' => Some(i + 1),
        b'[' => match_class(p, i + 1, c, nocase),
        b'\\' if p.len() - i >= 2 => eq_fold(p[i + 1], c, nocase).then_some(i + 2),
        b => eq_fold(b, c, nocase).then_some(i + 1),
    }
}

/// Matches a class whose body starts at `p[i]` (just after `[`).
fn match_class(p: &[u8], mut i: usize, c: u8, nocase: bool) -> Option<usize> {
    let negate = i < p.len() && p[i] == b'^';
    if negate {
        i += 1;
    }
    let mut hit = false;
    let next = loop {
        if i >= p.len() {
            // Unterminated: the class ends with the pattern.
            break p.len();
        }
        let b = p[i];
        if b == b'\\' && p.len() - i >= 2 {
            i += 1;
            // Escapes inside a class compare exactly, even in nocase mode.
            if p[i] == c {
                hit = true;
            }
        } else if b == b']' {
            break i + 1;
        } else if p.len() - i >= 3 && p[i + 1] == b'-' {
            // C `char` is signed on the reference platform.
            let mut lo = i32::from(b as i8);
            let mut hi = i32::from(p[i + 2] as i8);
            let mut x = i32::from(c as i8);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            if nocase {
                lo = lower_i(lo);
                hi = lower_i(hi);
                x = lower_i(x);
            }
            if lo <= x && x <= hi {
                hit = true;
            }
            i += 2;
        } else if eq_fold(b, c, nocase) {
            hit = true;
        }
        i += 1;
    };
    (hit != negate).then_some(next)
}

#[inline]
fn eq_fold(a: u8, b: u8, nocase: bool) -> bool {
    a == b || (nocase && a.eq_ignore_ascii_case(&b))
}

#[inline]
fn lower_i(x: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&x) {
        x + 32
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "abc"));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hbllo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a\\", "a\\"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(m("a*", "a"));
        assert!(m("a*b", "ab"));
        assert!(!m("a*b", "a"));
        assert!(m("*?", "a"));
        assert!(m("?*", "a"));
        assert!(!m("??*", "a"));
    }

    #[test]
    fn class_quirks() {
        assert!(!m("[]", "a"));
        assert!(!m("[]", "]"));
        assert!(m("[^]", "a"));
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "bx"));
        // `[a-]` is the range a..']' and the class is still open.
        assert!(m("[a-]", "^"));
        assert!(m("[a-]x]", "^"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\", "\\"));
        // Signed chars: 0xff is -1, so [a-\xff] covers \x00..a and \xff.
        let p = b"[a-\xff]";
        assert!(glob_match(p, b"\xff", false));
        assert!(glob_match(p, b"\x00", false));
        assert!(glob_match(p, b"a", false));
        assert!(!glob_match(p, b"b", false));
        assert!(!glob_match(p, b"\x80", false));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(glob_match(b"[abc]", b"B", true));
        // Escapes in a class stay case-sensitive.
        assert!(!glob_match(b"[\\a]", b"A", true));
        assert!(glob_match(b"\\a", b"A", true));
        assert!(!glob_match(b"hello", b"HELLO", false));
        // Checked through CONFIG GET (which matches with nocase) on redis-server.
        assert!(glob_match(b"[L-N]axmemor?", b"maxmemory", true));
        assert!(glob_match(b"[n-L]axmemor?", b"maxmemory", true));
        assert!(glob_match(b"\\Maxmemor?", b"maxmemory", true));
        assert!(!glob_match(b"[^M]axmemory", b"maxmemory", true));
        assert!(!glob_match(b"[A-\\]]axmemor?", b"maxmemory", true));
    }

    #[test]
    fn star_limit() {
        let s = vec![b'a'; 3000];
        for (n, want) in [(10, true), (1000, true), (1001, true), (1002, false)] {
            let p = b"a*".repeat(n);
            assert_eq!(glob_match(&p, &s, false), want, "n={n}");
        }
        let mut p = vec![b'*'; 5000];
        p.push(b'a');
        assert!(glob_match(&p, &s, false));
    }

    #[test]
    fn no_blowup() {
        let s = vec![b'a'; 10000];
        let mut p = b"a*".repeat(900);
        p.push(b'b');
        assert!(!glob_match(&p, &s, false));
    }

    fn unhex(s: &str) -> Vec<u8> {
        if s == "-" {
            return Vec::new();
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Random patterns and keys run through KEYS on redis-server 7.0.15 (file
    /// format: a line of hex-encoded keys, "-" for the empty key, then one line
    /// per hex-encoded pattern with one 0/1 per key).
    #[test]
    fn matches_redis_keys() {
        let data = include_str!("../testdata/glob_keys_redis_7.0.15.txt");
        let mut lines = data.lines();
        let header = lines.next().unwrap();
        let keys: Vec<Vec<u8>> = header
            .trim_start_matches("# strings: ")
            .split(' ')
            .map(unhex)
            .collect();
        let mut checked = 0;
        for line in lines {
            let (p, bits) = line.split_once(' ').unwrap();
            let p = unhex(p);
            for (k, bit) in keys.iter().zip(bits.bytes()) {
                assert_eq!(
                    glob_match(&p, k, false),
                    bit == b'1',
                    "pattern {:?} key {:?}",
                    p.escape_ascii().to_string(),
                    k.escape_ascii().to_string()
                );
                checked += 1;
            }
        }
        assert!(checked > 50_000);
    }
}
