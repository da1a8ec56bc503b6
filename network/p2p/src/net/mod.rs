//! The libp2p [`Transport`]: TCP, noise, yamux, an allow-list gate,
//! long-lived streams for one-way messages (consensus, envelope forwarding)
//! and request-response protocols for block sync, endorsement and batch
//! fetches.
//!
//! [`Libp2pTransport::start`] derives the libp2p identity from the peer's
//! certificate secret, listens on the peer's own address from the network
//! definition, and spawns the swarm task, one stream writer per (peer,
//! one-way kind) and the stream acceptors. Handles are cheap clones: one-way
//! messages go straight into the per-peer queues of the writers, requests
//! through a bounded command queue to the swarm task.

mod allow_list;
mod behaviour;
mod codec;
mod redial;
mod streams;
mod task;

pub use behaviour::{
    BATCH_PROTOCOL, CONSENSUS_PROTOCOL, ENDORSE_PROTOCOL, ENVELOPE_PROTOCOL, SYNC_PROTOCOL,
};

use crate::config::{Config, Limits};
use crate::error::{Error, MessageKind, Result};
use crate::event::{Incoming, SyncRequest};
use crate::metrics::Metrics;
use crate::peer::{libp2p_keypair, peer_id_of, NetworkDefinition, PeerIndex};
use crate::transport::Transport;
use async_trait::async_trait;
use cryptanet_types::crypto::{PublicKey, SigningKey};
use libp2p::{noise, tcp, yamux, PeerId, SwarmBuilder};
use redial::Redial;
use std::collections::HashMap;
use std::sync::Arc;
use streams::{SendQueue, Writer};
use task::{Command, PeerSlot, RequestKind, SwarmTask};
use tokio::sync::{mpsc, oneshot, watch};

/// One remote peer's queues of one-way messages (consensus, envelopes) and
/// whether the swarm is connected to it.
struct PeerQueues {
    queues: [Arc<SendQueue>; 2],
    connected: watch::Receiver<bool>,
}

/// Every peer's queues, by index (`None` for the local peer).
type Queues = Arc<Vec<Option<PeerQueues>>>;

/// A handle on a running libp2p transport. Clones share the same swarm; the
/// swarm stops after [`Libp2pTransport::shutdown`] or when every handle is
/// dropped.
#[derive(Clone)]
pub struct Libp2pTransport {
    me: PeerIndex,
    peers: usize,
    local_peer_id: PeerId,
    limits: Limits,
    commands: mpsc::Sender<Command>,
    queues: Queues,
    metrics: Arc<Metrics>,
}

impl Libp2pTransport {
    /// Starts the transport of the peer whose certificate key is `key`.
    ///
    /// `key`'s public key must be in `network`; the peer listens on its own
    /// address there and accepts connections only from the other listed
    /// keys. Must be called inside a tokio runtime.
    pub fn start(
        key: &SigningKey,
        network: NetworkDefinition,
        config: Config,
    ) -> Result<(Libp2pTransport, Incoming)> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let me = network
            .index_of(&PublicKey::of(key))
            .ok_or(Error::NotInNetwork)?;
        let keypair = libp2p_keypair(key)?;
        let local_peer_id = keypair.public().to_peer_id();

        let now = tokio::time::Instant::now().into_std();
        let mut peers = Vec::with_capacity(network.len());
        let mut index = HashMap::with_capacity(network.len());
        let mut connected = Vec::with_capacity(network.len());
        for (i, info) in network.peers().iter().enumerate() {
            let at = PeerIndex(u32::try_from(i).unwrap_or(u32::MAX));
            let peer_id =
                peer_id_of(&info.public_key).ok_or(Error::InvalidPublicKey { index: at })?;
            index.insert(peer_id, at);
            let (up, up_rx) = watch::channel(false);
            connected.push((peer_id, up_rx));
            peers.push(PeerSlot {
                peer_id,
                addr: info.addr.clone(),
                redial: Redial::new(config.backoff, now),
                connected: up,
            });
        }

        let metrics = Arc::new(Metrics::default());
        let behaviour = behaviour::Behaviour::new(index.clone(), &config, &metrics);
        let mut control = behaviour.streams.new_control();
        let one_way = [
            (MessageKind::Consensus, CONSENSUS_PROTOCOL),
            (MessageKind::Envelope, ENVELOPE_PROTOCOL),
        ];
        let mut acceptors = Vec::new();
        for (kind, protocol) in &one_way {
            let incoming = control
                .accept(protocol.clone())
                .map_err(|_| Error::ProtocolRegistered { kind: *kind })?;
            acceptors.push((*kind, incoming));
        }
        let idle = config.idle_connection_timeout;
        let Ok(builder) = SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )?
            .with_behaviour(|_| behaviour);
        let mut swarm = builder
            .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
            .build();
        let listen = network.get(me)?.addr.clone();
        swarm
            .listen_on(listen.clone())
            .map_err(|source| Error::Listen {
                addr: listen,
                source,
            })?;

        let (command_tx, command_rx) = mpsc::channel(config.command_queue.max(1));
        let (event_tx, event_rx) = mpsc::channel(config.event_queue.max(1));
        for (kind, incoming) in acceptors {
            runtime.spawn(streams::accept(
                incoming,
                kind,
                config.limits.of(kind),
                index.clone(),
                event_tx.clone(),
                metrics.clone(),
            ));
        }
        let mut queues = Vec::with_capacity(network.len());
        for (i, (peer_id, up)) in connected.into_iter().enumerate() {
            let to = PeerIndex(u32::try_from(i).unwrap_or(u32::MAX));
            if to == me {
                queues.push(None);
                continue;
            }
            let new_queue = || {
                Arc::new(SendQueue::new(
                    config.pending_per_peer,
                    config.pending_bytes_per_peer,
                ))
            };
            let pair = [new_queue(), new_queue()];
            for ((kind, protocol), queue) in one_way.iter().zip(&pair) {
                runtime.spawn(
                    Writer {
                        me,
                        to,
                        peer_id,
                        kind: *kind,
                        protocol: protocol.clone(),
                        queue: queue.clone(),
                        control: control.clone(),
                        connected: up.clone(),
                        metrics: metrics.clone(),
                    }
                    .run(),
                );
            }
            queues.push(Some(PeerQueues {
                queues: pair,
                connected: up,
            }));
        }
        let task = SwarmTask {
            swarm,
            me,
            peers,
            index,
            commands: command_rx,
            events: event_tx,
            limits: config.limits,
            metrics: metrics.clone(),
            redial_check: config.redial_check,
            undelivered: None,
            waiters: HashMap::new(),
            replies: Default::default(),
        };
        runtime.spawn(task.run());
        tracing::info!(me = %me, peer_id = %local_peer_id, peers = network.len(), "p2p transport started");

        let handle = Libp2pTransport {
            me,
            peers: network.len(),
            local_peer_id,
            limits: config.limits,
            commands: command_tx,
            queues: Arc::new(queues),
            metrics,
        };
        Ok((handle, Incoming::new(event_rx)))
    }

    /// This peer's libp2p identity (derived from its certificate key).
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Closes the listener and every connection, and waits until the swarm
    /// is gone (so the port can be reused). Other handles then fail with
    /// [`Error::Closed`].
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown { done }).await.is_ok() {
            let _ = wait.await;
        }
    }

    fn check(&self, to: PeerIndex, kind: MessageKind, len: usize) -> Result<()> {
        if to.as_usize() >= self.peers {
            return Err(Error::UnknownPeer {
                index: to,
                peers: self.peers,
            });
        }
        if to == self.me {
            return Err(Error::SendToSelf { index: to });
        }
        if let Err(e) = self.limits.check(kind, len) {
            Metrics::bump(&self.metrics.oversize_dropped);
            tracing::warn!(me = %self.me, %to, error = %e, "outbound message dropped");
            return Err(e);
        }
        Ok(())
    }

    /// Queues a one-way message for `to`'s stream writer: waits for room
    /// while `to` is connected, drops the oldest held messages while not.
    async fn one_way(&self, to: PeerIndex, kind: MessageKind, bytes: Vec<u8>) -> Result<()> {
        self.check(to, kind, bytes.len())?;
        if self.commands.is_closed() {
            return Err(Error::Closed);
        }
        let slot = usize::from(kind == MessageKind::Envelope);
        let Some(Some(peer)) = self.queues.get(to.as_usize()) else {
            return Err(Error::SendToSelf { index: to });
        };
        Metrics::bump(&self.metrics.sent);
        let mut connected = peer.connected.clone();
        let dropped = peer.queues[slot].push_or_wait(bytes, &mut connected).await;
        if dropped.count > 0 {
            for _ in 0..dropped.count {
                Metrics::bump(&self.metrics.send_failures);
                Metrics::bump(&self.metrics.outgoing_dropped);
            }
            self.metrics
                .outgoing_dropped_bytes
                .fetch_add(dropped.bytes as u64, std::sync::atomic::Ordering::Relaxed);
        }
        if dropped.first {
            tracing::warn!(me = %self.me, peer = %to, %kind, dropped = dropped.count, held = dropped.held, held_bytes = dropped.held_bytes, "peer queue full; dropping its oldest held messages until it drains");
        }
        Ok(())
    }
}

impl Libp2pTransport {
    async fn request(&self, to: PeerIndex, kind: RequestKind, request: Vec<u8>) -> Result<Vec<u8>> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request {
                to,
                kind,
                request,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

#[async_trait]
impl Transport for Libp2pTransport {
    fn local_index(&self) -> PeerIndex {
        self.me
    }

    fn peer_count(&self) -> usize {
        self.peers
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    async fn send(&self, to: PeerIndex, msg: Vec<u8>) -> Result<()> {
        self.one_way(to, MessageKind::Consensus, msg).await
    }

    async fn forward_envelope(&self, to: PeerIndex, envelope: Vec<u8>) -> Result<()> {
        self.one_way(to, MessageKind::Envelope, envelope).await
    }

    async fn request_blocks(&self, from: PeerIndex, request: SyncRequest) -> Result<Vec<u8>> {
        let bytes = request.encode()?;
        self.check(from, MessageKind::SyncRequest, bytes.len())?;
        self.request(from, RequestKind::Sync, bytes).await
    }

    async fn request_endorsement(&self, to: PeerIndex, proposal: Vec<u8>) -> Result<Vec<u8>> {
        self.check(to, MessageKind::EndorseRequest, proposal.len())?;
        self.request(to, RequestKind::Endorse, proposal).await
    }

    async fn request_batch(&self, from: PeerIndex, request: Vec<u8>) -> Result<Vec<u8>> {
        self.check(from, MessageKind::BatchRequest, request.len())?;
        self.request(from, RequestKind::Batch, request).await
    }
}
