//! A simulated peer: a replica (or a Byzantine wrapper around one), its
//! durable disk (persisted PBFT state) and its ledger (committed batches).

use super::byzantine::Behaviour;
use super::memo::MemoCheck;
use cryptanet_pbft::{Config, PersistedState, Replica, Seq};
use cryptanet_types::crypto::SigningKey;
use cryptanet_types::{Digest, PublicKey};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One committed batch in a node's ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Batch digest.
    pub digest: Digest,
    /// Chained state digest after this batch.
    pub state: Digest,
    /// The batch.
    pub batch: Vec<Vec<u8>>,
}

/// A simulated peer.
pub struct SimNode {
    /// Replica index.
    pub id: u32,
    /// Its configuration.
    pub config: Config,
    /// Its signing key.
    pub key: SigningKey,
    /// The running replica; `None` while crashed.
    pub replica: Option<Replica>,
    /// Durable PBFT state (survives crashes).
    pub disk: PersistedState,
    /// Durable ledger (survives crashes).
    pub ledger: BTreeMap<Seq, LedgerEntry>,
    /// Digests of every request in the ledger.
    pub executed: BTreeSet<Digest>,
    /// Incremented on restart; timers of an older epoch are dropped.
    pub epoch: u64,
    /// Crash at the next step (possibly after only part of its outputs).
    pub crash_pending: bool,
    /// `Some` for a Byzantine node.
    pub byzantine: Option<Box<dyn Behaviour>>,
}

impl SimNode {
    /// Whether the node follows the protocol (crashes are not Byzantine).
    pub fn honest(&self) -> bool {
        self.byzantine.is_none()
    }

    /// Height of the ledger.
    pub fn height(&self) -> Seq {
        self.ledger.keys().next_back().copied().unwrap_or(0)
    }

    /// Starts (or restarts from disk) the replica.
    pub fn boot(
        &mut self,
        keys: &[PublicKey],
        check: &Arc<MemoCheck>,
    ) -> cryptanet_pbft::Result<Vec<cryptanet_pbft::Output>> {
        let mut r = Replica::new(
            self.config.clone(),
            self.key.clone(),
            keys.to_vec(),
            Some(self.disk.clone()),
        )?;
        r.set_signature_check(check.clone());
        self.epoch += 1;
        let out = r.start();
        self.replica = Some(r);
        Ok(out)
    }
}
