//! One enum over all detectors, so an ensemble can hold any of them and a
//! model can serialise them canonically.

use crate::data::Matrix;
use crate::density::DbscanDensity;
use crate::error::Result;
use crate::iforest::IsolationForest;
use crate::lof::Lof;
use crate::ocsvm::Ocsvm;
use crate::robust::RobustZ;
use serde::{Deserialize, Serialize};

/// Which detector a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DetectorKind {
    /// Isolation forest.
    IForest,
    /// Local outlier factor.
    Lof,
    /// One-class SVM.
    Ocsvm,
    /// DBSCAN density score.
    Density,
    /// Robust z-scores, RMS-combined.
    RobustZ,
    /// Robust z-scores, max-combined.
    RobustZMax,
}

impl DetectorKind {
    /// Short display name.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::IForest => "iforest",
            DetectorKind::Lof => "lof",
            DetectorKind::Ocsvm => "ocsvm",
            DetectorKind::Density => "dbscan",
            DetectorKind::RobustZ => "robust_z",
            DetectorKind::RobustZMax => "robust_zmax",
        }
    }
}

/// A fitted detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Detector {
    /// Isolation forest.
    IForest(IsolationForest),
    /// Local outlier factor.
    Lof(Lof),
    /// One-class SVM.
    Ocsvm(Ocsvm),
    /// DBSCAN density score.
    Density(DbscanDensity),
    /// Robust z-scores.
    RobustZ(RobustZ),
}

impl Detector {
    /// The kind.
    pub fn kind(&self) -> DetectorKind {
        match self {
            Detector::IForest(_) => DetectorKind::IForest,
            Detector::Lof(_) => DetectorKind::Lof,
            Detector::Ocsvm(_) => DetectorKind::Ocsvm,
            Detector::Density(_) => DetectorKind::Density,
            Detector::RobustZ(d) => match d.aggregate {
                crate::robust::ZAggregate::Rms => DetectorKind::RobustZ,
                crate::robust::ZAggregate::Max => DetectorKind::RobustZMax,
            },
        }
    }

    /// Score of one row (deterministic path).
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        match self {
            Detector::IForest(d) => d.score_row(row),
            Detector::Lof(d) => d.score_row(row),
            Detector::Ocsvm(d) => d.score_row(row),
            Detector::Density(d) => d.score_row(row),
            Detector::RobustZ(d) => d.score_row(row),
        }
    }

    /// Scores of many rows (may use faster training-time indexes).
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        match self {
            Detector::IForest(d) => d.score_batch(x),
            Detector::Lof(d) => d.score_batch(x),
            Detector::Ocsvm(d) => d.score_batch(x),
            Detector::Density(d) => d.score_batch(x),
            Detector::RobustZ(d) => d.score_batch(x),
        }
    }

    /// Scores on the training rows it was fitted on (LOF uses in-sample scores).
    pub fn train_scores(&self, x: &Matrix) -> Result<Vec<f64>> {
        match self {
            Detector::Lof(d) if d.train_scores().len() == x.rows() => Ok(d.train_scores().to_vec()),
            other => other.score_batch(x),
        }
    }

    /// Non-negative per-feature shares of this detector's anomaly signal for
    /// one row, summing to 1 (or all zero when there is no signal).
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        Ok(self.score_explain(row)?.1)
    }

    /// Score (bit-identical to [`Self::score_row`]) and attribution shares
    /// (as [`Self::attribution`]) from one pass over the model.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        let (score, raw) = match self {
            Detector::IForest(d) => d.score_explain(row)?,
            Detector::Lof(d) => d.score_explain(row)?,
            Detector::Ocsvm(d) => d.score_explain(row)?,
            Detector::Density(d) => d.score_explain(row)?,
            Detector::RobustZ(d) => d.score_explain(row)?,
        };
        Ok((score, shares(raw)))
    }

    /// [`Self::score_explain`] without the layouts derived at load time
    /// (the isolation forest's generic walk, row-by-row scans of reference
    /// rows): the reference that tests compare the fast paths with bit for
    /// bit, and that the benchmark prints beside them.
    pub fn score_explain_reference(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        let (score, raw) = match self {
            Detector::IForest(d) => d.score_explain_reference(row)?,
            Detector::Lof(d) => d.score_explain_reference(row)?,
            Detector::Ocsvm(d) => d.score_explain_reference(row)?,
            Detector::Density(d) => d.score_explain_reference(row)?,
            Detector::RobustZ(d) => d.score_explain(row)?,
        };
        Ok((score, shares(raw)))
    }
}

/// Positive parts of `raw`, rescaled to sum to 1 (all zero if none is positive).
fn shares(raw: Vec<f64>) -> Vec<f64> {
    let pos: Vec<f64> = raw.into_iter().map(|v| v.max(0.0)).collect();
    let total: f64 = pos.iter().sum();
    pos.into_iter()
        .map(|v| if total > 0.0 { v / total } else { 0.0 })
        .collect()
}

impl Detector {
    /// Rebuilds derived, unserialised tables (after a successful `validate`).
    pub fn prepare(&mut self) {
        match self {
            Detector::IForest(d) => d.prepare(),
            Detector::Lof(d) => d.prepare(),
            Detector::Ocsvm(d) => d.prepare(),
            Detector::Density(d) => d.prepare(),
            Detector::RobustZ(_) => {}
        }
    }

    /// Checks internal consistency after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        match self {
            Detector::IForest(d) => {
                d.validate()?;
                if d.n_features() != n_features {
                    return Err(crate::Error::InconsistentModel {
                        what: "isolation forest width",
                    });
                }
                Ok(())
            }
            Detector::Lof(d) => d.validate(n_features),
            Detector::Ocsvm(d) => d.validate(n_features),
            Detector::Density(d) => d.validate(n_features),
            Detector::RobustZ(d) => d.validate(n_features),
        }
    }
}
