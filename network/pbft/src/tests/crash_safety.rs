//! Crash safety: a replica restarted from what it persisted never sends a
//! PREPARE or COMMIT conflicting with one it sent before, never re-uses a
//! sequence number as primary, and still reports its prepared certificates.

use super::*;

#[test]
fn restarted_backup_does_not_prepare_a_conflicting_batch() {
    let net = Net::new();
    let mut r = net.replica(1);
    let mut disk = PersistedState::default();
    let a: &[&[u8]] = &[b"a"];
    let mut outs = r.step(net.pre_prepare(0, 1, a));
    outs.extend(r.step(net.prepare(2, 0, 1, digest(a))));
    persist_all(&mut disk, &outs);
    assert!(r.is_prepared(1));

    // Round-trip the durable state through its encoding, as a shell would.
    let disk = PersistedState::decode(&disk.encode().unwrap()).unwrap();
    let mut restarted = net.restart(1, Some(disk));
    assert!(restarted.is_prepared(1));
    let steps = vec![
        Step {
            name: "the primary equivocates after our restart: no second prepare",
            input: net.pre_prepare(0, 1, &[b"b"]),
            expect: &[],
        },
        Step {
            name: "the batch we prepared still commits",
            input: net.commit(2, 0, 1, digest(a)),
            expect: &[],
        },
        Step {
            name: "our own commit was restored, so 2f + 1 are present",
            input: net.commit(3, 0, 1, digest(a)),
            expect: &["commit 1", "persist executed 1"],
        },
    ];
    run(&mut restarted, steps);
    assert_eq!(restarted.metrics().equivocations_seen, 1);
}

#[test]
fn restarted_replica_reports_its_prepared_certificate_in_a_view_change() {
    let net = Net::new();
    let mut r = net.replica(1);
    let mut disk = PersistedState::default();
    let a: &[&[u8]] = &[b"a"];
    let mut outs = r.step(net.pre_prepare(0, 1, a));
    outs.extend(r.step(net.prepare(2, 0, 1, digest(a))));
    outs.extend(r.step(Input::ClientRequest(b"stuck".to_vec())));
    persist_all(&mut disk, &outs);
    let mut restarted = net.restart(1, Some(disk));
    let outs = restarted.step(Input::ClientRequest(b"stuck".to_vec()));
    let outs = expire_requests(&mut restarted, &outs);
    let vc = sent(&outs)
        .into_iter()
        .find_map(|(_, m)| match m {
            Message::ViewChange(vc) => Some(vc),
            _ => None,
        })
        .unwrap();
    assert_eq!(vc.prepared.len(), 1);
    let pp = vc.prepared[0]
        .verify(&net.pk, 1, |v| (v % 4) as u32)
        .unwrap();
    assert_eq!((pp.seq, pp.digest), (1, digest(a)));
}

#[test]
fn restarted_primary_does_not_reuse_a_sequence_number() {
    let net = Net::new();
    let mut p = net.replica(0);
    let mut disk = PersistedState::default();
    let mut outs = p.step(Input::ClientRequest(b"one".to_vec()));
    outs.extend(p.step(Input::ClientRequest(b"two".to_vec())));
    persist_all(&mut disk, &outs);
    let mut restarted = net.restart(0, Some(disk));
    let mut outs = restarted.step(Input::ClientRequest(b"three".to_vec()));
    outs.extend(restarted.step(Input::ClientRequest(b"four".to_vec())));
    let seqs: Vec<u64> = sent(&outs)
        .into_iter()
        .filter_map(|(_, m)| proposed(&m).map(|(pp, _)| pp.seq))
        .collect();
    assert_eq!(seqs, vec![2]);
}

#[test]
fn restart_resumes_an_interrupted_view_change() {
    let net = Net::new();
    let mut r = net.replica(2);
    let outs = r.step(Input::ClientRequest(b"x".to_vec()));
    let mut disk = PersistedState::default();
    persist_all(&mut disk, &outs);
    let outs = expire_requests(&mut r, &outs);
    persist_all(&mut disk, &outs);
    assert_eq!(disk.changing_to, Some(1));
    let mut restarted =
        Replica::new(config(2), net.sk[2].clone(), net.pk.clone(), Some(disk)).unwrap();
    let got: Vec<String> = restarted.start().iter().map(describe).collect();
    assert_eq!(
        got,
        [
            "timeout status",
            "timeout view-change",
            "broadcast view-change"
        ]
    );
    assert_eq!(restarted.changing_to(), Some(1));
    // Messages of the abandoned view stay refused after the restart.
    assert!(restarted.step(net.pre_prepare(0, 1, &[b"x"])).is_empty());
}

#[test]
fn construction_rejects_bad_keys_and_bad_persisted_state() {
    let net = Net::new();
    let wrong_key = Replica::new(config(1), net.sk[2].clone(), net.pk.clone(), None);
    assert!(matches!(wrong_key, Err(crate::Error::Config { .. })));
    let few_keys = Replica::new(config(1), net.sk[1].clone(), net.pk[..3].to_vec(), None);
    assert!(matches!(few_keys, Err(crate::Error::Config { .. })));
    let mut disk = PersistedState::default();
    let mut pp = net.signed(Message::PrePrepare(pre_prepare(0, 1, &[b"a"])));
    pp.signature.0[0] ^= 1;
    disk.slots.insert(
        1,
        crate::SlotRecord {
            seq: 1,
            view: 0,
            digest: digest(&[b"a"]),
            pre_prepare: pp,
            prepared: None,
            commit_sent: false,
        },
    );
    let tampered = Replica::new(config(1), net.sk[1].clone(), net.pk.clone(), Some(disk));
    assert!(matches!(tampered, Err(crate::Error::BadSignature { .. })));
    assert!(PersistedState::decode(&[9, 9, 9]).is_err());
}
