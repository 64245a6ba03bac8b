//! ```text
//! producer[0] ─┐
//! producer[1] ─┼─► first ─► second
//! producer[2] ─┘
//! ```
//! Three threads publish through the multi-producer sequencer. The stages must see every
//! sequence exactly once and in order, each producer's events in the order it published them,
//! and never a half-written slot (the input is checked against its sequence).

mod common;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clearway_core::pipeline::{
    Handler, Handlers, Pipeline, ProducerKind, StageFault, TopologyConfig, Worker,
};
use clearway_core::ring::WaitStrategy;
use common::{fault, value_of, First, Input, Next, Output};

const PRODUCERS: u64 = 3;
const EVENTS_PER_PRODUCER: u64 = 700_000;

/// Checks that each producer's events arrive in the order that producer published them.
struct PerProducerOrder {
    next: [u64; PRODUCERS as usize],
    inner: Next,
}

impl Handler<Input, Output> for PerProducerOrder {
    fn on_event(
        &mut self,
        input: &Input,
        output: &mut Output,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.inner.on_event(input, output, sequence, end_of_batch)?;
        let producer = input.producer as usize;
        if producer >= self.next.len() || input.producer_index != self.next[producer] {
            return fault(
                "second",
                sequence,
                format!(
                    "producer {producer} event {} out of order",
                    input.producer_index
                ),
            );
        }
        self.next[producer] += 1;
        Ok(())
    }
}

fn run(wait: WaitStrategy, chunk: usize) {
    let topology = TopologyConfig::chain(["first", "second"], wait)
        .producer_kind(ProducerKind::Multi)
        .ring_capacity(256)
        .validate()
        .unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let handlers = {
        let seen = Arc::clone(&seen);
        Handlers::<Input, Output>::new()
            .stage("first", move |worker| First::new(worker, Arc::clone(&seen)))
            .stage("second", |worker: Worker| PerProducerOrder {
                next: [0; PRODUCERS as usize],
                inner: Next::new(worker, 2, 1),
            })
    };
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    std::thread::scope(|scope| {
        for producer_id in 0..PRODUCERS {
            let mut producer = pipeline.producer().unwrap();
            scope.spawn(move || {
                let mut index = 0;
                while index < EVENTS_PER_PRODUCER {
                    let count = chunk.min((EVENTS_PER_PRODUCER - index) as usize);
                    producer
                        .publish_batch(count, |sequence, input, _| {
                            input.value = value_of(sequence);
                            input.producer = producer_id;
                            input.producer_index = index;
                            index += 1;
                        })
                        .unwrap();
                }
            });
        }
    });
    let report = pipeline
        .shutdown()
        .unwrap_or_else(|error| panic!("{wait}: {error}"));
    assert_eq!(report.published, PRODUCERS * EVENTS_PER_PRODUCER);
    for stage in &report.stages {
        assert_eq!(stage.total().events, PRODUCERS * EVENTS_PER_PRODUCER);
    }
}

#[test]
fn three_producers_one_publish_each_spin_then_yield() {
    run(WaitStrategy::SpinThenYield, 1);
}

#[test]
fn three_producers_batches_of_16_spin_then_park() {
    run(WaitStrategy::SpinThenPark, 16);
}
