//! The payment store on RocksDB (`rocksdb` 0.25): one `DB`, one column family per partition.

use crate::{
    id_hour, partition_name, partition_slot, payment_value, Store, BATCH, REFUNDS_SLOT, SLOTS,
};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Options,
    ReadOptions, WriteBatch, WriteOptions, DB,
};
use std::path::Path;

/// A RocksDB database; column families are looked up by slot name.
pub struct RocksStore {
    db: DB,
    /// Which slots have a column family.
    present: [bool; SLOTS],
    /// Kept alive for as long as the database uses it.
    _cache: Cache,
}

/// Options for the database and every column family: Bloom filters at 10 bits per key, a
/// shared 64 MiB LRU block cache, LZ4 on every level, 4 KiB blocks and 64 MiB memtables (the
/// defaults), two background jobs.
fn options(cache: &Cache) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_bloom_filter(10.0, false);
    table.set_block_size(4 * 1024);
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_write_buffer_size(64 * 1024 * 1024);
    opts.set_max_background_jobs(2);
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts
}

/// Writes are never synced and skip the WAL: the store is derived from the journal.
fn write_options() -> WriteOptions {
    let mut wo = WriteOptions::default();
    wo.disable_wal(true);
    wo.set_sync(false);
    wo
}

fn open(dir: &Path, names: Vec<String>) -> RocksStore {
    let cache = Cache::new_lru_cache(64 * 1024 * 1024);
    let opts = options(&cache);
    let mut present = [false; SLOTS];
    for name in &names {
        if let Some(slot) = partition_slot(name) {
            present[slot] = true;
        }
    }
    let cfs = names
        .into_iter()
        .map(|n| ColumnFamilyDescriptor::new(n, options(&cache)));
    let db = DB::open_cf_descriptors(&opts, dir, cfs).expect("open rocksdb");
    RocksStore {
        db,
        present,
        _cache: cache,
    }
}

impl RocksStore {
    fn cf(&self, slot: usize) -> &ColumnFamily {
        self.db
            .cf_handle(&partition_name(slot))
            .expect("column family is open")
    }

    /// Column family handles indexed by slot, resolved once per phase.
    fn handles(&self) -> Vec<Option<&ColumnFamily>> {
        (0..SLOTS)
            .map(|s| {
                if self.present[s] {
                    Some(self.cf(s))
                } else {
                    None
                }
            })
            .collect()
    }
}

impl Store for RocksStore {
    fn create(dir: &Path, slots: &[usize]) -> Self {
        open(dir, slots.iter().map(|&s| partition_name(s)).collect())
    }

    fn reopen(dir: &Path) -> Self {
        let names = DB::list_cf(&Options::default(), dir).expect("list column families");
        open(dir, names)
    }

    fn write_payments(&mut self, ids: &[u128]) {
        let wo = write_options();
        let cfs = self.handles();
        for (chunk_no, chunk) in ids.chunks(BATCH).enumerate() {
            let mut batch = WriteBatch::default();
            for (j, &id) in chunk.iter().enumerate() {
                let i = (chunk_no * BATCH + j) as u64;
                let cf = cfs[id_hour(id)].expect("column family is open");
                batch.put_cf(cf, id.to_be_bytes(), payment_value(i, id));
            }
            self.db.write_opt(batch, &wo).expect("write batch");
        }
    }

    fn write_refunds(&mut self, keys: &[[u8; 32]]) {
        let wo = write_options();
        let cf = self.cf(REFUNDS_SLOT);
        for chunk in keys.chunks(BATCH) {
            let mut batch = WriteBatch::default();
            for key in chunk {
                batch.put_cf(cf, key, &key[24..]);
            }
            self.db.write_opt(batch, &wo).expect("write batch");
        }
    }

    fn flush(&mut self) {
        for cf in self.handles().into_iter().flatten() {
            self.db.flush_cf(cf).expect("flush column family");
        }
    }

    fn compact(&mut self) {
        for cf in self.handles().into_iter().flatten() {
            self.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
    }

    fn get_many(&self, ids: &[u128]) -> usize {
        let cfs = self.handles();
        let ro = ReadOptions::default();
        ids.iter()
            .filter(|&&id| {
                let cf = cfs[id_hour(id)].expect("column family is open");
                self.db
                    .get_pinned_cf_opt(cf, id.to_be_bytes(), &ro)
                    .expect("get")
                    .is_some()
            })
            .count()
    }

    fn scan_many(&self, prefixes: &[u128]) -> usize {
        let cf = self.cf(REFUNDS_SLOT);
        prefixes
            .iter()
            .map(|&p| {
                let mut ro = ReadOptions::default();
                ro.set_iterate_upper_bound((p + 1).to_be_bytes());
                let mut it = self.db.raw_iterator_cf_opt(cf, ro);
                it.seek(p.to_be_bytes());
                let mut rows = 0;
                while let Some(key) = it.key() {
                    if key.len() == 32 {
                        rows += 1;
                    }
                    it.next();
                }
                it.status().expect("scan");
                rows
            })
            .sum()
    }

    fn partition_bytes(&self, slot: usize) -> u64 {
        self.db
            .property_int_value_cf(self.cf(slot), "rocksdb.total-sst-files-size")
            .expect("property")
            .unwrap_or(0)
    }

    fn drop_partition(&mut self, slot: usize) {
        self.db
            .drop_cf(&partition_name(slot))
            .expect("drop column family");
        self.present[slot] = false;
    }

    fn delete_keys(&mut self, slot: usize, ids: &[u128]) {
        let wo = write_options();
        let cf = self.cf(slot);
        for chunk in ids.chunks(BATCH) {
            let mut batch = WriteBatch::default();
            for id in chunk {
                batch.delete_cf(cf, id.to_be_bytes());
            }
            self.db.write_opt(batch, &wo).expect("write batch");
        }
    }

    fn clear_partition(&mut self, slot: usize) {
        let start = (slot as u128 * 3_600) << 79 | u128::from(crate::DATE) << 96;
        let end = ((slot as u128 + 1) * 3_600) << 79 | u128::from(crate::DATE) << 96;
        self.db
            .delete_range_cf_opt(
                self.cf(slot),
                start.to_be_bytes(),
                end.to_be_bytes(),
                &write_options(),
            )
            .expect("delete range");
    }
}
