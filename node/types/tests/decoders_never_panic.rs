//! Every decoder of network or disk bytes returns an error, never a panic,
//! on at least 100,000 random, truncated or bit-flipped inputs each.
#![allow(clippy::unwrap_used)]

use cryptanet_types::{
    codec, tx::transient_hash, Block, BlockHeader, Digest, Endorsement, Envelope, KvRead, KvWrite,
    NsRwSet, Proposal, ProposalResponsePayload, RangeQueryInfo, Response, Signature,
    SignedProposal, TxPayload, TxRwSet, Version,
};
use rand::{Rng, RngCore, SeedableRng};
use serde::de::DeserializeOwned;

const RANDOM_INPUTS: usize = 100_000;

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let proposal = Proposal {
        chaincode: "supply-chain".into(),
        function: "RecordReading".into(),
        args: vec![b"SHP-1".to_vec(), vec![1, 2, 3]],
        creator: vec![0x30; 40],
        nonce: vec![9; 24],
        timestamp_ms: 1_700_000_000_000,
        transient_hash: transient_hash(&vec![("k".into(), b"v".to_vec())]).unwrap(),
    };
    let rwset = TxRwSet {
        ns: vec![NsRwSet {
            namespace: "supply-chain".into(),
            reads: vec![KvRead {
                key: b"a".to_vec(),
                version: Some(Version::new(3, 1)),
            }],
            range_queries: vec![RangeQueryInfo {
                start: b"a".to_vec(),
                end: b"z".to_vec(),
                exhausted: true,
                reads: vec![KvRead {
                    key: b"b".to_vec(),
                    version: None,
                }],
            }],
            writes: vec![
                KvWrite {
                    key: b"c".to_vec(),
                    value: Some(vec![5; 10]),
                },
                KvWrite {
                    key: b"d".to_vec(),
                    value: None,
                },
            ],
        }],
    };
    let prp = ProposalResponsePayload {
        proposal_hash: Digest::of(b"p"),
        chaincode: "supply-chain".into(),
        chaincode_sequence: 2,
        rwset: rwset.clone(),
        response: Response {
            status: 200,
            message: "ok".into(),
            payload: vec![1],
        },
        event: Some(cryptanet_types::ChaincodeEvent {
            name: "AnomalyDetected".into(),
            payload: vec![2; 5],
        }),
    };
    let endorsement = Endorsement {
        endorser: vec![0x30; 50],
        signature: Signature([7; 64]),
    };
    let payload = TxPayload {
        proposal_bytes: codec::encode(&proposal).unwrap(),
        proposal_signature: Signature([1; 64]),
        response_bytes: codec::encode(&prp).unwrap(),
        endorsements: vec![endorsement.clone(), endorsement.clone()],
    };
    let env = Envelope {
        payload: codec::encode(&payload).unwrap(),
        signature: Signature([3; 64]),
    };
    let sp = SignedProposal {
        proposal_bytes: payload.proposal_bytes.clone(),
        signature: Signature([4; 64]),
        transient: vec![("k".into(), vec![1])],
    };
    let block = Block::new(
        5,
        Digest::of(b"prev"),
        vec![env.to_bytes().unwrap(), vec![1, 2, 3]],
    );
    vec![
        ("Proposal", codec::encode(&proposal).unwrap()),
        ("SignedProposal", codec::encode(&sp).unwrap()),
        ("ProposalResponsePayload", codec::encode(&prp).unwrap()),
        ("Endorsement", codec::encode(&endorsement).unwrap()),
        ("TxPayload", codec::encode(&payload).unwrap()),
        ("Envelope", env.to_bytes().unwrap()),
        ("TxRwSet", codec::encode(&rwset).unwrap()),
        ("BlockHeader", codec::encode(&block.header).unwrap()),
        ("Block", block.to_bytes().unwrap()),
    ]
}

fn decode_by_name(name: &str, bytes: &[u8]) -> bool {
    fn ok<T: DeserializeOwned>(b: &[u8]) -> bool {
        codec::decode::<T>(b).is_ok()
    }
    match name {
        "Proposal" => ok::<Proposal>(bytes),
        "SignedProposal" => ok::<SignedProposal>(bytes),
        "ProposalResponsePayload" => ok::<ProposalResponsePayload>(bytes),
        "Endorsement" => ok::<Endorsement>(bytes),
        "TxPayload" => ok::<TxPayload>(bytes),
        "Envelope" => ok::<Envelope>(bytes),
        "TxRwSet" => ok::<TxRwSet>(bytes),
        "BlockHeader" => ok::<BlockHeader>(bytes),
        "Block" => ok::<Block>(bytes),
        other => unreachable!("no decoder for {other}"),
    }
}

#[test]
fn valid_samples_round_trip() {
    for (name, bytes) in samples() {
        assert!(
            decode_by_name(name, &bytes),
            "{name} does not decode its own encoding"
        );
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xDEC0DE);
    for (name, _) in samples() {
        let mut accepted = 0usize;
        for _ in 0..RANDOM_INPUTS {
            let len = rng.gen_range(0..200);
            let mut buf = vec![0u8; len];
            rng.fill_bytes(&mut buf);
            accepted += usize::from(decode_by_name(name, &buf));
        }
        // Random bytes almost never form a valid value of a structured type.
        assert!(
            accepted < RANDOM_INPUTS / 100,
            "{name}: {accepted} random inputs decoded"
        );
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, bytes) in samples() {
        for cut in 0..bytes.len() {
            assert!(
                !decode_by_name(name, &bytes[..cut]),
                "{name} truncated to {cut} decoded"
            );
        }
    }
}

#[test]
fn bit_flips_and_mutations_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xF11B);
    for (name, bytes) in samples() {
        for _ in 0..RANDOM_INPUTS {
            let mut m = bytes.clone();
            match rng.gen_range(0..3) {
                0 => {
                    let bit = rng.gen_range(0..m.len() * 8);
                    m[bit / 8] ^= 1 << (bit % 8);
                }
                1 => {
                    let i = rng.gen_range(0..m.len());
                    m[i] = 0xFF; // huge varint length prefixes
                }
                _ => {
                    let i = rng.gen_range(0..m.len());
                    m.truncate(i);
                    m.extend_from_slice(&[0xFC, 0xFF, 0xFF, 0xFF, 0xFF]);
                }
            }
            let _ = decode_by_name(name, &m);
        }
    }
}
