//! The reference supply-chain chaincode, built from source to wasm by
//! scripts/build-chaincode.sh, run through the host.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{call, commit, example_wasm, runtime};
use cryptanet_chaincode::{Execution, Invocation, MemoryState, Runtime, TestDetector};
use cryptanet_types::{codec, Digest};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

fn wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| example_wasm("supply-chain"))
}

fn exec(rt: &Runtime, state: &MemoryState, inv: &Invocation) -> Execution {
    let code = rt.load(wasm()).unwrap();
    rt.execute(
        &code,
        "supply-chain",
        inv,
        Arc::new(state.clone()),
        Arc::new(TestDetector),
    )
    .unwrap()
}

fn json(e: &Execution) -> Value {
    assert_eq!(e.response.status, 200, "{}", e.response.message);
    serde_json::from_slice(&e.response.payload).unwrap()
}

const REGISTER: [&str; 10] = [
    "SHP-1", "insulin", "100", "Basel", "Oslo", "Org1MSP", "2000", "8000", "300", "450",
];

fn reading(ts: &str, temp_mc: &str) -> Invocation {
    call(
        "Org1MSP",
        "RecordReading",
        &["SHP-1", ts, temp_mc, "400", "100", "A1 km 12"],
    )
}

/// A state with SHP-1 registered (block 1).
fn registered(rt: &Runtime) -> MemoryState {
    let mut state = MemoryState::new();
    let e = exec(rt, &state, &call("Org2MSP", "RegisterShipment", &REGISTER));
    assert_eq!(json(&e)["custodian"], "Org1MSP");
    commit(&mut state, &e.rwset, 1);
    state
}

#[test]
fn register_and_record_normal_and_anomalous_readings() {
    let rt = runtime();
    let mut state = registered(&rt);

    let normal = exec(&rt, &state, &reading("1000", "4500"));
    let r = json(&normal);
    assert_eq!(r["anomalous"], false);
    assert!(normal.event.is_none());
    assert_eq!(normal.rwset.write_count(), 1);
    assert!(normal.fuel_used > 0);
    commit(&mut state, &normal.rwset, 2);

    let hot = exec(&rt, &state, &reading("2000", "9000"));
    let r = json(&hot);
    assert_eq!(r["anomalous"], true);
    assert_eq!(r["score_ppm"], 600_000);
    let event = hot.event.clone().unwrap();
    assert_eq!(event.name, "AnomalyDetected");
    let payload: Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!(payload["timestamp_ms"], 2000);
    // The reading and the open anomaly.
    assert_eq!(hot.rwset.write_count(), 2);
    commit(&mut state, &hot.rwset, 3);

    // Recording the same timestamp again is refused (400, nothing written).
    let again = exec(&rt, &state, &reading("2000", "4000"));
    assert_eq!(again.response.status, 400);
    assert!(!again.is_success());

    let readings = json(&exec(
        &rt,
        &state,
        &call("Org3MSP", "GetReadings", &["SHP-1", "0", "5000"]),
    ));
    assert_eq!(readings.as_array().unwrap().len(), 2);
    let window = exec(
        &rt,
        &state,
        &call("Org3MSP", "GetReadings", &["SHP-1", "1500", "5000"]),
    );
    assert_eq!(json(&window).as_array().unwrap().len(), 1);
    // The range query is recorded for phantom-read validation.
    let rq = &window.rwset.ns[0].range_queries;
    assert_eq!(rq.len(), 1);
    assert!(rq[0].exhausted);
    assert_eq!(rq[0].reads.len(), 1);

    let open = json(&exec(
        &rt,
        &state,
        &call("Org3MSP", "GetOpenAnomalies", &["SHP-1"]),
    ));
    assert_eq!(open.as_array().unwrap().len(), 1);
    let all = json(&exec(
        &rt,
        &state,
        &call("Org3MSP", "GetOpenAnomalies", &[]),
    ));
    assert_eq!(all.as_array().unwrap().len(), 1);

    let resolved = exec(
        &rt,
        &state,
        &call("Org1MSP", "ResolveAnomaly", &["SHP-1", "2000"]),
    );
    assert_eq!(resolved.response.status, 200);
    assert!(resolved.rwset.ns[0].writes[0].is_delete());
    commit(&mut state, &resolved.rwset, 4);
    let open = json(&exec(
        &rt,
        &state,
        &call("Org3MSP", "GetOpenAnomalies", &[]),
    ));
    assert!(open.as_array().unwrap().is_empty());
}

#[test]
fn only_the_custodian_records_and_transfers() {
    let rt = runtime();
    let mut state = registered(&rt);
    let stranger = exec(
        &rt,
        &state,
        &call(
            "Org2MSP",
            "RecordReading",
            &["SHP-1", "1", "4000", "400", "100", "x"],
        ),
    );
    assert_eq!(stranger.response.status, 403);
    assert_eq!(stranger.rwset.write_count(), 0);
    let steal = exec(
        &rt,
        &state,
        &call("Org2MSP", "TransferCustody", &["SHP-1", "Org2MSP"]),
    );
    assert_eq!(steal.response.status, 403);

    let handover = exec(
        &rt,
        &state,
        &call("Org1MSP", "TransferCustody", &["SHP-1", "Org3MSP"]),
    );
    assert_eq!(json(&handover)["custodian"], "Org3MSP");
    commit(&mut state, &handover.rwset, 2);
    let old = exec(&rt, &state, &reading("5", "4000"));
    assert_eq!(old.response.status, 403);
    let new = exec(
        &rt,
        &state,
        &call(
            "Org3MSP",
            "RecordReading",
            &["SHP-1", "5", "4000", "400", "100", "x"],
        ),
    );
    assert_eq!(new.response.status, 200);

    let history = json(&exec(
        &rt,
        &state,
        &call("Org4MSP", "GetHistory", &["SHP-1"]),
    ));
    let h = history.as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0]["shipment"]["custodian"], "Org1MSP");
    assert_eq!(h[1]["shipment"]["custodian"], "Org3MSP");
    assert_eq!(h[1]["block"], 2);
}

#[test]
fn bad_requests_get_client_errors() {
    let rt = runtime();
    let state = registered(&rt);
    let cases: [(&str, &[&str], u32); 5] = [
        ("NoSuchFunction", &[], 400),
        ("RecordReading", &["SHP-1"], 400),
        ("RecordReading", &["SHP-1", "soon", "1", "1", "1", "x"], 400),
        ("GetShipment", &["SHP-404"], 404),
        ("RegisterShipment", &REGISTER, 400),
    ];
    for (f, args, status) in cases {
        let e = exec(&rt, &state, &call("Org1MSP", f, args));
        assert_eq!(e.response.status, status, "{f}: {}", e.response.message);
        assert_eq!(e.rwset.write_count(), 0, "{f}");
    }
}

#[test]
fn two_runtimes_produce_byte_identical_results() {
    let (a, b) = (runtime(), runtime());
    let state = registered(&a);
    for inv in [
        reading("7", "4000"),
        reading("8", "-3000"),
        call("Org1MSP", "GetShipment", &["SHP-1"]),
    ] {
        let ea = exec(&a, &state, &inv);
        let eb = exec(&b, &state, &inv);
        assert_eq!(
            codec::encode(&ea.rwset).unwrap(),
            codec::encode(&eb.rwset).unwrap()
        );
        let pa = codec::encode(&ea.clone().into_payload(Digest::of(b"p"), 1)).unwrap();
        let pb = codec::encode(&eb.clone().into_payload(Digest::of(b"p"), 1)).unwrap();
        assert_eq!(pa, pb);
        assert_eq!(ea.fuel_used, eb.fuel_used);
    }
}

#[test]
fn module_is_compiled_once_and_disk_cache_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = cryptanet_chaincode::RuntimeConfig {
        cache_dir: Some(dir.path().to_owned()),
        pool_instances: 4,
        ..Default::default()
    };
    let rt = Runtime::new(config.clone()).unwrap();
    let first = rt.load(wasm()).unwrap();
    let second = rt.load(wasm()).unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(rt.cached_modules(), 1);
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 1);
    // A new runtime loads the artifact from disk and runs it.
    let restarted = Runtime::new(config).unwrap();
    let code = restarted.load(wasm()).unwrap();
    assert_eq!(code.code_hash(), Digest::of(wasm()));
    let state = MemoryState::new();
    let e = restarted
        .execute(
            &code,
            "supply-chain",
            &call("Org2MSP", "RegisterShipment", &REGISTER),
            Arc::new(state),
            Arc::new(TestDetector),
        )
        .unwrap();
    assert_eq!(e.response.status, 200);
}
