//! The wire codec against arbitrary input: decoding any bytes never panics, every frame a
//! strategy makes round-trips through `encode`/`decode` and through a `FrameReader` fed in
//! pieces split at random points, and a flipped header byte is an error or another frame, never
//! a panic.

use clearway_core::constants::{ACCOUNT_LENGTH_MAX, ERROR_REASON_LENGTH_MAX, FRAME_SIZE_MAX};
use clearway_core::event::{Account, Kind, Mac, ParticipantId, TxnId};
use clearway_core::wire::{
    decode, encode, Answer, Decoded, ErrorFrame, Forward, Frame, FrameReader, FrameType, Hello,
    QueryStatus, Reason, Signed, Status, Welcome, WireError, DECLINE_CODES, HEADER_SIZE,
    OUTCOME_CODES,
};
use proptest::prelude::*;

fn account() -> impl Strategy<Value = Account> {
    proptest::collection::vec(any::<u8>(), 0..=ACCOUNT_LENGTH_MAX)
        .prop_map(|bytes| Account::new(&bytes).expect("at most the longest account"))
}

fn signed() -> impl Strategy<Value = Signed> {
    (
        (any::<u128>(), any::<u128>(), any::<u64>(), any::<u64>()),
        (any::<[u8; 16]>(), account()),
        (any::<u16>(), any::<u16>(), 0..Kind::ALL.len(), any::<u8>()),
    )
        .prop_map(
            |(
                (txn_id, original, sent_ns, amount_fen),
                (mac, account),
                (sender, counterparty, kind, code),
            )| Signed {
                txn_id: TxnId(txn_id),
                original: TxnId(original),
                sent_ns,
                amount_fen,
                mac: Mac(mac),
                account,
                sender: ParticipantId(sender),
                counterparty: ParticipantId(counterparty),
                kind: Kind::ALL[kind],
                code,
            },
        )
}

/// Any frame of any type, every field over its whole range.
fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (any::<u16>(), any::<u64>(), any::<[u8; 16]>()).prop_map(|(id, nonce, mac)| {
            Frame::Hello(Hello {
                participant: ParticipantId(id),
                nonce,
                mac: Mac(mac),
            })
        }),
        (any::<bool>(), any::<u32>(), any::<u32>()).prop_map(|(accepted, in_flight, size)| {
            Frame::Welcome(Welcome {
                accepted,
                frames_in_flight_max: in_flight,
                frame_size_max: size,
            })
        }),
        signed().prop_map(Frame::Payment),
        signed().prop_map(Frame::Reply),
        (
            any::<u128>(),
            any::<u16>(),
            any::<u64>(),
            account(),
            any::<u64>()
        )
            .prop_map(|(txn_id, bank, amount_fen, account, sent_ns)| {
                Frame::Forward(Forward {
                    txn_id: TxnId(txn_id),
                    bank: ParticipantId(bank),
                    amount_fen,
                    account,
                    sent_ns,
                })
            }),
        (
            any::<u128>(),
            0..OUTCOME_CODES.len(),
            0..=DECLINE_CODES.len(),
            0..OUTCOME_CODES.len(),
            any::<u64>()
        )
            .prop_map(|(txn_id, outcome, decline, original, sent_ns)| {
                Frame::Answer(Answer {
                    txn_id: TxnId(txn_id),
                    outcome: OUTCOME_CODES[outcome].0,
                    decline: decline.checked_sub(1).map(|index| DECLINE_CODES[index].0),
                    original: OUTCOME_CODES[original].0,
                    sent_ns,
                })
            }),
        any::<u128>().prop_map(|txn_id| Frame::Busy(TxnId(txn_id))),
        any::<u128>().prop_map(|txn_id| Frame::Query(TxnId(txn_id))),
        (
            (
                any::<u128>(),
                0..QueryStatus::ALL.len(),
                0..OUTCOME_CODES.len(),
                0..Kind::ALL.len()
            ),
            (any::<u64>(), any::<u64>(), any::<u64>()),
        )
            .prop_map(
                |((txn_id, status, outcome, kind), (amount_fen, batch, finished_ns))| {
                    Frame::Status(Status {
                        txn_id: TxnId(txn_id),
                        status: QueryStatus::ALL[status],
                        outcome: OUTCOME_CODES[outcome].0,
                        kind: Kind::ALL[kind],
                        amount_fen,
                        batch,
                        finished_ns,
                    })
                }
            ),
        (any::<u16>(), any::<String>()).prop_map(|(code, text)| {
            Frame::Error(ErrorFrame {
                code,
                reason: Reason::truncated(&text),
            })
        }),
        (
            any::<u16>(),
            proptest::collection::vec(any::<char>(), 0..ERROR_REASON_LENGTH_MAX)
        )
            .prop_map(|(code, characters)| {
                let text: String = characters.into_iter().collect();
                Frame::Error(ErrorFrame {
                    code,
                    reason: Reason::truncated(&text),
                })
            }),
        any::<u64>().prop_map(Frame::Ping),
        any::<u64>().prop_map(Frame::Pong),
        any::<u16>().prop_map(Frame::Goodbye),
    ]
}

fn encoded(frame: &Frame) -> Vec<u8> {
    let mut out = [0u8; FRAME_SIZE_MAX];
    let size = encode(frame, &mut out).expect("every frame fits FRAME_SIZE_MAX");
    out[..size].to_vec()
}

/// The frames in `stream` read through a `FrameReader`, fed in pieces ending at `cuts`.
fn read_in_pieces(stream: &[u8], cuts: &[usize]) -> Result<Vec<Frame>, WireError> {
    let mut reader = FrameReader::new();
    let mut frames = Vec::new();
    let mut at = 0;
    let mut ends: Vec<usize> = cuts.iter().map(|cut| cut % (stream.len() + 1)).collect();
    ends.push(stream.len());
    ends.sort_unstable();
    for end in ends {
        while at < end {
            let taken = reader.push(&stream[at..end]);
            at += taken;
            while let Some(frame) = reader.next_frame()? {
                frames.push(frame);
            }
            assert!(
                taken > 0 || at == end,
                "the reader took nothing though every frame was taken"
            );
        }
    }
    Ok(frames)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decoding_any_bytes_never_panics_and_what_it_accepts_re_encodes_the_same(
        bytes in proptest::collection::vec(any::<u8>(), 0..2 * FRAME_SIZE_MAX),
    ) {
        match decode(&bytes) {
            Ok(Decoded::Frame(frame, size)) => {
                prop_assert!(size <= bytes.len() && size <= FRAME_SIZE_MAX);
                prop_assert_eq!(encoded(&frame), bytes[..size].to_vec());
            }
            Ok(Decoded::NeedMore(needed)) => {
                prop_assert!(needed > bytes.len() && needed <= FRAME_SIZE_MAX);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn bytes_with_a_valid_header_decode_without_panicking(
        frame_type in prop::sample::select(FrameType::ALL.map(|frame_type| frame_type as u8).to_vec()),
        length in 0u32..=(FRAME_SIZE_MAX as u32),
        body in proptest::collection::vec(any::<u8>(), 0..FRAME_SIZE_MAX),
    ) {
        let mut bytes = length.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[1, frame_type]);
        bytes.extend_from_slice(&body);
        if let Ok(Decoded::Frame(frame, size)) = decode(&bytes) {
            prop_assert_eq!(encoded(&frame), bytes[..size].to_vec());
        }
    }

    #[test]
    fn a_status_with_any_status_outcome_and_kind_byte_decodes_or_names_the_byte(
        txn_id in any::<u128>(),
        codes in any::<[u8; 3]>(),
        fields in any::<[u8; 24]>(),
    ) {
        let mut bytes = encoded(&Frame::Status(Status::bare(TxnId(txn_id), QueryStatus::Unknown)));
        bytes[HEADER_SIZE + 16..HEADER_SIZE + 19].copy_from_slice(&codes);
        bytes[HEADER_SIZE + 19..].copy_from_slice(&fields);
        let [status, outcome, kind] = codes;
        match decode(&bytes) {
            Ok(Decoded::Frame(Frame::Status(decoded), size)) => {
                prop_assert_eq!(size, bytes.len());
                prop_assert_eq!(decoded.status as u8, status);
                prop_assert_eq!(decoded.kind as u8, kind);
                prop_assert_eq!(encoded(&Frame::Status(decoded)), bytes);
            }
            Err(WireError::UnknownQueryStatus { code }) => {
                prop_assert_eq!(code, status);
                prop_assert!(usize::from(status) >= QueryStatus::ALL.len());
            }
            Err(WireError::UnknownOutcome { code }) => {
                prop_assert_eq!(code, outcome);
                prop_assert!(usize::from(outcome) >= OUTCOME_CODES.len());
            }
            Err(WireError::UnknownKind { code }) => {
                prop_assert_eq!(code, kind);
                prop_assert!(usize::from(kind) >= Kind::ALL.len());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn every_frame_round_trips(frame in frame()) {
        let bytes = encoded(&frame);
        prop_assert!(bytes.len() <= FRAME_SIZE_MAX);
        prop_assert_eq!(decode(&bytes), Ok(Decoded::Frame(frame, bytes.len())));
    }

    #[test]
    fn frames_fed_to_a_reader_split_anywhere_come_out_whole_and_in_order(
        frames in proptest::collection::vec(frame(), 1..60),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(encoded).collect();
        prop_assert_eq!(read_in_pieces(&stream, &cuts), Ok(frames));
    }

    #[test]
    fn a_flipped_header_byte_is_an_error_or_another_frame_never_a_panic(
        frame in frame(),
        at in 0..HEADER_SIZE,
        flip in 1u8..=255,
    ) {
        let mut bytes = encoded(&frame);
        bytes[at] ^= flip;
        match decode(&bytes) {
            Ok(Decoded::Frame(other, size)) => {
                prop_assert_ne!(other.frame_type(), frame.frame_type());
                prop_assert_eq!(encoded(&other), bytes[..size].to_vec());
            }
            Ok(Decoded::NeedMore(needed)) => prop_assert!(needed > bytes.len()),
            Err(_) => {}
        }
        // The reader gives the same verdict and never panics either.
        let mut reader = FrameReader::new();
        reader.push(&bytes);
        let _ = reader.next_frame();
    }
}
