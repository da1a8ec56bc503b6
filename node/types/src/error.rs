//! The one error type of this crate.

use crate::identity::Role;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while decoding, hashing, signing or checking
/// identities. Variants carry structured data, never preformatted strings, so
/// callers can match on them.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bytes could not be decoded as the expected type.
    #[error("malformed {what}: {reason}")]
    Decode {
        /// The type that was being decoded.
        what: &'static str,
        /// The decoder's own description of the problem.
        reason: String,
    },
    /// Bytes decoded, but were followed by unexpected trailing bytes.
    #[error("malformed {what}: {trailing} trailing bytes")]
    TrailingBytes {
        /// The type that was being decoded.
        what: &'static str,
        /// How many bytes were left over.
        trailing: usize,
    },
    /// Input is larger than the codec accepts.
    #[error("{what} of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// The type that was being decoded.
        what: &'static str,
        /// Length of the input.
        len: usize,
        /// Maximum accepted length.
        limit: usize,
    },
    /// A value could not be encoded (should not happen for our types).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// The type that was being encoded.
        what: &'static str,
        /// The encoder's description.
        reason: String,
    },
    /// A public key's bytes are not a valid ed25519 point.
    #[error("invalid ed25519 public key")]
    BadPublicKey,
    /// A signature did not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The certificate names an MSP that is not a member of the network.
    #[error("unknown organisation {msp_id:?}")]
    UnknownOrg {
        /// MSP id found in the certificate (or requested).
        msp_id: String,
    },
    /// The certificate was not issued by its organisation's CA.
    #[error("certificate of {msp_id:?} is not signed by that organisation's CA")]
    BadChain {
        /// MSP id the certificate claims.
        msp_id: String,
    },
    /// The certificate is outside its validity period at the given time.
    #[error("certificate expired or not yet valid at unix time {at}")]
    Expired {
        /// The time (unix seconds) the check was made for.
        at: i64,
    },
    /// The certificate's role is not the one required.
    #[error("certificate has role {actual:?}, {required:?} required")]
    WrongRole {
        /// Role the caller requires.
        required: Role,
        /// Role the certificate carries (None when it carries none).
        actual: Option<Role>,
    },
    /// The certificate could not be parsed or lacks a required field.
    #[error("bad certificate: {reason}")]
    BadCertificate {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two org definitions given to a verifier share one MSP id.
    #[error("organisation {msp_id:?} is defined twice")]
    DuplicateOrg {
        /// The repeated MSP id.
        msp_id: String,
    },
    /// An org definition could not be parsed or is inconsistent.
    #[error("bad org definition: {reason}")]
    BadOrgDefinition {
        /// The parser's description, or which field is wrong.
        reason: String,
    },
    /// A private key could not be decoded, or does not fit its certificate.
    #[error("bad private key: {reason}")]
    BadPrivateKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A block's internal hashes do not match its contents.
    #[error("block {number} is inconsistent: {reason}")]
    BadBlock {
        /// Block number.
        number: u64,
        /// Which check failed.
        reason: &'static str,
    },
}
