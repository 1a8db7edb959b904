//! Values stored in the keyspace and their encodings.
//!
//! A value knows nothing of keys, databases or expiry. Each variant maps to one of
//! Redis's `OBJECT ENCODING` names; the mapping lives in [`Value::encoding`] so that
//! the reported name and the real representation can never drift apart.
//!
//! Strings follow Redis's rules for which encoding a fresh value gets: a string that
//! is a canonical 64-bit integer is stored as the integer, a short one inline
//! ("embstr", up to [`EMBSTR_MAX`] bytes) and a longer or mutated one in a growable
//! buffer ("raw"). Commands that edit a string in place (APPEND, SETRANGE, SETBIT)
//! turn it into `Raw`, as Redis does.
//!
//! Lists live in [`crate::list`]; every list reports Redis 7.0's "quicklist".

use crate::hash::Hash;
use crate::list::List;
use crate::set::Set;
use crate::stream::Stream;
use crate::zset::ZSet;
use shoal_ds::smallbytes::SmallBytes;

/// Longest string Redis stores with the "embstr" encoding.
pub const EMBSTR_MAX: usize = 44;

/// A string value.
#[derive(Clone, Debug)]
pub enum Str {
    /// A canonical decimal integer (what `parse_i64` accepts), stored as its value.
    Int(i64),
    /// A short immutable string (reported as "embstr").
    Emb(SmallBytes),
    /// A longer or mutated string (reported as "raw"). Boxed so that `Str` stays
    /// 24 bytes (the niche in `SmallBytes` holds the variant tag): every key pays
    /// for the size of `Str`, only raw strings for the extra pointer.
    Raw(Box<Vec<u8>>),
}

impl Str {
    /// The encoding a freshly written string gets (SET, GETSET, MSET, ...).
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(v) = shoal_ds::num::parse_i64(b) {
                return Str::Int(v);
            }
        }
        if b.len() <= EMBSTR_MAX {
            Str::Emb(SmallBytes::from(b))
        } else {
            Str::raw(b.to_vec())
        }
    }

    /// A "raw" string owning `v`.
    pub fn raw(v: Vec<u8>) -> Str {
        Str::Raw(Box::new(v))
    }

    /// Length in bytes of the string form.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(v) => int_len(*v),
            Str::Emb(b) => b.len(),
            Str::Raw(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the string's bytes, rendering integers on the stack.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Str::Int(v) => {
                let mut buf = itoa_buf();
                let s = buf.format(*v);
                f(s.as_bytes())
            }
            Str::Emb(b) => f(b),
            Str::Raw(b) => f(b),
        }
    }

    /// Copies the string's bytes out.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// The value as an integer, if it holds a canonical one (as INCR requires).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(v) => Some(*v),
            Str::Emb(b) => shoal_ds::num::parse_i64(b),
            Str::Raw(b) => shoal_ds::num::parse_i64(b),
        }
    }

    /// A mutable byte buffer for in-place edits; converts the value to `Raw`.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::raw(self.to_vec());
        }
        match self {
            Str::Raw(v) => v,
            // Invariant: the branch above converted every other variant to Raw.
            _ => unreachable!("make_raw converted the value to Raw"),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }

    /// Heap bytes owned by the value beyond its inline size.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Str::Int(_) => 0,
            Str::Emb(b) => b.heap_size(),
            Str::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        }
    }
}

fn itoa_buf() -> itoa::Buffer {
    itoa::Buffer::new()
}

fn int_len(v: i64) -> usize {
    itoa_buf().format(v).len()
}

// Every key pays for these sizes (1M keys: 8 bytes here are 8 MB). A new variant
// that is larger must be boxed.
const _: () = assert!(std::mem::size_of::<Str>() == 24);
const _: () = assert!(std::mem::size_of::<Value>() <= 24);
const _: () = assert!(std::mem::size_of::<crate::db::Entry>() <= 32);

/// Any value the keyspace can hold. Later issues add the collection types; every
/// match on `Value` must stay exhaustive so that adding one is caught by the compiler.
#[derive(Clone, Debug)]
pub enum Value {
    Str(Str),
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Stream),
}

/// Redis's type names, as TYPE and SCAN TYPE use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Hash => "hash",
            Kind::Stream => "stream",
        }
    }

    /// Parses a type name as SCAN's TYPE option accepts it (case-insensitive).
    pub fn parse(name: &[u8]) -> Option<Kind> {
        let all = [
            Kind::String,
            Kind::List,
            Kind::Set,
            Kind::ZSet,
            Kind::Hash,
            Kind::Stream,
        ];
        all.into_iter()
            .find(|k| k.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::Str(_) => Kind::String,
            Value::List(_) => Kind::List,
            Value::Hash(_) => Kind::Hash,
            Value::Set(_) => Kind::Set,
            Value::ZSet(_) => Kind::ZSet,
            Value::Stream(_) => Kind::Stream,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(x) => x.encoding(),
        }
    }

    pub fn as_str(&self) -> Option<&Str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str_mut(&mut self) -> Option<&mut Str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_hash(&self) -> Option<&Hash> {
        match self {
            Value::Hash(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        match self {
            Value::Hash(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_set(&self) -> Option<&Set> {
        match self {
            Value::Set(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_set_mut(&mut self) -> Option<&mut Set> {
        match self {
            Value::Set(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_zset(&self) -> Option<&ZSet> {
        match self {
            Value::ZSet(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_zset_mut(&mut self) -> Option<&mut ZSet> {
        match self {
            Value::ZSet(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_stream(&self) -> Option<&Stream> {
        match self {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_stream_mut(&mut self) -> Option<&mut Stream> {
        match self {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::List(l) => l.heap_bytes(),
            Value::Hash(h) => h.heap_bytes(),
            Value::Set(v) => v.heap_bytes(),
            Value::ZSet(z) => z.heap_bytes(),
            Value::Stream(x) => x.heap_bytes(),
        }
    }

    /// Whether freeing this value is expensive enough to hand it to the lazy-free thread.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            // Redis counts a quicklist's nodes.
            Value::List(l) => l.node_count(),
            Value::Hash(h) => h.free_effort(),
            Value::Set(v) => v.free_effort(),
            Value::ZSet(z) => z.free_effort(),
            Value::Stream(x) => x.free_effort(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_rules() {
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(b"-9223372036854775808").encoding(), "int");
        assert_eq!(Str::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut s = Str::from_bytes(b"12");
        s.make_raw().push(b'3');
        assert_eq!(s.encoding(), "raw");
        assert_eq!(s.as_int(), Some(123));
        assert_eq!(s.len(), 3);
    }
}
