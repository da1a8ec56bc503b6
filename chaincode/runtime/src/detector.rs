//! The detection hook chaincode reaches through `detect(model, features)`.
//!
//! The runtime only moves bytes; what they mean is agreed between chaincode
//! and detector (the supply-chain formats are `cryptanet_sdk::detect`). The
//! real detector lives in `cryptanet-detect` and is plugged in by the peer;
//! [`TestDetector`] is a deterministic stand-in for tests and benchmarks.

use crate::error::{Error, Result};
use cryptanet_sdk::detect::{rule, Features, Verdict};

/// Scores a feature vector with a model. Must be deterministic: the same
/// model and features give the same bytes on every peer.
pub trait Detector: Send + Sync {
    /// Returns the verdict bytes for `features` under `model` (an id or hash).
    fn detect(&self, model: &[u8], features: &[u8]) -> Result<Vec<u8>>;
}

/// A rule-only detector: flags readings outside the shipment's spec or with
/// a quantity mismatch. Score: 0 when within spec, else 500 000 ppm plus
/// 100 ppm per m°C or ‰ outside the range, capped at 1 000 000.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestDetector;

impl Detector for TestDetector {
    fn detect(&self, model: &[u8], features: &[u8]) -> Result<Vec<u8>> {
        let f = Features::decode(features).ok_or_else(|| Error::DetectRejected {
            model: String::from_utf8_lossy(model).into_owned(),
            reason: "features are not format v1",
        })?;
        Ok(score(&f).encode())
    }
}

fn outside(value: i64, min: i64, max: i64) -> (u64, bool, bool) {
    if value < min {
        (min.abs_diff(value), false, true)
    } else if value > max {
        (value.abs_diff(max), true, false)
    } else {
        (0, false, false)
    }
}

fn score(f: &Features) -> Verdict {
    let (dt, hot, cold) = outside(f.temp_mc, f.temp_min_mc, f.temp_max_mc);
    let (dh, wet, dry) = outside(f.humidity_pm, f.humidity_min_pm, f.humidity_max_pm);
    let mut rules = 0;
    for (hit, bit) in [
        (hot, rule::TEMP_HIGH),
        (cold, rule::TEMP_LOW),
        (wet, rule::HUMIDITY_HIGH),
        (dry, rule::HUMIDITY_LOW),
        (f.quantity != f.expected_quantity, rule::QUANTITY_MISMATCH),
    ] {
        if hit {
            rules |= bit;
        }
    }
    let score_ppm = if rules == 0 {
        0
    } else {
        let extra = dt.saturating_add(dh).saturating_mul(100);
        u32::try_from(500_000u64.saturating_add(extra).min(1_000_000)).unwrap_or(1_000_000)
    };
    Verdict {
        is_anomaly: rules != 0,
        score_ppm,
        rules,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn features(temp_mc: i64, humidity_pm: i64, quantity: i64) -> Vec<u8> {
        Features {
            temp_mc,
            humidity_pm,
            quantity,
            expected_quantity: 100,
            temp_min_mc: 2_000,
            temp_max_mc: 8_000,
            humidity_min_pm: 300,
            humidity_max_pm: 450,
            timestamp_ms: 1,
        }
        .encode()
    }

    fn verdict(b: Vec<u8>) -> Verdict {
        Verdict::decode(&b).unwrap()
    }

    #[test]
    fn within_spec_is_normal() {
        let v = verdict(
            TestDetector
                .detect(b"m", &features(4_500, 400, 100))
                .unwrap(),
        );
        assert_eq!(v, Verdict::default());
    }

    #[test]
    fn rules_and_scores() {
        let v = verdict(
            TestDetector
                .detect(b"m", &features(9_000, 400, 100))
                .unwrap(),
        );
        assert!(v.is_anomaly);
        assert_eq!(v.rules, rule::TEMP_HIGH);
        assert_eq!(v.score_ppm, 600_000);
        let v = verdict(
            TestDetector
                .detect(b"m", &features(-40_000, 100, 90))
                .unwrap(),
        );
        assert_eq!(
            v.rules,
            rule::TEMP_LOW | rule::HUMIDITY_LOW | rule::QUANTITY_MISMATCH
        );
        assert_eq!(v.score_ppm, 1_000_000);
    }

    #[test]
    fn malformed_features_are_rejected() {
        assert!(matches!(
            TestDetector.detect(b"m", b"short"),
            Err(Error::DetectRejected { .. })
        ));
    }
}
