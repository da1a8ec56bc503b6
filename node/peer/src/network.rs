//! The replica set, derived from the org definitions alone.
//!
//! Every peer listed in `ORGS/*/org.toml` is a replica. Replica indices are
//! assigned in a fixed order every peer computes identically: orgs by MSP id
//! (directory order), then peers in the order their org lists them. A
//! peer's libp2p identity is derived from its certificate key, so the
//! certificate in the org definition is also its network identity.

use crate::error::{Error, Result};
use cryptanet_p2p::{Multiaddr, NetworkDefinition, PeerInfo};
use cryptanet_types::identity::{
    parse_cert_pem, CertInfo, LocalIdentity, OrgDefinition, Role, Verifier,
};
use cryptanet_types::PublicKey;
use std::path::Path;

/// One replica of the ordering service.
#[derive(Clone, Debug)]
pub struct ReplicaInfo {
    /// Replica index.
    pub index: u32,
    /// Owning org.
    pub msp_id: String,
    /// Peer name in the org definition.
    pub name: String,
    /// Certificate public key (also its libp2p identity).
    pub public_key: PublicKey,
    /// Certificate DER.
    pub cert_der: Vec<u8>,
    /// Listen address.
    pub addr: Multiaddr,
}

#[cfg(test)]
impl ReplicaInfo {
    /// A replica with placeholder key, certificate and address.
    pub(crate) fn for_tests(index: u32, msp_id: &str) -> ReplicaInfo {
        ReplicaInfo {
            index,
            msp_id: msp_id.to_owned(),
            name: format!("peer{index}.{msp_id}"),
            public_key: PublicKey([index as u8; 32]),
            cert_der: vec![index as u8],
            addr: "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
        }
    }
}

/// The network as this peer sees it.
pub struct Network {
    /// Member org definitions.
    pub orgs: Vec<OrgDefinition>,
    /// Every replica, by index.
    pub replicas: Vec<ReplicaInfo>,
    /// This peer's index.
    pub me: u32,
    /// Faults tolerated: n = 3f + 1.
    pub f: usize,
    /// Identity verifier over the member orgs.
    pub verifier: Verifier,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("me", &self.me)
            .field("n", &self.replicas.len())
            .finish()
    }
}

/// Parses `host:port` (IPv4 or a DNS name) or a multiaddr.
pub fn parse_address(s: &str) -> Result<Multiaddr> {
    if s.starts_with('/') {
        return s.parse().map_err(|_| Error::BadAddress(s.to_owned()));
    }
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| Error::BadAddress(s.to_owned()))?;
    let port: u16 = port.parse().map_err(|_| Error::BadAddress(s.to_owned()))?;
    let proto = if host.parse::<std::net::Ipv4Addr>().is_ok() {
        "ip4"
    } else {
        "dns4"
    };
    format!("/{proto}/{host}/tcp/{port}")
        .parse()
        .map_err(|_| Error::BadAddress(s.to_owned()))
}

impl Network {
    /// Loads the org definitions in `orgs_dir` and locates `me` among their
    /// peers. Every listed peer certificate must be a valid peer
    /// certificate of its org.
    pub fn load(orgs_dir: &Path, me: &LocalIdentity, now: i64) -> Result<Network> {
        let orgs = cryptanet_cli::material::load_org_definitions(orgs_dir)?;
        Self::from_orgs(orgs, me, now).map_err(|e| match e {
            Error::NotInNetwork(_) => Error::NotInNetwork(orgs_dir.to_owned()),
            other => other,
        })
    }

    /// As [`Network::load`], from already-parsed definitions.
    pub fn from_orgs(orgs: Vec<OrgDefinition>, me: &LocalIdentity, now: i64) -> Result<Network> {
        let verifier = Verifier::new(&orgs)?;
        let mut replicas = Vec::new();
        for org in &orgs {
            for peer in &org.peers {
                let Some(pem) = &peer.cert_pem else { continue };
                let cert_der = parse_cert_pem(pem)?;
                let id = verifier.identify(&cert_der, Some(Role::Peer), now)?;
                let info = CertInfo::from_der(&cert_der)?;
                replicas.push(ReplicaInfo {
                    index: replicas.len() as u32,
                    msp_id: org.msp_id.clone(),
                    name: peer.name.clone(),
                    public_key: info.public_key,
                    cert_der: id.cert_der,
                    addr: parse_address(&peer.address)?,
                });
            }
        }
        let n = replicas.len();
        if n == 0 || n % 3 != 1 {
            return Err(Error::BadPeerCount(n));
        }
        let mine = me.public_key();
        let me_index = replicas
            .iter()
            .find(|r| r.public_key == mine)
            .map(|r| r.index)
            .ok_or_else(|| Error::NotInNetwork(std::path::PathBuf::new()))?;
        Ok(Network {
            orgs,
            replicas,
            me: me_index,
            f: (n - 1) / 3,
            verifier,
        })
    }

    /// Public keys by replica index (what PBFT and certificates use).
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.replicas.iter().map(|r| r.public_key).collect()
    }

    /// The p2p network definition, with this peer's listen address
    /// optionally overridden.
    pub fn p2p_definition(&self, listen: Option<&str>) -> Result<NetworkDefinition> {
        let mut peers = Vec::with_capacity(self.replicas.len());
        for r in &self.replicas {
            let addr = match listen {
                Some(l) if r.index == self.me => parse_address(l)?,
                _ => r.addr.clone(),
            };
            peers.push(PeerInfo {
                public_key: r.public_key,
                addr,
            });
        }
        Ok(NetworkDefinition::new(peers)?)
    }

    /// This peer's replica record.
    pub fn my_replica(&self) -> &ReplicaInfo {
        &self.replicas[self.me as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        assert_eq!(
            parse_address("127.0.0.1:7051").unwrap().to_string(),
            "/ip4/127.0.0.1/tcp/7051"
        );
        assert_eq!(
            parse_address("peer0.org1:7051").unwrap().to_string(),
            "/dns4/peer0.org1/tcp/7051"
        );
        assert_eq!(
            parse_address("/ip4/10.0.0.1/tcp/1").unwrap().to_string(),
            "/ip4/10.0.0.1/tcp/1"
        );
        assert!(parse_address("nope").is_err());
        assert!(parse_address("h:99999").is_err());
    }
}
