//! The composed libp2p behaviour: the allow-list gate first (so a refused
//! connection never reaches the protocols), then one request-response
//! protocol per message kind.
//!
//! Consensus messages and forwarded envelopes are one-way: the request is the
//! message, the response an empty acknowledgement. Block sync is a true
//! request/response, and so are endorsement and batch fetches.

use super::allow_list::AllowList;
use super::codec::{FrameCodec, MAX_ACK};
use crate::config::{Config, MAX_BATCH_REQUEST, MAX_SYNC_REQUEST};
use crate::error::MessageKind;
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{PeerId, StreamProtocol};
use std::collections::HashMap;
use std::sync::Arc;

/// Protocol carrying PBFT messages.
pub const CONSENSUS_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/consensus/1");
/// Protocol carrying client envelopes to the primary.
pub const ENVELOPE_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/envelope/1");
/// Protocol carrying block-sync requests and responses.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/sync/1");
/// Protocol carrying proposals to endorsers and their answers.
pub const ENDORSE_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/endorse/1");
/// Protocol carrying PBFT batch fetches (by sequence number and digest).
pub const BATCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/cryptanet/batch/1");

/// Everything the swarm runs.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) allow: AllowList,
    pub(crate) consensus: request_response::Behaviour<FrameCodec>,
    pub(crate) envelope: request_response::Behaviour<FrameCodec>,
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
        // Per connection and protocol: our window of outbound messages plus
        // the remote's window of inbound ones, with room to spare.
        let rr = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(4 * super::task::MAX_IN_FLIGHT);
        let one_way = |protocol: StreamProtocol, kind: MessageKind| {
            let codec =
                FrameCodec::new(kind, config.limits.of(kind), kind, MAX_ACK, metrics.clone());
            request_response::Behaviour::with_codec(
                codec,
                [(protocol, ProtocolSupport::Full)],
                rr.clone(),
            )
        };
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
            consensus: one_way(CONSENSUS_PROTOCOL, MessageKind::Consensus),
            envelope: one_way(ENVELOPE_PROTOCOL, MessageKind::Envelope),
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
