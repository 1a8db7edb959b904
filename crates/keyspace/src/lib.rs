//! The keyspace: values, per-shard databases with lazy and active expiry, and the
//! sharded container with its locking discipline. No I/O and no async here.
//!
//! Must not depend on the server, the protocol or the command layer.

pub mod db;
pub mod keyspace;
pub mod lazyfree;
pub mod list;
pub mod value;

pub use db::{Access, DbShard, Entry, Events, ExpireMode, Lfu, Now};
pub use keyspace::{Keyspace, Locked, Shard, DEFAULT_SHARDS};
pub use list::{Elem, End, List, Needle};
pub use value::{Kind, Str, Value};
