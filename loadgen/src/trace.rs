//! [`Trace`]: a recorded arrival trace — the intended send offsets of a past load, replayed as
//! they were — read from CSV, with [`TraceError`] for a file that cannot be read or parsed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::constants::TRACE_OFFSETS_MAX;

/// Intended send offsets from the start of the load, ns, in nondecreasing order and at least
/// one; shared, so every producer thread replays its part of one copy.
///
/// The CSV holds one offset a line in its first column (other columns are ignored); blank
/// lines and lines starting with `#` are skipped. An optional header line names the unit in its
/// first cell: `offset_s`, `offset_ms`, `offset_us` or `offset_ns`; without one the offsets are
/// seconds.
///
/// ```text
/// offset_ms,institution
/// 0,1001
/// 0.25,1002
/// 1.5,1001
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    offsets_ns: Arc<[u64]>,
}

/// Why a trace cannot be read: the file and line at fault, where known, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The trace's file, when it was loaded from one.
    pub path: Option<PathBuf>,
    /// The 1-based line at fault, when one is.
    pub line: Option<usize>,
    /// What is wrong, as a sentence without its full stop.
    pub reason: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(formatter, "{}, line {line}: ", path.display())?,
            (Some(path), None) => write!(formatter, "{}: ", path.display())?,
            (None, Some(line)) => write!(formatter, "line {line}: ")?,
            (None, None) => {}
        }
        formatter.write_str(&self.reason)
    }
}

impl std::error::Error for TraceError {}

impl TraceError {
    fn at(line: usize, reason: String) -> TraceError {
        TraceError {
            path: None,
            line: Some(line),
            reason,
        }
    }
}

/// The units a header may name, with their ns.
const UNITS: [(&str, f64); 4] = [
    ("offset_s", 1e9),
    ("offset_ms", 1e6),
    ("offset_us", 1e3),
    ("offset_ns", 1.0),
];

impl Trace {
    /// The trace in `text`, a CSV as [`Trace`] describes. Refuses, with the line: an offset
    /// that is not a number, is negative or not finite, or is smaller than the one before; more
    /// than [`TRACE_OFFSETS_MAX`] offsets; and refuses a text with no offsets at all.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        Trace::parse_at_most(text, TRACE_OFFSETS_MAX)
    }

    /// [`Trace::parse`] with at most `offsets_max` offsets.
    fn parse_at_most(text: &str, offsets_max: usize) -> Result<Trace, TraceError> {
        let mut offsets_ns: Vec<u64> = Vec::new();
        let mut unit_ns: Option<f64> = None;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cell = line.split(',').next().unwrap_or("").trim();
            let unit = match unit_ns {
                Some(unit) => unit,
                None => {
                    let header = UNITS.iter().find(|(name, _)| *name == cell);
                    if let Some(&(_, unit)) = header {
                        unit_ns = Some(unit);
                        continue;
                    }
                    if cell.parse::<f64>().is_err() {
                        return Err(TraceError::at(
                            number,
                            format!(
                                "`{cell}` is neither an offset nor a header naming its unit \
                                 (offset_s, offset_ms, offset_us or offset_ns)"
                            ),
                        ));
                    }
                    *unit_ns.insert(1e9)
                }
            };
            let offset_ns =
                offset_ns(cell, unit).map_err(|reason| TraceError::at(number, reason))?;
            if let Some(&before_ns) = offsets_ns.last() {
                if offset_ns < before_ns {
                    return Err(TraceError::at(
                        number,
                        format!(
                            "the offset `{cell}` is smaller than the offset before it; offsets \
                             must not decrease"
                        ),
                    ));
                }
            }
            if offsets_ns.len() == offsets_max {
                return Err(TraceError::at(
                    number,
                    format!("the trace holds more than {offsets_max} offsets, the most allowed"),
                ));
            }
            offsets_ns.push(offset_ns);
        }
        if offsets_ns.is_empty() {
            return Err(TraceError {
                path: None,
                line: None,
                reason: "the trace holds no offsets".to_string(),
            });
        }
        Ok(Trace {
            offsets_ns: offsets_ns.into(),
        })
    }

    /// The trace in the file at `path`, as [`Trace::parse`] reads it; an error names the file.
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let text = std::fs::read_to_string(path).map_err(|error| TraceError {
            path: Some(path.to_path_buf()),
            line: None,
            reason: format!("the trace file could not be read ({error})"),
        })?;
        Trace::parse(&text).map_err(|error| TraceError {
            path: Some(path.to_path_buf()),
            ..error
        })
    }

    /// How many offsets the trace holds.
    pub fn len(&self) -> usize {
        self.offsets_ns.len()
    }

    /// Whether the trace holds no offsets; never, for one that parsed.
    pub fn is_empty(&self) -> bool {
        self.offsets_ns.is_empty()
    }

    /// The last offset, ns: how long the replay takes.
    pub fn span_ns(&self) -> u64 {
        self.offsets_ns.last().copied().unwrap_or(0)
    }

    /// The offsets, ns, in nondecreasing order.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets_ns
    }

    /// The offsets themselves, shared.
    pub(crate) fn shared(&self) -> &Arc<[u64]> {
        &self.offsets_ns
    }

    /// The most offsets in one second of the trace, each second starting at a whole second
    /// from the start: the peak rate the replay offers, payments a second.
    pub fn peak_rate_per_s(&self) -> f64 {
        let mut peak = 0usize;
        let mut second = u64::MAX;
        let mut count = 0usize;
        for &offset_ns in self.offsets_ns.iter() {
            let this_second = offset_ns / 1_000_000_000;
            if this_second == second {
                count += 1;
            } else {
                second = this_second;
                count = 1;
            }
            peak = peak.max(count);
        }
        peak as f64
    }

    /// How many offsets are before `ns`.
    pub fn count_before(&self, ns: u64) -> usize {
        self.offsets_ns.partition_point(|&offset_ns| offset_ns < ns)
    }
}

/// The offset in `cell`, in units of `unit_ns`, as ns; or why it is refused.
fn offset_ns(cell: &str, unit_ns: f64) -> Result<u64, String> {
    if unit_ns == 1.0 {
        if let Ok(offset_ns) = cell.parse::<u64>() {
            if offset_ns < u64::MAX {
                return Ok(offset_ns);
            }
        }
    }
    let Ok(offset) = cell.parse::<f64>() else {
        return Err(format!("the offset `{cell}` is not a number"));
    };
    if !offset.is_finite() {
        return Err(format!("the offset `{cell}` is not finite"));
    }
    if offset < 0.0 {
        return Err(format!("the offset `{cell}` is negative"));
    }
    let offset_ns = (offset * unit_ns).round();
    // u64::MAX marks the end of a schedule; 2^64 ns is 584 years.
    if offset_ns >= u64::MAX as f64 {
        return Err(format!("the offset `{cell}` is beyond 584 years"));
    }
    Ok(offset_ns as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_parse_in_their_units() {
        let rows: &[(&str, &[u64])] = &[
            ("0\n0.5\n1.25\n", &[0, 500_000_000, 1_250_000_000]),
            ("offset_s\n1\n2\n", &[1_000_000_000, 2_000_000_000]),
            (
                "offset_ms,institution\n0,1001\n0.25,1002\n1.5,1001\n",
                &[0, 250_000, 1_500_000],
            ),
            ("offset_us\n1\n1\n2.5\n", &[1_000, 1_000, 2_500]),
            ("offset_ns\n7\n18446744073709551614\n", &[7, u64::MAX - 1]),
            (
                "# recorded 2026-11-11\n\n  offset_ms , bank \n# a comment\n3,x\n\n 4 \r\n",
                &[3_000_000, 4_000_000],
            ),
            ("1e-9\n2E-9\n", &[1, 2]),
        ];
        for (text, offsets) in rows {
            let trace = Trace::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
            assert_eq!(trace.offsets(), *offsets, "{text:?}");
            assert_eq!(trace.len(), offsets.len());
            assert!(!trace.is_empty());
            assert_eq!(trace.span_ns(), offsets[offsets.len() - 1]);
        }
    }

    #[test]
    fn bad_traces_are_refused_with_their_line() {
        let rows: &[(&str, Option<usize>, &str)] = &[
            ("", None, "holds no offsets"),
            ("# only a comment\n\noffset_s\n", None, "holds no offsets"),
            ("offset_min\n1\n", Some(1), "header naming its unit"),
            ("0\n1\nsoon\n", Some(3), "`soon` is not a number"),
            ("# c\n\n1\n-2\n", Some(4), "`-2` is negative"),
            ("1\ninf\n", Some(2), "`inf` is not finite"),
            ("1\nNaN\n", Some(2), "`NaN` is not finite"),
            ("1\n2\n1.5\n", Some(3), "smaller than the offset before it"),
            ("offset_s\n0\noffset_s\n", Some(3), "not a number"),
            ("1e30\n", Some(1), "beyond 584 years"),
        ];
        for (text, line, reason) in rows {
            let error = Trace::parse(text).expect_err(text);
            assert_eq!(error.line, *line, "{text:?}: {error}");
            assert!(error.reason.contains(reason), "{text:?}: {error}");
            assert_eq!(error.path, None);
        }
        let error = Trace::parse_at_most("# three\n1\n2\n3\n4\n", 3).unwrap_err();
        assert_eq!(error.line, Some(5));
        assert!(error.reason.contains("more than 3 offsets"), "{error}");
        assert_eq!(Trace::parse_at_most("1\n2\n3\n", 3).unwrap().len(), 3);
        let error = TraceError::at(3, "the offset `x` is not a number".to_string());
        assert_eq!(error.to_string(), "line 3: the offset `x` is not a number");
    }

    #[test]
    fn a_trace_file_is_loaded_and_a_missing_one_named() {
        let directory = std::env::temp_dir().join(format!("clearway-trace-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let good = directory.join("good.csv");
        std::fs::write(&good, "offset_ms\n0\n1\n").unwrap();
        assert_eq!(Trace::load(&good).unwrap().offsets(), &[0, 1_000_000]);
        let bad = directory.join("bad.csv");
        std::fs::write(&bad, "offset_ms\n1\n0\n").unwrap();
        let error = Trace::load(&bad).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error
            .to_string()
            .starts_with(&format!("{}, line 3: ", bad.display())));
        let missing = directory.join("missing.csv");
        let error = Trace::load(&missing).unwrap_err();
        assert_eq!(error.path.as_deref(), Some(missing.as_path()));
        assert!(error.to_string().contains("could not be read"), "{error}");
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn the_peak_second_and_counts_before_a_time() {
        let trace = Trace::parse("0\n0.1\n0.999\n1\n1.5\n2.2\n2.3\n2.4\n2.999999999\n3\n").unwrap();
        assert_eq!(trace.peak_rate_per_s(), 4.0);
        let rows = [
            (0, 0),
            (1, 1),
            (100_000_000, 1),
            (100_000_001, 2),
            (1_000_000_000, 3),
        ];
        for (ns, count) in rows {
            assert_eq!(trace.count_before(ns), count, "{ns}");
        }
        assert_eq!(trace.count_before(u64::MAX), trace.len());
    }
}
