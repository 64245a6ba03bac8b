//! The synchronisation primitives the ring is built from, swapped for `loom`'s under `--cfg loom`
//! so the loom models in `core/tests/loom.rs` explore every interleaving of the real code.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};

#[cfg(not(loom))]
use crate::constants::BUSY_SPIN_PAUSE_COUNT;

#[cfg(loom)]
pub(crate) use loom::thread::yield_now;
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

/// One turn of the spin phase of `spin-then-yield` and `spin-then-park`: natively nothing, so the
/// cursor is re-read at once and the phase stays short before the thread gives its core away.
/// Under loom it yields, which loom needs to make progress in a spin loop.
#[inline(always)]
pub(crate) fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// One turn of a `busy-spin` loop: [`BUSY_SPIN_PAUSE_COUNT`] pause hints before the next read.
#[inline(always)]
pub(crate) fn busy_spin_pause() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    for _ in 0..BUSY_SPIN_PAUSE_COUNT {
        std::hint::spin_loop();
    }
}

/// A mutex and condition variable pair: `parking_lot`'s natively, `loom`'s in the models.
pub(crate) struct ParkingSpot {
    #[cfg(not(loom))]
    lock: parking_lot::Mutex<()>,
    #[cfg(not(loom))]
    condvar: parking_lot::Condvar,
    #[cfg(loom)]
    lock: loom::sync::Mutex<()>,
    #[cfg(loom)]
    condvar: loom::sync::Condvar,
}

impl ParkingSpot {
    pub(crate) fn new() -> Self {
        Self {
            lock: Default::default(),
            condvar: Default::default(),
        }
    }

    /// Wakes every thread blocked in [`ParkingSpot::wait_while`].
    pub(crate) fn notify_all(&self) {
        let _guard = self.lock();
        self.condvar.notify_all();
    }

    /// Holds the lock while `blocked` is true and sleeps on the condition variable in between;
    /// `blocked` is evaluated with the lock held, so a `notify_all` cannot slip between the check
    /// and the sleep.
    pub(crate) fn wait_while(&self, mut blocked: impl FnMut() -> bool) {
        #[cfg(not(loom))]
        {
            let mut guard = self.lock.lock();
            while blocked() {
                self.condvar.wait(&mut guard);
            }
        }
        #[cfg(loom)]
        {
            let mut guard = self.lock.lock().unwrap();
            while blocked() {
                guard = self.condvar.wait(guard).unwrap();
            }
        }
    }

    #[cfg(not(loom))]
    fn lock(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.lock.lock()
    }

    #[cfg(loom)]
    fn lock(&self) -> loom::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap()
    }
}
