//! One-class SVM (Schölkopf et al. 2001) with an RBF kernel, trained with
//! `linfa-svm` on a seeded subsample, then exported: the model keeps only
//! the support vectors, their coefficients and `ρ`, and evaluates
//! `score(x) = ρ - Σ α_i exp(-γ ‖x - sv_i‖²)` itself with `libm::exp`, in
//! support-vector order, so the verdict path never touches `ndarray` kernels.
//! Higher = more anomalous (scikit-learn's `decision_function`, negated).

use crate::data::Matrix;
use crate::error::{Error, Result};
use crate::knn::{k_nearest, sq_dist, Columns};
use crate::lof::nearest_share;
use crate::rng::Rng;
use linfa::prelude::*;
use linfa_svm::Svm;
use serde::{Deserialize, Serialize};

/// Training parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcsvmParams {
    /// ν: upper bound on the training-error fraction (PyOD default 0.5).
    pub nu: f64,
    /// RBF γ; `None` means `1 / n_features` (scikit-learn's `gamma="auto"`).
    pub gamma: Option<f64>,
    /// Train on at most this many rows (the dense kernel matrix is n²).
    pub max_train: usize,
    /// Seed for the subsample.
    pub seed: u64,
}

impl Default for OcsvmParams {
    fn default() -> Self {
        OcsvmParams {
            nu: 0.5,
            gamma: None,
            max_train: 2000,
            seed: 0,
        }
    }
}

/// An exported one-class SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ocsvm {
    gamma: f64,
    rho: f64,
    sv: Matrix,
    alpha: Vec<f64>,
    /// Derived, not serialised: `sv` column by column, for the verdict-path
    /// scan (rebuilt by [`Ocsvm::prepare`]).
    #[serde(skip)]
    columns: Columns,
}

impl Ocsvm {
    /// Trains on (a subsample of) `x`.
    pub fn fit(x: &Matrix, params: OcsvmParams) -> Result<Ocsvm> {
        if !(params.nu > 0.0 && params.nu <= 1.0) {
            return Err(Error::InvalidParam {
                name: "nu",
                value: params.nu,
            });
        }
        let gamma = params.gamma.unwrap_or(1.0 / x.cols() as f64);
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(Error::InvalidParam {
                name: "gamma",
                value: gamma,
            });
        }
        let train = if x.rows() > params.max_train {
            let mut idx: Vec<usize> = (0..x.rows()).collect();
            Rng::new(params.seed).shuffle(&mut idx);
            idx.truncate(params.max_train);
            idx.sort_unstable();
            x.select(&idx)
        } else {
            x.clone()
        };
        if train.rows() < 2 {
            return Err(Error::TooFewRows {
                what: "ocsvm",
                need: 2,
                got: train.rows(),
            });
        }
        let ds = linfa::DatasetBase::from(train.to_ndarray());
        let model = Svm::<f64, Pr>::params()
            .nu_weight(params.nu)
            .gaussian_kernel(1.0 / gamma)
            .fit(&ds)
            .map_err(|_| Error::Training { detector: "ocsvm" })?;
        let mut keep = Vec::new();
        let mut alpha = Vec::new();
        for (i, &a) in model.alpha.iter().enumerate() {
            if a.abs() > 100.0 * f64::EPSILON {
                keep.push(i);
                alpha.push(a);
            }
        }
        if keep.is_empty() || !model.rho.is_finite() {
            return Err(Error::Training { detector: "ocsvm" });
        }
        let sv = train.select(&keep);
        let columns = Columns::of(&sv);
        Ok(Ocsvm {
            gamma,
            rho: model.rho,
            sv,
            alpha,
            columns,
        })
    }

    /// Rebuilds derived tables (call after decoding; `fit` already does).
    pub fn prepare(&mut self) {
        self.columns = Columns::of(&self.sv);
    }

    /// Squared distance to every support vector, in order.
    /// `columnar`: through the column-major copy when prepared; otherwise
    /// (and for the reference path) row by row with [`sq_dist`].
    fn sq_dists(&self, row: &[f64], columnar: bool) -> Vec<f64> {
        let mut d = Vec::new();
        if columnar && self.columns.rows() == self.sv.rows() {
            self.columns.sq_dists(row, &mut d);
        } else {
            d.extend(
                self.sv
                    .as_slice()
                    .chunks_exact(self.sv.cols())
                    .map(|c| sq_dist(c, row)),
            );
        }
        d
    }

    /// Number of support vectors.
    pub fn n_support(&self) -> usize {
        self.alpha.len()
    }

    /// Score of one row (fixed order, `libm::exp`).
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        self.check(row.len())?;
        let mut s = 0.0;
        for (d, a) in self.sq_dists(row, true).into_iter().zip(&self.alpha) {
            s += a * libm::exp(-self.gamma * d);
        }
        Ok(self.rho - s)
    }

    /// Scores of every row.
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        (0..x.rows()).map(|i| self.score_row(x.row(i))).collect()
    }

    /// Score and nearest-support-vector attribution from a single scan.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, true)
    }

    /// [`Self::score_explain`] scanning the stored rows one by one, without
    /// the derived column-major copy: the reference for tests and benchmarks.
    pub fn score_explain_reference(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.explain_with(row, false)
    }

    fn explain_with(&self, row: &[f64], columnar: bool) -> Result<(f64, Vec<f64>)> {
        self.check(row.len())?;
        let mut s = 0.0;
        let mut best = f64::INFINITY;
        let mut at = None;
        for (i, (d, a)) in self
            .sq_dists(row, columnar)
            .into_iter()
            .zip(&self.alpha)
            .enumerate()
        {
            s += a * libm::exp(-self.gamma * d);
            if d < best || at.is_none() {
                best = d;
                at = Some(i);
            }
        }
        let share = nearest_share(row, at.map(|i| self.sv.row(i)));
        Ok((self.rho - s, share))
    }

    /// Per-feature share of the squared distance to the nearest support vector.
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        self.check(row.len())?;
        let nn = k_nearest(self.sv.as_slice(), self.sv.cols(), row, 1);
        Ok(nearest_share(row, nn.first().map(|p| self.sv.row(p.0))))
    }

    /// Checks shape and values after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        if !self.sv.is_consistent()
            || self.sv.cols() != n_features
            || self.sv.rows() != self.alpha.len()
            || self.alpha.is_empty()
            || !(self.gamma.is_finite() && self.gamma > 0.0)
            || !self.rho.is_finite()
            || self.alpha.iter().any(|a| !a.is_finite())
        {
            return Err(Error::InconsistentModel { what: "ocsvm" });
        }
        Ok(())
    }

    fn check(&self, got: usize) -> Result<()> {
        if got != self.sv.cols() {
            return Err(Error::Dimension {
                what: "ocsvm input",
                expected: self.sv.cols(),
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
    fn far_point_scores_higher_than_centre() {
        let mut r = Rng::new(2);
        let rows: Vec<Vec<f64>> = (0..300)
            .map(|_| vec![0.5 + 0.05 * r.normal(), 0.5 + 0.05 * r.normal()])
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let m = Ocsvm::fit(
            &x,
            OcsvmParams {
                gamma: Some(10.0),
                ..Default::default()
            },
        )
        .unwrap();
        m.validate(2).unwrap();
        assert!(m.n_support() > 0);
        let centre = m.score_row(&[0.5, 0.5]).unwrap();
        let far = m.score_row(&[1.0, 0.0]).unwrap();
        assert!(far > centre, "{far} {centre}");
        let a = m.attribution(&[0.5, 3.0]).unwrap();
        assert!(a[1] > 0.9);
    }
}
