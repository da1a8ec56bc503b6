//! NEW-VIEW (TOCS §4.4): the new primary's announcement and its check.
//!
//! From 2f + 1 VIEW-CHANGEs for view v the primary of v computes:
//! `min-s`, the highest stable checkpoint among them, and `max-s`, the
//! highest sequence number of any prepared certificate. For each n in
//! `(min-s, max-s]` it re-proposes, in view v, the digest of the
//! highest-view prepared certificate for n, or the null (empty) batch if
//! none has one. Backups recompute the same set from the same VIEW-CHANGEs
//! and accept the NEW-VIEW only if it matches exactly, then adopt the
//! checkpoint, and PREPARE every re-proposed batch they hold; the others
//! are fetched first (`fetch.rs`) from the replicas that prepared them.
//! NEW-VIEW and VIEW-CHANGE carry digests only, so their size does not
//! depend on the batch size.

use super::view_change::CheckedViewChange;
use super::Replica;
use crate::cert::{check_pre_prepare, CheckpointCert};
use crate::config::Bug;
use crate::error::{Error, Result};
use crate::io::{Output, TimeoutKind};
use crate::message::{Message, NewView, PrePrepare, SignedMessage};
use crate::persist::PersistOp;
use crate::types::{request_digest, ReplicaId, Seq, View};
use cryptanet_types::block::data_hash;
use cryptanet_types::{codec, Digest};

/// A re-proposed PRE-PREPARE of a NEW-VIEW and who holds its batch.
type ReProposed = (SignedMessage, PrePrepare, Vec<ReplicaId>);

/// Replicas that reported a prepared certificate for (`seq`, `digest`) in
/// `vcs`, then the signers of those certificates (PRE-PREPARE sender and
/// PREPARE senders), without repeats.
fn holders(vcs: &[&CheckedViewChange], seq: Seq, digest: &Digest) -> Vec<ReplicaId> {
    let mut out: Vec<ReplicaId> = Vec::new();
    let mut add = |r: ReplicaId| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for c in vcs {
        if c.prepared
            .iter()
            .any(|pp| pp.seq == seq && pp.digest == *digest)
        {
            add(c.vc.replica);
        }
    }
    for c in vcs {
        for (cert, pp) in c.vc.prepared.iter().zip(&c.prepared) {
            if pp.seq == seq && pp.digest == *digest {
                add(pp.replica);
                for m in &cert.prepares {
                    if let Ok(msg) = codec::decode::<Message>(&m.bytes) {
                        add(msg.sender());
                    }
                }
            }
        }
    }
    out
}

/// The checkpoint and the digests a NEW-VIEW must re-propose, each with the
/// replicas known to hold its batch (the VIEW-CHANGE senders that reported
/// it and the signers of their prepared certificates).
struct Reproposal {
    checkpoint: CheckpointCert,
    batches: Vec<(Seq, Digest, Vec<ReplicaId>)>,
}

impl Replica {
    fn reproposal(&self, vcs: &[&CheckedViewChange]) -> Reproposal {
        let mut checkpoint = CheckpointCert::genesis();
        for c in vcs {
            if c.vc.checkpoint.seq > checkpoint.seq {
                checkpoint = c.vc.checkpoint.clone();
            }
        }
        let min_s = checkpoint.seq;
        let max_s = vcs
            .iter()
            .flat_map(|c| c.prepared.iter().map(|pp| pp.seq))
            .max()
            .unwrap_or(min_s)
            .max(min_s);
        let mut batches = Vec::new();
        for seq in min_s + 1..=max_s {
            let best = vcs
                .iter()
                .flat_map(|c| c.prepared.iter())
                .filter(|pp| pp.seq == seq && self.cfg.bug != Bug::NewViewDropsPrepared)
                .max_by(|a, b| a.view.cmp(&b.view).then(b.digest.cmp(&a.digest)));
            match best {
                Some(pp) => batches.push((seq, pp.digest, holders(vcs, seq, &pp.digest))),
                None => batches.push((seq, data_hash(&[]), Vec::new())),
            }
        }
        Reproposal {
            checkpoint,
            batches,
        }
    }

    /// As primary of `target` with 2f + 1 VIEW-CHANGEs: install and announce.
    pub(super) fn send_new_view(&mut self, target: View) {
        let Some(by) = self.view_changes.get(&target) else {
            return;
        };
        let quorum = self.cfg.quorum();
        // Our own VIEW-CHANGE first, then others by replica index.
        let mut chosen: Vec<CheckedViewChange> =
            by.get(&self.cfg.id).cloned().into_iter().collect();
        chosen.extend(
            by.iter()
                .filter(|(r, _)| **r != self.cfg.id)
                .map(|(_, c)| c.clone())
                .take(quorum.saturating_sub(chosen.len())),
        );
        if chosen.len() < quorum {
            return;
        }
        let plan = self.reproposal(&chosen.iter().collect::<Vec<_>>());
        let mut pre_prepares = Vec::with_capacity(plan.batches.len());
        for (seq, digest, holders) in plan.batches {
            let pp = PrePrepare {
                view: target,
                seq,
                digest,
                replica: self.cfg.id,
            };
            let Ok(m) = self.sign(&Message::PrePrepare(pp)) else {
                return;
            };
            pre_prepares.push((m, pp, holders));
        }
        let nv = NewView {
            view: target,
            view_changes: chosen.iter().map(|c| c.msg.clone()).collect(),
            pre_prepares: pre_prepares.iter().map(|(m, _, _)| m.clone()).collect(),
            replica: self.cfg.id,
        };
        let Ok(nv_msg) = self.sign(&Message::NewView(nv)) else {
            return;
        };
        // Persists view and re-proposed slots before the NEW-VIEW leaves.
        self.install_view(target, plan.checkpoint, pre_prepares);
        self.out.push(Output::Broadcast(nv_msg.clone()));
        self.last_new_view = Some(nv_msg);
        self.maybe_propose(false);
    }

    pub(super) fn on_new_view(&mut self, m: SignedMessage, nv: NewView) {
        if nv.replica != self.cfg.primary(nv.view) {
            return self.metrics.dropped(&Error::WrongSender {
                what: "new-view",
                replica: nv.replica,
                view: nv.view,
            });
        }
        let acceptable = nv.view > self.view && self.changing_to.is_none_or(|t| nv.view >= t);
        if !acceptable {
            self.metrics.ignored += 1;
            return;
        }
        let target = nv.view;
        match self.check_new_view(&nv) {
            Ok((checkpoint, pps)) => {
                self.install_view(target, checkpoint, pps);
                self.last_new_view = Some(m);
                self.maybe_propose(false);
            }
            Err(e) => self.metrics.dropped(&e),
        }
    }

    /// Verifies the VIEW-CHANGEs and that the PRE-PREPAREs are exactly the
    /// recomputed re-proposal.
    fn check_new_view(&self, nv: &NewView) -> Result<(CheckpointCert, Vec<ReProposed>)> {
        let mut checked: Vec<CheckedViewChange> = Vec::new();
        for m in &nv.view_changes {
            let known = self
                .view_changes
                .get(&nv.view)
                .and_then(|by| by.values().find(|c| c.msg == *m));
            let c = match known {
                Some(c) => c.clone(),
                None => match m.open_with(&self.keys, &*self.check)? {
                    Message::ViewChange(vc) if vc.new_view == nv.view => {
                        self.check_view_change(m.clone(), vc)?
                    }
                    _ => {
                        return Err(Error::Inconsistent {
                            what: "new-view (view-change set)",
                        })
                    }
                },
            };
            if checked.iter().any(|o| o.vc.replica == c.vc.replica) {
                return Err(Error::Inconsistent {
                    what: "new-view (duplicate view-change)",
                });
            }
            checked.push(c);
        }
        if checked.len() < self.cfg.quorum() {
            return Err(Error::Quorum {
                what: "new-view",
                got: checked.len(),
                need: self.cfg.quorum(),
            });
        }
        let plan = self.reproposal(&checked.iter().collect::<Vec<_>>());
        if plan.batches.len() != nv.pre_prepares.len() {
            return Err(Error::BadNewView { view: nv.view });
        }
        let mut pps = Vec::with_capacity(plan.batches.len());
        for ((seq, digest, holders), m) in plan.batches.iter().zip(&nv.pre_prepares) {
            let pp = match m.open_with(&self.keys, &*self.check)? {
                Message::PrePrepare(pp) => pp,
                _ => return Err(Error::BadNewView { view: nv.view }),
            };
            check_pre_prepare(&pp, &|v| self.cfg.primary(v))?;
            if pp.view != nv.view || pp.seq != *seq || pp.digest != *digest {
                return Err(Error::BadNewView { view: nv.view });
            }
            pps.push((m.clone(), pp, holders.clone()));
        }
        Ok((plan.checkpoint, pps))
    }

    /// Enters `view`: persist it, adopt the checkpoint, accept the
    /// re-proposed batches (backups PREPARE them), replay deferred messages.
    fn install_view(&mut self, view: View, checkpoint: CheckpointCert, pps: Vec<ReProposed>) {
        self.view = view;
        self.changing_to = None;
        self.metrics.views_installed += 1;
        self.idle_views = self.idle_views.saturating_add(1);
        self.out.push(Output::Persist(PersistOp::View {
            view,
            changing_to: None,
        }));
        self.disarm(TimeoutKind::ViewChange);
        self.disarm(TimeoutKind::Batch);
        for slot in self.slots.values_mut() {
            slot.prepares.clear();
            slot.commits.clear();
            slot.commit_sent = false;
        }
        self.make_stable(checkpoint);
        let mut max_seq = self.stable.seq;
        for (m, pp, holders) in pps {
            max_seq = max_seq.max(pp.seq);
            if pp.seq > self.stable.seq {
                self.accept_pre_prepare(m, pp, None, holders);
            }
        }
        self.next_seq = max_seq + 1;
        let last_executed = self.last_executed;
        let in_flight: Vec<Digest> = self
            .slots
            .range(last_executed + 1..)
            .filter(|(_, s)| s.view == view)
            .filter_map(|(_, s)| {
                let (_, pp) = s.pre_prepare.as_ref()?;
                s.batches.get(&pp.digest)
            })
            .flat_map(|batch| batch.iter().map(|p| request_digest(p)))
            .collect();
        self.requests.set_in_flight(in_flight);
        self.view_changes = self.view_changes.split_off(&(view + 1));
        let deferred = std::mem::take(&mut self.deferred);
        for (m, msg) in deferred {
            let v = match &msg {
                Message::Proposal(p) => match codec::decode::<Message>(&p.pre_prepare.bytes) {
                    Ok(Message::PrePrepare(pp)) => pp.view,
                    _ => continue,
                },
                Message::Prepare(v) | Message::Commit(v) => v.view,
                _ => continue,
            };
            if v == view {
                self.dispatch(m, msg);
            } else if v > view {
                self.defer(m, msg);
            }
        }
        self.reset_request_timer(true);
        self.forward_unproposed();
    }
}
