//! [`Network::generated`]: the default network, shaped like NetsUnion's at the end of 2018 and
//! the same for the same seed on every machine (its random numbers come from SplitMix64, written
//! out below, not from a library whose streams may change between versions).
//!
//! - 115 institutions, ids 1..=115; the cap of id r is `CAP_RANK_ONE_DEFAULT_FEN / r`, since the
//!   load generator skews traffic towards low ids. Every institution may send all four payment
//!   kinds, each up to `PAYMENT_LIMIT_DEFAULT_FEN`.
//! - 424 banks, ids 1001..=1424; bank 1000 + r has rank r: it gets the cap
//!   `CAP_RANK_ONE_DEFAULT_FEN / r` and six-digit BINs with weight 1/r. Two or three links each,
//!   named after data centres, all up; a quarter of the banks round-robin over them.
//! - `BIN_PREFIX_COUNT_DEFAULT` prefixes: six-digit BINs (62xxxx mostly, 4xxxxx, 51xxxx–55xxxx),
//!   every bank at least one, and `BIN_PREFIX_NESTED_COUNT_DEFAULT` 8- to 10-digit prefixes
//!   nested inside a six-digit BIN of another bank. No prefix twice. Sorted by prefix.
//! - Every participant and the operator active, with a secret derived from the seed and its id.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::constants::{
    BANK_COUNT_DEFAULT, BANK_ID_BASE, BANK_ROUND_ROBIN_DEFAULT_PERCENT, BIN_PREFIX_COUNT_DEFAULT,
    BIN_PREFIX_NESTED_COUNT_DEFAULT, CAP_RANK_ONE_DEFAULT_FEN, INSTITUTION_COUNT_DEFAULT,
    LINKS_PER_BANK_DEFAULT_MAX, LINKS_PER_BANK_DEFAULT_MIN, PAYMENT_LIMIT_DEFAULT_FEN,
};
use crate::event::{KindSet, ParticipantId, PAYMENT_KIND_COUNT};

use super::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};

/// The data centres a generated bank's links run through, in the order its links take them
/// (starting from a place that varies by bank).
const DATA_CENTRES: [&str; 3] = ["beijing", "shanghai", "shenzhen"];

const _: () = assert!(LINKS_PER_BANK_DEFAULT_MAX <= DATA_CENTRES.len());

impl Network {
    /// The default network for `seed`: see the module documentation and docs/CONFIG.md
    /// ("The generated network"). The same seed gives the same network; it passes
    /// [`Network::validate`].
    pub fn generated(seed: u64) -> Network {
        let mut random = SplitMix64::new(seed);
        let mut participants = Vec::with_capacity(INSTITUTION_COUNT_DEFAULT + BANK_COUNT_DEFAULT);
        for rank in 1..=INSTITUTION_COUNT_DEFAULT {
            participants.push(institution(seed, rank));
        }
        for rank in 1..=BANK_COUNT_DEFAULT {
            participants.push(bank(seed, rank, &mut random));
        }
        let bins = bins(&mut random);
        Network {
            operator_secret: secret(seed, ParticipantId::OPERATOR),
            participants,
            bins,
        }
    }
}

/// The rank-`rank` participant's cap: the rank-1 cap shared out as 1/rank.
fn cap_fen(rank: usize) -> u64 {
    CAP_RANK_ONE_DEFAULT_FEN / rank as u64
}

fn institution(seed: u64, rank: usize) -> Participant {
    let id = participant_id(rank);
    Participant {
        id,
        name: format!("institution-{:03}", id.0),
        role: Role::Institution,
        status: Status::Active,
        kinds: KindSet::PAYMENTS,
        limits_fen: [PAYMENT_LIMIT_DEFAULT_FEN; PAYMENT_KIND_COUNT],
        cap_fen: cap_fen(rank),
        secret: secret(seed, id),
        links: Vec::new(),
        link_strategy: LinkStrategy::default(),
    }
}

fn bank(seed: u64, rank: usize, random: &mut SplitMix64) -> Participant {
    let id = participant_id(usize::from(BANK_ID_BASE) + rank);
    let link_span = LINKS_PER_BANK_DEFAULT_MAX - LINKS_PER_BANK_DEFAULT_MIN + 1;
    let link_count = LINKS_PER_BANK_DEFAULT_MIN + random.below(link_span as u64) as usize;
    let first_centre = random.below(DATA_CENTRES.len() as u64) as usize;
    let links = (0..link_count)
        .map(|index| Link {
            name: DATA_CENTRES[(first_centre + index) % DATA_CENTRES.len()].to_owned(),
            up: true,
        })
        .collect();
    let link_strategy = if random.below(100) < BANK_ROUND_ROBIN_DEFAULT_PERCENT {
        LinkStrategy::RoundRobin
    } else {
        LinkStrategy::PrimarySecondary
    };
    Participant {
        id,
        name: format!("bank-{}", id.0),
        role: Role::Bank,
        status: Status::Active,
        kinds: KindSet::NONE,
        limits_fen: [0; PAYMENT_KIND_COUNT],
        cap_fen: cap_fen(rank),
        secret: secret(seed, id),
        links,
        link_strategy,
    }
}

fn participant_id(id: usize) -> ParticipantId {
    ParticipantId(u16::try_from(id).expect("generated ids are checked against PARTICIPANT_ID_MAX"))
}

/// 64 lowercase hex digits: SHA-256 over a label, the seed and the id, so that secrets differ by
/// participant and by seed, and a test can rebuild any of them.
fn secret(seed: u64, id: ParticipantId) -> Vec<u8> {
    let digest = Sha256::new()
        .chain_update(b"clearway generated network secret")
        .chain_update(seed.to_le_bytes())
        .chain_update(id.0.to_le_bytes())
        .finalize();
    digest
        .iter()
        .flat_map(|byte| format!("{byte:02x}").into_bytes())
        .collect()
}

/// The BIN table: six-digit BINs dealt to banks (each bank one, the rest with weight 1/rank),
/// then longer prefixes nested in a six-digit BIN and given to another bank.
fn bins(random: &mut SplitMix64) -> Vec<BinPrefix> {
    let six_digit_count = BIN_PREFIX_COUNT_DEFAULT - BIN_PREFIX_NESTED_COUNT_DEFAULT;
    let banks = BankDraw::new();
    let mut taken = HashSet::with_capacity(BIN_PREFIX_COUNT_DEFAULT);
    let mut bins = Vec::with_capacity(BIN_PREFIX_COUNT_DEFAULT);
    while bins.len() < six_digit_count {
        let prefix = six_digit_bin(random);
        if taken.insert(prefix.clone()) {
            // The first BANK_COUNT_DEFAULT go one to each bank, so that every bank has one.
            let bank = if bins.len() < BANK_COUNT_DEFAULT {
                bank_id(bins.len() + 1)
            } else {
                banks.draw(random)
            };
            bins.push(BinPrefix { prefix, bank });
        }
    }
    while bins.len() < BIN_PREFIX_COUNT_DEFAULT {
        let parent = &bins[random.below(six_digit_count as u64) as usize];
        let mut prefix = parent.prefix.clone();
        for _ in 0..2 + random.below(3) {
            prefix.push(digit(random));
        }
        if taken.insert(prefix.clone()) {
            let parent_bank = parent.bank;
            let bank = loop {
                let bank = banks.draw(random);
                if bank != parent_bank {
                    break bank;
                }
            };
            bins.push(BinPrefix { prefix, bank });
        }
    }
    bins.sort_by(|left, right| left.prefix.cmp(&right.prefix));
    bins
}

fn bank_id(rank: usize) -> ParticipantId {
    participant_id(usize::from(BANK_ID_BASE) + rank)
}

/// A six-digit BIN as Chinese cards have them: 70% UnionPay (62xxxx), 15% Visa co-branded
/// (4xxxxx), 15% Mastercard co-branded (51xxxx–55xxxx).
fn six_digit_bin(random: &mut SplitMix64) -> String {
    let family = random.below(100);
    let (mut prefix, digits) = if family < 70 {
        (String::from("62"), 4)
    } else if family < 85 {
        (String::from("4"), 5)
    } else {
        let second = char::from(b'1' + random.below(5) as u8);
        (format!("5{second}"), 4)
    };
    for _ in 0..digits {
        prefix.push(digit(random));
    }
    prefix
}

fn digit(random: &mut SplitMix64) -> char {
    char::from(b'0' + random.below(10) as u8)
}

/// Draws a bank with weight 1/rank (Zipf, exponent 1), by binary search over cumulative weights.
struct BankDraw {
    cumulative: Vec<f64>,
}

impl BankDraw {
    fn new() -> BankDraw {
        let mut total = 0.0;
        let cumulative = (1..=BANK_COUNT_DEFAULT)
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        BankDraw { cumulative }
    }

    fn draw(&self, random: &mut SplitMix64) -> ParticipantId {
        let total = self.cumulative[self.cumulative.len() - 1];
        let target = random.unit() * total;
        let index = self.cumulative.partition_point(|&sum| sum <= target);
        bank_id(index.min(BANK_COUNT_DEFAULT - 1) + 1)
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014;
/// the constants are Vigna's): fixed forever, so a seed names the same network on every machine
/// and every version.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }

    /// In `0..bound` (multiply-high; the bias, below bound / 2^64, does not matter here).
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound)) >> 64) as u64
    }

    /// In `[0, 1)`, from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::constants::{BIN_PREFIX_LENGTH_MAX, BIN_PREFIX_LENGTH_MIN, LINKS_PER_BANK_MAX};
    use crate::event::Kind;
    use crate::network::ConfigProblem;

    const SEEDS: [u64; 4] = [0, 1, 42, u64::MAX];

    #[test]
    fn generated_network_passes_validation() {
        for seed in SEEDS {
            let network = Network::generated(seed);
            network
                .validate()
                .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        }
    }

    #[test]
    fn generated_participants_have_the_real_network_counts_and_ids() {
        let network = Network::generated(7);
        let institutions: Vec<u16> = network
            .institutions()
            .map(|participant| participant.id.0)
            .collect();
        let banks: Vec<u16> = network
            .banks()
            .map(|participant| participant.id.0)
            .collect();
        assert_eq!(institutions, (1..=115).collect::<Vec<u16>>());
        assert_eq!(banks, (1001..=1424).collect::<Vec<u16>>());
        assert_eq!(INSTITUTION_COUNT_DEFAULT, 115);
        assert_eq!(BANK_COUNT_DEFAULT, 424);
        assert!(network
            .participants
            .iter()
            .all(|participant| participant.status == Status::Active));
    }

    #[test]
    fn generated_caps_shrink_with_rank_and_limits_are_the_default() {
        let network = Network::generated(7);
        for institution in network.institutions() {
            assert_eq!(
                institution.cap_fen,
                CAP_RANK_ONE_DEFAULT_FEN / u64::from(institution.id.0)
            );
            assert_eq!(institution.kinds, KindSet::PAYMENTS);
            assert_eq!(institution.limits_fen, [PAYMENT_LIMIT_DEFAULT_FEN; 4]);
            assert!(institution.links.is_empty());
        }
        assert_eq!(
            network.participant(ParticipantId(1)).unwrap().cap_fen,
            25_000_000_000
        );
        assert_eq!(
            network.participant(ParticipantId(115)).unwrap().cap_fen,
            217_391_304
        );
        for bank in network.banks() {
            let rank = u64::from(bank.id.0 - BANK_ID_BASE);
            assert_eq!(bank.cap_fen, CAP_RANK_ONE_DEFAULT_FEN / rank);
            assert_eq!(bank.kinds, KindSet::NONE);
            assert_eq!(bank.limits_fen, [0; 4]);
        }
        assert_eq!(
            network.participant(ParticipantId(1424)).unwrap().cap_fen,
            58_962_264
        );
        for kind in Kind::PAYMENTS {
            assert!(network
                .participant(ParticipantId(115))
                .unwrap()
                .kinds
                .contains(kind));
        }
    }

    #[test]
    fn generated_banks_have_links_and_prefixes() {
        let network = Network::generated(7);
        let mut prefix_count_by_bank: HashMap<ParticipantId, usize> = HashMap::new();
        for bin in &network.bins {
            *prefix_count_by_bank.entry(bin.bank).or_default() += 1;
        }
        let mut round_robin_count = 0;
        for bank in network.banks() {
            assert!(
                prefix_count_by_bank
                    .get(&bank.id)
                    .is_some_and(|&count| count >= 1),
                "{}",
                bank.id
            );
            assert!((LINKS_PER_BANK_DEFAULT_MIN..=LINKS_PER_BANK_DEFAULT_MAX)
                .contains(&bank.links.len()));
            assert!(bank.links.len() <= LINKS_PER_BANK_MAX);
            assert!(bank
                .links
                .iter()
                .all(|link| link.up && DATA_CENTRES.contains(&link.name.as_str())));
            round_robin_count += usize::from(bank.link_strategy == LinkStrategy::RoundRobin);
        }
        // 25% of 424 is 106; a binomial's spread is ~9.
        assert!(
            (60..=160).contains(&round_robin_count),
            "{round_robin_count} round-robin banks"
        );
        // Weight 1/rank: the largest bank holds many more BINs than the smallest.
        let first = prefix_count_by_bank[&ParticipantId(1001)];
        let last = prefix_count_by_bank[&ParticipantId(1424)];
        assert!(
            first > 100 && last < 20,
            "bank 1001 has {first}, bank 1424 has {last}"
        );
    }

    #[test]
    fn generated_bin_table_is_unique_well_formed_and_nested() {
        for seed in SEEDS {
            let network = Network::generated(seed);
            let bins = &network.bins;
            assert_eq!(bins.len(), BIN_PREFIX_COUNT_DEFAULT);
            assert!((2_000..=5_000).contains(&bins.len()));
            assert!(
                bins.windows(2).all(|pair| pair[0].prefix < pair[1].prefix),
                "sorted, unique"
            );
            let bank_of: HashMap<&str, ParticipantId> = bins
                .iter()
                .map(|bin| (bin.prefix.as_str(), bin.bank))
                .collect();
            let mut nested_count = 0;
            for bin in bins {
                let length = bin.prefix.len();
                assert!((BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX).contains(&length));
                assert!(bin.prefix.bytes().all(|byte| byte.is_ascii_digit()));
                let first = bin.prefix.as_bytes()[0];
                assert!(matches!(first, b'4' | b'5' | b'6'), "{}", bin.prefix);
                if length > 6 {
                    let parent = bank_of
                        .get(&bin.prefix[..6])
                        .expect("nested in a six-digit BIN");
                    assert_ne!(
                        *parent, bin.bank,
                        "{} is nested in another bank's BIN",
                        bin.prefix
                    );
                    assert!((8..=10).contains(&length));
                    nested_count += 1;
                }
            }
            assert_eq!(nested_count, BIN_PREFIX_NESTED_COUNT_DEFAULT);
            assert!(nested_count >= 100);
            let union_pay = bins
                .iter()
                .filter(|bin| bin.prefix.starts_with("62"))
                .count();
            assert!(
                union_pay > bins.len() / 2,
                "{union_pay} of {} are 62xxxx",
                bins.len()
            );
        }
    }

    #[test]
    fn generated_network_is_the_same_for_a_seed_and_differs_between_seeds() {
        let summary = |network: &Network| {
            let participants: Vec<_> = network
                .participants
                .iter()
                .map(|participant| {
                    (
                        participant.id,
                        participant.cap_fen,
                        participant.secret.clone(),
                        participant.links.clone(),
                        participant.link_strategy,
                    )
                })
                .collect();
            (
                network.operator_secret.clone(),
                participants,
                network.bins.clone(),
            )
        };
        for seed in SEEDS {
            assert_eq!(
                summary(&Network::generated(seed)),
                summary(&Network::generated(seed))
            );
        }
        let first = Network::generated(1);
        let second = Network::generated(2);
        assert_ne!(first.bins, second.bins);
        assert_ne!(first.operator_secret, second.operator_secret);
        assert_ne!(first.participants[0].secret, second.participants[0].secret);
        assert_ne!(first.participants[0].secret, first.participants[1].secret);
        assert_eq!(first.participants[0].secret.len(), 64);
    }

    /// Pins SplitMix64 to its published output (seed 0), so that a change to the generator that
    /// would silently give every seed a different network fails here.
    #[test]
    fn split_mix_matches_the_reference_output() {
        let mut random = SplitMix64::new(0);
        assert_eq!(random.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(random.next(), 0x6e78_9e6a_a1b9_65f4);
        for bound in [1, 2, 3, 10, 1_000] {
            assert!((0..1_000).all(|_| random.below(bound) < bound));
        }
        assert!((0..1_000).all(|_| (0.0..1.0).contains(&random.unit())));
    }

    #[test]
    fn generated_network_refused_when_broken() {
        let mut network = Network::generated(3);
        network.bins.push(network.bins[0].clone());
        let error = network.validate().unwrap_err();
        assert!(
            matches!(error.problem, ConfigProblem::PrefixClaimedTwice { .. }),
            "{error}"
        );
        assert_eq!(error.line, None);
    }
}
