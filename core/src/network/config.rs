//! The network file: TOML text → [`Network`], every refusal naming its line. The format is
//! docs/CONFIG.md; `config/example.toml` is a small valid one.
//!
//! Parsing happens in two steps. Serde reads the text into the `*Toml` structs below, which
//! refuse unknown fields and keep the byte span of every value that a later rule may refuse
//! (`toml::Spanned`); numbers are read signed so that a negative cap reaches a clear refusal
//! rather than a type error. Conversion then builds the [`Network`] and a parallel table of
//! [`Lines`], and [`validate`] applies the same rules a network built in code must follow.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::event::{Kind, KindSet, ParticipantId, PAYMENT_KIND_COUNT};

use super::validate::{validate, Lines, ParticipantLines};
use super::{
    BinPrefix, ConfigError, ConfigProblem, Link, LinkStrategy, Network, Participant, Role, Status,
};

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkToml {
    operator: Option<OperatorToml>,
    #[serde(default)]
    institution: Vec<InstitutionToml>,
    #[serde(default)]
    bank: Vec<BankToml>,
}

/// `[operator]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorToml {
    secret: Option<Spanned<String>>,
}

/// One `[[institution]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstitutionToml {
    id: Spanned<i64>,
    name: Spanned<String>,
    #[serde(default)]
    status: Status,
    kinds: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    limits_fen: LimitsToml,
    cap_fen: Spanned<i64>,
    secret: Spanned<String>,
}

/// An institution's `limits_fen` table: one optional entry per payment kind, named as
/// [`Kind::name`] spells it; any other name is an unknown field.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsToml {
    agreement_debit: Option<Spanned<i64>>,
    gateway_debit: Option<Spanned<i64>>,
    payout_credit: Option<Spanned<i64>>,
    refund: Option<Spanned<i64>>,
}

impl LimitsToml {
    /// In [`Kind::PAYMENTS`] order.
    fn by_kind(&self) -> [&Option<Spanned<i64>>; PAYMENT_KIND_COUNT] {
        [
            &self.agreement_debit,
            &self.gateway_debit,
            &self.payout_credit,
            &self.refund,
        ]
    }
}

/// One `[[bank]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BankToml {
    id: Spanned<i64>,
    name: Spanned<String>,
    #[serde(default)]
    status: Status,
    cap_fen: Spanned<i64>,
    secret: Spanned<String>,
    #[serde(default)]
    link_strategy: LinkStrategy,
    links: Option<Spanned<Vec<LinkToml>>>,
    #[serde(default)]
    prefixes: Vec<Spanned<String>>,
}

/// One of a bank's `links`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkToml {
    name: String,
    #[serde(default = "link_up_default")]
    up: bool,
}

fn link_up_default() -> bool {
    true
}

impl Network {
    /// Reads a network from TOML text in the format of docs/CONFIG.md, and checks it
    /// ([`Network::validate`]). Participants come out in id order; the BIN table in the order
    /// written. A refusal names the line of the value at fault.
    pub fn from_toml(text: &str) -> Result<Network, ConfigError> {
        let lines_of = LineIndex::new(text);
        let file: NetworkToml = toml::from_str(text).map_err(|error| {
            ConfigError::at(
                error.span().map(|span| lines_of.line(&span)),
                ConfigProblem::Syntax {
                    reason: error.message().to_owned(),
                },
            )
        })?;
        let (network, lines) = convert(file, &lines_of)?;
        validate(&network, &lines)?;
        Ok(network)
    }

    /// Reads and checks the network file at `path`; a refusal names the path and the line.
    pub fn load(path: &Path) -> Result<Network, ConfigError> {
        let with_path = |mut error: ConfigError| {
            error.path = Some(path.to_path_buf());
            error
        };
        let text = std::fs::read_to_string(path).map_err(|error| {
            with_path(ConfigError::at(
                None,
                ConfigProblem::FileUnreadable {
                    reason: error.to_string(),
                },
            ))
        })?;
        Network::from_toml(&text).map_err(with_path)
    }
}

/// Byte offsets of line starts, to turn spans into line numbers (from 1).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(offset, _)| offset + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        // The number of line starts at or before the span's start.
        self.starts.partition_point(|&start| start <= span.start)
    }

    fn of<T>(&self, spanned: &Spanned<T>) -> usize {
        self.line(&spanned.span())
    }
}

/// Builds the network and its lines; refuses what the types cannot hold (a negative cap, an
/// id beyond `u16`, an unknown kind name), leaving every other rule to [`validate`].
fn convert(file: NetworkToml, lines_of: &LineIndex) -> Result<(Network, Lines), ConfigError> {
    let secret = file.operator.and_then(|operator| operator.secret);
    let Some(secret) = secret else {
        return Err(ConfigError::at(None, ConfigProblem::OperatorSecretMissing));
    };
    let mut lines = Lines {
        operator_secret: Some(lines_of.of(&secret)),
        ..Lines::default()
    };

    let mut rows: Vec<(Participant, ParticipantLines)> = Vec::new();
    for institution in &file.institution {
        rows.push(convert_institution(institution, lines_of)?);
    }
    let mut bins = Vec::new();
    for bank in &file.bank {
        let (participant, participant_lines) = convert_bank(bank, lines_of)?;
        for prefix in &bank.prefixes {
            bins.push(BinPrefix {
                prefix: prefix.get_ref().clone(),
                bank: participant.id,
            });
            lines.bins.push(Some(lines_of.of(prefix)));
        }
        rows.push((participant, participant_lines));
    }
    // Stable: of two participants with one id, the one written first stays first, so that the
    // refusal names the second one's line and the first one's as "first".
    rows.sort_by_key(|(participant, _)| participant.id);
    let (participants, participant_lines) = rows.into_iter().unzip();
    lines.participants = participant_lines;

    let network = Network {
        operator_secret: secret.into_inner().into_bytes(),
        participants,
        bins,
    };
    Ok((network, lines))
}

fn convert_id(id: &Spanned<i64>, lines_of: &LineIndex) -> Result<ParticipantId, ConfigError> {
    u16::try_from(*id.get_ref())
        .map(ParticipantId)
        .map_err(|_| {
            ConfigError::at(
                Some(lines_of.of(id)),
                ConfigProblem::ParticipantIdOutOfRange { id: *id.get_ref() },
            )
        })
}

fn convert_cap(
    id: ParticipantId,
    cap_fen: &Spanned<i64>,
    lines_of: &LineIndex,
) -> Result<u64, ConfigError> {
    u64::try_from(*cap_fen.get_ref()).map_err(|_| {
        ConfigError::at(
            Some(lines_of.of(cap_fen)),
            ConfigProblem::CapMustNotBeNegative {
                id,
                cap_fen: *cap_fen.get_ref(),
            },
        )
    })
}

fn convert_institution(
    institution: &InstitutionToml,
    lines_of: &LineIndex,
) -> Result<(Participant, ParticipantLines), ConfigError> {
    let id = convert_id(&institution.id, lines_of)?;
    let cap_fen = convert_cap(id, &institution.cap_fen, lines_of)?;

    let mut kinds = KindSet::NONE;
    for name in institution.kinds.get_ref() {
        let kind = Kind::PAYMENTS
            .into_iter()
            .find(|kind| kind.name() == name.get_ref());
        let Some(kind) = kind else {
            return Err(ConfigError::at(
                Some(lines_of.of(name)),
                ConfigProblem::KindUnknown {
                    id,
                    name: name.get_ref().clone(),
                },
            ));
        };
        kinds = kinds.with(kind);
    }

    let mut limits_fen = [0; PAYMENT_KIND_COUNT];
    let mut limit_lines = [None; PAYMENT_KIND_COUNT];
    for (index, limit) in institution.limits_fen.by_kind().into_iter().enumerate() {
        let Some(limit) = limit else { continue };
        limit_lines[index] = Some(lines_of.of(limit));
        limits_fen[index] = u64::try_from(*limit.get_ref()).map_err(|_| {
            ConfigError::at(
                limit_lines[index],
                ConfigProblem::LimitMustNotBeNegative {
                    id,
                    kind: Kind::PAYMENTS[index],
                    limit_fen: *limit.get_ref(),
                },
            )
        })?;
    }

    let participant = Participant {
        id,
        name: institution.name.get_ref().clone(),
        role: Role::Institution,
        status: institution.status,
        kinds,
        limits_fen,
        cap_fen,
        secret: institution.secret.get_ref().clone().into_bytes(),
        links: Vec::new(),
        link_strategy: LinkStrategy::default(),
    };
    let lines = ParticipantLines {
        id: Some(lines_of.of(&institution.id)),
        name: Some(lines_of.of(&institution.name)),
        secret: Some(lines_of.of(&institution.secret)),
        kinds: Some(lines_of.of(&institution.kinds)),
        limits: limit_lines,
        links: None,
    };
    Ok((participant, lines))
}

fn convert_bank(
    bank: &BankToml,
    lines_of: &LineIndex,
) -> Result<(Participant, ParticipantLines), ConfigError> {
    let id = convert_id(&bank.id, lines_of)?;
    let cap_fen = convert_cap(id, &bank.cap_fen, lines_of)?;
    let links = match &bank.links {
        Some(links) => links
            .get_ref()
            .iter()
            .map(|link| Link {
                name: link.name.clone(),
                up: link.up,
            })
            .collect(),
        None => Vec::new(),
    };
    let participant = Participant {
        id,
        name: bank.name.get_ref().clone(),
        role: Role::Bank,
        status: bank.status,
        kinds: KindSet::NONE,
        limits_fen: [0; PAYMENT_KIND_COUNT],
        cap_fen,
        secret: bank.secret.get_ref().clone().into_bytes(),
        links,
        link_strategy: bank.link_strategy,
    };
    let lines = ParticipantLines {
        id: Some(lines_of.of(&bank.id)),
        name: Some(lines_of.of(&bank.name)),
        secret: Some(lines_of.of(&bank.secret)),
        kinds: None,
        limits: [None; PAYMENT_KIND_COUNT],
        links: bank.links.as_ref().map(|links| lines_of.of(links)),
    };
    Ok((participant, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines 1–2.
    const OPERATOR: &str = "[operator]\nsecret = \"operator\"\n";

    /// Seven lines: header, id, name, kinds, limits_fen, cap_fen, secret (3–9 after OPERATOR).
    const INSTITUTION: &str = "[[institution]]
id = 1
name = \"pay\"
kinds = [\"agreement_debit\", \"refund\"]
limits_fen = { agreement_debit = 500, refund = 500 }
cap_fen = 1000
secret = \"institution\"
";

    /// Seven lines: header, id, name, cap_fen, secret, links, prefixes.
    const BANK: &str = "[[bank]]
id = 1001
name = \"bank\"
cap_fen = 1000
secret = \"bank\"
links = [{ name = \"beijing\" }]
prefixes = [\"622202\"]
";

    fn valid() -> String {
        format!("{OPERATOR}{INSTITUTION}{BANK}")
    }

    #[test]
    fn valid_base_loads() {
        let network = Network::from_toml(&valid()).expect("the base of the refusal table is valid");
        assert_eq!(network.participants.len(), 2);
        assert_eq!(
            network.bins,
            vec![BinPrefix {
                prefix: "622202".into(),
                bank: ParticipantId(1001)
            }]
        );
    }

    /// One row per refusal: the text, and the message (with its line) it must be refused with.
    #[test]
    fn refusals_name_their_line() {
        let links_nine = (0..9)
            .map(|index| format!("{{ name = \"l{index}\" }}"))
            .collect::<Vec<_>>();
        let rows: Vec<(&str, String, &str)> = vec![
            (
                "duplicate id",
                format!("{OPERATOR}{INSTITUTION}{INSTITUTION}"),
                "line 11: participant id 1 is used twice (first at line 4)",
            ),
            (
                "duplicate id across roles",
                format!(
                    "{OPERATOR}{INSTITUTION}{}",
                    BANK.replace("id = 1001", "id = 1")
                ),
                "line 11: participant id 1 is used twice (first at line 4)",
            ),
            (
                "duplicate id written in decreasing order",
                format!(
                    "{OPERATOR}{}{}{}",
                    INSTITUTION.replace("id = 1\n", "id = 7\n"),
                    INSTITUTION,
                    INSTITUTION.replace("id = 1\n", "id = 7\n")
                ),
                "line 18: participant id 7 is used twice (first at line 4)",
            ),
            (
                "prefix claimed twice",
                format!("{OPERATOR}{BANK}{}", BANK.replace("1001", "1002")),
                "line 16: BIN prefix 622202 is claimed twice (first by bank 1001 at line 9)",
            ),
            (
                "prefix claimed twice by one bank",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("[\"622202\"]", "[\"622202\", \"622202\"]")
                ),
                "line 9: BIN prefix 622202 is claimed twice (first by bank 1001 at line 9)",
            ),
            (
                "negative institution cap",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("cap_fen = 1000", "cap_fen = -5")
                ),
                "line 8: participant 1: cap_fen must not be negative (it is -5)",
            ),
            (
                "negative bank cap",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("cap_fen = 1000", "cap_fen = -1")
                ),
                "line 6: participant 1001: cap_fen must not be negative (it is -1)",
            ),
            (
                "bank with an empty link list",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("[{ name = \"beijing\" }]", "[]")
                ),
                "line 8: bank 1001 has no link",
            ),
            (
                "bank with no links field",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("links = [{ name = \"beijing\" }]\n", "")
                ),
                "line 4: bank 1001 has no link",
            ),
            (
                "bank with too many links",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace(
                        "[{ name = \"beijing\" }]",
                        &format!("[{}]", links_nine.join(", "))
                    )
                ),
                "line 8: bank 1001 has 9 links (at most 8)",
            ),
            (
                "id zero",
                format!("{OPERATOR}{}", INSTITUTION.replace("id = 1\n", "id = 0\n")),
                "line 4: participant id 0 is out of range (1 to 4095; 0 is the operator)",
            ),
            (
                "id above the maximum",
                format!("{OPERATOR}{}", BANK.replace("id = 1001", "id = 4096")),
                "line 4: participant id 4096 is out of range (1 to 4095; 0 is the operator)",
            ),
            (
                "id beyond sixteen bits",
                format!("{OPERATOR}{}", BANK.replace("id = 1001", "id = 70000")),
                "line 4: participant id 70000 is out of range",
            ),
            (
                "negative id",
                format!("{OPERATOR}{}", INSTITUTION.replace("id = 1\n", "id = -3\n")),
                "line 4: participant id -3 is out of range",
            ),
            (
                "prefix too short",
                format!("{OPERATOR}{}", BANK.replace("\"622202\"", "\"62220\"")),
                "line 9: BIN prefix \"62220\" must be 6 to 10 ASCII digits",
            ),
            (
                "prefix too long",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("\"622202\"", "\"62220212345\"")
                ),
                "line 9: BIN prefix \"62220212345\" must be 6 to 10 ASCII digits",
            ),
            (
                "prefix not digits",
                format!("{OPERATOR}{}", BANK.replace("\"622202\"", "\"62a202\"")),
                "line 9: BIN prefix \"62a202\" must be 6 to 10 ASCII digits",
            ),
            (
                "prefix on its own line",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("[\"622202\"]", "[\n  \"622202\",\n  \"6222\",\n]")
                ),
                "line 11: BIN prefix \"6222\" must be 6 to 10 ASCII digits",
            ),
            (
                "empty institution secret",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("\"institution\"", "\"\"")
                ),
                "line 9: participant 1: the secret must not be empty",
            ),
            (
                "empty bank secret",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("secret = \"bank\"", "secret = \"\"")
                ),
                "line 7: participant 1001: the secret must not be empty",
            ),
            (
                "empty name",
                format!("{OPERATOR}{}", INSTITUTION.replace("\"pay\"", "\"\"")),
                "line 5: participant 1: the name must not be empty",
            ),
            (
                "unknown kind",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("\"refund\"]", "\"bank_reply\"]")
                ),
                "line 6: participant 1: unknown kind \"bank_reply\" (expected agreement_debit, \
                 gateway_debit, payout_credit, refund)",
            ),
            (
                "limit of zero for an allowed kind",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("refund = 500", "refund = 0")
                ),
                "line 7: institution 1 may send refund but its limit for it is missing or 0",
            ),
            (
                "no limit for an allowed kind",
                format!("{OPERATOR}{}", INSTITUTION.replace(", refund = 500", "")),
                "line 6: institution 1 may send refund but its limit for it is missing or 0",
            ),
            (
                "limit for a kind not allowed",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("refund = 500", "refund = 500, payout_credit = 9")
                ),
                "line 7: institution 1 has a limit for payout_credit but kinds does not list it",
            ),
            (
                "negative limit",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("refund = 500", "refund = -500")
                ),
                "line 7: participant 1: the limit for refund must not be negative (it is -500)",
            ),
            (
                "no operator table",
                format!("{INSTITUTION}{BANK}"),
                "the operator secret is missing",
            ),
            (
                "operator table without a secret",
                format!("[operator]\n{INSTITUTION}"),
                "the operator secret is missing",
            ),
            (
                "empty operator secret",
                format!("{}{INSTITUTION}", OPERATOR.replace("\"operator\"", "\"\"")),
                "line 2: the operator secret must not be empty",
            ),
            (
                "unknown institution field",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("cap_fen = 1000\n", "cap_fen = 1000\ncolour = \"red\"\n")
                ),
                "line 9: unknown field `colour`",
            ),
            (
                "unknown limit kind",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("refund = 500 }", "refund = 500, cutover = 1 }")
                ),
                "line 7: unknown field `cutover`",
            ),
            (
                "unknown link field",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace(
                        "{ name = \"beijing\" }",
                        "{ name = \"beijing\", speed = 10 }"
                    )
                ),
                "line 8: unknown field `speed`",
            ),
            (
                "unknown top-level table",
                format!("{}[switch]\nrate = 1\n", valid()),
                "line 17: unknown field `switch`",
            ),
            (
                "unknown status",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace("cap_fen = 1000\n", "cap_fen = 1000\nstatus = \"paused\"\n")
                ),
                "line 7: unknown variant `paused`",
            ),
            (
                "unknown link strategy",
                format!(
                    "{OPERATOR}{}",
                    BANK.replace(
                        "cap_fen = 1000\n",
                        "cap_fen = 1000\nlink_strategy = \"random\"\n"
                    )
                ),
                "line 7: unknown variant `random`",
            ),
            (
                "prefix written as a number",
                format!("{OPERATOR}{}", BANK.replace("[\"622202\"]", "[622202]")),
                "line 9: invalid type: integer `622202`, expected a string",
            ),
            (
                "missing cap",
                format!("{OPERATOR}{}", BANK.replace("cap_fen = 1000\n", "")),
                "line 3: missing field `cap_fen`",
            ),
            (
                "not TOML",
                format!(
                    "{OPERATOR}{}",
                    INSTITUTION.replace("name = \"pay\"", "name = \"pay")
                ),
                "line 5: ",
            ),
        ];
        for (name, text, expected) in rows {
            let error = Network::from_toml(&text).expect_err(name);
            let message = error.to_string();
            assert!(
                message.contains(expected),
                "{name}: expected {expected:?} in {message:?}\n--- text ---\n{text}"
            );
            assert!(error.path.is_none(), "{name}");
        }
    }

    #[test]
    fn line_index_counts_from_one_and_knows_crlf() {
        let lines_of = LineIndex::new("a\r\nb\nc");
        assert_eq!(lines_of.line(&(0..1)), 1);
        assert_eq!(lines_of.line(&(3..4)), 2);
        assert_eq!(lines_of.line(&(5..6)), 3);
    }

    #[test]
    fn crlf_file_refusals_name_the_same_line() {
        let text = format!(
            "{OPERATOR}{}",
            INSTITUTION.replace("cap_fen = 1000", "cap_fen = -5")
        )
        .replace('\n', "\r\n");
        let error = Network::from_toml(&text).unwrap_err();
        assert_eq!(error.line, Some(8));
    }

    /// The example file in the repository, field by field.
    #[test]
    fn example_file_loads_as_documented() {
        let network = Network::from_toml(include_str!("../../../config/example.toml"))
            .unwrap_or_else(|error| panic!("config/example.toml: {error}"));
        assert_eq!(network.operator_secret, b"operator-secret-change-me");
        let ids: Vec<u16> = network
            .participants
            .iter()
            .map(|participant| participant.id.0)
            .collect();
        assert_eq!(ids, [1, 2, 3, 1001, 1002, 1003, 1004]);
        assert_eq!(network.institutions().count(), 3);
        assert_eq!(network.banks().count(), 4);

        let alipay = network.participant(ParticipantId(1)).unwrap();
        assert_eq!(alipay.name, "Alipay");
        assert_eq!(alipay.role, Role::Institution);
        assert_eq!(alipay.status, Status::Active);
        assert_eq!(alipay.kinds, KindSet::PAYMENTS);
        assert_eq!(alipay.limits_fen, [5_000_000; 4]);
        assert_eq!(alipay.cap_fen, 25_000_000_000);
        assert_eq!(alipay.secret, b"institution-1-secret");
        assert!(alipay.links.is_empty());

        let tenpay = network.participant(ParticipantId(2)).unwrap();
        assert!(!tenpay.kinds.contains(Kind::GatewayDebit));
        assert!(tenpay.kinds.contains(Kind::PayoutCredit));
        assert_eq!(tenpay.limits_fen, [2_000_000, 0, 1_000_000, 2_000_000]);

        let small = network.participant(ParticipantId(3)).unwrap();
        assert_eq!(small.status, Status::Suspended);
        assert_eq!(small.kinds, KindSet::NONE.with(Kind::GatewayDebit));

        let first = network.participant(ParticipantId(1001)).unwrap();
        assert_eq!(first.role, Role::Bank);
        assert_eq!(first.kinds, KindSet::NONE);
        assert_eq!(first.limits_fen, [0; 4]);
        assert_eq!(first.link_strategy, LinkStrategy::RoundRobin);
        let names: Vec<&str> = first.links.iter().map(|link| link.name.as_str()).collect();
        assert_eq!(names, ["beijing", "shanghai", "shenzhen"]);
        assert!(first.links.iter().all(|link| link.up));

        let second = network.participant(ParticipantId(1002)).unwrap();
        assert_eq!(second.link_strategy, LinkStrategy::PrimarySecondary);
        assert_eq!(
            second.links,
            [
                Link {
                    name: "beijing".into(),
                    up: false
                },
                Link {
                    name: "shanghai".into(),
                    up: true
                }
            ]
        );
        let third = network.participant(ParticipantId(1003)).unwrap();
        assert_eq!(
            third.link_strategy,
            LinkStrategy::PrimarySecondary,
            "the default"
        );
        assert!(
            third.links.iter().all(|link| link.up),
            "up defaults to true"
        );

        assert_eq!(network.bins.len(), 12);
        let bank_of = |prefix: &str| {
            network
                .bins
                .iter()
                .find(|bin| bin.prefix == prefix)
                .map(|bin| bin.bank.0)
        };
        assert_eq!(bank_of("622202"), Some(1001));
        assert_eq!(
            bank_of("62220212"),
            Some(1003),
            "nested inside 1001's 622202"
        );
        assert_eq!(bank_of("4581240009"), Some(1004));
        assert_eq!(
            network.bins[0],
            BinPrefix {
                prefix: "622202".into(),
                bank: ParticipantId(1001)
            }
        );
    }

    #[test]
    fn load_names_the_path() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let network = Network::load(&root.join("config/example.toml")).unwrap();
        assert_eq!(network.participants.len(), 7);

        let missing = root.join("config/no-such-file.toml");
        let error = Network::load(&missing).unwrap_err();
        assert!(matches!(
            error.problem,
            ConfigProblem::FileUnreadable { .. }
        ));
        assert!(error
            .to_string()
            .starts_with(&format!("{}: cannot read: ", missing.display())));

        let path =
            std::env::temp_dir().join(format!("clearway-config-test-{}.toml", std::process::id()));
        std::fs::write(&path, format!("{OPERATOR}{INSTITUTION}{INSTITUTION}")).unwrap();
        let error = Network::load(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            error.to_string(),
            format!(
                "{}:11: participant id 1 is used twice (first at line 4)",
                path.display()
            )
        );
    }
}
