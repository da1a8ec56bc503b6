//! What a certificate says about itself, before anyone has checked it.

use super::{cert, Role};
use crate::crypto::PublicKey;
use crate::error::Result;

/// The identity fields of a certificate, read without checking its chain,
/// validity or role: for tools that display or reuse certificates. Use a
/// [`Verifier`](super::verifier::Verifier) to decide whether to trust one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject's organization (O), the MSP id it claims.
    pub msp_id: Option<String>,
    /// The role named by the subject's OU.
    pub role: Option<Role>,
    /// The subject's common name (empty when absent).
    pub common_name: String,
    /// The subject's ed25519 key.
    pub public_key: PublicKey,
    /// Start of validity, unix seconds.
    pub not_before: i64,
    /// End of validity (inclusive), unix seconds.
    pub not_after: i64,
    /// Whether basic constraints mark it as a CA.
    pub is_ca: bool,
}

impl CertInfo {
    /// Reads the fields of a DER certificate.
    ///
    /// Errors: [`Error::BadCertificate`](crate::Error::BadCertificate) when it
    /// is not a well-formed ed25519 certificate.
    pub fn from_der(der: &[u8]) -> Result<CertInfo> {
        let f = cert::parse(der)?;
        Ok(CertInfo {
            msp_id: f.msp_id,
            role: f.role,
            common_name: f.common_name,
            public_key: f.public_key,
            not_before: f.not_before,
            not_after: f.not_after,
            is_ca: f.is_ca,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::testkit::{LeafSpec, TestCa};

    #[test]
    fn reads_what_was_issued() {
        let ca = TestCa::new(3, "Org3MSP");
        let spec = LeafSpec::new("admin.org3", "Org3MSP", Some("admin"));
        let (der, _, key) = ca.issue_spec(&spec);
        let info = CertInfo::from_der(&der).unwrap();
        assert_eq!(info.msp_id.as_deref(), Some("Org3MSP"));
        assert_eq!(info.role, Some(Role::Admin));
        assert_eq!(info.common_name, "admin.org3");
        assert_eq!(info.public_key, PublicKey::of(&key));
        assert_eq!(
            (info.not_before, info.not_after),
            (spec.not_before, spec.not_after)
        );
        assert!(!info.is_ca);
        assert!(CertInfo::from_der(&ca.cert_der).unwrap().is_ca);
    }
}
