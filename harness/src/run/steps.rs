//! [`StepChain`]: the handler a stage's thread runs, its steps in order; and the ledger's sink.

use clearway_core::event::{Event, Results};
use clearway_core::pipeline::{Handler, StageFault};
use clearway_core::stage::{
    Authorize, BatchReport, Expiry, LedgerSink, LedgerStage, LedgerSummary, Prefetch, Route,
    StoreWriter,
};
use clearway_core::store::StoredPayment;
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
    /// The prefetch: loads from the store what the ledger's window does not hold.
    Prefetch(Box<Prefetch>),
    /// The ledger, timed, saving its state at due cutovers.
    Ledger(Box<Timed<Snapshotting<LedgerStage<RunSink>>>>),
    /// The store writer.
    Store(Box<StoreWriter>),
    /// Egress.
    Egress(Box<Egress>),
}

/// The steps one stage runs, in order, on each event: one step for a pipelined stage, all six
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
                StepHandler::Prefetch(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
                StepHandler::Ledger(handler) => {
                    handler.on_event(input, output, sequence, end_of_batch)?
                }
                StepHandler::Store(handler) => {
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
                StepHandler::Prefetch(handler) => handler.on_shutdown(),
                StepHandler::Ledger(handler) => handler.on_shutdown(),
                StepHandler::Store(handler) => handler.on_shutdown(),
                StepHandler::Egress(handler) => handler.on_shutdown(),
            }
        }
    }
}

/// Where the ledger's side effects go in a run: expiries to egress through a queue sized so it
/// never fills, finished payments to the store writer likewise, settlement reports to the
/// writer thread, and the final summary to the run.
pub struct RunSink {
    /// To egress.
    pub expiries: rtrb::Producer<Expiry>,
    /// To the store writer.
    pub finished: rtrb::Producer<StoredPayment>,
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

    fn payment_finished(&mut self, payment: &StoredPayment) {
        // The queue holds one entry per hold plus two per ring slot: no more payments can have
        // finished and not yet been taken by the store writer (see `queues_for`).
        self.finished
            .push(*payment)
            .expect("the finished-payment queue is sized to the ledger's holds plus two rings");
    }

    fn batch_closed(&mut self, report: BatchReport) {
        // The writer outlives the pipeline; if it has stopped, the run is already failing.
        let _ = self.batches.send(report);
    }

    fn finished(&mut self, summary: LedgerSummary) {
        let _ = self.reports.send(ThreadReport::Ledger(summary));
    }
}
