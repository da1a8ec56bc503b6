//! The verdict: what every endorsing peer computes, signs and compares.
//! Everything in it is an integer or a string, and it has one canonical
//! encoding (the shared bincode configuration of `cryptanet-types`).

use crate::error::Result;
use crate::rules::RuleBreach;
use cryptanet_types::{codec, Digest};
use serde::{Deserialize, Serialize};

/// One feature's share of the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Feature name.
    pub feature: String,
    /// Signed share of the score, parts per million of score units: the
    /// magnitude is how much of the score this feature accounts for; the sign
    /// is the direction of the value against the training median (+ above, − below).
    pub ppm: i64,
}

/// A deterministic anomaly verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// SHA3-256 of the model bytes that produced it.
    pub model_hash: Digest,
    /// Ensemble score × 10⁶ (higher = more anomalous).
    pub score_ppm: i64,
    /// Model threshold × 10⁶.
    pub threshold_ppm: i64,
    /// `score_ppm >= threshold_ppm`, or any hard rule breached.
    pub is_anomaly: bool,
    /// Top contributing features, largest magnitude first.
    pub contributions: Vec<Contribution>,
    /// Hard rules breached (empty when judged from a bare feature vector).
    pub rule_breaches: Vec<RuleBreach>,
}

impl Verdict {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(self)?)
    }

    /// Decodes canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Verdict> {
        Ok(codec::decode(bytes)?)
    }
}

/// `round(x · 10⁶)` clamped to ±10¹⁵ (NaN maps to 0).
pub fn to_ppm(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    libm::round((x * 1e6).clamp(-1e15, 1e15)) as i64
}
