//! The generator's self-check: whether `clearway load` sent its payments when it meant to. A
//! payment written to its socket more than [`GENERATOR_LATE_NS`] after its intended send time
//! was late because of this process (or the node pushing back through TCP), not the node's
//! switching; past [`GENERATOR_LATE_FRACTION_MAX`] of them the latencies measured the generator.

use serde::Serialize;

use crate::constants::{GENERATOR_LATE_FRACTION_MAX, GENERATOR_LATE_NS};

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

    /// The summary's `generator` block, against `submitted` payments.
    pub fn summary(&self, submitted: u64) -> GeneratorSummary {
        let late_fraction = if submitted == 0 {
            0.0
        } else {
            self.late as f64 / submitted as f64
        };
        GeneratorSummary {
            late_payments: self.late,
            late_fraction,
            latest_ns: self.latest_ns,
            blocked_writing_s: self.blocked_ns as f64 / 1e9,
            kept_up: late_fraction <= GENERATOR_LATE_FRACTION_MAX,
        }
    }
}

/// How the generator kept to its schedule (docs/OUTPUT.md).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct GeneratorSummary {
    /// Payments written to their socket more than 1 ms after their intended send time.
    pub late_payments: u64,
    /// `late_payments` ÷ payments submitted.
    pub late_fraction: f64,
    /// The latest a payment was written after its intended send time, ns.
    pub latest_ns: u64,
    /// Seconds spent waiting for full sockets (the node pushing back through TCP).
    pub blocked_writing_s: f64,
    /// Whether late payments stayed within 1% of those submitted; if not, the run measured the
    /// generator, not the node, and the check `generator_kept_up` fails.
    pub kept_up: bool,
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
    fn the_generator_kept_up_while_late_payments_stay_within_one_percent() {
        let lateness = Lateness {
            payments: 1_000,
            late: 10,
            latest_ns: 0,
            blocked_ns: 2_500_000_000,
        };
        let summary = lateness.summary(1_000);
        assert!(summary.kept_up);
        assert_eq!(summary.late_fraction, 0.01);
        assert_eq!(summary.blocked_writing_s, 2.5);
        assert!(
            !Lateness {
                late: 11,
                ..lateness
            }
            .summary(1_000)
            .kept_up
        );
        assert!(Lateness::default().summary(0).kept_up);
    }
}
