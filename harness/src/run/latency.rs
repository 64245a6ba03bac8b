//! [`Latencies`]: an HdrHistogram of nanoseconds, and the percentiles reports give.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::constants::{LATENCY_NS_MAX, LATENCY_SIGNIFICANT_DIGITS};

/// A latency histogram, allocated whole when made: recording never allocates.
#[derive(Clone, Debug)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// Empty, covering 1 ns to [`LATENCY_NS_MAX`] at [`LATENCY_SIGNIFICANT_DIGITS`] digits.
    pub fn new() -> Latencies {
        Latencies {
            histogram: Histogram::new_with_bounds(1, LATENCY_NS_MAX, LATENCY_SIGNIFICANT_DIGITS)
                .expect("the bounds are constants that HdrHistogram accepts"),
        }
    }

    /// Records one latency; values above the range are recorded as its top.
    #[inline]
    pub fn record(&mut self, latency_ns: u64) {
        self.histogram.saturating_record(latency_ns.max(1));
    }

    /// Empties it, keeping its allocation.
    pub fn reset(&mut self) {
        self.histogram.reset();
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Latencies) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms with the same bounds always add");
    }

    /// Adds the counts of a histogram read back from a file (`clearway merge`); an error when
    /// its values cannot be held in this one's range.
    pub fn add_histogram(&mut self, other: &Histogram<u64>) -> Result<(), String> {
        self.histogram
            .add(other)
            .map_err(|error| format!("the histogram does not fit: {error:?}"))
    }

    /// The histogram itself, to write out exactly (`clearway load --histogram`).
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Latencies recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The percentiles reports give.
    pub fn percentiles(&self) -> Percentiles {
        let at = |quantile: f64| {
            if self.histogram.is_empty() {
                0
            } else {
                self.histogram.value_at_quantile(quantile)
            }
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            p9999: at(0.9999),
            max: if self.histogram.is_empty() {
                0
            } else {
                self.histogram.max()
            },
        }
    }
}

/// Latency percentiles in nanoseconds (read back by `clearway report`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// The largest recorded.
    pub max: u64,
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "p50 {}  p90 {}  p99 {}  p99.9 {}  p99.99 {}  max {}",
            human_ns(self.p50),
            human_ns(self.p90),
            human_ns(self.p99),
            human_ns(self.p999),
            human_ns(self.p9999),
            human_ns(self.max)
        )
    }
}

/// `850 ns`, `12.3 µs`, `4.56 ms`, `1.20 s`.
pub fn human_ns(nanoseconds: u64) -> String {
    let value = nanoseconds as f64;
    if nanoseconds < 1_000 {
        format!("{nanoseconds} ns")
    } else if nanoseconds < 1_000_000 {
        format!("{:.1} µs", value / 1e3)
    } else if nanoseconds < 1_000_000_000 {
        format!("{:.2} ms", value / 1e6)
    } else {
        format!("{:.2} s", value / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_values() {
        let mut latencies = Latencies::new();
        for value in 1..=10_000u64 {
            latencies.record(value * 1_000);
        }
        let percentiles = latencies.percentiles();
        assert_eq!(latencies.count(), 10_000);
        // Three significant digits: within 0.1%.
        assert!(
            (percentiles.p50 as f64 - 5_000_000.0).abs() <= 5_000.0,
            "{percentiles:?}"
        );
        assert!(
            (percentiles.p99 as f64 - 9_900_000.0).abs() <= 9_900.0,
            "{percentiles:?}"
        );
        assert!(percentiles.max >= 10_000_000 && percentiles.max <= 10_010_000);
        latencies.record(u64::MAX);
        assert!(latencies.percentiles().max >= LATENCY_NS_MAX);
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        assert_eq!(Latencies::new().percentiles(), Percentiles::default());
    }

    #[test]
    fn human_units() {
        assert_eq!(human_ns(850), "850 ns");
        assert_eq!(human_ns(12_345), "12.3 µs");
        assert_eq!(human_ns(4_560_000), "4.56 ms");
        assert_eq!(human_ns(1_200_000_000), "1.20 s");
    }
}
