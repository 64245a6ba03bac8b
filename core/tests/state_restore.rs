//! Snapshot state: the switch saved between two events and restored into fresh stages carries on
//! exactly as the original.
//!
//! ```text
//! events ─► authorize ─► route ─► ledger ──────────────► results, sink calls, state hash
//!                           │ save at a cut          ═ equal
//!                           └► restore ─► route' ─► ledger' ─► results, sink calls, state hash
//! ```
//!
//! For each seed, generated events (every kind, control events, route changes, cutovers,
//! replies, expiries) run through authorize, route and the ledger; at several cuts — a random
//! one, right after a cutover, with holds pending, right before a `LedgerFull` — the state is
//! saved, restored into fresh stages, and the remaining events fed to the restored stages: every
//! event's results, every sink call (expiries and batch reports, in order), the final state hash
//! and the final saved bytes must equal the original's, and saving the restored stages at once
//! must give back the bytes they were restored from. A failure prints the seed;
//! `CLEARWAY_SEEDS=n` runs `n` seeds instead of 64.

mod common;

use std::time::{Duration, Instant};

use clearway_core::event::{
    Account, Decline, Event, Kind, Outcome, ParticipantId, Results, TxnId, REPLY_APPROVE,
};
use clearway_core::network::Network;
use clearway_core::stage::{
    restore_switch, save_switch, Ledger, LedgerConfig, Route, StateReader, StateWriter,
    SWITCH_STATE_VERSION,
};
use common::switch_events::{
    events, small_ledger_config, small_network, BANKS, BANK_TIMEOUT_NS, INSTITUTIONS,
};
use common::switch_stages::{Call, Recorder, Switch};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const SEEDS_DEFAULT: u64 = 64;
const EVENTS_PER_SEED: usize = 2_000;

/// Smaller than [`small_ledger_config`]: the hold table and the window fill every batch or so.
fn tight_ledger_config() -> LedgerConfig {
    LedgerConfig {
        bank_timeout_ns: BANK_TIMEOUT_NS,
        holds_capacity: 6,
        window_capacity: 60,
        window_span_ns: 5_000_000_000,
        memory: None,
    }
}

/// Where a cut was taken, for the failure message and the coverage count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// Anywhere.
    Random,
    /// Right after a cutover: holds carried into the new generation.
    AfterCutover,
    /// With at least two holds pending.
    HoldsPending,
    /// Right before a payment the ledger refuses as `LedgerFull`: the tables are full.
    BeforeLedgerFull,
    /// Before the first event or after the last.
    Edge,
}

/// What the original run produced, event by event.
struct Run {
    results: Vec<Results>,
    calls: Vec<(usize, Call)>,
    /// After each event: holds pending.
    pending_count: Vec<usize>,
    /// The saved state at each cut, taken before the event at that index.
    saved: Vec<(usize, Cut, Vec<u8>)>,
    final_bytes: Vec<u8>,
}

/// Runs `input` through fresh stages, saving before each event in `cuts`.
fn run(network: &Network, config: LedgerConfig, input: &[Event], cuts: &[(usize, Cut)]) -> Run {
    let mut switch = Switch::new(network, config);
    let mut sink = Recorder::default();
    let mut run = Run {
        results: Vec::with_capacity(input.len()),
        calls: vec![],
        pending_count: Vec::with_capacity(input.len()),
        saved: vec![],
        final_bytes: vec![],
    };
    for (index, event) in input.iter().enumerate() {
        for &(cut, kind) in cuts.iter().filter(|(cut, _)| *cut == index) {
            run.saved.push((cut, kind, switch.save()));
        }
        run.results.push(switch.apply(index, event, &mut sink));
        run.pending_count.push(switch.ledger.pending_count());
    }
    for &(cut, kind) in cuts.iter().filter(|(cut, _)| *cut == input.len()) {
        run.saved.push((cut, kind, switch.save()));
    }
    run.calls = sink.calls;
    run.final_bytes = switch.save();
    assert_eq!(switch.ledger.positions_sum(), 0);
    run
}

/// What the seeds exercised, to check the cuts reach what they are meant to.
#[derive(Default)]
struct Seen {
    cuts: Vec<Cut>,
    cuts_with_holds: usize,
    cuts_with_route_changed: usize,
    cuts_with_previous_generation: usize,
    expiries_after_cut: usize,
    reports_after_cut: usize,
    ledger_full_after_cut: usize,
}

/// Fails with where two saved states first differ, rather than printing both.
fn assert_same_bytes(actual: &[u8], expected: &[u8], context: &str) {
    if actual != expected {
        let offset = actual
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "{context}: {} bytes where {} were expected, first differing at offset {offset}",
            actual.len(),
            expected.len()
        );
    }
}

/// Route's saved bytes alone.
fn route_bytes(route: &Route) -> Vec<u8> {
    let mut out = StateWriter::new();
    route.save(&mut out);
    out.into_bytes()
}

/// The cuts for one seed: chosen from a first run's per-event facts.
fn choose_cuts(seed: u64, input: &[Event], first: &Run) -> Vec<(usize, Cut)> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5EED_CAFE);
    let count = input.len();
    let mut cuts = vec![(rng.gen_range(0..=count), Cut::Random)];
    let cutovers: Vec<usize> = (0..count)
        .filter(|&index| input[index].kind == Kind::Cutover)
        .collect();
    if !cutovers.is_empty() {
        cuts.push((
            cutovers[rng.gen_range(0..cutovers.len())] + 1,
            Cut::AfterCutover,
        ));
    }
    let pending: Vec<usize> = (0..count)
        .filter(|&index| first.pending_count[index] >= 2)
        .collect();
    if !pending.is_empty() {
        cuts.push((
            pending[rng.gen_range(0..pending.len())] + 1,
            Cut::HoldsPending,
        ));
    }
    let full: Vec<usize> = (0..count)
        .filter(|&index| first.results[index].decline == Some(Decline::LedgerFull))
        .collect();
    if !full.is_empty() {
        cuts.push((full[rng.gen_range(0..full.len())], Cut::BeforeLedgerFull));
    }
    if seed % 16 == 0 {
        cuts.push((0, Cut::Edge));
        cuts.push((count, Cut::Edge));
    }
    cuts
}

fn check_seed(seed: u64, config: LedgerConfig, seen: &mut Seen) {
    let network = small_network();
    let input = events(seed, EVENTS_PER_SEED, &network);
    let first = run(&network, config, &input, &[]);
    let cuts = choose_cuts(seed, &input, &first);
    let original = run(&network, config, &input, &cuts);
    assert_eq!(
        original.results, first.results,
        "seed {seed}: deterministic"
    );
    assert_same_bytes(
        &original.final_bytes,
        &first.final_bytes,
        &format!("seed {seed}: a second run"),
    );
    let fresh_route = route_bytes(&Route::new(&network));
    for (cut, kind, bytes) in &original.saved {
        let context = format!("seed {seed}, {kind:?} cut before event {cut}");
        let mut restored = Switch::restore(&network, config, bytes)
            .unwrap_or_else(|error| panic!("{context}: restore refused: {error}"));
        assert_same_bytes(
            &restored.save(),
            bytes,
            &format!("{context}: save → restore → save"),
        );
        seen.cuts.push(*kind);
        if restored.ledger.pending_count() > 0 {
            seen.cuts_with_holds += 1;
        }
        if route_bytes(&restored.route) != fresh_route {
            seen.cuts_with_route_changed += 1;
        }
        // Right after a cutover nothing has finished in the open batch yet: every finished
        // payment in the window is in the previous generation.
        if *kind == Cut::AfterCutover && restored.ledger.window_count() > 0 {
            seen.cuts_with_previous_generation += 1;
        }
        let mut sink = Recorder::default();
        for (index, event) in input.iter().enumerate().skip(*cut) {
            let results = restored.apply(index, event, &mut sink);
            assert_eq!(
                results, original.results[index],
                "{context}: results differ at event {index}: {event:?}"
            );
            if results.decline == Some(Decline::LedgerFull) {
                seen.ledger_full_after_cut += 1;
            }
        }
        let expected_calls: Vec<&(usize, Call)> = original
            .calls
            .iter()
            .filter(|(index, _)| index >= cut)
            .collect();
        let calls: Vec<&(usize, Call)> = sink.calls.iter().collect();
        assert_eq!(calls, expected_calls, "{context}: sink calls differ");
        for (_, call) in &sink.calls {
            match call {
                Call::Expired(_) => seen.expiries_after_cut += 1,
                Call::BatchClosed(_) => seen.reports_after_cut += 1,
            }
        }
        let (route, ledger) = restore_switch(&network, config, &original.final_bytes)
            .expect("the final state restores");
        assert_eq!(
            restored.ledger.state_hash(),
            ledger.state_hash(),
            "{context}: final state hash"
        );
        assert_same_bytes(
            &save_switch(&route, &ledger),
            &original.final_bytes,
            &format!("{context}: the final state restored and saved again"),
        );
        assert_same_bytes(
            &restored.save(),
            &original.final_bytes,
            &format!("{context}: the final state"),
        );
    }
}

fn seeds() -> u64 {
    std::env::var("CLEARWAY_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(SEEDS_DEFAULT)
}

/// Runs `check` for each seed, printing the seed that failed.
fn for_each_seed(seeds: std::ops::Range<u64>, mut check: impl FnMut(u64)) {
    for seed in seeds {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(seed)));
        if let Err(panic) = outcome {
            eprintln!("state_restore failed at seed {seed}: rerun with CLEARWAY_SEEDS covering it");
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn a_restored_switch_carries_on_exactly_as_the_original() {
    let mut seen = Seen::default();
    let count = seeds();
    for_each_seed(0..count, |seed| {
        check_seed(seed, small_ledger_config(), &mut seen)
    });
    if count >= SEEDS_DEFAULT {
        for kind in [Cut::Random, Cut::AfterCutover, Cut::HoldsPending, Cut::Edge] {
            assert!(seen.cuts.contains(&kind), "no {kind:?} cut was taken");
        }
        assert!(
            seen.cuts_with_holds >= count as usize,
            "cuts with holds pending"
        );
        assert!(
            seen.cuts_with_route_changed > 0,
            "no cut after a route change"
        );
        assert!(
            seen.cuts_with_previous_generation > 0,
            "no cut with finished payments in the previous generation"
        );
        assert!(seen.expiries_after_cut > 0, "no expiry after a cut");
        assert!(seen.reports_after_cut > 0, "no batch closed after a cut");
    }
}

#[test]
fn a_restored_switch_with_full_tables_refuses_as_the_original() {
    let mut seen = Seen::default();
    let count = (seeds() / 2).max(1);
    for_each_seed(1_000..1_000 + count, |seed| {
        check_seed(seed, tight_ledger_config(), &mut seen)
    });
    assert!(
        seen.cuts.contains(&Cut::BeforeLedgerFull),
        "no cut right before a LedgerFull"
    );
    assert!(
        seen.ledger_full_after_cut > 0,
        "the restored ledger never filled"
    );
}

/// A switch run over a few hundred events, and its saved state.
fn saved_switch(config: LedgerConfig) -> (Network, Vec<u8>) {
    let network = small_network();
    let mut switch = Switch::new(&network, config);
    let mut sink = Recorder::default();
    for (index, event) in events(5, 700, &network).iter().enumerate() {
        switch.apply(index, event, &mut sink);
    }
    assert!(switch.ledger.batch_number() > 1 && switch.ledger.pending_count() > 0);
    let bytes = switch.save();
    (network, bytes)
}

#[test]
fn state_saved_with_another_network_is_refused() {
    let config = small_ledger_config();
    let (network, bytes) = saved_switch(config);
    assert!(restore_switch(&network, config, &bytes).is_ok());
    type Change = fn(&mut Network);
    #[rustfmt::skip]
    let changes: &[(&str, Change)] = &[
        ("a cap", |n| n.participants[0].cap_fen += 1),
        ("a participant fewer", |n| { n.participants.pop(); }),
        ("a BIN prefix", |n| n.bins[0].prefix.push('9')),
        ("the operator secret", |n| n.operator_secret.push(b'!')),
        ("a link's name", |n| n.participants[4].links[0].name.push('!')),
    ];
    for (description, change) in changes {
        let mut other = network.clone();
        change(&mut other);
        let error = restore_switch(&other, config, &bytes)
            .err()
            .unwrap_or_else(|| panic!("{description}: restored"));
        assert!(
            error.why.contains("another network"),
            "{description}: {error}"
        );
    }
    // Past the fingerprint, route and the ledger check the network themselves.
    let mut fewer = network.clone();
    fewer
        .participants
        .retain(|participant| participant.id != BANKS[4]);
    fewer.bins.retain(|bin| bin.bank != BANKS[4]);
    let mut input = StateReader::new(&bytes[1 + 32..]);
    let error = Route::restore(&fewer, &mut input).expect_err("refused");
    assert!(error.why.contains("another network"), "{error}");
}

#[test]
fn state_saved_with_another_configuration_or_version_is_refused() {
    let config = small_ledger_config();
    let (network, bytes) = saved_switch(config);
    let others = [
        LedgerConfig {
            bank_timeout_ns: BANK_TIMEOUT_NS + 1,
            ..config
        },
        LedgerConfig {
            holds_capacity: config.holds_capacity * 2,
            ..config
        },
        LedgerConfig {
            window_capacity: config.window_capacity - 1,
            ..config
        },
    ];
    for other in others {
        let error = restore_switch(&network, other, &bytes)
            .err()
            .unwrap_or_else(|| panic!("{other:?}: restored"));
        assert!(error.why.contains("configured with"), "{error}");
    }
    let mut newer = bytes.clone();
    newer[0] = SWITCH_STATE_VERSION + 1;
    let error = restore_switch(&network, config, &newer)
        .err()
        .expect("refused");
    assert!(error.what.contains("version"), "{error}");
    let mut longer = bytes.clone();
    longer.push(0);
    let error = restore_switch(&network, config, &longer)
        .err()
        .expect("refused");
    assert!(error.why.contains("left over"), "{error}");
}

/// A network whose participants can owe without limit, for a ledger of hundreds of thousands of
/// payments.
fn unlimited_network() -> Network {
    let mut network = small_network();
    for participant in &mut network.participants {
        participant.cap_fen = u64::MAX;
    }
    network
}

/// Hundreds of thousands of payments, placed straight into the ledger (route's answer given):
/// `finished` approved in the batch before, `finished` more in the open batch of which `pending`
/// still wait for their bank.
fn large_ledger(config: LedgerConfig, finished: usize, pending: usize) -> Ledger {
    let network = unlimited_network();
    let mut ledger = Ledger::new(&network, config);
    let account = Account::new(b"6222020000000000").unwrap();
    let mut sequence = 0u128;
    let mut batch = |ledger: &mut Ledger, count: usize, replied: usize| {
        for index in 0..count {
            sequence += 1;
            let institution = INSTITUTIONS[index % INSTITUTIONS.len()];
            let bank = BANKS[index % BANKS.len()];
            let kind = if index % 3 == 0 {
                Kind::PayoutCredit
            } else {
                Kind::AgreementDebit
            };
            let txn_id = TxnId::new(20261130, sequence);
            let payment = Event::payment(kind, txn_id, institution, account, 1_000, 1);
            let mut results = Results {
                bank,
                ..Results::default()
            };
            ledger.apply(&payment, &mut results, &mut ());
            assert_eq!(results.outcome, Outcome::Forwarded, "{results:?}");
            if index < replied {
                let reply = Event::bank_reply(bank, txn_id, true, 0, 1);
                let mut results = Results {
                    bank,
                    ..Results::default()
                };
                assert_eq!(reply.code, REPLY_APPROVE);
                ledger.apply(&reply, &mut results, &mut ());
                assert_eq!(results.outcome, Outcome::Approved);
            }
        }
    };
    batch(&mut ledger, finished, finished);
    let mut cutover = Event::operator(Kind::Cutover, ParticipantId::OPERATOR, 0, 1);
    cutover.event_ns = 10;
    ledger.apply(&cutover, &mut Results::default(), &mut ());
    batch(&mut ledger, finished, finished - pending);
    ledger
}

/// The brief's figure: a window generation of 360,000 records saves in tens of milliseconds, not
/// seconds, because a save reads the live records only (not the million slots around them).
/// The bounds are loose (a second to save, five to restore, which pages in two fresh 40 MiB
/// tables) so that a busy two-core machine does not fail it; the times are printed
/// (`--nocapture`).
#[test]
fn a_large_ledger_saves_and_restores_in_well_under_a_second() {
    const FINISHED: usize = 360_000;
    const PENDING: usize = 40_000;
    let config = LedgerConfig {
        bank_timeout_ns: u64::MAX / 2,
        holds_capacity: 1 << 16,
        window_capacity: 1 << 20,
        // The window turns at the cutover (event time 10) and at no other event.
        window_span_ns: 10,
        ..LedgerConfig::default()
    };
    let ledger = large_ledger(config, FINISHED, PENDING);
    assert_eq!(ledger.pending_count(), PENDING);
    assert_eq!(ledger.window_count(), 2 * FINISHED - PENDING);
    // The fastest of three, so that a neighbour's burst on the machine does not count.
    let mut bytes = vec![];
    let mut save_time = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let mut out = StateWriter::new();
        ledger.save(&mut out);
        save_time = save_time.min(started.elapsed());
        bytes = out.into_bytes();
    }
    let network = unlimited_network();
    let mut restore_time = Duration::MAX;
    let mut restored = None;
    for _ in 0..2 {
        drop(restored.take());
        let started = Instant::now();
        let mut input = StateReader::new(&bytes);
        restored = Some(Ledger::restore(&network, config, &mut input).expect("restores"));
        input.finish().expect("all read");
        restore_time = restore_time.min(started.elapsed());
    }
    let restored = restored.expect("restored");
    println!(
        "large ledger: {} records, {} holds, {} MB saved in {save_time:?}, restored in \
         {restore_time:?}",
        2 * FINISHED,
        PENDING,
        bytes.len() / 1_000_000
    );
    assert_eq!(restored.summary(), ledger.summary());
    let mut again = StateWriter::new();
    restored.save(&mut again);
    assert_same_bytes(&again.into_bytes(), &bytes, "the restored large ledger");
    assert!(save_time.as_millis() < 1_000, "save took {save_time:?}");
    assert!(
        restore_time.as_millis() < 5_000,
        "restore took {restore_time:?}"
    );
}
