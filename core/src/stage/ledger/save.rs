//! [`Ledger::save`] and [`Ledger::restore`]: everything [`Ledger::apply`] depends on, in the
//! saved-state format ([`StateWriter`]), for a snapshot.
//!
//! A restored ledger answers every continuation exactly as the saved one would: the same
//! [`Results`](crate::event::Results), the same sink calls in the same order, the same
//! [`state_hash`](Ledger::state_hash), the same `LedgerFull` when its tables fill. Its table
//! layout (probe positions, epochs, hold slab positions) may differ: none of it is observable.
//! What the ledger takes from the network (caps, names) is not saved; the configuration is saved
//! only to be checked against the one the restore is given.
//!
//! # Format
//!
//! 1. the configuration: bank timeout, ns; hold capacity; window capacity (`u64` each);
//! 2. the clock, ns, and the open batch's number (`u64` each);
//! 3. the participants posted to in the open batch, in first-posting order (`u32` count): id
//!    (`u16`), position (`i128`), postings (`u64`), debit and credit totals (`u128` each);
//! 4. the non-zero pending sums, in increasing id order (`u32` count): id (`u16`), sum (`i128`);
//! 5. the pending holds, oldest first (`u32` count): txn id, original (`u128` each), amount,
//!    deadline, send time (`u64` each), kind (`u8`), institution, bank (`u16` each);
//! 6. the current window generation's records, in the order they were placed (`u32` count);
//! 7. the previous generation's finished records, in the order they were placed (`u32` count);
//! 8. the window's schedule ([`WindowSchedule`](super::WindowSchedule)): span, payments per
//!    generation, clock, current and previous generation's start, payments in the current one,
//!    turns; then the window's own turn: its current generation's start and first sequence, its
//!    previous generation's first sequence, the turns it has followed and those it made late
//!    (`u64` each).
//!
//! A record is its txn id (`u128`), fingerprint and value (`u64` each), outcome and kind (`u8`
//! each) and institution (`u16`). A pending record's value is its hold's place in item 5 (0 for
//! the oldest), not its slab position, which a restore does not keep.
//!
//! Everything a save writes is in an order the ledger's history fixes, not its memory layout, so
//! saving a restored ledger writes the same bytes.
//!
//! # What a restore checks
//!
//! The state is refused unless it is one a ledger could be in: the configuration equal to the
//! one given; every participant id one of this network's; each posted participant listed once
//! with a position equal to its credits less its debits, the positions summing to zero; the
//! pending sums equal to what the holds add up to; holds within capacity, in deadline order,
//! each the target of exactly one pending record of the same id, kind and institution; records
//! with an id at most once in the window, outcomes and kinds a record can have, only approved
//! debits with something left to refund, and no refund reserving more than fits its original.
//! A ledger restored from accepted state never panics in [`Ledger::apply`] on an invariant the
//! state broke.

use rustc_hash::FxHashMap;

use crate::event::{Kind, Outcome, ParticipantId, TxnId};
use crate::network::Network;
use crate::stage::state::{StateError, StateReader, StateWriter};

use super::holds::Hold;
use super::table::Record;
use super::{Ledger, LedgerConfig, Totals, PARTICIPANT_SLOTS};

/// Bytes of a posted participant: id, position, postings, debit and credit totals.
const POSTED_SIZE: usize = 2 + 16 + 8 + 16 + 16;

/// Bytes of a pending sum: id, sum.
const PENDING_SIZE: usize = 2 + 16;

/// Bytes of a hold: txn id, original, amount, deadline, send time, kind, institution, bank.
const HOLD_SIZE: usize = 16 + 16 + 8 + 8 + 8 + 1 + 2 + 2;

/// Bytes of a record: txn id, fingerprint, value, outcome, kind, institution.
const RECORD_SIZE: usize = 16 + 8 + 8 + 1 + 1 + 2;

/// Bytes of the window's schedule and turn (item 8): twelve `u64`s.
#[cfg(test)]
const SCHEDULE_SIZE: usize = 12 * 8;

/// Bytes before the posted participants: the configuration, the clock, the batch number.
const HEADER_SIZE: usize = 5 * 8;

/// Postings one participant can have in a batch, at most: a batch cannot post 2^63 payments (the
/// module documentation of `ledger.rs` gives the arithmetic that rests on it).
const POSTINGS_MAX: u64 = (1 << 63) - 1;

/// What a refusal caused by a different network says.
const ANOTHER_NETWORK: &str = "the state was saved with another network";

impl Ledger {
    /// Appends the ledger's state to `out` (the module documentation gives the format). Reads
    /// the live records and holds only, never a whole table.
    pub fn save(&self, out: &mut StateWriter) {
        let pending: Vec<(usize, i128)> = self
            .pending_fen
            .iter()
            .enumerate()
            .filter(|(_, &sum)| sum != 0)
            .map(|(index, &sum)| (index, sum))
            .collect();
        out.reserve(
            HEADER_SIZE
                + 4 * 5
                + self.posted.len() * POSTED_SIZE
                + pending.len() * PENDING_SIZE
                + self.holds.len() * HOLD_SIZE
                + (self.window.current_len() + self.window.previous_finished_count()) * RECORD_SIZE,
        );
        out.write_u64(self.config.bank_timeout_ns);
        out.write_u64(self.config.holds_capacity as u64);
        out.write_u64(self.config.window_capacity as u64);
        out.write_u64(self.clock_ns);
        out.write_u64(self.batch_number);
        out.write_count(self.posted.len());
        for participant in &self.posted {
            let totals = &self.totals[participant.index()];
            out.write_u16(participant.0);
            out.write_i128(self.positions[participant.index()]);
            out.write_u64(totals.count);
            out.write_u128(totals.debit_fen);
            out.write_u128(totals.credit_fen);
        }
        out.write_count(pending.len());
        for (index, sum) in pending {
            out.write_u16(index as u16);
            out.write_i128(sum);
        }
        // A pending record names its hold by the hold's place in placement order.
        let mut places = vec![u32::MAX; self.holds.slab_len()];
        out.write_count(self.holds.len());
        for (place, (position, hold)) in self.holds.iter_with_positions().enumerate() {
            places[position as usize] = place as u32;
            write_hold(out, hold);
        }
        out.write_count(self.window.current_len());
        for mut record in self.window.current_records() {
            if record.is_pending() {
                record.value = u64::from(places[record.value as usize]);
            }
            write_record(out, &record);
        }
        out.write_count(self.window.previous_finished_count());
        for record in self.window.previous_records() {
            write_record(out, &record);
        }
        let schedule = self.schedule;
        for word in [
            schedule.span_ns,
            schedule.payments_max,
            schedule.clock_ns,
            schedule.current_start_ns,
            schedule.previous_start_ns,
            schedule.current_payments,
            schedule.turns,
            self.window_turn.start_ns,
            self.window_turn.first_sequence,
            self.window_turn.previous_first_sequence,
            self.window_turn.turns_followed,
            self.window_turn.late_turns,
        ] {
            out.write_u64(word);
        }
    }

    /// A ledger for `network` with `config`, in the state [`Ledger::save`] wrote; refused if the
    /// state is malformed, breaks an invariant the ledger keeps (the module documentation lists
    /// them), or was saved with another configuration or a network without its participants.
    ///
    /// # Panics
    ///
    /// As [`Ledger::new`], if a capacity in `config` is zero.
    pub fn restore(
        network: &Network,
        config: LedgerConfig,
        input: &mut StateReader,
    ) -> Result<Ledger, StateError> {
        check_config(config, input)?;
        let mut ledger = Ledger::new(network, config);
        let members = Members::of(network);
        ledger.clock_ns = input.read_u64("the ledger's clock")?;
        ledger.batch_number = input.read_u64("the ledger's batch number")?;
        if ledger.batch_number == 0 || ledger.batch_number == u64::MAX {
            return Err(StateError::new(
                "the ledger's batch number",
                format!(
                    "batch {} is not one a ledger opens: they run from 1 and go up by one a \
                     cutover",
                    ledger.batch_number
                ),
            ));
        }
        ledger.restore_posted(input, &members)?;
        let pending = read_pending(input, &members)?;
        let places = ledger.restore_holds(input, &members)?;
        ledger.check_pending(&pending)?;
        ledger.restore_current(input, &members, &places)?;
        ledger.restore_previous(input, &members)?;
        ledger.check_refund_reservations()?;
        ledger.restore_schedule(input)?;
        Ok(ledger)
    }

    /// Item 8: the window's schedule and its own turn.
    fn restore_schedule(&mut self, input: &mut StateReader) -> Result<(), StateError> {
        let configured = self.config.schedule();
        for (what, expected) in [
            ("the window's generation span", configured.span_ns),
            (
                "the window's payments per generation",
                configured.payments_max,
            ),
        ] {
            let saved = input.read_u64(what)?;
            if saved != expected {
                return Err(StateError::new(
                    what,
                    format!(
                        "the state was saved by a ledger configured with {saved}, this one is \
                         configured with {expected}"
                    ),
                ));
            }
        }
        let mut schedule = configured;
        schedule.clock_ns = input.read_u64("the window schedule's clock")?;
        schedule.current_start_ns = input.read_u64("the current generation's start")?;
        schedule.previous_start_ns = input.read_u64("the previous generation's start")?;
        schedule.current_payments = input.read_u64("the current generation's payments")?;
        schedule.turns = input.read_u64("the window schedule's turns")?;
        let turn = super::WindowTurn {
            start_ns: input.read_u64("the window's own current start")?,
            first_sequence: input.read_u64("the window's first sequence")?,
            previous_first_sequence: input.read_u64("the window's previous first sequence")?,
            turns_followed: input.read_u64("the window's turns followed")?,
            late_turns: input.read_u64("the window's late turns")?,
        };
        if schedule.previous_start_ns > schedule.current_start_ns
            || schedule.current_start_ns > schedule.clock_ns
            || schedule.clock_ns != self.clock_ns
            || turn.turns_followed > schedule.turns
            || turn.start_ns > schedule.clock_ns
            || turn.previous_first_sequence > turn.first_sequence
        {
            return Err(StateError::new(
                "the window schedule",
                "its times or turns are out of order, or its clock is not the ledger's",
            ));
        }
        self.schedule = schedule;
        self.window_turn = turn;
        Ok(())
    }

    /// Item 3: the participants posted to in the open batch, their positions and totals.
    fn restore_posted(
        &mut self,
        input: &mut StateReader,
        members: &Members,
    ) -> Result<(), StateError> {
        let count = input.read_count("the ledger's posted participant count", POSTED_SIZE)?;
        let mut positions_sum: i128 = 0;
        for place in 0..count {
            let what = || format!("the ledger's posted participant {place}");
            let participant = members.read(input, "a posted participant's id", &what)?;
            let position = input.read_i128("a posted participant's position")?;
            let totals = Totals {
                count: input.read_u64("a posted participant's posting count")?,
                debit_fen: input.read_u128("a posted participant's debit total")?,
                credit_fen: input.read_u128("a posted participant's credit total")?,
            };
            let index = participant.index();
            if self.totals[index].count != 0 {
                return Err(StateError::new(
                    what(),
                    format!("participant {participant} is listed twice"),
                ));
            }
            if !(1..=POSTINGS_MAX).contains(&totals.count) {
                return Err(StateError::new(
                    what(),
                    format!(
                        "participant {participant} has {} postings: a posted participant has \
                         1 to 2^63 − 1",
                        totals.count
                    ),
                ));
            }
            // Each posting moves at most u64::MAX fen; count < 2^63 keeps both below 2^127.
            let total_max = u128::from(totals.count) * u128::from(u64::MAX);
            if totals.debit_fen > total_max || totals.credit_fen > total_max {
                return Err(StateError::new(
                    what(),
                    format!(
                        "participant {participant}'s totals are more than {} postings can move",
                        totals.count
                    ),
                ));
            }
            if position != totals.credit_fen as i128 - totals.debit_fen as i128 {
                return Err(StateError::new(
                    what(),
                    format!(
                        "participant {participant}'s position {position} is not its credits \
                         less its debits"
                    ),
                ));
            }
            positions_sum = positions_sum
                .checked_add(position)
                .ok_or_else(|| StateError::new(what(), "the positions' sum overflows 128 bits"))?;
            self.positions[index] = position;
            self.totals[index] = totals;
            self.posted.push(participant);
        }
        if positions_sum != 0 {
            return Err(StateError::new(
                "the ledger's posted participants",
                format!("the positions sum to {positions_sum}, not 0"),
            ));
        }
        Ok(())
    }

    /// Item 5: the pending holds, placed oldest first into the fresh slab; returns each hold's
    /// slab position by its place in the list, and adds each to its debtor's pending sum.
    fn restore_holds(
        &mut self,
        input: &mut StateReader,
        members: &Members,
    ) -> Result<Vec<u32>, StateError> {
        let count = input.read_count("the ledger's hold count", HOLD_SIZE)?;
        if count > self.config.holds_capacity {
            return Err(StateError::new(
                "the ledger's hold count",
                format!(
                    "{count} holds are more than the hold capacity, {}",
                    self.config.holds_capacity
                ),
            ));
        }
        let mut positions = Vec::with_capacity(count);
        let mut deadline_before = 0;
        for place in 0..count {
            let what = || format!("the ledger's hold {place}");
            let hold = Hold {
                txn_id: TxnId(input.read_u128("a hold's txn id")?),
                original: TxnId(input.read_u128("a hold's original")?),
                amount_fen: input.read_u64("a hold's amount")?,
                deadline_ns: input.read_u64("a hold's deadline")?,
                sent_ns: input.read_u64("a hold's send time")?,
                kind: read_payment_kind(input, "a hold's kind", &what)?,
                institution: members.read(input, "a hold's institution", &what)?,
                bank: members.read(input, "a hold's bank", &what)?,
            };
            if hold.deadline_ns < deadline_before {
                return Err(StateError::new(
                    what(),
                    format!(
                        "its deadline {} is before the deadline of the hold placed before it, \
                         {deadline_before}: holds are placed in deadline order",
                        hold.deadline_ns
                    ),
                ));
            }
            deadline_before = hold.deadline_ns;
            // At most u32::MAX holds of at most u64::MAX fen each: no i128 sum overflows.
            self.pending_fen[hold.debtor().index()] += i128::from(hold.amount_fen);
            positions.push(self.holds.insert(hold));
        }
        Ok(positions)
    }

    /// Item 4 against item 5: the saved pending sums are what the holds add up to.
    fn check_pending(&self, saved: &[(ParticipantId, i128)]) -> Result<(), StateError> {
        let mut saved = saved.iter();
        for (index, &sum) in self.pending_fen.iter().enumerate() {
            if sum == 0 {
                continue;
            }
            match saved.next() {
                Some(&(participant, saved_sum))
                    if participant.index() == index && saved_sum == sum => {}
                _ => {
                    return Err(StateError::new(
                        "the ledger's pending sums",
                        format!(
                            "participant {index}'s holds add up to {sum} fen, which the saved \
                             pending sums do not say"
                        ),
                    ))
                }
            }
        }
        if let Some((participant, sum)) = saved.next() {
            return Err(StateError::new(
                "the ledger's pending sums",
                format!("participant {participant} has {sum} fen pending but no hold"),
            ));
        }
        Ok(())
    }

    /// Item 6: the current generation. Each hold must be named by exactly one pending record;
    /// `places` gives the slab position of the hold at each place.
    fn restore_current(
        &mut self,
        input: &mut StateReader,
        members: &Members,
        places: &[u32],
    ) -> Result<(), StateError> {
        let count = input.read_count("the window's current record count", RECORD_SIZE)?;
        if count > self.config.window_capacity {
            return Err(StateError::new(
                "the window's current record count",
                format!(
                    "{count} records are more than the window capacity, {}",
                    self.config.window_capacity
                ),
            ));
        }
        let mut named = vec![false; places.len()];
        for place in 0..count {
            let what = || format!("the window's current record {place}");
            let mut record = read_record(input, members, &what)?;
            if record.is_pending() {
                let hold_place = usize::try_from(record.value).unwrap_or(usize::MAX);
                let Some(&position) = places.get(hold_place) else {
                    return Err(StateError::new(
                        what(),
                        format!(
                            "it is pending at hold {}, but there are {} holds",
                            record.value,
                            places.len()
                        ),
                    ));
                };
                let hold = self.holds.get(position);
                if named[hold_place]
                    || hold.txn_id != record.txn_id
                    || hold.kind != record.kind
                    || hold.institution != record.institution
                {
                    return Err(StateError::new(
                        what(),
                        format!(
                            "it is pending at hold {hold_place}, which is another payment's \
                             or named twice"
                        ),
                    ));
                }
                named[hold_place] = true;
                record.value = u64::from(position);
            }
            if !self.window.restore_current(&record) {
                return Err(StateError::new(
                    what(),
                    format!("{:?} is in the current generation twice", record.txn_id),
                ));
            }
        }
        if let Some(place) = named.iter().position(|&named| !named) {
            return Err(StateError::new(
                format!("the ledger's hold {place}"),
                "no pending record names it",
            ));
        }
        Ok(())
    }

    /// Item 7: the previous generation's finished records.
    fn restore_previous(
        &mut self,
        input: &mut StateReader,
        members: &Members,
    ) -> Result<(), StateError> {
        let count = input.read_count("the window's previous record count", RECORD_SIZE)?;
        if count > self.config.window_capacity {
            return Err(StateError::new(
                "the window's previous record count",
                format!(
                    "{count} records are more than the window capacity, {}",
                    self.config.window_capacity
                ),
            ));
        }
        for place in 0..count {
            let what = || format!("the window's previous record {place}");
            let record = read_record(input, members, &what)?;
            if record.is_pending() {
                return Err(StateError::new(
                    what(),
                    "it is pending, but only finished payments are saved from the previous \
                     generation",
                ));
            }
            if !self.window.restore_previous(&record) {
                return Err(StateError::new(
                    what(),
                    format!("{:?} is in the window twice", record.txn_id),
                ));
            }
        }
        Ok(())
    }

    /// No pending refund reserves more than its original could give back: voiding them all
    /// returns each original's refundable amount to at most `u64::MAX`.
    fn check_refund_reservations(&self) -> Result<(), StateError> {
        let mut reserved: FxHashMap<TxnId, u128> = FxHashMap::default();
        for hold in self.holds.iter() {
            if hold.kind == Kind::Refund {
                *reserved.entry(hold.original).or_default() += u128::from(hold.amount_fen);
            }
        }
        for (original, reserved_fen) in reserved {
            let Some(record) = self.window.finished(original) else {
                continue;
            };
            if u128::from(record.value) + reserved_fen > u128::from(u64::MAX) {
                return Err(StateError::new(
                    "the ledger's pending refunds",
                    format!(
                        "refunds of {original:?} reserve {reserved_fen} fen on top of the {} \
                         still refundable: more than a payment's amount",
                        record.value
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Item 1: the saved configuration must be `config`.
fn check_config(config: LedgerConfig, input: &mut StateReader) -> Result<(), StateError> {
    let fields = [
        ("the ledger's bank timeout", config.bank_timeout_ns),
        ("the ledger's hold capacity", config.holds_capacity as u64),
        (
            "the ledger's window capacity",
            config.window_capacity as u64,
        ),
    ];
    for (what, configured) in fields {
        let saved = input.read_u64(what)?;
        if saved != configured {
            return Err(StateError::new(
                what,
                format!(
                    "the state was saved by a ledger configured with {saved}, this one is \
                     configured with {configured}"
                ),
            ));
        }
    }
    Ok(())
}

/// Item 4: the non-zero pending sums, in increasing id order.
fn read_pending(
    input: &mut StateReader,
    members: &Members,
) -> Result<Vec<(ParticipantId, i128)>, StateError> {
    let count = input.read_count("the ledger's pending sum count", PENDING_SIZE)?;
    let mut pending: Vec<(ParticipantId, i128)> = Vec::with_capacity(count);
    for place in 0..count {
        let what = || format!("the ledger's pending sum {place}");
        let participant = members.read(input, "a pending sum's participant", &what)?;
        let sum = input.read_i128("a pending sum")?;
        if pending.last().is_some_and(|&(last, _)| last >= participant) {
            return Err(StateError::new(
                what(),
                "the pending sums are not in increasing id order",
            ));
        }
        pending.push((participant, sum));
    }
    Ok(pending)
}

fn write_hold(out: &mut StateWriter, hold: &Hold) {
    out.write_u128(hold.txn_id.0);
    out.write_u128(hold.original.0);
    out.write_u64(hold.amount_fen);
    out.write_u64(hold.deadline_ns);
    out.write_u64(hold.sent_ns);
    out.write_u8(hold.kind as u8);
    out.write_u16(hold.institution.0);
    out.write_u16(hold.bank.0);
}

/// Writes the record's fields in one append (a save writes hundreds of thousands).
#[inline]
fn write_record(out: &mut StateWriter, record: &Record) {
    let mut bytes = [0u8; RECORD_SIZE];
    bytes[..16].copy_from_slice(&record.txn_id.0.to_le_bytes());
    bytes[16..24].copy_from_slice(&record.fingerprint.to_le_bytes());
    bytes[24..32].copy_from_slice(&record.value.to_le_bytes());
    bytes[32] = record.outcome as u8;
    bytes[33] = record.kind as u8;
    bytes[34..].copy_from_slice(&record.institution.0.to_le_bytes());
    out.write_array(&bytes);
}

/// A record as [`write_record`] wrote it, with an outcome and kind a record can have, and value
/// zero unless it is pending or an approved debit.
fn read_record(
    input: &mut StateReader,
    members: &Members,
    what: &dyn Fn() -> String,
) -> Result<Record, StateError> {
    let txn_id = TxnId(input.read_u128("a record's txn id")?);
    let fingerprint = input.read_u64("a record's fingerprint")?;
    let value = input.read_u64("a record's value")?;
    let outcome = match input.read_u8("a record's outcome")? {
        code if code == Outcome::Forwarded as u8 => Outcome::Forwarded,
        code if code == Outcome::Approved as u8 => Outcome::Approved,
        code if code == Outcome::Declined as u8 => Outcome::Declined,
        code if code == Outcome::Expired as u8 => Outcome::Expired,
        code => {
            return Err(StateError::new(
                what(),
                format!(
                    "outcome code {code} is not one a record has (forwarded, approved, \
                     declined, expired)"
                ),
            ))
        }
    };
    let kind = read_payment_kind(input, "a record's kind", what)?;
    let institution = members.read(input, "a record's institution", what)?;
    let refundable = outcome == Outcome::Approved && kind.is_debit();
    if outcome != Outcome::Forwarded && !refundable && value != 0 {
        return Err(StateError::new(
            what(),
            format!(
                "a finished {} that is not an approved debit has {value} fen refundable",
                kind.name()
            ),
        ));
    }
    Ok(Record {
        txn_id,
        fingerprint,
        value,
        outcome,
        kind,
        institution,
    })
}

/// A payment kind's code.
fn read_payment_kind(
    input: &mut StateReader,
    field: &str,
    what: &dyn Fn() -> String,
) -> Result<Kind, StateError> {
    let code = input.read_u8(field)?;
    match Kind::from_code(code) {
        Some(kind) if kind.is_payment() => Ok(kind),
        _ => Err(StateError::new(
            what(),
            format!("kind code {code} is not a payment kind's"),
        )),
    }
}

/// The ids of the network's participants.
struct Members {
    /// By participant index: whether the id is a participant's.
    is_member: Box<[bool]>,
}

impl Members {
    fn of(network: &Network) -> Members {
        let mut is_member = vec![false; PARTICIPANT_SLOTS].into_boxed_slice();
        for participant in &network.participants {
            if let Some(slot) = is_member.get_mut(participant.id.index()) {
                *slot = true;
            }
        }
        Members { is_member }
    }

    /// A participant id, refused unless it is a participant of this network.
    fn read(
        &self,
        input: &mut StateReader,
        field: &str,
        what: &dyn Fn() -> String,
    ) -> Result<ParticipantId, StateError> {
        let id = ParticipantId(input.read_u16(field)?);
        if !self.is_member.get(id.index()).copied().unwrap_or(false) {
            return Err(StateError::new(
                what(),
                format!("{ANOTHER_NETWORK}: participant {id} is not in this network"),
            ));
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::authorize::tests::{card, network, BANK_PRIMARY, INSTITUTION_ALL};
    use super::*;
    use crate::event::{Event, Results};

    const CONFIG: LedgerConfig = LedgerConfig {
        bank_timeout_ns: 1_000_000,
        holds_capacity: 8,
        window_capacity: 16,
        // The window turns at the cutover's event time (13), as batches once turned it.
        window_span_ns: 13,
        memory: None,
    };

    fn apply(ledger: &mut Ledger, event: Event, at: u64) -> Results {
        let event = Event {
            event_ns: at,
            ..event
        };
        let mut results = Results {
            bank: if event.kind.is_payment() {
                BANK_PRIMARY
            } else {
                event.sender
            },
            ..Results::default()
        };
        ledger.apply(&event, &mut results, &mut ());
        results
    }

    fn payment(kind: Kind, txn: u128, amount_fen: u64) -> Event {
        Event::payment(
            kind,
            TxnId(txn),
            INSTITUTION_ALL,
            card("622202"),
            amount_fen,
            txn as u64,
        )
    }

    fn reply(txn: u128, approve: bool) -> Event {
        Event::bank_reply(BANK_PRIMARY, TxnId(txn), approve, 0, 0)
    }

    /// A ledger with a posting in each batch, holds pending across a cutover, a pending refund,
    /// a declined payout and a finished payment in the previous generation.
    fn ledger() -> Ledger {
        let mut ledger = Ledger::new(&network(), CONFIG);
        let steps = [
            (payment(Kind::AgreementDebit, 1, 1_000), Outcome::Forwarded),
            (reply(1, true), Outcome::Approved),
            (payment(Kind::AgreementDebit, 2, 2_000), Outcome::Forwarded),
            (
                Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0),
                Outcome::BatchClosed,
            ),
            (payment(Kind::GatewayDebit, 3, 3_000), Outcome::Forwarded),
            (reply(3, true), Outcome::Approved),
            (
                payment(Kind::Refund, 4, 300).with_original(TxnId(3)),
                Outcome::Forwarded,
            ),
            (payment(Kind::PayoutCredit, 5, 500), Outcome::Forwarded),
            (reply(5, false), Outcome::Declined),
            (payment(Kind::AgreementDebit, 6, 600), Outcome::Forwarded),
        ];
        for (at, (event, outcome)) in steps.into_iter().enumerate() {
            let results = apply(&mut ledger, event, 10 + at as u64);
            assert_eq!(results.outcome, outcome, "{event:?}: {results:?}");
        }
        assert_eq!(ledger.pending_count(), 3);
        assert_eq!(ledger.window_count(), 3);
        ledger
    }

    fn saved(ledger: &Ledger) -> Vec<u8> {
        let mut out = StateWriter::new();
        ledger.save(&mut out);
        out.into_bytes()
    }

    fn restored(bytes: &[u8], config: LedgerConfig) -> Result<Ledger, StateError> {
        let mut input = StateReader::new(bytes);
        let ledger = Ledger::restore(&network(), config, &mut input)?;
        input.finish()?;
        Ok(ledger)
    }

    /// Where each section of [`ledger`]'s saved state starts.
    struct Layout {
        posted: usize,
        pending: usize,
        holds: usize,
        current: usize,
        previous: usize,
    }

    impl Layout {
        fn of(bytes: &[u8]) -> Layout {
            let count = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let posted = HEADER_SIZE + 4;
            let pending = posted + count(posted - 4) as usize * POSTED_SIZE + 4;
            let holds = pending + count(pending - 4) as usize * PENDING_SIZE + 4;
            let current = holds + count(holds - 4) as usize * HOLD_SIZE + 4;
            let previous = current + count(current - 4) as usize * RECORD_SIZE + 4;
            Layout {
                posted,
                pending,
                holds,
                current,
                previous,
            }
        }
    }

    /// Field offsets inside a record and a hold.
    const RECORD_VALUE: usize = 16 + 8;
    const RECORD_OUTCOME: usize = RECORD_VALUE + 8;
    const HOLD_DEADLINE: usize = 16 + 16 + 8;
    const HOLD_KIND: usize = HOLD_DEADLINE + 16;

    fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
        bytes[at..at + value.len()].copy_from_slice(value);
    }

    #[test]
    fn a_ledger_round_trips_and_saves_the_same_bytes() {
        let ledger = ledger();
        let bytes = saved(&ledger);
        let layout = Layout::of(&bytes);
        assert_eq!(
            (bytes.len() - SCHEDULE_SIZE - layout.previous) / RECORD_SIZE,
            1,
            "the stale carried copy is not saved"
        );
        let back = restored(&bytes, CONFIG).unwrap();
        assert_eq!(saved(&back), bytes);
        assert_eq!(back.summary(), ledger.summary());
        assert_eq!(back.window.current_len(), ledger.window.current_len());
        assert_eq!(back.position(BANK_PRIMARY), ledger.position(BANK_PRIMARY));
        assert_eq!(back.pending_fen(BANK_PRIMARY), 2_600);
        assert_eq!(back.pending_fen(INSTITUTION_ALL), 300);
    }

    #[test]
    fn a_restored_ledger_carries_on_as_the_saved_one() {
        let continuation = [
            reply(2, true),
            reply(4, false),
            payment(Kind::Refund, 7, 2_700).with_original(TxnId(3)),
            payment(Kind::Refund, 8, 1).with_original(TxnId(3)),
            payment(Kind::AgreementDebit, 1, 1_000),
            reply(6, false),
            Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0),
            payment(Kind::AgreementDebit, 9, 9),
        ];
        let mut original = ledger();
        let mut copy = restored(&saved(&original), CONFIG).unwrap();
        for (at, event) in continuation.into_iter().enumerate() {
            let at = 100 + at as u64;
            let expected = apply(&mut original, event, at);
            assert_eq!(apply(&mut copy, event, at), expected, "{event:?}");
        }
        assert_eq!(copy.summary(), original.summary());
        assert_eq!(saved(&copy), saved(&original));
        // Past the deadline, both expire the same holds.
        let late = payment(Kind::AgreementDebit, 10, 1);
        let expected = apply(&mut original, late, 10_000_000);
        assert_eq!(apply(&mut copy, late, 10_000_000), expected);
        assert_eq!(copy.summary(), original.summary());
    }

    #[test]
    fn another_configuration_is_refused() {
        let bytes = saved(&ledger());
        let rows = [
            (
                LedgerConfig {
                    bank_timeout_ns: 1,
                    ..CONFIG
                },
                "bank timeout",
            ),
            (
                LedgerConfig {
                    holds_capacity: 9,
                    ..CONFIG
                },
                "hold capacity",
            ),
            (
                LedgerConfig {
                    window_capacity: 17,
                    ..CONFIG
                },
                "window capacity",
            ),
        ];
        for (config, what) in rows {
            let error = restored(&bytes, config).err().expect(what);
            assert!(error.what.contains(what), "{error}");
            assert!(error.why.contains("configured with"), "{error}");
        }
    }

    #[test]
    fn state_breaking_an_invariant_is_refused_by_name() {
        let good = saved(&ledger());
        let layout = Layout::of(&good);
        let Layout {
            posted,
            pending,
            holds,
            current,
            previous,
        } = layout;
        let hold = move |place: usize| holds + place * HOLD_SIZE;
        let record = move |place: usize| current + place * RECORD_SIZE;
        type Tamper = Box<dyn Fn(&mut Vec<u8>)>;
        // Current records in placement order: 2 (carried, pending), 3 (approved debit),
        // 4 (pending refund), 5 (declined payout), 6 (pending). Holds: 2, 4, 6.
        let rows: Vec<(&str, Tamper, &str)> = vec![
            (
                "batch 0",
                Box::new(|b| put(b, 32, &0u64.to_le_bytes())),
                "not one a ledger opens",
            ),
            (
                "a posted participant twice",
                Box::new(move |b| {
                    let first = b[posted..posted + 2].to_vec();
                    put(b, posted + POSTED_SIZE, &first)
                }),
                "listed twice",
            ),
            (
                "a position that is not credits less debits",
                Box::new(move |b| b[posted + 2] ^= 1),
                "credits less its debits",
            ),
            (
                "a participant of another network",
                Box::new(move |b| put(b, posted, &77u16.to_le_bytes())),
                "another network",
            ),
            (
                "a pending sum the holds do not add up to",
                Box::new(move |b| b[pending + 2] ^= 1),
                "pending sums",
            ),
            (
                "holds out of deadline order",
                Box::new(move |b| put(b, hold(1) + HOLD_DEADLINE, &0u64.to_le_bytes())),
                "deadline order",
            ),
            (
                "a hold of a reply",
                Box::new(move |b| b[hold(0) + HOLD_KIND] = Kind::BankReply as u8),
                "not a payment kind",
            ),
            (
                "more holds than the capacity",
                Box::new(|b| put(b, 8, &2u64.to_le_bytes())),
                "more than the hold capacity",
            ),
            (
                "two pending records swap holds",
                Box::new(move |b| {
                    put(b, record(0) + RECORD_VALUE, &1u64.to_le_bytes());
                    put(b, record(2) + RECORD_VALUE, &0u64.to_le_bytes());
                }),
                "another payment's",
            ),
            (
                "a pending record past the holds",
                Box::new(move |b| put(b, record(4) + RECORD_VALUE, &3u64.to_le_bytes())),
                "there are 3 holds",
            ),
            (
                "a hold no record names",
                Box::new(move |b| {
                    b[record(4) + RECORD_OUTCOME] = Outcome::Expired as u8;
                    put(b, record(4) + RECORD_VALUE, &0u64.to_le_bytes());
                }),
                "no pending record",
            ),
            (
                "an outcome a record cannot have",
                Box::new(move |b| b[record(1) + RECORD_OUTCOME] = 9),
                "outcome code 9",
            ),
            (
                "a declined payout with something to refund",
                Box::new(move |b| put(b, record(3) + RECORD_VALUE, &1u64.to_le_bytes())),
                "refundable",
            ),
            (
                "an id twice in the current generation",
                Box::new(move |b| {
                    let id = b[record(1)..record(1) + 16].to_vec();
                    put(b, record(3), &id)
                }),
                "current generation twice",
            ),
            (
                "a pending record in the previous generation",
                Box::new(move |b| b[previous + RECORD_OUTCOME] = Outcome::Forwarded as u8),
                "it is pending",
            ),
            (
                "an id in both generations",
                Box::new(move |b| {
                    let id = b[record(1)..record(1) + 16].to_vec();
                    put(b, previous, &id)
                }),
                "in the window twice",
            ),
            (
                "a refund reserving more than its original can take back",
                Box::new(move |b| put(b, record(1) + RECORD_VALUE, &u64::MAX.to_le_bytes())),
                "reserve",
            ),
        ];
        for (description, tamper, words) in rows {
            let mut bytes = good.clone();
            tamper(&mut bytes);
            let config = LedgerConfig {
                holds_capacity: u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize,
                ..CONFIG
            };
            let error = restored(&bytes, config).err().expect(description);
            assert!(error.why.contains(words), "{description}: {error}");
        }
        assert!(restored(&good, CONFIG).is_ok());
    }

    #[test]
    fn a_save_reads_the_live_records_in_placement_order() {
        let ledger = ledger();
        let bytes = saved(&ledger);
        let layout = Layout::of(&bytes);
        let ids: Vec<u128> = (0..5)
            .map(|place| {
                let at = layout.current + place * RECORD_SIZE;
                u128::from_le_bytes(bytes[at..at + 16].try_into().unwrap())
            })
            .collect();
        assert_eq!(ids, [2, 3, 4, 5, 6]);
        // Pending records name their holds by place, oldest first.
        let values: Vec<u64> = [0, 2, 4]
            .iter()
            .map(|place| {
                let at = layout.current + place * RECORD_SIZE + RECORD_VALUE;
                u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
            })
            .collect();
        assert_eq!(values, [0, 1, 2]);
    }
}
