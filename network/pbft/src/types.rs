//! Small shared vocabulary: replica indices, views, sequence numbers, and the
//! chained state digest that checkpoints agree on.

use cryptanet_types::Digest;

/// Index of a replica in the configured key list (`0..n`).
pub type ReplicaId = u32;
/// A view number; the primary of view `v` is replica `v mod n`.
pub type View = u64;
/// A sequence number; the first batch is ordered at 1.
pub type Seq = u64;

/// Digest of the empty history (sequence number 0).
pub const GENESIS_STATE: Digest = Digest::ZERO;

/// Folds one executed batch into the running state digest:
/// `state_n = SHA3-256(state_{n-1} ‖ n (u64 LE) ‖ batch digest)`.
///
/// Checkpoints certify this digest, so it commits to the whole ordered
/// history up to `seq`; two replicas agree on it iff they executed the same
/// batches in the same order.
pub fn chain_state(previous: &Digest, seq: Seq, batch_digest: &Digest) -> Digest {
    Digest::of_parts(&[&previous.0, &seq.to_le_bytes(), &batch_digest.0])
}

/// Digest of a client request: SHA3-256 of its bytes, the same value as
/// the block's Merkle leaf (`cryptanet_types::block::envelope_hash`).
/// Requests are deduplicated by this value.
pub fn request_digest(payload: &[u8]) -> Digest {
    Digest::of(payload)
}
