//! Retransmission (TOCS §5.2, simplified): every `status_interval` a
//! replica broadcasts STATUS (view, last executed, stable checkpoint). A peer
//! that is ahead answers with what the sender is missing, relaying signed
//! messages verbatim:
//!
//! - the proof of its newer stable checkpoint (the sender then transfers state);
//! - the NEW-VIEW of its newer view (the sender then installs it);
//! - if the sender executed nothing since its previous STATUS: a DECIDED
//!   (batch + commit certificate) for every sequence number the sender has
//!   not executed and it has decided, and for undecided slots of a shared
//!   view, the PRE-PREPARE with its batch (a PROPOSAL signed by the relayer)
//!   and its own PREPARE and COMMIT.
//!
//! A replica re-broadcasts its newest CHECKPOINT that is not stable yet with
//! each STATUS (a lost CHECKPOINT would otherwise pin the low watermark).
//! A replica in a view change re-broadcasts its VIEW-CHANGE with each STATUS,
//! and sends a peer stuck at a lower target its older VIEW-CHANGE for that
//! target too (a replica that moved on after 2f + 1 VIEW-CHANGEs for view v
//! must not leave the others short of that quorum). A replica waiting for
//! state repeats its request to the shell.

use super::Replica;
use crate::io::Output;
use crate::message::{Decided, Message, Proposal, Status};

impl Replica {
    pub(super) fn on_status_timeout(&mut self) {
        let status = Status {
            view: self.view,
            changing_to: self.changing_to,
            last_executed: self.last_executed,
            stable: self.stable.seq,
            replica: self.cfg.id,
        };
        self.broadcast(&Message::Status(status));
        if let Some(target) = self.changing_to {
            let own = self
                .view_changes
                .get(&target)
                .and_then(|by| by.get(&self.cfg.id))
                .map(|c| c.msg.clone());
            if let Some(m) = own {
                self.out.push(Output::Broadcast(m));
            }
        }
        if let Some(cert) = self.awaiting_state.clone() {
            self.out.push(Output::NeedState(cert));
        }
        // Our newest CHECKPOINT that is not stable yet: if the others' copies
        // were lost, nobody can move the low watermark, and a primary at the
        // high watermark can propose nothing (simulator, n = 4, seed 843).
        let me = self.cfg.id;
        let own = self
            .checkpoints
            .range(self.stable.seq + 1..)
            .rev()
            .find_map(|(_, claims)| {
                claims
                    .iter()
                    .find(|((_, r), _)| *r == me)
                    .map(|(_, m)| m.clone())
            });
        if let Some(m) = own {
            self.out.push(Output::Broadcast(m));
        }
        self.fetch_missing();
        self.arm_status_timer();
    }

    pub(super) fn on_status(&mut self, s: Status) {
        let to = s.replica;
        if s.stable < self.stable.seq {
            for m in self.stable.proof.clone() {
                self.send(to, m);
            }
        }
        let peer_target = s.changing_to.unwrap_or(s.view);
        if s.view < self.view && peer_target <= self.view {
            if let Some(nv) = self.last_new_view.clone() {
                self.send(to, nv);
            }
        }
        if let Some(target) = self.changing_to {
            if peer_target < target {
                // Our VIEW-CHANGE for the peer's target (we may have sent it
                // before moving on: it still counts towards that view's
                // quorum) and for our own target.
                for view in [peer_target, target] {
                    let own = self
                        .view_changes
                        .get(&view)
                        .and_then(|by| by.get(&self.cfg.id))
                        .map(|c| c.msg.clone());
                    if let Some(m) = own {
                        self.send(to, m);
                    }
                }
            }
        }
        // Batches and votes are re-sent only to a peer that executed
        // nothing since its previous STATUS: one that is merely a few
        // batches behind in a busy pipeline still has them on the way, and
        // re-sending every in-flight batch to it on every tick (from every
        // replica ahead of it) multiplied the traffic under load.
        let previous = self
            .status_seen
            .get_mut(to as usize)
            .map(|seen| seen.replace(s.last_executed));
        if previous != Some(Some(s.last_executed)) {
            return;
        }
        let same_view =
            s.view == self.view && s.changing_to.is_none() && self.changing_to.is_none();
        let from = s.last_executed.max(self.stable.seq) + 1;
        let mut sends = Vec::new();
        for (_, slot) in self
            .slots
            .range(from..)
            .take(self.cfg.watermark_window as usize)
        {
            if let Some((batch, certificate)) = &slot.decided {
                let d = Decided {
                    batch: batch.clone(),
                    certificate: certificate.clone(),
                    replica: self.cfg.id,
                };
                sends.push(Err(Message::Decided(d)));
            } else if same_view && slot.view == self.view {
                if let Some((m, pp)) = &slot.pre_prepare {
                    if let Some(batch) = slot.batch(&pp.digest) {
                        sends.push(Err(Message::Proposal(Proposal {
                            pre_prepare: m.clone(),
                            batch,
                            replica: self.cfg.id,
                        })));
                    }
                }
                for votes in [&slot.prepares, &slot.commits] {
                    if let Some((_, m)) = votes.get(&self.cfg.id) {
                        sends.push(Ok(m.clone()));
                    }
                }
            }
        }
        for item in sends {
            match item {
                Ok(m) => self.send(to, m),
                Err(msg) => {
                    // Owned: the relayed batch moves into the attachment.
                    if let Ok(m) = crate::message::SignedMessage::sign_owned(&self.key, msg) {
                        self.send(to, m);
                    }
                }
            }
        }
    }
}
