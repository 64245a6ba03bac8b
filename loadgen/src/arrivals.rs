//! [`Arrivals`]: the schedule of intended send times, evenly spaced or a Poisson process, at a
//! fixed rate or one that changes over time, or the replay of a recorded trace; with
//! [`Schedule`], what a [`Shape`] plans, and [`RateProfile`], a changing rate compiled for
//! drawing times.

use std::sync::Arc;

use rand::{rngs::SmallRng, SeedableRng};
use rand_distr::{Distribution, Exp1};

use crate::config::{Arrival, WorkloadConfig};
use crate::shape::{Shape, ShapeError};
use crate::trace::Trace;

/// Intended send times in ns from 0, one per payment, in nondecreasing order. A load generator
/// sends each payment at its intended time (or late, if it fell behind) and stamps the intended
/// time, so latency counted from it includes any stall of the generator or the switch
/// (coordinated omission does not hide it).
///
/// Under a changing rate with Λ(t) the payments planned from 0 to t (the rate's integral),
/// evenly spaced times put the n-th payment at Λ⁻¹(n); Poisson times are the non-homogeneous
/// Poisson process, unit-exponential gaps in Λ mapped back through Λ⁻¹ (time rescaling).
/// Stretches of zero rate get no payments. Drawing a time allocates nothing: the profile's
/// segments are walked forward, one index that never moves back.
#[derive(Clone, Debug)]
pub struct Arrivals {
    source: Source,
    rng: SmallRng,
    /// The last time given, so rounding can never give an earlier one.
    last_ns: u64,
    /// Whether the schedule ran out and [`u64::MAX`] was given.
    ended: bool,
}

#[derive(Clone, Debug)]
enum Source {
    Rate(Cursor),
    Trace {
        offsets_ns: Arc<[u64]>,
        /// The next offset of this partition.
        index: usize,
        /// Partitions: the offsets this one takes are this far apart.
        stride: usize,
    },
}

/// A partition's place in a [`RateProfile`].
#[derive(Clone, Debug)]
struct Cursor {
    segments: Arc<[Segment]>,
    /// The segment the last time fell in; only moves forward.
    segment: usize,
    arrival: Arrival,
    /// Planned payments (of the whole profile) between this partition's payments: the count of
    /// partitions, so each runs at its share of the rate.
    stride: f64,
    /// Λ at this partition's next time (evenly spaced; it starts at the partition's index, so
    /// the partitions together interleave as the whole would, and stays a whole number, exact
    /// in f64 up to 2^53) or at its last time (Poisson).
    count: f64,
}

/// A changing rate compiled for drawing times: piecewise-linear segments from 0, each with the
/// payments planned before it, the last held for ever. Built once per shape and shared by every
/// partition's [`Arrivals`].
#[derive(Clone, Debug, PartialEq)]
pub struct RateProfile {
    segments: Arc<[Segment]>,
}

/// A stretch of a [`RateProfile`] over which the rate is linear.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    start_s: f64,
    /// `f64::INFINITY` for the last segment.
    end_s: f64,
    /// The rate at `start_s`, payments a second.
    rate: f64,
    /// How fast the rate changes, payments a second per second.
    slope: f64,
    /// Λ at `start_s`: payments planned before the segment.
    count_start: f64,
    /// Λ at `end_s`; infinite for a last segment whose rate is above zero.
    count_end: f64,
}

/// What a [`Shape`] plans: the send times [`Arrivals::scheduled`] draws from.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// A planned rate over time.
    Rate {
        /// How send times are spaced under it.
        arrival: Arrival,
        /// The rate.
        profile: RateProfile,
    },
    /// The replay of a recorded trace.
    Trace(Trace),
}

impl Schedule {
    /// The schedule `shape` plans; `trace` is the file of a [`Shape::Trace`], loaded by the
    /// caller with [`Trace::load`]. Refused: a shape that fails [`Shape::validate`], saturation
    /// (which has no schedule), a trace shape without its trace, and a trace given to a shape
    /// that replays none.
    pub fn new(shape: &Shape, trace: Option<Trace>) -> Result<Schedule, ShapeError> {
        shape.validate()?;
        match (shape, trace) {
            (Shape::Max, _) => Err(ShapeError::new(
                "traffic.shape",
                "is max (saturation), which has no schedule: its producers send as fast as they \
                 can",
            )),
            (Shape::Trace { .. }, Some(trace)) => Ok(Schedule::Trace(trace)),
            (Shape::Trace { file }, None) => Err(ShapeError::new(
                "traffic.file",
                format!(
                    "names {}, which must be loaded (Trace::load) and passed with the shape",
                    file.display()
                ),
            )),
            (_, Some(_)) => Err(ShapeError::new(
                "traffic.shape",
                format!("is `{shape}`, which replays no trace; none may be passed"),
            )),
            (_, None) => match (shape.arrival(), RateProfile::new(shape)) {
                (Some(arrival), Some(profile)) => Ok(Schedule::Rate { arrival, profile }),
                _ => Err(ShapeError::new("traffic.shape", "plans no rate")),
            },
        }
    }
}

/// Builds a [`RateProfile`] piece by piece from 0.
struct Builder {
    segments: Vec<Segment>,
    at_s: f64,
    count: f64,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            segments: Vec::new(),
            at_s: 0.0,
            count: 0.0,
        }
    }

    /// The rate linear from `from` to `to` until `end_s`; nothing if `end_s` is not after the
    /// last piece's end (a jump).
    fn until(&mut self, end_s: f64, from: f64, to: f64) {
        let length_s = end_s - self.at_s;
        if length_s.is_nan() || length_s <= 0.0 {
            return;
        }
        let count_end = self.count + (from + to) / 2.0 * length_s;
        self.segments.push(Segment {
            start_s: self.at_s,
            end_s,
            rate: from,
            slope: (to - from) / length_s,
            count_start: self.count,
            count_end,
        });
        self.at_s = end_s;
        self.count = count_end;
    }

    /// The rate linear from `from` to `to` for `length_s`.
    fn over(&mut self, length_s: f64, from: f64, to: f64) {
        self.until(self.at_s + length_s, from, to);
    }

    /// `rate` from the end of the last piece on, for ever.
    fn hold(mut self, rate: f64) -> RateProfile {
        self.segments.push(Segment {
            start_s: self.at_s,
            end_s: f64::INFINITY,
            rate,
            slope: 0.0,
            count_start: self.count,
            count_end: if rate > 0.0 {
                f64::INFINITY
            } else {
                self.count
            },
        });
        RateProfile {
            segments: self.segments.into(),
        }
    }
}

impl RateProfile {
    /// The rate `shape` plans, compiled; None for a trace and for saturation. For a shape that
    /// passes [`Shape::validate`]; others give a meaningless profile, never a panic.
    pub fn new(shape: &Shape) -> Option<RateProfile> {
        let mut builder = Builder::new();
        Some(match shape {
            Shape::Constant { rate } | Shape::Poisson { rate } => builder.hold(*rate),
            Shape::Ramp {
                from, to, over_s, ..
            } => {
                builder.over(*over_s, *from, *to);
                builder.hold(*to)
            }
            Shape::Steps { steps, .. } => {
                let mut rate = 0.0;
                for step in steps {
                    builder.until(step.at_s, rate, rate);
                    rate = step.rate;
                }
                builder.hold(rate)
            }
            Shape::Spike {
                base,
                peak,
                at_s,
                rise_s,
                hold_s,
                decay_s,
                ..
            } => {
                builder.until(*at_s, *base, *base);
                builder.over(*rise_s, *base, *peak);
                builder.over(*hold_s, *peak, *peak);
                builder.over(*decay_s, *peak, *base);
                builder.hold(*base)
            }
            Shape::Profile { points, .. } => {
                let mut rate = points.first().map_or(0.0, |point| point.rate);
                for point in points {
                    builder.until(point.at_s, rate, point.rate);
                    rate = point.rate;
                }
                builder.hold(rate)
            }
            Shape::Trace { .. } | Shape::Max => return None,
        })
    }

    /// A fixed `rate_per_s` from 0.
    fn fixed(rate_per_s: f64) -> RateProfile {
        Builder::new().hold(rate_per_s)
    }

    /// The segment `t_s` falls in (0 for times before 0).
    fn segment_at(&self, t_s: f64) -> &Segment {
        let after = self
            .segments
            .partition_point(|segment| segment.start_s <= t_s);
        &self.segments[after.saturating_sub(1)]
    }

    /// The planned rate at `t_s` seconds, payments a second (a time before 0 is taken as 0).
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let t_s = t_s.max(0.0);
        let segment = self.segment_at(t_s);
        (segment.rate + segment.slope * (t_s - segment.start_s)).max(0.0)
    }

    /// Λ(`t_s`): the payments planned from 0 to `t_s` seconds (0 before 0).
    pub fn count_before(&self, t_s: f64) -> f64 {
        let t_s = t_s.max(0.0);
        let segment = self.segment_at(t_s);
        let into_s = t_s - segment.start_s;
        if into_s <= 0.0 {
            return segment.count_start;
        }
        let count =
            segment.count_start + segment.rate * into_s + segment.slope * into_s * into_s / 2.0;
        count.min(segment.count_end)
    }

    /// The payments planned from `from_s` to `to_s` seconds: the rate's integral (negative when
    /// `to_s` is before `from_s`).
    pub fn expected_count(&self, from_s: f64, to_s: f64) -> f64 {
        self.count_before(to_s) - self.count_before(from_s)
    }

    /// The highest rate planned, payments a second.
    pub fn peak_rate(&self) -> f64 {
        self.segments.iter().fold(0.0, |peak: f64, segment| {
            let end_rate = if segment.end_s.is_finite() {
                segment.rate + segment.slope * (segment.end_s - segment.start_s)
            } else {
                segment.rate
            };
            peak.max(segment.rate).max(end_rate)
        })
    }
}

impl Arrivals {
    /// The schedule for `rate_per_s` (finite, above zero) payments a second.
    ///
    /// # Panics
    ///
    /// If `rate_per_s` is not finite and above zero.
    pub fn new(arrival: Arrival, rate_per_s: f64, seed: u64) -> Arrivals {
        assert!(
            rate_per_s.is_finite() && rate_per_s > 0.0,
            "rate {rate_per_s}"
        );
        Arrivals::over_profile(&RateProfile::fixed(rate_per_s), arrival, 0, 1, seed)
    }

    /// The schedule `config` asks for.
    pub fn from_config(config: &WorkloadConfig, seed: u64) -> Arrivals {
        Arrivals::new(config.arrival, config.rate_per_s, seed)
    }

    /// The send times of partition `partition` of `partitions` producer threads sharing
    /// `schedule`. Under a rate, each partition runs the whole profile at its share of the rate
    /// (`1 / partitions`): Poisson partitions are independent streams that add up to the whole
    /// (give each its own seed); evenly spaced partitions interleave into exactly the whole's
    /// times. A trace's partition `p` replays the offsets whose index is `p` modulo
    /// `partitions`.
    ///
    /// # Panics
    ///
    /// If `partition` is not below `partitions`.
    pub fn scheduled(schedule: &Schedule, partition: u32, partitions: u32, seed: u64) -> Arrivals {
        assert!(
            partition < partitions,
            "partition {partition} of {partitions}"
        );
        match schedule {
            Schedule::Rate { arrival, profile } => {
                Arrivals::over_profile(profile, *arrival, partition, partitions, seed)
            }
            Schedule::Trace(trace) => Arrivals {
                source: Source::Trace {
                    offsets_ns: Arc::clone(trace.shared()),
                    index: partition as usize,
                    stride: partitions as usize,
                },
                rng: SmallRng::seed_from_u64(seed),
                last_ns: 0,
                ended: false,
            },
        }
    }

    fn over_profile(
        profile: &RateProfile,
        arrival: Arrival,
        partition: u32,
        partitions: u32,
        seed: u64,
    ) -> Arrivals {
        Arrivals {
            source: Source::Rate(Cursor {
                segments: Arc::clone(&profile.segments),
                segment: 0,
                arrival,
                stride: f64::from(partitions),
                count: match arrival {
                    Arrival::Constant => f64::from(partition),
                    Arrival::Poisson => 0.0,
                },
            }),
            rng: SmallRng::seed_from_u64(seed),
            last_ns: 0,
            ended: false,
        }
    }

    /// The next intended send time, ns from 0, never before the last; [`u64::MAX`] once the
    /// schedule has no more (a trace replayed to its end, a rate that stays 0 after its last
    /// change), and for ever after. Evenly spaced times start at the first moment the rate is
    /// above zero; a Poisson process starts one gap in.
    #[inline]
    pub fn next_ns(&mut self) -> u64 {
        if self.ended {
            return u64::MAX;
        }
        let ns = match &mut self.source {
            Source::Rate(cursor) => {
                let count = match cursor.arrival {
                    Arrival::Constant => {
                        let count = cursor.count;
                        cursor.count += cursor.stride;
                        count
                    }
                    Arrival::Poisson => {
                        let gap: f64 = Exp1.sample(&mut self.rng);
                        cursor.count += gap * cursor.stride;
                        cursor.count
                    }
                };
                cursor.time_ns(count)
            }
            Source::Trace {
                offsets_ns,
                index,
                stride,
            } => match offsets_ns.get(*index) {
                Some(&offset_ns) => {
                    *index = index.saturating_add(*stride);
                    offset_ns
                }
                None => u64::MAX,
            },
        };
        if ns == u64::MAX {
            self.ended = true;
            return u64::MAX;
        }
        self.last_ns = self.last_ns.max(ns);
        self.last_ns
    }

    /// Whether the schedule ran out: [`Arrivals::next_ns`] has given [`u64::MAX`] and will
    /// give nothing else.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

impl Cursor {
    /// Λ⁻¹(`count`) in ns, walking forward from the current segment; [`u64::MAX`] when the
    /// profile plans fewer payments than `count`.
    #[inline]
    fn time_ns(&mut self, count: f64) -> u64 {
        let mut segment = &self.segments[self.segment];
        while count >= segment.count_end {
            match self.segments.get(self.segment + 1) {
                Some(next) => {
                    self.segment += 1;
                    segment = next;
                }
                None => return u64::MAX,
            }
        }
        let into = count - segment.count_start;
        let into_s = if into <= 0.0 {
            0.0
        } else if segment.slope == 0.0 {
            into / segment.rate
        } else {
            // Λ = rate·x + slope·x²/2 solved for x; this form loses no precision when the
            // slope is small against the rate.
            let root = (segment.rate * segment.rate + 2.0 * segment.slope * into)
                .max(0.0)
                .sqrt();
            2.0 * into / (segment.rate + root)
        };
        let t_s = segment.start_s + into_s.min(segment.end_s - segment.start_s);
        // Rounded to the nearest ns (adding a half and truncating: `round` is a library call
        // on the baseline x86-64 target); the cast saturates at u64::MAX (584 years), which
        // ends the schedule.
        (t_s * 1e9 + 0.5) as u64
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::shape::Point;

    fn point(at_s: f64, rate: f64) -> Point {
        Point { at_s, rate }
    }

    /// Shapes whose rate changes, each with a stretch worth checking, at rates that keep the
    /// tests fast (a few tens of thousands of times each).
    fn changing_shapes(arrival: Arrival) -> Vec<Shape> {
        vec![
            Shape::Ramp {
                from: 0.0,
                to: 20_000.0,
                over_s: 2.0,
                arrival,
            },
            Shape::Steps {
                steps: vec![
                    point(0.5, 5_000.0),
                    point(1.0, 20_000.0),
                    point(2.0, 0.0),
                    point(3.0, 10_000.0),
                ],
                arrival,
            },
            Shape::Spike {
                base: 1_000.0,
                peak: 30_000.0,
                at_s: 1.0,
                rise_s: 0.5,
                hold_s: 0.5,
                decay_s: 1.0,
                arrival,
            },
            Shape::Profile {
                points: vec![
                    point(0.0, 0.0),
                    point(1.0, 20_000.0),
                    point(1.0, 5_000.0),
                    point(2.0, 5_000.0),
                    point(2.5, 0.0),
                    point(3.0, 0.0),
                    point(3.0, 10_000.0),
                ],
                arrival,
            },
        ]
    }

    /// The times of one partition of `shape` before `end_s`.
    fn times(shape: &Shape, partition: u32, partitions: u32, seed: u64, end_s: f64) -> Vec<u64> {
        let schedule = Schedule::new(shape, None).unwrap();
        let mut arrivals = Arrivals::scheduled(&schedule, partition, partitions, seed);
        let end_ns = (end_s * 1e9) as u64;
        std::iter::from_fn(|| Some(arrivals.next_ns()))
            .take_while(|&time_ns| time_ns < end_ns)
            .collect()
    }

    /// How many of `times` are before `t_s`.
    fn before(times: &[u64], t_s: f64) -> usize {
        times.partition_point(|&time_ns| (time_ns as f64) < t_s * 1e9)
    }

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

    #[test]
    fn counts_before_each_time_follow_the_shape() {
        let checks_s = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0];
        for arrival in [Arrival::Constant, Arrival::Poisson] {
            for shape in changing_shapes(arrival) {
                let times = times(&shape, 0, 1, 7, 4.0);
                assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{shape}");
                for t_s in checks_s {
                    let expected = shape.expected_count(0.0, t_s).unwrap();
                    let got = before(&times, t_s) as f64;
                    // Evenly spaced: the n-th at Λ⁻¹(n), so the count before t is Λ(t) rounded
                    // up; Poisson: within four standard deviations.
                    let allowed = match arrival {
                        Arrival::Constant => 1.0,
                        Arrival::Poisson => 4.0 * expected.sqrt() + 1.0,
                    };
                    assert!(
                        (got - expected).abs() <= allowed,
                        "{shape} before {t_s} s: {got}, expected {expected}"
                    );
                }
            }
        }
    }

    #[test]
    fn each_second_gets_its_step_s_rate() {
        let rates = [1_000.0, 3_000.0, 0.0, 2_000.0];
        for arrival in [Arrival::Constant, Arrival::Poisson] {
            let shape = Shape::Steps {
                steps: (0..4)
                    .map(|second| point(second as f64, rates[second]))
                    .collect(),
                arrival,
            };
            let times = times(&shape, 0, 1, 3, 4.0);
            for (second, rate) in rates.iter().enumerate() {
                let got =
                    (before(&times, second as f64 + 1.0) - before(&times, second as f64)) as f64;
                let allowed = match arrival {
                    Arrival::Constant => 1.0,
                    Arrival::Poisson => 4.0 * rate.sqrt(),
                };
                assert!(
                    (got - rate).abs() <= allowed,
                    "{shape}, second {second}: {got}"
                );
            }
        }
    }

    #[test]
    fn evenly_spaced_times_invert_the_planned_count() {
        // Ramp up 0 → 1,000/s over 2 s: Λ(t) = 250·t², so the n-th time is √(n / 250).
        // Ramp down 1,000 → 0/s over 2 s: Λ(t) = 1,000·t − 250·t², the n-th at 2 − √(4 − n/250).
        let up = Shape::Ramp {
            from: 0.0,
            to: 1_000.0,
            over_s: 2.0,
            arrival: Arrival::Constant,
        };
        let down = Shape::Ramp {
            from: 1_000.0,
            to: 0.0,
            over_s: 2.0,
            arrival: Arrival::Constant,
        };
        let up_times = times(&up, 0, 1, 1, 2.0);
        let down_times = times(&down, 0, 1, 1, 10.0);
        assert_eq!(up_times.len(), 1_000);
        // Down: 1,000 payments in all, then nothing.
        assert_eq!(down_times.len(), 1_000);
        for n in 0..1_000 {
            let n_f = n as f64;
            let up_ns = (n_f / 250.0).sqrt() * 1e9;
            let down_ns = (2.0 - (4.0 - n_f / 250.0).sqrt()) * 1e9;
            assert!((up_times[n] as f64 - up_ns).abs() <= 1.0, "up {n}");
            assert!((down_times[n] as f64 - down_ns).abs() <= 1.0, "down {n}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_times_and_another_seed_others() {
        for shape in changing_shapes(Arrival::Poisson) {
            let first = times(&shape, 0, 1, 11, 2.0);
            assert_eq!(first, times(&shape, 0, 1, 11, 2.0), "{shape}");
            assert_ne!(first, times(&shape, 0, 1, 12, 2.0), "{shape}");
        }
        // A fixed rate through a schedule is the schedule of `Arrivals::new`.
        for (shape, arrival) in [
            (Shape::Constant { rate: 180_000.0 }, Arrival::Constant),
            (Shape::Poisson { rate: 180_000.0 }, Arrival::Poisson),
        ] {
            let mut fixed = Arrivals::new(arrival, 180_000.0, 5);
            let times = times(&shape, 0, 1, 5, 0.1);
            assert!(times.iter().all(|&time_ns| time_ns == fixed.next_ns()));
        }
    }

    #[test]
    fn partitions_add_up_to_the_whole() {
        let partitions = 4;
        for shape in changing_shapes(Arrival::Poisson) {
            let counts: usize = (0..partitions)
                .map(|partition| {
                    times(
                        &shape,
                        partition,
                        partitions,
                        100 + u64::from(partition),
                        4.0,
                    )
                    .len()
                })
                .sum();
            let expected = shape.expected_count(0.0, 4.0).unwrap();
            assert!(
                (counts as f64 - expected).abs() <= 4.0 * expected.sqrt(),
                "{shape}: {counts}, expected {expected}"
            );
        }
        // Evenly spaced partitions interleave into exactly the whole's times.
        for shape in changing_shapes(Arrival::Constant) {
            let whole = times(&shape, 0, 1, 1, 4.0);
            let mut together: Vec<u64> = (0..partitions)
                .flat_map(|partition| times(&shape, partition, partitions, 1, 4.0))
                .collect();
            together.sort_unstable();
            assert_eq!(together, whole, "{shape}");
        }
    }

    #[test]
    fn a_trace_s_partitions_together_are_the_trace() {
        let text: String = (0..1_000)
            .map(|index| format!("{}\n", index * 7 / 3))
            .collect();
        let trace = Trace::parse(&format!("offset_us\n{text}")).unwrap();
        let shape = Shape::Trace {
            file: PathBuf::from("trace.csv"),
        };
        let schedule = Schedule::new(&shape, Some(trace.clone())).unwrap();
        let mut together = Vec::new();
        for partition in 0..3 {
            let mut arrivals = Arrivals::scheduled(&schedule, partition, 3, 0);
            loop {
                let time_ns = arrivals.next_ns();
                if time_ns == u64::MAX {
                    break;
                }
                together.push(time_ns);
            }
            assert!(arrivals.ended());
            assert!((0..10).all(|_| arrivals.next_ns() == u64::MAX));
        }
        together.sort_unstable();
        assert_eq!(together, trace.offsets());
    }

    #[test]
    fn a_zero_rate_stretch_gets_no_times_and_the_end_gives_max_for_ever() {
        for arrival in [Arrival::Constant, Arrival::Poisson] {
            let shape = &changing_shapes(arrival)[3];
            let times = times(shape, 0, 1, 9, 4.0);
            // Zero from 2.5 s to 3 s, and before the steps' first at 0.5 s.
            assert_eq!(before(&times, 3.0), before(&times, 2.5), "{shape}");
            let steps = &changing_shapes(arrival)[1];
            assert_eq!(before(&self::times(steps, 0, 1, 9, 4.0), 0.5), 0);
            // Down from 1,000/s to 0 over 1 s: about 500 payments, then none.
            let down = Shape::Profile {
                points: vec![point(0.0, 1_000.0), point(1.0, 0.0)],
                arrival,
            };
            let schedule = Schedule::new(&down, None).unwrap();
            let mut arrivals = Arrivals::scheduled(&schedule, 0, 1, 9);
            let count = std::iter::from_fn(|| Some(arrivals.next_ns()))
                .take_while(|&time_ns| time_ns != u64::MAX)
                .inspect(|&time_ns| assert!(time_ns <= 1_000_000_000))
                .count();
            match arrival {
                Arrival::Constant => assert_eq!(count, 500),
                Arrival::Poisson => assert!((count as f64 - 500.0).abs() < 4.0 * 500f64.sqrt()),
            }
            assert!(arrivals.ended());
            assert!((0..10).all(|_| arrivals.next_ns() == u64::MAX));
        }
    }

    #[test]
    fn shapes_without_a_schedule_are_refused() {
        let trace = Trace::parse("0\n1\n").unwrap();
        let file = PathBuf::from("trace.csv");
        let rows: [(Shape, Option<Trace>, &str); 4] = [
            (Shape::Max, None, "traffic.shape"),
            (Shape::Trace { file }, None, "traffic.file"),
            (Shape::Poisson { rate: 5.0 }, Some(trace), "traffic.shape"),
            (Shape::Poisson { rate: -5.0 }, None, "traffic.rate"),
        ];
        for (shape, trace, field) in rows {
            let error = Schedule::new(&shape, trace).unwrap_err();
            assert_eq!(error.field, field, "{shape}: {error}");
        }
    }
}
