//! Redis's listpack: the compact blob Redis 7 stores small hashes, sorted sets,
//! list nodes and stream nodes in, and that RDB 10 files carry verbatim.
//!
//! Layout: a 4-byte total size, a 2-byte element count (65535 when unknown),
//! the elements, then 0xFF. An element is an encoding byte (7-bit uint, 13-, 16-,
//! 24-, 32-, 64-bit ints, 6-, 12-, 32-bit string lengths), its data, then its
//! own length as a backward varint so the list can be walked from the end.

mod read;
mod write;

pub use read::{Item, Reader};
pub use write::Writer;
