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

/// A blocking command's timeout in seconds (fractions allowed), as the absolute
/// deadline in ms (None: 0, wait forever). Redis's `getTimeoutFromObjectOrReply`
/// with seconds: the value is truncated to whole milliseconds.
pub fn timeout_secs(arg: &[u8], now_ms: i64) -> Result<Option<i64>, &'static str> {
    let secs = shoal_ds::num::LongDouble::parse(arg)
        .filter(|v| !v.is_nan())
        .ok_or(errors::TIMEOUT_NOT_FLOAT)?;
    // Rounded up to the millisecond, as Redis does: 0.0001 waits 1 ms, not forever.
    let ms = (secs.to_f64() * 1000.0).ceil();
    // C's conversion of an out-of-range double to long long yields LLONG_MIN on
    // x86-64, which then reads as negative.
    let ms = if ms.is_finite() && ms.abs() < 9_223_372_036_854_775_808.0 {
        ms as i64
    } else {
        i64::MIN
    };
    deadline(ms, now_ms)
}

/// A timeout in milliseconds (XREAD BLOCK), as an absolute deadline (None: 0,
/// wait forever).
pub fn timeout_ms(arg: &[u8], now_ms: i64) -> Result<Option<i64>, &'static str> {
    let ms = shoal_ds::num::parse_i64(arg).ok_or(errors::WAIT_TIMEOUT_NOT_INT)?;
    deadline(ms, now_ms)
}

fn deadline(ms: i64, now_ms: i64) -> Result<Option<i64>, &'static str> {
    if ms < 0 {
        return Err(errors::TIMEOUT_NEGATIVE);
    }
    if ms == 0 {
        return Ok(None);
    }
    ms.checked_add(now_ms)
        .map(Some)
        .ok_or(errors::TIMEOUT_OUT_OF_RANGE)
}
