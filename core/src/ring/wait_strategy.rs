//! [`WaitStrategy`]: what a consumer does while its barrier has nothing new, and what a producer
//! does while the ring is full; and [`Signal`], which wakes the threads that chose to park.

use serde::{Deserialize, Serialize};

use super::run_state::{Interrupt, RunState};
use super::sync::{self, fence, AtomicUsize, Ordering, ParkingSpot};
#[cfg(doc)]
use crate::constants::BUSY_SPIN_PAUSE_COUNT;
use crate::constants::{WAIT_SPIN_COUNT, WAIT_YIELD_COUNT};

/// Spins before yielding, and yields before parking. Under loom every spin is a scheduling point,
/// so the models take one of each: the interleavings that matter are the same, and there are far
/// fewer of them.
const SPINS: u32 = if cfg!(loom) { 1 } else { WAIT_SPIN_COUNT };
const YIELDS: u32 = if cfg!(loom) { 1 } else { WAIT_YIELD_COUNT };

/// How a thread waits for a cursor to move. Chosen per consumer and for the producer.
///
/// | strategy | latency | CPU while idle | use when |
/// | --- | --- | --- | --- |
/// | `busy-spin` | lowest: a handoff plus at most [`BUSY_SPIN_PAUSE_COUNT`] pauses | one full core | every spinning thread has a core of its own |
/// | `spin-then-yield` | a handoff, or a yield (~1 µs) | a core, shared politely | threads may outnumber cores |
/// | `spin-then-park` | up to a futex wake-up (tens of µs) | none | idle stages, 2-core machines, tests |
///
/// Busy-spinning threads that outnumber cores starve each other: the thread being waited for
/// cannot run while the waiter holds its core. [`Topology`](crate::pipeline::Topology) says so in
/// its warnings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitStrategy {
    /// Re-read the cursor until it moves, with [`BUSY_SPIN_PAUSE_COUNT`] pause hints between
    /// reads.
    BusySpin,
    /// Re-read [`WAIT_SPIN_COUNT`] times, then yield the core between reads.
    #[default]
    SpinThenYield,
    /// Spin, then yield [`WAIT_YIELD_COUNT`] times, then park until a cursor owner signals.
    SpinThenPark,
}

impl WaitStrategy {
    /// Every strategy, in order of decreasing CPU use.
    pub const ALL: [WaitStrategy; 3] = [
        WaitStrategy::BusySpin,
        WaitStrategy::SpinThenYield,
        WaitStrategy::SpinThenPark,
    ];

    /// The name used in configuration files and reports.
    pub fn name(self) -> &'static str {
        match self {
            WaitStrategy::BusySpin => "busy-spin",
            WaitStrategy::SpinThenYield => "spin-then-yield",
            WaitStrategy::SpinThenPark => "spin-then-park",
        }
    }

    /// Waits until `poll` returns a value, or `interrupted` says the wait is over.
    ///
    /// `poll` is tried first, so a caller with work already available never pays for waiting.
    /// `interrupted` is checked only when `poll` came back empty: work that is available is always
    /// taken before a stop is noticed, which is what lets a drain finish.
    #[inline(always)]
    pub(crate) fn wait<T>(
        self,
        run_state: &RunState,
        mut poll: impl FnMut() -> Option<T>,
        interrupted: impl FnMut() -> Option<Interrupt>,
    ) -> Result<T, Interrupt> {
        if let Some(value) = poll() {
            return Ok(value);
        }
        self.wait_slow(run_state, poll, interrupted)
    }

    #[inline(never)]
    fn wait_slow<T>(
        self,
        run_state: &RunState,
        mut poll: impl FnMut() -> Option<T>,
        mut interrupted: impl FnMut() -> Option<Interrupt>,
    ) -> Result<T, Interrupt> {
        let mut rounds: u32 = 0;
        loop {
            if let Some(interrupt) = interrupted() {
                return Err(interrupt);
            }
            match self {
                WaitStrategy::BusySpin => sync::busy_spin_pause(),
                WaitStrategy::SpinThenYield => {
                    if rounds < SPINS {
                        rounds += 1;
                        sync::spin();
                    } else {
                        sync::yield_now();
                    }
                }
                WaitStrategy::SpinThenPark => {
                    if rounds < SPINS {
                        rounds += 1;
                        sync::spin();
                    } else if rounds < SPINS + YIELDS {
                        rounds += 1;
                        sync::yield_now();
                    } else if let Some(signal) = run_state.signal() {
                        let mut ready = None;
                        signal.park_while(|| {
                            if let Some(value) = poll() {
                                ready = Some(Ok(value));
                            } else if let Some(interrupt) = interrupted() {
                                ready = Some(Err(interrupt));
                            }
                            ready.is_none()
                        });
                        if let Some(result) = ready {
                            return result;
                        }
                    } else {
                        debug_assert!(
                            false,
                            "spin-then-park needs a signal; the pipeline adds one"
                        );
                        sync::yield_now();
                    }
                }
            }
            if let Some(value) = poll() {
                return Ok(value);
            }
        }
    }
}

impl std::fmt::Display for WaitStrategy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

impl std::str::FromStr for WaitStrategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        WaitStrategy::ALL
            .into_iter()
            .find(|strategy| strategy.name() == text)
            .ok_or_else(|| {
                format!("unknown wait strategy '{text}': expected busy-spin, spin-then-yield or spin-then-park")
            })
    }
}

/// Wakes parked threads when a cursor moves.
///
/// Present in a pipeline only when some thread may park (a `spin-then-park` consumer or
/// producer); otherwise cursor owners skip it entirely, so busy-spin and yield pipelines pay
/// nothing for it.
///
/// The protocol is Dekker's: a waiter counts itself in `waiters` and then re-checks its condition;
/// a cursor owner publishes and then looks at `waiters`. A `SeqCst` fence on each side between the
/// write and the read guarantees that at least one of them sees the other: either the waiter sees
/// the new cursor and does not sleep, or the owner sees the waiter and wakes it. The condition is
/// re-checked with the parking lock held, so a wake-up cannot fall between check and sleep.
pub struct Signal {
    /// Threads inside [`Signal::park_while`]; read after a fence by every notifier.
    waiters: AtomicUsize,
    spot: ParkingSpot,
}

impl Signal {
    /// A signal with no one parked.
    pub fn new() -> Self {
        Self {
            waiters: AtomicUsize::new(0),
            spot: ParkingSpot::new(),
        }
    }

    /// Called by a cursor owner after every advance: wakes parked threads if there are any.
    /// Costs one fence when no one is parked.
    #[inline]
    pub fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) != 0 {
            self.notify_slow();
        }
    }

    #[inline(never)]
    fn notify_slow(&self) {
        self.spot.notify_all();
    }

    /// Sleeps while `blocked` returns true, re-checking it after every wake-up.
    pub(crate) fn park_while(&self, blocked: impl FnMut() -> bool) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.spot.wait_while(blocked);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for Signal {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str() {
        for strategy in WaitStrategy::ALL {
            assert_eq!(strategy.name().parse::<WaitStrategy>(), Ok(strategy));
        }
        let error = "spin".parse::<WaitStrategy>().unwrap_err();
        assert!(error.contains("unknown wait strategy 'spin'"), "{error}");
    }

    #[test]
    fn available_work_is_taken_before_an_interrupt() {
        let run_state = RunState::new(false);
        for strategy in WaitStrategy::ALL {
            let result = strategy.wait(&run_state, || Some(7), || Some(Interrupt::Halted));
            assert_eq!(result, Ok(7));
        }
    }

    #[test]
    fn every_strategy_returns_the_interrupt_when_nothing_comes() {
        let run_state = RunState::new(true);
        for strategy in WaitStrategy::ALL {
            let polls = std::cell::Cell::new(0);
            let result: Result<(), _> = strategy.wait(
                &run_state,
                || {
                    polls.set(polls.get() + 1);
                    None
                },
                || (polls.get() > 3).then_some(Interrupt::Drained),
            );
            assert_eq!(result, Err(Interrupt::Drained), "{strategy}");
        }
    }

    #[test]
    fn parked_waiter_is_woken_by_notify() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;

        let run_state = Arc::new(RunState::new(true));
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = {
            let run_state = Arc::clone(&run_state);
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                WaitStrategy::SpinThenPark.wait(
                    &run_state,
                    || flag.load(Ordering::Acquire).then_some(()),
                    || None,
                )
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        flag.store(true, Ordering::Release);
        run_state.signal().expect("a signal was asked for").notify();
        assert_eq!(waiter.join().unwrap(), Ok(()));
    }
}
