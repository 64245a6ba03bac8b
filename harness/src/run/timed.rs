//! [`Timed`]: a step's handler with its exit latency measured, once per batch.

use clearway_core::event::{Event, Results};
use clearway_core::pipeline::{Handler, StageFault};

use super::clock::RunClock;
use super::latency::Latencies;
use super::layout::Step;
use super::report::{Reports, ThreadReport};

/// Wraps a step and records, for every event, the time from its event time (when ingress took
/// it) to the end of the batch in which this step handled it: the moment the stage's cursor
/// moves and the next stage can see it. One clock reading per batch, not per event; the event
/// times of the batch wait in a buffer allocated up front.
pub struct Timed<H> {
    step: Step,
    inner: H,
    clock: RunClock,
    entered_ns: Vec<u64>,
    latencies: Latencies,
    events: u64,
    reports: Reports,
}

impl<H> Timed<H> {
    /// Times `inner`; `batch_size_max` sizes the buffer (a longer batch flushes early).
    pub fn new(
        step: Step,
        inner: H,
        clock: RunClock,
        batch_size_max: usize,
        reports: Reports,
    ) -> Self {
        Timed {
            step,
            inner,
            clock,
            entered_ns: Vec::with_capacity(batch_size_max.max(1)),
            latencies: Latencies::new(),
            events: 0,
            reports,
        }
    }

    fn flush(&mut self) {
        if self.entered_ns.is_empty() {
            return;
        }
        let now_ns = self.clock.now_ns();
        for &entered_ns in &self.entered_ns {
            self.latencies.record(now_ns.saturating_sub(entered_ns));
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
        // The run reads reports after every thread has stopped; if it has gone, so has the run.
        let _ = self.reports.send(ThreadReport::Stage {
            step: self.step,
            events: self.events,
            latencies: std::mem::take(&mut self.latencies),
        });
    }
}
