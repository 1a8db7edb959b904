//! Decoders for the compact blobs of older RDB versions: ziplist (lists, hashes
//! and sorted sets before Redis 7), intset (sets, still current) and zipmap
//! (hashes before Redis 2.6). (Decoding side.)
