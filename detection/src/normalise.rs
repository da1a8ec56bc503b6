//! Putting detector scores on one scale, fitted on training scores.
//!
//! * `Rank`: the empirical CDF, stored as 201 quantiles and interpolated
//!   linearly; above the training maximum it keeps growing linearly (by the
//!   spread between the median and the maximum) so extreme points still rank
//!   above merely unusual ones.
//! * `Robust`: `(s - median) / (q90 - median)`.

use serde::{Deserialize, Serialize};

/// Number of stored quantiles for the rank normaliser.
const QUANTILES: usize = 201;

/// Which normalisation to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormKind {
    /// Empirical CDF (rank).
    Rank,
    /// Median / upper-decile scaling.
    Robust,
}

/// A fitted normaliser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Normaliser {
    /// Empirical CDF with a linear tail.
    Rank {
        /// Sorted quantiles at 0, 0.5 %, …, 100 %.
        q: Vec<f64>,
    },
    /// Robust affine scaling.
    Robust {
        /// Median training score.
        median: f64,
        /// `q90 - median` (or 1 when zero).
        scale: f64,
    },
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let lo = libm::floor(pos) as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

impl Normaliser {
    /// Fits a normaliser of `kind` on training scores.
    pub fn fit(kind: NormKind, scores: &[f64]) -> Normaliser {
        let mut s: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
        s.sort_by(f64::total_cmp);
        match kind {
            NormKind::Rank => Normaliser::Rank {
                q: (0..QUANTILES)
                    .map(|i| quantile(&s, i as f64 / (QUANTILES - 1) as f64))
                    .collect(),
            },
            NormKind::Robust => {
                let median = quantile(&s, 0.5);
                let spread = quantile(&s, 0.9) - median;
                Normaliser::Robust {
                    median,
                    scale: if spread > 0.0 { spread } else { 1.0 },
                }
            }
        }
    }

    /// The kind of this normaliser.
    pub fn kind(&self) -> NormKind {
        match self {
            Normaliser::Rank { .. } => NormKind::Rank,
            Normaliser::Robust { .. } => NormKind::Robust,
        }
    }

    /// Normalised value of score `s`.
    pub fn apply(&self, s: f64) -> f64 {
        match self {
            Normaliser::Robust { median, scale } => (s - median) / scale,
            Normaliser::Rank { q } => {
                let (Some(&first), Some(&last)) = (q.first(), q.last()) else {
                    return 0.0;
                };
                if s < first {
                    return 0.0;
                }
                let step = 1.0 / (q.len() - 1) as f64;
                if s >= last {
                    let mid = q[q.len() / 2];
                    let spread = if last > mid { last - mid } else { 1.0 };
                    return 1.0 + (s - last) / spread;
                }
                // Last index with q[i] <= s (q non-decreasing).
                let i = q.partition_point(|&v| v <= s).saturating_sub(1);
                let (a, b) = (q[i], q[i + 1]);
                let frac = if b > a { (s - a) / (b - a) } else { 1.0 };
                (i as f64 + frac) * step
            }
        }
    }

    /// Checks values after decoding.
    pub fn is_valid(&self) -> bool {
        match self {
            Normaliser::Robust { median, scale } => {
                median.is_finite() && scale.is_finite() && *scale > 0.0
            }
            Normaliser::Rank { q } => {
                q.len() >= 2
                    && q.iter().all(|v| v.is_finite())
                    && q.windows(2).all(|w| w[0] <= w[1])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_is_monotone_with_tail_and_robust_centres() {
        let scores: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let r = Normaliser::fit(NormKind::Rank, &scores);
        assert!(r.is_valid());
        assert_eq!(r.apply(-5.0), 0.0);
        assert!((r.apply(499.5) - 0.5).abs() < 1e-9);
        assert!(r.apply(2000.0) > r.apply(999.0));
        let mut prev = -1.0;
        for s in [0.0, 10.0, 500.0, 998.0, 999.0, 1500.0] {
            let v = r.apply(s);
            assert!(v >= prev);
            prev = v;
        }
        let b = Normaliser::fit(NormKind::Robust, &scores);
        assert!(b.apply(499.5).abs() < 1e-9);
        assert!((b.apply(899.1) - 1.0).abs() < 1e-9);
    }
}
