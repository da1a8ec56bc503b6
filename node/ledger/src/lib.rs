//! # cryptanet-ledger
//!
//! One peer's copy of the ledger on RocksDB: the block store, the versioned
//! world state, the per-key history and the transaction-id index.
//!
//! ## Atomicity
//! [`Ledger::append`] turns a validated block into **one** RocksDB write
//! batch: the block bytes, its hash index, the tx-id index, the state writes
//! of its valid transactions, their history entries and the new height. The
//! write-ahead log makes the batch all-or-nothing, so after a crash at any
//! point [`Ledger::open`] finds height `h` and exactly the state after block
//! `h`. Nothing is cached outside RocksDB except the height and last hash,
//! which are re-read on open.
//!
//! ## Throughput
//! [`Ledger::append_all`] appends a stream of blocks (catch-up, bulk
//! import) with the same result, pipelined: a second thread checks and
//! plans block n + 1 into its write batch while block n is written, and with
//! `sync` the WAL fsync is shared by up to [`GROUP_COMMIT_BLOCKS`] blocks.
//!
//! ## Layout
//! See [`keys`] for the column families and key encodings.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod db_options;
pub mod effects;
pub mod error;
pub mod keys;
mod ledger;
pub mod plan;
pub mod testkit;

pub use effects::{block_effects, TxEffect};
pub use error::{Error, Result};
pub use ledger::{
    HistoryEntry, Ledger, LedgerOptions, StateEntry, TxLocation, GROUP_COMMIT_BLOCKS,
};

#[cfg(test)]
mod tests;
