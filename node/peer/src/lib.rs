//! # cryptanet-node
//!
//! The CryptaNet peer process. One peer per organisation (or more) runs
//! this; together the peers are the ordering service (PBFT) and each keeps
//! its own copy of the ledger.
//!
//! The pure protocol lives elsewhere (`cryptanet-pbft`); this crate is the
//! I/O shell around it:
//!
//! * [`config`]: the peer's TOML configuration;
//! * [`network`]: the replica set derived from the org definitions;
//! * [`store`]: durable PBFT state (persist-before-send);
//! * [`endorser`]: executing proposals (WASM chaincode and `_lifecycle`)
//!   and, on the gateway peer, gathering endorsements from other peers;
//! * [`validate`]: commit-time validation of each transaction, with the
//!   endorsement rules of [`policy`];
//! * [`engine`]: the event loop driving the PBFT core, timers, commits and
//!   block sync;
//! * [`batch_fetch`]: fetching and serving PBFT batches by digest;
//! * [`timers`]: generation-tagged tokio timers.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod batch_fetch;
pub mod config;
pub mod endorser;
pub mod engine;
pub mod error;
pub mod grpc;
pub mod network;
pub mod policy;
pub mod run;
pub mod store;
pub mod sync;
pub mod timers;
pub mod validate;
mod validate_sigs;

pub use error::{Error, Result};
