//! [`RunClock`]: the one clock of a run, in nanoseconds since it started.

use std::time::Instant;

/// Nanoseconds since the run started. Ingress stamps event time from it, institutions' intended
/// send times count from its zero, and every latency is a difference of two of its readings, so
/// they all agree. Reading it is a vDSO `clock_gettime`, not a system call.
#[derive(Clone, Copy, Debug)]
pub struct RunClock {
    epoch: Instant,
    /// Added to every reading: a run that continues a recovered ledger starts its clock where
    /// the ledger's event time stopped, so event time never goes backwards across a restart.
    offset_ns: u64,
}

impl RunClock {
    /// A clock that reads `offset_ns` now: 0 for a fresh run.
    pub fn start_at(offset_ns: u64) -> RunClock {
        RunClock {
            epoch: Instant::now(),
            offset_ns,
        }
    }

    /// Nanoseconds since the zero.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.offset_ns + self.epoch.elapsed().as_nanos() as u64
    }
}
