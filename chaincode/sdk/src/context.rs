//! [`Context`]: what a chaincode function sees of its transaction and the
//! world state.
//!
//! Semantics follow Fabric: reads return *committed* state, never this
//! transaction's own pending writes; writes are buffered by the host into the
//! read/write set and only applied if the transaction commits.

use crate::abi::{self, TxContext};
use crate::args::FromArg;
use crate::error::{Error, Result};
use crate::ffi::{self, Returned};
use alloc::string::String;
use alloc::vec::Vec;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One (key, value) pair returned by a range query.
pub type Kv = (Vec<u8>, Vec<u8>);

/// One past state of a key, from [`Context::history`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Transaction that wrote this state.
    pub tx_id: [u8; 32],
    /// Block number of that transaction.
    pub block: u64,
    /// Index of the transaction in its block.
    pub tx: u32,
    /// The value written, `None` for a delete.
    pub value: Option<Vec<u8>>,
}

/// The invocation context handed to chaincode functions.
pub struct Context {
    tx: TxContext,
}

fn host(code: i64) -> Error {
    if code == abi::ERR_INVALID_KEY {
        Error::InvalidKey
    } else {
        Error::Host { code }
    }
}

fn bytes(r: core::result::Result<Returned, i64>) -> Result<Option<Vec<u8>>> {
    match r.map_err(host)? {
        Returned::Bytes(b) => Ok(Some(b)),
        Returned::None => Ok(None),
    }
}

fn kv_list(r: core::result::Result<Returned, i64>) -> Result<Vec<Kv>> {
    let raw = bytes(r)?.unwrap_or_default();
    let items = abi::decode_list(&raw).map_err(|_| Error::Host {
        code: abi::ERR_INVALID_ARGUMENT,
    })?;
    Ok(items
        .chunks_exact(2)
        .map(|kv| (kv[0].to_vec(), kv[1].to_vec()))
        .collect())
}

impl Context {
    /// Loads the transaction context from the host.
    pub fn load() -> Result<Context> {
        let raw = bytes(ffi::get_context())?.unwrap_or_default();
        let tx = TxContext::decode(&raw).map_err(|_| Error::Host {
            code: abi::ERR_INVALID_ARGUMENT,
        })?;
        Ok(Context { tx })
    }

    /// Builds a context from given values (for testing chaincode logic
    /// natively; state calls still need the host).
    pub fn from_tx(tx: TxContext) -> Context {
        Context { tx }
    }

    /// The transaction id.
    pub fn tx_id(&self) -> &[u8; 32] {
        &self.tx.tx_id
    }

    /// The client's timestamp (unix ms). Chosen by the client: use it as
    /// data, never as a trusted clock.
    pub fn timestamp_ms(&self) -> u64 {
        self.tx.timestamp_ms
    }

    /// MSP id of the submitting organisation.
    pub fn creator_msp_id(&self) -> &str {
        &self.tx.creator_msp_id
    }

    /// The submitter's certificate (DER).
    pub fn creator_cert(&self) -> &[u8] {
        &self.tx.creator_cert
    }

    /// The invoked function name.
    pub fn function(&self) -> &str {
        &self.tx.function
    }

    /// All raw arguments.
    pub fn args(&self) -> &[Vec<u8>] {
        &self.tx.args
    }

    /// Argument `index` parsed as `T`.
    pub fn arg<T: FromArg>(&self, index: usize) -> Result<T> {
        let raw = self
            .tx
            .args
            .get(index)
            .ok_or(Error::MissingArgument { index })?;
        T::from_arg(raw).ok_or(Error::BadArgument {
            index,
            expected: T::EXPECTED,
        })
    }

    /// Argument `index` parsed as JSON.
    pub fn json_arg<T: DeserializeOwned>(&self, index: usize) -> Result<T> {
        let raw = self
            .tx
            .args
            .get(index)
            .ok_or(Error::MissingArgument { index })?;
        serde_json::from_slice(raw).map_err(|_| Error::BadArgument {
            index,
            expected: "JSON",
        })
    }

    /// Transient value under `key` (private input, never on the ledger).
    pub fn transient(&self, key: &str) -> Option<&[u8]> {
        self.tx
            .transient
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Committed value of `key`, recorded in the read set.
    pub fn get_state(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        bytes(ffi::get_state(key))
    }

    /// Writes `value` under `key` when the transaction commits.
    pub fn put_state(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        ffi::put_state(key, value).map_err(host)
    }

    /// Deletes `key` when the transaction commits.
    pub fn del_state(&mut self, key: &[u8]) -> Result<()> {
        ffi::del_state(key).map_err(host)
    }

    /// Committed JSON value of `key`.
    pub fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        match self.get_state(key)? {
            Some(b) => Ok(Some(serde_json::from_slice(&b)?)),
            None => Ok(None),
        }
    }

    /// Writes `value` as JSON under `key`.
    pub fn put_json<T: Serialize>(&mut self, key: &[u8], value: &T) -> Result<()> {
        let b = serde_json::to_vec(value)?;
        self.put_state(key, &b)
    }

    /// Simple keys in `[start, end)` (empty `end`: unbounded), at most
    /// `limit` of them (0: the host maximum). Recorded for phantom checks.
    pub fn range(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Vec<Kv>> {
        kv_list(ffi::get_state_by_range(start, end, limit))
    }

    /// All composite keys starting with `object_type` and `attributes`,
    /// at most `limit` (0: the host maximum).
    pub fn by_partial_composite_key(
        &self,
        object_type: &str,
        attributes: &[&str],
        limit: u32,
    ) -> Result<Vec<Kv>> {
        let prefix = crate::composite::composite_key(object_type, attributes)?;
        kv_list(ffi::get_state_by_partial_composite_key(&prefix, limit))
    }

    /// Committed history of `key`, oldest first. Not recorded in the read set.
    pub fn history(&self, key: &[u8]) -> Result<Vec<HistoryEntry>> {
        let raw = bytes(ffi::get_history_for_key(key))?.unwrap_or_default();
        let bad = || Error::Host {
            code: abi::ERR_INVALID_ARGUMENT,
        };
        let items = abi::decode_list(&raw).map_err(|_| bad())?;
        items
            .chunks_exact(abi::HISTORY_FIELDS)
            .map(|e| {
                let tx_id: [u8; 32] = e[0].try_into().map_err(|_| bad())?;
                let v: [u8; 12] = e[1].try_into().map_err(|_| bad())?;
                let mut block = [0u8; 8];
                block.copy_from_slice(&v[..8]);
                let mut tx = [0u8; 4];
                tx.copy_from_slice(&v[8..]);
                Ok(HistoryEntry {
                    tx_id,
                    block: u64::from_le_bytes(block),
                    tx: u32::from_le_bytes(tx),
                    value: (e[2] == [1]).then(|| e[3].to_vec()),
                })
            })
            .collect()
    }

    /// Sets the transaction's event (one per transaction; a later call
    /// replaces an earlier one, as in Fabric).
    pub fn set_event(&mut self, name: &str, payload: &[u8]) -> Result<()> {
        ffi::set_event(name.as_bytes(), payload).map_err(host)
    }

    /// Asks the host's detection module for a verdict. The byte formats of
    /// `features` and the verdict are documented in docs/chaincode.md.
    pub fn detect(&self, model: &[u8], features: &[u8]) -> Result<Vec<u8>> {
        bytes(ffi::detect(model, features))?.ok_or(Error::Host {
            code: abi::ERR_DETECT,
        })
    }

    /// Logs a message through the peer's log (not part of the result).
    pub fn log(&self, level: i32, message: &str) {
        ffi::log(level, message.as_bytes());
    }

    /// Convenience: `Error::NotFound` when `key` holds no JSON value.
    pub fn must_get_json<T: DeserializeOwned>(&self, key: &[u8], what: &str) -> Result<T> {
        self.get_json(key)?.ok_or_else(|| Error::NotFound {
            what: String::from(what),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ctx() -> Context {
        Context::from_tx(TxContext {
            tx_id: [1; 32],
            timestamp_ms: 5,
            creator_msp_id: "Org1MSP".into(),
            creator_cert: vec![],
            function: "F".into(),
            args: vec![b"42".to_vec(), b"x".to_vec(), br#"{"a":1}"#.to_vec()],
            transient: vec![("k".into(), b"v".to_vec())],
        })
    }

    #[test]
    fn typed_arguments_and_transient_data() {
        let c = ctx();
        assert_eq!(c.arg::<u64>(0).unwrap(), 42);
        assert_eq!(
            c.arg::<u64>(1),
            Err(Error::BadArgument {
                index: 1,
                expected: "u64"
            })
        );
        assert_eq!(c.arg::<String>(3), Err(Error::MissingArgument { index: 3 }));
        let v: serde_json::Value = c.json_arg(2).unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(c.transient("k"), Some(&b"v"[..]));
        assert_eq!(c.transient("nope"), None);
        assert_eq!(
            (c.function(), c.creator_msp_id(), c.timestamp_ms()),
            ("F", "Org1MSP", 5)
        );
    }

    #[test]
    fn outside_the_host_state_calls_fail_cleanly() {
        let c = ctx();
        assert_eq!(
            c.get_state(b"k"),
            Err(Error::Host {
                code: abi::ERR_NOT_IN_HOST
            })
        );
    }
}
