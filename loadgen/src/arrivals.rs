//! [`Arrivals`]: the schedule of intended send times, evenly spaced or a Poisson process.

use rand::{rngs::SmallRng, SeedableRng};
use rand_distr::{Distribution, Exp};

use crate::config::{Arrival, WorkloadConfig};

/// Intended send times in ns from 0, one per payment, in increasing order. A load generator
/// sends each payment at its intended time (or late, if it fell behind) and stamps the intended
/// time, so latency counted from it includes any stall of the generator or the switch
/// (coordinated omission does not hide it).
#[derive(Clone, Debug)]
pub struct Arrivals {
    /// The next time, kept in f64 so constant spacing does not drift by rounding; exact to the
    /// ns for 2^53 ns (104 days).
    next_ns: f64,
    gap: Gap,
    rng: SmallRng,
}

#[derive(Clone, Debug)]
enum Gap {
    Constant(f64),
    Exponential(Exp<f64>),
}

impl Arrivals {
    /// The schedule for `rate_per_s` (finite, above zero) payments a second.
    pub fn new(arrival: Arrival, rate_per_s: f64, seed: u64) -> Arrivals {
        assert!(
            rate_per_s.is_finite() && rate_per_s > 0.0,
            "rate {rate_per_s}"
        );
        let mean_gap_ns = 1e9 / rate_per_s;
        let gap = match arrival {
            Arrival::Constant => Gap::Constant(mean_gap_ns),
            Arrival::Poisson => {
                Gap::Exponential(Exp::new(1.0 / mean_gap_ns).expect("rate is positive"))
            }
        };
        Arrivals {
            next_ns: 0.0,
            gap,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// The schedule `config` asks for.
    pub fn from_config(config: &WorkloadConfig, seed: u64) -> Arrivals {
        Arrivals::new(config.arrival, config.rate_per_s, seed)
    }

    /// The next intended send time, ns from 0. Constant spacing starts at 0; a Poisson process
    /// starts one gap in.
    #[inline]
    pub fn next_ns(&mut self) -> u64 {
        match &self.gap {
            Gap::Constant(gap_ns) => {
                let now = self.next_ns;
                self.next_ns += gap_ns;
                now.round() as u64
            }
            Gap::Exponential(exponential) => {
                self.next_ns += exponential.sample(&mut self.rng);
                self.next_ns.round() as u64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_arrivals_are_evenly_spaced_without_drift() {
        let mut arrivals = Arrivals::new(Arrival::Constant, 180_000.0, 1);
        let times: Vec<u64> = (0..180_001).map(|_| arrivals.next_ns()).collect();
        assert_eq!(times[0], 0);
        assert_eq!(times[1], 5_556); // 5,555.6 ns
        assert_eq!(times[180_000], 1_000_000_000);
        assert!(times
            .windows(2)
            .all(|pair| (5_555..=5_556).contains(&(pair[1] - pair[0]))));
    }

    #[test]
    fn poisson_gaps_average_one_over_the_rate_and_repeat_by_seed() {
        let rate_per_s = 180_000.0;
        let count = 200_000;
        let mut arrivals = Arrivals::new(Arrival::Poisson, rate_per_s, 42);
        let times: Vec<u64> = (0..count).map(|_| arrivals.next_ns()).collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
        let mean_gap_ns = times[count - 1] as f64 / count as f64;
        let expected_ns = 1e9 / rate_per_s;
        // The mean of 200,000 exponential gaps has a relative standard error of 0.22%.
        assert!(
            (mean_gap_ns / expected_ns - 1.0).abs() < 0.01,
            "mean gap {mean_gap_ns} ns, expected {expected_ns}"
        );
        // Exponential: about e^-1 of the gaps are longer than the mean.
        let longer = times
            .windows(2)
            .filter(|pair| (pair[1] - pair[0]) as f64 > expected_ns)
            .count() as f64
            / count as f64;
        assert!((longer - (-1.0f64).exp()).abs() < 0.01, "{longer}");
        let mut again = Arrivals::new(Arrival::Poisson, rate_per_s, 42);
        assert!(times.iter().all(|&time| time == again.next_ns()));
        let mut other = Arrivals::new(Arrival::Poisson, rate_per_s, 43);
        assert_ne!(times[0], other.next_ns());
    }
}
