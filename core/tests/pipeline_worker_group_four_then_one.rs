//! ```text
//!            ┌─► first[0] ─┐
//!            ├─► first[1] ─┤
//! producer ──┼─► first[2] ─┼─► second
//!            └─► first[3] ─┘
//! ```
//! A worker group: worker i takes the sequences s with s % 4 == i, in order, and the stage after
//! it waits for all four. `second` checks that each event was written by the worker it belongs
//! to and that none is missing.

mod common;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::pipeline::{Handlers, Pipeline, StageConfig, TopologyConfig, Worker};
use clearway_core::ring::WaitStrategy;
use common::{value_of, First, Input, Next, Output};

const EVENTS: u64 = 2_000_000;
const WORKERS: usize = 4;

fn run(wait: WaitStrategy, batch_size_max: usize) {
    let topology = TopologyConfig::new()
        .ring_capacity(1024)
        .batch_size_max(batch_size_max)
        .producer_wait(wait)
        .stage(StageConfig::new("first").workers(WORKERS).wait(wait))
        .stage(StageConfig::new("second").after(["first"]).wait(wait))
        .validate()
        .unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let handlers = {
        let seen = Arc::clone(&seen);
        Handlers::<Input, Output>::new()
            .stage("first", move |worker| First::new(worker, Arc::clone(&seen)))
            .stage("second", |worker: Worker| {
                Next::new(worker, 2, WORKERS as u64)
            })
    };
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        producer
            .publish_batch(EVENTS as usize, |sequence, input, _| {
                input.value = value_of(sequence)
            })
            .unwrap();
    }
    let report = pipeline
        .shutdown()
        .unwrap_or_else(|error| panic!("{wait}: {error}"));
    let group = &report.stages[0];
    assert_eq!(group.workers.len(), WORKERS);
    for (index, worker) in group.workers.iter().enumerate() {
        assert_eq!(
            worker.events,
            EVENTS / WORKERS as u64,
            "{wait}: worker {index}"
        );
    }
    assert_eq!(report.stages[1].total().events, EVENTS);
}

#[test]
fn worker_group_four_then_one_spin_then_yield() {
    run(WaitStrategy::SpinThenYield, 256);
}

#[test]
fn worker_group_four_then_one_spin_then_park_small_batches() {
    run(WaitStrategy::SpinThenPark, 7);
}
