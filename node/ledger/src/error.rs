//! The one error type of this crate.

use cryptanet_types::Digest;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Ledger errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// RocksDB reported an error.
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    /// Decoding or integrity error from the types crate.
    #[error(transparent)]
    Types(#[from] cryptanet_types::Error),
    /// The block's number is not height + 1.
    #[error("block number {got} is not the next block (height is {height})")]
    NotNextBlock {
        /// Current height.
        height: u64,
        /// Number of the offered block.
        got: u64,
    },
    /// The block's previous hash is not the hash of the last block.
    #[error("block {number} links to {got}, but the last block's hash is {expected}")]
    PreviousHashMismatch {
        /// Number of the offered block.
        number: u64,
        /// Hash of the current last block.
        expected: Digest,
        /// Previous hash in the offered block.
        got: Digest,
    },
    /// A namespace is empty or contains a 0x00 byte.
    #[error("invalid namespace {0:?}")]
    BadNamespace(String),
    /// A key is empty or starts with 0x00.
    #[error("invalid key: empty")]
    BadKey,
    /// The ledger directory was written in another on-disk format.
    #[error(
        "ledger format {found} is not format {expected} that this build reads; \
         move the data directory aside and let the peer re-fetch the chain from the network",
        expected = crate::keys::FORMAT
    )]
    Format {
        /// The format found on disk.
        found: String,
    },
    /// The pipelined append could not start its preparation thread.
    #[error("cannot start the block preparation thread: {0}")]
    Thread(std::io::Error),
    /// Stored bytes are not in the format this version writes.
    #[error("corrupt ledger: {what}")]
    Corrupt {
        /// Which record is malformed.
        what: &'static str,
    },
}
