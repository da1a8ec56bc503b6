//! Normal-case operation (TOCS §4.2): PRE-PREPARE, PREPARE, COMMIT, and
//! in-order delivery.
//!
//! - A backup accepts a PRE-PREPARE for (v, n) from the primary of v if it is
//!   in view v, n is within the watermarks and it has not accepted a
//!   different one for (v, n). The PRE-PREPARE certifies the batch digest;
//!   the batch arrives beside it (a PROPOSAL) or, for a NEW-VIEW
//!   re-proposal, is fetched (`fetch.rs`). With the batch at hand the
//!   backup persists the slot, batch included, then sends PREPARE: an
//!   honest replica never votes for a batch it cannot hand out.
//! - With the PRE-PREPARE and 2f matching PREPAREs from distinct backups the
//!   replica is *prepared*: it persists the prepared certificate, then sends
//!   COMMIT.
//! - With 2f + 1 matching COMMITs (and the batch) the batch is decided; it is
//!   delivered once every lower sequence number has been.

use super::slot::Slot;
use super::Replica;
use crate::cert::{check_pre_prepare, PreparedCert};
use crate::error::Error;
use crate::io::{CommittedBatch, Output};
use crate::message::{Decided, Message, PrePrepare, Proposal, SignedMessage, Vote};
use crate::persist::{BatchBytes, PersistOp, SlotRecord};
use crate::types::{chain_state, request_digest, ReplicaId, Seq};
use cryptanet_types::Digest;

impl Replica {
    /// A PRE-PREPARE with its batch: check the inner signature, the sender
    /// and that the batch hashes to the certified digest.
    pub(super) fn on_proposal(&mut self, outer: SignedMessage, p: Proposal) {
        let pp = match p.pre_prepare.open_with(&self.keys, &*self.check) {
            Ok(Message::PrePrepare(pp)) => pp,
            Ok(_) => {
                return self.metrics.dropped(&Error::Inconsistent {
                    what: "proposal (not a pre-prepare)",
                })
            }
            Err(e) => return self.metrics.dropped(&e),
        };
        let cfg = self.cfg.clone();
        if let Err(e) = check_pre_prepare(&pp, &|v| cfg.primary(v)) {
            return self.metrics.dropped(&e);
        }
        match self.normal_case_gate(pp.view) {
            Some(true) => {}
            Some(false) => return self.defer(outer, Message::Proposal(p)),
            None => return,
        }
        if !self.in_window(pp.seq) {
            self.metrics.ignored += 1;
            return;
        }
        if !self.batch_matches(pp.seq, &p.batch, &pp.digest) {
            return self.metrics.dropped(&Error::DigestMismatch { seq: pp.seq });
        }
        self.accept_pre_prepare(p.pre_prepare, pp, Some(p.batch), Vec::new());
    }

    /// Accepts a checked PRE-PREPARE of the active view. With its batch at
    /// hand: persist the slot (batch included), then PREPARE. Without it
    /// (a NEW-VIEW re-proposal): ask the shell to fetch it from `fetch_from`
    /// and PREPARE once it arrives; a primary persists the slot at once, so
    /// that it never re-uses the sequence number.
    pub(super) fn accept_pre_prepare(
        &mut self,
        m: SignedMessage,
        pp: PrePrepare,
        batch: Option<Vec<Vec<u8>>>,
        fetch_from: Vec<ReplicaId>,
    ) {
        let seq = pp.seq;
        let slot = self.slots.entry(seq).or_insert_with(|| Slot::new(pp.view));
        if let Some((_, old)) = &slot.pre_prepare {
            let same = slot.view == pp.view && old.digest == pp.digest;
            if same && !slot.has_batch(&pp.digest) {
                if let Some(batch) = batch {
                    // The batch we were fetching, relayed with its PRE-PREPARE.
                    self.hold_batch(seq, pp.digest, batch);
                    self.endorse_slot(seq);
                    return;
                }
            }
            if slot.view > pp.view || same {
                self.metrics.ignored += 1;
                return;
            }
            if slot.view == pp.view {
                self.metrics.equivocations_seen += 1;
                return;
            }
        }
        slot.view = pp.view;
        slot.commit_sent = false;
        slot.pre_prepare = Some((m, pp));
        slot.fetch_from = fetch_from;
        if let Some(batch) = batch {
            self.hold_batch(seq, pp.digest, batch);
        }
        if self
            .slots
            .get(&seq)
            .is_some_and(|s| s.has_batch(&pp.digest))
        {
            self.endorse_slot(seq);
            return;
        }
        if self.cfg.primary(pp.view) == self.cfg.id {
            self.persist_slot(seq);
        }
        self.fetch_batch(seq);
    }

    /// The accepted PRE-PREPARE at `seq` now has its batch: persist the slot,
    /// then a backup broadcasts its PREPARE.
    pub(super) fn endorse_slot(&mut self, seq: Seq) {
        let Some(pp) = self
            .slots
            .get(&seq)
            .and_then(|s| s.pre_prepare.as_ref())
            .map(|(_, pp)| *pp)
        else {
            return;
        };
        self.persist_slot(seq);
        if self.cfg.primary(pp.view) != self.cfg.id {
            let vote = Vote {
                view: pp.view,
                seq,
                digest: pp.digest,
                replica: self.cfg.id,
            };
            if let Some(sm) = self.broadcast(&Message::Prepare(vote)) {
                if let Some(slot) = self.slots.get_mut(&seq) {
                    slot.prepares.insert(self.cfg.id, (pp.digest, sm));
                }
            }
        }
        self.check_prepared(seq);
        self.check_committed(seq);
    }

    /// Emits `Persist(Slot)` with what the slot at `seq` holds now.
    pub(super) fn persist_slot(&mut self, seq: Seq) {
        let Some(slot) = self.slots.get(&seq) else {
            return;
        };
        let Some((m, pp)) = &slot.pre_prepare else {
            return;
        };
        let record = SlotRecord {
            seq,
            view: slot.view,
            digest: pp.digest,
            pre_prepare: m.clone(),
            prepared: slot.prepared.clone(),
            commit_sent: slot.commit_sent,
        };
        self.out.push(Output::Persist(PersistOp::Slot(record)));
    }

    /// Holds `batch` (data hash `digest`) at `seq` and, if it is new there,
    /// emits `Persist(Batch)`: each batch is written once, however often
    /// its slot record is rewritten.
    pub(super) fn hold_batch(&mut self, seq: Seq, digest: Digest, batch: Vec<Vec<u8>>) {
        let Some(slot) = self.slots.get_mut(&seq) else {
            return;
        };
        if slot.has_batch(&digest) {
            return;
        }
        self.out.push(Output::Persist(PersistOp::Batch {
            seq,
            digest,
            batch: BatchBytes(batch.clone()),
        }));
        slot.batches.insert(digest, batch);
    }

    pub(super) fn on_prepare(&mut self, m: SignedMessage, v: Vote) {
        if v.replica == self.cfg.primary(v.view) {
            let e = Error::WrongSender {
                what: "prepare",
                replica: v.replica,
                view: v.view,
            };
            return self.metrics.dropped(&e);
        }
        match self.normal_case_gate(v.view) {
            Some(true) => {}
            Some(false) => return self.defer(m, Message::Prepare(v)),
            None => return,
        }
        if !self.in_window(v.seq) {
            self.metrics.ignored += 1;
            return;
        }
        let view = self.view;
        let slot = self.slots.entry(v.seq).or_insert_with(|| Slot::new(view));
        match slot.prepares.get(&v.replica) {
            Some((d, _)) if *d != v.digest => self.metrics.equivocations_seen += 1,
            Some(_) => self.metrics.ignored += 1,
            None => {
                slot.prepares.insert(v.replica, (v.digest, m));
                self.check_prepared(v.seq);
            }
        }
    }

    /// Prepared: PRE-PREPARE plus 2f matching PREPAREs from backups.
    fn check_prepared(&mut self, seq: Seq) {
        let view = self.view;
        let primary = self.cfg.primary(view);
        let need = 2 * self.cfg.f();
        let Some(slot) = self.slots.get_mut(&seq) else {
            return;
        };
        let Some(digest) = slot.ready_digest_in(view) else {
            return;
        };
        if slot.commit_sent || self.changing_to.is_some() {
            return;
        }
        let prepares: Vec<SignedMessage> = slot
            .prepares
            .iter()
            .filter(|(r, (d, _))| **r != primary && *d == digest)
            .map(|(_, (_, m))| m.clone())
            .take(need)
            .collect();
        if prepares.len() < need {
            return;
        }
        let Some((pp_msg, _)) = slot.pre_prepare.clone() else {
            return;
        };
        slot.prepared = Some(PreparedCert {
            pre_prepare: pp_msg,
            prepares,
        });
        slot.commit_sent = true;
        self.persist_slot(seq);
        let vote = Vote {
            view,
            seq,
            digest,
            replica: self.cfg.id,
        };
        if let Some(sm) = self.broadcast(&Message::Commit(vote)) {
            if let Some(slot) = self.slots.get_mut(&seq) {
                slot.commits.insert(self.cfg.id, (digest, sm));
            }
        }
        self.check_committed(seq);
    }

    pub(super) fn on_commit(&mut self, m: SignedMessage, v: Vote) {
        match self.normal_case_gate(v.view) {
            Some(true) => {}
            Some(false) => return self.defer(m, Message::Commit(v)),
            None => return,
        }
        if !self.in_window(v.seq) {
            self.metrics.ignored += 1;
            return;
        }
        let view = self.view;
        let slot = self.slots.entry(v.seq).or_insert_with(|| Slot::new(view));
        match slot.commits.get(&v.replica) {
            Some((d, _)) if *d != v.digest => self.metrics.equivocations_seen += 1,
            Some(_) => self.metrics.ignored += 1,
            None => {
                slot.commits.insert(v.replica, (v.digest, m));
                self.check_committed(v.seq);
            }
        }
    }

    /// Decided: 2f + 1 matching COMMITs of the active view and the batch.
    fn check_committed(&mut self, seq: Seq) {
        let view = self.view;
        let quorum = self.cfg.commit_quorum();
        let Some(slot) = self.slots.get_mut(&seq) else {
            return;
        };
        if slot.decided.is_some() {
            return;
        }
        let Some(digest) = slot.ready_digest_in(view) else {
            return;
        };
        let Some(cert) = slot.commit_certificate(view, seq, digest, quorum) else {
            return;
        };
        let Some(batch) = slot.batch(&digest) else {
            return;
        };
        slot.decided = Some((batch, cert));
        self.try_execute();
    }

    /// A batch decided elsewhere, proven by its commit certificate.
    pub(super) fn on_decided(&mut self, d: Decided) {
        let seq = d.certificate.seq;
        let horizon = self.stable.seq.max(self.last_executed) + self.cfg.watermark_window;
        if seq <= self.last_executed || seq <= self.stable.seq || seq > horizon {
            self.metrics.ignored += 1;
            return;
        }
        if self.slots.get(&seq).is_some_and(|s| s.decided.is_some()) {
            self.metrics.ignored += 1;
            return;
        }
        if !self.batch_matches(seq, &d.batch, &d.certificate.digest) {
            return self.metrics.dropped(&Error::DigestMismatch { seq });
        }
        if let Err(e) = d
            .certificate
            .verify_with(&self.keys, self.cfg.f(), &*self.check)
        {
            return self.metrics.dropped(&e);
        }
        let view = self.view;
        let slot = self.slots.entry(seq).or_insert_with(|| Slot::new(view));
        slot.decided = Some((d.batch, d.certificate));
        self.try_execute();
    }

    /// Delivers decided batches in sequence order.
    pub(super) fn try_execute(&mut self) {
        if self.awaiting_state.is_some() {
            return;
        }
        let mut progressed = false;
        loop {
            let seq = self.last_executed + 1;
            let Some((batch, cert)) = self.slots.get(&seq).and_then(|s| s.decided.clone()) else {
                break;
            };
            self.state = chain_state(&self.state, seq, &cert.digest);
            self.last_executed = seq;
            let digests = match self.leaves.remove(&(seq, cert.digest)) {
                Some(leaves) => leaves,
                None => batch.iter().map(|p| request_digest(p)).collect(),
            };
            self.leaves = self
                .leaves
                .split_off(&(seq + 1, cryptanet_types::Digest([0; 32])));
            for d in &digests {
                self.requests.mark_executed(*d);
            }
            self.metrics.batches_committed += 1;
            self.out.push(Output::Commit(CommittedBatch {
                seq,
                batch,
                digests,
                certificate: cert,
            }));
            self.out.push(Output::Persist(PersistOp::Executed {
                seq,
                state: self.state,
            }));
            progressed = true;
            if seq.is_multiple_of(self.cfg.checkpoint_interval) {
                self.send_checkpoint(seq);
            }
        }
        if progressed {
            if self.changing_to.is_none() {
                self.vc_attempts = 0;
                self.idle_views = 0;
            }
            self.reset_request_timer(true);
        }
    }
}
