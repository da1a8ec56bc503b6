//! RocksDB options for the ledger's column families.
//!
//! Every block adds ~700 memtable entries under random keys (300 state, 300
//! history, 100 tx ids). In a skiplist memtable each such insert walks ~10
//! levels of a structure far larger than the CPU caches, which made memtable
//! inserts the largest cost of an append. The two column families that are
//! only ever read by exact key (`txid`) or by one key's prefix (`history`)
//! therefore use hash-bucketed memtables: an insert lands in a small
//! per-prefix list. The sort that a skiplist pays per insert is paid once,
//! by the background flush. `state` needs ordered range scans and keeps the
//! skiplist.

use crate::keys::{
    history_record_prefix, CFS, CF_BLOCKS, CF_HISTORY, CF_STATE, CF_TXID, HISTORY_VERSION_LEN,
};
use crate::ledger::LedgerOptions;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, MemtableFactory, Options, SliceTransform,
};

/// Database-wide options.
pub fn db_options(opts: &LedgerOptions) -> Options {
    let mut o = Options::default();
    o.set_max_total_wal_size(opts.max_wal_bytes);
    o.create_if_missing(true);
    o.create_missing_column_families(true);
    o.set_max_background_jobs(2);
    o.set_bytes_per_sync(1 << 20);
    // Hash memtables do not support concurrent inserts; the ledger has one
    // writer anyway.
    o.set_allow_concurrent_memtable_write(false);
    o
}

/// One descriptor per column family, in [`CFS`] order.
pub fn cf_descriptors(opts: &LedgerOptions) -> Vec<ColumnFamilyDescriptor> {
    let cache = Cache::new_lru_cache(opts.cache_bytes);
    CFS.iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, opts, &cache)))
        .collect()
}

fn cf_options(name: &str, opts: &LedgerOptions, cache: &Cache) -> Options {
    let mut o = Options::default();
    let mut t = BlockBasedOptions::default();
    t.set_block_cache(cache);
    if matches!(name, CF_STATE | CF_TXID) {
        // Point lookups on every commit (MVCC, duplicate tx ids).
        t.set_bloom_filter(10.0, false);
    }
    o.set_block_based_table_factory(&t);
    o.set_write_buffer_size(opts.write_buffer_bytes);
    match name {
        CF_BLOCKS => {
            // Block bodies (~100 kB) go to blob files when flushed, so
            // compactions move small references, not the bodies.
            o.set_enable_blob_files(true);
            o.set_min_blob_size(4096);
        }
        CF_TXID => {
            // Tx ids are SHA3 digests: 8 bytes spread them evenly.
            o.set_prefix_extractor(SliceTransform::create_fixed_prefix(8));
            o.set_memtable_factory(hash_memtable());
        }
        CF_HISTORY => {
            // History only grows, under random keys: compact L0 in larger
            // steps (8 files instead of 4) to rewrite it less often.
            o.set_level_zero_file_num_compaction_trigger(8);
            o.set_prefix_extractor(SliceTransform::create(
                "cryptanet.history.v1",
                history_record_prefix,
                Some(in_history_domain),
            ));
            o.set_memtable_factory(hash_memtable());
        }
        _ => {}
    }
    o
}

fn hash_memtable() -> MemtableFactory {
    MemtableFactory::HashSkipList {
        bucket_count: 1 << 19,
        height: 4,
        branching_factor: 4,
    }
}

fn in_history_domain(key: &[u8]) -> bool {
    key.len() >= HISTORY_VERSION_LEN
}
