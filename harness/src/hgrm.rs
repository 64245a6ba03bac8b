//! [`spectrum`]: a latency histogram's percentile spectrum as text, in the `.hgrm` form that
//! HdrHistogram's `outputPercentileDistribution` writes and HdrHistogram's plotters read; and
//! `parse_spectrum` (in tests), which reads its rows back.
//!
//! A spectrum of 10,000 values from 1 to 10,000 µs reads (rows elided):
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        1.000 0.000000000000          1           1.00
//!     1000.447 0.100000000000       1000           1.11
//! …
//!     9912.319 0.990625000000       9912         106.67
//! …
//!    10002.431 0.999414062500      10000        1706.67
//!    10002.431 1.000000000000      10000
//! #[Mean    =     5000.505, StdDeviation   =     2886.752]
//! #[Max     =    10002.431, Total count    =        10000]
//! #[Buckets =           32, SubBuckets     =         2048]
//! ```
//!
//! Each row is a percentile tick: the value the histogram reaches there (the highest value
//! equivalent to the recorded ones, divided by the caller's unit ratio), the tick's percentile as
//! a fraction, the count recorded up to that value, and 1/(1-percentile): one value in that
//! many lies beyond it. The ticks come [`TICKS_PER_HALF_DISTANCE`] to each halving of the
//! distance to 100%, so the tail gets rows in proportion; the last row is at 100% and has no
//! fourth column.

use hdrhistogram::Histogram;

/// Percentile ticks per halving of the distance to 100%: 5, as HdrHistogram's tools write
/// spectra (ticks at 0%, 10%, … 50%, then 55%, … 75%, then 77.5%, …).
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The header line of a spectrum, before its blank line.
const HEADER: [&str; 4] = ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"];

/// The percentile spectrum of `histogram` as `.hgrm` text, its values divided by
/// `value_unit_ratio` (positive): the caller chooses the unit, e.g. 1000.0 to write the values
/// of a nanosecond histogram in microseconds, which is what HdrHistogram's plotters expect of
/// latencies. Values are written with as many decimals as the histogram keeps significant
/// digits. An empty histogram gives the header and a footer of zeros.
pub fn spectrum(histogram: &Histogram<u64>, value_unit_ratio: f64) -> String {
    let digits = usize::from(histogram.sigfig());
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        HEADER[0], HEADER[1], HEADER[2], HEADER[3]
    );
    if !histogram.is_empty() {
        let mut total_count = 0u64;
        for tick in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total_count = total_count.saturating_add(tick.count_since_last_iteration());
            let value = tick.value_iterated_to() as f64 / value_unit_ratio;
            let percentile = tick.quantile_iterated_to();
            if percentile < 1.0 {
                out.push_str(&format!(
                    "{value:12.digits$} {percentile:2.12} {total_count:10} {:14.2}\n",
                    1.0 / (1.0 - percentile)
                ));
            } else {
                out.push_str(&format!(
                    "{value:12.digits$} {percentile:2.12} {total_count:10}\n"
                ));
            }
        }
    }
    let (max, mean, stdev) = if histogram.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            histogram.max() as f64 / value_unit_ratio,
            histogram.mean() / value_unit_ratio,
            histogram.stdev() / value_unit_ratio,
        )
    };
    out.push_str(&format!(
        "#[Mean    = {mean:12.digits$}, StdDeviation   = {stdev:12.digits$}]\n"
    ));
    out.push_str(&format!(
        "#[Max     = {max:12.digits$}, Total count    = {:12}]\n",
        histogram.len()
    ));
    out.push_str(&format!(
        "#[Buckets = {:12}, SubBuckets     = {:12}]\n",
        histogram.buckets(),
        sub_bucket_count(histogram)
    ));
    out
}

#[cfg(test)]
/// The rows of a spectrum [`spectrum`] wrote: (value in the spectrum's unit, percentile as a
/// fraction, total count to that value), in order. The header, blank lines and `#` lines are
/// passed over; an error names the first line that is not a row.
pub fn parse_spectrum(text: &str) -> Result<Vec<(f64, f64, u64)>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    match lines.next() {
        Some((_, header)) if header.split_whitespace().eq(HEADER) => {}
        Some((number, _)) => {
            return Err(format!(
                "line {number} is not a spectrum's header: expected {}",
                HEADER.join(" ")
            ))
        }
        None => return Err("the text holds no spectrum: it has no header".to_string()),
    }
    let mut rows = Vec::new();
    for (number, line) in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let not_a_row = || {
            format!(
                "line {number} is not a spectrum row: expected a value, a percentile from 0 to 1, \
                 a total count and, but on the last row, 1/(1-percentile); found {line:?}"
            )
        };
        if fields.len() != 3 && fields.len() != 4 {
            return Err(not_a_row());
        }
        let value: f64 = fields[0].parse().map_err(|_| not_a_row())?;
        let percentile: f64 = fields[1].parse().map_err(|_| not_a_row())?;
        let total_count: u64 = fields[2].parse().map_err(|_| not_a_row())?;
        if !value.is_finite() || !(0.0..=1.0).contains(&percentile) {
            return Err(not_a_row());
        }
        rows.push((value, percentile, total_count));
    }
    Ok(rows)
}

/// Sub-buckets per bucket, derived from the significant digits as the histogram derives it: the
/// power of two that holds 2 × 10^digits values at unit resolution.
fn sub_bucket_count(histogram: &Histogram<u64>) -> u32 {
    (2 * 10u32.pow(u32::from(histogram.sigfig()))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::latency::Latencies;

    /// 1 µs to 10,000 µs, one each, in nanoseconds.
    fn uniform() -> Histogram<u64> {
        let mut latencies = Latencies::new();
        for value_us in 1..=10_000u64 {
            latencies.record(value_us * 1_000);
        }
        latencies.histogram().clone()
    }

    #[test]
    fn a_spectrum_has_the_header_rows_and_footer_of_the_hgrm_form() {
        let histogram = uniform();
        let text = spectrum(&histogram, 1_000.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        let rows = &lines[2..lines.len() - 3];
        let (last, before) = rows.split_last().unwrap();
        assert_eq!(last.split_whitespace().count(), 3, "{last}");
        assert!(before.iter().all(|row| row.split_whitespace().count() == 4));
        for row in before {
            let fields: Vec<&str> = row.split_whitespace().collect();
            let percentile: f64 = fields[1].parse().unwrap();
            assert_eq!(fields[3], format!("{:.2}", 1.0 / (1.0 - percentile)));
        }

        let parsed = parse_spectrum(&text).unwrap();
        assert_eq!(parsed.len(), rows.len());
        assert_eq!(parsed[0], (1.0, 0.0, 1));
        assert!(parsed.windows(2).all(|pair| pair[0].1 <= pair[1].1
            && pair[0].2 <= pair[1].2
            && pair[0].0 <= pair[1].0));
        let &(last_value, last_percentile, last_count) = parsed.last().unwrap();
        assert_eq!(last_percentile, 1.0);
        assert_eq!(last_count, histogram.len());
        assert_eq!(last_value, histogram.max() as f64 / 1_000.0);

        // The first row at or past the 99th percentile: its value is the 99th percentile's,
        // within the histogram's resolution (three significant digits: 0.1%).
        let &(p99_us, _, _) = parsed.iter().find(|row| row.1 >= 0.99).unwrap();
        let expected_us = histogram.value_at_quantile(0.99) as f64 / 1_000.0;
        assert!(
            (p99_us - expected_us).abs() <= expected_us * 1e-3,
            "{p99_us} vs {expected_us}"
        );

        let footer = &lines[lines.len() - 3..];
        assert_eq!(
            footer[0],
            format!(
                "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
                histogram.mean() / 1_000.0,
                histogram.stdev() / 1_000.0
            )
        );
        assert_eq!(
            footer[1],
            format!(
                "#[Max     = {:12.3}, Total count    = {:12}]",
                histogram.max() as f64 / 1_000.0,
                histogram.len()
            )
        );
        assert_eq!(
            footer[2],
            format!(
                "#[Buckets = {:12}, SubBuckets     = {:12}]",
                histogram.buckets(),
                2_048
            )
        );
    }

    #[test]
    fn ticks_come_five_to_each_halving_of_the_distance_to_100_percent() {
        let parsed = parse_spectrum(&spectrum(&uniform(), 1_000.0)).unwrap();
        let percentiles: Vec<f64> = parsed.iter().map(|row| row.1).take(12).collect();
        let expected = [
            0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.775,
        ];
        for (got, want) in percentiles.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{percentiles:?}");
        }
    }

    #[test]
    fn an_empty_histogram_gives_the_header_and_a_footer_of_zeros() {
        let text = spectrum(Latencies::new().histogram(), 1_000.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "       Value     Percentile TotalCount 1/(1-Percentile)",
                "",
                "#[Mean    =        0.000, StdDeviation   =        0.000]",
                "#[Max     =        0.000, Total count    =            0]",
                &format!(
                    "#[Buckets = {:12}, SubBuckets     =         2048]",
                    Latencies::new().histogram().buckets()
                ),
            ]
        );
        assert_eq!(parse_spectrum(&text).unwrap(), []);
    }

    #[test]
    fn one_value_gives_a_row_at_0_and_one_at_100_percent() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 1_000_000, 2).unwrap();
        histogram.record(42).unwrap();
        let text = spectrum(&histogram, 1.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "       42.00 0.000000000000          1           1.00"
        );
        assert_eq!(lines[3], "       42.00 1.000000000000          1");
        assert_eq!(
            lines[5],
            "#[Max     =        42.00, Total count    =            1]"
        );
        assert!(
            lines[6].ends_with("SubBuckets     =          256]"),
            "{}",
            lines[6]
        );
    }

    #[test]
    fn what_is_not_a_spectrum_is_refused_by_line() {
        let cases: &[(&str, &str)] = &[
            ("", "no header"),
            ("# only a comment\n", "no header"),
            ("1.0 0.5 10 2.00\n", "line 1 is not a spectrum's header"),
            (
                "Value Percentile TotalCount 1/(1-Percentile)\n\n1.0 0.5\n",
                "line 3 is not a spectrum row",
            ),
            (
                "Value Percentile TotalCount 1/(1-Percentile)\n1.0 1.5 10\n",
                "line 2 is not a spectrum row",
            ),
            (
                "Value Percentile TotalCount 1/(1-Percentile)\n1.0 0.5 ten 2.00\n",
                "found \"1.0 0.5 ten 2.00\"",
            ),
            (
                "Value Percentile TotalCount 1/(1-Percentile)\nNaN 0.5 10 2.00\n",
                "not a spectrum row",
            ),
        ];
        for &(text, fragment) in cases {
            let error = parse_spectrum(text).unwrap_err();
            assert!(error.contains(fragment), "{text:?}: {error}");
        }
    }
}
