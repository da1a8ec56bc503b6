//! The ensemble: normalised member scores combined with integer weights, and
//! the validation-driven choice of members and weights.
//!
//! Selection is Caruana-style forward selection with replacement: start from
//! nothing, and in each round add one unit of weight to whichever member most
//! raises the validation metric (ROC-AUC or average precision); stop when no
//! addition helps by more than a minimum gain. The first
//! round therefore picks the best single detector, and the ensemble is kept
//! only where it beats that member on validation. Both normaliser kinds are
//! tried and the better one kept.

use crate::data::Matrix;
use crate::detector::Detector;
use crate::error::{Error, Result};
use crate::metrics::{pr_auc, roc_auc};
use crate::normalise::{NormKind, Normaliser};
use serde::{Deserialize, Serialize};

/// One weighted, normalised detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The fitted detector.
    pub detector: Detector,
    /// Normaliser fitted on the detector's training scores.
    pub norm: Normaliser,
    /// Integer weight (> 0).
    pub weight: u32,
}

/// A weighted average of normalised detector scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// Members in evaluation order.
    pub members: Vec<Member>,
}

/// Per-member normalised scores of one row, plus the combined score.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    /// Normalised score of each member, in member order.
    pub normalised: Vec<f64>,
    /// Weighted mean of `normalised`.
    pub combined: f64,
}

impl Ensemble {
    /// Total weight.
    pub fn total_weight(&self) -> u64 {
        self.members.iter().map(|m| m.weight as u64).sum()
    }

    /// Scores one row through every member, in order.
    pub fn parts(&self, row: &[f64]) -> Result<Parts> {
        let mut normalised = Vec::with_capacity(self.members.len());
        let mut acc = 0.0;
        for m in &self.members {
            let n = m.norm.apply(m.detector.score_row(row)?);
            acc += m.weight as f64 * n;
            normalised.push(n);
        }
        let w = self.total_weight().max(1) as f64;
        Ok(Parts {
            normalised,
            combined: acc / w,
        })
    }

    /// Combined scores of many rows (batch detector paths).
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        let mut acc = vec![0.0; x.rows()];
        for m in &self.members {
            let s = m.detector.score_batch(x)?;
            for (a, v) in acc.iter_mut().zip(s) {
                *a += m.weight as f64 * m.norm.apply(v);
            }
        }
        let w = self.total_weight().max(1) as f64;
        Ok(acc.into_iter().map(|a| a / w).collect())
    }

    /// Checks consistency after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        if self.members.is_empty() || self.members.iter().any(|m| m.weight == 0) {
            return Err(Error::InconsistentModel {
                what: "ensemble members",
            });
        }
        for m in &self.members {
            m.detector.validate(n_features)?;
            if !m.norm.is_valid() {
                return Err(Error::InconsistentModel { what: "normaliser" });
            }
        }
        Ok(())
    }
}

/// The validation metric selection maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectMetric {
    /// ROC-AUC: the whole ranking.
    RocAuc,
    /// Average precision (PR-AUC): the top of the ranking, which is what
    /// alerting acts on.
    AveragePrecision,
}

impl SelectMetric {
    /// The metric of `scores` against `labels` (`None` if a class is missing).
    pub fn eval(self, scores: &[f64], labels: &[u8]) -> Option<f64> {
        match self {
            SelectMetric::RocAuc => roc_auc(scores, labels),
            SelectMetric::AveragePrecision => pr_auc(scores, labels),
        }
    }
}

/// How members and weights are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectParams {
    /// Forward-selection rounds (units of weight handed out).
    pub max_rounds: usize,
    /// Validation metric a round must add to be kept.
    pub min_gain: f64,
    /// The validation metric.
    pub metric: SelectMetric,
}

/// Outcome of member/weight selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Chosen normaliser kind.
    pub kind: NormKind,
    /// Weight per candidate (0 = not a member).
    pub weights: Vec<u32>,
    /// Metric the selection maximised.
    pub metric: SelectMetric,
    /// Validation metric of the chosen combination.
    pub val_score: f64,
    /// Validation metric of each candidate alone.
    pub single_val_score: Vec<f64>,
}

fn combine(norm_scores: &[Vec<f64>], weights: &[u32]) -> Vec<f64> {
    let n = norm_scores.first().map_or(0, Vec::len);
    let mut acc = vec![0.0; n];
    for (s, &w) in norm_scores.iter().zip(weights) {
        if w > 0 {
            for (a, v) in acc.iter_mut().zip(s) {
                *a += w as f64 * v;
            }
        }
    }
    acc
}

/// Chooses members and weights from candidates' training scores (to fit the
/// normalisers) and validation scores with labels. A round must raise the
/// validation metric by more than `p.min_gain` to be kept, which guards
/// against fitting the validation split's noise.
pub fn select(
    train_scores: &[Vec<f64>],
    val_scores: &[Vec<f64>],
    val_y: &[u8],
    p: SelectParams,
) -> Result<Selection> {
    let (max_rounds, min_gain, metric) = (p.max_rounds, p.min_gain, p.metric);
    if train_scores.is_empty() || train_scores.len() != val_scores.len() {
        return Err(Error::InvalidParam {
            name: "candidates",
            value: train_scores.len() as f64,
        });
    }
    let single_val_score: Vec<f64> = val_scores
        .iter()
        .map(|s| {
            metric
                .eval(s, val_y)
                .ok_or(Error::OneClassLabels { what: "validation" })
        })
        .collect::<Result<_>>()?;
    let mut best: Option<Selection> = None;
    for kind in [NormKind::Rank, NormKind::Robust] {
        let normed: Vec<Vec<f64>> = train_scores
            .iter()
            .zip(val_scores)
            .map(|(t, v)| {
                let n = Normaliser::fit(kind, t);
                v.iter().map(|&s| n.apply(s)).collect()
            })
            .collect();
        let mut weights = vec![0u32; normed.len()];
        let mut current = f64::NEG_INFINITY;
        for _ in 0..max_rounds.max(1) {
            let mut round_best: Option<(usize, f64)> = None;
            for m in 0..normed.len() {
                weights[m] += 1;
                let auc = metric
                    .eval(&combine(&normed, &weights), val_y)
                    .unwrap_or(0.0);
                weights[m] -= 1;
                if round_best.is_none_or(|(_, b)| auc > b) {
                    round_best = Some((m, auc));
                }
            }
            match round_best {
                Some((m, auc)) if current == f64::NEG_INFINITY || auc > current + min_gain => {
                    weights[m] += 1;
                    current = auc;
                }
                _ => break,
            }
        }
        if best.as_ref().is_none_or(|b| current > b.val_score) {
            best = Some(Selection {
                kind,
                weights,
                metric,
                val_score: current,
                single_val_score: single_val_score.clone(),
            });
        }
    }
    best.ok_or(Error::OneClassLabels { what: "validation" })
}

/// Builds the ensemble from fitted candidates, their training scores and a selection.
pub fn build(
    candidates: Vec<Detector>,
    train_scores: &[Vec<f64>],
    selection: &Selection,
) -> Ensemble {
    let members = candidates
        .into_iter()
        .zip(train_scores)
        .zip(&selection.weights)
        .filter(|(_, &w)| w > 0)
        .map(|((detector, t), &weight)| Member {
            detector,
            norm: Normaliser::fit(selection.kind, t),
            weight,
        })
        .collect();
    Ensemble { members }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sp(min_gain: f64) -> SelectParams {
        SelectParams {
            max_rounds: 5,
            min_gain,
            metric: SelectMetric::RocAuc,
        }
    }

    #[test]
    fn selection_starts_from_best_single_and_only_adds_what_helps() {
        // Candidate 0 separates perfectly; candidate 1 is noise.
        let y = [0u8, 0, 0, 1, 1];
        let good = vec![0.1, 0.2, 0.3, 0.8, 0.9];
        let noise = vec![0.9, 0.1, 0.5, 0.2, 0.3];
        let sel = select(&[good.clone(), noise.clone()], &[good, noise], &y, sp(1e-9)).unwrap();
        assert_eq!(sel.weights, vec![1, 0]);
        assert_eq!(sel.val_score, 1.0);
        // Two half-informative detectors: the pair beats either alone.
        let y = [0u8, 0, 0, 0, 1, 1];
        let a = vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.5];
        let b = vec![0.0, 1.0, 0.0, 0.0, 0.5, 1.0];
        let sel = select(&[a.clone(), b.clone()], &[a, b], &y, sp(1e-9)).unwrap();
        assert!(sel.weights.iter().all(|&w| w > 0), "{sel:?}");
        assert!(sel.val_score > sel.single_val_score[0] && sel.val_score > sel.single_val_score[1]);
        assert!(select(&[vec![1.0]], &[vec![1.0]], &[0], sp(0.0)).is_err());
        // A large minimum gain keeps the best single member only.
        let y = [0u8, 0, 0, 0, 1, 1];
        let a = vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.5];
        let b = vec![0.0, 1.0, 0.0, 0.0, 0.5, 1.0];
        let sel = select(&[a.clone(), b.clone()], &[a, b], &y, sp(0.5)).unwrap();
        assert_eq!(sel.weights.iter().sum::<u32>(), 1);
    }
}
