//! The identity a process signs with: its own key and certificate.

use super::pem::{parse_cert_pem, parse_signing_key_pem};
use crate::crypto::{sign, PublicKey, Signature, SigningKey};
use crate::error::{Error, Result};
use std::fmt;

/// A signing key together with the certificate that vouches for it, as a
/// peer, admin or client loads them from its `cert.pem` and `*.key` files.
///
/// Loading checks that the key fits the certificate; it does not check the
/// certificate's chain, role or validity: run it through a
/// [`Verifier`](super::verifier::Verifier) for that.
#[derive(Clone)]
pub struct LocalIdentity {
    key: SigningKey,
    public_key: PublicKey,
    cert_der: Vec<u8>,
}

impl LocalIdentity {
    /// Builds the identity from the PEM contents of a certificate and its key.
    ///
    /// Errors: [`Error::BadCertificate`] for the certificate,
    /// [`Error::BadPrivateKey`] for the key or when it is not the
    /// certificate's.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<LocalIdentity> {
        let cert_der = parse_cert_pem(cert_pem)?;
        let key = parse_signing_key_pem(key_pem)?;
        LocalIdentity::new(key, cert_der)
    }

    /// Builds the identity from a key and a DER certificate.
    ///
    /// Errors: [`Error::BadCertificate`] when the DER does not parse, and
    /// [`Error::BadPrivateKey`] when the key is not the certificate's.
    pub fn new(key: SigningKey, cert_der: Vec<u8>) -> Result<LocalIdentity> {
        let fields = super::cert::parse(&cert_der)?;
        let public_key = PublicKey::of(&key);
        if fields.public_key != public_key {
            return Err(Error::BadPrivateKey {
                reason: "key does not match the certificate",
            });
        }
        Ok(LocalIdentity {
            key,
            public_key,
            cert_der,
        })
    }

    /// Signs exactly `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        sign(&self.key, msg)
    }

    /// The certificate, DER, as it is sent next to signatures.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The public key (the certificate's subject key).
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The signing key, for callers that need it directly (e.g. a transport's
    /// handshake).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("public_key", &self.public_key)
            .field("cert_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::testkit;

    #[test]
    fn loads_a_matching_pair_and_rejects_a_foreign_key() {
        let ca = testkit::TestCa::new(1, "Org1MSP");
        let (cert_pem, key_pem, key) = ca.issue_pem("client.org1", Some("client"));
        let me = LocalIdentity::from_pem(&cert_pem, &key_pem).unwrap();
        assert_eq!(me.public_key(), PublicKey::of(&key));
        let sig = me.sign(b"reading 7");
        me.public_key().verify(b"reading 7", &sig).unwrap();
        assert!(!format!("{me:?}").contains(&hex::encode(key.to_bytes())));

        let (_, other_key_pem, _) = ca.issue_pem("client2.org1", Some("client"));
        assert_eq!(
            LocalIdentity::from_pem(&cert_pem, &other_key_pem).unwrap_err(),
            Error::BadPrivateKey {
                reason: "key does not match the certificate"
            }
        );
    }
}
