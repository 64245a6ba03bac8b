//! [`Egress`]: the last step. Answers institutions, forwards held payments to their banks, and
//! counts every outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clearway_core::event::{
    Account, Decline, Event, Outcome, ParticipantId, Results, TxnId, DECLINE_COUNT,
};
use clearway_core::pipeline::{Handler, StageFault};
use clearway_core::stage::Expiry;

use clearway_core::wire::Answer;

use super::ack_log::AckLog;
use super::clock::RunClock;
use super::report::{Reports, ThreadReport};
use crate::interval::{IntervalRecorder, Outcomes};

/// A payment the ledger holds, on its way to the bank simulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// The payment.
    pub txn_id: TxnId,
    /// Its bank.
    pub bank: ParticipantId,
    /// Its amount.
    pub amount_fen: u64,
    /// The account at the bank, which a node's FORWARD frame carries.
    pub account: Account,
    /// The institution's send time, which the bank's reply echoes.
    pub sent_ns: u64,
}

/// Every outcome egress saw, counted.
#[derive(Clone, Debug)]
pub struct EgressReport {
    /// Payments answered `Approved`.
    pub approved: u64,
    /// Payments answered `Declined` (by their bank).
    pub declined: u64,
    /// Payments refused by the switch, any reason (`Exists` included).
    pub rejected: u64,
    /// Payments whose bank did not answer in time.
    pub expired: u64,
    /// Refused payments by reason, indexed by [`Decline::index`].
    pub rejects_by_reason: [u64; DECLINE_COUNT],
    /// Payments answered with their original's outcome (`Exists`).
    pub exists: u64,
    /// Payments submitted before a restart whose holds expired in this run: answered, but not
    /// among this run's submissions, so counted apart.
    pub carried_over_expired: u64,
    /// Payments refused with no reason, or answered with an outcome a payment cannot have: a
    /// bug if ever above zero.
    pub unexplained: u64,
    /// Payments forwarded to a bank.
    pub forwarded: u64,
    /// Bank replies that came after their payment expired.
    pub late_replies: u64,
    /// Bank replies the switch refused.
    pub replies_rejected: u64,
    /// Cutovers: clearing batches closed.
    pub batches_closed: u64,
    /// Control events applied.
    pub control_applied: u64,
    /// Operator events refused.
    pub control_rejected: u64,
}

impl Default for EgressReport {
    fn default() -> Self {
        EgressReport {
            approved: 0,
            declined: 0,
            rejected: 0,
            expired: 0,
            rejects_by_reason: [0; DECLINE_COUNT],
            exists: 0,
            carried_over_expired: 0,
            unexplained: 0,
            forwarded: 0,
            late_replies: 0,
            replies_rejected: 0,
            batches_closed: 0,
            control_applied: 0,
            control_rejected: 0,
        }
    }
}

impl EgressReport {
    /// Payments answered, whatever the answer.
    pub fn answered(&self) -> u64 {
        self.approved + self.declined + self.rejected + self.expired
    }
}

/// The egress step. Its queues are allocated at start and sized so that it never waits on them:
/// the bank queue holds at most one entry per ledger hold, the expiry queue at most one per hold
/// plus one per ring slot (see `run::queues`).
pub struct Egress {
    clock: RunClock,
    to_banks: rtrb::Producer<Forwarded>,
    expiries: rtrb::Consumer<Expiry>,
    /// Send times of the payments answered in this batch, recorded at its end.
    answered_sent_ns: Vec<u64>,
    report: EgressReport,
    /// Payments answered so far, published at the end of each batch for the producer's drain.
    answered: Arc<AtomicU64>,
    reports: Reports,
    /// Where each answer is logged once given, when the run keeps an ack log.
    ack_log: Option<AckLog>,
    /// Transaction ids whose sequence part is below this were sent before a restart.
    carried_below: u128,
    /// In a node: where answers go, to be written to the institutions' connections.
    door: Option<Door>,
    /// End to end, from the institution's intended send time to its answer, second by second;
    /// none in a node, where the load generator measures it.
    recorder: Option<IntervalRecorder>,
    /// Where the counts by outcome are published at the end of each batch, for gates judged
    /// while the run goes.
    outcomes: Option<Arc<Outcomes>>,
}

/// A node's egress output: every answer, as the ANSWER frame's fields, for the I/O thread that
/// writes it to the connection the payment came in on, and the bell that wakes that thread.
pub struct Door {
    /// Answers, in the order given. Sized by the node so that it cannot fill: at most one answer
    /// per payment in flight, and the I/O thread admits no more than that.
    pub answers: rtrb::Producer<Answer>,
    /// Rung at the end of a batch that gave answers or forwards.
    pub bell: Arc<crate::serve::DoorBell>,
    /// Whether this batch has given anything since the bell last rang.
    rung: bool,
}

impl Door {
    /// Answers into `answers`, waking the I/O thread with `bell`.
    pub fn new(answers: rtrb::Producer<Answer>, bell: Arc<crate::serve::DoorBell>) -> Door {
        Door {
            answers,
            bell,
            rung: true,
        }
    }
}

impl Egress {
    /// Egress forwarding into `to_banks` and reading the ledger's expiries from `expiries`.
    pub fn new(
        clock: RunClock,
        to_banks: rtrb::Producer<Forwarded>,
        expiries: rtrb::Consumer<Expiry>,
        batch_size_max: usize,
        answered: Arc<AtomicU64>,
        reports: Reports,
    ) -> Egress {
        Egress {
            clock,
            to_banks,
            expiries,
            answered_sent_ns: Vec::with_capacity(batch_size_max.max(1)),
            report: EgressReport::default(),
            answered,
            reports,
            ack_log: None,
            carried_below: 0,
            door: None,
            recorder: None,
            outcomes: None,
        }
    }

    /// Records end-to-end latency into `recorder` and publishes the counts by outcome to
    /// `outcomes`.
    pub fn with_timing(mut self, recorder: IntervalRecorder, outcomes: Arc<Outcomes>) -> Egress {
        self.recorder = Some(recorder);
        self.outcomes = Some(outcomes);
        self
    }

    /// Counts expiries of payments whose id sequence is below `offset` (sent by an earlier start
    /// of a durable run) apart from this run's.
    pub fn carried_below(mut self, offset: u128) -> Egress {
        self.carried_below = offset;
        self
    }

    /// Sends every answer through `door` to a node's connections instead of timing it: the
    /// institution's send time is on its own clock, so the load generator measures end to end.
    pub fn with_door(mut self, door: Door) -> Egress {
        self.door = Some(door);
        self
    }

    /// Logs every answer to `ack_log` as well.
    pub fn with_ack_log(mut self, ack_log: AckLog) -> Egress {
        self.ack_log = Some(ack_log);
        self
    }

    #[inline]
    fn answer(
        &mut self,
        sent_ns: u64,
        txn_id: TxnId,
        outcome: Outcome,
        decline: Option<Decline>,
        original: Outcome,
    ) -> Result<(), StageFault> {
        if let Some(door) = &mut self.door {
            door.give(Answer {
                txn_id,
                outcome,
                decline,
                original,
                sent_ns,
            })?;
        } else {
            if self.answered_sent_ns.len() == self.answered_sent_ns.capacity() {
                self.flush()?;
            }
            self.answered_sent_ns.push(sent_ns);
        }
        if let Some(ack_log) = &mut self.ack_log {
            let name = decline.map_or(outcome.name(), Decline::name);
            ack_log.record(txn_id, name).map_err(StageFault::new)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StageFault> {
        while let Ok(expiry) = self.expiries.pop() {
            if let Some(door) = &mut self.door {
                self.report.expired += 1;
                door.give(Answer {
                    txn_id: expiry.txn_id,
                    outcome: Outcome::Expired,
                    decline: None,
                    original: Outcome::Pending,
                    sent_ns: expiry.sent_ns,
                })?;
            } else if expiry.txn_id.sender_sequence() < self.carried_below {
                // Its send time is on an earlier start's clock: no latency to record.
                self.report.carried_over_expired += 1;
            } else {
                self.report.expired += 1;
                if self.answered_sent_ns.len() == self.answered_sent_ns.capacity() {
                    self.record_answers();
                }
                self.answered_sent_ns.push(expiry.sent_ns);
            }
            if let Some(ack_log) = &mut self.ack_log {
                ack_log
                    .record(expiry.txn_id, Outcome::Expired.name())
                    .map_err(StageFault::new)?;
            }
        }
        self.record_answers();
        if let Some(ack_log) = &mut self.ack_log {
            ack_log.flush().map_err(StageFault::new)?;
        }
        if let Some(door) = &mut self.door {
            door.ring();
        }
        self.answered
            .store(self.report.answered(), Ordering::Release);
        if let Some(outcomes) = &self.outcomes {
            let report = &self.report;
            outcomes.publish([
                report.approved,
                report.declined,
                report.rejected,
                report.expired,
                0,
            ]);
        }
        Ok(())
    }

    fn record_answers(&mut self) {
        if self.answered_sent_ns.is_empty() {
            return;
        }
        let now_ns = self.clock.now_ns();
        if let Some(recorder) = &mut self.recorder {
            let latencies = recorder.at(now_ns);
            for &sent_ns in &self.answered_sent_ns {
                latencies.record(now_ns.saturating_sub(sent_ns));
            }
        }
        self.answered_sent_ns.clear();
    }

    /// A payment the switch refused. The ledger answers a payment `Forwarded`, `Exists` or
    /// `Rejected` with a reason; anything else is counted as refused (so the answers still add
    /// up) and as unexplained, which fails the run's checks.
    fn reject(&mut self, outcome: Outcome, decline: Option<Decline>) {
        self.report.rejected += 1;
        match (outcome, decline) {
            (Outcome::Rejected, Some(decline)) => {
                self.report.rejects_by_reason[decline.index()] += 1
            }
            _ => self.report.unexplained += 1,
        }
    }
}

impl Door {
    /// Queues one answer for the I/O thread.
    #[inline]
    fn give(&mut self, answer: Answer) -> Result<(), StageFault> {
        self.rung = false;
        self.answers.push(answer).map_err(|_| {
            StageFault::new(
                "the node's answer queue is full: it holds one answer per payment the door \
                 admits, so the door admitted more than it counts",
            )
        })
    }

    /// Wakes the I/O thread if this batch gave it anything and it is asleep.
    #[inline]
    fn ring(&mut self) {
        if !self.rung {
            self.rung = true;
            self.bell.ring();
        }
    }
}

impl Handler<Event, Results> for Egress {
    #[inline]
    fn on_event(
        &mut self,
        input: &Event,
        output: &mut Results,
        _sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        if input.kind.is_payment() {
            match output.outcome {
                Outcome::Forwarded => {
                    self.report.forwarded += 1;
                    if let Some(door) = &mut self.door {
                        door.rung = false;
                    }
                    let forwarded = Forwarded {
                        txn_id: input.txn_id,
                        bank: output.bank,
                        amount_fen: input.amount_fen,
                        account: input.account,
                        sent_ns: input.sent_ns,
                    };
                    if self.to_banks.push(forwarded).is_err() {
                        return Err(StageFault::new(
                            "the bank queue is full: it is sized to the ledger's hold capacity, \
                             so the ledger is holding more payments than it was started with",
                        ));
                    }
                }
                Outcome::Exists => {
                    self.report.exists += 1;
                    self.report.rejected += 1;
                    self.answer(
                        input.sent_ns,
                        input.txn_id,
                        Outcome::Exists,
                        None,
                        output.original,
                    )?;
                }
                _ => {
                    self.reject(output.outcome, output.decline);
                    self.answer(
                        input.sent_ns,
                        input.txn_id,
                        output.outcome,
                        output.decline,
                        Outcome::Pending,
                    )?;
                }
            }
        } else if input.kind == clearway_core::event::Kind::BankReply {
            match output.outcome {
                Outcome::Approved => {
                    self.report.approved += 1;
                    self.answer(
                        output.sent_ns,
                        input.txn_id,
                        Outcome::Approved,
                        None,
                        Outcome::Pending,
                    )?;
                }
                Outcome::Declined => {
                    self.report.declined += 1;
                    self.answer(
                        output.sent_ns,
                        input.txn_id,
                        Outcome::Declined,
                        None,
                        Outcome::Pending,
                    )?;
                }
                Outcome::LateReply => self.report.late_replies += 1,
                _ => self.report.replies_rejected += 1,
            }
        } else {
            match output.outcome {
                Outcome::BatchClosed => self.report.batches_closed += 1,
                Outcome::Applied => self.report.control_applied += 1,
                _ => self.report.control_rejected += 1,
            }
        }
        if end_of_batch {
            self.flush()?;
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        if let Err(fault) = self.flush() {
            eprintln!("clearway: egress at shutdown: {}", fault.reason());
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.finish();
        }
        let report = std::mem::take(&mut self.report);
        let _ = self.reports.send(ThreadReport::Egress(Box::new(report)));
    }
}
