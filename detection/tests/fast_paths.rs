//! The layouts derived at model load (flat forest, column-major reference
//! rows, shifting k-nearest selection) against the reference paths over the
//! serialised data, bit for bit, on the committed golden models: every member
//! of both models, on simulated readings and on rows far outside the
//! training range. The golden verdicts pin 272 readings; this covers more.
#![allow(clippy::unwrap_used, missing_docs)]

use cryptanet_detect::default_model::dataset;
use cryptanet_detect::rng::Rng;
use cryptanet_detect::sim::SimConfig;
use cryptanet_detect::Model;
use std::path::PathBuf;

fn golden_model(stem: &str) -> Model {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{stem}.bin"));
    Model::from_bytes(&std::fs::read(p).unwrap()).unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn fast_member_paths_equal_the_reference_paths_bit_for_bit() {
    let (_, data) = dataset(4242, 40, SimConfig::default()).unwrap();
    let mut rng = Rng::new(17);
    for stem in ["default_model", "all_members_model"] {
        let model = golden_model(stem);
        let mut rows: Vec<Vec<f64>> = (0..data.x.rows()).map(|i| data.x.row(i).to_vec()).collect();
        // Far outside the training range, and exact zeros.
        rows.extend((0..200).map(|_| (0..9).map(|_| (rng.f64() - 0.5) * 1e4).collect()));
        rows.push(vec![0.0; 9]);
        for mut row in rows {
            model.body().scaler.apply_row(&mut row);
            for m in &model.body().ensemble.members {
                let (s1, a1) = m.detector.score_explain(&row).unwrap();
                let (s2, a2) = m.detector.score_explain_reference(&row).unwrap();
                let kind = m.detector.kind().name();
                assert_eq!(s1.to_bits(), s2.to_bits(), "{stem} {kind} score on {row:?}");
                assert_eq!(bits(&a1), bits(&a2), "{stem} {kind} shares on {row:?}");
                let s3 = m.detector.score_row(&row).unwrap();
                assert_eq!(s1.to_bits(), s3.to_bits(), "{stem} {kind} score_row");
            }
        }
    }
}
