//! Byzantine node types. Each wraps an honest replica core and rewrites or
//! adds to what it sends; the core itself has no Byzantine switches.

use super::plan::ByzantineKind;
use cryptanet_pbft::message::{Message, PrePrepare, Proposal, Vote};
use cryptanet_pbft::{Output, SignedMessage};
use cryptanet_types::block::data_hash;
use cryptanet_types::codec;
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::Digest;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// What a behaviour may use: its identity, its own key, the seeded RNG.
pub struct Ctx<'a> {
    /// This replica.
    pub id: u32,
    /// Number of replicas.
    pub n: usize,
    /// Its own signing key (it cannot sign for others).
    pub key: &'a SigningKey,
    /// The simulation RNG.
    pub rng: &'a mut ChaCha8Rng,
}

/// A Byzantine behaviour.
pub trait Behaviour: Send {
    /// Which behaviour this is.
    fn kind(&self) -> ByzantineKind;
    /// A deaf node neither receives nor sends; its core is not run.
    fn deaf(&self) -> bool {
        false
    }
    /// Sees every valid-looking message delivered to this node; may send more.
    fn observe(&mut self, _ctx: &mut Ctx<'_>, _m: &SignedMessage) -> Vec<Output> {
        Vec::new()
    }
    /// Rewrites one output of the wrapped core.
    fn rewrite(&mut self, ctx: &mut Ctx<'_>, out: Output) -> Vec<Output>;
}

/// Builds the behaviour of `kind`.
pub fn make(kind: ByzantineKind) -> Box<dyn Behaviour> {
    match kind {
        ByzantineKind::Silent => Box::new(Silent),
        ByzantineKind::Equivocator => Box::new(Equivocator),
        ByzantineKind::DoubleVoter => Box::new(DoubleVoter),
        ByzantineKind::Replayer => Box::new(Replayer {
            seen: VecDeque::new(),
        }),
        ByzantineKind::Forger => Box::new(Forger),
    }
}

fn decode(m: &SignedMessage) -> Option<Message> {
    codec::decode(&m.bytes).ok()
}

/// The PRE-PREPARE and batch of a proposal.
fn proposed(m: &SignedMessage) -> Option<(PrePrepare, Vec<Vec<u8>>)> {
    match decode(m)? {
        Message::Proposal(p) => match decode(&p.pre_prepare)? {
            Message::PrePrepare(pp) => Some((pp, p.batch)),
            _ => None,
        },
        _ => None,
    }
}

fn sign(ctx: &Ctx<'_>, msg: &Message) -> Option<SignedMessage> {
    SignedMessage::sign(ctx.key, msg).ok()
}

fn others(ctx: &Ctx<'_>) -> impl Iterator<Item = u32> {
    let id = ctx.id;
    (0..ctx.n as u32).filter(move |j| *j != id)
}

/// Crashed forever from the start: sends and receives nothing.
pub struct Silent;

impl Behaviour for Silent {
    fn kind(&self) -> ByzantineKind {
        ByzantineKind::Silent
    }
    fn deaf(&self) -> bool {
        true
    }
    fn rewrite(&mut self, _ctx: &mut Ctx<'_>, _out: Output) -> Vec<Output> {
        Vec::new()
    }
}

/// Equivocating primary: splits the replicas between two PRE-PREPAREs for
/// the same (view, seq), sends COMMIT for every digest it sees without
/// being prepared, and sends VIEW-CHANGEs without its prepared certificates.
pub struct Equivocator;

impl Equivocator {
    fn commit_all(ctx: &Ctx<'_>, view: u64, seq: u64, digest: Digest) -> Option<Output> {
        let vote = Vote {
            view,
            seq,
            digest,
            replica: ctx.id,
        };
        sign(ctx, &Message::Commit(vote)).map(Output::Broadcast)
    }
}

impl Behaviour for Equivocator {
    fn kind(&self) -> ByzantineKind {
        ByzantineKind::Equivocator
    }

    fn observe(&mut self, ctx: &mut Ctx<'_>, m: &SignedMessage) -> Vec<Output> {
        match proposed(m) {
            Some((pp, _)) => Self::commit_all(ctx, pp.view, pp.seq, pp.digest)
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    }

    fn rewrite(&mut self, ctx: &mut Ctx<'_>, out: Output) -> Vec<Output> {
        let Output::Broadcast(m) = &out else {
            return vec![out];
        };
        if let Some((pp, mut batch)) = proposed(m) {
            batch.push(format!("evil-{}-{}", pp.view, pp.seq).into_bytes());
            let alt = PrePrepare {
                digest: data_hash(&batch),
                ..pp
            };
            let alt_m = sign(ctx, &Message::PrePrepare(alt)).and_then(|inner| {
                sign(
                    ctx,
                    &Message::Proposal(Proposal {
                        pre_prepare: inner,
                        batch,
                        replica: ctx.id,
                    }),
                )
            });
            let Some(alt_m) = alt_m else {
                return vec![out];
            };
            let split = ctx.rng.gen_range(0..ctx.n as u32);
            let mut outs: Vec<Output> = others(ctx)
                .map(|to| Output::Send {
                    to,
                    message: if (to + split) % 2 == 0 {
                        m.clone()
                    } else {
                        alt_m.clone()
                    },
                })
                .collect();
            outs.extend(Self::commit_all(ctx, pp.view, pp.seq, pp.digest));
            outs.extend(Self::commit_all(ctx, alt.view, alt.seq, alt.digest));
            return outs;
        }
        match decode(m) {
            Some(Message::ViewChange(mut vc)) => {
                vc.prepared.clear();
                sign(ctx, &Message::ViewChange(vc))
                    .map(Output::Broadcast)
                    .into_iter()
                    .collect()
            }
            _ => vec![out],
        }
    }
}

/// Sends each PREPARE, COMMIT and CHECKPOINT for a random digest to a
/// random half of the replicas, and the real one to the rest.
pub struct DoubleVoter;

impl Behaviour for DoubleVoter {
    fn kind(&self) -> ByzantineKind {
        ByzantineKind::DoubleVoter
    }

    fn rewrite(&mut self, ctx: &mut Ctx<'_>, out: Output) -> Vec<Output> {
        let Output::Broadcast(m) = &out else {
            return vec![out];
        };
        let fake = Digest::of(&ctx.rng.gen::<[u8; 16]>());
        let alt = match decode(m) {
            Some(Message::Prepare(v)) => Message::Prepare(Vote { digest: fake, ..v }),
            Some(Message::Commit(v)) => Message::Commit(Vote { digest: fake, ..v }),
            Some(Message::Checkpoint(mut c)) => {
                c.state = fake;
                Message::Checkpoint(c)
            }
            _ => return vec![out],
        };
        let Some(alt_m) = sign(ctx, &alt) else {
            return vec![out];
        };
        let split = ctx.rng.gen_range(0..ctx.n as u32);
        others(ctx)
            .map(|to| Output::Send {
                to,
                message: if (to + split) % 2 == 0 {
                    m.clone()
                } else {
                    alt_m.clone()
                },
            })
            .collect()
    }
}

/// Follows the protocol but also replays messages it received earlier
/// (old views, old sequence numbers, other replicas' votes) to random peers.
pub struct Replayer {
    seen: VecDeque<SignedMessage>,
}

impl Behaviour for Replayer {
    fn kind(&self) -> ByzantineKind {
        ByzantineKind::Replayer
    }

    fn observe(&mut self, ctx: &mut Ctx<'_>, m: &SignedMessage) -> Vec<Output> {
        if self.seen.len() >= 512 {
            self.seen.pop_front();
        }
        self.seen.push_back(m.clone());
        let mut outs = Vec::new();
        if ctx.rng.gen_bool(0.3) {
            let old = &self.seen[ctx.rng.gen_range(0..self.seen.len())];
            let to = ctx.rng.gen_range(0..ctx.n as u32);
            if to != ctx.id {
                outs.push(Output::Send {
                    to,
                    message: old.clone(),
                });
            }
        }
        outs
    }

    fn rewrite(&mut self, _ctx: &mut Ctx<'_>, out: Output) -> Vec<Output> {
        vec![out]
    }
}

/// Follows the protocol but also sends forgeries: its messages re-labelled
/// as another replica's (signed with its own key), and messages with a
/// flipped bit in body or signature.
pub struct Forger;

fn relabel(msg: &mut Message, as_replica: u32) {
    match msg {
        Message::Request(m) => m.replica = as_replica,
        Message::PrePrepare(m) => m.replica = as_replica,
        Message::Prepare(m) | Message::Commit(m) => m.replica = as_replica,
        Message::Checkpoint(m) => m.replica = as_replica,
        Message::ViewChange(m) => m.replica = as_replica,
        Message::NewView(m) => m.replica = as_replica,
        Message::Status(m) => m.replica = as_replica,
        Message::Decided(m) => m.replica = as_replica,
        Message::Proposal(m) => m.replica = as_replica,
    }
}

impl Behaviour for Forger {
    fn kind(&self) -> ByzantineKind {
        ByzantineKind::Forger
    }

    fn rewrite(&mut self, ctx: &mut Ctx<'_>, out: Output) -> Vec<Output> {
        let Output::Broadcast(m) = &out else {
            return vec![out];
        };
        let mut forged = m.clone();
        match ctx.rng.gen_range(0..3) {
            0 => {
                if let Some(mut msg) = decode(m) {
                    let victim =
                        (ctx.id + 1 + ctx.rng.gen_range(0..ctx.n as u32 - 1)) % ctx.n as u32;
                    relabel(&mut msg, victim);
                    if let Some(s) = sign(ctx, &msg) {
                        forged = s;
                    }
                }
            }
            1 => {
                let i = ctx.rng.gen_range(0..forged.bytes.len().max(1));
                if let Some(b) = forged.bytes.get_mut(i) {
                    *b ^= 1 << ctx.rng.gen_range(0..8);
                }
            }
            _ => {
                let i = ctx.rng.gen_range(0..64);
                forged.signature.0[i] ^= 1 << ctx.rng.gen_range(0..8);
            }
        }
        vec![out, Output::Broadcast(forged)]
    }
}
