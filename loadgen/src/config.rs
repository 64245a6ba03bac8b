//! [`WorkloadConfig`]: what traffic the institutions send — rate, arrival process, kind mix,
//! amounts, skew over institutions, banks and accounts, and injected faults.

use serde::{Deserialize, Serialize};

use crate::constants::{
    ACCOUNTS_PER_BANK_MAX, EPOCH_UNIX_NS_MIN, HORIZON_S_MAX, NS_PER_S, REFUND_WINDOW_CAPACITY_MAX,
};

/// The offered rate when a workload does not say: NetsUnion's design target for its peak, 180,000
/// payments a second (its 2018 Double Eleven peak was 92,771 a second).
pub const RATE_PER_S_DEFAULT: f64 = 180_000.0;

/// The median payment when a workload does not say: 10,000 fen, 100 yuan.
pub const AMOUNT_MEDIAN_FEN_DEFAULT: u64 = 10_000;

/// The spread of log-normal amounts: with σ = 1.2 the middle 50% of payments run from 45 to
/// 225 yuan and one in a thousand is above 4,000 yuan, a long tail of large payments.
pub const AMOUNT_SIGMA_DEFAULT: f64 = 1.2;

/// The Zipf exponent over institutions. Two institutions carry most of the traffic on the real
/// network; with s = 1.5 over 115 institutions the first carries 41% and the first two 56%
/// (Σ k^-1.5 for k ≤ 115 ≈ 2.43; (1 + 2^-1.5) / 2.43 ≈ 0.56).
pub const INSTITUTION_EXPONENT_DEFAULT: f64 = 1.5;

/// The Zipf exponent over banks: the large state banks carry more, the long tail of city and
/// rural banks little (s = 1: rank k's share falls as 1/k).
pub const BANK_EXPONENT_DEFAULT: f64 = 1.0;

/// The Zipf exponent over a bank's accounts: a few accounts (merchants' settlement accounts,
/// heavy users) appear often.
pub const ACCOUNT_EXPONENT_DEFAULT: f64 = 1.0;

/// Accounts generated per bank. 1,024 × 424 banks × 20 bytes is 8.7 MB, built once; per event an
/// account is an index into the pool, with no allocation.
pub const ACCOUNTS_PER_BANK_DEFAULT: usize = 1_024;

/// The rate of each injected fault: one payment in a thousand, enough to be counted in every run
/// and too few to change the traffic's shape.
pub const FAULT_RATE_DEFAULT: f64 = 0.001;

/// The date of the default load epoch, [`EPOCH_UNIX_NS_DEFAULT`]: the date every transaction id
/// had before ids carried their time.
pub const DATE_DEFAULT: u32 = 20261130;

/// The wall-clock time at the load's time zero when a workload does not say: midnight UTC at the
/// start of [`DATE_DEFAULT`], 2026-11-30 (1,795,996,800 s since 1970). A run against a switch that
/// judges ids by its clock sets the switch's own epoch instead.
pub const EPOCH_UNIX_NS_DEFAULT: u64 = 1_795_996_800 * NS_PER_S;

/// How far back resends and refunds reach when a workload does not say: 0, no horizon. Resends
/// are then of the last [`DUPLICATE_WINDOW_CAPACITY`](crate::constants::DUPLICATE_WINDOW_CAPACITY)
/// payments (tens of milliseconds at full rate) and refunds of the debits in the refund window
/// (about a second at full rate), as before horizons existed.
pub const HORIZON_S_DEFAULT: f64 = 0.0;

/// Refunds name only originals sent at least this long ago: 200 ms is longer than any bank takes
/// to answer in a healthy run, so the original has usually been approved by then.
pub const REFUND_DELAY_NS_DEFAULT: u64 = 200_000_000;

/// Recent debits a refund may name. It must hold more than the debits sent in
/// [`REFUND_DELAY_NS_DEFAULT`] or no debit is ever old enough: at 180,000 payments a second, 80%
/// of them debits, 200 ms is 28,800 debits; 131,072 hold 0.9 s of debits. About 7 MiB.
pub const REFUND_WINDOW_CAPACITY_DEFAULT: usize = 131_072;

/// The traffic the institutions send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Payments offered per second, all institutions together.
    pub rate_per_s: f64,
    /// How send times are spaced.
    pub arrival: Arrival,
    /// The share of each payment kind, before each institution's allowed kinds narrow it.
    pub kind_mix: KindMix,
    /// Payment amounts.
    pub amount: AmountDistribution,
    /// Zipf exponents over institutions, banks and accounts.
    pub skew: Skew,
    /// Accounts generated per bank, drawn from per payment.
    pub accounts_per_bank: usize,
    /// How often each fault is injected.
    pub faults: FaultRates,
    /// The wall-clock time at the load's time zero, in ns since 1970-01-01 UTC: the intended send
    /// times given to [`crate::Institutions`] count from it, and every transaction id carries
    /// the second it was made, `(epoch_unix_ns + intended_ns) / 1e9` (`TxnId::at`). A run
    /// against a switch that judges ids by its clock sets the switch's epoch here.
    pub epoch_unix_ns: u64,
    /// How far back, in seconds of intended time, resends (duplicate-id faults) and refunds
    /// reach: each draws a moment uniformly within the last `horizon_s` seconds (a refund, not
    /// within the last `refund_delay_ns`) and names a payment sent then, from bounded samples of
    /// what was sent (`constants::HORIZON_*`). 0 (the default) is no horizon: resends of the last
    /// few thousand payments and refunds of the debits in the refund window, as before. Keep it
    /// within the switch's retention, or the switch must refuse what reaches beyond.
    pub horizon_s: f64,
    /// A refund names only an original sent at least this long before it.
    pub refund_delay_ns: u64,
    /// How many recent debits are kept as refundable originals.
    pub refund_window_capacity: usize,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            rate_per_s: RATE_PER_S_DEFAULT,
            arrival: Arrival::default(),
            kind_mix: KindMix::default(),
            amount: AmountDistribution::default(),
            skew: Skew::default(),
            accounts_per_bank: ACCOUNTS_PER_BANK_DEFAULT,
            faults: FaultRates::default(),
            epoch_unix_ns: EPOCH_UNIX_NS_DEFAULT,
            horizon_s: HORIZON_S_DEFAULT,
            refund_delay_ns: REFUND_DELAY_NS_DEFAULT,
            refund_window_capacity: REFUND_WINDOW_CAPACITY_DEFAULT,
        }
    }
}

/// How intended send times are spaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    /// Evenly, `1e9 / rate` ns apart.
    Constant,
    /// A Poisson process: exponential gaps of mean `1e9 / rate` ns, as many independent customers
    /// paying at once produce.
    #[default]
    Poisson,
}

/// Relative weights of the four payment kinds; they need not sum to one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindMix {
    /// 协议支付, the bulk of online payments.
    pub agreement_debit: f64,
    /// 网关支付.
    pub gateway_debit: f64,
    /// 付款: withdrawals and payouts.
    pub payout_credit: f64,
    /// 退款.
    pub refund: f64,
}

impl Default for KindMix {
    fn default() -> Self {
        KindMix {
            agreement_debit: 0.70,
            gateway_debit: 0.10,
            payout_credit: 0.15,
            refund: 0.05,
        }
    }
}

impl KindMix {
    /// The weights in [`clearway_core::event::Kind::PAYMENTS`] order.
    pub fn weights(&self) -> [f64; 4] {
        [
            self.agreement_debit,
            self.gateway_debit,
            self.payout_credit,
            self.refund,
        ]
    }
}

/// Log-normal payment amounts, clamped to `1..=` the sender's limit for the kind.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmountDistribution {
    /// The median amount in fen.
    pub median_fen: u64,
    /// σ of the amount's natural logarithm.
    pub sigma: f64,
}

impl Default for AmountDistribution {
    fn default() -> Self {
        AmountDistribution {
            median_fen: AMOUNT_MEDIAN_FEN_DEFAULT,
            sigma: AMOUNT_SIGMA_DEFAULT,
        }
    }
}

/// Zipf exponents: rank k of n is drawn with probability `k^-s / Σ j^-s`. Rank 1 is the first in
/// id order.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Skew {
    /// Over institutions.
    pub institutions: f64,
    /// Over banks.
    pub banks: f64,
    /// Over the accounts of one bank.
    pub accounts: f64,
}

impl Default for Skew {
    fn default() -> Self {
        Skew {
            institutions: INSTITUTION_EXPONENT_DEFAULT,
            banks: BANK_EXPONENT_DEFAULT,
            accounts: ACCOUNT_EXPONENT_DEFAULT,
        }
    }
}

/// The share of payments that carry each fault, each in `0..=1`, together at most 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// A recent payment sent again under its id (one in ten with a changed amount).
    pub duplicate_id: f64,
    /// A payment whose MAC has one byte flipped.
    pub bad_mac: f64,
    /// A payment to a Luhn-valid account that no BIN prefix matches.
    pub unknown_account: f64,
    /// A payment of one fen more than the sender's limit for its kind.
    pub over_limit: f64,
    /// A refund naming an id that was never sent.
    pub unknown_refund: f64,
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            duplicate_id: FAULT_RATE_DEFAULT,
            bad_mac: FAULT_RATE_DEFAULT,
            unknown_account: FAULT_RATE_DEFAULT,
            over_limit: FAULT_RATE_DEFAULT,
            unknown_refund: FAULT_RATE_DEFAULT,
        }
    }
}

impl FaultRates {
    /// No faults.
    pub const NONE: FaultRates = FaultRates {
        duplicate_id: 0.0,
        bad_mac: 0.0,
        unknown_account: 0.0,
        over_limit: 0.0,
        unknown_refund: 0.0,
    };

    /// The rates in [`crate::Fault::ALL`] order.
    pub fn rates(&self) -> [f64; 5] {
        [
            self.duplicate_id,
            self.bad_mac,
            self.unknown_account,
            self.over_limit,
            self.unknown_refund,
        ]
    }
}

/// Why a [`WorkloadConfig`] cannot drive a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadConfigError {
    /// `rate_per_s` is not a finite number above zero.
    RateMustBePositive,
    /// A kind weight is negative or not finite, or all are zero.
    KindMixMustHaveAPositiveWeight,
    /// `amount.median_fen` is zero.
    AmountMedianMustNotBeZero,
    /// `amount.sigma` is negative or not finite.
    AmountSigmaMustBeFiniteAndNotNegative,
    /// A Zipf exponent is negative or not finite.
    ExponentMustBeFiniteAndNotNegative,
    /// `accounts_per_bank` is zero or above [`ACCOUNTS_PER_BANK_MAX`].
    AccountsPerBankOutOfRange,
    /// A fault rate is outside `0..=1`, or together they exceed 1.
    FaultRatesOutOfRange,
    /// `epoch_unix_ns` is before 1970-01-02 ([`EPOCH_UNIX_NS_MIN`]). (A u64 of nanoseconds cannot
    /// pass the ids' last year, 9999.)
    EpochOutOfRange,
    /// `horizon_s` is not finite, or negative, or above a day ([`HORIZON_S_MAX`]).
    HorizonOutOfRange,
    /// `refund_window_capacity` is zero or above [`REFUND_WINDOW_CAPACITY_MAX`].
    RefundWindowCapacityOutOfRange,
}

impl std::fmt::Display for WorkloadConfigError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, formatter)
    }
}

impl std::error::Error for WorkloadConfigError {}

impl WorkloadConfig {
    /// Checks every field is in range; [`crate::Institutions::new`] and [`crate::Arrivals`] need
    /// a config that passes.
    pub fn validate(&self) -> Result<(), WorkloadConfigError> {
        let finite_not_negative = |value: f64| value.is_finite() && value >= 0.0;
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0) {
            return Err(WorkloadConfigError::RateMustBePositive);
        }
        let weights = self.kind_mix.weights();
        if !weights.iter().all(|&weight| finite_not_negative(weight))
            || weights.iter().sum::<f64>() <= 0.0
        {
            return Err(WorkloadConfigError::KindMixMustHaveAPositiveWeight);
        }
        if self.amount.median_fen == 0 {
            return Err(WorkloadConfigError::AmountMedianMustNotBeZero);
        }
        if !finite_not_negative(self.amount.sigma) {
            return Err(WorkloadConfigError::AmountSigmaMustBeFiniteAndNotNegative);
        }
        let exponents = [self.skew.institutions, self.skew.banks, self.skew.accounts];
        if !exponents
            .iter()
            .all(|&exponent| finite_not_negative(exponent))
        {
            return Err(WorkloadConfigError::ExponentMustBeFiniteAndNotNegative);
        }
        if !(1..=ACCOUNTS_PER_BANK_MAX).contains(&self.accounts_per_bank) {
            return Err(WorkloadConfigError::AccountsPerBankOutOfRange);
        }
        let rates = self.faults.rates();
        if !rates.iter().all(|&rate| (0.0..=1.0).contains(&rate)) || rates.iter().sum::<f64>() > 1.0
        {
            return Err(WorkloadConfigError::FaultRatesOutOfRange);
        }
        if self.epoch_unix_ns < EPOCH_UNIX_NS_MIN {
            return Err(WorkloadConfigError::EpochOutOfRange);
        }
        if !(self.horizon_s.is_finite() && (0.0..=HORIZON_S_MAX).contains(&self.horizon_s)) {
            return Err(WorkloadConfigError::HorizonOutOfRange);
        }
        if !(1..=REFUND_WINDOW_CAPACITY_MAX).contains(&self.refund_window_capacity) {
            return Err(WorkloadConfigError::RefundWindowCapacityOutOfRange);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_bad_field_is_named() {
        assert_eq!(WorkloadConfig::default().validate(), Ok(()));
        type Change = fn(&mut WorkloadConfig);
        let rows: &[(Change, WorkloadConfigError)] = &[
            (
                |c| c.rate_per_s = 0.0,
                WorkloadConfigError::RateMustBePositive,
            ),
            (
                |c| c.rate_per_s = f64::NAN,
                WorkloadConfigError::RateMustBePositive,
            ),
            (
                |c| {
                    c.kind_mix = KindMix {
                        agreement_debit: 0.0,
                        gateway_debit: 0.0,
                        payout_credit: 0.0,
                        refund: 0.0,
                    }
                },
                WorkloadConfigError::KindMixMustHaveAPositiveWeight,
            ),
            (
                |c| c.kind_mix.refund = -0.1,
                WorkloadConfigError::KindMixMustHaveAPositiveWeight,
            ),
            (
                |c| c.amount.median_fen = 0,
                WorkloadConfigError::AmountMedianMustNotBeZero,
            ),
            (
                |c| c.amount.sigma = -1.0,
                WorkloadConfigError::AmountSigmaMustBeFiniteAndNotNegative,
            ),
            (
                |c| c.skew.banks = f64::INFINITY,
                WorkloadConfigError::ExponentMustBeFiniteAndNotNegative,
            ),
            (
                |c| c.accounts_per_bank = 0,
                WorkloadConfigError::AccountsPerBankOutOfRange,
            ),
            (
                |c| c.faults.bad_mac = 1.5,
                WorkloadConfigError::FaultRatesOutOfRange,
            ),
            (
                |c| {
                    c.faults.bad_mac = 0.6;
                    c.faults.over_limit = 0.6;
                },
                WorkloadConfigError::FaultRatesOutOfRange,
            ),
            (
                |c| c.epoch_unix_ns = 0,
                WorkloadConfigError::EpochOutOfRange,
            ),
            (
                |c| c.epoch_unix_ns = EPOCH_UNIX_NS_MIN - 1,
                WorkloadConfigError::EpochOutOfRange,
            ),
            (
                |c| c.horizon_s = -1.0,
                WorkloadConfigError::HorizonOutOfRange,
            ),
            (
                |c| c.horizon_s = f64::NAN,
                WorkloadConfigError::HorizonOutOfRange,
            ),
            (
                |c| c.horizon_s = f64::INFINITY,
                WorkloadConfigError::HorizonOutOfRange,
            ),
            (
                |c| c.horizon_s = HORIZON_S_MAX + 1.0,
                WorkloadConfigError::HorizonOutOfRange,
            ),
            (
                |c| c.refund_window_capacity = 0,
                WorkloadConfigError::RefundWindowCapacityOutOfRange,
            ),
        ];
        for (change, expected) in rows {
            let mut config = WorkloadConfig::default();
            change(&mut config);
            assert_eq!(config.validate(), Err(*expected));
        }
    }

    #[test]
    fn the_edges_of_the_epoch_and_horizon_pass() {
        for (epoch_unix_ns, horizon_s) in [
            (EPOCH_UNIX_NS_MIN, 0.0),
            (u64::MAX, HORIZON_S_MAX),
            (EPOCH_UNIX_NS_DEFAULT, 600.0),
            (EPOCH_UNIX_NS_DEFAULT, 1e-9),
        ] {
            let config = WorkloadConfig {
                epoch_unix_ns,
                horizon_s,
                ..WorkloadConfig::default()
            };
            assert_eq!(config.validate(), Ok(()), "{epoch_unix_ns} {horizon_s}");
        }
    }

    #[test]
    fn the_default_epoch_is_midnight_of_the_default_date() {
        let midnight = clearway_core::event::TxnId::new(DATE_DEFAULT, 0).unix_s();
        assert_eq!(midnight, Some(EPOCH_UNIX_NS_DEFAULT / NS_PER_S));
        assert_eq!(EPOCH_UNIX_NS_DEFAULT % NS_PER_S, 0);
    }

    #[test]
    fn a_partial_config_takes_defaults_for_the_rest() {
        let config: WorkloadConfig = serde_json::from_str(
            r#"{ "rate_per_s": 1000, "arrival": "constant", "faults": { "bad_mac": 0.01 } }"#,
        )
        .unwrap();
        assert_eq!(config.rate_per_s, 1000.0);
        assert_eq!(config.arrival, Arrival::Constant);
        assert_eq!(config.faults.bad_mac, 0.01);
        assert_eq!(config.faults.over_limit, FAULT_RATE_DEFAULT);
        assert_eq!(config.kind_mix, KindMix::default());
        assert_eq!(config.epoch_unix_ns, EPOCH_UNIX_NS_DEFAULT);
        assert_eq!(config.horizon_s, HORIZON_S_DEFAULT);
        let round_trip: WorkloadConfig =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(round_trip, config);
        assert!(serde_json::from_str::<WorkloadConfig>(r#"{ "rate": 5 }"#).is_err());
        // The id date is the epoch's now: a config that still names one is refused by name.
        assert!(serde_json::from_str::<WorkloadConfig>(r#"{ "date": 20261130 }"#).is_err());
        let config: WorkloadConfig = toml::from_str(
            "horizon_s = 600.0\nepoch_unix_ns = 1796686205000000000\n[kind_mix]\nrefund = 0.1\n",
        )
        .unwrap();
        assert_eq!(config.horizon_s, 600.0);
        assert_eq!(config.epoch_unix_ns, 1_796_686_205_000_000_000);
        assert_eq!(config.kind_mix.refund, 0.1);
    }
}
