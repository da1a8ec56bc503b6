//! The simulated network: per-message latency (hence reordering), loss,
//! duplication and partitions, all drawn from the seeded RNG.

use super::plan::FaultPlan;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Link behaviour; becomes reliable when the fault phase ends.
pub struct Net {
    plan: FaultPlan,
    reliable: bool,
}

impl Net {
    /// A network following `plan`.
    pub fn new(plan: FaultPlan) -> Net {
        Net {
            plan,
            reliable: false,
        }
    }

    /// Ends loss, duplication and partitions.
    pub fn heal(&mut self) {
        self.reliable = true;
    }

    /// Whether `a` and `b` are on different sides of a partition at `now`.
    pub fn cut(&self, a: u32, b: u32, now: u64) -> bool {
        !self.reliable
            && self.plan.partitions.iter().any(|p| {
                now >= p.from && now < p.until && p.group.get(a as usize) != p.group.get(b as usize)
            })
    }

    /// Delays of the copies of one message from `from` to `to` sent at
    /// `now`: none if lost or cut, two if duplicated.
    pub fn route(&self, from: u32, to: u32, now: u64, rng: &mut ChaCha8Rng) -> Vec<u64> {
        let latency = |rng: &mut ChaCha8Rng| rng.gen_range(1..=self.plan.max_latency);
        if self.reliable {
            return vec![latency(rng)];
        }
        if self.cut(from, to, now) || rng.gen_bool(self.plan.loss) {
            return vec![];
        }
        let mut copies = vec![latency(rng)];
        if rng.gen_bool(self.plan.duplicate) {
            copies.push(latency(rng) * 3);
        }
        copies
    }
}

/// What becomes of one batch fetch (`FetchBatch`) during the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchFate {
    /// No answer (lost, timed out, source down or cut off).
    Fail,
    /// An answer whose bytes are not the batch asked for.
    WrongBytes,
    /// The source's honest answer, after this many ticks.
    Answer(u64),
}

impl Net {
    /// Draws the fate of a fetch by `node` from `source` at `now`: while
    /// faults last, 10 % fail and 10 % come back with other bytes, on top of
    /// partitions; afterwards every fetch from a reachable source is answered.
    pub fn fetch(&self, node: u32, source: u32, now: u64, rng: &mut ChaCha8Rng) -> FetchFate {
        if self.cut(node, source, now) {
            return FetchFate::Fail;
        }
        let rtt = 2 * rng.gen_range(1..=self.plan.max_latency);
        if self.reliable {
            return FetchFate::Answer(rtt);
        }
        match rng.gen_range(0..10) {
            0 => FetchFate::Fail,
            1 => FetchFate::WrongBytes,
            _ => FetchFate::Answer(rtt),
        }
    }
}
