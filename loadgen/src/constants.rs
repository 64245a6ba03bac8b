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

/// A sequence bit no counter reaches: 2^95 payments would take 10^15 years at 10^6 a second. The
/// originals of unknown-refund faults carry it, so they were never sent.
pub const NEVER_SENT_SEQUENCE_BIT: u128 = 1 << 95;

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
