//! Chaincode definitions and the naming rules they obey.

use crate::error::{Error, Result};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

/// What orgs approve and commit: which code runs under a name, and who must
/// endorse it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaincodeDefinition {
    /// Chaincode name (its state namespace).
    pub name: String,
    /// Free-form version label.
    pub version: String,
    /// 1 for the first definition, +1 for every upgrade.
    pub sequence: u64,
    /// Endorsement policy text (see [`crate::policy`]).
    pub endorsement_policy: String,
    /// Id of the package peers must run.
    pub package_id: String,
}

impl ChaincodeDefinition {
    /// Checks every field; returns the parsed endorsement policy.
    pub fn validate(&self) -> Result<Policy> {
        if !is_valid_name(&self.name) {
            return Err(Error::InvalidDefinition {
                reason: "name must be alphanumeric runs joined by '-' or '_', at most 64 bytes",
            });
        }
        if self.version.is_empty() || self.version.len() > 64 {
            return Err(Error::InvalidDefinition {
                reason: "version must be 1 to 64 bytes",
            });
        }
        if self.sequence == 0 {
            return Err(Error::InvalidDefinition {
                reason: "sequence starts at 1",
            });
        }
        crate::lifecycle::package::parse_package_id(&self.package_id)?;
        Policy::parse(&self.endorsement_policy)
    }
}

/// Fabric's chaincode name rule: `[A-Za-z0-9]+([-_][A-Za-z0-9]+)*`, here at
/// most 64 bytes. System namespaces (`_lifecycle`) can never match.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        && !b
            .windows(2)
            .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
}

/// MSP ids: 1 to 64 bytes of `[A-Za-z0-9._-]`.
pub fn is_valid_org(msp_id: &str) -> bool {
    !msp_id.is_empty()
        && msp_id.len() <= 64
        && msp_id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["supply-chain", "cc1", "a_b-c"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "_lifecycle", "a--b", "-a", "a-", "a b", "ä"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert!(is_valid_org("Org1MSP"));
        assert!(!is_valid_org("Org/1"));
    }
}
