//! Who is in the network: peer indices, the network definition, and the
//! binding between an org-issued ed25519 certificate key and a libp2p identity.
//!
//! A peer's libp2p keypair is derived from the same 32-byte ed25519 secret as
//! its certificate key, so its [`PeerId`] is a pure function of the
//! certificate's public key ([`peer_id_of`]). The allow-list is therefore just
//! the set of public keys the caller read from the peers' certificates.

use crate::error::{Error, Result};
use cryptanet_types::crypto::{PublicKey, SigningKey};
use libp2p::{identity, Multiaddr, PeerId};
use std::fmt;

/// A peer's position in the network definition (`0..n`, in the order the
/// caller gave). PBFT replica numbers are these indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerIndex(pub u32);

impl PeerIndex {
    /// The index as a `usize`, for indexing slices.
    pub fn as_usize(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for PeerIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One peer of the network: its certificate public key and listen address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The ed25519 public key from the peer's certificate.
    pub public_key: PublicKey,
    /// Where the peer listens, e.g. `/ip4/10.0.0.2/tcp/7051`.
    pub addr: Multiaddr,
}

/// The ordered list of peers allowed in the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDefinition {
    peers: Vec<PeerInfo>,
}

impl NetworkDefinition {
    /// Checks that the list is non-empty and has no repeated key.
    pub fn new(peers: Vec<PeerInfo>) -> Result<Self> {
        if peers.is_empty() {
            return Err(Error::EmptyNetwork);
        }
        for (i, p) in peers.iter().enumerate() {
            if let Some(j) = peers[..i].iter().position(|q| q.public_key == p.public_key) {
                return Err(Error::DuplicatePeer {
                    first: index_of_position(j),
                    second: index_of_position(i),
                });
            }
        }
        Ok(NetworkDefinition { peers })
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Always false: a definition has at least one peer.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// All peers, in index order.
    pub fn peers(&self) -> &[PeerInfo] {
        &self.peers
    }

    /// The peer at `index`, or [`Error::UnknownPeer`].
    pub fn get(&self, index: PeerIndex) -> Result<&PeerInfo> {
        self.peers.get(index.as_usize()).ok_or(Error::UnknownPeer {
            index,
            peers: self.peers.len(),
        })
    }

    /// The index of the peer holding `key`, if it is in the network.
    pub fn index_of(&self, key: &PublicKey) -> Option<PeerIndex> {
        self.peers
            .iter()
            .position(|p| &p.public_key == key)
            .map(index_of_position)
    }

    /// Iterates over every index except `me`.
    pub fn others(&self, me: PeerIndex) -> impl Iterator<Item = PeerIndex> + '_ {
        (0..self.peers.len())
            .map(index_of_position)
            .filter(move |i| *i != me)
    }
}

fn index_of_position(i: usize) -> PeerIndex {
    PeerIndex(u32::try_from(i).unwrap_or(u32::MAX))
}

/// The libp2p keypair for a peer whose certificate key is `key`: same secret,
/// hence same public key.
pub fn libp2p_keypair(key: &SigningKey) -> Result<identity::Keypair> {
    let secret = key.to_bytes();
    identity::Keypair::ed25519_from_bytes(secret).map_err(|_| Error::InvalidSecretKey)
}

/// The libp2p [`PeerId`] of the peer whose certificate public key is `key`.
pub fn peer_id_of(key: &PublicKey) -> Option<PeerId> {
    let ed = identity::ed25519::PublicKey::try_from_bytes(&key.0).ok()?;
    Some(identity::PublicKey::from(ed).to_peer_id())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn key(seed: u64) -> SigningKey {
        SigningKey::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))
    }

    fn info(seed: u64) -> PeerInfo {
        PeerInfo {
            public_key: PublicKey::of(&key(seed)),
            addr: "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
        }
    }

    #[test]
    fn peer_id_is_a_function_of_the_certificate_key() {
        let k = key(1);
        let from_secret = libp2p_keypair(&k).unwrap().public().to_peer_id();
        let from_public = peer_id_of(&PublicKey::of(&k)).unwrap();
        assert_eq!(from_secret, from_public);
        assert_ne!(from_public, peer_id_of(&PublicKey::of(&key(2))).unwrap());
    }

    #[test]
    fn definition_rejects_empty_and_duplicates_and_finds_indices() {
        assert!(matches!(
            NetworkDefinition::new(vec![]),
            Err(Error::EmptyNetwork)
        ));
        assert!(matches!(
            NetworkDefinition::new(vec![info(1), info(2), info(1)]),
            Err(Error::DuplicatePeer {
                first: PeerIndex(0),
                second: PeerIndex(2)
            })
        ));
        let def = NetworkDefinition::new(vec![info(1), info(2), info(3)]).unwrap();
        assert_eq!(def.index_of(&info(3).public_key), Some(PeerIndex(2)));
        assert_eq!(def.index_of(&info(9).public_key), None);
        assert!(matches!(
            def.get(PeerIndex(3)),
            Err(Error::UnknownPeer { peers: 3, .. })
        ));
        let others: Vec<_> = def.others(PeerIndex(1)).collect();
        assert_eq!(others, vec![PeerIndex(0), PeerIndex(2)]);
    }

    #[test]
    fn invalid_point_has_no_peer_id() {
        // Some repeated-byte strings are not valid compressed Edwards points.
        let bad = (0u8..=255)
            .map(|b| PublicKey([b; 32]))
            .find(|k| identity::ed25519::PublicKey::try_from_bytes(&k.0).is_err())
            .unwrap();
        assert_eq!(peer_id_of(&bad), None);
    }
}
