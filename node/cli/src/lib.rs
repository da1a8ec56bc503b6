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

pub mod cmd;
pub mod error;
pub mod material;
pub mod orgs;

pub use error::{Error, Result};
