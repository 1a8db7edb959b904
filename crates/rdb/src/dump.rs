//! DUMP payloads: a value's type byte and body, the 2-byte RDB version (little
//! endian) and a CRC64 of everything before it (little endian). RESTORE refuses
//! payloads of a newer RDB version or with a wrong checksum. (Encoding side.)

use shoal_keyspace::Value;

use crate::decode::ReadOptions;
use crate::Error;

/// The DUMP payload of `v` (`compression` from `rdbcompression`).
pub fn dump(v: &Value, compression: bool) -> Vec<u8> {
    let _ = (v, compression);
    todo!("dump::dump")
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

/// The value of a DUMP payload.
pub fn restore(payload: &[u8], opts: &ReadOptions) -> Result<Value, PayloadError> {
    let _ = (payload, opts);
    todo!("dump::restore")
}
