//! ```text
//! producer ──┬─► wide (input only, batches up to 512) ─┐
//!            └─► narrow (batches up to 4) ─────────────┴─► after
//! ```
//! A stage's own `batch_size_max` overrides the topology's for that stage alone, as the journal's
//! does for group commit: the wide reader, held up at its start until the ring has filled, then
//! takes batches longer than the topology's limit and never longer than its own; the others
//! never take more than the topology's.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clearway_core::pipeline::{
    Handler, Handlers, InputHandler, Pipeline, StageConfig, StageFault, TopologyConfig,
};
use clearway_core::ring::WaitStrategy;
use common::{Input, Output};

const EVENTS: u64 = 200_000;
const TOPOLOGY_BATCH: u64 = 4;
const WIDE_BATCH: u64 = 512;

/// Tracks the longest batch its stage took.
struct Longest {
    current: u64,
    longest: Arc<AtomicU64>,
    started: bool,
}

impl Longest {
    fn new(longest: Arc<AtomicU64>) -> Self {
        Longest {
            current: 0,
            longest,
            started: false,
        }
    }

    fn see(&mut self, end_of_batch: bool, hold_up: bool) {
        if hold_up && !self.started {
            // Let the producer fill the ring behind this stage.
            std::thread::sleep(Duration::from_millis(50));
        }
        self.started = true;
        self.current += 1;
        if end_of_batch {
            self.longest.fetch_max(self.current, Ordering::Relaxed);
            self.current = 0;
        }
    }
}

impl InputHandler<Input> for Longest {
    fn on_event(&mut self, _: &Input, _: u64, end_of_batch: bool) -> Result<(), StageFault> {
        self.see(end_of_batch, true);
        Ok(())
    }
}

impl Handler<Input, Output> for Longest {
    fn on_event(
        &mut self,
        _: &Input,
        _: &mut Output,
        _: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.see(end_of_batch, false);
        Ok(())
    }
}

#[test]
fn a_stage_takes_batches_up_to_its_own_limit_and_no_other_stage_does() {
    let wait = WaitStrategy::SpinThenYield;
    let topology = TopologyConfig::new()
        .ring_capacity(1024)
        .batch_size_max(TOPOLOGY_BATCH as usize)
        .producer_wait(wait)
        .stage(
            StageConfig::new("wide")
                .batch_size_max(WIDE_BATCH as usize)
                .wait(wait),
        )
        .stage(StageConfig::new("narrow").wait(wait))
        .stage(
            StageConfig::new("after")
                .after(["wide", "narrow"])
                .wait(wait),
        )
        .validate()
        .unwrap();
    let longest: [Arc<AtomicU64>; 3] = Default::default();
    let handlers = {
        let [wide, narrow, after] = longest.clone();
        Handlers::<Input, Output>::new()
            .input_stage("wide", move |_| Longest::new(Arc::clone(&wide)))
            .stage("narrow", move |_| Longest::new(Arc::clone(&narrow)))
            .stage("after", move |_| Longest::new(Arc::clone(&after)))
    };
    let pipeline = Pipeline::start(&topology, handlers).unwrap();
    {
        let mut producer = pipeline.producer().unwrap();
        for _ in 0..EVENTS {
            producer.publish(|_, _, _| {}).unwrap();
        }
    }
    let report = pipeline.shutdown().unwrap();
    for stage in &report.stages {
        assert_eq!(stage.total().events, EVENTS, "stage {}", stage.name);
    }
    let [wide, narrow, after] = longest.map(|longest| longest.load(Ordering::Relaxed));
    assert!(
        wide > TOPOLOGY_BATCH && wide <= WIDE_BATCH,
        "the wide stage's longest batch was {wide}"
    );
    assert!(narrow <= TOPOLOGY_BATCH, "narrow took {narrow}");
    assert!(after <= TOPOLOGY_BATCH, "after took {after}");
}
