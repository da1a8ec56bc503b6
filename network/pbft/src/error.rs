//! The one error type of this crate.

use crate::types::{ReplicaId, Seq, View};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a message, certificate, configuration or input was rejected.
///
/// Received messages that fail a check are dropped and counted in
/// [`crate::Metrics`]; the variant tells which check failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Encoding or decoding failed (malformed bytes, trailing bytes, too large).
    #[error("codec: {0}")]
    Codec(#[from] cryptanet_types::Error),
    /// The bytes decode but are not the canonical encoding of the value, so a
    /// signature over them could not be reconstructed from the value.
    #[error("message bytes are not in canonical form")]
    NonCanonical,
    /// A REQUEST's attached payloads do not hash to its signed digests.
    #[error("request payloads from replica {replica} do not match their signed digests")]
    RequestDigestMismatch {
        /// The forwarding replica named in the message.
        replica: ReplicaId,
    },
    /// A message of a kind that carries no batch came with one.
    #[error("a {kind} message carries no attachment")]
    UnexpectedAttachment {
        /// The message kind.
        kind: &'static str,
    },
    /// A replica index is not in `0..n`.
    #[error("unknown replica {replica} (n = {n})")]
    UnknownReplica {
        /// The index found.
        replica: ReplicaId,
        /// Number of replicas.
        n: usize,
    },
    /// A signature does not verify against the claimed signer's key.
    #[error("bad signature from replica {replica}")]
    BadSignature {
        /// The claimed signer.
        replica: ReplicaId,
    },
    /// A batch's digest does not match its contents.
    #[error("digest does not match batch at seq {seq}")]
    DigestMismatch {
        /// Sequence number of the batch.
        seq: Seq,
    },
    /// A certificate has fewer distinct valid signers than the quorum needs.
    #[error("{what} has {got} distinct signers, {need} needed")]
    Quorum {
        /// Which certificate.
        what: &'static str,
        /// Distinct valid signers found.
        got: usize,
        /// Signers required.
        need: usize,
    },
    /// A certificate or message mixes values that must match (view, seq, digest).
    #[error("{what} is inconsistent")]
    Inconsistent {
        /// Which certificate or message.
        what: &'static str,
    },
    /// A message was signed by someone other than the replica that must send it
    /// (e.g. a PRE-PREPARE not from the primary of its view).
    #[error("{what} from replica {replica}, which may not send it in view {view}")]
    WrongSender {
        /// Which message.
        what: &'static str,
        /// The signer.
        replica: ReplicaId,
        /// The view concerned.
        view: View,
    },
    /// A NEW-VIEW's pre-prepares differ from those recomputed from its view changes.
    #[error("new-view {view} re-proposes the wrong batches")]
    BadNewView {
        /// The view being installed.
        view: View,
    },
    /// The configuration is not usable.
    #[error("bad configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: &'static str,
    },
    /// A client request was refused (empty, or larger than a batch may be).
    #[error("request of {len} bytes refused (limit {limit})")]
    RequestSize {
        /// Size of the request.
        len: usize,
        /// Maximum accepted size.
        limit: usize,
    },
}
