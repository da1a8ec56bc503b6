//! Versions of world-state keys.

use serde::{Deserialize, Serialize};

/// The position of the transaction that last wrote a key: block number and
/// index of the transaction within the block. Ordered by (block, tx).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Block number (the first block is 1).
    pub block: u64,
    /// Index of the transaction within its block.
    pub tx: u32,
}

impl Version {
    /// A version.
    pub const fn new(block: u64, tx: u32) -> Self {
        Version { block, tx }
    }
}
