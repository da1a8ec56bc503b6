//! Reading the fields of an X.509 certificate that identities depend on.
//!
//! Parsing is done by `x509-parser`; this module only picks out what the
//! verifier needs (subject O and OU, issuer, validity, the ed25519 key, the
//! to-be-signed bytes and the CA's signature over them) and rejects anything
//! that is not an ed25519 certificate in strict DER with a typed error. No
//! check here depends on other certificates or on the time: those live in
//! [`verifier`](super::verifier).

use super::Role;
use crate::crypto::{PublicKey, Signature};
use crate::error::{Error, Result};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::OID_SIG_ED25519;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// The identity-relevant content of one certificate.
#[derive(Debug)]
pub(crate) struct CertFields {
    /// The subject's single organization (O): the MSP id it claims.
    pub msp_id: Option<String>,
    /// The role named by the subject's organizational unit (OU), if any.
    pub role: Option<Role>,
    /// The subject's common name (CN), empty when absent.
    pub common_name: String,
    /// DER of the subject name.
    pub subject_raw: Vec<u8>,
    /// DER of the issuer name.
    pub issuer_raw: Vec<u8>,
    /// Start of the validity period, unix seconds.
    pub not_before: i64,
    /// End of the validity period, unix seconds (inclusive).
    pub not_after: i64,
    /// The subject's ed25519 public key.
    pub public_key: PublicKey,
    /// The to-be-signed part, exactly as it appears in the certificate.
    pub tbs_raw: Vec<u8>,
    /// The issuer's signature over `tbs_raw`, if it is a 64-byte ed25519
    /// signature under the ed25519 algorithm identifier (None otherwise).
    pub ca_signature: Option<Signature>,
    /// Whether basic constraints mark the certificate as a CA.
    pub is_ca: bool,
}

/// Parses `der` as one X.509 certificate with an ed25519 subject key.
///
/// Errors: [`Error::BadCertificate`] for anything malformed: not DER, trailing
/// bytes, a non-ed25519 key, several O values, or conflicting role OUs.
pub(crate) fn parse(der: &[u8]) -> Result<CertFields> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|_| bad("not a DER X.509 certificate"))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes after the certificate"));
    }
    let tbs = &cert.tbs_certificate;
    let subject = &tbs.subject;
    let spki = tbs.public_key();
    if spki.algorithm.algorithm != OID_SIG_ED25519 || spki.algorithm.parameters.is_some() {
        return Err(bad("subject key is not ed25519"));
    }
    let key_bits = &spki.subject_public_key;
    let public_key = match <[u8; 32]>::try_from(key_bits.data.as_ref()) {
        Ok(bytes) if key_bits.unused_bits == 0 => PublicKey(bytes),
        _ => return Err(bad("ed25519 subject key is not 32 bytes")),
    };
    if ed25519_dalek::VerifyingKey::from_bytes(&public_key.0).is_err() {
        return Err(bad("subject key is not a valid ed25519 point"));
    }
    let ca_signature = ed25519_signature(&cert);
    if let Some(sig) = &ca_signature {
        if !canonical_envelope(der, tbs.as_ref(), sig) {
            return Err(bad("certificate envelope is not canonical DER"));
        }
    }
    let is_ca = tbs
        .basic_constraints()
        .map_err(|_| bad("malformed basic constraints"))?
        .is_some_and(|bc| bc.value.ca);
    Ok(CertFields {
        msp_id: single_organization(subject)?.map(str::to_owned),
        role: role_of(subject)?,
        common_name: common_name(subject)?.to_owned(),
        subject_raw: subject.as_raw().to_vec(),
        issuer_raw: tbs.issuer.as_raw().to_vec(),
        not_before: tbs.validity().not_before.timestamp(),
        not_after: tbs.validity().not_after.timestamp(),
        public_key,
        tbs_raw: tbs.as_ref().to_vec(),
        ca_signature,
        is_ca,
    })
}

/// The CA signature, when both algorithm identifiers say ed25519 without
/// parameters and the signature is 64 bytes with no unused bits.
fn ed25519_signature(cert: &X509Certificate<'_>) -> Option<Signature> {
    let outer = &cert.signature_algorithm;
    let inner = &cert.tbs_certificate.signature;
    let algorithms_ok = outer.algorithm == OID_SIG_ED25519
        && inner.algorithm == OID_SIG_ED25519
        && outer.parameters.is_none()
        && inner.parameters.is_none();
    let value = &cert.signature_value;
    if !algorithms_ok || value.unused_bits != 0 {
        return None;
    }
    <[u8; 64]>::try_from(value.data.as_ref())
        .ok()
        .map(Signature)
}

/// DER of `AlgorithmIdentifier { id-Ed25519 }` followed by the header of a
/// 64-byte BIT STRING with no unused bits (RFC 8410 section 6).
const ED25519_SIGNATURE_PREFIX: [u8; 10] =
    [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x41, 0x00];

/// Whether `der` is exactly `SEQUENCE { tbs, ed25519 AlgorithmIdentifier,
/// BIT STRING sig }` in DER.
///
/// The CA's signature covers only the to-be-signed part; the envelope around
/// it is unsigned, and the parser tolerates a few non-DER tag bits there. For
/// an ed25519 certificate the envelope has a single valid encoding, so
/// comparing against it byte for byte makes every certificate have exactly
/// one accepted encoding (and so one digest).
fn canonical_envelope(der: &[u8], tbs: &[u8], sig: &Signature) -> bool {
    let body_len = tbs.len() + ED25519_SIGNATURE_PREFIX.len() + sig.0.len();
    let Some(header) = sequence_header(body_len) else {
        return false;
    };
    let expected = [&header[..], tbs, &ED25519_SIGNATURE_PREFIX[..], &sig.0[..]];
    let mut rest = der;
    for part in expected {
        match rest.strip_prefix(part) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The DER header of a SEQUENCE of `len` content bytes (lengths below 64 KiB).
fn sequence_header(len: usize) -> Option<Vec<u8>> {
    match len {
        0..=0x7f => Some(vec![0x30, len as u8]),
        0x80..=0xff => Some(vec![0x30, 0x81, len as u8]),
        0x100..=0xffff => Some(vec![0x30, 0x82, (len >> 8) as u8, len as u8]),
        _ => None,
    }
}

fn single_organization<'a>(name: &X509Name<'a>) -> Result<Option<&'a str>> {
    let mut values = name.iter_organization();
    let first = values.next();
    if values.next().is_some() {
        return Err(bad("subject names more than one organization"));
    }
    first
        .map(|attr| {
            attr.as_str()
                .map_err(|_| bad("organization is not a string"))
        })
        .transpose()
}

fn role_of(name: &X509Name<'_>) -> Result<Option<Role>> {
    let mut role = None;
    for attr in name.iter_organizational_unit() {
        let ou = attr
            .as_str()
            .map_err(|_| bad("organizational unit is not a string"))?;
        if let Some(found) = Role::from_ou(ou) {
            if role.is_some_and(|r| r != found) {
                return Err(bad("subject names more than one role"));
            }
            role = Some(found);
        }
    }
    Ok(role)
}

fn common_name<'a>(name: &X509Name<'a>) -> Result<&'a str> {
    match name.iter_common_name().next() {
        Some(attr) => attr
            .as_str()
            .map_err(|_| bad("common name is not a string")),
        None => Ok(""),
    }
}

fn bad(reason: &'static str) -> Error {
    Error::BadCertificate { reason }
}
