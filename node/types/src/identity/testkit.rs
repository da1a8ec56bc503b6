//! Test-only certificate authority: builds orgs and certificates with rcgen
//! from deterministic keys, including deliberately bad certificates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::org::{OrgDefinition, PeerDef};
use crate::crypto::SigningKey;
use crate::hash::Digest;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;

/// A fixed "now" for tests (2025-06-15).
pub const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

/// What to put in a leaf certificate.
pub struct LeafSpec<'a> {
    pub cn: &'a str,
    /// Subject O; None leaves it out.
    pub org: Option<&'a str>,
    /// Subject OU; None leaves it out.
    pub ou: Option<&'a str>,
    pub not_before: i64,
    pub not_after: i64,
    pub is_ca: bool,
}

impl<'a> LeafSpec<'a> {
    /// A normal certificate of `org` valid around [`NOW`].
    pub fn new(cn: &'a str, org: &'a str, ou: Option<&'a str>) -> Self {
        LeafSpec {
            cn,
            org: Some(org),
            ou,
            not_before: NOW - DAY,
            not_after: NOW + 365 * DAY,
            is_ca: false,
        }
    }
}

/// An org CA for tests.
pub struct TestCa {
    pub msp_id: String,
    seed: u64,
    params: CertificateParams,
    key: KeyPair,
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
}

/// A deterministic ed25519 key for `label`.
pub fn key_for(seed: u64, label: &str) -> SigningKey {
    SigningKey::from_bytes(&Digest::of_parts(&[&seed.to_be_bytes(), label.as_bytes()]).0)
}

fn rcgen_key(key: &SigningKey) -> KeyPair {
    let der = key.to_pkcs8_der().unwrap();
    KeyPair::try_from(der.as_bytes()).unwrap()
}

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

impl TestCa {
    /// A CA for `msp_id`, valid for ten years around [`NOW`].
    pub fn new(seed: u64, msp_id: &str) -> TestCa {
        TestCa::with_validity(seed, msp_id, NOW - 10 * DAY, NOW + 3650 * DAY)
    }

    /// A CA for `msp_id` valid over `[not_before, not_after]`.
    pub fn with_validity(seed: u64, msp_id: &str, not_before: i64, not_after: i64) -> TestCa {
        let key = rcgen_key(&key_for(seed, "ca"));
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, msp_id);
        dn.push(DnType::CommonName, format!("ca.{msp_id}"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = at(not_before);
        params.not_after = at(not_after);
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            msp_id: msp_id.to_owned(),
            seed,
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            params,
            key,
        }
    }

    /// The public org definition of this CA's org.
    pub fn definition(&self) -> OrgDefinition {
        OrgDefinition {
            msp_id: self.msp_id.clone(),
            ca_cert_pem: self.cert_pem.clone(),
            peers: vec![PeerDef {
                name: "peer0".into(),
                address: "/ip4/127.0.0.1/tcp/7051".into(),
                cert_pem: None,
            }],
        }
    }

    /// Issues a certificate per `spec`; returns its DER, PEM and the subject key.
    pub fn issue_spec(&self, spec: &LeafSpec<'_>) -> (Vec<u8>, String, SigningKey) {
        let key = key_for(self.seed, spec.cn);
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        if let Some(org) = spec.org {
            dn.push(DnType::OrganizationName, org);
        }
        if let Some(ou) = spec.ou {
            dn.push(DnType::OrganizationalUnitName, ou);
        }
        dn.push(DnType::CommonName, spec.cn);
        params.distinguished_name = dn;
        params.not_before = at(spec.not_before);
        params.not_after = at(spec.not_after);
        params.is_ca = if spec.is_ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&rcgen_key(&key), &issuer).unwrap();
        (cert.der().to_vec(), cert.pem(), key)
    }

    /// Issues a normal certificate for this org with role OU `ou`.
    pub fn issue(&self, cn: &str, ou: Option<&str>) -> (Vec<u8>, SigningKey) {
        let (der, _, key) = self.issue_spec(&LeafSpec::new(cn, &self.msp_id, ou));
        (der, key)
    }

    /// Like [`TestCa::issue`], returning the certificate and key as PEM too.
    pub fn issue_pem(&self, cn: &str, ou: Option<&str>) -> (String, String, SigningKey) {
        let (_, pem, key) = self.issue_spec(&LeafSpec::new(cn, &self.msp_id, ou));
        let key_pem = rcgen_key(&key).serialize_pem();
        (pem, key_pem, key)
    }
}
