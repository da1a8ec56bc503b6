//! Durable PBFT state: persist before send.
//!
//! The core emits [`PersistOp`] deltas; the engine collects the consecutive
//! persists of one step and writes them here as one fsynced RocksDB batch
//! before performing the sends that follow them. Keys:
//!
//! | key | value |
//! |---|---|
//! | `view` | `PersistOp::View` |
//! | `slot` ‖ seq (u64 BE) | `SlotRecord` |
//! | `batch` ‖ seq (u64 BE) ‖ data hash | `BatchBytes`, written once |
//! | `executed` | `PersistOp::Executed` |
//! | `stable` | `CheckpointCert` |
//! | `format` | [`FORMAT`], u32 BE |
//!
//! A stable checkpoint deletes the slot and batch records at or below it.
//! A slot record is rewritten at each step of its slot (accepted,
//! prepared, commit sent) and holds no requests; the requests, the bulk of
//! the bytes, are written once per batch.

use crate::error::{Error, Result};
use cryptanet_pbft::{CheckpointCert, PersistOp, PersistedState, SlotRecord};
use cryptanet_types::codec;
use rocksdb::{Options, WriteBatch, WriteOptions, DB};
use std::path::Path;

const VIEW: &[u8] = b"view";
const EXECUTED: &[u8] = b"executed";
const STABLE: &[u8] = b"stable";
const SLOT: &[u8] = b"slot";
const BATCH: &[u8] = b"batch";
const FORMAT_KEY: &[u8] = b"format";

/// On-disk format of the consensus store this build reads and writes.
/// 2: batch digests are built from envelope hashes (block format 2).
/// 3: signed PBFT messages carry their batch as an unsigned attachment.
/// 4: batches are records of their own, apart from the slot records.
pub const FORMAT: u32 = 4;

/// The consensus store.
pub struct ConsensusStore {
    db: DB,
    sync: bool,
    path: std::path::PathBuf,
}

impl std::fmt::Debug for ConsensusStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsensusStore").finish_non_exhaustive()
    }
}

fn slot_key(seq: u64) -> Vec<u8> {
    let mut k = SLOT.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn batch_key(seq: u64, digest: &cryptanet_types::Digest) -> Vec<u8> {
    let mut k = BATCH.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&digest.0);
    k
}

/// Whether a [`ConsensusStore::persist`] must be on disk when it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync before returning: something that depends on the records is
    /// about to leave the peer (persist-before-send).
    Synced,
    /// Write without fsync: nothing depends on the records yet. A crash may
    /// lose them, and only together with everything written after them.
    Deferred,
}

impl ConsensusStore {
    /// Opens (creating) the store at `path`. `sync` fsyncs every write
    /// (required for the crash-safety guarantee against power loss).
    pub fn open(path: &Path, sync: bool) -> Result<ConsensusStore> {
        let mut o = Options::default();
        o.create_if_missing(true);
        let store = ConsensusStore {
            db: DB::open(&o, path)?,
            sync,
            path: path.to_owned(),
        };
        store.check_format()?;
        Ok(store)
    }

    /// Refuses a store in another format (or one written before the format
    /// record existed); marks a new, empty store with [`FORMAT`].
    fn check_format(&self) -> Result<()> {
        let found = match self.db.get(FORMAT_KEY)? {
            Some(raw) if raw.as_slice() == FORMAT.to_be_bytes().as_slice() => return Ok(()),
            Some(raw) => <[u8; 4]>::try_from(raw.as_slice()).map_or_else(
                |_| "unreadable".to_owned(),
                |b| u32::from_be_bytes(b).to_string(),
            ),
            None if self
                .db
                .iterator(rocksdb::IteratorMode::Start)
                .next()
                .is_some() =>
            {
                "1 (no format record)".to_owned()
            }
            None => {
                let mut wo = WriteOptions::default();
                wo.set_sync(self.sync);
                self.db.put_opt(FORMAT_KEY, FORMAT.to_be_bytes(), &wo)?;
                return Ok(());
            }
        };
        Err(Error::ConsensusState {
            path: self.path.clone(),
            reason: format!("store format {found}, this build reads format {FORMAT}"),
        })
    }

    /// Applies deltas atomically; with [`Durability::Synced`] also durably
    /// (when the store syncs at all), together with every earlier deferred
    /// write.
    pub fn persist(&self, ops: &[PersistOp], durability: Durability) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for op in ops {
            match op {
                PersistOp::View { .. } => batch.put(VIEW, codec::encode(op)?),
                PersistOp::Slot(rec) => batch.put(slot_key(rec.seq), codec::encode(rec)?),
                PersistOp::Batch {
                    seq,
                    digest,
                    batch: requests,
                } => batch.put(batch_key(*seq, digest), codec::encode(requests)?),
                PersistOp::Executed { .. } => batch.put(EXECUTED, codec::encode(op)?),
                PersistOp::Stable(cert) => {
                    batch.put(STABLE, codec::encode(cert)?);
                    batch.delete_range(slot_key(0), slot_key(cert.seq + 1));
                    batch.delete_range(
                        batch_key(0, &Default::default()),
                        batch_key(cert.seq + 1, &Default::default()),
                    );
                }
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(self.sync && durability == Durability::Synced);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    /// Decodes a stored value, naming the store and the record on failure.
    fn decode<T: serde::de::DeserializeOwned>(&self, what: &str, raw: &[u8]) -> Result<T> {
        codec::decode(raw).map_err(|e| Error::ConsensusState {
            path: self.path.clone(),
            reason: format!("{what}: {e}"),
        })
    }

    /// Rebuilds the persisted state (None when nothing was ever stored).
    pub fn load(&self) -> Result<Option<PersistedState>> {
        let mut state = PersistedState::default();
        let mut any = false;
        if let Some(raw) = self.db.get(STABLE)? {
            let cert: CheckpointCert = self.decode("stable checkpoint", &raw)?;
            state.apply(&PersistOp::Stable(cert));
            any = true;
        }
        for key in [VIEW, EXECUTED] {
            if let Some(raw) = self.db.get(key)? {
                let op: PersistOp = self.decode("view or executed record", &raw)?;
                state.apply(&op);
                any = true;
            }
        }
        for item in self.db.prefix_iterator(SLOT) {
            let (k, v) = item?;
            if !k.starts_with(SLOT) {
                break;
            }
            let rec: SlotRecord = self.decode("slot record", &v)?;
            state.apply(&PersistOp::Slot(rec));
            any = true;
        }
        for item in self.db.prefix_iterator(BATCH) {
            let (k, v) = item?;
            if !k.starts_with(BATCH) {
                break;
            }
            let (seq, digest) = k[BATCH.len()..]
                .split_first_chunk::<8>()
                .and_then(|(seq, d)| {
                    Some((u64::from_be_bytes(*seq), <[u8; 32]>::try_from(d).ok()?))
                })
                .ok_or_else(|| Error::ConsensusState {
                    path: self.path.clone(),
                    reason: format!("batch record key of {} bytes", k.len()),
                })?;
            let batch = self.decode("batch record", &v)?;
            state.apply(&PersistOp::Batch {
                seq,
                digest: cryptanet_types::Digest(digest),
                batch,
            });
            any = true;
        }
        Ok(any.then_some(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptanet_pbft::{Message, SignedMessage};

    #[test]
    fn persisted_deltas_reload_into_the_same_state_and_stable_drops_old_slots() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConsensusStore::open(dir.path(), true).unwrap();
        assert_eq!(store.load().unwrap(), None);
        let key = cryptanet_types::crypto::SigningKey::from_bytes(&[7; 32]);
        let mut expected = PersistedState::default();
        let mut ops = vec![PersistOp::View {
            view: 2,
            changing_to: Some(3),
        }];
        for seq in 1..=5u64 {
            let batch = vec![vec![seq as u8; 4]];
            let digest = cryptanet_types::block::data_hash(&batch);
            let pp = Message::PrePrepare(cryptanet_pbft::message::PrePrepare {
                view: 2,
                seq,
                digest,
                replica: 2,
            });
            let signed = SignedMessage::sign(&key, &pp).unwrap();
            ops.push(PersistOp::Batch {
                seq,
                digest,
                batch: cryptanet_pbft::persist::BatchBytes(batch),
            });
            ops.push(PersistOp::Slot(SlotRecord {
                seq,
                view: 2,
                digest,
                pre_prepare: signed,
                prepared: None,
                commit_sent: seq % 2 == 0,
            }));
        }
        ops.push(PersistOp::Executed {
            seq: 3,
            state: cryptanet_types::Digest::of(b"s3"),
        });
        // A second batch at seq 4 (another view's proposal) and a stable
        // checkpoint at 2: slots and batches at or below it go.
        let other = vec![b"other view".to_vec()];
        ops.push(PersistOp::Batch {
            seq: 4,
            digest: cryptanet_types::block::data_hash(&other),
            batch: cryptanet_pbft::persist::BatchBytes(other),
        });
        let mut stable = cryptanet_pbft::CheckpointCert::genesis();
        stable.seq = 2;
        ops.push(PersistOp::Stable(stable));
        // Records nothing has acted on yet go without an fsync; the next
        // synced write carries them (both halves reload).
        let (early, late) = ops.split_at(ops.len() / 2);
        store.persist(early, Durability::Deferred).unwrap();
        store.persist(late, Durability::Synced).unwrap();
        for op in &ops {
            expected.apply(op);
        }
        assert_eq!(store.load().unwrap().as_ref(), Some(&expected));
        assert_eq!(
            expected.slots.keys().copied().collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(
            expected.batches.keys().copied().collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(expected.batches[&4].len(), 2);
        drop(store);
        let store = ConsensusStore::open(dir.path(), false).unwrap();
        assert_eq!(store.load().unwrap().as_ref(), Some(&expected));
    }

    #[test]
    fn a_store_in_another_format_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = ConsensusStore::open(dir.path(), false).unwrap();
            store.db.put(VIEW, [0u8]).unwrap();
        }
        ConsensusStore::open(dir.path(), false).unwrap(); // its own format
        {
            let store = ConsensusStore::open(dir.path(), false).unwrap();
            store.db.delete(FORMAT_KEY).unwrap(); // as before format records
        }
        let err = ConsensusStore::open(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("store format 1 (no format record)"), "{err}");
        assert!(err.contains("incompatible build"), "{err}");
        {
            let mut o = Options::default();
            o.create_if_missing(true);
            let db = DB::open(&o, dir.path()).unwrap();
            db.put(FORMAT_KEY, 5u32.to_be_bytes()).unwrap();
        }
        let err = ConsensusStore::open(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("store format 5, this build reads format 4"),
            "{err}"
        );
    }

    #[test]
    fn state_from_an_incompatible_build_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = ConsensusStore::open(dir.path(), false).unwrap();
            // A slot record in a format this build does not know.
            store.db.put(slot_key(3), [1u8, 2, 3]).unwrap();
        }
        let store = ConsensusStore::open(dir.path(), false).unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("slot record"), "{err}");
        assert!(err.contains("incompatible build"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
}
