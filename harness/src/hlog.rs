//! HdrHistogram interval logs (`.hlog`, format version 1.3): [`write_log`] writes a run's
//! latency, one interval a second per tag (`e2e` and each step), and [`read_log`] reads one back
//! for `clearway merge` and `clearway report`. Histograms are V2 deflate-compressed and
//! base64-encoded, so a merge adds exact counts, never percentiles.
//!
//! A log holds its header, then one line per interval and tag (`Interval_Max` is in milliseconds,
//! as HdrHistogram's own tools write it; timestamps are seconds from `StartTime`):
//!
//! ```text
//! #[Histogram log format version 1.3]
//! #[StartTime: 1796000000.123 (seconds since epoch)]
//! #[BaseTime: 1796000000.123 (seconds since epoch)]
//! #[MaxValueDivisor: 1000000.000]
//! #clearway run, values in ns; warm-up 2.000 s excluded
//! "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//! Tag=e2e,2.000,1.000,0.012,HISTFAAA…
//! Tag=authorize,2.000,1.000,0.003,HISTFAAA…
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

/// One interval to write: its tag, when it started (from the log's start time), how long it
/// lasted, and what it recorded (ns).
#[derive(Clone, Copy)]
pub struct IntervalRef<'a> {
    /// `e2e` or a step's name.
    pub tag: &'a str,
    /// From the log's start time.
    pub start: Duration,
    /// The interval's length.
    pub length: Duration,
    /// Latencies recorded in it, ns.
    pub histogram: &'a Histogram<u64>,
}

/// One interval read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Its tag, if the line had one.
    pub tag: Option<String>,
    /// Seconds from the log's start time.
    pub start_s: f64,
    /// Seconds it lasted.
    pub length_s: f64,
    /// What it recorded.
    pub histogram: Histogram<u64>,
}

/// A log read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Log {
    /// `StartTime`, seconds since the epoch, when the log names one.
    pub start_time_s: Option<f64>,
    /// Every interval, in file order.
    pub intervals: Vec<Interval>,
}

impl Log {
    /// The tags present, in order of first appearance.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for interval in &self.intervals {
            let tag = interval.tag.clone().unwrap_or_default();
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    /// The intervals tagged `tag` (untagged ones for `""`).
    pub fn tagged<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Interval> + 'a {
        self.intervals
            .iter()
            .filter(move |interval| interval.tag.as_deref().unwrap_or("") == tag)
    }
}

/// The interval log of `intervals`, which started at `start`; each of `comments` becomes a
/// `#` line after the header.
pub fn write_log(
    start: SystemTime,
    comments: &[String],
    intervals: &[IntervalRef<'_>],
) -> Result<Vec<u8>, String> {
    let start_s = start
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    // The writer starts its output with a comment naming the divisor of the `Interval_Max`
    // column; it goes with the other header lines, before the legend.
    let mut written = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1e6)
        .begin_log_with(&mut written, &mut serializer)
        .map_err(|error| error.to_string())?;
    for interval in intervals {
        let tag = Tag::new(interval.tag)
            .ok_or_else(|| format!("{:?} cannot be an interval tag", interval.tag))?;
        writer
            .write_histogram(
                interval.histogram,
                interval.start,
                interval.length,
                Some(tag),
            )
            .map_err(|error| error.to_string())?;
    }
    let text = String::from_utf8(written).map_err(|error| error.to_string())?;
    let (header, lines): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|line| line.starts_with('#'));
    let mut out = String::from("#[Histogram log format version 1.3]\n");
    out.push_str(&format!(
        "#[StartTime: {start_s:.3} (seconds since epoch)]\n"
    ));
    // Interval timestamps are relative: BaseTime says to what, for every reader.
    out.push_str(&format!(
        "#[BaseTime: {start_s:.3} (seconds since epoch)]\n"
    ));
    for line in header {
        out.push_str(line);
        out.push('\n');
    }
    for comment in comments {
        for line in comment.lines() {
            out.push('#');
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(LEGEND);
    out.push('\n');
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// The interval log of one histogram: recorded from `start` for `length`, tagged `tag`.
#[cfg(test)]
pub fn write(
    histogram: &Histogram<u64>,
    start: SystemTime,
    length: Duration,
    tag: &str,
) -> Result<Vec<u8>, String> {
    write_log(
        start,
        &[],
        &[IntervalRef {
            tag,
            start: Duration::ZERO,
            length,
            histogram,
        }],
    )
}

/// Every interval in the log `bytes`, with its tag and times; an error names what could not be
/// read.
pub fn read_log(bytes: &[u8]) -> Result<Log, String> {
    let mut deserializer = Deserializer::new();
    let mut log = Log::default();
    for entry in IntervalLogIterator::new(bytes) {
        match entry {
            Ok(LogEntry::Interval(interval)) => {
                let number = log.intervals.len() + 1;
                let compressed = base64_decode(interval.encoded_histogram())
                    .ok_or_else(|| format!("interval {number} is not base64"))?;
                let histogram: Histogram<u64> = deserializer
                    .deserialize(&mut compressed.as_slice())
                    .map_err(|error| format!("interval {number} is no histogram: {error:?}"))?;
                log.intervals.push(Interval {
                    tag: interval.tag().map(|tag| tag.as_str().to_string()),
                    start_s: interval.start_timestamp().as_secs_f64(),
                    length_s: interval.duration().as_secs_f64(),
                    histogram,
                });
            }
            Ok(LogEntry::StartTime(time)) => log.start_time_s = Some(time.as_secs_f64()),
            Ok(LogEntry::BaseTime(_)) => {}
            Err(error) => return Err(format!("not an interval log: {error:?}")),
        }
    }
    Ok(log)
}

/// Every interval histogram in the log `bytes`, in order, whatever its tag.
#[cfg(test)]
pub fn read(bytes: &[u8]) -> Result<Vec<Histogram<u64>>, String> {
    Ok(read_log(bytes)?
        .intervals
        .into_iter()
        .map(|interval| interval.histogram)
        .collect())
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
        assert_eq!(lines.len(), 6, "{text}");
        assert_eq!(lines[0], "#[Histogram log format version 1.3]");
        assert!(lines[1].starts_with("#[StartTime: "), "{text}");
        assert!(lines[2].starts_with("#[BaseTime: "), "{text}");
        assert_eq!(lines[3], "#[MaxValueDivisor: 1000000.000]");
        assert_eq!(lines[4], LEGEND);
        assert!(lines[5].starts_with("Tag=e2e,0.000,10.000,3.00"), "{text}");
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
    fn a_log_of_tagged_intervals_reads_back_with_tags_times_and_comments() {
        let first = histogram([1_000u64, 2_000].into_iter());
        let second = histogram([5_000u64].into_iter());
        let third = histogram(std::iter::empty());
        let second_s = Duration::from_secs(1);
        let intervals = [
            IntervalRef {
                tag: E2E_TAG,
                start: Duration::from_secs(2),
                length: second_s,
                histogram: &first,
            },
            IntervalRef {
                tag: "ledger",
                start: Duration::from_secs(2),
                length: second_s,
                histogram: &second,
            },
            IntervalRef {
                tag: E2E_TAG,
                start: Duration::from_secs(3),
                length: Duration::from_millis(500),
                histogram: &third,
            },
        ];
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let bytes = write_log(
            start,
            &["clearway run\nwarm-up 2.000 s".to_string()],
            &intervals,
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("\n#clearway run\n#warm-up 2.000 s\n"),
            "{text}"
        );
        let log = read_log(&bytes).unwrap();
        assert_eq!(log.start_time_s, Some(1_796_000_000.0));
        assert_eq!(log.tags(), vec!["e2e".to_string(), "ledger".to_string()]);
        let e2e: Vec<&Interval> = log.tagged(E2E_TAG).collect();
        assert_eq!(e2e.len(), 2);
        assert_eq!((e2e[0].start_s, e2e[0].length_s), (2.0, 1.0));
        assert_eq!((e2e[1].start_s, e2e[1].length_s), (3.0, 0.5));
        assert_eq!(e2e[0].histogram, first);
        assert_eq!(e2e[1].histogram.len(), 0);
        assert_eq!(log.tagged("ledger").next().unwrap().histogram, second);
        assert!(write_log(
            start,
            &[],
            &[IntervalRef {
                tag: "a b,c",
                ..intervals[0]
            }]
        )
        .is_err());
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
