//! # cryptanet-cli
//!
//! The `cryptanet` client and admin command line. Each command group lives
//! in its own file under [`cmd`]; the work behind a group lives in a module of
//! its own (for `orgs`, [`orgs`]) so other tools and tests can call it
//! without going through argument parsing.
//!
//! Command groups so far:
//! - `cryptanet orgs generate`: organisation CAs, peer/admin/client
//!   certificates and keys, and the public org definitions under `orgs/`.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bench;
pub mod client;
pub mod cmd;
pub mod error;
pub mod lifecycle;
pub mod material;
pub mod orgs;

pub use error::{Error, Result};
pub mod train;
pub mod txgen;

/// A tiny deterministic generator (SplitMix64) for nonces and payloads.
pub fn txgen_rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
