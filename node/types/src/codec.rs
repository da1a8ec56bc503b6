//! The canonical encoding: bincode 2.0.1 with one fixed configuration.
//!
//! Little-endian, variable-length integers, and a hard size limit so that a
//! hostile length prefix cannot make the decoder allocate gigabytes. Decoding
//! rejects trailing bytes, so every value has exactly one accepted encoding
//! prefix-wise; decoding never panics on any input.

use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};

/// Largest value the codec will decode or encode (64 MiB).
pub const MAX_ENCODED_LEN: usize = 64 * 1024 * 1024;

/// The single bincode configuration used for everything hashed, signed,
/// stored or sent between peers.
pub const CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_ENCODED_LEN>,
> = bincode::config::standard().with_limit::<MAX_ENCODED_LEN>();

/// Encodes `value` canonically.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, CONFIG).map_err(|e| Error::Encode {
        what: std::any::type_name::<T>(),
        reason: e.to_string(),
    })
}

/// Decodes a `T` from exactly `bytes` (no trailing data allowed).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let what = short_type_name::<T>();
    if bytes.len() > MAX_ENCODED_LEN {
        return Err(Error::TooLarge {
            what,
            len: bytes.len(),
            limit: MAX_ENCODED_LEN,
        });
    }
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|e| Error::Decode {
            what,
            reason: e.to_string(),
        })?;
    if used != bytes.len() {
        return Err(Error::TrailingBytes {
            what,
            trailing: bytes.len() - used,
        });
    }
    Ok(value)
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_trailing_bytes_rejected() {
        let v: (u64, String, Vec<u8>) = (7, "x".into(), vec![1, 2, 3]);
        let mut bytes = encode(&v).unwrap();
        assert_eq!(decode::<(u64, String, Vec<u8>)>(&bytes).unwrap(), v);
        bytes.push(0);
        assert!(matches!(
            decode::<(u64, String, Vec<u8>)>(&bytes),
            Err(Error::TrailingBytes { trailing: 1, .. })
        ));
    }

    #[test]
    fn hostile_length_prefix_is_an_error_not_an_allocation() {
        // A Vec<u8> claiming u64::MAX elements.
        let bytes = [0xFFu8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(decode::<Vec<u8>>(&bytes).is_err());
    }
}
