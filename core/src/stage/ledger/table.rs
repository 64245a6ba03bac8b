//! [`Table`]: one generation of the idempotency window, an open-addressing hash table of
//! [`Record`]s by `txn_id`, each in one 40-byte slot that one cache line (usually) holds.
//!
//! A record is a payment pending at its bank (outcome `Forwarded`, with its hold's slab
//! position) or finished (`Approved`, `Declined` or `Expired`, with what refunds may still
//! take). A payment placed turns into a finished one in the same slot, so a payment and its
//! reply touch one slot where a map of holds and a map of finished payments touched four
//! (control bytes and bucket of each).
//!
//! Linear probing over a power-of-two array at most half full
//! ([`WINDOW_SLOTS_PER_ENTRY`](crate::constants::WINDOW_SLOTS_PER_ENTRY)): a lookup reads the
//! home slot and, on a collision, its neighbours, which sit in the same or the next cache line,
//! so a new payment's lookup costs one cache line (and one page) of the table, and its reply
//! finds that line still cached. (A separate byte of tag per slot, as SwissTable keeps, costs a
//! second line and page per lookup; measured slower here.) Nothing is ever removed from a
//! generation; the cutover empties it at once by moving to the next epoch: a slot belongs to the
//! table only when its epoch is the table's, so the slots of earlier epochs read as empty and
//! clearing costs nothing per slot (except once every 2^32 cutovers, when the epoch wraps and the
//! slots are zeroed).
//!
//! The slots are plain `[u64; 5]` words so that the allocation is zeroed memory the operating
//! system hands out lazily: a table of 2^23 slots (320 MiB) costs pages only as they fill.
//!
//! Beside the slots, the table lists the slot of each live record in the order the records were
//! placed (one `u32` appended per new record, reserved at construction like the slots and paged
//! in the same way). A snapshot reads the live records through it, in an order that does not
//! depend on where the probes put them, without a pass over millions of empty slots; the
//! cutover empties it with the table.

use crate::constants::WINDOW_SLOTS_PER_ENTRY;
use crate::event::{Kind, Outcome, ParticipantId, TxnId};

/// One slot: key low word, key high word, fingerprint, value, and a word packing epoch (bits
/// 0–31), outcome (32–39), kind (40–47) and institution (48–63).
type Slot = [u64; 5];

/// The slot's word packing epoch, outcome, kind and institution.
const META: usize = 4;

/// Live slots [`Table::records`] copies out at once: at least as many misses as a core keeps in
/// flight (a few tens), in 1.3 KiB of stack.
const RECORDS_GATHERED: usize = 32;

/// A payment as a window generation keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// The payment's id.
    pub txn_id: TxnId,
    /// The fingerprint of the fields idempotency compares.
    pub fingerprint: u64,
    /// Pending: the hold's slab position. Finished: for an approved debit, what refunds may
    /// still take (reservations of pending refunds already subtracted); zero otherwise.
    pub value: u64,
    /// `Forwarded` while pending; then `Approved`, `Declined` or `Expired`.
    pub outcome: Outcome,
    /// Its kind.
    pub kind: Kind,
    /// The institution that sent it.
    pub institution: ParticipantId,
}

impl Record {
    /// Whether its hold is still pending at the bank.
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.outcome == Outcome::Forwarded
    }
}

/// Where a lookup ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The record with the id is in this slot.
    Found(usize),
    /// No record has the id; this empty slot is where it would go.
    Vacant(usize),
}

/// One generation: see the module documentation.
pub(crate) struct Table {
    slots: Box<[Slot]>,
    /// `slots.len() - 1`: the slot count is a power of two.
    mask: usize,
    /// The epoch whose slots are live; never 0, the epoch of zeroed memory.
    epoch: u32,
    /// The slot of each live record, in the order they were placed: its length is the number of
    /// live records, at most half the slots ([`Table::records_max`], reserved at construction).
    live: Vec<u32>,
}

impl Table {
    /// A table for `capacity` records, allocated and paged in now.
    ///
    /// Zeroed memory from the allocator is mapped lazily: left so, the first write to each page
    /// faults, and with transparent huge pages each fault zeroes 2 MiB. Records land wherever
    /// their ids hash, so the first few hundred payments of a run would fault in nearly the whole
    /// table at once: measured on the 2-core dev box, a node whose window generation had 2M slots
    /// stopped for ~150 ms at its first payments. Writing one word of every page here moves that
    /// cost to construction.
    pub fn with_capacity(capacity: usize) -> Table {
        let slot_count = (capacity.max(1) * WINDOW_SLOTS_PER_ENTRY).next_power_of_two();
        assert!(
            slot_count - 1 <= u32::MAX as usize,
            "a window generation of {capacity} records exceeds u32 slot indices"
        );
        let mut slots = vec![[0u64; 5]; slot_count].into_boxed_slice();
        // The zero goes through `black_box`, so the compiler cannot drop stores of zero into
        // memory it knows the allocator zeroed.
        let zero = std::hint::black_box(0u64);
        let slots_per_page = (4096 / std::mem::size_of::<[u64; 5]>()).max(1);
        for slot in slots.iter_mut().step_by(slots_per_page) {
            slot[META] = zero;
        }
        Table {
            slots,
            mask: slot_count - 1,
            epoch: 1,
            live: Vec::with_capacity(Self::records_max(slot_count)),
        }
    }

    /// The most records a table of `slot_count` slots takes: half its slots, so a probe always
    /// ends at an empty one.
    fn records_max(slot_count: usize) -> usize {
        slot_count / 2
    }

    /// Live records.
    #[inline]
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// The slot count: constant for the table's life.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Finds `txn_id`'s slot, or the empty slot where it would go.
    #[inline]
    pub fn probe(&self, txn_id: TxnId) -> Probe {
        let key = key_of(txn_id);
        let mut index = home(key) & self.mask;
        loop {
            let slot = &self.slots[index];
            if slot[META] as u32 != self.epoch {
                return Probe::Vacant(index);
            }
            if slot[0] == key[0] && slot[1] == key[1] {
                return Probe::Found(index);
            }
            index = (index + 1) & self.mask;
        }
    }

    /// The record with `txn_id`, if any.
    #[inline]
    pub fn get(&self, txn_id: TxnId) -> Option<Record> {
        match self.probe(txn_id) {
            Probe::Found(index) => Some(self.record(index)),
            Probe::Vacant(_) => None,
        }
    }

    /// The record in slot `index`, which [`Table::probe`] found.
    #[inline]
    pub fn record(&self, index: usize) -> Record {
        decode(&self.slots[index], self.epoch)
    }

    /// The hold position of the record in slot `index`, which [`Table::probe`] found, if it is
    /// pending: [`Table::record`] without decoding the rest.
    #[inline]
    pub fn pending_position(&self, index: usize) -> Option<u64> {
        let slot = &self.slots[index];
        debug_assert_eq!(slot[META] as u32, self.epoch);
        ((slot[META] >> 32) as u8 == Outcome::Forwarded as u8).then_some(slot[3])
    }

    /// Writes `record` into slot `index`: the empty slot [`Table::probe`] returned for its id
    /// (a new record, which the caller keeps within capacity), or the slot it found (an update).
    #[inline(always)]
    pub fn write(&mut self, index: usize, record: &Record) {
        let key = key_of(record.txn_id);
        let slot = &mut self.slots[index];
        if slot[META] as u32 != self.epoch {
            debug_assert!(
                self.live.len() < Self::records_max(self.mask + 1),
                "a window generation over capacity"
            );
            self.live.push(index as u32);
        } else {
            debug_assert_eq!([slot[0], slot[1]], key);
        }
        *slot = [
            key[0],
            key[1],
            record.fingerprint,
            record.value,
            u64::from(self.epoch)
                | u64::from(record.outcome as u8) << 32
                | u64::from(record.kind as u8) << 40
                | u64::from(record.institution.0) << 48,
        ];
    }

    /// Finishes the pending record in slot `index`, which [`Table::probe`] found: its outcome
    /// and value change, the rest stays.
    #[inline]
    pub fn finish(&mut self, index: usize, outcome: Outcome, value: u64) {
        let slot = &mut self.slots[index];
        debug_assert_eq!(slot[META] as u32, self.epoch);
        debug_assert_eq!((slot[META] >> 32) as u8, Outcome::Forwarded as u8);
        slot[3] = value;
        slot[META] = slot[META] & !(0xFF << 32) | u64::from(outcome as u8) << 32;
    }

    /// The value word of the record in slot `index`, which [`Table::probe`] found.
    #[inline]
    pub fn value_mut(&mut self, index: usize) -> &mut u64 {
        debug_assert_eq!(self.slots[index][META] as u32, self.epoch);
        &mut self.slots[index][3]
    }

    /// Empties the table: the next epoch. Zeroes the slots only when the epoch wraps.
    pub fn clear(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slots.fill([0; 5]);
            self.epoch = 1;
        }
        self.live.clear();
    }

    /// Every live record, in the order they were placed: a read of each live slot, none of the
    /// empty ones. The slots lie wherever their ids hashed, so each read is likely a cache miss;
    /// they are copied [`RECORDS_GATHERED`] at a time in a loop that does nothing else, so that
    /// the misses overlap instead of waiting on each other. Measured on the 2-core dev box,
    /// saving a ledger whose two generations hold 360,000 records each: ~220 ms reading one
    /// slot after another, 60–90 ms gathered.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.live.chunks(RECORDS_GATHERED).flat_map(move |chunk| {
            let mut gathered = [[0u64; 5]; RECORDS_GATHERED];
            for (slot, &index) in gathered.iter_mut().zip(chunk) {
                *slot = self.slots[index as usize];
            }
            let epoch = self.epoch;
            (0..chunk.len()).map(move |at| decode(&gathered[at], epoch))
        })
    }

    /// Places `record`, whose id must not be in the table yet: false (and nothing placed) if it
    /// is, or if the table already holds the most records it takes. Control plane (a restore).
    pub fn insert(&mut self, record: &Record) -> bool {
        if self.live.len() >= Self::records_max(self.mask + 1) {
            return false;
        }
        match self.probe(record.txn_id) {
            Probe::Vacant(index) => {
                self.write(index, record);
                true
            }
            Probe::Found(_) => false,
        }
    }
}

/// The record a live slot of epoch `epoch` holds.
#[inline]
fn decode(slot: &Slot, epoch: u32) -> Record {
    debug_assert_eq!(slot[META] as u32, epoch);
    let meta = slot[META];
    Record {
        txn_id: TxnId(u128::from(slot[0]) | u128::from(slot[1]) << 64),
        fingerprint: slot[2],
        value: slot[3],
        outcome: outcome_of((meta >> 32) as u8),
        kind: Kind::from_code((meta >> 40) as u8).expect("a record's kind is a kind"),
        institution: ParticipantId((meta >> 48) as u16),
    }
}

/// The key's two words.
#[inline]
fn key_of(txn_id: TxnId) -> [u64; 2] {
    [txn_id.0 as u64, (txn_id.0 >> 64) as u64]
}

/// The key's home slot before masking: one 64×64→128-bit multiply of the two words (each
/// xored with a constant), halves xored (foldhash's mixing step). Ids that differ only in their
/// sequence (the low word) land far apart; the low bits of the result depend on every input bit.
/// The high factor is forced odd, so that for any one high word the product is a bijection of
/// the low word: no high word makes every id under it collide.
#[inline]
fn home(key: [u64; 2]) -> usize {
    const LOW_SEED: u64 = 0x243F_6A88_85A3_08D3;
    const HIGH_SEED: u64 = 0x1319_8A2E_0370_7344;
    let product = u128::from(key[0] ^ LOW_SEED) * u128::from((key[1] ^ HIGH_SEED) | 1);
    ((product as u64) ^ (product >> 64) as u64) as usize
}

/// The outcome with this discriminant (only those a record holds are ever stored).
#[inline]
fn outcome_of(byte: u8) -> Outcome {
    match byte {
        byte if byte == Outcome::Forwarded as u8 => Outcome::Forwarded,
        byte if byte == Outcome::Approved as u8 => Outcome::Approved,
        byte if byte == Outcome::Declined as u8 => Outcome::Declined,
        byte if byte == Outcome::Expired as u8 => Outcome::Expired,
        _ => unreachable!("a record's outcome is Forwarded, Approved, Declined or Expired"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u128, outcome: Outcome) -> Record {
        Record {
            txn_id: TxnId(id),
            fingerprint: id as u64 ^ 0xABCD,
            value: 7,
            outcome,
            kind: Kind::Refund,
            institution: ParticipantId(0xBEEF),
        }
    }

    fn insert(table: &mut Table, record: &Record) {
        match table.probe(record.txn_id) {
            Probe::Vacant(index) => table.write(index, record),
            Probe::Found(_) => panic!("{:?} inserted twice", record.txn_id),
        }
    }

    #[test]
    fn records_round_trip_through_their_slot() {
        let mut table = Table::with_capacity(4);
        for (id, outcome) in [
            (0, Outcome::Forwarded),
            (u128::MAX, Outcome::Approved),
            (1 << 64, Outcome::Declined),
            (TxnId::new(20261130, 5).0, Outcome::Expired),
        ] {
            let record = record(id, outcome);
            insert(&mut table, &record);
            assert_eq!(table.get(TxnId(id)), Some(record));
        }
        assert_eq!(table.len(), 4);
        assert_eq!(table.get(TxnId(1)), None);
    }

    #[test]
    fn a_full_table_of_sequential_ids_finds_each_and_clears_at_once() {
        let capacity = 1_000;
        let mut table = Table::with_capacity(capacity);
        let slot_count = table.slot_count();
        let ids: Vec<TxnId> = (0..capacity as u128)
            .map(|sequence| TxnId::new(20261130, sequence * 7_919 + 1))
            .collect();
        for round in 0..3 {
            for &id in &ids {
                insert(&mut table, &record(id.0, Outcome::Forwarded));
            }
            assert_eq!(table.len(), capacity);
            assert_eq!(table.records().count(), capacity);
            for &id in &ids {
                let Probe::Found(index) = table.probe(id) else {
                    panic!("{id:?} lost in round {round}");
                };
                table.write(index, &record(id.0, Outcome::Approved));
                *table.value_mut(index) += 1;
                assert_eq!(table.get(id).unwrap().outcome, Outcome::Approved);
                assert_eq!(table.get(id).unwrap().value, 8);
            }
            assert_eq!(table.len(), capacity);
            table.clear();
            assert_eq!(table.len(), 0);
            assert!(ids.iter().all(|&id| table.get(id).is_none()));
        }
        assert_eq!(table.slot_count(), slot_count);
    }

    #[test]
    fn live_records_list_in_placement_order_and_clear_with_the_table() {
        let mut table = Table::with_capacity(8);
        let ids = [90u128, 3, 1 << 70, 41, 7, 12, 5, 64];
        for id in ids {
            assert!(table.insert(&record(id, Outcome::Approved)), "{id}");
        }
        let listed: Vec<u128> = table.records().map(|record| record.txn_id.0).collect();
        assert_eq!(listed, ids);
        // An update in place keeps the record's place.
        let Probe::Found(index) = table.probe(TxnId(3)) else {
            panic!("3 placed");
        };
        table.write(index, &record(3, Outcome::Declined));
        assert_eq!(table.records().nth(1).unwrap().outcome, Outcome::Declined);
        assert_eq!(table.records().count(), ids.len());
        assert!(!table.insert(&record(41, Outcome::Approved)), "a duplicate");
        table.clear();
        assert_eq!(table.records().count(), 0);
        assert!(table.insert(&record(41, Outcome::Approved)));
        assert_eq!(
            table.records().map(|r| r.txn_id.0).collect::<Vec<_>>(),
            [41]
        );
    }

    #[test]
    fn insert_stops_at_half_the_slots() {
        let mut table = Table::with_capacity(2);
        assert_eq!(table.slot_count(), 4);
        assert!(table.insert(&record(1, Outcome::Approved)));
        assert!(table.insert(&record(2, Outcome::Approved)));
        assert!(
            !table.insert(&record(3, Outcome::Approved)),
            "a probe must end"
        );
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn the_epoch_wraps_to_zeroed_slots() {
        let mut table = Table::with_capacity(2);
        insert(&mut table, &record(3, Outcome::Approved));
        table.epoch = u32::MAX;
        insert(&mut table, &record(4, Outcome::Approved));
        table.clear();
        assert_eq!(table.epoch, 1);
        assert_eq!(table.get(TxnId(3)), None);
        assert_eq!(table.get(TxnId(4)), None);
    }

    #[test]
    fn ids_under_one_high_word_never_share_a_home() {
        // The high word that would zero an unforced multiplier, and an ordinary one.
        for high in [
            0x1319_8A2E_0370_7344u64,
            0x1319_8A2E_0370_7345,
            20261130 << 32,
        ] {
            let mut homes: Vec<usize> = (0..1_000u64).map(|low| home([low, high])).collect();
            homes.sort_unstable();
            homes.dedup();
            assert_eq!(homes.len(), 1_000, "high word {high:#x}");
        }
    }

    #[test]
    fn colliding_ids_probe_past_each_other() {
        // A table of 4 slots, half full: 40 ids share 4 home slots, so most lookups walk past
        // other keys before they reach an empty slot.
        let mut table = Table::with_capacity(2);
        assert_eq!(table.slot_count(), 4);
        let ids: Vec<u128> = (0..40).collect();
        let mut placed = vec![];
        for &id in &ids {
            if let Probe::Vacant(index) = table.probe(TxnId(id)) {
                if table.len() < 2 {
                    table.write(index, &record(id, Outcome::Approved));
                    placed.push(id);
                }
            }
        }
        for &id in &ids {
            assert_eq!(table.get(TxnId(id)).is_some(), placed.contains(&id), "{id}");
        }
    }
}
