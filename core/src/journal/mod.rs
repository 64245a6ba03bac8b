//! The journal: every event the switch accepts, on disk in order before it is acknowledged, so
//! that a restarted switch replays them and reaches the same state.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `payload.rs` | [`encode_event`], [`decode_event`]: the event's 112 bytes, little-endian |
//! | `record.rs` | a record: length, sequence and CRC-32C around a payload; [`record::decode`] |
//! | `segment.rs` | segment files, `journal-{sequence_first:020}.seg`: naming, listing in order |
//! | `storage.rs` | [`Storage`], the directory as a trait; [`FileStorage`], [`SimulatedStorage`] |

mod payload;
pub mod record;
mod segment;
pub mod storage;

pub use payload::{decode_event, encode_event, PayloadError, EVENT_PAYLOAD_SIZE};
pub use record::{Decoded, RECORD_HEADER_SIZE, RECORD_SIZE};
pub use segment::{list_segments, parse_segment_name, segment_name, Segment};
pub use storage::{FileStorage, SimulatedStorage, Storage, StorageFile};
