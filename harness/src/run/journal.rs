//! [`JournalStage`]: the stage beside authorize that keeps the input. With a data directory it
//! appends every event to the journal's segment files and makes each batch durable with one
//! sync (group commit) before its cursor moves, so egress, which waits for it, answers nothing
//! that is not on disk. Without one it records the input in memory for the replay check.

use std::sync::atomic::Ordering;

use clearway_core::event::Event;
use clearway_core::journal::{FileStorage, JournalWriter, Storage};
use clearway_core::pipeline::{InputHandler, StageFault};
use serde::Serialize;

use super::clock::RunClock;
use super::latency::{Latencies, Percentiles};
use super::recording::Recording;
use super::report::{Reports, ThreadReport};
use super::snapshots::JournalProgress;

/// The journal stage of a run, over real files (or, in tests, simulated ones).
pub enum JournalStage<S: Storage = FileStorage> {
    /// The input in memory, for the replay check.
    Memory {
        /// What was published, in order.
        recording: Recording,
        /// Where the recording goes at shutdown.
        reports: Reports,
    },
    /// The input on disk.
    Durable(Box<DurableJournal<S>>),
}

/// The durable journal as a stage: the writer, and what it measured.
pub struct DurableJournal<S: Storage = FileStorage> {
    writer: JournalWriter<S>,
    /// How far the journal is durable, published after each group commit for the snapshot
    /// writer, which must not write a snapshot the journal does not yet cover.
    progress: JournalProgress,
    figures: JournalFigures,
    sync_latencies: Latencies,
    /// Event time to durable, per event: what the journal adds before egress may answer.
    durable_latencies: Latencies,
    /// The event times of the group being gathered, recorded once it is durable (one clock read
    /// per group); allocated at start for the largest group, a ring's worth.
    group_event_ns: Vec<u64>,
    clock: RunClock,
    reports: Reports,
}

/// What the durable journal did in a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JournalFigures {
    /// Events appended.
    pub events: u64,
    /// Bytes written to segment files.
    pub bytes: u64,
    /// Group commits: each one write and, with `fsync`, one fdatasync.
    pub commits: u64,
    /// Events per group commit, on average.
    pub events_per_commit_mean: f64,
    /// The largest group.
    pub events_per_commit_max: u64,
    /// How long each fdatasync took (zero with durability `none`).
    pub sync_latency_ns: Percentiles,
    /// Per event, from its event time (ingress) to the end of the group commit that made it
    /// durable: the journal's share of end-to-end latency, paid once for a payment and once
    /// for its bank's reply.
    pub durable_latency_ns: Percentiles,
}

impl<S: Storage> DurableJournal<S> {
    /// The stage over `writer`, publishing how far it is durable to `progress`; groups are at
    /// most `group_size_max` events (the stage's batch limit), timed on `clock`.
    pub fn new(
        writer: JournalWriter<S>,
        progress: JournalProgress,
        clock: RunClock,
        group_size_max: usize,
        reports: Reports,
    ) -> Self {
        DurableJournal {
            writer,
            progress,
            figures: JournalFigures::default(),
            sync_latencies: Latencies::new(),
            durable_latencies: Latencies::new(),
            group_event_ns: Vec::with_capacity(group_size_max.max(1)),
            clock,
            reports,
        }
    }

    /// Fail-stop: the journal's error stops the stage (and with it the pipeline), the durable
    /// point stays where the last sync left it, and the snapshot writer is told.
    fn failed(&self, error: impl std::fmt::Display) -> StageFault {
        self.progress.failed.store(true, Ordering::Release);
        StageFault::new(format!("journal: {error}"))
    }

    #[inline]
    fn append(&mut self, event: &Event, end_of_batch: bool) -> Result<(), StageFault> {
        if let Err(error) = self.writer.append(event.sequence, event) {
            return Err(self.failed(error));
        }
        if self.group_event_ns.len() == self.group_event_ns.capacity() {
            // A batch longer than the stage's limit cannot come; commit early if it does.
            self.commit()?;
        }
        self.group_event_ns.push(event.event_ns);
        if end_of_batch {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StageFault> {
        let commit = match self.writer.commit() {
            Ok(commit) => commit,
            Err(error) => return Err(self.failed(error)),
        };
        let now_ns = self.clock.now_ns();
        for &event_ns in &self.group_event_ns {
            self.durable_latencies
                .record(now_ns.saturating_sub(event_ns));
        }
        let events = self.group_event_ns.len() as u64;
        self.group_event_ns.clear();
        self.figures.events += events;
        self.figures.bytes += commit.bytes;
        self.figures.commits += 1;
        self.figures.events_per_commit_max = self.figures.events_per_commit_max.max(events);
        self.sync_latencies.record(commit.sync_ns);
        self.progress
            .durable_next
            .store(self.writer.durable_next(), Ordering::Release);
        Ok(())
    }
}

impl<S: Storage> InputHandler<Event> for JournalStage<S> {
    #[inline]
    fn on_event(
        &mut self,
        input: &Event,
        _sequence: u64,
        end_of_batch: bool,
    ) -> Result<(), StageFault> {
        match self {
            JournalStage::Memory { recording, .. } => {
                recording.push(input);
                Ok(())
            }
            JournalStage::Durable(journal) => journal.append(input, end_of_batch),
        }
    }

    fn on_shutdown(&mut self) {
        match self {
            JournalStage::Memory { recording, reports } => {
                let recording = std::mem::take(recording);
                let _ = reports.send(ThreadReport::Journal(recording));
            }
            JournalStage::Durable(journal) => {
                let mut figures = std::mem::take(&mut journal.figures);
                if figures.commits > 0 {
                    figures.events_per_commit_mean = figures.events as f64 / figures.commits as f64;
                }
                figures.sync_latency_ns = journal.sync_latencies.percentiles();
                figures.durable_latency_ns = journal.durable_latencies.percentiles();
                let _ = journal.reports.send(ThreadReport::Durable(figures));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    use clearway_core::event::{Kind, ParticipantId, Results};
    use clearway_core::journal::{scan, JournalConfig, SimulatedStorage};
    use clearway_core::pipeline::{Handler, Handlers, Pipeline, StageConfig, TopologyConfig};
    use crossbeam::channel::unbounded;

    use super::*;

    /// Stands for egress: the highest sequence it was let see, plus one.
    struct Answers(Arc<AtomicU64>);

    impl Handler<Event, Results> for Answers {
        fn on_event(
            &mut self,
            _input: &Event,
            _output: &mut Results,
            sequence: u64,
            _end_of_batch: bool,
        ) -> Result<(), StageFault> {
            self.0.fetch_max(sequence + 1, Ordering::AcqRel);
            Ok(())
        }
    }

    /// A journal whose disk `fault` breaks, and an egress that waits for it: the pipeline stops
    /// with the journal's error, egress never saw an event past the last successful sync, and a
    /// crash keeps every event up to there.
    fn fail_stop(fault: impl Fn(&SimulatedStorage)) {
        let storage = SimulatedStorage::new();
        // Small segments, so that a run of 100,000 events rotates (and can find the disk full).
        let config = JournalConfig {
            segment_size_bytes: 1 << 20,
            ..JournalConfig::default()
        };
        let writer =
            JournalWriter::create(storage.clone(), config, 0, None).expect("a journal starts");
        fault(&storage);
        let progress = JournalProgress::default();
        let answered = Arc::new(AtomicU64::new(0));
        let (reports, _inbox) = unbounded();
        let stage =
            std::sync::Mutex::new(Some(JournalStage::Durable(Box::new(DurableJournal::new(
                writer,
                progress.clone(),
                RunClock::start_at(0),
                256,
                reports,
            )))));
        let topology = TopologyConfig::new()
            .ring_capacity(256)
            .batch_size_max(16)
            .stage(StageConfig::new("journal").batch_size_max(256))
            .stage(StageConfig::new("egress").after(["journal"]))
            .validate()
            .expect("a valid topology");
        let seen = Arc::clone(&answered);
        let handlers = Handlers::new()
            .input_stage("journal", move |_| {
                stage.lock().unwrap().take().expect("one journal")
            })
            .stage("egress", move |_| Answers(Arc::clone(&seen)));
        let pipeline = Pipeline::start(&topology, handlers).expect("the pipeline starts");
        let mut producer = pipeline.producer().expect("a producer");
        let mut published = 0u64;
        while published < 100_000 {
            let result = producer.publish(|sequence, input, output| {
                *input = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, sequence);
                input.sequence = sequence;
                *output = Results::default();
            });
            if result.is_err() {
                break;
            }
            published += 1;
        }
        drop(producer);
        let error = pipeline
            .shutdown()
            .expect_err("the journal's fault stops the pipeline");
        assert!(error.to_string().contains("journal"), "{error}");
        assert!(published < 100_000, "the producer was stopped");
        assert!(progress.failed.load(Ordering::Acquire));
        let durable_next = progress.durable_next.load(Ordering::Acquire);
        let answered = answered.load(Ordering::Acquire);
        assert!(
            answered <= durable_next,
            "egress saw {answered} events, the journal made {durable_next} durable"
        );
        let after_crash = scan(&storage.crash(7)).expect("the journal scans");
        assert!(after_crash.corruption.is_none());
        assert!(after_crash.sequence_next.unwrap_or(0) >= durable_next);
    }

    #[test]
    fn a_failed_sync_stops_the_run_before_anything_unsynced_is_answered() {
        fail_stop(|storage| storage.fail_nth_sync(5));
    }

    #[test]
    fn a_failed_write_stops_the_run_before_anything_unwritten_is_answered() {
        fail_stop(|storage| storage.fail_nth_write(5));
    }

    #[test]
    fn a_full_disk_stops_the_run_before_anything_unwritten_is_answered() {
        // Room for the first segment and half of the second.
        fail_stop(|storage| storage.set_size_limit_bytes(Some(3 << 19)));
    }
}
