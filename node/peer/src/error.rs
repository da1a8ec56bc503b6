//! The one error type of the peer library.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Peer errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The persisted PBFT state does not decode (e.g. written by an older,
    /// incompatible build).
    #[error("consensus state in {path}: {reason}. It was probably written by an incompatible build of cryptanet-node; this build cannot resume from it (on a development network, remove the peers' data directories and start again)")]
    ConsensusState {
        /// The consensus store directory.
        path: PathBuf,
        /// What did not decode.
        reason: String,
    },
    /// A configuration file could not be read or parsed.
    #[error("config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Org material could not be loaded.
    #[error(transparent)]
    Material(#[from] cryptanet_cli::Error),
    /// This peer's certificate is not among the network's peers.
    #[error("this peer's certificate is not listed in any org definition under {0}")]
    NotInNetwork(PathBuf),
    /// The network does not have 3f + 1 peers.
    #[error("{0} peers listed: PBFT needs n = 3f + 1 (4, 7, 10, ...)")]
    BadPeerCount(usize),
    /// A peer address could not be parsed.
    #[error("bad peer address {0:?}: expected host:port or a multiaddr")]
    BadAddress(String),
    /// Ledger error.
    #[error(transparent)]
    Ledger(#[from] cryptanet_ledger::Error),
    /// Consensus core error.
    #[error(transparent)]
    Pbft(#[from] cryptanet_pbft::Error),
    /// Transport error.
    #[error(transparent)]
    P2p(#[from] cryptanet_p2p::Error),
    /// Types error (decoding, identities).
    #[error(transparent)]
    Types(#[from] cryptanet_types::Error),
    /// RocksDB error in the consensus store.
    #[error("consensus store: {0}")]
    Store(#[from] rocksdb::Error),
    /// A block received from another peer failed verification.
    #[error("block {number} from peer {from}: {reason}")]
    BadSyncedBlock {
        /// Block number.
        number: u64,
        /// Peer index it came from.
        from: u32,
        /// What failed.
        reason: String,
    },
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The engine has stopped.
    #[error("peer is shutting down")]
    ShuttingDown,
}
