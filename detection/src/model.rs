//! The deployable model: feature schema, scaler, ensemble, threshold and rule
//! limits, serialised canonically and named by the SHA3-256 of its bytes.
//!
//! `verdict` runs a fixed sequence: check the input, min-max scale, score
//! each member in order (own code only: no `ndarray`/BLAS kernels, no
//! threads, `libm` for transcendental functions), normalise, take the
//! weighted mean, convert to parts per million, then attribute.

use crate::data::{Matrix, MinMaxScaler};
use crate::detector::Detector;
use crate::ensemble::{self, Ensemble, Selection};
use crate::error::{Error, Result};
use crate::features::{self, FeatureVector, ReadingContext, FEATURE_NAMES};
use crate::metrics::best_f1_threshold;
use crate::normalise::{NormKind, Normaliser};
use crate::robust::median;
use crate::rules::{self, RuleLimits};
use crate::verdict::{to_ppm, Contribution, Verdict};
use crate::{density, iforest, lof, ocsvm, robust};
use cryptanet_types::{codec, Digest};
use serde::{Deserialize, Serialize};

/// Version of the serialised model layout.
pub const FORMAT_VERSION: u32 = 1;

/// The serialised part of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelBody {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Feature names, in input order.
    pub feature_names: Vec<String>,
    /// Min-max scaler fitted on training data.
    pub scaler: MinMaxScaler,
    /// Median of each scaled training feature (sign of contributions).
    pub direction_median: Vec<f64>,
    /// The weighted detectors.
    pub ensemble: Ensemble,
    /// Anomaly threshold on the score, ppm.
    pub threshold_ppm: i64,
    /// How many contributions a verdict lists.
    pub top_k: u32,
    /// Hard-rule limits.
    pub rules: RuleLimits,
}

/// A validated model with its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    body: ModelBody,
    bytes_hash: Digest,
}

/// How the threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// Maximise F1 on the labelled validation split.
    BestValidationF1,
    /// Flag this fraction of the training rows.
    Contamination(f64),
}

/// Training configuration: which candidates to fit and how to choose.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Isolation forest parameters (always a candidate).
    pub iforest: iforest::IForestParams,
    /// LOF candidate.
    pub lof: Option<lof::LofParams>,
    /// One-class SVM candidate.
    pub ocsvm: Option<ocsvm::OcsvmParams>,
    /// DBSCAN density candidate.
    pub density: Option<density::DensityParams>,
    /// Robust z candidates (one per aggregate).
    pub robust_z: Vec<robust::ZAggregate>,
    /// Member/weight selection.
    pub select: ensemble::SelectParams,
    /// Skip selection and use these weights (one per candidate, rank
    /// normalisation); for fixed ensembles such as the all-member golden model.
    pub fixed_weights: Option<Vec<u32>>,
    /// Threshold rule.
    pub threshold: ThresholdRule,
    /// Contributions per verdict.
    pub top_k: u32,
    /// Rule limits.
    pub rules: RuleLimits,
}

/// What training learned besides the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Candidate kinds in candidate order.
    pub candidates: Vec<&'static str>,
    /// The member/weight selection.
    pub selection: Selection,
}

/// Fits every configured candidate on already-scaled rows.
pub fn fit_candidates(x: &Matrix, cfg: &TrainConfig) -> Result<Vec<Detector>> {
    let mut out = vec![Detector::IForest(iforest::IsolationForest::fit(
        x,
        cfg.iforest,
    )?)];
    if let Some(p) = cfg.lof {
        out.push(Detector::Lof(lof::Lof::fit(x, p)?));
    }
    if let Some(p) = cfg.ocsvm {
        out.push(Detector::Ocsvm(ocsvm::Ocsvm::fit(x, p)?));
    }
    if let Some(p) = cfg.density {
        out.push(Detector::Density(density::DbscanDensity::fit(x, p)?));
    }
    for &agg in &cfg.robust_z {
        out.push(Detector::RobustZ(robust::RobustZ::fit(x, agg)?));
    }
    Ok(out)
}

fn column_medians(x: &Matrix) -> Vec<f64> {
    (0..x.cols())
        .map(|j| median(&(0..x.rows()).map(|i| x.row(i)[j]).collect::<Vec<_>>()))
        .collect()
}

/// The selection record of fixed weights (rank normalisation).
fn fixed_selection(
    w: &[u32],
    train_scores: &[Vec<f64>],
    val_scores: &[Vec<f64>],
    val_y: &[u8],
    metric: ensemble::SelectMetric,
) -> Result<Selection> {
    if w.len() != train_scores.len() || w.iter().all(|&v| v == 0) {
        return Err(Error::InvalidParam {
            name: "fixed_weights",
            value: w.len() as f64,
        });
    }
    let n_val = val_scores.first().map_or(0, Vec::len);
    let mut combined = vec![0.0; n_val];
    for ((t, v), &wt) in train_scores.iter().zip(val_scores).zip(w) {
        let norm = Normaliser::fit(NormKind::Rank, t);
        for (c, &s) in combined.iter_mut().zip(v) {
            *c += wt as f64 * norm.apply(s);
        }
    }
    Ok(Selection {
        kind: NormKind::Rank,
        weights: w.to_vec(),
        metric,
        val_score: metric.eval(&combined, val_y).unwrap_or(f64::NAN),
        single_val_score: val_scores
            .iter()
            .map(|s| metric.eval(s, val_y).unwrap_or(f64::NAN))
            .collect(),
    })
}

impl Model {
    /// Validates `body` and computes its hash.
    pub fn new(mut body: ModelBody) -> Result<Model> {
        let n = body.feature_names.len();
        if body.format_version != FORMAT_VERSION {
            return Err(Error::InconsistentModel {
                what: "format version",
            });
        }
        if n == 0
            || body.scaler.min.len() != n
            || body.scaler.inv_range.len() != n
            || body.direction_median.len() != n
            || body
                .scaler
                .min
                .iter()
                .chain(&body.scaler.inv_range)
                .chain(&body.direction_median)
                .any(|v| !v.is_finite())
        {
            return Err(Error::InconsistentModel { what: "schema" });
        }
        body.ensemble.validate(n)?;
        for m in &mut body.ensemble.members {
            m.detector.prepare();
        }
        let bytes_hash = Digest::of(&codec::encode(&body)?);
        Ok(Model { body, bytes_hash })
    }

    /// Trains on `train` (unsupervised), choosing members, weights and the
    /// threshold on the labelled `val` rows. Inputs are unscaled features.
    pub fn train(
        feature_names: &[&str],
        train: &Matrix,
        val: &Matrix,
        val_y: &[u8],
        cfg: &TrainConfig,
    ) -> Result<(Model, TrainReport)> {
        if train.cols() != feature_names.len() || val.cols() != feature_names.len() {
            return Err(Error::Dimension {
                what: "training features",
                expected: feature_names.len(),
                got: train.cols(),
            });
        }
        let scaler = MinMaxScaler::fit(train);
        let xs = scaler.transform(train);
        let vs = scaler.transform(val);
        let cands = fit_candidates(&xs, cfg)?;
        let train_scores: Vec<Vec<f64>> = cands
            .iter()
            .map(|d| d.train_scores(&xs))
            .collect::<Result<_>>()?;
        let val_scores: Vec<Vec<f64>> = cands
            .iter()
            .map(|d| d.score_batch(&vs))
            .collect::<Result<_>>()?;
        let selection = match &cfg.fixed_weights {
            None => ensemble::select(&train_scores, &val_scores, val_y, cfg.select)?,
            Some(w) => fixed_selection(w, &train_scores, &val_scores, val_y, cfg.select.metric)?,
        };
        let names = cands.iter().map(|d| d.kind().name()).collect();
        let ens = ensemble::build(cands, &train_scores, &selection);
        let threshold = match cfg.threshold {
            ThresholdRule::BestValidationF1 => {
                let s = ens.score_batch(&vs)?;
                best_f1_threshold(&s, val_y)
                    .ok_or(Error::OneClassLabels { what: "threshold" })?
                    .0
            }
            ThresholdRule::Contamination(c) => {
                if !(0.0..1.0).contains(&c) {
                    return Err(Error::InvalidParam {
                        name: "contamination",
                        value: c,
                    });
                }
                let mut s = ens.score_batch(&xs)?;
                s.sort_by(f64::total_cmp);
                let k = libm::floor((1.0 - c) * (s.len() - 1) as f64) as usize;
                s.get(k).copied().unwrap_or(0.0)
            }
        };
        let body = ModelBody {
            format_version: FORMAT_VERSION,
            feature_names: feature_names.iter().map(|s| s.to_string()).collect(),
            direction_median: column_medians(&xs),
            scaler,
            ensemble: ens,
            threshold_ppm: to_ppm(threshold),
            top_k: cfg.top_k,
            rules: cfg.rules.clone(),
        };
        Ok((
            Model::new(body)?,
            TrainReport {
                candidates: names,
                selection,
            },
        ))
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(&self.body)?)
    }

    /// Decodes and validates canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        Model::new(codec::decode(bytes)?)
    }

    /// SHA3-256 of [`Model::to_bytes`].
    pub fn hash(&self) -> Digest {
        self.bytes_hash
    }

    /// The model contents.
    pub fn body(&self) -> &ModelBody {
        &self.body
    }

    /// Scaled copy of a feature vector, after checking it.
    fn scaled(&self, fv: &FeatureVector) -> Result<Vec<f64>> {
        let n = self.body.feature_names.len();
        if fv.values.len() != n {
            return Err(Error::Dimension {
                what: "feature vector",
                expected: n,
                got: fv.values.len(),
            });
        }
        if let Some(col) = fv.values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "feature vector",
                row: 0,
                col,
            });
        }
        let mut row = fv.values.clone();
        self.body.scaler.apply_row(&mut row);
        Ok(row)
    }

    /// Score only (no explanation), in ppm: the fast path for batch auditing.
    pub fn score_ppm(&self, fv: &FeatureVector) -> Result<i64> {
        let row = self.scaled(fv)?;
        Ok(to_ppm(self.body.ensemble.parts(&row)?.combined))
    }

    /// The verdict on a feature vector (no rule breaches: rules need readings).
    pub fn verdict(&self, fv: &FeatureVector) -> Result<Verdict> {
        let row = self.scaled(fv)?;
        // Same arithmetic and order as `Ensemble::parts`, plus the feature
        // weights Σ_m w_m · max(n_m, 0) · share_{m,f} from the same pass.
        let mut acc = 0.0;
        let mut c = vec![0.0; row.len()];
        for m in &self.body.ensemble.members {
            let (score, share) = m.detector.score_explain(&row)?;
            let n = m.norm.apply(score);
            acc += m.weight as f64 * n;
            if n > 0.0 {
                for (cf, s) in c.iter_mut().zip(share) {
                    *cf += m.weight as f64 * n * s;
                }
            }
        }
        let combined = acc / self.body.ensemble.total_weight().max(1) as f64;
        let score_ppm = to_ppm(combined);
        let total: f64 = c.iter().sum();
        let mut contributions: Vec<(usize, i64)> = c
            .iter()
            .enumerate()
            .map(|(f, &v)| {
                let mag = if total > 0.0 {
                    to_ppm(combined.max(0.0) * v / total)
                } else {
                    0
                };
                let sign = if row[f] >= self.body.direction_median[f] {
                    1
                } else {
                    -1
                };
                (f, sign * mag)
            })
            .filter(|&(_, p)| p != 0)
            .collect();
        contributions.sort_by(|a, b| b.1.abs().cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        contributions.truncate(self.body.top_k as usize);
        Ok(Verdict {
            model_hash: self.bytes_hash,
            score_ppm,
            threshold_ppm: self.body.threshold_ppm,
            is_anomaly: score_ppm >= self.body.threshold_ppm,
            contributions: contributions
                .into_iter()
                .map(|(f, ppm)| Contribution {
                    feature: self.body.feature_names[f].clone(),
                    ppm,
                })
                .collect(),
            rule_breaches: Vec::new(),
        })
    }

    /// The verdict on raw readings: features, model score, explanation and
    /// rules. `is_anomaly` is set when the score reaches the threshold or any
    /// hard rule is breached.
    pub fn verdict_for(&self, ctx: &ReadingContext<'_>) -> Result<Verdict> {
        if self
            .body
            .feature_names
            .iter()
            .map(String::as_str)
            .ne(FEATURE_NAMES)
        {
            return Err(Error::InconsistentModel {
                what: "not a supply-chain feature schema",
            });
        }
        let fv = features::from_context(ctx)?;
        let mut v = self.verdict(&fv)?;
        v.rule_breaches = rules::evaluate(ctx.spec, ctx.previous, ctx.current, &self.body.rules)?;
        v.is_anomaly |= !v.rule_breaches.is_empty();
        Ok(v)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn data(n: usize, seed: u64, outliers: bool) -> (Matrix, Vec<u8>) {
        let mut r = Rng::new(seed);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let mut row = vec![r.normal(), r.normal(), 10.0 + r.normal()];
            let bad = outliers && i % 20 == 0;
            if bad {
                row[i % 3] += 8.0;
            }
            rows.push(row);
            y.push(u8::from(bad));
        }
        (Matrix::from_rows(&rows).unwrap(), y)
    }

    fn cfg() -> TrainConfig {
        TrainConfig {
            iforest: iforest::IForestParams::default(),
            lof: Some(lof::LofParams {
                k: 10,
                max_reference: 300,
                seed: 1,
            }),
            ocsvm: None,
            density: None,
            robust_z: vec![robust::ZAggregate::Rms],
            select: ensemble::SelectParams {
                max_rounds: 4,
                min_gain: 1e-9,
                metric: ensemble::SelectMetric::RocAuc,
            },
            fixed_weights: None,
            threshold: ThresholdRule::BestValidationF1,
            top_k: 2,
            rules: RuleLimits::default(),
        }
    }

    #[test]
    fn train_round_trip_and_explain() {
        let (x, _) = data(600, 1, true);
        let (v, vy) = data(400, 2, true);
        let names = ["a", "b", "c"];
        let (model, report) = Model::train(&names, &x, &v, &vy, &cfg()).unwrap();
        assert_eq!(report.candidates, vec!["iforest", "lof", "robust_z"]);
        assert!(
            report.selection.val_score
                >= report
                    .selection
                    .single_val_score
                    .iter()
                    .cloned()
                    .fold(0.0, f64::max)
                    - 1e-12
        );
        let bytes = model.to_bytes().unwrap();
        let back = Model::from_bytes(&bytes).unwrap();
        assert_eq!(back.hash(), model.hash());
        assert_eq!(back.hash(), Digest::of(&bytes));
        // Same model trained twice: same bytes.
        let (again, _) = Model::train(&names, &x, &v, &vy, &cfg()).unwrap();
        assert_eq!(again.to_bytes().unwrap(), bytes);
        // An outlier like the injected ones (+8 on b) is flagged and explained.
        let fv = FeatureVector {
            values: vec![0.1, 8.5, 10.0],
        };
        let verdict = back.verdict(&fv).unwrap();
        assert_eq!(verdict, model.verdict(&fv).unwrap());
        assert!(verdict.is_anomaly, "{verdict:?}");
        assert_eq!(verdict.contributions[0].feature, "b");
        assert!(verdict.contributions[0].ppm > 0);
        assert!(verdict.contributions.len() <= 2);
        // Below the median: the contribution is signed negative.
        let low = back
            .verdict(&FeatureVector {
                values: vec![0.1, -9.0, 10.0],
            })
            .unwrap();
        assert_eq!(low.contributions[0].feature, "b");
        assert!(low.contributions[0].ppm < 0);
        let normal = back
            .verdict(&FeatureVector {
                values: vec![0.0, 0.0, 10.0],
            })
            .unwrap();
        assert!(!normal.is_anomaly && normal.score_ppm < verdict.score_ppm);
        // Bad input: typed errors.
        assert!(matches!(
            back.verdict(&FeatureVector { values: vec![1.0] }),
            Err(Error::Dimension { .. })
        ));
        assert!(matches!(
            back.verdict(&FeatureVector {
                values: vec![0.0, f64::NAN, 0.0]
            }),
            Err(Error::NonFinite { col: 1, .. })
        ));
        // Not a supply-chain schema.
        let spec = crate::features::tests::vaccine_spec();
        let r = crate::features::tests::reading(0, 5_000, 37_000, 100, 50_000_000, 4_500_000);
        let ctx = ReadingContext {
            spec: &spec,
            previous: &[],
            current: &r,
        };
        assert!(back.verdict_for(&ctx).is_err());
    }

    #[test]
    fn contamination_threshold_flags_about_that_share() {
        let (x, _) = data(1000, 3, false);
        let (v, vy) = data(300, 4, true);
        let mut c = cfg();
        c.threshold = ThresholdRule::Contamination(0.05);
        let (model, _) = Model::train(&["a", "b", "c"], &x, &v, &vy, &c).unwrap();
        let flagged = (0..x.rows())
            .filter(|&i| {
                model
                    .verdict(&FeatureVector {
                        values: x.row(i).to_vec(),
                    })
                    .unwrap()
                    .is_anomaly
            })
            .count();
        assert!((40..=70).contains(&flagged), "{flagged}");
        c.threshold = ThresholdRule::Contamination(1.5);
        assert!(Model::train(&["a", "b", "c"], &x, &v, &vy, &c).is_err());
    }
}
