//! The inline tokenizer: splits one line into arguments with Redis's quoting rules
//! (the rules of `redis-cli` input, inline commands and redis.conf lines).
//!
//! Rules, as Redis 7.0 applies them:
//! - blanks between arguments are any of space, `\t`, `\n`, `\v`, `\f`, `\r`; an
//!   unquoted argument ends only at space, `\t`, `\n`, `\r` (so `\v` and `\f` can sit
//!   inside an unquoted argument);
//! - `"..."` understands `\n \r \t \b \a`, `\xHH` (two hex digits) and `\<any>` for that
//!   character; `'...'` understands only `\'`;
//! - a quote may open in the middle of an argument (`a"b c"` is `ab c`), but a closing
//!   quote must be followed by a blank or the end of the line, and an unclosed quote is
//!   an error;
//! - the line is a C string for Redis: it ends at its first NUL byte.
//!
//! Invariant: tokens are produced in order and never overlap; a token without quotes
//! is reported as a span of the line so that callers can share the line's memory.

use std::ops::Range;

/// One argument of an inline line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// The argument is exactly these bytes of the line (no quoting involved).
    Span(Range<usize>),
    /// The argument needed unquoting or unescaping.
    Owned(Vec<u8>),
}

/// `isspace` in the C locale.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into argument tokens; `None` when the quotes are unbalanced (or a
/// closing quote is followed by something other than a blank).
pub(crate) fn tokenize(line: &[u8]) -> Option<Vec<Token>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    // Reading past the end yields NUL, as the C string would.
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let mut tokens = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_blank(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(tokens);
        }
        let start = p;
        let mut span_end = line.len();
        // `None` while the argument is still a plain span of the line.
        let mut owned: Option<Vec<u8>> = None;
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(p);
            let mut done = false;
            if in_double {
                let cur = owned.get_or_insert_with(Vec::new);
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        cur.push(h * 16 + l);
                        p += 3;
                    } else {
                        // `\x` without two hex digits is an ordinary escape of `x`.
                        cur.push(b'x');
                        p += 1;
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_blank(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if in_single {
                let cur = owned.get_or_insert_with(Vec::new);
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_blank(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        span_end = p;
                        done = true;
                    }
                    b'"' | b'\'' => {
                        if owned.is_none() {
                            owned = Some(line[start..p].to_vec());
                        }
                        if c == b'"' {
                            in_double = true;
                        } else {
                            in_single = true;
                        }
                    }
                    _ => {
                        if let Some(cur) = owned.as_mut() {
                            cur.push(c);
                        }
                    }
                }
            }
            if at(p) != 0 {
                p += 1;
            }
            if done {
                break;
            }
        }
        tokens.push(match owned {
            Some(v) => Token::Owned(v),
            None => Token::Span(start..span_end),
        });
    }
}

/// Splits one line into arguments with Redis's quoting rules (see the module docs).
/// Returns `None` when the quotes are unbalanced. An empty or blank line gives an
/// empty vector.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let tokens = tokenize(line)?;
    Some(
        tokens
            .into_iter()
            .map(|t| match t {
                Token::Span(r) => line[r].to_vec(),
                Token::Owned(v) => v,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(items.iter().map(|i| i.to_vec()).collect())
    }

    #[test]
    fn plain_words() {
        assert_eq!(split(b"SET a b"), v(&[b"SET", b"a", b"b"]));
        assert_eq!(split(b"  \t SET   a\tb  "), v(&[b"SET", b"a", b"b"]));
        assert_eq!(split(b""), v(&[]));
        assert_eq!(split(b" \t\r\n\x0b\x0c"), v(&[]));
        assert_eq!(split(b"PING\r"), v(&[b"PING"]));
    }

    #[test]
    fn vertical_tab_and_form_feed() {
        // Skipped as leading blanks, but kept inside an unquoted argument.
        assert_eq!(split(b"\x0bECHO a\x0bb"), v(&[b"ECHO", b"a\x0bb"]));
        assert_eq!(split(b"ECHO a\x0cb"), v(&[b"ECHO", b"a\x0cb"]));
        // A closing quote may be followed by \v.
        assert_eq!(split(b"ECHO \"ab\"\x0b"), v(&[b"ECHO", b"ab"]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(
            split(b"ECHO \"a\\x41\\n\\q\\xZZ\""),
            v(&[b"ECHO", b"aA\nqxZZ"])
        );
        assert_eq!(
            split(b"\"\\r\\t\\b\\a\\\\\\\"\""),
            v(&[b"\r\t\x08\x07\\\""])
        );
        assert_eq!(split(b"\"\\x00\\xff\\xFf\""), v(&[b"\x00\xff\xff"]));
        assert_eq!(split(b"\"\\x4\""), v(&[b"x4"]));
        assert_eq!(split(b"\"\""), v(&[b""]));
        assert_eq!(split(b"\"a b\" \"c\""), v(&[b"a b", b"c"]));
        assert_eq!(split(b"\"a\\ b\""), v(&[b"a b"]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split(b"ECHO 'a\\'b\\n'"), v(&[b"ECHO", b"a'b\\n"]));
        assert_eq!(split(b"''"), v(&[b""]));
        assert_eq!(split(b"'a \"b\"'"), v(&[b"a \"b\""]));
    }

    #[test]
    fn quote_in_the_middle_of_a_word() {
        assert_eq!(split(b"a\"b c\""), v(&[b"ab c"]));
        assert_eq!(split(b"a'b c' d"), v(&[b"ab c", b"d"]));
    }

    #[test]
    fn unbalanced() {
        for s in [
            &b"ECHO \"ab"[..],
            b"ECHO 'ab",
            b"ECHO \"ab\"c",
            b"ECHO 'ab'c",
            b"ECHO a\"b c\"d",
            b"\"ab\\\"",
            b"\"ab\\",
            b"'a''b'",
            b"\"a\"\"b\"",
        ] {
            assert_eq!(split(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(split(b"a b\0c d"), v(&[b"a", b"b"]));
        assert_eq!(split(b"\"ab\0cd\""), None);
    }

    #[test]
    fn spans_are_reported_for_plain_words() {
        assert_eq!(
            tokenize(b" ab \"c\" d").unwrap(),
            vec![
                Token::Span(1..3),
                Token::Owned(b"c".to_vec()),
                Token::Span(8..9)
            ]
        );
    }
}
