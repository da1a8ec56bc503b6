//! Regression guard for the detection-quality goals, on a small held-out
//! simulator stream (the full figures come from `detect-bench sim`).
#![allow(clippy::unwrap_used, missing_docs)]

use cryptanet_detect::data::MinMaxScaler;
use cryptanet_detect::default_model::{
    dataset, default_config, train_default, DEFAULT_SEED, TRAIN_SHIPMENTS,
};
use cryptanet_detect::features::FEATURE_NAMES;
use cryptanet_detect::metrics::roc_auc;
use cryptanet_detect::model::fit_candidates;
use cryptanet_detect::sim::SimConfig;
use cryptanet_detect::ReadingContext;

#[test]
fn ensemble_beats_single_detectors_and_explanations_name_the_injected_feature() {
    let (model, _) = train_default(DEFAULT_SEED).unwrap();
    let (ships, test) = dataset(DEFAULT_SEED + 2, 120, SimConfig::default()).unwrap();
    let mut scores = Vec::new();
    let (mut hit, mut detected) = (0, 0);
    let mut k = 0;
    for s in &ships {
        let rd: Vec<_> = s.readings.iter().map(|r| r.reading).collect();
        for i in 0..rd.len() {
            let v = model
                .verdict_for(&ReadingContext {
                    spec: &s.spec,
                    previous: &rd[..i],
                    current: &rd[i],
                })
                .unwrap();
            scores.push(v.score_ppm as f64);
            let injected = test.kinds[k].and_then(|kind| kind.injected_features());
            if let (true, Some(feats)) = (v.score_ppm >= v.threshold_ppm, injected) {
                detected += 1;
                let top = &v.contributions[0].feature;
                if feats.iter().any(|&f| FEATURE_NAMES[f] == top) {
                    hit += 1;
                }
            }
            k += 1;
        }
    }
    assert!(detected > 50, "{detected}");
    assert!(
        hit * 10 >= detected * 9,
        "top feature right in {hit}/{detected}"
    );

    let ens = roc_auc(&scores, &test.y).unwrap();
    let (_, train) = dataset(DEFAULT_SEED, TRAIN_SHIPMENTS, SimConfig::default()).unwrap();
    let scaler = MinMaxScaler::fit(&train.x);
    let cands = fit_candidates(&scaler.transform(&train.x), &default_config(DEFAULT_SEED)).unwrap();
    let xt = scaler.transform(&test.x);
    for c in &cands {
        let single = roc_auc(&c.score_batch(&xt).unwrap(), &test.y).unwrap();
        assert!(
            ens >= single,
            "ensemble {ens} < {} {single}",
            c.kind().name()
        );
    }
}
