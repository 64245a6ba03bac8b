//! A long run of the ledger alone — 2 million payments and their replies over 40 cutovers, some
//! declined, some left to expire — showing its memory stays flat: after every cutover the window
//! holds at most two batches' worth, the holds stay few, and no table's allocation ever changes
//! from what `Ledger::new` made.

mod common;

use clearway_core::event::{Event, Kind, Outcome, ParticipantId, Results, TxnId};
use clearway_core::stage::{BatchReport, Expiry, Ledger, LedgerConfig, LedgerSink};
use common::switch_events::{account_under, small_network, BANKS, INSTITUTIONS};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const PAYMENT_COUNT: u64 = 2_000_000;
const BATCH_COUNT: u64 = 40;
const PAYMENTS_PER_BATCH: u64 = PAYMENT_COUNT / BATCH_COUNT;
/// Payments sent before the reply to a payment comes: the holds in flight.
const REPLY_LAG: usize = 64;
/// One event every microsecond; the timeout is 500 events long.
const STEP_NS: u64 = 1_000;
const TIMEOUT_NS: u64 = 500_000;

#[derive(Default)]
struct Count {
    expiries: u64,
    reports: Vec<BatchReport>,
}

impl LedgerSink for Count {
    fn expired(&mut self, _: &Expiry) {
        self.expiries += 1;
    }
    fn batch_closed(&mut self, report: BatchReport) {
        self.reports.push(report);
    }
}

#[test]
fn two_million_payments_over_forty_cutovers_keep_memory_flat() {
    let mut network = small_network();
    for participant in &mut network.participants {
        participant.cap_fen = u64::MAX;
    }
    let config = LedgerConfig {
        bank_timeout_ns: TIMEOUT_NS,
        holds_capacity: 4_096,
        window_capacity: 65_536,
        window_span_ns: 5_000_000_000,
        memory: None,
    };
    let mut ledger = Ledger::new(&network, config);
    let capacities = ledger.table_capacities();
    let mut sink = Count::default();
    let mut rng = SmallRng::seed_from_u64(7);
    let bank = BANKS[0];
    let account = account_under("622202", 19, &mut rng);
    let mut now_ns = 0;
    let mut in_flight = std::collections::VecDeque::with_capacity(REPLY_LAG + 1);
    let (mut approved, mut declined, mut late) = (0u64, 0u64, 0u64);
    let mut apply = |ledger: &mut Ledger, event: &mut Event, sink: &mut Count| -> Results {
        now_ns += STEP_NS;
        event.event_ns = now_ns;
        let mut results = Results {
            bank,
            ..Results::default()
        };
        ledger.apply(event, &mut results, sink);
        assert_eq!(ledger.positions_sum(), 0);
        results
    };
    for sequence in 1..=PAYMENT_COUNT {
        let kind = if sequence % 3 == 0 {
            Kind::PayoutCredit
        } else {
            Kind::AgreementDebit
        };
        let sender = INSTITUTIONS[(sequence % 4) as usize];
        let txn_id = TxnId::new(20261130, u128::from(sequence));
        let amount = rng.gen_range(1..1_000_000);
        let mut payment = Event::payment(kind, txn_id, sender, account, amount, sequence);
        let results = apply(&mut ledger, &mut payment, &mut sink);
        assert_eq!(results.outcome, Outcome::Forwarded, "{results:?}");
        in_flight.push_back(txn_id);
        if in_flight.len() > REPLY_LAG {
            let txn_id = in_flight.pop_front().unwrap();
            let roll = rng.gen_range(0..100);
            if roll < 2 {
                continue; // never answered: it expires
            }
            let mut reply = Event::bank_reply(bank, txn_id, roll >= 5, 0, 0);
            match apply(&mut ledger, &mut reply, &mut sink).outcome {
                Outcome::Approved => approved += 1,
                Outcome::Declined => declined += 1,
                Outcome::LateReply => late += 1,
                other => panic!("reply answered {other}"),
            }
        }
        if sequence % PAYMENTS_PER_BATCH == 0 {
            let mut cutover = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 0);
            assert_eq!(
                apply(&mut ledger, &mut cutover, &mut sink).outcome,
                Outcome::BatchClosed
            );
            // Two batches of payments at most, plus what finished from holds carried over.
            let window_bound = 2 * (PAYMENTS_PER_BATCH as usize + config.holds_capacity);
            assert!(
                ledger.window_count() <= window_bound,
                "window {} after batch {}",
                ledger.window_count(),
                ledger.batch_number() - 1
            );
            // The lagged replies, plus the unanswered holds of one timeout (at most one a step).
            let pending_bound = REPLY_LAG + (TIMEOUT_NS / STEP_NS) as usize;
            assert!(
                ledger.pending_count() <= pending_bound,
                "{}",
                ledger.pending_count()
            );
            assert_eq!(ledger.table_capacities(), capacities);
        }
    }
    assert_eq!(ledger.batch_number(), BATCH_COUNT + 1);
    assert_eq!(sink.reports.len() as u64, BATCH_COUNT);
    assert!(sink.reports.iter().all(|report| report.net_sum() == 0));
    assert_eq!(ledger.table_capacities(), capacities);
    // Everything is accounted for: every payment approved, declined or expired (or still
    // pending), and every posting in some batch's report.
    let pending = ledger.pending_count() as u64;
    assert_eq!(approved + declined + sink.expiries + pending, PAYMENT_COUNT);
    assert!(
        sink.expiries > PAYMENT_COUNT / 100,
        "{} expiries",
        sink.expiries
    );
    let posted: u64 = sink
        .reports
        .iter()
        .flat_map(|report| &report.rows)
        .map(|row| row.count)
        .sum();
    // Each posting is counted twice (debtor and creditor); the last batch's postings after
    // the final cutover are not reported.
    assert!(posted / 2 <= approved && posted / 2 + PAYMENTS_PER_BATCH >= approved);
    assert_eq!(late, 0);
}
