//! Fetching PBFT batches by digest for the replica (`Output::FetchBatch`),
//! and serving them to other replicas.
//!
//! After a view change, a replica may hold a re-proposed PRE-PREPARE (a
//! digest) without the batch. The engine asks the replicas the core names,
//! in turn, over the p2p protocol `/cryptanet/batch/1`; an answer counts
//! only if it hashes to the digest. A peer answers from its replica (batches
//! it accepted and has not garbage-collected) or, for executed batches, from
//! its ledger (block `seq` with that data hash).

use crate::error::Result;
use cryptanet_p2p::{PeerIndex, Transport};
use cryptanet_pbft::persist::BatchBytes;
use cryptanet_pbft::Seq;
use cryptanet_types::block::data_hash;
use cryptanet_types::{codec, Digest};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// "Send me the batch with digest `digest` that you hold for `seq`."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// Sequence number (block number once executed).
    pub seq: Seq,
    /// `data_hash` of the batch.
    pub digest: Digest,
}

/// Encodes a request.
pub fn encode_request(request: &BatchRequest) -> Result<Vec<u8>> {
    Ok(codec::encode(request)?)
}

/// Decodes a request.
pub fn decode_request(bytes: &[u8]) -> Result<BatchRequest> {
    Ok(codec::decode(bytes)?)
}

/// Encodes a batch for the wire.
pub fn encode_batch(batch: Vec<Vec<u8>>) -> Result<Vec<u8>> {
    Ok(codec::encode(&BatchBytes(batch))?)
}

/// Decodes an answer and keeps it only if it is the batch of `digest`.
pub fn check_answer(bytes: &[u8], digest: &Digest) -> Option<Vec<Vec<u8>>> {
    let BatchBytes(batch) = codec::decode(bytes).ok()?;
    (data_hash(&batch) == *digest).then_some(batch)
}

/// Asks each of `from` in turn until one answers with the batch of
/// `request.digest`. `None` if nobody did (the replica asks again later).
pub async fn fetch(
    transport: Arc<dyn Transport>,
    from: Vec<u32>,
    request: BatchRequest,
) -> Option<Vec<Vec<u8>>> {
    let bytes = encode_request(&request).ok()?;
    for peer in from {
        match transport
            .request_batch(PeerIndex(peer), bytes.clone())
            .await
        {
            Ok(answer) => match check_answer(&answer, &request.digest) {
                Some(batch) => {
                    tracing::info!(seq = request.seq, peer, "batch fetched");
                    return Some(batch);
                }
                None => tracing::warn!(
                    seq = request.seq,
                    peer,
                    "fetched bytes are not the batch asked for; dropped"
                ),
            },
            Err(e) => tracing::debug!(seq = request.seq, peer, error = %e, "batch fetch failed"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_only_when_they_match_the_digest() {
        let batch = vec![b"tx1".to_vec(), b"tx2".to_vec()];
        let digest = data_hash(&batch);
        let wire = encode_batch(batch.clone()).unwrap();
        assert_eq!(check_answer(&wire, &digest), Some(batch.clone()));
        let other = encode_batch(vec![b"tx1".to_vec()]).unwrap();
        assert_eq!(check_answer(&other, &digest), None);
        assert_eq!(check_answer(&[0xff, 1, 2], &digest), None);
        // Same bytes as the generic codec of a Vec<Vec<u8>>.
        assert_eq!(wire, codec::encode(&batch).unwrap());
        let r = BatchRequest { seq: 9, digest };
        assert_eq!(decode_request(&encode_request(&r).unwrap()).unwrap(), r);
    }
}
