//! The harness's limits and defaults, each with the reasoning behind its number.

/// Ring slots for `clearway run`'s pipelines: 16,384 slots of 128 bytes are 2 MiB, within a
/// server core's L2 + L3 share, and at 1 M events/s they absorb 16 ms of a stalled stage before
/// the producer feels it.
pub const RUN_RING_CAPACITY: usize = 16_384;

/// Events a stage takes from its barrier at once in `clearway run`: large enough to amortise the
/// cursor handoff (~100 ns between cores, docs/ARCHITECTURE.md) over hundreds of events, small
/// enough that a batch's latency stays in the tens of microseconds.
pub const RUN_BATCH_SIZE_MAX: usize = 512;

/// Authorize workers `auto` gives a machine with cores to spare: HMAC-SHA256 checking runs at
/// ~3–5 M events/s per core, so four cover any rate one producer thread can offer.
pub const AUTHORIZE_WORKERS_MAX_AUTO: usize = 4;

/// Cores below which `auto` runs the whole switch on one thread beside the producer rather than
/// a thread per stage: a pipelined switch needs a core each for the producer, authorize, route,
/// ledger and egress, plus one left for the system.
pub const PIPELINED_CORE_COUNT_MIN: usize = 6;

/// Payments the producer offers in one go before it looks at the banks' replies again: bounds
/// how long a reply waits behind a burst of arrivals.
pub const ARRIVALS_PER_TURN_MAX: usize = 256;

/// The largest latency the histograms hold, in ns: one hour. Anything longer is a hung run, and
/// is recorded as one hour.
pub const LATENCY_NS_MAX: u64 = 3_600_000_000_000;

/// Significant decimal digits the latency histograms keep: 3 means 0.1% resolution at any
/// magnitude, the HdrHistogram convention.
pub const LATENCY_SIGNIFICANT_DIGITS: u8 = 3;

/// Events per chunk of the in-memory input recording: 65,536 × 112 bytes = 7 MiB, so a chunk is
/// allocated about once every 65 ms at 1 M events/s, never per event.
pub const RECORDING_CHUNK_EVENTS: usize = 65_536;

/// The smallest ledger table `clearway run` sizes for its rate: 65,536 entries (a few MiB), so a
/// slow run still has room for bursts and duplicates.
pub const LEDGER_TABLE_CAPACITY_MIN: usize = 1 << 16;

/// The ack log's buffer: a batch of at most `RUN_BATCH_SIZE_MAX` answers at ~45 bytes a line is
/// ~23 KiB, so 64 KiB holds a whole batch and egress writes once per batch.
pub const ACK_LOG_BUFFER_BYTES: usize = 64 * 1024;

/// Journal segment size `clearway run` uses unless told: 64 MiB holds ~524,000 records of 128
/// bytes, about 3 s at 180,000 payments/s, so a new file (and its pre-allocation) is needed only
/// every few seconds and recovery opens few files.
pub const SEGMENT_SIZE_MIB_DEFAULT: u64 = 64;

/// Events between snapshots unless told: 2,000,000 events is ~5.6 s of a 180,000 payments/s run
/// (a payment and its bank's reply are an event each), and replaying them through the
/// single-threaded switch (~1.2 M events/s measured on the 2-core dev box, HMAC included) takes
/// under 2 s, which bounds recovery. Saving costs route and the ledger a pause of tens of
/// milliseconds (52 ms measured at 180,000/s), paid once per interval.
pub const SNAPSHOT_EVERY_EVENTS_DEFAULT: u64 = 2_000_000;

/// Bits a durable start's first sequence is shifted by to give its transaction ids their own
/// range: a start may send 2^40 ids (~70 days at 180,000 payments/s) before reaching the next
/// start's range, which begins at least one journaled event (2^40 ids) later; and the offset
/// stays below the load generator's never-sent bit (2^95) for journals under 2^55 events.
pub const TXN_ID_OFFSET_SHIFT: u32 = 40;
