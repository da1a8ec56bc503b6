//! Fetching a batch by digest (TOCS §5.1.4, separate request transmission).
//!
//! PRE-PREPAREs, prepared certificates and NEW-VIEWs certify batch digests,
//! not batches. A replica that accepts a NEW-VIEW re-proposal (or restarts
//! with a persisted PRE-PREPARE) whose batch it does not hold emits
//! `FetchBatch { seq, digest, from }`; the shell asks those replicas and
//! feeds the bytes back as `BatchFetched`. The replica checks them against
//! the digest, and only then PREPAREs (or, as new primary, can relay and
//! execute the batch). A fetch that fails or returns other bytes is
//! repeated on the next status tick.
//!
//! Someone always has the batch: a re-proposed digest comes from a prepared
//! certificate, whose 2f + 1 signers include f + 1 honest replicas that
//! held the batch when they signed (a backup PREPAREs only with the batch in
//! hand) and keep every batch they accepted at that seq until the slot is
//! garbage-collected; after that it is in their ledger.

use super::Replica;
use crate::io::Output;
use crate::types::{ReplicaId, Seq};
use cryptanet_types::Digest;

impl Replica {
    /// Asks the shell for the batch of the PRE-PREPARE accepted at `seq`.
    pub(super) fn fetch_batch(&mut self, seq: Seq) {
        let Some(slot) = self.slots.get(&seq) else {
            return;
        };
        let Some((_, pp)) = &slot.pre_prepare else {
            return;
        };
        if slot.has_batch(&pp.digest) {
            return;
        }
        let mut from: Vec<ReplicaId> = slot
            .fetch_from
            .iter()
            .copied()
            .filter(|r| *r != self.cfg.id)
            .collect();
        for r in 0..self.cfg.n as ReplicaId {
            if r != self.cfg.id && !from.contains(&r) {
                from.push(r);
            }
        }
        self.metrics.batch_fetches += 1;
        self.out.push(Output::FetchBatch {
            seq,
            digest: pp.digest,
            from,
        });
    }

    /// Re-issues a fetch for every undecided PRE-PREPARE of the active view
    /// whose batch is still missing (status tick, restart).
    pub(super) fn fetch_missing(&mut self) {
        if self.changing_to.is_some() {
            return;
        }
        let view = self.view;
        let missing: Vec<Seq> = self
            .slots
            .range(self.last_executed + 1..)
            .filter(|(_, s)| s.decided.is_none() && s.view == view)
            .filter(|(_, s)| {
                s.pre_prepare
                    .as_ref()
                    .is_some_and(|(_, pp)| !s.has_batch(&pp.digest))
            })
            .map(|(seq, _)| *seq)
            .collect();
        for seq in missing {
            self.fetch_batch(seq);
        }
    }

    /// The shell delivers fetched bytes: keep them if they are the batch
    /// some slot is waiting for, then PREPARE it.
    pub(super) fn on_batch_fetched(&mut self, seq: Seq, digest: Digest, batch: Vec<Vec<u8>>) {
        let wanted = self
            .slots
            .get(&seq)
            .and_then(|s| s.pre_prepare.as_ref().map(|(_, pp)| (s, pp.digest)))
            .is_some_and(|(s, d)| d == digest && !s.has_batch(&d) && s.decided.is_none());
        if !wanted || seq <= self.last_executed {
            self.metrics.ignored += 1;
            return;
        }
        if !self.batch_matches(seq, &batch, &digest) {
            self.metrics.bad_inputs += 1;
            return;
        }
        self.metrics.batches_fetched += 1;
        self.hold_batch(seq, digest, batch);
        let active =
            self.slots.get(&seq).is_some_and(|s| s.view == self.view) && self.changing_to.is_none();
        if active {
            self.endorse_slot(seq);
        } else {
            self.persist_slot(seq);
        }
    }
}
