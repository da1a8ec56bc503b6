//! Decoding the PEM files that `cryptanet orgs generate` writes.
//!
//! Certificates are `CERTIFICATE` blocks holding DER; private keys are
//! `PRIVATE KEY` blocks holding a PKCS#8 ed25519 key. These functions take
//! the file contents as strings; reading the files is the caller's job.

use crate::crypto::SigningKey;
use crate::error::{Error, Result};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use std::io::Cursor;
use x509_parser::pem::Pem;

/// The DER of the first `CERTIFICATE` block in `pem`.
///
/// Errors: [`Error::BadCertificate`] when there is no such block. The DER
/// itself is not parsed here; the verifier does that.
pub fn parse_cert_pem(pem: &str) -> Result<Vec<u8>> {
    let block = first_block(pem).ok_or(Error::BadCertificate {
        reason: "no PEM block",
    })?;
    if block.label != "CERTIFICATE" {
        return Err(Error::BadCertificate {
            reason: "PEM block is not a CERTIFICATE",
        });
    }
    Ok(block.contents)
}

/// The ed25519 signing key of the first `PRIVATE KEY` (PKCS#8) block in `pem`.
///
/// Errors: [`Error::BadPrivateKey`] when there is no such block or it does not
/// hold an ed25519 key.
pub fn parse_signing_key_pem(pem: &str) -> Result<SigningKey> {
    let block = first_block(pem).ok_or(Error::BadPrivateKey {
        reason: "no PEM block",
    })?;
    if block.label != "PRIVATE KEY" {
        return Err(Error::BadPrivateKey {
            reason: "PEM block is not a PKCS#8 PRIVATE KEY",
        });
    }
    SigningKey::from_pkcs8_der(&block.contents).map_err(|_| Error::BadPrivateKey {
        reason: "not a PKCS#8 ed25519 key",
    })
}

fn first_block(pem: &str) -> Option<Pem> {
    Pem::read(Cursor::new(pem.as_bytes()))
        .ok()
        .map(|(block, _)| block)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::testkit;

    #[test]
    fn round_trips_what_rcgen_writes() {
        let ca = testkit::TestCa::new(1, "Org1MSP");
        let (cert_pem, key_pem, key) = ca.issue_pem("peer0.org1", Some("peer"));
        let der = parse_cert_pem(&cert_pem).unwrap();
        assert!(der.len() > 100);
        let parsed = parse_signing_key_pem(&key_pem).unwrap();
        assert_eq!(parsed.to_bytes(), key.to_bytes());
    }

    #[test]
    fn wrong_or_missing_blocks_are_typed_errors() {
        let ca = testkit::TestCa::new(1, "Org1MSP");
        let (cert_pem, key_pem, _) = ca.issue_pem("peer0.org1", Some("peer"));
        assert!(matches!(
            parse_cert_pem("hello"),
            Err(Error::BadCertificate { .. })
        ));
        assert!(matches!(
            parse_cert_pem(&key_pem),
            Err(Error::BadCertificate { .. })
        ));
        assert!(matches!(
            parse_signing_key_pem(&cert_pem),
            Err(Error::BadPrivateKey { .. })
        ));
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            parse_signing_key_pem(garbage),
            Err(Error::BadPrivateKey { .. })
        ));
    }
}
