//! The composed libp2p behaviour: the allow-list gate first (so a refused
//! connection never reaches the protocols), then the long-lived streams of
//! one-way messages (consensus, forwarded envelopes; see `streams.rs`) and
//! one request-response protocol per request kind (block sync, endorsement,
//! batch fetch).

use super::allow_list::AllowList;
use super::codec::FrameCodec;
use crate::config::{Config, MAX_BATCH_REQUEST, MAX_SYNC_REQUEST};
use crate::error::MessageKind;
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{PeerId, StreamProtocol};
use std::collections::HashMap;
use std::sync::Arc;

/// Stream protocol carrying PBFT messages (length-prefixed frames, one way).
pub const CONSENSUS_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/consensus/2");
/// Stream protocol carrying client envelopes to the primary (length-prefixed
/// frames, one way).
pub const ENVELOPE_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/envelope/2");
/// Protocol carrying block-sync requests and responses.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/sync/1");
/// Protocol carrying proposals to endorsers and their answers.
pub const ENDORSE_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/endorse/2");
/// Protocol carrying PBFT batch fetches (by sequence number and digest).
pub const BATCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/batch/1");

/// Requests of one protocol in progress on one connection, at most.
const MAX_CONCURRENT_REQUESTS: usize = 256;

/// Everything the swarm runs.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) allow: AllowList,
    pub(crate) streams: libp2p_stream::Behaviour,
    pub(crate) sync: request_response::Behaviour<FrameCodec>,
    pub(crate) endorse: request_response::Behaviour<FrameCodec>,
    pub(crate) batch: request_response::Behaviour<FrameCodec>,
}

impl Behaviour {
    /// Builds the behaviour for the allowed peers.
    pub(crate) fn new(
        allowed: HashMap<PeerId, PeerIndex>,
        config: &Config,
        metrics: &Arc<Metrics>,
    ) -> Behaviour {
        let rr = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(MAX_CONCURRENT_REQUESTS);
        let sync_codec = FrameCodec::new(
            MessageKind::SyncRequest,
            MAX_SYNC_REQUEST,
            MessageKind::SyncResponse,
            config.limits.sync_response,
            metrics.clone(),
        );
        let endorse_codec = FrameCodec::new(
            MessageKind::EndorseRequest,
            config.limits.endorse,
            MessageKind::EndorseResponse,
            config.limits.endorse,
            metrics.clone(),
        );
        let batch_codec = FrameCodec::new(
            MessageKind::BatchRequest,
            MAX_BATCH_REQUEST,
            MessageKind::BatchResponse,
            config.limits.batch_response,
            metrics.clone(),
        );
        Behaviour {
            allow: AllowList::new(allowed, metrics.clone()),
            streams: libp2p_stream::Behaviour::new(),
            sync: request_response::Behaviour::with_codec(
                sync_codec,
                [(SYNC_PROTOCOL, ProtocolSupport::Full)],
                rr.clone(),
            ),
            endorse: request_response::Behaviour::with_codec(
                endorse_codec,
                [(ENDORSE_PROTOCOL, ProtocolSupport::Full)],
                rr.clone(),
            ),
            batch: request_response::Behaviour::with_codec(
                batch_codec,
                [(BATCH_PROTOCOL, ProtocolSupport::Full)],
                rr,
            ),
        }
    }
}
