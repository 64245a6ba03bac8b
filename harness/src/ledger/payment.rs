//! `clearway ledger payment`: one finished payment's record, read offline from the data
//! directory's payment store (`D/store`): what a QUERY would say of it, and more (the bank, the
//! sequence it finished at, what approved refunds took from it).
//!
//! The store is read as it is, without the journal: it holds every payment the node finished
//! and wrote, for as long as retention keeps its hour. A payment the switch refused left nothing
//! behind, and one still waiting for its bank is not finished: both are unknown here.

use std::path::Path;
use std::process::ExitCode;

use clearway_core::event::{Kind, Outcome, ParticipantId, TxnId};
use clearway_core::network::Network;
use clearway_core::store::{PaymentStore, StoredPayment};
use serde::Serialize;

use super::write_json;
use crate::data_dir;
use crate::exit::Failure;

/// The id in its display form, `yyyymmdd-sssss-` and the sequence in 24 digits (as
/// `impl Display for TxnId` writes it): exactly the text that id displays as, nothing else.
pub fn parse_txn_id(text: &str) -> Result<TxnId, String> {
    text.parse()
}

/// What the command prints, and writes as JSON.
#[derive(Serialize)]
struct Record {
    txn_id: String,
    /// The id as the 128-bit number the wire carries, in hex.
    txn_id_hex: String,
    /// When the sender made the id (its date and second), UTC; `null` for an id without one.
    made_at_utc: Option<String>,
    outcome: &'static str,
    kind: &'static str,
    amount_fen: u64,
    amount_yuan: String,
    institution: u16,
    institution_name: Option<String>,
    bank: u16,
    bank_name: Option<String>,
    /// A refund's original payment; `null` otherwise.
    original: Option<String>,
    batch: u64,
    finished_sequence: u64,
    /// The node's event time when it finished, ns on its clock.
    finished_ns: u64,
    /// For an approved debit: what approved refunds have taken from it, and what is left to
    /// refund; `null` otherwise.
    refunded_fen: Option<u64>,
    refundable_fen: Option<u64>,
}

pub fn run(data_dir: &Path, txn_id: TxnId, json: Option<&Path>) -> Result<ExitCode, Failure> {
    let mut store = open_store(data_dir)?;
    let found = store.original(txn_id, u64::MAX).map_err(|error| {
        Failure::unreadable(format!(
            "cannot read {txn_id} from the payment store in {}: {error}",
            store.path().display()
        ))
    })?;
    let Some((payment, refunded_fen)) = found else {
        let through = store.through().unwrap_or(0);
        return Err(Failure::check(format!(
            "no payment {txn_id} in the payment store in {} (written through sequence \
             {through}): never received, refused by the switch (a refusal leaves nothing \
             behind), not yet finished, or dropped by retention",
            store.path().display()
        )));
    };
    let network = names(data_dir);
    let record = record(&payment, refunded_fen, network.as_ref());
    print_record(&record);
    if let Some(path) = json {
        write_json(path, &record)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The data directory's payment store, opened for reading; never created here.
fn open_store(data_dir: &Path) -> Result<PaymentStore, Failure> {
    if !data_dir.is_dir() {
        return Err(Failure::unreadable(format!(
            "{} is not a directory",
            data_dir.display()
        )));
    }
    let path = data_dir.join(crate::run::memory::STORE_DIR);
    let empty = std::fs::read_dir(&path).map_or(true, |mut entries| entries.next().is_none());
    if empty {
        return Err(Failure::unreadable(format!(
            "{} has no payment store ({} is missing or empty): the node writes it once it runs \
             with its store, and until then no payment can be looked up",
            data_dir.display(),
            path.display()
        )));
    }
    PaymentStore::open(&path).map_err(|error| {
        Failure::unreadable(format!(
            "cannot open the payment store in {}: {error} (a running node holds it: stop the \
             node first)",
            path.display()
        ))
    })
}

/// The directory's network, for participants' names, when its manifest can be read.
fn names(data_dir: &Path) -> Option<Network> {
    if !data_dir::exists(data_dir) {
        return None;
    }
    match data_dir::open(data_dir) {
        Ok(opened) => Some(opened.network),
        Err(error) => {
            eprintln!("clearway ledger: participants shown by id only: {error}");
            None
        }
    }
}

fn record(payment: &StoredPayment, refunded_fen: u64, network: Option<&Network>) -> Record {
    let name = |id: ParticipantId| {
        network
            .and_then(|network| network.participant(id))
            .map(|participant| participant.name.clone())
    };
    let approved_debit = payment.kind.is_debit() && payment.outcome == Outcome::Approved;
    Record {
        txn_id: payment.txn_id.to_string(),
        txn_id_hex: format!("{:#034x}", payment.txn_id.0),
        made_at_utc: made_at_utc(payment.txn_id),
        outcome: payment.outcome.name(),
        kind: payment.kind.name(),
        amount_fen: payment.amount_fen,
        amount_yuan: yuan(payment.amount_fen),
        institution: payment.institution.0,
        institution_name: name(payment.institution),
        bank: payment.bank.0,
        bank_name: name(payment.bank),
        original: (payment.kind == Kind::Refund && !payment.original.is_none())
            .then(|| payment.original.to_string()),
        batch: payment.batch,
        finished_sequence: payment.finished_sequence,
        finished_ns: payment.finished_ns,
        refunded_fen: approved_debit.then_some(refunded_fen),
        refundable_fen: approved_debit.then(|| payment.amount_fen.saturating_sub(refunded_fen)),
    }
}

/// `fen` as yuan with two decimals.
fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// When the id says it was made, `yyyy-mm-ddThh:mm:ssZ`.
fn made_at_utc(txn_id: TxnId) -> Option<String> {
    let second = txn_id.unix_s()? % 86_400;
    let date = txn_id.date();
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date / 10_000,
        date / 100 % 100,
        date % 100,
        second / 3_600,
        second / 60 % 60,
        second % 60
    ))
}

fn print_record(record: &Record) {
    let named = |id: u16, name: &Option<String>| match name {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    };
    println!("payment:      {}", record.txn_id);
    println!("  id (hex):   {}", record.txn_id_hex);
    if let Some(made_at) = &record.made_at_utc {
        println!("  made at:    {made_at}");
    }
    println!("outcome:      {}", record.outcome);
    println!("kind:         {}", record.kind);
    println!(
        "amount:       {} yuan ({} fen)",
        record.amount_yuan, record.amount_fen
    );
    println!(
        "institution:  {}",
        named(record.institution, &record.institution_name)
    );
    println!("bank:         {}", named(record.bank, &record.bank_name));
    if let Some(original) = &record.original {
        println!("original:     {original}");
    }
    println!("batch:        {}", record.batch);
    println!(
        "finished:     sequence {}, event time {} ns",
        record.finished_sequence, record.finished_ns
    );
    if let (Some(refunded), Some(refundable)) = (record.refunded_fen, record.refundable_fen) {
        println!(
            "refunds:      {} yuan ({refunded} fen) refunded, {} yuan ({refundable} fen) left",
            yuan(refunded),
            yuan(refundable)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_parses_from_exactly_the_text_it_displays_as() {
        for id in [
            TxnId::new(20261130, 1),
            TxnId::new(20261130, 0),
            TxnId::at(1_796_686_205, 42),
            TxnId::new(99_999_999, (1u128 << 79) - 1),
            TxnId::new(0, 7),
        ] {
            assert_eq!(parse_txn_id(&id.to_string()), Ok(id), "{id}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_form_it_should_have() {
        for text in [
            "",
            "20261130",
            "20261130-1",
            "20261130-000000000000000000000001",
            "2026113-00000-000000000000000000000001",
            "20261130-00000-00000000000000000000000x",
            "20261130_00000-000000000000000000000001",
            "20261130-00000-+00000000000000000000001",
            " 20261130-00000-000000000000000000000001",
            "20261130-00000-0000000000000000000000001",
            "20261130-00000-99999999999999999999999999999",
            "0x0a293501000000000000000000000001",
        ] {
            let error = parse_txn_id(text).expect_err(text);
            assert!(error.contains(text) || text.is_empty(), "{text}: {error}");
        }
    }

    #[test]
    fn amounts_are_shown_in_yuan_and_ids_with_their_time() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(10_005), "100.05");
        assert_eq!(
            made_at_utc(TxnId::at(1_796_686_205, 1)).as_deref(),
            Some("2026-12-07T23:30:05Z")
        );
        assert_eq!(made_at_utc(TxnId(7)), None);
    }
}
