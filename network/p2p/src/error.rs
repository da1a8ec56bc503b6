//! The one error type of this crate.

use crate::peer::PeerIndex;
use libp2p::Multiaddr;
use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Which of the transport's message kinds a size limit or failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A PBFT message to a specific replica.
    Consensus,
    /// A client envelope forwarded to the primary.
    Envelope,
    /// A block-sync request.
    SyncRequest,
    /// A block-sync response (encoded blocks).
    SyncResponse,
    /// A proposal sent to an endorsing peer.
    EndorseRequest,
    /// An endorsing peer's answer.
    EndorseResponse,
    /// A request for one PBFT batch by sequence number and digest.
    BatchRequest,
    /// The encoded batch.
    BatchResponse,
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::Consensus => "consensus",
            MessageKind::Envelope => "envelope",
            MessageKind::SyncRequest => "sync request",
            MessageKind::SyncResponse => "sync response",
            MessageKind::EndorseRequest => "endorse request",
            MessageKind::EndorseResponse => "endorse response",
            MessageKind::BatchRequest => "batch request",
            MessageKind::BatchResponse => "batch response",
        })
    }
}

/// Why a request to a remote peer produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    /// No connection could be made to the peer.
    Unreachable,
    /// The peer did not answer within the request timeout.
    Timeout,
    /// The connection closed before the answer arrived.
    ConnectionClosed,
    /// The peer does not speak the protocol.
    UnsupportedProtocol,
    /// The stream failed, or the answer was malformed or over the size limit.
    Stream,
    /// The peer received the request but declined to answer.
    NoAnswer,
}

impl fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestFailure::Unreachable => "peer unreachable",
            RequestFailure::Timeout => "timed out",
            RequestFailure::ConnectionClosed => "connection closed",
            RequestFailure::UnsupportedProtocol => "protocol not supported by peer",
            RequestFailure::Stream => "stream failed or answer malformed",
            RequestFailure::NoAnswer => "peer declined to answer",
        })
    }
}

/// Everything that can go wrong in the transport.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The network definition lists no peers.
    #[error("the network definition lists no peers")]
    EmptyNetwork,
    /// The same public key appears twice in the network definition.
    #[error("peer {second} has the same public key as peer {first}")]
    DuplicatePeer {
        /// The first occurrence.
        first: PeerIndex,
        /// The repeated occurrence.
        second: PeerIndex,
    },
    /// A public key in the network definition is not a valid ed25519 point.
    #[error("peer {index} has an invalid ed25519 public key")]
    InvalidPublicKey {
        /// The offending peer.
        index: PeerIndex,
    },
    /// The local secret key could not be turned into a libp2p identity.
    #[error("the local ed25519 secret key is not usable as a libp2p identity")]
    InvalidSecretKey,
    /// The local key is not one of the peers in the network definition.
    #[error("the local public key is not in the network definition")]
    NotInNetwork,
    /// A peer index outside `0..peers`.
    #[error("unknown peer {index} (the network has {peers} peers)")]
    UnknownPeer {
        /// The index asked for.
        index: PeerIndex,
        /// The number of peers in the network.
        peers: usize,
    },
    /// A message addressed to the local peer itself.
    #[error("peer {index} is the local peer; messages to self are not sent")]
    SendToSelf {
        /// The local index.
        index: PeerIndex,
    },
    /// A message larger than the configured limit for its kind.
    #[error("{kind} message of {len} bytes exceeds the {limit}-byte limit")]
    MessageTooLarge {
        /// Which kind of message.
        kind: MessageKind,
        /// Its length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A request to a peer produced no response.
    #[error("request to peer {peer} failed: {reason}")]
    RequestFailed {
        /// The peer asked.
        peer: PeerIndex,
        /// Why it failed.
        reason: RequestFailure,
    },
    /// The peer that asked for blocks is no longer waiting for them.
    #[error("the requester is no longer waiting for this reply")]
    RequesterGone,
    /// A remote peer whose key is not in the network definition
    /// (the cause reported to libp2p when its connection is refused).
    #[error("peer {peer} is not in the network definition")]
    PeerNotAllowed {
        /// The refused libp2p identity.
        peer: libp2p::PeerId,
    },
    /// The libp2p transport must be started inside a tokio runtime.
    #[error("no tokio runtime is running")]
    NoRuntime,
    /// The transport has shut down.
    #[error("the transport has shut down")]
    Closed,
    /// A stream protocol was registered twice (a bug in the transport).
    #[error("{kind} stream protocol registered twice")]
    ProtocolRegistered {
        /// The message kind of the protocol.
        kind: MessageKind,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address from the network definition.
        addr: Multiaddr,
        /// The underlying transport error.
        #[source]
        source: libp2p::TransportError<std::io::Error>,
    },
    /// The noise handshake configuration could not be built.
    #[error("noise configuration failed")]
    Noise(#[from] libp2p::noise::Error),
    /// Encoding or decoding a sync request failed.
    #[error("sync request codec")]
    Codec(#[from] cryptanet_types::Error),
}
