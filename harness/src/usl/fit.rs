//! [`fit`]: the [`Usl`] that best fits measured [`Point`]s, by least squares on the throughput
//! itself: it minimises Σ (Xᵢ − X(Nᵢ))² over λ > 0, 0 ≤ σ ≤ 1, κ ≥ 0.
//!
//! Fitting the throughput rather than the linearised form the start below uses keeps every
//! point's error in the unit it was measured in: the linearised left side, N / C(N) − 1,
//! multiplies a point's relative error by N / C(N), which grows with N, so least squares on it
//! is pulled hardest by the noise of the largest N and the answer it gives is not the
//! throughput's best fit. It is a good start, not the answer.
//!
//! 1. **Start.** λ₀ is the mean throughput at N = 1 and C(N) = X(N) / λ₀ the measured speed-up.
//!    The law rearranges to N / C(N) − 1 = σ(N − 1) + κN(N − 1), linear in σ and κ: ordinary
//!    least squares through the origin gives them, brought within their bounds (Gunther's
//!    own method, in *Guerrilla Capacity Planning*).
//! 2. **Refine.** Levenberg–Marquardt (Levenberg 1944, Marquardt 1963) on the three parameters:
//!    each step solves (JᵀJ + μ·diag JᵀJ) δ = Jᵀr, a 3×3 system, by hand; a step that lowers
//!    the squared error is kept and μ shrinks, one that does not is retried with μ larger. Steps
//!    are projected onto the bounds, and a parameter held at a bound by a gradient that points
//!    out of the bounds is held still for that step (an active set), so the others move as if
//!    it were fixed.
//! 3. **Prefer the simpler law.** The refinement also runs with κ fixed at 0 (Amdahl's law),
//!    with σ fixed at 0, and with both (linear scaling). The simplest of these that fits as well
//!    as all three parameters free, to within rounding, is the answer: data that follow Amdahl's
//!    law get κ = 0 exactly, and so no N*, rather than a κ of 10⁻¹⁷ and an N* in the billions.

use std::fmt;

use serde::{Serialize, Serializer};

use super::{rate, significant, Point, Usl};
use crate::constants::{USL_CONCURRENCY_LEVELS_MIN, USL_POINTS_MIN};

/// Levenberg–Marquardt steps (accepted or not) before the refinement stops: it converges
/// quadratically near the answer, within a few dozen steps from the linearised start; the rest
/// are for data the law fits badly, where progress is slow and the answer matters less.
const STEPS_MAX: usize = 500;
/// The damping μ the refinement starts with: small, so the first step is nearly Gauss–Newton's
/// (the start is usually close).
const DAMPING_START: f64 = 1e-3;
/// Damping past which the refinement stops: the step is then the gradient shrunk by 10¹², and
/// if even that does not lower the squared error, the parameters are at its least within
/// rounding.
const DAMPING_MAX: f64 = 1e12;
/// How far the damping moves after each step: down after a kept step, up after a refused one.
const DAMPING_FACTOR: f64 = 10.0;
/// The floor of the damping, so that it can grow back within a few refused steps.
const DAMPING_MIN: f64 = 1e-12;
/// λ's lower bound as a fraction of λ₀: λ must stay above 0, and no fit that fits puts it a
/// billion times below the throughput measured at N = 1.
const LAMBDA_FLOOR_FRACTION: f64 = 1e-9;
/// A simpler law (κ or σ fixed at 0) is kept when its squared error exceeds the full law's by at
/// most this fraction of it …
const SIMPLER_TOLERANCE_FRACTION: f64 = 1e-9;
/// … or when its residuals are within rounding of the throughput measured: this fraction of
/// it, squared, per point (f64 evaluates the law to ~10⁻¹⁶; this leaves room for the
/// refinement stopping short).
const ROUNDING_FRACTION: f64 = 1e-10;

/// Why points cannot be fitted. Points count from 1, in the order given.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// Fewer points than [`USL_POINTS_MIN`].
    PointsTooFew {
        /// How many there are.
        count: usize,
    },
    /// A point's N is infinite or not a number.
    ConcurrencyNotFinite {
        /// Which point.
        point: usize,
        /// Its N.
        n: f64,
    },
    /// A point's N is below 1: there is no concurrency below one.
    ConcurrencyBelowOne {
        /// Which point.
        point: usize,
        /// Its N.
        n: f64,
    },
    /// A point's throughput is infinite or not a number.
    ThroughputNotFinite {
        /// Which point.
        point: usize,
        /// Its throughput.
        throughput_per_s: f64,
    },
    /// A point's throughput is 0 or below: the law's throughput never is.
    ThroughputNotPositive {
        /// Which point.
        point: usize,
        /// Its throughput.
        throughput_per_s: f64,
    },
    /// No point at N = 1, which λ is the throughput of.
    PointAtOneMissing,
    /// Fewer distinct N than [`USL_CONCURRENCY_LEVELS_MIN`].
    ConcurrencyLevelsTooFew {
        /// How many distinct N there are.
        count: usize,
    },
}

impl fmt::Display for FitError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::PointsTooFew { count } => write!(
                formatter,
                "{count} point{}: a fit needs at least {USL_POINTS_MIN} (three parameters, and \
                 as many points again to show that the curve fits)",
                if *count == 1 { "" } else { "s" }
            ),
            FitError::ConcurrencyNotFinite { point, n } => {
                write!(formatter, "point {point}: n = {n} is not a finite number")
            }
            FitError::ConcurrencyBelowOne { point, n } => {
                write!(formatter, "point {point}: n = {n} is below 1")
            }
            FitError::ThroughputNotFinite {
                point,
                throughput_per_s,
            } => write!(
                formatter,
                "point {point}: throughput {throughput_per_s} is not a finite number"
            ),
            FitError::ThroughputNotPositive {
                point,
                throughput_per_s,
            } => write!(
                formatter,
                "point {point}: throughput {throughput_per_s} is not above 0"
            ),
            FitError::PointAtOneMissing => write!(
                formatter,
                "no point at n = 1: λ is the throughput of one, and the fit starts from it"
            ),
            FitError::ConcurrencyLevelsTooFew { count } => write!(
                formatter,
                "{count} distinct n: a fit needs at least {USL_CONCURRENCY_LEVELS_MIN} (σ and κ \
                 are told apart by how the throughput bends)"
            ),
        }
    }
}

impl std::error::Error for FitError {}

/// One point against the fitted law.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Residual {
    /// N, as measured.
    pub n: f64,
    /// The throughput measured at N, per second.
    pub measured_per_s: f64,
    /// The law's throughput at N, per second.
    pub fitted_per_s: f64,
    /// Measured less fitted, per second.
    pub residual_per_s: f64,
    /// The residual as a fraction of what was measured.
    pub residual_fraction: f64,
}

/// The law that best fits the points, and how well it does (docs/OUTPUT.md).
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The fitted law.
    pub usl: Usl,
    /// Every point, in the order given, against it.
    pub points: Vec<Residual>,
    /// 1 − Σ residual² / Σ (measured − their mean)²: the share of the throughput's variation
    /// the law explains; 1 when every point is measured the same and the law fits them exactly.
    pub r_squared: f64,
    /// √(Σ residual² / points), per second.
    pub rmse_per_s: f64,
}

/// The parameters as the refinement moves them: λ, σ, κ.
type Parameters = [f64; 3];

/// λ's place in [`Parameters`].
const LAMBDA: usize = 0;
/// σ's place.
const SIGMA: usize = 1;
/// κ's place.
const KAPPA: usize = 2;

/// The law with `parameters`.
fn law(parameters: &Parameters) -> Usl {
    Usl {
        lambda: parameters[LAMBDA],
        sigma: parameters[SIGMA],
        kappa: parameters[KAPPA],
    }
}

/// The least-squares [`Usl`] of `points` (see the module's doc for how), each point against it,
/// and how well it fits; or why the points cannot be fitted.
pub fn fit(points: &[Point]) -> Result<Fit, FitError> {
    check(points)?;
    let start = start(points);
    let lower = [start[LAMBDA] * LAMBDA_FLOOR_FRACTION, 0.0, 0.0];
    let refined = |fixed: [bool; 3]| {
        let mut from = start;
        for (index, fixed) in fixed.iter().enumerate() {
            if *fixed {
                from[index] = lower[index];
            }
        }
        refine(points, from, fixed, &lower)
    };
    let (full, full_error) = refined([false, false, false]);
    let rounding = rounding(points);
    let as_good =
        |error: f64| error <= full_error * (1.0 + SIMPLER_TOLERANCE_FRACTION) || error <= rounding;
    // The simplest first: linear scaling, then Amdahl's law, then no contention.
    let simpler = [
        [false, true, true],
        [false, false, true],
        [false, true, false],
    ]
    .into_iter()
    .map(refined)
    .find(|(_, error)| as_good(*error));
    let (parameters, squared_error) = simpler.unwrap_or((full, full_error));
    Ok(assess(points, law(&parameters), squared_error))
}

/// The squared error below which a fit is exact within rounding (see [`ROUNDING_FRACTION`]).
fn rounding(points: &[Point]) -> f64 {
    points
        .iter()
        .map(|point| (ROUNDING_FRACTION * point.throughput_per_s).powi(2))
        .sum()
}

/// Refuses points that cannot be fitted, in the order [`FitError`] lists the reasons.
fn check(points: &[Point]) -> Result<(), FitError> {
    if points.len() < USL_POINTS_MIN {
        return Err(FitError::PointsTooFew {
            count: points.len(),
        });
    }
    for (
        index,
        &Point {
            n,
            throughput_per_s,
        },
    ) in points.iter().enumerate()
    {
        let point = index + 1;
        if !n.is_finite() {
            return Err(FitError::ConcurrencyNotFinite { point, n });
        }
        if n < 1.0 {
            return Err(FitError::ConcurrencyBelowOne { point, n });
        }
        if !throughput_per_s.is_finite() {
            return Err(FitError::ThroughputNotFinite {
                point,
                throughput_per_s,
            });
        }
        if throughput_per_s <= 0.0 {
            return Err(FitError::ThroughputNotPositive {
                point,
                throughput_per_s,
            });
        }
    }
    if !points.iter().any(|point| point.n == 1.0) {
        return Err(FitError::PointAtOneMissing);
    }
    let mut levels: Vec<f64> = points.iter().map(|point| point.n).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if levels.len() < USL_CONCURRENCY_LEVELS_MIN {
        return Err(FitError::ConcurrencyLevelsTooFew {
            count: levels.len(),
        });
    }
    Ok(())
}

/// The linearised start: λ₀ the mean throughput at N = 1; σ and κ by least squares through the
/// origin on N / C(N) − 1 = σ(N − 1) + κN(N − 1), where C(N) = X(N) / λ₀; each within its
/// bounds (when one falls below 0 it is 0, and the other fitted alone).
fn start(points: &[Point]) -> Parameters {
    let ones: Vec<f64> = points
        .iter()
        .filter(|point| point.n == 1.0)
        .map(|point| point.throughput_per_s)
        .collect();
    let lambda = ones.iter().sum::<f64>() / ones.len() as f64;
    // The sums of the 2×2 normal equations: a = N − 1 (σ's column), b = N(N − 1) (κ's), y the
    // left-hand side.
    let (mut aa, mut ab, mut bb, mut ay, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for point in points {
        let a = point.n - 1.0;
        let b = point.n * a;
        let y = point.n * lambda / point.throughput_per_s - 1.0;
        aa += a * a;
        ab += a * b;
        bb += b * b;
        ay += a * y;
        by += b * y;
    }
    let determinant = aa * bb - ab * ab;
    let (mut sigma, mut kappa) = if determinant > 0.0 {
        (
            (ay * bb - by * ab) / determinant,
            (aa * by - ab * ay) / determinant,
        )
    } else {
        (0.0, 0.0)
    };
    if kappa < 0.0 {
        kappa = 0.0;
        sigma = if aa > 0.0 { ay / aa } else { 0.0 };
    } else if sigma < 0.0 {
        sigma = 0.0;
        kappa = if bb > 0.0 { by / bb } else { 0.0 };
    }
    let sigma = if sigma.is_finite() {
        sigma.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let kappa = if kappa.is_finite() {
        kappa.max(0.0)
    } else {
        0.0
    };
    [lambda, sigma, kappa]
}

/// Σ (Xᵢ − X(Nᵢ))² for the law with `parameters`.
fn squared_error(points: &[Point], parameters: &Parameters) -> f64 {
    let usl = law(parameters);
    points
        .iter()
        .map(|point| (point.throughput_per_s - usl.throughput(point.n)).powi(2))
        .sum()
}

/// `parameters` brought within the bounds: λ ≥ `lower[0]`, 0 ≤ σ ≤ 1, κ ≥ 0.
fn project(mut parameters: Parameters, lower: &Parameters) -> Parameters {
    for (value, lower) in parameters.iter_mut().zip(lower) {
        *value = value.max(*lower);
    }
    parameters[SIGMA] = parameters[SIGMA].min(1.0);
    parameters
}

/// JᵀJ and Jᵀr at `parameters`, where J is the law's derivative by λ, σ, κ at each point and r
/// the residuals.
fn normal_equations(points: &[Point], parameters: &Parameters) -> ([[f64; 3]; 3], [f64; 3]) {
    let [lambda, sigma, kappa] = *parameters;
    let mut jtj = [[0.0; 3]; 3];
    let mut jtr = [0.0; 3];
    for point in points {
        let n = point.n;
        let denominator = 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0);
        let fitted = lambda * n / denominator;
        // ∂X/∂λ = N / D; ∂X/∂σ = −λN(N − 1) / D²; ∂X/∂κ = −λN²(N − 1) / D².
        let by_sigma = -fitted * (n - 1.0) / denominator;
        let jacobian = [n / denominator, by_sigma, by_sigma * n];
        let residual = point.throughput_per_s - fitted;
        for row in 0..3 {
            jtr[row] += jacobian[row] * residual;
            for column in 0..3 {
                jtj[row][column] += jacobian[row] * jacobian[column];
            }
        }
    }
    (jtj, jtr)
}

/// Levenberg–Marquardt from `from` within the bounds, the parameters marked `fixed` held where
/// they are: the parameters it ends at and their squared error.
fn refine(
    points: &[Point],
    from: Parameters,
    fixed: [bool; 3],
    lower: &Parameters,
) -> (Parameters, f64) {
    let upper = [f64::INFINITY, 1.0, f64::INFINITY];
    let mut parameters = project(from, lower);
    let mut error = squared_error(points, &parameters);
    let mut damping = DAMPING_START;
    let mut steps = 0;
    while steps < STEPS_MAX && error > 0.0 && damping <= DAMPING_MAX {
        let (jtj, jtr) = normal_equations(points, &parameters);
        // Free: not fixed, not held at a bound by a gradient pointing out of the bounds (a
        // positive Jᵀr component means the error falls as the parameter rises), and with a
        // derivative to move by.
        let free: [bool; 3] = std::array::from_fn(|index| {
            let at_lower = parameters[index] <= lower[index] && jtr[index] <= 0.0;
            let at_upper = parameters[index] >= upper[index] && jtr[index] >= 0.0;
            !fixed[index] && !at_lower && !at_upper && jtj[index][index] > 0.0
        });
        if !free.contains(&true) {
            break;
        }
        // Refused steps retry with more damping, from the same normal equations.
        while steps < STEPS_MAX && damping <= DAMPING_MAX {
            steps += 1;
            let Some(step) = damped_step(&jtj, &jtr, &free, damping) else {
                damping *= DAMPING_FACTOR;
                continue;
            };
            let trial = project(std::array::from_fn(|i| parameters[i] + step[i]), lower);
            let trial_error = squared_error(points, &trial);
            if trial_error < error {
                parameters = trial;
                error = trial_error;
                damping = (damping / DAMPING_FACTOR).max(DAMPING_MIN);
                break;
            }
            damping *= DAMPING_FACTOR;
        }
    }
    (parameters, error)
}

/// δ from (JᵀJ + μ·diag JᵀJ) δ = Jᵀr over the `free` parameters (the others' δ is 0), solved in
/// Jacobi-scaled form so that λ (thousands) and κ (thousandths) are alike to the solver: with
/// s = √diag JᵀJ, (S⁻¹JᵀJS⁻¹ + μI) y = S⁻¹Jᵀr and δ = S⁻¹y. `None` when it has no finite answer.
fn damped_step(
    jtj: &[[f64; 3]; 3],
    jtr: &[f64; 3],
    free: &[bool; 3],
    damping: f64,
) -> Option<[f64; 3]> {
    let scale: [f64; 3] = std::array::from_fn(|i| jtj[i][i].sqrt());
    let mut matrix = [[0.0; 3]; 3];
    let mut right = [0.0; 3];
    for row in 0..3 {
        if !free[row] {
            matrix[row][row] = 1.0;
            continue;
        }
        right[row] = jtr[row] / scale[row];
        for column in 0..3 {
            if free[column] {
                matrix[row][column] = jtj[row][column] / (scale[row] * scale[column]);
            }
        }
        matrix[row][row] += damping;
    }
    let scaled = solve(matrix, right)?;
    let step: [f64; 3] = std::array::from_fn(|i| if free[i] { scaled[i] / scale[i] } else { 0.0 });
    step.iter().all(|value| value.is_finite()).then_some(step)
}

/// x from `matrix` x = `right`, by Gaussian elimination with partial pivoting; `None` when the
/// matrix is singular (or holds what is not a number).
fn solve(mut matrix: [[f64; 3]; 3], mut right: [f64; 3]) -> Option<[f64; 3]> {
    for column in 0..3 {
        let pivot = (column..3)
            .max_by(|&a, &b| matrix[a][column].abs().total_cmp(&matrix[b][column].abs()))?;
        // NaN too, which total_cmp may have chosen.
        let size = matrix[pivot][column].abs();
        if size.is_nan() || size <= f64::MIN_POSITIVE {
            return None;
        }
        matrix.swap(column, pivot);
        right.swap(column, pivot);
        for row in column + 1..3 {
            let factor = matrix[row][column] / matrix[column][column];
            let pivot_row = matrix[column];
            for (value, above) in matrix[row][column..].iter_mut().zip(&pivot_row[column..]) {
                *value -= factor * above;
            }
            right[row] -= factor * right[column];
        }
    }
    let mut solution = [0.0; 3];
    for row in (0..3).rev() {
        let known: f64 = (row + 1..3).map(|k| matrix[row][k] * solution[k]).sum();
        solution[row] = (right[row] - known) / matrix[row][row];
    }
    Some(solution)
}

/// The fit of `usl` to `points`, whose squared error is `squared_error`.
fn assess(points: &[Point], usl: Usl, squared_error: f64) -> Fit {
    let residuals: Vec<Residual> = points
        .iter()
        .map(|point| {
            let fitted_per_s = usl.throughput(point.n);
            let residual_per_s = point.throughput_per_s - fitted_per_s;
            Residual {
                n: point.n,
                measured_per_s: point.throughput_per_s,
                fitted_per_s,
                residual_per_s,
                residual_fraction: residual_per_s / point.throughput_per_s,
            }
        })
        .collect();
    let count = points.len() as f64;
    let mean = points.iter().map(|p| p.throughput_per_s).sum::<f64>() / count;
    let spread: f64 = points
        .iter()
        .map(|point| (point.throughput_per_s - mean).powi(2))
        .sum();
    let r_squared = if spread > 0.0 {
        1.0 - squared_error / spread
    } else if squared_error <= rounding(points) {
        1.0
    } else {
        0.0
    };
    Fit {
        usl,
        points: residuals,
        r_squared,
        rmse_per_s: (squared_error / count).sqrt(),
    }
}

/// N as people write it: whole without decimals (`16`), else with two (`2.50`).
fn concurrency(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut levels: Vec<f64> = self.points.iter().map(|point| point.n).collect();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        writeln!(
            formatter,
            "Universal Scalability Law fitted to {} points ({} distinct n)",
            self.points.len(),
            levels.len()
        )?;
        writeln!(
            formatter,
            "{:>10} {:>14} {:>14} {:>12} {:>11}",
            "n", "measured/s", "fitted/s", "residual", "residual %"
        )?;
        for point in &self.points {
            writeln!(
                formatter,
                "{:>10} {:>14} {:>14} {:>12} {:>10.2}%",
                concurrency(point.n),
                rate(point.measured_per_s),
                rate(point.fitted_per_s),
                rate(point.residual_per_s),
                point.residual_fraction * 100.0
            )?;
        }
        let usl = &self.usl;
        writeln!(formatter)?;
        writeln!(
            formatter,
            "  λ (throughput of one)   {}/s",
            rate(usl.lambda)
        )?;
        writeln!(
            formatter,
            "  σ (contention)          {}",
            significant(usl.sigma)
        )?;
        writeln!(
            formatter,
            "  κ (coherency)           {}",
            significant(usl.kappa)
        )?;
        match (usl.n_star(), usl.x_max()) {
            (Some(n_star), Some(x_max)) => {
                writeln!(formatter, "  N* (peak concurrency)   {n_star:.1}")?;
                writeln!(formatter, "  X(N*) (peak throughput) {}/s", rate(x_max))?;
            }
            _ if usl.sigma >= 1.0 => writeln!(
                formatter,
                "  throughput does not peak: with σ = 1 it never rises above λ"
            )?,
            _ if usl.sigma > 0.0 => writeln!(
                formatter,
                "  throughput does not peak (κ = 0): it rises towards λ/σ = {}/s",
                rate(usl.lambda / usl.sigma)
            )?,
            _ => writeln!(
                formatter,
                "  throughput does not peak (σ = κ = 0): it scales linearly"
            )?,
        }
        writeln!(formatter, "  R²                      {:.5}", self.r_squared)?;
        writeln!(
            formatter,
            "  RMSE                    {}/s",
            rate(self.rmse_per_s)
        )
    }
}

impl Serialize for Fit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The JSON object (docs/OUTPUT.md): the law's parameters flat, then the fit's figures.
        #[derive(Serialize)]
        struct Json<'a> {
            lambda: f64,
            sigma: f64,
            kappa: f64,
            n_star: Option<f64>,
            x_max: Option<f64>,
            r_squared: f64,
            rmse_per_s: f64,
            points: &'a [Residual],
        }
        Json {
            lambda: self.usl.lambda,
            sigma: self.usl.sigma,
            kappa: self.usl.kappa,
            n_star: self.usl.n_star(),
            x_max: self.usl.x_max(),
            r_squared: self.r_squared,
            rmse_per_s: self.rmse_per_s,
            points: &self.points,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The seed of the noisy cases' single runs.
    const SEED: u64 = 0x5EED_0001;
    /// Seeds (0, 1, …) the noisy case also runs: 25 of the first 200 miss its bounds.
    const NOISY_SEEDS: u64 = 200;

    /// The throughput `truth` gives at each of `levels`, times `noise(level)`.
    fn measured(
        truth: Usl,
        levels: impl Iterator<Item = f64>,
        mut noise: impl FnMut() -> f64,
    ) -> Vec<Point> {
        levels
            .map(|n| Point {
                n,
                throughput_per_s: truth.throughput(n) * noise(),
            })
            .collect()
    }

    /// N = 1, 2, … `last`.
    fn up_to(last: u32) -> impl Iterator<Item = f64> {
        (1..=last).map(f64::from)
    }

    fn relative(found: f64, truth: f64) -> f64 {
        ((found - truth) / truth).abs()
    }

    const TRUTH: Usl = Usl {
        lambda: 1_000.0,
        sigma: 0.05,
        kappa: 0.002,
    };

    #[test]
    fn exact_points_give_back_their_law() {
        let fit = fit(&measured(TRUTH, up_to(16), || 1.0)).unwrap();
        let usl = fit.usl;
        assert!(relative(usl.lambda, TRUTH.lambda) < 1e-6, "{usl:?}");
        assert!(relative(usl.sigma, TRUTH.sigma) < 1e-6, "{usl:?}");
        assert!(relative(usl.kappa, TRUTH.kappa) < 1e-6, "{usl:?}");
        assert!(fit.r_squared > 1.0 - 1e-12, "{}", fit.r_squared);
        assert!(fit.rmse_per_s < 1e-6, "{}", fit.rmse_per_s);
        assert!(fit.points.iter().all(|p| p.residual_fraction.abs() < 1e-9));
    }

    #[test]
    fn noisy_points_give_the_law_within_the_noise() {
        let within = |usl: &Usl| {
            let n_star = usl.n_star().unwrap_or(f64::INFINITY);
            (usl.sigma - TRUTH.sigma).abs() < 0.02
                && (usl.kappa - TRUTH.kappa).abs() < 0.0005
                && relative(n_star, TRUTH.n_star().unwrap()) < 0.15
        };
        let noisy = |seed: u64| {
            let mut random = SmallRng::seed_from_u64(seed);
            measured(TRUTH, up_to(16), move || {
                1.0 + random.gen_range(-0.02..=0.02)
            })
        };
        let usl = fit(&noisy(SEED)).unwrap().usl;
        assert!(
            within(&usl),
            "seed {SEED:#x}: {usl:?}, N* {:?}",
            usl.n_star()
        );
        // One point per N with ±2% noise does not hold κ this tightly every time: N* ≈ 21.8 lies
        // beyond the last point, and of 1,000 seeds tried about 9% miss (κ by up to 0.001, N* by
        // up to 29%). So the bounds must hold for most seeds; and for every one, the fit is no
        // worse than the truth (which is within the bounds), or the refinement stopped short.
        let mut missed: Vec<u64> = Vec::new();
        for seed in 0..NOISY_SEEDS {
            let points = noisy(seed);
            let fit = fit(&points).unwrap();
            let fitted_error =
                squared_error(&points, &[fit.usl.lambda, fit.usl.sigma, fit.usl.kappa]);
            let truth_error = squared_error(&points, &[TRUTH.lambda, TRUTH.sigma, TRUTH.kappa]);
            assert!(
                fitted_error <= truth_error * (1.0 + 1e-9),
                "seed {seed}: Σr² {fitted_error} at {:?}, {truth_error} at the truth",
                fit.usl
            );
            if !within(&fit.usl) {
                missed.push(seed);
            }
        }
        assert!(
            missed.len() as u64 <= NOISY_SEEDS / 5,
            "{} of {NOISY_SEEDS} seeds outside the bounds: {missed:?}",
            missed.len()
        );
    }

    #[test]
    fn amdahl_points_have_no_coherency_and_no_peak() {
        let amdahl = Usl {
            lambda: 500.0,
            sigma: 0.08,
            kappa: 0.0,
        };
        let fit = fit(&measured(amdahl, up_to(32), || 1.0)).unwrap();
        assert_eq!(fit.usl.kappa, 0.0, "{:?}", fit.usl);
        assert!(
            relative(fit.usl.sigma, amdahl.sigma) < 1e-6,
            "{:?}",
            fit.usl
        );
        assert_eq!(fit.usl.n_star(), None);
        assert!(fit.to_string().contains("does not peak (κ = 0)"), "{fit}");
    }

    #[test]
    fn linear_points_have_neither_contention_nor_coherency() {
        let linear = Usl {
            lambda: 250.0,
            sigma: 0.0,
            kappa: 0.0,
        };
        let levels = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0].into_iter();
        let fit = fit(&measured(linear, levels, || 1.0)).unwrap();
        assert!(
            fit.usl.sigma < 1e-9 && fit.usl.kappa < 1e-9,
            "{:?}",
            fit.usl
        );
        assert!(relative(fit.usl.lambda, 250.0) < 1e-9, "{:?}", fit.usl);
        assert!(fit.to_string().contains("scales linearly"), "{fit}");
    }

    #[test]
    fn a_retrograde_law_peaks_where_it_should() {
        let retrograde = Usl {
            lambda: 2_000.0,
            sigma: 0.1,
            kappa: 0.01,
        };
        let truth = retrograde.n_star().unwrap();
        assert!((truth - 9.49).abs() < 0.01);
        let mut random = SmallRng::seed_from_u64(SEED);
        for (noise, points) in [
            ("exact", measured(retrograde, up_to(20), || 1.0)),
            (
                "±2%",
                measured(retrograde, up_to(20), || {
                    1.0 + random.gen_range(-0.02..=0.02)
                }),
            ),
        ] {
            let fit = fit(&points).unwrap();
            let n_star = fit.usl.n_star().unwrap();
            assert!(
                relative(n_star, truth) < 0.05,
                "{noise}: N* {n_star}, not about {truth}: {:?}",
                fit.usl
            );
            assert!(fit.to_string().contains("N* (peak concurrency)"), "{fit}");
        }
    }

    #[test]
    fn repeated_and_fractional_concurrencies_are_points_like_any() {
        let mut random = SmallRng::seed_from_u64(SEED);
        let levels = [1.0, 1.0, 1.0, 2.5, 2.5, 4.0, 8.0, 8.0, 12.0];
        let fit = fit(&measured(TRUTH, levels.into_iter(), || {
            1.0 + random.gen_range(-0.01..=0.01)
        }))
        .unwrap();
        assert_eq!(fit.points.len(), levels.len());
        assert!(
            relative(fit.usl.lambda, TRUTH.lambda) < 0.05,
            "{:?}",
            fit.usl
        );
        let shown = fit.to_string();
        assert!(
            shown.contains("9 points (5 distinct n)") && shown.contains("2.50"),
            "{shown}"
        );
    }

    #[test]
    fn every_refusal_is_named() {
        let good = measured(TRUTH, up_to(8), || 1.0);
        let with = |index: usize, n: f64, throughput_per_s: f64| {
            let mut points = good.clone();
            points[index] = Point {
                n,
                throughput_per_s,
            };
            points
        };
        let rows: [(&str, Vec<Point>, FitError, &str); 9] = [
            (
                "five points",
                good[..5].to_vec(),
                FitError::PointsTooFew { count: 5 },
                "at least 6",
            ),
            (
                "none",
                Vec::new(),
                FitError::PointsTooFew { count: 0 },
                "0 points",
            ),
            (
                "an infinite n",
                with(3, f64::INFINITY, 100.0),
                FitError::ConcurrencyNotFinite {
                    point: 4,
                    n: f64::INFINITY,
                },
                "point 4: n = inf",
            ),
            (
                "n below one",
                with(2, 0.5, 100.0),
                FitError::ConcurrencyBelowOne { point: 3, n: 0.5 },
                "point 3: n = 0.5 is below 1",
            ),
            (
                "an infinite throughput",
                with(1, 2.0, f64::INFINITY),
                FitError::ThroughputNotFinite {
                    point: 2,
                    throughput_per_s: f64::INFINITY,
                },
                "not a finite number",
            ),
            (
                "no throughput",
                with(5, 6.0, 0.0),
                FitError::ThroughputNotPositive {
                    point: 6,
                    throughput_per_s: 0.0,
                },
                "point 6: throughput 0 is not above 0",
            ),
            (
                "negative throughput",
                with(5, 6.0, -3.0),
                FitError::ThroughputNotPositive {
                    point: 6,
                    throughput_per_s: -3.0,
                },
                "not above 0",
            ),
            (
                "nothing at one",
                measured(TRUTH, (2..=9).map(f64::from), || 1.0),
                FitError::PointAtOneMissing,
                "no point at n = 1",
            ),
            (
                "two distinct n",
                measured(TRUTH, [1.0, 1.0, 1.0, 4.0, 4.0, 4.0].into_iter(), || 1.0),
                FitError::ConcurrencyLevelsTooFew { count: 2 },
                "2 distinct n: a fit needs at least 3",
            ),
        ];
        for (name, points, expected, message) in rows {
            let error = fit(&points).expect_err(name);
            assert_eq!(error, expected, "{name}");
            assert!(error.to_string().contains(message), "{name}: {error}");
        }
        // Not a number compares unequal to itself: matched, not compared.
        let nan = fit(&with(0, f64::NAN, 100.0)).unwrap_err();
        assert!(
            matches!(nan, FitError::ConcurrencyNotFinite { point: 1, .. }),
            "{nan}"
        );
        let nan = fit(&with(0, 1.0, f64::NAN)).unwrap_err();
        assert!(
            matches!(nan, FitError::ThroughputNotFinite { point: 1, .. }),
            "{nan}"
        );
    }

    #[test]
    fn hostile_points_fit_without_panicking() {
        let cases: [(&str, Vec<(f64, f64)>); 5] = [
            (
                "every throughput the same",
                (1..=8).map(|n| (f64::from(n), 100.0)).collect(),
            ),
            (
                "throughput falling from the start",
                (1..=8)
                    .map(|n| (f64::from(n), 1_000.0 / f64::from(n * n)))
                    .collect(),
            ),
            (
                "faster than linear",
                (1..=8)
                    .map(|n| (f64::from(n), 10.0 * f64::from(n * n)))
                    .collect(),
            ),
            (
                "extremes",
                vec![
                    (1.0, 1e-300),
                    (1.0, 1e300),
                    (2.0, 5e-324),
                    (1e300, 1.0),
                    (3.0, f64::MAX),
                    (4.0, 1.0),
                ],
            ),
            (
                "a huge n",
                vec![
                    (1.0, 10.0),
                    (2.0, 19.0),
                    (3.0, 27.0),
                    (1e12, 1.0),
                    (4.0, 34.0),
                    (5.0, 40.0),
                ],
            ),
        ];
        for (name, pairs) in cases {
            let points: Vec<Point> = pairs
                .iter()
                .map(|&(n, throughput_per_s)| Point {
                    n,
                    throughput_per_s,
                })
                .collect();
            let fit = fit(&points).expect(name);
            let usl = fit.usl;
            assert!(
                usl.lambda > 0.0 && (0.0..=1.0).contains(&usl.sigma) && usl.kappa >= 0.0,
                "{name}: out of bounds {usl:?}"
            );
            let _ = fit.to_string();
            let _ = serde_json::to_string(&fit).expect(name);
        }
        let constant: Vec<Point> = (1..=8)
            .map(|n| Point {
                n: f64::from(n),
                throughput_per_s: 100.0,
            })
            .collect();
        let fit = fit(&constant).unwrap();
        assert!(
            fit.usl.sigma > 1.0 - 1e-9 && fit.r_squared == 1.0,
            "{fit:?}"
        );
    }

    #[test]
    fn the_json_has_the_documented_fields_and_no_others() {
        let fit = fit(&measured(TRUTH, up_to(8), || 1.0)).unwrap();
        let json: serde_json::Value = serde_json::to_value(&fit).unwrap();
        let mut fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "kappa",
                "lambda",
                "n_star",
                "points",
                "r_squared",
                "rmse_per_s",
                "sigma",
                "x_max"
            ]
        );
        let point = &json["points"][1];
        for field in [
            "n",
            "measured_per_s",
            "fitted_per_s",
            "residual_per_s",
            "residual_fraction",
        ] {
            assert!(point[field].is_number(), "{field}: {point}");
        }
        assert_eq!(point["n"], 2.0);
        let amdahl = Usl {
            kappa: 0.0,
            ..TRUTH
        };
        let json = serde_json::to_value(fit_of(amdahl)).unwrap();
        assert!(
            json["n_star"].is_null() && json["x_max"].is_null(),
            "{json}"
        );
    }

    fn fit_of(truth: Usl) -> Fit {
        fit(&measured(truth, up_to(12), || 1.0)).unwrap()
    }

    #[test]
    fn the_table_groups_thousands_and_names_the_parameters() {
        let fit = fit(&measured(
            Usl {
                lambda: 12_000.0,
                ..TRUTH
            },
            up_to(8),
            || 1.0,
        ))
        .unwrap();
        let shown = fit.to_string();
        for part in [
            "measured/s",
            "residual %",
            "12,000",
            "λ (throughput of one)   12,000/s",
            "σ (contention)          0.05000",
            "κ (coherency)           0.002000",
            "N* (peak concurrency)   21.8",
            "X(N*) (peak throughput)",
            "R²",
            "RMSE",
        ] {
            assert!(shown.contains(part), "{part}:\n{shown}");
        }
    }
}
