//! DUMP payloads: a value's type byte and body, the 2-byte RDB version (little
//! endian) and a CRC64 of everything before it (little endian). RESTORE refuses
//! payloads of a newer RDB version or with a wrong checksum.
//!
//! As Redis 7.0 does: a payload must be at least 10 bytes; its version must be
//! at most the RDB version written here (10), older ones are accepted; the
//! checksum is always verified (a zero checksum is not special for payloads,
//! unlike RDB files).

use shoal_ds::crc64::crc64;
use shoal_keyspace::Value;

use crate::decode::ReadOptions;
use crate::encode::{write_value, WriteOptions};
use crate::{consts, Error};

/// Bytes after the value: the version (2) and the checksum (8).
const FOOTER: usize = 10;

/// The DUMP payload of `v` (`compression` from `rdbcompression`).
pub fn dump(v: &Value, compression: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = WriteOptions {
        compression,
        checksum: true,
    };
    write_value(&mut out, v, &opts);
    out.extend_from_slice(&(consts::WRITE_VERSION as u16).to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why a payload is refused before its value is looked at.
#[derive(Debug)]
pub enum PayloadError {
    /// Too short, newer RDB version, or wrong checksum: Redis's
    /// "DUMP payload version or checksum are wrong".
    VersionOrChecksum,
    /// The value part does not decode: Redis's "Bad data format".
    BadData(Error),
}

/// Checks a payload's length, version and checksum; returns what precedes the
/// footer.
fn checked_body(payload: &[u8]) -> Result<&[u8], PayloadError> {
    if payload.len() < FOOTER {
        return Err(PayloadError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - FOOTER);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if u32::from(version) > consts::WRITE_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    let with_version = &payload[..payload.len() - 8];
    if crc64(0, with_version) != u64::from_le_bytes(crc) {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok(body)
}

/// Checks a payload's length, version and checksum; returns the type byte and
/// the value body.
pub fn verify(payload: &[u8]) -> Result<(u8, &[u8]), PayloadError> {
    match checked_body(payload)?.split_first() {
        Some((&t, rest)) => Ok((t, rest)),
        None => Err(PayloadError::BadData(Error::corrupt("empty payload", 0))),
    }
}

/// The FUNCTION DUMP payload of these libraries' source codes: a `FUNCTION2`
/// record per library, then the footer of every payload.
pub fn functions_dump<'a>(codes: impl Iterator<Item = &'a [u8]>, compression: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        crate::encode::write_function(&mut out, code, compression);
    }
    out.extend_from_slice(&(consts::WRITE_VERSION as u16).to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why FUNCTION RESTORE refuses a payload (each is one of Redis's replies).
#[derive(Debug, PartialEq, Eq)]
pub enum FunctionPayloadError {
    /// "DUMP payload version or checksum are wrong".
    VersionOrChecksum,
    /// A record that is not a function library: "given type is not a function".
    NotAFunction,
    /// The pre-release function record: "Failed loading engine name".
    PreRelease,
    /// A record cut short: "Failed loading library payload".
    Truncated,
}

/// The library source codes of a FUNCTION DUMP payload, in order.
pub fn functions_restore(payload: &[u8]) -> Result<Vec<Vec<u8>>, FunctionPayloadError> {
    let body = checked_body(payload).map_err(|_| FunctionPayloadError::VersionOrChecksum)?;
    let mut src = crate::decode::Source::new(body);
    let mut codes = Vec::new();
    while src.offset < body.len() as u64 {
        match src.byte().map_err(|_| FunctionPayloadError::Truncated)? {
            consts::OPCODE_FUNCTION2 => {
                codes.push(src.string().map_err(|_| FunctionPayloadError::Truncated)?)
            }
            consts::OPCODE_FUNCTION_PRE_GA => return Err(FunctionPayloadError::PreRelease),
            _ => return Err(FunctionPayloadError::NotAFunction),
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod function_tests {
    use super::*;

    #[test]
    fn function_payloads() {
        // Redis 7.0.15's FUNCTION DUMP with no library.
        let empty = functions_dump(std::iter::empty(), true);
        assert_eq!(empty, b"\x0a\x00\x5d\x9b\x5c\x40\x0f\x7f\xa2\xda");
        assert_eq!(functions_restore(&empty), Ok(vec![]));
        let code: &[u8] =
            b"#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
        let p = functions_dump([code].into_iter(), true);
        assert_eq!(&p[..3], b"\xf5\x40\x46");
        assert_eq!(functions_restore(&p), Ok(vec![code.to_vec()]));
        let mut bad = p.clone();
        bad[5] ^= 1;
        assert_eq!(
            functions_restore(&bad),
            Err(FunctionPayloadError::VersionOrChecksum)
        );
        assert_eq!(
            functions_restore(b"short"),
            Err(FunctionPayloadError::VersionOrChecksum)
        );
        let not_fn = dump(
            &shoal_keyspace::Value::Str(shoal_keyspace::Str::from_bytes(b"abc")),
            true,
        );
        assert_eq!(
            functions_restore(&not_fn),
            Err(FunctionPayloadError::NotAFunction)
        );
    }
}

/// The value of a DUMP payload.
///
/// As in Redis, the value is read from the payload as a whole: bytes left
/// before the footer are ignored, and a value whose last string runs into the
/// footer is read with those bytes (Redis reads its payload that way, and
/// what it accepts is what RESTORE must accept).
pub fn restore(payload: &[u8], opts: &ReadOptions) -> Result<Value, PayloadError> {
    let (type_byte, _) = verify(payload)?;
    let mut src = crate::decode::Source::new(&payload[1..]);
    crate::decode::read_value(&mut src, type_byte, opts).map_err(|mut e| {
        // Offsets count from the start of the payload (after the type byte).
        e.offset += 1;
        PayloadError::BadData(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_keyspace::Str;

    #[test]
    fn string_payload_is_redis_s() {
        // DUMP of SET k aaaaaaaaaaaaaaaaaaaaaaaa in Redis 7.0.15.
        let v = Value::Str(Str::from_bytes(&[b'a'; 24]));
        let want: &[u8] = b"\x00\xc3\x09\x18\x01aa\xe0\x0b\x00\x01aa\n\x00X\\\xed\xc3\x8b\xe5F\xa5";
        assert_eq!(dump(&v, true), want);
        assert!(verify(want).is_ok());
    }

    #[test]
    fn bad_payloads_are_refused() {
        let v = Value::Str(Str::from_bytes(b"hello"));
        let good = dump(&v, true);
        assert!(matches!(
            verify(&good[..9]),
            Err(PayloadError::VersionOrChecksum)
        ));
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(matches!(verify(&bad), Err(PayloadError::VersionOrChecksum)));
        // A newer version is refused even with a matching checksum.
        let mut newer = good[..good.len() - 10].to_vec();
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            verify(&newer),
            Err(PayloadError::VersionOrChecksum)
        ));
        // An older one is accepted.
        let mut older = good[..good.len() - 10].to_vec();
        older.extend_from_slice(&9u16.to_le_bytes());
        let crc = crc64(0, &older);
        older.extend_from_slice(&crc.to_le_bytes());
        assert!(verify(&older).is_ok());
    }
}
