//! [`search`]: the sustainable throughput of any [`System`], found by bracketing then
//! bisecting on the offered rate, each rate tried [`Settings::repeats`] times.
//!
//! A rate *holds* when every one of its trials passes (the first failure ends its trials): a
//! capacity planner needs the rate the system keeps to every time, and noise only ever makes a
//! failing rate look like it holds once, never the other way. The search assumes that a rate
//! above one that failed fails too, so it keeps the highest rate that held and the lowest that
//! failed, and the answer lies between them.
//!
//! 1. Bracket: try the start rate; while it holds, double it (up to the maximum); if the start
//!    fails, halve it (down to the minimum) until one holds.
//! 2. Bisect: try the midpoint of the highest rate that held and the lowest that failed, until
//!    the two are within [`Settings::precision`] of the one that held.

use serde::Serialize;

use crate::exit::Failure;

/// What a search can try: one trial of an offered rate.
pub trait System {
    /// Offers `rate_per_s` once (the `repeat`-th time at this rate, from 0) and says what came
    /// of it.
    fn trial(&mut self, rate_per_s: f64, repeat: usize) -> Result<Trial, Failure>;
}

/// One trial, judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Trial {
    /// Whether every gate held, the measurement was valid and every check passed.
    pub passed: bool,
    /// Why it did not pass: the first failed gate and its measurement, or the generator falling
    /// behind.
    pub reason: Option<String>,
    /// Payments answered per second of the measured window.
    pub throughput_per_s: f64,
    /// End-to-end p50 and p99, ns, where measured.
    pub p50_ns: Option<u64>,
    /// End-to-end p99, ns.
    pub p99_ns: Option<u64>,
    /// The trial's results folder, where there is one.
    pub out: Option<String>,
}

/// How the search goes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// The first rate tried, payments/s.
    pub start_per_s: f64,
    /// The lowest rate the bracket goes down to before it gives up.
    pub min_per_s: f64,
    /// The highest rate the bracket goes up to before it stops with no failure found.
    pub max_per_s: f64,
    /// The search ends when the lowest failing rate is within this fraction of the highest
    /// holding one.
    pub precision: f64,
    /// Trials per rate.
    pub repeats: usize,
}

/// Which phase tried a rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Doubling or halving to find a rate that holds and one that fails.
    Bracket,
    /// Halving the gap between them.
    Bisect,
}

/// One trial, as the search's record keeps it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeRecord {
    /// Its place in the search, from 1.
    pub index: usize,
    /// The phase that tried it.
    pub phase: Phase,
    /// The rate offered, payments/s.
    pub rate_per_s: f64,
    /// Which trial at this rate, from 1.
    pub repeat: usize,
    /// What came of it.
    #[serde(flatten)]
    pub trial: Trial,
}

/// How the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The highest rate that held and the lowest that failed are within the precision.
    Converged,
    /// Every rate up to the maximum held: the sustainable throughput is at least that.
    HeldUpToMax,
    /// Every rate down to the minimum failed: nothing tried is sustainable.
    FailedDownToMin,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Found {
    /// The highest rate that held every trial, or `None` if none did.
    pub sustainable_per_s: Option<f64>,
    /// The lowest rate that failed a trial, or `None` if none did.
    pub first_fail_per_s: Option<f64>,
    /// How it ended.
    pub ending: Ending,
    /// Every trial, in the order tried.
    pub probes: Vec<ProbeRecord>,
}

impl Found {
    /// The width of the answer: the first failing rate less the sustainable one, when both are
    /// known. The true capacity lies in `[sustainable, first_fail)`.
    pub fn uncertainty_per_s(&self) -> Option<f64> {
        Some(self.first_fail_per_s? - self.sustainable_per_s?)
    }
}

/// Refuses settings no search can follow; the message names the setting.
pub fn check(settings: &Settings) -> Result<(), String> {
    let rates = [
        ("--start", settings.start_per_s),
        ("--min-rate", settings.min_per_s),
        ("--max-rate", settings.max_per_s),
    ];
    if let Some((name, rate)) = rates
        .iter()
        .find(|(_, rate)| !(rate.is_finite() && *rate >= 1.0))
    {
        return Err(format!(
            "{name} {rate} is not a rate of at least 1 payment/s"
        ));
    }
    if !(settings.min_per_s <= settings.start_per_s && settings.start_per_s <= settings.max_per_s) {
        return Err(format!(
            "the start rate {} must lie between --min-rate {} and --max-rate {}",
            settings.start_per_s, settings.min_per_s, settings.max_per_s
        ));
    }
    if !(settings.precision > 0.0 && settings.precision < 1.0) {
        return Err(format!(
            "--precision {} must lie between 0 and 1 (e.g. 5%)",
            settings.precision
        ));
    }
    if settings.repeats == 0 {
        return Err("--repeats must be at least 1".to_string());
    }
    Ok(())
}

/// Searches `system` for its sustainable throughput; `seen` hears of each trial as it ends
/// (for a progress line). Fails only when a trial cannot be run or judged.
pub fn search(
    system: &mut dyn System,
    settings: &Settings,
    mut seen: impl FnMut(&ProbeRecord),
) -> Result<Found, Failure> {
    check(settings).map_err(Failure::usage)?;
    let mut probes = Vec::new();
    let mut attempt = |rate: f64, phase: Phase, probes: &mut Vec<ProbeRecord>| {
        for repeat in 0..settings.repeats {
            let trial = system.trial(rate, repeat)?;
            let passed = trial.passed;
            let record = ProbeRecord {
                index: probes.len() + 1,
                phase,
                rate_per_s: rate,
                repeat: repeat + 1,
                trial,
            };
            seen(&record);
            probes.push(record);
            if !passed {
                return Ok(false);
            }
        }
        Ok::<bool, Failure>(true)
    };

    // Bracket.
    let mut held: Option<f64> = None;
    let mut failed: Option<f64> = None;
    let mut rate = settings.start_per_s.round();
    if attempt(rate, Phase::Bracket, &mut probes)? {
        held = Some(rate);
        while failed.is_none() && rate < settings.max_per_s {
            rate = (rate * 2.0).min(settings.max_per_s).round();
            if attempt(rate, Phase::Bracket, &mut probes)? {
                held = Some(rate);
            } else {
                failed = Some(rate);
            }
        }
    } else {
        failed = Some(rate);
        while held.is_none() && rate > settings.min_per_s {
            rate = (rate / 2.0).max(settings.min_per_s).round();
            if attempt(rate, Phase::Bracket, &mut probes)? {
                held = Some(rate);
            } else {
                failed = Some(rate);
            }
        }
    }

    // Bisect.
    let ending = match (held, failed) {
        (Some(_), None) => Ending::HeldUpToMax,
        (None, _) => Ending::FailedDownToMin,
        (Some(mut low), Some(mut high)) => {
            while high - low > settings.precision * low && high - low > 1.0 {
                let middle = ((low + high) / 2.0).round();
                if attempt(middle, Phase::Bisect, &mut probes)? {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            held = Some(low);
            failed = Some(high);
            Ending::Converged
        }
    };
    Ok(Found {
        sustainable_per_s: held,
        first_fail_per_s: failed,
        ending,
        probes,
    })
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// A system whose capacity is known: a trial passes when the rate is below the capacity,
    /// moved by up to ±`noise` (a fraction) each trial, as a shared machine moves it.
    struct Simulated {
        capacity_per_s: f64,
        noise: f64,
        rng: SmallRng,
        trials: usize,
    }

    impl Simulated {
        fn new(capacity_per_s: f64, noise: f64, seed: u64) -> Simulated {
            Simulated {
                capacity_per_s,
                noise,
                rng: SmallRng::seed_from_u64(seed),
                trials: 0,
            }
        }
    }

    impl System for Simulated {
        fn trial(&mut self, rate_per_s: f64, _repeat: usize) -> Result<Trial, Failure> {
            self.trials += 1;
            let moved = if self.noise > 0.0 {
                self.rng.gen_range(-self.noise..=self.noise)
            } else {
                0.0
            };
            let capacity = self.capacity_per_s * (1.0 + moved);
            let passed = rate_per_s < capacity;
            Ok(Trial {
                passed,
                reason: (!passed).then(|| "p99<100ms measured 1.2 s".to_string()),
                throughput_per_s: rate_per_s.min(capacity),
                ..Trial::default()
            })
        }
    }

    fn settings() -> Settings {
        Settings {
            start_per_s: 10_000.0,
            min_per_s: 1_000.0,
            max_per_s: 10_000_000.0,
            precision: 0.05,
            repeats: 3,
        }
    }

    #[test]
    fn a_noiseless_system_is_found_within_the_stated_uncertainty() {
        for capacity in [
            1_500.0,
            9_999.0,
            10_001.0,
            123_456.0,
            777_000.0,
            4_000_000.0,
        ] {
            let mut system = Simulated::new(capacity, 0.0, 1);
            let found = search(&mut system, &settings(), |_| {}).unwrap();
            assert_eq!(found.ending, Ending::Converged, "capacity {capacity}");
            let low = found.sustainable_per_s.unwrap();
            let high = found.first_fail_per_s.unwrap();
            assert!(
                low < capacity && capacity <= high,
                "{capacity} not in [{low}, {high})"
            );
            assert!(
                high - low <= 0.05 * low + 1.0,
                "{capacity}: [{low}, {high}) is wider than the precision"
            );
            assert_eq!(found.uncertainty_per_s(), Some(high - low));
            // Each rate that held was tried every time; each that failed, until its failure.
            assert_eq!(system.trials, found.probes.len());
        }
    }

    #[test]
    fn a_noisy_system_is_found_within_the_noise_and_the_precision_for_many_seeds() {
        // Capacity 200,000/s moving ±3% a trial. A rate holds only if all three trials pass, so
        // the answer may sit below the capacity by the noise, never above it by more.
        for seed in 0..200 {
            let capacity = 200_000.0;
            let mut system = Simulated::new(capacity, 0.03, seed);
            let found = search(&mut system, &settings(), |_| {}).unwrap();
            let low = found.sustainable_per_s.unwrap();
            let high = found.first_fail_per_s.unwrap();
            assert!(
                low < capacity * 1.03,
                "seed {seed}: {low} held above the noise"
            );
            assert!(
                low >= capacity * (1.0 - 0.03) * (1.0 - 0.05) - 1.0,
                "seed {seed}: {low} is further below {capacity} than noise and precision"
            );
            assert!(high - low <= 0.05 * low + 1.0, "seed {seed}");
        }
    }

    #[test]
    fn the_bracket_goes_down_when_the_start_fails() {
        let mut system = Simulated::new(3_000.0, 0.0, 1);
        let found = search(&mut system, &settings(), |_| {}).unwrap();
        assert_eq!(found.probes[0].rate_per_s, 10_000.0);
        assert!(!found.probes[0].trial.passed);
        assert_eq!(found.probes[1].rate_per_s, 5_000.0);
        let low = found.sustainable_per_s.unwrap();
        assert!(low < 3_000.0 && 3_000.0 <= found.first_fail_per_s.unwrap());
    }

    #[test]
    fn a_system_that_never_fails_is_reported_as_holding_up_to_the_maximum() {
        let mut system = Simulated::new(f64::INFINITY, 0.0, 1);
        let settings = Settings {
            max_per_s: 50_000.0,
            ..settings()
        };
        let found = search(&mut system, &settings, |_| {}).unwrap();
        assert_eq!(found.ending, Ending::HeldUpToMax);
        assert_eq!(found.sustainable_per_s, Some(50_000.0));
        assert_eq!(found.first_fail_per_s, None);
        assert_eq!(found.uncertainty_per_s(), None);
        let rates: Vec<f64> = found.probes.iter().map(|probe| probe.rate_per_s).collect();
        assert_eq!(
            rates,
            [10_000.0, 10_000.0, 10_000.0, 20_000.0, 20_000.0, 20_000.0, 40_000.0, 40_000.0]
                .into_iter()
                .chain([40_000.0, 50_000.0, 50_000.0, 50_000.0])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_system_that_always_fails_is_reported_as_failing_down_to_the_minimum() {
        let mut system = Simulated::new(0.0, 0.0, 1);
        let found = search(&mut system, &settings(), |_| {}).unwrap();
        assert_eq!(found.ending, Ending::FailedDownToMin);
        assert_eq!(found.sustainable_per_s, None);
        assert_eq!(found.first_fail_per_s, Some(1_000.0));
        // A failing rate is tried once: its first failure ends it.
        assert!(found.probes.iter().all(|probe| probe.repeat == 1));
    }

    #[test]
    fn every_trial_is_recorded_in_order_and_heard() {
        let mut system = Simulated::new(60_000.0, 0.0, 1);
        let mut heard = Vec::new();
        let found = search(&mut system, &settings(), |probe| heard.push(probe.index)).unwrap();
        assert_eq!(heard, (1..=found.probes.len()).collect::<Vec<_>>());
        assert!(found
            .probes
            .iter()
            .any(|probe| probe.phase == Phase::Bisect));
        let failed = found
            .probes
            .iter()
            .find(|probe| !probe.trial.passed)
            .unwrap();
        assert!(failed.trial.reason.as_deref().unwrap().contains("p99"));
    }

    #[test]
    fn settings_no_search_can_follow_are_refused_by_name() {
        let cases: [(Settings, &str); 6] = [
            (
                Settings {
                    start_per_s: 0.0,
                    ..settings()
                },
                "--start",
            ),
            (
                Settings {
                    min_per_s: f64::NAN,
                    ..settings()
                },
                "--min-rate",
            ),
            (
                Settings {
                    max_per_s: 5_000.0,
                    ..settings()
                },
                "between",
            ),
            (
                Settings {
                    precision: 0.0,
                    ..settings()
                },
                "--precision",
            ),
            (
                Settings {
                    precision: 1.5,
                    ..settings()
                },
                "--precision",
            ),
            (
                Settings {
                    repeats: 0,
                    ..settings()
                },
                "--repeats",
            ),
        ];
        for (settings, named) in cases {
            let error = check(&settings).unwrap_err();
            assert!(error.contains(named), "{error} should name {named}");
            let mut system = Simulated::new(1.0, 0.0, 1);
            let failure = search(&mut system, &settings, |_| {}).unwrap_err();
            assert_eq!(failure.code, crate::exit::USAGE);
            assert_eq!(system.trials, 0);
        }
    }
}
