//! The raw host imports, wrapped in safe functions over slices.
//!
//! This is the only module of the SDK with `unsafe` code: calling a wasm
//! import is an FFI call. Every wrapper passes the pointer and length of a
//! live Rust slice, so the host reads (or, for `read_return`, writes) exactly
//! memory the guest owns. Outside wasm32 the imports do not exist and every
//! call reports [`crate::abi::ERR_NOT_IN_HOST`].
#![allow(unsafe_code)]

use crate::abi;
use alloc::vec::Vec;

#[cfg(target_arch = "wasm32")]
mod raw {
    #[link(wasm_import_module = "cryptanet")]
    extern "C" {
        pub fn get_context() -> i64;
        pub fn read_return(ptr: *mut u8, len: i32) -> i64;
        pub fn get_state(kp: *const u8, kl: i32) -> i64;
        pub fn put_state(kp: *const u8, kl: i32, vp: *const u8, vl: i32) -> i64;
        pub fn del_state(kp: *const u8, kl: i32) -> i64;
        pub fn get_state_by_range(
            sp: *const u8,
            sl: i32,
            ep: *const u8,
            el: i32,
            limit: i32,
        ) -> i64;
        pub fn get_state_by_partial_composite_key(pp: *const u8, pl: i32, limit: i32) -> i64;
        pub fn get_history_for_key(kp: *const u8, kl: i32) -> i64;
        pub fn set_event(np: *const u8, nl: i32, pp: *const u8, pl: i32) -> i64;
        pub fn detect(mp: *const u8, ml: i32, fp: *const u8, fl: i32) -> i64;
        pub fn log(level: i32, mp: *const u8, ml: i32) -> i64;
        pub fn set_response(status: i32, mp: *const u8, ml: i32, pp: *const u8, pl: i32) -> i64;
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, missing_docs)]
mod raw {
    //! Native builds (host-side unit tests, docs): no host to call.
    use crate::abi::ERR_NOT_IN_HOST as E;
    pub unsafe fn get_context() -> i64 {
        E
    }
    pub unsafe fn read_return(_: *mut u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn get_state(_: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn put_state(_: *const u8, _: i32, _: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn del_state(_: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn get_state_by_range(_: *const u8, _: i32, _: *const u8, _: i32, _: i32) -> i64 {
        E
    }
    pub unsafe fn get_state_by_partial_composite_key(_: *const u8, _: i32, _: i32) -> i64 {
        E
    }
    pub unsafe fn get_history_for_key(_: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn set_event(_: *const u8, _: i32, _: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn detect(_: *const u8, _: i32, _: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn log(_: i32, _: *const u8, _: i32) -> i64 {
        E
    }
    pub unsafe fn set_response(_: i32, _: *const u8, _: i32, _: *const u8, _: i32) -> i64 {
        E
    }
}

/// Outcome of a host call that may return bytes.
pub(crate) enum Returned {
    /// Bytes from the return buffer.
    Bytes(Vec<u8>),
    /// The host reported "no value".
    None,
}

/// Slice lengths always fit: wasm32 memory is at most 4 GiB and the host
/// caps every value far below 2 GiB.
fn len(s: &[u8]) -> i32 {
    s.len() as i32
}

/// Turns a result code into bytes copied from the return buffer.
fn fetch(code: i64) -> Result<Returned, i64> {
    if code == abi::NONE {
        return Ok(Returned::None);
    }
    if code < 0 {
        return Err(code);
    }
    let n = code as usize;
    let mut buf = alloc::vec![0u8; n];
    // SAFETY: `buf` is a live, writable allocation of exactly `n` bytes.
    let rc = unsafe { raw::read_return(buf.as_mut_ptr(), n as i32) };
    if rc < 0 {
        return Err(rc);
    }
    Ok(Returned::Bytes(buf))
}

fn status(code: i64) -> Result<(), i64> {
    if code < 0 {
        Err(code)
    } else {
        Ok(())
    }
}

// SAFETY (all wrappers below): every pointer/length pair comes from a live
// slice borrowed for the duration of the call; the host only reads it.

pub(crate) fn get_context() -> Result<Returned, i64> {
    fetch(unsafe { raw::get_context() })
}

pub(crate) fn get_state(key: &[u8]) -> Result<Returned, i64> {
    fetch(unsafe { raw::get_state(key.as_ptr(), len(key)) })
}

pub(crate) fn put_state(key: &[u8], value: &[u8]) -> Result<(), i64> {
    status(unsafe { raw::put_state(key.as_ptr(), len(key), value.as_ptr(), len(value)) })
}

pub(crate) fn del_state(key: &[u8]) -> Result<(), i64> {
    status(unsafe { raw::del_state(key.as_ptr(), len(key)) })
}

pub(crate) fn get_state_by_range(start: &[u8], end: &[u8], limit: u32) -> Result<Returned, i64> {
    let limit = limit.min(i32::MAX as u32) as i32;
    fetch(unsafe {
        raw::get_state_by_range(start.as_ptr(), len(start), end.as_ptr(), len(end), limit)
    })
}

pub(crate) fn get_state_by_partial_composite_key(
    prefix: &[u8],
    limit: u32,
) -> Result<Returned, i64> {
    let limit = limit.min(i32::MAX as u32) as i32;
    fetch(unsafe { raw::get_state_by_partial_composite_key(prefix.as_ptr(), len(prefix), limit) })
}

pub(crate) fn get_history_for_key(key: &[u8]) -> Result<Returned, i64> {
    fetch(unsafe { raw::get_history_for_key(key.as_ptr(), len(key)) })
}

pub(crate) fn set_event(name: &[u8], payload: &[u8]) -> Result<(), i64> {
    status(unsafe { raw::set_event(name.as_ptr(), len(name), payload.as_ptr(), len(payload)) })
}

pub(crate) fn detect(model: &[u8], features: &[u8]) -> Result<Returned, i64> {
    fetch(unsafe { raw::detect(model.as_ptr(), len(model), features.as_ptr(), len(features)) })
}

pub(crate) fn log(level: i32, msg: &[u8]) {
    // Logging is best effort; the host never fails it for valid levels.
    let _ = unsafe { raw::log(level, msg.as_ptr(), len(msg)) };
}

pub(crate) fn set_response(status_code: u32, message: &[u8], payload: &[u8]) -> Result<(), i64> {
    let s = status_code.min(i32::MAX as u32) as i32;
    status(unsafe {
        raw::set_response(
            s,
            message.as_ptr(),
            len(message),
            payload.as_ptr(),
            len(payload),
        )
    })
}
