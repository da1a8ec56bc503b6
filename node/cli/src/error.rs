//! The one error type of the CLI library.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while generating or loading organisation material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file or directory failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("write", "read", "create directory", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A certificate, key or org definition was rejected by the identity layer.
    #[error("{path}: {source}")]
    Identity {
        /// The file (or directory) it came from.
        path: PathBuf,
        /// The identity error.
        #[source]
        source: cryptanet_types::Error,
    },
    /// rcgen could not build or sign a certificate.
    #[error("cannot issue the certificate of {subject}: {source}")]
    Issue {
        /// Common name of the certificate being issued.
        subject: String,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
    /// A private key could not be converted for signing certificates.
    #[error("cannot encode the key of {subject} as PKCS#8")]
    KeyEncoding {
        /// Common name of the key's owner.
        subject: String,
    },
    /// Existing material on disk does not fit together.
    #[error("{path}: {reason} (re-run with --force to regenerate)")]
    Inconsistent {
        /// The file at fault.
        path: PathBuf,
        /// What does not fit.
        reason: &'static str,
    },
    /// A command-line value is out of range.
    #[error("invalid --{name}: {reason}")]
    InvalidArgument {
        /// The option's name.
        name: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The generated material failed its own verification (a bug).
    #[error("generated identity {subject} does not verify: {source}")]
    SelfCheck {
        /// Common name of the identity.
        subject: String,
        /// Why the verifier refused it.
        #[source]
        source: cryptanet_types::Error,
    },
    /// A gRPC call failed (connection, status or decoding).
    #[error(transparent)]
    Rpc(#[from] cryptanet_proto::Error),
    /// Encoding or signing failed.
    #[error(transparent)]
    Types(#[from] cryptanet_types::Error),
    /// A transaction did not commit as VALID.
    #[error("transaction {tx_id} committed as {code}")]
    NotValid {
        /// Its id.
        tx_id: String,
        /// Its validation code.
        code: &'static str,
    },
    /// Training a model failed (too few rows, malformed input, ...).
    #[error("training: {0}")]
    Training(String),
    /// The chaincode lifecycle is not in the state asked for.
    #[error("lifecycle: {0}")]
    Lifecycle(String),
}
