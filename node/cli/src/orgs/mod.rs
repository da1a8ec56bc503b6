//! Organisation crypto material: what `cryptanet orgs generate` does.
//!
//! For each org `k` of `1..=N` the generator makes (or keeps) an ed25519 CA
//! with subject `O=Org<k>MSP, CN=ca.org<k>`, and issues from it one
//! certificate per identity: `peer<i>` (OU `peer`), `admin` (OU `admin`) and
//! `client` (OU `client`), each with subject `O=Org<k>MSP`. It then writes the
//! org's public definition (MSP id, CA certificate, peer addresses and peer
//! certificates) and checks every identity with the same
//! [`Verifier`](cryptanet_types::identity::Verifier) peers use.
//!
//! Keys come from the operating system's random source; certificates are
//! built by rcgen. Existing material is kept unless `force` is set, so
//! running the generator twice changes nothing.

mod files;
mod generate;
mod issue;
pub mod plan;

pub use generate::{generate, GenerateOptions, GenerateReport, OrgOutcome};
