//! The hash value: a map from field to value, in one of Redis's two encodings.
//!
//! - "listpack": small hashes live in one exact-size byte buffer of packed pairs
//!   (layout in [`pack`]), pairs in insertion order, as Redis's listpack keeps them,
//!   so HGETALL/HKEYS/HSCAN of a small hash answer in Redis's order. A field is found
//!   by a linear walk, as in Redis (the buffer is small by construction).
//! - "hashtable": a [`Dict`] of field to value; its iteration order is unrelated to
//!   Redis's (Redis's is random too).
//!
//! A hash turns into a hashtable, and never back (as in Redis), when it gets more
//! than `hash-max-listpack-entries` fields, when a field or value longer than
//! `hash-max-listpack-value` is written, or when the buffer would pass 1 GB
//! ([`Limits`]). Commands that write several pairs call [`Hash::prepare`] with all
//! their arguments first, as Redis's `hashTypeTryConversion` does, so that the
//! resulting encoding is Redis's.
//!
//! [`Hash`] is two words (the buffer is a boxed slice, the table a box), so it does
//! not grow [`crate::Value`].
//!
//! Memory, measured as RSS growth over 100,000 keys of 10 pairs (glibc malloc; see
//! bench/RESULTS.md for the current figures):
//! pairs `f0 v0` .. `f9 v9` take 147 bytes per key against Redis 7.0's 177 (0.83);
//! pairs `field:N value-NNNNN` 294 against 352 (0.83). A compact hash costs exactly
//! its malloc chunk (request + 8, rounded up to 16); the rest is the keyspace's cost
//! per key (83 bytes at this size, as for a short string).
//!
//! Invariants: a pack's pairs have distinct fields; a hash in the keyspace is never
//! empty (commands delete the key with its last field; this module allows empty
//! hashes as transient values).

mod pack;

use rand::Rng;
use shoal_ds::dict::Dict;
use shoal_ds::smallbytes::SmallBytes;
use std::fmt;

/// The field-to-value table of a "hashtable" hash.
type Table = Dict<SmallBytes, SmallBytes>;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GB.
const PACK_MAX_BYTES: usize = 1 << 30;

/// When a compact collection must take its big form: `*-max-listpack-entries`
/// and `*-max-listpack-value` (hashes and sorted sets share the shape; see
/// `zset::Limits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (fields, members) the compact form may hold.
    pub max_entries: usize,
    /// Longest field, value or member the compact form may hold.
    pub max_value: usize,
}

impl Limits {
    /// The hash defaults of Redis 7.0 as Debian builds it (512 entries, 64 bytes).
    pub const HASH_DEFAULTS: Limits = Limits {
        max_entries: 512,
        max_value: 64,
    };

    /// From the configuration values (negative values read as 0).
    pub fn new(max_entries: i64, max_value: i64) -> Limits {
        Limits {
            max_entries: usize::try_from(max_entries).unwrap_or(0),
            max_value: usize::try_from(max_value).unwrap_or(0),
        }
    }
}

#[derive(Clone)]
enum Repr {
    Pack(Box<[u8]>),
    Table(Box<Table>),
}

/// A hash value. See the module documentation for the representation.
#[derive(Clone)]
pub struct Hash(Repr);

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (text(k), text(v))))
            .finish()
    }
}

impl Hash {
    /// An empty compact hash (allocates nothing).
    pub fn new() -> Hash {
        Hash(Repr::Pack(Box::default()))
    }

    /// A hash holding `pairs`, written in order with the rules of [`Hash::set`].
    pub fn from_pairs<I, F, V>(limits: &Limits, pairs: I) -> Hash
    where
        I: IntoIterator<Item = (F, V)>,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let mut h = Hash::new();
        for (f, v) in pairs {
            h.set(f.as_ref(), v.as_ref(), limits);
        }
        h
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Pack(b) => pack::count(b),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the hash is in the compact ("listpack") form.
    pub fn is_compact(&self) -> bool {
        matches!(self.0, Repr::Pack(_))
    }

    /// Redis's `OBJECT ENCODING` name for the current representation.
    pub fn encoding(&self) -> &'static str {
        match self.0 {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned by the value.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Pack(b) => b.len(),
            Repr::Table(t) => {
                std::mem::size_of::<Table>()
                    + t.heap_bytes()
                    + t.iter()
                        .map(|(k, v)| k.heap_size() + v.heap_size())
                        .sum::<usize>()
            }
        }
    }

    /// How much work freeing the value is (Redis's `lazyfreeGetFreeEffort`: the
    /// number of fields of a table, 1 for a single buffer).
    pub fn free_effort(&self) -> usize {
        match &self.0 {
            Repr::Pack(_) => 1,
            Repr::Table(t) => t.len(),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.0 {
            Repr::Pack(b) => pack::find(b, field).map(|slot| pack::value_at(b, slot)),
            Repr::Table(t) => t.get(field).map(|v| v.as_bytes()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.0 {
            Repr::Pack(b) => pack::find(b, field).is_some(),
            Repr::Table(t) => t.contains_key(field),
        }
    }

    /// Converts to a table before a write of elements of these lengths if the
    /// compact form could not take them (Redis's `hashTypeTryConversion`): one is
    /// longer than `max_value`, or together they would pass the 1 GB cap.
    pub fn prepare(&mut self, lens: impl IntoIterator<Item = usize>, limits: &Limits) {
        let Repr::Pack(b) = &self.0 else {
            return;
        };
        let mut sum = b.len();
        for len in lens {
            if len > limits.max_value {
                return self.convert();
            }
            sum = sum.saturating_add(len);
        }
        if sum > PACK_MAX_BYTES {
            self.convert();
        }
    }

    /// Sets `field` to `value`; returns whether the field is new. A compact hash
    /// keeps the field's place when it exists and appends it otherwise, and turns
    /// into a table past the limits (checked on every write, updates included).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        self.set_many([(field, value)], limits) == 1
    }

    /// Sets every pair in order, as that many [`Hash::set`] calls; returns how many
    /// fields were new. A compact hash grows its buffer once for all of them.
    pub fn set_many<'p, I>(&mut self, pairs: I, limits: &Limits) -> usize
    where
        I: IntoIterator<Item = (&'p [u8], &'p [u8])>,
        I::IntoIter: Clone,
    {
        let mut pairs = pairs.into_iter();
        let mut pending = None;
        let mut created = 0;
        if let Repr::Pack(b) = &mut self.0 {
            let mut buf = std::mem::take(b).into_vec();
            let grow = pairs
                .clone()
                .map(|(f, v)| pack::pair_len(f.len(), v.len()))
                .fold(0usize, usize::saturating_add);
            buf.reserve_exact(grow.min(PACK_MAX_BYTES));
            let mut n = pack::count(&buf);
            let mut convert = false;
            for (field, value) in pairs.by_ref() {
                let fits = field.len() <= limits.max_value
                    && value.len() <= limits.max_value
                    && buf.len() + pack::pair_len(field.len(), value.len()) <= PACK_MAX_BYTES;
                if !fits {
                    // This pair goes into the table, with the rest.
                    pending = Some((field, value));
                    convert = true;
                    break;
                }
                match pack::find(&buf, field) {
                    Some(slot) => pack::replace_value(&mut buf, slot, value),
                    None => {
                        pack::push(&mut buf, field, value);
                        n += 1;
                        created += 1;
                    }
                }
                // Checked after an update too (as Redis does): a hash left over
                // the limit by a CONFIG SET converts at its next write.
                if n > limits.max_entries {
                    convert = true;
                    break;
                }
            }
            *b = buf.into_boxed_slice();
            if !convert {
                return created;
            }
            self.convert();
        }
        let Repr::Table(t) = &mut self.0 else {
            unreachable!("the compact case returned or converted above");
        };
        for (field, value) in pending.into_iter().chain(pairs) {
            match t.entry(field) {
                shoal_ds::dict::Entry::Occupied(mut o) => {
                    o.insert(SmallBytes::from(value));
                }
                shoal_ds::dict::Entry::Vacant(v) => {
                    v.insert(SmallBytes::from(value));
                    created += 1;
                }
            }
        }
        created
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.0 {
            Repr::Pack(b) => match pack::find(b, field) {
                Some(slot) => {
                    let mut buf = std::mem::take(b).into_vec();
                    pack::remove(&mut buf, slot);
                    *b = buf.into_boxed_slice();
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Turns a compact hash into a table (no-op on a table).
    pub fn convert(&mut self) {
        let Repr::Pack(b) = &self.0 else {
            return;
        };
        let mut t = Table::new();
        t.reserve(pack::count(b));
        for (f, v) in pack::Pairs::new(b) {
            t.insert(SmallBytes::from(f), SmallBytes::from(v));
        }
        self.0 = Repr::Table(Box::new(t));
    }

    /// Every pair: in insertion order when compact, in table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match &self.0 {
            Repr::Pack(b) => Iter(IterRepr::Pack(pack::Pairs::new(b))),
            Repr::Table(t) => Iter(IterRepr::Table(t.iter())),
        }
    }

    /// A uniformly random pair.
    pub fn random_pair<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], &[u8])> {
        match &self.0 {
            Repr::Pack(b) => {
                let n = pack::count(b);
                if n == 0 {
                    return None;
                }
                pack::Pairs::new(b).nth(rng.gen_range(0..n))
            }
            Repr::Table(t) => t
                .random_entry(rng)
                .map(|(k, v)| (k.as_bytes(), v.as_bytes())),
        }
    }

    /// Calls `f` with `count` pairs drawn uniformly with repetition (HRANDFIELD
    /// with a negative count). `f` returns false to stop early.
    pub fn random_pairs<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        count: usize,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        match &self.0 {
            Repr::Pack(b) => {
                // Index the pairs once, then each draw is O(1).
                let pairs: Vec<_> = pack::Pairs::new(b).collect();
                if pairs.is_empty() {
                    return;
                }
                for _ in 0..count {
                    let (k, v) = pairs[rng.gen_range(0..pairs.len())];
                    if !f(k, v) {
                        return;
                    }
                }
            }
            Repr::Table(t) => {
                for _ in 0..count {
                    let Some((k, v)) = t.random_entry(rng) else {
                        return;
                    };
                    if !f(k, v) {
                        return;
                    }
                }
            }
        }
    }

    /// Calls `f` with `count` distinct pairs chosen uniformly (HRANDFIELD with a
    /// positive count smaller than the hash). A compact hash yields them in its
    /// order, a table in no particular order.
    pub fn random_distinct<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        count: usize,
        mut f: impl FnMut(&[u8], &[u8]),
    ) {
        let len = self.len();
        let count = count.min(len);
        match &self.0 {
            Repr::Pack(b) => {
                // Selection sampling: each pair is taken with probability
                // (still needed) / (still left), which picks a uniform subset.
                let mut need = count;
                for (left, (k, v)) in (1..=len).rev().zip(pack::Pairs::new(b)) {
                    if need == 0 {
                        break;
                    }
                    if rng.gen_range(0..left) < need {
                        f(k, v);
                        need -= 1;
                    }
                }
            }
            Repr::Table(t) if count.saturating_mul(3) > len => {
                // Asking for most of the table: shuffle a prefix of all pairs.
                let mut all: Vec<_> = t.iter().collect();
                for i in 0..count {
                    let j = rng.gen_range(i..all.len());
                    all.swap(i, j);
                    let (k, v) = all[i];
                    f(k, v);
                }
            }
            Repr::Table(t) => {
                // A small part of a big table: draw until `count` distinct pairs,
                // told apart by their address in the table.
                let mut seen = std::collections::HashSet::with_capacity(count);
                while seen.len() < count {
                    let Some((k, v)) = t.random_entry(rng) else {
                        return;
                    };
                    if seen.insert(k as *const SmallBytes as usize) {
                        f(k, v);
                    }
                }
            }
        }
    }

    /// One step of HSCAN over a table: calls `f` with the pairs of the bucket at
    /// `cursor` and returns the next cursor (0 when done). A compact hash has no
    /// cursor: it yields every pair and returns 0.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.0 {
            Repr::Pack(b) => {
                for (k, v) in pack::Pairs::new(b) {
                    f(k, v);
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// Checks the representation's invariants (for tests).
    pub fn check(&self) -> Result<(), String> {
        match &self.0 {
            Repr::Pack(b) => {
                pack::check(b)?;
                let mut fields: Vec<Vec<u8>> =
                    pack::Pairs::new(b).map(|(f, _)| f.to_vec()).collect();
                fields.sort();
                fields.dedup();
                if fields.len() != pack::count(b) {
                    return Err("duplicate fields".into());
                }
                Ok(())
            }
            Repr::Table(_) => Ok(()),
        }
    }
}

/// The pairs of a hash (see [`Hash::iter`]).
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Pack(pack::Pairs<'a>),
    Table(shoal_ds::dict::Iter<'a, SmallBytes, SmallBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Pack(p) => p.next(),
            IterRepr::Table(t) => t.next().map(|(k, v)| (k.as_bytes(), v.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests;
