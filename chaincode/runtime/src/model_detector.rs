//! The production [`Detector`]: scores supply-chain readings with a
//! `cryptanet-detect` model and explains the verdict.
//!
//! Chaincode names the model by alias (`cold-chain`, the built-in model) or
//! by the hex SHA3-256 of its bytes. Input is the SDK's feature format v1
//! (one reading plus the shipment's spec); output is the SDK verdict header
//! followed by a JSON explanation:
//!
//! ```json
//! {"model":"<hex>","score_ppm":812345,"threshold_ppm":600000,
//!  "top":[{"feature":"temperature","ppm":700000}, ...],
//!  "breaches":[{"kind":"TemperatureAboveSpec","feature":"temperature",
//!               "observed":14000,"limit":8000,"by_how_much":6000,"duration_s":0}]}
//! ```
//!
//! Everything is deterministic: the model's integer verdict, a fixed field
//! order, integers only. Format v1 carries no route, history or time zone,
//! so the rules that need them (off route, reading gap, unusual hour, stuck
//! sensor) are not applied; the model's own score still sees the hour of day
//! (UTC).

use crate::detector::Detector;
use crate::error::{Error, Result};
use cryptanet_detect::features::{GeoPoint, ProductSpec, Reading, ReadingContext, ShipmentSpec};
use cryptanet_detect::rules::RuleKind;
use cryptanet_detect::Model;
use cryptanet_sdk::detect::{rule, Features, Verdict as SdkVerdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bytes of the built-in cold-chain model (the detection crate's default
/// model, also pinned by its golden test).
pub const COLD_CHAIN_MODEL: &[u8] = include_bytes!("../../../detection/models/cold-chain-v1.model");
/// Alias chaincode uses for [`COLD_CHAIN_MODEL`].
pub const COLD_CHAIN: &str = "cold-chain";
/// Interval between readings assumed for v1 features, seconds.
const READING_INTERVAL_S: u32 = 300;

/// Models by hex hash, plus aliases.
pub struct ModelDetector {
    models: BTreeMap<String, Arc<Model>>,
    aliases: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Explanation<'a> {
    model: String,
    score_ppm: i64,
    threshold_ppm: i64,
    top: Vec<Top<'a>>,
    breaches: Vec<Breach<'a>>,
}

#[derive(Serialize)]
struct Top<'a> {
    feature: &'a str,
    ppm: i64,
}

#[derive(Serialize)]
struct Breach<'a> {
    kind: String,
    feature: &'a str,
    observed: i64,
    limit: i64,
    by_how_much: i64,
    duration_s: i64,
}

impl ModelDetector {
    /// A detector holding the built-in cold-chain model.
    pub fn with_builtin() -> Result<ModelDetector> {
        let model = Model::from_bytes(COLD_CHAIN_MODEL).map_err(failed)?;
        let mut d = ModelDetector {
            models: BTreeMap::new(),
            aliases: BTreeMap::new(),
        };
        let hash = d.insert(model);
        d.aliases.insert(COLD_CHAIN.to_owned(), hash);
        Ok(d)
    }

    /// Adds a model; returns its hex hash.
    pub fn insert(&mut self, model: Model) -> String {
        let hash = model.hash().to_hex();
        self.models.insert(hash.clone(), Arc::new(model));
        hash
    }

    /// The model an alias or hex hash names.
    pub fn model(&self, name: &str) -> Option<Arc<Model>> {
        let hash = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.models.get(hash).cloned()
    }
}

fn rejected(model: &str, reason: &'static str) -> Error {
    Error::DetectRejected {
        model: model.to_owned(),
        reason,
    }
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Detect(Box::new(e))
}

fn i32_of(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

fn u32_of(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

/// Rules v1 features carry enough information to judge.
fn judged(kind: &RuleKind) -> Option<u32> {
    match kind {
        RuleKind::TemperatureAboveSpec => Some(rule::TEMP_HIGH),
        RuleKind::TemperatureBelowSpec => Some(rule::TEMP_LOW),
        RuleKind::HumidityAboveSpec => Some(rule::HUMIDITY_HIGH),
        RuleKind::HumidityBelowSpec => Some(rule::HUMIDITY_LOW),
        RuleKind::QuantityShortfall => Some(rule::QUANTITY_MISMATCH),
        RuleKind::ImpossibleValue => Some(0),
        _ => None,
    }
}

impl Detector for ModelDetector {
    fn detect(&self, model: &[u8], features: &[u8]) -> Result<Vec<u8>> {
        let name = String::from_utf8_lossy(model).into_owned();
        let m = self
            .model(&name)
            .ok_or_else(|| rejected(&name, "no such model on this peer"))?;
        let f = Features::decode(features)
            .ok_or_else(|| rejected(&name, "features are not format v1"))?;
        let expected = u32_of(f.expected_quantity).max(1);
        let origin = GeoPoint {
            lat_ue6: 0,
            lon_ue6: 0,
        };
        let spec = ShipmentSpec {
            product: ProductSpec {
                name: "shipment".to_owned(),
                temp_min_mc: i32_of(f.temp_min_mc),
                temp_max_mc: i32_of(f.temp_max_mc),
                // ‰ RH to milli-% RH.
                hum_min_mpct: i32_of(f.humidity_min_pm.saturating_mul(100)),
                hum_max_mpct: i32_of(f.humidity_max_pm.saturating_mul(100)),
                qty_min: expected,
                qty_max: expected,
            },
            registered_quantity: expected,
            route: vec![origin],
            utc_offset_s: 0,
            reading_interval_s: READING_INTERVAL_S,
        };
        let current = Reading {
            timestamp_s: f.timestamp_ms.div_euclid(1000),
            temperature_mc: i32_of(f.temp_mc),
            humidity_mpct: i32_of(f.humidity_pm.saturating_mul(100)),
            quantity: u32_of(f.quantity),
            location: origin,
        };
        let v = m
            .verdict_for(&ReadingContext {
                spec: &spec,
                previous: &[],
                current: &current,
            })
            .map_err(failed)?;
        let mut rules = 0u32;
        let mut breaches = Vec::new();
        for b in &v.rule_breaches {
            if let Some(bit) = judged(&b.kind) {
                rules |= bit;
                breaches.push(Breach {
                    kind: format!("{:?}", b.kind),
                    feature: &b.feature,
                    observed: b.observed,
                    limit: b.limit,
                    by_how_much: b.by_how_much,
                    duration_s: b.duration_s,
                });
            }
        }
        let is_anomaly = v.score_ppm >= v.threshold_ppm || !breaches.is_empty();
        let explanation = Explanation {
            model: v.model_hash.to_hex(),
            score_ppm: v.score_ppm,
            threshold_ppm: v.threshold_ppm,
            top: v
                .contributions
                .iter()
                .map(|c| Top {
                    feature: &c.feature,
                    ppm: c.ppm,
                })
                .collect(),
            breaches,
        };
        let mut out = SdkVerdict {
            is_anomaly,
            score_ppm: u32_of(v.score_ppm),
            rules,
        }
        .encode();
        out.extend(serde_json::to_vec(&explanation).map_err(failed)?);
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Vaccines, 2–8 °C, 30–45 %RH, 100 items, at 12:00 UTC.
    fn reading(temp_mc: i64, quantity: i64) -> Vec<u8> {
        Features {
            temp_mc,
            humidity_pm: 400,
            quantity,
            expected_quantity: 100,
            temp_min_mc: 2_000,
            temp_max_mc: 8_000,
            humidity_min_pm: 300,
            humidity_max_pm: 450,
            timestamp_ms: 1_700_049_600_000,
        }
        .encode()
    }

    fn explain(bytes: &[u8]) -> (SdkVerdict, serde_json::Value) {
        let v = SdkVerdict::decode(bytes).unwrap();
        let json =
            serde_json::from_slice(&bytes[cryptanet_sdk::detect::VERDICT_HEADER_LEN..]).unwrap();
        (v, json)
    }

    #[test]
    fn an_out_of_spec_reading_is_explained_by_temperature_and_its_range() {
        let d = ModelDetector::with_builtin().unwrap();
        let (v, json) = explain(
            &d.detect(COLD_CHAIN.as_bytes(), &reading(14_000, 100))
                .unwrap(),
        );
        assert!(v.is_anomaly);
        assert_eq!(v.rules, rule::TEMP_HIGH);
        let b = &json["breaches"][0];
        assert_eq!(b["kind"], "TemperatureAboveSpec");
        assert_eq!(b["feature"], "temperature");
        assert_eq!(
            (b["observed"].as_i64(), b["limit"].as_i64()),
            (Some(14_000), Some(8_000))
        );
        assert_eq!(json["top"][0]["feature"], "temperature");
    }

    #[test]
    fn a_normal_reading_is_not_an_anomaly_and_verdicts_are_deterministic() {
        let d = ModelDetector::with_builtin().unwrap();
        let a = d
            .detect(COLD_CHAIN.as_bytes(), &reading(5_000, 100))
            .unwrap();
        let (v, json) = explain(&a);
        assert!(!v.is_anomaly, "{json}");
        assert_eq!(v.rules, 0);
        // Same bytes by alias and by hash, and from a second instance.
        let hash = json["model"].as_str().unwrap().to_owned();
        let e = ModelDetector::with_builtin().unwrap();
        assert_eq!(e.detect(hash.as_bytes(), &reading(5_000, 100)).unwrap(), a);
    }

    #[test]
    fn unknown_models_and_bad_features_are_refused() {
        let d = ModelDetector::with_builtin().unwrap();
        assert!(d.detect(b"no-such-model", &reading(5_000, 100)).is_err());
        assert!(d.detect(COLD_CHAIN.as_bytes(), b"short").is_err());
    }
}
