//! The production [`Detector`]: scores supply-chain readings with a
//! `cryptanet-detect` model and explains the verdict.
//!
//! Chaincode names the model by alias (`cold-chain`, the built-in model) or
//! by the hex SHA3-256 of its bytes; during an invocation a product class
//! with an activated model is first resolved to that model's hash
//! ([`crate::lifecycle::model`]). Models installed on a peer live in a
//! directory, one file per model named by its hash, loaded on first use and
//! cached. Input is the SDK's feature format v1
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
use cryptanet_detect::features::{from_readings, FEATURE_NAMES};
use cryptanet_detect::features::{GeoPoint, ProductSpec, Reading, ReadingContext, ShipmentSpec};
use cryptanet_detect::rules::RuleKind;
use cryptanet_detect::Model;
use cryptanet_sdk::detect::{rule, Features, Verdict as SdkVerdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Bytes of the built-in cold-chain model (the detection crate's default
/// model, also pinned by its golden test).
pub const COLD_CHAIN_MODEL: &[u8] = include_bytes!("../../../detection/models/cold-chain-v1.model");
/// Alias chaincode uses for [`COLD_CHAIN_MODEL`].
pub const COLD_CHAIN: &str = "cold-chain";
/// Interval between readings assumed for v1 features, seconds.
const READING_INTERVAL_S: u32 = 300;

/// Models by hex hash, plus aliases, backed by an optional install store.
pub struct ModelDetector {
    models: RwLock<BTreeMap<String, Arc<Model>>>,
    aliases: BTreeMap<String, String>,
    store: Option<PathBuf>,
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
            models: RwLock::new(BTreeMap::new()),
            aliases: BTreeMap::new(),
            store: None,
        };
        let hash = d.insert(model);
        d.aliases.insert(COLD_CHAIN.to_owned(), hash);
        Ok(d)
    }

    /// The built-in model plus the models installed in `dir` (created if
    /// missing).
    pub fn with_store(dir: &Path) -> Result<ModelDetector> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create model directory",
            path: dir.to_owned(),
            source,
        })?;
        let mut d = ModelDetector::with_builtin()?;
        d.store = Some(dir.to_owned());
        Ok(d)
    }

    /// Adds a model to the cache; returns its hex hash.
    pub fn insert(&self, model: Model) -> String {
        let hash = model.hash().to_hex();
        self.models
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash.clone(), Arc::new(model));
        hash
    }

    /// Checks model bytes and stores them: they must decode, be canonical
    /// (so the file's hash is the model's hash) and score the features this
    /// detector computes. Installing the same bytes again is a no-op.
    /// Returns the model's hex hash.
    pub fn install(&self, bytes: &[u8]) -> Result<String> {
        let dir = self.store.as_ref().ok_or(Error::InvalidModelBytes {
            reason: "this detector has no install directory".into(),
        })?;
        let model = check_model(bytes)?;
        let hash = model.hash().to_hex();
        let path = dir.join(format!("{hash}.model"));
        crate::lifecycle::install::write_atomically(&path, bytes)?;
        self.insert(model);
        tracing::info!(model = %hash, "model installed");
        Ok(hash)
    }

    /// Hashes of the models this detector can load: the built-in one and
    /// every installed file, sorted.
    pub fn installed(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = self.aliases.values().cloned().collect();
        if let Some(dir) = &self.store {
            let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
                op: "list models",
                path: dir.clone(),
                source,
            })?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(hash) = name.strip_suffix(".model") {
                    if crate::lifecycle::is_model_hash(hash) {
                        out.push(hash.to_owned());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The model an alias or hex hash names, loading an installed one on
    /// first use. A file whose bytes do not hash to its name is ignored.
    pub fn model(&self, name: &str) -> Option<Arc<Model>> {
        let hash = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        if let Some(m) = self
            .models
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
        {
            return Some(m.clone());
        }
        if !crate::lifecycle::is_model_hash(hash) {
            return None;
        }
        let path = self.store.as_ref()?.join(format!("{hash}.model"));
        let bytes = std::fs::read(&path).ok()?;
        match check_model(&bytes) {
            Ok(model) if model.hash().to_hex() == hash => {
                self.insert(model);
                self.models
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(hash)
                    .cloned()
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "installed model does not match its name; ignored");
                None
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "installed model is unreadable; ignored");
                None
            }
        }
    }
}

/// Decodes model bytes and checks they are canonical and use this
/// detector's features.
pub fn check_model(bytes: &[u8]) -> Result<Model> {
    let bad = |reason: String| Error::InvalidModelBytes { reason };
    let model = Model::from_bytes(bytes).map_err(|e| bad(e.to_string()))?;
    if model.to_bytes().map_err(|e| bad(e.to_string()))? != bytes {
        return Err(bad("bytes are not the model's canonical encoding".into()));
    }
    if model.body().feature_names != FEATURE_NAMES {
        return Err(bad(format!(
            "model features {:?} are not this detector's {:?}",
            model.body().feature_names,
            FEATURE_NAMES
        )));
    }
    Ok(model)
}

/// The detection context a v1 feature record describes: the product spec
/// and the one reading (v1 carries no route, history or time zone).
pub fn context_v1(f: &Features) -> (ShipmentSpec, Reading) {
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
    (spec, current)
}

/// The model feature row (in [`FEATURE_NAMES`] order) of a v1 feature
/// record, as training on recorded readings needs it.
pub fn feature_row_v1(f: &Features) -> Result<Vec<f64>> {
    let (spec, current) = context_v1(f);
    Ok(from_readings(&spec, &[], &current).map_err(failed)?.values)
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
        let m = self.model(&name).ok_or_else(|| {
            if crate::lifecycle::is_model_hash(&name) {
                Error::ModelNotInstalled {
                    model: name.clone(),
                }
            } else {
                rejected(&name, "no such model or product class")
            }
        })?;
        let f = Features::decode(features)
            .ok_or_else(|| rejected(&name, "features are not format v1"))?;
        let (spec, current) = context_v1(&f);
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

    /// The built-in model with another threshold: a different model.
    fn other_model() -> Model {
        let mut body = Model::from_bytes(COLD_CHAIN_MODEL).unwrap().body().clone();
        body.threshold_ppm += 1;
        Model::new(body).unwrap()
    }

    #[test]
    fn installed_models_are_found_by_hash_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let d = ModelDetector::with_store(dir.path()).unwrap();
        let m = other_model();
        let bytes = m.to_bytes().unwrap();
        let hash = d.install(&bytes).unwrap();
        assert_eq!(hash, m.hash().to_hex());
        assert_eq!(hash, cryptanet_types::Digest::of(&bytes).to_hex());
        // Idempotent.
        assert_eq!(d.install(&bytes).unwrap(), hash);
        let builtin = d.model(COLD_CHAIN).unwrap().hash().to_hex();
        let mut expected = vec![builtin, hash.clone()];
        expected.sort();
        assert_eq!(d.installed().unwrap(), expected);
        // A new detector over the same directory loads it on first use.
        let e = ModelDetector::with_store(dir.path()).unwrap();
        let (v, json) = explain(&e.detect(hash.as_bytes(), &reading(5_000, 100)).unwrap());
        assert_eq!(json["model"], hash.as_str());
        assert_eq!(json["threshold_ppm"].as_i64(), Some(m.body().threshold_ppm));
        assert!(!v.is_anomaly);
    }

    #[test]
    fn bad_model_bytes_are_refused_and_tampered_files_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let d = ModelDetector::with_store(dir.path()).unwrap();
        assert!(matches!(
            d.install(b"not a model"),
            Err(Error::InvalidModelBytes { .. })
        ));
        let mut bytes = other_model().to_bytes().unwrap();
        bytes.push(0);
        assert!(matches!(
            d.install(&bytes),
            Err(Error::InvalidModelBytes { .. })
        ));
        // A file whose content does not hash to its name is not used.
        let m = other_model();
        let hash = m.hash().to_hex();
        std::fs::write(dir.path().join(format!("{hash}.model")), COLD_CHAIN_MODEL).unwrap();
        let e = ModelDetector::with_store(dir.path()).unwrap();
        assert!(e.model(&hash).is_none());
        assert!(matches!(
            e.detect(hash.as_bytes(), &reading(5_000, 100)),
            Err(Error::ModelNotInstalled { .. })
        ));
        // Without a store nothing can be installed.
        assert!(ModelDetector::with_builtin()
            .unwrap()
            .install(&m.to_bytes().unwrap())
            .is_err());
    }

    #[test]
    fn training_rows_match_what_the_detector_scores() {
        let f = Features::decode(&reading(14_000, 100)).unwrap();
        let row = feature_row_v1(&f).unwrap();
        assert_eq!(row.len(), FEATURE_NAMES.len());
        let (spec, current) = context_v1(&f);
        let m = Model::from_bytes(COLD_CHAIN_MODEL).unwrap();
        let via_context = m
            .verdict_for(&ReadingContext {
                spec: &spec,
                previous: &[],
                current: &current,
            })
            .unwrap();
        let via_row = m
            .verdict(&cryptanet_detect::features::FeatureVector { values: row })
            .unwrap();
        assert_eq!(via_context.score_ppm, via_row.score_ppm);
    }
}
