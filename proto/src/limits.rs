//! Message size limits for every generated client and server.
//!
//! tonic's own defaults are 4 MiB received and `usize::MAX` sent. CryptaNet
//! blocks and chaincode packages are larger than 4 MiB, and an unbounded
//! send limit lets one call build a response of any size, so both directions
//! get an explicit limit. A server rejects a request over its limit before
//! decoding it; tonic reports that as `OUT_OF_RANGE` (grpc-go and grpc-java
//! servers report `RESOURCE_EXHAUSTED`), and the connection stays usable.
//!
//! A full `Block` message carries the envelopes twice (as `data` and inside
//! `raw`), so the block size limit of the ordering service should stay below
//! half of [`DEFAULT_MAX_RESPONSE_BYTES`].

use crate::v1::{
    admin_client::AdminClient, admin_server::AdminServer, deliver_client::DeliverClient,
    deliver_server::DeliverServer, gateway_client::GatewayClient, gateway_server::GatewayServer,
};
use tonic::transport::Channel;

/// Default largest request message: 16 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// Default largest response message: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Size limits for one encoded protobuf message (not the whole stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message a client may send and a server accepts.
    pub max_request_bytes: usize,
    /// Largest message a server may send and a client accepts.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// Applies [`Limits`] to a generated client or server.
///
/// For a server, requests are decoded and responses encoded; for a client it
/// is the other way round. Implemented for the three servers (any service
/// implementation) and the three clients over a tonic [`Channel`].
pub trait WithLimits: Sized {
    /// Returns `self` with both message size limits set from `limits`.
    fn with_limits(self, limits: Limits) -> Self;
}

macro_rules! server_limits {
    ($($server:ident),*) => {$(
        impl<T> WithLimits for $server<T> {
            fn with_limits(self, limits: Limits) -> Self {
                self.max_decoding_message_size(limits.max_request_bytes)
                    .max_encoding_message_size(limits.max_response_bytes)
            }
        }
    )*};
}

macro_rules! client_limits {
    ($($client:ident),*) => {$(
        impl WithLimits for $client<Channel> {
            fn with_limits(self, limits: Limits) -> Self {
                self.max_encoding_message_size(limits.max_request_bytes)
                    .max_decoding_message_size(limits.max_response_bytes)
            }
        }
    )*};
}

server_limits!(GatewayServer, DeliverServer, AdminServer);
client_limits!(GatewayClient, DeliverClient, AdminClient);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sixteen_mebibytes_each_way() {
        let l = Limits::default();
        assert_eq!(l.max_request_bytes, 16 << 20);
        assert_eq!(l.max_response_bytes, 16 << 20);
    }
}
