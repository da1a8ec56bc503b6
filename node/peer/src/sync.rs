//! Block sync: serving blocks to peers that are behind, and fetching the
//! blocks this peer missed.
//!
//! A fetched block is trusted only through its commit certificate: the
//! certificate must be for the block's number, carry the block's data hash
//! as its digest, and hold 2f + 1 valid COMMIT signatures of the network's
//! replicas; the block must pass its own integrity check and chain to the
//! previous block. Validation codes in a fetched block are ignored: the
//! engine re-validates every block against its own ledger.

use crate::error::{Error, Result};
use cryptanet_p2p::{PeerIndex, SyncRequest, Transport};
use cryptanet_pbft::CommitCertificate;
use cryptanet_types::{codec, Block, Digest, PublicKey};
use std::sync::Arc;

/// Most blocks requested or served in one sync round trip.
pub const MAX_BLOCKS_PER_REQUEST: u32 = 32;

/// Encodes the reply to a sync request: consecutive stored blocks from
/// `from_block`, at most `max_count`, and at most `max_bytes` in total
/// (always at least one block if there is one).
pub fn serve(
    read_block: impl Fn(u64) -> Result<Option<Vec<u8>>>,
    request: SyncRequest,
    max_bytes: usize,
) -> Result<Vec<u8>> {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let count = request.max_count.min(MAX_BLOCKS_PER_REQUEST) as u64;
    for n in request.from_block..request.from_block.saturating_add(count) {
        let Some(b) = read_block(n)? else { break };
        total += b.len() + 8;
        if !blocks.is_empty() && total > max_bytes {
            break;
        }
        blocks.push(b);
    }
    Ok(codec::encode(&blocks)?)
}

/// Checks a block received from `from` that should follow `previous_hash`
/// at `number`.
pub fn verify_block(
    block: &Block,
    number: u64,
    previous_hash: &Digest,
    keys: &[PublicKey],
    f: usize,
    from: u32,
) -> Result<()> {
    let bad = |reason: String| Error::BadSyncedBlock {
        number,
        from,
        reason,
    };
    if block.header.number != number {
        return Err(bad(format!("has number {}", block.header.number)));
    }
    if &block.header.previous_hash != previous_hash {
        return Err(bad("does not chain to our last block".into()));
    }
    block.check_integrity().map_err(|e| bad(e.to_string()))?;
    let cert = CommitCertificate::decode(&block.metadata.commit_certificate)
        .map_err(|e| bad(e.to_string()))?;
    if cert.seq != number || cert.digest != block.header.data_hash {
        return Err(bad("commit certificate is for another block".into()));
    }
    cert.verify(keys, f)
        .map_err(|e| bad(format!("commit certificate: {e}")))?;
    Ok(())
}

/// Fetches and verifies blocks `height + 1 ..= target` from the other
/// peers, trying each in turn. Returns the verified blocks in order (fewer
/// than asked if no peer had them).
// The network (transport, me, n, keys, f) and the chain position (height,
// last hash, target) are passed apart; grouping them would only move the
// list into two single-use structs.
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    transport: Arc<dyn Transport>,
    me: u32,
    n: usize,
    keys: Vec<PublicKey>,
    f: usize,
    mut height: u64,
    mut last_hash: Digest,
    target: u64,
) -> Vec<Block> {
    let mut out = Vec::new();
    let mut peer = (me as usize + 1) % n;
    let mut failures = 0usize;
    while height < target && failures < 3 * n {
        if peer == me as usize {
            peer = (peer + 1) % n;
            continue;
        }
        let req = SyncRequest {
            from_block: height + 1,
            max_count: MAX_BLOCKS_PER_REQUEST,
        };
        let got = match transport.request_blocks(PeerIndex(peer as u32), req).await {
            Ok(bytes) => decode_reply(&bytes),
            Err(e) => Err(Error::P2p(e)),
        };
        let mut progressed = false;
        match got {
            Ok(blocks) => {
                for b in blocks {
                    match verify_block(&b, height + 1, &last_hash, &keys, f, peer as u32) {
                        Ok(()) => {
                            height += 1;
                            last_hash = b.hash();
                            out.push(b);
                            progressed = true;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "rejected synced block");
                            break;
                        }
                    }
                    if height >= target {
                        break;
                    }
                }
            }
            Err(e) => tracing::debug!(peer, error = %e, "block sync request failed"),
        }
        if !progressed {
            failures += 1;
            peer = (peer + 1) % n;
        }
    }
    out
}

fn decode_reply(bytes: &[u8]) -> Result<Vec<Block>> {
    let raw: Vec<Vec<u8>> = codec::decode(bytes)?;
    raw.iter().map(|b| Ok(Block::from_bytes(b)?)).collect()
}
