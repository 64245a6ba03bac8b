//! [`Timed`]: a step's handler with its exit latency measured, once per batch.

use clearway_core::event::{Event, Results};
use clearway_core::pipeline::{Handler, StageFault};

use std::sync::atomic::{AtomicU64, Ordering};

use super::clock::RunClock;
use super::latency::Percentiles;
use super::layout::Step;
use super::report::{Reports, ThreadReport};
use crate::interval::IntervalRecorder;

/// Wraps a step and records, for every event, the time from its event time (when ingress took
/// it) to the end of the batch in which this step handled it: the moment the stage's cursor
/// moves and the next stage can see it. One clock reading per batch, not per event; the event
/// times of the batch wait in a buffer allocated up front, and the values go into the current
/// second's histogram (see `interval`).
pub struct Timed<H> {
    step: Step,
    inner: H,
    clock: RunClock,
    entered_ns: Vec<u64>,
    recorder: IntervalRecorder,
    events: u64,
    reports: Reports,
}

/// Each step's latency quantiles as they stand, published by the monitor about once a second for
/// a node's metrics endpoint: p50, p90, p99, p99.9 and max, ns, per step in [`Step::ALL`] order.
#[derive(Default)]
pub struct LiveLatencies {
    steps: [[AtomicU64; 5]; 4],
}

impl LiveLatencies {
    /// Publishes `step`'s quantiles.
    pub fn publish(&self, step: Step, percentiles: &Percentiles) {
        let values = [
            percentiles.p50,
            percentiles.p90,
            percentiles.p99,
            percentiles.p999,
            percentiles.max,
        ];
        for (atomic, value) in self.steps[step as usize].iter().zip(values) {
            atomic.store(value, Ordering::Relaxed);
        }
    }

    /// `step`'s quantiles as last published, labelled for the exposition format.
    pub fn quantiles(&self, step: Step) -> Vec<(&'static str, u64)> {
        ["0.5", "0.9", "0.99", "0.999", "1"]
            .into_iter()
            .zip(&self.steps[step as usize])
            .map(|(label, atomic)| (label, atomic.load(Ordering::Relaxed)))
            .collect()
    }
}

impl<H> Timed<H> {
    /// Times `inner` into `recorder`; `batch_size_max` sizes the buffer (a longer batch flushes
    /// early).
    pub fn new(
        step: Step,
        inner: H,
        clock: RunClock,
        batch_size_max: usize,
        reports: Reports,
        recorder: IntervalRecorder,
    ) -> Self {
        Timed {
            step,
            inner,
            clock,
            entered_ns: Vec::with_capacity(batch_size_max.max(1)),
            recorder,
            events: 0,
            reports,
        }
    }

    fn flush(&mut self) {
        if self.entered_ns.is_empty() {
            return;
        }
        let now_ns = self.clock.now_ns();
        let latencies = self.recorder.at(now_ns);
        for &entered_ns in &self.entered_ns {
            latencies.record(now_ns.saturating_sub(entered_ns));
        }
        self.entered_ns.clear();
    }
}

impl<H: Handler<Event, Results>> Handler<Event, Results> for Timed<H> {
    #[inline]
    fn on_event(
        &mut self,
        input: &Event,
        output: &mut Results,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.inner.on_event(input, output, sequence, end_of_batch)?;
        if self.entered_ns.len() == self.entered_ns.capacity() {
            self.flush();
        }
        self.entered_ns.push(input.event_ns);
        self.events += 1;
        if end_of_batch {
            self.flush();
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        self.inner.on_shutdown();
        self.flush();
        self.recorder.finish();
        // The run reads reports after every thread has stopped; if it has gone, so has the run.
        let _ = self.reports.send(ThreadReport::Stage {
            step: self.step,
            events: self.events,
        });
    }
}
