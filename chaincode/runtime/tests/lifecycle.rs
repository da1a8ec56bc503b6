//! Package → install → approve → commit → invoke, then upgrade.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{call, commit, example_wasm, runtime};
use cryptanet_chaincode::lifecycle::{
    approve_for_my_org, commit as commit_definition, invoke_committed, ChaincodeDefinition,
    ChaincodePackage, InstallStore, LIFECYCLE_NS,
};
use cryptanet_chaincode::{Error, MemoryState, TestDetector};
use std::sync::Arc;

const ORGS: [&str; 4] = ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"];

fn define(state: &mut MemoryState, def: &ChaincodeDefinition, approvers: &[&str], block: &mut u64) {
    for org in approvers {
        let rw = approve_for_my_org(state, org, def).unwrap();
        *block += 1;
        commit(state, &cryptanet_types::TxRwSet { ns: vec![rw] }, *block);
    }
    let orgs: Vec<String> = ORGS.map(String::from).to_vec();
    let rw = commit_definition(state, &orgs, def).unwrap();
    *block += 1;
    commit(state, &cryptanet_types::TxRwSet { ns: vec![rw] }, *block);
}

#[test]
fn only_committed_definitions_run_and_upgrades_bump_the_sequence() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = InstallStore::open(dir.path()).unwrap();
    let wasm = example_wasm("supply-chain");
    let pkg = ChaincodePackage::new("supply-chain_1.0", wasm.clone()).unwrap();
    let id = store.install(&rt, &pkg.to_bytes().unwrap()).unwrap();
    assert!(id.starts_with("supply-chain_1.0:"));
    assert_eq!(store.installed().unwrap(), vec![id.clone()]);
    // Installing the same bytes again gives the same id.
    assert_eq!(store.install(&rt, &pkg.to_bytes().unwrap()).unwrap(), id);

    let mut state = MemoryState::new();
    let register = call(
        "Org1MSP",
        "RegisterShipment",
        &[
            "S1", "vaccine", "10", "A", "B", "Org1MSP", "2000", "8000", "300", "450",
        ],
    );
    let invoke = |state: &MemoryState| {
        invoke_committed(
            &rt,
            &store,
            Arc::new(state.clone()),
            Arc::new(TestDetector),
            "supply-chain",
            &register,
        )
    };
    assert!(matches!(invoke(&state), Err(Error::NotCommitted { .. })));

    let mut def = ChaincodeDefinition {
        name: "supply-chain".into(),
        version: "1.0".into(),
        sequence: 1,
        endorsement_policy:
            "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer', 'Org4MSP.peer')".into(),
        package_id: id,
    };
    let mut block = 0;
    // Two of four approvals are not a majority.
    for org in &ORGS[..2] {
        let rw = approve_for_my_org(&state, org, &def).unwrap();
        block += 1;
        commit(
            &mut state,
            &cryptanet_types::TxRwSet { ns: vec![rw] },
            block,
        );
    }
    let orgs: Vec<String> = ORGS.map(String::from).to_vec();
    assert!(matches!(
        commit_definition(&state, &orgs, &def),
        Err(Error::NotEnoughApprovals {
            approved: 2,
            required: 3,
            ..
        })
    ));
    define(&mut state, &def, &ORGS[2..3], &mut block);

    let (exec, sequence) = invoke(&state).unwrap();
    assert_eq!(sequence, 1);
    assert_eq!(exec.response.status, 200);
    let namespaces: Vec<&str> = exec.rwset.ns.iter().map(|n| n.namespace.as_str()).collect();
    assert_eq!(namespaces, vec![LIFECYCLE_NS, "supply-chain"]);
    assert_eq!(exec.rwset.ns[0].reads.len(), 1);
    assert!(exec.rwset.ns[0].writes.is_empty());

    // Upgrade: a new package (new label, same code) at sequence 2.
    let pkg2 = ChaincodePackage::new("supply-chain_1.1", wasm).unwrap();
    let id2 = store.install(&rt, &pkg2.to_bytes().unwrap()).unwrap();
    def.version = "1.1".into();
    def.sequence = 2;
    def.package_id = id2;
    define(&mut state, &def, &ORGS[1..4], &mut block);
    let (_, sequence) = invoke(&state).unwrap();
    assert_eq!(sequence, 2);
}

#[test]
fn committed_but_not_installed_is_a_typed_error() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = InstallStore::open(dir.path()).unwrap();
    let mut state = MemoryState::new();
    let def = ChaincodeDefinition {
        name: "ghost".into(),
        version: "1".into(),
        sequence: 1,
        endorsement_policy: "OR('Org1MSP.member')".into(),
        package_id: format!("ghost:{}", cryptanet_types::Digest::of(b"x").to_hex()),
    };
    let mut block = 0;
    define(&mut state, &def, &ORGS[..3], &mut block);
    let r = invoke_committed(
        &rt,
        &store,
        Arc::new(state),
        Arc::new(TestDetector),
        "ghost",
        &call("Org1MSP", "Anything", &[]),
    );
    assert!(matches!(r, Err(Error::NotInstalled { .. })));
}
