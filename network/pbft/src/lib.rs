//! # cryptanet-pbft
//!
//! Practical Byzantine Fault Tolerance (Castro & Liskov, OSDI 1999 and TOCS
//! 2002) as a pure state machine: [`Replica::step`] takes one [`Input`] and
//! returns the [`Output`]s the shell must perform, in order. There is no
//! I/O, clock, randomness or async runtime in here; time arrives as
//! [`Input::TimeoutElapsed`] and persistence leaves as [`Output::Persist`].
//!
//! n = 3f + 1 replicas order opaque requests (encoded transaction envelopes)
//! in batches. A decided batch comes out as [`Output::Commit`] with a
//! [`CommitCertificate`] (2f + 1 signed COMMITs) whose digest is
//! `cryptanet_types::block::data_hash(&batch)`, the block's data hash.
//!
//! See `docs/pbft.md` for the protocol as implemented and the shell contract.
#![forbid(unsafe_code)]

pub mod cert;
pub mod config;
pub mod error;
pub mod io;
pub mod message;
pub mod metrics;
pub mod persist;
mod replica;
pub mod types;
use cryptanet_types::wire_bytes;

#[cfg(test)]
mod tests;

pub use cert::{CheckpointCert, CommitCertificate, PreparedCert};
pub use config::{Bug, Config};
pub use error::{Error, Result};
pub use io::{CommittedBatch, Input, Output, TimeoutKind};
pub use message::{Message, SignatureCheck, SignedMessage, Strict};
pub use metrics::Metrics;
pub use persist::{PersistOp, PersistedState, SlotRecord};
pub use replica::Replica;
pub use types::{chain_state, request_digest, ReplicaId, Seq, View, GENESIS_STATE};
