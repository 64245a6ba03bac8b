//! The rules a [`Network`] must follow, whether loaded from a file or built in code, and
//! [`ConfigError`], the refusal that names the broken rule and, for a file, its line.
//!
//! A loaded network is checked by the same [`Network::validate`] as a generated one: the loader
//! only adds the lines ([`Lines`]) so that each refusal points into the file.

use std::path::PathBuf;

use crate::constants::{
    BIN_PREFIX_LENGTH_MAX, BIN_PREFIX_LENGTH_MIN, LINKS_PER_BANK_MAX, PARTICIPANT_ID_MAX,
};
use crate::event::{Kind, ParticipantId};

use super::{Network, Role};

/// A network the switch refuses to start with: what is wrong and, when the network came from a
/// file, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the network was loaded from one with [`Network::load`].
    pub path: Option<PathBuf>,
    /// The line (from 1) of the offending value, when the network came from TOML text.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: ConfigProblem,
}

/// What is wrong with a network. Each reads as a sentence in [`ConfigError`]'s `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The file could not be read.
    FileUnreadable {
        /// The operating system's reason.
        reason: String,
    },
    /// The text is not TOML, or not the shape docs/CONFIG.md describes (an unknown field, a
    /// missing field, a value of the wrong type).
    Syntax {
        /// The TOML parser's reason.
        reason: String,
    },
    /// There is no `[operator]` table with a `secret`.
    OperatorSecretMissing,
    /// The operator's secret is the empty string.
    OperatorSecretMustNotBeEmpty,
    /// A participant id outside `1..=PARTICIPANT_ID_MAX` (0 is the operator).
    ParticipantIdOutOfRange {
        /// The id as written.
        id: i64,
    },
    /// Two participants share an id.
    ParticipantIdUsedTwice {
        /// The id.
        id: ParticipantId,
        /// The line of the first participant with it, when known.
        first_line: Option<usize>,
    },
    /// The participants are not in strictly increasing id order (only a network built in code can
    /// be: the loader sorts them).
    ParticipantsOutOfOrder {
        /// The first id that follows a larger one.
        id: ParticipantId,
    },
    /// A participant's name is empty.
    NameMustNotBeEmpty {
        /// The participant.
        id: ParticipantId,
    },
    /// A participant's secret is empty: its MACs would be made with a key anyone knows.
    SecretMustNotBeEmpty {
        /// The participant.
        id: ParticipantId,
    },
    /// A cap below zero.
    CapMustNotBeNegative {
        /// The participant.
        id: ParticipantId,
        /// The cap as written.
        cap_fen: i64,
    },
    /// A kind name that is not one of the four payment kinds.
    KindUnknown {
        /// The participant.
        id: ParticipantId,
        /// The name as written.
        name: String,
    },
    /// A limit below zero.
    LimitMustNotBeNegative {
        /// The participant.
        id: ParticipantId,
        /// The kind.
        kind: Kind,
        /// The limit as written.
        limit_fen: i64,
    },
    /// An institution may send a kind but has no limit (or a limit of 0) for it: every payment of
    /// that kind would be declined.
    LimitMustNotBeZero {
        /// The institution.
        id: ParticipantId,
        /// The kind.
        kind: Kind,
    },
    /// An institution has a limit for a kind it may not send: a sign that `kinds` is missing one.
    LimitForKindNotAllowed {
        /// The institution.
        id: ParticipantId,
        /// The kind.
        kind: Kind,
    },
    /// An institution with links: links belong to banks.
    InstitutionMustNotHaveLinks {
        /// The institution.
        id: ParticipantId,
    },
    /// A bank with payment kinds or limits: banks do not send payments.
    BankMustNotSendPayments {
        /// The bank.
        id: ParticipantId,
    },
    /// A bank with no link: nothing could ever be routed to it.
    BankMustHaveALink {
        /// The bank.
        id: ParticipantId,
    },
    /// A bank with more than `LINKS_PER_BANK_MAX` links.
    BankHasTooManyLinks {
        /// The bank.
        id: ParticipantId,
        /// Its links.
        count: usize,
    },
    /// A BIN prefix that is not 6 to 10 ASCII digits.
    PrefixMalformed {
        /// The prefix as written.
        prefix: String,
    },
    /// Two BIN table rows with the same prefix.
    PrefixClaimedTwice {
        /// The prefix.
        prefix: String,
        /// The bank of the first row.
        first_bank: ParticipantId,
        /// The line of the first row, when known.
        first_line: Option<usize>,
    },
    /// A BIN table row whose bank is not a bank of the network.
    PrefixOfUnknownBank {
        /// The prefix.
        prefix: String,
        /// The id it names.
        bank: ParticipantId,
    },
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigProblem::FileUnreadable { reason } => write!(formatter, "cannot read: {reason}"),
            ConfigProblem::Syntax { reason } => formatter.write_str(reason.trim_end()),
            ConfigProblem::OperatorSecretMissing => {
                formatter.write_str("the operator secret is missing ([operator] secret = \"...\")")
            }
            ConfigProblem::OperatorSecretMustNotBeEmpty => {
                formatter.write_str("the operator secret must not be empty")
            }
            ConfigProblem::ParticipantIdOutOfRange { id } => write!(
                formatter,
                "participant id {id} is out of range (1 to {PARTICIPANT_ID_MAX}; 0 is the operator)"
            ),
            ConfigProblem::ParticipantIdUsedTwice { id, first_line } => {
                write!(formatter, "participant id {id} is used twice")?;
                write_first_line(formatter, *first_line)
            }
            ConfigProblem::ParticipantsOutOfOrder { id } => write!(
                formatter,
                "participants must be in increasing id order; {id} follows a larger id"
            ),
            ConfigProblem::NameMustNotBeEmpty { id } => {
                write!(formatter, "participant {id}: the name must not be empty")
            }
            ConfigProblem::SecretMustNotBeEmpty { id } => {
                write!(formatter, "participant {id}: the secret must not be empty")
            }
            ConfigProblem::CapMustNotBeNegative { id, cap_fen } => write!(
                formatter,
                "participant {id}: cap_fen must not be negative (it is {cap_fen})"
            ),
            ConfigProblem::KindUnknown { id, name } => write!(
                formatter,
                "participant {id}: unknown kind \"{name}\" (expected {})",
                payment_kind_names()
            ),
            ConfigProblem::LimitMustNotBeNegative {
                id,
                kind,
                limit_fen,
            } => write!(
                formatter,
                "participant {id}: the limit for {kind} must not be negative (it is {limit_fen})"
            ),
            ConfigProblem::LimitMustNotBeZero { id, kind } => write!(
                formatter,
                "institution {id} may send {kind} but its limit for it is missing or 0"
            ),
            ConfigProblem::LimitForKindNotAllowed { id, kind } => write!(
                formatter,
                "institution {id} has a limit for {kind} but kinds does not list it"
            ),
            ConfigProblem::InstitutionMustNotHaveLinks { id } => {
                write!(formatter, "institution {id} must not have links")
            }
            ConfigProblem::BankMustNotSendPayments { id } => {
                write!(
                    formatter,
                    "bank {id} must have no payment kinds and no limits"
                )
            }
            ConfigProblem::BankMustHaveALink { id } => {
                write!(formatter, "bank {id} has no link")
            }
            ConfigProblem::BankHasTooManyLinks { id, count } => write!(
                formatter,
                "bank {id} has {count} links (at most {LINKS_PER_BANK_MAX})"
            ),
            ConfigProblem::PrefixMalformed { prefix } => write!(
                formatter,
                "BIN prefix \"{prefix}\" must be {BIN_PREFIX_LENGTH_MIN} to \
                 {BIN_PREFIX_LENGTH_MAX} ASCII digits"
            ),
            ConfigProblem::PrefixClaimedTwice {
                prefix,
                first_bank,
                first_line,
            } => {
                write!(
                    formatter,
                    "BIN prefix {prefix} is claimed twice (first by bank {first_bank}"
                )?;
                if let Some(line) = first_line {
                    write!(formatter, " at line {line}")?;
                }
                formatter.write_str(")")
            }
            ConfigProblem::PrefixOfUnknownBank { prefix, bank } => write!(
                formatter,
                "BIN prefix {prefix} routes to {bank}, which is not a bank of the network"
            ),
        }
    }
}

fn write_first_line(
    formatter: &mut std::fmt::Formatter<'_>,
    first_line: Option<usize>,
) -> std::fmt::Result {
    match first_line {
        Some(line) => write!(formatter, " (first at line {line})"),
        None => Ok(()),
    }
}

fn payment_kind_names() -> String {
    Kind::PAYMENTS.map(Kind::name).join(", ")
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(formatter, "{}:{line}: ", path.display())?,
            (Some(path), None) => write!(formatter, "{}: ", path.display())?,
            (None, Some(line)) => write!(formatter, "line {line}: ")?,
            (None, None) => {}
        }
        write!(formatter, "{}", self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// A refusal at `line` (if known), with no path yet.
    pub(crate) fn at(line: Option<usize>, problem: ConfigProblem) -> ConfigError {
        ConfigError {
            path: None,
            line,
            problem,
        }
    }
}

/// Where a participant's fields were written (lines from 1), for a network loaded from TOML.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ParticipantLines {
    pub(crate) id: Option<usize>,
    pub(crate) name: Option<usize>,
    pub(crate) secret: Option<usize>,
    pub(crate) kinds: Option<usize>,
    pub(crate) limits: [Option<usize>; crate::event::PAYMENT_KIND_COUNT],
    pub(crate) links: Option<usize>,
}

/// Where the parts of a network were written, parallel to its `participants` and `bins`; empty
/// for a network built in code, so that every line is `None`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lines {
    pub(crate) operator_secret: Option<usize>,
    pub(crate) participants: Vec<ParticipantLines>,
    pub(crate) bins: Vec<Option<usize>>,
}

impl Lines {
    fn participant(&self, index: usize) -> ParticipantLines {
        self.participants.get(index).copied().unwrap_or_default()
    }

    fn bin(&self, index: usize) -> Option<usize> {
        self.bins.get(index).copied().flatten()
    }
}

impl Network {
    /// Checks every rule of docs/CONFIG.md ("What is refused") that a network built in code can
    /// break: the same checks [`Network::from_toml`] applies after parsing.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate(self, &Lines::default())
    }
}

/// The semantic checks, in the order a reader of the file meets them: operator, then each
/// participant, then ids across participants, then the BIN table.
pub(crate) fn validate(network: &Network, lines: &Lines) -> Result<(), ConfigError> {
    if network.operator_secret.is_empty() {
        return Err(ConfigError::at(
            lines.operator_secret,
            ConfigProblem::OperatorSecretMustNotBeEmpty,
        ));
    }
    for index in 0..network.participants.len() {
        validate_participant(network, index, &lines.participant(index))?;
    }
    validate_ids_unique_and_ordered(network, lines)?;
    validate_bins(network, lines)
}

fn validate_participant(
    network: &Network,
    index: usize,
    lines: &ParticipantLines,
) -> Result<(), ConfigError> {
    let participant = &network.participants[index];
    let id = participant.id;
    if id == ParticipantId::OPERATOR || id.0 > PARTICIPANT_ID_MAX {
        return Err(ConfigError::at(
            lines.id,
            ConfigProblem::ParticipantIdOutOfRange {
                id: i64::from(id.0),
            },
        ));
    }
    if participant.name.is_empty() {
        return Err(ConfigError::at(
            lines.name,
            ConfigProblem::NameMustNotBeEmpty { id },
        ));
    }
    if participant.secret.is_empty() {
        return Err(ConfigError::at(
            lines.secret,
            ConfigProblem::SecretMustNotBeEmpty { id },
        ));
    }
    match participant.role {
        Role::Institution => {
            if !participant.links.is_empty() {
                return Err(ConfigError::at(
                    lines.links.or(lines.id),
                    ConfigProblem::InstitutionMustNotHaveLinks { id },
                ));
            }
            for (kind_index, kind) in Kind::PAYMENTS.into_iter().enumerate() {
                let allowed = participant.kinds.contains(kind);
                let limit_fen = participant.limits_fen[kind_index];
                if allowed && limit_fen == 0 {
                    let line = lines.limits[kind_index].or(lines.kinds).or(lines.id);
                    return Err(ConfigError::at(
                        line,
                        ConfigProblem::LimitMustNotBeZero { id, kind },
                    ));
                }
                if !allowed && limit_fen != 0 {
                    let line = lines.limits[kind_index].or(lines.id);
                    return Err(ConfigError::at(
                        line,
                        ConfigProblem::LimitForKindNotAllowed { id, kind },
                    ));
                }
            }
        }
        Role::Bank => {
            let sends_payments = participant.kinds != crate::event::KindSet::NONE
                || participant
                    .limits_fen
                    .iter()
                    .any(|&limit_fen| limit_fen != 0);
            if sends_payments {
                return Err(ConfigError::at(
                    lines.id,
                    ConfigProblem::BankMustNotSendPayments { id },
                ));
            }
            if participant.links.is_empty() {
                return Err(ConfigError::at(
                    lines.links.or(lines.id),
                    ConfigProblem::BankMustHaveALink { id },
                ));
            }
            if participant.links.len() > LINKS_PER_BANK_MAX {
                return Err(ConfigError::at(
                    lines.links.or(lines.id),
                    ConfigProblem::BankHasTooManyLinks {
                        id,
                        count: participant.links.len(),
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Duplicates are found over a sorted index, so they are reported as "used twice" with the first
/// one's line whatever the order; only then is the order itself checked.
fn validate_ids_unique_and_ordered(network: &Network, lines: &Lines) -> Result<(), ConfigError> {
    let participants = &network.participants;
    let mut order: Vec<usize> = (0..participants.len()).collect();
    order.sort_by_key(|&index| participants[index].id); // Stable: the first written stays first.
    for pair in order.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if participants[first].id == participants[second].id {
            return Err(ConfigError::at(
                lines.participant(second).id,
                ConfigProblem::ParticipantIdUsedTwice {
                    id: participants[second].id,
                    first_line: lines.participant(first).id,
                },
            ));
        }
    }
    for (index, pair) in participants.windows(2).enumerate() {
        if pair[0].id > pair[1].id {
            return Err(ConfigError::at(
                lines.participant(index + 1).id,
                ConfigProblem::ParticipantsOutOfOrder { id: pair[1].id },
            ));
        }
    }
    Ok(())
}

fn validate_bins(network: &Network, lines: &Lines) -> Result<(), ConfigError> {
    for (index, bin) in network.bins.iter().enumerate() {
        if !prefix_well_formed(&bin.prefix) {
            return Err(ConfigError::at(
                lines.bin(index),
                ConfigProblem::PrefixMalformed {
                    prefix: bin.prefix.clone(),
                },
            ));
        }
        if !network
            .participant(bin.bank)
            .is_some_and(|participant| participant.is_bank())
        {
            return Err(ConfigError::at(
                lines.bin(index),
                ConfigProblem::PrefixOfUnknownBank {
                    prefix: bin.prefix.clone(),
                    bank: bin.bank,
                },
            ));
        }
    }
    let bins = &network.bins;
    let mut order: Vec<usize> = (0..bins.len()).collect();
    order.sort_by(|&left, &right| bins[left].prefix.cmp(&bins[right].prefix)); // Stable.
    for pair in order.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if bins[first].prefix == bins[second].prefix {
            return Err(ConfigError::at(
                lines.bin(second),
                ConfigProblem::PrefixClaimedTwice {
                    prefix: bins[second].prefix.clone(),
                    first_bank: bins[first].bank,
                    first_line: lines.bin(first),
                },
            ));
        }
    }
    Ok(())
}

/// Whether `prefix` is `BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX` ASCII digits.
pub fn prefix_well_formed(prefix: &str) -> bool {
    (BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX).contains(&prefix.len())
        && prefix.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::KindSet;
    use crate::network::{BinPrefix, Link};

    fn example() -> Network {
        Network::from_toml(include_str!("../../../config/example.toml")).unwrap()
    }

    /// One row per rule, broken in a network built in code: no lines, the same sentences.
    #[test]
    fn refusals_of_a_network_built_in_code() {
        type Breaker = fn(&mut Network);
        let rows: [(&str, Breaker, &str); 16] = [
            (
                "empty operator secret",
                |network| network.operator_secret.clear(),
                "the operator secret must not be empty",
            ),
            (
                "id zero",
                |network| network.participants[0].id = ParticipantId(0),
                "participant id 0 is out of range (1 to 4095; 0 is the operator)",
            ),
            (
                "id above the maximum",
                |network| network.participants[6].id = ParticipantId(4096),
                "participant id 4096 is out of range (1 to 4095; 0 is the operator)",
            ),
            (
                "duplicate id",
                |network| network.participants[1].id = ParticipantId(1),
                "participant id 1 is used twice",
            ),
            (
                "out of order",
                |network| network.participants.swap(0, 1),
                "participants must be in increasing id order; 1 follows a larger id",
            ),
            (
                "empty name",
                |network| network.participants[3].name.clear(),
                "participant 1001: the name must not be empty",
            ),
            (
                "empty secret",
                |network| network.participants[0].secret.clear(),
                "participant 1: the secret must not be empty",
            ),
            (
                "limit zero",
                |network| network.participants[0].limits_fen[3] = 0,
                "institution 1 may send refund but its limit for it is missing or 0",
            ),
            (
                "limit not allowed",
                |network| network.participants[1].limits_fen[1] = 1,
                "institution 2 has a limit for gateway_debit but kinds does not list it",
            ),
            (
                "institution with links",
                |network| {
                    network.participants[0].links.push(Link {
                        name: "x".into(),
                        up: true,
                    })
                },
                "institution 1 must not have links",
            ),
            (
                "bank with kinds",
                |network| network.participants[3].kinds = KindSet::PAYMENTS,
                "bank 1001 must have no payment kinds and no limits",
            ),
            (
                "bank with limits",
                |network| network.participants[4].limits_fen[0] = 1,
                "bank 1002 must have no payment kinds and no limits",
            ),
            (
                "bank without links",
                |network| network.participants[5].links.clear(),
                "bank 1003 has no link",
            ),
            (
                "bank with too many links",
                |network| {
                    let link = network.participants[5].links[0].clone();
                    network.participants[5].links = vec![link; 9];
                },
                "bank 1003 has 9 links (at most 8)",
            ),
            (
                "prefix of an institution",
                |network| {
                    network.bins.push(BinPrefix {
                        prefix: "999999".into(),
                        bank: ParticipantId(1),
                    })
                },
                "BIN prefix 999999 routes to 1, which is not a bank of the network",
            ),
            (
                "prefix twice",
                |network| {
                    network.bins.push(BinPrefix {
                        prefix: "622202".into(),
                        bank: ParticipantId(1004),
                    })
                },
                "BIN prefix 622202 is claimed twice (first by bank 1001)",
            ),
        ];
        example().validate().expect("the base is valid");
        for (name, breaker, expected) in rows {
            let mut network = example();
            breaker(&mut network);
            let error = network.validate().expect_err(name);
            assert_eq!(error.line, None, "{name}");
            assert_eq!(error.to_string(), expected, "{name}");
        }
    }

    #[test]
    fn prefix_shapes() {
        let rows = [
            ("622202", true),
            ("6222021234", true),
            ("62220", false),
            ("62220212345", false),
            ("62a202", false),
            ("６２２２０２", false),
            ("", false),
        ];
        for (prefix, expected) in rows {
            assert_eq!(prefix_well_formed(prefix), expected, "{prefix:?}");
        }
    }
}
