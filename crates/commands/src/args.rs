//! Argument parsing helpers shared by handlers, returning Redis's error texts.

use crate::errors;

/// Case-insensitive comparison of an argument with an option name.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// An integer argument, or Redis's "not an integer" error.
pub fn int(arg: &[u8]) -> Result<i64, &'static str> {
    shoal_ds::num::parse_i64(arg).ok_or(errors::NOT_INTEGER)
}

/// A float argument, or Redis's "not a valid float" error.
pub fn float(arg: &[u8]) -> Result<f64, &'static str> {
    shoal_ds::num::parse_f64(arg).ok_or(errors::NOT_FLOAT)
}

/// A non-negative integer argument (e.g. a count) with Redis's generic error.
pub fn uint(arg: &[u8]) -> Result<u64, &'static str> {
    match shoal_ds::num::parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        Some(_) => Err(errors::NOT_POSITIVE),
        None => Err(errors::NOT_INTEGER),
    }
}

/// Compares an option with a keyword the way Redis does (`strcasecmp` on the C
/// string): case-insensitively, and only up to the first NUL byte of the argument.
pub fn kw(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}
