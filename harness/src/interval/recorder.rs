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
