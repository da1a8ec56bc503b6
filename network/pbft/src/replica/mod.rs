//! The replica: state, construction and restart, and the `step` dispatcher.
//!
//! Each protocol step lives in its own file, named after the part of
//! Castro & Liskov (TOCS 2002, §4) it implements:
//! [`requests`] (§4.2 client requests and batching), [`normal`] (§4.2
//! normal-case operation), [`checkpoint`] (§4.3 garbage collection),
//! [`view_change`] and [`new_view`] (§4.4), [`status`] (retransmission, §5.2)
//! and state transfer (§6.2, the shell fetches the state).

mod checkpoint;
mod fetch;
mod new_view;
mod normal;
mod requests;
mod slot;
mod status;
mod timers;
mod view_change;

use crate::cert::CheckpointCert;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::io::{Input, Output};
use crate::message::{Message, SignatureCheck, SignedMessage, Strict, Vote};
use crate::metrics::Metrics;
use crate::persist::PersistedState;
use crate::types::{ReplicaId, Seq, View};
use cryptanet_types::block::{data_hash, data_hash_of_leaves};
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::{Digest, PublicKey};
use requests::Requests;
use slot::Slot;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use timers::Timers;
use view_change::CheckedViewChange;

/// Messages for a future view kept until that view is installed.
const DEFERRED_CAP: usize = 4096;

/// One PBFT replica. Feed it [`Input`]s with [`Replica::step`] and perform
/// the returned [`Output`]s in order.
pub struct Replica {
    cfg: Config,
    key: SigningKey,
    keys: Vec<PublicKey>,
    check: Arc<dyn SignatureCheck>,
    /// Active view (the last one installed).
    view: View,
    /// Target of the view change in progress.
    changing_to: Option<View>,
    /// Consecutive view changes without progress (timeout exponent).
    vc_attempts: u32,
    /// Views installed since something last executed (request timer
    /// exponent).
    idle_views: u32,
    slots: BTreeMap<Seq, Slot>,
    stable: CheckpointCert,
    last_executed: Seq,
    state: Digest,
    awaiting_state: Option<CheckpointCert>,
    checkpoints: BTreeMap<Seq, BTreeMap<(Digest, ReplicaId), SignedMessage>>,
    view_changes: BTreeMap<View, BTreeMap<ReplicaId, CheckedViewChange>>,
    last_new_view: Option<SignedMessage>,
    next_seq: Seq,
    requests: Requests,
    /// Request digests (the Merkle leaves) of batches whose data hash this
    /// replica checked or computed, by (seq, batch digest): execution takes
    /// them from here instead of hashing every request again. Entries at or
    /// below the last executed seq are dropped at each execution.
    leaves: BTreeMap<(Seq, Digest), Vec<Digest>>,
    deferred: VecDeque<(SignedMessage, Message)>,
    /// Per replica, `last_executed` of its latest STATUS.
    status_seen: Vec<Option<Seq>>,
    timers: Timers,
    metrics: Metrics,
    out: Vec<Output>,
}

impl Replica {
    /// Creates replica `config.id` with its signing key and every replica's
    /// public key (indexed by replica). Pass the persisted state when
    /// restarting. Call [`Replica::start`] before the first `step`.
    pub fn new(
        config: Config,
        key: SigningKey,
        keys: Vec<PublicKey>,
        persisted: Option<PersistedState>,
    ) -> Result<Replica> {
        config.validate()?;
        if keys.len() != config.n {
            return Err(Error::Config {
                reason: "one public key per replica is required",
            });
        }
        if keys[config.id as usize] != PublicKey::of(&key) {
            return Err(Error::Config {
                reason: "signing key does not match this replica's public key",
            });
        }
        let p = persisted.unwrap_or_default();
        let mut r = Replica {
            requests: Requests::new(config.dedup_window),
            leaves: BTreeMap::new(),
            status_seen: vec![None; config.n],
            cfg: config,
            key,
            keys,
            check: Arc::new(Strict),
            view: p.view,
            changing_to: p.changing_to,
            vc_attempts: 0,
            idle_views: 0,
            slots: BTreeMap::new(),
            stable: p.stable,
            last_executed: p.last_executed,
            state: p.state,
            awaiting_state: None,
            checkpoints: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            last_new_view: None,
            next_seq: 0,
            deferred: VecDeque::new(),
            timers: Timers::default(),
            metrics: Metrics::default(),
            out: Vec::new(),
        };
        let mut batches = p.batches;
        for (seq, rec) in p.slots {
            let pp = match rec.pre_prepare.open(&r.keys)? {
                Message::PrePrepare(pp) if pp.seq == seq && pp.digest == rec.digest => pp,
                _ => {
                    return Err(Error::Inconsistent {
                        what: "persisted slot",
                    })
                }
            };
            let mut slot = Slot::new(rec.view);
            slot.pre_prepare = Some((rec.pre_prepare, pp));
            slot.prepared = rec.prepared;
            slot.commit_sent = rec.commit_sent;
            for b in batches.remove(&seq).unwrap_or_default().into_values() {
                slot.batches.insert(data_hash(&b.0), b.0);
            }
            if rec.view == r.view {
                let vote = Vote {
                    view: rec.view,
                    seq,
                    digest: rec.digest,
                    replica: r.cfg.id,
                };
                if r.cfg.primary(rec.view) != r.cfg.id {
                    let m = r.sign(&Message::Prepare(vote))?;
                    slot.prepares.insert(r.cfg.id, (rec.digest, m));
                }
                if rec.commit_sent {
                    let m = r.sign(&Message::Commit(vote))?;
                    slot.commits.insert(r.cfg.id, (rec.digest, m));
                }
            }
            r.slots.insert(seq, slot);
        }
        r.next_seq = r.first_free_seq();
        Ok(r)
    }

    /// Arms the periodic timers and, after a restart, resumes an interrupted
    /// view change or state transfer. Call once, right after `new`.
    pub fn start(&mut self) -> Vec<Output> {
        self.arm_status_timer();
        if let Some(target) = self.changing_to {
            self.arm_view_change_timer();
            self.send_view_change(target);
        }
        if self.last_executed < self.stable.seq {
            self.request_state(self.stable.clone());
        }
        self.fetch_missing();
        std::mem::take(&mut self.out)
    }

    /// Processes one input and returns the outputs to perform, in order.
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        match input {
            Input::Message(m) => self.on_wire(m),
            Input::ClientRequest(payload) => self.on_client_requests(vec![payload]),
            Input::ClientRequests(payloads) => self.on_client_requests(payloads),
            Input::TimeoutElapsed { kind, generation } => self.on_timeout(kind, generation),
            Input::StateTransferred {
                seq,
                state,
                requests,
            } => self.on_state_transferred(seq, state, &requests),
            Input::BatchFetched { seq, digest, batch } => self.on_batch_fetched(seq, digest, batch),
        }
        std::mem::take(&mut self.out)
    }

    /// Replaces the signature check (default [`Strict`]); see
    /// [`SignatureCheck`] for when that is sound.
    pub fn set_signature_check(&mut self, check: Arc<dyn SignatureCheck>) {
        self.check = check;
    }

    /// This replica's index.
    pub fn id(&self) -> ReplicaId {
        self.cfg.id
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The active view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The view this replica is changing to, if a view change is in progress.
    pub fn changing_to(&self) -> Option<View> {
        self.changing_to
    }

    /// Whether this replica is the primary of its active view.
    pub fn is_primary(&self) -> bool {
        self.cfg.primary(self.view) == self.cfg.id
    }

    /// Last sequence number delivered by [`Output::Commit`] or state transfer.
    pub fn last_executed(&self) -> Seq {
        self.last_executed
    }

    /// Sequence number of the last stable checkpoint (the low watermark).
    pub fn stable_checkpoint(&self) -> Seq {
        self.stable.seq
    }

    /// Requests known here and not yet executed.
    pub fn pending_requests(&self) -> usize {
        self.requests.pending_len()
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The batch with digest `digest` if this replica holds it for `seq`
    /// (accepted, prepared or decided there and not yet garbage-collected),
    /// for answering another replica's [`Output::FetchBatch`]. Executed
    /// batches below the stable checkpoint are in the shell's ledger.
    pub fn batch(&self, seq: Seq, digest: &Digest) -> Option<Vec<Vec<u8>>> {
        let slot = self.slots.get(&seq)?;
        if let Some((b, cert)) = &slot.decided {
            if cert.digest == *digest {
                return Some(b.clone());
            }
        }
        slot.batch(digest)
    }

    fn on_wire(&mut self, mut m: SignedMessage) {
        // The batch moves into the message; `m` keeps the signed body only.
        let msg = match m.open_taking(&self.keys, &*self.check) {
            Ok(msg) => msg,
            Err(e) => {
                self.metrics.dropped(&e);
                return;
            }
        };
        if msg.sender() == self.cfg.id {
            self.metrics.ignored += 1;
            return;
        }
        self.dispatch(m, msg);
    }

    /// Whether `batch` hashes to `digest` (its data hash); if so its leaves
    /// are kept for the execution of `seq`.
    pub(super) fn batch_matches(&mut self, seq: Seq, batch: &[Vec<u8>], digest: &Digest) -> bool {
        let leaves = cryptanet_types::block::leaves(batch);
        if data_hash_of_leaves(&leaves) != *digest {
            return false;
        }
        self.leaves.insert((seq, *digest), leaves);
        true
    }

    /// Handles a message whose signature has been checked.
    fn dispatch(&mut self, m: SignedMessage, msg: Message) {
        match msg {
            Message::Request(r) => {
                let mut any_new = false;
                // Opening checked that each payload hashes to its digest.
                for (d, p) in r.digests.into_iter().zip(r.payloads) {
                    any_new |= self.record_request(d, p, false);
                }
                if any_new {
                    self.requests_recorded();
                }
            }
            // A bare PRE-PREPARE is only meaningful inside a certificate or
            // NEW-VIEW; on its own it carries no batch to prepare.
            Message::PrePrepare(_) => self.metrics.ignored += 1,
            Message::Proposal(p) => self.on_proposal(m, p),
            Message::Prepare(v) => self.on_prepare(m, v),
            Message::Commit(v) => self.on_commit(m, v),
            Message::Checkpoint(c) => self.on_checkpoint(m, c),
            Message::ViewChange(vc) => self.on_view_change(m, vc),
            Message::NewView(nv) => self.on_new_view(m, nv),
            Message::Status(s) => self.on_status(s),
            Message::Decided(d) => self.on_decided(d),
        }
    }

    /// Where a normal-case message for `view` goes: `Some(true)` to handle
    /// now, `Some(false)` to defer to a future view, `None` to drop.
    fn normal_case_gate(&mut self, view: View) -> Option<bool> {
        if view > self.view {
            Some(false)
        } else if view == self.view && self.changing_to.is_none() {
            Some(true)
        } else {
            self.metrics.ignored += 1;
            None
        }
    }

    fn defer(&mut self, m: SignedMessage, msg: Message) {
        if self.deferred.len() >= DEFERRED_CAP {
            self.deferred.pop_front();
        }
        self.deferred.push_back((m, msg));
    }

    /// Whether `seq` lies within the watermarks `(h, h + L]`.
    fn in_window(&self, seq: Seq) -> bool {
        seq > self.stable.seq && seq <= self.stable.seq + self.cfg.watermark_window
    }

    fn sign(&self, msg: &Message) -> Result<SignedMessage> {
        SignedMessage::sign(&self.key, msg)
    }

    /// Signs and queues a broadcast. Encoding our own well-formed messages
    /// cannot fail; if it ever did, the message is not sent (and counted).
    fn broadcast(&mut self, msg: &Message) -> Option<SignedMessage> {
        match self.sign(msg) {
            Ok(m) => {
                self.out.push(Output::Broadcast(m.clone()));
                Some(m)
            }
            Err(e) => {
                self.metrics.dropped(&e);
                None
            }
        }
    }

    fn send(&mut self, to: ReplicaId, message: SignedMessage) {
        if to != self.cfg.id {
            self.out.push(Output::Send { to, message });
        }
    }

    /// Lowest sequence number the primary may assign next.
    fn first_free_seq(&self) -> Seq {
        let used = self
            .slots
            .iter()
            .filter(|(_, s)| s.view == self.view && s.pre_prepare.is_some())
            .map(|(seq, _)| *seq)
            .max()
            .unwrap_or(0);
        used.max(self.stable.seq) + 1
    }
}

#[cfg(test)]
pub(crate) mod inspect {
    //! Read access for the protocol tests.
    use super::*;
    use crate::message::PrePrepare;

    impl Replica {
        fn pre_prepare_of(&self, seq: Seq) -> Option<&PrePrepare> {
            self.slots
                .get(&seq)
                .and_then(|s| s.pre_prepare.as_ref())
                .map(|(_, pp)| pp)
        }
        pub(crate) fn slot_digest(&self, seq: Seq) -> Option<Digest> {
            self.pre_prepare_of(seq).map(|pp| pp.digest)
        }
        pub(crate) fn is_prepared(&self, seq: Seq) -> bool {
            self.slots.get(&seq).is_some_and(|s| s.prepared.is_some())
        }
        pub(crate) fn slot_count(&self) -> usize {
            self.slots.len()
        }
    }
}
