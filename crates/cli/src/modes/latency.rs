//! `--latency` and `--latency-history`: PING every 10 ms and report min, max and
//! average round trip in milliseconds and the sample count.
//!
//! On a terminal the line is rewritten in place; with `--latency-history` a new
//! line starts every 15 s (or `-i`). Otherwise (raw/CSV) `--latency` prints one
//! line after one second (or `-i`) and exits, and `--latency-history` prints
//! every sample.

use crate::format::OutputMode;
use crate::out;
use crate::session::Session;
use std::thread::sleep;
use std::time::{Duration, Instant};

const SAMPLE_PAUSE: Duration = Duration::from_millis(10);
const HISTORY_DEFAULT: Duration = Duration::from_secs(15);

/// Running statistics in whole milliseconds, as redis-cli keeps them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    pub min: u64,
    pub max: u64,
    pub total: u64,
    pub count: u64,
}

impl Stats {
    pub fn add(&mut self, ms: u64) {
        if self.count == 0 {
            self.min = ms;
            self.max = ms;
        } else {
            self.min = self.min.min(ms);
            self.max = self.max.max(ms);
        }
        self.total += ms;
        self.count += 1;
    }

    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total as f64 / self.count as f64
        }
    }

    /// The report in the given output form (no line end for the terminal form).
    pub fn render(&self, mode: OutputMode) -> String {
        match mode {
            OutputMode::Standard => format!(
                "min: {}, max: {}, avg: {:.2} ({} samples)",
                self.min,
                self.max,
                self.avg(),
                self.count
            ),
            OutputMode::Csv => format!(
                "{},{},{:.2},{}\n",
                self.min,
                self.max,
                self.avg(),
                self.count
            ),
            OutputMode::Raw => format!(
                "{} {} {:.2} {}\n",
                self.min,
                self.max,
                self.avg(),
                self.count
            ),
        }
    }
}

pub fn run(session: &mut Session, history: bool) -> i32 {
    let mode = session.cfg.output;
    let given = session.cfg.interval;
    let history_every = if given.is_zero() {
        HISTORY_DEFAULT
    } else {
        given
    };
    let single_run = if given.is_zero() {
        Duration::from_secs(1)
    } else {
        given
    };
    let mut stats = Stats::default();
    let mut since = Instant::now();
    loop {
        let start = Instant::now();
        session.reconnecting_call(&["PING"]);
        stats.add(start.elapsed().as_millis() as u64);
        if mode == OutputMode::Standard {
            out::print(format!("\x1b[0G\x1b[2K{}", stats.render(mode)).as_bytes());
        } else if history {
            out::print(stats.render(mode).as_bytes());
        } else if since.elapsed() > single_run {
            out::print(stats.render(mode).as_bytes());
            return 0;
        }
        if history && since.elapsed() > history_every {
            out::print(
                format!(" -- {:.2} seconds range\n", since.elapsed().as_secs_f64()).as_bytes(),
            );
            since = Instant::now();
            stats = Stats::default();
        }
        sleep(SAMPLE_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_redis_cli() {
        let mut s = Stats::default();
        for ms in [1, 0, 0] {
            s.add(ms);
        }
        assert_eq!(
            s.render(OutputMode::Standard),
            "min: 0, max: 1, avg: 0.33 (3 samples)"
        );
        assert_eq!(s.render(OutputMode::Raw), "0 1 0.33 3\n");
        assert_eq!(s.render(OutputMode::Csv), "0,1,0.33,3\n");
    }
}
