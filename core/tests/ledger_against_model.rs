//! The ledger against the reference model, seed by seed: the model runs the whole switch
//! (authorize, route, ledger) over generated events; the real [`Ledger`], with its window, its
//! prefetch and its store ([`Remembering`]), is fed each event with the results the model's
//! authorize and route produced, and must give the same outcome,
//! decline, original outcome, institution and send time for every event, the same expiries, the
//! same batch reports, positions and state hash.
//!
//! `CLEARWAY_SEEDS=n` runs `n` seeds instead of 64; `CLEARWAY_SEED=s` runs seed `s` alone. A
//! failure prints the seed and the first differing event.

mod common;

use std::collections::BTreeSet;

use clearway_core::event::{Decline, Event, MacMode, Outcome, Results};
use clearway_core::reference_model::ReferenceModel;
use clearway_core::stage::{BatchReport, Expiry, Ledger, LedgerSink, Remembering};
use clearway_core::store::PaymentStore;
use common::switch_events::{
    events, memory_ledger_config, small_network, store_folder, BANKS, INSTITUTIONS,
};

const EVENTS_PER_SEED: usize = 3_000;
const SEEDS_DEFAULT: u64 = 64;

#[derive(Default)]
struct Collect {
    expiries: Vec<Expiry>,
    reports: Vec<BatchReport>,
}

impl LedgerSink for Collect {
    fn expired(&mut self, expiry: &Expiry) {
        self.expiries.push(*expiry);
    }
    fn batch_closed(&mut self, report: BatchReport) {
        self.reports.push(report);
    }
}

/// The results as they reach the ledger: authorize's and route's part of the model's answer.
fn before_ledger(results: &Results) -> Results {
    let ledger_declines = Decline::ExistsWithDifferentFields.index();
    Results {
        decline: results
            .decline
            .filter(|decline| decline.index() < ledger_declines),
        bank: results.bank,
        link: results.link,
        ..Results::default()
    }
}

/// What one seed exercised.
#[derive(Default)]
struct Seen {
    declines: BTreeSet<Decline>,
    outcomes: BTreeSet<Outcome>,
    originals: BTreeSet<Outcome>,
    expiries: usize,
    /// Payments the ledger had only from the store.
    store_lookups: u64,
}

fn run_seed(seed: u64, seen: &mut Seen) {
    let network = small_network();
    let config = memory_ledger_config();
    let mut model = ReferenceModel::new(&network, MacMode::Hmac, config);
    let folder = store_folder(&format!("ledger-against-model-{seed}"));
    let store = PaymentStore::temporary(&folder).expect("a store in a fresh folder");
    let mut remembering = Remembering::new(
        Ledger::new(&network, config),
        &store,
        config.memory.unwrap(),
        Collect::default(),
    );
    let events = events(seed, EVENTS_PER_SEED, &network);
    let context = |event: &Event| format!("seed {seed}, sequence {}: {event:?}", event.sequence);
    for event in &events {
        let (expected, expected_expiries) = model.apply(event);
        let mut results = before_ledger(&expected);
        remembering.sink().expiries.clear();
        remembering
            .apply(event, &mut results)
            .unwrap_or_else(|fault| panic!("{fault} at {}", context(event)));
        assert_eq!(results, expected, "results differ at {}", context(event));
        assert_eq!(
            remembering.sink().expiries,
            expected_expiries,
            "expiries differ at {}",
            context(event)
        );
        let ledger = remembering.ledger();
        assert_eq!(
            ledger.positions_sum(),
            0,
            "Σ positions at {}",
            context(event)
        );
        assert_eq!(
            model.positions_sum(),
            0,
            "model Σ positions at {}",
            context(event)
        );
        if event.sequence % 256 == 0 || event.kind == clearway_core::event::Kind::Cutover {
            assert_eq!(
                ledger.state_hash(),
                model.state_hash(),
                "state hash differs after {}",
                context(event)
            );
        }
        if let Some(decline) = results.decline {
            seen.declines.insert(decline);
        }
        seen.outcomes.insert(results.outcome);
        seen.originals.insert(results.original);
        seen.expiries += expected_expiries.len();
    }
    seen.store_lookups += remembering.prefetch().counters().found;
    let ledger = remembering.ledger();
    assert_eq!(
        ledger.state_hash(),
        model.state_hash(),
        "final state hash, seed {seed}"
    );
    assert_eq!(ledger.batch_number(), model.batch_number(), "seed {seed}");
    assert_eq!(ledger.pending_count(), model.pending_count(), "seed {seed}");
    for participant in INSTITUTIONS.iter().chain(BANKS.iter()) {
        assert_eq!(
            ledger.position(*participant),
            model.position(*participant),
            "position of {participant}, seed {seed}"
        );
    }
    let reports = std::mem::take(&mut remembering.sink().reports);
    assert_eq!(
        reports,
        model.batch_reports(),
        "batch reports differ, seed {seed}"
    );
    for report in &reports {
        assert_eq!(report.net_sum(), 0, "seed {seed}, batch {}", report.batch);
    }
}

#[test]
fn ledger_matches_the_reference_model_seed_by_seed() {
    let seeds: Vec<u64> = match std::env::var("CLEARWAY_SEED") {
        Ok(seed) => vec![seed.parse().expect("CLEARWAY_SEED is a number")],
        Err(_) => {
            let count = std::env::var("CLEARWAY_SEEDS")
                .map(|count| count.parse().expect("CLEARWAY_SEEDS is a number"))
                .unwrap_or(SEEDS_DEFAULT);
            (0..count).collect()
        }
    };
    let mut seen = Seen::default();
    for &seed in &seeds {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_seed(seed, &mut seen)));
        if let Err(panic) = outcome {
            eprintln!("ledger_against_model failed: rerun with CLEARWAY_SEED={seed}");
            std::panic::resume_unwind(panic);
        }
    }
    if seeds.len() as u64 >= SEEDS_DEFAULT {
        // The generator reaches every rule: each decline but AmountOverflow (which the ledger's
        // i128 arithmetic never needs) and every outcome.
        let missing: Vec<_> = Decline::ALL
            .iter()
            .filter(|decline| **decline != Decline::AmountOverflow)
            .filter(|decline| !seen.declines.contains(decline))
            .collect();
        assert!(missing.is_empty(), "declines never produced: {missing:?}");
        for outcome in [
            Outcome::Forwarded,
            Outcome::Approved,
            Outcome::Declined,
            Outcome::Rejected,
            Outcome::Exists,
            Outcome::LateReply,
            Outcome::Applied,
            Outcome::BatchClosed,
        ] {
            assert!(seen.outcomes.contains(&outcome), "{outcome} never produced");
        }
        for original in [Outcome::Approved, Outcome::Declined, Outcome::Expired] {
            assert!(
                seen.originals.contains(&original),
                "Exists of {original} never produced"
            );
        }
        assert!(seen.expiries > 0, "no hold ever expired");
        assert!(
            seen.store_lookups > 0,
            "no payment ever came back from the store"
        );
    }
}
