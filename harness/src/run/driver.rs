//! [`Driver`]: the producer thread of a run. Plays the institutions (open-loop arrivals), the
//! banks (replies to what egress forwarded) and the operator (cutovers), and publishes it all
//! into the switch through an [`Ingress`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clearway_core::event::{Event, Kind, MacKey, ParticipantId};
use clearway_loadgen::{Arrivals, Banks, Institutions, ReplySchedule};

use super::args::Rate;
use super::clock::RunClock;
use super::egress::Forwarded;
use super::recording::Recording;
use crate::constants::ARRIVALS_PER_TURN_MAX;

/// Where the driver publishes: the ring's producer, or the channel transport's first channels.
pub trait Ingress {
    /// Publishes `events` in order, stamping each one's `sequence` (the next ones, from 0) and
    /// `event_ns` (`event_ns`, the moment ingress took them) into the slice as it goes.
    fn publish(&mut self, events: &mut [Event], event_ns: u64) -> Result<(), String>;
}

/// How long and how hard to drive.
#[derive(Clone, Copy, Debug)]
pub struct DriverConfig {
    /// Nanoseconds of load.
    pub duration_ns: u64,
    /// Offered rate.
    pub rate: Rate,
    /// Event time between cutovers.
    pub cutover_interval_ns: u64,
    /// The ledger's bank timeout: the longest the drain waits for replies.
    pub bank_timeout_ns: u64,
    /// Whether the driver records what it publishes (when no journal stage does).
    pub record: bool,
}

/// The simulated participants and the queues the driver reads.
pub struct DriverParts {
    /// The run's clock.
    pub clock: RunClock,
    /// The payment institutions.
    pub institutions: Institutions,
    /// Their arrival schedule (unused at `--rate max`).
    pub arrivals: Arrivals,
    /// The banks.
    pub banks: Banks,
    /// Bank replies waiting for their time.
    pub schedule: ReplySchedule,
    /// Payments egress forwarded.
    pub from_egress: rtrb::Consumer<Forwarded>,
    /// Signs cutovers.
    pub operator_key: MacKey,
    /// Payments egress has answered.
    pub answered: Arc<AtomicU64>,
}

/// What the driver did.
#[derive(Default)]
pub struct DriverOutcome {
    /// Payments the institutions submitted.
    pub submitted: u64,
    /// Payments answered by the end of the load window.
    pub answered_in_window: u64,
    /// The load window, as measured.
    pub window_ns: u64,
    /// Events published: payments, replies, cutovers.
    pub published: u64,
    /// Bank replies published.
    pub replies: u64,
    /// Forwarded payments whose bank never answers.
    pub silent: u64,
    /// Cutovers published.
    pub cutovers: u64,
    /// Replies dropped because the reply schedule was full (the payment then expires).
    pub schedule_full: u64,
    /// Time spent draining after the window.
    pub drain_ns: u64,
    /// The input, when the driver recorded it.
    pub recording: Option<Recording>,
}

/// Runs the load: arrivals until `duration_ns`, then the drain: replies until every payment is
/// answered or the bank timeout has passed, then one last cutover, which expires whatever is
/// still held and closes the last batch.
pub fn drive(
    ingress: &mut impl Ingress,
    parts: &mut DriverParts,
    config: DriverConfig,
) -> Result<DriverOutcome, String> {
    let mut outcome = DriverOutcome {
        recording: config.record.then(Recording::new),
        ..DriverOutcome::default()
    };
    let mut batch: Vec<Event> = Vec::with_capacity(ARRIVALS_PER_TURN_MAX * 2 + 1);
    let clock = parts.clock;
    // Everything is timed from the moment load starts, not from when the clock was made: the
    // pipeline's start-up (the ledger allocating its tables) must not count as a stall.
    let start_ns = clock.now_ns();
    let end_ns = start_ns + config.duration_ns;
    let mut next_arrival_ns = match config.rate {
        Rate::Max => 0,
        Rate::PerSecond(_) => start_ns + parts.arrivals.next_ns(),
    };
    let mut next_cutover_ns = start_ns + config.cutover_interval_ns;
    let mut window_closed = false;
    let mut drain_deadline_ns = u64::MAX;
    loop {
        let now_ns = clock.now_ns();
        if !window_closed && now_ns >= end_ns {
            window_closed = true;
            outcome.window_ns = now_ns - start_ns;
            outcome.answered_in_window = parts.answered.load(Ordering::Acquire);
            // Every hold still pending was placed before now, so its deadline is within one bank
            // timeout of now; past that, the last cutover expires whatever is left.
            drain_deadline_ns = now_ns + config.bank_timeout_ns + config.bank_timeout_ns / 10;
        }
        // The banks decide on what egress forwarded.
        while let Ok(forwarded) = parts.from_egress.pop() {
            match parts.banks.on_forwarded(
                forwarded.txn_id,
                forwarded.bank,
                forwarded.amount_fen,
                forwarded.sent_ns,
                now_ns,
            ) {
                Some((due_ns, reply)) => {
                    if parts.schedule.push(due_ns, reply).is_err() {
                        // Sized for every hold twice over; a bank that cannot keep up drops the
                        // request, and the payment expires like one sent to a silent bank.
                        outcome.schedule_full += 1;
                    }
                }
                None => outcome.silent += 1,
            }
        }
        // Replies whose time has come.
        while batch.len() < ARRIVALS_PER_TURN_MAX {
            match parts.schedule.pop_due(now_ns) {
                Some(reply) => {
                    batch.push(reply);
                    outcome.replies += 1;
                }
                None => break,
            }
        }
        // Arrivals whose intended time has come: open loop, so a late producer catches up and
        // the latency it caused is counted from the intended time.
        if !window_closed {
            let arrivals_end = batch.len() + ARRIVALS_PER_TURN_MAX;
            while batch.len() < arrivals_end {
                let intended_ns = match config.rate {
                    Rate::Max => now_ns,
                    Rate::PerSecond(_) if next_arrival_ns <= now_ns => next_arrival_ns,
                    Rate::PerSecond(_) => break,
                };
                batch.push(parts.institutions.next_payment(intended_ns));
                outcome.submitted += 1;
                if let Rate::PerSecond(_) = config.rate {
                    next_arrival_ns = start_ns + parts.arrivals.next_ns();
                }
            }
        }
        if now_ns >= next_cutover_ns && !window_closed {
            batch.push(cutover(&parts.operator_key, now_ns));
            outcome.cutovers += 1;
            next_cutover_ns += config.cutover_interval_ns;
        }
        if !batch.is_empty() {
            publish(ingress, &mut batch, now_ns, &mut outcome)?;
            continue;
        }
        if window_closed {
            let answered = parts.answered.load(Ordering::Acquire);
            let all_answered = answered >= outcome.submitted && parts.schedule.is_empty();
            if all_answered || now_ns >= drain_deadline_ns {
                break;
            }
        }
        idle(
            &clock,
            [
                (!window_closed && config.rate != Rate::Max).then_some(next_arrival_ns),
                parts.schedule.next_due_ns(),
                (!window_closed).then_some(next_cutover_ns),
            ],
        );
    }
    // Late replies still waiting go out now, then the last cutover: its event time is past every
    // remaining hold's deadline, so those holds expire before the batch closes.
    let now_ns = clock.now_ns();
    while let Some(reply) = parts.schedule.pop_due(u64::MAX) {
        batch.push(reply);
        outcome.replies += 1;
        if batch.len() == ARRIVALS_PER_TURN_MAX {
            publish(ingress, &mut batch, now_ns, &mut outcome)?;
        }
    }
    batch.push(cutover(&parts.operator_key, now_ns));
    outcome.cutovers += 1;
    publish(ingress, &mut batch, now_ns, &mut outcome)?;
    outcome.drain_ns = now_ns.saturating_sub(start_ns + outcome.window_ns);
    Ok(outcome)
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
    let mut event = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, now_ns);
    event.mac = operator_key.sign(&event);
    event
}

/// Nothing due: wait for the earliest of `due` without burning a core another thread needs.
fn idle(clock: &RunClock, due: [Option<u64>; 3]) {
    let now_ns = clock.now_ns();
    let next_ns = due.into_iter().flatten().min().unwrap_or(now_ns + 50_000);
    let gap_ns = next_ns.saturating_sub(now_ns);
    if gap_ns > 200_000 {
        // Sleeping overshoots by ~60 µs on Linux; wake early and yield the rest.
        std::thread::sleep(Duration::from_nanos(gap_ns - 100_000));
    } else {
        std::thread::yield_now();
    }
}
