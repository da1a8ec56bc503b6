//! What a validated block does to the ledger: per transaction, its id, its
//! validation code and (for valid transactions) its writes.
//!
//! Derived from the block's envelope bytes and metadata alone, so every peer
//! derives the same effects from the same block, and recovery can replay
//! them.

use crate::error::Result;
use cryptanet_types::{
    codec, tx::tx_id, Block, Digest, Envelope, KvWrite, Proposal, ProposalResponsePayload,
    TxPayload, ValidationCode,
};

/// The effect of one transaction of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxEffect {
    /// Index within the block.
    pub index: u32,
    /// Transaction id, None when the envelope could not be decoded.
    pub tx_id: Option<Digest>,
    /// Validation code from the block metadata.
    pub code: ValidationCode,
    /// Writes to apply, `(namespace, write)`; empty unless `code` is Valid.
    pub writes: Vec<(String, KvWrite)>,
}

/// Decodes the transaction id and read/write set of one envelope.
pub fn decode_envelope(bytes: &[u8]) -> Result<(Digest, ProposalResponsePayload)> {
    let env = Envelope::from_bytes(bytes)?;
    let payload: TxPayload = codec::decode(&env.payload)?;
    let proposal: Proposal = codec::decode(&payload.proposal_bytes)?;
    let prp: ProposalResponsePayload = codec::decode(&payload.response_bytes)?;
    Ok((tx_id(&proposal.nonce, &proposal.creator), prp))
}

/// Effects of every transaction in `block`, in order. Envelopes marked
/// valid must decode; an undecodable valid envelope is an error (the
/// validator should have marked it `BadPayload`).
pub fn block_effects(block: &Block) -> Result<Vec<TxEffect>> {
    block.check_integrity()?;
    let mut out = Vec::with_capacity(block.data.len());
    for (i, (bytes, code)) in block
        .data
        .iter()
        .zip(block.metadata.validation_codes.iter())
        .enumerate()
    {
        let index = i as u32;
        let code = *code;
        match decode_envelope(bytes) {
            Ok((id, prp)) => {
                let writes = if code.is_valid() {
                    prp.rwset
                        .ns
                        .into_iter()
                        .flat_map(|ns| {
                            let name = ns.namespace;
                            ns.writes.into_iter().map(move |w| (name.clone(), w))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                out.push(TxEffect {
                    index,
                    tx_id: Some(id),
                    code,
                    writes,
                });
            }
            Err(e) if code.is_valid() => return Err(e),
            Err(_) => out.push(TxEffect {
                index,
                tx_id: None,
                code,
                writes: Vec::new(),
            }),
        }
    }
    Ok(out)
}
