//! Data structures and Redis-exact helpers that know nothing of the server.
//!
//! Every function here is total: no input (from the network or a file) makes it
//! panic. Modules:
//!
//! - [`glob`]: Redis's glob-style pattern matching (KEYS, SCAN MATCH, PSUBSCRIBE...).
//! - [`crc16`], [`crc64`]: the cluster slot hash and the RDB/DUMP checksum.
//! - [`num`]: integer and floating point parsing/formatting exactly as Redis 7.0 does,
//!   including the x87 80-bit `long double` arithmetic behind INCRBYFLOAT.
//! - [`smallbytes`]: a 24-byte byte string that keeps short content inline.
//! - [`dict`]: the hash table with Redis's SCAN guarantees.
//! - [`siphash`]: the keyed hash used by [`dict`].

pub mod crc16;
pub mod crc64;
pub mod dict;
pub mod glob;
pub mod num;
pub mod siphash;
pub mod smallbytes;
