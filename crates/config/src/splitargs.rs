//! Tokenising of configuration lines and quoting of values.
//!
//! [`split_args`] follows the tokenisation Redis applies to every line of a
//! configuration file (and to inline commands): words separated by blanks,
//! double-quoted strings with C-like escapes (`\n`, `\r`, `\t`, `\b`, `\a`,
//! `\xHH`, backslash before any other character keeps that character), and
//! single-quoted strings where only `\'` is an escape. A closing quote must be
//! followed by a blank or the end of the line, otherwise the line is rejected
//! (Redis calls that "unbalanced quotes").
//!
//! [`quote`] is the inverse used when Redis shows or writes a value: it always
//! wraps the value in double quotes and escapes anything that is not a
//! printable ASCII character.
//!
//! Values are kept as `String`: bytes produced by `\xHH` escapes that do not
//! form valid UTF-8 are replaced (lossy), which only matters for binary
//! passwords — a documented limitation.

/// Splits one line into arguments. `None` means unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    // The tokenizer is shoal-resp's (Redis splits config lines and inline
    // commands with the same function); arguments are kept as text, lossily.
    shoal_resp::split_args(line.as_bytes()).map(|v| {
        v.into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect()
    })
}

/// The C library's `isspace` in the "C" locale.
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Double-quotes `s`, escaping quotes, backslashes, control characters and
/// every byte outside printable ASCII.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn nul_ends_the_line() {
        // A NUL byte used to loop forever pushing empty arguments.
        assert_eq!(s(&["0"]), split_args("0\0'\u{2}"));
        assert_eq!(None, split_args("\"a\0b\""));
        assert_eq!(s(&[]), split_args("\0abc"));
    }

    #[test]
    fn words_and_blanks() {
        assert_eq!(split_args("  a  b\tc  "), s(&["a", "b", "c"]));
        assert_eq!(split_args(""), s(&[]));
        assert_eq!(split_args("   "), s(&[]));
    }

    #[test]
    fn double_quotes() {
        assert_eq!(split_args(r#"a "b c" """#), s(&["a", "b c", ""]));
        assert_eq!(split_args(r#""\x76erbose""#), s(&["verbose"]));
        assert_eq!(split_args(r#""a\"b\n\\""#), s(&["a\"b\n\\"]));
        assert_eq!(split_args(r#""\xZZ""#), s(&["xZZ"]));
        assert_eq!(split_args(r#"ab"c d""#), s(&["abc d"]));
        assert_eq!(split_args(r#""abc"x"#), None);
        assert_eq!(split_args(r#""abc"#), None);
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split_args(r"'a\'b' 'c\n'"), s(&["a'b", "c\\n"]));
        assert_eq!(split_args("'abc'x"), None);
        assert_eq!(split_args("'abc"), None);
    }

    #[test]
    fn quoting_round_trips() {
        for v in [
            "",
            "plain",
            "a b",
            "q\"uote",
            "back\\slash",
            "nl\nx",
            "\u{7f}é",
        ] {
            assert_eq!(split_args(&quote(v)), s(&[v]), "{v:?}");
        }
        assert_eq!(quote("x\"y"), r#""x\"y""#);
    }
}
