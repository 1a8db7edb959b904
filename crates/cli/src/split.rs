//! Splitting a typed line into arguments with redis-cli's quoting rules:
//! - blanks separate arguments;
//! - `"..."` understands `\n \r \t \b \a \\ \"` and `\xhh`;
//! - `'...'` understands only `\'`;
//! - a closing quote must be followed by a blank or the end of the line, and an
//!   unclosed quote is an error.

/// The arguments of `line`, or `None` when its quotes are unbalanced.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    let at = |i: usize| line.get(i).copied();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            let c = at(i);
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if at(i + 1) == Some(b'x')
                            && at(i + 2).is_some_and(|h| h.is_ascii_hexdigit())
                            && at(i + 3).is_some_and(|h| h.is_ascii_hexdigit()) =>
                    {
                        cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    Some(b'\\') if at(i + 1).is_some() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if at(i + 1).is_some_and(|c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if at(i + 1) == Some(b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if at(i + 1).is_some_and(|c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t' | 0) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn s(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(
            s("  set k   v "),
            Some(vec!["set".into(), "k".into(), "v".into()])
        );
        assert_eq!(
            s(r#"set "a b" 'c d'"#),
            Some(vec!["set".into(), "a b".into(), "c d".into()])
        );
        assert_eq!(
            s(r#""\x41\n\"" '\'x\n'"#),
            Some(vec!["A\n\"".into(), "'x\\n".into()])
        );
        assert_eq!(s(r#""""#), Some(vec!["".into()]));
        assert_eq!(s(""), Some(vec![]));
    }

    #[test]
    fn unbalanced_quotes() {
        assert_eq!(s(r#"get "a"#), None);
        assert_eq!(s(r#"get "a"b"#), None);
        assert_eq!(s("get 'a"), None);
    }
}
