//! Composite keys, as in Fabric: `0x00 objectType 0x00 attr1 0x00 attr2 0x00 …`.
//!
//! The leading `0x00` keeps composite keys apart from simple keys (which may
//! not start with `0x00`), and because no component contains `0x00`, all keys
//! sharing a partial prefix form one contiguous range.

use crate::abi::{COMPOSITE_KEY_PREFIX, COMPOSITE_KEY_SEPARATOR};
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

/// Builds a composite key. Fails when the object type is empty or any
/// component contains `0x00`.
pub fn composite_key(object_type: &str, attributes: &[&str]) -> Result<Vec<u8>> {
    if object_type.is_empty() {
        return Err(Error::InvalidKey);
    }
    let mut key = Vec::with_capacity(
        2 + object_type.len() + attributes.iter().map(|a| a.len() + 1).sum::<usize>(),
    );
    key.push(COMPOSITE_KEY_PREFIX);
    for part in core::iter::once(&object_type).chain(attributes.iter()) {
        if part.as_bytes().contains(&COMPOSITE_KEY_SEPARATOR) {
            return Err(Error::InvalidKey);
        }
        key.extend_from_slice(part.as_bytes());
        key.push(COMPOSITE_KEY_SEPARATOR);
    }
    Ok(key)
}

/// Splits a composite key into its object type and attributes.
pub fn split_composite_key(key: &[u8]) -> Result<(String, Vec<String>)> {
    if !crate::abi::is_composite_key(key) {
        return Err(Error::InvalidKey);
    }
    // Safe to index: is_composite_key guarantees a prefix and a final separator.
    let body = &key[1..key.len() - 1];
    let mut parts = body
        .split(|&b| b == COMPOSITE_KEY_SEPARATOR)
        .map(|p| String::from_utf8(p.to_vec()).map_err(|_| Error::InvalidKey));
    let object_type = parts.next().ok_or(Error::InvalidKey)??;
    let attributes = parts.collect::<Result<Vec<_>>>()?;
    Ok((object_type, attributes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn round_trip_and_prefix_order() {
        let k = composite_key("reading", &["SHP-1", "0001"]).unwrap();
        assert_eq!(k, b"\x00reading\x00SHP-1\x000001\x00".to_vec());
        assert_eq!(
            split_composite_key(&k).unwrap(),
            ("reading".into(), vec!["SHP-1".into(), "0001".into()])
        );
        let prefix = composite_key("reading", &["SHP-1"]).unwrap();
        assert!(k.starts_with(&prefix));
        assert!(crate::abi::is_valid_key(&k));
    }

    #[test]
    fn rejects_nul_and_empty_type() {
        assert_eq!(composite_key("", &["a"]), Err(Error::InvalidKey));
        assert_eq!(composite_key("t", &["a\0b"]), Err(Error::InvalidKey));
        assert_eq!(split_composite_key(b"plain"), Err(Error::InvalidKey));
    }
}
