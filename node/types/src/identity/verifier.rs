//! The membership verifier: who may sign what, given the network's orgs.
//!
//! A [`Verifier`] is built from the org definitions of the network (one CA
//! per org). It accepts a signature only when, in this order:
//!
//! 1. the certificate parses as an ed25519 X.509 certificate
//!    ([`Error::BadCertificate`] otherwise);
//! 2. its subject O names a member org ([`Error::UnknownOrg`]);
//! 3. its issuer is that org's CA and the CA's ed25519 signature over the
//!    to-be-signed bytes verifies ([`Error::BadChain`]);
//! 4. `now` lies within both the certificate's and the CA's validity
//!    ([`Error::Expired`]);
//! 5. its OU role is the one required ([`Error::WrongRole`]);
//! 6. the message signature verifies under the certificate's key
//!    ([`Error::BadSignature`]).
//!
//! Steps 1 to 3 depend only on the certificate bytes, so their outcome is
//! cached, keyed by the DER itself (its SHA3-256 digest, the identity's
//! id, is computed once per certificate, not per call); steps 4 to 6 run on
//! every call.
//! The cache never changes a result, only how fast it is computed, so peers
//! with different cache contents still agree. Time is an argument (unix
//! seconds): the verifier reads no clock.

use super::cert;
use super::org::OrgDefinition;
use super::pem::parse_cert_pem;
use super::Role;
use crate::crypto::{PublicKey, Signature};
use crate::error::{Error, Result};
use crate::hash::Digest;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Default bound on the number of cached certificates.
pub const DEFAULT_CACHE_LIMIT: usize = 4096;

/// A verified signer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The member org that issued the certificate.
    pub msp_id: String,
    /// The role carried in the certificate.
    pub role: Role,
    /// The certificate's common name, e.g. `peer0.org1` (may be empty).
    pub common_name: String,
    /// The certificate's ed25519 key.
    pub public_key: PublicKey,
    /// SHA3-256 of the certificate DER: a short, stable id for the identity.
    pub cert_digest: Digest,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

/// What the verifier knows of one member org's CA.
#[derive(Debug)]
struct MemberOrg {
    ca_subject: Vec<u8>,
    ca_key: PublicKey,
    not_before: i64,
    not_after: i64,
}

/// A certificate that passed the time-independent checks (steps 1 to 3).
#[derive(Debug)]
struct Checked {
    msp_id: String,
    role: Option<Role>,
    common_name: String,
    public_key: PublicKey,
    /// Validity of the certificate intersected with its CA's.
    not_before: i64,
    not_after: i64,
}

/// A cache entry: the checked certificate and its digest.
type Cached = (Arc<Checked>, Digest);

/// Checks certificates and signatures against the network's member orgs.
///
/// `Verifier` is `Sync`; the cache sits behind a mutex held only for a map
/// lookup or insert, never while verifying.
pub struct Verifier {
    orgs: BTreeMap<String, MemberOrg>,
    cache: Mutex<HashMap<Vec<u8>, Cached>>,
    cache_limit: usize,
}

impl Verifier {
    /// A verifier for the network made of `orgs`.
    ///
    /// Each CA certificate must be a self-signed ed25519 CA certificate whose
    /// subject O is the org's MSP id. Errors: [`Error::BadCertificate`] for an
    /// unparsable or non-CA certificate, [`Error::BadChain`] when it is not
    /// self-signed, [`Error::BadOrgDefinition`] when its O differs from the
    /// MSP id, [`Error::DuplicateOrg`] when an MSP id repeats.
    pub fn new(orgs: &[OrgDefinition]) -> Result<Verifier> {
        let mut members = BTreeMap::new();
        for def in orgs {
            let member = member_org(def)?;
            if members.insert(def.msp_id.clone(), member).is_some() {
                return Err(Error::DuplicateOrg {
                    msp_id: def.msp_id.clone(),
                });
            }
        }
        Ok(Verifier {
            orgs: members,
            cache: Mutex::new(HashMap::new()),
            cache_limit: DEFAULT_CACHE_LIMIT,
        })
    }

    /// Sets the most certificates the cache holds; when full it is emptied.
    pub fn with_cache_limit(mut self, limit: usize) -> Verifier {
        self.cache_limit = limit;
        self
    }

    /// The MSP ids of the member orgs, in order.
    pub fn member_ids(&self) -> impl Iterator<Item = &str> {
        self.orgs.keys().map(String::as_str)
    }

    /// Checks `sig` over exactly `msg` by the holder of `cert_der` at time
    /// `now` (unix seconds), requiring `required` as its role when given.
    /// Returns the signer. See the [module docs](self) for the checks and
    /// the error each failure returns.
    pub fn verify(
        &self,
        cert_der: &[u8],
        required: Option<Role>,
        msg: &[u8],
        sig: &Signature,
        now: i64,
    ) -> Result<Identity> {
        let (checked, digest) = self.checked(cert_der)?;
        let role = admit(&checked, required, now)?;
        checked
            .public_key
            .verify(msg, sig)
            .map_err(|_| Error::BadSignature)?;
        Ok(identity(&checked, role, digest, cert_der))
    }

    /// Checks that `cert_der` is a valid certificate of a member org at `now`
    /// (steps 1 to 5 of the module docs, without a message signature), e.g.
    /// to admit a peer's transport connection.
    pub fn identify(&self, cert_der: &[u8], required: Option<Role>, now: i64) -> Result<Identity> {
        let (checked, digest) = self.checked(cert_der)?;
        let role = admit(&checked, required, now)?;
        Ok(identity(&checked, role, digest, cert_der))
    }

    /// The ed25519 key of `cert_der` if it is a valid certificate of a
    /// member org at `now` with role `required` (when given): what
    /// [`Verifier::identify`] checks, without building the [`Identity`].
    pub fn public_key(
        &self,
        cert_der: &[u8],
        required: Option<Role>,
        now: i64,
    ) -> Result<PublicKey> {
        let (checked, _) = self.checked(cert_der)?;
        admit(&checked, required, now)?;
        Ok(checked.public_key)
    }

    /// How many certificates are cached now.
    pub fn cached(&self) -> usize {
        self.lock_cache().len()
    }

    /// The time-independent checks, from the cache when possible.
    fn checked(&self, der: &[u8]) -> Result<Cached> {
        if let Some((hit, digest)) = self.lock_cache().get(der) {
            return Ok((Arc::clone(hit), *digest));
        }
        let checked = Arc::new(self.check_chain(der)?);
        let digest = Digest::of(der);
        let mut cache = self.lock_cache();
        if cache.len() >= self.cache_limit {
            cache.clear();
        }
        if self.cache_limit > 0 {
            cache.insert(der.to_vec(), (Arc::clone(&checked), digest));
        }
        Ok((checked, digest))
    }

    fn check_chain(&self, der: &[u8]) -> Result<Checked> {
        let fields = cert::parse(der)?;
        let msp_id = fields.msp_id.ok_or(Error::BadCertificate {
            reason: "subject has no organization",
        })?;
        let Some(org) = self.orgs.get(&msp_id) else {
            return Err(Error::UnknownOrg { msp_id });
        };
        let signed_by_ca = fields.issuer_raw == org.ca_subject
            && fields
                .ca_signature
                .is_some_and(|sig| org.ca_key.verify(&fields.tbs_raw, &sig).is_ok());
        if !signed_by_ca {
            return Err(Error::BadChain { msp_id });
        }
        if fields.is_ca {
            return Err(Error::BadCertificate {
                reason: "a CA certificate is not a signing identity",
            });
        }
        Ok(Checked {
            msp_id,
            role: fields.role,
            common_name: fields.common_name,
            public_key: fields.public_key,
            not_before: fields.not_before.max(org.not_before),
            not_after: fields.not_after.min(org.not_after),
        })
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Cached>> {
        // A panic while holding the lock cannot leave the map half-updated
        // in a way that matters: every entry is a complete, checked value.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("orgs", &self.orgs.keys().collect::<Vec<_>>())
            .field("cached", &self.cached())
            .field("cache_limit", &self.cache_limit)
            .finish()
    }
}

/// Steps 4 and 5: validity at `now`, then the role.
fn admit(checked: &Checked, required: Option<Role>, now: i64) -> Result<Role> {
    if now < checked.not_before || now > checked.not_after {
        return Err(Error::Expired { at: now });
    }
    match (required, checked.role) {
        (Some(required), actual) if actual != Some(required) => {
            Err(Error::WrongRole { required, actual })
        }
        (_, Some(role)) => Ok(role),
        (_, None) => Err(Error::BadCertificate {
            reason: "subject has no role (OU peer, admin or client)",
        }),
    }
}

fn identity(checked: &Checked, role: Role, cert_digest: Digest, der: &[u8]) -> Identity {
    Identity {
        msp_id: checked.msp_id.clone(),
        role,
        common_name: checked.common_name.clone(),
        public_key: checked.public_key,
        cert_digest,
        cert_der: der.to_vec(),
    }
}

/// Validates one org's CA certificate.
fn member_org(def: &OrgDefinition) -> Result<MemberOrg> {
    let der = parse_cert_pem(&def.ca_cert_pem)?;
    let ca = cert::parse(&der)?;
    if !ca.is_ca {
        return Err(Error::BadCertificate {
            reason: "org CA certificate is not marked as a CA",
        });
    }
    if ca.msp_id.as_deref() != Some(def.msp_id.as_str()) {
        return Err(Error::BadOrgDefinition {
            reason: format!(
                "CA certificate of {} names organization {:?}",
                def.msp_id, ca.msp_id
            ),
        });
    }
    let self_signed = ca.issuer_raw == ca.subject_raw
        && ca
            .ca_signature
            .is_some_and(|sig| ca.public_key.verify(&ca.tbs_raw, &sig).is_ok());
    if !self_signed {
        return Err(Error::BadChain {
            msp_id: def.msp_id.clone(),
        });
    }
    Ok(MemberOrg {
        ca_subject: ca.subject_raw,
        ca_key: ca.public_key,
        not_before: ca.not_before,
        not_after: ca.not_after,
    })
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
