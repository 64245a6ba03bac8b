//! `clearway ledger payment --data-dir D TXN_ID`: one payment's record from the data directory's
//! payment store, offline; exit 0 found, 1 unknown, 2 a bad id, 3 no store to read.

mod common;

use std::path::Path;

use clearway_core::event::{Kind, Outcome, ParticipantId, TxnId};
use clearway_core::store::{Arrival, PaymentStore, StoredPayment};

use common::{clearway, scratch};

/// 2026-12-07 23:30:05 UTC.
const MADE_AT_S: u64 = 1_796_686_205;

fn stored(txn_id: TxnId, kind: Kind, outcome: Outcome, amount_fen: u64) -> StoredPayment {
    StoredPayment {
        txn_id,
        original: TxnId::NONE,
        fingerprint: 7,
        amount_fen,
        outcome,
        kind,
        institution: ParticipantId(1),
        bank: ParticipantId(1001),
        batch: 4,
        finished_sequence: 120,
        finished_ns: 2_500_000_000,
    }
}

/// A data directory whose store holds an approved debit of 100 yuan, an approved refund of
/// 3 yuan against it, and a declined payout; the ids of the three.
fn data_dir_with_a_store(dir: &Path) -> (TxnId, TxnId, TxnId) {
    let debit = TxnId::at(MADE_AT_S, 1);
    let refund = TxnId::at(MADE_AT_S + 60, 2);
    let payout = TxnId::new(20261130, 3);
    let mut store = PaymentStore::open(&dir.join("store")).unwrap();
    let mut refund_record = stored(refund, Kind::Refund, Outcome::Approved, 300);
    refund_record.original = debit;
    refund_record.finished_sequence = 130;
    store
        .write(
            &[
                stored(debit, Kind::AgreementDebit, Outcome::Approved, 10_000),
                refund_record,
                stored(payout, Kind::PayoutCredit, Outcome::Declined, 5),
            ],
            Arrival::InOrder,
        )
        .unwrap();
    store.record_through(131).unwrap();
    drop(store);
    (debit, refund, payout)
}

fn payment(data_dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut arguments = vec![
        "ledger",
        "payment",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    arguments.extend(extra);
    clearway(&arguments)
}

#[test]
fn a_stored_payment_is_printed_with_its_refunds_and_written_as_json() {
    let dir = scratch("ledger-payment", "found");
    let data_dir = dir.join("data");
    let (debit, refund, payout) = data_dir_with_a_store(&data_dir);
    let json = dir.join("debit.json");

    let output = payment(
        &data_dir,
        &["--json", json.to_str().unwrap(), &debit.to_string()],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        format!("payment:      {debit}"),
        "made at:    2026-12-07T23:30:05Z".to_string(),
        "outcome:      Approved".to_string(),
        "kind:         agreement_debit".to_string(),
        "amount:       100.00 yuan (10000 fen)".to_string(),
        "institution:  1".to_string(),
        "bank:         1001".to_string(),
        "batch:        4".to_string(),
        "finished:     sequence 120, event time 2500000000 ns".to_string(),
        "refunds:      3.00 yuan (300 fen) refunded, 97.00 yuan (9700 fen) left".to_string(),
    ] {
        assert!(stdout.contains(&line), "lacks {line:?}:\n{stdout}");
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["txn_id"], debit.to_string());
    assert_eq!(record["txn_id_hex"], format!("{:#034x}", debit.0));
    assert_eq!(record["outcome"], "Approved");
    assert_eq!(record["kind"], "agreement_debit");
    assert_eq!(record["amount_fen"], 10_000);
    assert_eq!(record["amount_yuan"], "100.00");
    assert_eq!(record["institution"], 1);
    assert_eq!(record["bank"], 1001);
    assert_eq!(record["batch"], 4);
    assert_eq!(record["finished_sequence"], 120);
    assert_eq!(record["finished_ns"], 2_500_000_000u64);
    assert_eq!(record["refunded_fen"], 300);
    assert_eq!(record["refundable_fen"], 9_700);
    assert_eq!(record["original"], serde_json::Value::Null);

    // A refund names its original, and has no refunds of its own.
    let output = payment(&data_dir, &[&refund.to_string()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("kind:         refund"), "{stdout}");
    assert!(
        stdout.contains(&format!("original:     {debit}")),
        "{stdout}"
    );
    assert!(!stdout.contains("refunds:"), "{stdout}");

    // A declined payout: no refunds line either; an id without a second of its own has no
    // "made at".
    let output = payment(&data_dir, &[&payout.to_string()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("outcome:      Declined"), "{stdout}");
    assert!(
        stdout.contains("amount:       0.05 yuan (5 fen)"),
        "{stdout}"
    );
    assert!(!stdout.contains("refunds:"), "{stdout}");
}

#[test]
fn an_unknown_id_a_bad_id_and_a_missing_store_each_get_their_exit_code() {
    let dir = scratch("ledger-payment", "refused");
    let data_dir = dir.join("data");
    let (debit, _, _) = data_dir_with_a_store(&data_dir);

    // Unknown: exit 1, as a settlement batch that does not exist.
    let unknown = TxnId::at(MADE_AT_S, 99);
    let output = payment(&data_dir, &[&unknown.to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&unknown.to_string()), "{stderr}");
    assert!(output.stdout.is_empty());

    // Not the display form: a usage error, exit 2, naming the form.
    for bad in [
        "1",
        "20261207-1",
        "not-an-id",
        "20261207-0000000000000000000000000000000000001",
    ] {
        let output = payment(&data_dir, &[bad]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("yyyymmdd-"), "{bad}: {stderr}");
    }
    let output = clearway(&["ledger", "payment", &debit.to_string()]);
    assert_eq!(output.status.code(), Some(2), "--data-dir is required");

    // A data directory without a store: exit 3, said plainly, and no store made.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = payment(&empty, &[&debit.to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("has no payment store"), "{stderr}");
    assert!(!empty.join("store").exists(), "the tool made a store");

    // A store another process holds open (a running node): exit 3, naming why.
    let held = PaymentStore::open(&data_dir.join("store")).unwrap();
    let output = payment(&data_dir, &[&debit.to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stop the node first"), "{stderr}");
    drop(held);

    // No directory at all: exit 3.
    let output = payment(&dir.join("absent"), &[&debit.to_string()]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
