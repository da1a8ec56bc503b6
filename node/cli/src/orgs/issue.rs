//! Building and signing certificates with rcgen.
//!
//! Keys are ed25519-dalek keys handed to rcgen as PKCS#8, so the key a peer
//! later loads with [`parse_signing_key_pem`](cryptanet_types::identity::parse_signing_key_pem)
//! is exactly the one the certificate names.

use super::plan::IdentityPlan;
use crate::error::{Error, Result};
use cryptanet_types::crypto::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use rand_core::CryptoRngCore;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;

/// A validity period.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// A fresh ed25519 key from `rng`, as rcgen needs it.
pub(crate) fn new_key(rng: &mut impl CryptoRngCore, subject: &str) -> Result<KeyPair> {
    key_pair(&SigningKey::generate(rng), subject)
}

/// `key` converted for rcgen (through PKCS#8 DER).
pub(crate) fn key_pair(key: &SigningKey, subject: &str) -> Result<KeyPair> {
    let encoding = || Error::KeyEncoding {
        subject: subject.to_owned(),
    };
    let der = key.to_pkcs8_der().map_err(|_| encoding())?;
    KeyPair::try_from(der.as_bytes()).map_err(|_| encoding())
}

/// The subject common name of org `k`'s CA.
pub(crate) fn ca_common_name(k: u32) -> String {
    format!("ca.org{k}")
}

/// Parameters of org `k`'s CA. Rebuilding them for an existing CA yields
/// the same issuer name, so kept CAs can issue new certificates.
pub(crate) fn ca_params(msp_id: &str, k: u32, validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, msp_id);
    dn.push(DnType::CommonName, ca_common_name(k));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params
}

/// The self-signed CA certificate.
pub(crate) fn self_signed(
    mut params: CertificateParams,
    key: &KeyPair,
    rng: &mut impl CryptoRngCore,
    subject: &str,
) -> Result<Certificate> {
    params.serial_number = Some(serial(rng));
    params.self_signed(key).map_err(|source| Error::Issue {
        subject: subject.to_owned(),
        source,
    })
}

/// Issues `plan`'s certificate for `subject_key` from `issuer`.
pub(crate) fn issue_leaf(
    msp_id: &str,
    plan: &IdentityPlan,
    validity: Validity,
    subject_key: &KeyPair,
    issuer: &Issuer<'_, KeyPair>,
    rng: &mut impl CryptoRngCore,
) -> Result<Certificate> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, msp_id);
    dn.push(DnType::OrganizationalUnitName, plan.role.as_ou());
    dn.push(DnType::CommonName, plan.common_name.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.serial_number = Some(serial(rng));
    params
        .signed_by(subject_key, issuer)
        .map_err(|source| Error::Issue {
            subject: plan.common_name.clone(),
            source,
        })
}

/// A random positive 128-bit serial number (RFC 5280 allows up to 20 octets).
fn serial(rng: &mut impl CryptoRngCore) -> SerialNumber {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    // Positive, and exactly 16 octets in DER (no leading zero to strip).
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}
