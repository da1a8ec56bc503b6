//! Robust per-feature z-scores: `z_f = (x_f - median_f) / (1.4826 · MAD_f)`.
//! The detector score is the root mean square of the z-scores; the sign of
//! `z_f` is also the direction reported in explanations.

use crate::data::Matrix;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Consistency constant making the MAD estimate σ for normal data.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;
/// Scale used when a feature has (almost) no spread.
const MIN_SCALE: f64 = 1e-6;

/// Median of a slice (sorted copy; mean of the two middle values).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// How per-feature z-scores become one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ZAggregate {
    /// Root mean square of the z-scores (many mildly unusual features).
    Rms,
    /// Largest absolute z-score (one clearly unusual feature).
    Max,
}

/// Per-feature medians and robust scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustZ {
    /// How the z-scores are combined.
    pub aggregate: ZAggregate,
    /// Median of each feature.
    pub median: Vec<f64>,
    /// Robust scale of each feature (MAD·1.4826, or a fallback when zero).
    pub scale: Vec<f64>,
}

impl RobustZ {
    /// Fits medians and scales on `x`.
    pub fn fit(x: &Matrix, aggregate: ZAggregate) -> Result<RobustZ> {
        if x.rows() == 0 {
            return Err(Error::TooFewRows {
                what: "robust z",
                need: 1,
                got: 0,
            });
        }
        let mut med = Vec::with_capacity(x.cols());
        let mut scale = Vec::with_capacity(x.cols());
        let mut col = vec![0.0; x.rows()];
        for j in 0..x.cols() {
            for (i, c) in col.iter_mut().enumerate() {
                *c = x.row(i)[j];
            }
            let m = median(&col);
            let dev: Vec<f64> = col.iter().map(|v| (v - m).abs()).collect();
            let mad = median(&dev) * MAD_TO_SIGMA;
            // Fallback for features that are constant for most rows:
            // mean absolute deviation (×1.2533 ≈ σ for normal data).
            let s = if mad > MIN_SCALE {
                mad
            } else {
                let mean_abs = dev.iter().sum::<f64>() / dev.len() as f64 * 1.253_314_137_315_500_3;
                mean_abs.max(MIN_SCALE)
            };
            med.push(m);
            scale.push(s);
        }
        Ok(RobustZ {
            aggregate,
            median: med,
            scale,
        })
    }

    /// Signed z-score of every feature of `row`.
    pub fn z(&self, row: &[f64]) -> Result<Vec<f64>> {
        self.check(row.len())?;
        Ok(row
            .iter()
            .zip(&self.median)
            .zip(&self.scale)
            .map(|((v, m), s)| (v - m) / s)
            .collect())
    }

    /// Score of one row (higher = more anomalous): RMS or max of |z|.
    pub fn score_row(&self, row: &[f64]) -> Result<f64> {
        let z = self.z(row)?;
        Ok(match self.aggregate {
            ZAggregate::Rms => {
                let ss = z.iter().fold(0.0, |a, v| a + v * v);
                libm::sqrt(ss / z.len() as f64)
            }
            ZAggregate::Max => z.iter().fold(0.0, |a: f64, v| a.max(v.abs())),
        })
    }

    /// Scores of every row.
    pub fn score_batch(&self, x: &Matrix) -> Result<Vec<f64>> {
        (0..x.rows()).map(|i| self.score_row(x.row(i))).collect()
    }

    /// Score and attribution of one row.
    pub fn score_explain(&self, row: &[f64]) -> Result<(f64, Vec<f64>)> {
        Ok((self.score_row(row)?, self.attribution(row)?))
    }

    /// Per-feature share `z_f² / Σ z²` of one row.
    pub fn attribution(&self, row: &[f64]) -> Result<Vec<f64>> {
        let z = self.z(row)?;
        let ss = z.iter().fold(0.0, |a, v| a + v * v);
        Ok(z.iter()
            .map(|v| if ss > 0.0 { v * v / ss } else { 0.0 })
            .collect())
    }

    /// Checks shape and values after decoding.
    pub fn validate(&self, n_features: usize) -> Result<()> {
        if self.median.len() != n_features
            || self.scale.len() != n_features
            || self.median.iter().any(|v| !v.is_finite())
            || self.scale.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err(Error::InconsistentModel { what: "robust z" });
        }
        Ok(())
    }

    fn check(&self, got: usize) -> Result<()> {
        if got != self.median.len() {
            return Err(Error::Dimension {
                what: "robust z input",
                expected: self.median.len(),
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
    fn median_mad_and_direction() {
        let x = Matrix::from_rows(&[
            vec![1.0, 5.0],
            vec![2.0, 5.0],
            vec![3.0, 5.0],
            vec![4.0, 5.0],
            vec![100.0, 6.0],
        ])
        .unwrap();
        let r = RobustZ::fit(&x, ZAggregate::Rms).unwrap();
        assert_eq!(r.median, vec![3.0, 5.0]);
        // MAD of col 0: deviations [2,1,0,1,97] -> median 1.
        assert!((r.scale[0] - MAD_TO_SIGMA).abs() < 1e-12);
        // col 1 has MAD 0: fallback to mean absolute deviation 0.2*1.2533.
        assert!((r.scale[1] - 0.2 * 1.253_314_137_315_500_3).abs() < 1e-12);
        let z = r.z(&[0.0, 5.0]).unwrap();
        assert!(z[0] < 0.0 && z[1] == 0.0);
        let a = r.attribution(&[0.0, 5.0]).unwrap();
        assert_eq!(a, vec![1.0, 0.0]);
        assert!(r.score_row(&[1.0]).is_err());
        let m = RobustZ::fit(&x, ZAggregate::Max).unwrap();
        let z = m.z(&[9.0, 5.0]).unwrap();
        assert_eq!(m.score_row(&[9.0, 5.0]).unwrap(), z[0]);
        assert!((r.score_row(&[9.0, 5.0]).unwrap() - z[0] / 2f64.sqrt()).abs() < 1e-12);
    }
}
