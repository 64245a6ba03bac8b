//! [`Zipf`]: a skewed choice among ranks, drawn in constant time from a precomputed alias table.

use rand::Rng;

/// A Zipf distribution over ranks `0..count`: rank k (from 0) is drawn with probability
/// `(k + 1)^-s / Σ j^-s`. `s = 0` is uniform.
///
/// Draws use Walker's alias method (Vose's construction, "A linear algorithm for generating
/// random numbers with a given distribution", IEEE TSE 1991): one uniform number picks a column
/// and, within it, the rank or its alias — two table reads and one compare, with none of the
/// mispredicted branches of a binary search over the cumulative table (which, over 1,024 ranks,
/// cost more than the rest of a payment's draws together).
#[derive(Clone, Debug)]
pub struct Zipf {
    /// `cumulative[k]` = P(rank ≤ k), increasing, the last exactly 1. For shares only.
    cumulative: Vec<f64>,
    /// Per column, the chance (in `0..=1`) of keeping the column's own rank.
    keep: Vec<f64>,
    /// Per column, the rank drawn otherwise.
    alias: Vec<u32>,
}

impl Zipf {
    /// The distribution over `count` ranks with exponent `exponent`.
    ///
    /// # Panics
    ///
    /// If `count` is zero or above `u32::MAX`, or `exponent` is negative or not finite.
    pub fn new(count: usize, exponent: f64) -> Zipf {
        assert!(count > 0, "a Zipf distribution needs at least one rank");
        assert!(
            exponent.is_finite() && exponent >= 0.0,
            "exponent {exponent}"
        );
        let mut cumulative = Vec::with_capacity(count);
        let mut sum = 0.0;
        for rank in 1..=count {
            sum += (rank as f64).powf(-exponent);
            cumulative.push(sum);
        }
        for value in &mut cumulative {
            *value /= sum;
        }
        cumulative[count - 1] = 1.0;
        let (keep, alias) = alias_table(&cumulative);
        Zipf {
            cumulative,
            keep,
            alias,
        }
    }

    /// How many ranks there are.
    pub fn count(&self) -> usize {
        self.cumulative.len()
    }

    /// The probability of drawing one of the first `top` ranks.
    pub fn share_of_top(&self, top: usize) -> f64 {
        match top {
            0 => 0.0,
            top => self.cumulative[top.min(self.count()) - 1],
        }
    }

    /// One rank, in `0..count`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let scaled = rng.gen::<f64>() * self.keep.len() as f64;
        let column = (scaled as usize).min(self.keep.len() - 1);
        if scaled - (column as f64) < self.keep[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }
}

/// Vose's alias table for the distribution whose cumulative table is `cumulative`.
fn alias_table(cumulative: &[f64]) -> (Vec<f64>, Vec<u32>) {
    let count = cumulative.len();
    assert!(count <= u32::MAX as usize);
    // Each rank's probability times `count`: a column holds 1 in all.
    let mut keep: Vec<f64> = (0..count)
        .map(|rank| {
            let below = if rank == 0 { 0.0 } else { cumulative[rank - 1] };
            (cumulative[rank] - below) * count as f64
        })
        .collect();
    let mut alias: Vec<u32> = (0..count as u32).collect();
    let (mut small, mut large): (Vec<usize>, Vec<usize>) =
        (0..count).partition(|&rank| keep[rank] < 1.0);
    while let (Some(&under), Some(&over)) = (small.last(), large.last()) {
        small.pop();
        alias[under] = over as u32;
        keep[over] -= 1.0 - keep[under];
        if keep[over] < 1.0 {
            large.pop();
            small.push(over);
        }
    }
    // What is left is 1 up to rounding: those columns keep their own rank.
    for rank in small.into_iter().chain(large) {
        keep[rank] = 1.0;
    }
    (keep, alias)
}

#[cfg(test)]
mod tests {
    use rand::{rngs::SmallRng, SeedableRng};

    use super::*;
    use crate::config::INSTITUTION_EXPONENT_DEFAULT;

    #[test]
    fn the_default_institution_exponent_gives_the_top_two_of_115_most_traffic() {
        let zipf = Zipf::new(115, INSTITUTION_EXPONENT_DEFAULT);
        let top_two = zipf.share_of_top(2);
        assert!(top_two > 0.5, "top two carry {top_two}");
        // The figures the constant's comment gives.
        assert!((zipf.share_of_top(1) - 0.41).abs() < 0.01);
        assert!((top_two - 0.56).abs() < 0.01);
    }

    #[test]
    fn the_alias_table_holds_each_rank_s_probability_exactly() {
        let rows: &[(usize, f64)] = &[(1, 1.0), (2, 0.0), (7, 2.0), (424, 1.0), (1_024, 1.0)];
        for &(count, exponent) in rows {
            let zipf = Zipf::new(count, exponent);
            let mut held = vec![0.0; count];
            for column in 0..count {
                held[column] += zipf.keep[column] / count as f64;
                held[zipf.alias[column] as usize] += (1.0 - zipf.keep[column]) / count as f64;
            }
            for (rank, &probability) in held.iter().enumerate() {
                let expected = zipf.share_of_top(rank + 1) - zipf.share_of_top(rank);
                assert!(
                    (probability - expected).abs() < 1e-9,
                    "count {count} s {exponent} rank {rank}: {probability} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn draws_follow_the_shares() {
        let rows: &[(usize, f64)] = &[(1, 1.0), (5, 0.0), (10, 1.0), (115, 1.5)];
        let mut rng = SmallRng::seed_from_u64(7);
        for &(count, exponent) in rows {
            let zipf = Zipf::new(count, exponent);
            let mut drawn = vec![0u64; count];
            let draws = 100_000;
            for _ in 0..draws {
                drawn[zipf.sample(&mut rng)] += 1;
            }
            for (rank, &drawn) in drawn.iter().enumerate().take(5) {
                let expected = zipf.share_of_top(rank + 1) - zipf.share_of_top(rank);
                let observed = drawn as f64 / draws as f64;
                assert!(
                    (observed - expected).abs() < 0.01,
                    "count {count} s {exponent} rank {rank}: {observed} vs {expected}"
                );
            }
        }
    }
}
