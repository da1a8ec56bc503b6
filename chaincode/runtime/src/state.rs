//! Committed world state as chaincode sees it: the [`StateView`] trait the
//! ledger implements, and [`MemoryState`], an in-memory implementation for
//! tests and benchmarks.

use crate::error::Result;
use cryptanet_types::{Digest, TxRwSet, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A committed value and the version of the transaction that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionedValue {
    /// The value.
    pub value: Vec<u8>,
    /// Version of its last write.
    pub version: Version,
}

/// One committed change of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Transaction that made the change.
    pub tx_id: Digest,
    /// Its version (block, tx index).
    pub version: Version,
    /// The value written, `None` for a delete.
    pub value: Option<Vec<u8>>,
}

/// Read access to committed world state, per namespace. Implementations
/// must be deterministic: the same committed state gives the same answers,
/// with ranges in ascending key order. `Send + Sync` so one view can serve
/// invocations on several threads.
pub trait StateView: Send + Sync {
    /// The committed value of `key`.
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>>;
    /// Keys in `[start, end)` (`end` empty: unbounded), ascending, at most
    /// `limit` of them.
    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>>;
    /// Committed changes of `key`, oldest first, at most `limit`.
    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>>;
}

impl<T: StateView + ?Sized> StateView for &T {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>> {
        (**self).get(ns, key)
    }
    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>> {
        (**self).range(ns, start, end, limit)
    }
    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        (**self).history(ns, key, limit)
    }
}

impl<T: StateView + ?Sized> StateView for Arc<T> {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>> {
        (**self).get(ns, key)
    }
    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>> {
        (**self).range(ns, start, end, limit)
    }
    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        (**self).history(ns, key, limit)
    }
}

type NsKey = (String, Vec<u8>);

/// World state in memory: values, versions and history. Writes are applied
/// with [`MemoryState::apply`], without validation.
#[derive(Clone, Debug, Default)]
pub struct MemoryState {
    values: BTreeMap<NsKey, VersionedValue>,
    history: BTreeMap<NsKey, Vec<HistoryEntry>>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies every write of `rwset` as transaction `version` / `tx_id`.
    pub fn apply(&mut self, rwset: &TxRwSet, version: Version, tx_id: Digest) {
        for ns in &rwset.ns {
            for w in &ns.writes {
                let k = (ns.namespace.clone(), w.key.clone());
                match &w.value {
                    Some(v) => {
                        self.values.insert(
                            k.clone(),
                            VersionedValue {
                                value: v.clone(),
                                version,
                            },
                        );
                    }
                    None => {
                        self.values.remove(&k);
                    }
                }
                self.history.entry(k).or_default().push(HistoryEntry {
                    tx_id,
                    version,
                    value: w.value.clone(),
                });
            }
        }
    }
}

impl StateView for MemoryState {
    fn get(&self, ns: &str, key: &[u8]) -> Result<Option<VersionedValue>> {
        Ok(self.values.get(&(ns.to_owned(), key.to_vec())).cloned())
    }

    fn range(
        &self,
        ns: &str,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionedValue)>> {
        let from = (ns.to_owned(), start.to_vec());
        Ok(self
            .values
            .range(from..)
            .take_while(|((n, k), _)| n == ns && (end.is_empty() || k.as_slice() < end))
            .take(limit)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn history(&self, ns: &str, key: &[u8], limit: usize) -> Result<Vec<HistoryEntry>> {
        Ok(self
            .history
            .get(&(ns.to_owned(), key.to_vec()))
            .map(|h| h.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cryptanet_types::{KvWrite, NsRwSet};

    fn write(ns: &str, key: &[u8], value: Option<&[u8]>) -> TxRwSet {
        TxRwSet {
            ns: vec![NsRwSet {
                namespace: ns.into(),
                writes: vec![KvWrite {
                    key: key.to_vec(),
                    value: value.map(<[u8]>::to_vec),
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn apply_range_and_history() {
        let mut s = MemoryState::new();
        s.apply(
            &write("a", b"k1", Some(b"1")),
            Version::new(1, 0),
            Digest::of(b"t1"),
        );
        s.apply(
            &write("a", b"k2", Some(b"2")),
            Version::new(1, 1),
            Digest::of(b"t2"),
        );
        s.apply(
            &write("b", b"k1", Some(b"x")),
            Version::new(2, 0),
            Digest::of(b"t3"),
        );
        s.apply(
            &write("a", b"k1", None),
            Version::new(3, 0),
            Digest::of(b"t4"),
        );
        assert_eq!(s.get("a", b"k1").unwrap(), None);
        assert_eq!(
            s.get("b", b"k1").unwrap().unwrap().version,
            Version::new(2, 0)
        );
        let r = s.range("a", b"", b"", 10).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, b"k2".to_vec());
        assert!(s.range("a", b"k0", b"k2", 10).unwrap().is_empty());
        let h = s.history("a", b"k1", 10).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].value, None);
        assert_eq!(h[0].tx_id, Digest::of(b"t1"));
        assert_eq!(s.history("a", b"k1", 1).unwrap().len(), 1);
    }
}
