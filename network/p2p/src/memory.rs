//! An in-memory [`Transport`]: a hub joining N endpoints through bounded
//! channels, so peer code and simulations run without sockets.
//!
//! Link controls let tests cut directed links, isolate a peer or heal the
//! network. A message over a cut link, or into a full inbox, is dropped and
//! counted, as a real network would lose it; the sender is never blocked, so
//! two peers sending to each other cannot deadlock.

use crate::config::Config;
use crate::error::{Error, MessageKind, RequestFailure, Result};
use crate::event::{Event, Incoming, Reply, SyncRequest};
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use crate::transport::Transport;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

struct HubInner {
    inboxes: Vec<mpsc::Sender<Event>>,
    metrics: Vec<Arc<Metrics>>,
    /// Directed links `(from, to)` that currently drop everything.
    cut: Mutex<HashSet<(PeerIndex, PeerIndex)>>,
    config: Config,
}

impl HubInner {
    fn cut_links(&self) -> MutexGuard<'_, HashSet<(PeerIndex, PeerIndex)>> {
        // A panic while holding this lock cannot leave the set half-updated.
        self.cut
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn link_up(&self, from: PeerIndex, to: PeerIndex) -> bool {
        !self.cut_links().contains(&(from, to))
    }

    /// Puts `event` in `to`'s inbox, or drops and counts it.
    fn deliver(&self, to: PeerIndex, event: Event) {
        let (Some(inbox), Some(metrics)) = (
            self.inboxes.get(to.as_usize()),
            self.metrics.get(to.as_usize()),
        ) else {
            return;
        };
        match inbox.try_send(event) {
            Ok(()) => Metrics::bump(&metrics.delivered),
            Err(e) => {
                Metrics::bump(&metrics.queue_full_dropped);
                let from = match &e {
                    mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => {
                        ev.sender()
                    }
                };
                tracing::debug!(%from, %to, "inbox full or closed; message dropped");
            }
        }
    }
}

/// Owner of the in-memory network; hands out endpoints and controls links.
#[derive(Clone)]
pub struct MemoryHub {
    inner: Arc<HubInner>,
}

impl MemoryHub {
    /// A fully connected network of `n` endpoints; endpoint `i` is peer `i`.
    pub fn new(n: usize, config: Config) -> (MemoryHub, Vec<(MemoryTransport, Incoming)>) {
        let capacity = config.event_queue.max(1);
        let (inboxes, receivers): (Vec<_>, Vec<_>) =
            (0..n).map(|_| mpsc::channel(capacity)).unzip();
        let inner = Arc::new(HubInner {
            inboxes,
            metrics: (0..n).map(|_| Arc::new(Metrics::default())).collect(),
            cut: Mutex::new(HashSet::new()),
            config,
        });
        let endpoints = receivers
            .into_iter()
            .enumerate()
            .zip(inner.metrics.iter())
            .map(|((i, rx), metrics)| {
                let t = MemoryTransport {
                    me: PeerIndex(u32::try_from(i).unwrap_or(u32::MAX)),
                    metrics: metrics.clone(),
                    hub: inner.clone(),
                };
                (t, Incoming::new(rx))
            })
            .collect();
        (MemoryHub { inner }, endpoints)
    }

    /// Cuts (`up = false`) or restores the directed link `from → to`.
    pub fn set_link(&self, from: PeerIndex, to: PeerIndex, up: bool) {
        let mut cut = self.inner.cut_links();
        if up {
            cut.remove(&(from, to));
        } else {
            cut.insert((from, to));
        }
    }

    /// Cuts every link to and from `peer`.
    pub fn isolate(&self, peer: PeerIndex) {
        let n = u32::try_from(self.inner.inboxes.len()).unwrap_or(u32::MAX);
        let mut cut = self.inner.cut_links();
        for other in (0..n).map(PeerIndex).filter(|o| *o != peer) {
            cut.insert((peer, other));
            cut.insert((other, peer));
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.inner.cut_links().clear();
    }
}

/// One endpoint of a [`MemoryHub`].
#[derive(Clone)]
pub struct MemoryTransport {
    me: PeerIndex,
    metrics: Arc<Metrics>,
    hub: Arc<HubInner>,
}

impl MemoryTransport {
    fn my_metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Validates the destination and size, then applies link controls.
    /// Returns `Ok(false)` when the link is cut (message dropped).
    fn admit(&self, to: PeerIndex, kind: MessageKind, len: usize) -> Result<bool> {
        let peers = self.hub.inboxes.len();
        if to.as_usize() >= peers {
            return Err(Error::UnknownPeer { index: to, peers });
        }
        if to == self.me {
            return Err(Error::SendToSelf { index: to });
        }
        let metrics = self.my_metrics();
        if let Err(e) = self.hub.config.limits.check(kind, len) {
            Metrics::bump(&metrics.oversize_dropped);
            tracing::warn!(%to, error = %e, "outbound message dropped");
            return Err(e);
        }
        Metrics::bump(&metrics.sent);
        if !self.hub.link_up(self.me, to) {
            Metrics::bump(&metrics.link_dropped);
            return Ok(false);
        }
        Ok(true)
    }
}

#[async_trait]
impl Transport for MemoryTransport {
    fn local_index(&self) -> PeerIndex {
        self.me
    }

    fn peer_count(&self) -> usize {
        self.hub.inboxes.len()
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    async fn send(&self, to: PeerIndex, msg: Vec<u8>) -> Result<()> {
        if self.admit(to, MessageKind::Consensus, msg.len())? {
            self.hub.deliver(
                to,
                Event::Consensus {
                    from: self.me,
                    bytes: msg,
                },
            );
        }
        Ok(())
    }

    async fn forward_envelope(&self, to: PeerIndex, envelope: Vec<u8>) -> Result<()> {
        if self.admit(to, MessageKind::Envelope, envelope.len())? {
            self.hub.deliver(
                to,
                Event::Envelope {
                    from: self.me,
                    bytes: envelope,
                },
            );
        }
        Ok(())
    }

    async fn request_blocks(&self, from: PeerIndex, request: SyncRequest) -> Result<Vec<u8>> {
        let len = request.encode()?.len();
        self.request(from, MessageKind::SyncRequest, len, |me, reply| {
            Event::SyncRequest {
                from: me,
                request,
                reply,
            }
        })
        .await
    }

    async fn request_endorsement(&self, to: PeerIndex, proposal: Vec<u8>) -> Result<Vec<u8>> {
        let len = proposal.len();
        self.request(to, MessageKind::EndorseRequest, len, |me, reply| {
            Event::EndorseRequest {
                from: me,
                proposal,
                reply,
            }
        })
        .await
    }

    async fn request_batch(&self, from: PeerIndex, request: Vec<u8>) -> Result<Vec<u8>> {
        self.batch_request(from, request).await
    }
}

impl MemoryTransport {
    async fn batch_request(&self, from: PeerIndex, request: Vec<u8>) -> Result<Vec<u8>> {
        let len = request.len();
        self.request(from, MessageKind::BatchRequest, len, |me, reply| {
            Event::BatchRequest {
                from: me,
                request,
                reply,
            }
        })
        .await
    }

    /// Delivers the request `make` builds to `to` and waits for the answer,
    /// with the link controls and timeout a real network would impose.
    async fn request(
        &self,
        to: PeerIndex,
        kind: MessageKind,
        len: usize,
        make: impl FnOnce(PeerIndex, Reply) -> Event,
    ) -> Result<Vec<u8>> {
        let fail = |reason| {
            Metrics::bump(&self.my_metrics().send_failures);
            Err(Error::RequestFailed { peer: to, reason })
        };
        if !self.admit(to, kind, len)? {
            return fail(RequestFailure::Unreachable);
        }
        let answer_kind = match kind {
            MessageKind::EndorseRequest => MessageKind::EndorseResponse,
            MessageKind::BatchRequest => MessageKind::BatchResponse,
            _ => MessageKind::SyncResponse,
        };
        let (tx, rx) = oneshot::channel();
        let responder_metrics = self
            .hub
            .metrics
            .get(to.as_usize())
            .cloned()
            .unwrap_or_default();
        let reply = Reply::new(answer_kind, tx, self.hub.config.limits, responder_metrics);
        self.hub.deliver(to, make(self.me, reply));
        match tokio::time::timeout(self.hub.config.request_timeout, rx).await {
            Ok(Ok(_)) if !self.hub.link_up(to, self.me) => {
                Metrics::bump(&self.my_metrics().link_dropped);
                fail(RequestFailure::Timeout)
            }
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(_)) => fail(RequestFailure::NoAnswer),
            Err(_) => fail(RequestFailure::Timeout),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn small_config() -> Config {
        Config {
            event_queue: 2,
            request_timeout: Duration::from_millis(200),
            ..Config::default()
        }
    }

    #[tokio::test]
    async fn cut_links_drop_and_heal_restores() {
        let (hub, mut eps) = MemoryHub::new(3, small_config());
        let (t0, _) = eps.remove(0);
        let (_, mut in1) = eps.remove(0);
        hub.set_link(PeerIndex(0), PeerIndex(1), false);
        t0.send(PeerIndex(1), vec![1]).await.unwrap();
        assert!(in1.try_recv().is_none());
        assert_eq!(t0.metrics().snapshot().link_dropped, 1);
        hub.heal();
        t0.send(PeerIndex(1), vec![2]).await.unwrap();
        match in1.try_recv() {
            Some(Event::Consensus { from, bytes }) => {
                assert_eq!(from, PeerIndex(0));
                assert_eq!(bytes, vec![2]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn full_inbox_drops_without_blocking_the_sender() {
        let (_hub, mut eps) = MemoryHub::new(2, small_config());
        let (t0, _) = eps.remove(0);
        let (t1, mut in1) = eps.remove(0);
        for i in 0..5u8 {
            t0.send(PeerIndex(1), vec![i]).await.unwrap();
        }
        let m = t1.metrics().snapshot();
        assert_eq!((m.delivered, m.queue_full_dropped), (2, 3));
        assert!(in1.try_recv().is_some());
        assert!(in1.try_recv().is_some());
        assert!(in1.try_recv().is_none());
    }

    #[tokio::test]
    async fn isolated_peer_cannot_be_asked_for_blocks() {
        let (hub, mut eps) = MemoryHub::new(2, small_config());
        let (t0, _) = eps.remove(0);
        hub.isolate(PeerIndex(1));
        let req = SyncRequest {
            from_block: 0,
            max_count: 1,
        };
        assert!(matches!(
            t0.request_blocks(PeerIndex(1), req).await,
            Err(Error::RequestFailed {
                reason: RequestFailure::Unreachable,
                ..
            })
        ));
        assert!(matches!(
            t0.send(PeerIndex(0), vec![]).await,
            Err(Error::SendToSelf { .. })
        ));
        assert!(matches!(
            t0.send(PeerIndex(7), vec![]).await,
            Err(Error::UnknownPeer { peers: 2, .. })
        ));
    }

    #[tokio::test]
    async fn endorsement_requests_are_answered_through_the_reply() {
        let (_hub, mut eps) = MemoryHub::new(2, small_config());
        let (t0, _) = eps.remove(0);
        let (t1, mut in1) = eps.remove(0);
        let asker =
            tokio::spawn(async move { t0.request_endorsement(PeerIndex(1), vec![7; 3]).await });
        match in1.recv().await.unwrap() {
            Event::EndorseRequest {
                from,
                proposal,
                reply,
            } => {
                assert_eq!((from, proposal), (PeerIndex(0), vec![7; 3]));
                reply.send(vec![9]).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(asker.await.unwrap().unwrap(), vec![9]);
        assert_eq!(t1.metrics().snapshot().endorse_served, 1);
    }

    #[tokio::test]
    async fn unanswered_sync_request_times_out() {
        let (_hub, mut eps) = MemoryHub::new(2, small_config());
        let (t0, _) = eps.remove(0);
        let (_t1, mut in1) = eps.remove(0);
        let req = SyncRequest {
            from_block: 3,
            max_count: 2,
        };
        let asker = tokio::spawn(async move { t0.request_blocks(PeerIndex(1), req).await });
        // Hold the reply without answering until the requester gives up.
        let held = in1.recv().await.unwrap();
        let result = asker.await.unwrap();
        assert!(matches!(
            result,
            Err(Error::RequestFailed {
                reason: RequestFailure::Timeout,
                ..
            })
        ));
        drop(held);
    }
}
