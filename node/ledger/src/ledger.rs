//! The [`Ledger`]: open/recover, append, and queries.

use crate::effects::{block_effects, TxEffect};
use crate::error::{Error, Result};
use crate::keys::{self, *};
use crate::plan::block_writes;
use crate::{db_options, keys::HISTORY_VERSION_LEN};
use cryptanet_types::{Block, Digest, ValidationCode, Version};
use rocksdb::{Direction, IteratorMode, ReadOptions, WriteBatch, WriteOptions, DB};
use std::path::Path;

/// Tuning knobs.
#[derive(Clone, Debug)]
pub struct LedgerOptions {
    /// fsync the write-ahead log on every block append. With `false` a
    /// process crash loses nothing (the WAL is in the OS page cache) but a
    /// power loss may lose the last blocks, which a peer re-fetches from
    /// others. Default `true`.
    pub sync: bool,
    /// RocksDB block cache size in bytes.
    pub cache_bytes: usize,
    /// Memtable size per column family in bytes. State inserts land at
    /// random places in a skiplist, and a small one stays in the CPU
    /// caches: over 10,000 blocks, 16 MiB committed 575–647 blocks/s where
    /// 64 MiB committed 521–558 and 256 MiB 486 (`ledger-bench
    /// --pipelined --no-sync --write-buffer-mib N`).
    pub write_buffer_bytes: usize,
    /// Most bytes of write-ahead log kept: beyond it RocksDB flushes the
    /// column families that still need the oldest log file, so it can be
    /// deleted. Without a bound, the small column families (`meta`,
    /// `block_hash`), which rarely fill a memtable, pinned every log file:
    /// a bench network kept about 1 GB of logs per peer after 80,000
    /// transactions, and filled the disk.
    pub max_wal_bytes: u64,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            sync: true,
            cache_bytes: 64 << 20,
            write_buffer_bytes: 16 << 20,
            max_wal_bytes: 64 << 20,
        }
    }
}

/// Most blocks [`Ledger::append_all`] writes between two WAL fsyncs.
pub const GROUP_COMMIT_BLOCKS: usize = 32;

/// A world-state entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateEntry {
    /// Key (without namespace).
    pub key: Vec<u8>,
    /// Value.
    pub value: Vec<u8>,
    /// Version of the transaction that wrote it.
    pub version: Version,
}

/// One historical write of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Version of the writing transaction.
    pub version: Version,
    /// Its transaction id.
    pub tx_id: Digest,
    /// The value written, None for a delete.
    pub value: Option<Vec<u8>>,
}

/// Where a transaction is, and how it validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// Block number.
    pub block: u64,
    /// Index within the block.
    pub index: u32,
    /// Validation code.
    pub code: ValidationCode,
}

/// A peer's ledger on RocksDB.
pub struct Ledger {
    db: DB,
    sync: bool,
    height: u64,
    last_hash: Digest,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("height", &self.height)
            .field("last_hash", &self.last_hash)
            .finish()
    }
}

impl Ledger {
    /// Opens (creating if needed) the ledger at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger> {
        Self::open_with(path, LedgerOptions::default())
    }

    /// Opens (creating if needed) the ledger at `path`. Recovery is
    /// RocksDB's WAL replay; the height and last hash are read back from
    /// the `meta` record written in the same batch as the last block.
    pub fn open_with(path: impl AsRef<Path>, opts: LedgerOptions) -> Result<Ledger> {
        let db = DB::open_cf_descriptors(
            &db_options::db_options(&opts),
            path,
            db_options::cf_descriptors(&opts),
        )?;
        check_format(&db)?;
        let (height, last_hash) = match db.get_cf(cf(&db, CF_META)?, META_HEIGHT)? {
            None => (0, Digest::ZERO),
            Some(raw) if raw.len() == 40 => {
                let h = u64::from_be_bytes(be8(&raw[..8])?);
                let mut d = [0u8; 32];
                d.copy_from_slice(&raw[8..]);
                (h, Digest(d))
            }
            Some(_) => {
                return Err(Error::Corrupt {
                    what: "meta height",
                })
            }
        };
        tracing::info!(height, last_hash = %last_hash, "ledger opened");
        Ok(Ledger {
            db,
            sync: opts.sync,
            height,
            last_hash,
        })
    }

    /// Number of the last block (0 when empty).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Hash of the last block ([`Digest::ZERO`] when empty).
    pub fn last_hash(&self) -> Digest {
        self.last_hash
    }

    /// Appends a validated block: its metadata must hold the final
    /// validation codes. Writes of valid transactions are applied with
    /// version (block, index). Block, indexes, state, history and height go
    /// to disk in one atomic write batch.
    pub fn append(&mut self, block: &Block) -> Result<()> {
        let effects = block_effects(block)?;
        self.append_with_effects(block, &effects)
    }

    /// As [`Ledger::append`], with effects the caller already derived (the
    /// committer has decoded every envelope during validation).
    pub fn append_with_effects(&mut self, block: &Block, effects: &[TxEffect]) -> Result<()> {
        let prepared = prepare(&self.db, block, effects)?;
        write_prepared(
            &self.db,
            self.sync,
            &mut self.height,
            &mut self.last_hash,
            prepared,
        )
    }

    /// Appends `blocks` in order, with the same result as calling
    /// [`Ledger::append`] on each, but pipelined: a second thread checks,
    /// decodes and plans block n + 1 while block n is written. Stops at the
    /// first error; every block before the failing one is appended (see
    /// [`Ledger::height`]). Returns the number of blocks appended.
    ///
    /// With `sync`, blocks are durable when this returns (also on error);
    /// while it runs the WAL is fsynced per group of up to
    /// [`GROUP_COMMIT_BLOCKS`] blocks, so a power loss mid-way loses at most
    /// that many blocks. A process crash loses nothing written.
    pub fn append_all<I>(&mut self, blocks: I) -> Result<u64>
    where
        I: IntoIterator<Item = Block>,
        I::IntoIter: Send,
    {
        let (db, sync) = (&self.db, self.sync);
        let (height, last_hash) = (&mut self.height, &mut self.last_hash);
        let blocks = blocks.into_iter();
        std::thread::scope(|s| {
            // Two prepared blocks in flight keep the writer busy without
            // holding many write batches in memory.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<PreparedBlock>>(2);
            std::thread::Builder::new()
                .name("ledger-prepare".into())
                .spawn_scoped(s, move || {
                    for block in blocks {
                        let prepared = block_effects(&block).and_then(|e| prepare(db, &block, &e));
                        let failed = prepared.is_err();
                        if tx.send(prepared).is_err() || failed {
                            break;
                        }
                    }
                })
                .map_err(Error::Thread)?;
            // Group commit: with `sync`, the WAL is fsynced when no
            // prepared block is waiting, or after GROUP_COMMIT_BLOCKS
            // blocks, rather than after every block. An fsync covers every
            // earlier write, so a power loss loses at most that many
            // blocks, all still unreturned.
            let mut appended = 0;
            let mut unsynced = 0;
            let mut next = rx.recv().ok();
            while let Some(prepared) = next.take() {
                let written = prepared.and_then(|p| {
                    next = rx.try_recv().ok();
                    let sync_now = sync && (next.is_none() || unsynced + 1 >= GROUP_COMMIT_BLOCKS);
                    write_prepared(db, sync_now, height, last_hash, p)?;
                    unsynced = if sync_now { 0 } else { unsynced + 1 };
                    Ok(())
                });
                if let Err(e) = written {
                    if sync && unsynced > 0 {
                        db.flush_wal(true)?;
                    }
                    return Err(e);
                }
                appended += 1;
                if next.is_none() {
                    next = rx.recv().ok();
                }
            }
            Ok(appended)
        })
    }

    /// Block by number.
    pub fn block(&self, number: u64) -> Result<Option<Block>> {
        match self
            .db
            .get_pinned_cf(cf(&self.db, CF_BLOCKS)?, block_key(number))?
        {
            Some(raw) => Ok(Some(Block::from_bytes(&raw)?)),
            None => Ok(None),
        }
    }

    /// Raw stored bytes of a block (what block sync sends).
    pub fn block_bytes(&self, number: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .db
            .get_cf(cf(&self.db, CF_BLOCKS)?, block_key(number))?)
    }

    /// Block by header hash.
    pub fn block_by_hash(&self, hash: &Digest) -> Result<Option<Block>> {
        match self
            .db
            .get_pinned_cf(cf(&self.db, CF_BLOCK_HASH)?, hash.0)?
        {
            Some(raw) => self.block(u64::from_be_bytes(be8(&raw)?)),
            None => Ok(None),
        }
    }

    /// Location and validation code of a transaction.
    pub fn tx(&self, tx_id: &Digest) -> Result<Option<TxLocation>> {
        let Some(raw) = self.db.get_pinned_cf(cf(&self.db, CF_TXID)?, tx_id.0)? else {
            return Ok(None);
        };
        if raw.len() != 13 {
            return Err(Error::Corrupt {
                what: "txid record",
            });
        }
        let code = code_from_u8(raw[12]).ok_or(Error::Corrupt {
            what: "validation code",
        })?;
        Ok(Some(TxLocation {
            block: u64::from_be_bytes(be8(&raw[..8])?),
            index: u32::from_be_bytes(be4(&raw[8..12])?),
            code,
        }))
    }

    /// True when a transaction with this id is already in the ledger.
    pub fn contains_tx(&self, tx_id: &Digest) -> Result<bool> {
        Ok(self
            .db
            .get_pinned_cf(cf(&self.db, CF_TXID)?, tx_id.0)?
            .is_some())
    }

    /// Current value and version of a key.
    pub fn get_state(&self, ns: &str, key: &[u8]) -> Result<Option<(Vec<u8>, Version)>> {
        check_namespace(ns)?;
        match self
            .db
            .get_pinned_cf(cf(&self.db, CF_STATE)?, state_key(ns, key))?
        {
            Some(raw) => {
                let (v, value) = parse_state_value(&raw)?;
                Ok(Some((value, v)))
            }
            None => Ok(None),
        }
    }

    /// Keys of `ns` in `[start, end)` in lexical order (empty `end`:
    /// unbounded), at most `limit` entries.
    pub fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<StateEntry>> {
        check_namespace(ns)?;
        let lo = state_key(ns, start);
        let hi = if end.is_empty() {
            // Past every key of the namespace: ns ‖ 0x01.
            let mut h = ns.as_bytes().to_vec();
            h.push(1);
            h
        } else {
            state_key(ns, end)
        };
        let prefix_len = ns.len() + 1;
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(hi);
        let it = self.db.iterator_cf_opt(
            cf(&self.db, CF_STATE)?,
            ro,
            IteratorMode::From(&lo, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in it {
            if out.len() >= limit {
                break;
            }
            let (k, raw) = item?;
            let (version, value) = parse_state_value(&raw)?;
            out.push(StateEntry {
                key: k[prefix_len..].to_vec(),
                value,
                version,
            });
        }
        Ok(out)
    }

    /// Every committed write of a key, newest first, at most `limit`.
    ///
    /// The history index holds `(namespace, key, version)` only, as
    /// Fabric's history database does; each entry's transaction id and
    /// value are read from the block holding the write (one block read per
    /// distinct block). Appends write a third of the bytes they would with
    /// values in the index, and history is a query, not a commit, path.
    pub fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        check_namespace(ns)?;
        let prefix = history_prefix(ns, key);
        let mut ro = ReadOptions::default();
        let mut upper = prefix.clone();
        upper.extend_from_slice(&[0xFF; 13]);
        ro.set_iterate_upper_bound(upper);
        // The column family's prefix extractor is "everything but the
        // version", so seek with a full-length key (the smallest version
        // suffix) and stay within that prefix.
        ro.set_prefix_same_as_start(true);
        let mut first = prefix.clone();
        first.extend_from_slice(&[0; HISTORY_VERSION_LEN]);
        let it = self.db.iterator_cf_opt(
            cf(&self.db, CF_HISTORY)?,
            ro,
            IteratorMode::From(&first, Direction::Forward),
        );
        let mut out = Vec::new();
        let mut block: Option<Block> = None;
        for item in it {
            if out.len() >= limit {
                break;
            }
            let (k, _) = item?;
            if k.len() != prefix.len() + HISTORY_VERSION_LEN || !k.starts_with(&prefix) {
                continue;
            }
            let version = keys::history_version(&k)?;
            let b = match &mut block {
                Some(b) if b.header.number == version.block => b,
                slot => slot.insert(self.block(version.block)?.ok_or(Error::Corrupt {
                    what: "history entry of a missing block",
                })?),
            };
            out.push(written_by(b, version, ns, key)?);
        }
        Ok(out)
    }

    /// Every (namespace, key, value, version) in the world state, in key
    /// order. For audits and tests; walks the whole column family.
    pub fn dump_state(&self) -> Result<Vec<(String, StateEntry)>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(cf(&self.db, CF_STATE)?, IteratorMode::Start)
        {
            let (k, raw) = item?;
            let sep = k
                .iter()
                .position(|b| *b == 0)
                .ok_or(Error::Corrupt { what: "state key" })?;
            let ns = std::str::from_utf8(&k[..sep])
                .map_err(|_| Error::Corrupt {
                    what: "state namespace",
                })?
                .to_owned();
            let (version, value) = parse_state_value(&raw)?;
            out.push((
                ns,
                StateEntry {
                    key: k[sep + 1..].to_vec(),
                    value,
                    version,
                },
            ));
        }
        Ok(out)
    }
}

/// Reads the `meta/format` record: a new ledger gets [`FORMAT`], and a
/// ledger in any other format (or one written before the record existed)
/// is refused before anything is read from it.
fn check_format(db: &DB) -> Result<()> {
    let meta = cf(db, CF_META)?;
    match db.get_cf(meta, META_FORMAT)? {
        Some(raw) if raw.as_slice() == FORMAT.to_be_bytes().as_slice() => Ok(()),
        Some(raw) => Err(Error::Format {
            found: raw
                .as_slice()
                .try_into()
                .map_or(0, u32::from_be_bytes)
                .to_string(),
        }),
        None if db.get_cf(meta, META_HEIGHT)?.is_some() => Err(Error::Format {
            found: "1 (no format record)".into(),
        }),
        None => {
            let mut wo = WriteOptions::default();
            wo.set_sync(true);
            db.put_cf_opt(meta, META_FORMAT, FORMAT.to_be_bytes(), &wo)?;
            Ok(())
        }
    }
}

/// The history entry of transaction `version.tx` of block `b` for
/// `(ns, key)`: its id and its (last) write of the key.
fn written_by(b: &Block, version: Version, ns: &str, key: &[u8]) -> Result<HistoryEntry> {
    let missing = Error::Corrupt {
        what: "history entry without its write",
    };
    let envelope = b.data.get(version.tx as usize).ok_or(Error::Corrupt {
        what: "history entry of a missing transaction",
    })?;
    let (tx_id, response) = crate::effects::decode_envelope(envelope)?;
    let write = response
        .rwset
        .ns
        .into_iter()
        .filter(|n| n.namespace == ns)
        .flat_map(|n| n.writes)
        .rfind(|w| w.key == key)
        .ok_or(missing)?;
    Ok(HistoryEntry {
        version,
        tx_id,
        value: write.value,
    })
}

/// A block checked against its header, decoded and turned into one RocksDB
/// write batch: everything an append needs except the ledger's tip, which
/// [`write_prepared`] checks.
struct PreparedBlock {
    number: u64,
    previous_hash: Digest,
    hash: Digest,
    txs: usize,
    batch: WriteBatch,
    txid_if_absent: Vec<([u8; 32], [u8; 13])>,
}

/// Builds the write batch of `block`: block bytes, hash index, tx-id index,
/// state, history and the new height. Reads nothing but column-family
/// handles.
fn prepare(db: &DB, block: &Block, effects: &[TxEffect]) -> Result<PreparedBlock> {
    let number = block.header.number;
    let writes = block_writes(number, effects)?;
    let hash = block.hash();
    let block_bytes = block.to_bytes()?;
    let mut batch = WriteBatch::with_capacity_bytes(
        block_bytes.len() + writes.bytes + 32 * (writes.state.len() + writes.history.len()) + 256,
    );
    batch.put_cf(cf(db, CF_BLOCKS)?, block_key(number), block_bytes);
    batch.put_cf(cf(db, CF_BLOCK_HASH)?, hash.0, number.to_be_bytes());
    let txid_cf = cf(db, CF_TXID)?;
    for (id, loc) in &writes.txid {
        batch.put_cf(txid_cf, id, loc);
    }
    let state_cf = cf(db, CF_STATE)?;
    for (k, v) in &writes.state {
        match v {
            Some(v) => batch.put_cf(state_cf, k, v),
            None => batch.delete_cf(state_cf, k),
        }
    }
    let history_cf = cf(db, CF_HISTORY)?;
    for k in &writes.history {
        batch.put_cf(history_cf, k, []);
    }
    let mut meta = Vec::with_capacity(40);
    meta.extend_from_slice(&number.to_be_bytes());
    meta.extend_from_slice(&hash.0);
    batch.put_cf(cf(db, CF_META)?, META_HEIGHT, meta);
    Ok(PreparedBlock {
        number,
        previous_hash: block.header.previous_hash,
        hash,
        txs: effects.len(),
        batch,
        txid_if_absent: writes.txid_if_absent,
    })
}

/// Appends a prepared block at the tip `(height, last_hash)` and advances
/// the tip. Index entries of invalid transactions are added here, when
/// every earlier block is on disk, and only for ids not indexed yet.
fn write_prepared(
    db: &DB,
    sync: bool,
    height: &mut u64,
    last_hash: &mut Digest,
    mut p: PreparedBlock,
) -> Result<()> {
    if p.number != *height + 1 {
        return Err(Error::NotNextBlock {
            height: *height,
            got: p.number,
        });
    }
    if p.previous_hash != *last_hash {
        return Err(Error::PreviousHashMismatch {
            number: p.number,
            expected: *last_hash,
            got: p.previous_hash,
        });
    }
    let txid_cf = cf(db, CF_TXID)?;
    for (id, loc) in &p.txid_if_absent {
        if db.get_pinned_cf(txid_cf, id)?.is_none() {
            p.batch.put_cf(txid_cf, id, loc);
        }
    }
    let mut wo = WriteOptions::default();
    wo.set_sync(sync);
    db.write_opt(p.batch, &wo)?;
    *height = p.number;
    *last_hash = p.hash;
    tracing::debug!(number = p.number, txs = p.txs, "block appended");
    Ok(())
}

fn cf<'a>(db: &'a DB, name: &'static str) -> Result<&'a rocksdb::ColumnFamily> {
    db.cf_handle(name).ok_or(Error::Corrupt {
        what: "missing column family",
    })
}

fn code_from_u8(b: u8) -> Option<ValidationCode> {
    use ValidationCode::*;
    [
        Valid,
        BadPayload,
        BadCreatorSignature,
        CreatorNotMember,
        BadEndorsement,
        EndorsementPolicyFailure,
        DuplicateTxId,
        MvccReadConflict,
        PhantomReadConflict,
        UnknownChaincode,
        BadTxId,
        IllegalWriteset,
        EndorserNotMember,
        NotValidated,
    ]
    .into_iter()
    .find(|c| *c as u8 == b)
}
