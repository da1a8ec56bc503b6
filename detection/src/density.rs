//! A density score from DBSCAN (Ester et al. 1996) via `linfa-clustering`:
//! on a seeded training subsample, `ε` is the median distance to the
//! `min_points`-th neighbour, DBSCAN labels each row, and the model keeps the
//! clustered rows. A point's score is its distance to the nearest clustered
//! row divided by `ε` (0 inside a dense region, growing with isolation).
//! Scoring finds the nearest kept row with the exact k-d tree of
//! [`crate::kdtree`] (the same row and distance as a fixed-order brute-force
//! scan, which the reference path and non-finite inputs use).

use crate::data::Matrix;
use crate::error::{Error, Result};
use crate::kdtree::KdTree;
use crate::knn::{k_nearest, sq_dist};
use crate::lof::nearest_share;
use crate::rng::Rng;
use crate::robust::median;
use linfa::traits::Transformer;
use linfa_clustering::Dbscan;
use serde::{Deserialize, Serialize};

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DensityParams {
    /// DBSCAN `min_points`.
    pub min_points: usize,
    /// Train on at most this many rows.
    pub max_train: usize,
    /// Seed for the subsample.
    pub seed: u64,
}

impl Default for DensityParams {
    fn default() -> Self {
        DensityParams {
            min_points: 10,
            max_train: 2000,
            seed: 0,
        }
    }
}

/// The fitted density scorer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbscanDensity {
    eps: f64,
    clustered: Matrix,
    /// Derived, not serialised: exact k-d tree over `clustered` for the
    /// verdict path (rebuilt by [`DbscanDensity::prepare`]).
    #[serde(skip)]
    index: KdTree,
}

impl DbscanDensity {
    /// Fits on (a subsample of) `x`.
    pub fn fit(x: &Matrix, params: DensityParams) -> Result<DbscanDensity> {
        let train = if x.rows() > params.max_train {
            let mut idx: Vec<usize> = (0..x.rows()).collect();
            Rng::new(params.seed).shuffle(&mut idx);
            idx.truncate(params.max_train);
            idx.sort_unstable();
            x.select(&idx)
        } else {
            x.clone()
        };
        let n = train.rows();
        if n <= params.min_points || params.min_points == 0 {
            return Err(Error::TooFewRows {
                what: "dbscan density",
                need: params.min_points + 1,
                got: n,
            });
        }
        let kd: Vec<f64> = (0..n)
            .map(|i| {
                let nn = k_nearest(
                    train.as_slice(),
                    train.cols(),
                    train.row(i),
                    params.min_points + 1,
                );
                nn.last().map_or(0.0, |p| libm::sqrt(p.1))
            })
            .collect();
        let eps = median(&kd).max(1e-9);
        let labels = Dbscan::params(params.min_points)
            .tolerance(eps)
            .transform(&train.to_ndarray())
            .map_err(|_| Error::Training { detector: "dbscan" })?;
        let keep: Vec<usize> = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_some())
            .map(|(i, _)| i)
            .collect();
        let clustered = if keep.is_empty() {
            train
        } else {
            train.select(&keep)
        };
        let index = KdTree::build(&clustered);
        Ok(DbscanDensity {
            eps,
            clustered,
            index,
        })
    }

    /// Rebuilds derived tables (call after decoding; `fit` already does).
    pub fn prepare(&mut self) {
        self.index = KdTree::build(&self.clustered);
    }

    /// The nearest clustered row to a finite `row` from the k-d tree, when
    /// prepared: the first row of smallest distance, as the scans pick.
    fn indexed_nearest(&self, row: &[f64]) -> Option<(usize, f64)> {
        if self.index.rows() != self.clustered.rows() || row.iter().any(|v| !v.is_finite()) {
            return None;
        }
        self.index.k_nearest(row, 1).first().copied()
    }

    fn scan(&self) -> impl Iterator<Item = &[f64]> {
        self.clustered
            .as_slice()
            .chunks_exact(self.clustered.cols())
    }

    /// Score of one row.
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        self.check(row.len())?;
        if let Some((_, d)) = self.indexed_nearest(row) {
            return Ok(libm::sqrt(d) / self.eps);
        }
        let mut best = f64::INFINITY;
        for c in self.scan() {
            best = best.min(sq_dist(c, row));
        }
        Ok(libm::sqrt(best) / self.eps)
    }

    /// Scores of every row.
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        (0..x.rows()).map(|i| self.score_row(x.row(i))).collect()
    }

    /// Score and nearest-row attribution of one row from a single scan.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, true)
    }

    /// [`Self::score_explain`] scanning the stored rows one by one, without
    /// the derived k-d tree: the reference for tests and benchmarks.
    pub fn score_explain_reference(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, false)
    }

    fn explain_with(&self, row: &[f64], indexed: bool) -> Result<(f64, Vec<f64>)> {
        self.check(row.len())?;
        let (at, best) = match self.indexed_nearest(row).filter(|_| indexed) {
            Some((i, d)) => (Some(i), d),
            None => {
                let mut best = f64::INFINITY;
                let mut at = None;
                for (i, c) in self.scan().enumerate() {
                    let d = sq_dist(c, row);
                    if d < best || at.is_none() {
                        best = d;
                        at = Some(i);
                    }
                }
                (at, best)
            }
        };
        let share = nearest_share(row, at.map(|i| self.clustered.row(i)));
        Ok((libm::sqrt(best) / self.eps, share))
    }

    /// Per-feature share of the squared distance to the nearest clustered row.
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        self.check(row.len())?;
        let nn = k_nearest(self.clustered.as_slice(), self.clustered.cols(), row, 1);
        Ok(nearest_share(
            row,
            nn.first().map(|p| self.clustered.row(p.0)),
        ))
    }

    /// Checks shape and values after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        if !self.clustered.is_consistent()
            || self.clustered.cols() != n_features
            || self.clustered.rows() == 0
            || !(self.eps.is_finite() && self.eps > 0.0)
        {
            return Err(Error::InconsistentModel {
                what: "dbscan density",
            });
        }
        Ok(())
    }

    fn check(&self, got: usize) -> Result<()> {
        if got != self.clustered.cols() {
            return Err(Error::Dimension {
                what: "density input",
                expected: self.clustered.cols(),
                got,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dense_region_scores_low_isolated_point_high() {
        let mut r = Rng::new(4);
        let rows: Vec<Vec<f64>> = (0..400).map(|_| vec![r.normal(), r.normal()]).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let d = DbscanDensity::fit(&x, DensityParams::default()).unwrap();
        d.validate(2).unwrap();
        let inside = d.score_row(&[0.0, 0.0]).unwrap();
        let far = d.score_row(&[8.0, 0.0]).unwrap();
        assert!(inside < 0.5 && far > 5.0, "{inside} {far}");
    }
}
