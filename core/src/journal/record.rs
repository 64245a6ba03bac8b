//! A record: one journaled event framed so that a reader can tell a whole, intact record from
//! unwritten space, a torn write or a flipped bit.
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..4 | `length`: the payload's bytes, little-endian; always [`EVENT_PAYLOAD_SIZE`] |
//! | 4..12 | `sequence`, little-endian |
//! | 12..16 | CRC-32C (Castagnoli) over bytes 0..12 and the payload, little-endian |
//! | 16..128 | the payload: [`encode_event`](super::encode_event)'s bytes |
//!
//! The checksum covers the length and the sequence as well as the payload, so a flipped bit
//! anywhere in the record is caught (CRC-32C detects every error of up to 5 bits in a message
//! this short). Only events are journaled, so a length other than [`EVENT_PAYLOAD_SIZE`] is
//! itself a sign of damage, and every record is [`RECORD_SIZE`] bytes: a segment's records tile
//! it from byte 0. A length of zero is never written, so an all-zero header is unwritten,
//! pre-allocated space.

use super::payload::EVENT_PAYLOAD_SIZE;
use crate::constants::JOURNAL_RECORD_SIZE_BYTES;

/// The bytes of a record's header: length, sequence, checksum.
pub const RECORD_HEADER_SIZE: usize = 16;

/// The bytes of a whole record: header and an event's payload.
pub const RECORD_SIZE: usize = RECORD_HEADER_SIZE + EVENT_PAYLOAD_SIZE;

const _: () = assert!(RECORD_SIZE == JOURNAL_RECORD_SIZE_BYTES);

const LENGTH_AT: usize = 0;
const SEQUENCE_AT: usize = 4;
const CHECKSUM_AT: usize = 12;

/// What [`decode`] found at the start of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole record whose checksum matches.
    Record {
        /// The record's sequence.
        sequence: u64,
        /// Its payload: [`EVENT_PAYLOAD_SIZE`] bytes.
        payload: &'a [u8],
        /// Its bytes, header included: where the next record starts.
        size_bytes: usize,
    },
    /// The header is all zeros (or the bytes, fewer than a header, are): space never written.
    Zero,
    /// The bytes end before the record does: fewer than a header, not all zero, or a header
    /// whose payload is cut short.
    Truncated {
        /// The bytes the record needs.
        needed_bytes: usize,
        /// The bytes there are.
        available_bytes: usize,
    },
    /// The header's length is not [`EVENT_PAYLOAD_SIZE`]: only events are journaled, so the
    /// header is damaged or was never wholly written.
    BadLength {
        /// The length found.
        length_bytes: u32,
    },
    /// The checksum does not match the record's bytes.
    BadChecksum {
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the bytes as they are.
        computed: u32,
    },
}

/// Writes the record of `payload` at `sequence` at the start of `buffer`, returning its size,
/// [`RECORD_SIZE`]. No allocation.
///
/// # Panics
///
/// If `buffer` is shorter than [`RECORD_SIZE`]: callers size their buffers in whole records.
pub fn encode_into(buffer: &mut [u8], sequence: u64, payload: &[u8; EVENT_PAYLOAD_SIZE]) -> usize {
    assert!(
        buffer.len() >= RECORD_SIZE,
        "a record needs {RECORD_SIZE} bytes; the buffer has {}",
        buffer.len()
    );
    let record = &mut buffer[..RECORD_SIZE];
    record[LENGTH_AT..SEQUENCE_AT].copy_from_slice(&(EVENT_PAYLOAD_SIZE as u32).to_le_bytes());
    record[SEQUENCE_AT..CHECKSUM_AT].copy_from_slice(&sequence.to_le_bytes());
    record[RECORD_HEADER_SIZE..].copy_from_slice(payload);
    let checksum = checksum(&record[..CHECKSUM_AT], &record[RECORD_HEADER_SIZE..]);
    record[CHECKSUM_AT..RECORD_HEADER_SIZE].copy_from_slice(&checksum.to_le_bytes());
    RECORD_SIZE
}

/// What the start of `bytes` holds. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let Some(header) = bytes.get(..RECORD_HEADER_SIZE) else {
        return if bytes.iter().all(|&byte| byte == 0) {
            Decoded::Zero
        } else {
            Decoded::Truncated {
                needed_bytes: RECORD_HEADER_SIZE,
                available_bytes: bytes.len(),
            }
        };
    };
    if header.iter().all(|&byte| byte == 0) {
        return Decoded::Zero;
    }
    let length_bytes = u32::from_le_bytes(field(header, LENGTH_AT));
    if length_bytes as usize != EVENT_PAYLOAD_SIZE {
        return Decoded::BadLength { length_bytes };
    }
    let Some(payload) = bytes.get(RECORD_HEADER_SIZE..RECORD_SIZE) else {
        return Decoded::Truncated {
            needed_bytes: RECORD_SIZE,
            available_bytes: bytes.len(),
        };
    };
    let stored = u32::from_le_bytes(field(header, CHECKSUM_AT));
    let computed = checksum(&header[..CHECKSUM_AT], payload);
    if stored != computed {
        return Decoded::BadChecksum { stored, computed };
    }
    Decoded::Record {
        sequence: u64::from_le_bytes(field(header, SEQUENCE_AT)),
        payload,
        size_bytes: RECORD_SIZE,
    }
}

/// CRC-32C over the header's length and sequence, then the payload.
fn checksum(length_and_sequence: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(length_and_sequence), payload)
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
    use proptest::prelude::*;

    fn record(sequence: u64, payload: [u8; EVENT_PAYLOAD_SIZE]) -> [u8; RECORD_SIZE] {
        let mut buffer = [0u8; RECORD_SIZE];
        assert_eq!(encode_into(&mut buffer, sequence, &payload), RECORD_SIZE);
        buffer
    }

    #[test]
    fn a_record_round_trips_and_the_next_starts_after_it() {
        let payload = [7u8; EVENT_PAYLOAD_SIZE];
        let mut buffer = vec![0u8; 2 * RECORD_SIZE];
        encode_into(&mut buffer, 41, &payload);
        encode_into(&mut buffer[RECORD_SIZE..], 42, &payload);
        let Decoded::Record {
            sequence,
            payload: found,
            size_bytes,
        } = decode(&buffer)
        else {
            panic!("{:?}", decode(&buffer));
        };
        assert_eq!(
            (sequence, found, size_bytes),
            (41, &payload[..], RECORD_SIZE)
        );
        assert!(matches!(
            decode(&buffer[size_bytes..]),
            Decoded::Record { sequence: 42, .. }
        ));
    }

    #[test]
    fn each_kind_of_damage_decodes_to_its_own_answer() {
        let good = record(5, [3u8; EVENT_PAYLOAD_SIZE]);
        let mut bad_length = good;
        bad_length[LENGTH_AT] = 111;
        let mut flipped = good;
        flipped[RECORD_SIZE - 1] ^= 0x10;
        let rows: Vec<(&str, Vec<u8>, Decoded)> = vec![
            ("nothing", Vec::new(), Decoded::Zero),
            ("a few zeros", vec![0; 5], Decoded::Zero),
            ("a zero header", vec![0; RECORD_HEADER_SIZE], Decoded::Zero),
            ("a zero record", vec![0; RECORD_SIZE], Decoded::Zero),
            (
                "half a header",
                good[..8].to_vec(),
                Decoded::Truncated {
                    needed_bytes: RECORD_HEADER_SIZE,
                    available_bytes: 8,
                },
            ),
            (
                "a header and part of a payload",
                good[..100].to_vec(),
                Decoded::Truncated {
                    needed_bytes: RECORD_SIZE,
                    available_bytes: 100,
                },
            ),
            (
                "a length that is not an event's",
                bad_length.to_vec(),
                Decoded::BadLength { length_bytes: 111 },
            ),
        ];
        for (name, bytes, expected) in rows {
            assert_eq!(decode(&bytes), expected, "{name}");
        }
        assert!(matches!(decode(&flipped), Decoded::BadChecksum { .. }));
    }

    proptest! {
        #[test]
        fn decoding_any_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..2 * RECORD_SIZE),
        ) {
            let decoded = decode(&bytes);
            if let Decoded::Record { payload, size_bytes, .. } = decoded {
                prop_assert_eq!(payload.len(), EVENT_PAYLOAD_SIZE);
                prop_assert!(size_bytes <= bytes.len());
            }
        }

        #[test]
        fn any_single_bit_flip_is_detected(
            sequence in any::<u64>(),
            payload in any::<[u8; EVENT_PAYLOAD_SIZE]>(),
        ) {
            let good = record(sequence, payload);
            let intact = matches!(decode(&good), Decoded::Record { .. });
            prop_assert!(intact, "{:?}", decode(&good));
            for bit in 0..RECORD_SIZE * 8 {
                let mut bytes = good;
                bytes[bit / 8] ^= 1 << (bit % 8);
                let decoded = decode(&bytes);
                let caught =
                    matches!(decoded, Decoded::BadChecksum { .. } | Decoded::BadLength { .. });
                prop_assert!(caught, "bit {} gave {:?}", bit, decoded);
            }
        }
    }
}
