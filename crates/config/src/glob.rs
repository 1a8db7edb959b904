//! Glob matching for `CONFIG GET` patterns.
//!
//! Same dialect as Redis's KEYS/CONFIG GET patterns: `*` (any run), `?` (any
//! one byte), `[abc]`, `[^abc]`, `[a-z]` (reversed ranges accepted), and `\`
//! to take the next byte literally. Matching is byte-wise and, here, always
//! ASCII case-insensitive. It is a private copy until `shoal_ds::glob` can be
//! used; the algorithm backtracks only to the last `*`, so it runs in
//! O(pattern × subject) time whatever the pattern.

/// Does `pattern` match the whole of `s`, ignoring ASCII case?
pub fn glob_match_nocase(pattern: &str, s: &str) -> bool {
    let p = pattern.as_bytes();
    let s = s.as_bytes();
    let (mut pi, mut si) = (0usize, 0usize);
    // Where to resume after the last '*': (pattern index after the star, subject index).
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            if pi == p.len() {
                return true;
            }
            star = Some((pi, si));
            continue;
        }
        if pi < p.len() {
            if let Some(next) = match_one(p, pi, s[si]) {
                pi = next;
                si += 1;
                continue;
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches one pattern token at `pi` (not a `*`) against byte `c`; returns
/// the index after the token on success.
fn match_one(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    let lc = c.to_ascii_lowercase();
    match p[pi] {
        b'?' => Some(pi + 1),
        b'[' => {
            let mut i = pi + 1;
            let negate = i < p.len() && p[i] == b'^';
            if negate {
                i += 1;
            }
            let mut matched = false;
            loop {
                if i >= p.len() {
                    // Unterminated class: the class ends with the pattern.
                    break;
                }
                if p[i] == b']' {
                    i += 1;
                    break;
                }
                if p[i] == b'\\' && i + 1 < p.len() {
                    if p[i + 1].to_ascii_lowercase() == lc {
                        matched = true;
                    }
                    i += 2;
                } else if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
                    let mut a = p[i].to_ascii_lowercase();
                    let mut b = p[i + 2].to_ascii_lowercase();
                    if a > b {
                        std::mem::swap(&mut a, &mut b);
                    }
                    if lc >= a && lc <= b {
                        matched = true;
                    }
                    i += 3;
                } else {
                    if p[i].to_ascii_lowercase() == lc {
                        matched = true;
                    }
                    i += 1;
                }
            }
            (matched != negate).then_some(i)
        }
        b'\\' if pi + 1 < p.len() => (p[pi + 1].to_ascii_lowercase() == lc).then_some(pi + 2),
        other => (other.to_ascii_lowercase() == lc).then_some(pi + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match_nocase as m;

    #[test]
    fn basics() {
        assert!(m("*", "port"));
        assert!(m("*", ""));
        assert!(m("p*", "port"));
        assert!(m("PO*", "port"));
        assert!(m("*max*entries*", "hash-max-listpack-entries"));
        assert!(!m("*max*entries*", "hash-max-listpack-value"));
        assert!(m("h?", "hz"));
        assert!(!m("h?", "h"));
        assert!(m("[sb]ave", "save"));
        assert!(!m("[^sb]ave", "save"));
        assert!(m("[a-z]ort", "port"));
        assert!(m("[z-a]ort", "port"));
        assert!(m("sa\\ve", "save"));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(!m("", "x"));
        assert!(m("", ""));
        assert!(m("**a**b**", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxxc"));
    }

    #[test]
    fn no_blowup() {
        let s = "a".repeat(200);
        let p = format!("{}b", "*a".repeat(30));
        assert!(!m(&p, &s));
    }
}
