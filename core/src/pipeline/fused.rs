//! [`Fused`]: a chain of handlers on one thread with no ring between them, the per-core upper
//! bound a pipelined topology is measured against.

use std::sync::Arc;

use super::counters::StageCounters;
use super::handler::{Handler, StageFault};

/// Every stage run in order on the caller's thread, on one slot that is filled and handled in
/// turn. No ring, no cursor, no handoff between cores: what one core can do alone, and so what
/// a pipeline spread over several cores has to beat.
///
/// Write the chain as a tuple to have it inlined whole: `Fused::new((parse, check, post))`.
pub struct Fused<I, O, H> {
    input: I,
    output: O,
    handler: H,
    /// The next sequence; equal to the count published so far.
    next: u64,
}

impl<I: Default, O: Default, H: Handler<I, O>> Fused<I, O, H> {
    /// A fused chain running `handler` (a tuple of handlers, or one).
    pub fn new(handler: H) -> Self {
        Self {
            input: I::default(),
            output: O::default(),
            handler,
            next: 0,
        }
    }

    /// Fills the slot with `fill` and runs the chain on it. Returns the event's sequence, or the
    /// fault that stopped a stage (the sequence is used either way).
    #[inline(always)]
    pub fn publish(&mut self, fill: impl FnOnce(u64, &mut I, &mut O)) -> Result<u64, StageFault> {
        let sequence = self.next;
        fill(sequence, &mut self.input, &mut self.output);
        self.next += 1;
        self.handler
            .on_event(&self.input, &mut self.output, sequence, true)?;
        Ok(sequence)
    }

    /// Publishes `count` events, each filled by `fill` and run through the chain before the next;
    /// `end_of_batch` is true on the last. Returns the sequences used.
    #[inline(always)]
    pub fn publish_batch(
        &mut self,
        count: usize,
        mut fill: impl FnMut(u64, &mut I, &mut O),
    ) -> Result<std::ops::Range<u64>, StageFault> {
        let start = self.next;
        let end = start + count as u64;
        for sequence in start..end {
            fill(sequence, &mut self.input, &mut self.output);
            self.next += 1;
            self.handler
                .on_event(&self.input, &mut self.output, sequence, sequence + 1 == end)?;
        }
        Ok(start..end)
    }

    /// Ends the chain: runs each handler's `on_shutdown` and hands the chain back.
    pub fn finish(mut self) -> H {
        self.handler.on_shutdown();
        self.handler
    }
}

impl<I, O, H> Fused<I, O, H> {
    /// Events published so far.
    pub fn published_count(&self) -> u64 {
        self.next
    }

    /// The chain.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The chain, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

/// The fused chain a [`Pipeline`](super::Pipeline) builds from a topology: stages named, in
/// topological order, behind dynamic dispatch, each with its counters. Remembers which stage it
/// is in, so a fault or panic can be named.
pub(crate) struct Chain<I, O> {
    pub(crate) stages: Vec<ChainStage<I, O>>,
    /// The stage being run, `None` between events (the producer's fill is running).
    pub(crate) current: Option<usize>,
}

pub(crate) struct ChainStage<I, O> {
    pub(crate) name: Arc<str>,
    pub(crate) handler: Box<dyn Handler<I, O>>,
    pub(crate) counters: Arc<StageCounters>,
}

impl<I, O> Handler<I, O> for Chain<I, O> {
    #[inline]
    fn on_event(
        &mut self,
        input: &I,
        output: &mut O,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        for (index, stage) in self.stages.iter_mut().enumerate() {
            self.current = Some(index);
            stage
                .handler
                .on_event(input, output, sequence, end_of_batch)?;
            stage.counters.record_fused(1);
        }
        self.current = None;
        Ok(())
    }

    fn on_shutdown(&mut self) {
        for (index, stage) in self.stages.iter_mut().enumerate() {
            self.current = Some(index);
            stage.handler.on_shutdown();
        }
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scale(u64);

    impl Handler<u64, u64> for Scale {
        fn on_event(
            &mut self,
            input: &u64,
            output: &mut u64,
            _: u64,
            _: bool,
        ) -> Result<(), StageFault> {
            *output = *output * self.0 + input;
            Ok(())
        }
    }

    struct FailAt(u64);

    impl Handler<u64, u64> for FailAt {
        fn on_event(
            &mut self,
            _: &u64,
            _: &mut u64,
            sequence: u64,
            _: bool,
        ) -> Result<(), StageFault> {
            if sequence == self.0 {
                return Err(StageFault::new("sequence refused"));
            }
            Ok(())
        }
    }

    #[test]
    fn each_event_runs_the_whole_chain_in_order() {
        let mut fused = Fused::<u64, u64, _>::new((Scale(10), Scale(100)));
        let sequence = fused
            .publish(|sequence, input, output| {
                *input = sequence + 3;
                *output = 0;
            })
            .unwrap();
        assert_eq!(sequence, 0);
        // (0 * 10 + 3) * 100 + 3
        assert_eq!(fused.output, 303);
        let range = fused.publish_batch(4, |_, input, output| {
            *input = 1;
            *output = 0;
        });
        assert_eq!(range, Ok(1..5));
        assert_eq!(fused.published_count(), 5);
    }

    #[test]
    fn a_fault_stops_the_event_and_is_returned() {
        let mut fused = Fused::<u64, u64, _>::new((Scale(1), FailAt(2)));
        for _ in 0..2 {
            fused.publish(|_, _, _| {}).unwrap();
        }
        let fault = fused.publish(|_, _, _| {}).unwrap_err();
        assert_eq!(fault.reason(), "sequence refused");
        assert_eq!(fused.published_count(), 3);
    }
}
