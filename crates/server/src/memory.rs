//! Memory accounting: a counting wrapper around the process allocator.
//!
//! `used_memory` in INFO is the sum of live allocation sizes, as Redis reports its
//! allocator's "allocated" figure. Counters are spread over cache-line-padded slots
//! chosen per thread, so concurrent allocations rarely touch the same line; the
//! total is their sum. The binary installs the allocator with
//! `#[global_allocator] static A: Counting = Counting;`; without it the counters
//! stay at zero and `used_memory` falls back to the resident set size.
//!
//! The allocator underneath is chosen at build time by this crate's features:
//! `alloc-jemalloc` (jemalloc, as Redis ships with), `alloc-mimalloc`, or neither
//! (the system allocator, glibc malloc). jemalloc wins if both are enabled, so
//! `--all-features` still builds. The default is the system allocator: Shoal keeps
//! keys and small values in large dense arrays, so what the allocator changes is
//! mostly how soon freed arrays stop counting in RSS; glibc gave the lowest RSS
//! per key (equal to `used_memory`), with CPU per op within the noise of the others
//! (bench/RESULTS.md, docs/architecture.md "Decisions and why").

#[cfg(all(feature = "alloc-mimalloc", not(feature = "alloc-jemalloc")))]
use mimalloc::MiMalloc as Inner;
#[cfg(not(any(feature = "alloc-jemalloc", feature = "alloc-mimalloc")))]
use std::alloc::System as Inner;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
#[cfg(feature = "alloc-jemalloc")]
use tikv_jemallocator::Jemalloc as Inner;

/// INFO's `mem_allocator`: the allocator under the counting wrapper.
#[cfg(feature = "alloc-jemalloc")]
pub const ALLOCATOR_NAME: &str = "jemalloc-5.3.1";
#[cfg(all(feature = "alloc-mimalloc", not(feature = "alloc-jemalloc")))]
pub const ALLOCATOR_NAME: &str = "mimalloc-3.3.2";
#[cfg(not(any(feature = "alloc-jemalloc", feature = "alloc-mimalloc")))]
pub const ALLOCATOR_NAME: &str = "libc";

const SLOTS: usize = 32;

#[repr(align(64))]
struct Slot(AtomicI64);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Slot = Slot(AtomicI64::new(0));
static COUNTS: [Slot; SLOTS] = [ZERO; SLOTS];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static ACTIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static PEAK: AtomicU64 = AtomicU64::new(0);
static STARTUP: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn slot() -> &'static AtomicI64 {
    let i = MY_SLOT
        .try_with(|s| {
            let mut v = s.get();
            if v == usize::MAX {
                v = NEXT_SLOT.fetch_add(1, Relaxed) % SLOTS;
                s.set(v);
            }
            v
        })
        // During thread teardown the TLS slot is gone: any slot keeps the sum right.
        .unwrap_or(0);
    &COUNTS[i].0
}

/// The counting allocator (wraps the allocator chosen at build time, `Inner`).
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `Inner`; we only count sizes.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            slot().fetch_add(layout.size() as i64, Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { Inner.dealloc(ptr, layout) };
        slot().fetch_sub(layout.size() as i64, Relaxed);
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            slot().fetch_add(layout.size() as i64, Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            slot().fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        }
        p
    }
}

/// Marks the counting allocator as installed (the binary calls this).
pub fn activate() {
    ACTIVE.store(true, Relaxed);
}

/// Bytes currently allocated.
pub fn used_memory() -> u64 {
    if !ACTIVE.load(Relaxed) {
        return crate::cmd::info::rss_bytes();
    }
    let sum: i64 = COUNTS.iter().map(|s| s.0.load(Relaxed)).sum();
    sum.max(0) as u64
}

/// Records the current usage into the peak; called by the metrics sampler.
pub fn sample_peak() -> u64 {
    let used = used_memory();
    PEAK.fetch_max(used, Relaxed);
    used
}

pub fn peak_memory() -> u64 {
    PEAK.load(Relaxed).max(used_memory())
}

/// Memory in use right after start-up (INFO's used_memory_startup).
pub fn record_startup() {
    STARTUP.store(used_memory(), Relaxed);
}

pub fn startup_memory() -> u64 {
    STARTUP.load(Relaxed)
}
