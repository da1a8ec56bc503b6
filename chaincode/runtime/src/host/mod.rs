//! The host side of the chaincode ABI (`cryptanet_sdk::abi`): per-invocation
//! state, resource limits, and the helpers host functions share.
//!
//! Every host function validates guest pointers against linear memory,
//! charges fuel for the call and the bytes it moves, and turns failures into
//! either a result code the guest can handle (invalid key, bad argument,
//! detector refusal) or a *fault*: a typed [`Error`] kept in [`HostState`]
//! while the guest is trapped, so the caller gets the precise error back.

mod functions;
mod limiter;

pub(crate) use functions::linker;
pub(crate) use limiter::Limiter;

use crate::config::{RuntimeConfig, FUEL_PER_BYTE, FUEL_PER_HOST_CALL};
use crate::detector::Detector;
use crate::error::{Error, Result};
use crate::simulator::TxSimulator;
use crate::state::StateView;
use cryptanet_sdk::abi;
use cryptanet_types::{ChaincodeEvent, Response};
use std::sync::Arc;
use wasmtime::{Caller, Memory};

/// Everything one invocation's host functions work on.
pub(crate) struct HostState {
    pub(crate) sim: TxSimulator<Arc<dyn StateView>>,
    pub(crate) detector: Arc<dyn Detector>,
    pub(crate) config: Arc<RuntimeConfig>,
    /// Encoded `abi::TxContext`.
    pub(crate) context: Vec<u8>,
    /// Bytes waiting for `read_return`.
    pub(crate) ret: Option<Vec<u8>>,
    pub(crate) response: Option<Response>,
    pub(crate) event: Option<ChaincodeEvent>,
    /// The error that made a host function trap the guest.
    pub(crate) fault: Option<Error>,
    pub(crate) limiter: Limiter,
    /// The instance's exported memory, set after instantiation.
    pub(crate) memory: Option<Memory>,
}

type Ctx<'a> = Caller<'a, HostState>;

/// Runs a host function body, mapping its error to a guest result code or
/// a fault.
pub(crate) fn guarded(
    caller: &mut Ctx<'_>,
    body: impl FnOnce(&mut Ctx<'_>) -> Result<i64>,
) -> wasmtime::Result<i64> {
    match body(caller) {
        Ok(code) => Ok(code),
        Err(Error::InvalidKey) => Ok(abi::ERR_INVALID_KEY),
        Err(Error::InvalidArgument { .. }) => Ok(abi::ERR_INVALID_ARGUMENT),
        Err(Error::DetectRejected { .. } | Error::Detect(_)) => Ok(abi::ERR_DETECT),
        Err(fault) => {
            caller.data_mut().fault = Some(fault);
            Err(wasmtime::Error::msg("chaincode host fault"))
        }
    }
}

/// Charges one host call plus `bytes` moved.
pub(crate) fn charge(caller: &mut Ctx<'_>, bytes: usize) -> Result<()> {
    let cost = FUEL_PER_HOST_CALL.saturating_add((bytes as u64).saturating_mul(FUEL_PER_BYTE));
    let left = caller.get_fuel().map_err(engine)?;
    if left < cost {
        let limit = caller.data().config.fuel_limit;
        caller.set_fuel(0).map_err(engine)?;
        return Err(Error::OutOfFuel { limit });
    }
    caller.set_fuel(left - cost).map_err(engine)
}

/// Copies `len` bytes at `ptr` out of guest memory, refusing more than `limit`.
pub(crate) fn read(
    caller: &Ctx<'_>,
    ptr: i32,
    len: i32,
    what: &'static str,
    limit: usize,
) -> Result<Vec<u8>> {
    // wasm32 pointers and lengths are unsigned.
    let (ptr, len) = (ptr as u32, len as u32);
    if len as usize > limit {
        return Err(Error::TooLarge {
            what,
            len: len as usize,
            limit,
        });
    }
    let memory = caller.data().memory.ok_or(Error::MissingExport {
        name: abi::MEMORY_EXPORT,
    })?;
    let start = ptr as usize;
    memory
        .data(caller)
        .get(start..start + len as usize)
        .map(<[u8]>::to_vec)
        .ok_or(Error::GuestMemory { ptr, len })
}

/// Copies `bytes` into guest memory at `ptr`.
pub(crate) fn write(caller: &mut Ctx<'_>, ptr: i32, bytes: &[u8]) -> Result<()> {
    let ptr = ptr as u32;
    let memory = caller.data().memory.ok_or(Error::MissingExport {
        name: abi::MEMORY_EXPORT,
    })?;
    let start = ptr as usize;
    let dest = memory
        .data_mut(caller)
        .get_mut(start..start + bytes.len())
        .ok_or(Error::GuestMemory {
            ptr,
            len: bytes.len() as u32,
        })?;
    dest.copy_from_slice(bytes);
    Ok(())
}

/// Leaves `bytes` in the return buffer, charging for them; returns their length.
pub(crate) fn give(caller: &mut Ctx<'_>, bytes: Vec<u8>) -> Result<i64> {
    charge(caller, bytes.len())?;
    let n = bytes.len() as i64;
    caller.data_mut().ret = Some(bytes);
    Ok(n)
}

/// Maps a wasmtime error inside a host function to a typed error.
pub(crate) fn engine(e: wasmtime::Error) -> Error {
    Error::Engine {
        reason: format!("{e:#}"),
    }
}
