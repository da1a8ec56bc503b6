//! A seeded, deterministic simulator for `cryptanet-pbft`.
//!
//! One seed drives everything: the fault plan (which replicas are Byzantine
//! and how, crashes and restarts, partitions, loss, duplication, latency),
//! client submissions and every network decision. Events run in simulated
//! time from a single ordered queue, so a seed replays exactly.
//!
//! A run has two phases. During the *fault phase* the network misbehaves and
//! honest replicas crash (possibly in the middle of performing a step's
//! outputs, to exercise persist-before-send). Then every crashed replica
//! restarts, partitions heal and the network becomes reliable; the *liveness
//! phase* must see every submitted request committed by every honest replica
//! within a bounded simulated time.
//!
//! Checkers ([`checker`]) run throughout: safety (no two honest replicas
//! commit different batches at a sequence number), in-order delivery,
//! certificate validity, and liveness at the end.

pub mod byzantine;
pub mod checker;
pub mod many;
pub mod memo;
pub mod net;
pub mod node;
pub mod plan;
pub mod runner;

pub use many::{run_seeds, Summary};
pub use plan::{FaultPlan, SimOptions};
pub use runner::{run_seed, SeedReport};
