//! # cryptanet-tests
//!
//! Cross-crate tests. [`sim`] is the seeded, deterministic PBFT fault
//! simulator used by the `pbft-sim` binary and the `tests/pbft_*.rs` CI tests.
#![forbid(unsafe_code)]

pub mod sim;
