//! HdrHistogram interval logs (`.hlog`, format version 1.3): how `clearway load` writes its
//! end-to-end latency histogram and how `clearway merge` reads histograms back. Histograms are
//! V2 deflate-compressed and base64-encoded, so a merge adds exact counts, never percentiles.
//!
//! A file `clearway load` writes holds five lines (`Interval_Max` is in milliseconds, as
//! HdrHistogram's own tools write it):
//!
//! ```text
//! #[Histogram log format version 1.3]
//! #[StartTime: 1796000000.123 (seconds since epoch)]
//! #[MaxValueDivisor: 1000000.000]
//! "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//! Tag=e2e,0.000,10.000,0.012,HISTFAAA…
//! ```

use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// The legend line that names an interval line's columns.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// The tag of the end-to-end latency interval.
pub const E2E_TAG: &str = "e2e";

/// The interval log of one histogram: recorded from `start` for `length`, tagged `tag`, its
/// values in nanoseconds (the `Interval_Max` column is in milliseconds, as HdrHistogram's tools
/// expect).
pub fn write(
    histogram: &Histogram<u64>,
    start: SystemTime,
    length: Duration,
    tag: &str,
) -> Result<Vec<u8>, String> {
    let start_s = start
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    let tag = Tag::new(tag).ok_or_else(|| format!("{tag:?} cannot be an interval tag"))?;
    // The writer starts its output with a comment naming the divisor of the `Interval_Max`
    // column; it goes with the other header lines, before the legend.
    let mut written = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1e6)
        .begin_log_with(&mut written, &mut serializer)
        .map_err(|error| error.to_string())?;
    writer
        .write_histogram(histogram, Duration::ZERO, length, Some(tag))
        .map_err(|error| error.to_string())?;
    let text = String::from_utf8(written).map_err(|error| error.to_string())?;
    let (comments, intervals): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|line| line.starts_with('#'));
    let mut out = String::from("#[Histogram log format version 1.3]\n");
    out.push_str(&format!(
        "#[StartTime: {start_s:.3} (seconds since epoch)]\n"
    ));
    for line in comments.iter().chain(&[LEGEND]).chain(&intervals) {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Every interval histogram in the log `bytes`, in order; an error names what could not be read.
pub fn read(bytes: &[u8]) -> Result<Vec<Histogram<u64>>, String> {
    let mut deserializer = Deserializer::new();
    let mut histograms = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        match entry {
            Ok(LogEntry::Interval(interval)) => {
                let encoded = interval.encoded_histogram();
                let compressed = base64_decode(encoded)
                    .ok_or_else(|| format!("interval {} is not base64", histograms.len() + 1))?;
                let histogram: Histogram<u64> = deserializer
                    .deserialize(&mut compressed.as_slice())
                    .map_err(|error| {
                        format!(
                            "interval {} is no histogram: {error:?}",
                            histograms.len() + 1
                        )
                    })?;
                histograms.push(histogram);
            }
            Ok(LogEntry::StartTime(_) | LogEntry::BaseTime(_)) => {}
            Err(error) => return Err(format!("not an interval log: {error:?}")),
        }
    }
    Ok(histograms)
}

/// Standard base64 with padding, as interval logs use; `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(byte: u8) -> Option<u32> {
        match byte {
            b'A'..=b'Z' => Some(u32::from(byte - b'A')),
            b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes = text.trim().as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let last = index + 1 == bytes.len() / 4;
        let padding = chunk.iter().rev().take_while(|&&byte| byte == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut word = 0u32;
        for &byte in &chunk[..4 - padding] {
            word = (word << 6) | value(byte)?;
        }
        word <<= 6 * padding as u32;
        let decoded = [(word >> 16) as u8, (word >> 8) as u8, word as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for value in values {
            histogram.record(value).unwrap();
        }
        histogram
    }

    #[test]
    fn base64_decodes_what_the_standard_alphabet_encodes() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("TQ=="[..3].as_ref()), None);
        assert_eq!(base64_decode("T===").map(|_| ()), None);
        assert_eq!(base64_decode("TQ==TWFu"), None);
    }

    #[test]
    fn a_log_has_the_version_start_time_legend_and_one_tagged_interval() {
        let recorded = histogram([1_000u64, 2_000, 3_000_000].into_iter());
        let bytes = write(
            &recorded,
            SystemTime::now(),
            Duration::from_secs(10),
            E2E_TAG,
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(lines[0], "#[Histogram log format version 1.3]");
        assert!(lines[1].starts_with("#[StartTime: "), "{text}");
        assert_eq!(lines[2], "#[MaxValueDivisor: 1000000.000]");
        assert_eq!(lines[3], LEGEND);
        assert!(lines[4].starts_with("Tag=e2e,0.000,10.000,3.00"), "{text}");
        let read_back = read(&bytes).unwrap();
        assert_eq!(read_back, vec![recorded]);
    }

    #[test]
    fn two_logs_merged_equal_the_histogram_that_recorded_both() {
        let first = histogram((1..=5_000u64).map(|value| value * 997));
        let second = histogram((1..=3_000u64).map(|value| value * 123_457));
        let both = histogram(
            (1..=5_000u64)
                .map(|value| value * 997)
                .chain((1..=3_000u64).map(|value| value * 123_457)),
        );
        let start = SystemTime::now();
        let logs = [
            write(&first, start, Duration::from_secs(1), E2E_TAG).unwrap(),
            write(&second, start, Duration::from_secs(1), E2E_TAG).unwrap(),
        ];
        let mut merged = histogram(std::iter::empty());
        for log in &logs {
            for interval in read(log).unwrap() {
                merged.add(&interval).unwrap();
            }
        }
        assert_eq!(merged.len(), both.len());
        for step in 0..=10_000 {
            let quantile = f64::from(step) / 10_000.0;
            assert_eq!(
                merged.value_at_quantile(quantile),
                both.value_at_quantile(quantile),
                "at {quantile}"
            );
        }
        assert_eq!(merged.max(), both.max());
        assert_eq!(merged.min(), both.min());
    }

    #[test]
    fn what_is_not_an_interval_log_is_refused_by_name() {
        assert!(read(b"Tag=e2e,0.000,1.000,1.0,@@@@\n")
            .unwrap_err()
            .contains("base64"));
        assert!(read(b"Tag=e2e,0.000,1.000,1.0,TWFu\n")
            .unwrap_err()
            .contains("no histogram"));
        assert!(read(b"garbage\n")
            .unwrap_err()
            .contains("not an interval log"));
        assert!(read(b"#only a comment\n").unwrap().is_empty());
    }
}
