//! [`Timeline`]: payments offered, and how many of them were sent late, in each second of the
//! load, counted by the drivers as they publish.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::window::Window;
use crate::constants::INTERVAL_NS;

/// Per-second counts from the drivers, one slot per interval of the load (warm-up included),
/// allocated when the load is set up. A driver adds once per batch it publishes: two relaxed
/// atomic adds at most.
#[derive(Debug)]
pub struct Timeline {
    window: Arc<Window>,
    /// The first slot's interval.
    first: i64,
    /// Payments published per interval.
    offered: Box<[AtomicU64]>,
    /// Of those, sent more than the generator's lateness bound after their intended time.
    late: Box<[AtomicU64]>,
}

/// One interval's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    /// The interval.
    pub index: i64,
    /// Payments published in it.
    pub offered: u64,
    /// Of those, sent late.
    pub late: u64,
}

impl Timeline {
    /// Slots for a load of `load_ns` (warm-up included) on `window`; counts published after it
    /// (during the drain) go in the last slot.
    pub fn new(window: Arc<Window>, load_ns: u64) -> Timeline {
        let first = window.first_index();
        let measured_ns = load_ns.saturating_sub(window.warmup_ns());
        let slots = (-first) as usize + measured_ns.div_ceil(INTERVAL_NS) as usize + 1;
        Timeline {
            window,
            first,
            offered: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            late: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// `count` payments published at `now_ns`, `late` of them late.
    #[inline]
    pub fn offered(&self, now_ns: u64, count: u64, late: u64) {
        let index = self.window.index(now_ns);
        let slot = (index.saturating_sub(self.first).max(0) as usize).min(self.offered.len() - 1);
        self.offered[slot].fetch_add(count, Ordering::Relaxed);
        if late > 0 {
            self.late[slot].fetch_add(late, Ordering::Relaxed);
        }
    }

    /// Payments offered in interval `index` so far (0 outside the load).
    pub fn offered_in(&self, index: i64) -> u64 {
        usize::try_from(index.saturating_sub(self.first))
            .ok()
            .and_then(|slot| self.offered.get(slot))
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }

    /// Every interval's counts so far.
    pub fn read(&self) -> Vec<Counted> {
        self.offered
            .iter()
            .zip(self.late.iter())
            .enumerate()
            .map(|(slot, (offered, late))| Counted {
                index: self.first + slot as i64,
                offered: offered.load(Ordering::Relaxed),
                late: late.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Payments offered so far, all intervals.
    pub fn offered_total(&self) -> u64 {
        self.offered
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .sum()
    }

    /// Payments offered in the measured intervals (after the warm-up).
    pub fn offered_measured(&self) -> u64 {
        self.read()
            .iter()
            .filter(|counted| counted.index >= 0)
            .map(|counted| counted.offered)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_second_and_the_drain_in_the_last() {
        let window = Arc::new(Window::new(1_000_000_000));
        window.start(0);
        let timeline = Timeline::new(Arc::clone(&window), 3_000_000_000);
        timeline.offered(10, 5, 1);
        timeline.offered(1_000_000_000, 7, 0);
        timeline.offered(2_999_999_999, 2, 2);
        timeline.offered(9_000_000_000, 1, 0);
        let counted = timeline.read();
        assert_eq!(
            counted,
            vec![
                Counted {
                    index: -1,
                    offered: 5,
                    late: 1
                },
                Counted {
                    index: 0,
                    offered: 7,
                    late: 0
                },
                Counted {
                    index: 1,
                    offered: 2,
                    late: 2
                },
                Counted {
                    index: 2,
                    offered: 1,
                    late: 0
                },
            ]
        );
        assert_eq!(timeline.offered_total(), 15);
        assert_eq!(timeline.offered_in(0), 7);
        assert_eq!(timeline.offered_in(-5), 0);
        assert_eq!(timeline.offered_measured(), 10);
    }
}
