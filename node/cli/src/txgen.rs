//! Builds signed, endorsed envelopes without chaincode: the blind-write
//! workload of `cryptanet bench` and the end-to-end tests of ordering and commit.
//!
//! Each transaction is a blind write of its payload under a key derived from
//! its nonce (no reads, so it never conflicts), "endorsed" by the given peer
//! identities signing the response bytes exactly as an endorser would. It
//! exercises every commit-time check except chaincode execution.

use cryptanet_types::identity::LocalIdentity;
use cryptanet_types::Result;
use cryptanet_types::{
    codec, tx::transient_hash, Digest, Endorsement, Envelope, KvWrite, NsRwSet, Proposal,
    ProposalResponsePayload, Response, TxPayload, TxRwSet,
};

/// Namespace the generated transactions write to.
pub const NAMESPACE: &str = "load";

/// A generated transaction.
#[derive(Clone, Debug)]
pub struct GeneratedTx {
    /// Its id.
    pub tx_id: Digest,
    /// The canonical envelope bytes to submit.
    pub envelope: Vec<u8>,
}

/// Builds one transaction writing `payload` under `load/<nonce hex>`.
pub fn blind_write(
    client: &LocalIdentity,
    endorsers: &[&LocalIdentity],
    nonce: [u8; 16],
    payload: Vec<u8>,
    timestamp_ms: u64,
) -> Result<GeneratedTx> {
    let key = format!("k{}", hex_of(&nonce)).into_bytes();
    let proposal = Proposal {
        chaincode: NAMESPACE.into(),
        function: "put".into(),
        args: vec![key.clone()],
        creator: client.cert_der().to_vec(),
        nonce: nonce.to_vec(),
        timestamp_ms,
        transient_hash: transient_hash(&vec![])?,
    };
    let proposal_bytes = codec::encode(&proposal)?;
    let response = ProposalResponsePayload {
        proposal_hash: Digest::of(&proposal_bytes),
        chaincode: NAMESPACE.into(),
        chaincode_sequence: 1,
        rwset: TxRwSet {
            ns: vec![NsRwSet {
                namespace: NAMESPACE.into(),
                writes: vec![KvWrite {
                    key,
                    value: Some(payload),
                }],
                ..Default::default()
            }],
        },
        response: Response {
            status: 200,
            message: String::new(),
            payload: Vec::new(),
        },
        event: None,
    };
    let response_bytes = codec::encode(&response)?;
    let endorsements = endorsers
        .iter()
        .map(|e| Endorsement {
            endorser: e.cert_der().to_vec(),
            signature: e.sign(&response_bytes),
        })
        .collect();
    let payload = TxPayload {
        proposal_signature: client.sign(&proposal_bytes),
        proposal_bytes,
        response_bytes,
        endorsements,
    };
    let payload = codec::encode(&payload)?;
    let envelope = Envelope {
        signature: client.sign(&payload),
        payload,
    };
    Ok(GeneratedTx {
        tx_id: proposal.tx_id(),
        envelope: envelope.to_bytes()?,
    })
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
