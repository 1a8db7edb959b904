//! Instantaneous metrics (ops/sec, network kbps) sampled like Redis's: every 100 ms
//! a sample of the counters' rate goes into a ring of 16, and INFO reports the mean.

use crate::server::Server;
use crate::stats;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SAMPLES: usize = 16;

struct Ring {
    ops: [f64; SAMPLES],
    input: [f64; SAMPLES],
    output: [f64; SAMPLES],
    idx: usize,
}

static RING: Mutex<Ring> = Mutex::new(Ring {
    ops: [0.0; SAMPLES],
    input: [0.0; SAMPLES],
    output: [0.0; SAMPLES],
    idx: 0,
});

fn mean(v: &[f64; SAMPLES]) -> f64 {
    v.iter().sum::<f64>() / SAMPLES as f64
}

pub fn ops_per_sec() -> u64 {
    mean(&RING.lock().ops) as u64
}

pub fn input_kbps() -> f64 {
    mean(&RING.lock().input) / 1024.0
}

pub fn output_kbps() -> f64 {
    mean(&RING.lock().output) / 1024.0
}

/// The sampler service.
pub async fn run(srv: Arc<Server>) {
    let mut shutdown = srv.shutdown_rx();
    let mut last = stats::totals();
    let mut last_t = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let now = stats::totals();
        let t = Instant::now();
        let secs = t.duration_since(last_t).as_secs_f64().max(1e-3);
        {
            let mut r = RING.lock();
            let i = r.idx;
            r.ops[i] = now
                .commands_processed
                .saturating_sub(last.commands_processed) as f64
                / secs;
            r.input[i] = now.net_input_bytes.saturating_sub(last.net_input_bytes) as f64 / secs;
            r.output[i] = now.net_output_bytes.saturating_sub(last.net_output_bytes) as f64 / secs;
            r.idx = (i + 1) % SAMPLES;
        }
        last = now;
        last_t = t;
        crate::memory::sample_peak();
    }
}
