//! [`ReferenceModel`]: docs/SWITCH.md — authorize, route and ledger — implemented again in the
//! most obvious single-threaded way, to hold the fast stages to.
//!
//! No cleverness on purpose: the BIN table is a `Vec` scanned for the longest prefix, the holds a
//! `BTreeMap` scanned in full for expiry on every event, every finished payment kept forever in
//! a `BTreeMap` (retention is judged from the id's own time alone, so nothing beyond it is ever
//! read), and idempotency compares the fields themselves. It has no window and no store: what
//! the ledger splits between memory and disk, the model keeps in one map, so a comparison holds
//! the split to "no difference". It does not model the window's record capacity (the ledger's
//! `LedgerFull` for a full generation has a table test of its own); the holds' capacity it
//! does. It shares
//! no code with the stages (it uses the event and network types, [`MacKey`] and
//! [`Account`]'s format checks, and returns the ledger's plain data types
//! [`Expiry`], [`BatchReport`] and [`StateHash`]).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::constants::CARD_NUMBER_LENGTH_MIN;
use crate::event::{
    Account, Decline, Event, Kind, MacKey, MacMode, Outcome, ParticipantId, Results, TxnId,
    LINK_UP, REPLY_APPROVE, REPLY_DECLINE, ROUTE_ADD, ROUTE_REMOVE, STATUS_ACTIVE,
    STATUS_SUSPENDED,
};
use crate::network::{LinkStrategy, Network, Participant, Role, Status};
use crate::stage::{BatchReport, BatchRow, Direction, Expiry, LedgerConfig, StateHash};

/// What the model remembers of a participant.
struct ModelParticipant {
    config: Participant,
    key: MacKey,
    status: Status,
    links_up: Vec<bool>,
    /// Round-robin: the link to start the next search at.
    next_link: usize,
}

/// The fields idempotency compares.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Fields {
    kind: Kind,
    sender: ParticipantId,
    account: Account,
    amount_fen: u64,
    original: TxnId,
}

impl Fields {
    fn of(event: &Event) -> Fields {
        Fields {
            kind: event.kind,
            sender: event.sender,
            account: event.account,
            amount_fen: event.amount_fen,
            original: event.original,
        }
    }
}

/// A pending hold.
#[derive(Clone, Copy, Debug)]
struct ModelHold {
    fields: Fields,
    bank: ParticipantId,
    debtor: ParticipantId,
    creditor: ParticipantId,
    deadline_ns: u64,
    sent_ns: u64,
    /// Placement order.
    placed: u64,
}

/// A finished payment.
#[derive(Clone, Copy, Debug)]
struct ModelFinished {
    fields: Fields,
    outcome: Outcome,
    /// For an approved debit: its amount minus what refunds have taken or reserved.
    refundable_fen: u64,
}

/// The whole switch, obviously: see the module documentation.
pub struct ReferenceModel {
    mac: MacMode,
    config: LedgerConfig,
    operator_key: MacKey,
    participants: BTreeMap<ParticipantId, ModelParticipant>,
    /// (prefix, bank), in no particular order.
    bins: Vec<(String, ParticipantId)>,
    clock_ns: u64,
    batch: u64,
    positions: BTreeMap<ParticipantId, i128>,
    /// Per participant: (count, debit, credit) in the open batch.
    totals: BTreeMap<ParticipantId, (u64, u128, u128)>,
    holds: BTreeMap<TxnId, ModelHold>,
    placed: u64,
    finished: BTreeMap<TxnId, ModelFinished>,
    reports: Vec<BatchReport>,
}

impl ReferenceModel {
    /// The switch at start for `network`.
    pub fn new(network: &Network, mac: MacMode, config: LedgerConfig) -> ReferenceModel {
        let participants = network
            .participants
            .iter()
            .map(|participant| {
                (
                    participant.id,
                    ModelParticipant {
                        config: participant.clone(),
                        key: MacKey::new(&participant.secret),
                        status: participant.status,
                        links_up: participant.links.iter().map(|link| link.up).collect(),
                        next_link: 0,
                    },
                )
            })
            .collect();
        ReferenceModel {
            mac,
            config,
            operator_key: MacKey::new(&network.operator_secret),
            participants,
            bins: network
                .bins
                .iter()
                .map(|bin| (bin.prefix.clone(), bin.bank))
                .collect(),
            clock_ns: 0,
            batch: 1,
            positions: BTreeMap::new(),
            totals: BTreeMap::new(),
            holds: BTreeMap::new(),
            placed: 0,
            finished: BTreeMap::new(),
            reports: Vec::new(),
        }
    }

    /// Applies one event through all three stages: its results and the holds it expired.
    pub fn apply(&mut self, event: &Event) -> (Results, Vec<Expiry>) {
        let mut results = Results::default();
        if let Err(decline) = self.authorize(event) {
            results.decline = Some(decline);
        } else if let Err(decline) = self.route(event, &mut results) {
            results.decline = Some(decline);
        }
        let expiries = self.ledger(event, &mut results);
        (results, expiries)
    }

    // ---- authorize ----

    fn authorize(&self, event: &Event) -> Result<(), Decline> {
        let key = if event.kind.is_operator() {
            if event.sender != ParticipantId::OPERATOR {
                return Err(Decline::KindNotAllowed);
            }
            &self.operator_key
        } else {
            match self.participants.get(&event.sender) {
                Some(participant) => &participant.key,
                None => return Err(Decline::UnknownSender),
            }
        };
        if self.mac == MacMode::Hmac && !key.verify(event) {
            return Err(Decline::BadMac);
        }
        if event.kind.is_payment() {
            let participant = &self.participants[&event.sender].config;
            if participant.role != Role::Institution || !participant.kinds.contains(event.kind) {
                return Err(Decline::KindNotAllowed);
            }
            if event.amount_fen == 0 {
                return Err(Decline::AmountMustNotBeZero);
            }
            let limit = participant.limits_fen[event.kind as usize];
            if event.amount_fen > limit {
                return Err(Decline::AmountExceedsLimit);
            }
            let digits = event.account.as_bytes();
            let well_formed = event.account.is_well_formed()
                && (digits.len() < CARD_NUMBER_LENGTH_MIN || event.account.passes_luhn());
            if !well_formed {
                return Err(Decline::MalformedAccount);
            }
            if event.kind == Kind::Refund && event.original == TxnId::NONE {
                return Err(Decline::RefundWithoutOriginal);
            }
        } else if event.kind == Kind::BankReply {
            if self.participants[&event.sender].config.role != Role::Bank {
                return Err(Decline::KindNotAllowed);
            }
            if event.code != REPLY_APPROVE && event.code != REPLY_DECLINE {
                return Err(Decline::UnknownReplyCode);
            }
        }
        Ok(())
    }

    // ---- route ----

    fn route(&mut self, event: &Event, results: &mut Results) -> Result<(), Decline> {
        match event.kind {
            Kind::AgreementDebit | Kind::GatewayDebit | Kind::PayoutCredit | Kind::Refund => {
                if self.participants[&event.sender].status == Status::Suspended {
                    return Err(Decline::SenderSuspended);
                }
                let account = event.account.as_bytes();
                let mut best: Option<(usize, ParticipantId)> = None;
                for (prefix, bank) in &self.bins {
                    if account.starts_with(prefix.as_bytes())
                        && best.map_or(true, |(length, _)| prefix.len() > length)
                    {
                        best = Some((prefix.len(), *bank));
                    }
                }
                let Some((_, bank)) = best else {
                    return Err(Decline::NoRoute);
                };
                let participant = self.participants.get_mut(&bank).expect("routes name banks");
                if participant.status == Status::Suspended {
                    return Err(Decline::BankUnavailable);
                }
                let count = participant.links_up.len();
                let start = match participant.config.link_strategy {
                    LinkStrategy::PrimarySecondary => 0,
                    LinkStrategy::RoundRobin => participant.next_link,
                };
                let mut chosen = None;
                for step in 0..count {
                    let link = (start + step) % count;
                    if participant.links_up[link] {
                        chosen = Some(link);
                        break;
                    }
                }
                let Some(link) = chosen else {
                    return Err(Decline::BankUnavailable);
                };
                if participant.config.link_strategy == LinkStrategy::RoundRobin {
                    participant.next_link = (link + 1) % count;
                }
                results.bank = bank;
                results.link = link as u8;
                Ok(())
            }
            Kind::BankReply => {
                if self.participants[&event.sender].status == Status::Suspended {
                    return Err(Decline::SenderSuspended);
                }
                results.bank = event.sender;
                Ok(())
            }
            Kind::ParticipantStatus => {
                let status = match event.code {
                    STATUS_ACTIVE => Status::Active,
                    STATUS_SUSPENDED => Status::Suspended,
                    _ => return Err(Decline::BadControlEvent),
                };
                match self.participants.get_mut(&event.counterparty) {
                    Some(participant) => {
                        participant.status = status;
                        Ok(())
                    }
                    None => Err(Decline::BadControlEvent),
                }
            }
            Kind::LinkStatus => {
                let Some(participant) = self.participants.get_mut(&event.counterparty) else {
                    return Err(Decline::BadControlEvent);
                };
                let link = usize::from(event.code & 0x7f);
                if participant.config.role != Role::Bank || link >= participant.links_up.len() {
                    return Err(Decline::BadControlEvent);
                }
                participant.links_up[link] = event.code & LINK_UP != 0;
                Ok(())
            }
            Kind::RouteChange => {
                let prefix = event.account.as_bytes();
                if !(6..=10).contains(&prefix.len()) || !prefix.iter().all(u8::is_ascii_digit) {
                    return Err(Decline::BadControlEvent);
                }
                let prefix = String::from_utf8(prefix.to_vec()).expect("digits are UTF-8");
                let existing = self.bins.iter().position(|(known, _)| *known == prefix);
                match event.code {
                    ROUTE_ADD => {
                        let is_bank = self
                            .participants
                            .get(&event.counterparty)
                            .is_some_and(|participant| participant.config.role == Role::Bank);
                        if !is_bank {
                            return Err(Decline::BadControlEvent);
                        }
                        match existing {
                            Some(index) => self.bins[index].1 = event.counterparty,
                            None => self.bins.push((prefix, event.counterparty)),
                        }
                        Ok(())
                    }
                    ROUTE_REMOVE => match existing {
                        Some(index) => {
                            self.bins.remove(index);
                            Ok(())
                        }
                        None => Err(Decline::BadControlEvent),
                    },
                    _ => Err(Decline::BadControlEvent),
                }
            }
            Kind::Cutover => Ok(()),
        }
    }

    // ---- ledger ----

    fn ledger(&mut self, event: &Event, results: &mut Results) -> Vec<Expiry> {
        self.clock_ns = self.clock_ns.max(event.event_ns);
        let expiries = self.expire();
        if results.decline.is_some() {
            results.outcome = Outcome::Rejected;
            if event.kind.is_payment() {
                results.institution = event.sender;
                results.sent_ns = event.sent_ns;
            }
            return expiries;
        }
        match event.kind {
            Kind::AgreementDebit | Kind::GatewayDebit | Kind::PayoutCredit | Kind::Refund => {
                results.institution = event.sender;
                results.sent_ns = event.sent_ns;
                self.payment(event, results);
            }
            Kind::BankReply => self.bank_reply(event, results),
            Kind::Cutover => {
                self.cutover();
                results.outcome = Outcome::BatchClosed;
            }
            _ => results.outcome = Outcome::Applied,
        }
        expiries
    }

    fn expire(&mut self) -> Vec<Expiry> {
        let mut due: Vec<(u64, TxnId)> = self
            .holds
            .iter()
            .filter(|(_, hold)| hold.deadline_ns <= self.clock_ns)
            .map(|(txn_id, hold)| (hold.placed, *txn_id))
            .collect();
        due.sort();
        let mut expiries = Vec::new();
        for (_, txn_id) in due {
            let hold = self.holds.remove(&txn_id).unwrap();
            self.give_back_reservation(&hold);
            self.finish(txn_id, hold.fields, Outcome::Expired);
            expiries.push(Expiry {
                txn_id,
                institution: hold.fields.sender,
                bank: hold.bank,
                amount_fen: hold.fields.amount_fen,
                sent_ns: hold.sent_ns,
            });
        }
        expiries
    }

    /// The finished payment with `txn_id`.
    fn find_finished(&mut self, txn_id: TxnId) -> Option<&mut ModelFinished> {
        self.finished.get_mut(&txn_id)
    }

    /// With retention configured: why an id made at its own time may not be taken now.
    fn judge_time(&self, txn_id: TxnId) -> Option<Decline> {
        let memory = self.config.memory?;
        let Some(unix_s) = txn_id.unix_s() else {
            return Some(Decline::TxnIdWithoutTime);
        };
        let id_ns = u128::from(unix_s) * 1_000_000_000;
        let now_ns = u128::from(memory.epoch_unix_ns) + u128::from(self.clock_ns);
        if id_ns > now_ns + u128::from(crate::constants::TXN_ID_FUTURE_MS_MAX) * 1_000_000 {
            Some(Decline::TxnIdInFuture)
        } else if id_ns + u128::from(memory.retention_ns) < now_ns {
            Some(Decline::TxnIdBeyondRetention)
        } else {
            None
        }
    }

    fn finish(&mut self, txn_id: TxnId, fields: Fields, outcome: Outcome) {
        let refundable_fen = if outcome == Outcome::Approved
            && matches!(fields.kind, Kind::AgreementDebit | Kind::GatewayDebit)
        {
            fields.amount_fen
        } else {
            0
        };
        self.finished.insert(
            txn_id,
            ModelFinished {
                fields,
                outcome,
                refundable_fen,
            },
        );
    }

    fn give_back_reservation(&mut self, hold: &ModelHold) {
        if hold.fields.kind == Kind::Refund {
            if let Some(original) = self.find_finished(hold.fields.original) {
                original.refundable_fen += hold.fields.amount_fen;
            }
        }
    }

    fn payment(&mut self, event: &Event, results: &mut Results) {
        let fields = Fields::of(event);
        let reject = |results: &mut Results, decline: Decline| {
            results.decline = Some(decline);
            results.outcome = Outcome::Rejected;
        };
        // The id's own time.
        if let Some(decline) = self.judge_time(event.txn_id) {
            return reject(results, decline);
        }
        // Idempotency.
        if let Some(hold) = self.holds.get(&event.txn_id) {
            let decline = if hold.fields == fields {
                Decline::DuplicateInFlight
            } else {
                Decline::ExistsWithDifferentFields
            };
            return reject(results, decline);
        }
        if let Some(finished) = self.find_finished(event.txn_id) {
            if finished.fields == fields {
                results.outcome = Outcome::Exists;
                results.original = finished.outcome;
            } else {
                reject(results, Decline::ExistsWithDifferentFields);
            }
            return;
        }
        // Refund.
        if event.kind == Kind::Refund {
            match self.judge_time(event.original) {
                Some(Decline::TxnIdBeyondRetention) => {
                    return reject(results, Decline::OriginalBeyondRetention)
                }
                Some(_) => return reject(results, Decline::RefundOfUnknownPayment),
                None => {}
            }
            let original_pending = self.holds.contains_key(&event.original);
            let decline = match self.find_finished(event.original) {
                None if original_pending => Some(Decline::RefundOfUnapprovedPayment),
                None => Some(Decline::RefundOfUnknownPayment),
                Some(original) => {
                    let is_debit = matches!(
                        original.fields.kind,
                        Kind::AgreementDebit | Kind::GatewayDebit
                    );
                    if original.outcome != Outcome::Approved || !is_debit {
                        Some(Decline::RefundOfUnapprovedPayment)
                    } else if original.fields.sender != event.sender {
                        Some(Decline::RefundOfOtherInstitution)
                    } else if original.refundable_fen < event.amount_fen {
                        Some(Decline::RefundExceedsOriginal)
                    } else {
                        None
                    }
                }
            };
            if let Some(decline) = decline {
                return reject(results, decline);
            }
        }
        // Liquidity.
        let is_debit = matches!(event.kind, Kind::AgreementDebit | Kind::GatewayDebit);
        let (debtor, creditor) = if is_debit {
            (results.bank, event.sender)
        } else {
            (event.sender, results.bank)
        };
        let position = self.positions.get(&debtor).copied().unwrap_or(0);
        let pending: i128 = self
            .holds
            .values()
            .filter(|hold| hold.debtor == debtor)
            .map(|hold| i128::from(hold.fields.amount_fen))
            .sum();
        let cap = self
            .participants
            .get(&debtor)
            .map_or(0, |participant| i128::from(participant.config.cap_fen));
        if -position + pending + i128::from(event.amount_fen) > cap {
            return reject(results, Decline::InsufficientLiquidity);
        }
        // Capacity: the holds (the window's generations are not modelled).
        if self.holds.len() >= self.config.holds_capacity {
            return reject(results, Decline::LedgerFull);
        }
        // Hold.
        if event.kind == Kind::Refund {
            let original = self.find_finished(event.original).unwrap();
            original.refundable_fen -= event.amount_fen;
        }
        self.placed += 1;
        self.holds.insert(
            event.txn_id,
            ModelHold {
                fields,
                bank: results.bank,
                debtor,
                creditor,
                deadline_ns: self.clock_ns + self.config.bank_timeout_ns,
                sent_ns: event.sent_ns,
                placed: self.placed,
            },
        );
        results.outcome = Outcome::Forwarded;
    }

    fn bank_reply(&mut self, event: &Event, results: &mut Results) {
        let Some(hold) = self.holds.get(&event.txn_id).copied() else {
            // A payment whose id is beyond retention is forgotten, its late replies with it.
            if self.judge_time(event.txn_id).is_none() && self.find_finished(event.txn_id).is_some()
            {
                results.outcome = Outcome::LateReply;
            } else {
                results.decline = Some(Decline::ReplyForUnknownPayment);
                results.outcome = Outcome::Rejected;
            }
            return;
        };
        if hold.bank != event.sender {
            results.decline = Some(Decline::ReplyFromWrongBank);
            results.outcome = Outcome::Rejected;
            return;
        }
        self.holds.remove(&event.txn_id);
        results.institution = hold.fields.sender;
        results.sent_ns = hold.sent_ns;
        if event.code == REPLY_APPROVE {
            let amount = hold.fields.amount_fen;
            *self.positions.entry(hold.debtor).or_insert(0) -= i128::from(amount);
            *self.positions.entry(hold.creditor).or_insert(0) += i128::from(amount);
            let debtor = self.totals.entry(hold.debtor).or_insert((0, 0, 0));
            debtor.0 += 1;
            debtor.1 += u128::from(amount);
            let creditor = self.totals.entry(hold.creditor).or_insert((0, 0, 0));
            creditor.0 += 1;
            creditor.2 += u128::from(amount);
            self.finish(event.txn_id, hold.fields, Outcome::Approved);
            results.outcome = Outcome::Approved;
        } else {
            self.give_back_reservation(&hold);
            self.finish(event.txn_id, hold.fields, Outcome::Declined);
            results.outcome = Outcome::Declined;
        }
    }

    fn cutover(&mut self) {
        let rows = self
            .totals
            .iter()
            .map(|(participant, (count, debit, credit))| {
                let net = *credit as i128 - *debit as i128;
                BatchRow {
                    participant: *participant,
                    name: self.participants[participant].config.name.clone(),
                    count: *count,
                    debit_fen: *debit,
                    credit_fen: *credit,
                    net_fen: net,
                    direction: if net < 0 {
                        Direction::Pay
                    } else if net > 0 {
                        Direction::Receive
                    } else {
                        Direction::Flat
                    },
                }
            })
            .collect();
        self.reports.push(BatchReport {
            batch: self.batch,
            closed_at_ns: self.clock_ns,
            rows,
        });
        self.positions.clear();
        self.totals.clear();
        self.batch += 1;
    }

    /// Σ of all positions.
    pub fn positions_sum(&self) -> i128 {
        self.positions.values().sum()
    }

    /// `participant`'s position in the open batch.
    pub fn position(&self, participant: ParticipantId) -> i128 {
        self.positions.get(&participant).copied().unwrap_or(0)
    }

    /// The open batch's number.
    pub fn batch_number(&self) -> u64 {
        self.batch
    }

    /// Holds pending.
    pub fn pending_count(&self) -> usize {
        self.holds.len()
    }

    /// The state hash, serialized as docs/SWITCH.md says.
    pub fn state_hash(&self) -> StateHash {
        let mut hasher = Sha256::new();
        hasher.update(self.batch.to_le_bytes());
        for (participant, position) in &self.positions {
            if *position != 0 {
                hasher.update(participant.0.to_le_bytes());
                hasher.update(position.to_le_bytes());
            }
        }
        for (txn_id, hold) in &self.holds {
            hasher.update(txn_id.0.to_le_bytes());
            hasher.update(hold.debtor.0.to_le_bytes());
            hasher.update(hold.creditor.0.to_le_bytes());
            hasher.update(hold.fields.amount_fen.to_le_bytes());
            hasher.update(hold.deadline_ns.to_le_bytes());
        }
        StateHash(hasher.finalize().into())
    }

    /// Every batch report so far, oldest first.
    pub fn batch_reports(&self) -> &[BatchReport] {
        &self.reports
    }
}
