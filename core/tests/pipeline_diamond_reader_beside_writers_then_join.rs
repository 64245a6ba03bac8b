//! ```text
//!            ┌─► reader (input only) ──────┐
//! producer ──┤                             ├─► third
//!            └─► first ─► second ──────────┘
//! ```
//! A reader of the input runs beside two writing stages (as the journal runs beside authorize),
//! and a join waits for both branches. The reader must see every input exactly once, untouched;
//! the join must see the writers' output for each event.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clearway_core::pipeline::{Handlers, Pipeline, StageConfig, TopologyConfig, Worker};
use clearway_core::ring::WaitStrategy;
use common::{expected_sum, value_of, First, Input, Next, Output, Reader};

const EVENTS: u64 = 2_000_000;

fn run(wait: WaitStrategy) {
    let topology = TopologyConfig::new()
        .ring_capacity(512)
        .producer_wait(wait)
        .stage(StageConfig::new("reader").wait(wait))
        .stage(StageConfig::new("first").wait(wait))
        .stage(StageConfig::new("second").after(["first"]).wait(wait))
        .stage(
            StageConfig::new("third")
                .after(["second", "reader"])
                .wait(wait),
        )
        .validate()
        .unwrap();
    let sum = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let handlers = {
        let (sum, seen) = (Arc::clone(&sum), Arc::clone(&seen));
        Handlers::<Input, Output>::new()
            .input_stage("reader", move |worker| {
                Reader::new(worker, Arc::clone(&sum))
            })
            .stage("first", move |worker| First::new(worker, Arc::clone(&seen)))
            .stage("second", |worker: Worker| Next::new(worker, 2, 1))
            .stage("third", |worker: Worker| Next::new(worker, 3, 1))
    };
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        for _ in 0..EVENTS / 100 {
            producer
                .publish_batch(100, |sequence, input, _| input.value = value_of(sequence))
                .unwrap();
        }
    }
    let report = pipeline
        .shutdown()
        .unwrap_or_else(|error| panic!("{wait}: {error}"));
    for stage in &report.stages {
        assert_eq!(stage.total().events, EVENTS, "{wait}: stage {}", stage.name);
    }
    assert_eq!(sum.load(Ordering::Relaxed), expected_sum(EVENTS));
}

#[test]
fn diamond_reader_beside_writers_then_join_spin_then_yield() {
    run(WaitStrategy::SpinThenYield);
}

#[test]
fn diamond_reader_beside_writers_then_join_spin_then_park() {
    run(WaitStrategy::SpinThenPark);
}
