//! The public definition of one organisation, as kept in `orgs/<MspId>/org.toml`.
//!
//! An org definition holds only public material: the MSP id, the CA
//! certificate that roots the organisation's identities, and the addresses of
//! its peers (with their certificates, so transports can bind a connection to
//! a peer identity). Private keys never appear here.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One organisation of the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgDefinition {
    /// The MSP id, e.g. `Org1MSP`; certificates carry it as the subject's O.
    pub msp_id: String,
    /// The organisation's CA certificate, PEM.
    pub ca_cert_pem: String,
    /// The organisation's peers.
    #[serde(default)]
    pub peers: Vec<PeerDef>,
}

/// One peer of an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerDef {
    /// The peer's name, e.g. `peer0.org1`; its certificate's CN.
    pub name: String,
    /// Where the peer listens: a libp2p multiaddr such as
    /// `/ip4/127.0.0.1/tcp/7051`, or `host:port`.
    pub address: String,
    /// The peer's certificate, PEM, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
}

impl OrgDefinition {
    /// Parses the TOML form.
    ///
    /// Errors: [`Error::BadOrgDefinition`] with the parser's description, or
    /// when the MSP id is empty.
    pub fn from_toml(text: &str) -> Result<OrgDefinition> {
        let def: OrgDefinition = toml::from_str(text).map_err(|e| Error::BadOrgDefinition {
            reason: e.message().to_owned(),
        })?;
        if def.msp_id.is_empty() {
            return Err(Error::BadOrgDefinition {
                reason: "msp_id is empty".to_owned(),
            });
        }
        Ok(def)
    }

    /// The TOML form, as written to `orgs/<MspId>/org.toml`.
    ///
    /// Errors: [`Error::Encode`] (not expected for these plain fields).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Encode {
            what: "OrgDefinition",
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> OrgDefinition {
        OrgDefinition {
            msp_id: "Org1MSP".into(),
            ca_cert_pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            peers: vec![
                PeerDef {
                    name: "peer0.org1".into(),
                    address: "/ip4/127.0.0.1/tcp/7051".into(),
                    cert_pem: Some("pem".into()),
                },
                PeerDef {
                    name: "peer1.org1".into(),
                    address: "127.0.0.1:7052".into(),
                    cert_pem: None,
                },
            ],
        }
    }

    #[test]
    fn toml_round_trip() {
        let def = sample();
        let text = def.to_toml().unwrap();
        assert!(text.contains("msp_id = \"Org1MSP\""));
        assert_eq!(OrgDefinition::from_toml(&text).unwrap(), def);
    }

    #[test]
    fn malformed_toml_is_a_typed_error() {
        for text in [
            "msp_id = ",
            "ca_cert_pem = \"x\"",
            "msp_id = \"\"\nca_cert_pem = \"x\"",
            "msp_id = \"A\"\nca_cert_pem = \"x\"\nprivate_key = \"leak\"",
        ] {
            assert!(
                matches!(
                    OrgDefinition::from_toml(text),
                    Err(Error::BadOrgDefinition { .. })
                ),
                "{text:?} was accepted"
            );
        }
    }
}
