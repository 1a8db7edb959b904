//! LZF, the compression Redis applies to strings longer than 20 bytes when
//! `rdbcompression yes`: a stream of literal runs and back-references into the
//! last 8 KB of output.

mod compress;
mod decompress;

pub use compress::compress;
pub use decompress::decompress;
