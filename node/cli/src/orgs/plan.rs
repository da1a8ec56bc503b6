//! Names and addresses of the generated orgs: pure functions of the options.

use crate::error::{Error, Result};
use cryptanet_types::identity::Role;
use std::net::IpAddr;

/// Largest number of orgs one run generates.
pub const MAX_ORGS: u32 = 99;
/// Largest number of peers per org one run generates.
pub const MAX_PEERS_PER_ORG: u32 = 16;

/// The MSP id of org `k` (1-based): `Org<k>MSP`.
pub fn msp_id(k: u32) -> String {
    format!("Org{k}MSP")
}

/// One identity to issue inside an org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPlan {
    /// Directory name under `DIR/<MspId>/`: `peer0`, `admin`, `client`.
    pub dir: String,
    /// Certificate common name, e.g. `peer0.org1`.
    pub common_name: String,
    /// Role carried in the OU.
    pub role: Role,
}

/// The identities of org `k`: its peers, then an admin and a client.
pub fn identities(k: u32, peers_per_org: u32) -> Vec<IdentityPlan> {
    let peers = (0..peers_per_org).map(|i| IdentityPlan {
        dir: format!("peer{i}"),
        common_name: format!("peer{i}.org{k}"),
        role: Role::Peer,
    });
    let users = [Role::Admin, Role::Client].map(|role| IdentityPlan {
        dir: role.as_ou().to_owned(),
        common_name: format!("{}.org{k}", role.as_ou()),
        role,
    });
    peers.chain(users).collect()
}

/// The TCP port of peer `i` of org `k`: peers are numbered consecutively
/// across orgs from `base_port`.
///
/// Errors: [`Error::InvalidArgument`] when the port would exceed 65535.
pub fn peer_port(base_port: u16, peers_per_org: u32, k: u32, i: u32) -> Result<u16> {
    let offset = u64::from(k.saturating_sub(1)) * u64::from(peers_per_org) + u64::from(i);
    u16::try_from(u64::from(base_port) + offset).map_err(|_| Error::InvalidArgument {
        name: "base-port",
        reason: "peer ports would exceed 65535",
    })
}

/// The libp2p listen address of a peer at `host:port`: `/ip4/…/tcp/…`,
/// `/ip6/…/tcp/…`, or `/dns/…/tcp/…` for a host name.
pub fn peer_address(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => format!("/ip4/{ip}/tcp/{port}"),
        Ok(IpAddr::V6(ip)) => format!("/ip6/{ip}/tcp/{port}"),
        Err(_) => format!("/dns/{host}/tcp/{port}"),
    }
}

/// Checks the counts given on the command line.
///
/// Errors: [`Error::InvalidArgument`] for zero or too many orgs or peers.
pub fn check_counts(orgs: u32, peers_per_org: u32) -> Result<()> {
    if orgs == 0 || orgs > MAX_ORGS {
        return Err(Error::InvalidArgument {
            name: "orgs",
            reason: "must be between 1 and 99",
        });
    }
    if peers_per_org == 0 || peers_per_org > MAX_PEERS_PER_ORG {
        return Err(Error::InvalidArgument {
            name: "peers-per-org",
            reason: "must be between 1 and 16",
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roles() {
        assert_eq!(msp_id(3), "Org3MSP");
        let ids = identities(2, 2);
        let got: Vec<_> = ids
            .iter()
            .map(|p| (p.dir.as_str(), p.common_name.as_str(), p.role))
            .collect();
        assert_eq!(
            got,
            [
                ("peer0", "peer0.org2", Role::Peer),
                ("peer1", "peer1.org2", Role::Peer),
                ("admin", "admin.org2", Role::Admin),
                ("client", "client.org2", Role::Client),
            ]
        );
    }

    #[test]
    fn ports_are_consecutive_and_bounded() {
        assert_eq!(peer_port(7051, 1, 1, 0).unwrap(), 7051);
        assert_eq!(peer_port(7051, 1, 4, 0).unwrap(), 7054);
        assert_eq!(peer_port(7000, 2, 3, 1).unwrap(), 7005);
        assert!(matches!(
            peer_port(65535, 1, 2, 0),
            Err(Error::InvalidArgument { .. })
        ));
    }

    #[test]
    fn addresses_are_multiaddrs() {
        assert_eq!(peer_address("127.0.0.1", 7051), "/ip4/127.0.0.1/tcp/7051");
        assert_eq!(peer_address("::1", 7051), "/ip6/::1/tcp/7051");
        assert_eq!(
            peer_address("peer0.example", 7051),
            "/dns/peer0.example/tcp/7051"
        );
    }

    #[test]
    fn counts_are_checked() {
        check_counts(4, 1).unwrap();
        for (orgs, peers) in [(0, 1), (100, 1), (4, 0), (4, 17)] {
            assert!(check_counts(orgs, peers).is_err(), "{orgs} {peers}");
        }
    }
}
