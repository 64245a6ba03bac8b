//! The payment store on fjall 3: one `Database`, one `Keyspace` per partition.

use crate::{
    id_hour, partition_name, partition_slot, payment_value, Store, BATCH, REFUNDS_SLOT, SLOTS,
};
use fjall::config::{BloomConstructionPolicy, CompressionPolicy, FilterPolicy, FilterPolicyEntry};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions};
use std::path::Path;

/// A fjall database and its keyspaces, indexed by partition slot.
pub struct FjallStore {
    db: Database,
    parts: Vec<Option<Keyspace>>,
}

/// Keyspace options: Bloom filters at 10 bits per key and LZ4 on every level (fjall's
/// defaults are a 0.01 % false-positive rate on L0 and no compression on L0/L1), 4 KiB
/// blocks and 64 MiB memtables (the defaults).
fn keyspace_options() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .filter_policy(FilterPolicy::all(FilterPolicyEntry::Bloom(
            BloomConstructionPolicy::BitsPerKey(10.0),
        )))
        .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
}

/// Opens (or creates) the database: 64 MiB block cache, two worker threads, and
/// `manual_journal_persist(true)` so that write batches neither flush nor sync the journal.
fn open_db(dir: &Path) -> Database {
    Database::builder(dir)
        .cache_size(64 * 1024 * 1024)
        .worker_threads(2)
        .manual_journal_persist(true)
        .open()
        .expect("open fjall database")
}

impl FjallStore {
    fn part(&self, slot: usize) -> &Keyspace {
        self.parts[slot].as_ref().expect("partition is open")
    }

    fn each_part(&self) -> impl Iterator<Item = &Keyspace> {
        self.parts.iter().flatten()
    }
}

impl Store for FjallStore {
    fn create(dir: &Path, slots: &[usize]) -> Self {
        let db = open_db(dir);
        let mut parts = vec![None; SLOTS];
        for &slot in slots {
            let ks = db
                .keyspace(&partition_name(slot), keyspace_options)
                .expect("create keyspace");
            parts[slot] = Some(ks);
        }
        Self { db, parts }
    }

    fn reopen(dir: &Path) -> Self {
        let db = open_db(dir);
        let mut parts = vec![None; SLOTS];
        for name in db.list_keyspace_names() {
            if let Some(slot) = partition_slot(&name) {
                parts[slot] = Some(db.keyspace(&name, keyspace_options).expect("open keyspace"));
            }
        }
        Self { db, parts }
    }

    fn write_payments(&mut self, ids: &[u128]) {
        for (chunk_no, chunk) in ids.chunks(BATCH).enumerate() {
            let mut batch = self.db.batch();
            for (j, &id) in chunk.iter().enumerate() {
                let i = (chunk_no * BATCH + j) as u64;
                let value = payment_value(i, id);
                batch.insert(self.part(id_hour(id)), &id.to_be_bytes()[..], &value[..]);
            }
            batch.commit().expect("commit batch");
        }
    }

    fn write_refunds(&mut self, keys: &[[u8; 32]]) {
        let ks = self.part(REFUNDS_SLOT);
        for chunk in keys.chunks(BATCH) {
            let mut batch = self.db.batch();
            for key in chunk {
                batch.insert(ks, &key[..], &key[24..]);
            }
            batch.commit().expect("commit batch");
        }
    }

    fn flush(&mut self) {
        for ks in self.each_part() {
            ks.rotate_memtable_and_wait().expect("flush keyspace");
        }
    }

    fn compact(&mut self) {
        for ks in self.each_part() {
            ks.major_compact().expect("compact keyspace");
        }
    }

    fn get_many(&self, ids: &[u128]) -> usize {
        let parts: Vec<Option<&Keyspace>> = self.parts.iter().map(Option::as_ref).collect();
        ids.iter()
            .filter(|&&id| {
                let ks = parts[id_hour(id)].expect("partition is open");
                ks.get(id.to_be_bytes()).expect("get").is_some()
            })
            .count()
    }

    fn scan_many(&self, prefixes: &[u128]) -> usize {
        let ks = self.part(REFUNDS_SLOT);
        prefixes
            .iter()
            .map(|p| {
                ks.prefix(p.to_be_bytes())
                    .map(|guard| guard.key().expect("scan").len())
                    .filter(|&len| len == 32)
                    .count()
            })
            .sum()
    }

    fn partition_bytes(&self, slot: usize) -> u64 {
        self.part(slot).disk_space()
    }

    fn drop_partition(&mut self, slot: usize) {
        let ks = self.parts[slot].take().expect("partition is open");
        self.db.delete_keyspace(ks).expect("delete keyspace");
    }

    fn delete_keys(&mut self, slot: usize, ids: &[u128]) {
        let ks = self.part(slot);
        for chunk in ids.chunks(BATCH) {
            let mut batch = self.db.batch();
            for id in chunk {
                batch.remove(ks, &id.to_be_bytes()[..]);
            }
            batch.commit().expect("commit batch");
        }
    }

    fn clear_partition(&mut self, slot: usize) {
        self.part(slot).clear().expect("clear keyspace");
    }
}
