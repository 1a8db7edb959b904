//! The set value, with Redis 7.0's two encodings.
//!
//! - **"intset"**: a sorted array of distinct integers, each stored in the narrowest
//!   of 2, 4 or 8 little-endian bytes that holds every member (like Redis's intset,
//!   the width only grows). Membership is a binary search; iteration is ascending,
//!   which is why SMEMBERS of an intset is sorted in Redis and here.
//! - **"hashtable"**: a [`Dict`] of members with unit values: O(1) membership,
//!   uniform random members, and SSCAN cursors with Redis's guarantee.
//!
//! Redis 7.0 has no listpack encoding for sets (7.2 added it): a set holding any
//! member that is not a canonical 64-bit integer (what `shoal_ds::num::parse_i64`,
//! Redis's `string2ll`, accepts) is a hashtable.
//!
//! Conversions follow Redis's `setTypeAdd`: an intset becomes a hashtable when a
//! non-integer member is added, or when an addition takes its size beyond
//! `set-max-intset-entries` (the limit is passed to [`Set::add`]). Nothing converts
//! a hashtable back; only commands that build a fresh set (SPOP's large-count path,
//! the *STORE commands) can produce an intset again.
//!
//! Invariants:
//! - an intset's bytes are `len * width` long, members strictly ascending;
//! - members are compared as strings; since an intset holds only canonical
//!   integers, whose text is unique, integer equality is string equality;
//! - a set in the keyspace is never empty (commands delete the key with its last
//!   member); empty sets exist only transiently.
//!
//! [`Set`] is one pointer wide so that it does not grow [`crate::Value`]; an intset
//! costs one 32-byte block plus its members' bytes (the hashtable's larger header is
//! boxed separately).

use crate::list::Elem;
use rand::Rng;
use shoal_ds::dict::Dict;
use shoal_ds::num::parse_i64;
use shoal_ds::smallbytes::SmallBytes;
use std::fmt;

/// What `OBJECT ENCODING` reports for a set of integers.
pub const ENC_INTSET: &str = "intset";
/// What `OBJECT ENCODING` reports for every other set.
pub const ENC_HASHTABLE: &str = "hashtable";

/// A set value. See the module documentation.
#[derive(Clone)]
pub struct Set(Box<Repr>);

#[derive(Clone)]
enum Repr {
    Ints(IntSet),
    /// Boxed so that the common small intset allocates only what it uses.
    Table(Box<Dict<SmallBytes, ()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Set({}) ", self.encoding())?;
        f.debug_set()
            .entries(
                self.iter()
                    .map(|e| e.with_bytes(|b| String::from_utf8_lossy(b).into_owned())),
            )
            .finish()
    }
}

/// The integer value of `m` if it is a canonical `i64`.
#[inline]
fn as_int(m: &[u8]) -> Option<i64> {
    if m.len() > 20 {
        None
    } else {
        parse_i64(m)
    }
}

impl Set {
    /// An empty intset (Redis's `createIntsetObject`).
    pub fn new_intset() -> Set {
        Set(Box::new(Repr::Ints(IntSet::default())))
    }

    /// An empty hashtable set.
    pub fn new_table() -> Set {
        Set(Box::new(Repr::Table(Box::default())))
    }

    /// The empty set a key gets when `first` is about to be its first member
    /// (Redis's `setTypeCreate`): an intset if `first` is an integer.
    pub fn for_member(first: &[u8]) -> Set {
        if as_int(first).is_some() {
            Set::new_intset()
        } else {
            Set::new_table()
        }
    }

    /// A set holding `members`, built as SADD would build it.
    pub fn from_members<I, T>(max_intset: usize, members: I) -> Set
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut it = members.into_iter().peekable();
        let mut s = match it.peek() {
            Some(m) => Set::for_member(m.as_ref()),
            None => Set::new_intset(),
        };
        for m in it {
            s.add(m.as_ref(), max_intset);
        }
        s
    }

    pub fn len(&self) -> usize {
        match &*self.0 {
            Repr::Ints(i) => i.len(),
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set is encoded as an intset.
    pub fn is_intset(&self) -> bool {
        matches!(&*self.0, Repr::Ints(_))
    }

    /// An intset's member width in bytes (2, 4 or 8; it only grows, as in Redis,
    /// so it is part of the value's RDB form); `None` for a hashtable.
    pub fn intset_width(&self) -> Option<u8> {
        match &*self.0 {
            Repr::Ints(s) => Some(s.width),
            Repr::Table(_) => None,
        }
    }

    /// Redis's `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match &*self.0 {
            Repr::Ints(_) => ENC_INTSET,
            Repr::Table(_) => ENC_HASHTABLE,
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_bytes(&self) -> usize {
        let own = std::mem::size_of::<Repr>();
        match &*self.0 {
            Repr::Ints(i) => own + i.data.capacity(),
            Repr::Table(d) => {
                own + std::mem::size_of::<Dict<SmallBytes, ()>>()
                    + d.heap_bytes()
                    + d.keys().map(SmallBytes::heap_size).sum::<usize>()
            }
        }
    }

    /// How much work freeing the value is (Redis's `lazyfreeGetFreeEffort`: the
    /// number of members of a hashtable, 1 for an intset's single allocation).
    pub fn free_effort(&self) -> usize {
        match &*self.0 {
            Repr::Ints(_) => 1,
            Repr::Table(d) => d.len(),
        }
    }

    /// Converts an intset to a hashtable (Redis's `setTypeConvert`).
    pub fn convert_to_table(&mut self) {
        if let Repr::Ints(i) = &*self.0 {
            let mut d: Box<Dict<SmallBytes, ()>> = Box::default();
            d.reserve(i.len());
            let mut buf = itoa::Buffer::new();
            for v in i.iter() {
                d.insert(SmallBytes::from(buf.format(v).as_bytes()), ());
            }
            *self.0 = Repr::Table(d);
        }
    }

    /// Adds `m`; returns whether it was new. An intset converts to a hashtable when
    /// `m` is not an integer, or when the addition makes it larger than
    /// `max_intset` members.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if self.is_intset() {
            match as_int(m) {
                Some(v) => return self.add_int_to_intset(v, max_intset),
                None => self.convert_to_table(),
            }
        }
        match &mut *self.0 {
            Repr::Table(d) => add_to_table(d, m),
            Repr::Ints(_) => false,
        }
    }

    /// Adds a member given as an [`Elem`] (an integer member is not formatted when
    /// it goes into an intset).
    pub fn add_elem(&mut self, e: Elem<'_>, max_intset: usize) -> bool {
        match (e, &mut *self.0) {
            (Elem::Int(v), Repr::Ints(_)) => self.add_int_to_intset(v, max_intset),
            (Elem::Int(v), Repr::Table(d)) => {
                let mut buf = itoa::Buffer::new();
                add_to_table(d, buf.format(v).as_bytes())
            }
            (Elem::Bytes(b), _) => self.add(b, max_intset),
        }
    }

    fn add_int_to_intset(&mut self, v: i64, max_intset: usize) -> bool {
        let Repr::Ints(i) = &mut *self.0 else {
            return false;
        };
        if !i.insert(v) {
            return false;
        }
        if i.len() > max_intset {
            self.convert_to_table();
        }
        true
    }

    /// Removes `m`; returns whether it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut *self.0 {
            Repr::Table(d) => d.remove(m).is_some(),
            Repr::Ints(i) => match as_int(m) {
                Some(v) => i.remove(v),
                None => false,
            },
        }
    }

    /// Removes a member given as an [`Elem`].
    pub fn remove_elem(&mut self, e: Elem<'_>) -> bool {
        match (e, &mut *self.0) {
            (Elem::Int(v), Repr::Ints(i)) => i.remove(v),
            (Elem::Int(v), Repr::Table(d)) => {
                let mut buf = itoa::Buffer::new();
                d.remove(buf.format(v).as_bytes()).is_some()
            }
            (Elem::Bytes(b), _) => self.remove(b),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &*self.0 {
            Repr::Table(d) => d.contains_key(m),
            Repr::Ints(i) => as_int(m).is_some_and(|v| i.contains(v)),
        }
    }

    /// Membership of a member given as an [`Elem`].
    pub fn contains_elem(&self, e: Elem<'_>) -> bool {
        match (e, &*self.0) {
            (Elem::Int(v), Repr::Ints(i)) => i.contains(v),
            (Elem::Int(v), Repr::Table(d)) => {
                let mut buf = itoa::Buffer::new();
                d.contains_key(buf.format(v).as_bytes())
            }
            (Elem::Bytes(b), _) => self.contains(b),
        }
    }

    /// Every member: ascending for an intset, storage order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &*self.0 {
            Repr::Ints(i) => Iter::Ints(i, 0),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A uniformly random member.
    pub fn random<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Elem<'_>> {
        match &*self.0 {
            Repr::Ints(i) => {
                if i.len() == 0 {
                    return None;
                }
                Some(Elem::Int(i.get(rng.gen_range(0..i.len()))))
            }
            Repr::Table(d) => d.random_entry(rng).map(|(k, _)| Elem::Bytes(k.as_bytes())),
        }
    }

    /// Removes and returns a uniformly random member, as its bytes.
    pub fn pop_random<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<Vec<u8>> {
        match &mut *self.0 {
            Repr::Ints(i) => {
                if i.len() == 0 {
                    return None;
                }
                let v = i.remove_at(rng.gen_range(0..i.len()));
                Some(itoa::Buffer::new().format(v).as_bytes().to_vec())
            }
            Repr::Table(d) => {
                let k = d.random_entry(rng).map(|(k, _)| k.to_vec())?;
                d.remove(&k);
                Some(k)
            }
        }
    }

    /// One SSCAN step from `cursor`: calls `f` for members and returns the next
    /// cursor (0 when done). An intset is returned whole in one step, as Redis does;
    /// a hashtable step visits one bucket of the dict (see [`Dict::scan`]).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(Elem<'_>)) -> u64 {
        match &*self.0 {
            Repr::Ints(i) => {
                i.iter().for_each(|v| f(Elem::Int(v)));
                0
            }
            Repr::Table(d) => d.scan(cursor, |k, _| f(Elem::Bytes(k.as_bytes()))),
        }
    }

    /// Checks the representation's invariants (tests).
    pub fn check(&self) -> Result<(), String> {
        match &*self.0 {
            Repr::Ints(i) => {
                if i.data.len() % i.width as usize != 0 {
                    return Err("intset bytes not a multiple of the width".into());
                }
                let v: Vec<i64> = i.iter().collect();
                if v.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(format!("intset not strictly ascending: {v:?}"));
                }
                Ok(())
            }
            Repr::Table(_) => Ok(()),
        }
    }
}

/// Adds `m` to a table with one hash lookup; returns whether it was new.
fn add_to_table(d: &mut Dict<SmallBytes, ()>, m: &[u8]) -> bool {
    match d.entry(m) {
        shoal_ds::dict::Entry::Occupied(_) => false,
        shoal_ds::dict::Entry::Vacant(v) => {
            v.insert(());
            true
        }
    }
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    Ints(&'a IntSet, usize),
    Table(shoal_ds::dict::Iter<'a, SmallBytes, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        match self {
            Iter::Ints(s, pos) => {
                if *pos >= s.len() {
                    return None;
                }
                let v = s.get(*pos);
                *pos += 1;
                Some(Elem::Int(v))
            }
            Iter::Table(it) => it.next().map(|(k, _)| Elem::Bytes(k.as_bytes())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Iter::Ints(s, pos) => s.len().saturating_sub(*pos),
            Iter::Table(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// A sorted array of distinct integers in the narrowest width holding them all.
#[derive(Clone)]
pub struct IntSet {
    /// Bytes per member: 2, 4 or 8.
    width: u8,
    /// `len * width` bytes, little-endian members in ascending order.
    data: Vec<u8>,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet {
            width: 2,
            data: Vec::new(),
        }
    }
}

/// The width an integer needs.
fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    /// Member `i` (which must be below `len`).
    #[inline]
    fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let b = &self.data[i * w..i * w + w];
        match w {
            2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Position of `v`, or where it would go.
    fn search(&self, v: i64) -> Result<usize, usize> {
        if width_of(v) > self.width {
            // Beyond every member's range: before all of them or after.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    fn write_at(&mut self, pos: usize, v: i64) {
        let w = self.width as usize;
        let bytes = v.to_le_bytes();
        self.data[pos * w..pos * w + w].copy_from_slice(&bytes[..w]);
    }

    /// Rewrites every member with `width` bytes (wider than the current width).
    fn upgrade(&mut self, width: u8) {
        let old: Vec<i64> = self.iter().collect();
        self.width = width;
        self.data = vec![0; old.len() * width as usize];
        for (i, v) in old.into_iter().enumerate() {
            self.write_at(i, v);
        }
    }

    fn insert(&mut self, v: i64) -> bool {
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let need = width_of(v);
        if need > self.width {
            self.upgrade(need);
        }
        let w = self.width as usize;
        let at = pos * w;
        let bytes = v.to_le_bytes();
        self.data.splice(at..at, bytes[..w].iter().copied());
        true
    }

    fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(pos) => {
                self.remove_at(pos);
                true
            }
            Err(_) => false,
        }
    }

    fn remove_at(&mut self, pos: usize) -> i64 {
        let v = self.get(pos);
        let w = self.width as usize;
        self.data.drain(pos * w..pos * w + w);
        if self.data.is_empty() {
            self.data = Vec::new();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;
    use std::collections::BTreeSet;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        s.iter().map(Elem::to_vec).collect()
    }

    #[test]
    fn one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Set>(), std::mem::size_of::<usize>());
        assert!(std::mem::size_of::<Repr>() <= 32);
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = Set::from_members(512, ["5", "-3", "70000", "-9223372036854775808", "2"]);
        assert_eq!(s.encoding(), ENC_INTSET);
        s.check().unwrap();
        assert_eq!(
            members(&s),
            [&b"-9223372036854775808"[..], b"-3", b"2", b"5", b"70000"]
        );
        assert!(s.contains(b"70000"));
        assert!(!s.contains(b"070000"));
        assert!(!s.contains(b"9223372036854775807"));
        assert!(!s.add(b"2", 512));
        assert!(s.remove(b"-9223372036854775808"));
        assert!(!s.remove(b"-9223372036854775808"));
        assert!(!s.remove(b"x"));
        s.check().unwrap();
        assert_eq!(s.len(), 4);
        assert!(s.add(b"32767", 512));
        assert!(s.add(b"-32768", 512));
        assert!(s.add(b"9223372036854775807", 512));
        s.check().unwrap();
        assert_eq!(members(&s).first().unwrap(), b"-32768");
        assert_eq!(members(&s).last().unwrap(), b"9223372036854775807");
    }

    #[test]
    fn conversions() {
        let mut s = Set::from_members(3, ["1", "2", "3"]);
        assert_eq!(s.encoding(), ENC_INTSET);
        assert!(s.add(b"4", 3));
        assert_eq!(s.encoding(), ENC_HASHTABLE);
        assert!(s.contains(b"4") && s.contains(b"1"));
        let mut s = Set::from_members(512, ["1", "2"]);
        assert!(s.add(b"01", 512));
        assert_eq!(s.encoding(), ENC_HASHTABLE);
        assert!(s.contains(b"01") && s.contains(b"1"));
        assert!(s.contains_elem(Elem::Int(2)));
        let s = Set::from_members(0, ["7"]);
        assert_eq!(s.encoding(), ENC_HASHTABLE);
        assert_eq!(Set::for_member(b"a").encoding(), ENC_HASHTABLE);
        assert_eq!(Set::for_member(b"-5").encoding(), ENC_INTSET);
    }

    #[test]
    fn random_against_model() {
        let mut rng = SmallRng::seed_from_u64(7);
        for max in [0usize, 4, 64, 512] {
            let mut s = Set::new_intset();
            let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
            for _ in 0..2000 {
                let m: Vec<u8> = match rng.gen_range(0..10) {
                    0 => b"x".to_vec(),
                    1..=3 => rng.gen_range(-40000i64..40000).to_string().into_bytes(),
                    4 => rng.gen::<i64>().to_string().into_bytes(),
                    _ => rng.gen_range(-100i64..100).to_string().into_bytes(),
                };
                match rng.gen_range(0..4) {
                    0 => assert_eq!(s.remove(&m), model.remove(&m)),
                    1 => {
                        if let Some(p) = s.pop_random(&mut rng) {
                            assert!(model.remove(&p));
                        }
                    }
                    _ => assert_eq!(s.add(&m, max), model.insert(m.clone())),
                }
                assert_eq!(s.len(), model.len());
                assert_eq!(s.contains(&m), model.contains(&m));
            }
            s.check().unwrap();
            let got: BTreeSet<Vec<u8>> = members(&s).into_iter().collect();
            assert_eq!(got, model);
            let mut seen = BTreeSet::new();
            let mut c = 0;
            for _ in 0..100_000 {
                c = s.scan_step(c, |e| {
                    seen.insert(e.to_vec());
                });
                if c == 0 {
                    break;
                }
            }
            assert_eq!(seen, model);
        }
    }
}
