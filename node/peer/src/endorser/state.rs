//! Committed world state, as chaincode sees it during simulation: a
//! [`StateView`] over the peer's ledger.
//!
//! Each call takes the ledger's read lock on its own, so one simulation may
//! see blocks committed while it runs. That is safe: every read records the
//! version it saw and every range query its results, and commit-time
//! validation (MVCC and phantom checks) invalidates a transaction whose
//! reads are no longer current, exactly as Fabric does.

use cryptanet_chaincode::{HistoryEntry, Result, StateView, VersionedValue};
use cryptanet_ledger::Ledger;
use std::sync::{Arc, RwLock};

/// A [`StateView`] of a shared ledger; each call takes the read lock.
#[derive(Clone)]
pub struct LedgerState {
    ledger: Arc<RwLock<Ledger>>,
}

impl LedgerState {
    /// A view of `ledger`.
    pub fn new(ledger: Arc<RwLock<Ledger>>) -> Self {
        LedgerState { ledger }
    }

    fn with<T>(&self, f: impl FnOnce(CommittedState<'_>) -> Result<T>) -> Result<T> {
        let ledger = self.ledger.read().unwrap_or_else(|e| e.into_inner());
        f(CommittedState(&ledger))
    }
}

impl StateView for LedgerState {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>> {
        self.with(|s| s.get(ns, key))
    }

    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>> {
        self.with(|s| s.range(ns, start, end, limit))
    }

    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        self.with(|s| s.history(ns, key, limit))
    }
}

/// A [`StateView`] of a ledger the caller already holds (validation reads
/// the lifecycle definitions through it).
#[derive(Clone, Copy)]
pub struct CommittedState<'a>(pub &'a Ledger);

fn state_error(e: cryptanet_ledger::Error) -> cryptanet_chaincode::Error {
    cryptanet_chaincode::Error::State(Box::new(e))
}

impl StateView for CommittedState<'_> {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>> {
        let v = self.0.get_state(ns, key).map_err(state_error)?;
        Ok(v.map(|(value, version)| VersionedValue { value, version }))
    }

    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>> {
        let entries = self.0.range(ns, start, end, limit).map_err(state_error)?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let value = VersionedValue {
                    value: e.value,
                    version: e.version,
                };
                (e.key, value)
            })
            .collect())
    }

    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        // The ledger reads newest first; chaincode gets the oldest `limit`.
        let mut all = self.0.history(ns, key, usize::MAX).map_err(state_error)?;
        all.reverse();
        all.truncate(limit);
        Ok(all
            .into_iter()
            .map(|h| HistoryEntry {
                tx_id: h.tx_id,
                version: h.version,
                value: h.value,
            })
            .collect())
    }
}
