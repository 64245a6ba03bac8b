//! [`Banks`]: the banks' simulator. For each payment the switch forwards it decides approve,
//! decline, late or silent, and when the bank's signed reply is sent.

use clearway_core::event::{Event, MacKey, ParticipantId, TxnId};
use clearway_core::network::Network;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

use crate::constants::LATE_REPLY_MARGIN_NS;

/// The share of forwarded payments banks decline when a config does not say: insufficient
/// funds, a frozen card, a failed risk check — about one in fifty.
pub const DECLINE_SHARE_DEFAULT: f64 = 0.02;

/// The share of replies sent after the bank timeout: rare in a healthy network, one in 100,000.
pub const LATE_SHARE_DEFAULT: f64 = 0.000_01;

/// The share of payments no reply is ever sent for: as rare as late ones.
pub const SILENT_SHARE_DEFAULT: f64 = 0.000_01;

/// How the banks answer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BankConfig {
    /// The share of payments declined, in `0..=1`.
    pub decline_share: f64,
    /// The share approved only after the bank timeout (a `LateReply`), in `0..=1`.
    pub late_share: f64,
    /// The share never answered (the hold expires), in `0..=1`.
    pub silent_share: f64,
    /// How long a bank takes to answer in time.
    pub latency: BankLatency,
}

impl Default for BankConfig {
    fn default() -> Self {
        BankConfig {
            decline_share: DECLINE_SHARE_DEFAULT,
            late_share: LATE_SHARE_DEFAULT,
            silent_share: SILENT_SHARE_DEFAULT,
            latency: BankLatency::default(),
        }
    }
}

/// How long a bank takes to answer a payment it answers in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum BankLatency {
    /// At once: the reply is due when the payment is forwarded. Measures the switch alone.
    #[default]
    Zero,
    /// Always `us` microseconds.
    Constant {
        /// The latency in µs.
        us: u64,
    },
    /// Log-normal: a median of `median_us` µs and a long tail (σ of the logarithm).
    LogNormal {
        /// The median latency in µs, at least 1.
        median_us: u64,
        /// σ of the latency's natural logarithm, finite and not negative.
        sigma: f64,
    },
}

/// Why a [`BankConfig`] cannot drive a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankConfigError {
    /// A share is outside `0..=1`, or together they exceed 1.
    SharesOutOfRange,
    /// A log-normal latency has a zero median or a negative or infinite σ.
    LatencyOutOfRange,
}

impl std::fmt::Display for BankConfigError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, formatter)
    }
}

impl std::error::Error for BankConfigError {}

impl BankConfig {
    /// Checks every field is in range; [`Banks::new`] needs a config that passes.
    pub fn validate(&self) -> Result<(), BankConfigError> {
        let shares = [self.decline_share, self.late_share, self.silent_share];
        if !shares.iter().all(|share| (0.0..=1.0).contains(share))
            || shares.iter().sum::<f64>() > 1.0
        {
            return Err(BankConfigError::SharesOutOfRange);
        }
        if let BankLatency::LogNormal { median_us, sigma } = self.latency {
            if median_us == 0 || !(sigma.is_finite() && sigma >= 0.0) {
                return Err(BankConfigError::LatencyOutOfRange);
            }
        }
        Ok(())
    }
}

/// What the banks decided so far, by decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BankDecisions {
    /// Approved in time.
    pub approved: u64,
    /// Declined in time.
    pub declined: u64,
    /// Approved after the bank timeout.
    pub late: u64,
    /// Never answered.
    pub silent: u64,
    /// Forwarded to an id that is not a bank of the network: nothing is sent. A caller's mistake.
    pub unknown_bank: u64,
}

/// Every bank of a network, answering the payments the switch forwards. Built once; per payment
/// it draws a decision and a latency and signs the reply, with no allocation.
#[derive(Debug)]
pub struct Banks {
    /// Indexed by participant id; `Some` for banks.
    keys: Vec<Option<MacKey>>,
    /// Cumulative shares: a uniform draw below `silent_below` is silent, below `late_below`
    /// late, below `decline_below` declined, otherwise approved.
    silent_below: f64,
    late_below: f64,
    decline_below: f64,
    latency: Latency,
    bank_timeout_ns: u64,
    rng: SmallRng,
    decisions: BankDecisions,
}

#[derive(Clone, Copy, Debug)]
enum Latency {
    Constant(u64),
    LogNormal(LogNormal<f64>),
}

impl Banks {
    /// The banks of `network` answering as `config` says, against a switch that expires holds
    /// after `bank_timeout_ns`; every draw from `seed`.
    ///
    /// # Panics
    ///
    /// If `config` does not pass [`BankConfig::validate`].
    pub fn new(network: &Network, config: &BankConfig, bank_timeout_ns: u64, seed: u64) -> Banks {
        if let Err(error) = config.validate() {
            panic!("bank config: {error}");
        }
        let table_length = network
            .banks()
            .map(|bank| bank.id.index() + 1)
            .max()
            .unwrap_or(0);
        let mut keys = vec![None; table_length];
        for bank in network.banks() {
            keys[bank.id.index()] = Some(bank.mac_key());
        }
        let latency = match config.latency {
            BankLatency::Zero => Latency::Constant(0),
            BankLatency::Constant { us } => Latency::Constant(us.saturating_mul(1_000)),
            BankLatency::LogNormal { median_us, sigma } => Latency::LogNormal(
                LogNormal::new((median_us as f64 * 1_000.0).ln(), sigma)
                    .expect("latency was validated"),
            ),
        };
        let silent_below = config.silent_share;
        let late_below = silent_below + config.late_share;
        Banks {
            keys,
            silent_below,
            late_below,
            decline_below: late_below + config.decline_share,
            latency,
            bank_timeout_ns,
            rng: SmallRng::seed_from_u64(seed),
            decisions: BankDecisions::default(),
        }
    }

    /// Decides how `bank` answers payment `txn_id` of `amount_fen`, forwarded at `now_ns`, and
    /// returns when its reply is due and the reply, signed with the bank's key; `None` if the
    /// bank stays silent. An approval or decline is due at `now_ns` plus the bank's latency; a
    /// late approval at `now_ns + bank_timeout + 1 ms`, after the hold expired.
    ///
    /// The reply's own `sent_ns` is its due time: the bank's send time on the same clock.
    /// `sent_ns`, the payment's send time, does not change the decision; it is taken so callers
    /// hand over the forwarded payment as the switch answered it.
    #[inline]
    pub fn on_forwarded(
        &mut self,
        txn_id: TxnId,
        bank: ParticipantId,
        amount_fen: u64,
        sent_ns: u64,
        now_ns: u64,
    ) -> Option<(u64, Event)> {
        let _ = sent_ns;
        let Some(Some(key)) = self.keys.get(bank.index()) else {
            self.decisions.unknown_bank += 1;
            return None;
        };
        let uniform: f64 = self.rng.gen();
        let (approve, due_ns) = if uniform < self.silent_below {
            self.decisions.silent += 1;
            return None;
        } else if uniform < self.late_below {
            self.decisions.late += 1;
            let due_ns = now_ns
                .saturating_add(self.bank_timeout_ns)
                .saturating_add(LATE_REPLY_MARGIN_NS);
            (true, due_ns)
        } else {
            let approve = uniform >= self.decline_below;
            if approve {
                self.decisions.approved += 1;
            } else {
                self.decisions.declined += 1;
            }
            let latency_ns = match &self.latency {
                Latency::Constant(latency_ns) => *latency_ns,
                // `as` saturates a draw beyond u64.
                Latency::LogNormal(log_normal) => log_normal.sample(&mut self.rng).round() as u64,
            };
            (approve, now_ns.saturating_add(latency_ns))
        };
        let mut reply = Event::bank_reply(bank, txn_id, approve, amount_fen, due_ns);
        reply.mac = key.sign(&reply);
        Some((due_ns, reply))
    }

    /// The decisions so far.
    pub fn decisions(&self) -> BankDecisions {
        self.decisions
    }
}

#[cfg(test)]
mod tests {
    use clearway_core::event::{Kind, REPLY_APPROVE, REPLY_DECLINE};

    use super::*;
    use crate::test_network::test_network;

    const TIMEOUT_NS: u64 = 30_000_000_000;

    #[test]
    fn decisions_come_in_their_shares_and_replies_are_signed_by_the_bank() {
        let network = test_network();
        let config = BankConfig {
            decline_share: 0.10,
            late_share: 0.05,
            silent_share: 0.03,
            latency: BankLatency::Constant { us: 250 },
        };
        let mut banks = Banks::new(&network, &config, TIMEOUT_NS, 9);
        let bank_ids: Vec<ParticipantId> = network.banks().map(|bank| bank.id).collect();
        let count = 200_000u64;
        for index in 0..count {
            let bank = bank_ids[index as usize % bank_ids.len()];
            let now_ns = 1_000 + index;
            let answer = banks.on_forwarded(TxnId(u128::from(index) + 1), bank, 500, 7, now_ns);
            let Some((due_ns, reply)) = answer else {
                continue;
            };
            assert_eq!(reply.kind, Kind::BankReply);
            assert_eq!(reply.sender, bank);
            assert_eq!(reply.txn_id, TxnId(u128::from(index) + 1));
            assert_eq!(reply.amount_fen, 500);
            assert_eq!(reply.sent_ns, due_ns);
            assert!(network.participant(bank).unwrap().mac_key().verify(&reply));
            match due_ns - now_ns {
                250_000 => assert!([REPLY_APPROVE, REPLY_DECLINE].contains(&reply.code)),
                late_ns => {
                    assert_eq!(late_ns, TIMEOUT_NS + LATE_REPLY_MARGIN_NS);
                    assert_eq!(reply.code, REPLY_APPROVE);
                }
            }
        }
        let decisions = banks.decisions();
        assert_eq!(
            decisions.approved + decisions.declined + decisions.late + decisions.silent,
            count
        );
        let rows: &[(u64, f64)] = &[
            (decisions.approved, 0.82),
            (decisions.declined, 0.10),
            (decisions.late, 0.05),
            (decisions.silent, 0.03),
        ];
        for &(observed, expected) in rows {
            let share = observed as f64 / count as f64;
            assert!((share - expected).abs() < 0.005, "{share} vs {expected}");
        }
    }

    #[test]
    fn latency_models_and_unknown_banks() {
        let network = test_network();
        let bank = ParticipantId(10);
        let rows: &[(BankLatency, u64, u64)] = &[
            // (latency, lowest and highest median of many replies, ns)
            (BankLatency::Zero, 0, 0),
            (BankLatency::Constant { us: 3 }, 3_000, 3_000),
            (
                BankLatency::LogNormal {
                    median_us: 200,
                    sigma: 0.5,
                },
                190_000,
                210_000,
            ),
        ];
        for &(latency, low_ns, high_ns) in rows {
            let config = BankConfig {
                decline_share: 0.0,
                late_share: 0.0,
                silent_share: 0.0,
                latency,
            };
            let mut banks = Banks::new(&network, &config, TIMEOUT_NS, 1);
            let mut latencies: Vec<u64> = (0..20_001)
                .map(|index| {
                    let (due_ns, _) = banks
                        .on_forwarded(TxnId(index + 1), bank, 1, 0, 5_000)
                        .unwrap();
                    due_ns - 5_000
                })
                .collect();
            latencies.sort_unstable();
            let median_ns = latencies[latencies.len() / 2];
            assert!(
                (low_ns..=high_ns).contains(&median_ns),
                "{latency:?}: {median_ns}"
            );
            assert_eq!(banks.decisions().approved, 20_001);
            assert_eq!(
                banks.on_forwarded(TxnId(1), ParticipantId(1), 1, 0, 0),
                None
            );
            assert_eq!(
                banks.on_forwarded(TxnId(1), ParticipantId(999), 1, 0, 0),
                None
            );
            assert_eq!(banks.decisions().unknown_bank, 2);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_replies() {
        let network = test_network();
        let config = BankConfig {
            decline_share: 0.3,
            late_share: 0.1,
            silent_share: 0.1,
            latency: BankLatency::LogNormal {
                median_us: 100,
                sigma: 1.0,
            },
        };
        let run = |seed| {
            let mut banks = Banks::new(&network, &config, TIMEOUT_NS, seed);
            (0..1_000u128)
                .map(|index| banks.on_forwarded(TxnId(index + 1), ParticipantId(11), 9, 0, 0))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    #[test]
    fn bad_configs_are_named() {
        let rows: &[(BankConfig, Result<(), BankConfigError>)] = &[
            (BankConfig::default(), Ok(())),
            (
                BankConfig {
                    decline_share: 1.5,
                    ..BankConfig::default()
                },
                Err(BankConfigError::SharesOutOfRange),
            ),
            (
                BankConfig {
                    decline_share: 0.6,
                    late_share: 0.5,
                    ..BankConfig::default()
                },
                Err(BankConfigError::SharesOutOfRange),
            ),
            (
                BankConfig {
                    latency: BankLatency::LogNormal {
                        median_us: 0,
                        sigma: 1.0,
                    },
                    ..BankConfig::default()
                },
                Err(BankConfigError::LatencyOutOfRange),
            ),
        ];
        for (config, expected) in rows {
            assert_eq!(config.validate(), *expected, "{config:?}");
        }
        let parsed: BankConfig = serde_json::from_str(
            r#"{ "decline_share": 0.05, "latency": { "model": "log_normal", "median_us": 300, "sigma": 0.4 } }"#,
        )
        .unwrap();
        assert_eq!(parsed.late_share, LATE_SHARE_DEFAULT);
        assert_eq!(
            parsed.latency,
            BankLatency::LogNormal {
                median_us: 300,
                sigma: 0.4
            }
        );
    }
}
