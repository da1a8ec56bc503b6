//! Organisation identities, in the manner of Fabric's MSP.
//!
//! Each organisation has an ed25519 certificate authority. Its CA issues
//! X.509 certificates to peers, admins and clients; the role is carried in
//! the subject's organizational unit (OU), the organisation's MSP id in the
//! subject's organization (O). A [`Verifier`](verifier::Verifier) built from
//! the network's org definitions accepts a signature only from a valid,
//! unexpired certificate issued by a member org's CA with the required role.

use serde::{Deserialize, Serialize};

mod cert;
pub mod info;
pub mod local;
pub mod org;
pub mod pem;
#[cfg(test)]
pub(crate) mod testkit;
pub mod verifier;

pub use info::CertInfo;
pub use local::LocalIdentity;
pub use org::{OrgDefinition, PeerDef};
pub use pem::{parse_cert_pem, parse_signing_key_pem};
pub use verifier::{Identity, Verifier};

/// What a certificate holder may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// A peer: endorses, orders, commits.
    Peer,
    /// An org administrator: approves chaincode and models.
    Admin,
    /// An application client: submits proposals.
    Client,
}

impl Role {
    /// The OU string used in certificates.
    pub fn as_ou(self) -> &'static str {
        match self {
            Role::Peer => "peer",
            Role::Admin => "admin",
            Role::Client => "client",
        }
    }

    /// Parses an OU string.
    pub fn from_ou(ou: &str) -> Option<Role> {
        match ou {
            "peer" => Some(Role::Peer),
            "admin" => Some(Role::Admin),
            "client" => Some(Role::Client),
            _ => None,
        }
    }
}
