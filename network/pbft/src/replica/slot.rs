//! The per-sequence-number log entry.

use crate::cert::{CommitCertificate, PreparedCert};
use crate::message::{PrePrepare, SignedMessage};
use crate::types::{ReplicaId, View};
use cryptanet_types::Digest;
use std::collections::BTreeMap;

/// Digest of the null (empty) batch.
pub(super) fn null_digest() -> Digest {
    cryptanet_types::block::data_hash(&[])
}

/// What a replica knows about one sequence number.
pub(super) struct Slot {
    /// View of `pre_prepare` (and of the votes below).
    pub view: View,
    /// The PRE-PREPARE accepted in `view`.
    pub pre_prepare: Option<(SignedMessage, PrePrepare)>,
    /// PREPAREs of the active view, one per replica (first one wins).
    pub prepares: BTreeMap<ReplicaId, (Digest, SignedMessage)>,
    /// COMMITs of the active view, one per replica.
    pub commits: BTreeMap<ReplicaId, (Digest, SignedMessage)>,
    /// Whether this replica sent a COMMIT for `pre_prepare`.
    pub commit_sent: bool,
    /// Highest-view prepared certificate; survives view changes.
    pub prepared: Option<PreparedCert>,
    /// The decided batch and its certificate, once known.
    pub decided: Option<(Vec<Vec<u8>>, crate::cert::CommitCertificate)>,
    /// Batches held for this seq by digest: every batch accepted here in
    /// any view (a later view may re-propose any of them), kept until the
    /// slot is garbage-collected.
    pub batches: BTreeMap<Digest, Vec<Vec<u8>>>,
    /// Whom to ask for the batch of `pre_prepare` while it is missing.
    pub fetch_from: Vec<ReplicaId>,
}

impl Slot {
    pub fn new(view: View) -> Slot {
        Slot {
            view,
            pre_prepare: None,
            prepares: BTreeMap::new(),
            commits: BTreeMap::new(),
            commit_sent: false,
            prepared: None,
            decided: None,
            batches: BTreeMap::new(),
            fetch_from: Vec::new(),
        }
    }

    /// Whether the batch of digest `digest` is at hand (the null batch
    /// always is).
    pub fn has_batch(&self, digest: &Digest) -> bool {
        self.batches.contains_key(digest)
            || *digest == null_digest()
            || self
                .decided
                .as_ref()
                .is_some_and(|(_, c)| c.digest == *digest)
    }

    /// The batch of digest `digest`, if at hand.
    pub fn batch(&self, digest: &Digest) -> Option<Vec<Vec<u8>>> {
        if let Some(b) = self.batches.get(digest) {
            return Some(b.clone());
        }
        if let Some((b, c)) = &self.decided {
            if c.digest == *digest {
                return Some(b.clone());
            }
        }
        (*digest == null_digest()).then(Vec::new)
    }

    /// Digest of the accepted PRE-PREPARE of `view` if its batch is at hand.
    pub fn ready_digest_in(&self, view: View) -> Option<Digest> {
        self.digest_in(view).filter(|d| self.has_batch(d))
    }

    /// Digest of the accepted PRE-PREPARE if it belongs to `view`.
    pub fn digest_in(&self, view: View) -> Option<Digest> {
        match &self.pre_prepare {
            Some((_, pp)) if self.view == view => Some(pp.digest),
            _ => None,
        }
    }

    /// Builds a commit certificate if `quorum` COMMITs match `digest`.
    pub fn commit_certificate(
        &self,
        view: View,
        seq: u64,
        digest: Digest,
        quorum: usize,
    ) -> Option<CommitCertificate> {
        let commits: Vec<_> = self
            .commits
            .iter()
            .filter(|(_, (d, _))| *d == digest)
            .map(|(r, (_, m))| (*r, m.signature))
            .collect();
        (commits.len() >= quorum).then_some(CommitCertificate {
            view,
            seq,
            digest,
            commits,
        })
    }
}
