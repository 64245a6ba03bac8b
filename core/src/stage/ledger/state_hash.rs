//! [`StateHash`]: SHA-256 of the ledger's state in the serialization docs/SWITCH.md gives, so two
//! ledgers (or the ledger and the reference model) that agree on every position and hold agree
//! on 32 bytes.

use sha2::{Digest, Sha256};

/// The SHA-256 of a ledger's state; shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateHash(pub [u8; 32]);

impl StateHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> StateHash {
        StateHash(Sha256::digest(bytes).into())
    }
}

impl std::fmt::Display for StateHash {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.0 {
            write!(formatter, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for StateHash {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "StateHash({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_lowercase_hex() {
        let hash = StateHash::of(b"abc");
        assert_eq!(
            hash.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
