//! Byte fields are encoded as byte strings (`wire_bytes`) for speed; the
//! canonical encoding must stay exactly what it was. bincode encodes a
//! struct as the tuple of its fields, so each type's encoding is compared
//! with that of a tuple of plain `Vec<u8>` (element-wise) fields.
#![allow(clippy::unwrap_used)]

use cryptanet_types::{
    codec, Block, BlockHeader, BlockMetadata, Digest, Endorsement, Envelope, KvRead, KvWrite,
    Signature, TxPayload, ValidationCode, Version,
};

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn rwset_entries_encode_as_before() {
    for n in [0, 1, 250, 251, 70_000] {
        let w = KvWrite {
            key: bytes(n, 1),
            value: Some(bytes(n / 2 + 3, 2)),
        };
        assert_eq!(
            codec::encode(&w).unwrap(),
            codec::encode(&(w.key.clone(), w.value.clone())).unwrap()
        );
        assert_eq!(
            codec::decode::<KvWrite>(&codec::encode(&w).unwrap()).unwrap(),
            w
        );
        let d = KvWrite {
            key: bytes(n, 3),
            value: None,
        };
        assert_eq!(
            codec::encode(&d).unwrap(),
            codec::encode(&(d.key.clone(), None::<Vec<u8>>)).unwrap()
        );
        assert_eq!(
            codec::decode::<KvWrite>(&codec::encode(&d).unwrap()).unwrap(),
            d
        );
        let r = KvRead {
            key: bytes(n, 4),
            version: Some(Version { block: 7, tx: 2 }),
        };
        assert_eq!(
            codec::encode(&r).unwrap(),
            codec::encode(&(r.key.clone(), r.version)).unwrap()
        );
    }
}

#[test]
fn envelopes_payloads_and_blocks_encode_as_before() {
    let sig = Signature([9; 64]);
    let e = Endorsement {
        endorser: bytes(500, 5),
        signature: sig,
    };
    let p = TxPayload {
        proposal_bytes: bytes(300, 6),
        proposal_signature: sig,
        response_bytes: bytes(900, 7),
        endorsements: vec![e.clone(), e.clone()],
    };
    let plain_e = (e.endorser.clone(), sig);
    let plain_p = (
        p.proposal_bytes.clone(),
        sig,
        p.response_bytes.clone(),
        vec![plain_e.clone(), plain_e],
    );
    let encoded = codec::encode(&p).unwrap();
    assert_eq!(encoded, codec::encode(&plain_p).unwrap());
    assert_eq!(codec::decode::<TxPayload>(&encoded).unwrap(), p);
    let env = Envelope {
        payload: encoded,
        signature: sig,
    };
    assert_eq!(
        codec::encode(&env).unwrap(),
        codec::encode(&(env.payload.clone(), sig)).unwrap()
    );

    let header = BlockHeader {
        number: 3,
        previous_hash: Digest::of(b"p"),
        merkle_root: Digest::of(b"m"),
        data_hash: Digest::of(b"d"),
    };
    let block = Block {
        header: header.clone(),
        data: vec![env.to_bytes().unwrap(), Vec::new(), bytes(251, 8)],
        metadata: BlockMetadata {
            validation_codes: vec![
                ValidationCode::Valid,
                ValidationCode::MvccReadConflict,
                ValidationCode::BadPayload,
            ],
            commit_certificate: bytes(1000, 9),
        },
    };
    let plain = (
        header,
        block.data.clone(),
        (
            block.metadata.validation_codes.clone(),
            block.metadata.commit_certificate.clone(),
        ),
    );
    let encoded = codec::encode(&block).unwrap();
    assert_eq!(encoded, codec::encode(&plain).unwrap());
    assert_eq!(codec::decode::<Block>(&encoded).unwrap(), block);
}
