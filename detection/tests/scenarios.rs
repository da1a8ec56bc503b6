//! End-to-end verdicts of the committed default model on hand-written
//! readings: the cold-chain story of the issue, and bad input.
#![allow(clippy::unwrap_used, missing_docs)]

use cryptanet_detect::features::{GeoPoint, ProductSpec, Reading, ShipmentSpec};
use cryptanet_detect::rules::RuleKind;
use cryptanet_detect::{Error, Model, ReadingContext};

fn model() -> Model {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/default_model.bin"
    ))
    .unwrap();
    Model::from_bytes(&bytes).unwrap()
}

fn spec() -> ShipmentSpec {
    ShipmentSpec {
        product: ProductSpec {
            name: "Temperature-Sensitive Medicine".into(),
            temp_min_mc: 2_000,
            temp_max_mc: 8_000,
            hum_min_mpct: 30_000,
            hum_max_mpct: 45_000,
            qty_min: 50,
            qty_max: 200,
        },
        registered_quantity: 120,
        route: vec![
            GeoPoint {
                lat_ue6: 50_000_000,
                lon_ue6: 4_000_000,
            },
            GeoPoint {
                lat_ue6: 50_500_000,
                lon_ue6: 6_000_000,
            },
        ],
        utc_offset_s: 3_600,
        reading_interval_s: 600,
    }
}

fn at(i: i64, t_mc: i32) -> Reading {
    // 10-minute cadence from 09:00 local, moving along the route.
    Reading {
        timestamp_s: 1_717_225_200 + 600 * i,
        temperature_mc: t_mc,
        humidity_mpct: 37_000 + (i as i32 % 3) * 150,
        quantity: 120,
        location: GeoPoint {
            lat_ue6: 50_000_000 + 5_000 * i as i32,
            lon_ue6: 4_000_000 + 20_000 * i as i32,
        },
    }
}

#[test]
fn vaccines_at_14c_for_40_minutes_are_flagged_and_explained() {
    let m = model();
    let mut hist: Vec<Reading> = (0..10)
        .map(|i| at(i, 4_800 + (i as i32 % 4) * 90))
        .collect();
    for i in 10..14 {
        hist.push(at(i, 13_900 + (i as i32 - 10) * 100));
    }
    let cur = at(14, 14_200);
    let v = m
        .verdict_for(&ReadingContext {
            spec: &spec(),
            previous: &hist,
            current: &cur,
        })
        .unwrap();
    assert!(v.is_anomaly, "{v:?}");
    assert_eq!(v.contributions[0].feature, "temperature");
    assert!(v.contributions[0].ppm > 0);
    let b = &v.rule_breaches[0];
    assert_eq!(b.kind, RuleKind::TemperatureAboveSpec);
    assert_eq!(
        (b.observed, b.limit, b.by_how_much, b.duration_s),
        (14_200, 8_000, 6_200, 2_400)
    );
    // A normal reading in the same shipment is not flagged.
    let ok = m
        .verdict_for(&ReadingContext {
            spec: &spec(),
            previous: &hist[..9],
            current: &hist[9],
        })
        .unwrap();
    assert!(!ok.is_anomaly && ok.rule_breaches.is_empty(), "{ok:?}");
    assert!(ok.score_ppm < v.score_ppm);
}

#[test]
fn malformed_readings_are_typed_errors() {
    let m = model();
    let hist = [at(5, 5_000)];
    let cur = at(1, 5_000); // earlier than its history
    assert!(matches!(
        m.verdict_for(&ReadingContext {
            spec: &spec(),
            previous: &hist,
            current: &cur
        }),
        Err(Error::BadReading {
            field: "timestamp_s",
            ..
        })
    ));
    let mut s = spec();
    s.registered_quantity = 0;
    assert!(m
        .verdict_for(&ReadingContext {
            spec: &s,
            previous: &[],
            current: &cur
        })
        .is_err());
}

#[test]
fn extreme_integer_inputs_never_panic() {
    let m = model();
    let vals = [i32::MIN, -273_150, -1, 0, 1, 150_000, i32::MAX];
    let times = [i64::MIN, -1, 0, 1_717_225_200, i64::MAX];
    for &t in &vals {
        for &h in &vals {
            for &ts in &times {
                let mut s = spec();
                s.route.push(GeoPoint {
                    lat_ue6: i32::MAX,
                    lon_ue6: i32::MIN,
                });
                let prev = [at(0, t)];
                let cur = Reading {
                    timestamp_s: ts,
                    temperature_mc: t,
                    humidity_mpct: h,
                    quantity: u32::MAX,
                    location: GeoPoint {
                        lat_ue6: h,
                        lon_ue6: t,
                    },
                };
                // Either a verdict or a typed error; never a panic.
                let _ = m.verdict_for(&ReadingContext {
                    spec: &s,
                    previous: &prev,
                    current: &cur,
                });
                let _ = m.verdict_for(&ReadingContext {
                    spec: &s,
                    previous: &[],
                    current: &cur,
                });
            }
        }
    }
}
