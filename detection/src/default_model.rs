//! The default supply-chain model: seeded simulator data in, the same model
//! bytes out on every machine (up to the training libraries' own
//! determinism, checked by the golden test).

use crate::data::Matrix;
use crate::density::DensityParams;
use crate::ensemble::{SelectMetric, SelectParams};
use crate::error::Result;
use crate::features::{from_readings, FEATURE_NAMES};
use crate::iforest::IForestParams;
use crate::lof::LofParams;
use crate::model::{Model, ThresholdRule, TrainConfig, TrainReport};
use crate::ocsvm::OcsvmParams;
use crate::robust::ZAggregate;
use crate::rules::RuleLimits;
use crate::sim::{AnomalyKind, Shipment, SimConfig, Simulator};

/// Seed of the default model.
pub const DEFAULT_SEED: u64 = 20_240_601;
/// Training shipments of the default model.
pub const TRAIN_SHIPMENTS: usize = 300;
/// Validation shipments of the default model.
pub const VAL_SHIPMENTS: usize = 300;

/// Features, labels and anomaly kinds of simulated readings.
#[derive(Debug, Clone)]
pub struct SimDataset {
    /// One feature row per reading.
    pub x: Matrix,
    /// 1 = anomalous.
    pub y: Vec<u8>,
    /// Injected kind per row.
    pub kinds: Vec<Option<AnomalyKind>>,
}

/// Feature rows of the readings of `shipments`.
pub fn dataset_from(shipments: &[Shipment]) -> Result<SimDataset> {
    let mut rows = Vec::new();
    let mut y = Vec::new();
    let mut kinds = Vec::new();
    for s in shipments {
        let readings: Vec<_> = s.readings.iter().map(|r| r.reading).collect();
        for (i, lr) in s.readings.iter().enumerate() {
            rows.push(from_readings(&s.spec, &readings[..i], &lr.reading)?.values);
            y.push(u8::from(lr.label.is_some()));
            kinds.push(lr.label);
        }
    }
    Ok(SimDataset {
        x: Matrix::from_rows(&rows)?,
        y,
        kinds,
    })
}

/// Feature rows of `n` shipments from the stream seeded with `seed`.
pub fn dataset(seed: u64, n: usize, cfg: SimConfig) -> Result<(Vec<Shipment>, SimDataset)> {
    let ships: Vec<Shipment> = Simulator::new(seed, cfg).take(n).collect();
    let d = dataset_from(&ships)?;
    Ok((ships, d))
}

/// The default training configuration.
pub fn default_config(seed: u64) -> TrainConfig {
    TrainConfig {
        iforest: IForestParams {
            n_trees: 100,
            max_samples: 256,
            seed,
        },
        lof: Some(LofParams {
            k: 20,
            max_reference: 500,
            seed: seed + 1,
        }),
        ocsvm: Some(OcsvmParams {
            nu: 0.1,
            gamma: None,
            max_train: 600,
            seed: seed + 2,
        }),
        density: Some(DensityParams {
            min_points: 10,
            max_train: 500,
            seed: seed + 3,
        }),
        robust_z: vec![ZAggregate::Rms, ZAggregate::Max],
        select: SelectParams {
            max_rounds: 8,
            min_gain: 1e-4,
            metric: SelectMetric::AveragePrecision,
        },
        fixed_weights: None,
        threshold: ThresholdRule::BestValidationF1,
        top_k: 3,
        rules: RuleLimits::default(),
    }
}

/// Trains the default supply-chain model from `seed`.
pub fn train_default(seed: u64) -> Result<(Model, TrainReport)> {
    let (_, train) = dataset(seed, TRAIN_SHIPMENTS, SimConfig::default())?;
    let (_, val) = dataset(seed.wrapping_add(1), VAL_SHIPMENTS, SimConfig::default())?;
    Model::train(
        &FEATURE_NAMES,
        &train.x,
        &val.x,
        &val.y,
        &default_config(seed),
    )
}

/// The default model ([`DEFAULT_SEED`]).
pub fn default_model() -> Result<Model> {
    Ok(train_default(DEFAULT_SEED)?.0)
}

/// A model holding every detector at weight 1 (rank-normalised), trained
/// like the default model. Heavier than the default; the golden test uses it
/// to pin the verdict path of every member kind.
pub fn all_members_model(seed: u64) -> Result<Model> {
    let (_, train) = dataset(seed, TRAIN_SHIPMENTS, SimConfig::default())?;
    let (_, val) = dataset(seed.wrapping_add(1), VAL_SHIPMENTS, SimConfig::default())?;
    let mut cfg = default_config(seed);
    cfg.fixed_weights = Some(vec![1; 6]);
    Ok(Model::train(&FEATURE_NAMES, &train.x, &val.x, &val.y, &cfg)?.0)
}
