//! [`JournalWriter`]: appends events to the journal's segments and makes them durable in groups,
//! one sync for everything appended since the last commit.
//!
//! Append encodes into a buffer allocated once at creation: no allocation, and no system call
//! unless the buffer is full or the segment is. Commit writes the buffer out and, under
//! [`Durability::Fsync`], calls `fdatasync` once. Only then is an event acknowledged:
//! [`JournalWriter::durable_next`] says up to where.
//!
//! Under [`Durability::Fsync`] every write is synced before the next is issued: a commit's, a
//! full buffer's (which happens only when more than a buffer's worth, by default a whole ring, is
//! appended between two commits), and the last of a segment before rotation. So at any moment at
//! most one write is unsynced, and a crash can leave at most one torn record, at the end: what
//! lets a [`scan`](super::scan()) tell a torn tail from corruption.
//!
//! The writer is fail-stop. After any storage error it is poisoned: it has lost track of what is
//! on the disk (a failed `fdatasync` may have dropped dirty pages; a failed write may have left
//! part of its bytes), so every later call returns that same error without touching storage, and
//! recovery starts again from a [`scan`](super::scan()).

use std::time::Instant;

use super::error::{JournalError, Operation};
use super::payload::encode_event;
use super::record::{encode_into, RECORD_SIZE};
use super::scan::Resume;
use super::segment::{parse_segment_name, segment_name};
use super::storage::{Storage, StorageFile};
use crate::constants::{
    SEGMENT_SIZE_BYTES_DEFAULT, SEGMENT_SIZE_BYTES_MAX, SEGMENT_SIZE_BYTES_MIN,
    WRITE_BUFFER_BYTES_DEFAULT, WRITE_BUFFER_BYTES_MAX,
};
use crate::event::Event;

/// When a commit's events are durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Committed events are handed to the operating system, never synced: they survive the
    /// process crashing, not the machine. For measuring the journal without the disk's sync.
    None,
    /// Each commit ends with one `fdatasync`, and so does a write of a full buffer and a
    /// segment's rotation: committed events survive the machine crashing.
    #[default]
    Fsync,
}

impl Durability {
    /// The name used in configuration files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Durability::None => "none",
            Durability::Fsync => "fsync",
        }
    }
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(Durability::None),
            "fsync" => Ok(Durability::Fsync),
            other => Err(format!(
                "unknown durability {other:?}: expected none or fsync"
            )),
        }
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// How a [`JournalWriter`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// The size new segments are created (pre-allocated) with. In
    /// `SEGMENT_SIZE_BYTES_MIN..=SEGMENT_SIZE_BYTES_MAX`.
    pub segment_size_bytes: u64,
    /// When commits are durable.
    pub durability: Durability,
    /// The write buffer, rounded down to whole records. In
    /// `RECORD_SIZE..=WRITE_BUFFER_BYTES_MAX`.
    pub write_buffer_bytes: usize,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            segment_size_bytes: SEGMENT_SIZE_BYTES_DEFAULT,
            durability: Durability::Fsync,
            write_buffer_bytes: WRITE_BUFFER_BYTES_DEFAULT,
        }
    }
}

impl JournalConfig {
    fn check(&self) -> Result<(), JournalError> {
        let reason = if !(SEGMENT_SIZE_BYTES_MIN..=SEGMENT_SIZE_BYTES_MAX)
            .contains(&self.segment_size_bytes)
        {
            format!(
                "a segment of {} bytes is outside {SEGMENT_SIZE_BYTES_MIN}..={SEGMENT_SIZE_BYTES_MAX}",
                self.segment_size_bytes
            )
        } else if !(RECORD_SIZE..=WRITE_BUFFER_BYTES_MAX).contains(&self.write_buffer_bytes) {
            format!(
                "a write buffer of {} bytes is outside {RECORD_SIZE}..={WRITE_BUFFER_BYTES_MAX}",
                self.write_buffer_bytes
            )
        } else {
            return Ok(());
        };
        Err(JournalError::InvalidConfig { reason })
    }
}

/// What one [`JournalWriter::commit`] covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Commit {
    /// Events appended since the previous commit.
    pub events: u64,
    /// Their records' bytes.
    pub bytes: u64,
    /// Nanoseconds this commit's `fdatasync` took; 0 when it made none.
    pub sync_ns: u64,
}

/// What a writer has done since its creation, for a bench to report MB/s and events per sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Events appended.
    pub events: u64,
    /// Bytes written to segments.
    pub bytes_written: u64,
    /// Writes issued.
    pub writes: u64,
    /// `fdatasync`s of segments.
    pub syncs: u64,
    /// Nanoseconds spent in those syncs.
    pub sync_ns: u64,
    /// Commits that covered at least one event.
    pub commits: u64,
    /// Segments created.
    pub segments_created: u64,
}

/// Appends events to the journal in `S`. See the module doc.
pub struct JournalWriter<S: Storage> {
    storage: S,
    config: JournalConfig,
    /// The segment being appended to.
    segment: S::File,
    segment_name: String,
    /// Records go in the segment below this: its file's size, or the configured size if larger.
    segment_capacity_bytes: u64,
    /// Bytes of the segment written out; the buffer's bytes go here.
    segment_written_bytes: u64,
    /// Allocated once; its length is whole records.
    buffer: Box<[u8]>,
    /// Bytes of `buffer` holding records not yet written out.
    buffered_bytes: usize,
    /// The sequence the next append must have.
    sequence_next: u64,
    /// Every sequence below it is written out (not necessarily synced).
    written_next: u64,
    /// Every sequence below it is committed.
    durable_next: u64,
    /// Whether writes have gone out since the last sync.
    unsynced: bool,
    /// Events appended since the last commit.
    group_events: u64,
    stats: WriterStats,
    /// The error that stopped the writer.
    poisoned: Option<JournalError>,
}

impl<S: Storage> JournalWriter<S> {
    /// A writer whose first append is `sequence_next`. With `resume` it continues the segment
    /// `resume` names at its offset (what a scan found, any torn tail repaired); the segment's
    /// name and the offset must agree with `sequence_next`. Without, it creates the segment
    /// named by `sequence_next` (which must not exist) and syncs the directory.
    pub fn create(
        mut storage: S,
        config: JournalConfig,
        sequence_next: u64,
        resume: Option<Resume>,
    ) -> Result<JournalWriter<S>, JournalError> {
        config.check()?;
        let (segment, segment_name, segment_capacity_bytes, segment_written_bytes, created) =
            match resume {
                Some(resume) => {
                    let Some(sequence_first) = parse_segment_name(&resume.segment) else {
                        return Err(JournalError::InvalidResume {
                            reason: format!("{:?} is not a segment's name", resume.segment),
                        });
                    };
                    let records = resume.offset / RECORD_SIZE as u64;
                    if resume.offset % RECORD_SIZE as u64 != 0
                        || sequence_first.checked_add(records) != Some(sequence_next)
                    {
                        return Err(JournalError::InvalidResume {
                            reason: format!(
                                "offset {} of {} is not where sequence {sequence_next} goes",
                                resume.offset, resume.segment
                            ),
                        });
                    }
                    let segment = storage.open(&resume.segment).map_err(|error| {
                        JournalError::storage(Operation::Open, &resume.segment, None, &error)
                    })?;
                    let size_bytes = segment.size_bytes().map_err(|error| {
                        JournalError::storage(Operation::Size, &resume.segment, None, &error)
                    })?;
                    let capacity = size_bytes.max(config.segment_size_bytes);
                    (segment, resume.segment, capacity, resume.offset, false)
                }
                None => {
                    let name = segment_name(sequence_next);
                    let segment = create_segment(&mut storage, &name, &config)?;
                    (segment, name, config.segment_size_bytes, 0, true)
                }
            };
        let buffer_bytes = config.write_buffer_bytes / RECORD_SIZE * RECORD_SIZE;
        Ok(JournalWriter {
            storage,
            config,
            segment,
            segment_name,
            segment_capacity_bytes,
            segment_written_bytes,
            buffer: vec![0u8; buffer_bytes].into_boxed_slice(),
            buffered_bytes: 0,
            sequence_next,
            written_next: sequence_next,
            durable_next: sequence_next,
            unsynced: false,
            group_events: 0,
            stats: WriterStats {
                segments_created: u64::from(created),
                ..WriterStats::default()
            },
            poisoned: None,
        })
    }

    /// Appends the event at `sequence`, which must be the one after the last appended. Encodes
    /// into the buffer; writes the buffer out (and under [`Durability::Fsync`] syncs it) only
    /// when it is full, and rotates to a new segment only when the record does not fit in this
    /// one. Not durable until [`JournalWriter::commit`].
    pub fn append(&mut self, sequence: u64, event: &Event) -> Result<(), JournalError> {
        if let Some(error) = &self.poisoned {
            return Err(error.clone());
        }
        debug_assert_eq!(
            sequence, self.sequence_next,
            "journal sequences are consecutive"
        );
        if sequence != self.sequence_next {
            return Err(JournalError::SequenceNotConsecutive {
                expected: self.sequence_next,
                found: sequence,
            });
        }
        let record_end = self.segment_written_bytes + (self.buffered_bytes + RECORD_SIZE) as u64;
        if record_end > self.segment_capacity_bytes {
            self.rotate(sequence)?;
        }
        if self.buffered_bytes + RECORD_SIZE > self.buffer.len() {
            self.write_out()?;
            self.sync()?;
        }
        let written = encode_into(
            &mut self.buffer[self.buffered_bytes..],
            sequence,
            &encode_event(event),
        );
        self.buffered_bytes += written;
        self.sequence_next += 1;
        self.group_events += 1;
        self.stats.events += 1;
        Ok(())
    }

    /// Writes out everything appended since the last commit and, under [`Durability::Fsync`],
    /// syncs it with one `fdatasync`: a group commit. When it returns, every event appended so
    /// far is acknowledged. A commit with nothing to write touches no storage.
    pub fn commit(&mut self) -> Result<Commit, JournalError> {
        if let Some(error) = &self.poisoned {
            return Err(error.clone());
        }
        self.write_out()?;
        let sync_ns = self.sync()?;
        self.durable_next = self.written_next;
        let events = std::mem::take(&mut self.group_events);
        if events > 0 {
            self.stats.commits += 1;
        }
        Ok(Commit {
            events,
            bytes: events * RECORD_SIZE as u64,
            sync_ns,
        })
    }

    /// Every sequence below this is durable: synced under [`Durability::Fsync`] (by a commit,
    /// a full buffer's write or a rotation), handed to the operating system by a commit under
    /// [`Durability::None`]. It never passes what a successful sync covered.
    pub fn durable_next(&self) -> u64 {
        self.durable_next
    }

    /// The sequence the next append must have.
    pub fn sequence_next(&self) -> u64 {
        self.sequence_next
    }

    /// The segment being appended to.
    pub fn segment_name(&self) -> &str {
        &self.segment_name
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        self.stats
    }

    /// The error that stopped the writer, if one has.
    pub fn poisoned(&self) -> Option<&JournalError> {
        self.poisoned.as_ref()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &JournalConfig {
        &self.config
    }

    /// Finishes the current segment (written out and synced) and starts the one whose first
    /// record is `sequence`.
    fn rotate(&mut self, sequence: u64) -> Result<(), JournalError> {
        self.write_out()?;
        self.sync()?;
        let name = segment_name(sequence);
        let created = create_segment(&mut self.storage, &name, &self.config);
        let segment = self.check(created)?;
        self.segment = segment;
        self.segment_name = name;
        self.segment_capacity_bytes = self.config.segment_size_bytes;
        self.segment_written_bytes = 0;
        self.stats.segments_created += 1;
        Ok(())
    }

    /// Writes the buffer's records to the segment, without syncing.
    fn write_out(&mut self) -> Result<(), JournalError> {
        if self.buffered_bytes == 0 {
            return Ok(());
        }
        let offset = self.segment_written_bytes;
        let result = self
            .segment
            .write_at(offset, &self.buffer[..self.buffered_bytes])
            .map_err(|error| {
                JournalError::storage(Operation::Write, &self.segment_name, Some(offset), &error)
            });
        self.check(result)?;
        self.segment_written_bytes += self.buffered_bytes as u64;
        self.stats.bytes_written += self.buffered_bytes as u64;
        self.stats.writes += 1;
        self.buffered_bytes = 0;
        self.written_next = self.sequence_next;
        self.unsynced = true;
        Ok(())
    }

    /// Under [`Durability::Fsync`], syncs what was written out since the last sync; returns the
    /// nanoseconds it took, 0 when it made none.
    fn sync(&mut self) -> Result<u64, JournalError> {
        if self.config.durability == Durability::None || !self.unsynced {
            return Ok(0);
        }
        let start = Instant::now();
        let result = self.segment.sync_data().map_err(|error| {
            JournalError::storage(Operation::Sync, &self.segment_name, None, &error)
        });
        self.check(result)?;
        let sync_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.syncs += 1;
        self.stats.sync_ns += sync_ns;
        self.unsynced = false;
        self.durable_next = self.written_next;
        Ok(sync_ns)
    }

    /// `result`, poisoning the writer if it is an error: the error, from now on, names the last
    /// acknowledged sequence.
    fn check<T>(&mut self, result: Result<T, JournalError>) -> Result<T, JournalError> {
        result.map_err(|mut error| {
            if let JournalError::Storage(failure) = &mut error {
                failure.acknowledged_next = Some(self.durable_next);
            }
            self.poisoned = Some(error.clone());
            error
        })
    }
}

impl<S: Storage> std::fmt::Debug for JournalWriter<S> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JournalWriter")
            .field("segment", &self.segment_name)
            .field("segment_written_bytes", &self.segment_written_bytes)
            .field("sequence_next", &self.sequence_next)
            .field("durable_next", &self.durable_next)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

/// Creates the segment `name` pre-allocated to the configured size and, under
/// [`Durability::Fsync`], syncs the directory so that its name survives a crash.
fn create_segment<S: Storage>(
    storage: &mut S,
    name: &str,
    config: &JournalConfig,
) -> Result<S::File, JournalError> {
    let segment = storage
        .create(name, config.segment_size_bytes)
        .map_err(|error| JournalError::storage(Operation::Create, name, None, &error))?;
    if config.durability == Durability::Fsync {
        storage
            .sync_directory()
            .map_err(|error| JournalError::storage(Operation::SyncDirectory, name, None, &error))?;
    }
    Ok(segment)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{Account, Kind, ParticipantId, TxnId};
    use crate::journal::storage::SimulatedStorage;

    /// The event journaled at `sequence` in these tests: every field depends on it, so a record
    /// read back from the wrong place would not match.
    pub(crate) fn event_at(sequence: u64) -> Event {
        let mut event = Event::payment(
            Kind::PAYMENTS[(sequence % 4) as usize],
            TxnId::new(20261130, u128::from(sequence) * 7),
            ParticipantId((sequence % 115) as u16 + 1),
            Account::new(format!("62220202{:011}", sequence).as_bytes()).unwrap(),
            sequence * 13 + 1,
            sequence * 1_000,
        );
        event.sequence = sequence;
        event.event_ns = sequence * 1_000 + 17;
        event
    }

    /// Segments of `records` records each.
    pub(crate) fn config(records: u64) -> JournalConfig {
        JournalConfig {
            segment_size_bytes: records * RECORD_SIZE as u64,
            durability: Durability::Fsync,
            write_buffer_bytes: WRITE_BUFFER_BYTES_DEFAULT,
        }
    }

    #[test]
    fn a_group_commit_is_one_write_and_one_sync() {
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config(1_000), 0, None).unwrap();
        let before = storage.counts();
        for sequence in 0..100 {
            writer.append(sequence, &event_at(sequence)).unwrap();
        }
        assert_eq!(storage.counts(), before, "append touched storage");
        assert_eq!(writer.durable_next(), 0);
        let commit = writer.commit().unwrap();
        assert_eq!(
            (commit.events, commit.bytes),
            (100, 100 * RECORD_SIZE as u64)
        );
        assert_eq!(writer.durable_next(), 100);
        let after = storage.counts();
        assert_eq!(
            (after.writes, after.syncs),
            (before.writes + 1, before.syncs + 1)
        );
        let stats = writer.stats();
        assert_eq!((stats.events, stats.syncs, stats.commits), (100, 1, 1));
        assert_eq!(stats.bytes_written, 100 * RECORD_SIZE as u64);
    }

    #[test]
    fn a_commit_of_nothing_touches_no_storage() {
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config(8), 5, None).unwrap();
        let before = storage.counts();
        assert_eq!(writer.commit().unwrap(), Commit::default());
        assert_eq!(storage.counts(), before);
        assert_eq!(writer.durable_next(), 5);
    }

    #[test]
    fn records_that_do_not_fit_rotate_to_a_segment_named_by_their_sequence() {
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config(10), 100, None).unwrap();
        for sequence in 100..135 {
            writer.append(sequence, &event_at(sequence)).unwrap();
            if sequence % 7 == 0 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        let names: Vec<u64> = crate::journal::list_segments(&storage)
            .unwrap()
            .iter()
            .map(|segment| segment.sequence_first)
            .collect();
        assert_eq!(names, vec![100, 110, 120, 130]);
        assert_eq!(writer.segment_name(), segment_name(130));
        assert_eq!(writer.stats().segments_created, 4);
        // Every segment was created at its full size and survives a crash by name.
        for seed in 0..20 {
            let crashed = storage.crash(seed);
            assert_eq!(crate::journal::list_segments(&crashed).unwrap().len(), 4);
        }
    }

    #[test]
    fn a_full_buffer_is_written_and_synced_before_the_commit() {
        let storage = SimulatedStorage::new();
        let config = JournalConfig {
            write_buffer_bytes: 4 * RECORD_SIZE + 5,
            ..config(1_000)
        };
        let mut writer = JournalWriter::create(storage.clone(), config, 0, None).unwrap();
        for sequence in 0..10 {
            writer.append(sequence, &event_at(sequence)).unwrap();
        }
        // Two full buffers of four went out, each synced; two records wait in the buffer.
        assert_eq!(writer.stats().writes, 2);
        assert_eq!(writer.stats().syncs, 2);
        assert_eq!(writer.durable_next(), 8);
        writer.commit().unwrap();
        assert_eq!(writer.durable_next(), 10);
    }

    #[test]
    fn without_fsync_nothing_is_synced_and_commits_still_advance() {
        let storage = SimulatedStorage::new();
        let config = JournalConfig {
            durability: Durability::None,
            ..config(4)
        };
        let mut writer = JournalWriter::create(storage.clone(), config, 0, None).unwrap();
        for sequence in 0..10 {
            writer.append(sequence, &event_at(sequence)).unwrap();
        }
        let commit = writer.commit().unwrap();
        assert_eq!((commit.events, commit.sync_ns), (10, 0));
        assert_eq!(writer.durable_next(), 10);
        assert_eq!(storage.counts().syncs, 0);
        assert_eq!(writer.stats().syncs, 0);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "consecutive"))]
    fn an_append_out_of_order_is_refused() {
        let mut writer =
            JournalWriter::create(SimulatedStorage::new(), config(8), 3, None).unwrap();
        let refused = writer.append(4, &event_at(4));
        assert_eq!(
            refused,
            Err(JournalError::SequenceNotConsecutive {
                expected: 3,
                found: 4
            })
        );
        writer.append(3, &event_at(3)).unwrap();
    }

    #[test]
    fn configurations_outside_the_limits_are_refused() {
        let rows = [
            (config(1), true),
            (
                JournalConfig {
                    segment_size_bytes: RECORD_SIZE as u64 - 1,
                    ..config(1)
                },
                false,
            ),
            (
                JournalConfig {
                    segment_size_bytes: SEGMENT_SIZE_BYTES_MAX + 1,
                    ..config(1)
                },
                false,
            ),
            (
                JournalConfig {
                    write_buffer_bytes: RECORD_SIZE - 1,
                    ..config(1)
                },
                false,
            ),
            (
                JournalConfig {
                    write_buffer_bytes: WRITE_BUFFER_BYTES_MAX + 1,
                    ..config(1)
                },
                false,
            ),
        ];
        for (config, valid) in rows {
            let result = JournalWriter::create(SimulatedStorage::new(), config, 0, None);
            assert_eq!(result.is_ok(), valid, "{config:?}");
        }
    }

    #[test]
    fn a_resume_that_disagrees_with_the_sequence_is_refused() {
        let mut storage = SimulatedStorage::new();
        storage.create(&segment_name(10), 1_024).unwrap();
        let rows = [
            (segment_name(10), 0, 10, true),
            (segment_name(10), 2 * RECORD_SIZE as u64, 12, true),
            (segment_name(10), 2 * RECORD_SIZE as u64, 13, false),
            (segment_name(10), 100, 10, false),
            ("journal.seg".to_string(), 0, 10, false),
        ];
        for (segment, offset, sequence_next, valid) in rows {
            let resume = Resume { segment, offset };
            let result =
                JournalWriter::create(storage.clone(), config(8), sequence_next, Some(resume));
            assert_eq!(result.is_ok(), valid, "{sequence_next} {result:?}");
        }
    }

    #[test]
    fn durability_names_round_trip() {
        for durability in [Durability::None, Durability::Fsync] {
            assert_eq!(durability.name().parse(), Ok(durability));
            assert_eq!(durability.to_string(), durability.name());
        }
        assert!("fdatasync".parse::<Durability>().is_err());
        assert_eq!(JournalConfig::default().durability, Durability::Fsync);
    }
}
