//! Snapshot files: the switch's state as of a sequence, written atomically beside the journal so
//! that recovery replays only the events after it. The payload is opaque here (the state's
//! owner encodes it); this file frames it, checks it, and makes it appear all at once.
//!
//! A snapshot is named `snapshot-{sequence_next:020}.snap` and holds:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | magic, `CLWYSNAP` |
//! | 8..12 | format version, little-endian: [`SNAPSHOT_FORMAT_VERSION`] |
//! | 12..16 | CRC-32C of bytes 16..72 |
//! | 16..24 | `sequence_next`: every event with a sequence below it is in the snapshot |
//! | 24..32 | the payload's length |
//! | 32..36 | CRC-32C of the payload |
//! | 36..40 | reserved, zero |
//! | 40..72 | `state_hash` |
//! | 72.. | the payload |
//!
//! [`write_snapshot`] writes `….snap.tmp`, syncs it, renames it to its name and syncs the
//! directory, so a crash at any point leaves either no new snapshot (and at most a stale
//! temporary, which [`list_snapshots`] reports and [`remove_stale_temporaries`] clears) or the
//! whole new one.

use super::error::{JournalError, Operation};
use super::storage::{Storage, StorageFile};

/// The format [`write_snapshot`] writes and [`read_snapshot`] reads.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// The bytes before a snapshot's payload.
pub const SNAPSHOT_HEADER_SIZE: usize = 72;

const MAGIC: [u8; 8] = *b"CLWYSNAP";
const PREFIX: &str = "snapshot-";
const SUFFIX: &str = ".snap";
const TEMPORARY_SUFFIX: &str = ".tmp";
const DIGITS: usize = 20;

const VERSION_AT: usize = 8;
const HEADER_CHECKSUM_AT: usize = 12;
const SEQUENCE_NEXT_AT: usize = 16;
const PAYLOAD_LENGTH_AT: usize = 24;
const PAYLOAD_CHECKSUM_AT: usize = 32;
const STATE_HASH_AT: usize = 40;

const _: () = assert!(STATE_HASH_AT + 32 == SNAPSHOT_HEADER_SIZE);

/// A snapshot as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Every event with a sequence below this is in the state.
    pub sequence_next: u64,
    /// The state's hash, as its owner computed it.
    pub state_hash: [u8; 32],
    /// The state, encoded by its owner.
    pub payload: Vec<u8>,
}

/// A snapshot file in the directory, by its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SnapshotInfo {
    /// The `sequence_next` its name gives.
    pub sequence_next: u64,
    /// Its file name.
    pub name: String,
}

/// The snapshots in a directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotListing {
    /// Snapshot files, oldest (lowest `sequence_next`) first. Not yet checked: read one to know
    /// it is valid.
    pub snapshots: Vec<SnapshotInfo>,
    /// Temporaries a crash left behind mid-write, never used.
    pub temporaries: Vec<String>,
}

/// What [`newest_valid_snapshot`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewestSnapshot {
    /// The newest snapshot that reads back valid, with its name.
    pub snapshot: Option<(String, Snapshot)>,
    /// Newer snapshots passed over, and why each is invalid.
    pub invalid: Vec<(String, InvalidSnapshot)>,
}

/// Why a snapshot file is not a valid snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidSnapshot {
    /// Its name is not `snapshot-{20 digits}.snap`.
    NotASnapshotName,
    /// It is shorter than a header.
    TooShort {
        /// Its size.
        size_bytes: u64,
    },
    /// It does not start with the magic bytes.
    BadMagic,
    /// It is a format this build does not read.
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// The header's checksum does not match it.
    HeaderChecksum,
    /// The header's payload length is not the bytes after the header.
    LengthMismatch {
        /// The length the header gives.
        declared_bytes: u64,
        /// The bytes there are.
        available_bytes: u64,
    },
    /// The payload's checksum does not match it.
    PayloadChecksum,
    /// The name's sequence is not the header's.
    NameMismatch {
        /// The sequence the name gives.
        name_sequence: u64,
        /// The sequence the header gives.
        header_sequence: u64,
    },
}

impl std::fmt::Display for InvalidSnapshot {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidSnapshot::NotASnapshotName => formatter.write_str("it is not named as one"),
            InvalidSnapshot::TooShort { size_bytes } => write!(
                formatter,
                "it is {size_bytes} bytes, shorter than the {SNAPSHOT_HEADER_SIZE}-byte header"
            ),
            InvalidSnapshot::BadMagic => formatter.write_str("it does not start with CLWYSNAP"),
            InvalidSnapshot::UnsupportedVersion { version } => write!(
                formatter,
                "it is format version {version}; this build reads {SNAPSHOT_FORMAT_VERSION}"
            ),
            InvalidSnapshot::HeaderChecksum => {
                formatter.write_str("its header's checksum does not match")
            }
            InvalidSnapshot::LengthMismatch {
                declared_bytes,
                available_bytes,
            } => write!(
                formatter,
                "its header declares {declared_bytes} payload bytes, and {available_bytes} follow"
            ),
            InvalidSnapshot::PayloadChecksum => {
                formatter.write_str("its payload's checksum does not match")
            }
            InvalidSnapshot::NameMismatch {
                name_sequence,
                header_sequence,
            } => write!(
                formatter,
                "its name says sequence {name_sequence} and its header {header_sequence}"
            ),
        }
    }
}

/// Why [`read_snapshot`] returned no snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The file could not be read.
    Storage(JournalError),
    /// The file is not a valid snapshot.
    Invalid {
        /// The file.
        file: String,
        /// Why.
        reason: InvalidSnapshot,
    },
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Storage(error) => error.fmt(formatter),
            SnapshotError::Invalid { file, reason } => {
                write!(formatter, "{file} is not a valid snapshot: {reason}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// The name of the snapshot with `sequence_next`.
pub fn snapshot_name(sequence_next: u64) -> String {
    format!("{PREFIX}{sequence_next:0DIGITS$}{SUFFIX}")
}

/// The `sequence_next` a snapshot's name gives, if `name` is exactly a snapshot's name.
pub fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Writes a snapshot atomically (see the module doc) and returns its name. A stale temporary of
/// the same name is removed first.
pub fn write_snapshot<S: Storage>(
    storage: &mut S,
    sequence_next: u64,
    state_hash: &[u8; 32],
    payload: &[u8],
) -> Result<String, JournalError> {
    let name = snapshot_name(sequence_next);
    let temporary = format!("{name}{TEMPORARY_SUFFIX}");
    if list(storage)?.contains(&temporary) {
        storage
            .remove(&temporary)
            .map_err(|error| JournalError::storage(Operation::Remove, &temporary, None, &error))?;
    }
    let mut bytes = Vec::with_capacity(SNAPSHOT_HEADER_SIZE + payload.len());
    bytes.extend_from_slice(&header(sequence_next, state_hash, payload));
    bytes.extend_from_slice(payload);
    let mut file = storage
        .create(&temporary, bytes.len() as u64)
        .map_err(|error| JournalError::storage(Operation::Create, &temporary, None, &error))?;
    file.write_at(0, &bytes)
        .map_err(|error| JournalError::storage(Operation::Write, &temporary, Some(0), &error))?;
    file.sync_data()
        .map_err(|error| JournalError::storage(Operation::Sync, &temporary, None, &error))?;
    drop(file);
    storage
        .rename(&temporary, &name)
        .map_err(|error| JournalError::storage(Operation::Rename, &temporary, None, &error))?;
    storage
        .sync_directory()
        .map_err(|error| JournalError::storage(Operation::SyncDirectory, &name, None, &error))?;
    Ok(name)
}

/// The header of a snapshot of `payload`.
fn header(sequence_next: u64, state_hash: &[u8; 32], payload: &[u8]) -> [u8; SNAPSHOT_HEADER_SIZE] {
    let mut header = [0u8; SNAPSHOT_HEADER_SIZE];
    header[..VERSION_AT].copy_from_slice(&MAGIC);
    header[VERSION_AT..HEADER_CHECKSUM_AT].copy_from_slice(&SNAPSHOT_FORMAT_VERSION.to_le_bytes());
    header[SEQUENCE_NEXT_AT..PAYLOAD_LENGTH_AT].copy_from_slice(&sequence_next.to_le_bytes());
    header[PAYLOAD_LENGTH_AT..PAYLOAD_CHECKSUM_AT]
        .copy_from_slice(&(payload.len() as u64).to_le_bytes());
    header[PAYLOAD_CHECKSUM_AT..PAYLOAD_CHECKSUM_AT + 4]
        .copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    header[STATE_HASH_AT..].copy_from_slice(state_hash);
    let checksum = crc32c::crc32c(&header[SEQUENCE_NEXT_AT..]);
    header[HEADER_CHECKSUM_AT..SEQUENCE_NEXT_AT].copy_from_slice(&checksum.to_le_bytes());
    header
}

/// The snapshots and stale temporaries in `storage`.
pub fn list_snapshots<S: Storage>(storage: &S) -> Result<SnapshotListing, JournalError> {
    let mut listing = SnapshotListing::default();
    for name in list(storage)? {
        if let Some(sequence_next) = parse_snapshot_name(&name) {
            listing.snapshots.push(SnapshotInfo {
                sequence_next,
                name,
            });
        } else if is_temporary(&name) {
            listing.temporaries.push(name);
        }
    }
    listing.snapshots.sort();
    listing.temporaries.sort();
    Ok(listing)
}

/// Reads and checks the snapshot `name`: its name, magic, version, header checksum, the payload
/// length against the file's size (before the payload is taken), the payload checksum, and that
/// name and header agree.
pub fn read_snapshot<S: Storage>(storage: &S, name: &str) -> Result<Snapshot, SnapshotError> {
    let invalid = |reason| SnapshotError::Invalid {
        file: name.to_string(),
        reason,
    };
    let name_sequence =
        parse_snapshot_name(name).ok_or(invalid(InvalidSnapshot::NotASnapshotName))?;
    let mut bytes = storage.read(name).map_err(|error| {
        SnapshotError::Storage(JournalError::storage(Operation::Read, name, None, &error))
    })?;
    let Some(header) = bytes.get(..SNAPSHOT_HEADER_SIZE) else {
        return Err(invalid(InvalidSnapshot::TooShort {
            size_bytes: bytes.len() as u64,
        }));
    };
    if header[..VERSION_AT] != MAGIC {
        return Err(invalid(InvalidSnapshot::BadMagic));
    }
    let version = u32::from_le_bytes(field(header, VERSION_AT));
    if version != SNAPSHOT_FORMAT_VERSION {
        return Err(invalid(InvalidSnapshot::UnsupportedVersion { version }));
    }
    if u32::from_le_bytes(field(header, HEADER_CHECKSUM_AT))
        != crc32c::crc32c(&header[SEQUENCE_NEXT_AT..])
    {
        return Err(invalid(InvalidSnapshot::HeaderChecksum));
    }
    let declared_bytes = u64::from_le_bytes(field(header, PAYLOAD_LENGTH_AT));
    let available_bytes = (bytes.len() - SNAPSHOT_HEADER_SIZE) as u64;
    if declared_bytes != available_bytes {
        return Err(invalid(InvalidSnapshot::LengthMismatch {
            declared_bytes,
            available_bytes,
        }));
    }
    let payload_checksum = u32::from_le_bytes(field(header, PAYLOAD_CHECKSUM_AT));
    if payload_checksum != crc32c::crc32c(&bytes[SNAPSHOT_HEADER_SIZE..]) {
        return Err(invalid(InvalidSnapshot::PayloadChecksum));
    }
    let header_sequence = u64::from_le_bytes(field(header, SEQUENCE_NEXT_AT));
    if header_sequence != name_sequence {
        return Err(invalid(InvalidSnapshot::NameMismatch {
            name_sequence,
            header_sequence,
        }));
    }
    let state_hash = field(header, STATE_HASH_AT);
    // The file's own buffer becomes the payload: no second allocation of its size.
    bytes.drain(..SNAPSHOT_HEADER_SIZE);
    Ok(Snapshot {
        sequence_next: header_sequence,
        state_hash,
        payload: bytes,
    })
}

/// The newest snapshot that reads back valid, passing over (and reporting) newer ones that do
/// not. Only a storage failure is an error.
pub fn newest_valid_snapshot<S: Storage>(storage: &S) -> Result<NewestSnapshot, JournalError> {
    let mut newest = NewestSnapshot::default();
    for info in list_snapshots(storage)?.snapshots.into_iter().rev() {
        match read_snapshot(storage, &info.name) {
            Ok(snapshot) => {
                newest.snapshot = Some((info.name, snapshot));
                break;
            }
            Err(SnapshotError::Invalid { file, reason }) => newest.invalid.push((file, reason)),
            Err(SnapshotError::Storage(error)) => return Err(error),
        }
    }
    Ok(newest)
}

/// Removes the temporaries a crash left mid-write, syncs the directory, and returns their names.
pub fn remove_stale_temporaries<S: Storage>(storage: &mut S) -> Result<Vec<String>, JournalError> {
    let temporaries = list_snapshots(storage)?.temporaries;
    for name in &temporaries {
        storage
            .remove(name)
            .map_err(|error| JournalError::storage(Operation::Remove, name, None, &error))?;
    }
    if !temporaries.is_empty() {
        storage.sync_directory().map_err(|error| {
            JournalError::storage(Operation::SyncDirectory, &temporaries[0], None, &error)
        })?;
    }
    Ok(temporaries)
}

fn is_temporary(name: &str) -> bool {
    name.strip_suffix(TEMPORARY_SUFFIX)
        .is_some_and(|snapshot| parse_snapshot_name(snapshot).is_some())
}

fn list<S: Storage>(storage: &S) -> Result<Vec<String>, JournalError> {
    storage
        .list()
        .map_err(|error| JournalError::storage(Operation::List, "the journal", None, &error))
}

/// The `N` header bytes starting at `at`; every caller's range lies inside the header.
fn field<const N: usize>(header: &[u8], at: usize) -> [u8; N] {
    let mut part = [0u8; N];
    part.copy_from_slice(&header[at..at + N]);
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::storage::SimulatedStorage;
    use crate::journal::StorageFailure;

    const HASH: [u8; 32] = [0x5a; 32];

    fn invalid(result: Result<Snapshot, SnapshotError>) -> InvalidSnapshot {
        match result {
            Err(SnapshotError::Invalid { reason, .. }) => reason,
            other => panic!("expected an invalid snapshot, got {other:?}"),
        }
    }

    #[test]
    fn a_snapshot_round_trips_and_lists_in_order() {
        let mut storage = SimulatedStorage::new();
        let payload: Vec<u8> = (0..1_000u32).map(|index| (index * 7) as u8).collect();
        let name = write_snapshot(&mut storage, 4_096, &HASH, &payload).unwrap();
        assert_eq!(name, "snapshot-00000000000000004096.snap");
        write_snapshot(&mut storage, 17, &[1; 32], b"").unwrap();
        let snapshot = read_snapshot(&storage, &name).unwrap();
        assert_eq!(
            snapshot,
            Snapshot {
                sequence_next: 4_096,
                state_hash: HASH,
                payload
            }
        );
        let listing = list_snapshots(&storage).unwrap();
        let order: Vec<u64> = listing
            .snapshots
            .iter()
            .map(|info| info.sequence_next)
            .collect();
        assert_eq!(order, vec![17, 4_096]);
        assert!(listing.temporaries.is_empty());
        let empty = read_snapshot(&storage, &snapshot_name(17)).unwrap();
        assert_eq!((empty.payload.len(), empty.state_hash), (0, [1; 32]));
        // Both names and contents survive any crash: each write synced the file and directory.
        for seed in 0..20 {
            let crashed = storage.crash(seed);
            assert_eq!(read_snapshot(&crashed, &name).unwrap().sequence_next, 4_096);
        }
    }

    #[test]
    fn damage_anywhere_makes_a_snapshot_invalid_by_name() {
        let payload = [9u8; 100];
        let good = {
            let mut bytes = header(64, &HASH, &payload).to_vec();
            bytes.extend_from_slice(&payload);
            bytes
        };
        let with = |at: usize, value: u8| {
            let mut bytes = good.clone();
            bytes[at] = value;
            bytes
        };
        let long_declared = {
            // A header declaring a payload of 2^60 bytes, its checksum made to match: refused
            // against the file's size before anything of that length is allocated.
            let mut bytes = good.clone();
            bytes[PAYLOAD_LENGTH_AT..PAYLOAD_CHECKSUM_AT]
                .copy_from_slice(&(1u64 << 60).to_le_bytes());
            let checksum = crc32c::crc32c(&bytes[SEQUENCE_NEXT_AT..SNAPSHOT_HEADER_SIZE]);
            bytes[HEADER_CHECKSUM_AT..SEQUENCE_NEXT_AT].copy_from_slice(&checksum.to_le_bytes());
            bytes
        };
        let rows: Vec<(&str, Vec<u8>, InvalidSnapshot)> = vec![
            (
                "empty",
                Vec::new(),
                InvalidSnapshot::TooShort { size_bytes: 0 },
            ),
            (
                "half a header",
                good[..40].to_vec(),
                InvalidSnapshot::TooShort { size_bytes: 40 },
            ),
            ("magic", with(0, b'X'), InvalidSnapshot::BadMagic),
            (
                "version",
                with(VERSION_AT, 2),
                InvalidSnapshot::UnsupportedVersion { version: 2 },
            ),
            (
                "sequence",
                with(SEQUENCE_NEXT_AT, 65),
                InvalidSnapshot::HeaderChecksum,
            ),
            (
                "state hash",
                with(STATE_HASH_AT + 31, 0),
                InvalidSnapshot::HeaderChecksum,
            ),
            (
                "declared length",
                long_declared,
                InvalidSnapshot::LengthMismatch {
                    declared_bytes: 1 << 60,
                    available_bytes: 100,
                },
            ),
            (
                "cut short",
                good[..good.len() - 1].to_vec(),
                InvalidSnapshot::LengthMismatch {
                    declared_bytes: 100,
                    available_bytes: 99,
                },
            ),
            (
                "payload",
                with(SNAPSHOT_HEADER_SIZE + 50, 8),
                InvalidSnapshot::PayloadChecksum,
            ),
        ];
        for (name, bytes, expected) in rows {
            let mut storage = SimulatedStorage::new();
            let mut file = storage.create(&snapshot_name(64), 0).unwrap();
            file.write_at(0, &bytes).unwrap();
            let found = invalid(read_snapshot(&storage, &snapshot_name(64)));
            assert_eq!(found, expected, "{name}");
        }

        let mut storage = SimulatedStorage::new();
        let mut file = storage.create(&snapshot_name(65), 0).unwrap();
        file.write_at(0, &good).unwrap();
        assert_eq!(
            invalid(read_snapshot(&storage, &snapshot_name(65))),
            InvalidSnapshot::NameMismatch {
                name_sequence: 65,
                header_sequence: 64
            }
        );
        assert_eq!(
            invalid(read_snapshot(&storage, "snapshot-65.snap")),
            InvalidSnapshot::NotASnapshotName
        );
    }

    #[test]
    fn a_crash_before_the_rename_leaves_the_previous_snapshot_newest() {
        let mut storage = SimulatedStorage::new();
        write_snapshot(&mut storage, 100, &HASH, b"old state").unwrap();
        // The new snapshot's file sync fails: it never reaches its rename.
        storage.fail_nth_sync(1);
        let failed = write_snapshot(&mut storage, 200, &[2; 32], b"new state");
        assert!(matches!(
            failed,
            Err(JournalError::Storage(StorageFailure {
                operation: Operation::Sync,
                ..
            }))
        ));
        for seed in 0..50 {
            let mut crashed = storage.crash(seed);
            let newest = newest_valid_snapshot(&crashed).unwrap();
            let (name, snapshot) = newest.snapshot.expect("the old snapshot survives");
            assert_eq!(name, snapshot_name(100), "seed {seed}");
            assert_eq!(snapshot.payload, b"old state", "seed {seed}");
            assert!(newest.invalid.is_empty(), "seed {seed}");
            let temporaries = list_snapshots(&crashed).unwrap().temporaries;
            let removed = remove_stale_temporaries(&mut crashed).unwrap();
            assert_eq!(removed, temporaries, "seed {seed}");
            assert!(list_snapshots(&crashed).unwrap().temporaries.is_empty());
        }
        // Some crash keeps the temporary's name, which is then reported.
        assert!((0..50).any(|seed| !list_snapshots(&storage.crash(seed))
            .unwrap()
            .temporaries
            .is_empty()));
    }

    #[test]
    fn a_crash_before_the_directory_sync_leaves_the_old_or_the_whole_new_snapshot() {
        let mut storage = SimulatedStorage::new();
        write_snapshot(&mut storage, 100, &HASH, b"old state").unwrap();
        // The file sync is the first, the directory's the second.
        storage.fail_nth_sync(2);
        assert!(write_snapshot(&mut storage, 200, &[2; 32], b"new state").is_err());
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let newest = newest_valid_snapshot(&storage.crash(seed)).unwrap();
            assert!(
                newest.invalid.is_empty(),
                "seed {seed}: {:?}",
                newest.invalid
            );
            let (_, snapshot) = newest.snapshot.unwrap();
            let expected: &[u8] = match snapshot.sequence_next {
                100 => b"old state",
                200 => b"new state",
                other => panic!("seed {seed}: snapshot {other}"),
            };
            assert_eq!(snapshot.payload, expected, "seed {seed}");
            seen.insert(snapshot.sequence_next);
        }
        assert_eq!(seen.len(), 2, "both outcomes happen across seeds");
    }

    #[test]
    fn a_corrupt_newest_snapshot_is_reported_and_passed_over() {
        let mut storage = SimulatedStorage::new();
        write_snapshot(&mut storage, 100, &HASH, b"old state").unwrap();
        let newer = write_snapshot(&mut storage, 200, &HASH, b"new state").unwrap();
        storage
            .flip_bit(&newer, SNAPSHOT_HEADER_SIZE as u64 + 2, 3)
            .unwrap();
        let newest = newest_valid_snapshot(&storage).unwrap();
        assert_eq!(newest.snapshot.unwrap().0, snapshot_name(100));
        assert_eq!(
            newest.invalid,
            vec![(newer.clone(), InvalidSnapshot::PayloadChecksum)]
        );
        let error = read_snapshot(&storage, &newer).unwrap_err();
        assert_eq!(
            error.to_string(),
            "snapshot-00000000000000000200.snap is not a valid snapshot: its payload's \
             checksum does not match"
        );
    }
}
