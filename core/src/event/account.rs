//! [`Account`]: a bank-side account number as the sender wrote it, digits or not.

use crate::constants::{ACCOUNT_LENGTH_MAX, ACCOUNT_LENGTH_MIN};

/// A bank-side account number: up to [`ACCOUNT_LENGTH_MAX`] ASCII bytes, stored inline so the
/// event stays `Copy`. It holds whatever the sender sent, so a malformed number reaches authorize
/// and is declined there by name rather than lost at ingress.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    bytes: [u8; ACCOUNT_LENGTH_MAX],
    /// In `0..=ACCOUNT_LENGTH_MAX`.
    length: u8,
}

impl Default for Account {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Why [`Account::new`] could not hold the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountTooLong;

impl Account {
    /// No account number.
    pub const EMPTY: Account = Account {
        bytes: [0; ACCOUNT_LENGTH_MAX],
        length: 0,
    };

    /// Holds `text` as sent; refuses only what does not fit.
    pub fn new(text: &[u8]) -> Result<Account, AccountTooLong> {
        if text.len() > ACCOUNT_LENGTH_MAX {
            return Err(AccountTooLong);
        }
        let mut bytes = [0; ACCOUNT_LENGTH_MAX];
        bytes[..text.len()].copy_from_slice(text);
        Ok(Account {
            bytes,
            length: text.len() as u8,
        })
    }

    /// The bytes as sent.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length).min(ACCOUNT_LENGTH_MAX)]
    }

    /// The stored form: the bytes padded with zeros, then the length. What the MAC covers.
    pub fn raw(&self) -> ([u8; ACCOUNT_LENGTH_MAX], u8) {
        (self.bytes, self.length)
    }

    /// Whether every byte is an ASCII digit and the length is within
    /// `ACCOUNT_LENGTH_MIN..=ACCOUNT_LENGTH_MAX`.
    pub fn is_well_formed(&self) -> bool {
        let bytes = self.as_bytes();
        (ACCOUNT_LENGTH_MIN..=ACCOUNT_LENGTH_MAX).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_digit)
    }

    /// Whether the digits pass the Luhn (mod 10) check that card numbers carry in their last
    /// digit. Only meaningful for a well-formed number.
    pub fn passes_luhn(&self) -> bool {
        luhn_sum(self.as_bytes()) % 10 == 0
    }
}

/// The Luhn sum of `digits`, the last being the check digit.
fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte.wrapping_sub(b'0'));
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum()
}

/// The digit that makes `partial` followed by it pass the Luhn check: how generated card numbers
/// are completed.
pub fn luhn_check_digit(partial: &[u8]) -> u8 {
    // Appending a 0 puts every partial digit in the position it will have; the sum with 0 then
    // tells what the check digit must add.
    let mut with_zero = partial.to_vec();
    with_zero.push(b'0');
    let sum = luhn_sum(&with_zero);
    b'0' + ((10 - sum % 10) % 10) as u8
}

impl std::fmt::Debug for Account {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "Account({:?})",
            String::from_utf8_lossy(self.as_bytes())
        )
    }
}

impl std::fmt::Display for Account {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_means_digits_and_length() {
        let rows: &[(&[u8], bool)] = &[
            (b"6222020200112233445", true),
            (b"6222020200112233", true),
            (b"622202020011", true),
            (b"62220202001", false),
            (b"62220202001122334x5", false),
            (b"", false),
            (b"6222 0202 0011 2233", false),
        ];
        for (text, expected) in rows {
            let account = Account::new(text).unwrap();
            assert_eq!(account.is_well_formed(), *expected, "{account:?}");
        }
        assert_eq!(Account::new(&[b'1'; 20]), Err(AccountTooLong));
    }

    #[test]
    fn luhn_accepts_valid_numbers_and_completes_partial_ones() {
        assert!(Account::new(b"4111111111111111").unwrap().passes_luhn());
        assert!(Account::new(b"79927398713").unwrap().passes_luhn());
        assert!(!Account::new(b"4111111111111112").unwrap().passes_luhn());
        let partial = b"622202020011223";
        let mut full = partial.to_vec();
        full.push(luhn_check_digit(partial));
        assert!(Account::new(&full).unwrap().passes_luhn());
    }
}
