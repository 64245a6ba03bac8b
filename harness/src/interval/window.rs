//! [`Window`]: when the load started, how long its warm-up lasts, and which one-second interval a
//! moment falls in; [`Tag`]: what a latency histogram measures.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::constants::INTERVAL_NS;
use crate::run::layout::Step;

/// What an interval histogram measures: end to end, or one step's exit latency. Tags name the
/// lines of the interval log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    /// From the institution's intended send time to its answer.
    E2e,
    /// Authorize's exit latency: event time → the end of the batch that handled it.
    Authorize,
    /// Route's.
    Route,
    /// The ledger's.
    Ledger,
}

impl Tag {
    /// Every tag, end to end first, then the steps in the order events go through them.
    pub const ALL: [Tag; 4] = [Tag::E2e, Tag::Authorize, Tag::Route, Tag::Ledger];

    /// The name in the interval log and the summary.
    pub fn name(self) -> &'static str {
        match self {
            Tag::E2e => crate::hlog::E2E_TAG,
            Tag::Authorize => "authorize",
            Tag::Route => "route",
            Tag::Ledger => "ledger",
        }
    }

    /// The tag of a timed step; egress is measured end to end instead.
    pub fn of(step: Step) -> Option<Tag> {
        match step {
            Step::Authorize => Some(Tag::Authorize),
            Step::Route => Some(Tag::Route),
            Step::Ledger => Some(Tag::Ledger),
            Step::Prefetch | Step::Store | Step::Egress => None,
        }
    }

    /// The step it times, if it times one.
    pub fn step(self) -> Option<Step> {
        match self {
            Tag::E2e => None,
            Tag::Authorize => Some(Step::Authorize),
            Tag::Route => Some(Step::Route),
            Tag::Ledger => Some(Step::Ledger),
        }
    }
}

/// The load's time line, shared by every recorder: intervals are whole seconds counted from the
/// end of the warm-up, so interval 0 is the first measured second and warm-up seconds are
/// negative (the first of them shorter when the warm-up is not a whole number of seconds).
#[derive(Debug)]
pub struct Window {
    /// When load started on the run's clock; `u64::MAX` until it has (stored with Release).
    start_ns: AtomicU64,
    /// Nanoseconds of load at the start that are not measured.
    warmup_ns: u64,
}

impl Window {
    /// A window whose first `warmup_ns` of load are excluded; load has not started yet.
    pub fn new(warmup_ns: u64) -> Window {
        Window {
            start_ns: AtomicU64::new(u64::MAX),
            warmup_ns,
        }
    }

    /// Load starts at `start_ns` on the run's clock.
    pub fn start(&self, start_ns: u64) {
        self.start_ns.store(start_ns, Ordering::Release);
    }

    /// When load started, if it has.
    pub fn started_ns(&self) -> Option<u64> {
        let start_ns = self.start_ns.load(Ordering::Acquire);
        (start_ns != u64::MAX).then_some(start_ns)
    }

    /// The warm-up, ns.
    pub fn warmup_ns(&self) -> u64 {
        self.warmup_ns
    }

    /// The interval `now_ns` falls in; `i64::MIN` before load started (counted as warm-up).
    #[inline]
    pub fn index(&self, now_ns: u64) -> i64 {
        let start_ns = self.start_ns.load(Ordering::Relaxed);
        if start_ns == u64::MAX {
            return i64::MIN;
        }
        let measured_from = i128::from(start_ns) + i128::from(self.warmup_ns);
        (i128::from(now_ns) - measured_from).div_euclid(i128::from(INTERVAL_NS)) as i64
    }

    /// Where interval `index` starts, ns from the start of load (the first warm-up interval
    /// starts at 0).
    pub fn interval_start_ns(&self, index: i64) -> u64 {
        let start = i128::from(self.warmup_ns) + i128::from(index) * i128::from(INTERVAL_NS);
        start.max(0) as u64
    }

    /// The first interval: the one load starts in.
    pub fn first_index(&self) -> i64 {
        -(self.warmup_ns.div_ceil(INTERVAL_NS) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_count_whole_seconds_from_the_end_of_the_warm_up() {
        let window = Window::new(1_500_000_000);
        assert_eq!(window.index(5), i64::MIN, "before load starts");
        assert_eq!(window.started_ns(), None);
        window.start(10_000_000_000);
        assert_eq!(window.started_ns(), Some(10_000_000_000));
        // (ns after load start, interval)
        let rows: &[(u64, i64)] = &[
            (0, -2),
            (499_999_999, -2),
            (500_000_000, -1),
            (1_499_999_999, -1),
            (1_500_000_000, 0),
            (2_499_999_999, 0),
            (2_500_000_000, 1),
            (61_500_000_000, 60),
        ];
        for &(after_ns, index) in rows {
            assert_eq!(window.index(10_000_000_000 + after_ns), index, "{after_ns}");
        }
        assert_eq!(window.first_index(), -2);
        assert_eq!(window.interval_start_ns(-2), 0);
        assert_eq!(window.interval_start_ns(-1), 500_000_000);
        assert_eq!(window.interval_start_ns(0), 1_500_000_000);
        assert_eq!(window.interval_start_ns(3), 4_500_000_000);
    }

    #[test]
    fn without_a_warm_up_interval_zero_starts_with_the_load() {
        let window = Window::new(0);
        window.start(7);
        assert_eq!(window.index(7), 0);
        assert_eq!(window.index(1_000_000_006), 0);
        assert_eq!(window.index(1_000_000_007), 1);
        assert_eq!(window.first_index(), 0);
    }
}
