//! Segment files: the journal is a run of files, each named by the sequence of its first record,
//! `journal-{sequence_first:020}.seg`, so that listing the directory and sorting by name puts
//! them in order, and a reader looking for a sequence knows which file holds it without opening
//! any.

use std::io;

use super::storage::Storage;

const PREFIX: &str = "journal-";
const SUFFIX: &str = ".seg";
/// Digits of the sequence in a name: `u64::MAX` has 20.
const DIGITS: usize = 20;

/// A segment file in the directory.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    /// The sequence of its first record, from its name.
    pub sequence_first: u64,
    /// Its file name.
    pub name: String,
}

/// The name of the segment whose first record is `sequence_first`.
pub fn segment_name(sequence_first: u64) -> String {
    format!("{PREFIX}{sequence_first:0DIGITS$}{SUFFIX}")
}

/// The first sequence a segment's name gives, if `name` is exactly a segment's name.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segments in `storage`, in order of their first sequence; other files are left out.
pub fn list_segments<S: Storage>(storage: &S) -> io::Result<Vec<Segment>> {
    let mut segments: Vec<Segment> = storage
        .list()?
        .into_iter()
        .filter_map(|name| {
            parse_segment_name(&name).map(|sequence_first| Segment {
                sequence_first,
                name,
            })
        })
        .collect();
    segments.sort();
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::storage::SimulatedStorage;

    #[test]
    fn names_round_trip_across_the_whole_range() {
        for sequence in [0, 1, 32, 1 << 40, u64::MAX] {
            let name = segment_name(sequence);
            assert_eq!(name.len(), PREFIX.len() + DIGITS + SUFFIX.len(), "{name}");
            assert_eq!(parse_segment_name(&name), Some(sequence), "{name}");
        }
        assert_eq!(segment_name(32), "journal-00000000000000000032.seg");
    }

    #[test]
    fn names_that_are_not_exactly_a_segment_s_are_not_segments() {
        for name in [
            "journal-32.seg",
            "journal-0000000000000000032.seg",
            "journal-000000000000000000032.seg",
            "journal-0000000000000000003a.seg",
            "journal-+0000000000000000032.seg",
            "journal-00000000000000000032.seg.tmp",
            "journal-00000000000000000032.snap",
            "Journal-00000000000000000032.seg",
            "journal-99999999999999999999.seg",
            "snapshot-00000000000000000032.snap",
            "",
        ] {
            assert_eq!(parse_segment_name(name), None, "{name}");
        }
    }

    #[test]
    fn listing_orders_by_first_sequence_and_leaves_out_other_files() {
        let mut storage = SimulatedStorage::new();
        for name in [
            segment_name(1_000),
            "notes.txt".to_string(),
            segment_name(9),
            segment_name(0),
            "snapshot-00000000000000000009.snap".to_string(),
        ] {
            storage.create(&name, 0).unwrap();
        }
        let listed: Vec<u64> = list_segments(&storage)
            .unwrap()
            .into_iter()
            .map(|segment| segment.sequence_first)
            .collect();
        assert_eq!(listed, vec![0, 9, 1_000]);
    }
}
