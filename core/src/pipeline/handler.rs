//! [`Handler`] and [`InputHandler`]: what a stage does with each event, and [`StageFault`], how it
//! says it cannot go on.

/// Which worker of its stage a handler is: worker `index` of `count` takes the sequences `s` with
/// `s % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Worker {
    /// In `0..count`.
    pub index: usize,
    /// Workers in the stage; 1 unless the stage is a worker group.
    pub count: usize,
}

impl Worker {
    /// The only worker of a single-threaded stage.
    pub const ONLY: Worker = Worker { index: 0, count: 1 };
}

/// A stage that cannot go on: the pipeline stops, and the error names the stage, the worker and
/// the sequence. For failures the stage cannot answer with a value in the event (a journal whose
/// disk is gone), not for declines, which are outcomes written into the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageFault {
    reason: String,
}

impl StageFault {
    /// A fault saying why.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Why the stage stopped.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Display for StageFault {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.reason)
    }
}

impl std::error::Error for StageFault {}

/// A stage that reads the event's input and writes its results into the event's output, in place.
///
/// The topology runs output-writing stages one after another on any given slot (every pair of
/// them must be ordered by `after`), so the handler holds the output exclusively. Its own state
/// is its own: one handler per worker, built on the worker's thread by the stage's factory.
pub trait Handler<I, O>: Send {
    /// Handles sequence `sequence`. `end_of_batch` is true for the last event of the batch the
    /// consumer took from its barrier: the moment to flush anything held across the batch, since
    /// the stage's cursor moves right after this returns.
    fn on_event(
        &mut self,
        input: &I,
        output: &mut O,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault>;

    /// Called once on the worker's thread after it has processed everything it will, when the
    /// pipeline shuts down.
    fn on_shutdown(&mut self) {}
}

/// A stage that reads only the event's input: it may run beside any other stage on the same slot
/// (the journal beside authorize), since nothing writes the input once it is published.
pub trait InputHandler<I>: Send {
    /// Handles sequence `sequence`; `end_of_batch` as for [`Handler::on_event`].
    fn on_event(&mut self, input: &I, sequence: u64, end_of_batch: bool) -> Result<(), StageFault>;

    /// As [`Handler::on_shutdown`].
    fn on_shutdown(&mut self) {}
}

/// An [`InputHandler`] used where a [`Handler`] is expected: in a fused chain, which runs every
/// stage on one thread and so has no concurrency to keep apart.
pub struct ReadsInput<H>(pub H);

impl<I, O, H: InputHandler<I>> Handler<I, O> for ReadsInput<H> {
    #[inline(always)]
    fn on_event(
        &mut self,
        input: &I,
        _output: &mut O,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.0.on_event(input, sequence, end_of_batch)
    }

    fn on_shutdown(&mut self) {
        self.0.on_shutdown();
    }
}

impl<I, O> Handler<I, O> for Box<dyn Handler<I, O>> {
    #[inline(always)]
    fn on_event(
        &mut self,
        input: &I,
        output: &mut O,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        (**self).on_event(input, output, sequence, end_of_batch)
    }

    fn on_shutdown(&mut self) {
        (**self).on_shutdown();
    }
}

/// A tuple of handlers is one handler that runs them in order on each event: how a fused chain
/// is written without dynamic dispatch, `Fused::new((parse, check, post))`.
macro_rules! tuple_handler {
    ($($name:ident $index:tt),+) => {
        impl<I, O, $($name: Handler<I, O>),+> Handler<I, O> for ($($name,)+) {
            #[inline(always)]
            fn on_event(
                &mut self,
                input: &I,
                output: &mut O,
                sequence: u64,
                end_of_batch: bool,
            ) -> Result<(), StageFault> {
                $(self.$index.on_event(input, output, sequence, end_of_batch)?;)+
                Ok(())
            }

            fn on_shutdown(&mut self) {
                $(self.$index.on_shutdown();)+
            }
        }
    };
}

tuple_handler!(A 0, B 1);
tuple_handler!(A 0, B 1, C 2);
tuple_handler!(A 0, B 1, C 2, D 3);
tuple_handler!(A 0, B 1, C 2, D 3, E 4);
tuple_handler!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::*;

    struct Add(u64);

    impl Handler<u64, u64> for Add {
        fn on_event(
            &mut self,
            input: &u64,
            output: &mut u64,
            _: u64,
            _: bool,
        ) -> Result<(), StageFault> {
            *output += input * self.0;
            Ok(())
        }
    }

    struct Refuse;

    impl InputHandler<u64> for Refuse {
        fn on_event(&mut self, input: &u64, _: u64, _: bool) -> Result<(), StageFault> {
            if *input == 0 {
                Err(StageFault::new("zero"))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn tuple_runs_handlers_in_order_and_stops_at_the_first_fault() {
        let mut chain = (Add(1), Add(10), ReadsInput(Refuse), Add(100));
        let mut output = 0;
        chain.on_event(&2, &mut output, 0, true).unwrap();
        assert_eq!(output, 2 + 20 + 200);
        let mut output = 0;
        let fault = chain.on_event(&0, &mut output, 1, true).unwrap_err();
        assert_eq!(fault.reason(), "zero");
    }
}
