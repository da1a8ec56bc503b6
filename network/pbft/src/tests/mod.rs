//! Protocol tests, organised like Castro & Liskov (TOCS 2002) §4:
//! [`normal_case`] (§4.2), [`checkpoints`] (§4.3), [`view_change`] (§4.4),
//! and [`crash_safety`] (what persistence must guarantee).
//!
//! Most tests are tables of [`Step`]s: one input to the replica under test
//! and the exact list of outputs it must produce, in order (so they also
//! check that persists precede the sends they justify). The other replicas
//! are played by the test, which signs their messages with their keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checkpoints;
mod crash_safety;
mod normal_case;
mod view_change;

use crate::message::{Checkpoint, Message, PrePrepare, Proposal, SignedMessage, Vote};
use crate::persist::PersistedState;
use crate::{Config, Input, Output, PersistOp, Replica, TimeoutKind};
use cryptanet_types::block::data_hash;
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::{Digest, PublicKey};
use rand::SeedableRng;

/// n = 4, f = 1, K = 2, L = 4, batches of 2.
pub(crate) fn config(id: u32) -> Config {
    let mut c = Config::new(4, id).unwrap();
    c.checkpoint_interval = 2;
    c.watermark_window = 4;
    c.max_batch_count = 2;
    c.batch_timeout = 10;
    c.request_timeout = 100;
    c.view_change_timeout = 100;
    c.status_interval = 1000;
    c
}

pub(crate) struct Net {
    pub sk: Vec<SigningKey>,
    pub pk: Vec<PublicKey>,
}

impl Net {
    pub fn new() -> Net {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        let sk: Vec<SigningKey> = (0..4).map(|_| SigningKey::generate(&mut rng)).collect();
        let pk = sk.iter().map(PublicKey::of).collect();
        Net { sk, pk }
    }

    /// A started replica `id` (start-up outputs discarded).
    pub fn replica(&self, id: u32) -> Replica {
        self.restart(id, None)
    }

    pub fn restart(&self, id: u32, persisted: Option<PersistedState>) -> Replica {
        let mut r = Replica::new(
            config(id),
            self.sk[id as usize].clone(),
            self.pk.clone(),
            persisted,
        )
        .unwrap();
        r.start();
        r
    }

    pub fn signed(&self, msg: Message) -> SignedMessage {
        let from = msg.sender() as usize;
        SignedMessage::sign(&self.sk[from], &msg).unwrap()
    }

    pub fn input(&self, msg: Message) -> Input {
        Input::Message(self.signed(msg))
    }

    /// The primary's PROPOSAL of `batch` at (view, seq).
    pub fn pre_prepare(&self, view: u64, seq: u64, batch: &[&[u8]]) -> Input {
        Input::Message(self.proposal(pre_prepare(view, seq, batch), batch))
    }

    /// A PROPOSAL carrying `pp` (signed by its `replica`) and `items`, sent
    /// by the same replica.
    pub fn proposal(&self, pp: PrePrepare, items: &[&[u8]]) -> SignedMessage {
        let inner = self.signed(Message::PrePrepare(pp));
        self.signed(Message::Proposal(Proposal {
            pre_prepare: inner,
            batch: batch(items),
            replica: pp.replica,
        }))
    }

    pub fn prepare(&self, from: u32, view: u64, seq: u64, digest: Digest) -> Input {
        self.input(Message::Prepare(Vote {
            view,
            seq,
            digest,
            replica: from,
        }))
    }

    pub fn commit(&self, from: u32, view: u64, seq: u64, digest: Digest) -> Input {
        self.input(Message::Commit(Vote {
            view,
            seq,
            digest,
            replica: from,
        }))
    }

    pub fn checkpoint(&self, from: u32, seq: u64, state: Digest) -> Input {
        self.input(Message::Checkpoint(Checkpoint {
            seq,
            state,
            replica: from,
        }))
    }
}

pub(crate) fn batch(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|i| i.to_vec()).collect()
}

pub(crate) fn digest(items: &[&[u8]]) -> Digest {
    data_hash(&batch(items))
}

pub(crate) fn pre_prepare(view: u64, seq: u64, items: &[&[u8]]) -> PrePrepare {
    PrePrepare {
        view,
        seq,
        digest: digest(items),
        replica: (view % 4) as u32,
    }
}

/// The PRE-PREPARE and batch of a PROPOSAL.
pub(crate) fn proposed(msg: &Message) -> Option<(PrePrepare, Vec<Vec<u8>>)> {
    let Message::Proposal(p) = msg else {
        return None;
    };
    match cryptanet_types::codec::decode::<Message>(&p.pre_prepare.bytes).ok()? {
        Message::PrePrepare(pp) => Some((pp, p.batch.clone())),
        _ => None,
    }
}

/// A compact, comparable description of one output.
pub(crate) fn describe(o: &Output) -> String {
    let kind = |m: &SignedMessage| {
        cryptanet_types::codec::decode::<Message>(&m.bytes)
            .map(|m| m.kind())
            .unwrap_or("garbage")
    };
    match o {
        Output::Send { to, message } => format!("send {to} {}", kind(message)),
        Output::Broadcast(m) => format!("broadcast {}", kind(m)),
        Output::Persist(PersistOp::View { .. }) => "persist view".into(),
        Output::Persist(PersistOp::Slot(_)) => "persist slot".into(),
        Output::Persist(PersistOp::Batch { .. }) => "persist batch".into(),
        Output::Persist(PersistOp::Executed { seq, .. }) => format!("persist executed {seq}"),
        Output::Persist(PersistOp::Stable(c)) => format!("persist stable {}", c.seq),
        Output::Commit(c) => format!("commit {}", c.seq),
        Output::ScheduleTimeout { kind, .. } => format!(
            "timeout {}",
            match kind {
                TimeoutKind::Batch => "batch",
                TimeoutKind::Request => "request",
                TimeoutKind::ViewChange => "view-change",
                TimeoutKind::Status => "status",
            }
        ),
        Output::NeedState(c) => format!("need-state {}", c.seq),
        Output::FetchBatch { seq, from, .. } => format!("fetch {seq} from {from:?}"),
    }
}

/// One row of a protocol table.
pub(crate) struct Step {
    pub name: &'static str,
    pub input: Input,
    pub expect: &'static [&'static str],
}

/// Feeds each step to `r` and compares the described outputs exactly.
/// Returns all outputs, for further checks.
pub(crate) fn run(r: &mut Replica, steps: Vec<Step>) -> Vec<Output> {
    let mut all = Vec::new();
    for s in steps {
        let out = r.step(s.input);
        let got: Vec<String> = out.iter().map(describe).collect();
        assert_eq!(got, s.expect, "step {:?}", s.name);
        all.extend(out);
    }
    all
}

/// Fires the request timer last scheduled in `outs`, and again after a
/// relay, until the replica starts a view change (at most three times).
/// Returns the outputs of every firing.
pub(crate) fn expire_requests(r: &mut Replica, outs: &[Output]) -> Vec<Output> {
    let mut last: Vec<Output> = outs.to_vec();
    let mut all = Vec::new();
    for _ in 0..3 {
        let Some(generation) = last.iter().rev().find_map(|o| match o {
            Output::ScheduleTimeout {
                kind: TimeoutKind::Request,
                generation,
                ..
            } => Some(*generation),
            _ => None,
        }) else {
            break;
        };
        last = r.step(Input::TimeoutElapsed {
            kind: TimeoutKind::Request,
            generation,
        });
        all.extend(last.iter().cloned());
        if r.changing_to().is_some() {
            break;
        }
    }
    all
}

/// Applies every Persist in `outs` to `state`.
pub(crate) fn persist_all(state: &mut PersistedState, outs: &[Output]) {
    for o in outs {
        if let Output::Persist(op) = o {
            state.apply(op);
        }
    }
}

/// Messages broadcast or sent in `outs`, decoded.
pub(crate) fn sent(outs: &[Output]) -> Vec<(SignedMessage, Message)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Broadcast(m) | Output::Send { message: m, .. } => Some(m.clone()),
            _ => None,
        })
        .map(|m| {
            let msg = m.decode_unverified().unwrap();
            (m, msg)
        })
        .collect()
}

/// All replicas, delivering every message to everyone (FIFO) until quiet,
/// except those `drop` rejects (from, to, message).
pub(crate) struct Cluster {
    pub net: Net,
    pub replicas: Vec<Replica>,
    pub commits: Vec<Vec<crate::CommittedBatch>>,
    pub disks: Vec<PersistedState>,
}

impl Cluster {
    pub fn new() -> Cluster {
        let net = Net::new();
        let replicas = (0..4).map(|i| net.replica(i)).collect();
        Cluster {
            net,
            replicas,
            commits: vec![Vec::new(); 4],
            disks: vec![PersistedState::default(); 4],
        }
    }

    /// Steps replica `to` with `input` and runs the network to quiescence.
    pub fn inject(&mut self, to: u32, input: Input, drop: &dyn Fn(u32, u32, &Message) -> bool) {
        let mut queue = std::collections::VecDeque::new();
        queue.push_back((to, input));
        while let Some((at, input)) = queue.pop_front() {
            let out = self.replicas[at as usize].step(input);
            for o in out {
                match o {
                    Output::Broadcast(m) => {
                        for j in 0..4 {
                            if j != at {
                                queue.push_back((j, Input::Message(m.clone())));
                            }
                        }
                    }
                    Output::Send { to, message } => queue.push_back((to, Input::Message(message))),
                    Output::Commit(c) => self.commits[at as usize].push(c),
                    Output::Persist(op) => self.disks[at as usize].apply(&op),
                    _ => {}
                }
            }
            queue.retain(|(j, input)| match input {
                Input::Message(m) => {
                    let msg = m.decode_unverified().unwrap();
                    !drop(msg.sender(), *j, &msg)
                }
                _ => true,
            });
        }
    }
}

pub(crate) fn keep_all(_: u32, _: u32, _: &Message) -> bool {
    false
}
