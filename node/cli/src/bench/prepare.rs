//! Work prepared before the clock starts: every proposal is signed and, for
//! blind writes, every envelope is endorsed and signed; the shipments that
//! readings are recorded against are registered.

use crate::client::Client;
use crate::txgen::blind_write;
use crate::{Error, Result};
use cryptanet_types::identity::LocalIdentity;
use cryptanet_types::{Digest, SignedProposal};

/// The supply-chain chaincode the record-reading and query workloads call.
pub const SUPPLY_CHAIN: &str = "supply-chain";

/// One unit of work, ready to send.
#[derive(Clone, Debug)]
pub enum Item {
    /// A complete signed envelope: Submit, then wait for its commit.
    Submit {
        /// Gateway index.
        gateway: usize,
        /// Its transaction id.
        tx_id: Digest,
        /// Canonical envelope bytes.
        envelope: Vec<u8>,
    },
    /// A signed proposal: Endorse, sign the prepared transaction, Submit,
    /// then wait for its commit, as a client does.
    Invoke {
        /// Gateway (and signing client) index.
        gateway: usize,
        /// Its transaction id.
        tx_id: Digest,
        /// The signed proposal.
        proposal: SignedProposal,
    },
    /// A signed proposal to Evaluate (read-only).
    Query {
        /// Gateway index.
        gateway: usize,
        /// The signed proposal.
        proposal: SignedProposal,
    },
}

impl Item {
    /// The gateway (and signing client) index.
    pub fn gateway(&self) -> usize {
        match self {
            Item::Submit { gateway, .. }
            | Item::Invoke { gateway, .. }
            | Item::Query { gateway, .. } => *gateway,
        }
    }
}

/// A shipment registered for the benchmark: its id and the index of the
/// org (and gateway) that is its custodian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    /// Shipment id.
    pub id: String,
    /// Custodian org index (also its gateway's index).
    pub org: usize,
}

/// `count` blind writes of `payload_bytes` each from `client`, endorsed
/// with `endorsers`' peer keys, round-robin over `gateways` gateways.
pub fn blind_writes(
    client: &LocalIdentity,
    endorsers: &[&LocalIdentity],
    count: usize,
    payload_bytes: usize,
    gateways: usize,
    seed: u64,
) -> Result<Vec<Item>> {
    let now_ms = unix_ms();
    let mut rng = crate::txgen_rng(seed);
    (0..count)
        .map(|i| {
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&rng().to_le_bytes());
            nonce[8..].copy_from_slice(&(i as u64).to_le_bytes());
            let payload: Vec<u8> = (0..payload_bytes)
                .map(|j| (rng() >> (j % 8 * 8)) as u8)
                .collect();
            let tx = blind_write(client, endorsers, nonce, payload, now_ms)?;
            Ok(Item::Submit {
                gateway: i % gateways.max(1),
                tx_id: tx.tx_id,
                envelope: tx.envelope,
            })
        })
        .collect()
}

/// Registers `per_org` shipments with each org (client `k` through its own
/// gateway) as custodian, named `BENCH-<tag>-<k>-<j>`, through the full
/// endorse/submit/commit flow.
pub async fn register_shipments(
    clients: &[Client],
    orgs: &[String],
    per_org: usize,
    tag: u64,
) -> Result<Vec<Shipment>> {
    let mut shipments = Vec::new();
    for (k, (client, org)) in clients.iter().zip(orgs).enumerate() {
        for j in 0..per_org {
            let id = format!("BENCH-{tag}-{k}-{j}");
            let args = [
                id.as_str(),
                "vaccines",
                "1000",
                "Basel",
                "Oslo",
                org.as_str(),
                "2000",
                "8000",
                "300",
                "450",
            ];
            client
                .invoke(SUPPLY_CHAIN, "RegisterShipment", &args)
                .await?;
            shipments.push(Shipment { id, org: k });
        }
    }
    Ok(shipments)
}

/// The arguments of reading `i` of a run: shipment `i mod n`, a timestamp
/// unique within the shipment, a temperature inside the 2–8 °C range except
/// for every 50th reading (an anomaly the model flags).
pub fn reading_args(shipments: &[Shipment], i: usize, base_ms: u64) -> (usize, [String; 6]) {
    let s = &shipments[i % shipments.len()];
    let round = (i / shipments.len()) as u64;
    let temp_mc = if i % 50 == 49 {
        12_500
    } else {
        4_000 + (i % 7) as i64 * 300
    };
    let args = [
        s.id.clone(),
        (base_ms + round).to_string(),
        temp_mc.to_string(),
        (360 + i % 40).to_string(),
        "1000".to_owned(),
        "47.5596,7.5886".to_owned(),
    ];
    (s.org, args)
}

/// `count` RecordReading proposals, each signed by the custodian's client.
pub fn readings(
    clients: &[Client],
    shipments: &[Shipment],
    count: usize,
    base_ms: u64,
) -> Result<Vec<Item>> {
    if shipments.is_empty() {
        return Err(Error::InvalidArgument {
            name: "shipments",
            reason: "at least one shipment is needed",
        });
    }
    (0..count)
        .map(|i| {
            let (org, args) = reading_args(shipments, i, base_ms);
            let proposal = clients[org].proposal(SUPPLY_CHAIN, "RecordReading", &args)?;
            let tx_id = proposal.proposal()?.tx_id();
            Ok(Item::Invoke {
                gateway: org,
                tx_id,
                proposal,
            })
        })
        .collect()
}

/// `count` GetShipment queries, spread over the shipments and gateways.
pub fn queries(clients: &[Client], shipments: &[Shipment], count: usize) -> Result<Vec<Item>> {
    if shipments.is_empty() {
        return Err(Error::InvalidArgument {
            name: "shipments",
            reason: "at least one shipment is needed",
        });
    }
    (0..count)
        .map(|i| {
            let gateway = i % clients.len();
            let s = &shipments[i % shipments.len()];
            Ok(Item::Query {
                gateway,
                proposal: clients[gateway].proposal(SUPPLY_CHAIN, "GetShipment", &[&s.id])?,
            })
        })
        .collect()
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reading_keys_never_repeat_and_follow_the_custodian() {
        let shipments: Vec<Shipment> = (0..6)
            .map(|k| Shipment {
                id: format!("S{k}"),
                org: k % 4,
            })
            .collect();
        let mut keys = std::collections::HashSet::new();
        let mut anomalies = 0;
        for i in 0..1000 {
            let (org, args) = reading_args(&shipments, i, 1_000);
            assert_eq!(org, shipments[i % 6].org);
            assert!(keys.insert((args[0].clone(), args[1].clone())));
            anomalies += usize::from(args[2] == "12500");
        }
        assert_eq!(anomalies, 20);
    }
}
