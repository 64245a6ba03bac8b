//! [`StateWriter`] and [`StateReader`]: the byte format a stage's state is saved in for a
//! snapshot, and [`StateError`], why saved bytes were refused.
//!
//! Every value is little-endian and fixed-size (`u8` to `u128`, `i128`); a byte string is a
//! `u32` length and then its bytes. Nothing is self-describing: the reader must ask for exactly
//! what the writer wrote, in the same order, and names each read so that a refusal says what it
//! was reading ("the ledger's hold count: …").
//!
//! The reader trusts nothing. Every read is bounds-checked against the bytes remaining and
//! returns a [`StateError`] instead of panicking; a count of items is only ever used to size an
//! allocation after [`StateReader::read_count`] has checked that the bytes remaining could hold
//! that many items, so a corrupt count cannot ask for gigabytes. [`StateReader::finish`] refuses
//! bytes left over.

use std::fmt;

/// Why saved state was refused: what was being read, and a sentence saying what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    /// What was being read: "the ledger's hold count", "route's participant 12".
    pub what: String,
    /// Why it was refused, as a sentence: "the state ends 3 bytes into it".
    pub why: String,
}

impl StateError {
    /// A refusal of `what`, because `why`.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> StateError {
        StateError {
            what: what.into(),
            why: why.into(),
        }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "saved state refused at {}: {}",
            self.what, self.why
        )
    }
}

impl std::error::Error for StateError {}

/// Appends values in the saved-state format to a buffer it owns.
#[derive(Clone, Debug, Default)]
pub struct StateWriter {
    bytes: Vec<u8>,
}

impl StateWriter {
    /// An empty writer.
    pub fn new() -> StateWriter {
        StateWriter::default()
    }

    /// Makes room for `additional` more bytes, so a large section costs one allocation.
    pub fn reserve(&mut self, additional: usize) {
        self.bytes.reserve(additional);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends `value`.
    #[inline]
    pub fn write_u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    /// Appends `value`, little-endian.
    #[inline]
    pub fn write_u16(&mut self, value: u16) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends `value`, little-endian.
    #[inline]
    pub fn write_u32(&mut self, value: u32) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends `value`, little-endian.
    #[inline]
    pub fn write_u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends `value`, little-endian.
    #[inline]
    pub fn write_u128(&mut self, value: u128) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends `value`, little-endian two's complement.
    #[inline]
    pub fn write_i128(&mut self, value: i128) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends a count of items that follow, as a `u32`.
    ///
    /// # Panics
    ///
    /// If `count` does not fit in a `u32`: no table the stages keep holds 2^32 items.
    #[inline]
    pub fn write_count(&mut self, count: usize) {
        let count = u32::try_from(count).expect("a saved count fits in a u32");
        self.write_u32(count);
    }

    /// Appends `bytes` as they are, with no length: for fixed-size fields such as a hash.
    #[inline]
    pub fn write_array(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Appends `bytes` behind their length (a `u32`).
    ///
    /// # Panics
    ///
    /// If `bytes` is 4 GiB or longer.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_count(bytes.len());
        self.bytes.extend_from_slice(bytes);
    }

    /// What was written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads values in the saved-state format from a byte slice, refusing instead of panicking.
#[derive(Clone, Debug)]
pub struct StateReader<'a> {
    bytes: &'a [u8],
    /// Bytes read so far; in `0..=bytes.len()`.
    offset: usize,
}

impl<'a> StateReader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> StateReader<'a> {
        StateReader { bytes, offset: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The next `length` bytes, or a refusal of `what` if fewer remain.
    #[inline]
    fn take(&mut self, what: &str, length: usize) -> Result<&'a [u8], StateError> {
        let remaining = self.remaining();
        if length > remaining {
            return Err(StateError::new(
                what,
                format!(
                    "it needs {length} bytes at offset {}, but only {remaining} remain: the \
                     state is cut short",
                    self.offset
                ),
            ));
        }
        let taken = &self.bytes[self.offset..self.offset + length];
        self.offset += length;
        Ok(taken)
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub fn read_array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], StateError> {
        let bytes = self.take(what, N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    /// A `u8`.
    #[inline]
    pub fn read_u8(&mut self, what: &str) -> Result<u8, StateError> {
        Ok(self.read_array::<1>(what)?[0])
    }

    /// A little-endian `u16`.
    #[inline]
    pub fn read_u16(&mut self, what: &str) -> Result<u16, StateError> {
        self.read_array(what).map(u16::from_le_bytes)
    }

    /// A little-endian `u32`.
    #[inline]
    pub fn read_u32(&mut self, what: &str) -> Result<u32, StateError> {
        self.read_array(what).map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    #[inline]
    pub fn read_u64(&mut self, what: &str) -> Result<u64, StateError> {
        self.read_array(what).map(u64::from_le_bytes)
    }

    /// A little-endian `u128`.
    #[inline]
    pub fn read_u128(&mut self, what: &str) -> Result<u128, StateError> {
        self.read_array(what).map(u128::from_le_bytes)
    }

    /// A little-endian two's complement `i128`.
    #[inline]
    pub fn read_i128(&mut self, what: &str) -> Result<i128, StateError> {
        self.read_array(what).map(i128::from_le_bytes)
    }

    /// A count written by [`StateWriter::write_count`] of items that each take at least
    /// `item_size_min` bytes (at least 1): refused unless the bytes remaining could hold that
    /// many, so the count may size an allocation.
    pub fn read_count(&mut self, what: &str, item_size_min: usize) -> Result<usize, StateError> {
        let count = self.read_u32(what)? as usize;
        let remaining = self.remaining();
        if count.saturating_mul(item_size_min.max(1)) > remaining {
            return Err(StateError::new(
                what,
                format!(
                    "it counts {count} items of at least {item_size_min} bytes, but only \
                     {remaining} bytes remain: the count is corrupt or the state cut short"
                ),
            ));
        }
        Ok(count)
    }

    /// A byte string written by [`StateWriter::write_bytes`], borrowed from the input.
    pub fn read_bytes(&mut self, what: &str) -> Result<&'a [u8], StateError> {
        let length = self.read_u32(what)? as usize;
        self.take(what, length)
    }

    /// Ends the read: refused if bytes are left over, which means the reader and the writer
    /// disagree on the format.
    pub fn finish(self) -> Result<(), StateError> {
        match self.remaining() {
            0 => Ok(()),
            left => Err(StateError::new(
                "the end of the state",
                format!(
                    "{left} bytes are left over after offset {}: the state was written in \
                     another format",
                    self.offset
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_round_trips_little_endian() {
        let mut writer = StateWriter::new();
        writer.write_u8(0xAB);
        writer.write_u16(0x0102);
        writer.write_u32(0x0304_0506);
        writer.write_u64(u64::MAX - 1);
        writer.write_u128(1 << 100 | 7);
        writer.write_i128(i128::MIN + 3);
        writer.write_bytes(b"clearway");
        writer.write_array(&[9, 8, 7]);
        writer.write_count(5);
        assert_eq!(writer.len(), 1 + 2 + 4 + 8 + 16 + 16 + 4 + 8 + 3 + 4);
        let bytes = writer.into_bytes();
        assert_eq!(&bytes[..3], &[0xAB, 0x02, 0x01], "little-endian");
        let mut reader = StateReader::new(&bytes);
        assert_eq!(reader.read_u8("a").unwrap(), 0xAB);
        assert_eq!(reader.read_u16("b").unwrap(), 0x0102);
        assert_eq!(reader.read_u32("c").unwrap(), 0x0304_0506);
        assert_eq!(reader.read_u64("d").unwrap(), u64::MAX - 1);
        assert_eq!(reader.read_u128("e").unwrap(), 1 << 100 | 7);
        assert_eq!(reader.read_i128("f").unwrap(), i128::MIN + 3);
        assert_eq!(reader.read_bytes("g").unwrap(), b"clearway");
        assert_eq!(reader.read_array::<3>("h").unwrap(), [9, 8, 7]);
        assert_eq!(reader.read_u32("i").unwrap(), 5);
        assert_eq!(reader.remaining(), 0);
        reader.finish().unwrap();
    }

    #[test]
    fn a_short_read_names_what_it_was_reading_and_moves_nothing() {
        let bytes = [1u8, 2, 3];
        let mut reader = StateReader::new(&bytes);
        let error = reader.read_u32("the batch number").unwrap_err();
        assert_eq!(error.what, "the batch number");
        assert!(error.why.contains("needs 4 bytes"), "{error}");
        assert!(error.to_string().contains("the batch number"));
        assert_eq!(reader.offset(), 0, "a refused read consumes nothing");
        assert_eq!(reader.read_u16("two bytes").unwrap(), 0x0201);
        assert!(reader.read_u16("two more").is_err());
        assert_eq!(reader.read_u8("the last").unwrap(), 3);
        assert!(reader.read_u8("past the end").is_err());
    }

    #[test]
    fn a_byte_string_longer_than_the_state_is_refused() {
        let mut writer = StateWriter::new();
        writer.write_u32(u32::MAX);
        writer.write_array(b"abc");
        let bytes = writer.into_bytes();
        let error = StateReader::new(&bytes).read_bytes("a name").unwrap_err();
        assert!(error.why.contains("cut short"), "{error}");
    }

    #[test]
    fn counts_are_bounded_by_the_bytes_that_remain() {
        // (count written, item size, bytes after it, accepted)
        let rows: &[(u32, usize, usize, bool)] = &[
            (0, 16, 0, true),
            (3, 16, 48, true),
            (3, 16, 47, false),
            (u32::MAX, 1, 10, false),
            (u32::MAX, usize::MAX, 10, false),
            (4, 0, 4, true),
            (5, 0, 4, false),
        ];
        for &(count, item_size, after, accepted) in rows {
            let mut writer = StateWriter::new();
            writer.write_u32(count);
            writer.write_array(&vec![0; after]);
            let bytes = writer.into_bytes();
            let read = StateReader::new(&bytes).read_count("items", item_size);
            assert_eq!(
                read.is_ok(),
                accepted,
                "{count} × {item_size} in {after}: {read:?}"
            );
            if accepted {
                assert_eq!(read.unwrap(), count as usize);
            }
        }
    }

    #[test]
    fn finish_refuses_bytes_left_over() {
        let bytes = [0u8; 5];
        let mut reader = StateReader::new(&bytes);
        reader.read_u32("four").unwrap();
        let error = reader.finish().unwrap_err();
        assert!(error.why.contains("1 bytes are left over"), "{error}");
        assert!(StateReader::new(&[]).finish().is_ok());
    }
}
