//! What one block writes, per column family, before it becomes a RocksDB
//! write batch.
//!
//! A pure function of the block number and its transactions' effects, so
//! the rules that keep the indexes right are tested without a database, and
//! a block can be planned while the previous one is still being written:
//!
//! * The first occurrence of a tx id owns its index entry. A `Valid`
//!   transaction is never a duplicate (validation rejects ids already in the
//!   ledger or earlier in the block), so its entry is written
//!   unconditionally. Any other code goes to [`BlockWrites::txid_if_absent`]:
//!   the ledger writes it only if the id is not indexed yet, and asks when
//!   every earlier block is on disk, so a replay never overwrites the
//!   original's entry.
//! * Only valid transactions touch state and history. When a block writes a
//!   key twice, state gets the last write (one memtable entry instead of
//!   two); history keeps both, each under its own version. A history record
//!   is a key alone, `(namespace, key, version)`: the transaction id and
//!   the value are in the block, where a history read finds them.
//! * Each column family's entries come out sorted by key, so RocksDB's
//!   memtable inserts walk forward from the previous insert position.

use crate::effects::TxEffect;
use crate::error::Result;
use crate::keys::{check_key, check_namespace, history_key, state_key, state_value};
use cryptanet_types::{Digest, Version};
use std::collections::HashSet;

/// The column-family entries of one block (block, hash index and meta are
/// single records the ledger adds itself).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BlockWrites {
    /// `tx id → block ‖ index ‖ code` of valid transactions, sorted by id.
    pub txid: Vec<([u8; 32], [u8; 13])>,
    /// The same for the first occurrence in this block of each other tx
    /// id, in block order: written only if the id is not in the ledger yet.
    pub txid_if_absent: Vec<([u8; 32], [u8; 13])>,
    /// `state key → Some(stored value)` or `None` (delete), sorted by key,
    /// one entry per key.
    pub state: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// History keys (their values are empty), sorted.
    pub history: Vec<Vec<u8>>,
    /// Bytes of every key and value above, to size the write batch.
    pub bytes: usize,
}

/// Plans the writes of block `number`. Rejects invalid namespaces and keys
/// before anything is planned.
pub fn block_writes(number: u64, effects: &[TxEffect]) -> Result<BlockWrites> {
    let mut w = BlockWrites::default();
    let mut write_count = 0;
    for e in effects {
        for (ns, kv) in &e.writes {
            check_namespace(ns)?;
            check_key(&kv.key)?;
        }
        write_count += e.writes.len();
    }
    w.state.reserve(write_count);
    w.history.reserve(write_count);
    w.txid.reserve(effects.len());

    let mut seen: HashSet<Digest> = HashSet::with_capacity(effects.len());
    for e in effects {
        let Some(id) = e.tx_id else { continue };
        if seen.insert(id) {
            let mut loc = [0u8; 13];
            loc[..8].copy_from_slice(&number.to_be_bytes());
            loc[8..12].copy_from_slice(&e.index.to_be_bytes());
            loc[12] = e.code as u8;
            if e.code.is_valid() {
                w.txid.push((id.0, loc));
            } else {
                w.txid_if_absent.push((id.0, loc));
            }
            w.bytes += 32 + 13;
        }
        if !e.code.is_valid() {
            continue;
        }
        let version = Version::new(number, e.index);
        for (ns, kv) in &e.writes {
            let hk = history_key(ns, &kv.key, version);
            let sk = state_key(ns, &kv.key);
            let sv = kv.value.as_deref().map(|v| state_value(version, v));
            w.bytes += hk.len() + sk.len() + sv.as_ref().map_or(0, Vec::len);
            w.history.push(hk);
            w.state.push((sk, sv));
        }
    }
    w.txid.sort_unstable_by_key(|e| e.0);
    w.history.sort_unstable();
    // Stable: among writes of one key, block order is kept, and the last
    // one is what the block leaves in state.
    w.state.sort_by(|a, b| a.0.cmp(&b.0));
    w.state.reverse();
    w.state.dedup_by(|later, earlier| later.0 == earlier.0);
    w.state.reverse();
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::parse_state_value;
    use cryptanet_types::{KvWrite, ValidationCode};

    fn effect(
        index: u32,
        id: u8,
        code: ValidationCode,
        writes: &[(&str, Option<&str>)],
    ) -> TxEffect {
        TxEffect {
            index,
            tx_id: Some(Digest([id; 32])),
            code,
            writes: writes
                .iter()
                .map(|(k, v)| {
                    (
                        "cc".to_owned(),
                        KvWrite {
                            key: k.as_bytes().to_vec(),
                            value: v.map(|v| v.as_bytes().to_vec()),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn last_write_of_a_key_wins_and_history_keeps_every_write() {
        let effects = [
            effect(
                0,
                1,
                ValidationCode::Valid,
                &[("b", Some("1")), ("a", Some("x"))],
            ),
            effect(1, 2, ValidationCode::Valid, &[("b", None)]),
            effect(2, 3, ValidationCode::Valid, &[("b", Some("3"))]),
        ];
        let w = block_writes(7, &effects).unwrap();
        assert!(w.txid_if_absent.is_empty(), "valid ids need no lookup");
        let state: Vec<_> = w
            .state
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map(|v| parse_state_value(v).unwrap())))
            .collect();
        assert_eq!(
            state,
            vec![
                (
                    state_key("cc", b"a"),
                    Some((Version::new(7, 0), b"x".to_vec()))
                ),
                (
                    state_key("cc", b"b"),
                    Some((Version::new(7, 2), b"3".to_vec()))
                ),
            ]
        );
        assert_eq!(w.history.len(), 4);
        assert!(w.history.windows(2).all(|p| p[0] < p[1]));
        // Newest first within a key: tx 2's write of "b" precedes tx 0's.
        let b: Vec<_> = w
            .history
            .iter()
            .filter(|k| k.starts_with(&crate::keys::history_prefix("cc", b"b")))
            .map(|k| crate::keys::history_version(k).unwrap().tx)
            .collect();
        assert_eq!(b, vec![2, 1, 0]);
    }

    #[test]
    fn a_delete_after_a_put_in_the_same_block_leaves_a_delete() {
        let effects = [
            effect(0, 1, ValidationCode::Valid, &[("k", Some("1"))]),
            effect(1, 2, ValidationCode::Valid, &[("k", None)]),
        ];
        let w = block_writes(1, &effects).unwrap();
        assert_eq!(w.state, vec![(state_key("cc", b"k"), None)]);
    }

    #[test]
    fn invalid_transactions_are_indexed_once_and_only_if_absent() {
        let effects = [
            effect(0, 9, ValidationCode::DuplicateTxId, &[]),
            effect(1, 5, ValidationCode::MvccReadConflict, &[]),
            effect(2, 5, ValidationCode::DuplicateTxId, &[]),
            effect(3, 4, ValidationCode::Valid, &[("k", Some("v"))]),
        ];
        let w = block_writes(3, &effects).unwrap();
        let entry = |(id, loc): &([u8; 32], [u8; 13])| (id[0], loc[11], loc[12]);
        assert_eq!(
            w.txid.iter().map(entry).collect::<Vec<_>>(),
            vec![(4, 3, ValidationCode::Valid as u8)]
        );
        assert_eq!(
            w.txid_if_absent.iter().map(entry).collect::<Vec<_>>(),
            vec![
                (9, 0, ValidationCode::DuplicateTxId as u8),
                (5, 1, ValidationCode::MvccReadConflict as u8)
            ]
        );
        assert_eq!(w.state.len(), 1);
        assert_eq!(w.history.len(), 1);
    }

    #[test]
    fn bad_keys_are_rejected_before_anything_is_planned() {
        let effects = [effect(0, 1, ValidationCode::Valid, &[("", Some("v"))])];
        assert!(block_writes(1, &effects).is_err());
    }
}
