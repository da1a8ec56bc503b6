//! Counters a shell can export. They never influence protocol decisions.

use crate::error::Error;

/// Event counters of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Messages dropped because they failed decoding, canonical-form or
    /// signature checks.
    pub invalid_signature_or_encoding: u64,
    /// Messages dropped because their content is invalid (bad certificate,
    /// wrong sender, digest mismatch, bad NEW-VIEW).
    pub invalid_content: u64,
    /// Valid messages ignored as stale (old view, below the low watermark,
    /// already known) or outside the window.
    pub ignored: u64,
    /// A second, different PRE-PREPARE for an occupied (view, seq), or a
    /// second, different vote from the same replica.
    pub equivocations_seen: u64,
    /// Client requests refused (size limits).
    pub requests_refused: u64,
    /// Requests dropped as duplicates (already pending or executed).
    pub requests_duplicate: u64,
    /// Forwarded requests relayed to every replica because the primary had
    /// not proposed them when the request timer fired.
    pub requests_relayed: u64,
    /// Batches delivered.
    pub batches_committed: u64,
    /// View changes this replica started.
    pub view_changes_started: u64,
    /// Views installed.
    pub views_installed: u64,
    /// Checkpoints that became stable.
    pub checkpoints_stable: u64,
    /// State transfers requested.
    pub state_transfers: u64,
    /// Batches asked for with `FetchBatch` (each attempt counts).
    pub batch_fetches: u64,
    /// Fetched batches accepted (they matched the digest).
    pub batches_fetched: u64,
    /// Inputs that made no sense in the current state (e.g. an unrequested
    /// state transfer, or fetched bytes that do not match their digest).
    pub bad_inputs: u64,
}

impl Metrics {
    /// Counts a dropped message by the kind of error.
    pub(crate) fn dropped(&mut self, error: &Error) {
        match error {
            Error::Codec(_)
            | Error::NonCanonical
            | Error::UnexpectedAttachment { .. }
            | Error::RequestDigestMismatch { .. }
            | Error::UnknownReplica { .. }
            | Error::BadSignature { .. } => self.invalid_signature_or_encoding += 1,
            _ => self.invalid_content += 1,
        }
    }
}
