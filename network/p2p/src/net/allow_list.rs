//! The permissioning gate: a [`NetworkBehaviour`] that refuses every
//! connection whose authenticated remote identity is not in the network
//! definition.
//!
//! The noise handshake proves the remote holds the secret of its PeerId, and a
//! PeerId is derived from a certificate public key, so checking the PeerId
//! against the allow-list is checking the certificate key. The check runs when
//! a connection is established (inbound and outbound) and before dialing a
//! known PeerId; a refused connection is closed before any protocol stream is
//! opened, so nothing a stranger sends reaches the application.

use crate::error::Error;
use crate::metrics::Metrics;
use crate::peer::PeerIndex;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Allow-list behaviour keyed by PeerId.
pub(crate) struct AllowList {
    allowed: HashMap<PeerId, PeerIndex>,
    metrics: Arc<Metrics>,
}

impl AllowList {
    /// Allows exactly the peers in `allowed`.
    pub(crate) fn new(allowed: HashMap<PeerId, PeerIndex>, metrics: Arc<Metrics>) -> AllowList {
        AllowList { allowed, metrics }
    }

    fn enforce(
        &self,
        peer: PeerId,
        remote: Option<&Multiaddr>,
        direction: &'static str,
    ) -> Result<(), ConnectionDenied> {
        if self.allowed.contains_key(&peer) {
            return Ok(());
        }
        Metrics::bump(&self.metrics.connections_denied);
        match remote {
            Some(addr) => tracing::warn!(
                %peer, remote = %addr, direction,
                "refused connection: peer not in the network definition"
            ),
            None => tracing::warn!(
                %peer, direction,
                "refused dial: peer not in the network definition"
            ),
        }
        Err(ConnectionDenied::new(Error::PeerNotAllowed { peer }))
    }
}

impl NetworkBehaviour for AllowList {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.enforce(peer, Some(remote), "inbound")?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer {
            self.enforce(peer, None, "outbound")?;
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.enforce(peer, Some(addr), "outbound")?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, _: FromSwarm<'_>) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cryptanet_types::crypto::{PublicKey, SigningKey};

    fn peer(seed: u8) -> PeerId {
        crate::peer::peer_id_of(&PublicKey::of(&SigningKey::from_bytes(&[seed; 32]))).unwrap()
    }

    #[test]
    fn only_listed_peers_pass_and_refusals_are_counted() {
        let member = peer(1);
        let stranger = peer(2);
        let metrics = Arc::new(Metrics::default());
        let mut gate = AllowList::new(HashMap::from([(member, PeerIndex(0))]), metrics.clone());
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/9".parse().unwrap();
        let id = ConnectionId::new_unchecked(1);
        assert!(gate
            .handle_established_inbound_connection(id, member, &addr, &addr)
            .is_ok());
        assert!(gate
            .handle_established_inbound_connection(id, stranger, &addr, &addr)
            .is_err());
        assert!(gate
            .handle_established_outbound_connection(
                id,
                stranger,
                &addr,
                Endpoint::Dialer,
                PortUse::New
            )
            .is_err());
        assert!(gate
            .handle_pending_outbound_connection(id, Some(stranger), &[], Endpoint::Dialer)
            .is_err());
        assert_eq!(metrics.snapshot().connections_denied, 3);
    }
}
