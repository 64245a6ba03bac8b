//! [`PaymentStore`]: the switch's long memory. Every finished payment, by transaction id, for as
//! long as retention lasts, in an embedded LSM (fjall); the ledger's in-memory window holds the
//! last seconds, the store everything older.
//!
//! # Layout
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | [`PaymentStore`], [`StoreError`], [`Loaded`], [`Arrival`], the partitions by the id's hour |
//! | `record.rs` | [`StoredPayment`], [`StoredRefund`]: the records and their byte encodings |
//!
//! # Derived state
//!
//! The journal is the durability; the store is what the ledger's decisions left behind, and a
//! replay of the journal writes it again, byte for byte. So nothing waits for it to be synced
//! (a batch is handed to the operating system, an ingested table is synced by the engine on the
//! store's own thread: a killed process loses nothing it wrote, a power cut may, and recovery
//! then rebuilds the store), it is written after
//! the journal has made the events durable, and read *as of a sequence*: a record finished at
//! sequence `f` exists for a reader at `s` only when `f < s`. A store that ran ahead of a
//! snapshot (the process was killed after the store wrote and before the next snapshot) is
//! therefore read exactly as it was when the snapshot was taken. What was refunded from a
//! payment is kept as a [`StoredRefund`] entry per approved refund, never by rewriting the
//! payment, so every record is written once.
//!
//! # Partitions by time
//!
//! A payment lives in a partition of its id's hour (`h2026120714`: the id was made between
//! 14:00 and 15:00 UTC on 2026-12-07); its refunds' entries live beside it. A lookup goes to
//! one hour, computed from the id. Retention drops whole hours, never key by key: an hour that
//! ended before the retention horizon is deleted in one step. Ids with no valid date and time
//! (tests that number their payments 1, 2, 3) share hour `h0`, which retention never drops.
//!
//! # Two partitions an hour
//!
//! Ids are made at the time their sender sends them, so a second's payments finish within
//! moments of each other. The store writer writes a second's payments once the switch's clock
//! is past it ([`crate::constants::STORE_SEAL_MS`]), and each such write goes to the hours'
//! in-order partitions ([`Arrival::InOrder`], `h2026120714`): its ids all come after every
//! earlier in-order write's, so the engine moves its table down the levels as it is, and never
//! merges it with another (measured: compaction fell from 2.2 µs of CPU a payment to nothing).
//! What arrives out of that order goes to the hour's late partition ([`Arrival::Late`],
//! `h2026120714l`), which the engine compacts as usual: a payment that finished after its
//! second was written (a bank slower than the seal), every refund's entry (kept under its
//! older original), a replay's writes. A lookup reads the in-order partition, then the late.
//!
//! # Writing in bulk
//!
//! A write of thousands ([`crate::constants::STORE_INGEST_PAYMENTS_MIN`]) is sorted and
//! ingested straight into a new table per partition it touches: no journal, no memtable, one
//! encoding a record. Fewer go through the engine's journal and memtables in one batch.

mod record;

pub use record::{
    key_txn_id, payment_key, refund_key, RecordError, StoredPayment, StoredRefund,
    PAYMENT_VALUE_BYTES, RECORD_VERSION, REFUND_VALUE_BYTES,
};

use std::path::{Path, PathBuf};

use fjall::{Database, Keyspace, KeyspaceCreateOptions};

use crate::constants::{
    STORE_CACHE_BYTES, STORE_INGEST_PAYMENTS_MIN, STORE_LEVEL0_TABLES_MAX,
    STORE_TABLE_TARGET_BYTES, STORE_WORKER_THREADS,
};
use crate::event::TxnId;

/// The meta partition's name: what the store has been written through.
const META: &str = "meta";
/// The meta key holding the count of events the store has taken (a sequence: everything below
/// it is written).
const THROUGH_KEY: &[u8] = b"through";
/// The meta key holding the store's format.
const FORMAT_KEY: &[u8] = b"format";

/// Seconds in an hour: a partition's span.
const PARTITION_SPAN_S: u64 = 3_600;

/// Why the store cannot do what was asked.
#[derive(Debug)]
pub enum StoreError {
    /// The engine failed (I/O, a damaged file, a poisoned journal).
    Engine(String),
    /// A record's bytes are not a record.
    Record {
        /// The key it was under.
        txn_id: TxnId,
        /// What is wrong.
        error: RecordError,
    },
    /// The store has no meta record: it was never finished being created, or it is not a
    /// Clearway store.
    NoMeta,
    /// The store was written in another format.
    Format(u64),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Engine(error) => write!(formatter, "the store's engine failed: {error}"),
            StoreError::Record { txn_id, error } => {
                write!(formatter, "the store holds {error} under {txn_id}")
            }
            StoreError::NoMeta => formatter.write_str("the store has no meta record"),
            StoreError::Format(format) => write!(
                formatter,
                "the store is in format {format}, this build writes {}",
                u64::from(RECORD_VERSION)
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<fjall::Error> for StoreError {
    fn from(error: fjall::Error) -> Self {
        StoreError::Engine(error.to_string())
    }
}

/// What the prefetch found in the store for one event, handed to the ledger in sequence order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The event it was loaded for.
    pub sequence: u64,
    /// Loaded for the event's original (a refund) rather than for its own id.
    pub for_original: bool,
    /// The finished payment.
    pub payment: StoredPayment,
    /// What approved refunds took from it before the event (only loaded for an original).
    pub refunded_fen: u64,
}

/// The store: see the module documentation. Cloning gives another handle on the same store, for
/// another thread.
#[derive(Clone)]
pub struct PaymentStore {
    db: Database,
    meta: Keyspace,
    /// Partitions this handle has opened, by hour and arrival (few: retention's hours, two
    /// each).
    partitions: Vec<(u64, Arrival, Keyspace)>,
    path: PathBuf,
}

/// A partition's options: a Bloom filter of 10 bits a key on every level (a lookup of an id
/// that is not there, the common case for the rare ids the prefetch does look up, reads no
/// block), LZ4 on every level (a record is mostly small integers), and levels compacted in
/// tables of [`STORE_TABLE_TARGET_BYTES`] once [`STORE_LEVEL0_TABLES_MAX`] tables wait in the
/// first.
fn partition_options() -> KeyspaceCreateOptions {
    use fjall::config::{
        BloomConstructionPolicy, CompressionPolicy, FilterPolicy, FilterPolicyEntry,
    };
    KeyspaceCreateOptions::default()
        .filter_policy(FilterPolicy::all(FilterPolicyEntry::Bloom(
            BloomConstructionPolicy::BitsPerKey(10.0),
        )))
        .data_block_compression_policy(CompressionPolicy::all(fjall::CompressionType::Lz4))
        .compaction_strategy(std::sync::Arc::new(
            fjall::compaction::Leveled::default()
                .with_table_target_size(STORE_TABLE_TARGET_BYTES)
                .with_l0_threshold(STORE_LEVEL0_TABLES_MAX),
        ))
}

/// The hour of `txn_id`'s own time, or 0 for an id with no valid date.
pub fn partition_hour(txn_id: TxnId) -> u64 {
    txn_id
        .unix_s()
        .map_or(0, |unix_s| unix_s / PARTITION_SPAN_S)
}

/// Which of an hour's two partitions a record goes to: see "Two partitions an hour" in the
/// module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Payments written in the order of their ids' seconds: every write's ids come after every
    /// earlier such write's, so the engine moves their tables down its levels without
    /// rewriting them.
    InOrder,
    /// Everything else: a payment that finished after its second was written, a refund's
    /// entry (kept under its older original), a write that does not keep the order.
    Late,
}

impl Arrival {
    /// Both, in the order a lookup reads them.
    const BOTH: [Arrival; 2] = [Arrival::InOrder, Arrival::Late];
}

/// A partition's name from its hour and arrival: `h2026120714`, `h2026120714l`.
fn partition_name(hour: u64, arrival: Arrival) -> String {
    let suffix = match arrival {
        Arrival::InOrder => "",
        Arrival::Late => "l",
    };
    if hour == 0 {
        return format!("h0{suffix}");
    }
    let id = TxnId::at(hour * PARTITION_SPAN_S, 0);
    let second = id.unix_s().map_or(0, |unix_s| unix_s % 86_400);
    format!("h{}{:02}{suffix}", id.date(), second / PARTITION_SPAN_S)
}

/// The hour a partition's name stands for (either arrival).
fn partition_hour_of(name: &str) -> Option<u64> {
    let name = name.strip_suffix('l').unwrap_or(name);
    let digits = name.strip_prefix('h')?;
    if digits == "0" {
        return Some(0);
    }
    if digits.len() != 10 {
        return None;
    }
    let date: u32 = digits[..8].parse().ok()?;
    let hour: u64 = digits[8..].parse().ok()?;
    let day_s = TxnId::new(date, 0).unix_s()?;
    (hour < 24).then_some(day_s / PARTITION_SPAN_S + hour)
}

impl PaymentStore {
    /// Opens the store at `path`, creating it if the folder is empty or missing. A store that
    /// exists must have its meta record in this build's format.
    pub fn open(path: &Path) -> Result<PaymentStore, StoreError> {
        let fresh = std::fs::read_dir(path).map_or(true, |mut dir| dir.next().is_none());
        let db = Database::builder(path)
            .cache_size(STORE_CACHE_BYTES)
            .worker_threads(STORE_WORKER_THREADS)
            .open()?;
        Self::with_db(db, path, fresh)
    }

    /// A store in `path` removed when the last handle is dropped: what a run without a data
    /// directory uses, so that it measures the pipeline a node runs.
    pub fn temporary(path: &Path) -> Result<PaymentStore, StoreError> {
        let db = Database::builder(path)
            .cache_size(STORE_CACHE_BYTES)
            .worker_threads(STORE_WORKER_THREADS)
            .temporary(true)
            .open()?;
        Self::with_db(db, path, true)
    }

    fn with_db(db: Database, path: &Path, fresh: bool) -> Result<PaymentStore, StoreError> {
        let meta = db.keyspace(META, KeyspaceCreateOptions::default)?;
        match meta.get(FORMAT_KEY)? {
            Some(format) => {
                let format =
                    u64::from_le_bytes(format.as_ref().try_into().map_err(|_| StoreError::NoMeta)?);
                if format != u64::from(RECORD_VERSION) {
                    return Err(StoreError::Format(format));
                }
            }
            None if fresh => {
                let mut batch = db.batch();
                batch.insert(&meta, FORMAT_KEY, u64::from(RECORD_VERSION).to_le_bytes());
                batch.insert(&meta, THROUGH_KEY, 0u64.to_le_bytes());
                batch.commit()?;
            }
            None => return Err(StoreError::NoMeta),
        }
        Ok(PaymentStore {
            db,
            meta,
            partitions: Vec::new(),
            path: path.to_path_buf(),
        })
    }

    /// Where it lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The count of events the store has been written through: every payment that finished at
    /// a lower sequence is in it.
    pub fn through(&self) -> Result<u64, StoreError> {
        let bytes = self.meta.get(THROUGH_KEY)?.ok_or(StoreError::NoMeta)?;
        Ok(u64::from_le_bytes(
            bytes.as_ref().try_into().map_err(|_| StoreError::NoMeta)?,
        ))
    }

    /// The partition for `hour` and `arrival`, opened (and, with `create`, created) once per
    /// handle.
    fn partition(
        &mut self,
        hour: u64,
        arrival: Arrival,
        create: bool,
    ) -> Result<Option<Keyspace>, StoreError> {
        if let Some((_, _, keyspace)) = self
            .partitions
            .iter()
            .find(|(at, of, _)| *at == hour && *of == arrival)
        {
            return Ok(Some(keyspace.clone()));
        }
        let name = partition_name(hour, arrival);
        if !create && !self.db.keyspace_exists(&name) {
            return Ok(None);
        }
        let keyspace = self.db.keyspace(&name, partition_options)?;
        self.partitions.push((hour, arrival, keyspace.clone()));
        Ok(Some(keyspace))
    }

    /// The finished payment `txn_id` as of sequence `as_of` (finished below it), if any.
    pub fn payment(
        &mut self,
        txn_id: TxnId,
        as_of: u64,
    ) -> Result<Option<StoredPayment>, StoreError> {
        for arrival in Arrival::BOTH {
            let Some(partition) = self.partition(partition_hour(txn_id), arrival, false)? else {
                continue;
            };
            let Some(bytes) = partition.get(payment_key(txn_id))? else {
                continue;
            };
            let payment = StoredPayment::decode(txn_id, &bytes)
                .map_err(|error| StoreError::Record { txn_id, error })?;
            return Ok((payment.finished_sequence < as_of).then_some(payment));
        }
        Ok(None)
    }

    /// The finished payment `txn_id` and what approved refunds took from it, both as of sequence
    /// `as_of`: one prefix read.
    pub fn original(
        &mut self,
        txn_id: TxnId,
        as_of: u64,
    ) -> Result<Option<(StoredPayment, u64)>, StoreError> {
        // The payment is in either partition (in both after a replay rewrote it, the same bytes);
        // its refunds' entries only in the late one, each once.
        let mut payment = None;
        let mut refunded_fen = 0u64;
        for arrival in Arrival::BOTH {
            let Some(partition) = self.partition(partition_hour(txn_id), arrival, false)? else {
                continue;
            };
            for entry in partition.prefix(payment_key(txn_id)) {
                let (key, value) = entry.into_inner()?;
                if key.len() == 16 {
                    let found = StoredPayment::decode(txn_id, &value)
                        .map_err(|error| StoreError::Record { txn_id, error })?;
                    if found.finished_sequence >= as_of {
                        return Ok(None);
                    }
                    payment = Some(found);
                } else {
                    let refund = StoredRefund::decode(&key, &value)
                        .map_err(|error| StoreError::Record { txn_id, error })?;
                    if refund.finished_sequence < as_of {
                        refunded_fen = refunded_fen.saturating_add(refund.amount_fen);
                    }
                }
            }
        }
        Ok(payment.map(|payment| (payment, refunded_fen)))
    }

    /// Writes `payments` into their hours' `arrival` partitions, and for each approved refund
    /// among them its entry under its original (in the original's hour's late partition). No
    /// sync: the journal is the durability. From [`STORE_INGEST_PAYMENTS_MIN`] records on, they
    /// are sorted and ingested straight into new tables, one per partition they touch: the
    /// engine's bulk ingestion, which bypasses its journal and memtables, so a record costs one
    /// encoding and no in-memory index. Fewer go through the engine's journal and memtables in
    /// one atomic batch, where a table and its syncs per write would cost more than the
    /// records. The records are the same either way. What the store is written through is
    /// recorded apart, after ([`PaymentStore::record_through`]).
    pub fn write(
        &mut self,
        payments: &[StoredPayment],
        arrival: Arrival,
    ) -> Result<(), StoreError> {
        if payments.is_empty() {
            return Ok(());
        }
        // One entry per key, sorted by partition, then key bytes: a payment's key is its id's
        // 16 big-endian bytes, a refund entry's is its original's then its own, so within a
        // partition (prefix, no suffix) < (prefix, suffix) orders them as the bytes do. The
        // index last: of two entries under one key (a replay writing what it wrote before), the
        // later is kept.
        let mut entries: Vec<WriteEntry> = Vec::with_capacity(payments.len() + payments.len() / 8);
        // Consecutive payments mostly share an hour: its number is worked out once per run.
        let mut hours = HourOf::default();
        for (index, payment) in payments.iter().enumerate() {
            let index = index as u32;
            entries.push(WriteEntry {
                hour: hours.of(payment.txn_id),
                arrival,
                prefix: payment.txn_id.0,
                suffix: None,
                index,
            });
            if payment.kind == crate::event::Kind::Refund
                && payment.outcome == crate::event::Outcome::Approved
            {
                entries.push(WriteEntry {
                    hour: partition_hour(payment.original),
                    arrival: Arrival::Late,
                    prefix: payment.original.0,
                    suffix: Some(payment.txn_id.0),
                    index,
                });
            }
        }
        if entries.len() < STORE_INGEST_PAYMENTS_MIN {
            let mut batch = self.db.batch();
            for entry in &entries {
                let partition = self
                    .partition(entry.hour, entry.arrival, true)?
                    .expect("created");
                match entry.record(payments) {
                    Record::Payment(key, value) => batch.insert(&partition, key, value),
                    Record::Refund(key, value) => batch.insert(&partition, key, value),
                }
            }
            batch.commit()?;
            return Ok(());
        }
        entries.sort_unstable_by_key(|entry| {
            (
                entry.hour,
                entry.arrival == Arrival::Late,
                entry.prefix,
                entry.suffix,
                entry.index,
            )
        });
        let mut start = 0;
        while start < entries.len() {
            let (hour, arrival) = (entries[start].hour, entries[start].arrival);
            let end = start
                + entries[start..]
                    .partition_point(|entry| entry.hour == hour && entry.arrival == arrival);
            let partition = self.partition(hour, arrival, true)?.expect("created");
            let mut ingestion = partition.start_ingestion()?;
            let mut put = |entry: &WriteEntry| match entry.record(payments) {
                Record::Payment(key, value) => ingestion.write(key, value),
                Record::Refund(key, value) => ingestion.write(key, value),
            };
            for pair in entries[start..end].windows(2) {
                if (pair[0].prefix, pair[0].suffix) != (pair[1].prefix, pair[1].suffix) {
                    put(&pair[0])?;
                }
            }
            put(&entries[end - 1])?;
            ingestion.finish()?;
            start = end;
        }
        Ok(())
    }

    /// Records that the store holds every payment that finished below sequence `through`:
    /// after the write that made it so.
    pub fn record_through(&mut self, through: u64) -> Result<(), StoreError> {
        self.meta.insert(THROUGH_KEY, through.to_le_bytes())?;
        Ok(())
    }

    /// Drops every partition whose hour ended at or before `horizon_unix_s`: the payments whose
    /// ids are beyond retention. Returns how many hours it dropped.
    pub fn expire(&mut self, horizon_unix_s: u64) -> Result<usize, StoreError> {
        let mut dropped = Vec::new();
        for name in self.db.list_keyspace_names() {
            let Some(hour) = partition_hour_of(&name) else {
                continue;
            };
            if hour == 0 || (hour + 1) * PARTITION_SPAN_S > horizon_unix_s {
                continue;
            }
            let keyspace = self.db.keyspace(&name, partition_options)?;
            self.partitions.retain(|(at, _, _)| *at != hour);
            self.db.delete_keyspace(keyspace)?;
            if !dropped.contains(&hour) {
                dropped.push(hour);
            }
        }
        Ok(dropped.len())
    }

    /// Forgets the partitions this handle opened whose hour ended at or before `horizon_unix_s`
    /// (another handle may drop them).
    pub fn forget_before(&mut self, horizon_unix_s: u64) {
        self.partitions
            .retain(|(hour, _, _)| *hour == 0 || (hour + 1) * PARTITION_SPAN_S > horizon_unix_s);
    }

    /// The hours the store has partitions for, oldest first.
    pub fn partition_hours(&self) -> Vec<u64> {
        let mut hours: Vec<u64> = self
            .db
            .list_keyspace_names()
            .iter()
            .filter_map(|name| partition_hour_of(name))
            .collect();
        hours.sort_unstable();
        hours.dedup();
        hours
    }

    /// Every partition, each hour's in-order one first.
    fn all_partitions(&mut self) -> Result<Vec<Keyspace>, StoreError> {
        let mut partitions = Vec::new();
        for hour in self.partition_hours() {
            for arrival in Arrival::BOTH {
                partitions.extend(self.partition(hour, arrival, false)?);
            }
        }
        Ok(partitions)
    }

    /// Bytes of written payments still in memory, not yet flushed into tables (the active and
    /// sealed memtables).
    pub fn unflushed_bytes(&self) -> u64 {
        self.db.write_buffer_size()
    }

    /// Seals the active memtable of every partition this handle writes, so that the engine's
    /// background thread flushes them: what a writer waiting for memory asks for.
    pub fn request_flush(&self) -> Result<(), StoreError> {
        for (_, _, partition) in &self.partitions {
            partition.rotate_memtable()?;
        }
        self.meta.rotate_memtable()?;
        Ok(())
    }

    /// Memtable flushes queued and not yet done by the engine's background thread.
    pub fn flushes_pending(&self) -> usize {
        self.db.outstanding_flushes()
    }

    /// Bytes on disk: tables, blobs and the engine's journal (which it pre-allocates in 64 MiB
    /// files).
    pub fn disk_bytes(&self) -> u64 {
        self.db.disk_space().unwrap_or(0)
    }

    /// Bytes of the partitions' tables on disk: what the store's payments take once flushed,
    /// without the engine's journal.
    pub fn table_bytes(&self) -> u64 {
        self.db
            .disk_space()
            .unwrap_or(0)
            .saturating_sub(self.db.journal_disk_space().unwrap_or(0))
    }

    /// Flushes every partition's memtable into tables and compacts them fully, waiting for both:
    /// what a measurement of bytes per payment needs first. Not for the write path.
    pub fn settle(&mut self) -> Result<(), StoreError> {
        for partition in self.all_partitions()? {
            partition.rotate_memtable_and_wait()?;
            partition.major_compact()?;
        }
        Ok(())
    }

    /// Reads every record and decodes it: the payments and refund entries it holds, or the
    /// first damaged one.
    pub fn verify(&mut self) -> Result<StoreCounts, StoreError> {
        let mut counts = StoreCounts::default();
        for partition in self.all_partitions()? {
            for entry in partition.iter() {
                let (key, value) = entry.into_inner()?;
                let txn_id = key_txn_id(&key).map_err(|error| StoreError::Record {
                    txn_id: TxnId::NONE,
                    error,
                })?;
                if key.len() == 16 {
                    StoredPayment::decode(txn_id, &value)
                        .map_err(|error| StoreError::Record { txn_id, error })?;
                    counts.payments += 1;
                } else {
                    StoredRefund::decode(&key, &value)
                        .map_err(|error| StoreError::Record { txn_id, error })?;
                    counts.refunds += 1;
                }
            }
        }
        Ok(counts)
    }
}

/// [`partition_hour`], remembered for the last date and hour of the day asked about.
#[derive(Default)]
struct HourOf {
    last: Option<((u32, u64), u64)>,
}

impl HourOf {
    fn of(&mut self, txn_id: TxnId) -> u64 {
        // The date and hour of the day: ids of one hour share them.
        let key = (txn_id.date(), txn_id.second_of_day() / PARTITION_SPAN_S);
        match self.last {
            Some((seen, hour)) if seen == key => hour,
            _ => {
                let hour = partition_hour(txn_id);
                self.last = Some((key, hour));
                hour
            }
        }
    }
}

/// One key of a write, for sorting: see [`PaymentStore::write`].
#[derive(Clone, Copy)]
struct WriteEntry {
    hour: u64,
    arrival: Arrival,
    prefix: u128,
    suffix: Option<u128>,
    index: u32,
}

impl WriteEntry {
    /// Its key and value.
    fn record(&self, payments: &[StoredPayment]) -> Record {
        let payment = &payments[self.index as usize];
        match self.suffix {
            None => Record::Payment(payment_key(payment.txn_id), payment.encode()),
            Some(_) => {
                let refund = StoredRefund {
                    original: payment.original,
                    txn_id: payment.txn_id,
                    amount_fen: payment.amount_fen,
                    finished_sequence: payment.finished_sequence,
                };
                Record::Refund(
                    refund_key(payment.original, payment.txn_id),
                    refund.encode(),
                )
            }
        }
    }
}

/// A record's key and value bytes.
enum Record {
    Payment([u8; 16], [u8; PAYMENT_VALUE_BYTES]),
    Refund([u8; 32], [u8; REFUND_VALUE_BYTES]),
}

/// What [`PaymentStore::verify`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Finished payments.
    pub payments: u64,
    /// Approved refunds' entries.
    pub refunds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Kind, Outcome, ParticipantId};

    fn payment(txn_id: TxnId, kind: Kind, outcome: Outcome, sequence: u64) -> StoredPayment {
        StoredPayment {
            txn_id,
            original: TxnId::NONE,
            fingerprint: 7,
            amount_fen: 1_000,
            outcome,
            kind,
            institution: ParticipantId(1),
            bank: ParticipantId(2),
            batch: 1,
            finished_sequence: sequence,
            finished_ns: sequence * 10,
        }
    }

    fn folder(name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("clearway-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        path
    }

    #[test]
    fn partition_names_round_trip_to_their_hour() {
        let id = TxnId::at(1_796_686_205, 1);
        let hour = partition_hour(id);
        assert_eq!(partition_name(hour, Arrival::InOrder), "h2026120723");
        assert_eq!(partition_name(hour, Arrival::Late), "h2026120723l");
        assert_eq!(partition_hour_of("h2026120723"), Some(hour));
        assert_eq!(partition_hour_of("h2026120723l"), Some(hour));
        assert_eq!(partition_hour(TxnId(7)), 0);
        assert_eq!(partition_name(0, Arrival::InOrder), "h0");
        assert_eq!(partition_name(0, Arrival::Late), "h0l");
        assert_eq!(partition_hour_of("h0"), Some(0));
        assert_eq!(partition_hour_of("h0l"), Some(0));
        assert_eq!(partition_hour_of("meta"), None);
        assert_eq!(partition_hour_of("h2026120799"), None);
    }

    #[test]
    fn a_payment_is_found_as_of_a_later_sequence_only_with_its_refunds() {
        let path = folder("as-of");
        let mut store = PaymentStore::open(&path).unwrap();
        assert_eq!(store.through().unwrap(), 0);
        let original = TxnId::at(1_796_686_205, 1);
        let refund_id = TxnId::at(1_796_690_000, 2);
        let debit = payment(original, Kind::AgreementDebit, Outcome::Approved, 10);
        let mut refund = payment(refund_id, Kind::Refund, Outcome::Approved, 20);
        refund.original = original;
        refund.amount_fen = 300;
        store.write(&[debit], Arrival::InOrder).unwrap();
        store.record_through(11).unwrap();
        store.write(&[refund], Arrival::InOrder).unwrap();
        store.record_through(21).unwrap();
        assert_eq!(store.through().unwrap(), 21);
        assert_eq!(store.payment(original, 10).unwrap(), None);
        assert_eq!(store.payment(original, 11).unwrap(), Some(debit));
        assert_eq!(store.original(original, 11).unwrap(), Some((debit, 0)));
        assert_eq!(store.original(original, 21).unwrap(), Some((debit, 300)));
        assert_eq!(store.payment(refund_id, 21).unwrap(), Some(refund));
        assert_eq!(
            store.payment(TxnId::at(1_796_686_205, 9), 99).unwrap(),
            None
        );
        assert_eq!(
            store.verify().unwrap(),
            StoreCounts {
                payments: 2,
                refunds: 1
            }
        );
        drop(store);
        let mut again = PaymentStore::open(&path).unwrap();
        assert_eq!(again.through().unwrap(), 21);
        assert_eq!(again.original(original, 99).unwrap(), Some((debit, 300)));
        drop(again);
        std::fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn expiry_drops_whole_hours_past_the_horizon() {
        let path = folder("expiry");
        let mut store = PaymentStore::open(&path).unwrap();
        let old = TxnId::at(1_796_680_000, 1); // 21:46
        let new = TxnId::at(1_796_686_205, 1); // 23:30
        let numbered = TxnId(5);
        store
            .write(
                &[
                    payment(old, Kind::PayoutCredit, Outcome::Declined, 1),
                    payment(new, Kind::PayoutCredit, Outcome::Expired, 2),
                    payment(numbered, Kind::PayoutCredit, Outcome::Expired, 3),
                ],
                Arrival::InOrder,
            )
            .unwrap();
        store
            .write(
                &[payment(
                    TxnId::at(1_796_680_001, 2),
                    Kind::PayoutCredit,
                    Outcome::Declined,
                    5,
                )],
                Arrival::Late,
            )
            .unwrap();
        assert_eq!(store.partition_hours().len(), 3);
        // 22:00 ends the 21:00 hour.
        assert_eq!(store.expire(1_796_680_800).unwrap(), 1);
        assert_eq!(store.payment(old, 9).unwrap(), None);
        assert!(store.payment(new, 9).unwrap().is_some());
        assert!(store.payment(numbered, 9).unwrap().is_some());
        assert_eq!(store.expire(1_796_680_800).unwrap(), 0);
        drop(store);
        std::fs::remove_dir_all(&path).unwrap();
    }

    /// `count` payments of one second, ids out of order, every tenth an approved refund of the
    /// first.
    fn second_of_payments(count: u64) -> Vec<StoredPayment> {
        let first = TxnId::at(1_796_686_205, 1);
        (0..count)
            .map(|index| {
                let id = TxnId::at(
                    1_796_686_205,
                    u128::from(index.wrapping_mul(7_919) % count) + 1,
                );
                if index % 10 == 9 {
                    let mut refund = payment(id, Kind::Refund, Outcome::Approved, index);
                    refund.original = first;
                    refund.amount_fen = 1;
                    refund
                } else {
                    payment(id, Kind::AgreementDebit, Outcome::Approved, index)
                }
            })
            .collect()
    }

    #[test]
    fn an_ingested_write_reads_back_as_a_batched_one() {
        let count = STORE_INGEST_PAYMENTS_MIN as u64 * 2;
        let payments = second_of_payments(count);
        let first = TxnId::at(1_796_686_205, 1);
        let mut answers = Vec::new();
        for (name, chunk) in [("ingested", payments.len()), ("batched", 1_000)] {
            let path = folder(name);
            let mut store = PaymentStore::open(&path).unwrap();
            for part in payments.chunks(chunk) {
                store.write(part, Arrival::Late).unwrap();
            }
            // A replay writing a part again, in the other partition: read once, counted twice.
            store.write(&payments[..100], Arrival::InOrder).unwrap();
            let counts = store.verify().unwrap();
            assert_eq!(counts.refunds, count / 10, "{name}");
            assert_eq!(counts.payments, count + 100, "{name}");
            for payment in &payments {
                assert_eq!(
                    store.payment(payment.txn_id, u64::MAX).unwrap(),
                    Some(*payment),
                    "{name}"
                );
            }
            answers.push(store.original(first, u64::MAX).unwrap());
            drop(store);
            std::fs::remove_dir_all(&path).unwrap();
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].map(|(_, refunded)| refunded), Some(count / 10));
    }

    #[test]
    fn an_ingestion_keeps_the_later_of_two_records_under_one_key() {
        let path = folder("twice");
        let mut store = PaymentStore::open(&path).unwrap();
        let mut payments = second_of_payments(STORE_INGEST_PAYMENTS_MIN as u64);
        let mut again = payments[5];
        again.finished_sequence = 99_999;
        payments.push(again);
        store.write(&payments, Arrival::InOrder).unwrap();
        assert_eq!(store.payment(again.txn_id, u64::MAX).unwrap(), Some(again));
        drop(store);
        std::fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn a_folder_that_is_not_an_empty_store_is_refused() {
        let path = folder("not-a-store");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("stray"), b"x").unwrap();
        assert!(PaymentStore::open(&path).is_err());
        std::fs::remove_dir_all(&path).unwrap();
    }
}
