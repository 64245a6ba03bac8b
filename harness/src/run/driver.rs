//! The producer side of a run: the simulated institutions (open-loop arrivals), banks (replies
//! to what egress forwarded) and operator (cutovers), publishing into the switch through an
//! [`Ingress`].
//!
//! With one producer thread, one [`Driver`] plays all three. With more, each institution thread
//! runs a driver with only the institutions (a partition of them: its own seed and transaction
//! ids, its share of the rate; independent Poisson streams add up to one of the whole rate), and
//! one more runs the banks and the operator, and the drain at the end.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clearway_core::event::{Event, Kind, MacKey, ParticipantId};
use clearway_loadgen::{Arrivals, Banks, Institutions, ReplySchedule};

use super::args::Rate;
use super::clock::RunClock;
use super::egress::Forwarded;
use super::recording::Recording;
use crate::constants::{
    ARRIVALS_PER_TURN_MAX, DRIVER_SLEEP_GAP_MIN_NS, DRIVER_SLEEP_OVERSHOOT_NS, GENERATOR_LATE_NS,
};
use crate::interval::{Timeline, Window};

/// Where a driver publishes: the ring's producer, or the channel transport's first channels.
pub trait Ingress {
    /// Publishes `events` in order, stamping each one's `sequence` (the next ones free) and
    /// `event_ns` (`event_ns`, the moment ingress took them) into the slice as it goes.
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String>;

    /// Times a publish found the switch's in-flight room (the ring, a connection's window) full
    /// and had to wait or hold payments back.
    fn caps_hit(&self) -> u64 {
        0
    }
}

/// What every driver of a run shares: the window, and the counts the drain waits on.
pub struct Load {
    /// The run's clock.
    pub clock: RunClock,
    /// When load started, on the clock.
    pub start_ns: u64,
    /// Nanoseconds of load, the warm-up included.
    pub duration_ns: u64,
    /// The load's intervals: started by the load, read by the recorders.
    pub window: Arc<Window>,
    /// Payments offered per second, counted as they are published.
    pub timeline: Arc<Timeline>,
    /// Set (by a failed gate) to end the load now; the drain follows as usual.
    pub stop: Arc<AtomicBool>,
    /// Offered rate, all institution drivers together.
    pub rate: Rate,
    /// Event time between cutovers.
    pub cutover_interval_ns: u64,
    /// The ledger's bank timeout: the longest the drain waits for replies.
    pub bank_timeout_ns: u64,
    /// Whether drivers record what they publish.
    pub record: bool,
    /// Payments egress has answered.
    pub answered: Arc<AtomicU64>,
    /// Payments submitted by institution drivers that have finished.
    pub submitted: AtomicU64,
    /// Institution drivers still offering load.
    pub institutions_running: AtomicUsize,
    /// Whether a driver that plays the banks may sleep between arrivals. Embedded, egress's
    /// forwards wait in memory for the driver, which therefore only yields; `clearway load`'s
    /// reader thread queues the node's FORWARDs while the driver sleeps, and a yielding driver
    /// would take a core from the node it measures.
    pub banks_may_wait: bool,
}

/// The banks and the operator, played by one driver.
pub struct BankSide {
    /// The banks.
    pub banks: Banks,
    /// Bank replies waiting for their time.
    pub schedule: ReplySchedule,
    /// Payments egress forwarded.
    pub from_egress: rtrb::Consumer<Forwarded>,
    /// Signs cutovers.
    pub operator_key: MacKey,
    /// Link status events the operator reports during the load: (ns from the start of load,
    /// bank, code), in time order.
    pub incidents: Vec<(u64, ParticipantId, u8)>,
}

/// The institutions, or a partition of them, played by one driver.
pub struct InstitutionSide {
    /// The simulated institutions.
    pub institutions: Institutions,
    /// Their arrival schedule (unused at `--rate max`).
    pub arrivals: Arrivals,
}

/// What one driver did.
#[derive(Default)]
pub struct DriverOutcome {
    /// Payments its institutions submitted.
    pub submitted: u64,
    /// Payments answered by the end of the load window (the bank driver measures it).
    pub answered_in_window: u64,
    /// Payments answered by the end of the warm-up (the bank driver measures it).
    pub answered_at_warmup: u64,
    /// Payments its institutions submitted that were intended after the warm-up: those the
    /// generator's self-check judges.
    pub submitted_measured: u64,
    /// Of those, payments sent more than the generator's lateness bound after their intended
    /// time.
    pub late: u64,
    /// The latest a payment was sent after its intended time, ns.
    pub late_max_ns: u64,
    /// Payments the schedule intended after the warm-up and before the window closed that were
    /// never sent.
    pub unsent: u64,
    /// Link status events published for the scenario's incidents.
    pub incidents: u64,
    /// Times its ingress found the in-flight room full.
    pub caps_hit: u64,
    /// The load window, as measured (the bank driver's).
    pub window_ns: u64,
    /// Events it published.
    pub published: u64,
    /// Bank replies it published.
    pub replies: u64,
    /// Forwarded payments whose bank never answers.
    pub silent: u64,
    /// Cutovers it published.
    pub cutovers: u64,
    /// Replies dropped because the reply schedule was full (the payment then expires).
    pub schedule_full: u64,
    /// Time the drain took after the window.
    pub drain_ns: u64,
    /// What it published, when recording.
    pub recording: Option<Recording>,
}

impl DriverOutcome {
    /// Adds another driver's counts; takes the window figures from whichever measured them.
    pub fn absorb(&mut self, other: DriverOutcome) {
        self.submitted += other.submitted;
        self.answered_in_window = self.answered_in_window.max(other.answered_in_window);
        self.answered_at_warmup = self.answered_at_warmup.max(other.answered_at_warmup);
        self.submitted_measured += other.submitted_measured;
        self.late += other.late;
        self.late_max_ns = self.late_max_ns.max(other.late_max_ns);
        self.unsent += other.unsent;
        self.incidents += other.incidents;
        self.caps_hit += other.caps_hit;
        self.window_ns = self.window_ns.max(other.window_ns);
        self.published += other.published;
        self.replies += other.replies;
        self.silent += other.silent;
        self.cutovers += other.cutovers;
        self.schedule_full += other.schedule_full;
        self.drain_ns = self.drain_ns.max(other.drain_ns);
    }
}

/// One producer thread's part of the load.
pub struct Driver<'a> {
    /// The shared window and counts.
    pub load: &'a Load,
    /// The institutions it offers, if any.
    pub institutions: Option<&'a mut InstitutionSide>,
    /// The banks and the operator, if this driver plays them.
    pub banks: Option<&'a mut BankSide>,
}

impl Driver<'_> {
    /// Runs this driver's part: arrivals until the window closes; with the banks, replies and
    /// cutovers, then the drain (replies until every payment is answered or one bank timeout has
    /// passed) and one last cutover, whose event time expires whatever is still held and closes
    /// the last batch.
    pub fn run(&mut self, ingress: &mut impl Ingress) -> Result<DriverOutcome, String> {
        let load = self.load;
        let clock = load.clock;
        let end_ns = load.start_ns + load.duration_ns;
        let mut outcome = DriverOutcome {
            recording: load.record.then(Recording::new),
            ..DriverOutcome::default()
        };
        let mut batch: Vec<Event> = Vec::with_capacity(ARRIVALS_PER_TURN_MAX * 2 + 1);
        let mut next_arrival_ns = match (&mut self.institutions, load.rate) {
            (Some(side), Rate::PerSecond(_)) => {
                load.start_ns.saturating_add(side.arrivals.next_ns())
            }
            _ => 0,
        };
        let mut next_cutover_ns = load.start_ns + load.cutover_interval_ns;
        let warmup_end_ns = load.start_ns + load.window.warmup_ns();
        let mut warmed_up = load.window.warmup_ns() == 0;
        let mut next_incident = 0;
        let mut window_closed = false;
        let mut drain_deadline_ns = u64::MAX;
        // Payments in `batch` and how many of them are late, for the timeline.
        let mut batch_payments = 0;
        let mut batch_late = 0;
        loop {
            let now_ns = clock.now_ns();
            if !warmed_up && now_ns >= warmup_end_ns {
                warmed_up = true;
                outcome.answered_at_warmup = load.answered.load(Ordering::Acquire);
            }
            if !window_closed && (now_ns >= end_ns || load.stop.load(Ordering::Relaxed)) {
                window_closed = true;
                outcome.window_ns = now_ns - load.start_ns;
                if let Some(institutions) = &mut self.institutions {
                    let sent = institutions.institutions.sent();
                    debug_assert_eq!(sent, outcome.submitted);
                    if let Rate::PerSecond(_) = load.rate {
                        // What the schedule meant to send before the window's end and never
                        // did: the driver was that far behind when the window closed.
                        while next_arrival_ns < now_ns.min(end_ns) {
                            if next_arrival_ns >= warmup_end_ns {
                                outcome.unsent += 1;
                            }
                            next_arrival_ns = load
                                .start_ns
                                .saturating_add(institutions.arrivals.next_ns());
                        }
                    }
                    load.submitted
                        .fetch_add(outcome.submitted, Ordering::AcqRel);
                    load.institutions_running.fetch_sub(1, Ordering::AcqRel);
                }
                if self.banks.is_none() {
                    break;
                }
                outcome.answered_in_window = load.answered.load(Ordering::Acquire);
                if !warmed_up {
                    warmed_up = true;
                    outcome.answered_at_warmup = outcome.answered_in_window;
                }
                // Every hold still pending was placed before now, so its deadline is within one
                // bank timeout of now; past that, the last cutover expires whatever is left.
                drain_deadline_ns = now_ns + load.bank_timeout_ns + load.bank_timeout_ns / 10;
            }
            if let Some(banks) = &mut self.banks {
                bank_turn(banks, now_ns, &mut batch, &mut outcome);
            }
            if let (Some(side), false) = (&mut self.institutions, window_closed) {
                let arrivals_end = batch.len() + ARRIVALS_PER_TURN_MAX;
                while batch.len() < arrivals_end {
                    let intended_ns = match load.rate {
                        Rate::Max => now_ns,
                        Rate::PerSecond(_) if next_arrival_ns <= now_ns => next_arrival_ns,
                        Rate::PerSecond(_) => break,
                    };
                    batch.push(side.institutions.next_payment(intended_ns));
                    outcome.submitted += 1;
                    batch_payments += 1;
                    let late_ns = now_ns - intended_ns;
                    let late = late_ns > GENERATOR_LATE_NS;
                    batch_late += u64::from(late);
                    // The self-check judges the measured window: the warm-up is there to absorb
                    // the start (first touches of every table and queue), the generator's too.
                    if intended_ns >= warmup_end_ns {
                        outcome.submitted_measured += 1;
                        outcome.late += u64::from(late);
                        outcome.late_max_ns = outcome.late_max_ns.max(late_ns);
                    }
                    if let Rate::PerSecond(_) = load.rate {
                        next_arrival_ns = load.start_ns.saturating_add(side.arrivals.next_ns());
                    }
                }
            }
            if let (Some(banks), false) = (&self.banks, window_closed) {
                if now_ns >= next_cutover_ns {
                    batch.push(cutover(&banks.operator_key, now_ns));
                    outcome.cutovers += 1;
                    next_cutover_ns += load.cutover_interval_ns;
                }
                while let Some(&(at_ns, bank, code)) = banks.incidents.get(next_incident) {
                    if load.start_ns + at_ns > now_ns {
                        break;
                    }
                    batch.push(operator_event(
                        &banks.operator_key,
                        Kind::LinkStatus,
                        bank,
                        code,
                        now_ns,
                    ));
                    outcome.incidents += 1;
                    next_incident += 1;
                }
            }
            if !batch.is_empty() {
                if batch_payments > 0 {
                    load.timeline.offered(now_ns, batch_payments, batch_late);
                    batch_payments = 0;
                    batch_late = 0;
                }
                publish(ingress, &mut batch, now_ns, &mut outcome)?;
                continue;
            }
            if let (Some(banks), true) = (&self.banks, window_closed) {
                let running = load.institutions_running.load(Ordering::Acquire);
                let submitted = load.submitted.load(Ordering::Acquire);
                let answered = load.answered.load(Ordering::Acquire);
                let all_answered =
                    running == 0 && answered >= submitted && banks.schedule.is_empty();
                if all_answered || (running == 0 && now_ns >= drain_deadline_ns) {
                    break;
                }
            }
            idle(
                &clock,
                [
                    (!window_closed && load.rate != Rate::Max && self.institutions.is_some())
                        .then_some(next_arrival_ns),
                    self.banks
                        .as_ref()
                        .and_then(|banks| banks.schedule.next_due_ns()),
                    (!window_closed && self.banks.is_some()).then_some(next_cutover_ns),
                ],
                self.banks.is_some(),
                load.banks_may_wait,
            );
        }
        if let Some(banks) = &mut self.banks {
            // Late replies still waiting go out now, then the last cutover: its event time is
            // past every remaining hold's deadline, so those holds expire before the batch closes.
            let now_ns = clock.now_ns();
            while let Some(reply) = banks.schedule.pop_due(u64::MAX) {
                batch.push(reply);
                outcome.replies += 1;
                if batch.len() == ARRIVALS_PER_TURN_MAX {
                    publish(ingress, &mut batch, now_ns, &mut outcome)?;
                }
            }
            batch.push(cutover(&banks.operator_key, now_ns));
            outcome.cutovers += 1;
            publish(ingress, &mut batch, now_ns, &mut outcome)?;
            outcome.drain_ns = now_ns.saturating_sub(load.start_ns + outcome.window_ns);
        }
        outcome.caps_hit = ingress.caps_hit();
        Ok(outcome)
    }
}

/// The banks decide on what egress forwarded; replies whose time has come join the batch.
fn bank_turn(
    banks: &mut BankSide,
    now_ns: u64,
    batch: &mut Vec<Event>,
    outcome: &mut DriverOutcome,
) {
    while let Ok(forwarded) = banks.from_egress.pop() {
        match banks.banks.on_forwarded(
            forwarded.txn_id,
            forwarded.bank,
            forwarded.amount_fen,
            forwarded.sent_ns,
            now_ns,
        ) {
            Some((due_ns, reply)) => {
                if banks.schedule.push(due_ns, reply).is_err() {
                    // Sized for every hold twice over; a bank that cannot keep up drops the
                    // request, and the payment expires like one sent to a silent bank.
                    outcome.schedule_full += 1;
                }
            }
            None => outcome.silent += 1,
        }
    }
    while batch.len() < ARRIVALS_PER_TURN_MAX {
        match banks.schedule.pop_due(now_ns) {
            Some(reply) => {
                batch.push(reply);
                outcome.replies += 1;
            }
            None => break,
        }
    }
}

fn publish(
    ingress: &mut impl Ingress,
    batch: &mut Vec<Event>,
    now_ns: u64,
    outcome: &mut DriverOutcome,
) -> Result<(), String> {
    ingress.publish(batch, now_ns)?;
    outcome.published += batch.len() as u64;
    if let Some(recording) = &mut outcome.recording {
        for event in batch.iter() {
            recording.push(event);
        }
    }
    batch.clear();
    Ok(())
}

fn cutover(operator_key: &MacKey, now_ns: u64) -> Event {
    operator_event(
        operator_key,
        Kind::Cutover,
        ParticipantId::OPERATOR,
        0,
        now_ns,
    )
}

/// An operator event, signed: the drivers' cutovers and incidents, the node's cutovers and link
/// events.
pub(crate) fn operator_event(
    operator_key: &MacKey,
    kind: Kind,
    counterparty: ParticipantId,
    code: u8,
    now_ns: u64,
) -> Event {
    let mut event = Event::operator(kind, counterparty, code, now_ns);
    event.mac = operator_key.sign(&event);
    event
}

/// Nothing due: wait for the earliest of `due` without burning a core another thread needs. A
/// driver playing the banks never sleeps, since egress may forward a payment at any moment,
/// unless `banks_may_wait`: then it sleeps through any gap above [`DRIVER_SLEEP_GAP_MIN_NS`].
fn idle(clock: &RunClock, due: [Option<u64>; 3], plays_banks: bool, banks_may_wait: bool) {
    let now_ns = clock.now_ns();
    let next_ns = due.into_iter().flatten().min().unwrap_or(now_ns + 50_000);
    let gap_ns = next_ns.saturating_sub(now_ns);
    if banks_may_wait && gap_ns > DRIVER_SLEEP_GAP_MIN_NS {
        // Waking up to ~60 µs late costs far less than the 1 ms the generator check allows.
        std::thread::sleep(Duration::from_nanos(
            gap_ns.saturating_sub(DRIVER_SLEEP_OVERSHOOT_NS).max(10_000),
        ));
    } else if gap_ns > 200_000 && !plays_banks {
        // Sleeping overshoots by ~60 µs on Linux; wake early and yield the rest.
        std::thread::sleep(Duration::from_nanos(gap_ns - 100_000));
    } else {
        std::thread::yield_now();
    }
}
