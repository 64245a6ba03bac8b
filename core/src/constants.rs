//! Every limit in the runtime, named with its unit last and the reasoning behind its number.
//!
//! Relationships between limits are checked at compile time at the bottom of this file, so a
//! change that breaks one fails the build rather than a run.

/// Slots in the ring when a topology does not say. At most 4 stages × [`BATCH_SIZE_MAX_DEFAULT`]
/// (256) = 1,024 events are being worked on at once when every stage is busy with a full batch;
/// four times that leaves room for the producer to run ahead by as much again while a stage
/// stalls (a page fault, a preemption on a shared core), so a brief stall does not reach back to
/// the producer. With 128-byte events the ring is 512 KiB: it fits the L2 of the machines we run
/// on, so a slot is still warm when the next stage reads it.
pub const RING_CAPACITY_DEFAULT: usize = 4_096;

/// The largest ring a topology may ask for: 2^24 slots, 2 GiB of 128-byte events. Beyond this a
/// typo in a configuration file would take the machine's memory; no stage chain needs more than a
/// few batches in flight per stage.
pub const RING_CAPACITY_MAX: usize = 1 << 24;

/// Events a consumer takes from its barrier in one batch when a topology does not say. A stage
/// publishes its cursor once per batch, and the next core pays one cache-line transfer to see it:
/// about 57 ns on the 2-core dev box and 170–200 ns on the 16-core box (docs/ARCHITECTURE.md,
/// "What a handoff costs"). Over 256 events that is under 1 ns an event; smaller batches would
/// let the handoff dominate, and larger ones would hold downstream stages back for longer before
/// they can start.
pub const BATCH_SIZE_MAX_DEFAULT: usize = 256;

/// Pause hints (`spin_loop`, the x86 `pause`) between two reads of a cursor in a `busy-spin`
/// wait. Every read of a cursor its owner keeps writing pulls the line over and makes the owner's
/// next write wait for it back; pausing between reads lets the owner publish several times per
/// transfer, so the waiter takes bigger batches. Sixteen pauses are about 0.1 µs on AMD Zen and
/// up to ~0.8 µs on recent Intel (~140 cycles a `pause`): latency a payment never notices, bought
/// for throughput. Measured with `cargo bench -p clearway-benches --bench ratios -- spsc 31` on
/// the 2-core dev box, Clearway's one-publish-per-message throughput over crossbeam's ArrayQueue
/// (median of within-round ratios): no pauses 2.1×; 4 pauses 1.8–2.0×; 8 pauses 2.1–3.1×;
/// 16 pauses 2.9–3.7×; 32 pauses 3.0×. Re-measure on the 16-core box before changing it.
pub const BUSY_SPIN_PAUSE_COUNT: u32 = 16;

/// Polls of an upstream cursor before `spin-then-yield` or `spin-then-park` start yielding the
/// core. A poll of a cursor on a line another core is writing costs a few ns, a handoff about
/// 60–200 ns; 256 polls cover a handoff several times over (under ~1 µs) before giving the core
/// away, which matters when threads outnumber cores and the thread we wait for needs this core.
pub const WAIT_SPIN_COUNT: u32 = 256;

/// Yields (`sched_yield`, ~1 µs each) after spinning, before `spin-then-park` parks the thread.
/// 64 yields ≈ 64 µs of staying responsive before paying a futex wake-up (tens of µs) instead.
pub const WAIT_YIELD_COUNT: u32 = 64;

/// Stages in one topology. The switch needs five (journal, authorize, route, ledger, egress);
/// 32 leaves room for experiments while keeping the validation's pairwise checks trivial.
pub const STAGE_COUNT_MAX: usize = 32;

/// Workers in one worker group. More workers than cores only adds contention; 256 is above the
/// core count of any machine this runs on.
pub const WORKERS_PER_STAGE_MAX: usize = 256;

/// Buckets of the batch-size histogram: bucket k counts batches of 2^k ..= 2^(k+1) − 1 events,
/// so 25 buckets cover every batch up to [`RING_CAPACITY_MAX`].
pub const BATCH_SIZE_BUCKET_COUNT: usize = 25;

/// The length of a stage's name, which also names its threads and appears in every report: 48
/// bytes, room for a stage named by the switch's six steps joined with `-`
/// (`authorize-route-prefetch-ledger-store-egress`, 44 bytes). (The operating system keeps only
/// the first 15 bytes of a thread's name; the reports keep the whole.)
pub const STAGE_NAME_LENGTH_MAX: usize = 48;

/// Core ids a thread may be pinned to are below this: Linux's `cpu_set_t` holds 1,024 bits
/// (`CPU_SETSIZE`), and `libc` panics rather than fails when asked to set a bit beyond it.
pub const CORE_ID_LIMIT: usize = 1_024;

// ---- The switch: events, participants, routing, the ledger ----

/// The longest account number an event carries: Chinese bank card numbers are 16 to 19 digits
/// (ISO/IEC 7812 allows up to 19), so 19 bytes hold every one.
pub const ACCOUNT_LENGTH_MAX: usize = 19;

/// The shortest account number authorize accepts: bank account (not card) numbers run from 12
/// digits; shorter is a typing error.
pub const ACCOUNT_LENGTH_MIN: usize = 12;

/// Account numbers this long or longer are card numbers and must pass the Luhn check.
pub const CARD_NUMBER_LENGTH_MIN: usize = 16;

/// The bytes of an event's MAC: HMAC-SHA256 truncated to 128 bits (RFC 4868), which keeps
/// forgery at 2^-128 per try while the event stays within its 112-byte budget.
pub const MAC_LENGTH: usize = 16;

/// The highest participant id. The real network had 115 institutions and 424 banks at the end of
/// 2018; 4,095 ids leave room for eight times that while per-participant tables stay flat arrays
/// of 4,096 entries (a few pages each).
pub const PARTICIPANT_ID_MAX: u16 = 4_095;

/// The shortest BIN prefix: six digits, the issuer identification number of ISO/IEC 7812.
pub const BIN_PREFIX_LENGTH_MIN: usize = 6;

/// The longest BIN prefix: ten digits, where banks split one BIN among products and regions.
pub const BIN_PREFIX_LENGTH_MAX: usize = 10;

/// Links one bank may have. Banks connect over a few lines (two or three, one per data centre);
/// eight covers every real case and keeps the index within a link status event's 7 bits.
pub const LINKS_PER_BANK_MAX: usize = 8;

const _: () = assert!(RING_CAPACITY_DEFAULT.is_power_of_two());
const _: () = assert!(RING_CAPACITY_MAX.is_power_of_two());
const _: () = assert!(RING_CAPACITY_DEFAULT <= RING_CAPACITY_MAX);
const _: () = assert!(BATCH_SIZE_MAX_DEFAULT <= RING_CAPACITY_DEFAULT);
const _: () = assert!(1 << (BATCH_SIZE_BUCKET_COUNT - 1) == RING_CAPACITY_MAX);
const _: () = assert!(WAIT_SPIN_COUNT > 0);
const _: () = assert!(ACCOUNT_LENGTH_MIN <= CARD_NUMBER_LENGTH_MIN);
const _: () = assert!(CARD_NUMBER_LENGTH_MIN <= ACCOUNT_LENGTH_MAX);
const _: () = assert!(BIN_PREFIX_LENGTH_MAX <= ACCOUNT_LENGTH_MIN);
const _: () = assert!(LINKS_PER_BANK_MAX <= 0x7f);

// ---- Network configuration ----

/// Institutions in the generated network: NetsUnion connected 115 payment institutions by the
/// end of 2018. They take ids `1..=115`, and an institution's rank in traffic is its id (the load
/// generator's Zipf skew runs over institutions in id order, so ids 1 and 2 carry most of it).
pub const INSTITUTION_COUNT_DEFAULT: usize = 115;

/// Banks in the generated network: 424 connected by the end of 2018. They take ids
/// `BANK_ID_BASE + 1 ..= BANK_ID_BASE + 424`, larger banks (more BIN prefixes) first.
pub const BANK_COUNT_DEFAULT: usize = 424;

/// Generated bank ids start just above this: institutions are 1..=115 and banks 1001..=1424, so a
/// reader of a report tells them apart by the number of digits, and institutions have room to
/// grow eightfold without meeting the banks.
pub const BANK_ID_BASE: u16 = 1_000;

/// Rows of the generated BIN table. Chinese issuers hold a few thousand card BINs between them
/// (UnionPay's 62 range alone has 10,000 six-digit slots, of which a fraction are issued), and a
/// few thousand rows is what the route stage's prefix index must be sized and measured for:
/// 2,700 six-digit BINs plus [`BIN_PREFIX_NESTED_COUNT_DEFAULT`] longer ones.
pub const BIN_PREFIX_COUNT_DEFAULT: usize = 3_000;

/// Of the generated BIN table's rows, those 8 to 10 digits long nested inside another bank's
/// six-digit BIN (a co-branded or regional card range): one row in ten, a few hundred, so that
/// longest-prefix match decides a real share of the routes and a stage that matched only six
/// digits would be caught by the tests.
pub const BIN_PREFIX_NESTED_COUNT_DEFAULT: usize = 300;

/// Links of a generated bank, at least: two data centres, so that one link going down leaves the
/// bank reachable, as at the real switch.
pub const LINKS_PER_BANK_DEFAULT_MIN: usize = 2;

/// Links of a generated bank, at most: three, one per data centre region (Beijing, Shanghai,
/// Shenzhen).
pub const LINKS_PER_BANK_DEFAULT_MAX: usize = 3;

/// Percent of generated banks that spread payments round-robin over their links; the rest use
/// primary-secondary, the common arrangement (a primary line, a standby).
pub const BANK_ROUND_ROBIN_DEFAULT_PERCENT: u64 = 25;

/// The generated per-payment limit, every kind: 50,000 yuan, the usual single-payment ceiling of
/// a quick-payment (快捷支付) agreement. The load generator's amounts (log-normal, median 10,000
/// fen) reach it at 6.2 σ when σ = 1, about once in 4·10⁹ payments; with σ = 1.5 at 4.1 σ, about
/// 3 a second at 200,000 payments a second, so a generator with a wide σ should draw below it.
pub const PAYMENT_LIMIT_DEFAULT_FEN: u64 = 5_000_000;

/// The generated cap of the rank-1 participant (institution 1, bank 1001); the participant of
/// rank r gets this / r. Arithmetic: the default run sends ~200,000 payments a second and a
/// clearing batch lasts a second; amounts are log-normal with median 10,000 fen, whose mean is
/// 10,000 · e^(σ²/2) ≤ 30,802 fen for σ ≤ 1.5, so a batch moves at most ~6.2·10⁹ fen gross. Under
/// a Zipf skew of exponent s ≥ 1 the rank-r participant's share is r^-s / H(s) ≤ 1/r (and a bank
/// drawn by BIN prefix, or uniformly, has a share below 1/r too: prefixes are dealt out with
/// weight 1/r), so it owes at most ~6.2·10⁹ / r fen in a batch even if every payment ran its way.
/// Four times that, 2.5·10¹⁰ / r, covers holds still pending across a cutover and a run at twice
/// the rate without `InsufficientLiquidity`. Rank 424 still gets 58,962,264 fen (~590,000 yuan),
/// eleven times the largest payment.
pub const CAP_RANK_ONE_DEFAULT_FEN: u64 = 25_000_000_000;

const _: () = assert!(INSTITUTION_COUNT_DEFAULT <= BANK_ID_BASE as usize);
const _: () = assert!(BANK_ID_BASE as usize + BANK_COUNT_DEFAULT <= PARTICIPANT_ID_MAX as usize);
const _: () = assert!(BIN_PREFIX_NESTED_COUNT_DEFAULT < BIN_PREFIX_COUNT_DEFAULT);
const _: () =
    assert!(BIN_PREFIX_COUNT_DEFAULT - BIN_PREFIX_NESTED_COUNT_DEFAULT >= BANK_COUNT_DEFAULT);
const _: () = assert!(0 < LINKS_PER_BANK_DEFAULT_MIN);
const _: () = assert!(LINKS_PER_BANK_DEFAULT_MIN <= LINKS_PER_BANK_DEFAULT_MAX);
const _: () = assert!(LINKS_PER_BANK_DEFAULT_MAX <= LINKS_PER_BANK_MAX);
const _: () = assert!(BANK_ROUND_ROBIN_DEFAULT_PERCENT <= 100);
const _: () =
    assert!(CAP_RANK_ONE_DEFAULT_FEN / BANK_COUNT_DEFAULT as u64 >= PAYMENT_LIMIT_DEFAULT_FEN);
const _: () = assert!(
    CAP_RANK_ONE_DEFAULT_FEN / INSTITUTION_COUNT_DEFAULT as u64 >= PAYMENT_LIMIT_DEFAULT_FEN
);

// ---- Authorize and route ----

/// Trie nodes the BIN table keeps in reserve beyond those its starting prefixes use, so that
/// route changes arriving while the switch runs add prefixes without allocating. A new prefix
/// takes at most [`BIN_PREFIX_LENGTH_MAX`] nodes (a ten-digit prefix under no existing one) and
/// usually far fewer (a 6-digit BIN shares its first digits with others; an 8–10 digit split of
/// an existing BIN takes two to four), so 1,024 nodes (44 KiB) hold at least 102 additions: more
/// than the real network's BIN changes over months. Beyond them the table grows by allocating,
/// which costs one route change a few microseconds, never a wrong answer.
pub const BIN_TABLE_SPARE_NODE_COUNT: usize = 1_024;

const _: () = assert!(BIN_TABLE_SPARE_NODE_COUNT >= BIN_PREFIX_LENGTH_MAX);

// ---- Ledger ----

/// How long the ledger waits for a bank's reply before it voids the hold as expired, in ms.
/// NetsUnion's design answers a payment, bank included, within one second; a reply later than
/// that is past the point where the institution has given up, so the hold is released and the
/// reply, if it comes, is counted as late and never posted.
pub const BANK_TIMEOUT_MS_DEFAULT: u64 = 1_000;

/// Pending holds the ledger keeps at once. In flight = rate × bank latency: 5 M payments/s ×
/// 200 ms typical bank latency = 1 M; a stalled bank holds at most a timeout's worth of its
/// share. 2^20 holds is a slab of about 80 MiB (80 B a hold), reserved at start and paged in as
/// holds are placed; holds are found through their window record, so there is no separate
/// index.
pub const HOLDS_CAPACITY_DEFAULT: usize = 1 << 20;

/// Records one generation of the in-memory window holds (pending payments, and payments and
/// refund originals touched since it began). A generation turns after its span of event time
/// ([`WINDOW_SPAN_MS_DEFAULT`]) or after as many payments as leave room for what a turn carries
/// (two records a payment, two a hold), whichever is first: with 2^20 holds that is 2^20
/// payments, a generation of 2.3 s at 450,000 payments/s and 0.25 s at the 4 M payments/s goal.
/// 2^22 = 4,194,304. Each generation is a table of
/// [`WINDOW_SLOTS_PER_ENTRY`] slots per record (320 MiB, zeroed memory paged in as it fills; two
/// generations 640 MiB). A node that cuts over less often must be started with a larger window,
/// or it answers `LedgerFull`.
pub const WINDOW_CAPACITY_DEFAULT: usize = 1 << 22;

const _: () = assert!(BANK_TIMEOUT_MS_DEFAULT > 0);
const _: () = assert!(HOLDS_CAPACITY_DEFAULT < u32::MAX as usize);
const _: () = assert!(HOLDS_CAPACITY_DEFAULT <= WINDOW_CAPACITY_DEFAULT);

/// Slots per record a window generation allocates: at most half its slots hold records, so a
/// linear-probing lookup reads ~1.5 slots on a hit and ~2.5 on a miss (Knuth), the same or the
/// next cache line. 2^22 records is 2^23 slots of 40 B (320 MiB) a generation, zeroed memory
/// paged in as it fills. A higher load saves memory but lengthens the probes quadratically.
pub const WINDOW_SLOTS_PER_ENTRY: usize = 2;

const _: () = assert!(WINDOW_SLOTS_PER_ENTRY >= 2);

// ---- Memory by time: retention, the window, the store ----

/// How long a decided payment is remembered when the operator does not say, in ms: 24 hours. A
/// PI may query or resend within the business day, and clearing is T+1, so a day is the least a
/// payment network can live with; operators keep 30 days and more (`--retention 30d`).
pub const RETENTION_MS_DEFAULT: u64 = 24 * 3_600 * 1_000;

/// The shortest retention a command accepts, in ms: one minute, for benchmarks. Below it the
/// window alone would hold everything and the store would never be read.
pub const RETENTION_MS_MIN: u64 = 60 * 1_000;

/// The longest retention a command accepts, in ms: 400 days, a year of disputes and chargebacks
/// with room to spare; a typo of more is refused rather than kept forever.
pub const RETENTION_MS_MAX: u64 = 400 * 24 * 3_600 * 1_000;

/// How far ahead of the switch's clock a transaction id's own time may be, in ms: 1 s, the
/// resolution of the id's time (it counts whole seconds) on a sender whose clock is NTP-synced.
/// An id further ahead is refused `TxnIdInFuture`; the bound is what lets the prefetch skip the
/// store for an id made moments ago (docs/SWITCH.md, "Memory by time").
pub const TXN_ID_FUTURE_MS_MAX: u64 = 1_000;

/// A window generation's span of event time, in ms: the in-memory window holds the payments
/// touched in the current generation and the one before, so between 5 and 10 s. It must exceed
/// the bank timeout (1 s) several times over, so that a payment is decided and answered while its
/// record is in memory, and it costs memory in proportion: at 450,000 payments/s a generation
/// holds ~2.3 M records, within [`WINDOW_CAPACITY_DEFAULT`].
pub const WINDOW_SPAN_MS_DEFAULT: u64 = 5_000;

/// The payment store's block cache, bytes: 64 MiB. Reads are of old payments (resends and refunds
/// minutes to days later) and mostly miss any cache; the cache keeps the tables' indexes and
/// filters, which every lookup reads, resident.
pub const STORE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The store engine's background threads (flushes and compactions): 1. The switch's stages own
/// the cores, and there is little to do: ingested in-order tables are moved down the levels
/// whole, and only the late partitions (refund entries, payments that finished after their
/// second was written) and small writes at low rates are flushed and merged.
pub const STORE_WORKER_THREADS: usize = 1;

/// Written payments the store may hold in memory before they are flushed into tables, bytes:
/// 128 MiB. Only writes through the engine's memtables count (writes of fewer than
/// [`STORE_INGEST_PAYMENTS_MIN`]; larger ones are ingested straight into tables): at low rates
/// that is every write, ~1.5 M payments' worth (memtables take ~3× the 83 bytes a payment is).
/// The engine flushes on a background thread and never slows its writers itself;
/// where the switch's threads keep the cores busy that thread can fall behind and memory grow
/// without bound (measured: 10 GB after 5 minutes at 120,000/s on the 2-core box), so past this
/// the store writer waits for the flush: backpressure, never a growing heap.
pub const STORE_UNFLUSHED_BYTES_MAX: u64 = 128 * 1024 * 1024;

/// Payments the store writer gathers before a write, at the most: 131,072, a quarter second at
/// 500,000 payments/s. A write is ingested into one new table per partition it touches (an
/// encoding a record and a few syncs a write), so fewer, larger writes cost less per payment,
/// up to what the buffer costs in memory: 131,072 × 80 B = 10 MiB, and the writer holds three
/// (one filling, one being written, one spare).
pub const STORE_WRITE_PAYMENTS_MAX: usize = 131_072;

/// The most event time the store writer holds decided payments before handing them to its
/// writing thread, in ms: 250 ms, so four writes a second. With [`STORE_SEAL_MS`] it bounds how
/// long after its answer a payment is missing from a QUERY's view (up to 1.5 s: its second must
/// end, then the seal, then the next write) and how late the window may turn waiting for the
/// store. Measured on the 2-core box at 300,000 payments/s, 15 s: the engine's compaction took
/// 3.7 s of CPU writing every 100 ms, 2.1 s every 250 ms, 2.2 s every 500 ms, 2.4 s every second
/// (before writes kept their seconds in order, which leaves compaction little to do).
pub const STORE_WRITE_INTERVAL_MS: u64 = 250;

/// How far past the end of a second of transaction ids the switch's clock must be before the
/// store writes that second's payments in order, in ms: 250 ms. Until then they wait in the
/// writer (and the store's `through` stays below the first of them); a payment of a second
/// already written, one whose bank took longer than this past its second's end, goes to its
/// hour's late partition. At saturation on the 2-core box the 99th percentile of an answer is
/// ~100 ms, so nearly every payment is written in order; the wait adds at most 1.25 s to how far
/// the store lags, well within a window generation (at least 2 s at saturation, 5 s at rate).
pub const STORE_SEAL_MS: u64 = 250;

/// The size the store engine's compaction cuts its tables to, bytes: 16 MiB. Payments written
/// in order are moved down the levels without being rewritten; the late partitions are merged,
/// and a merge of the first level rewrites the tables of the next that overlap it, so smaller
/// tables rewrite less. Measured on the 2-core box at 300,000 payments/s, 15 s, writes every
/// 100 ms with ids not in order across writes: 10.4 s of compaction CPU with the engine's
/// default 64 MiB and 4 tables, 3.7 s with 16 MiB and [`STORE_LEVEL0_TABLES_MAX`] = 16. A day
/// at 120,000/s is ~30,000 tables.
pub const STORE_TABLE_TARGET_BYTES: u64 = 16 * 1024 * 1024;

/// Tables the store engine lets gather in its first level before merging them into the next:
/// 16 (the engine's default is 4). More at once means fewer merges of the next level's
/// overlapping tables; a lookup checks each first-level table whose key range holds the id
/// (its Bloom filter first), and ids in order make those few.
pub const STORE_LEVEL0_TABLES_MAX: u8 = 16;

/// The fewest payments a store write ingests straight into new tables rather than putting
/// through the engine's journal and memtables: 4,096. Ingestion costs a table file and its syncs
/// per partition a write touches (a few ms on the dev box's disk) and then ~0.5 µs a payment,
/// the journal and memtable path ~0.7 µs a payment on the writing thread plus the flush and its
/// memory; below a few thousand payments the syncs outweigh what ingestion saves.
pub const STORE_INGEST_PAYMENTS_MIN: usize = 4_096;

/// The longest the store writer waits at once for the engine's flush, in ms: 10 s. A flush of
/// [`STORE_UNFLUSHED_BYTES_MAX`] takes well under a second on the dev box's disk; a wait past
/// ten means the disk itself has stalled, and the writer carries on (and waits again at its next
/// write) rather than stop the node behind a sleep with no end.
pub const STORE_FLUSH_WAIT_MS_MAX: u64 = 10_000;

const _: () = assert!(RETENTION_MS_MIN <= RETENTION_MS_DEFAULT);
const _: () = assert!(RETENTION_MS_DEFAULT <= RETENTION_MS_MAX);
const _: () = assert!(WINDOW_SPAN_MS_DEFAULT > 2 * BANK_TIMEOUT_MS_DEFAULT);
const _: () = assert!(TXN_ID_FUTURE_MS_MAX < WINDOW_SPAN_MS_DEFAULT);

// ---- Journal ----

/// The bytes one journaled event takes on disk: a 16-byte record header (payload length,
/// sequence, CRC-32C) and the event's 112-byte payload. 128 bytes divide a 4 KiB page exactly
/// (32 records a page), and since only events are journaled every record is this size, so a
/// segment's record k starts at byte k × 128.
pub const JOURNAL_RECORD_SIZE_BYTES: usize = 128;

/// A journal segment's size when a configuration does not say: 64 MiB, pre-allocated when the
/// segment is created. It holds 64 MiB / 128 B = 524,288 records, about 2.9 s of the default
/// run's 180,000 events a second, so rotation (a sync, a file creation and a directory sync) is
/// rare next to group commits, and recovering a journal of a few minutes reads tens of files,
/// not thousands. Recovery reads one segment at a time, so it also bounds recovery's memory.
pub const SEGMENT_SIZE_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;

/// The smallest segment a configuration may ask for: one record. Tests use segments of a few
/// records to exercise rotation; anything smaller could never hold an event.
pub const SEGMENT_SIZE_BYTES_MIN: u64 = JOURNAL_RECORD_SIZE_BYTES as u64;

/// The largest segment a configuration may ask for: 1 GiB, 8,388,608 records, ~47 s at 180,000
/// events a second. Recovery holds one whole segment in memory while it scans it, so a typo in
/// a configuration must not be able to ask for more than a machine gives one process easily.
pub const SEGMENT_SIZE_BYTES_MAX: u64 = 1024 * 1024 * 1024;

/// The journal writer's buffer when a configuration does not say: a full ring of the switch's run
/// (`RUN_RING_CAPACITY`, 16,384 slots) of 128-byte records, 16,384 × 128 B = 2 MiB. The journal
/// stage commits at most one ring's worth of events at a time, so a group commit is one write and
/// one sync, and the buffer never fills between commits.
pub const WRITE_BUFFER_BYTES_DEFAULT: usize = 16_384 * JOURNAL_RECORD_SIZE_BYTES;

/// The largest writer buffer a configuration may ask for: 256 MiB, two million records, 128
/// times the default. The buffer is allocated once at start; beyond this a typo would take the
/// machine's memory for no gain, since a buffer larger than a group of events is never used.
pub const WRITE_BUFFER_BYTES_MAX: usize = 256 * 1024 * 1024;

const _: () = assert!(JOURNAL_RECORD_SIZE_BYTES.is_power_of_two());
const _: () = assert!(4_096 % JOURNAL_RECORD_SIZE_BYTES == 0);
const _: () = assert!(SEGMENT_SIZE_BYTES_MIN <= SEGMENT_SIZE_BYTES_DEFAULT);
const _: () = assert!(SEGMENT_SIZE_BYTES_DEFAULT <= SEGMENT_SIZE_BYTES_MAX);
const _: () = assert!(SEGMENT_SIZE_BYTES_DEFAULT % JOURNAL_RECORD_SIZE_BYTES as u64 == 0);
const _: () = assert!(SEGMENT_SIZE_BYTES_DEFAULT >= WRITE_BUFFER_BYTES_DEFAULT as u64);
const _: () = assert!(JOURNAL_RECORD_SIZE_BYTES <= WRITE_BUFFER_BYTES_DEFAULT);
const _: () = assert!(WRITE_BUFFER_BYTES_DEFAULT <= WRITE_BUFFER_BYTES_MAX);
const _: () = assert!(WRITE_BUFFER_BYTES_DEFAULT % JOURNAL_RECORD_SIZE_BYTES == 0);

// ---- The wire protocol ----

/// The longest reason an ERROR frame carries, in bytes of UTF-8. A reason is one sentence for a
/// person reading a log (the longest [`WireError`](crate::wire::WireError) sentence is under 100
/// bytes); 256 bytes leave room for a sentence in Chinese (3 bytes a character, 85 characters)
/// while keeping an ERROR frame within [`FRAME_SIZE_MAX`].
pub const ERROR_REASON_LENGTH_MAX: usize = 256;

/// The largest frame on the wire in bytes, its 4-byte length field included. The largest fixed
/// frame is a PAYMENT or REPLY: 4 (length) + 2 (version, type) + 90 (the signed event fields) =
/// 96 bytes; an ERROR is at most 4 + 2 + 4 (code, reason length) + [`ERROR_REASON_LENGTH_MAX`]
/// (256) = 266 bytes. Rounded up to the next power of two, 512: a reader that holds a few of them
/// stays within a few KiB per connection, and any length field above it is refused before a
/// single byte more is read.
pub const FRAME_SIZE_MAX: usize = 512;

/// Frames a [`FrameReader`](crate::wire::FrameReader)'s buffer holds at the largest frame size:
/// 16 × 512 B = 8 KiB per connection, enough for 85 PAYMENT frames a read at 96 bytes each, so a
/// read system call is paid over dozens of payments while 10,000 connections still take only
/// 80 MiB.
pub const FRAME_READER_FRAME_COUNT: usize = 16;

const _: () = assert!(FRAME_SIZE_MAX.is_power_of_two());
const _: () = assert!(4 + 2 + 90 <= FRAME_SIZE_MAX);
const _: () = assert!(4 + 2 + 4 + ERROR_REASON_LENGTH_MAX <= FRAME_SIZE_MAX);
const _: () = assert!(ERROR_REASON_LENGTH_MAX <= u16::MAX as usize);
const _: () = assert!(FRAME_SIZE_MAX <= u32::MAX as usize);
const _: () = assert!(FRAME_READER_FRAME_COUNT >= 2);
