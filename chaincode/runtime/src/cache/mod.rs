//! Compiled modules, cached by code hash: in memory for the life of the
//! runtime, and optionally on disk across restarts ([`disk`]).

pub(crate) mod disk;

use crate::runtime::Chaincode;
use cryptanet_types::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// In-memory cache of ready-to-instantiate chaincode, keyed by the SHA3-256
/// of the wasm bytes.
#[derive(Default)]
pub(crate) struct MemoryCache {
    entries: Mutex<HashMap<Digest, Arc<Chaincode>>>,
}

impl MemoryCache {
    pub(crate) fn get(&self, code_hash: &Digest) -> Option<Arc<Chaincode>> {
        self.lock().get(code_hash).cloned()
    }

    pub(crate) fn insert(&self, code: Arc<Chaincode>) {
        self.lock().insert(code.code_hash(), code);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Arc<Chaincode>>> {
        // The map stays consistent even if a holder panicked mid-insert.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
