//! ```text
//! producer ─► first ─► second ─► third      ring of 4 slots, batches of 1
//! ```
//! The smallest rings, so the producer is almost always waiting for the last stage to release a
//! slot and every stage for the one before: the wrap and gating arithmetic is exercised on
//! nearly every event.

mod common;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::pipeline::{Pipeline, TopologyConfig};
use clearway_core::ring::WaitStrategy;
use common::{chain_handlers, value_of};

// Every event here costs a few context switches (the ring holds at most four), so tens of
// thousands of laps is what fits in well under a second on two cores.
const EVENTS: u64 = 60_000;

fn run(ring_capacity: usize, batch_size_max: usize, wait: WaitStrategy) {
    let topology = TopologyConfig::chain(["first", "second", "third"], wait)
        .ring_capacity(ring_capacity)
        .batch_size_max(batch_size_max)
        .validate()
        .unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let pipeline = Pipeline::start(&topology, chain_handlers(&seen)).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        for _ in 0..EVENTS / 3 {
            producer
                .publish_batch(3.min(ring_capacity), |sequence, input, _| {
                    input.value = value_of(sequence)
                })
                .unwrap();
        }
    }
    let report = pipeline.shutdown().unwrap();
    let expected = EVENTS / 3 * 3.min(ring_capacity) as u64;
    for stage in &report.stages {
        assert_eq!(stage.total().events, expected, "stage {}", stage.name);
    }
    assert!(
        report.producer_full_count > 0,
        "a ring this small must fill"
    );
}

#[test]
fn chain_full_ring_of_four_batches_of_one() {
    run(4, 1, WaitStrategy::SpinThenYield);
}

#[test]
fn chain_full_ring_of_two_parked() {
    run(2, 2, WaitStrategy::SpinThenPark);
}

#[test]
fn chain_full_ring_of_one() {
    run(1, 1, WaitStrategy::SpinThenYield);
}
