//! [`StepChain`]: the handler a stage's thread runs, its steps in order; and the ledger's sink.

use clearway_core::event::{Event, Results};
use clearway_core::pipeline::{Handler, StageFault};
use clearway_core::stage::{
    Authorize, BatchReport, Expiry, LedgerSink, LedgerStage, LedgerSummary, Route,
};
use crossbeam::channel::Sender;

use super::egress::Egress;
use super::report::{Reports, ThreadReport};
use super::snapshots::Snapshotting;
use super::timed::Timed;

/// One step's handler.
pub enum StepHandler {
    /// Authorize, timed.
    Authorize(Timed<Authorize>),
    /// Route, timed, saving its state at due cutovers.
    Route(Timed<Snapshotting<Route>>),
    /// The ledger, timed, saving its state at due cutovers.
    Ledger(Box<Timed<Snapshotting<LedgerStage<RunSink>>>>),
    /// Egress.
    Egress(Box<Egress>),
}

/// The steps one stage runs, in order, on each event: one step for a pipelined stage, all four
/// on a 2-core machine's switch thread. A `match` per step, no dynamic dispatch.
pub struct StepChain(pub Vec<StepHandler>);

impl Handler<Event, Results> for StepChain {
    #[inline]
    fn on_event(
        &mut self,
        input: &Event,
        output: &mut Results,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        for step in &mut self.0 {
            match step {
                StepHandler::Authorize(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
                StepHandler::Route(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
                StepHandler::Ledger(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
                StepHandler::Egress(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
            }
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        for step in &mut self.0 {
            match step {
                StepHandler::Authorize(handler) => handler.on_shutdown(),
                StepHandler::Route(handler) => handler.on_shutdown(),
                StepHandler::Ledger(handler) => handler.on_shutdown(),
                StepHandler::Egress(handler) => handler.on_shutdown(),
            }
        }
    }
}

/// Where the ledger's side effects go in a run: expiries to egress through a queue sized so it
/// never fills, settlement reports to the writer thread, and the final summary to the run.
pub struct RunSink {
    /// To egress.
    pub expiries: rtrb::Producer<Expiry>,
    /// To the report writer.
    pub batches: Sender<BatchReport>,
    /// To the run.
    pub reports: Reports,
}

impl LedgerSink for RunSink {
    fn expired(&mut self, expiry: &Expiry) {
        // The queue holds one entry per hold plus one per ring slot: more expiries than that
        // cannot be outstanding (see `run::queues`), so a full queue is a bug, not a load.
        self.expiries
            .push(*expiry)
            .expect("the expiry queue is sized to the ledger's holds plus the ring's slots");
    }

    fn batch_closed(&mut self, report: BatchReport) {
        // The writer outlives the pipeline; if it has stopped, the run is already failing.
        let _ = self.batches.send(report);
    }

    fn finished(&mut self, summary: LedgerSummary) {
        let _ = self.reports.send(ThreadReport::Ledger(summary));
    }
}
