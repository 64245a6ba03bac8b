//! Loom models of the ring's protocol: every interleaving (up to a preemption bound) of the real
//! sequencer, barrier, wait-strategy and run-state code, with loom's atomics and parking in place
//! of the hardware's. The slots are loom cells, so a consumer that could read a slot without the
//! producer's write happening before it, or a producer that could overwrite a slot a consumer is
//! still reading, fails the model as a data race.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p clearway-core --test loom --release`

#![cfg(loom)]

use std::sync::Arc;

use clearway_core::ring::{
    Interrupt, MultiProducerSequencer, RunState, Sequence, SequenceBarrier, SequenceGroup,
    SingleProducerSequencer, Upstream, WaitStrategy,
};
use loom::cell::UnsafeCell;
use loom::thread;

/// The ring's slots as loom cells.
struct Slots(Vec<UnsafeCell<u64>>);

// SAFETY: access to each cell is ordered by the ring protocol under test; loom checks that it is,
// and reports any access the protocol fails to order.
unsafe impl Sync for Slots {}
// SAFETY: as above.
unsafe impl Send for Slots {}

impl Slots {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self((0..capacity).map(|_| UnsafeCell::new(0)).collect()))
    }

    fn write(&self, sequence: u64, value: u64) {
        let cell = &self.0[sequence as usize % self.0.len()];
        // SAFETY: the producer holds a claim on `sequence`; loom checks it is exclusive.
        cell.with_mut(|slot| unsafe { *slot = value });
    }

    fn read(&self, sequence: u64) -> u64 {
        let cell = &self.0[sequence as usize % self.0.len()];
        // SAFETY: the barrier covers `sequence`; loom checks the write happened before.
        cell.with(|slot| unsafe { *slot })
    }
}

fn model(body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(body);
}

/// Consumes `count` sequences through `barrier`, releasing each batch through `cursor`.
fn consume(barrier: &SequenceBarrier, cursor: &Sequence, slots: &Slots, count: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    let mut next = 0;
    while next < count {
        let available = barrier.wait_for(next).expect("nothing halts this model");
        for sequence in next..available {
            seen.push(slots.read(sequence));
        }
        cursor.set(available);
        next = available;
    }
    seen
}

#[test]
fn single_producer_claim_publish_wraps_a_ring_of_two_without_a_race() {
    model(|| {
        let run_state = Arc::new(RunState::new(false));
        let consumed = Arc::new(Sequence::new(0));
        let published = Arc::new(Sequence::new(0));
        let gating = SequenceGroup::new(vec![Arc::clone(&consumed)]);
        let mut sequencer = SingleProducerSequencer::new(
            published,
            2,
            gating,
            WaitStrategy::BusySpin,
            Arc::clone(&run_state),
        );
        let barrier = SequenceBarrier::new(
            Upstream::Producer(sequencer.published()),
            WaitStrategy::BusySpin,
            Arc::clone(&run_state),
        );
        let slots = Slots::new(2);
        let consumer = {
            let slots = Arc::clone(&slots);
            thread::spawn(move || consume(&barrier, &consumed, &slots, 3))
        };
        for value in 0..3u64 {
            let claim = sequencer.claim(1).unwrap();
            slots.write(claim.start(), 100 + value);
            sequencer.publish(claim);
        }
        assert_eq!(consumer.join().unwrap(), vec![100, 101, 102]);
    });
}

#[test]
fn two_multi_producers_never_expose_an_unwritten_slot() {
    model(|| {
        let run_state = Arc::new(RunState::new(false));
        let consumed = Arc::new(Sequence::new(0));
        let gating = SequenceGroup::new(vec![Arc::clone(&consumed)]);
        let sequencer =
            MultiProducerSequencer::new(2, gating, WaitStrategy::BusySpin, Arc::clone(&run_state));
        let barrier = SequenceBarrier::new(
            Upstream::Producer(sequencer.published()),
            WaitStrategy::BusySpin,
            Arc::clone(&run_state),
        );
        let slots = Slots::new(2);
        let producers: Vec<_> = [10u64, 20]
            .into_iter()
            .map(|value| {
                let mut sequencer = sequencer.clone();
                let slots = Arc::clone(&slots);
                thread::spawn(move || {
                    let claim = sequencer.claim(1).unwrap();
                    slots.write(claim.start(), value);
                    sequencer.publish(claim);
                })
            })
            .collect();
        let mut seen = consume(&barrier, &consumed, &slots, 2);
        for producer in producers {
            producer.join().unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![10, 20]);
    });
}

#[test]
fn multi_producer_waits_for_the_consumer_before_reusing_a_slot() {
    model(|| {
        let run_state = Arc::new(RunState::new(false));
        let consumed = Arc::new(Sequence::new(0));
        let gating = SequenceGroup::new(vec![Arc::clone(&consumed)]);
        let mut sequencer =
            MultiProducerSequencer::new(1, gating, WaitStrategy::BusySpin, Arc::clone(&run_state));
        let barrier = SequenceBarrier::new(
            Upstream::Producer(sequencer.published()),
            WaitStrategy::BusySpin,
            Arc::clone(&run_state),
        );
        let slots = Slots::new(1);
        let consumer = {
            let slots = Arc::clone(&slots);
            thread::spawn(move || consume(&barrier, &consumed, &slots, 2))
        };
        for value in [7u64, 8] {
            let claim = sequencer.claim(1).unwrap();
            slots.write(claim.start(), value);
            sequencer.publish(claim);
        }
        assert_eq!(consumer.join().unwrap(), vec![7, 8]);
    });
}

#[test]
fn join_barrier_sees_both_branches_writes() {
    model(|| {
        // Parking keeps three waiting threads within loom's branch limit; busy-spinning would not.
        let run_state = Arc::new(RunState::new(true));
        let published = Arc::new(Sequence::new(0));
        let left = Arc::new(Sequence::new(0));
        let right = Arc::new(Sequence::new(0));
        let left_slots = Slots::new(1);
        let right_slots = Slots::new(1);
        let branch = |cursor: &Arc<Sequence>, slots: &Arc<Slots>, value: u64| {
            let barrier = SequenceBarrier::new(
                Upstream::Stages(SequenceGroup::new(vec![Arc::clone(&published)])),
                WaitStrategy::SpinThenPark,
                Arc::clone(&run_state),
            );
            let (cursor, slots) = (Arc::clone(cursor), Arc::clone(slots));
            let run_state = Arc::clone(&run_state);
            thread::spawn(move || {
                let available = barrier.wait_for(0).unwrap();
                assert_eq!(available, 1);
                slots.write(0, value);
                cursor.set(1);
                run_state.notify();
            })
        };
        let left_thread = branch(&left, &left_slots, 1);
        let right_thread = branch(&right, &right_slots, 2);
        published.set(1);
        run_state.notify();
        let join = SequenceBarrier::new(
            Upstream::Stages(SequenceGroup::new(vec![
                Arc::clone(&left),
                Arc::clone(&right),
            ])),
            WaitStrategy::SpinThenPark,
            Arc::clone(&run_state),
        );
        assert_eq!(join.wait_for(0), Ok(1));
        assert_eq!((left_slots.read(0), right_slots.read(0)), (1, 2));
        left_thread.join().unwrap();
        right_thread.join().unwrap();
    });
}

#[test]
fn parked_consumer_is_never_left_asleep_by_a_publish() {
    model(|| {
        let run_state = Arc::new(RunState::new(true));
        let published = Arc::new(Sequence::new(0));
        let barrier = SequenceBarrier::new(
            Upstream::Stages(SequenceGroup::new(vec![Arc::clone(&published)])),
            WaitStrategy::SpinThenPark,
            Arc::clone(&run_state),
        );
        let consumer = thread::spawn(move || barrier.wait_for(0));
        published.set(1);
        run_state.notify();
        // Loom reports a deadlock if some interleaving leaves the consumer parked for ever.
        assert_eq!(consumer.join().unwrap(), Ok(1));
    });
}

#[test]
fn parked_consumer_drains_then_stops_when_the_input_closes() {
    model(|| {
        let run_state = Arc::new(RunState::new(true));
        let published = Arc::new(Sequence::new(0));
        let barrier = SequenceBarrier::new(
            Upstream::Stages(SequenceGroup::new(vec![Arc::clone(&published)])),
            WaitStrategy::SpinThenPark,
            Arc::clone(&run_state),
        );
        let consumer = thread::spawn(move || {
            let first = barrier.wait_for(0);
            let second = barrier.wait_for(1);
            (first, second)
        });
        published.set(1);
        run_state.notify();
        run_state.close_at(1);
        assert_eq!(consumer.join().unwrap(), (Ok(1), Err(Interrupt::Drained)));
    });
}

#[test]
fn halt_releases_a_producer_parked_on_a_full_ring() {
    model(|| {
        let run_state = Arc::new(RunState::new(true));
        let consumed = Arc::new(Sequence::new(0));
        let mut sequencer = SingleProducerSequencer::new(
            Arc::new(Sequence::new(0)),
            1,
            SequenceGroup::new(vec![consumed]),
            WaitStrategy::SpinThenPark,
            Arc::clone(&run_state),
        );
        let claim = sequencer.claim(1).unwrap();
        sequencer.publish(claim);
        let halter = {
            let run_state = Arc::clone(&run_state);
            thread::spawn(move || run_state.halt())
        };
        assert_eq!(sequencer.claim(1), Err(Interrupt::Halted));
        halter.join().unwrap();
    });
}
