//! A compact immutable byte string for keys and short values.
//!
//! Owns: [`SmallBytes`], 24 bytes on the stack/in a table slot: up to
//! [`SmallBytes::INLINE_CAP`] (22) bytes are stored inline, longer content in a
//! `Box<[u8]>` of exactly its length (no spare capacity).
//!
//! Invariants: content of at most `INLINE_CAP` bytes is always inline, longer
//! content always on the heap, so the representation of a given content is
//! canonical. Equality, ordering and hashing are those of the `[u8]` content (so a
//! `HashMap<SmallBytes, _>` can be queried with `&[u8]`). No `unsafe`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        buf: [u8; SmallBytes::INLINE_CAP],
    },
    Heap(Box<[u8]>),
}

/// An immutable byte string of 24 bytes that keeps up to 22 bytes inline.
#[derive(Clone)]
pub struct SmallBytes(Repr);

impl SmallBytes {
    /// Longest content stored without a heap allocation.
    pub const INLINE_CAP: usize = 22;

    /// The empty string.
    pub const fn new() -> SmallBytes {
        SmallBytes(Repr::Inline {
            len: 0,
            buf: [0; SmallBytes::INLINE_CAP],
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len).min(Self::INLINE_CAP)],
            Repr::Heap(b) => b,
        }
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the content lives inline (no heap allocation).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Bytes allocated on the heap for the content (0 when inline).
    pub fn heap_size(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(b) => b.len(),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { .. } => self.as_bytes().to_vec(),
            Repr::Heap(b) => b.into_vec(),
        }
    }

    fn inline(s: &[u8]) -> SmallBytes {
        let mut buf = [0u8; Self::INLINE_CAP];
        buf[..s.len()].copy_from_slice(s);
        SmallBytes(Repr::Inline {
            len: s.len() as u8,
            buf,
        })
    }
}

impl Default for SmallBytes {
    fn default() -> SmallBytes {
        SmallBytes::new()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(s: &[u8]) -> SmallBytes {
        if s.len() <= Self::INLINE_CAP {
            SmallBytes::inline(s)
        } else {
            SmallBytes(Repr::Heap(s.into()))
        }
    }
}

impl<const N: usize> From<&[u8; N]> for SmallBytes {
    fn from(s: &[u8; N]) -> SmallBytes {
        SmallBytes::from(&s[..])
    }
}

impl From<&Vec<u8>> for SmallBytes {
    fn from(s: &Vec<u8>) -> SmallBytes {
        SmallBytes::from(&s[..])
    }
}

impl From<&str> for SmallBytes {
    fn from(s: &str) -> SmallBytes {
        SmallBytes::from(s.as_bytes())
    }
}

impl From<Vec<u8>> for SmallBytes {
    /// Reuses the allocation when the vector has no spare capacity.
    fn from(v: Vec<u8>) -> SmallBytes {
        if v.len() <= Self::INLINE_CAP {
            SmallBytes::inline(&v)
        } else {
            SmallBytes(Repr::Heap(v.into_boxed_slice()))
        }
    }
}

impl From<Box<[u8]>> for SmallBytes {
    fn from(b: Box<[u8]>) -> SmallBytes {
        if b.len() <= Self::INLINE_CAP {
            SmallBytes::inline(&b)
        } else {
            SmallBytes(Repr::Heap(b))
        }
    }
}

impl From<SmallBytes> for Vec<u8> {
    fn from(s: SmallBytes) -> Vec<u8> {
        s.into_vec()
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &SmallBytes) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for SmallBytes {}

impl PartialEq<[u8]> for SmallBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for SmallBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for SmallBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == &other[..]
    }
}

impl PartialEq<Vec<u8>> for SmallBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_bytes() == &other[..]
    }
}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &SmallBytes) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &SmallBytes) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_bytes().escape_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn size_is_24() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        assert_eq!(std::mem::size_of::<Option<SmallBytes>>(), 24);
    }

    #[test]
    fn inline_and_heap() {
        for n in [0usize, 1, 21, 22, 23, 24, 100, 5000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let s = SmallBytes::from(&v[..]);
            assert_eq!(s.as_bytes(), &v[..]);
            assert_eq!(s.len(), n);
            assert_eq!(s.is_inline(), n <= 22);
            assert_eq!(s.heap_size(), if n <= 22 { 0 } else { n });
            assert_eq!(SmallBytes::from(v.clone()), s);
            assert_eq!(s.clone().into_vec(), v);
            assert_eq!(s.clone(), s);
        }
    }

    #[test]
    fn hash_and_order_follow_bytes() {
        let mut m: HashMap<SmallBytes, u32> = HashMap::new();
        m.insert(SmallBytes::from("short"), 1);
        m.insert(
            SmallBytes::from("a rather long key that lives on the heap"),
            2,
        );
        assert_eq!(m.get(&b"short"[..]), Some(&1));
        assert_eq!(
            m.get(&b"a rather long key that lives on the heap"[..]),
            Some(&2)
        );
        let set: BTreeSet<SmallBytes> = ["b", "a", "ab", ""]
            .into_iter()
            .map(SmallBytes::from)
            .collect();
        let order: Vec<&[u8]> = set.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(order, vec![&b""[..], b"a", b"ab", b"b"]);
        assert_eq!(
            format!("{:?}", SmallBytes::from(&b"a\x00\""[..])),
            "b\"a\\x00\\\"\""
        );
    }
}
