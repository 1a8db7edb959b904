//! Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM).
//!
//! A log-linear histogram of microseconds: values below 8 have a bucket each; above,
//! every power of two is split into 8 equal sub-buckets (relative error under 12.5%).
//! 496 buckets cover every `u64`. Each thread keeps its own histograms (allocated on
//! a command's first call) and readers sum them, like the other statistics.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub const BUCKETS: usize = 496;

pub struct Hist {
    counts: Box<[AtomicU64]>,
}

impl Default for Hist {
    fn default() -> Self {
        Hist {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// The bucket of a value.
pub fn index(us: u64) -> usize {
    if us < 8 {
        return us as usize;
    }
    let p = 63 - us.leading_zeros() as usize; // p >= 3
    let sub = ((us >> (p - 3)) & 7) as usize;
    (p - 2) * 8 + sub
}

/// The largest value that falls in bucket `i`.
pub fn bucket_high(i: usize) -> u64 {
    if i < 8 {
        return i as u64;
    }
    let g = i / 8; // = p - 2
    let sub = (i % 8) as u64;
    let shift = (g + 2 - 3) as u32;
    let low = (8 + sub) << shift;
    low + ((1u64 << shift) - 1)
}

impl Hist {
    pub fn record(&self, us: u64) {
        let c = &self.counts[index(us)];
        // One writer per histogram (its thread): load + store is enough.
        c.store(c.load(Relaxed) + 1, Relaxed);
    }

    /// Adds this histogram's counts into `into`.
    pub fn add_to(&self, into: &mut [u64; BUCKETS]) {
        for (a, c) in into.iter_mut().zip(self.counts.iter()) {
            *a += c.load(Relaxed);
        }
    }

    pub fn clear(&self) {
        self.counts.iter().for_each(|c| c.store(0, Relaxed));
    }
}

/// The value at percentile `p` (0-100) of summed counts, as the highest value of
/// the bucket that reaches it.
pub fn percentile(counts: &[u64; BUCKETS], p: f64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, &c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return bucket_high(i);
        }
    }
    bucket_high(BUCKETS - 1)
}

/// Cumulative counts at power-of-two bounds (1, 2, 4, ... µs), listing only the
/// bounds where the count grows, as LATENCY HISTOGRAM reports them.
pub fn power_of_two_buckets(counts: &[u64; BUCKETS]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut cumulative = 0u64;
    let mut i = 0;
    for k in 0..64u32 {
        let bound = 1u64 << k;
        while i < BUCKETS && bucket_high(i) <= bound {
            cumulative += counts[i];
            i += 1;
        }
        if cumulative > out.last().map(|x: &(u64, u64)| x.1).unwrap_or(0) {
            out.push((bound, cumulative));
        }
        if i >= BUCKETS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_in_order() {
        let mut prev = 0;
        for i in 0..BUCKETS {
            let h = bucket_high(i);
            assert!(i == 0 || h > prev, "bucket {i}");
            assert_eq!(index(h), i);
            prev = h;
        }
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        for v in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 123_456_789] {
            let i = index(v);
            assert!(bucket_high(i) >= v);
            assert!(i == 0 || bucket_high(i - 1) < v);
        }
    }

    #[test]
    fn percentiles_and_power_buckets() {
        let h = Hist::default();
        for v in 1..=100 {
            h.record(v);
        }
        let mut c = [0u64; BUCKETS];
        h.add_to(&mut c);
        let p50 = percentile(&c, 50.0);
        assert!((48..=55).contains(&p50), "{p50}");
        assert_eq!(percentile(&c, 100.0), bucket_high(index(100)));
        let b = power_of_two_buckets(&c);
        assert_eq!(b.first(), Some(&(1, 1)));
        assert_eq!(b.last().map(|x| x.1), Some(100));
    }
}
