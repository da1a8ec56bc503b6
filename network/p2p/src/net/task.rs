//! The swarm task: the only owner of the libp2p `Swarm`. It turns commands
//! from [`super::Libp2pTransport`] handles into requests, turns inbound
//! requests into [`Event`]s, answers sync requests when the application
//! replies, and redials disconnected peers.
//!
//! Backpressure: when the application's event queue is full, the task keeps
//! the one event it could not deliver and stops polling the swarm until there
//! is room. libp2p then stops reading from connections, so flow control
//! pushes back on the senders; commands keep being accepted meanwhile, so an
//! application that sends while it is behind on receiving cannot deadlock.

use super::behaviour::{Behaviour, BehaviourEvent};
use super::codec::FrameCodec;
use crate::config::Limits;
use crate::error::{Error, MessageKind, RequestFailure, Result};
use crate::event::{Event, Reply, SyncRequest};
use crate::metrics::Metrics;
use crate::net::redial::Redial;
use crate::peer::PeerIndex;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// What a transport handle asks the swarm task to do. Destinations and sizes
/// are validated by the handle before a command is queued.
pub(crate) enum Command {
    /// Send `to` a request of `kind`; the answer goes to `reply`.
    Request {
        to: PeerIndex,
        kind: RequestKind,
        request: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>>>,
    },
    /// Close everything, then acknowledge.
    Shutdown { done: oneshot::Sender<()> },
}

/// The request/response protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RequestKind {
    /// Block sync.
    Sync,
    /// Endorsement of a proposal.
    Endorse,
    /// A PBFT batch by digest.
    Batch,
}

impl RequestKind {
    fn protocol(self, behaviour: &mut Behaviour) -> &mut request_response::Behaviour<FrameCodec> {
        match self {
            RequestKind::Sync => &mut behaviour.sync,
            RequestKind::Endorse => &mut behaviour.endorse,
            RequestKind::Batch => &mut behaviour.batch,
        }
    }

    fn response(self) -> MessageKind {
        match self {
            RequestKind::Sync => MessageKind::SyncResponse,
            RequestKind::Endorse => MessageKind::EndorseResponse,
            RequestKind::Batch => MessageKind::BatchResponse,
        }
    }
}

/// A remote peer as the swarm task sees it.
pub(crate) struct PeerSlot {
    pub(crate) peer_id: PeerId,
    pub(crate) addr: Multiaddr,
    pub(crate) redial: Redial,
    /// Whether a connection is up, for the peer's stream writers.
    pub(crate) connected: watch::Sender<bool>,
}

type PendingReply = BoxFuture<'static, (RequestKind, ResponseChannel<Vec<u8>>, Option<Vec<u8>>)>;

/// Whom we asked, and where their answer goes.
type Waiter = (PeerIndex, oneshot::Sender<Result<Vec<u8>>>);

/// State owned by the swarm task.
pub(crate) struct SwarmTask {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) me: PeerIndex,
    /// Indexed by [`PeerIndex`]; the local slot is never dialed.
    pub(crate) peers: Vec<PeerSlot>,
    pub(crate) index: HashMap<PeerId, PeerIndex>,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) redial_check: Duration,
    pub(crate) undelivered: Option<Event>,
    /// Outstanding requests of ours, per protocol (request ids are only
    /// unique within one protocol).
    pub(crate) waiters: HashMap<(RequestKind, OutboundRequestId), Waiter>,
    pub(crate) replies: FuturesUnordered<PendingReply>,
}

impl SwarmTask {
    /// Runs until shutdown or until every handle is dropped.
    pub(crate) async fn run(mut self) {
        let mut tick = tokio::time::interval(self.redial_check);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A second handle on the event queue, so that a reserved slot does
        // not borrow `self` while the other branches' handlers run.
        let events = self.events.clone();
        let done = loop {
            let waiting = self.undelivered.is_some();
            tokio::select! {
                permit = events.reserve(), if waiting => {
                    let event = self.undelivered.take();
                    match (permit, event) {
                        (Ok(permit), Some(event)) => {
                            permit.send(event);
                            Metrics::bump(&self.metrics.delivered);
                        }
                        _ => tracing::debug!("application stopped receiving; event dropped"),
                    }
                }
                event = self.swarm.select_next_some(), if !waiting => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { done }) => break Some(done),
                    Some(command) => self.on_command(command),
                    None => break None,
                },
                Some((kind, channel, answer)) = self.replies.next(), if !self.replies.is_empty() => {
                    self.on_reply(kind, channel, answer);
                }
                _ = tick.tick() => self.redial(),
            }
        };
        tracing::info!(me = %self.me, "p2p transport shutting down");
        drop(events);
        drop(self);
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn redial(&mut self) {
        let now = Instant::now().into_std();
        for (i, slot) in self.peers.iter_mut().enumerate() {
            if i == self.me.as_usize() || !slot.redial.due(now) {
                continue;
            }
            slot.redial.dialed(now);
            let opts = DialOpts::peer_id(slot.peer_id)
                .addresses(vec![slot.addr.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                // A fresh source port: two peers dialing each other from
                // their listen ports at once would use the same TCP 4-tuple
                // and one dial would fail.
                .allocate_new_port()
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(peer = i, error = %e, "dial not started");
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Request {
                to,
                kind,
                request,
                reply,
            } => {
                let Some(slot) = self.peers.get(to.as_usize()) else {
                    let _ = reply.send(Err(Error::UnknownPeer {
                        index: to,
                        peers: self.peers.len(),
                    }));
                    return;
                };
                let id = kind
                    .protocol(self.swarm.behaviour_mut())
                    .send_request_with_addresses(&slot.peer_id, request, vec![slot.addr.clone()]);
                self.waiters.insert((kind, id), (to, reply));
                Metrics::bump(&self.metrics.sent);
            }
            Command::Shutdown { .. } => {}
        }
    }

    fn on_reply(
        &mut self,
        kind: RequestKind,
        channel: ResponseChannel<Vec<u8>>,
        answer: Option<Vec<u8>>,
    ) {
        match answer {
            Some(bytes) => {
                if kind
                    .protocol(self.swarm.behaviour_mut())
                    .send_response(channel, bytes)
                    .is_err()
                {
                    tracing::debug!(?kind, "reply ready after the requester gave up");
                }
            }
            // The application dropped the reply handle: closing the channel
            // tells the requester there is no answer.
            None => drop(channel),
        }
    }

    /// Hands `event` to the application, or keeps it (and stops reading the
    /// network) if the queue is full.
    fn emit(&mut self, event: Event) {
        match self.events.try_send(event) {
            Ok(()) => Metrics::bump(&self.metrics.delivered),
            Err(mpsc::error::TrySendError::Full(event)) => self.undelivered = Some(event),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("application stopped receiving; event dropped");
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Streams(())) => {}
            SwarmEvent::Behaviour(BehaviourEvent::Sync(e)) => self.on_request(RequestKind::Sync, e),
            SwarmEvent::Behaviour(BehaviourEvent::Endorse(e)) => {
                self.on_request(RequestKind::Endorse, e);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Batch(e)) => {
                self.on_request(RequestKind::Batch, e);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Allow(never)) => match never {},
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let Some(i) = self.index.get(&peer_id).copied() else {
                    return;
                };
                Metrics::bump(&self.metrics.connections_established);
                if let Some(slot) = self.peers.get_mut(i.as_usize()) {
                    let was = slot.redial.is_connected();
                    slot.redial
                        .set_connections(num_established.get(), Instant::now().into_std());
                    slot.connected.send_replace(true);
                    if !was {
                        tracing::info!(me = %self.me, peer = %i, remote = %endpoint.get_remote_address(), "connected");
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                let Some(i) = self.index.get(&peer_id).copied() else {
                    return;
                };
                if let Some(slot) = self.peers.get_mut(i.as_usize()) {
                    slot.redial
                        .set_connections(num_established, Instant::now().into_std());
                    slot.connected.send_replace(num_established > 0);
                }
                if num_established == 0 {
                    let cause = cause.map(|c| c.to_string()).unwrap_or_default();
                    tracing::info!(me = %self.me, peer = %i, %cause, "disconnected");
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                let peer = peer_id.and_then(|p| self.index.get(&p).copied());
                tracing::debug!(me = %self.me, ?peer, %error, "dial failed");
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::debug!(me = %self.me, remote = %send_back_addr, %error, "inbound connection failed");
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(me = %self.me, %address, "listening");
            }
            _ => {}
        }
    }

    fn on_request(&mut self, kind: RequestKind, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let Some(from) = self.index.get(&peer).copied() else {
                    tracing::warn!(%peer, ?kind, "request from unlisted peer dropped");
                    return;
                };
                let (tx, rx) = oneshot::channel();
                let reply = Reply::new(kind.response(), tx, self.limits, self.metrics.clone());
                let event = match kind {
                    RequestKind::Sync => match SyncRequest::decode(&request) {
                        Ok(request) => Event::SyncRequest {
                            from,
                            request,
                            reply,
                        },
                        Err(e) => {
                            Metrics::bump(&self.metrics.malformed_dropped);
                            tracing::warn!(me = %self.me, peer = %from, error = %e, "undecodable sync request dropped");
                            return;
                        }
                    },
                    RequestKind::Endorse => Event::EndorseRequest {
                        from,
                        proposal: request,
                        reply,
                    },
                    RequestKind::Batch => Event::BatchRequest {
                        from,
                        request,
                        reply,
                    },
                };
                self.replies
                    .push(async move { (kind, channel, rx.await.ok()) }.boxed());
                self.emit(event);
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some((_, waiter)) = self.waiters.remove(&(kind, request_id)) {
                    let _ = waiter.send(Ok(response));
                }
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                Metrics::bump(&self.metrics.send_failures);
                if let Some((peer, waiter)) = self.waiters.remove(&(kind, request_id)) {
                    tracing::debug!(me = %self.me, %peer, ?kind, %error, "request failed");
                    let reason = failure_reason(&error);
                    let _ = waiter.send(Err(Error::RequestFailed { peer, reason }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(me = %self.me, %peer, ?kind, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

fn failure_reason(error: &OutboundFailure) -> RequestFailure {
    match error {
        OutboundFailure::DialFailure => RequestFailure::Unreachable,
        OutboundFailure::Timeout => RequestFailure::Timeout,
        OutboundFailure::ConnectionClosed => RequestFailure::ConnectionClosed,
        OutboundFailure::UnsupportedProtocols => RequestFailure::UnsupportedProtocol,
        OutboundFailure::Io(_) => RequestFailure::Stream,
    }
}
