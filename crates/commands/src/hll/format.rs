//! Redis's HyperLogLog string format, byte for byte, and the estimator.
//!
//! A HyperLogLog is an ordinary string whose bytes are:
//!
//! ```text
//! "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8, LE)
//! | registers
//! ```
//!
//! The cached cardinality is valid while the most significant bit of its last byte
//! is clear. There are 16384 registers of 6 bits. The dense form packs them
//! little-endian into 12288 bytes (register `i` starts at bit `6 i`, low bits
//! first). The sparse form is a run-length code over the registers:
//!
//! | opcode | bytes | meaning |
//! |---|---|---|
//! | ZERO `00llllll` | 1 | `l + 1` (1..=64) registers at 0 |
//! | XZERO `01llllll llllllll` | 2 | `l + 1` (1..=16384) registers at 0 |
//! | VAL `1vvvvvll` | 1 | `l + 1` (1..=4) registers at `v + 1` (1..=32) |
//!
//! An element goes to register `h & 16383` of its 64-bit MurmurHash64A (seed
//! `0xadc83b19`), with the value 1 + the number of trailing zero bits of `h >> 14`
//! (the bit 50 forced to one, so at most 51).
//!
//! Since these strings travel through RDB files, DUMP payloads and replication
//! between Shoal and Redis, every edit here produces the bytes Redis produces:
//! where a sparse run is split, which opcodes encode the pieces, which neighbouring
//! VAL opcodes are fused afterwards (only within a window of five opcodes after the
//! one before the edit), and when the value turns dense.
//!
//! Corrupted values (any bytes can be written with SET or SETRANGE) follow Redis
//! too: a walk fails unless the opcodes cover exactly the 16384 registers, and
//! edits made before a failing element stay. One corner is out of reach: Redis
//! reads one byte past the end of a truncated final XZERO (its string terminator,
//! normally 0, but splitting such an opcode writes the last new byte there).
//! [`Hll`] keeps that byte for the duration of a command; Redis keeps it in its
//! allocation until the string is reallocated, which a later command can observe
//! (PFDEBUG DECODE of a value whose truncated XZERO a previous PFADD split).

/// Bytes of the header.
pub const HDR: usize = 16;
/// Index bits of the hash.
const P: u32 = 14;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits of the hash left for the run of zeros.
const Q: usize = 64 - P as usize;
/// Length of a dense HyperLogLog, header included.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
/// Largest value of a 6-bit register.
const REGISTER_MAX: u32 = 63;
/// Largest register value a VAL opcode can hold.
const VAL_MAX_VALUE: u8 = 32;
/// Longest run of a VAL opcode.
const VAL_MAX_LEN: usize = 4;
/// Longest run of a ZERO opcode.
const ZERO_MAX_LEN: usize = 64;
/// Seed of the element hash.
const SEED: u64 = 0xadc83b19;
/// The estimator's constant, 1 / (2 ln 2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The value is not a well-formed HyperLogLog (Redis's "Corrupted HLL object").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Whether `b` passes Redis's check of an HLL string: the magic, a known
/// encoding, and the exact length for the dense form. (The sparse opcodes are only
/// checked when they are walked.)
pub fn is_valid(b: &[u8]) -> bool {
    b.len() >= HDR
        && &b[..4] == b"HYLL"
        && b[4] <= SPARSE
        && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// A new, empty HyperLogLog: sparse, one XZERO run over every register, cached
/// cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2 + 3);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&xzero(REGISTERS));
    v
}

/// The cached cardinality, if valid.
pub fn cached_card(b: &[u8]) -> Option<u64> {
    if b[15] & 0x80 != 0 {
        return None;
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&b[8..16]);
    Some(u64::from_le_bytes(c))
}

pub fn set_cached_card(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(b: &mut [u8]) {
    b[15] |= 0x80;
}

/// MurmurHash64A (64-bit blocks read little-endian), as Redis hashes elements.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let blocks = data.chunks_exact(8);
    let tail = blocks.remainder();
    for block in blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the value it proposes (1..=51).
pub fn register_of(elem: &[u8]) -> (usize, u8) {
    let h = murmur64a(elem, SEED);
    let index = (h as usize) & (REGISTERS - 1);
    let rest = (h >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- dense registers --------------------------------------------------------------

/// Register `i` of a dense register area; `past` stands for the byte after it.
fn dense_get(regs: &[u8], past: u8, i: usize) -> u8 {
    let bit = i * 6;
    let (byte, fb) = (bit / 8, (bit % 8) as u32);
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(past));
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX) as u8
}

/// Sets register `i` of a dense register area to `v` (at most 63).
fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let bit = i * 6;
    let (byte, fb) = (bit / 8, (bit % 8) as u32);
    let v = u32::from(v) & REGISTER_MAX;
    regs[byte] = ((u32::from(regs[byte]) & !(REGISTER_MAX << fb)) | (v << fb)) as u8;
    // The last register ends inside its first byte: nothing spills over.
    if let Some(next) = regs.get_mut(byte + 1) {
        *next = ((u32::from(*next) & !(REGISTER_MAX >> (8 - fb))) | (v >> (8 - fb))) as u8;
    }
}

/// Raises register `i` to `v`; returns whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, v: u8) -> bool {
    if v > dense_get(regs, 0, i) {
        dense_put(regs, i, v);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ---------------------------------------------------------------

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    usize::from(op & 0x3f) + 1
}

fn xzero_len(op: u8, next: u8) -> usize {
    ((usize::from(op & 0x3f) << 8) | usize::from(next)) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    usize::from(op & 0x3) + 1
}

/// ZERO of `len` (1..=64) registers.
fn zero(len: usize) -> u8 {
    (len - 1) as u8
}

/// XZERO of `len` (1..=16384) registers.
fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | ((l >> 8) as u8 & 0x3f), (l & 0xff) as u8]
}

/// VAL of `len` (1..=4) registers at `value` (1..=32).
fn val(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

/// A run of zero registers in the shortest opcode.
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(len));
    } else {
        seq.push(zero(len));
    }
}

/// One decoded sparse opcode.
#[derive(Clone, Copy)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(l) | Op::XZero(l) | Op::Val(_, l) => l,
        }
    }
}

/// A histogram of register values: `h[v]` registers hold `v`.
pub type Histogram = [i64; 64];

// ---- a value being worked on ------------------------------------------------------

/// An HLL string being read or edited by one command. The string must have passed
/// [`is_valid`]; the sparse opcodes may still be corrupt.
pub struct Hll<'a> {
    pub buf: &'a mut Vec<u8>,
    /// The byte Redis finds just past the end of the string (see the module doc).
    past_end: u8,
}

impl<'a> Hll<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Hll { buf, past_end: 0 }
    }

    pub fn is_sparse(&self) -> bool {
        self.buf[4] == SPARSE
    }

    fn at(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(self.past_end)
    }

    /// The sparse opcode at `p` (which must be inside the string).
    fn op_at(&self, p: usize) -> Op {
        let b = self.buf[p];
        if is_zero(b) {
            Op::Zero(zero_len(b))
        } else if is_xzero(b) {
            Op::XZero(xzero_len(b, self.at(p + 1)))
        } else {
            Op::Val(val_value(b), val_len(b))
        }
    }

    /// PFADD of one element: whether a register changed.
    pub fn add(&mut self, elem: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
        let (index, count) = register_of(elem);
        self.raise(index, count, sparse_max)
    }

    /// Raises register `index` to `count` (1..=63) if it is lower; whether it
    /// changed. A sparse value turns dense when the new value does not fit a VAL
    /// opcode or the edit would grow the string beyond `sparse_max` bytes.
    pub fn raise(&mut self, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
        if self.is_sparse() {
            self.sparse_raise(index, count, sparse_max)
        } else {
            Ok(dense_raise(&mut self.buf[HDR..], index, count))
        }
    }

    fn promote_and_raise(&mut self, index: usize, count: u8) -> Result<bool, Corrupt> {
        self.make_dense()?;
        Ok(dense_raise(&mut self.buf[HDR..], index, count))
    }

    fn sparse_raise(
        &mut self,
        index: usize,
        count: u8,
        sparse_max: usize,
    ) -> Result<bool, Corrupt> {
        if count > VAL_MAX_VALUE {
            return self.promote_and_raise(index, count);
        }
        // Find the opcode covering `index`, and the one before it.
        let end = self.buf.len();
        let (mut p, mut first, mut prev) = (HDR, 0usize, None);
        let mut found = None;
        while p < end {
            let op = self.op_at(p);
            if index < first + op.span() {
                found = Some(op);
                break;
            }
            prev = Some(p);
            p += op.bytes();
            first += op.span();
        }
        let Some(op) = found else {
            return Err(Corrupt);
        };
        let next = (p + op.bytes() < end).then_some(p + op.bytes());

        match op {
            Op::Val(old, _) if old >= count => return Ok(false),
            // A run of one register changes in place.
            Op::Val(_, 1) | Op::Zero(1) => {
                self.buf[p] = val(count, 1);
                self.sparse_edited(prev);
                return Ok(true);
            }
            _ => {}
        }

        // Split the run into (before, the register, after).
        let last = first + op.span() - 1;
        let mut seq = Vec::with_capacity(5);
        match op {
            Op::Val(old, _) => {
                if index != first {
                    seq.push(val(old, index - first));
                }
                seq.push(val(count, 1));
                if index != last {
                    seq.push(val(old, last - index));
                }
            }
            Op::Zero(_) | Op::XZero(_) => {
                if index != first {
                    push_zeros(&mut seq, index - first);
                }
                seq.push(val(count, 1));
                if index != last {
                    push_zeros(&mut seq, last - index);
                }
            }
        }
        let old_len = op.bytes();
        if seq.len() > old_len && end + seq.len() - old_len > sparse_max {
            return self.promote_and_raise(index, count);
        }
        match next {
            Some(next) => {
                self.buf.splice(p..next, seq);
                self.past_end = 0;
            }
            None => {
                // The last opcode; when it is an XZERO cut short by the end of the
                // string, the new length counts its two bytes and the last byte
                // written lands past the end.
                let new_len = end + seq.len() - old_len;
                self.buf.truncate(p);
                self.buf.extend_from_slice(&seq);
                self.past_end = if self.buf.len() > new_len {
                    self.buf.pop().unwrap_or(0)
                } else {
                    0
                };
            }
        }
        self.sparse_edited(prev);
        Ok(true)
    }

    /// The end of every sparse register change: fuse neighbours and invalidate the
    /// cached cardinality right away (so a command that fails on a later element
    /// leaves the cache invalid, as Redis does; dense edits leave that to the
    /// command).
    fn sparse_edited(&mut self, prev: Option<usize>) {
        self.fuse_vals(prev);
        invalidate_cache(self.buf);
    }

    /// After an edit: fuses adjacent VAL opcodes of equal value whose runs fit one
    /// opcode, looking at five opcodes from `from` (the opcode before the edit).
    fn fuse_vals(&mut self, from: Option<usize>) {
        let mut p = from.unwrap_or(HDR);
        let mut budget = 5;
        while p < self.buf.len() && budget > 0 {
            budget -= 1;
            let op = self.buf[p];
            if is_xzero(op) {
                p += 2;
                continue;
            }
            if is_zero(op) {
                p += 1;
                continue;
            }
            if let Some(&right) = self.buf.get(p + 1) {
                if is_val(right) && val_value(op) == val_value(right) {
                    let len = val_len(op) + val_len(right);
                    if len <= VAL_MAX_LEN {
                        self.buf[p + 1] = val(val_value(op), len);
                        self.buf.remove(p);
                        self.past_end = 0;
                        // Try the fused opcode against its right neighbour too.
                        continue;
                    }
                }
            }
            p += 1;
        }
    }

    /// Converts a sparse value to dense (keeping the header, cached cardinality
    /// included); whether it converted. A sparse form whose opcodes do not cover
    /// exactly the 16384 registers (all of them, not one opcode more) is corrupt
    /// and stays as it is.
    pub fn make_dense(&mut self) -> Result<bool, Corrupt> {
        if !self.is_sparse() {
            return Ok(false);
        }
        let mut dense = vec![0u8; DENSE_SIZE];
        dense[..HDR].copy_from_slice(&self.buf[..HDR]);
        dense[4] = DENSE;
        let regs = &mut dense[HDR..];
        let (mut p, mut idx) = (HDR, 0usize);
        while p < self.buf.len() {
            let op = self.op_at(p);
            if idx + op.span() > REGISTERS {
                return Err(Corrupt);
            }
            if let Op::Val(v, l) = op {
                for i in idx..idx + l {
                    dense_put(regs, i, v);
                }
            }
            idx += op.span();
            p += op.bytes();
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
        *self.buf = dense;
        self.past_end = 0;
        Ok(true)
    }

    /// Raises each of `max` (one byte per register) to this value's registers.
    pub fn merge_into(&self, max: &mut [u8]) -> Result<(), Corrupt> {
        if !self.is_sparse() {
            let regs = &self.buf[HDR..];
            for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
                *m = (*m).max(dense_get(regs, self.past_end, i));
            }
            return Ok(());
        }
        let (mut p, mut idx) = (HDR, 0usize);
        while p < self.buf.len() {
            let op = self.op_at(p);
            if idx + op.span() > REGISTERS {
                return Err(Corrupt);
            }
            if let Op::Val(v, l) = op {
                for m in &mut max[idx..idx + l] {
                    *m = (*m).max(v);
                }
            }
            idx += op.span();
            p += op.bytes();
        }
        if idx == REGISTERS {
            Ok(())
        } else {
            Err(Corrupt)
        }
    }

    /// The histogram of the registers; a sparse form not covering exactly the
    /// registers is corrupt.
    pub fn histogram(&self) -> Result<Histogram, Corrupt> {
        let mut h = [0i64; 64];
        if !self.is_sparse() {
            let regs = &self.buf[HDR..];
            for i in 0..REGISTERS {
                h[usize::from(dense_get(regs, self.past_end, i))] += 1;
            }
            return Ok(h);
        }
        let (mut p, mut idx) = (HDR, 0usize);
        while p < self.buf.len() {
            let op = self.op_at(p);
            let (v, l) = match op {
                Op::Zero(l) | Op::XZero(l) => (0, l),
                Op::Val(v, l) => (usize::from(v), l),
            };
            h[v] += l as i64;
            idx += l;
            p += op.bytes();
        }
        if idx == REGISTERS {
            Ok(h)
        } else {
            Err(Corrupt)
        }
    }

    /// The dense registers (converting first is the caller's business).
    pub fn registers(&self) -> Vec<u8> {
        let regs = &self.buf[HDR..];
        (0..REGISTERS)
            .map(|i| dense_get(regs, self.past_end, i))
            .collect()
    }

    /// PFDEBUG DECODE's rendering of the sparse opcodes: `z:len` (ZERO), `Z:len`
    /// (XZERO), `v:value,len` (VAL), separated by spaces.
    pub fn decode(&self) -> String {
        let mut s = String::new();
        let mut p = HDR;
        while p < self.buf.len() {
            let op = self.op_at(p);
            if !s.is_empty() {
                s.push(' ');
            }
            match op {
                Op::Zero(l) => s.push_str(&format!("z:{l}")),
                Op::XZero(l) => s.push_str(&format!("Z:{l}")),
                Op::Val(v, l) => s.push_str(&format!("v:{v},{l}")),
            }
            p += op.bytes();
        }
        s
    }
}

/// The histogram of raw registers (one byte each), as PFCOUNT of several keys
/// builds them.
pub fn raw_histogram(regs: &[u8]) -> Histogram {
    let mut h = [0i64; 64];
    for &r in regs {
        h[usize::from(r & 63)] += 1;
    }
    h
}

// ---- the estimator ----------------------------------------------------------------

/// The cardinality estimate from a register histogram: Ertl's improved raw
/// estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
/// 2017), as Redis computes it in double precision, rounded half away from zero.
/// The result is a `u64` bit pattern: where the estimate overflows (registers all
/// saturated), the conversion yields 2^63, as Redis's does on x86-64.
pub fn estimate(h: &Histogram) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // NaN is outside the range too.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&e) {
        e as i64 as u64
    } else {
        1u64 << 63
    }
}

/// Ertl's sigma: `x + sum_k x^(2^k) 2^(k-1)`, to convergence.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// Ertl's tau: `(1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3`, to convergence.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The cardinality of a value (dense or sparse).
pub fn count(hll: &Hll<'_>) -> Result<u64, Corrupt> {
    Ok(estimate(&hll.histogram()?))
}

/// The dense register accessors, for the self-test.
pub(crate) fn dense_registers_roundtrip() -> Result<(), usize> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    for pass in 0..2u32 {
        for i in 0..REGISTERS {
            let v = ((i as u32 * 7 + pass * 13) % 64) as u8;
            dense_put(&mut regs, i, v);
        }
        for i in 0..REGISTERS {
            let v = ((i as u32 * 7 + pass * 13) % 64) as u8;
            if dense_get(&regs, 0, i) != v {
                return Err(i);
            }
        }
    }
    Ok(())
}
