//! Snapshots in a durable run: route and the ledger each save their state when they handle a
//! cutover that is due ([`Snapshotting`]); [`spawn_snapshot_writer`] pairs the two parts of the
//! same sequence and, once the journal is durable that far, writes the snapshot file atomically.
//!
//! Both steps decide from the same events by the same rule ([`SnapshotPolicy`]), so they take
//! their parts at the same sequence without talking to each other, on whatever threads the
//! layout puts them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clearway_core::event::{Event, Kind, Results};
use clearway_core::journal::{write_snapshot, FileStorage};
use clearway_core::pipeline::{Handler, StageFault};
use clearway_core::stage::{
    switch_payload, LedgerSink, LedgerStage, Route, StateHash, StateWriter,
};
use crossbeam::channel::{Receiver, Sender};
use serde::Serialize;

/// When to snapshot: at the first cutover whose sequence reaches `every_events` past the last
/// snapshot (or the start). A function of the input events alone (not of any stage's results,
/// which route and the ledger see at different points), so the two always agree. A cutover
/// that was refused is as good a point as any: the state after it is just as whole.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotPolicy {
    every_events: u64,
    next_due: u64,
}

impl SnapshotPolicy {
    /// Every `every_events` (0: never), counting from `next_sequence`, the first sequence this
    /// run publishes.
    pub fn new(every_events: u64, next_sequence: u64) -> SnapshotPolicy {
        SnapshotPolicy {
            every_events,
            next_due: next_sequence.saturating_add(every_events),
        }
    }

    /// Whether the state after `input` is to be saved.
    #[inline]
    pub fn due(&mut self, input: &Event) -> bool {
        if self.every_events == 0
            || input.kind != Kind::Cutover
            || input.sequence + 1 < self.next_due
        {
            return false;
        }
        self.next_due = input.sequence + 1 + self.every_events;
        true
    }
}

/// One step's half of a snapshot.
pub struct SnapshotPart {
    /// Every event below this sequence is in the state.
    pub next_sequence: u64,
    /// The state.
    pub state: PartState,
    /// How long the step paused to save it.
    pub save_ns: u64,
}

/// Route's or the ledger's state.
pub enum PartState {
    /// Route's.
    Route(Vec<u8>),
    /// The ledger's, and its state hash.
    Ledger(Vec<u8>, StateHash),
}

/// A step whose state goes into snapshots.
pub trait SavesState {
    /// The state as bytes.
    fn save_state(&self) -> PartState;
}

impl SavesState for Route {
    fn save_state(&self) -> PartState {
        let mut writer = StateWriter::new();
        self.save(&mut writer);
        PartState::Route(writer.into_bytes())
    }
}

impl<S: LedgerSink> SavesState for LedgerStage<S> {
    fn save_state(&self) -> PartState {
        let mut writer = StateWriter::new();
        self.ledger().save(&mut writer);
        PartState::Ledger(writer.into_bytes(), self.ledger().state_hash())
    }
}

/// A step that sends its state to the snapshot writer at each due cutover.
pub struct Snapshotting<H> {
    inner: H,
    policy: SnapshotPolicy,
    parts: Option<Sender<SnapshotPart>>,
}

impl<H> Snapshotting<H> {
    /// `inner`, snapshotting by `policy` into `parts` (none: never).
    pub fn new(inner: H, policy: SnapshotPolicy, parts: Option<Sender<SnapshotPart>>) -> Self {
        Snapshotting {
            inner,
            policy,
            parts,
        }
    }
}

impl<H: Handler<Event, Results> + SavesState> Handler<Event, Results> for Snapshotting<H> {
    #[inline]
    fn on_event(
        &mut self,
        input: &Event,
        output: &mut Results,
        sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        self.inner.on_event(input, output, sequence, end_of_batch)?;
        if let Some(parts) = &self.parts {
            if self.policy.due(input) {
                let started = Instant::now();
                let state = self.inner.save_state();
                let part = SnapshotPart {
                    next_sequence: input.sequence + 1,
                    state,
                    save_ns: started.elapsed().as_nanos() as u64,
                };
                // The writer outlives the pipeline; if it has stopped, it said why.
                let _ = parts.send(part);
            }
        }
        Ok(())
    }

    fn on_shutdown(&mut self) {
        self.inner.on_shutdown();
        self.parts = None;
    }
}

/// What the snapshot writer did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SnapshotFigures {
    /// Snapshot files written.
    pub written: u64,
    /// Payload bytes of the last one.
    pub bytes_last: u64,
    /// The longest a step paused to save its part.
    pub save_pause_ns_max: u64,
    /// Why a snapshot was not written, if one was not.
    pub skipped: Vec<String>,
}

/// Route's and the ledger's halves of one snapshot, as they arrive.
type Halves = (Option<Vec<u8>>, Option<(Vec<u8>, StateHash)>);

/// How the writer knows how far the journal is durable.
#[derive(Clone, Default)]
pub struct JournalProgress {
    /// Every sequence below it is durable.
    pub durable_next: Arc<AtomicU64>,
    /// Set once the journal failed: nothing further will become durable.
    pub failed: Arc<AtomicBool>,
}

/// Starts the thread that pairs parts and writes snapshots into `storage`; `fingerprint` is the
/// network's.
pub fn spawn_snapshot_writer(
    mut storage: FileStorage,
    fingerprint: [u8; 32],
    parts: Receiver<SnapshotPart>,
    progress: JournalProgress,
) -> std::thread::JoinHandle<Result<SnapshotFigures, String>> {
    std::thread::spawn(move || {
        let mut figures = SnapshotFigures::default();
        let mut waiting: BTreeMap<u64, Halves> = BTreeMap::new();
        for part in parts {
            figures.save_pause_ns_max = figures.save_pause_ns_max.max(part.save_ns);
            let entry = waiting.entry(part.next_sequence).or_default();
            match part.state {
                PartState::Route(bytes) => entry.0 = Some(bytes),
                PartState::Ledger(bytes, hash) => entry.1 = Some((bytes, hash)),
            }
            let (Some(route), Some((ledger, hash))) = (&entry.0, &entry.1) else {
                continue;
            };
            let next_sequence = part.next_sequence;
            if !wait_until_durable(&progress, next_sequence) {
                figures.skipped.push(format!(
                    "snapshot at sequence {next_sequence}: the journal failed before it was durable"
                ));
                break;
            }
            let payload = switch_payload(&fingerprint, route, ledger);
            write_snapshot(&mut storage, next_sequence, &hash.0, &payload).map_err(|error| {
                format!("cannot write the snapshot at {next_sequence}: {error}")
            })?;
            figures.written += 1;
            figures.bytes_last = payload.len() as u64;
            // Anything older is superseded.
            waiting = waiting.split_off(&(next_sequence + 1));
        }
        Ok(figures)
    })
}

/// Waits until the journal is durable below `next_sequence`; false if it failed first.
fn wait_until_durable(progress: &JournalProgress, next_sequence: u64) -> bool {
    loop {
        if progress.durable_next.load(Ordering::Acquire) >= next_sequence {
            return true;
        }
        if progress.failed.load(Ordering::Acquire) {
            return false;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clearway_core::event::ParticipantId;

    fn cutover(sequence: u64) -> Event {
        Event {
            sequence,
            ..Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0)
        }
    }

    #[test]
    fn the_policy_picks_the_first_cutover_past_each_interval() {
        let mut policy = SnapshotPolicy::new(100, 1_000);
        let due: Vec<u64> = [1_050, 1_099, 1_100, 1_150, 1_199, 1_250, 1_400]
            .into_iter()
            .filter(|&sequence| policy.due(&cutover(sequence)))
            .collect();
        assert_eq!(due, vec![1_099, 1_199, 1_400]);
        let mut policy = SnapshotPolicy::new(100, 0);
        let payment = Event {
            sequence: 500,
            ..Event::default()
        };
        assert!(!policy.due(&payment));
        assert!(policy.due(&cutover(500)));
        let mut never = SnapshotPolicy::new(0, 0);
        assert!(!never.due(&cutover(1 << 40)));
    }
}
