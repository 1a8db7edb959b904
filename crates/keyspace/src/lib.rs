//! The keyspace: values, per-shard databases with lazy and active expiry, and the
//! sharded container with its locking discipline. No I/O and no async here.
//!
//! Must not depend on the server, the protocol or the command layer.

pub mod db;
pub mod hash;
pub mod keyspace;
pub mod lazyfree;
pub mod list;
pub mod notify;
pub mod set;
pub mod snapshot;
pub mod stream;
pub mod value;
pub mod zset;

pub use db::{Access, DbShard, Entry, Events, ExpireMode, Lfu, Now};
pub use hash::Hash;
pub use keyspace::{Keyspace, Locked, Shard, DEFAULT_SHARDS};
pub use list::{Elem, End, List, Needle};
pub use notify::{class, Notice, Want};
pub use set::Set;
pub use snapshot::{SnapshotSink, Step as SnapshotStep, Tables};
pub use stream::Stream;
pub use value::{Kind, Str, Value};
pub use zset::Limits as ZLimits;
pub use zset::ZSet;
