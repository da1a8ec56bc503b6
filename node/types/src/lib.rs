//! # cryptanet-types
//!
//! The vocabulary every CryptaNet crate shares: transactions (proposals,
//! endorsements, envelopes), read/write sets, blocks, versions, digests and
//! signatures, plus the X.509 identity verifier (Fabric's MSP in miniature).
//!
//! Everything here is pure: no I/O, no clock, no randomness. Values that are
//! hashed or signed are encoded with exactly one bincode configuration
//! ([`codec`]); hashes and signatures always cover the bytes that travel, which
//! are never re-encoded to be verified.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod block;
pub mod codec;
pub mod crypto;
pub mod error;
pub mod hash;
pub mod identity;
pub mod merkle;
pub mod rwset;
pub mod tx;
pub mod validation;
pub mod version;
pub mod wire_bytes;

pub use block::{Block, BlockHeader, BlockMetadata};
pub use crypto::{PublicKey, Signature};
pub use error::{Error, Result};
pub use hash::Digest;
pub use rwset::{KvRead, KvWrite, NsRwSet, RangeQueryInfo, TxRwSet};
pub use tx::{
    ChaincodeEvent, Endorsement, Envelope, Proposal, ProposalResponsePayload, Response,
    SignedProposal, TxPayload,
};
pub use validation::ValidationCode;
pub use version::Version;
