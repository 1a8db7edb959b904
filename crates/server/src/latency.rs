//! The latency monitor: per-event samples of operations slower than
//! `latency-monitor-threshold` milliseconds (0 disables it).

use std::collections::{BTreeMap, VecDeque};

/// Samples kept per event, as Redis keeps.
pub const HISTORY_LEN: usize = 160;

#[derive(Default)]
pub struct EventHistory {
    /// (unix seconds, latency ms); at most one sample per second.
    pub samples: VecDeque<(i64, u64)>,
    pub max: u64,
}

#[derive(Default)]
pub struct LatencyMonitor {
    pub events: BTreeMap<String, EventHistory>,
}

impl LatencyMonitor {
    pub fn add(&mut self, event: &str, now_secs: i64, ms: u64) {
        let h = self.events.entry(event.to_string()).or_default();
        h.max = h.max.max(ms);
        if let Some(last) = h.samples.back_mut() {
            if last.0 == now_secs {
                last.1 = last.1.max(ms);
                return;
            }
        }
        h.samples.push_back((now_secs, ms));
        if h.samples.len() > HISTORY_LEN {
            h.samples.pop_front();
        }
    }

    /// Resets the given events (all if empty); returns how many were reset.
    pub fn reset(&mut self, events: &[String]) -> usize {
        if events.is_empty() {
            let n = self.events.len();
            self.events.clear();
            return n;
        }
        events
            .iter()
            .filter(|e| self.events.remove(e.as_str()).is_some())
            .count()
    }
}
