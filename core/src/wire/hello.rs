//! The HELLO's MAC: how a client proves it holds its participant's key without sending it.
//!
//! The MAC is HMAC-SHA256, truncated to 16 bytes, over exactly 27 bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..17 | the ASCII label `clearway-hello-v1` ([`HELLO_LABEL`]) |
//! | 17..19 | the participant id (u16, little-endian) |
//! | 19..27 | the nonce (u64, little-endian) |
//!
//! The label keeps a HELLO's MAC from ever being mistaken for an event's (an event's signed
//! bytes are 74 long and start with a transaction id), and the `-v1` lets a later HELLO sign
//! something else without ambiguity.

use super::Hello;
use crate::event::{Mac, MacKey, ParticipantId};

/// The label every HELLO MAC starts with.
pub const HELLO_LABEL: &[u8; 17] = b"clearway-hello-v1";

/// The length of [`hello_signed_bytes`].
pub const HELLO_SIGNED_LENGTH: usize = HELLO_LABEL.len() + 2 + 8;

/// The bytes a HELLO's MAC covers.
pub fn hello_signed_bytes(participant: ParticipantId, nonce: u64) -> [u8; HELLO_SIGNED_LENGTH] {
    let mut bytes = [0u8; HELLO_SIGNED_LENGTH];
    bytes[..17].copy_from_slice(HELLO_LABEL);
    bytes[17..19].copy_from_slice(&participant.0.to_le_bytes());
    bytes[19..].copy_from_slice(&nonce.to_le_bytes());
    bytes
}

/// The MAC of a HELLO from `participant` with `nonce`, under `key`.
pub fn hello_mac(key: &MacKey, participant: ParticipantId, nonce: u64) -> Mac {
    key.sign_bytes(&hello_signed_bytes(participant, nonce))
}

/// Whether `hello`'s MAC is right under `key`, compared in constant time.
pub fn verify_hello(key: &MacKey, hello: &Hello) -> bool {
    key.verify_bytes(
        &hello_signed_bytes(hello.participant, hello.nonce),
        &hello.mac,
    )
}

impl Hello {
    /// A HELLO from `participant` with `nonce`, signed with `key`.
    pub fn signed(key: &MacKey, participant: ParticipantId, nonce: u64) -> Hello {
        Hello {
            participant,
            nonce,
            mac: hello_mac(key, participant, nonce),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_bytes_are_label_id_nonce_little_endian() {
        let bytes = hello_signed_bytes(ParticipantId(0x0102), 0x0a0b_0c0d_0e0f_1011);
        assert_eq!(&bytes[..17], b"clearway-hello-v1");
        assert_eq!(bytes[17..19], [0x02, 0x01]);
        assert_eq!(
            bytes[19..],
            [0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a]
        );
    }

    #[test]
    fn a_hello_verifies_with_its_key_only_and_for_its_id_and_nonce_only() {
        let key = MacKey::new(b"institution-1");
        let hello = Hello::signed(&key, ParticipantId(1), 42);
        assert!(verify_hello(&key, &hello));
        assert!(!verify_hello(&MacKey::new(b"institution-2"), &hello));
        assert!(!verify_hello(&key, &Hello { nonce: 43, ..hello }));
        assert!(!verify_hello(
            &key,
            &Hello {
                participant: ParticipantId(2),
                ..hello
            }
        ));
        let mut flipped = hello;
        flipped.mac.0[15] ^= 1;
        assert!(!verify_hello(&key, &flipped));
    }
}
