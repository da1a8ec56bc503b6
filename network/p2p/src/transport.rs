//! The [`Transport`] trait: what peer code needs from the network, with no
//! sockets in sight. Implemented by [`crate::Libp2pTransport`] and
//! [`crate::MemoryTransport`].
//!
//! A transport is the sending half; received messages arrive on the
//! [`crate::Incoming`] queue returned next to it when it is created, so one
//! task can wait for events while others send.

use crate::error::Result;
use crate::event::SyncRequest;
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use async_trait::async_trait;
use std::sync::Arc;

/// Sending side of a peer's network connection.
///
/// `send`, `broadcast` and `forward_envelope` return once the message is
/// queued for the network: delivery is best effort (PBFT retransmits through
/// view changes), failures are counted in [`Metrics::send_failures`]. They
/// wait when the outgoing queue is full (backpressure).
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// This peer's index in the network definition.
    fn local_index(&self) -> PeerIndex;

    /// Number of peers in the network definition (including this one).
    fn peer_count(&self) -> usize;

    /// This transport's counters.
    fn metrics(&self) -> Arc<Metrics>;

    /// Sends a consensus message to peer `to`.
    async fn send(&self, to: PeerIndex, msg: Vec<u8>) -> Result<()>;

    /// Sends a consensus message to every other peer. Stops at the first
    /// local error (size, shutdown), which applies to all peers alike.
    async fn broadcast(&self, msg: Vec<u8>) -> Result<()> {
        let me = self.local_index();
        for i in 0..self.peer_count() {
            let to = PeerIndex(u32::try_from(i).unwrap_or(u32::MAX));
            if to != me {
                self.send(to, msg.clone()).await?;
            }
        }
        Ok(())
    }

    /// Forwards a client envelope to peer `to` (the current primary).
    async fn forward_envelope(&self, to: PeerIndex, envelope: Vec<u8>) -> Result<()>;

    /// Asks peer `from` for blocks and waits for its encoded answer (or the
    /// request timeout).
    async fn request_blocks(&self, from: PeerIndex, request: SyncRequest) -> Result<Vec<u8>>;

    /// Sends an encoded signed proposal to peer `to` for endorsement and
    /// waits for its encoded answer (or the request timeout).
    async fn request_endorsement(&self, to: PeerIndex, proposal: Vec<u8>) -> Result<Vec<u8>>;

    /// Asks peer `from` for a PBFT batch (an encoded request naming its
    /// sequence number and digest) and waits for the encoded batch (or the
    /// request timeout). The caller checks the answer against the digest.
    async fn request_batch(&self, from: PeerIndex, request: Vec<u8>) -> Result<Vec<u8>>;
}
