//! Recovery's view of the journal: [`scan`] reads every segment in order and says how far the
//! journal's records run intact, and what, if anything, follows them: a [`TornTail`] (a write cut
//! short by a crash, which [`repair_torn_tail`] clears) or a [`Corruption`] (damage a crash
//! cannot explain, never skipped silently: the operator decides, and [`truncate_at`] discards
//! from it on). [`read_events`] streams the events back for replay.
//!
//! # Torn tail or corruption
//!
//! The writer never has more than one write outstanding that is not yet synced (it syncs after
//! every write under [`Durability::Fsync`](super::Durability)), and it writes whole records at
//! record-aligned offsets into pre-allocated, zeroed space. So a crash can leave, after the
//! synced records, at most one write kept whole, dropped, or cut to a prefix: whole records,
//! then at most one damaged record, then zeros. A damaged record is a torn tail when it is in the
//! last segment and only zeros (or the file's end) follow its 128 bytes. Anything else is
//! corruption:
//!
//! - a damaged record (bad checksum, bad length, cut short) with data after it, or in a segment
//!   that is not the last (rotation synced it before the next segment was created);
//! - zeros where a record should be, with data after them;
//! - a record whose checksum holds but whose sequence is not the next, whose payload is not an
//!   event, or a segment whose name is not the sequence after the previous segment's last.
//!
//! One case is ambiguous in principle: a file system that writes back the pages of one unsynced
//! write out of order can leave zeros and then data after a crash. This scan reports that as
//! corruption, naming the offset: it cannot tell it from damage to records that were
//! acknowledged, and discarding those silently would lose payments.

use std::convert::Infallible;

use super::error::{JournalError, Operation};
use super::payload::{decode_event, PayloadError};
use super::record::{self, Decoded, RECORD_SIZE};
use super::segment::{list_segments, Segment};
use super::storage::{Storage, StorageFile};
use crate::event::Event;

/// One segment as the scan found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentScan {
    /// Its file name.
    pub name: String,
    /// The sequence its name gives, and its first record has.
    pub sequence_first: u64,
    /// Intact records, from the start of the file.
    pub records: u64,
    /// The bytes those records take: where the next record would go.
    pub bytes_used: u64,
}

/// A record cut short by a crash at the end of the journal: never acknowledged, since the writer
/// acknowledges only what it has synced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The last segment.
    pub file: String,
    /// Where the torn record starts.
    pub offset: u64,
    /// Its bytes up to the last one that is not zero: what [`repair_torn_tail`] zeroes.
    pub bytes: u64,
}

impl std::fmt::Display for TornTail {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} ends in a torn write: {} bytes at offset {} are a record cut short by a crash, \
             never acknowledged",
            self.file, self.bytes, self.offset
        )
    }
}

/// Damage a crash cannot explain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// The segment it is in.
    pub file: String,
    /// Where in it: the first record, or record slot, that is not intact.
    pub offset: u64,
    /// The sequence the record there should have had: every sequence below it is intact.
    pub sequence_expected: u64,
    /// What is wrong.
    pub reason: CorruptionReason,
}

/// What is wrong at a [`Corruption`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorruptionReason {
    /// The record's checksum does not match its bytes.
    BadChecksum,
    /// The record's length is not an event's.
    BadLength {
        /// The length found.
        length_bytes: u32,
    },
    /// The file ends inside the record, and the segment is not the last.
    Truncated,
    /// The checksum holds but the payload is not an event.
    Payload(PayloadError),
    /// The checksum holds but the record's sequence is not the one expected.
    SequenceMismatch {
        /// The sequence found.
        found: u64,
    },
    /// The segment's name is not the sequence after the previous segment's last record.
    SegmentNameMismatch {
        /// The sequence its name gives.
        name_sequence: u64,
    },
    /// Zeros stand where a record should be, and data follows them.
    DataAfterZeros {
        /// The first byte that is not zero.
        data_offset: u64,
    },
}

impl std::fmt::Display for CorruptionReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CorruptionReason::BadChecksum => {
                formatter.write_str("the record's checksum does not match its bytes")
            }
            CorruptionReason::BadLength { length_bytes } => write!(
                formatter,
                "the record's length is {length_bytes} bytes, not an event's"
            ),
            CorruptionReason::Truncated => {
                formatter.write_str("the segment ends inside a record, and more segments follow")
            }
            CorruptionReason::Payload(error) => {
                write!(formatter, "the record's payload is not an event: {error}")
            }
            CorruptionReason::SequenceMismatch { found } => {
                write!(formatter, "the record's sequence is {found}")
            }
            CorruptionReason::SegmentNameMismatch { name_sequence } => write!(
                formatter,
                "the segment's name says it starts at sequence {name_sequence}"
            ),
            CorruptionReason::DataAfterZeros { data_offset } => write!(
                formatter,
                "no record is there, yet data follows at offset {data_offset}"
            ),
        }
    }
}

impl std::fmt::Display for Corruption {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} is corrupt at offset {}, where sequence {} was expected: {}",
            self.file, self.offset, self.sequence_expected, self.reason
        )
    }
}

/// The journal as [`scan`] found it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JournalScan {
    /// Every segment read, in order, up to and including one with corruption.
    pub segments: Vec<SegmentScan>,
    /// The first segment's first sequence; `None` when there are no segments.
    pub sequence_first: Option<u64>,
    /// Every sequence from `sequence_first` up to this one is intact; `None` when there are no
    /// segments.
    pub sequence_next: Option<u64>,
    /// A record cut short at the end, if any: [`repair_torn_tail`] clears it.
    pub torn_tail: Option<TornTail>,
    /// Damage a crash cannot explain, if any: the scan stopped there.
    pub corruption: Option<Corruption>,
}

/// Where a writer continues an existing journal: the last segment, and the offset just after its
/// last intact record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The last segment's name.
    pub segment: String,
    /// Where the next record goes.
    pub offset: u64,
}

impl JournalScan {
    /// Where a writer continues this journal, once any torn tail is repaired; `None` when there
    /// are no segments, or there is corruption (which must be dealt with first).
    pub fn resume(&self) -> Option<Resume> {
        if self.corruption.is_some() {
            return None;
        }
        let last = self.segments.last()?;
        Some(Resume {
            segment: last.name.clone(),
            offset: last.bytes_used,
        })
    }

    /// The intact events in the journal.
    pub fn event_count(&self) -> u64 {
        self.segments.iter().map(|segment| segment.records).sum()
    }
}

/// Reads every segment in order and reports how far the records run intact and what follows.
/// Only a storage failure is an error; damage is reported in the result.
pub fn scan<S: Storage>(storage: &S) -> Result<JournalScan, JournalError> {
    let segments = list(storage)?;
    let mut result = JournalScan {
        sequence_first: segments.first().map(|segment| segment.sequence_first),
        ..JournalScan::default()
    };
    let mut expected = result.sequence_first;
    for (index, segment) in segments.iter().enumerate() {
        if let Some(corruption) = name_mismatch(segment, expected) {
            result.corruption = Some(corruption);
            break;
        }
        let bytes = read(storage, &segment.name)?;
        let is_last = index + 1 == segments.len();
        let walked = match walk_segment(segment, &bytes, is_last, &mut |_, _| {
            Ok::<(), Infallible>(())
        }) {
            Ok(walked) => walked,
            Err(never) => match never {},
        };
        result.segments.push(SegmentScan {
            name: segment.name.clone(),
            sequence_first: segment.sequence_first,
            records: walked.records,
            bytes_used: walked.bytes_used,
        });
        expected = Some(segment.sequence_first.saturating_add(walked.records));
        match walked.end {
            SegmentEnd::Clean => {}
            SegmentEnd::Torn(torn) => result.torn_tail = Some(torn),
            SegmentEnd::Corrupt(corruption) => {
                result.corruption = Some(corruption);
                break;
            }
        }
    }
    result.sequence_next = expected;
    Ok(result)
}

/// Zeroes the torn tail `scan` found, if any, and syncs the segment, so that a writer resuming
/// at [`JournalScan::resume`] writes into clean space.
pub fn repair_torn_tail<S: Storage>(
    storage: &mut S,
    scan: &JournalScan,
) -> Result<(), JournalError> {
    let Some(torn) = &scan.torn_tail else {
        return Ok(());
    };
    let mut file = storage
        .open(&torn.file)
        .map_err(|error| JournalError::storage(Operation::Open, &torn.file, None, &error))?;
    let zeros = vec![
        0u8;
        usize::try_from(torn.bytes)
            .unwrap_or(RECORD_SIZE)
            .min(RECORD_SIZE)
    ];
    file.write_at(torn.offset, &zeros).map_err(|error| {
        JournalError::storage(Operation::Write, &torn.file, Some(torn.offset), &error)
    })?;
    file.sync_data()
        .map_err(|error| JournalError::storage(Operation::Sync, &torn.file, None, &error))
}

/// Discards the journal from `corruption` on: the damaged record and everything after it in its
/// segment (the segment is cut at the offset, or removed if the offset is 0) and every later
/// segment (removed, newest first, then the directory synced).
///
/// Returns the events discarded, counted as the 128-byte record slots from the corruption point
/// to the end of the journal that are not all zeros: each held one event's record, intact or
/// not (a damaged record counts as one; a slot the damage left all zeros is not counted).
pub fn truncate_at<S: Storage>(
    storage: &mut S,
    corruption: &Corruption,
) -> Result<u64, JournalError> {
    let segments = list(storage)?;
    let Some(position) = segments
        .iter()
        .position(|segment| segment.name == corruption.file)
    else {
        return Ok(0);
    };
    let mut discarded = 0;
    for (index, segment) in segments[position..].iter().enumerate() {
        let bytes = read(storage, &segment.name)?;
        let from = if index == 0 {
            usize::try_from(corruption.offset).unwrap_or(usize::MAX)
        } else {
            0
        };
        discarded += bytes
            .get(from..)
            .unwrap_or_default()
            .chunks(RECORD_SIZE)
            .filter(|slot| slot.iter().any(|&byte| byte != 0))
            .count() as u64;
    }
    if corruption.offset > 0 {
        let mut file = storage.open(&corruption.file).map_err(|error| {
            JournalError::storage(Operation::Open, &corruption.file, None, &error)
        })?;
        file.truncate(corruption.offset).map_err(|error| {
            JournalError::storage(
                Operation::Truncate,
                &corruption.file,
                Some(corruption.offset),
                &error,
            )
        })?;
        file.sync_data().map_err(|error| {
            JournalError::storage(Operation::Sync, &corruption.file, None, &error)
        })?;
    }
    let first_removed = if corruption.offset > 0 {
        position + 1
    } else {
        position
    };
    for segment in segments[first_removed..].iter().rev() {
        storage.remove(&segment.name).map_err(|error| {
            JournalError::storage(Operation::Remove, &segment.name, None, &error)
        })?;
    }
    if first_removed < segments.len() {
        storage.sync_directory().map_err(|error| {
            JournalError::storage(Operation::SyncDirectory, &corruption.file, None, &error)
        })?;
    }
    Ok(discarded)
}

/// Why [`read_events`] stopped early.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEventsError<E> {
    /// The journal could not be read, or holds corruption, or not the events asked for.
    Journal(JournalError),
    /// The visitor returned this error.
    Visitor(E),
}

impl<E: std::fmt::Display> std::fmt::Display for ReadEventsError<E> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadEventsError::Journal(error) => error.fmt(formatter),
            ReadEventsError::Visitor(error) => write!(formatter, "replaying an event: {error}"),
        }
    }
}

/// Calls `visit` with every event whose sequence is `from_sequence` or above, in order, reading
/// one segment at a time. Stops without error at a torn tail (never acknowledged), with
/// [`JournalError::Corrupt`] at corruption, and with [`JournalError::SequenceNotInJournal`] when
/// the journal starts after `from_sequence` or ends before it. Returns the events visited; an
/// empty directory visits none.
pub fn read_events<S: Storage, E>(
    storage: &S,
    from_sequence: u64,
    mut visit: impl FnMut(u64, &Event) -> Result<(), E>,
) -> Result<u64, ReadEventsError<E>> {
    let segments = list(storage).map_err(ReadEventsError::Journal)?;
    let Some(first) = segments.first().map(|segment| segment.sequence_first) else {
        return Ok(0);
    };
    let not_in_journal = |next: u64| {
        ReadEventsError::Journal(JournalError::SequenceNotInJournal {
            requested: from_sequence,
            first,
            next,
        })
    };
    if from_sequence < first {
        return Err(not_in_journal(first));
    }
    let start = segments.partition_point(|segment| segment.sequence_first <= from_sequence) - 1;
    let mut expected = segments[start].sequence_first;
    let mut visited = 0;
    for (index, segment) in segments.iter().enumerate().skip(start) {
        if let Some(corruption) = name_mismatch(segment, Some(expected)) {
            return Err(ReadEventsError::Journal(JournalError::Corrupt(corruption)));
        }
        let bytes = read(storage, &segment.name).map_err(ReadEventsError::Journal)?;
        let is_last = index + 1 == segments.len();
        let walked = walk_segment(segment, &bytes, is_last, &mut |sequence, event| {
            if sequence >= from_sequence {
                visited += 1;
                visit(sequence, event)
            } else {
                Ok(())
            }
        })
        .map_err(ReadEventsError::Visitor)?;
        expected = segment.sequence_first.saturating_add(walked.records);
        match walked.end {
            SegmentEnd::Clean => {}
            SegmentEnd::Torn(_) => break,
            SegmentEnd::Corrupt(corruption) => {
                return Err(ReadEventsError::Journal(JournalError::Corrupt(corruption)))
            }
        }
    }
    if from_sequence > expected {
        return Err(not_in_journal(expected));
    }
    Ok(visited)
}

/// How a segment's records end.
enum SegmentEnd {
    /// In zeros or at the file's end.
    Clean,
    /// In a torn record.
    Torn(TornTail),
    /// In corruption.
    Corrupt(Corruption),
}

/// What [`walk_segment`] found.
struct Walked {
    records: u64,
    bytes_used: u64,
    end: SegmentEnd,
}

/// Walks `bytes`, the contents of `segment`, record by record, handing each intact event to
/// `visit`, until the records end; classifies how they end as the module doc says.
fn walk_segment<E>(
    segment: &Segment,
    bytes: &[u8],
    is_last: bool,
    visit: &mut impl FnMut(u64, &Event) -> Result<(), E>,
) -> Result<Walked, E> {
    let mut offset = 0;
    let mut expected = segment.sequence_first;
    let mut records = 0;
    let end = |offset: usize, records: u64, end: SegmentEnd| Walked {
        records,
        bytes_used: offset as u64,
        end,
    };
    loop {
        let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) else {
            return Ok(end(offset, records, SegmentEnd::Clean));
        };
        let corrupt = |reason| {
            SegmentEnd::Corrupt(Corruption {
                file: segment.name.clone(),
                offset: offset as u64,
                sequence_expected: expected,
                reason,
            })
        };
        let damage = match record::decode(rest) {
            Decoded::Record {
                sequence,
                payload,
                size_bytes,
            } => {
                if sequence != expected {
                    let reason = CorruptionReason::SequenceMismatch { found: sequence };
                    return Ok(end(offset, records, corrupt(reason)));
                }
                match decode_event(payload) {
                    Ok(event) => visit(sequence, &event)?,
                    Err(error) => {
                        let reason = CorruptionReason::Payload(error);
                        return Ok(end(offset, records, corrupt(reason)));
                    }
                }
                offset += size_bytes;
                expected = expected.saturating_add(1);
                records += 1;
                continue;
            }
            Decoded::Zero => {
                let ending = match first_non_zero(rest) {
                    None => SegmentEnd::Clean,
                    Some(at) => corrupt(CorruptionReason::DataAfterZeros {
                        data_offset: (offset + at) as u64,
                    }),
                };
                return Ok(end(offset, records, ending));
            }
            Decoded::Truncated { .. } => CorruptionReason::Truncated,
            Decoded::BadLength { length_bytes } => CorruptionReason::BadLength { length_bytes },
            Decoded::BadChecksum { .. } => CorruptionReason::BadChecksum,
        };
        let slot = &rest[..rest.len().min(RECORD_SIZE)];
        let torn = is_last && first_non_zero(&rest[slot.len()..]).is_none();
        let ending = if torn {
            let written = slot
                .iter()
                .rposition(|&byte| byte != 0)
                .map_or(0, |at| at + 1);
            SegmentEnd::Torn(TornTail {
                file: segment.name.clone(),
                offset: offset as u64,
                bytes: written as u64,
            })
        } else {
            corrupt(damage)
        };
        return Ok(end(offset, records, ending));
    }
}

/// The corruption of `segment`'s name not being `expected`, the sequence after the previous
/// segment's last record.
fn name_mismatch(segment: &Segment, expected: Option<u64>) -> Option<Corruption> {
    let expected = expected?;
    (segment.sequence_first != expected).then(|| Corruption {
        file: segment.name.clone(),
        offset: 0,
        sequence_expected: expected,
        reason: CorruptionReason::SegmentNameMismatch {
            name_sequence: segment.sequence_first,
        },
    })
}

fn first_non_zero(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&byte| byte != 0)
}

fn list<S: Storage>(storage: &S) -> Result<Vec<Segment>, JournalError> {
    list_segments(storage)
        .map_err(|error| JournalError::storage(Operation::List, "the journal", None, &error))
}

fn read<S: Storage>(storage: &S, name: &str) -> Result<Vec<u8>, JournalError> {
    storage
        .read(name)
        .map_err(|error| JournalError::storage(Operation::Read, name, None, &error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::payload::encode_event;
    use crate::journal::record::encode_into;
    use crate::journal::segment::segment_name;
    use crate::journal::storage::SimulatedStorage;
    use crate::journal::writer::tests::{config, event_at};
    use crate::journal::writer::JournalWriter;

    const RECORD: u64 = RECORD_SIZE as u64;

    /// Events `0..35` in segments of 10 records (named 0, 10, 20, 30), committed in groups of 7.
    fn journal_of_35() -> SimulatedStorage {
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config(10), 0, None).unwrap();
        for sequence in 0..35 {
            writer.append(sequence, &event_at(sequence)).unwrap();
            if sequence % 7 == 6 {
                writer.commit().unwrap();
            }
        }
        assert_eq!(writer.durable_next(), 35);
        storage
    }

    fn events(storage: &SimulatedStorage, from: u64) -> Result<Vec<(u64, Event)>, JournalError> {
        let mut events = Vec::new();
        read_events(storage, from, |sequence, event| {
            events.push((sequence, *event));
            Ok::<(), Infallible>(())
        })
        .map_err(|error| match error {
            ReadEventsError::Journal(error) => error,
            ReadEventsError::Visitor(never) => match never {},
        })?;
        Ok(events)
    }

    fn expected_events(range: std::ops::Range<u64>) -> Vec<(u64, Event)> {
        range
            .map(|sequence| (sequence, event_at(sequence)))
            .collect()
    }

    /// Overwrites bytes of `name` at `offset` and syncs them.
    fn overwrite(storage: &SimulatedStorage, name: &str, offset: u64, bytes: &[u8]) {
        let mut storage = storage.clone();
        let mut file = storage.open(name).unwrap();
        file.write_at(offset, bytes).unwrap();
        file.sync_data().unwrap();
    }

    fn record_of(sequence: u64, event: &Event) -> [u8; RECORD_SIZE] {
        let mut bytes = [0u8; RECORD_SIZE];
        encode_into(&mut bytes, sequence, &encode_event(event));
        bytes
    }

    #[test]
    fn an_empty_directory_is_an_empty_journal() {
        let storage = SimulatedStorage::new();
        let found = scan(&storage).unwrap();
        assert_eq!(found, JournalScan::default());
        assert_eq!(found.resume(), None);
        assert_eq!(events(&storage, 7).unwrap(), Vec::new());
    }

    #[test]
    fn an_intact_journal_scans_clean_and_reads_back_every_event() {
        let storage = journal_of_35();
        let found = scan(&storage).unwrap();
        let records: Vec<(u64, u64, u64)> = found
            .segments
            .iter()
            .map(|segment| (segment.sequence_first, segment.records, segment.bytes_used))
            .collect();
        assert_eq!(
            records,
            vec![
                (0, 10, 10 * RECORD),
                (10, 10, 10 * RECORD),
                (20, 10, 10 * RECORD),
                (30, 5, 5 * RECORD)
            ]
        );
        assert_eq!(
            (found.sequence_first, found.sequence_next),
            (Some(0), Some(35))
        );
        assert_eq!(
            (found.torn_tail.clone(), found.corruption.clone()),
            (None, None)
        );
        assert_eq!(found.event_count(), 35);
        assert_eq!(
            found.resume(),
            Some(Resume {
                segment: segment_name(30),
                offset: 5 * RECORD
            })
        );
        assert_eq!(events(&storage, 0).unwrap(), expected_events(0..35));
        assert_eq!(events(&storage, 17).unwrap(), expected_events(17..35));
        assert_eq!(events(&storage, 35).unwrap(), Vec::new());
        assert!(matches!(
            events(&storage, 36),
            Err(JournalError::SequenceNotInJournal {
                requested: 36,
                next: 35,
                ..
            })
        ));
    }

    #[test]
    fn events_before_the_journal_s_first_are_reported_missing() {
        let storage = SimulatedStorage::new();
        let mut writer = JournalWriter::create(storage.clone(), config(10), 100, None).unwrap();
        writer.append(100, &event_at(100)).unwrap();
        writer.commit().unwrap();
        assert_eq!(
            events(&storage, 99),
            Err(JournalError::SequenceNotInJournal {
                requested: 99,
                first: 100,
                next: 100
            })
        );
        assert_eq!(events(&storage, 100).unwrap(), expected_events(100..101));
    }

    /// The bytes of sequence 34's record up to its last that is not zero: its trailing reserved
    /// and zero fields are not counted as torn.
    fn written_bytes(sequence: u64) -> u64 {
        let record = record_of(sequence, &event_at(sequence));
        let written = record.iter().rposition(|&byte| byte != 0).unwrap() + 1;
        assert!(written < RECORD_SIZE && written > RECORD_SIZE - 16);
        written as u64
    }

    /// One kind of damage, what the scan must say about it.
    struct Row {
        name: &'static str,
        damage: fn(&SimulatedStorage),
        torn_tail: Option<TornTail>,
        corruption: Option<Corruption>,
        sequence_next: u64,
    }

    fn corruption(first: u64, slot: u64, expected: u64, reason: CorruptionReason) -> Corruption {
        Corruption {
            file: segment_name(first),
            offset: slot * RECORD,
            sequence_expected: expected,
            reason,
        }
    }

    #[test]
    fn each_kind_of_damage_is_a_torn_tail_or_named_corruption() {
        let rows = [
            Row {
                name: "a flipped bit in the middle segment",
                damage: |storage| {
                    storage
                        .flip_bit(&segment_name(10), 3 * RECORD + 50, 2)
                        .unwrap()
                },
                torn_tail: None,
                corruption: Some(corruption(10, 3, 13, CorruptionReason::BadChecksum)),
                sequence_next: 13,
            },
            Row {
                name: "a flipped bit in the last record",
                damage: |storage| {
                    storage
                        .flip_bit(&segment_name(30), 4 * RECORD + 20, 0)
                        .unwrap()
                },
                torn_tail: Some(TornTail {
                    file: segment_name(30),
                    offset: 4 * RECORD,
                    bytes: written_bytes(34),
                }),
                corruption: None,
                sequence_next: 34,
            },
            Row {
                name: "a flipped bit in the last record's length",
                damage: |storage| storage.flip_bit(&segment_name(30), 4 * RECORD, 0).unwrap(),
                torn_tail: Some(TornTail {
                    file: segment_name(30),
                    offset: 4 * RECORD,
                    bytes: written_bytes(34),
                }),
                corruption: None,
                sequence_next: 34,
            },
            Row {
                name: "a bad length with records after it",
                damage: |storage| storage.flip_bit(&segment_name(30), RECORD, 0).unwrap(),
                torn_tail: None,
                corruption: Some(corruption(
                    30,
                    1,
                    31,
                    CorruptionReason::BadLength { length_bytes: 113 },
                )),
                sequence_next: 31,
            },
            Row {
                name: "a damaged last record in a segment that is not the last",
                damage: |storage| {
                    storage
                        .flip_bit(&segment_name(10), 9 * RECORD + 99, 5)
                        .unwrap()
                },
                torn_tail: None,
                corruption: Some(corruption(10, 9, 19, CorruptionReason::BadChecksum)),
                sequence_next: 19,
            },
            Row {
                name: "a torn write after the last record",
                damage: |storage| {
                    // The first 58 bytes end in `event_ns`'s low bytes, which are not zero.
                    let record = record_of(35, &event_at(35));
                    overwrite(storage, &segment_name(30), 5 * RECORD, &record[..58]);
                },
                torn_tail: Some(TornTail {
                    file: segment_name(30),
                    offset: 5 * RECORD,
                    bytes: 58,
                }),
                corruption: None,
                sequence_next: 35,
            },
            Row {
                name: "zeros where a record was, records after",
                damage: |storage| overwrite(storage, &segment_name(30), 2 * RECORD, &[0; 128]),
                torn_tail: None,
                corruption: Some(corruption(
                    30,
                    2,
                    32,
                    CorruptionReason::DataAfterZeros {
                        data_offset: 3 * RECORD,
                    },
                )),
                sequence_next: 32,
            },
            Row {
                name: "an intact record with the wrong sequence",
                damage: |storage| {
                    let record = record_of(99, &event_at(31));
                    overwrite(storage, &segment_name(30), RECORD, &record);
                },
                torn_tail: None,
                corruption: Some(corruption(
                    30,
                    1,
                    31,
                    CorruptionReason::SequenceMismatch { found: 99 },
                )),
                sequence_next: 31,
            },
            Row {
                name: "an intact record whose payload is no event",
                damage: |storage| {
                    let mut payload = encode_event(&event_at(31));
                    payload[104] = 77;
                    let mut record = [0u8; RECORD_SIZE];
                    encode_into(&mut record, 31, &payload);
                    overwrite(storage, &segment_name(30), RECORD, &record);
                },
                torn_tail: None,
                corruption: Some(corruption(
                    30,
                    1,
                    31,
                    CorruptionReason::Payload(PayloadError::UnknownKind { code: 77 }),
                )),
                sequence_next: 31,
            },
            Row {
                name: "a segment named out of sequence",
                damage: |storage| {
                    let mut storage = storage.clone();
                    storage
                        .rename(&segment_name(20), &segment_name(21))
                        .unwrap();
                },
                torn_tail: None,
                corruption: Some(corruption(
                    21,
                    0,
                    20,
                    CorruptionReason::SegmentNameMismatch { name_sequence: 21 },
                )),
                sequence_next: 20,
            },
        ];
        for row in rows {
            let storage = journal_of_35();
            (row.damage)(&storage);
            let found = scan(&storage).unwrap();
            assert_eq!(found.torn_tail, row.torn_tail, "{}", row.name);
            assert_eq!(found.corruption, row.corruption, "{}", row.name);
            assert_eq!(found.sequence_next, Some(row.sequence_next), "{}", row.name);
            assert_eq!(found.event_count(), row.sequence_next, "{}", row.name);
            let read = events(&storage, 0);
            match &row.corruption {
                Some(corruption) => {
                    assert_eq!(
                        read,
                        Err(JournalError::Corrupt(corruption.clone())),
                        "{}",
                        row.name
                    )
                }
                None => assert_eq!(
                    read,
                    Ok(expected_events(0..row.sequence_next)),
                    "{}",
                    row.name
                ),
            }
        }
    }

    #[test]
    fn a_repaired_torn_tail_scans_clean_and_the_writer_continues_the_sequence() {
        let mut storage = journal_of_35();
        storage
            .flip_bit(&segment_name(30), 4 * RECORD + 20, 0)
            .unwrap();
        let found = scan(&storage).unwrap();
        assert!(found.torn_tail.is_some());
        repair_torn_tail(&mut storage, &found).unwrap();
        let repaired = scan(&storage).unwrap();
        assert_eq!(
            (repaired.torn_tail.clone(), repaired.corruption.clone()),
            (None, None)
        );
        assert_eq!(repaired.sequence_next, Some(34));

        let mut writer = JournalWriter::create(
            storage.clone(),
            config(10),
            repaired.sequence_next.unwrap(),
            repaired.resume(),
        )
        .unwrap();
        for sequence in 34..48 {
            writer.append(sequence, &event_at(sequence)).unwrap();
        }
        writer.commit().unwrap();
        assert_eq!(events(&storage, 0).unwrap(), expected_events(0..48));
        assert_eq!(scan(&storage).unwrap().sequence_next, Some(48));
    }

    #[test]
    fn truncating_at_corruption_reports_what_it_discards_and_leaves_a_clean_journal() {
        // A flipped bit at sequence 13: 13..35 go, 22 events.
        let mut storage = journal_of_35();
        storage
            .flip_bit(&segment_name(10), 3 * RECORD + 50, 2)
            .unwrap();
        let found = scan(&storage).unwrap();
        let discarded = truncate_at(&mut storage, found.corruption.as_ref().unwrap()).unwrap();
        assert_eq!(discarded, 22);
        let after = scan(&storage).unwrap();
        assert_eq!(
            (after.torn_tail.clone(), after.corruption.clone()),
            (None, None)
        );
        assert_eq!(after.sequence_next, Some(13));
        assert_eq!(after.segments.len(), 2);
        let mut writer =
            JournalWriter::create(storage.clone(), config(10), 13, after.resume()).unwrap();
        for sequence in 13..40 {
            writer.append(sequence, &event_at(sequence)).unwrap();
        }
        writer.commit().unwrap();
        assert_eq!(events(&storage, 0).unwrap(), expected_events(0..40));

        // A segment misnamed: it and every later one go, 15 events, and its file is removed.
        let mut storage = journal_of_35();
        storage
            .rename(&segment_name(20), &segment_name(21))
            .unwrap();
        let found = scan(&storage).unwrap();
        let discarded = truncate_at(&mut storage, found.corruption.as_ref().unwrap()).unwrap();
        assert_eq!(discarded, 15);
        let after = scan(&storage).unwrap();
        assert_eq!(after.corruption, None);
        assert_eq!(after.sequence_next, Some(20));
        assert_eq!(
            crate::journal::list_segments(&storage).unwrap().len(),
            2,
            "the misnamed and later segments are removed"
        );
    }
}
