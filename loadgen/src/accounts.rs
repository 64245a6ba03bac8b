//! [`AccountPools`]: the card numbers payments are drawn to, generated once per bank so that each
//! routes to its bank by the longest matching BIN prefix, and a few that route nowhere.

use std::collections::HashMap;

use clearway_core::constants::{BIN_PREFIX_LENGTH_MAX, BIN_PREFIX_LENGTH_MIN};
use clearway_core::event::{luhn_check_digit, Account, ParticipantId};
use clearway_core::network::Network;
use rand::Rng;

use crate::constants::{
    ACCOUNT_ATTEMPTS_MAX, CARD_LENGTH_MAX, CARD_LENGTH_MIN, UNKNOWN_ACCOUNT_ATTEMPTS_MAX,
    UNKNOWN_ACCOUNT_COUNT,
};
use crate::zipf::Zipf;

/// The network's BIN table as a map from prefix to bank, for the longest-prefix match of
/// generated numbers (construction only; route has its own table).
pub(crate) struct BinLookup {
    by_prefix: HashMap<Vec<u8>, ParticipantId>,
}

impl BinLookup {
    pub(crate) fn new(network: &Network) -> BinLookup {
        let by_prefix = network
            .bins
            .iter()
            .map(|bin| (bin.prefix.as_bytes().to_vec(), bin.bank))
            .collect();
        BinLookup { by_prefix }
    }

    /// The bank of the longest prefix of `digits` in the table.
    pub(crate) fn longest_match(&self, digits: &[u8]) -> Option<ParticipantId> {
        (BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX.min(digits.len()))
            .rev()
            .find_map(|length| self.by_prefix.get(&digits[..length]).copied())
    }
}

/// Per reachable bank, a pool of accounts that route to it; and accounts that route nowhere.
pub(crate) struct AccountPools {
    /// The banks payments can reach, in id order: those with at least one prefix under which
    /// an account routes to them. Rank 1 of the bank Zipf is the first.
    banks: Vec<ParticipantId>,
    /// `accounts_per_bank` accounts for each of `banks`, bank by bank.
    accounts: Vec<Account>,
    accounts_per_bank: usize,
    bank_zipf: Option<Zipf>,
    account_zipf: Zipf,
    /// Luhn-valid 16-digit numbers no prefix matches.
    unknown: Vec<Account>,
}

impl AccountPools {
    pub(crate) fn new<R: Rng>(
        network: &Network,
        accounts_per_bank: usize,
        bank_exponent: f64,
        account_exponent: f64,
        rng: &mut R,
    ) -> AccountPools {
        let lookup = BinLookup::new(network);
        let mut banks = Vec::new();
        let mut accounts = Vec::new();
        for bank in network.banks() {
            let prefixes: Vec<&[u8]> = network
                .bins
                .iter()
                .filter(|bin| bin.bank == bank.id && is_prefix(bin.prefix.as_bytes()))
                .map(|bin| bin.prefix.as_bytes())
                .collect();
            if prefixes.is_empty() {
                continue;
            }
            let start = accounts.len();
            let filled = (0..accounts_per_bank).all(|_| {
                match generate_for_bank(bank.id, &prefixes, &lookup, rng) {
                    Some(account) => {
                        accounts.push(account);
                        true
                    }
                    None => false,
                }
            });
            if filled {
                banks.push(bank.id);
            } else {
                accounts.truncate(start);
            }
        }
        let unknown = (0..UNKNOWN_ACCOUNT_COUNT)
            .map_while(|_| generate_unknown(&lookup, rng))
            .collect();
        AccountPools {
            bank_zipf: (!banks.is_empty()).then(|| Zipf::new(banks.len(), bank_exponent)),
            banks,
            accounts,
            accounts_per_bank,
            account_zipf: Zipf::new(accounts_per_bank, account_exponent),
            unknown,
        }
    }

    /// Whether any bank can be paid.
    pub(crate) fn is_empty(&self) -> bool {
        self.banks.is_empty()
    }

    /// The banks payments can reach, in id order.
    pub(crate) fn banks(&self) -> &[ParticipantId] {
        &self.banks
    }

    /// A bank by Zipf, then one of its accounts by Zipf. The pools must not be empty.
    #[inline]
    pub(crate) fn sample<R: Rng>(&self, rng: &mut R) -> (ParticipantId, Account) {
        let bank = self.bank_zipf.as_ref().map_or(0, |zipf| zipf.sample(rng));
        let account = self.account_zipf.sample(rng);
        (
            self.banks[bank],
            self.accounts[bank * self.accounts_per_bank + account],
        )
    }

    /// The accounts of the `index`th reachable bank.
    #[cfg(test)]
    pub(crate) fn accounts_of(&self, index: usize) -> &[Account] {
        &self.accounts[index * self.accounts_per_bank..][..self.accounts_per_bank]
    }

    /// One of the accounts no prefix matches, if any could be found.
    #[inline]
    pub(crate) fn sample_unknown<R: Rng>(&self, rng: &mut R) -> Option<Account> {
        if self.unknown.is_empty() {
            return None;
        }
        Some(self.unknown[rng.gen_range(0..self.unknown.len())])
    }
}

/// Whether `prefix` is a BIN prefix a card number can start with: 6 to 10 digits.
fn is_prefix(prefix: &[u8]) -> bool {
    (BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX).contains(&prefix.len())
        && prefix.iter().all(u8::is_ascii_digit)
}

/// A card number under one of `prefixes` whose longest matching prefix in the whole table is
/// `bank`'s: a number under a nested prefix of another bank is drawn again.
fn generate_for_bank<R: Rng>(
    bank: ParticipantId,
    prefixes: &[&[u8]],
    lookup: &BinLookup,
    rng: &mut R,
) -> Option<Account> {
    (0..ACCOUNT_ATTEMPTS_MAX).find_map(|_| {
        let prefix = prefixes[rng.gen_range(0..prefixes.len())];
        let length = rng.gen_range(CARD_LENGTH_MIN..=CARD_LENGTH_MAX);
        let digits = card_number(prefix, length, rng);
        (lookup.longest_match(&digits) == Some(bank))
            .then(|| Account::new(&digits).expect("card numbers fit an account"))
    })
}

/// A Luhn-valid 16-digit number that no prefix in the table matches.
fn generate_unknown<R: Rng>(lookup: &BinLookup, rng: &mut R) -> Option<Account> {
    (0..UNKNOWN_ACCOUNT_ATTEMPTS_MAX).find_map(|_| {
        let first = [b'1' + rng.gen_range(0..9)];
        let digits = card_number(&first, CARD_LENGTH_MIN, rng);
        lookup
            .longest_match(&digits)
            .is_none()
            .then(|| Account::new(&digits).expect("card numbers fit an account"))
    })
}

/// `prefix`, random digits, and the Luhn check digit: `length` digits in all.
fn card_number<R: Rng>(prefix: &[u8], length: usize, rng: &mut R) -> Vec<u8> {
    let mut digits = prefix.to_vec();
    while digits.len() < length - 1 {
        digits.push(b'0' + rng.gen_range(0..10));
    }
    let check = luhn_check_digit(&digits);
    digits.push(check);
    digits
}

#[cfg(test)]
mod tests {
    use rand::{rngs::SmallRng, SeedableRng};

    use super::*;
    use crate::test_network::{linear_longest_match, test_network, SHADOWED_BANK};

    #[test]
    fn every_pooled_account_is_a_card_number_that_routes_to_its_bank() {
        let network = test_network();
        let pools = AccountPools::new(&network, 512, 1.0, 1.0, &mut SmallRng::seed_from_u64(3));
        assert!(!pools.banks().contains(&SHADOWED_BANK));
        let reachable: Vec<ParticipantId> = network
            .banks()
            .map(|bank| bank.id)
            .filter(|&id| id != SHADOWED_BANK)
            .collect();
        assert_eq!(pools.banks(), reachable.as_slice());
        let mut nested = 0;
        for (index, &bank) in pools.banks().iter().enumerate() {
            for account in pools.accounts_of(index) {
                assert!(
                    account.is_well_formed() && account.passes_luhn(),
                    "{account:?}"
                );
                assert!((CARD_LENGTH_MIN..=CARD_LENGTH_MAX).contains(&account.as_bytes().len()));
                let (routed, prefix_length) =
                    linear_longest_match(&network, account.as_bytes()).unwrap();
                assert_eq!(routed, bank, "{account:?}");
                nested += usize::from(prefix_length > BIN_PREFIX_LENGTH_MIN);
            }
        }
        // Some banks own nested prefixes too, and accounts are drawn under them.
        assert!(nested > 0);
    }

    #[test]
    fn unknown_accounts_are_luhn_valid_and_match_no_prefix() {
        let network = test_network();
        let pools = AccountPools::new(&network, 16, 1.0, 1.0, &mut SmallRng::seed_from_u64(4));
        assert_eq!(pools.unknown.len(), UNKNOWN_ACCOUNT_COUNT);
        for account in &pools.unknown {
            assert_eq!(account.as_bytes().len(), 16);
            assert!(account.is_well_formed() && account.passes_luhn());
            assert_eq!(linear_longest_match(&network, account.as_bytes()), None);
        }
    }
}
