//! [`JournalStage`]: the stage beside authorize that keeps the input. With a data directory it
//! appends every event to the journal's segment files and makes each batch durable with one
//! sync (group commit) before its cursor moves, so egress, which waits for it, answers nothing
//! that is not on disk. Without one it records the input in memory for the replay check.

use std::sync::atomic::Ordering;

use clearway_core::event::Event;
use clearway_core::journal::{FileStorage, JournalWriter};
use clearway_core::pipeline::{InputHandler, StageFault};
use serde::Serialize;

use super::latency::{Latencies, Percentiles};
use super::recording::Recording;
use super::report::{Reports, ThreadReport};
use super::snapshots::JournalProgress;

/// The journal stage of a run.
pub enum JournalStage {
    /// The input in memory, for the replay check.
    Memory {
        /// What was published, in order.
        recording: Recording,
        /// Where the recording goes at shutdown.
        reports: Reports,
    },
    /// The input on disk.
    Durable(Box<DurableJournal>),
}

/// The durable journal as a stage: the writer, and what it measured.
pub struct DurableJournal {
    writer: JournalWriter<FileStorage>,
    /// How far the journal is durable, published after each group commit for the snapshot
    /// writer, which must not write a snapshot the journal does not yet cover.
    progress: JournalProgress,
    figures: JournalFigures,
    sync_latencies: Latencies,
    events_this_group: u64,
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
}

impl DurableJournal {
    /// The stage over `writer`, publishing how far it is durable to `progress`.
    pub fn new(
        writer: JournalWriter<FileStorage>,
        progress: JournalProgress,
        reports: Reports,
    ) -> DurableJournal {
        DurableJournal {
            writer,
            progress,
            figures: JournalFigures::default(),
            sync_latencies: Latencies::new(),
            events_this_group: 0,
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
        self.events_this_group += 1;
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
        self.figures.events += self.events_this_group;
        self.figures.bytes += commit.bytes;
        self.figures.commits += 1;
        self.figures.events_per_commit_max = self
            .figures
            .events_per_commit_max
            .max(self.events_this_group);
        self.events_this_group = 0;
        self.sync_latencies.record(commit.sync_ns);
        self.progress
            .durable_next
            .store(self.writer.durable_next(), Ordering::Release);
        Ok(())
    }
}

impl InputHandler<Event> for JournalStage {
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
                let _ = journal.reports.send(ThreadReport::Durable(figures));
            }
        }
    }
}
