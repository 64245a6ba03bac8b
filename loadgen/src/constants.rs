//! The load generator's limits, named with their unit last and the reasoning behind each number.

/// Recent well-formed payments a duplicate-id fault may resend. A retry in the field comes
/// seconds after its first try; at the default 180,000 payments a second, 4,096 payments are the
/// last ~23 ms, so a resent payment is usually still pending at its bank (`DuplicateInFlight`) and
/// sometimes already finished (`Exists`). 4,096 × 112-byte events is 448 KiB.
pub const DUPLICATE_WINDOW_CAPACITY: usize = 4_096;

/// Of every this many duplicate-id faults, one changes the amount (the ledger must answer
/// `ExistsWithDifferentFields`); the rest resend the payment as it was.
pub const DUPLICATE_CHANGED_AMOUNT_EVERY: u64 = 10;

/// Account numbers, Luhn-valid and matching no BIN prefix, kept for unknown-account faults. The
/// fault is rare (0.1% by default), so a few hundred distinct numbers are plenty of variety.
pub const UNKNOWN_ACCOUNT_COUNT: usize = 256;

/// Tries to generate one account that routes to its bank before the bank is given up as
/// unreachable. A try fails only when the drawn digits fall under another bank's nested prefix;
/// even a BIN shadowed to 99% leaves 1,000 tries a failure chance of 0.99^1000 ≈ 4e-5, and a BIN
/// shadowed completely (every child prefix owned by other banks) fails every try.
pub const ACCOUNT_ATTEMPTS_MAX: u32 = 1_000;

/// Tries to find one unknown account: a random 16-digit number falls outside a BIN table of a few
/// thousand 6-digit prefixes (of 900,000 possible) almost always.
pub const UNKNOWN_ACCOUNT_ATTEMPTS_MAX: u32 = 100_000;

/// The lengths of generated card numbers: China's bank cards are 16 to 19 digits.
pub const CARD_LENGTH_MIN: usize = 16;

/// See [`CARD_LENGTH_MIN`].
pub const CARD_LENGTH_MAX: usize = 19;

/// A sequence bit no counter reaches: the top bit of the 79 a transaction id made by
/// [`TxnId::at`](clearway_core::event::TxnId::at) keeps, 2^78 payments, 10^10 years at 10^6 a
/// second. The originals of unknown-refund faults carry it, so they were never sent; every sent
/// id's sequence is taken modulo this bit, so it never carries it.
pub const NEVER_SENT_SEQUENCE_BIT: u128 = 1 << 78;

/// Nanoseconds in a second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// The earliest load epoch (`WorkloadConfig::epoch_unix_ns`): 1970-01-02 00:00 UTC, so that every
/// id, and every moment a horizon reaches back to, has a real date from 1970 on. There is no
/// latest: a u64 of nanoseconds ends in 2554, long before the ids' year 9999.
pub const EPOCH_UNIX_NS_MIN: u64 = 86_400 * NS_PER_S;

/// The longest horizon resends and refunds reach back over (`WorkloadConfig::horizon_s`): a day,
/// the switch's default retention. A longer one would only draw ids the switch must refuse as
/// beyond retention, and would thin the horizon samples below to a slot every few minutes.
pub const HORIZON_S_MAX: f64 = 86_400.0;

/// Buckets of send time in each horizon sample: the horizon is cut into 254 equal spans (two more
/// buckets hold the span being filled and the one the horizon's far edge falls in). At 600 s a
/// bucket is 2.4 s of sends: fine enough that a draw's age is uniform to within a few seconds.
pub const HORIZON_BUCKETS: usize = 256;

/// Payments kept per bucket for resends, a uniform reservoir of those sent in its span. Resends
/// do not use a payment up, so a small sample serves them: 256 × 64 = 16,384 payments, each
/// resent ~4 times over a 600 s horizon at the default 0.1% duplicates of 120,000/s (72,000
/// resends). At 128 bytes (an event and its sender) it is 2 MiB.
pub const HORIZON_RESEND_SLOTS: usize = 64;

/// Debits kept per bucket for refunds, a uniform reservoir of those that left the refund window
/// in its span. A refund uses its original up, so this bounds how many refunds reach past the
/// refund window: each bucket releases its debits evenly over the horizon, one refund each, so
/// 256 × 1,024 = 262,144 debits give ~440 refunds a second spread evenly over a 600 s horizon
/// (of 6,000 a second at 120,000/s with 5% refunds; the rest name debits in the refund window).
/// At 64 bytes a debit it is 16 MiB; a sample that carried every refund of a 600 s horizon would
/// need 3.6 M debits, 230 MB, per producer thread.
pub const HORIZON_REFUND_SLOTS: usize = 1_024;

/// Times a resend or refund draws a moment within the horizon before it settles for the recent
/// windows (the last payments for a resend, the refund window for a refund): a bucket may be
/// empty (no payments then) or, for refunds, have released all it may yet.
pub const HORIZON_DRAW_TRIES: u32 = 4;

/// How much after the bank timeout a late reply is sent: late enough that the hold has expired
/// (the ledger's clock has passed the deadline), so the ledger must answer `LateReply`.
pub const LATE_REPLY_MARGIN_NS: u64 = 1_000_000;

/// The largest account pool per bank: 2^20 accounts × 424 banks × 20 bytes would already be
/// 8.9 GB; a typo should not take the machine's memory.
pub const ACCOUNTS_PER_BANK_MAX: usize = 1 << 20;

/// The largest refund window: 2^24 entries of ~64 bytes is 1 GiB.
pub const REFUND_WINDOW_CAPACITY_MAX: usize = 1 << 24;

/// The highest rate a traffic shape may ask for, in payments a second, all institutions
/// together: 100,000,000 is hundreds of times what one node carries, so no real load is refused,
/// while a typo such as an extra zero or two is, before it sizes queues and windows for a rate no
/// run can reach.
pub const RATE_PER_S_MAX: f64 = 100_000_000.0;

/// The most offsets a recorded trace may hold: 100,000,000 offsets are 800 MB in memory, several
/// minutes of traffic at the highest rates a node carries; a larger file is more likely a mistake
/// than a load, and would take the machine's memory.
pub const TRACE_OFFSETS_MAX: usize = 100_000_000;

const _: () = assert!(CARD_LENGTH_MIN >= clearway_core::constants::CARD_NUMBER_LENGTH_MIN);
const _: () = assert!(CARD_LENGTH_MAX <= clearway_core::constants::ACCOUNT_LENGTH_MAX);
const _: () = assert!(clearway_core::constants::BIN_PREFIX_LENGTH_MAX < CARD_LENGTH_MIN);
const _: () = assert!(DUPLICATE_CHANGED_AMOUNT_EVERY > 0);
const _: () = assert!(HORIZON_BUCKETS >= 3);
const _: () = assert!(HORIZON_RESEND_SLOTS > 0 && HORIZON_RESEND_SLOTS <= u32::MAX as usize);
const _: () = assert!(HORIZON_REFUND_SLOTS > 0 && HORIZON_REFUND_SLOTS <= u32::MAX as usize);
// A u64 of nanoseconds ends before the ids' last year: 9999-12-31 is 253,402,300,799 s.
const _: () = assert!(u64::MAX / NS_PER_S < 253_402_300_799);
