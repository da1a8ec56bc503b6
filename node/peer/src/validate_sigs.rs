//! Batch pre-verification of a block's signatures (the creator's envelope
//! signature and every endorsement) before the in-order checks.
//!
//! Transactions are taken in chunks of [`CHUNK_TXS`]; a chunk whose
//! signatures all verify in one batch ([`cryptanet_types::crypto::verify_batch`])
//! is marked verified, and validation then checks only the certificates of
//! its signers. A chunk that fails (or a transaction whose signers cannot
//! be identified) is left unmarked: validation verifies its signatures one
//! by one, which finds the culprit and gives it the code it always had.

use crate::validate::Decoded;
use cryptanet_types::crypto::verify_batch;
use cryptanet_types::identity::{Role, Verifier};
use cryptanet_types::{PublicKey, Signature};

/// Transactions per batch: with ~3 signatures each, batches of ~64.
pub(crate) const CHUNK_TXS: usize = 21;

/// One flag per transaction: true if all its signatures verified in a batch.
pub(crate) fn preverify(decoded: &[Option<Decoded>], verifier: &Verifier) -> Vec<bool> {
    let mut verified = vec![false; decoded.len()];
    let mut start = 0;
    while start < decoded.len() {
        let end = (start + CHUNK_TXS).min(decoded.len());
        let mut items: Vec<(&[u8], &Signature, PublicKey)> = Vec::new();
        let mut members = Vec::new();
        for (i, d) in decoded.iter().enumerate().take(end).skip(start) {
            if let Some(d) = d {
                if push_signatures(d, verifier, &mut items) {
                    members.push(i);
                }
            }
        }
        let refs: Vec<(&[u8], &Signature, &PublicKey)> =
            items.iter().map(|(m, s, k)| (*m, *s, k)).collect();
        if !refs.is_empty() && verify_batch(&refs).is_ok() {
            for i in members {
                verified[i] = true;
            }
        }
        start = end;
    }
    verified
}

/// Adds the signatures of `d` to `items`, unless a signer cannot be
/// identified (then the transaction is left to the one-by-one path).
fn push_signatures<'a>(
    d: &'a Decoded,
    verifier: &Verifier,
    items: &mut Vec<(&'a [u8], &'a Signature, PublicKey)>,
) -> bool {
    let now = (d.proposal.timestamp_ms / 1000) as i64;
    let Ok(creator) = verifier.public_key(&d.proposal.creator, None, now) else {
        return false;
    };
    let mut mine = vec![(d.envelope.payload.as_slice(), &d.envelope.signature, creator)];
    for e in &d.payload.endorsements {
        let Ok(peer) = verifier.public_key(&e.endorser, Some(Role::Peer), now) else {
            return false;
        };
        mine.push((d.payload.response_bytes.as_slice(), &e.signature, peer));
    }
    items.extend(mine);
    true
}
