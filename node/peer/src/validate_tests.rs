//! Each validation code, produced by a transaction crafted to earn it.

use crate::validate::{prepare_block, EndorsementPolicy, MajorityOfOrgs};
use cryptanet_cli::material::{load_identity, load_org_definitions};
use cryptanet_cli::orgs::{generate, GenerateOptions};
use cryptanet_ledger::block_effects;
use cryptanet_ledger::{Ledger, LedgerOptions};
use cryptanet_types::identity::{LocalIdentity, Verifier};
use cryptanet_types::{
    codec, tx::transient_hash, Block, Digest, Endorsement, Envelope, KvRead, KvWrite, NsRwSet,
    Proposal, ProposalResponsePayload, RangeQueryInfo, Response, TxPayload, TxRwSet,
    ValidationCode as V, Version,
};

struct World {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    verifier: Verifier,
    client: LocalIdentity,
    admin: LocalIdentity,
    peers: Vec<LocalIdentity>,
    policy: MajorityOfOrgs,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenerateOptions::local(dir.path(), 4, 7051);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    generate(&opts, now, &mut rand_core::OsRng).unwrap();
    let verifier = Verifier::new(&load_org_definitions(&dir.path().join("orgs")).unwrap()).unwrap();
    let crypto = dir.path().join("crypto");
    let client = load_identity(&crypto.join("Org1MSP/client")).unwrap();
    let admin = load_identity(&crypto.join("Org1MSP/admin")).unwrap();
    let peers = (1..=4)
        .map(|i| load_identity(&crypto.join(format!("Org{i}MSP/peer0"))).unwrap())
        .collect();
    let ledger = Ledger::open_with(
        dir.path().join("ledger"),
        LedgerOptions {
            sync: false,
            ..Default::default()
        },
    )
    .unwrap();
    World {
        _dir: dir,
        ledger,
        verifier,
        client,
        admin,
        peers,
        policy: MajorityOfOrgs { members: 4 },
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A transaction of chaincode `cc` (sequence 1) by `creator` with `ns`,
/// endorsed by `endorsers`.
fn tx(creator: &LocalIdentity, endorsers: &[&LocalIdentity], nonce: &[u8], ns: NsRwSet) -> Vec<u8> {
    tx_of("cc", 1, creator, endorsers, nonce, ns)
}

/// A transaction of `chaincode` at definition `sequence`.
fn tx_of(
    chaincode: &str,
    sequence: u64,
    creator: &LocalIdentity,
    endorsers: &[&LocalIdentity],
    nonce: &[u8],
    ns: NsRwSet,
) -> Vec<u8> {
    let proposal = Proposal {
        chaincode: chaincode.into(),
        function: "f".into(),
        args: vec![],
        creator: creator.cert_der().to_vec(),
        nonce: nonce.to_vec(),
        timestamp_ms: now_ms(),
        transient_hash: transient_hash(&vec![]).unwrap(),
    };
    let proposal_bytes = codec::encode(&proposal).unwrap();
    let prp = ProposalResponsePayload {
        proposal_hash: Digest::of(&proposal_bytes),
        chaincode: chaincode.into(),
        chaincode_sequence: sequence,
        rwset: TxRwSet { ns: vec![ns] },
        response: Response {
            status: 200,
            ..Default::default()
        },
        event: None,
    };
    let response_bytes = codec::encode(&prp).unwrap();
    let payload = TxPayload {
        proposal_signature: creator.sign(&proposal_bytes),
        proposal_bytes,
        endorsements: endorsers
            .iter()
            .map(|e| Endorsement {
                endorser: e.cert_der().to_vec(),
                signature: e.sign(&response_bytes),
            })
            .collect(),
        response_bytes,
    };
    let payload = codec::encode(&payload).unwrap();
    Envelope {
        signature: creator.sign(&payload),
        payload,
    }
    .to_bytes()
    .unwrap()
}

fn write(key: &str, value: &str) -> NsRwSet {
    NsRwSet {
        namespace: "cc".into(),
        writes: vec![KvWrite {
            key: key.as_bytes().to_vec(),
            value: Some(value.as_bytes().to_vec()),
        }],
        ..Default::default()
    }
}

fn read_write(read: &str, version: Option<Version>, key: &str) -> NsRwSet {
    let mut ns = write(key, "v");
    ns.reads.push(KvRead {
        key: read.as_bytes().to_vec(),
        version,
    });
    ns
}

/// Validates and appends a block of `data` under the world's policy.
fn commit(w: &mut World, data: Vec<Vec<u8>>) -> Vec<V> {
    commit_under(&mut w.ledger, &w.verifier, &w.policy, data)
}

/// Validates and appends a block of `data` the way the engine does, and
/// checks on the way that the effects validation hands the ledger are
/// exactly what the ledger would derive from the block itself.
fn commit_under(
    ledger: &mut Ledger,
    verifier: &Verifier,
    policy: &dyn EndorsementPolicy,
    data: Vec<Vec<u8>>,
) -> Vec<V> {
    let mut b = Block::new(ledger.height() + 1, ledger.last_hash(), data);
    let effects = prepare_block(&mut b, ledger, verifier, policy);
    assert_eq!(effects, block_effects(&b).unwrap());
    ledger.append_with_effects(&b, &effects).unwrap();
    b.metadata.validation_codes
}

#[test]
fn every_validation_code_is_earned_by_its_own_fault() {
    let mut w = world();
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let c = &client;

    // Block 1: a valid write of "a", plus faults that need no prior state.
    let good = tx(c, &e, b"n1", write("a", "1"));
    let mut forged = Envelope::from_bytes(&tx(c, &e, b"n2", write("b", "1"))).unwrap();
    let mut p: TxPayload = codec::decode(&forged.payload).unwrap();
    p.endorsements[1].signature.0[0] ^= 1; // forged endorsement
    let p_bytes = codec::encode(&p).unwrap();
    forged = Envelope {
        signature: c.sign(&p_bytes),
        payload: p_bytes,
    };
    let mut bad_sig = Envelope::from_bytes(&tx(c, &e, b"n3", write("c", "1"))).unwrap();
    bad_sig.signature.0[5] ^= 1;
    let peer_as_creator = tx(&peers[0], &e, b"n4", write("d", "1"));
    let one_org = tx(c, &e[..1], b"n5", write("e", "1"));
    let codes = commit(
        &mut w,
        vec![
            good.clone(),
            forged.to_bytes().unwrap(),
            bad_sig.to_bytes().unwrap(),
            peer_as_creator,
            one_org,
            b"not an envelope".to_vec(),
            good.clone(), // replay inside the block
        ],
    );
    assert_eq!(
        codes,
        vec![
            V::Valid,
            V::BadEndorsement,
            V::BadCreatorSignature,
            V::CreatorNotMember,
            V::EndorsementPolicyFailure,
            V::BadPayload,
            V::DuplicateTxId
        ]
    );
    assert_eq!(
        w.ledger.get_state("cc", b"a").unwrap().unwrap().1,
        Version::new(1, 0)
    );
    assert!(
        w.ledger.get_state("cc", b"b").unwrap().is_none(),
        "an invalid write was applied"
    );

    // Block 2: MVCC. Reading "a" at its current version is fine, once; a
    // second reader in the same block sees a key the first one rewrote.
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let c = &client;
    let v1 = Some(Version::new(1, 0));
    let codes = commit(
        &mut w,
        vec![
            tx(c, &e, b"m1", read_write("a", v1, "a")),
            tx(c, &e, b"m2", read_write("a", v1, "x")),
            tx(c, &e, b"m3", read_write("a", Some(Version::new(0, 9)), "y")),
            good, // replay of a committed transaction
        ],
    );
    assert_eq!(
        codes,
        vec![
            V::Valid,
            V::MvccReadConflict,
            V::MvccReadConflict,
            V::DuplicateTxId
        ]
    );

    // Block 3: phantoms. A range read of [a, c) recorded before "b" existed
    // is stale once "b" is inserted by an earlier transaction of the block.
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let c = &client;
    let range = |nonce: &[u8], reads: Vec<KvRead>| {
        let mut ns = write("z", "1");
        ns.range_queries.push(RangeQueryInfo {
            start: b"a".to_vec(),
            end: b"c".to_vec(),
            exhausted: true,
            reads,
        });
        tx(c, &e, nonce, ns)
    };
    let a_now = KvRead {
        key: b"a".to_vec(),
        version: Some(Version::new(2, 0)),
    };
    let codes = commit(
        &mut w,
        vec![
            range(b"r1", vec![a_now.clone()]),
            tx(c, &e, b"r2", write("b", "new")),
            range(b"r3", vec![a_now.clone()]),
        ],
    );
    assert_eq!(codes, vec![V::Valid, V::Valid, V::PhantomReadConflict]);
    // And against committed state: "b" now exists, so the old result is a phantom.
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let c = &client;
    let mut ns = write("q", "1");
    ns.range_queries.push(RangeQueryInfo {
        start: b"a".to_vec(),
        end: b"c".to_vec(),
        exhausted: true,
        reads: vec![a_now],
    });
    let codes = commit(&mut w, vec![tx(c, &e, b"r4", ns)]);
    assert_eq!(codes, vec![V::PhantomReadConflict]);
}

#[test]
fn foreign_namespaces_and_non_peer_endorsers_have_their_own_codes() {
    let mut w = world();
    let peers = w.peers.clone();
    let client = w.client.clone();
    let c = &client;
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    // A client certificate is not a peer: the endorser is not a member peer.
    let mut with_client: Vec<&LocalIdentity> = e.clone();
    with_client.push(c);
    let mut foreign = write("k", "v");
    foreign.namespace = "other-cc".into();
    // An empty key would be refused by the ledger: it must never get there.
    let unstorable = write("", "v");
    let composite = write("\0reading\0S1\0", "v");
    let codes = commit(
        &mut w,
        vec![
            tx(c, &with_client, b"x1", write("k", "1")),
            tx(c, &e, b"x2", foreign),
            tx(c, &e, b"x3", write("k", "2")),
            tx(c, &e, b"x4", unstorable),
            tx(c, &e, b"x5", composite),
        ],
    );
    assert_eq!(
        codes,
        vec![
            V::EndorserNotMember,
            V::IllegalWriteset,
            V::Valid,
            V::BadPayload,
            V::Valid
        ]
    );
    assert!(w.ledger.get_state("other-cc", b"k").unwrap().is_none());
}

#[test]
fn lifecycle_policy_needs_a_committed_definition_at_the_right_sequence() {
    use crate::policy::LifecyclePolicy;
    use cryptanet_chaincode::lifecycle::{ChaincodeDefinition, LIFECYCLE_NS};
    let mut w = world();
    let peers = w.peers.clone();
    let client = w.client.clone();
    let c = &client;
    let policy = LifecyclePolicy::new(4);
    let two: Vec<&LocalIdentity> = peers.iter().take(2).collect();
    let one: Vec<&LocalIdentity> = peers.iter().take(1).collect();
    let run =
        |w: &mut World, data: Vec<Vec<u8>>| commit_under(&mut w.ledger, &w.verifier, &policy, data);
    // Nothing committed for "cc" yet.
    assert_eq!(
        run(&mut w, vec![tx(c, &two, b"l1", write("a", "1"))]),
        vec![V::UnknownChaincode]
    );
    // Commit "cc" sequence 1 with a 2-of-4 policy through _lifecycle writes.
    let def = ChaincodeDefinition {
        name: "cc".into(),
        version: "1".into(),
        sequence: 1,
        endorsement_policy:
            "OutOf(2, 'Org1MSP.peer', 'Org2MSP.peer', 'Org3MSP.peer', 'Org4MSP.peer')".into(),
        package_id: format!("cc:{}", Digest::of(b"cc").to_hex()),
    };
    let lifecycle_write = |key: &str, value: Vec<u8>| NsRwSet {
        namespace: LIFECYCLE_NS.into(),
        writes: vec![KvWrite {
            key: key.as_bytes().to_vec(),
            value: Some(value),
        }],
        ..Default::default()
    };
    let define = lifecycle_write("definition/cc", codec::encode(&def).unwrap());
    let admin = w.admin.clone();
    let a = &admin;
    let three: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let lc = |creator, endorsers: &[&LocalIdentity], nonce: &[u8], ns| {
        tx_of(LIFECYCLE_NS, 0, creator, endorsers, nonce, ns)
    };
    assert_eq!(
        run(
            &mut w,
            vec![
                lc(c, &three, b"l2", define.clone()),
                lc(a, &two, b"l3", define.clone()),
                lc(
                    a,
                    &three,
                    b"l4",
                    lifecycle_write("approval/cc/00000000000000000001/Org2MSP", vec![1])
                ),
                lc(a, &three, b"l5", lifecycle_write("other/key", vec![1])),
                lc(a, &three, b"l6", define.clone()),
            ]
        ),
        vec![
            V::EndorsementPolicyFailure, // a client may not commit definitions
            V::EndorsementPolicyFailure, // 2 of 4 orgs is not a majority
            V::EndorsementPolicyFailure, // Org1's admin approving for Org2
            V::IllegalWriteset,
            V::Valid,
        ]
    );
    assert_eq!(
        run(
            &mut w,
            vec![
                tx(c, &two, b"l7", write("a", "1")),
                tx(c, &one, b"l8", write("b", "1")),
                tx_of("cc", 2, c, &two, b"l9", write("c", "1")),
            ]
        ),
        vec![V::Valid, V::EndorsementPolicyFailure, V::UnknownChaincode]
    );
}

#[test]
fn model_activations_follow_the_lifecycle_rules() {
    use crate::policy::LifecyclePolicy;
    use cryptanet_chaincode::lifecycle::{ModelDefinition, LIFECYCLE_NS};
    let mut w = world();
    let peers = w.peers.clone();
    let (client, admin) = (w.client.clone(), w.admin.clone());
    let policy = LifecyclePolicy::new(4);
    let org1: Vec<&LocalIdentity> = peers.iter().take(1).collect();
    let two: Vec<&LocalIdentity> = peers.iter().take(2).collect();
    let three: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let def = ModelDefinition {
        class: "cold-chain".into(),
        model_hash: Digest::of(b"model").to_hex(),
        sequence: 1,
    };
    let write = |key: &str| NsRwSet {
        namespace: LIFECYCLE_NS.into(),
        writes: vec![KvWrite {
            key: key.as_bytes().to_vec(),
            value: Some(codec::encode(&def).unwrap()),
        }],
        ..Default::default()
    };
    let lc = |creator, endorsers: &[&LocalIdentity], nonce: &[u8], key: &str| {
        tx_of(LIFECYCLE_NS, 0, creator, endorsers, nonce, write(key))
    };
    let approval = |org: &str| format!("model-approval/cold-chain/00000000000000000001/{org}");
    let data = vec![
        lc(&admin, &org1, b"m1", &approval("Org1MSP")),
        lc(&admin, &three, b"m2", &approval("Org2MSP")),
        lc(&client, &org1, b"m3", &approval("Org1MSP")),
        lc(&admin, &two, b"m4", "model/cold-chain"),
        lc(&client, &three, b"m5", "model/cold-chain"),
        lc(&admin, &three, b"m6", "model/cold-chain"),
        lc(&admin, &three, b"m7", "models/cold-chain"),
    ];
    let codes = commit_under(&mut w.ledger, &w.verifier, &policy, data);
    assert_eq!(
        codes,
        vec![
            V::Valid,                    // Org1's admin, endorsed by Org1's peer
            V::EndorsementPolicyFailure, // Org1's admin approving for Org2
            V::EndorsementPolicyFailure, // a client may not approve
            V::EndorsementPolicyFailure, // 2 of 4 orgs is not a majority
            V::EndorsementPolicyFailure, // a client may not activate
            V::Valid,
            V::IllegalWriteset,
        ]
    );
    assert!(w
        .ledger
        .get_state(LIFECYCLE_NS, b"model/cold-chain")
        .unwrap()
        .is_some());
}

#[test]
fn batched_signature_checks_still_find_each_forgery_in_a_large_block() {
    let mut w = world();
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let n = (crate::validate_sigs::CHUNK_SIGNATURES / 3) * 3 + 5;
    let mut data: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            tx(
                &client,
                &e,
                format!("b{i}").as_bytes(),
                write(&format!("k{i}"), "v"),
            )
        })
        .collect();
    // A forged endorsement in the first chunk, a bad envelope signature in
    // the third, and another forged endorsement in the last (short) one.
    let forge = |bytes: &[u8], what: usize| {
        let mut env = Envelope::from_bytes(bytes).unwrap();
        let mut p: TxPayload = codec::decode(&env.payload).unwrap();
        match what {
            0 => p.endorsements[2].signature.0[1] ^= 1,
            1 => {}
            _ => p.endorsements[0].signature.0[2] ^= 1,
        }
        env.payload = codec::encode(&p).unwrap();
        env.signature = client.sign(&env.payload);
        if what == 1 {
            env.signature.0[60] ^= 1;
        }
        env.to_bytes().unwrap()
    };
    let (a, b, c) = (
        3,
        (crate::validate_sigs::CHUNK_SIGNATURES / 3) * 2 + 1,
        n - 1,
    );
    data[a] = forge(&data[a], 0);
    data[b] = forge(&data[b], 1);
    data[c] = forge(&data[c], 2);
    // Bisection leaves exactly the forgeries to the one-by-one checks.
    let decoded: Vec<_> = data.iter().map(|b| super::decode(b)).collect();
    let marked = crate::validate_sigs::preverify(&decoded, &w.verifier);
    let unmarked: Vec<usize> = (0..n).filter(|i| !marked[*i]).collect();
    assert_eq!(unmarked, [a, b, c]);
    let codes = commit(&mut w, data);
    for (i, code) in codes.iter().enumerate() {
        let expected = match i {
            _ if i == a || i == c => V::BadEndorsement,
            _ if i == b => V::BadCreatorSignature,
            _ => V::Valid,
        };
        assert_eq!(*code, expected, "transaction {i}");
    }
}

/// The creator's envelope signature covers the proposal bytes, and every
/// endorsement covers the proposal's hash: commit-time validation relies on
/// those two and leaves the separate proposal signature to the endorsers
/// (one signature fewer per transaction on every peer). A proposal changed
/// after endorsement is still refused, even when the creator re-signs the
/// envelope; a bad proposal signature under a good envelope signature only
/// its own creator can produce, and it changes nothing the creator did not
/// sign.
#[test]
fn the_envelope_signature_authenticates_the_proposal_at_commit() {
    let mut w = world();
    let peers = w.peers.clone();
    let e: Vec<&LocalIdentity> = peers.iter().take(3).collect();
    let client = w.client.clone();
    let resign = |bytes: Vec<u8>, change: &dyn Fn(&mut TxPayload)| {
        let mut env = Envelope::from_bytes(&bytes).unwrap();
        let mut p: TxPayload = codec::decode(&env.payload).unwrap();
        change(&mut p);
        env.payload = codec::encode(&p).unwrap();
        env.signature = client.sign(&env.payload);
        env.to_bytes().unwrap()
    };
    let odd_proposal_signature = resign(tx(&client, &e, b"p1", write("p1", "v")), &|p| {
        p.proposal_signature.0[3] ^= 1
    });
    let changed_proposal = resign(tx(&client, &e, b"p2", write("p2", "v")), &|p| {
        let mut proposal: Proposal = codec::decode(&p.proposal_bytes).unwrap();
        proposal.function = "other".into();
        p.proposal_bytes = codec::encode(&proposal).unwrap();
        p.proposal_signature = client.sign(&p.proposal_bytes);
    });
    let mut unsigned_envelope =
        Envelope::from_bytes(&tx(&client, &e, b"p3", write("p3", "v"))).unwrap();
    unsigned_envelope.signature.0[0] ^= 1;
    let codes = commit(
        &mut w,
        vec![
            odd_proposal_signature,
            changed_proposal,
            unsigned_envelope.to_bytes().unwrap(),
        ],
    );
    assert_eq!(codes, vec![V::Valid, V::BadPayload, V::BadCreatorSignature]);
}
