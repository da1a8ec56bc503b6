//! Deterministic synthetic blocks for benchmarks, crash tests and demos.
//!
//! Envelopes are structurally real (they decode to a proposal and a
//! response with a read/write set) but carry all-zero signatures: the ledger
//! stores what validation decided and never checks signatures itself.

use crate::effects::decode_envelope;
use crate::error::Result;
use cryptanet_types::{
    codec, tx::transient_hash, Block, Digest, Envelope, KvRead, KvWrite, NsRwSet, Proposal,
    ProposalResponsePayload, Response, Signature, TxPayload, TxRwSet, ValidationCode,
};
use std::collections::BTreeMap;

/// Namespace used by synthetic transactions.
pub const NAMESPACE: &str = "bench";

/// Shape of synthetic blocks.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Transactions per block.
    pub txs: usize,
    /// Writes per transaction.
    pub writes_per_tx: usize,
    /// Number of distinct keys writes are spread over.
    pub key_space: u64,
    /// Bytes per value.
    pub value_len: usize,
    /// One transaction in `delete_every` deletes instead of writing (0: never).
    pub delete_every: u64,
    /// One transaction in `invalid_every` is marked MVCC-invalid (0: never).
    pub invalid_every: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            txs: 100,
            writes_per_tx: 3,
            key_space: 1_000_000,
            value_len: 64,
            delete_every: 0,
            invalid_every: 0,
        }
    }
}

/// Small blocks with deletes and invalid transactions, so a crash lands in
/// every part of an append: the shape of the crash test's writer process.
pub fn crash_shape() -> Shape {
    Shape {
        txs: 20,
        writes_per_tx: 3,
        key_space: 500,
        value_len: 32,
        delete_every: 6,
        invalid_every: 4,
    }
}

/// SplitMix64: a tiny deterministic generator, enough for test data.
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Block `number` of the synthetic chain `seed`, linked to `previous_hash`,
/// with validation codes filled in. The same arguments always give the same
/// block bytes.
pub fn block(seed: u64, number: u64, previous_hash: Digest, shape: Shape) -> Result<Block> {
    let mut rng = SplitMix(seed ^ number.wrapping_mul(0xA24B_AED4_963E_E407));
    let mut data = Vec::with_capacity(shape.txs);
    let mut codes = Vec::with_capacity(shape.txs);
    for t in 0..shape.txs {
        let mut writes = Vec::with_capacity(shape.writes_per_tx);
        let delete = shape.delete_every != 0 && rng.next_u64().is_multiple_of(shape.delete_every);
        for _ in 0..shape.writes_per_tx {
            let k = rng.next_u64() % shape.key_space.max(1);
            let key = format!("key{k:012}").into_bytes();
            let value = if delete {
                None
            } else {
                let mut v = vec![0u8; shape.value_len];
                for chunk in v.chunks_mut(8) {
                    let r = rng.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&r[..chunk.len()]);
                }
                Some(v)
            };
            writes.push(KvWrite { key, value });
        }
        let mut ns = NsRwSet {
            namespace: NAMESPACE.into(),
            reads: vec![KvRead {
                key: b"config".to_vec(),
                version: None,
            }],
            range_queries: vec![],
            writes,
        };
        ns.canonicalize();
        let proposal = Proposal {
            chaincode: NAMESPACE.into(),
            function: "put".into(),
            args: vec![],
            creator: b"synthetic-client".to_vec(),
            nonce: [
                seed.to_le_bytes(),
                number.to_le_bytes(),
                (t as u64).to_le_bytes(),
            ]
            .concat(),
            timestamp_ms: number * 1000 + t as u64,
            transient_hash: transient_hash(&vec![])?,
        };
        let proposal_bytes = codec::encode(&proposal)?;
        let prp = ProposalResponsePayload {
            proposal_hash: Digest::of(&proposal_bytes),
            chaincode: NAMESPACE.into(),
            chaincode_sequence: 1,
            rwset: TxRwSet { ns: vec![ns] },
            response: Response {
                status: 200,
                message: String::new(),
                payload: vec![],
            },
            event: None,
        };
        let payload = TxPayload {
            proposal_bytes,
            proposal_signature: Signature([0; 64]),
            response_bytes: codec::encode(&prp)?,
            endorsements: vec![],
        };
        let env = Envelope {
            payload: codec::encode(&payload)?,
            signature: Signature([0; 64]),
        };
        data.push(env.to_bytes()?);
        let invalid =
            shape.invalid_every != 0 && rng.next_u64().is_multiple_of(shape.invalid_every);
        codes.push(if invalid {
            ValidationCode::MvccReadConflict
        } else {
            ValidationCode::Valid
        });
    }
    let mut b = Block::new(number, previous_hash, data);
    b.metadata.validation_codes = codes;
    Ok(b)
}

/// World state as [`replay`] computes it: (namespace, key) → (value,
/// version).
pub type ReplayedState = BTreeMap<(String, Vec<u8>), (Vec<u8>, cryptanet_types::Version)>;

/// World state (namespace, key) → (value, version) after replaying
/// `blocks` in order, computed in memory without RocksDB: the reference
/// the crash test compares the ledger against.
pub fn replay(blocks: &[Block]) -> Result<ReplayedState> {
    let mut state = BTreeMap::new();
    for b in blocks {
        for (i, (bytes, code)) in b.data.iter().zip(&b.metadata.validation_codes).enumerate() {
            if !code.is_valid() {
                continue;
            }
            let (_, prp) = decode_envelope(bytes)?;
            for ns in prp.rwset.ns {
                for w in ns.writes {
                    let k = (ns.namespace.clone(), w.key);
                    match w.value {
                        Some(v) => {
                            state.insert(
                                k,
                                (v, cryptanet_types::Version::new(b.header.number, i as u32)),
                            );
                        }
                        None => {
                            state.remove(&k);
                        }
                    }
                }
            }
        }
    }
    Ok(state)
}
