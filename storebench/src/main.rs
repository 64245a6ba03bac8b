//! `storebench`: compares two embedded storage engines, [fjall] (a pure-Rust LSM tree) and
//! [RocksDB](rocksdb) (C++ LSM tree behind the `rocksdb` crate), for Clearway's payment store.
//!
//! The payment store is derived state: the journal is the durability, so neither engine syncs
//! (RocksDB runs with its WAL disabled; fjall buffers its journal and is never asked to sync
//! while the benchmark runs). Both engines get LZ4 block compression, 4 KiB data blocks, Bloom
//! filters at 10 bits per key, a 64 MiB block cache, 64 MiB memtables and two background
//! threads.
//!
//! Model of the data (see `README.md`):
//!
//! * key: a 16-byte transaction id, a big-endian `u128` laid out as
//!   `date (32 bits, yyyymmdd) | second of day (17 bits) | sender (39 bits) | counter (40 bits)`;
//!   ids are generated in time order with 115 senders interleaved at random;
//! * value: a 48-byte finished payment (outcome, kind, institution, bank, amount, fingerprint,
//!   batch, finished sequence, finished time);
//! * one partition per hour of the id (a fjall keyspace or a RocksDB column family, named
//!   `h<yyyymmdd><hh>`), and a `refunds` partition whose keys are `original id ‖ refund id`.
//!
//! Every measurement is single-threaded (background flush and compaction threads aside). The
//! results are printed as plain lines followed by one JSON line that starts with `{`.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod fjall_store;
mod rocks_store;

/// The date every generated id carries (yyyymmdd).
const DATE: u32 = 20_261_207;
/// The first hour of the generated ids; records are spread evenly over `HOURS` hours from it.
const FIRST_HOUR: u32 = 10;
/// Number of hour partitions the records are spread over.
const HOURS: u32 = 4;
/// Number of distinct senders interleaved in the id stream (sender field `0..SENDERS`).
const SENDERS: u64 = 115;
/// Records per write batch.
const BATCH: usize = 1_024;
/// Point lookups per kind (hits, misses).
const LOOKUPS: usize = 1_000_000;
/// Keys written into the refunds partition.
const REFUNDS: usize = 200_000;
/// Prefix scans over the refunds partition (half of them for prefixes that exist).
const SCANS: usize = 100_000;
/// Slot in the partition table for the refunds partition (hours use slots `0..24`).
const REFUNDS_SLOT: usize = 24;
/// Size of the partition table: 24 hours and the refunds partition.
const SLOTS: usize = 25;
/// Bytes of a payment value.
const VALUE_LEN: usize = 48;

/// Builds a transaction id from its fields.
fn make_id(second: u32, sender: u64, counter: u64) -> u128 {
    debug_assert!(second < 86_400 && sender < (1 << 39) && counter < (1 << 40));
    (u128::from(DATE) << 96)
        | (u128::from(second) << 79)
        | (u128::from(sender) << 40)
        | u128::from(counter)
}

/// The second of the day an id carries.
fn id_second(id: u128) -> u32 {
    ((id >> 79) & 0x1_FFFF) as u32
}

/// The hour an id carries: the index of its partition slot.
fn id_hour(id: u128) -> usize {
    (id_second(id) / 3_600) as usize
}

/// Name of the partition (keyspace / column family) for a slot.
fn partition_name(slot: usize) -> String {
    if slot == REFUNDS_SLOT {
        "refunds".to_owned()
    } else {
        format!("h{DATE}{slot:02}")
    }
}

/// The slot a partition name denotes, if it is one of ours.
fn partition_slot(name: &str) -> Option<usize> {
    if name == "refunds" {
        return Some(REFUNDS_SLOT);
    }
    let hour = name
        .strip_prefix(&format!("h{DATE}"))?
        .parse::<usize>()
        .ok()?;
    (hour < 24).then_some(hour)
}

/// `splitmix64`: a cheap deterministic mixer for the value fields.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The 48-byte encoded finished payment for the `i`-th record: outcome (1), kind (1),
/// institution (2), bank (4), amount (8), fingerprint (8), batch (8), finished sequence (8),
/// finished time in ns (8). Small fields compress; the fingerprint does not.
fn payment_value(i: u64, id: u128) -> [u8; VALUE_LEN] {
    let r = mix(i);
    let mut v = [0u8; VALUE_LEN];
    v[0] = (r % 4) as u8;
    v[1] = ((r >> 8) % 3) as u8;
    v[2..4].copy_from_slice(&((r >> 16) as u16 % 40).to_be_bytes());
    v[4..8].copy_from_slice(&((r >> 24) as u32 % 2_000).to_be_bytes());
    v[8..16].copy_from_slice(&((r >> 32) % 1_000_000).to_be_bytes());
    v[16..24].copy_from_slice(&mix(r).to_be_bytes());
    v[24..32].copy_from_slice(&(i / BATCH as u64).to_be_bytes());
    v[32..40].copy_from_slice(&i.to_be_bytes());
    let finished_ns = u64::from(id_second(id)) * 1_000_000_000 + (r % 1_000_000_000);
    v[40..48].copy_from_slice(&finished_ns.to_be_bytes());
    v
}

/// `n` ids in time order over `HOURS` hours from `FIRST_HOUR`, senders interleaved at random,
/// each sender with its own counter.
fn generate_ids(n: usize, rng: &mut SmallRng) -> Vec<u128> {
    let first = FIRST_HOUR * 3_600;
    let span = u64::from(HOURS * 3_600);
    let mut counters = [0u64; SENDERS as usize];
    (0..n as u64)
        .map(|i| {
            let second = first + (i * span / n as u64) as u32;
            let sender = rng.gen_range(0..SENDERS);
            counters[sender as usize] += 1;
            make_id(second, sender, counters[sender as usize])
        })
        .collect()
}

/// An id that was never written but falls in the same hour (and second) as `like`: its
/// sender is outside `0..SENDERS`.
fn unwritten_id(like: u128, rng: &mut SmallRng) -> u128 {
    make_id(
        id_second(like),
        SENDERS + rng.gen_range(0..1_000),
        rng.gen_range(1..1 << 20),
    )
}

/// The operations the benchmark needs from an engine. Each call is one phase, so that an
/// engine can resolve its partition handles once per phase.
pub trait Store: Sized {
    /// Opens the store at `dir` (which must not exist) and creates the partitions for `slots`.
    fn create(dir: &Path, slots: &[usize]) -> Self;
    /// Opens an existing store with all its partitions.
    fn reopen(dir: &Path) -> Self;
    /// Writes all `ids` (with `payment_value`) in batches of `BATCH`, each id into the
    /// partition of its hour.
    fn write_payments(&mut self, ids: &[u128]);
    /// Writes the 32-byte refund keys (with an 8-byte value) into the refunds partition in
    /// batches of `BATCH`.
    fn write_refunds(&mut self, keys: &[[u8; 32]]);
    /// Flushes every memtable to disk and waits for it.
    fn flush(&mut self);
    /// Compacts every partition fully and waits for it.
    fn compact(&mut self);
    /// Point lookups of `ids`, each in the partition of its hour; returns how many were found.
    fn get_many(&self, ids: &[u128]) -> usize;
    /// Prefix scans of the refunds partition; returns the number of rows seen.
    fn scan_many(&self, prefixes: &[u128]) -> usize;
    /// Bytes the engine accounts to one partition's tables.
    fn partition_bytes(&self, slot: usize) -> u64;
    /// Drops a whole partition.
    fn drop_partition(&mut self, slot: usize);
    /// Deletes `ids` one by one (in batches of `BATCH`) from the partition `slot`.
    fn delete_keys(&mut self, slot: usize, ids: &[u128]);
    /// Removes every key of a partition in one logical operation, keeping the partition
    /// (fjall: `Keyspace::clear`; RocksDB: `DeleteRange` over the hour).
    fn clear_partition(&mut self, slot: usize);
}

/// Sizes of the files under a directory.
#[derive(Clone, Copy, Default)]
struct DiskUsage {
    /// Sum of the file lengths (what `ls -l` shows).
    apparent: u64,
    /// Sum of the blocks allocated to the files (what `du` shows).
    allocated: u64,
    /// Of `apparent`, the journal files (fjall `*.jnl`; RocksDB `*.log` WAL files, which stay
    /// empty with the WAL disabled).
    journal: u64,
}

impl DiskUsage {
    /// Walks `dir` and sums the sizes of its regular files.
    fn of(dir: &Path) -> Self {
        let mut usage = Self::default();
        usage.add(dir);
        usage
    }

    fn add(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => self.add(&path),
                Ok(t) if t.is_file() => {
                    let Ok(meta) = entry.metadata() else { continue };
                    self.apparent += meta.len();
                    self.allocated += meta.blocks() * 512;
                    let ext = path.extension().and_then(|e| e.to_str());
                    if matches!(ext, Some("jnl" | "log")) {
                        self.journal += meta.len();
                    }
                }
                _ => {}
            }
        }
    }

    /// Apparent bytes other than the journal: tables, manifests and metadata.
    fn tables(&self) -> u64 {
        self.apparent - self.journal
    }

    /// One line describing the usage per payment.
    fn describe(&self, n: usize) -> String {
        let per = |b: u64| b as f64 / n as f64;
        format!(
            "{} B excluding journal = {:.1} B/payment; with journal {} B = {:.1} B/payment; \
             allocated {} B = {:.1} B/payment",
            self.tables(),
            per(self.tables()),
            self.apparent,
            per(self.apparent),
            self.allocated,
            per(self.allocated)
        )
    }
}

/// Command-line options.
struct Args {
    engine: String,
    records: usize,
    dir: PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        engine: String::new(),
        records: 5_000_000,
        dir: PathBuf::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--engine" => args.engine = value,
            "--records" => {
                args.records = value
                    .replace([',', '_'], "")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --records"));
            }
            "--dir" => args.dir = PathBuf::from(value),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if !matches!(args.engine.as_str(), "fjall" | "rocksdb") || args.dir.as_os_str().is_empty() {
        usage("--engine fjall|rocksdb and --dir PATH are required");
    }
    args
}

fn usage(why: &str) -> ! {
    eprintln!(
        "storebench: {why}\nusage: storebench --engine fjall|rocksdb [--records N] --dir PATH"
    );
    std::process::exit(2);
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let args = parse_args();
    match args.engine.as_str() {
        "fjall" => run::<fjall_store::FjallStore>(&args),
        _ => run::<rocks_store::RocksStore>(&args),
    }
}

/// Runs every measurement against engine `S` and prints the results.
fn run<S: Store>(args: &Args) {
    let n = args.records;
    let dir = &args.dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("remove the old --dir");
    }
    let mut rng = SmallRng::seed_from_u64(0x05EE_DC1E_A4A7);
    let ids = generate_ids(n, &mut rng);
    let hour_slots: Vec<usize> = (FIRST_HOUR..FIRST_HOUR + HOURS)
        .map(|h| h as usize)
        .collect();
    let mut slots = hour_slots.clone();
    slots.push(REFUNDS_SLOT);
    println!("engine {} records {n} dir {}", args.engine, dir.display());

    // 1. Batched writes.
    let mut store = S::create(dir, &slots);
    let t = Instant::now();
    store.write_payments(&ids);
    let write_s = secs(t.elapsed());
    let write_rate = n as f64 / write_s;
    println!(
        "write: {n} payments in {write_s:.2} s = {write_rate:.0} payments/s (batches of {BATCH})"
    );

    // 2. Flush, then compact fully; disk usage after each, and once more after a reopen (when
    // the files of superseded table versions are gone).
    let t = Instant::now();
    store.flush();
    let flush_s = secs(t.elapsed());
    let flushed = DiskUsage::of(dir);
    println!("flush: {flush_s:.2} s; on disk {}", flushed.describe(n));
    let t = Instant::now();
    store.compact();
    let compact_s = secs(t.elapsed());
    let compacted = DiskUsage::of(dir);
    println!(
        "compact: {compact_s:.2} s; on disk {}",
        compacted.describe(n)
    );

    // 6. Close and reopen the store (4 hour partitions plus the empty refunds partition).
    drop(store);
    let t = Instant::now();
    let mut store = S::reopen(dir);
    let open_ms = secs(t.elapsed()) * 1e3;
    let reopened = DiskUsage::of(dir);
    println!(
        "open: existing store ({} partitions) opened in {open_ms:.1} ms",
        slots.len()
    );
    println!(
        "reopened: on disk {} (raw key+value = {} B)",
        reopened.describe(n),
        16 + VALUE_LEN
    );

    // Refunds index: original id ‖ refund id, for 4. below.
    let refund_originals: Vec<u128> = (0..REFUNDS).map(|_| ids[rng.gen_range(0..n)]).collect();
    let refund_keys: Vec<[u8; 32]> = refund_originals
        .iter()
        .map(|&orig| {
            let refund = make_id(
                id_second(orig) + 1,
                rng.gen_range(0..SENDERS),
                rng.gen_range(1..1 << 30),
            );
            let mut k = [0u8; 32];
            k[..16].copy_from_slice(&orig.to_be_bytes());
            k[16..].copy_from_slice(&refund.to_be_bytes());
            k
        })
        .collect();
    let t = Instant::now();
    store.write_refunds(&refund_keys);
    store.flush();
    let refunds_s = secs(t.elapsed());
    println!("refunds: {REFUNDS} keys written and flushed in {refunds_s:.2} s");

    // 3. Point lookups.
    let hits: Vec<u128> = (0..LOOKUPS).map(|_| ids[rng.gen_range(0..n)]).collect();
    let misses: Vec<u128> = (0..LOOKUPS)
        .map(|_| unwritten_id(ids[rng.gen_range(0..n)], &mut rng))
        .collect();
    let t = Instant::now();
    let hit_found = store.get_many(&hits);
    let hit_ns = secs(t.elapsed()) * 1e9 / LOOKUPS as f64;
    let t = Instant::now();
    let miss_found = store.get_many(&misses);
    let miss_ns = secs(t.elapsed()) * 1e9 / LOOKUPS as f64;
    assert_eq!(hit_found, LOOKUPS, "every hit must be found");
    assert_eq!(miss_found, 0, "no miss may be found");
    println!(
        "get hit: {hit_ns:.0} ns/lookup = {:.0} lookups/s ({hit_found} found)",
        1e9 / hit_ns
    );
    println!(
        "get miss: {miss_ns:.0} ns/lookup = {:.0} lookups/s ({miss_found} found)",
        1e9 / miss_ns
    );

    // 4. Prefix scans over the refunds partition, half of the prefixes present.
    let prefixes: Vec<u128> = (0..SCANS)
        .map(|i| {
            if i % 2 == 0 {
                refund_originals[rng.gen_range(0..REFUNDS)]
            } else {
                unwritten_id(ids[rng.gen_range(0..n)], &mut rng)
            }
        })
        .collect();
    let t = Instant::now();
    let scan_rows = store.scan_many(&prefixes);
    let scan_ns = secs(t.elapsed()) * 1e9 / SCANS as f64;
    println!("prefix scan: {scan_ns:.0} ns/scan over {SCANS} 16-byte prefixes ({scan_rows} rows)");

    // 5. Expiry: drop the first hour, delete the second hour key by key, clear the third.
    let (drop_slot, delete_slot, clear_slot) = (hour_slots[0], hour_slots[1], hour_slots[2]);
    let part_bytes = store.partition_bytes(drop_slot);
    let before = DiskUsage::of(dir).apparent;
    let t = Instant::now();
    store.drop_partition(drop_slot);
    let drop_ms = secs(t.elapsed()) * 1e3;
    // Files may be removed after the call returns; wait (up to 10 s) until 90 % are gone.
    while DiskUsage::of(dir).apparent + part_bytes * 9 / 10 > before
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let drop_gone_ms = secs(t.elapsed()) * 1e3;
    let freed = before.saturating_sub(DiskUsage::of(dir).apparent);
    println!(
        "drop partition {}: call {drop_ms:.2} ms, files gone after {drop_gone_ms:.1} ms \
         ({freed} of {part_bytes} B freed)",
        partition_name(drop_slot)
    );

    let doomed: Vec<u128> = ids
        .iter()
        .copied()
        .filter(|&id| id_hour(id) == delete_slot)
        .collect();
    let t = Instant::now();
    store.delete_keys(delete_slot, &doomed);
    let delete_s = secs(t.elapsed());
    let t = Instant::now();
    store.flush();
    store.compact();
    let delete_compact_s = secs(t.elapsed());
    println!(
        "per-key delete {}: {} keys in {:.1} ms = {:.0} deletes/s; flush+compact to reclaim {delete_compact_s:.2} s",
        partition_name(delete_slot),
        doomed.len(),
        delete_s * 1e3,
        doomed.len() as f64 / delete_s
    );

    let t = Instant::now();
    store.clear_partition(clear_slot);
    let clear_ms = secs(t.elapsed()) * 1e3;
    println!(
        "clear partition {} (keep it, remove every key): {clear_ms:.2} ms",
        partition_name(clear_slot)
    );
    drop(store);

    let json = [
        format!("\"engine\":\"{}\"", args.engine),
        format!("\"records\":{n}"),
        format!("\"write_s\":{write_s:.3}"),
        format!("\"write_payments_per_s\":{write_rate:.0}"),
        format!("\"flush_s\":{flush_s:.3}"),
        format!("\"compact_s\":{compact_s:.3}"),
        format!("\"bytes_flushed\":{}", flushed.apparent),
        format!("\"bytes_compacted\":{}", compacted.apparent),
        format!("\"bytes_reopened\":{}", reopened.apparent),
        format!("\"journal_bytes_reopened\":{}", reopened.journal),
        format!("\"allocated_bytes_reopened\":{}", reopened.allocated),
        format!(
            "\"bytes_per_payment_excl_journal\":{:.2}",
            reopened.tables() as f64 / n as f64
        ),
        format!(
            "\"bytes_per_payment_incl_journal\":{:.2}",
            reopened.apparent as f64 / n as f64
        ),
        format!(
            "\"bytes_per_payment_allocated\":{:.2}",
            reopened.allocated as f64 / n as f64
        ),
        format!("\"open_ms\":{open_ms:.2}"),
        format!("\"refunds_write_flush_s\":{refunds_s:.3}"),
        format!("\"get_hit_ns\":{hit_ns:.1}"),
        format!("\"get_hit_per_s\":{:.0}", 1e9 / hit_ns),
        format!("\"get_miss_ns\":{miss_ns:.1}"),
        format!("\"get_miss_per_s\":{:.0}", 1e9 / miss_ns),
        format!("\"prefix_scan_ns\":{scan_ns:.1}"),
        format!("\"prefix_scan_rows\":{scan_rows}"),
        format!("\"drop_partition_ms\":{drop_ms:.3}"),
        format!("\"drop_partition_files_gone_ms\":{drop_gone_ms:.2}"),
        format!("\"drop_partition_bytes_freed\":{freed}"),
        format!("\"per_key_delete_keys\":{}", doomed.len()),
        format!("\"per_key_delete_ms\":{:.2}", delete_s * 1e3),
        format!("\"per_key_delete_reclaim_s\":{delete_compact_s:.3}"),
        format!("\"clear_partition_ms\":{clear_ms:.3}"),
    ];
    println!("{{{}}}", json.join(","));
}
