//! The event loop: one seed, one ordered event queue, simulated time.

use super::byzantine::{self, Ctx};
use super::checker::{Checker, Violation};
use super::memo::MemoCheck;
use super::net::{FetchFate, Net};
use super::node::SimNode;
use super::plan::{ByzantineKind, FaultPlan, SimOptions};
use cryptanet_pbft::{
    request_digest, CheckpointCert, Input, Output, PersistedState, SignedMessage, TimeoutKind,
};
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::{Digest, PublicKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Client retry period (ticks): requests not yet everywhere are resubmitted.
const RETRY_EVERY: u64 = 600;
/// Delay of a state transfer (ticks).
const STATE_TRANSFER_DELAY: u64 = 20;

enum Event {
    Deliver {
        to: u32,
        msg: SignedMessage,
    },
    Timer {
        node: u32,
        epoch: u64,
        kind: TimeoutKind,
        generation: u64,
    },
    Submit {
        request: usize,
        to: u32,
    },
    Crash {
        node: u32,
    },
    Restart {
        node: u32,
    },
    StateReady {
        node: u32,
        epoch: u64,
        cert: CheckpointCert,
    },
    Fetch {
        node: u32,
        epoch: u64,
        seq: u64,
        digest: Digest,
        from: Vec<u32>,
    },
    Fetched {
        node: u32,
        epoch: u64,
        seq: u64,
        digest: Digest,
        batch: Vec<Vec<u8>>,
    },
    EndFaults,
    Retry,
}

/// What happened in one seed.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Number of replicas.
    pub n: usize,
    /// Byzantine replicas and their behaviour.
    pub byzantine: Vec<(u32, ByzantineKind)>,
    /// Broken invariants (empty on success).
    pub violations: Vec<Violation>,
    /// Simulated time at the end (ticks).
    pub sim_time: u64,
    /// Highest honest ledger height.
    pub height: u64,
    /// View changes started, summed over honest replicas.
    pub view_changes: u64,
    /// Messages dropped as invalid, summed over honest replicas.
    pub invalid_dropped: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Fetched batches honest replicas accepted (after a view change).
    pub batches_fetched: u64,
    /// Fetched bytes honest replicas refused (not the batch asked for).
    pub fetches_refused: u64,
    /// One line per replica describing where it ended (for diagnosis).
    pub final_states: Vec<String>,
}

impl SeedReport {
    /// Whether every invariant held.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The command that replays this seed.
    pub fn replay_command(&self) -> String {
        format!(
            "cargo build --release -p cryptanet-tests --bin pbft-sim && \
             $CARGO_TARGET_DIR/release/pbft-sim --n {} --start {} --seeds 1 --verbose",
            self.n, self.seed
        )
    }
}

struct Sim {
    opts: SimOptions,
    rng: ChaCha8Rng,
    now: u64,
    counter: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<SimNode>,
    keys: Vec<PublicKey>,
    net: Net,
    requests: Vec<Vec<u8>>,
    digests: Vec<Digest>,
    submitted: BTreeSet<usize>,
    checker: Checker,
    faults_over: bool,
    delivered: u64,
    memo: Arc<MemoCheck>,
}

/// Runs one seed to completion.
pub fn run_seed(seed: u64, opts: &SimOptions) -> SeedReport {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan = FaultPlan::draw(opts, &mut rng);
    let n = opts.n;
    let secret: Vec<SigningKey> = (0..n).map(|_| SigningKey::generate(&mut rng)).collect();
    let keys: Vec<PublicKey> = secret.iter().map(PublicKey::of).collect();
    let mut nodes = Vec::with_capacity(n);
    for (i, key) in secret.into_iter().enumerate() {
        let id = i as u32;
        let Some(config) = opts.replica_config(id) else {
            return config_failure(seed, opts);
        };
        let byzantine = plan
            .byzantine
            .iter()
            .find(|(b, _)| *b == id)
            .map(|(_, k)| byzantine::make(*k));
        nodes.push(SimNode {
            id,
            config,
            key,
            replica: None,
            disk: PersistedState::default(),
            ledger: BTreeMap::new(),
            executed: BTreeSet::new(),
            epoch: 0,
            crash_pending: false,
            byzantine,
        });
    }
    let requests: Vec<Vec<u8>> = (0..opts.requests)
        .map(|i| {
            let pad = rng.gen_range(0..48);
            let mut r = format!("seed{seed}-req{i}-").into_bytes();
            r.extend(std::iter::repeat_n(b'x', pad));
            r
        })
        .collect();
    let digests = requests.iter().map(|r| request_digest(r)).collect();
    let memo = Arc::new(MemoCheck::default());
    let mut sim = Sim {
        opts: opts.clone(),
        rng,
        now: 0,
        counter: 0,
        queue: BTreeMap::new(),
        checker: Checker::new(keys.clone(), memo.clone(), opts.check_certificates),
        nodes,
        keys,
        net: Net::new(plan.clone()),
        requests,
        digests,
        submitted: BTreeSet::new(),
        faults_over: false,
        delivered: 0,
        memo,
    };
    sim.setup(&plan);
    sim.run();
    SeedReport {
        seed,
        n,
        byzantine: plan.byzantine.clone(),
        violations: sim.checker.violations.clone(),
        sim_time: sim.now,
        height: sim.honest().map(|x| x.height()).max().unwrap_or(0),
        view_changes: sim
            .honest()
            .filter_map(|x| x.replica.as_ref())
            .map(|r| r.metrics().view_changes_started)
            .sum(),
        invalid_dropped: sim
            .honest()
            .filter_map(|x| x.replica.as_ref())
            .map(|r| r.metrics().invalid_signature_or_encoding + r.metrics().invalid_content)
            .sum(),
        delivered: sim.delivered,
        batches_fetched: sim
            .honest()
            .filter_map(|x| x.replica.as_ref())
            .map(|r| r.metrics().batches_fetched)
            .sum(),
        fetches_refused: sim
            .honest()
            .filter_map(|x| x.replica.as_ref())
            .map(|r| r.metrics().bad_inputs)
            .sum(),
        final_states: sim.nodes.iter().map(describe).collect(),
    }
}

fn describe(x: &SimNode) -> String {
    let kind = x
        .byzantine
        .as_ref()
        .map_or("honest".to_string(), |b| format!("{:?}", b.kind()));
    match &x.replica {
        None => format!("replica {} ({kind}): down, ledger {}", x.id, x.height()),
        Some(r) => format!(
            "replica {} ({kind}): view {} changing_to {:?} executed {} stable {} ledger {} pending {} {:?}",
            x.id,
            r.view(),
            r.changing_to(),
            r.last_executed(),
            r.stable_checkpoint(),
            x.height(),
            r.pending_requests(),
            r.metrics()
        ),
    }
}

fn config_failure(seed: u64, opts: &SimOptions) -> SeedReport {
    SeedReport::failed(
        seed,
        opts,
        Violation::Setup {
            reason: "invalid replica configuration",
        },
    )
}

impl SeedReport {
    /// A report for a seed that could not run.
    pub fn failed(seed: u64, opts: &SimOptions, v: Violation) -> SeedReport {
        SeedReport {
            seed,
            n: opts.n,
            byzantine: vec![],
            violations: vec![v],
            sim_time: 0,
            height: 0,
            view_changes: 0,
            invalid_dropped: 0,
            delivered: 0,
            batches_fetched: 0,
            fetches_refused: 0,
            final_states: vec![],
        }
    }
}

impl Sim {
    fn honest(&self) -> impl Iterator<Item = &SimNode> {
        self.nodes.iter().filter(|x| x.honest())
    }

    fn at(&mut self, time: u64, e: Event) {
        self.counter += 1;
        self.queue.insert((time, self.counter), e);
    }

    fn setup(&mut self, plan: &FaultPlan) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].byzantine.as_ref().is_some_and(|b| b.deaf()) {
                continue;
            }
            self.boot(i as u32);
        }
        let n = self.opts.n as u32;
        let window = (self.opts.fault_phase * 4 / 5).max(1);
        for request in 0..self.requests.len() {
            let t = self.rng.gen_range(0..window);
            let to = self.rng.gen_range(0..n);
            self.at(t, Event::Submit { request, to });
        }
        for c in &plan.crashes {
            self.at(c.at, Event::Crash { node: c.node });
            self.at(c.restart_at, Event::Restart { node: c.node });
        }
        self.at(self.opts.fault_phase, Event::EndFaults);
        self.at(RETRY_EVERY, Event::Retry);
    }

    fn run(&mut self) {
        let deadline = self.opts.fault_phase + self.opts.liveness_bound;
        while let Some(((t, _), e)) = self.queue.pop_first() {
            if t > deadline {
                break;
            }
            self.now = t;
            self.handle(e);
            if !self.checker.violations.is_empty() {
                return;
            }
        }
        let digests = self.digests.clone();
        self.checker.liveness(&self.nodes, &digests);
    }

    fn all_done(&self) -> bool {
        self.submitted.len() == self.requests.len()
            && self
                .honest()
                .all(|x| self.digests.iter().all(|d| x.executed.contains(d)))
    }

    fn handle(&mut self, e: Event) {
        match e {
            Event::Deliver { to, msg } => {
                self.delivered += 1;
                self.observe(to, &msg);
                self.step(to, Input::Message(msg));
            }
            Event::Timer {
                node,
                epoch,
                kind,
                generation,
            } => {
                if self.nodes[node as usize].epoch == epoch {
                    self.step(node, Input::TimeoutElapsed { kind, generation });
                }
            }
            Event::Submit { request, to } => {
                self.submitted.insert(request);
                let payload = self.requests[request].clone();
                self.step(to, Input::ClientRequest(payload));
            }
            Event::Crash { node } => {
                let x = &mut self.nodes[node as usize];
                if x.replica.is_some() && !self.faults_over {
                    x.crash_pending = true;
                }
            }
            Event::Restart { node } => {
                if self.nodes[node as usize].replica.is_none() {
                    self.boot(node);
                }
            }
            Event::StateReady { node, epoch, cert } => self.state_ready(node, epoch, cert),
            Event::Fetch {
                node,
                epoch,
                seq,
                digest,
                from,
            } => self.fetch(node, epoch, seq, digest, &from),
            Event::Fetched {
                node,
                epoch,
                seq,
                digest,
                batch,
            } => {
                if self.nodes[node as usize].epoch == epoch {
                    self.step(node, Input::BatchFetched { seq, digest, batch });
                }
            }
            Event::EndFaults => {
                self.faults_over = true;
                self.net.heal();
                for i in 0..self.nodes.len() {
                    self.nodes[i].crash_pending = false;
                    let deaf = self.nodes[i].byzantine.as_ref().is_some_and(|b| b.deaf());
                    if self.nodes[i].replica.is_none() && !deaf {
                        self.boot(i as u32);
                    }
                }
            }
            Event::Retry => {
                if self.faults_over && self.all_done() {
                    self.queue.clear();
                    return;
                }
                let n = self.opts.n as u32;
                let pending: Vec<usize> = self
                    .submitted
                    .iter()
                    .copied()
                    .filter(|i| {
                        let d = self.digests[*i];
                        self.honest().any(|x| !x.executed.contains(&d))
                    })
                    .collect();
                for request in pending {
                    let to = self.rng.gen_range(0..n);
                    let payload = self.requests[request].clone();
                    self.step(to, Input::ClientRequest(payload));
                }
                let next = if self.faults_over { 100 } else { RETRY_EVERY };
                self.at(self.now + next, Event::Retry);
            }
        }
    }

    fn boot(&mut self, node: u32) {
        let keys = self.keys.clone();
        let x = &mut self.nodes[node as usize];
        x.crash_pending = false;
        match x.boot(&keys, &self.memo) {
            Ok(out) => self.perform(node, out),
            Err(e) => self.checker.violations.push(Violation::Restart {
                node,
                reason: e.to_string(),
            }),
        }
    }

    fn observe(&mut self, node: u32, msg: &SignedMessage) {
        let x = &mut self.nodes[node as usize];
        let Some(b) = x.byzantine.as_mut() else {
            return;
        };
        let mut ctx = Ctx {
            id: x.id,
            n: self.opts.n,
            key: &x.key,
            rng: &mut self.rng,
        };
        let extra = b.observe(&mut ctx, msg);
        self.perform(node, extra);
    }

    fn step(&mut self, node: u32, input: Input) {
        let x = &mut self.nodes[node as usize];
        let Some(replica) = x.replica.as_mut() else {
            return;
        };
        let mut out = replica.step(input);
        if let Some(b) = x.byzantine.as_mut() {
            let mut ctx = Ctx {
                id: x.id,
                n: self.opts.n,
                key: &x.key,
                rng: &mut self.rng,
            };
            out = out
                .into_iter()
                .flat_map(|o| b.rewrite(&mut ctx, o))
                .collect();
        }
        if x.crash_pending {
            // Crash part-way through performing this step's outputs.
            let cut = self.rng.gen_range(0..=out.len());
            out.truncate(cut);
            self.perform(node, out);
            let x = &mut self.nodes[node as usize];
            x.replica = None;
            x.crash_pending = false;
            return;
        }
        self.perform(node, out);
    }

    fn perform(&mut self, node: u32, outputs: Vec<Output>) {
        for o in outputs {
            match o {
                Output::Persist(op) => self.nodes[node as usize].disk.apply(&op),
                Output::Send { to, message } => self.send(node, to, message),
                Output::Broadcast(message) => {
                    for to in 0..self.opts.n as u32 {
                        if to != node {
                            self.send(node, to, message.clone());
                        }
                    }
                }
                Output::Commit(c) => {
                    let x = &mut self.nodes[node as usize];
                    if x.honest() {
                        self.checker.on_commit(x, c);
                    }
                }
                Output::ScheduleTimeout {
                    kind,
                    generation,
                    after,
                } => {
                    let epoch = self.nodes[node as usize].epoch;
                    self.at(
                        self.now + after,
                        Event::Timer {
                            node,
                            epoch,
                            kind,
                            generation,
                        },
                    );
                }
                Output::NeedState(cert) => {
                    let epoch = self.nodes[node as usize].epoch;
                    self.at(
                        self.now + STATE_TRANSFER_DELAY,
                        Event::StateReady { node, epoch, cert },
                    );
                }
                Output::FetchBatch { seq, digest, from } => {
                    let epoch = self.nodes[node as usize].epoch;
                    self.at(
                        self.now,
                        Event::Fetch {
                            node,
                            epoch,
                            seq,
                            digest,
                            from,
                        },
                    );
                }
            }
        }
    }

    fn send(&mut self, from: u32, to: u32, msg: SignedMessage) {
        if to as usize >= self.nodes.len() {
            return;
        }
        let delays = self.net.route(from, to, self.now, &mut self.rng);
        for d in delays {
            self.at(
                self.now + d,
                Event::Deliver {
                    to,
                    msg: msg.clone(),
                },
            );
        }
    }

    /// One fetch attempt, as a shell would make it: ask one replica of
    /// `from` (one of the first three, the likeliest holders, most of the
    /// time). A down, cut-off or lossy source gives no answer; a Byzantine
    /// one gives none or other bytes; an honest one answers from its
    /// replica or its ledger. Wrong bytes go to the replica unchecked, which
    /// must refuse them. A failed attempt is retried by the replica.
    fn fetch(&mut self, node: u32, epoch: u64, seq: u64, digest: Digest, from: &[u32]) {
        if from.is_empty() || self.nodes[node as usize].epoch != epoch {
            return;
        }
        let pick = if self.rng.gen_bool(0.8) {
            from.len().min(3)
        } else {
            from.len()
        };
        let source = from[self.rng.gen_range(0..pick)];
        let Some(x) = self.nodes.get(source as usize) else {
            return;
        };
        let honest = x.honest();
        let answer = x
            .replica
            .as_ref()
            .and_then(|r| r.batch(seq, &digest))
            .or_else(|| {
                x.ledger
                    .get(&seq)
                    .filter(|e| e.digest == digest)
                    .map(|e| e.batch.clone())
            });
        let up = x.replica.is_some();
        let fate = self.net.fetch(node, source, self.now, &mut self.rng);
        let batch = match (fate, honest && up, answer) {
            (FetchFate::Fail, _, _) => return,
            (FetchFate::Answer(_), true, Some(b)) => b,
            (FetchFate::Answer(_), true, None) => return,
            (_, false, _) if !up || self.rng.gen_bool(0.5) => return,
            (_, _, b) => {
                let mut b = b.unwrap_or_default();
                b.push(format!("not-the-batch-{seq}").into_bytes());
                b
            }
        };
        let delay = match fate {
            FetchFate::Answer(d) => d,
            _ => 2,
        };
        self.at(
            self.now + delay,
            Event::Fetched {
                node,
                epoch,
                seq,
                digest,
                batch,
            },
        );
    }

    /// Copies the missing batches from an honest replica whose ledger
    /// reaches the checkpoint with the same state digest, then tells the
    /// replica the transfer is done.
    fn state_ready(&mut self, node: u32, epoch: u64, cert: CheckpointCert) {
        if self.nodes[node as usize].epoch != epoch || self.nodes[node as usize].replica.is_none() {
            return;
        }
        let source = self.nodes.iter().position(|x| {
            x.id != node
                && x.honest()
                && x.ledger
                    .get(&cert.seq)
                    .is_some_and(|e| e.state == cert.state)
        });
        let Some(source) = source else {
            self.at(self.now + 100, Event::StateReady { node, epoch, cert });
            return;
        };
        let from = self.nodes[node as usize].height() + 1;
        let entries: Vec<(u64, Digest, Vec<Vec<u8>>)> = self.nodes[source]
            .ledger
            .range(from..)
            .take_while(|(s, _)| **s <= cert.seq)
            .map(|(s, e)| (*s, e.digest, e.batch.clone()))
            .collect();
        let mut requests = Vec::new();
        let honest = self.nodes[node as usize].honest();
        for (seq, digest, batch) in entries {
            requests.extend(batch.iter().map(|p| request_digest(p)));
            let x = &mut self.nodes[node as usize];
            if honest {
                self.checker.append(x, seq, digest, batch);
            }
        }
        self.step(
            node,
            Input::StateTransferred {
                seq: cert.seq,
                state: cert.state,
                requests,
            },
        );
    }
}
