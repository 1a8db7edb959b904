//! The exclusive gate: lets a long atomic section (a Lua script or function) run
//! off the worker threads while every worker keeps serving the commands that may
//! run meanwhile (SCRIPT KILL, SHUTDOWN NOSAVE, ...) and answers the rest with BUSY.
//!
//! Every worker thread owns a flag, set while it executes a command (`enter` ..
//! `leave`). An exclusive section raises `exclusive`, then waits until no worker
//! is inside a command; from then on no command can start (`enter` sees the flag
//! and fails), so the section owns the keyspace without any worker ever waiting on
//! a shard lock it holds. This matters: a worker blocked on such a lock would
//! stall every connection of its thread, including the one sending SCRIPT KILL.
//!
//! Ordering: `enter` stores its flag then loads `exclusive`; `begin` stores
//! `exclusive` then loads every flag (all SeqCst). Whatever the interleaving, at
//! least one side sees the other: either the worker backs off or the section waits
//! for it to leave.
//!
//! Commands are short, so the wait in `begin` is a brief spin.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Default)]
pub struct Gate {
    exclusive: AtomicBool,
    /// Unix ms when the current exclusive section started.
    since_ms: AtomicI64,
    /// The section is a FUNCTION call (BUSY names FUNCTION KILL) rather than an EVAL.
    function: AtomicBool,
    slots: Mutex<Vec<Arc<AtomicBool>>>,
    done: Notify,
}

thread_local! {
    /// This thread's flag, registered with the gate on first use. (One gate per
    /// process: the server's.)
    static SLOT: std::cell::OnceCell<Arc<AtomicBool>> = const { std::cell::OnceCell::new() };
}

impl Gate {
    /// Runs `f` with this thread's flag, registering it on first use. No reference
    /// count is touched on the hot path.
    fn with_slot<R>(&self, f: impl FnOnce(&AtomicBool) -> R) -> R {
        SLOT.with(|s| {
            let flag = s.get_or_init(|| {
                let flag = Arc::new(AtomicBool::new(false));
                self.slots.lock().push(flag.clone());
                flag
            });
            f(flag)
        })
    }

    /// Starts a command on this thread; false (and nothing held) if an exclusive
    /// section is running.
    pub fn enter(&self) -> bool {
        self.with_slot(|slot| {
            slot.store(true, SeqCst);
            if self.exclusive.load(SeqCst) {
                slot.store(false, SeqCst);
                return false;
            }
            true
        })
    }

    /// Whether this thread is inside a command it admitted with [`Gate::enter`]
    /// (so no exclusive section can run until it leaves). False for commands
    /// that bypass the gate while a script runs (SCRIPT KILL, a BUSY reply).
    pub fn entered(&self) -> bool {
        SLOT.with(|s| s.get().is_some_and(|f| f.load(SeqCst)))
    }

    pub fn leave(&self) {
        self.with_slot(|slot| slot.store(false, std::sync::atomic::Ordering::Release));
    }

    /// Whether an exclusive section is running, and since when (unix ms).
    pub fn exclusive_since(&self) -> Option<i64> {
        self.exclusive
            .load(SeqCst)
            .then(|| self.since_ms.load(SeqCst))
    }

    /// Begins an exclusive section: returns once no command runs. Must be called
    /// off the worker threads (or from a worker outside any command).
    pub fn begin(&self, now_ms: i64, function: bool) {
        self.since_ms.store(now_ms, SeqCst);
        self.function.store(function, SeqCst);
        self.exclusive.store(true, SeqCst);
        let slots: Vec<Arc<AtomicBool>> = self.slots.lock().clone();
        for s in slots {
            let mut spins = 0u32;
            while s.load(SeqCst) {
                spins += 1;
                if spins < 100 {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
    }

    /// The BUSY error for commands refused while the section runs.
    pub fn busy_error(&self) -> &'static str {
        if self.function.load(SeqCst) {
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        } else {
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        }
    }

    pub fn end(&self) {
        self.exclusive.store(false, SeqCst);
        self.done.notify_waiters();
    }

    /// Waits until the exclusive section ends or `limit` passes.
    pub async fn wait(&self, limit: Duration) {
        let notified = self.done.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.exclusive.load(SeqCst) {
            return;
        }
        let _ = tokio::time::timeout(limit, notified).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn commands_and_sections_exclude_each_other() {
        let gate = Arc::new(Gate::default());
        assert!(gate.enter());
        // A section cannot begin while this thread is inside a command.
        let g = gate.clone();
        let began = Arc::new(AtomicBool::new(false));
        let b = began.clone();
        let t = std::thread::spawn(move || {
            g.begin(0, false);
            b.store(true, SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            g.end();
        });
        std::thread::sleep(Duration::from_millis(20));
        assert!(!began.load(SeqCst), "the section waited for the command");
        gate.leave();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !began.load(SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(began.load(SeqCst));
        // During the section, no command starts.
        if gate.exclusive_since().is_some() {
            assert!(!gate.enter());
        }
        t.join().unwrap();
        assert!(gate.enter());
        gate.leave();
    }

    #[test]
    fn many_threads_never_overlap_a_section() {
        let gate = Arc::new(Gate::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..3 {
            let (g, n) = (gate.clone(), inside.clone());
            handles.push(std::thread::spawn(move || {
                for _ in 0..2000 {
                    if g.enter() {
                        n.fetch_add(1, SeqCst);
                        n.fetch_sub(1, SeqCst);
                        g.leave();
                    }
                }
            }));
        }
        for _ in 0..50 {
            gate.begin(0, false);
            assert_eq!(inside.load(SeqCst), 0, "a command ran inside the section");
            gate.end();
        }
        for h in handles {
            h.join().unwrap();
        }
    }
}
