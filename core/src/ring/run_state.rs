//! [`RunState`]: how every thread of a pipeline learns that it should stop, and why.

use super::sync::{AtomicBool, AtomicU64, Ordering};
use super::wait_strategy::Signal;

/// Why a wait ended without the sequence it waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// Something failed (a stage panicked or returned a fault): stop now, drain nothing more.
    Halted,
    /// The input is closed and this consumer has processed everything published before it closed.
    Drained,
}

/// The pipeline-wide stop flags, and the [`Signal`] that wakes parked threads when they change.
///
/// Waits check these only when there is nothing to do, so a running pipeline never reads them on
/// its fast path; the lines they sit on stay shared and clean in every core's cache.
pub struct RunState {
    /// Published count at which the input closed; `u64::MAX` while open. Written once, with
    /// `Release`, after the last publish.
    closing_at: AtomicU64,
    /// Set once, with `Release`, when the pipeline must stop without draining.
    halted: AtomicBool,
    /// Present when some thread may park.
    signal: Option<Signal>,
}

impl RunState {
    /// An open, running state; with a [`Signal`] when some thread may park.
    pub fn new(with_signal: bool) -> Self {
        Self {
            closing_at: AtomicU64::new(u64::MAX),
            halted: AtomicBool::new(false),
            signal: with_signal.then(Signal::new),
        }
    }

    /// The signal parked threads wait on, if this pipeline has one.
    #[inline(always)]
    pub fn signal(&self) -> Option<&Signal> {
        self.signal.as_ref()
    }

    /// Wakes parked threads, if any may be parked: called after every cursor advance.
    #[inline(always)]
    pub fn notify(&self) {
        if let Some(signal) = &self.signal {
            signal.notify();
        }
    }

    /// Stops every thread at its next wait, without draining.
    pub fn halt(&self) {
        self.halted.store(true, Ordering::Release);
        self.notify();
    }

    /// Whether [`RunState::halt`] was called.
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Closes the input at `published`, the count of every sequence that will ever be published:
    /// consumers stop once they have processed all of them.
    pub fn close_at(&self, published: u64) {
        self.closing_at.store(published, Ordering::Release);
        self.notify();
    }

    /// Why a consumer whose next sequence is `next` should stop waiting, if it should.
    #[inline]
    pub fn consumer_interrupt(&self, next: u64) -> Option<Interrupt> {
        if self.is_halted() {
            Some(Interrupt::Halted)
        } else if next >= self.closing_at.load(Ordering::Acquire) {
            Some(Interrupt::Drained)
        } else {
            None
        }
    }

    /// Why a producer waiting for space should stop waiting, if it should.
    #[inline]
    pub fn producer_interrupt(&self) -> Option<Interrupt> {
        self.is_halted().then_some(Interrupt::Halted)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn consumer_drains_only_once_past_the_closing_count() {
        let state = RunState::new(false);
        assert_eq!(state.consumer_interrupt(0), None);
        state.close_at(10);
        assert_eq!(state.consumer_interrupt(9), None);
        assert_eq!(state.consumer_interrupt(10), Some(Interrupt::Drained));
        assert_eq!(state.producer_interrupt(), None);
    }

    #[test]
    fn halt_wins_over_drain_for_everyone() {
        let state = RunState::new(true);
        state.close_at(10);
        state.halt();
        assert_eq!(state.consumer_interrupt(3), Some(Interrupt::Halted));
        assert_eq!(state.consumer_interrupt(10), Some(Interrupt::Halted));
        assert_eq!(state.producer_interrupt(), Some(Interrupt::Halted));
    }
}
