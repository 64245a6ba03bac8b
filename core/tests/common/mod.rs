//! Events and checking handlers shared by the stress tests.
//!
//! Every handler checks that it sees its sequences exactly once and in order, and that the
//! stages before it already wrote their part of the output for *this* event (not a stale one from
//! the slot's previous lap); any deviation is a `StageFault` that fails the run with the stage
//! and sequence named.

#![allow(dead_code)]

pub mod switch_events;
pub mod switch_stages;

use clearway_core::pipeline::{Handler, Handlers, InputHandler, StageFault, Worker};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A 64-byte input: the value a producer wrote, who wrote it, and padding to a cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
pub struct Input {
    pub value: u64,
    pub producer: u64,
    pub producer_index: u64,
    pub padding: [u64; 5],
}

/// What the stages write: one field per stage position, and the worker that wrote `first`.
#[derive(Clone, Copy, Default)]
pub struct Output {
    pub first: u64,
    pub second: u64,
    pub third: u64,
    pub worker: u64,
}

/// The value the producer writes for `sequence`: distinct per sequence and lap.
pub fn value_of(sequence: u64) -> u64 {
    sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
}

pub fn fault(stage: &str, sequence: u64, what: String) -> Result<(), StageFault> {
    Err(StageFault::new(format!("{stage} at {sequence}: {what}")))
}

/// Checks order: for a worker of a group, the sequences congruent to its index.
pub struct Order {
    next: u64,
    step: u64,
}

impl Order {
    pub fn new(worker: Worker) -> Self {
        Self {
            next: worker.index as u64,
            step: worker.count as u64,
        }
    }

    pub fn check(&mut self, stage: &str, sequence: u64) -> Result<(), StageFault> {
        if sequence != self.next {
            return fault(stage, sequence, format!("expected sequence {}", self.next));
        }
        self.next += self.step;
        Ok(())
    }
}

/// First stage of a chain: checks the input, writes `first` and its worker index.
pub struct First {
    order: Order,
    worker: Worker,
    pub seen: Arc<AtomicU64>,
}

impl First {
    pub fn new(worker: Worker, seen: Arc<AtomicU64>) -> Self {
        Self {
            order: Order::new(worker),
            worker,
            seen,
        }
    }

    /// A first stage whose progress no one watches.
    pub fn unwatched(worker: Worker) -> Self {
        Self::new(worker, Arc::new(AtomicU64::new(0)))
    }
}

impl Handler<Input, Output> for First {
    fn on_event(
        &mut self,
        input: &Input,
        output: &mut Output,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.order.check("first", sequence)?;
        if input.value != value_of(sequence) {
            return fault(
                "first",
                sequence,
                format!("input {:#x} is stale", input.value),
            );
        }
        output.first = input.value.rotate_left(7);
        output.worker = self.worker.index as u64;
        if end_of_batch {
            self.seen.store(sequence + 1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A later stage: checks the stage before wrote for this event, then writes its own field.
pub struct Next {
    order: Order,
    position: usize,
    workers_before: u64,
}

impl Next {
    /// Stage at `position` (2 or 3) after a first stage of `workers_before` workers.
    pub fn new(worker: Worker, position: usize, workers_before: u64) -> Self {
        Self {
            order: Order::new(worker),
            position,
            workers_before,
        }
    }
}

impl Handler<Input, Output> for Next {
    fn on_event(
        &mut self,
        input: &Input,
        output: &mut Output,
        sequence: u64,
        _: bool,
    ) -> Result<(), StageFault> {
        let name = if self.position == 2 {
            "second"
        } else {
            "third"
        };
        self.order.check(name, sequence)?;
        if output.first != input.value.rotate_left(7) {
            return fault(name, sequence, "first stage's output is missing".into());
        }
        if output.worker != sequence % self.workers_before {
            return fault(
                name,
                sequence,
                format!("written by worker {}", output.worker),
            );
        }
        if self.position == 2 {
            output.second = output.first ^ 2;
        } else {
            if output.second != output.first ^ 2 {
                return fault(name, sequence, "second stage's output is missing".into());
            }
            output.third = output.second ^ 3;
        }
        Ok(())
    }
}

/// A reader of the input only, beside the writers: sums what it read.
pub struct Reader {
    order: Order,
    pub sum: Arc<AtomicU64>,
    local: u64,
}

impl Reader {
    pub fn new(worker: Worker, sum: Arc<AtomicU64>) -> Self {
        Self {
            order: Order::new(worker),
            sum,
            local: 0,
        }
    }
}

impl InputHandler<Input> for Reader {
    fn on_event(&mut self, input: &Input, sequence: u64, _: bool) -> Result<(), StageFault> {
        self.order.check("reader", sequence)?;
        if input.value != value_of(sequence) {
            return fault("reader", sequence, "input is stale".into());
        }
        self.local = self.local.wrapping_add(input.value);
        Ok(())
    }

    fn on_shutdown(&mut self) {
        self.sum.store(self.local, Ordering::Relaxed);
    }
}

/// The sum `Reader` must arrive at over sequences `0..count`.
pub fn expected_sum(count: u64) -> u64 {
    (0..count).fold(0u64, |sum, sequence| sum.wrapping_add(value_of(sequence)))
}

/// The handlers of a chain `first → second → third`; `seen` follows the first stage's progress.
pub fn chain_handlers(seen: &Arc<AtomicU64>) -> Handlers<Input, Output> {
    let seen = Arc::clone(seen);
    Handlers::new()
        .stage("first", move |worker| First::new(worker, Arc::clone(&seen)))
        .stage("second", |worker: Worker| Next::new(worker, 2, 1))
        .stage("third", |worker: Worker| Next::new(worker, 3, 1))
}
