//! Local outlier factor (Breunig et al. 2000) in novelty mode, as
//! scikit-learn's `LocalOutlierFactor(novelty=True)`: the model keeps its
//! reference rows with their k-distances and local reachability densities,
//! and a new point's score is `mean(lrd(o) for o in N_k(x)) / lrd(x)`
//! (higher = more anomalous; scikit-learn's `score_samples` is its negation).
//!
//! Training and batch scoring find neighbours with `linfa-nn`'s k-d tree;
//! one-row scoring (the verdict path) uses the fixed-order brute force of
//! [`crate::knn`]. Both recompute distances with the same function.

use crate::data::Matrix;
use crate::error::{Error, Result};
use crate::kdtree::KdTree;
use crate::knn::{k_nearest, sq_dist};
use crate::rng::Rng;
use linfa_nn::{distance::L2Dist, CommonNearestNeighbour, NearestNeighbour};
use serde::{Deserialize, Serialize};

/// scikit-learn adds this to mean reachability distances.
const LRD_EPS: f64 = 1e-10;

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LofParams {
    /// Neighbours per point (scikit-learn/PyOD default 20).
    pub k: usize,
    /// Keep at most this many reference rows (uniform subsample).
    pub max_reference: usize,
    /// Seed for the subsample.
    pub seed: u64,
}

impl Default for LofParams {
    fn default() -> Self {
        LofParams {
            k: 20,
            max_reference: usize::MAX,
            seed: 0,
        }
    }
}

/// A fitted LOF model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lof {
    k: u32,
    reference: Matrix,
    k_dist: Vec<f64>,
    lrd: Vec<f64>,
    /// In-sample LOF of each reference row (not serialised into verdict logic,
    /// kept for normalisation on training data).
    #[serde(skip)]
    train_scores: Vec<f64>,
    /// Derived, not serialised: exact k-d tree over `reference` for the
    /// verdict path (rebuilt by [`Lof::prepare`]).
    #[serde(skip)]
    index: KdTree,
}

/// k nearest neighbours of every row of `queries` among `reference`, via k-d tree.
fn knn_tree(reference: &Matrix, queries: &Matrix, k: usize) -> Result<Vec<Vec<usize>>> {
    let arr = reference.to_ndarray();
    let index = CommonNearestNeighbour::KdTree
        .from_batch(&arr, L2Dist)
        .map_err(|_| Error::Training { detector: "lof" })?;
    let mut out = Vec::with_capacity(queries.rows());
    for i in 0..queries.rows() {
        let q = ndarray::ArrayView1::from(queries.row(i));
        let nn = index
            .k_nearest(q, k)
            .map_err(|_| Error::Training { detector: "lof" })?;
        out.push(nn.into_iter().map(|(_, j)| j).collect());
    }
    Ok(out)
}

impl Lof {
    /// Fits on `x`.
    pub fn fit(x: &Matrix, params: LofParams) -> Result<Lof> {
        if params.k == 0 {
            return Err(Error::InvalidParam {
                name: "k",
                value: 0.0,
            });
        }
        let reference = if x.rows() > params.max_reference {
            let mut idx: Vec<usize> = (0..x.rows()).collect();
            Rng::new(params.seed).shuffle(&mut idx);
            idx.truncate(params.max_reference);
            idx.sort_unstable();
            x.select(&idx)
        } else {
            x.clone()
        };
        let n = reference.rows();
        if n <= params.k {
            return Err(Error::TooFewRows {
                what: "lof",
                need: params.k + 1,
                got: n,
            });
        }
        let k = params.k;
        let raw = knn_tree(&reference, &reference, k + 1)?;
        let dist = |a: usize, b: usize| libm::sqrt(sq_dist(reference.row(a), reference.row(b)));
        // Neighbours excluding the point itself, sorted by (distance, index).
        let neigh: Vec<Vec<(usize, f64)>> = raw
            .into_iter()
            .enumerate()
            .map(|(i, list)| {
                let mut v: Vec<(usize, f64)> = list
                    .into_iter()
                    .filter(|&j| j != i)
                    .map(|j| (j, dist(i, j)))
                    .collect();
                v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                v.truncate(k);
                v
            })
            .collect();
        let k_dist: Vec<f64> = neigh
            .iter()
            .map(|v| v.last().map_or(0.0, |p| p.1))
            .collect();
        let lrd: Vec<f64> = neigh
            .iter()
            .map(|v| {
                let reach: f64 = v.iter().map(|&(o, d)| d.max(k_dist[o])).sum();
                1.0 / (reach / v.len().max(1) as f64 + LRD_EPS)
            })
            .collect();
        let train_scores = neigh
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let m: f64 = v.iter().map(|&(o, _)| lrd[o]).sum::<f64>() / v.len().max(1) as f64;
                m / lrd[i]
            })
            .collect();
        let index = KdTree::build(&reference);
        Ok(Lof {
            k: k as u32,
            reference,
            k_dist,
            lrd,
            train_scores,
            index,
        })
    }

    /// Rebuilds derived tables (call after decoding; `fit` already does).
    pub fn prepare(&mut self) {
        self.index = KdTree::build(&self.reference);
    }

    /// In-sample scores of the reference rows (empty after decoding).
    pub fn train_scores(&self) -> &[f64] {
        &self.train_scores
    }

    /// LOF of a point from its neighbours `(index, distance)`.
    fn lof_from(&self, neigh: &[(usize, f64)]) -> f64 {
        let mut reach = 0.0;
        let mut lrd_sum = 0.0;
        for &(o, d) in neigh {
            reach += d.max(self.k_dist[o]);
            lrd_sum += self.lrd[o];
        }
        let m = neigh.len().max(1) as f64;
        let lrd_q = 1.0 / (reach / m + LRD_EPS);
        (lrd_sum / m) / lrd_q
    }

    /// Nearest reference neighbours of one row: `(index, distance)`, from
    /// the k-d tree when prepared (the same list as the row scan).
    fn neighbours(&self, row: &[f64], indexed: bool) -> Vec<(usize, f64)> {
        let k = self.k as usize;
        let nn = if indexed && self.index.rows() == self.reference.rows() {
            self.index.k_nearest(row, k)
        } else {
            k_nearest(self.reference.as_slice(), self.reference.cols(), row, k)
        };
        nn.into_iter().map(|(i, d2)| (i, libm::sqrt(d2))).collect()
    }

    /// LOF of one new row (deterministic brute force).
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        self.check(row.len())?;
        let nn = self.neighbours(row, true);
        Ok(self.lof_from(&nn))
    }

    /// LOF of many new rows (k-d tree).
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        self.check(x.cols())?;
        let lists = knn_tree(&self.reference, x, self.k as usize)?;
        Ok(lists
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let q = x.row(i);
                let mut nn: Vec<(usize, f64)> = l
                    .into_iter()
                    .map(|j| (j, libm::sqrt(sq_dist(self.reference.row(j), q))))
                    .collect();
                nn.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                self.lof_from(&nn)
            })
            .collect())
    }

    /// Score and nearest-row attribution of one row from a single scan.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, true)
    }

    /// [`Self::score_explain`] with the row-by-row scan of [`k_nearest`],
    /// without the derived k-d tree: the reference for tests and benchmarks.
    pub fn score_explain_reference(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, false)
    }

    fn explain_with(&self, row: &[f64], indexed: bool) -> Result<(f64, Vec<f64>)> {
        self.check(row.len())?;
        let nn = self.neighbours(row, indexed);
        let share = nearest_share(row, nn.first().map(|p| self.reference.row(p.0)));
        Ok((self.lof_from(&nn), share))
    }

    /// Per-feature share of the squared distance to the nearest reference row.
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        self.check(row.len())?;
        let nn = k_nearest(self.reference.as_slice(), self.reference.cols(), row, 1);
        Ok(nearest_share(
            row,
            nn.first().map(|p| self.reference.row(p.0)),
        ))
    }

    /// Checks shape and values after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        let n = self.reference.rows();
        if !self.reference.is_consistent()
            || self.reference.cols() != n_features
            || self.k == 0
            || n < self.k as usize
            || self.k_dist.len() != n
            || self.lrd.len() != n
            || self.lrd.iter().chain(&self.k_dist).any(|v| !v.is_finite())
        {
            return Err(Error::InconsistentModel { what: "lof" });
        }
        Ok(())
    }

    fn check(&self, got: usize) -> Result<()> {
        if got != self.reference.cols() {
            return Err(Error::Dimension {
                what: "lof input",
                expected: self.reference.cols(),
                got,
            });
        }
        Ok(())
    }
}

/// Share of each feature in the squared distance from `row` to `nearest`.
pub fn nearest_share(row: &[f64], nearest: Option<&[f64]>) -> Vec<f64> {
    let Some(p) = nearest else {
        return vec![0.0; row.len()];
    };
    let d: Vec<f64> = row.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).collect();
    let s: f64 = d.iter().sum();
    d.into_iter()
        .map(|v| if s > 0.0 { v / s } else { 0.0 })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn grid() -> Matrix {
        let mut rows = Vec::new();
        for i in 0..10 {
            for j in 0..10 {
                rows.push(vec![i as f64, j as f64]);
            }
        }
        Matrix::from_rows(&rows).unwrap()
    }

    #[test]
    fn inlier_near_one_outlier_large_and_paths_agree() {
        let lof = Lof::fit(
            &grid(),
            LofParams {
                k: 5,
                ..Default::default()
            },
        )
        .unwrap();
        lof.validate(2).unwrap();
        let inner = lof.score_row(&[4.5, 4.5]).unwrap();
        let outer = lof.score_row(&[30.0, 30.0]).unwrap();
        assert!(inner < 1.2 && outer > 5.0, "{inner} {outer}");
        let q = Matrix::from_rows(&[vec![4.5, 4.5], vec![30.0, 30.0]]).unwrap();
        let b = lof.score_batch(&q).unwrap();
        assert!((b[0] - inner).abs() < 1e-9 && (b[1] - outer).abs() < 1e-9);
        let a = lof.attribution(&[4.0, 40.0]).unwrap();
        assert!(a[1] > 0.99);
        assert_eq!(lof.train_scores().len(), 100);
    }
}
