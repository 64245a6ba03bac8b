//! [`Sequence`]: a cursor, the one counter each producer and consumer publishes its progress in;
//! and [`SequenceGroup`], several cursors read as their minimum.

use std::sync::Arc;

use crossbeam_utils::CachePadded;

use super::sync::{AtomicU64, Ordering};

/// A cursor: a count of sequences its owner has finished with, published for others to read.
///
/// Counts, not indices: a cursor at `c` says that sequences `0..c` are done (published, for a
/// producer; processed, for a consumer). It starts at 0 and only grows; a `u64` at a billion
/// events a second wraps after 584 years.
///
/// One thread writes a cursor (its owner; for a multi-producer claim counter, every producer
/// through read-modify-write), many read it. The owner stores with `Release` after writing the
/// slots it covers; readers load with `Acquire` before reading those slots. That pair is what
/// makes the slots' contents visible: see docs/ARCHITECTURE.md, "Why the memory ordering is sound".
///
/// # Why 128 bytes
///
/// Every cursor sits alone on 128 bytes ([`CachePadded`] aligns to 128 on x86-64). A cursor is
/// written by one core and polled by others; sharing its line with anything another core writes
/// would bounce the line between them on every write (false sharing). The line is 64 bytes, but
/// Intel's spatial prefetcher pulls lines in adjacent pairs (Intel 64 and IA-32 Architectures
/// Optimization Reference Manual, "L2 streamer / spatial prefetcher"), so two cursors on
/// neighbouring 64-byte lines still interfere. 128 bytes per cursor costs a few hundred bytes per
/// pipeline and removes that.
pub struct Sequence {
    /// The count; in range `0..=u64::MAX`, written with `Release` by the owner.
    value: CachePadded<AtomicU64>,
}

impl Sequence {
    /// A cursor at `value`.
    pub fn new(value: u64) -> Self {
        Self {
            value: CachePadded::new(AtomicU64::new(value)),
        }
    }

    /// The count, with `Acquire`: slots below it may be read after this.
    #[inline(always)]
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Acquire)
    }

    /// Publishes `value` with `Release`: everything written before becomes visible to a reader
    /// that sees `value` through [`Sequence::get`].
    #[inline(always)]
    pub fn set(&self, value: u64) {
        debug_assert!(
            value >= self.value.load(Ordering::Relaxed),
            "a cursor never goes back"
        );
        self.value.store(value, Ordering::Release);
    }

    /// Adds `count` and returns the value before: the multi-producer claim. Atomicity alone gives
    /// each claimant its own range; visibility of slot contents goes through the per-slot
    /// availability flags, not through this counter.
    #[inline(always)]
    pub(crate) fn fetch_add(&self, count: u64) -> u64 {
        self.value.fetch_add(count, Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Sequence {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_tuple("Sequence")
            .field(&self.get())
            .finish()
    }
}

/// Several cursors read as one: their minimum. A barrier over several upstream stages, a worker
/// group's cursors, and the set of last stages a producer must not lap are all groups.
#[derive(Clone, Debug)]
pub struct SequenceGroup {
    /// At least one cursor.
    sequences: Box<[Arc<Sequence>]>,
}

impl SequenceGroup {
    /// A group of `sequences`.
    ///
    /// # Panics
    /// If `sequences` is empty: the minimum of nothing is not a position, and every caller has at
    /// least one cursor by construction.
    pub fn new(sequences: Vec<Arc<Sequence>>) -> Self {
        assert!(
            !sequences.is_empty(),
            "a sequence group needs at least one sequence"
        );
        Self {
            sequences: sequences.into_boxed_slice(),
        }
    }

    /// The lowest count in the group, each read with `Acquire`.
    #[inline(always)]
    pub fn minimum(&self) -> u64 {
        let mut minimum = u64::MAX;
        for sequence in self.sequences.iter() {
            minimum = minimum.min(sequence.get());
        }
        minimum
    }

    /// The cursors in the group.
    pub fn sequences(&self) -> &[Arc<Sequence>] {
        &self.sequences
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn sequence_occupies_two_cache_lines_on_x86_64() {
        if cfg!(target_arch = "x86_64") {
            assert_eq!(std::mem::size_of::<Sequence>(), 128);
            assert_eq!(std::mem::align_of::<Sequence>(), 128);
        }
    }

    #[test]
    fn set_then_get_returns_value_and_fetch_add_returns_previous() {
        let sequence = Sequence::new(3);
        assert_eq!(sequence.get(), 3);
        sequence.set(10);
        assert_eq!(sequence.get(), 10);
        assert_eq!(sequence.fetch_add(5), 10);
        assert_eq!(sequence.get(), 15);
    }

    #[test]
    fn group_reads_as_its_minimum() {
        let sequences: Vec<_> = [5, 2, 9].map(|value| Arc::new(Sequence::new(value))).into();
        let group = SequenceGroup::new(sequences.clone());
        assert_eq!(group.minimum(), 2);
        sequences[1].set(7);
        assert_eq!(group.minimum(), 5);
    }
}
