//! Batch pre-verification of a block's signatures (the creator's envelope
//! signature and every endorsement) before the in-order checks.
//!
//! Transactions are taken in chunks of about [`CHUNK_SIGNATURES`]
//! signatures; a chunk whose signatures all verify in one batch
//! ([`cryptanet_types::crypto::verify_groups`]) is marked verified, and
//! validation then checks only the certificates of its signers. A chunk
//! that fails is split in halves, each batch-verified again, down to single
//! transactions; a transaction that fails alone (or whose signers cannot
//! be identified) is left unmarked: validation verifies its signatures one
//! by one, which finds the culprit and gives it the code it always had.
//! One bad transaction in a chunk of n costs about 2·log2(n) smaller
//! batches instead of n·3 single verifications.
//!
//! Signatures this peer already checked (as a gateway) or made (as an
//! endorser) are recalled from [`cryptanet_types::crypto::seen`] instead of
//! verified again; the rest of the transaction's signatures are batched as
//! above. The verdicts are the same either way (one verification rule).
//!
//! Chunk size: `identity_bench` on the 2-core EPYC VM (2026-11-25) gives
//! 43.7 µs for one `verify_strict`, and per signature 20.9 µs in batches of
//! 64, 16.9 µs in batches of 256, 15.6 µs in batches of 1024.

use crate::validate::Decoded;
use cryptanet_types::crypto::{seen, verify_groups};
use cryptanet_types::identity::{Role, Verifier};
use cryptanet_types::{PublicKey, Signature};

/// Signatures per batch (whole transactions; ~85 of 3 signatures each).
pub(crate) const CHUNK_SIGNATURES: usize = cryptanet_types::crypto::BATCH_SIGNATURES;

/// One flag per transaction: true if all its signatures verified in a batch
/// or were recalled as verified before.
pub(crate) fn preverify(decoded: &[Option<Decoded>], verifier: &Verifier) -> Vec<bool> {
    let mut verified = vec![false; decoded.len()];
    // Each identifiable transaction with the range of its signatures.
    let mut items: Vec<(&[u8], &Signature, PublicKey)> = Vec::new();
    let mut txs: Vec<usize> = Vec::new();
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, d) in decoded.iter().enumerate() {
        let start = items.len();
        if let Some(d) = d {
            if push_signatures(d, verifier, &mut items) {
                if items.len() == start {
                    verified[i] = true;
                } else {
                    txs.push(i);
                    groups.push(start..items.len());
                }
            }
        }
    }
    let refs: Vec<(&[u8], &Signature, &PublicKey)> =
        items.iter().map(|(m, s, k)| (*m, *s, k)).collect();
    let ok = verify_groups(&refs, &groups, CHUNK_SIGNATURES);
    for (i, ok) in txs.into_iter().zip(ok) {
        verified[i] = ok;
    }
    verified
}

/// Adds the signatures of `d` that this peer does not remember verifying to
/// `items`, unless a signer cannot be identified (then the transaction is
/// left to the one-by-one path and `false` returned).
fn push_signatures<'a>(
    d: &'a Decoded,
    verifier: &Verifier,
    items: &mut Vec<(&'a [u8], &'a Signature, PublicKey)>,
) -> bool {
    let now = (d.proposal.timestamp_ms / 1000) as i64;
    let Ok(creator) = verifier.public_key(&d.proposal.creator, None, now) else {
        return false;
    };
    let mut mine = vec![(
        d.envelope.payload.as_slice(),
        &d.envelope.signature,
        creator,
    )];
    for e in &d.payload.endorsements {
        let Ok(peer) = verifier.public_key(&e.endorser, Some(Role::Peer), now) else {
            return false;
        };
        mine.push((d.payload.response_bytes.as_slice(), &e.signature, peer));
    }
    items.extend(mine.into_iter().filter(|(m, s, k)| !seen::recall(m, s, k)));
    true
}
