//! Splitting a typed line into arguments with redis-cli's quoting rules:
//! - blanks separate arguments;
//! - `"..."` understands `\n \r \t \b \a \\ \"` and `\xhh`;
//! - `'...'` understands only `\'`;
//! - a closing quote must be followed by a blank or the end of the line, and an
//!   unclosed quote is an error.

/// The arguments of `line`, or `None` when its quotes are unbalanced: the same
/// tokenizer the server uses for inline commands.
pub use shoal_resp::split_args;

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
