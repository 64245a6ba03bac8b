//! A small network built by hand for the tests: institutions with different kinds and limits,
//! banks with nested prefixes owned by other banks, and one bank whose only BIN is shadowed
//! entirely by other banks' nested prefixes.

use clearway_core::event::{Kind, KindSet, ParticipantId, PAYMENT_KIND_COUNT};
use clearway_core::network::{BinPrefix, Link, LinkStrategy, Network, Participant, Role, Status};

/// Sends every kind, high limits. Institution 2 sends agreement debits (limit 50,000 fen) and
/// refunds, institution 3 payouts only.
pub(crate) const ALL_KINDS: ParticipantId = ParticipantId(1);
/// Sends refunds only: it has no debits to refund, so it never sends.
pub(crate) const REFUNDS_ONLY: ParticipantId = ParticipantId(4);
/// A bank whose only BIN, 955880, is covered by bank 11's ten children 9558800..9558809.
pub(crate) const SHADOWED_BANK: ParticipantId = ParticipantId(13);

fn institution(id: u16, kinds: &[Kind], limits_fen: [u64; PAYMENT_KIND_COUNT]) -> Participant {
    Participant {
        id: ParticipantId(id),
        name: format!("institution-{id}"),
        role: Role::Institution,
        status: Status::Active,
        kinds: kinds.iter().copied().collect::<KindSet>(),
        limits_fen,
        cap_fen: 1 << 40,
        secret: format!("institution-secret-{id}").into_bytes(),
        links: Vec::new(),
        link_strategy: LinkStrategy::PrimarySecondary,
    }
}

fn bank(id: u16) -> Participant {
    Participant {
        id: ParticipantId(id),
        name: format!("bank-{id}"),
        role: Role::Bank,
        status: Status::Active,
        kinds: KindSet::NONE,
        limits_fen: [0; PAYMENT_KIND_COUNT],
        cap_fen: 1 << 40,
        secret: format!("bank-secret-{id}").into_bytes(),
        links: vec![Link {
            name: "primary".into(),
            up: true,
        }],
        link_strategy: LinkStrategy::PrimarySecondary,
    }
}

fn bin(prefix: &str, bank: u16) -> BinPrefix {
    BinPrefix {
        prefix: prefix.into(),
        bank: ParticipantId(bank),
    }
}

/// The network described in this module's doc.
pub(crate) fn test_network() -> Network {
    let high = 500_000_000;
    let mut participants = vec![
        institution(1, &Kind::PAYMENTS, [high; PAYMENT_KIND_COUNT]),
        institution(
            2,
            &[Kind::AgreementDebit, Kind::Refund],
            [50_000, 0, 0, 20_000],
        ),
        institution(3, &[Kind::PayoutCredit], [0, 0, 1_000_000, 0]),
        institution(4, &[Kind::Refund], [0, 0, 0, high]),
        bank(10),
        bank(11),
        bank(12),
        bank(13),
    ];
    participants.sort_by_key(|participant| participant.id);
    let mut bins = vec![
        bin("622202", 10),
        bin("62220212", 11), // nested in bank 10's BIN
        bin("436742", 11),
        bin("621700", 12),
        bin("6217001", 10),  // nested in bank 12's BIN
        bin("62170019", 12), // nested again, back to bank 12
        bin("955880", 13),
    ];
    for digit in 0..10 {
        bins.push(bin(&format!("955880{digit}"), 11));
    }
    Network {
        operator_secret: b"operator".to_vec(),
        participants,
        bins,
    }
}

/// `count` institutions allowed every kind, and the banks and BINs of [`test_network`].
pub(crate) fn wide_network(count: u16) -> Network {
    let mut network = test_network();
    network
        .participants
        .retain(|participant| participant.is_bank());
    for id in 0..count {
        network.participants.push(institution(
            100 + id,
            &Kind::PAYMENTS,
            [500_000_000; PAYMENT_KIND_COUNT],
        ));
    }
    network
        .participants
        .sort_by_key(|participant| participant.id);
    network
}

/// The bank of the longest prefix of `digits`, and that prefix's length: a plain scan of the
/// whole table, the obviously correct version.
pub(crate) fn linear_longest_match(
    network: &Network,
    digits: &[u8],
) -> Option<(ParticipantId, usize)> {
    network
        .bins
        .iter()
        .filter(|bin| digits.starts_with(bin.prefix.as_bytes()))
        .max_by_key(|bin| bin.prefix.len())
        .map(|bin| (bin.bank, bin.prefix.len()))
}
