//! [`IntervalRecorder`]: one thread's latency histogram for the current second, handed to the
//! monitor when the second turns.

use std::sync::Arc;
use std::time::Duration;

use super::window::{Tag, Window};
use crate::run::latency::Latencies;

/// A histogram the recorder filled: every value recorded from interval `first` to `last` (the
/// same interval unless the monitor fell behind and the recorder had no spare to turn to).
pub struct Filled {
    /// What it measured.
    pub tag: Tag,
    /// The first interval it covers.
    pub first: i64,
    /// The last.
    pub last: i64,
    /// The values.
    pub latencies: Latencies,
}

/// One thread's latency for the current interval. Allocated whole when made (the current
/// histogram and its spares); turning to the next interval moves the full histogram into the
/// monitor's queue and takes a spare the monitor has emptied, both wait-free.
pub struct IntervalRecorder {
    tag: Tag,
    window: Arc<Window>,
    current: Latencies,
    /// The intervals `current` holds values of: `first..=last`.
    first: i64,
    last: i64,
    /// To the monitor.
    filled: rtrb::Producer<Filled>,
    /// Emptied histograms, from the monitor.
    spares: rtrb::Consumer<Latencies>,
}

impl IntervalRecorder {
    /// A recorder of `tag` on `window`'s intervals, handing its histograms through `filled` and
    /// taking spares from `spares`.
    pub(super) fn new(
        tag: Tag,
        window: Arc<Window>,
        filled: rtrb::Producer<Filled>,
        spares: rtrb::Consumer<Latencies>,
    ) -> IntervalRecorder {
        IntervalRecorder {
            tag,
            window,
            current: Latencies::new(),
            first: i64::MIN,
            last: i64::MIN,
            filled,
            spares,
        }
    }

    /// The histogram to record values that completed at `now_ns` into: the current interval's,
    /// after handing over the last one's if the interval has turned. Call once per batch.
    #[inline]
    pub fn at(&mut self, now_ns: u64) -> &mut Latencies {
        let index = self.window.index(now_ns);
        if index != self.last {
            self.turn(index);
        }
        &mut self.current
    }

    fn turn(&mut self, index: i64) {
        if self.current.count() == 0 {
            self.first = index;
            self.last = index;
            return;
        }
        if self.filled.slots() > 0 {
            if let Ok(spare) = self.spares.pop() {
                let latencies = std::mem::replace(&mut self.current, spare);
                let filled = Filled {
                    tag: self.tag,
                    first: self.first,
                    last: self.last,
                    latencies,
                };
                // Room was checked above, and this thread is the queue's only producer.
                let _ = self.filled.push(filled);
                self.first = index;
                self.last = index;
                return;
            }
        }
        // No spare or no room: the monitor is behind. This histogram goes on into the new
        // interval, and the monitor counts it as spanning.
        self.last = index;
    }

    /// Hands over what is recorded so far; called when the thread stops. Waits for room if the
    /// monitor is behind, unless the monitor has gone.
    pub fn finish(&mut self) {
        if self.current.count() == 0 {
            return;
        }
        let mut filled = Filled {
            tag: self.tag,
            first: self.first,
            last: self.last,
            latencies: std::mem::take(&mut self.current),
        };
        loop {
            match self.filled.push(filled) {
                Ok(()) => return,
                Err(rtrb::PushError::Full(back)) => {
                    if self.filled.is_abandoned() {
                        return;
                    }
                    filled = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}

impl Drop for IntervalRecorder {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND_NS: u64 = 1_000_000_000;

    /// A recorder on a window started at 0 without warm-up, with `spares` spare histograms.
    fn recorder(spares: usize) -> (IntervalRecorder, rtrb::Consumer<Filled>) {
        let window = Arc::new(Window::new(0));
        window.start(0);
        let (filled_in, filled_out) = rtrb::RingBuffer::new(4);
        let (mut spares_in, spares_out) = rtrb::RingBuffer::new(4);
        for _ in 0..spares {
            spares_in.push(Latencies::new()).unwrap();
        }
        (
            IntervalRecorder::new(Tag::E2e, window, filled_in, spares_out),
            filled_out,
        )
    }

    #[test]
    fn each_interval_is_handed_over_when_the_next_begins() {
        let (mut recorder, mut filled) = recorder(2);
        recorder.at(10).record(100);
        recorder.at(SECOND_NS - 1).record(200);
        assert!(filled.pop().is_err(), "the first second is still going");
        recorder.at(SECOND_NS).record(300);
        let first = filled.pop().unwrap();
        assert_eq!((first.tag, first.first, first.last), (Tag::E2e, 0, 0));
        assert_eq!(first.latencies.count(), 2);
        // A quiet second is skipped, not handed over empty.
        recorder.at(3 * SECOND_NS).record(400);
        let second = filled.pop().unwrap();
        assert_eq!(
            (second.first, second.last, second.latencies.count()),
            (1, 1, 1)
        );
        recorder.finish();
        let last = filled.pop().unwrap();
        assert_eq!((last.first, last.last, last.latencies.count()), (3, 3, 1));
        assert!(filled.pop().is_err());
    }

    #[test]
    fn without_a_spare_one_histogram_goes_on_over_several_intervals() {
        let (mut recorder, mut filled) = recorder(0);
        for second in 0..3 {
            recorder.at(second * SECOND_NS).record(100 + second);
        }
        assert!(
            filled.pop().is_err(),
            "nothing to turn to: nothing handed over"
        );
        recorder.finish();
        let spanning = filled.pop().unwrap();
        assert_eq!((spanning.first, spanning.last), (0, 2));
        assert_eq!(spanning.latencies.count(), 3);
    }
}
