//! ```text
//! producer ─► first ─► second ─► third
//! ```
//! One producer, three chained stages, each checking it sees every event exactly once, in order,
//! with the stage before it already done. Two million events per wait strategy that suits two
//! cores.

mod common;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::pipeline::{Pipeline, TopologyConfig};
use clearway_core::ring::WaitStrategy;
use common::{chain_handlers, value_of};

const EVENTS: u64 = 2_000_000;

fn run(wait: WaitStrategy, batched: bool) {
    let topology = TopologyConfig::chain(["first", "second", "third"], wait)
        .ring_capacity(1024)
        .validate()
        .unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let pipeline = Pipeline::start(&topology, chain_handlers(&seen)).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        if batched {
            producer
                .publish_batch(EVENTS as usize, |sequence, input, _| {
                    input.value = value_of(sequence)
                })
                .unwrap();
        } else {
            for _ in 0..EVENTS {
                producer
                    .publish(|sequence, input, _| input.value = value_of(sequence))
                    .unwrap();
            }
        }
    }
    let report = pipeline
        .shutdown()
        .unwrap_or_else(|error| panic!("{wait}: {error}"));
    assert_eq!(report.published, EVENTS);
    for stage in &report.stages {
        assert_eq!(stage.total().events, EVENTS, "{wait}: stage {}", stage.name);
    }
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), EVENTS);
}

#[test]
fn chain_three_stages_spin_then_yield_one_publish_per_event() {
    run(WaitStrategy::SpinThenYield, false);
}

#[test]
fn chain_three_stages_spin_then_yield_batched_publish() {
    run(WaitStrategy::SpinThenYield, true);
}

#[test]
fn chain_three_stages_spin_then_park_batched_publish() {
    run(WaitStrategy::SpinThenPark, true);
}
