//! # cryptanet-chaincode
//!
//! The chaincode host: runs WebAssembly chaincode in wasmtime so that every
//! endorsing peer executes exactly the same bytes, sandboxed, metered and
//! deterministic.
//!
//! * [`Runtime`] — a deterministic engine (fuel on, NaN canonicalisation on,
//!   relaxed SIMD and threads off), per-invocation fuel and memory limits,
//!   modules compiled once per code hash (memory and disk cache),
//!   `InstancePre` plus the pooling allocator for cheap invocations.
//! * The host API of `cryptanet_sdk::abi`, with Fabric's semantics, over a
//!   [`StateView`] of committed state, recorded by a [`TxSimulator`] into a
//!   read/write set. `detect` goes through the [`Detector`] trait.
//! * [`lifecycle`] — packages, the install store, and the `_lifecycle`
//!   rules (approve per org, commit on majority) as pure functions over
//!   state; [`policy`] — endorsement policy expressions.
//!
//! One execution yields an [`Execution`]: read/write set, response, optional
//! event, fuel used; [`Execution::into_payload`] makes the
//! `ProposalResponsePayload` endorsers sign.

mod cache;
pub mod config;
pub mod detector;
pub mod epoch;
pub mod error;
pub mod execution;
mod host;
pub mod lifecycle;
pub mod model_detector;
pub mod policy;
mod runtime;
pub mod simulator;
pub mod state;
mod wasm_check;

pub use config::RuntimeConfig;
pub use detector::{Detector, TestDetector};
pub use error::{Error, Result};
pub use execution::{Execution, Invocation};
pub use model_detector::ModelDetector;
pub use runtime::{Chaincode, Runtime};
pub use simulator::TxSimulator;
pub use state::{HistoryEntry, MemoryState, StateView, VersionedValue};
