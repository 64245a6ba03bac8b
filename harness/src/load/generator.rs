//! [`Lateness`]: when `clearway load` wrote its payments to their sockets. A payment written more
//! than [`GENERATOR_LATE_NS`] after its intended send time was late because of this process (or
//! the node pushing back through TCP), not the node's switching; the run's self-check
//! (`run::generator`) judges these counts as it judges `clearway run`'s.

use crate::constants::GENERATOR_LATE_NS;

/// Late payments and time blocked in socket writes, counted as the ingress writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    /// Payments written.
    pub payments: u64,
    /// Payments written more than [`GENERATOR_LATE_NS`] after their intended send time.
    pub late: u64,
    /// The latest any payment was written, in ns after its intended time.
    pub latest_ns: u64,
    /// Nanoseconds spent waiting for a full socket to take more bytes.
    pub blocked_ns: u64,
}

impl Lateness {
    /// Counts payments intended at `intended_ns` (their `sent_ns`), all written by `written_ns`.
    pub fn account(&mut self, intended_ns: &[u64], written_ns: u64) {
        for &intended in intended_ns {
            let late_ns = written_ns.saturating_sub(intended);
            self.payments += 1;
            self.late += u64::from(late_ns > GENERATOR_LATE_NS);
            self.latest_ns = self.latest_ns.max(late_ns);
        }
    }

    /// Seconds spent waiting for full sockets.
    pub fn blocked_writing_s(&self) -> f64 {
        self.blocked_ns as f64 / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_more_than_a_millisecond_late_are_counted() {
        let mut lateness = Lateness::default();
        // Written at 10 ms: intended at 10 ms, 9.5 ms, exactly 1 ms before, and 1 ns more.
        let written_ns = 10_000_000;
        lateness.account(&[10_000_000, 9_500_000, 9_000_000, 8_999_999], written_ns);
        assert_eq!(lateness.payments, 4);
        assert_eq!(lateness.late, 1);
        assert_eq!(lateness.latest_ns, 1_000_001);
        // Intended after the write (the driver's clock read before the turn): never late.
        lateness.account(&[10_000_001], written_ns);
        assert_eq!(lateness.late, 1);
    }

    #[test]
    fn time_blocked_writing_is_given_in_seconds() {
        let lateness = Lateness {
            blocked_ns: 2_500_000_000,
            ..Lateness::default()
        };
        assert_eq!(lateness.blocked_writing_s(), 2.5);
    }
}
