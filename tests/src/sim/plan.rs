//! Simulation options and the per-seed fault plan.

use cryptanet_pbft::Config;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Byzantine behaviours a node can be given (see [`crate::sim::byzantine`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByzantineKind {
    /// Sends nothing at all.
    Silent,
    /// As primary sends different PRE-PREPAREs to different replicas, commits
    /// to every digest it sees, and hides prepared certificates in VIEW-CHANGEs.
    Equivocator,
    /// Sends PREPARE/COMMIT/CHECKPOINT for a different digest to half the replicas.
    DoubleVoter,
    /// Re-sends old messages (old views, old sequence numbers) at random.
    Replayer,
    /// Sends messages with forged signatures and tampered bodies.
    Forger,
}

impl ByzantineKind {
    /// Every behaviour.
    pub const ALL: [ByzantineKind; 5] = [
        ByzantineKind::Silent,
        ByzantineKind::Equivocator,
        ByzantineKind::DoubleVoter,
        ByzantineKind::Replayer,
        ByzantineKind::Forger,
    ];
}

/// Knobs common to all seeds of a run.
#[derive(Clone)]
pub struct SimOptions {
    /// Number of replicas (3f + 1).
    pub n: usize,
    /// Client requests submitted during the fault phase.
    pub requests: usize,
    /// Length of the fault phase (ticks).
    pub fault_phase: u64,
    /// Bound on the liveness phase (ticks): all requests must be committed
    /// by all honest replicas within this long after the faults stop.
    pub liveness_bound: u64,
    /// Whether faults are injected at all.
    pub faults: bool,
    /// Force these Byzantine behaviours (overrides the seeded choice).
    pub byzantine: Option<Vec<ByzantineKind>>,
    /// Adjusts every replica's configuration (used to inject bugs in tests).
    pub config_hook: Option<fn(&mut Config)>,
    /// Run the certificate checker (turned off only to show that the
    /// safety checker alone catches a bug).
    pub check_certificates: bool,
}

impl SimOptions {
    /// Defaults sized for CI: n replicas, a few dozen requests, faults on.
    pub fn new(n: usize) -> SimOptions {
        SimOptions {
            n,
            requests: if n > 4 { 14 } else { 20 },
            fault_phase: 2_500,
            liveness_bound: 30_000,
            faults: true,
            byzantine: None,
            config_hook: None,
            check_certificates: true,
        }
    }

    /// The replica configuration used in simulation (ticks are milliseconds).
    pub fn replica_config(&self, id: u32) -> Option<Config> {
        let mut c = Config::new(self.n, id).ok()?;
        c.checkpoint_interval = 4;
        c.watermark_window = 8;
        c.max_batch_count = 4;
        c.max_batch_bytes = 256;
        c.batch_timeout = 5;
        c.request_timeout = 300;
        c.view_change_timeout = 300;
        c.status_interval = 400;
        if let Some(hook) = self.config_hook {
            hook(&mut c);
        }
        Some(c)
    }
}

/// A crash of replica `node` at `at`, restarted at `restart_at`.
#[derive(Clone, Debug)]
pub struct Crash {
    /// Replica.
    pub node: u32,
    /// When it crashes (at its next step after this time, possibly mid-step).
    pub at: u64,
    /// When it restarts (at the latest when the fault phase ends).
    pub restart_at: u64,
}

/// A network split during `[from, until)`: `group[i]` is replica i's side.
#[derive(Clone, Debug)]
pub struct Partition {
    /// Start.
    pub from: u64,
    /// End.
    pub until: u64,
    /// Side of each replica.
    pub group: Vec<u8>,
}

/// Everything one seed decides up front.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// Byzantine replicas and their behaviour.
    pub byzantine: Vec<(u32, ByzantineKind)>,
    /// Crashes of honest replicas.
    pub crashes: Vec<Crash>,
    /// Partitions.
    pub partitions: Vec<Partition>,
    /// Message loss probability during the fault phase.
    pub loss: f64,
    /// Duplication probability during the fault phase.
    pub duplicate: f64,
    /// Largest one-way latency (ticks); the smallest is 1.
    pub max_latency: u64,
}

impl FaultPlan {
    /// Draws a plan for `opts` from `rng`.
    pub fn draw(opts: &SimOptions, rng: &mut ChaCha8Rng) -> FaultPlan {
        let n = opts.n as u32;
        let f = (opts.n - 1) / 3;
        let max_latency = [3, 10, 30][rng.gen_range(0..3)];
        if !opts.faults {
            return FaultPlan {
                byzantine: vec![],
                crashes: vec![],
                partitions: vec![],
                loss: 0.0,
                duplicate: 0.0,
                max_latency,
            };
        }
        let kinds: Vec<ByzantineKind> = match &opts.byzantine {
            Some(k) => k.clone(),
            None => {
                let count = rng.gen_range(0..=f);
                (0..count)
                    .map(|_| ByzantineKind::ALL[rng.gen_range(0..ByzantineKind::ALL.len())])
                    .collect()
            }
        };
        let mut ids: Vec<u32> = (0..n).collect();
        // Favour the first primaries so equivocation gets exercised.
        let mut byzantine = Vec::new();
        for kind in kinds {
            let pick = if rng.gen_bool(0.5) {
                0
            } else {
                rng.gen_range(0..ids.len())
            };
            byzantine.push((ids.remove(pick), kind));
        }
        let phase = opts.fault_phase;
        let mut crashes = Vec::new();
        for _ in 0..rng.gen_range(0..=2) {
            let node = ids[rng.gen_range(0..ids.len())];
            let at = rng.gen_range(0..phase);
            let restart_at = (at + rng.gen_range(50..1_500)).min(phase);
            crashes.push(Crash {
                node,
                at,
                restart_at,
            });
        }
        let mut partitions = Vec::new();
        for _ in 0..rng.gen_range(0..=2) {
            let from = rng.gen_range(0..phase);
            let until = (from + rng.gen_range(100..1_500)).min(phase);
            let group = (0..n).map(|_| rng.gen_range(0..2u8)).collect();
            partitions.push(Partition { from, until, group });
        }
        FaultPlan {
            byzantine,
            crashes,
            partitions,
            loss: [0.0, 0.02, 0.1][rng.gen_range(0..3)],
            duplicate: [0.0, 0.05][rng.gen_range(0..2)],
            max_latency,
        }
    }
}
