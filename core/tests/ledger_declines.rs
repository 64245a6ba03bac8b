//! The ledger alone, fed events with the results authorize and route would have written: one
//! table row per ledger decline (and per outcome that is not one), then clearing, the window,
//! expiry, correlation, the state hash and the stage. Σ positions is checked after every event.

mod common;

use clearway_core::event::{
    luhn_check_digit, Account, Decline, Event, Kind, Outcome, ParticipantId, Results, TxnId,
};
use clearway_core::network::Network;
use clearway_core::pipeline::Handler;
use clearway_core::stage::{
    BatchReport, Direction, Expiry, Ledger, LedgerConfig, LedgerSink, LedgerStage, LedgerSummary,
    Remembering,
};
use clearway_core::store::PaymentStore;
use common::switch_events::{
    memory_ledger_config, small_ledger_config, small_network, store_folder, BANKS, BANK_CAP_FEN,
    BANK_TIMEOUT_NS, BINS, INSTITUTIONS, INSTITUTION_CAP_FEN,
};
use sha2::{Digest, Sha256};

const T: u64 = BANK_TIMEOUT_NS;
const I1: ParticipantId = INSTITUTIONS[0];
const I2: ParticipantId = INSTITUTIONS[1];
const B11: ParticipantId = BANKS[0];
const B12: ParticipantId = BANKS[1];

/// Collects what the ledger hands out.
#[derive(Default)]
struct Collect {
    expiries: Vec<Expiry>,
    reports: Vec<BatchReport>,
    summary: Option<LedgerSummary>,
}

impl LedgerSink for Collect {
    fn expired(&mut self, expiry: &Expiry) {
        self.expiries.push(*expiry);
    }
    fn batch_closed(&mut self, report: BatchReport) {
        self.reports.push(report);
    }
    fn finished(&mut self, summary: LedgerSummary) {
        self.summary = Some(summary);
    }
}

/// A ledger, its sink, and the route results it is fed.
struct Bench {
    ledger: Ledger,
    sink: Collect,
}

impl Bench {
    fn new(config: LedgerConfig) -> Bench {
        Bench::on(&small_network(), config)
    }

    fn on(network: &Network, config: LedgerConfig) -> Bench {
        Bench {
            ledger: Ledger::new(network, config),
            sink: Collect::default(),
        }
    }

    /// Applies `event` with the results route would have written (and `upstream`, if refused
    /// earlier); checks Σ positions.
    fn apply_refused(&mut self, event: &Event, upstream: Option<Decline>) -> Results {
        let mut results = route(event);
        results.decline = upstream;
        self.ledger.apply(event, &mut results, &mut self.sink);
        assert_eq!(self.ledger.positions_sum(), 0, "after {event:?}");
        results
    }

    fn apply(&mut self, event: &Event) -> Results {
        self.apply_refused(event, None)
    }
}

/// What route writes: a payment's bank by the longest prefix of the network's BINs, a reply's
/// bank its sender.
fn route(event: &Event) -> Results {
    let mut results = Results::default();
    if event.kind.is_payment() {
        let account = event.account.as_bytes();
        results.bank = BINS
            .iter()
            .filter(|(prefix, _)| account.starts_with(prefix.as_bytes()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, bank)| ParticipantId(*bank))
            .expect("test accounts route");
    } else if event.kind == Kind::BankReply {
        results.bank = event.sender;
    }
    results
}

/// A 19-digit card number under `prefix`.
fn account(prefix: &str) -> Account {
    let mut digits = prefix.as_bytes().to_vec();
    while digits.len() < 18 {
        digits.push(b'7');
    }
    let check = luhn_check_digit(&digits);
    digits.push(check);
    Account::new(&digits).unwrap()
}

fn id(sequence: u128) -> TxnId {
    TxnId::new(20261130, sequence)
}

/// A payment of `kind` to bank 11 (or 12 for `to_12`), at event time `at`.
fn payment(kind: Kind, txn: u128, sender: ParticipantId, amount: u64, at: u64) -> Event {
    let mut event = Event::payment(kind, id(txn), sender, account("622202"), amount, at + 5);
    event.event_ns = at;
    event
}

fn debit(txn: u128, sender: ParticipantId, amount: u64, at: u64) -> Event {
    payment(Kind::AgreementDebit, txn, sender, amount, at)
}

fn payout(txn: u128, sender: ParticipantId, amount: u64, at: u64) -> Event {
    payment(Kind::PayoutCredit, txn, sender, amount, at)
}

fn refund(txn: u128, sender: ParticipantId, original: u128, amount: u64, at: u64) -> Event {
    payment(Kind::Refund, txn, sender, amount, at).with_original(id(original))
}

fn to_bank_12(mut event: Event) -> Event {
    event.account = account("6222020");
    event
}

fn reply(bank: ParticipantId, txn: u128, approve: bool, at: u64) -> Event {
    let mut event = Event::bank_reply(bank, id(txn), approve, 0, at);
    event.event_ns = at;
    event
}

fn approve(txn: u128, at: u64) -> Event {
    reply(B11, txn, true, at)
}

fn decline(txn: u128, at: u64) -> Event {
    reply(B11, txn, false, at)
}

fn cutover(at: u64) -> Event {
    let mut event = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, at);
    event.event_ns = at;
    event
}

/// One row: events to set the ledger up, then the probe and what the ledger must answer.
struct Row {
    name: &'static str,
    config: LedgerConfig,
    setup: Vec<Event>,
    probe: Event,
    upstream: Option<Decline>,
    outcome: Outcome,
    decline: Option<Decline>,
    original: Outcome,
}

fn row(name: &'static str, setup: Vec<Event>, probe: Event, decline: Decline) -> Row {
    Row {
        name,
        config: small_ledger_config(),
        setup,
        probe,
        upstream: None,
        outcome: Outcome::Rejected,
        decline: Some(decline),
        original: Outcome::Pending,
    }
}

fn answered(name: &'static str, setup: Vec<Event>, probe: Event, outcome: Outcome) -> Row {
    Row {
        outcome,
        decline: None,
        ..row(name, setup, probe, Decline::LedgerFull)
    }
}

fn exists(name: &'static str, setup: Vec<Event>, probe: Event, original: Outcome) -> Row {
    Row {
        original,
        ..answered(name, setup, probe, Outcome::Exists)
    }
}

#[test]
fn every_ledger_decline_and_answer_by_table() {
    use Decline::*;
    let tiny_holds = LedgerConfig {
        holds_capacity: 2,
        ..small_ledger_config()
    };
    let memory = memory_ledger_config();
    let with_id = |mut event: Event, txn_id: TxnId| {
        event.txn_id = txn_id;
        event
    };
    let rows = vec![
        // Idempotency.
        row(
            "ExistsWithDifferentFields in flight",
            vec![debit(1, I1, 100, 0)],
            debit(1, I1, 101, 10),
            ExistsWithDifferentFields,
        ),
        row(
            "ExistsWithDifferentFields finished",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            debit(1, I2, 100, 10),
            ExistsWithDifferentFields,
        ),
        row(
            "ExistsWithDifferentFields: other account",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            to_bank_12(debit(1, I1, 100, 10)),
            ExistsWithDifferentFields,
        ),
        row(
            "ExistsWithDifferentFields: other kind",
            vec![debit(1, I1, 100, 0)],
            payment(Kind::GatewayDebit, 1, I1, 100, 10),
            ExistsWithDifferentFields,
        ),
        row(
            "DuplicateInFlight",
            vec![debit(1, I1, 100, 0)],
            debit(1, I1, 100, 10),
            DuplicateInFlight,
        ),
        exists(
            "Exists, original Approved",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            debit(1, I1, 100, 10),
            Outcome::Approved,
        ),
        exists(
            "Exists, original Declined",
            vec![debit(1, I1, 100, 0), decline(1, 5)],
            debit(1, I1, 100, 10),
            Outcome::Declined,
        ),
        exists(
            "Exists, original Expired (expired by the repeat's own clock)",
            vec![debit(1, I1, 100, 0)],
            debit(1, I1, 100, T),
            Outcome::Expired,
        ),
        // Liquidity.
        answered(
            "an institution may owe exactly its cap",
            vec![],
            payout(1, I1, INSTITUTION_CAP_FEN, 0),
            Outcome::Forwarded,
        ),
        row(
            "InsufficientLiquidity: over the cap alone",
            vec![],
            payout(1, I1, INSTITUTION_CAP_FEN + 1, 0),
            InsufficientLiquidity,
        ),
        row(
            "InsufficientLiquidity: pending holds count",
            vec![payout(1, I1, 1_500_000, 0)],
            payout(2, I1, 500_001, 10),
            InsufficientLiquidity,
        ),
        row(
            "InsufficientLiquidity: a bank's posted debits count",
            vec![
                debit(1, I1, 2_000_000, 0),
                approve(1, 5),
                debit(2, I2, BANK_CAP_FEN - 2_000_000, 10),
                approve(2, 15),
            ],
            debit(3, I1, 1, 20),
            InsufficientLiquidity,
        ),
        answered(
            "credit received raises what a debtor may owe",
            vec![debit(1, I1, 1_000_000, 0), approve(1, 5)],
            payout(2, I1, INSTITUTION_CAP_FEN + 1_000_000, 10),
            Outcome::Forwarded,
        ),
        answered(
            "an expired hold no longer counts",
            vec![payout(1, I1, INSTITUTION_CAP_FEN, 0)],
            payout(2, I1, INSTITUTION_CAP_FEN, T),
            Outcome::Forwarded,
        ),
        // Refunds.
        row(
            "RefundOfUnknownPayment",
            vec![],
            refund(2, I1, 1, 100, 0),
            RefundOfUnknownPayment,
        ),
        row(
            "RefundOfUnapprovedPayment: declined original",
            vec![debit(1, I1, 100, 0), decline(1, 5)],
            refund(2, I1, 1, 100, 10),
            RefundOfUnapprovedPayment,
        ),
        row(
            "RefundOfUnapprovedPayment: expired original",
            vec![debit(1, I1, 100, 0)],
            refund(2, I1, 1, 100, T),
            RefundOfUnapprovedPayment,
        ),
        row(
            "RefundOfUnapprovedPayment: pending original",
            vec![debit(1, I1, 100, 0)],
            refund(2, I1, 1, 100, 10),
            RefundOfUnapprovedPayment,
        ),
        row(
            "RefundOfUnapprovedPayment: payout original",
            vec![payout(1, I1, 100, 0), approve(1, 5)],
            refund(2, I1, 1, 100, 10),
            RefundOfUnapprovedPayment,
        ),
        row(
            "RefundOfUnapprovedPayment: refund original",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 50, 10),
                approve(2, 15),
            ],
            refund(3, I1, 2, 10, 20),
            RefundOfUnapprovedPayment,
        ),
        row(
            "RefundOfOtherInstitution",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            refund(2, I2, 1, 100, 10),
            RefundOfOtherInstitution,
        ),
        answered(
            "a full refund",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            refund(2, I1, 1, 100, 10),
            Outcome::Forwarded,
        ),
        row(
            "RefundExceedsOriginal",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            refund(2, I1, 1, 101, 10),
            RefundExceedsOriginal,
        ),
        row(
            "RefundExceedsOriginal: a pending partial refund reserves its part",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 60, 10),
            ],
            refund(3, I1, 1, 41, 20),
            RefundExceedsOriginal,
        ),
        row(
            "RefundExceedsOriginal: two approved partial refunds",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 60, 10),
                approve(2, 15),
                refund(3, I1, 1, 40, 20),
                approve(3, 25),
            ],
            refund(4, I1, 1, 1, 30),
            RefundExceedsOriginal,
        ),
        answered(
            "the rest after a partial refund",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 60, 10),
                approve(2, 15),
            ],
            refund(3, I1, 1, 40, 20),
            Outcome::Forwarded,
        ),
        answered(
            "a declined refund gives its reservation back",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 60, 10),
                decline(2, 15),
            ],
            refund(3, I1, 1, 100, 20),
            Outcome::Forwarded,
        ),
        answered(
            "an expired refund gives its reservation back",
            vec![
                debit(1, I1, 100, 0),
                approve(1, 5),
                refund(2, I1, 1, 60, 10),
            ],
            refund(3, I1, 1, 100, 10 + T),
            Outcome::Forwarded,
        ),
        // Replies.
        row(
            "ReplyForUnknownPayment",
            vec![],
            approve(1, 0),
            ReplyForUnknownPayment,
        ),
        row(
            "ReplyFromWrongBank",
            vec![debit(1, I1, 100, 0)],
            reply(B12, 1, true, 5),
            ReplyFromWrongBank,
        ),
        answered(
            "LateReply after expiry",
            vec![debit(1, I1, 100, 0)],
            approve(1, T),
            Outcome::LateReply,
        ),
        answered(
            "LateReply after approval",
            vec![debit(1, I1, 100, 0), approve(1, 5)],
            decline(1, 10),
            Outcome::LateReply,
        ),
        answered(
            "Approved",
            vec![debit(1, I1, 100, 0)],
            approve(1, 5),
            Outcome::Approved,
        ),
        answered(
            "Declined",
            vec![debit(1, I1, 100, 0)],
            decline(1, 5),
            Outcome::Declined,
        ),
        answered(
            "a reply one nanosecond before the deadline",
            vec![debit(1, I1, 100, 0)],
            approve(1, T - 1),
            Outcome::Approved,
        ),
        // Capacity.
        Row {
            config: tiny_holds,
            ..row(
                "LedgerFull: hold table",
                vec![debit(1, I1, 100, 0), debit(2, I1, 100, 1)],
                debit(3, I1, 100, 2),
                LedgerFull,
            )
        },
        // Memory by time: the id's own time, judged against retention.
        Row {
            config: memory,
            ..row(
                "TxnIdWithoutTime",
                vec![],
                with_id(debit(1, I1, 100, 0), TxnId(1)),
                TxnIdWithoutTime,
            )
        },
        Row {
            config: memory,
            ..row(
                "TxnIdInFuture: made 2,048 s after the clock",
                vec![],
                debit(1 << 90 | 1, I1, 100, 0),
                TxnIdInFuture,
            )
        },
        Row {
            config: memory,
            ..row(
                "TxnIdBeyondRetention: made two days before, with a day's retention",
                vec![],
                with_id(debit(1, I1, 100, 0), TxnId::new(20261128, 1)),
                TxnIdBeyondRetention,
            )
        },
        Row {
            config: memory,
            ..row(
                "OriginalBeyondRetention",
                vec![],
                refund(2, I1, 1, 10, 0).with_original(TxnId::new(20261128, 1)),
                OriginalBeyondRetention,
            )
        },
        Row {
            config: memory,
            ..answered(
                "an id made within retention is taken",
                vec![],
                debit(1, I1, 100, 0),
                Outcome::Forwarded,
            )
        },
        // Refused upstream, and events that are not payments.
        Row {
            upstream: Some(BadMac),
            ..row(
                "refused upstream: payment",
                vec![],
                debit(1, I1, 100, 0),
                BadMac,
            )
        },
        Row {
            upstream: Some(SenderSuspended),
            ..row(
                "refused upstream: reply",
                vec![debit(1, I1, 100, 0)],
                approve(1, 5),
                SenderSuspended,
            )
        },
        Row {
            upstream: Some(KindNotAllowed),
            ..row(
                "refused upstream: cutover",
                vec![],
                cutover(5),
                KindNotAllowed,
            )
        },
        answered("cutover", vec![], cutover(5), Outcome::BatchClosed),
        answered(
            "control event",
            vec![],
            Event::operator(Kind::LinkStatus, B11, 0, 0),
            Outcome::Applied,
        ),
    ];
    for row in rows {
        let mut bench = Bench::new(row.config);
        for event in &row.setup {
            let results = bench.apply(event);
            assert!(
                results.passed(),
                "{}: set-up event {event:?} refused: {results:?}",
                row.name
            );
        }
        let results = bench.apply_refused(&row.probe, row.upstream);
        assert_eq!(results.outcome, row.outcome, "{}: {results:?}", row.name);
        assert_eq!(results.decline, row.decline, "{}: {results:?}", row.name);
        assert_eq!(results.original, row.original, "{}: {results:?}", row.name);
        if row.probe.kind.is_payment() {
            assert_eq!(results.institution, row.probe.sender, "{}", row.name);
            assert_eq!(results.sent_ns, row.probe.sent_ns, "{}", row.name);
        }
    }
}

#[test]
fn a_refused_payment_leaves_nothing_behind() {
    let mut bench = Bench::new(small_ledger_config());
    let before = bench.ledger.state_hash();
    for (event, upstream) in [
        (payout(1, I1, INSTITUTION_CAP_FEN + 1, 0), None),
        (refund(1, I1, 9, 10, 0), None),
        (debit(1, I1, 10, 0), Some(Decline::NoRoute)),
    ] {
        let results = bench.apply_refused(&event, upstream);
        assert_eq!(results.outcome, Outcome::Rejected);
        assert_eq!(bench.ledger.state_hash(), before);
        assert_eq!(bench.ledger.pending_count(), 0);
        assert_eq!(bench.ledger.window_count(), 0);
    }
    // The same id may be sent again and is taken.
    assert_eq!(
        bench.apply(&debit(1, I1, 10, 0)).outcome,
        Outcome::Forwarded
    );
}

#[test]
fn a_reply_from_the_wrong_bank_leaves_the_hold_for_the_right_one() {
    let mut bench = Bench::new(small_ledger_config());
    bench.apply(&debit(1, I1, 100, 0));
    let wrong = bench.apply(&reply(B12, 1, true, 5));
    assert_eq!(wrong.decline, Some(Decline::ReplyFromWrongBank));
    assert_eq!(bench.ledger.pending_count(), 1);
    let right = bench.apply(&approve(1, 6));
    assert_eq!(right.outcome, Outcome::Approved);
    assert_eq!(bench.ledger.position(I1), 100);
    assert_eq!(bench.ledger.position(B11), -100);
}

#[test]
fn replies_carry_the_payment_institution_and_send_time() {
    let mut bench = Bench::new(small_ledger_config());
    let payment = debit(1, I2, 100, 0);
    bench.apply(&payment);
    let results = bench.apply(&approve(1, 50));
    assert_eq!(results.institution, I2);
    assert_eq!(results.sent_ns, payment.sent_ns);
    assert_eq!(results.original, Outcome::Pending);
}

#[test]
fn expiry_voids_holds_in_placement_order_and_notifies() {
    let mut bench = Bench::new(small_ledger_config());
    bench.apply(&debit(1, I1, 100, 0));
    bench.apply(&to_bank_12(payout(2, I2, 70, 10)));
    bench.apply(&debit(3, I1, 30, 20));
    assert_eq!(bench.ledger.pending_fen(I2), 70);
    assert_eq!(bench.ledger.pending_fen(B11), 130);
    // A control event whose clock passes the first two deadlines but not the third.
    let mut control = Event::operator(Kind::LinkStatus, B11, 0, 0);
    control.event_ns = T + 10;
    assert_eq!(bench.apply(&control).outcome, Outcome::Applied);
    assert_eq!(
        bench.sink.expiries,
        [
            Expiry {
                txn_id: id(1),
                institution: I1,
                bank: B11,
                amount_fen: 100,
                sent_ns: 5,
            },
            Expiry {
                txn_id: id(2),
                institution: I2,
                bank: B12,
                amount_fen: 70,
                sent_ns: 15,
            },
        ]
    );
    assert_eq!(bench.ledger.pending_count(), 1);
    assert_eq!(bench.ledger.pending_fen(I2), 0);
    assert_eq!(bench.ledger.pending_fen(B11), 30);
    // An event from the past does not move the clock back.
    let mut late = approve(3, 0);
    late.event_ns = 5;
    assert_eq!(bench.apply(&late).outcome, Outcome::Approved);
    assert_eq!(bench.ledger.clock_ns(), T + 10);
}

#[test]
fn cutover_reports_the_batch_resets_positions_and_keeps_holds() {
    let mut bench = Bench::new(small_ledger_config());
    bench.apply(&debit(1, I1, 100, 0));
    bench.apply(&approve(1, 1));
    bench.apply(&to_bank_12(payout(2, I2, 30, 2)));
    bench.apply(&reply(B12, 2, true, 3));
    bench.apply(&debit(3, I1, 45, 4));
    bench.apply(&approve(3, 5));
    bench.apply(&debit(4, I1, 50, 6)); // stays pending over the cutover
    let results = bench.apply(&cutover(7));
    assert_eq!(results.outcome, Outcome::BatchClosed);
    let report = &bench.sink.reports[0];
    assert_eq!(report.batch, 1);
    assert_eq!(report.closed_at_ns, 7);
    assert_eq!(report.net_sum(), 0);
    let rows: Vec<_> = report
        .rows
        .iter()
        .map(|row| {
            (
                row.participant.0,
                row.count,
                row.debit_fen,
                row.credit_fen,
                row.net_fen,
                row.direction,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, 2, 0, 145, 145, Direction::Receive),
            (2, 1, 30, 0, -30, Direction::Pay),
            (11, 2, 145, 0, -145, Direction::Pay),
            (12, 1, 0, 30, 30, Direction::Receive),
        ]
    );
    assert_eq!(
        report.to_csv(),
        "batch,participant,name,count,debit_fen,credit_fen,net_fen,direction\n\
         1,1,institution-1,2,0,145,145,receive\n\
         1,2,institution-2,1,30,0,-30,pay\n\
         1,11,bank-11,2,145,0,-145,pay\n\
         1,12,bank-12,1,0,30,30,receive\n"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["batch"], 1);
    assert_eq!(json["rows"][2]["name"], "bank-11");
    assert_eq!(json["rows"][2]["direction"], "pay");
    assert_eq!(json["rows"][0]["credit_fen"], 145);
    let directory = std::env::temp_dir().join(format!("clearway-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let [csv, json_path] = report.write_to(&directory).unwrap();
    assert!(csv.ends_with("batch-000001.csv"));
    assert!(json_path.ends_with("batch-000001.json"));
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), report.to_csv());
    let back: BatchReport =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(&back, report);
    std::fs::remove_dir_all(&directory).unwrap();

    // Positions and totals reset; the hold survives and posts into batch 2.
    assert_eq!(bench.ledger.batch_number(), 2);
    for participant in [I1, I2, B11, B12] {
        assert_eq!(bench.ledger.position(participant), 0);
    }
    assert_eq!(bench.ledger.pending_count(), 1);
    assert_eq!(bench.apply(&approve(4, 8)).outcome, Outcome::Approved);
    assert_eq!(bench.ledger.position(I1), 50);
    bench.apply(&cutover(9));
    let second = &bench.sink.reports[1];
    assert_eq!(second.batch, 2);
    assert_eq!(second.rows.len(), 2);
    assert_eq!(second.rows[0].credit_fen, 50);
    assert_eq!(second.rows[0].count, 1);
    // An empty batch has an empty report.
    bench.apply(&cutover(10));
    assert!(bench.sink.reports[2].rows.is_empty());
}

#[test]
fn without_a_store_the_window_forgets_by_time_not_by_batch() {
    let config = LedgerConfig {
        window_span_ns: 100,
        ..small_ledger_config()
    };
    let mut bench = Bench::new(config);
    bench.apply(&debit(1, I1, 100, 0));
    bench.apply(&approve(1, 1));
    // Cutovers close batches; they do not touch memory.
    for at in 2..5 {
        bench.apply(&cutover(at));
    }
    let repeat = bench.apply(&debit(1, I1, 100, 5));
    assert_eq!(
        (repeat.outcome, repeat.original),
        (Outcome::Exists, Outcome::Approved)
    );
    assert_eq!(
        bench.apply(&refund(2, I1, 1, 10, 6)).outcome,
        Outcome::Forwarded
    );
    bench.apply(&approve(2, 7));
    assert_eq!(bench.ledger.window_count(), 2);
    // The first turn (at 100) keeps the generation before it.
    assert_eq!(
        bench.apply(&debit(9, I1, 100, 100)).outcome,
        Outcome::Forwarded
    );
    assert_eq!(
        bench.apply(&debit(1, I1, 100, 101)).outcome,
        Outcome::Exists
    );
    // The second (at 200) drops what was last touched before 100.
    bench.apply(&approve(9, 200));
    assert_eq!(
        bench.apply(&refund(3, I1, 1, 10, 201)).decline,
        Some(Decline::RefundOfUnknownPayment)
    );
    // Without a store the id is forgotten; with one it would be answered `Exists`
    // (`a_payment_is_decided_once_however_long_ago`).
    assert_eq!(
        bench.apply(&debit(1, I1, 100, 202)).outcome,
        Outcome::Forwarded
    );
}

#[test]
fn a_payment_is_decided_once_however_long_ago() {
    let config = LedgerConfig {
        window_span_ns: 100,
        ..memory_ledger_config()
    };
    let folder = store_folder("decided-once");
    let store = PaymentStore::temporary(&folder).unwrap();
    let mut remembering = Remembering::new(
        Ledger::new(&small_network(), config),
        &store,
        config.memory.unwrap(),
        Collect::default(),
    );
    let mut sequence = 0;
    let mut apply = |event: Event| {
        let mut event = event;
        event.sequence = sequence;
        sequence += 1;
        let mut results = route(&event);
        remembering.apply(&event, &mut results).unwrap();
        (results, remembering.ledger().window_count())
    };
    apply(debit(1, I1, 1_000, 0));
    apply(approve(1, 1));
    apply(payout(5, I1, 100, 2));
    apply(decline(5, 3));
    // Many generations later, with nothing of them left in memory:
    for turn in 1..=20u64 {
        apply(cutover(turn * 100));
    }
    let (_, in_memory) = apply(cutover(2_050));
    assert_eq!(
        in_memory, 0,
        "nothing of the first seconds is left in memory"
    );
    let (resend, _) = apply(debit(1, I1, 1_000, 2_100));
    assert_eq!(
        (resend.outcome, resend.original),
        (Outcome::Exists, Outcome::Approved)
    );
    let (changed, _) = apply(debit(1, I1, 999, 2_101));
    assert_eq!(changed.decline, Some(Decline::ExistsWithDifferentFields));
    let (declined, _) = apply(payout(5, I1, 100, 2_102));
    assert_eq!(
        (declined.outcome, declined.original),
        (Outcome::Exists, Outcome::Declined)
    );
    // Refunds are honoured up to the remainder, across generations.
    assert_eq!(
        apply(refund(2, I1, 1, 600, 2_103)).0.outcome,
        Outcome::Forwarded
    );
    apply(approve(2, 2_104));
    for turn in 22..=40u64 {
        apply(cutover(turn * 100));
    }
    assert_eq!(
        apply(refund(3, I1, 1, 401, 4_100)).0.decline,
        Some(Decline::RefundExceedsOriginal)
    );
    assert_eq!(
        apply(refund(4, I1, 1, 400, 4_101)).0.outcome,
        Outcome::Forwarded
    );
    assert_eq!(
        apply(refund(6, I1, 5, 1, 4_102)).0.decline,
        Some(Decline::RefundOfUnapprovedPayment)
    );
    assert!(remembering.prefetch().counters().found >= 4);
}

#[test]
fn the_window_declines_ledger_full_while_the_store_holds_its_turn_back() {
    let config = LedgerConfig {
        window_capacity: 4,
        holds_capacity: 2,
        window_span_ns: 10,
        ..memory_ledger_config()
    };
    let mut bench = Bench::new(config);
    // A store that never writes: the window may not drop a generation.
    let (_loads_in, loads_out) = rtrb::RingBuffer::new(4);
    bench.ledger.attach_store(
        loads_out,
        std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
        std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
    );
    let stamped = |mut event: Event, sequence: u64| {
        event.sequence = sequence;
        event
    };
    let mut declined = 0;
    for txn in 1..=6u128 {
        let at = txn as u64 * 20;
        bench.apply(&stamped(debit(txn, I1, 100, at), at));
        let results = bench.apply(&stamped(approve(txn, at + 1), at + 1));
        if results.decline == Some(Decline::LedgerFull) {
            declined += 1;
        }
    }
    let late = bench.apply(&stamped(debit(7, I1, 100, 200), 200));
    assert_eq!(late.decline, Some(Decline::LedgerFull));
    assert!(bench.ledger.late_window_turns() > 0);
    assert_eq!(
        declined, 0,
        "a reply finds its pending payment however full the window is"
    );
}

#[test]
fn sums_near_u64_max_stay_exact() {
    let mut network = small_network();
    for participant in &mut network.participants {
        participant.cap_fen = u64::MAX;
    }
    let mut bench = Bench::on(&network, small_ledger_config());
    // Three banks each owe u64::MAX to institution 1.
    let prefixes = ["622202", "6222020", "436742"];
    for (index, prefix) in prefixes.iter().enumerate() {
        let mut event = debit(index as u128 + 1, I1, u64::MAX, index as u64);
        event.account = account(prefix);
        assert_eq!(bench.apply(&event).outcome, Outcome::Forwarded);
        let bank = route(&event).bank;
        let results = bench.apply(&reply(bank, index as u128 + 1, true, index as u64));
        assert_eq!(results.outcome, Outcome::Approved);
    }
    let max = i128::from(u64::MAX);
    assert_eq!(bench.ledger.position(I1), 3 * max);
    // A bank may owe no more than its cap, counted exactly.
    let results = bench.apply(&debit(9, I2, 1, 10));
    assert_eq!(results.decline, Some(Decline::InsufficientLiquidity));
    // The institution pays out u64::MAX twice against its credit.
    for txn in [10, 11] {
        assert_eq!(
            bench.apply(&payout(txn, I1, u64::MAX, 11)).outcome,
            Outcome::Forwarded
        );
    }
    assert_eq!(bench.ledger.pending_fen(I1), 2 * max);
    bench.apply(&approve(10, 12));
    assert_eq!(bench.ledger.position(I1), 2 * max);
    assert_eq!(bench.ledger.position(B11), 0);
    bench.apply(&cutover(13));
    let report = &bench.sink.reports[0];
    assert_eq!(report.net_sum(), 0);
    assert_eq!(report.rows[0].credit_fen, 3 * u128::from(u64::MAX));
    assert_eq!(report.rows[0].debit_fen, u128::from(u64::MAX));
    assert_eq!(report.rows[0].count, 4);
}

#[test]
fn the_state_hash_follows_the_documented_serialization() {
    let mut bench = Bench::new(small_ledger_config());
    bench.apply(&debit(1, I1, 100, 0));
    bench.apply(&approve(1, 1));
    bench.apply(&to_bank_12(payout(9, I2, 30, 2)));
    bench.apply(&debit(5, I1, 40, 3));
    let mut expected = Sha256::new();
    expected.update(1u64.to_le_bytes());
    expected.update(1u16.to_le_bytes());
    expected.update(100i128.to_le_bytes());
    expected.update(11u16.to_le_bytes());
    expected.update((-100i128).to_le_bytes());
    for (txn, debtor, creditor, amount, placed) in [(5, 11u16, 1u16, 40u64, 3), (9, 2, 12, 30, 2)] {
        expected.update(id(txn).0.to_le_bytes());
        expected.update(debtor.to_le_bytes());
        expected.update(creditor.to_le_bytes());
        expected.update(amount.to_le_bytes());
        expected.update((placed + T).to_le_bytes());
    }
    let expected: [u8; 32] = expected.finalize().into();
    let hash = bench.ledger.state_hash();
    assert_eq!(hash.0, expected);
    assert_eq!(hash.to_string().len(), 64);
    assert!(hash
        .to_string()
        .bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)));
    let summary = bench.ledger.summary();
    assert_eq!(summary.state_hash, hash);
    assert_eq!(summary.positions_sum, 0);
    assert_eq!(summary.batch_number, 1);
    assert_eq!(summary.pending_count, 2);
    assert_eq!(summary.window_count, 1);
}

#[test]
fn the_stage_applies_events_and_hands_its_summary_over_at_shutdown() {
    let ledger = Ledger::new(&small_network(), small_ledger_config());
    let mut stage = LedgerStage::new(ledger, Collect::default());
    let events = [
        debit(1, I1, 100, 0),
        approve(1, 1),
        cutover(2),
        debit(2, I1, 5, T + 3),
    ];
    for (sequence, event) in events.iter().enumerate() {
        let mut results = route(event);
        stage
            .on_event(
                event,
                &mut results,
                sequence as u64,
                sequence == events.len() - 1,
            )
            .unwrap();
    }
    stage.on_shutdown();
    let sink = stage.sink();
    assert_eq!(sink.reports.len(), 1);
    let summary = sink.summary.unwrap();
    assert_eq!(summary.batch_number, 2);
    assert_eq!(summary.pending_count, 1);
    assert_eq!(summary.positions_sum, 0);
    assert_eq!(summary.clock_ns, T + 3);
    assert_eq!(summary.state_hash, stage.ledger().state_hash());
    // The default sink discards.
    let mut quiet = LedgerStage::new(Ledger::new(&small_network(), small_ledger_config()), ());
    let mut results = route(&cutover(0));
    quiet.on_event(&cutover(0), &mut results, 0, true).unwrap();
    assert_eq!(results.outcome, Outcome::BatchClosed);
}
