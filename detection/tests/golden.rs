//! Golden-verdict determinism test.
//!
//! `golden/default_model.bin` holds the default model's canonical bytes and
//! `golden/default_model_verdicts.txt` the hex of the verdicts it gives on a
//! fixed set of simulated readings; `all_members_model.*` do the same for a
//! model that holds every detector kind (forest, LOF, OCSVM, DBSCAN, both
//! robust-z variants), so each member's verdict path is pinned. The test checks that (1) decoding and re-encoding the
//! committed bytes is the identity and their SHA3-256 is the committed name,
//! (2) every verdict matches byte for byte, and (3) training the default
//! model from its seed reproduces exactly the committed bytes.
//!
//! Regenerate (only when the model or verdict format changes on purpose):
//! `CRYPTANET_BLESS=1 cargo nextest run --release -p cryptanet-detect golden`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cryptanet_detect::default_model::{all_members_model, default_model, DEFAULT_SEED};
use cryptanet_detect::sim::{SimConfig, Simulator};
use cryptanet_detect::{Model, ReadingContext, Verdict};
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// The fixed inputs: 6 shipments with an injected anomaly each, plus 2 clean ones.
fn verdict_lines(model: &Model) -> Vec<String> {
    let mut ships: Vec<_> = Simulator::new(
        777,
        SimConfig {
            anomaly_rate: 1.0,
            only: None,
        },
    )
    .take(6)
    .collect();
    ships.extend(
        Simulator::new(
            778,
            SimConfig {
                anomaly_rate: 0.0,
                only: None,
            },
        )
        .take(2),
    );
    let mut out = Vec::new();
    for s in &ships {
        let rd: Vec<_> = s.readings.iter().map(|r| r.reading).collect();
        for i in 0..rd.len() {
            let ctx = ReadingContext {
                spec: &s.spec,
                previous: &rd[..i],
                current: &rd[i],
            };
            let v = model.verdict_for(&ctx).unwrap();
            let bytes = v.to_bytes().unwrap();
            assert_eq!(Verdict::from_bytes(&bytes).unwrap(), v);
            out.push(hex::encode(bytes));
        }
    }
    out
}

fn check_golden(stem: &str, trained: &Model) {
    let bin = format!("{stem}.bin");
    let sha = format!("{stem}.sha3");
    let txt = format!("{stem}_verdicts.txt");
    if std::env::var_os("CRYPTANET_BLESS").is_some() {
        std::fs::write(golden(&bin), trained.to_bytes().unwrap()).unwrap();
        std::fs::write(golden(&sha), format!("{}\n", trained.hash())).unwrap();
        std::fs::write(golden(&txt), verdict_lines(trained).join("\n") + "\n").unwrap();
    }
    let bytes = std::fs::read(golden(&bin)).unwrap();
    let name = std::fs::read_to_string(golden(&sha)).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.hash().to_hex(), name.trim());
    assert_eq!(
        model.to_bytes().unwrap(),
        bytes,
        "re-encoding is not the identity"
    );

    let expected: Vec<String> = std::fs::read_to_string(golden(&txt))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let got = verdict_lines(&model);
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "{stem}: verdict {i} differs from the golden value");
    }
    assert!(expected.iter().any(|l| {
        let v = Verdict::from_bytes(&hex::decode(l).unwrap()).unwrap();
        v.is_anomaly && !v.contributions.is_empty() && !v.rule_breaches.is_empty()
    }));
    assert_eq!(
        trained.hash().to_hex(),
        name.trim(),
        "{stem}: training from the seed no longer reproduces the committed bytes"
    );
}

#[test]
fn golden_verdicts_are_reproduced_bit_for_bit() {
    check_golden("default_model", &default_model().unwrap());
}

#[test]
fn golden_verdicts_of_every_member_kind() {
    let m = all_members_model(DEFAULT_SEED).unwrap();
    let kinds: Vec<_> = m
        .body()
        .ensemble
        .members
        .iter()
        .map(|x| x.detector.kind())
        .collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    check_golden("all_members_model", &m);
}

#[test]
fn hostile_model_bytes_are_errors_not_panics() {
    let bytes = std::fs::read(golden("default_model.bin")).unwrap();
    assert!(Model::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(Model::from_bytes(&extra).is_err());
    // Flip bytes across the buffer: each result is an error or a valid model.
    for pos in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut b = bytes.clone();
        b[pos] ^= 0xA5;
        if let Ok(m) = Model::from_bytes(&b) {
            assert_ne!(
                m.hash().to_hex(),
                Model::from_bytes(&bytes).unwrap().hash().to_hex()
            );
        }
    }
}
