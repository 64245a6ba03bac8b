//! [`RingBuffer`]: the pre-allocated, power-of-two array of slots every event lives in.

use std::cell::UnsafeCell;

/// A power-of-two array of slots, allocated and filled once, then written in place forever.
///
/// Sequence `s` lives in slot `s & mask`. The ring itself enforces nothing: who may touch a slot,
/// and when, is decided by the [`sequencers`](super::sequencer) (a producer writes only slots it
/// has claimed and the slowest consumer has released) and the [`barriers`](super::SequenceBarrier)
/// (a consumer reads only slots its upstream cursors cover). That is why access goes through a raw
/// pointer and dereferencing it is the caller's `unsafe`.
pub struct RingBuffer<E> {
    /// `capacity` slots, never reallocated.
    slots: Box<[UnsafeCell<E>]>,
    /// `capacity - 1`; `capacity` is a power of two, so `sequence & mask` is the slot index.
    mask: u64,
}

// SAFETY: slots are handed between threads, and several consumers may read one slot at once;
// `Send + Sync` on the event is exactly what that needs. Exclusive access to a slot for writing is
// the sequencer protocol's guarantee, not the type's.
unsafe impl<E: Send + Sync> Sync for RingBuffer<E> {}

impl<E> RingBuffer<E> {
    /// Allocates `capacity` slots, each filled by `init`.
    ///
    /// # Panics
    /// If `capacity` is not a power of two: a topology validates its ring size before building a
    /// ring, so reaching this is a bug in the caller.
    pub fn new(capacity: usize, mut init: impl FnMut() -> E) -> Self {
        assert!(
            capacity.is_power_of_two(),
            "ring capacity {capacity} is not a power of two"
        );
        let slots = (0..capacity).map(|_| UnsafeCell::new(init())).collect();
        Self {
            slots,
            mask: capacity as u64 - 1,
        }
    }

    /// Slots in the ring.
    #[inline(always)]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slot that sequence `sequence` lives in. Getting the pointer is safe; reading or writing
    /// through it is only sound under the sequencer and barrier protocol.
    #[inline(always)]
    pub fn slot(&self, sequence: u64) -> *mut E {
        let index = (sequence & self.mask) as usize;
        debug_assert!(index < self.slots.len());
        // SAFETY: `index` is masked to `0..capacity`, in bounds of `slots`.
        unsafe { self.slots.get_unchecked(index) }.get()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn sequences_wrap_onto_slots_by_mask() {
        let mut next = 0u64;
        let ring = RingBuffer::new(8, || {
            next += 1;
            next
        });
        assert_eq!(ring.capacity(), 8);
        for sequence in 0..32u64 {
            // SAFETY: single-threaded test; nothing else touches the ring.
            let value = unsafe { *ring.slot(sequence) };
            assert_eq!(value, (sequence % 8) + 1);
        }
        assert_eq!(ring.slot(3), ring.slot(11));
    }

    #[test]
    #[should_panic(expected = "not a power of two")]
    fn capacity_not_power_of_two_is_refused() {
        let _ = RingBuffer::new(6, || 0u8);
    }
}
