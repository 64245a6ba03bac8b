//! [`Mac`] and [`MacKey`]: the message authentication code every sender puts on its events.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::Event;
use crate::constants::MAC_LENGTH;

/// A MAC as carried in an event: HMAC-SHA256 truncated to [`MAC_LENGTH`] bytes (truncation as in
/// RFC 4868, which keeps the leftmost bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; MAC_LENGTH]);

/// Whether authorize checks MACs. `None` exists to profile the bare pipeline; reports say which
/// was used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MacMode {
    /// HMAC-SHA256 over [`Event::signed_bytes`] with the sender's key.
    #[default]
    Hmac,
    /// No MAC is computed or checked.
    None,
}

impl std::str::FromStr for MacMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "hmac" | "hmac-sha256" => Ok(MacMode::Hmac),
            "none" => Ok(MacMode::None),
            other => Err(format!("unknown MAC mode {other:?}: expected hmac or none")),
        }
    }
}

impl std::fmt::Display for MacMode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            MacMode::Hmac => "hmac-sha256",
            MacMode::None => "none",
        })
    }
}

/// A sender's key with HMAC's inner and outer pads already hashed: signing or checking costs the
/// message's blocks and one outer block, not the two key blocks again.
#[derive(Clone)]
pub struct MacKey {
    keyed: Hmac<Sha256>,
}

impl MacKey {
    /// The key for `secret` (any length; HMAC hashes long keys).
    pub fn new(secret: &[u8]) -> MacKey {
        MacKey {
            keyed: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    /// The MAC of `event` under this key.
    pub fn sign(&self, event: &Event) -> Mac {
        self.sign_bytes(&event.signed_bytes())
    }

    /// Whether `event.mac` is the MAC of `event` under this key, compared in constant time.
    pub fn verify(&self, event: &Event) -> bool {
        self.verify_bytes(&event.signed_bytes(), &event.mac)
    }

    /// The MAC of any `message` under this key: HMAC-SHA256 truncated to [`MAC_LENGTH`] bytes.
    /// What [`MacKey::sign`] computes over an event's signed bytes, and the wire's HELLO over its
    /// own.
    pub fn sign_bytes(&self, message: &[u8]) -> Mac {
        let mut mac = self.keyed.clone();
        mac.update(message);
        let full = mac.finalize().into_bytes();
        let mut truncated = [0u8; MAC_LENGTH];
        truncated.copy_from_slice(&full[..MAC_LENGTH]);
        Mac(truncated)
    }

    /// Whether `mac` is the MAC of `message` under this key, compared in constant time.
    pub fn verify_bytes(&self, message: &[u8], mac: &Mac) -> bool {
        let mut keyed = self.keyed.clone();
        keyed.update(message);
        keyed.verify_truncated_left(&mac.0).is_ok()
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("MacKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Account, Kind, ParticipantId, TxnId};

    fn payment() -> Event {
        Event::payment(
            Kind::AgreementDebit,
            TxnId::new(20261130, 1),
            ParticipantId(1),
            Account::new(b"6222020200112233445").unwrap(),
            10_000,
            5,
        )
    }

    #[test]
    fn a_signed_event_verifies_and_any_changed_field_does_not() {
        let key = MacKey::new(b"institution-1");
        let mut event = payment();
        event.mac = key.sign(&event);
        assert!(key.verify(&event));
        assert!(!MacKey::new(b"institution-2").verify(&event));
        let mut changed = event;
        changed.amount_fen += 1;
        assert!(!key.verify(&changed));
        // The switch's own stamps are not covered.
        let mut stamped = event;
        stamped.sequence = 99;
        stamped.event_ns = 1234;
        assert!(key.verify(&stamped));
    }
}
