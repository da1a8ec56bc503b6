//! # cryptanet-proto
//!
//! The public gRPC API of a CryptaNet peer (package `cryptanet.v1`):
//!
//! - [`v1`]: prost messages and tonic clients and servers generated from
//!   `proto/cryptanet/v1/*.proto` (services `Gateway`, `Deliver`, `Admin`);
//! - [`FILE_DESCRIPTOR_SET`]: the encoded descriptors, for the server
//!   reflection service;
//! - [`limits`]: default message size limits and a way to apply them to every
//!   generated client and server;
//! - [`validation`]: lossless conversions between
//!   [`cryptanet_types::ValidationCode`] and the wire enum;
//! - [`status`]: [`v1::ErrorDetail`] packed into and read from a gRPC status;
//! - [`convert`]: ledger blocks to the readable `Block`, `FilteredBlock` and
//!   chaincode event messages (what the peer streams);
//! - [`client`]: a client-side helper that speaks in `cryptanet-types` values.
//!
//! Signed structures cross the API as the exact canonical bytes of
//! `cryptanet-types` inside `bytes` fields: signatures cover those bytes, so
//! the API never re-models them. See `docs/api.md` for the reference.
#![forbid(unsafe_code)]

pub mod client;
pub mod convert;
pub mod error;
pub mod limits;
pub mod status;
pub mod validation;

pub use error::{Error, Result};
pub use limits::{Limits, WithLimits};

/// Code generated from `proto/cryptanet/v1/*.proto` by prost and tonic.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
pub mod v1 {
    tonic::include_proto!("cryptanet.v1");
}

/// Encoded `google.protobuf.FileDescriptorSet` of every `cryptanet.v1` file,
/// for `tonic_reflection::server::Builder::register_encoded_file_descriptor_set`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/cryptanet_v1_descriptor.bin"));

/// Fully qualified service names, as used by reflection and health checks.
pub mod service_names {
    /// `cryptanet.v1.Gateway`.
    pub const GATEWAY: &str = "cryptanet.v1.Gateway";
    /// `cryptanet.v1.Deliver`.
    pub const DELIVER: &str = "cryptanet.v1.Deliver";
    /// `cryptanet.v1.Admin`.
    pub const ADMIN: &str = "cryptanet.v1.Admin";
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::server::NamedService;

    #[test]
    fn service_names_match_generated_servers() {
        type G = v1::gateway_server::GatewayServer<()>;
        type D = v1::deliver_server::DeliverServer<()>;
        type A = v1::admin_server::AdminServer<()>;
        assert_eq!(<G as NamedService>::NAME, service_names::GATEWAY);
        assert_eq!(<D as NamedService>::NAME, service_names::DELIVER);
        assert_eq!(<A as NamedService>::NAME, service_names::ADMIN);
    }

    #[test]
    fn descriptor_set_names_all_files() {
        for file in ["common", "gateway", "deliver", "admin"] {
            let name = format!("cryptanet/v1/{file}.proto");
            let found = FILE_DESCRIPTOR_SET
                .windows(name.len())
                .any(|w| w == name.as_bytes());
            assert!(found, "{name} missing from the descriptor set");
        }
    }
}
