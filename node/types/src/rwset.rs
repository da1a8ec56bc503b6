//! Read/write sets: what a simulated transaction read (with versions) and
//! wants to write, per chaincode namespace, as in Fabric.
//!
//! Keys are raw bytes. Canonical form (what [`NsRwSet::canonicalize`]
//! produces and validators may require): reads sorted by key and unique,
//! writes sorted by key and unique, range queries in execution order.

use crate::version::Version;
use serde::{Deserialize, Serialize};

/// A key read during simulation and the version it had (None: absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvRead {
    /// The key.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub key: Vec<u8>,
    /// Its committed version at simulation time, None if it did not exist.
    pub version: Option<Version>,
}

/// A key written during simulation: a new value, or a delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvWrite {
    /// The key.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub key: Vec<u8>,
    /// The new value; `None` deletes the key.
    #[serde(with = "crate::wire_bytes::opt_bytes")]
    pub value: Option<Vec<u8>>,
}

impl KvWrite {
    /// True when this write deletes its key.
    pub fn is_delete(&self) -> bool {
        self.value.is_none()
    }
}

/// A range query executed during simulation, kept so the validator can
/// re-execute it at commit time and detect phantoms (keys inserted, deleted
/// or updated in the range since simulation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeQueryInfo {
    /// Start key, inclusive.
    #[serde(with = "crate::wire_bytes::bytes")]
    pub start: Vec<u8>,
    /// End key, exclusive (empty: unbounded).
    #[serde(with = "crate::wire_bytes::bytes")]
    pub end: Vec<u8>,
    /// True when the chaincode read the iterator to its end; false when it
    /// stopped early, in which case only the returned prefix is checked.
    pub exhausted: bool,
    /// Every (key, version) the query returned, in key order.
    pub reads: Vec<KvRead>,
}

/// Reads and writes of one namespace (one chaincode, or a system namespace
/// such as `_lifecycle`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsRwSet {
    /// Namespace name.
    pub namespace: String,
    /// Point reads.
    pub reads: Vec<KvRead>,
    /// Range queries.
    pub range_queries: Vec<RangeQueryInfo>,
    /// Writes and deletes.
    pub writes: Vec<KvWrite>,
}

impl NsRwSet {
    /// Sorts reads and writes by key, keeping the first read and the last
    /// write of each key.
    pub fn canonicalize(&mut self) {
        self.reads.sort_by(|a, b| a.key.cmp(&b.key));
        self.reads
            .dedup_by(|later, earlier| later.key == earlier.key);
        // Last write wins: stable sort, then keep the last of each run.
        self.writes.sort_by(|a, b| a.key.cmp(&b.key));
        let mut out: Vec<KvWrite> = Vec::with_capacity(self.writes.len());
        for w in self.writes.drain(..) {
            match out.last_mut() {
                Some(last) if last.key == w.key => *last = w,
                _ => out.push(w),
            }
        }
        self.writes = out;
    }
}

/// The read/write set of one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxRwSet {
    /// One entry per namespace touched, sorted by namespace.
    pub ns: Vec<NsRwSet>,
}

impl TxRwSet {
    /// Total number of writes (including deletes) across namespaces.
    pub fn write_count(&self) -> usize {
        self.ns.iter().map(|n| n.writes.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_keeps_first_read_and_last_write() {
        let mut s = NsRwSet {
            namespace: "cc".into(),
            reads: vec![
                KvRead {
                    key: b"b".to_vec(),
                    version: Some(Version::new(1, 0)),
                },
                KvRead {
                    key: b"a".to_vec(),
                    version: None,
                },
                KvRead {
                    key: b"b".to_vec(),
                    version: Some(Version::new(9, 9)),
                },
            ],
            range_queries: vec![],
            writes: vec![
                KvWrite {
                    key: b"k".to_vec(),
                    value: Some(b"1".to_vec()),
                },
                KvWrite {
                    key: b"a".to_vec(),
                    value: None,
                },
                KvWrite {
                    key: b"k".to_vec(),
                    value: Some(b"2".to_vec()),
                },
            ],
        };
        s.canonicalize();
        assert_eq!(s.reads.len(), 2);
        assert_eq!(s.reads[1].version, Some(Version::new(1, 0)));
        assert_eq!(s.writes.len(), 2);
        assert!(s.writes[0].is_delete());
        assert_eq!(s.writes[1].value.as_deref(), Some(&b"2"[..]));
    }
}
