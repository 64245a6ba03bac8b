//! [`RunClock`]: the one clock of a run, in nanoseconds since it started.

use std::time::Instant;

/// Nanoseconds since the run started. Ingress stamps event time from it, institutions' intended
/// send times count from its zero, and every latency is a difference of two of its readings, so
/// they all agree. Reading it is a vDSO `clock_gettime`, not a system call.
#[derive(Clone, Copy, Debug)]
pub struct RunClock {
    epoch: Instant,
}

impl RunClock {
    /// A clock whose zero is now.
    pub fn start() -> RunClock {
        RunClock {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the zero.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}
