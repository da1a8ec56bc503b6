//! Transactions: proposal → endorsements → envelope, as in Fabric.
//!
//! Each signed structure carries the exact bytes that were signed
//! (`*_bytes: Vec<u8>`) rather than the decoded value, so verification never
//! depends on re-encoding.

use crate::codec;
use crate::crypto::{sign, Signature, SigningKey};
use crate::error::Result;
use crate::hash::Digest;
use crate::rwset::TxRwSet;
use serde::{Deserialize, Serialize};

/// What a client asks chaincode to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Chaincode name.
    pub chaincode: String,
    /// Function to invoke.
    pub function: String,
    /// Arguments, opaque to the platform.
    #[serde(with = "crate::wire_bytes::byte_vecs")]
    pub args: Vec<Vec<u8>>,
    /// Creator's X.509 certificate, DER.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub creator: Vec<u8>,
    /// Client-chosen random nonce (at least 16 bytes recommended).
    #[serde(with = "crate::wire_bytes::bytes")]
    pub nonce: Vec<u8>,
    /// Client timestamp, unix milliseconds (informational, not trusted).
    pub timestamp_ms: u64,
    /// Digest of the canonical encoding of the transient map, which travels
    /// beside the proposal and is never written to the ledger.
    pub transient_hash: Digest,
}

impl Proposal {
    /// `tx_id = SHA3-256(nonce ‖ creator)`.
    pub fn tx_id(&self) -> Digest {
        tx_id(&self.nonce, &self.creator)
    }
}

/// Computes a transaction id from nonce and creator certificate.
pub fn tx_id(nonce: &[u8], creator: &[u8]) -> Digest {
    Digest::of_parts(&[nonce, creator])
}

/// Transient data: private inputs for chaincode that never reach the ledger.
pub type Transient = Vec<(String, Vec<u8>)>;

/// Digest of a transient map as committed to by [`Proposal::transient_hash`].
pub fn transient_hash(transient: &Transient) -> Result<Digest> {
    Ok(Digest::of(&codec::encode(transient)?))
}

/// A proposal as sent to endorsers: the encoded proposal, the creator's
/// signature over exactly those bytes, and the transient data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProposal {
    /// Canonical encoding of a [`Proposal`].
    #[serde(with = "crate::wire_bytes::bytes")]
    pub proposal_bytes: Vec<u8>,
    /// Creator's signature over `proposal_bytes`.
    pub signature: Signature,
    /// Transient data, checked against `transient_hash`.
    pub transient: Transient,
}

impl SignedProposal {
    /// Encodes and signs `proposal`.
    pub fn new(proposal: &Proposal, transient: Transient, key: &SigningKey) -> Result<Self> {
        let proposal_bytes = codec::encode(proposal)?;
        let signature = sign(key, &proposal_bytes);
        Ok(SignedProposal {
            proposal_bytes,
            signature,
            transient,
        })
    }

    /// Decodes the proposal (does not check the signature).
    pub fn proposal(&self) -> Result<Proposal> {
        codec::decode(&self.proposal_bytes)
    }
}

/// Chaincode response to an invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// 200 for success, 400/500 style codes otherwise.
    pub status: u32,
    /// Human-readable message.
    pub message: String,
    /// Returned bytes.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub payload: Vec<u8>,
}

/// An event emitted by chaincode (at most one per transaction).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaincodeEvent {
    /// Event name, e.g. `AnomalyDetected`.
    pub name: String,
    /// Event payload.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub payload: Vec<u8>,
}

/// The result of simulating a proposal: what endorsers sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalResponsePayload {
    /// Digest of the proposal bytes this responds to.
    pub proposal_hash: Digest,
    /// Chaincode name.
    pub chaincode: String,
    /// Sequence of the chaincode definition that was executed.
    pub chaincode_sequence: u64,
    /// Reads and writes.
    pub rwset: TxRwSet,
    /// Response returned by the chaincode.
    pub response: Response,
    /// Event set by the chaincode, if any.
    pub event: Option<ChaincodeEvent>,
}

/// An endorser's signature over the exact encoded
/// [`ProposalResponsePayload`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endorsement {
    /// Endorsing peer's certificate, DER.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub endorser: Vec<u8>,
    /// Signature over the response payload bytes.
    pub signature: Signature,
}

/// What an envelope carries: the proposal, the agreed response and the
/// endorsements over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxPayload {
    /// The exact proposal bytes the creator signed.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub proposal_bytes: Vec<u8>,
    /// The creator's signature over `proposal_bytes`.
    pub proposal_signature: Signature,
    /// The exact [`ProposalResponsePayload`] bytes the endorsers signed.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub response_bytes: Vec<u8>,
    /// Endorsements over `response_bytes`.
    pub endorsements: Vec<Endorsement>,
}

/// A transaction as ordered and stored: payload bytes signed by the creator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Canonical encoding of a [`TxPayload`].
    #[serde(with = "crate::wire_bytes::bytes")]
    pub payload: Vec<u8>,
    /// Creator's signature over `payload`.
    pub signature: Signature,
}

impl Envelope {
    /// Encodes and signs `payload`.
    pub fn new(payload: &TxPayload, key: &SigningKey) -> Result<Self> {
        let payload = codec::encode(payload)?;
        let signature = sign(key, &payload);
        Ok(Envelope { payload, signature })
    }

    /// Decodes the payload (no signature checks).
    pub fn decode_payload(&self) -> Result<TxPayload> {
        codec::decode(&self.payload)
    }

    /// Canonical encoding of the envelope: what goes into a block.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        codec::encode(self)
    }

    /// Decodes an envelope from block or network bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        codec::decode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::PublicKey;
    use rand::SeedableRng;

    fn sample(key: &SigningKey) -> (Proposal, Envelope) {
        let proposal = Proposal {
            chaincode: "supply-chain".into(),
            function: "RecordReading".into(),
            args: vec![b"SHP-1".to_vec(), b"4.5".to_vec()],
            creator: b"cert".to_vec(),
            nonce: vec![7; 24],
            timestamp_ms: 1_700_000_000_000,
            transient_hash: transient_hash(&vec![]).unwrap(),
        };
        let sp = SignedProposal::new(&proposal, vec![], key).unwrap();
        let prp = ProposalResponsePayload {
            proposal_hash: Digest::of(&sp.proposal_bytes),
            chaincode: "supply-chain".into(),
            chaincode_sequence: 1,
            rwset: TxRwSet::default(),
            response: Response {
                status: 200,
                message: String::new(),
                payload: vec![],
            },
            event: None,
        };
        let response_bytes = codec::encode(&prp).unwrap();
        let endorsement = Endorsement {
            endorser: b"peer".to_vec(),
            signature: sign(key, &response_bytes),
        };
        let payload = TxPayload {
            proposal_bytes: sp.proposal_bytes.clone(),
            proposal_signature: sp.signature,
            response_bytes,
            endorsements: vec![endorsement],
        };
        (proposal, Envelope::new(&payload, key).unwrap())
    }

    #[test]
    fn envelope_round_trip_and_signature_covers_every_bit() {
        let key = SigningKey::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(3));
        let (proposal, env) = sample(&key);
        let bytes = env.to_bytes().unwrap();
        let back = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(back, env);
        let payload = back.decode_payload().unwrap();
        let p: Proposal = codec::decode(&payload.proposal_bytes).unwrap();
        assert_eq!(p, proposal);
        assert_eq!(p.tx_id(), tx_id(&[7; 24], b"cert"));
        let pk = PublicKey::of(&key);
        pk.verify(&env.payload, &env.signature).unwrap();
        for bit in 0..env.payload.len() * 8 {
            let mut m = env.payload.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            assert!(pk.verify(&m, &env.signature).is_err());
        }
    }
}
