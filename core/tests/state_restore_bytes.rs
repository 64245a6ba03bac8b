//! `restore_switch` against bytes it did not write: arbitrary bytes, valid state cut short, and
//! valid state with one bit flipped. It must never panic, and never allocate more than its
//! configuration and a small multiple of the input ask for; state cut short is always refused.
//! State it accepts must be state it would write (saving it gives back the same bytes), and the
//! stages restored from it must take further events without panicking.
//!
//! A counting global allocator records, per thread, the largest single allocation made while a
//! restore runs.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use clearway_core::event::Event;
use clearway_core::network::Network;
use clearway_core::stage::{restore_switch, LedgerConfig, SWITCH_STATE_VERSION};
use common::switch_events::{events, small_network, BANK_TIMEOUT_NS};
use common::switch_stages::{Recorder, Switch};
use proptest::prelude::*;

/// Passes every call to the system allocator, noting the size of each allocation on this
/// thread.
struct Counting;

thread_local! {
    /// The largest allocation or reallocation this thread asked for since the last reset.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: an allocation while the thread's locals are torn down is not counted.
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are this allocator's; noting a size allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `pointer` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.realloc(pointer, layout, new_size) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` with `layout`.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Small tables, so that the ledger's own allocations are small beside a runaway one.
fn config() -> LedgerConfig {
    LedgerConfig {
        bank_timeout_ns: BANK_TIMEOUT_NS,
        holds_capacity: 6,
        window_capacity: 60,
        window_span_ns: 5_000_000_000,
        memory: None,
    }
}

/// The largest allocation `Ledger::new` and `Route::new` make, whatever the input: the flat
/// per-participant arrays (4,096 entries of at most 48 bytes) and the tables of [`config`].
const FIXED_ALLOCATION_MAX: usize = 256 * 1024;

/// Bytes a restore may allocate at once per byte of input: the largest structure built from
/// input is route's BIN table, which reserves two 44-byte trie nodes per prefix, and a saved
/// prefix takes at least 12 bytes (7.3 bytes a byte).
const ALLOCATION_PER_INPUT_BYTE_MAX: usize = 8;

struct Fixture {
    network: Network,
    /// The state after `events[..cut]`, holds pending and a batch closed.
    bytes: Vec<u8>,
    /// The events after the cut.
    rest: Vec<Event>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let network = small_network();
        let input = events(11, 1_200, &network);
        let mut switch = Switch::new(&network, config());
        let mut sink = Recorder::default();
        let mut cut = None;
        for (index, event) in input.iter().enumerate() {
            switch.apply(index, event, &mut sink);
            if index > 600 && switch.ledger.pending_count() >= 3 && switch.ledger.batch_number() > 1
            {
                cut = Some(index + 1);
                break;
            }
        }
        let cut = cut.expect("seed 11 has holds pending after a cutover");
        assert!(switch.ledger.window_count() > 0);
        Fixture {
            bytes: switch.save(),
            rest: input[cut..cut + 300].to_vec(),
            network,
        }
    })
}

/// Restores `bytes`, checking the allocation bound and, if it is accepted, that it saves back
/// the same bytes and takes further events. Returns whether it was accepted.
fn restore_checked(bytes: &[u8]) -> bool {
    let fixture = fixture();
    LARGEST.with(|largest| largest.set(0));
    let restored = restore_switch(&fixture.network, config(), bytes);
    let largest = LARGEST.with(Cell::get);
    let bound = FIXED_ALLOCATION_MAX + ALLOCATION_PER_INPUT_BYTE_MAX * bytes.len();
    assert!(
        largest <= bound,
        "a restore of {} bytes allocated {largest} bytes at once (bound {bound})",
        bytes.len()
    );
    let Ok((route, ledger)) = restored else {
        return false;
    };
    let mut switch = Switch {
        authorize: clearway_core::stage::Authorize::new(
            &fixture.network,
            clearway_core::event::MacMode::Hmac,
        ),
        route,
        ledger,
    };
    assert_eq!(
        switch.save(),
        bytes,
        "accepted state is state a save writes"
    );
    let mut sink = Recorder::default();
    for (index, event) in fixture.rest.iter().enumerate() {
        switch.apply(index, event, &mut sink);
    }
    assert_eq!(switch.ledger.positions_sum(), 0);
    true
}

#[test]
fn the_fixture_restores_and_its_allocation_bound_can_fail() {
    let fixture = fixture();
    assert!(restore_checked(&fixture.bytes));
    // The bound is not vacuous: the ledger's own tables come close to it.
    LARGEST.with(|largest| largest.set(0));
    restore_switch(&fixture.network, config(), &fixture.bytes).unwrap();
    let largest = LARGEST.with(Cell::get);
    assert!(largest > FIXED_ALLOCATION_MAX / 4, "largest {largest}");
    let vector: Vec<u8> = Vec::with_capacity(FIXED_ALLOCATION_MAX * 2);
    assert!(LARGEST.with(Cell::get) >= FIXED_ALLOCATION_MAX * 2);
    drop(vector);
}

proptest! {
    // Failures are kept beside this file (the default looks for a `lib.rs`, which an
    // integration test has none of).
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_048)) {
        restore_checked(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..2_048),
        keep in 0usize..2_000,
    ) {
        // The version, the fingerprint and some of the real state, then noise: reaches route's
        // and the ledger's checks rather than stopping at the header.
        let fixture = fixture();
        prop_assert_eq!(fixture.bytes[0], SWITCH_STATE_VERSION);
        let keep = (1 + 32 + keep).min(fixture.bytes.len());
        let mut bytes = fixture.bytes[..keep].to_vec();
        bytes.extend_from_slice(&body);
        restore_checked(&bytes);
    }

    #[test]
    fn valid_state_cut_short_is_refused(length in 0usize..100_000) {
        let fixture = fixture();
        let length = length % fixture.bytes.len();
        prop_assert!(!restore_checked(&fixture.bytes[..length]), "cut at {}", length);
    }

    #[test]
    fn valid_state_with_one_bit_flipped_never_panics(bit in 0usize..1_000_000) {
        let fixture = fixture();
        let bit = bit % (fixture.bytes.len() * 8);
        let mut bytes = fixture.bytes.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        restore_checked(&bytes);
    }
}

#[test]
fn every_single_bit_flip_of_the_fixture_is_handled() {
    // Exhaustive, beside the sampled property: each of the fixture's bits flipped once.
    let fixture = fixture();
    let mut accepted = 0;
    for bit in 0..fixture.bytes.len() * 8 {
        let mut bytes = fixture.bytes.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        if restore_checked(&bytes) {
            accepted += 1;
        }
    }
    // Some flips are undetectable by design (a fingerprint, a send time, a status), most are
    // refused; the count says the checks do refuse.
    let total = fixture.bytes.len() * 8;
    assert!(accepted < total, "{accepted} of {total} flips accepted");
    println!("{accepted} of {total} single-bit flips accepted");
}
