//! Checkpoints and garbage collection (TOCS §4.3).
//!
//! After executing a multiple of K a replica broadcasts CHECKPOINT(n, state).
//! 2f + 1 matching ones make the checkpoint stable: it becomes the low
//! watermark h, the log at or below it is discarded, and the high watermark
//! moves to h + L. A replica that sees a stable checkpoint beyond what it has
//! executed cannot rebuild the state from its log, so it asks the shell for a
//! state transfer ([`crate::Output::NeedState`]) and delivers nothing more
//! until [`crate::Input::StateTransferred`] arrives.

use super::Replica;
use crate::cert::CheckpointCert;
use crate::error::Error;
use crate::io::Output;
use crate::message::{Checkpoint, Message, SignedMessage};
use crate::persist::PersistOp;
use crate::types::Seq;
use cryptanet_types::Digest;
use std::collections::BTreeMap;

impl Replica {
    pub(super) fn send_checkpoint(&mut self, seq: Seq) {
        let c = Checkpoint {
            seq,
            state: self.state,
            replica: self.cfg.id,
        };
        if let Some(m) = self.broadcast(&Message::Checkpoint(c)) {
            self.record_checkpoint(m, c);
        }
    }

    pub(super) fn on_checkpoint(&mut self, m: SignedMessage, c: Checkpoint) {
        if c.seq == 0 || !c.seq.is_multiple_of(self.cfg.checkpoint_interval) {
            return self.metrics.dropped(&Error::Inconsistent {
                what: "checkpoint (not a multiple of K)",
            });
        }
        if c.seq <= self.stable.seq {
            self.metrics.ignored += 1;
            return;
        }
        self.record_checkpoint(m, c);
    }

    fn record_checkpoint(&mut self, m: SignedMessage, c: Checkpoint) {
        // Keyed by (state, replica): a Byzantine replica's conflicting claim
        // must not hide its (or anyone's) matching one.
        let claims = self.checkpoints.entry(c.seq).or_default();
        if claims.insert((c.state, c.replica), m).is_some() {
            self.metrics.ignored += 1;
            return;
        }
        // Bound what one replica can make us store: keep its newest claims.
        let limit = (self.cfg.watermark_window / self.cfg.checkpoint_interval) as usize + 2;
        let mine: Vec<(Seq, Digest)> = self
            .checkpoints
            .iter()
            .flat_map(|(s, by)| {
                by.keys()
                    .filter(|(_, r)| *r == c.replica)
                    .map(move |(d, _)| (*s, *d))
            })
            .collect();
        if mine.len() > limit {
            let (seq, state) = mine[0];
            if let Some(by) = self.checkpoints.get_mut(&seq) {
                by.remove(&(state, c.replica));
            }
        }
        self.check_stable(c.seq);
    }

    fn check_stable(&mut self, seq: Seq) {
        let Some(claims) = self.checkpoints.get(&seq) else {
            return;
        };
        let mut by_state: BTreeMap<Digest, Vec<SignedMessage>> = BTreeMap::new();
        for ((state, _), m) in claims {
            by_state.entry(*state).or_default().push(m.clone());
        }
        let quorum = self.cfg.quorum();
        let found = by_state.into_iter().find(|(_, ms)| ms.len() >= quorum);
        if let Some((state, proof)) = found {
            self.make_stable(CheckpointCert { seq, state, proof });
            self.maybe_propose(false);
        }
    }

    /// Adopts a verified stable checkpoint: persist, collect garbage, and ask
    /// for state if the log cannot reach it.
    pub(super) fn make_stable(&mut self, cert: CheckpointCert) {
        if cert.seq <= self.stable.seq {
            return;
        }
        self.out
            .push(Output::Persist(PersistOp::Stable(cert.clone())));
        self.metrics.checkpoints_stable += 1;
        let keep_from = cert.seq + 1;
        self.slots = self.slots.split_off(&keep_from);
        self.checkpoints = self.checkpoints.split_off(&keep_from);
        self.stable = cert.clone();
        if self.last_executed < cert.seq {
            self.request_state(cert);
        }
    }

    pub(super) fn request_state(&mut self, cert: CheckpointCert) {
        let newer = self
            .awaiting_state
            .as_ref()
            .is_none_or(|a| a.seq < cert.seq);
        if newer {
            self.metrics.state_transfers += 1;
            self.awaiting_state = Some(cert.clone());
        }
        self.out.push(Output::NeedState(cert));
    }

    pub(super) fn on_state_transferred(&mut self, seq: Seq, state: Digest, requests: &[Digest]) {
        match &self.awaiting_state {
            Some(c) if c.seq == seq && c.state == state => {}
            _ => {
                self.metrics.bad_inputs += 1;
                return;
            }
        }
        self.awaiting_state = None;
        if seq > self.last_executed {
            self.last_executed = seq;
            self.state = state;
            self.out
                .push(Output::Persist(PersistOp::Executed { seq, state }));
        }
        for d in requests {
            self.requests.mark_executed(*d);
        }
        self.try_execute();
        self.reset_request_timer(true);
        self.maybe_propose(false);
    }
}
