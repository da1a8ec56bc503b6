//! Transaction simulation over committed state: records what one
//! namespace read (with versions), which ranges it scanned, and what it
//! wants to write, producing an [`NsRwSet`]. Pure: all state comes through
//! [`StateView`].
//!
//! Fabric's rules apply: reads see committed state only (never the
//! transaction's own writes); keys are non-empty and may start with `0x00`
//! only as well-formed composite keys; simple range queries cannot reach
//! composite keys; a partial composite key query scans exactly the keys
//! sharing its prefix. History reads are not recorded (as in Fabric, they are
//! not protected against phantoms).

use crate::error::{Error, Result};
use crate::state::{HistoryEntry, StateView};
use cryptanet_sdk::abi;
use cryptanet_types::{KvRead, KvWrite, NsRwSet, RangeQueryInfo, Version};
use std::collections::BTreeMap;

/// Records reads and writes of one namespace during one simulation.
pub struct TxSimulator<V> {
    view: V,
    namespace: String,
    reads: BTreeMap<Vec<u8>, Option<Version>>,
    range_queries: Vec<RangeQueryInfo>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A range query result: keys and values, plus whether it was cut at the limit.
pub type RangeResult = Vec<(Vec<u8>, Vec<u8>)>;

impl<V: StateView> TxSimulator<V> {
    /// Starts simulating in `namespace` over `view`.
    pub fn new(view: V, namespace: impl Into<String>) -> Self {
        TxSimulator {
            view,
            namespace: namespace.into(),
            reads: BTreeMap::new(),
            range_queries: Vec::new(),
            writes: BTreeMap::new(),
        }
    }

    /// The namespace being simulated.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Committed value of `key`; records the read.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        let found = self.view.get(&self.namespace, key)?;
        self.reads
            .entry(key.to_vec())
            .or_insert(found.as_ref().map(|v| v.version));
        Ok(found.map(|v| v.value))
    }

    /// Buffers a write of `value` under `key`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        check_key(key)?;
        self.writes.insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    /// Buffers a delete of `key`.
    pub fn del(&mut self, key: &[u8]) -> Result<()> {
        check_key(key)?;
        self.writes.insert(key.to_vec(), None);
        Ok(())
    }

    /// Simple keys in `[start, end)`; empty `start` means the first simple
    /// key, empty `end` means unbounded. At most `limit` results; the query
    /// is recorded as not exhausted when more keys existed.
    pub fn range(&mut self, start: &[u8], end: &[u8], limit: usize) -> Result<RangeResult> {
        if !abi::is_simple_range_bound(start) || !abi::is_simple_range_bound(end) {
            return Err(Error::InvalidKey);
        }
        // Composite keys all start with 0x00, so 0x01 is the first simple key.
        let start = if start.is_empty() { &[1u8][..] } else { start };
        self.scan(start.to_vec(), end.to_vec(), limit)
    }

    /// Composite keys that start with `prefix` (itself a composite key,
    /// e.g. object type and leading attributes).
    pub fn by_partial_composite_key(&mut self, prefix: &[u8], limit: usize) -> Result<RangeResult> {
        if !abi::is_composite_key(prefix) {
            return Err(Error::InvalidKey);
        }
        // No component contains 0xFF (components are UTF-8), so every key
        // with this prefix sorts below prefix ‖ 0xFF.
        let mut end = prefix.to_vec();
        end.push(0xFF);
        self.scan(prefix.to_vec(), end, limit)
    }

    fn scan(&mut self, start: Vec<u8>, end: Vec<u8>, limit: usize) -> Result<RangeResult> {
        if !end.is_empty() && start >= end {
            self.range_queries.push(RangeQueryInfo {
                start,
                end,
                exhausted: true,
                reads: Vec::new(),
            });
            return Ok(Vec::new());
        }
        let mut rows = self
            .view
            .range(&self.namespace, &start, &end, limit.saturating_add(1))?;
        let exhausted = rows.len() <= limit;
        rows.truncate(limit);
        let reads = rows
            .iter()
            .map(|(k, v)| KvRead {
                key: k.clone(),
                version: Some(v.version),
            })
            .collect();
        self.range_queries.push(RangeQueryInfo {
            start,
            end,
            exhausted,
            reads,
        });
        Ok(rows.into_iter().map(|(k, v)| (k, v.value)).collect())
    }

    /// Committed history of `key` (not recorded in the read set).
    pub fn history(&mut self, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        check_key(key)?;
        self.view.history(&self.namespace, key, limit)
    }

    /// True when nothing was read or written.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty() && self.range_queries.is_empty()
    }

    /// The canonical read/write set: reads and writes sorted by key, range
    /// queries in execution order.
    pub fn into_rwset(self) -> NsRwSet {
        NsRwSet {
            namespace: self.namespace,
            reads: self
                .reads
                .into_iter()
                .map(|(key, version)| KvRead { key, version })
                .collect(),
            range_queries: self.range_queries,
            writes: self
                .writes
                .into_iter()
                .map(|(key, value)| KvWrite { key, value })
                .collect(),
        }
    }
}

/// Accepts non-empty keys that are simple or well-formed composite keys.
pub fn check_key(key: &[u8]) -> Result<()> {
    if abi::is_valid_key(key) {
        Ok(())
    } else {
        Err(Error::InvalidKey)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::MemoryState;
    use cryptanet_types::{Digest, TxRwSet};

    fn state() -> MemoryState {
        let mut s = MemoryState::new();
        let mut sim = TxSimulator::new(MemoryState::new(), "cc");
        for k in [
            &b"a"[..],
            b"b",
            b"c",
            b"\x00obj\x00x\x00",
            b"\x00obj\x00y\x00",
        ] {
            sim.put(k, k).unwrap();
        }
        s.apply(
            &TxRwSet {
                ns: vec![sim.into_rwset()],
            },
            Version::new(1, 0),
            Digest::of(b"t"),
        );
        s
    }

    #[test]
    fn reads_do_not_see_own_writes_and_are_recorded_once() {
        let s = state();
        let mut sim = TxSimulator::new(&s, "cc");
        sim.put(b"a", b"new").unwrap();
        assert_eq!(sim.get(b"a").unwrap(), Some(b"a".to_vec()));
        assert_eq!(sim.get(b"zz").unwrap(), None);
        sim.get(b"a").unwrap();
        sim.put(b"a", b"newer").unwrap();
        sim.del(b"b").unwrap();
        let rw = sim.into_rwset();
        assert_eq!(
            rw.reads,
            vec![
                KvRead {
                    key: b"a".to_vec(),
                    version: Some(Version::new(1, 0))
                },
                KvRead {
                    key: b"zz".to_vec(),
                    version: None
                },
            ]
        );
        assert_eq!(rw.writes.len(), 2);
        assert_eq!(rw.writes[0].value.as_deref(), Some(&b"newer"[..]));
        assert!(rw.writes[1].is_delete());
    }

    #[test]
    fn key_rules() {
        let s = state();
        let mut sim = TxSimulator::new(&s, "cc");
        assert!(matches!(sim.put(b"", b"v"), Err(Error::InvalidKey)));
        assert!(matches!(sim.get(b"\x00bad"), Err(Error::InvalidKey)));
        assert!(matches!(
            sim.range(b"\x00", b"", 10),
            Err(Error::InvalidKey)
        ));
        sim.put(b"\x00obj\x00z\x00", b"ok").unwrap();
    }

    #[test]
    fn simple_range_skips_composite_keys_and_records_limit() {
        let s = state();
        let mut sim = TxSimulator::new(&s, "cc");
        let all = sim.range(b"", b"", 100).unwrap();
        assert_eq!(all.len(), 3);
        let two = sim.range(b"a", b"", 2).unwrap();
        assert_eq!(two.len(), 2);
        let exact = sim.range(b"a", b"c", 2).unwrap();
        assert_eq!(exact.len(), 2);
        let rw = sim.into_rwset();
        assert!(rw.range_queries[0].exhausted);
        assert!(!rw.range_queries[1].exhausted);
        assert!(rw.range_queries[2].exhausted);
        assert_eq!(rw.range_queries[1].reads.len(), 2);
    }

    #[test]
    fn partial_composite_scan() {
        let s = state();
        let mut sim = TxSimulator::new(&s, "cc");
        let r = sim.by_partial_composite_key(b"\x00obj\x00", 10).unwrap();
        assert_eq!(r.len(), 2);
        let r = sim
            .by_partial_composite_key(b"\x00obj\x00y\x00", 10)
            .unwrap();
        assert_eq!(r.len(), 1);
        assert!(sim.by_partial_composite_key(b"plain", 10).is_err());
        let rw = sim.into_rwset();
        assert_eq!(rw.range_queries[0].end, b"\x00obj\x00\xFF".to_vec());
    }
}
