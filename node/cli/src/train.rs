//! Training a detection model for the network from readings: a CSV of
//! recorded feature records, or the reading history of a ledger.
//!
//! Rows are the SDK's feature format v1 (what chaincode passes to
//! `detect`), turned into model features exactly as endorsers do
//! ([`cryptanet_chaincode::model_detector::feature_row_v1`]), so a model
//! trained here scores what peers will ask it. The CSV columns are
//! [`CSV_HEADER`], with an optional last `label` column (1 = anomaly):
//!
//! * labelled data with both classes: the detection crate's default
//!   training (members, weights and the threshold chosen on a stratified
//!   30 % validation split);
//! * otherwise (unlabelled, e.g. ledger history): every candidate detector
//!   at equal weight, threshold at the `contamination` quantile of the
//!   training scores.
//!
//! Training need not be reproducible across machines: orgs approve the
//! resulting bytes by hash.

use crate::error::{Error, Result};
use cryptanet_chaincode::model_detector::feature_row_v1;
use cryptanet_detect::data::{stratified_split, Matrix};
use cryptanet_detect::default_model::default_config;
use cryptanet_detect::features::FEATURE_NAMES;
use cryptanet_detect::model::{Model, ThresholdRule};
use cryptanet_detect::sim::{AnomalyKind, SimConfig, Simulator};
use cryptanet_sdk::detect::Features;
use std::path::Path;

/// Columns of a training CSV (then optionally `label`).
pub const CSV_HEADER: [&str; 9] = [
    "temp_mc",
    "humidity_pm",
    "quantity",
    "expected_quantity",
    "temp_min_mc",
    "temp_max_mc",
    "humidity_min_pm",
    "humidity_max_pm",
    "timestamp_ms",
];

/// Fewest rows worth training on (LOF alone needs k = 20 neighbours).
pub const MIN_ROWS: usize = 50;

/// Feature records with optional labels.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// One v1 record per reading.
    pub features: Vec<Features>,
    /// One label per record (1 = anomaly), when known.
    pub labels: Option<Vec<u8>>,
}

fn bad(reason: String) -> Error {
    Error::Training(reason)
}

/// Parses a training CSV ([`CSV_HEADER`], optional `label` column).
pub fn parse_csv(text: &str) -> Result<Records> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or_else(|| bad("the CSV is empty".into()))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let labelled = match cols.len() {
        9 => false,
        10 if cols[9] == "label" => true,
        _ => {
            return Err(bad(format!(
                "line 1: header must be {}[,label]",
                CSV_HEADER.join(",")
            )))
        }
    };
    if cols[..9] != CSV_HEADER {
        return Err(bad(format!(
            "line 1: header must be {}[,label]",
            CSV_HEADER.join(",")
        )));
    }
    let mut out = Records {
        features: Vec::new(),
        labels: labelled.then(Vec::new),
    };
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let v: Vec<i64> = line
            .split(',')
            .map(|f| f.trim().parse::<i64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(format!("line {}: every field must be an integer", n + 1)))?;
        if v.len() != cols.len() {
            return Err(bad(format!(
                "line {}: {} fields, {} expected",
                n + 1,
                v.len(),
                cols.len()
            )));
        }
        let fields: [i64; 9] = v[..9]
            .try_into()
            .map_err(|_| bad(format!("line {}: 9 feature fields expected", n + 1)))?;
        out.features.push(Features::from_fields(fields));
        if let Some(labels) = &mut out.labels {
            labels.push(u8::from(v[9] != 0));
        }
    }
    Ok(out)
}

/// Writes records as a training CSV.
pub fn to_csv(records: &Records) -> String {
    let mut s = CSV_HEADER.join(",");
    if records.labels.is_some() {
        s.push_str(",label");
    }
    s.push('\n');
    for (i, f) in records.features.iter().enumerate() {
        let mut row = f.fields().map(|v| v.to_string()).join(",");
        if let Some(labels) = &records.labels {
            row.push_str(&format!(",{}", labels[i]));
        }
        s.push_str(&row);
        s.push('\n');
    }
    s
}

/// Injected anomalies a single v1 record can show: route, timing and stuck
/// sensors need the shipment's route or earlier readings, which v1 does not
/// carry, so readings affected only by those are labelled normal.
pub fn visible_in_v1(kind: AnomalyKind) -> bool {
    matches!(
        kind,
        AnomalyKind::TemperatureSpike
            | AnomalyKind::CoolingFailure
            | AnomalyKind::HumidityExcursion
            | AnomalyKind::QuantityShrinkage
    )
}

/// Labelled records of `shipments` simulated shipments (the detection
/// crate's simulator), as the supply-chain chaincode would record them;
/// labels mark the anomalies a v1 record can show ([`visible_in_v1`]).
pub fn simulated(seed: u64, shipments: usize, anomaly_rate: f64) -> Records {
    let mut out = Records {
        features: Vec::new(),
        labels: Some(Vec::new()),
    };
    let sim = Simulator::new(
        seed,
        SimConfig {
            anomaly_rate,
            only: None,
        },
    );
    for s in sim.take(shipments) {
        let p = &s.spec.product;
        for r in &s.readings {
            out.features.push(Features {
                temp_mc: i64::from(r.reading.temperature_mc),
                humidity_pm: i64::from(r.reading.humidity_mpct / 100),
                quantity: i64::from(r.reading.quantity),
                expected_quantity: i64::from(s.spec.registered_quantity),
                temp_min_mc: i64::from(p.temp_min_mc),
                temp_max_mc: i64::from(p.temp_max_mc),
                humidity_min_pm: i64::from(p.hum_min_mpct / 100),
                humidity_max_pm: i64::from(p.hum_max_mpct / 100),
                timestamp_ms: r.reading.timestamp_s.saturating_mul(1000),
            });
            if let Some(labels) = &mut out.labels {
                labels.push(u8::from(r.label.is_some_and(visible_in_v1)));
            }
        }
    }
    out
}

/// The feature records of every reading of `chaincode` in the ledger at
/// `path` (a directory no peer has open). Unlabelled.
pub fn from_ledger(path: &Path, chaincode: &str) -> Result<Records> {
    let ledger = crate::audit::open_ledger(path).map_err(|e| bad(e.to_string()))?;
    let rows = ledger
        .range(chaincode, b"", b"", usize::MAX)
        .map_err(|e| bad(format!("reading {}: {e}", path.display())))?;
    let mut out = Records::default();
    for entry in rows {
        let Ok(record) = serde_json::from_slice::<serde_json::Value>(&entry.value) else {
            continue;
        };
        let Some(hexed) = record["features_hex"].as_str() else {
            continue; // not a reading
        };
        let f = hex::decode(hexed)
            .ok()
            .and_then(|b| Features::decode(&b))
            .ok_or_else(|| bad("a stored reading has malformed features_hex".into()))?;
        out.features.push(f);
    }
    Ok(out)
}

/// What training produced besides the model.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model.
    pub model: Model,
    /// Rows trained on.
    pub rows: usize,
    /// Whether labels chose members and threshold.
    pub supervised: bool,
    /// Candidate detectors and their weights.
    pub members: Vec<(&'static str, u32)>,
    /// Average precision of the ensemble on the validation split
    /// (supervised training only).
    pub validation_ap: Option<f64>,
}

/// Trains a model on `records` (see the module docs for the two modes).
pub fn train(records: &Records, contamination: f64, seed: u64) -> Result<Trained> {
    if records.features.len() < MIN_ROWS {
        return Err(bad(format!(
            "{} readings; at least {MIN_ROWS} are needed",
            records.features.len()
        )));
    }
    let rows: Vec<Vec<f64>> = records
        .features
        .iter()
        .map(|f| feature_row_v1(f).map_err(|e| bad(e.to_string())))
        .collect::<Result<_>>()?;
    let x = Matrix::from_rows(&rows).map_err(|e| bad(e.to_string()))?;
    let mut cfg = default_config(seed);
    let labels = records
        .labels
        .as_ref()
        .filter(|y| y.contains(&0) && y.contains(&1));
    let fit = match labels {
        Some(y) => {
            let (train, val) = stratified_split(y, 0.7, seed);
            let val_y: Vec<u8> = val.iter().map(|&i| y[i]).collect();
            Model::train(
                &FEATURE_NAMES,
                &x.select(&train),
                &x.select(&val),
                &val_y,
                &cfg,
            )
        }
        None => {
            cfg.threshold = ThresholdRule::Contamination(contamination);
            let candidates = 1
                + usize::from(cfg.lof.is_some())
                + usize::from(cfg.ocsvm.is_some())
                + usize::from(cfg.density.is_some())
                + cfg.robust_z.len();
            cfg.fixed_weights = Some(vec![1; candidates]);
            let none = vec![0u8; x.rows()];
            Model::train(&FEATURE_NAMES, &x, &x, &none, &cfg)
        }
    };
    let (model, report) = fit.map_err(|e| bad(e.to_string()))?;
    Ok(Trained {
        model,
        rows: x.rows(),
        supervised: labels.is_some(),
        validation_ap: labels.map(|_| report.selection.val_score),
        members: report
            .candidates
            .iter()
            .copied()
            .zip(report.selection.weights.iter().copied())
            .collect(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cryptanet_chaincode::model_detector::check_model;

    #[test]
    fn csv_round_trips_and_bad_rows_are_named() {
        let r = simulated(7, 3, 0.5);
        let back = parse_csv(&to_csv(&r)).unwrap();
        assert_eq!(back.features, r.features);
        assert_eq!(back.labels, r.labels);
        let err = parse_csv("temp_mc,x\n1,2\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let mut text = CSV_HEADER.join(",");
        text.push_str("\n1,2,3\n");
        let err = parse_csv(&text).unwrap_err().to_string();
        assert!(err.contains("line 2: 3 fields, 9 expected"), "{err}");
        text = format!("{}\n1,2,3,4,5,6,7,8,nine\n", CSV_HEADER.join(","));
        assert!(parse_csv(&text).is_err());
    }

    #[test]
    fn labelled_and_unlabelled_training_give_installable_models() {
        let labelled = simulated(11, 40, 0.3);
        let t = train(&labelled, 0.05, 1).unwrap();
        assert!(t.supervised);
        let bytes = t.model.to_bytes().unwrap();
        assert_eq!(check_model(&bytes).unwrap().hash(), t.model.hash());

        let unlabelled = Records {
            labels: None,
            ..labelled
        };
        let u = train(&unlabelled, 0.05, 1).unwrap();
        assert!(!u.supervised);
        assert!(u.members.iter().all(|&(_, w)| w == 1));
        assert_ne!(u.model.hash(), t.model.hash());
        check_model(&u.model.to_bytes().unwrap()).unwrap();
    }

    #[test]
    fn too_few_rows_is_a_clear_error() {
        let mut r = simulated(3, 1, 0.0);
        r.features.truncate(10);
        let err = train(&r, 0.05, 1).unwrap_err().to_string();
        assert!(err.contains("at least 50"), "{err}");
    }
}
