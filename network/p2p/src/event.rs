//! What the transport hands to the application: consensus messages,
//! forwarded client envelopes and block-sync requests (with a reply handle).
//!
//! Payloads are opaque bytes, already encoded by the caller with
//! `cryptanet_types::codec`; this layer never looks inside them.

use crate::config::Limits;
use crate::error::{Error, MessageKind, Result};
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// "Send me up to `max_count` blocks starting at number `from_block`."
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// First block number wanted.
    pub from_block: u64,
    /// At most this many blocks.
    pub max_count: u32,
}

impl SyncRequest {
    /// Canonical bytes of the request.
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(cryptanet_types::codec::encode(self)?)
    }

    /// Parses canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Ok(cryptanet_types::codec::decode(bytes)?)
    }
}

/// The handle for answering one request ([`Event::SyncRequest`] or
/// [`Event::EndorseRequest`]). Dropping it without calling [`Reply::send`]
/// tells the requester there is no answer.
#[derive(Debug)]
pub struct Reply {
    kind: MessageKind,
    tx: oneshot::Sender<Vec<u8>>,
    limits: Limits,
    metrics: Arc<Metrics>,
}

/// The reply handle of a block-sync request.
pub type SyncReply = Reply;

impl Reply {
    /// A handle whose answer is a message of `kind` (a response kind).
    pub(crate) fn new(
        kind: MessageKind,
        tx: oneshot::Sender<Vec<u8>>,
        limits: Limits,
        metrics: Arc<Metrics>,
    ) -> Reply {
        Reply {
            kind,
            tx,
            limits,
            metrics,
        }
    }

    /// Sends the answer back. Fails with [`Error::MessageTooLarge`] above the
    /// limit for its kind (the reply is dropped and counted) or
    /// [`Error::RequesterGone`].
    pub fn send(self, answer: Vec<u8>) -> Result<()> {
        if let Err(e) = self.limits.check(self.kind, answer.len()) {
            Metrics::bump(&self.metrics.oversize_dropped);
            tracing::warn!(kind = %self.kind, error = %e, "reply dropped");
            return Err(e);
        }
        self.tx.send(answer).map_err(|_| Error::RequesterGone)?;
        let served = match self.kind {
            MessageKind::EndorseResponse => &self.metrics.endorse_served,
            MessageKind::BatchResponse => &self.metrics.batch_served,
            _ => &self.metrics.sync_served,
        };
        Metrics::bump(served);
        Ok(())
    }
}

/// Something a remote peer sent us.
#[derive(Debug)]
pub enum Event {
    /// A PBFT message.
    Consensus {
        /// The sender.
        from: PeerIndex,
        /// The encoded message.
        bytes: Vec<u8>,
    },
    /// A client envelope forwarded to us as primary.
    Envelope {
        /// The forwarding peer.
        from: PeerIndex,
        /// The encoded envelope.
        bytes: Vec<u8>,
    },
    /// A peer catching up asks for blocks.
    SyncRequest {
        /// The requester.
        from: PeerIndex,
        /// What it wants.
        request: SyncRequest,
        /// Where to send the encoded blocks.
        reply: Reply,
    },
    /// A peer asks us to endorse a proposal.
    EndorseRequest {
        /// The requester (the gateway peer).
        from: PeerIndex,
        /// The encoded signed proposal.
        proposal: Vec<u8>,
        /// Where to send the encoded answer.
        reply: Reply,
    },
    /// A replica asks us for a PBFT batch it must prepare or execute.
    BatchRequest {
        /// The requester.
        from: PeerIndex,
        /// The encoded request (sequence number and digest).
        request: Vec<u8>,
        /// Where to send the encoded batch.
        reply: Reply,
    },
}

impl Event {
    /// The peer the event came from.
    pub fn sender(&self) -> PeerIndex {
        match self {
            Event::Consensus { from, .. }
            | Event::Envelope { from, .. }
            | Event::SyncRequest { from, .. }
            | Event::EndorseRequest { from, .. }
            | Event::BatchRequest { from, .. } => *from,
        }
    }
}

/// The receiving end of a transport: a bounded queue of [`Event`]s.
#[derive(Debug)]
pub struct Incoming {
    rx: mpsc::Receiver<Event>,
}

impl Incoming {
    pub(crate) fn new(rx: mpsc::Receiver<Event>) -> Incoming {
        Incoming { rx }
    }

    /// The next event; `None` once the transport has shut down.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The next event if one is already queued.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sync_request_round_trips_and_rejects_garbage() {
        let r = SyncRequest {
            from_block: 1 << 40,
            max_count: 500,
        };
        assert_eq!(SyncRequest::decode(&r.encode().unwrap()).unwrap(), r);
        assert!(matches!(
            SyncRequest::decode(&[0xff; 3]),
            Err(Error::Codec(_))
        ));
    }

    #[test]
    fn oversize_reply_is_refused_and_counted() {
        let metrics = Arc::new(Metrics::default());
        let limits = Limits {
            sync_response: 4,
            ..Limits::default()
        };
        let (tx, mut rx) = oneshot::channel();
        let reply = Reply::new(MessageKind::SyncResponse, tx, limits, metrics.clone());
        assert!(matches!(
            reply.send(vec![0; 5]),
            Err(Error::MessageTooLarge {
                len: 5,
                limit: 4,
                ..
            })
        ));
        assert_eq!(metrics.snapshot().oversize_dropped, 1);
        assert!(rx.try_recv().is_err());

        let (tx, rx) = oneshot::channel();
        Reply::new(MessageKind::SyncResponse, tx, limits, metrics.clone())
            .send(vec![1, 2])
            .unwrap();
        assert_eq!(rx.blocking_recv().unwrap(), vec![1, 2]);
        assert_eq!(metrics.snapshot().sync_served, 1);
    }
}
