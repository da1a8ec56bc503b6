//! View changes (TOCS §4.4): suspecting the primary and asking for the next
//! view.
//!
//! - When the request timer expires and the replica has no forwarded
//!   requests left to relay to all (see `requests.rs`), it stops accepting messages of
//!   its view, persists that it is changing to v + 1, and broadcasts
//!   VIEW-CHANGE(v + 1) with its stable checkpoint proof and, per sequence
//!   number above it, its highest-view prepared certificate.
//! - A replica that holds VIEW-CHANGEs for views above its own from f + 1
//!   distinct replicas joins the smallest of those views, even if its own
//!   timer has not expired (at least one honest replica is asking).
//! - It arms the view-change timer when it sends its VIEW-CHANGE; if no valid
//!   NEW-VIEW arrives in time it moves on to the next view. The timeout
//!   doubles with each consecutive view change without progress. (The paper
//!   arms it only once 2f + 1 VIEW-CHANGEs are in; the simulator found that
//!   this can wait forever when the VIEW-CHANGEs a replica needs were sent
//!   by replicas that have since installed the view or restarted.)

use super::Replica;
use crate::error::{Error, Result};
use crate::io::TimeoutKind;
use crate::message::{Message, PrePrepare, SignedMessage, ViewChange};
use crate::persist::PersistOp;
use crate::types::{ReplicaId, View};
use std::collections::BTreeSet;

/// Largest exponent of the view-change timeout backoff.
const MAX_BACKOFF_SHIFT: u32 = 10;
/// VIEW-CHANGEs kept per replica (its newest views).
const VIEW_CHANGES_PER_REPLICA: usize = 4;

/// A VIEW-CHANGE whose signature and certificates have been checked.
#[derive(Clone)]
pub(super) struct CheckedViewChange {
    pub msg: SignedMessage,
    pub vc: ViewChange,
    /// The PRE-PREPARE of each prepared certificate, same order.
    pub prepared: Vec<PrePrepare>,
}

impl Replica {
    /// The request timer fired with requests pending. Requests this replica
    /// only forwarded to the primary are relayed to every replica first
    /// (so that all honest backups watch them) and the timer restarts; a
    /// timeout with nothing left to relay starts the view change.
    pub(super) fn on_request_timeout(&mut self) {
        if self.changing_to.is_some() || self.requests.pending_len() == 0 {
            return;
        }
        let proposed = self.proposed_in_view();
        let relay = self.requests.take_unrelayed(&proposed);
        if relay.is_empty() {
            self.start_view_change(self.view + 1);
        } else {
            self.metrics.requests_relayed += relay.len() as u64;
            self.relay_to_all(relay);
            self.reset_request_timer(true);
        }
    }

    pub(super) fn on_view_change_timeout(&mut self) {
        if let Some(target) = self.changing_to {
            self.vc_attempts = self.vc_attempts.saturating_add(1);
            self.start_view_change(target + 1);
        }
    }

    /// Moves to view change for `target`: persist, then broadcast.
    pub(super) fn start_view_change(&mut self, target: View) {
        if target <= self.view || self.changing_to.is_some_and(|t| t >= target) {
            return;
        }
        self.changing_to = Some(target);
        self.metrics.view_changes_started += 1;
        self.out.push(crate::io::Output::Persist(PersistOp::View {
            view: self.view,
            changing_to: Some(target),
        }));
        self.disarm(TimeoutKind::Request);
        self.disarm(TimeoutKind::Batch);
        self.arm_view_change_timer();
        self.send_view_change(target);
    }

    /// Arms the view-change timer: `view_change_timeout × 2^k` after k
    /// consecutive view changes without progress.
    pub(super) fn arm_view_change_timer(&mut self) {
        let factor = 1u64 << self.vc_attempts.min(MAX_BACKOFF_SHIFT);
        let after = self.cfg.view_change_timeout.saturating_mul(factor);
        self.arm(TimeoutKind::ViewChange, after);
    }

    /// Builds, records and broadcasts this replica's VIEW-CHANGE for `target`.
    pub(super) fn send_view_change(&mut self, target: View) {
        let mut prepared = Vec::new();
        let mut pps = Vec::new();
        for slot in self.slots.values() {
            if let Some(cert) = &slot.prepared {
                if let Ok(Message::PrePrepare(pp)) =
                    cryptanet_types::codec::decode::<Message>(&cert.pre_prepare.bytes)
                {
                    prepared.push(cert.clone());
                    pps.push(pp);
                }
            }
        }
        let vc = ViewChange {
            new_view: target,
            checkpoint: self.stable.clone(),
            prepared,
            replica: self.cfg.id,
        };
        let Some(msg) = self.broadcast(&Message::ViewChange(vc.clone())) else {
            return;
        };
        self.store_view_change(CheckedViewChange {
            msg,
            vc,
            prepared: pps,
        });
        self.check_view_change_quorum(target);
    }

    pub(super) fn on_view_change(&mut self, m: SignedMessage, vc: ViewChange) {
        let target = vc.new_view;
        if target <= self.view {
            self.metrics.ignored += 1;
            return;
        }
        let known = self
            .view_changes
            .get(&target)
            .and_then(|by| by.get(&vc.replica))
            .is_some_and(|c| c.msg == m);
        if known {
            self.metrics.ignored += 1;
            return;
        }
        let checked = match self.check_view_change(m, vc) {
            Ok(c) => c,
            Err(e) => return self.metrics.dropped(&e),
        };
        self.store_view_change(checked);
        self.maybe_join();
        self.check_view_change_quorum(target);
    }

    /// Verifies a VIEW-CHANGE's checkpoint proof and prepared certificates.
    pub(super) fn check_view_change(
        &self,
        msg: SignedMessage,
        vc: ViewChange,
    ) -> Result<CheckedViewChange> {
        let f = self.cfg.f();
        vc.checkpoint.verify_with(&self.keys, f, &*self.check)?;
        let low = vc.checkpoint.seq;
        let high = low + self.cfg.watermark_window;
        let mut seqs = BTreeSet::new();
        let mut prepared = Vec::with_capacity(vc.prepared.len());
        for cert in &vc.prepared {
            let pp = cert.verify_with(&self.keys, f, |v| self.cfg.primary(v), &*self.check)?;
            if pp.view >= vc.new_view || pp.seq <= low || pp.seq > high || !seqs.insert(pp.seq) {
                return Err(Error::Inconsistent {
                    what: "view-change prepared set",
                });
            }
            prepared.push(pp);
        }
        Ok(CheckedViewChange { msg, vc, prepared })
    }

    fn store_view_change(&mut self, c: CheckedViewChange) {
        let replica = c.vc.replica;
        self.view_changes
            .entry(c.vc.new_view)
            .or_default()
            .insert(replica, c);
        let views: Vec<View> = self
            .view_changes
            .iter()
            .filter(|(_, by)| by.contains_key(&replica))
            .map(|(v, _)| *v)
            .collect();
        if views.len() > VIEW_CHANGES_PER_REPLICA {
            if let Some(by) = self.view_changes.get_mut(&views[0]) {
                by.remove(&replica);
            }
        }
    }

    /// Joins the smallest higher view that f + 1 replicas ask for.
    fn maybe_join(&mut self) {
        let current = self.changing_to.unwrap_or(self.view);
        let mut smallest: Vec<(ReplicaId, View)> = Vec::new();
        for (view, by) in self.view_changes.range(current + 1..) {
            for r in by.keys() {
                if *r != self.cfg.id && !smallest.iter().any(|(s, _)| s == r) {
                    smallest.push((*r, *view));
                }
            }
        }
        if smallest.len() >= self.cfg.weak_quorum() {
            if let Some(target) = smallest.iter().map(|(_, v)| *v).min() {
                self.start_view_change(target);
            }
        }
    }

    /// With 2f + 1 VIEW-CHANGEs for our target, the new primary announces
    /// the view.
    pub(super) fn check_view_change_quorum(&mut self, target: View) {
        if self.changing_to != Some(target) {
            return;
        }
        let have = self.view_changes.get(&target).map_or(0, |by| by.len());
        if have < self.cfg.quorum() {
            return;
        }
        if self.cfg.primary(target) == self.cfg.id {
            self.send_new_view(target);
        }
    }
}
