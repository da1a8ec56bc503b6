//! What a replica persists so that, after a crash and restart, it never
//! sends a PREPARE or COMMIT conflicting with one it sent before, never
//! re-uses a sequence number as primary, and still reports every prepared
//! certificate in later view changes.
//!
//! The replica emits [`PersistOp`] deltas; the shell applies them to its
//! durable copy of [`PersistedState`] (or appends them to a log and replays
//! them with [`PersistedState::apply`]) and passes the state to
//! [`crate::Replica::new`] on restart.

use crate::cert::{CheckpointCert, PreparedCert};
use crate::error::Result;
use crate::message::SignedMessage;
use crate::types::{Seq, View, GENESIS_STATE};
use cryptanet_types::{codec, Digest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What this replica accepted at one sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRecord {
    /// Sequence number.
    pub seq: Seq,
    /// View of the PRE-PREPARE accepted (and PREPAREd, or sent as primary).
    pub view: View,
    /// Its digest.
    pub digest: Digest,
    /// The signed PRE-PREPARE itself (digest only).
    pub pre_prepare: SignedMessage,
    /// Highest-view prepared certificate for this seq, if any.
    pub prepared: Option<PreparedCert>,
    /// Whether a COMMIT was sent for (`view`, `digest`).
    pub commit_sent: bool,
}

/// The requests of one batch, encoded as byte strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchBytes(#[serde(with = "crate::wire_bytes::byte_vecs")] pub Vec<Vec<u8>>);

/// One durable change. (`Slot` is much larger than the other variants;
/// ops are short-lived and few per step, so it is not boxed.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersistOp {
    /// The active view and, if any, the view this replica asked to move to.
    /// Written before a VIEW-CHANGE is sent and when a view is installed.
    View {
        /// Active view.
        view: View,
        /// Target of the view change in progress.
        changing_to: Option<View>,
    },
    /// A slot was accepted, prepared or committed (replaces the record).
    /// Its batches are persisted separately, once each ([`PersistOp::Batch`]).
    Slot(SlotRecord),
    /// A batch this replica now holds at `seq` (in any view), identified
    /// by its data hash `digest`. A backup records the batch of a
    /// PRE-PREPARE before it PREPAREs, so it can execute it and serve it to
    /// replicas that fetch it after a view change. Emitted once per
    /// (`seq`, `digest`), before the slot record that refers to it: the
    /// slot record is rewritten at every step of the slot, the batch is not.
    Batch {
        /// Sequence number.
        seq: Seq,
        /// Its data hash.
        digest: Digest,
        /// The requests.
        batch: BatchBytes,
    },
    /// Batches up to `seq` were delivered; `state` is the chained digest.
    Executed {
        /// Last executed sequence number.
        seq: Seq,
        /// State digest at `seq`.
        state: Digest,
    },
    /// A checkpoint became stable; records at or below it are dropped.
    Stable(CheckpointCert),
}

/// Everything a restarted replica needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    /// Active view.
    pub view: View,
    /// View change in progress.
    pub changing_to: Option<View>,
    /// Slots above the stable checkpoint.
    pub slots: BTreeMap<Seq, SlotRecord>,
    /// Batches held above the stable checkpoint, by seq and data hash.
    pub batches: BTreeMap<Seq, BTreeMap<Digest, BatchBytes>>,
    /// Last executed sequence number.
    pub last_executed: Seq,
    /// State digest at `last_executed`.
    pub state: Digest,
    /// Last stable checkpoint.
    pub stable: CheckpointCert,
}

impl Default for PersistedState {
    fn default() -> Self {
        PersistedState {
            view: 0,
            changing_to: None,
            slots: BTreeMap::new(),
            batches: BTreeMap::new(),
            last_executed: 0,
            state: GENESIS_STATE,
            stable: CheckpointCert::genesis(),
        }
    }
}

impl PersistedState {
    /// Applies one delta.
    pub fn apply(&mut self, op: &PersistOp) {
        match op {
            PersistOp::View { view, changing_to } => {
                self.view = *view;
                self.changing_to = *changing_to;
            }
            PersistOp::Slot(record) => {
                if record.seq > self.stable.seq {
                    self.slots.insert(record.seq, record.clone());
                }
            }
            PersistOp::Batch { seq, digest, batch } => {
                if *seq > self.stable.seq {
                    self.batches
                        .entry(*seq)
                        .or_default()
                        .insert(*digest, batch.clone());
                }
            }
            PersistOp::Executed { seq, state } => {
                if *seq > self.last_executed {
                    self.last_executed = *seq;
                    self.state = *state;
                }
            }
            PersistOp::Stable(cert) => {
                if cert.seq > self.stable.seq {
                    self.stable = cert.clone();
                    self.slots = self.slots.split_off(&(cert.seq + 1));
                    self.batches = self.batches.split_off(&(cert.seq + 1));
                }
            }
        }
    }

    /// Canonical encoding, for storage.
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(self)?)
    }

    /// Decodes stored state.
    pub fn decode(bytes: &[u8]) -> Result<PersistedState> {
        Ok(codec::decode(bytes)?)
    }
}
