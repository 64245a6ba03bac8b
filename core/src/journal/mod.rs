//! The journal: every event the switch accepts, on disk in order before it is acknowledged, so
//! that a restarted switch replays them and reaches the same state. The principal type in this
//! module is [`JournalWriter`]: it appends events to segment files and makes them durable with
//! one `fdatasync` per group commit. This module holds the files and no threads; the stage that
//! runs a writer on the ring is built on it.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `payload.rs` | [`encode_event`], [`decode_event`]: the event's 112 bytes, little-endian |
//! | `record.rs` | a record: length, sequence and CRC-32C around a payload; [`record::decode`] |
//! | `segment.rs` | segment files, `journal-{sequence_first:020}.seg`: naming, listing in order |
//! | `writer.rs` | [`JournalWriter`], [`JournalConfig`], [`Durability`], [`Commit`] |
//! | `scan.rs` | [`scan`] for recovery: [`TornTail`], [`Corruption`], [`Resume`]; [`read_events`] |
//! | `snapshot_file.rs` | atomic snapshot files: [`write_snapshot`], [`read_snapshot`] |
//! | `storage.rs` | [`Storage`], the directory as a trait; [`FileStorage`], [`SimulatedStorage`] |
//! | `recovery.rs` | [`recover`] and [`rebuild`]: the switch's state from snapshot and journal |
//! | `error.rs` | [`JournalError`]: every failure, naming file, offset and cause |
//!
//! # Recovery, in order
//!
//! [`recover`] does these steps for a node about to start:
//!
//! 1. [`newest_valid_snapshot`] gives the state to start from and its `sequence_next`;
//!    [`remove_stale_temporaries`] clears what a crash mid-snapshot left.
//! 2. [`scan`] the journal. A [`Corruption`] stops recovery for the operator: it is never
//!    skipped ([`truncate_at`] discards from it on, when the operator says so). A [`TornTail`] is
//!    cleared with [`repair_torn_tail`] and reported.
//! 3. [`read_events`] from the snapshot's `sequence_next`, replaying each.
//! 4. [`JournalWriter::create`] with the scan's `sequence_next` and [`JournalScan::resume`].

mod error;
mod payload;
pub mod record;
mod recovery;
mod scan;
mod segment;
mod snapshot_file;
pub mod storage;
mod writer;

pub use error::{JournalError, Operation, StorageFailure};
pub use payload::{decode_event, encode_event, PayloadError, EVENT_PAYLOAD_SIZE};
pub use record::{Decoded, RECORD_HEADER_SIZE, RECORD_SIZE};
pub use recovery::{
    rebuild, recover, restore, Rebuilt, Recovery, RecoveryError, ReplayFrom, ReplayObserver,
    SnapshotUsed, StoreToRecover,
};
pub use scan::{
    read_events, repair_torn_tail, scan, truncate_at, Corruption, CorruptionReason, JournalScan,
    ReadEventsError, Resume, SegmentScan, TornTail,
};
pub use segment::{list_segments, parse_segment_name, segment_name, Segment};
pub use snapshot_file::{
    list_snapshots, newest_valid_snapshot, parse_snapshot_name, read_snapshot,
    remove_stale_temporaries, snapshot_name, write_snapshot, InvalidSnapshot, NewestSnapshot,
    Snapshot, SnapshotError, SnapshotInfo, SnapshotListing, SNAPSHOT_FORMAT_VERSION,
    SNAPSHOT_HEADER_SIZE,
};
pub use storage::{FileStorage, SimulatedStorage, Storage, StorageFile};
pub use writer::{Commit, Durability, JournalConfig, JournalWriter, WriterStats};
