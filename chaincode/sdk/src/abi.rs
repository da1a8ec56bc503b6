//! The host ABI: the contract between a chaincode module and the CryptaNet
//! host, shared by the guest SDK and the host runtime so both sides agree on
//! one definition.
//!
//! A chaincode module exports linear memory as `memory` and an entry point
//! `cn_invoke: () -> ()`. Everything else flows through imports from the
//! module [`IMPORT_MODULE`]. Pointers and lengths are `i32`; results are `i64`:
//!
//! * `>= 0`: success; for calls that produce bytes, the number of bytes now
//!   waiting in the host's *return buffer*, which the guest copies into its
//!   own memory with `read_return(ptr, len)` (the length must match);
//! * [`NONE`]: success, but there is no value (absent key);
//! * any other negative value: one of the `ERR_*` codes.
//!
//! Structured values use one tiny self-delimiting encoding, a *list*: a
//! little-endian `u32` item count, then each item as a little-endian `u32`
//! length followed by its bytes. It needs no serde on either side and decoding
//! it never panics.

use alloc::string::String;
use alloc::vec::Vec;

/// Wasm import module name of every host function.
pub const IMPORT_MODULE: &str = "cryptanet";
/// Name of the exported entry point, type `() -> ()`.
pub const ENTRY_EXPORT: &str = "cn_invoke";
/// Name of the exported linear memory.
pub const MEMORY_EXPORT: &str = "memory";
/// Version of this ABI, recorded in chaincode package metadata.
pub const ABI_VERSION: u32 = 1;

/// Names of the host functions, all in module [`IMPORT_MODULE`].
pub mod import {
    /// `get_context() -> i64`: the transaction context as a [`super::TxContext`] encoding.
    pub const GET_CONTEXT: &str = "get_context";
    /// `read_return(ptr: i32, len: i32) -> i64`: copy the return buffer to guest memory.
    pub const READ_RETURN: &str = "read_return";
    /// `get_state(key_ptr, key_len) -> i64`: committed value, or `NONE`.
    pub const GET_STATE: &str = "get_state";
    /// `put_state(key_ptr, key_len, val_ptr, val_len) -> i64`.
    pub const PUT_STATE: &str = "put_state";
    /// `del_state(key_ptr, key_len) -> i64`.
    pub const DEL_STATE: &str = "del_state";
    /// `get_state_by_range(start_ptr, start_len, end_ptr, end_len, limit: i32) -> i64`:
    /// a list of alternating keys and values.
    pub const GET_STATE_BY_RANGE: &str = "get_state_by_range";
    /// `get_state_by_partial_composite_key(prefix_ptr, prefix_len, limit: i32) -> i64`:
    /// a list of alternating keys and values.
    pub const GET_BY_PARTIAL_COMPOSITE_KEY: &str = "get_state_by_partial_composite_key";
    /// `get_history_for_key(key_ptr, key_len) -> i64`: a list of
    /// [`super::HISTORY_FIELDS`] items per entry.
    pub const GET_HISTORY_FOR_KEY: &str = "get_history_for_key";
    /// `set_event(name_ptr, name_len, payload_ptr, payload_len) -> i64`.
    pub const SET_EVENT: &str = "set_event";
    /// `detect(model_ptr, model_len, features_ptr, features_len) -> i64`: verdict bytes.
    pub const DETECT: &str = "detect";
    /// `log(level: i32, msg_ptr, msg_len) -> i64`.
    pub const LOG: &str = "log";
    /// `set_response(status: i32, msg_ptr, msg_len, payload_ptr, payload_len) -> i64`.
    pub const SET_RESPONSE: &str = "set_response";
}

/// Result code: success without a value (e.g. the key is absent).
pub const NONE: i64 = -1;
/// Error: the key is empty, or starts with `0x00` without being a
/// well-formed composite key, or a range bound is not a simple key.
pub const ERR_INVALID_KEY: i64 = -2;
/// Error: an argument is malformed (bad UTF-8 event name, bad status...).
pub const ERR_INVALID_ARGUMENT: i64 = -3;
/// Error: the detector rejected the request.
pub const ERR_DETECT: i64 = -4;
/// Error: `read_return` was called with a length that does not match.
pub const ERR_NO_RETURN: i64 = -5;
/// Error: the SDK is not running inside the CryptaNet host (native builds).
pub const ERR_NOT_IN_HOST: i64 = -6;
/// Error: a response was already set for this invocation.
pub const ERR_RESPONSE_ALREADY_SET: i64 = -7;

/// Log levels accepted by `log`.
pub mod level {
    /// Error.
    pub const ERROR: i32 = 1;
    /// Warning.
    pub const WARN: i32 = 2;
    /// Information.
    pub const INFO: i32 = 3;
    /// Debugging.
    pub const DEBUG: i32 = 4;
}

/// First byte of every composite key (as in Fabric).
pub const COMPOSITE_KEY_PREFIX: u8 = 0x00;
/// Separator after the object type and after every attribute.
pub const COMPOSITE_KEY_SEPARATOR: u8 = 0x00;
/// Number of list items per history entry: tx id, version (block u64 LE ‖
/// tx u32 LE), a presence flag (1 = value, 0 = delete), the value.
pub const HISTORY_FIELDS: usize = 4;

/// A list could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedList;

impl core::fmt::Display for MalformedList {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("malformed ABI list")
    }
}

/// Encodes `items` as a list.
pub fn encode_list<T: AsRef<[u8]>>(items: &[T]) -> Vec<u8> {
    let total: usize = items.iter().map(|i| 4 + i.as_ref().len()).sum();
    let mut out = Vec::with_capacity(4 + total);
    put_u32(&mut out, items.len());
    for item in items {
        put_u32(&mut out, item.as_ref().len());
        out.extend_from_slice(item.as_ref());
    }
    out
}

/// Appends a list header for `count` items; follow with [`push_item`].
pub fn start_list(out: &mut Vec<u8>, count: usize) {
    put_u32(out, count);
}

/// Appends one list item.
pub fn push_item(out: &mut Vec<u8>, item: &[u8]) {
    put_u32(out, item.len());
    out.extend_from_slice(item);
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Lengths are bounded by wasm32 memory, so they always fit in u32.
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

/// Decodes a list, borrowing its items. Rejects truncated input and
/// trailing bytes.
pub fn decode_list(bytes: &[u8]) -> Result<Vec<&[u8]>, MalformedList> {
    let (count, mut rest) = take_u32(bytes)?;
    // Every item needs at least 4 bytes, which bounds the allocation.
    if count > rest.len() / 4 {
        return Err(MalformedList);
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, after) = take_u32(rest)?;
        if len > after.len() {
            return Err(MalformedList);
        }
        let (item, after) = after.split_at(len);
        items.push(item);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(MalformedList);
    }
    Ok(items)
}

fn take_u32(bytes: &[u8]) -> Result<(usize, &[u8]), MalformedList> {
    if bytes.len() < 4 {
        return Err(MalformedList);
    }
    let (head, rest) = bytes.split_at(4);
    let mut b = [0u8; 4];
    b.copy_from_slice(head);
    Ok((u32::from_le_bytes(b) as usize, rest))
}

/// The transaction context handed to chaincode by `get_context`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxContext {
    /// Transaction id (SHA3-256 of nonce ‖ creator).
    pub tx_id: [u8; 32],
    /// Client timestamp, unix milliseconds (informational, chosen by the client).
    pub timestamp_ms: u64,
    /// MSP id of the creator's organisation.
    pub creator_msp_id: String,
    /// Creator's X.509 certificate, DER.
    pub creator_cert: Vec<u8>,
    /// Function name.
    pub function: String,
    /// Arguments.
    pub args: Vec<Vec<u8>>,
    /// Transient data (never written to the ledger).
    pub transient: Vec<(String, Vec<u8>)>,
}

impl TxContext {
    /// Encodes the context as a list of seven items: tx id, timestamp
    /// (u64 LE), MSP id, certificate, function, a nested list of arguments,
    /// a nested list of alternating transient keys and values.
    pub fn encode(&self) -> Vec<u8> {
        let args = encode_list(&self.args);
        let mut transient = Vec::new();
        start_list(&mut transient, self.transient.len() * 2);
        for (k, v) in &self.transient {
            push_item(&mut transient, k.as_bytes());
            push_item(&mut transient, v);
        }
        let ts = self.timestamp_ms.to_le_bytes();
        encode_list(&[
            &self.tx_id[..],
            &ts[..],
            self.creator_msp_id.as_bytes(),
            &self.creator_cert,
            self.function.as_bytes(),
            &args,
            &transient,
        ])
    }

    /// Decodes [`TxContext::encode`] output.
    pub fn decode(bytes: &[u8]) -> Result<TxContext, MalformedList> {
        let f = decode_list(bytes)?;
        let [tx_id, ts, msp, cert, function, args, transient] = f.as_slice() else {
            return Err(MalformedList);
        };
        let tx_id: [u8; 32] = (*tx_id).try_into().map_err(|_| MalformedList)?;
        let ts: [u8; 8] = (*ts).try_into().map_err(|_| MalformedList)?;
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| MalformedList);
        let args = decode_list(args)?.into_iter().map(<[u8]>::to_vec).collect();
        let t = decode_list(transient)?;
        if t.len() % 2 != 0 {
            return Err(MalformedList);
        }
        let transient = t
            .chunks_exact(2)
            .map(|kv| Ok((text(kv[0])?, kv[1].to_vec())))
            .collect::<Result<Vec<_>, MalformedList>>()?;
        Ok(TxContext {
            tx_id,
            timestamp_ms: u64::from_le_bytes(ts),
            creator_msp_id: text(msp)?,
            creator_cert: cert.to_vec(),
            function: text(function)?,
            args,
            transient,
        })
    }
}

/// True when `key` may be stored: non-empty, and either not starting with
/// `0x00` (a simple key) or a well-formed composite key.
pub fn is_valid_key(key: &[u8]) -> bool {
    match key.first() {
        None => false,
        Some(&COMPOSITE_KEY_PREFIX) => is_composite_key(key),
        Some(_) => true,
    }
}

/// True when `key` is `0x00 type 0x00 (attr 0x00)*` with a non-empty object
/// type (composite keys are built by the SDK's `composite_key`).
pub fn is_composite_key(key: &[u8]) -> bool {
    match key.split_first() {
        Some((&COMPOSITE_KEY_PREFIX, rest)) => {
            rest.last() == Some(&COMPOSITE_KEY_SEPARATOR)
                && rest.first().is_some_and(|&b| b != COMPOSITE_KEY_SEPARATOR)
        }
        _ => false,
    }
}

/// True when `key` may bound a range query over simple keys: empty (open)
/// or not starting with `0x00`.
pub fn is_simple_range_bound(key: &[u8]) -> bool {
    key.first() != Some(&COMPOSITE_KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn list_round_trip_and_rejections() {
        let items: Vec<&[u8]> = vec![b"a", b"", b"xyz"];
        let enc = encode_list(&items);
        assert_eq!(decode_list(&enc), Ok(items));
        assert_eq!(decode_list(&enc[..enc.len() - 1]), Err(MalformedList));
        let mut trailing = enc.clone();
        trailing.push(0);
        assert_eq!(decode_list(&trailing), Err(MalformedList));
        // A count claiming four billion items is rejected before allocating.
        assert_eq!(decode_list(&[0xFF, 0xFF, 0xFF, 0xFF]), Err(MalformedList));
    }

    #[test]
    fn context_round_trip() {
        let ctx = TxContext {
            tx_id: [9; 32],
            timestamp_ms: 1_700_000_000_123,
            creator_msp_id: "Org1MSP".into(),
            creator_cert: vec![1, 2, 3],
            function: "RecordReading".into(),
            args: vec![b"SHP-1".to_vec(), vec![]],
            transient: vec![("secret".into(), b"s3".to_vec())],
        };
        assert_eq!(TxContext::decode(&ctx.encode()), Ok(ctx));
        assert_eq!(TxContext::decode(b"junk"), Err(MalformedList));
    }

    #[test]
    fn key_rules() {
        assert!(!is_valid_key(b""));
        assert!(is_valid_key(b"k"));
        assert!(!is_valid_key(b"\x00bad"));
        assert!(is_valid_key(b"\x00reading\x00SHP-1\x00"));
        assert!(!is_valid_key(b"\x00\x00"));
        assert!(is_simple_range_bound(b""));
        assert!(!is_simple_range_bound(b"\x00x"));
    }
}
