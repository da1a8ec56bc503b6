//! Column families and key encodings.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `blocks` | block number, u64 big-endian | canonical block bytes |
//! | `block_hash` | header hash (32 bytes) | block number, u64 BE |
//! | `txid` | tx id (32 bytes) | block u64 BE ‖ tx u32 BE ‖ validation code u8 |
//! | `state` | namespace ‖ 0x00 ‖ key | block u64 BE ‖ tx u32 BE ‖ value |
//! | `history` | len(ns) u32 BE ‖ ns ‖ len(key) u32 BE ‖ key ‖ !block u64 BE ‖ !tx u32 BE | empty (the tx id and value are in the block) |
//! | `meta` | `height` | height u64 BE ‖ last block hash |
//! | `meta` | `format` | [`FORMAT`], u32 BE |
//!
//! Namespaces never contain 0x00, so state keys of one namespace are
//! contiguous and sort by the chaincode's key bytes: a range scan is a RocksDB
//! range scan. History versions are stored bit-inverted so iteration yields
//! newest first.

use crate::error::{Error, Result};
use cryptanet_types::Version;

/// Column family names, in creation order.
pub const CFS: [&str; 6] = ["blocks", "block_hash", "txid", "state", "history", "meta"];
/// Blocks by number.
pub const CF_BLOCKS: &str = "blocks";
/// Block number by header hash.
pub const CF_BLOCK_HASH: &str = "block_hash";
/// Transaction location by tx id.
pub const CF_TXID: &str = "txid";
/// World state.
pub const CF_STATE: &str = "state";
/// Per-key history.
pub const CF_HISTORY: &str = "history";
/// Height and last hash.
pub const CF_META: &str = "meta";
/// Key of the height record in `meta`.
pub const META_HEIGHT: &[u8] = b"height";
/// Key of the format record in `meta`.
pub const META_FORMAT: &[u8] = b"format";
/// On-disk format this build reads and writes. 2: block data hashes are
/// built from envelope hashes (format 1 hashed the encoded envelope list,
/// so its stored headers fail this build's integrity checks). 3: history
/// records are keys alone (format 2 stored tx id and value beside them).
pub const FORMAT: u32 = 3;

/// Rejects namespaces that are empty or contain 0x00.
pub fn check_namespace(ns: &str) -> Result<()> {
    if ns.is_empty() || ns.as_bytes().contains(&0) {
        return Err(Error::BadNamespace(ns.to_owned()));
    }
    Ok(())
}

/// Rejects empty keys. Keys starting with 0x00 are composite keys (as in
/// Fabric: `0x00 type 0x00 attr 0x00 ...`) and are stored like any other;
/// chaincode cannot write a *simple* key starting with 0x00, which the
/// chaincode host enforces.
pub fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::BadKey);
    }
    Ok(())
}

/// `ns ‖ 0x00 ‖ key`.
pub fn state_key(ns: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(ns.len() + 1 + key.len());
    k.extend_from_slice(ns.as_bytes());
    k.push(0);
    k.extend_from_slice(key);
    k
}

/// Prefix of every history record of (ns, key).
pub fn history_prefix(ns: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + ns.len() + key.len() + 12);
    k.extend_from_slice(&(ns.len() as u32).to_be_bytes());
    k.extend_from_slice(ns.as_bytes());
    k.extend_from_slice(&(key.len() as u32).to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Length of the inverted version that ends every history key.
pub const HISTORY_VERSION_LEN: usize = 12;

/// The (namespace, key) part of a history record key: everything but the
/// version. RocksDB's prefix extractor for the `history` column family, so
/// one key's records share a memtable bucket and a prefix filter.
pub fn history_record_prefix(k: &[u8]) -> &[u8] {
    &k[..k.len().saturating_sub(HISTORY_VERSION_LEN)]
}

/// A history record key: prefix ‖ inverted version.
pub fn history_key(ns: &str, key: &[u8], v: Version) -> Vec<u8> {
    let mut k = history_prefix(ns, key);
    k.extend_from_slice(&(!v.block).to_be_bytes());
    k.extend_from_slice(&(!v.tx).to_be_bytes());
    k
}

/// Decodes the inverted version at the end of a history key.
pub fn history_version(k: &[u8]) -> Result<Version> {
    let n = k.len();
    if n < 12 {
        return Err(Error::Corrupt {
            what: "history key",
        });
    }
    let block = !u64::from_be_bytes(be8(&k[n - 12..n - 4])?);
    let tx = !u32::from_be_bytes(be4(&k[n - 4..])?);
    Ok(Version::new(block, tx))
}

/// `block ‖ tx ‖ value` as stored in `state`.
pub fn state_value(v: Version, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + value.len());
    out.extend_from_slice(&v.block.to_be_bytes());
    out.extend_from_slice(&v.tx.to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// Splits a stored state value into version and value.
pub fn parse_state_value(raw: &[u8]) -> Result<(Version, Vec<u8>)> {
    if raw.len() < 12 {
        return Err(Error::Corrupt {
            what: "state value",
        });
    }
    let block = u64::from_be_bytes(be8(&raw[..8])?);
    let tx = u32::from_be_bytes(be4(&raw[8..12])?);
    Ok((Version::new(block, tx), raw[12..].to_vec()))
}

/// Big-endian u64 key for block numbers.
pub fn block_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub(crate) fn be8(b: &[u8]) -> Result<[u8; 8]> {
    b.try_into()
        .map_err(|_| Error::Corrupt { what: "u64 field" })
}

pub(crate) fn be4(b: &[u8]) -> Result<[u8; 4]> {
    b.try_into()
        .map_err(|_| Error::Corrupt { what: "u32 field" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_sort_newest_first_and_do_not_mix_keys() {
        let a = history_key("cc", b"k", Version::new(1, 0));
        let b = history_key("cc", b"k", Version::new(2, 0));
        let c = history_key("cc", b"k", Version::new(2, 5));
        assert!(c < b && b < a);
        assert_eq!(history_version(&c).unwrap(), Version::new(2, 5));
        // "k" must not be a prefix of "kk"'s history records.
        assert!(
            !history_key("cc", b"kk", Version::new(1, 0)).starts_with(&history_prefix("cc", b"k"))
        );
        assert_eq!(
            history_record_prefix(&c),
            history_prefix("cc", b"k").as_slice()
        );
    }

    #[test]
    fn key_rules() {
        assert!(check_key(b"").is_err());
        assert!(check_key(b"\0abc\0").is_ok(), "composite keys are stored");
        assert!(check_key(b"abc").is_ok());
        assert!(check_namespace("a\0b").is_err());
        assert!(check_namespace("").is_err());
        let (v, val) = parse_state_value(&state_value(Version::new(3, 4), b"x")).unwrap();
        assert_eq!((v, val), (Version::new(3, 4), b"x".to_vec()));
        assert!(parse_state_value(b"short").is_err());
    }
}
