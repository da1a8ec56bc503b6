//! # cryptanet-sdk
//!
//! Write CryptaNet chaincode in Rust and compile it to
//! `wasm32-unknown-unknown`:
//!
//! ```ignore
//! use cryptanet_sdk::{entry, Context, Error, Result};
//!
//! entry!(handle);
//!
//! fn handle(ctx: &mut Context) -> Result<Vec<u8>> {
//!     match ctx.function() {
//!         "Put" => {
//!             let key: String = ctx.arg(0)?;
//!             let value: u64 = ctx.arg(1)?;
//!             ctx.put_json(key.as_bytes(), &value)?;
//!             Ok(Vec::new())
//!         }
//!         f => Err(Error::UnknownFunction { function: f.into() }),
//!     }
//! }
//! ```
//!
//! [`entry!`] exports the `cn_invoke` entry point; the handler's `Ok` bytes
//! become a status-200 response, an [`Error`] becomes a response with
//! [`Error::status`] and its message. The [`abi`] module is the host ABI,
//! shared with the host runtime. See docs/chaincode.md for the guide.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi;
pub mod args;
pub mod composite;
pub mod context;
pub mod detect;
pub mod error;
mod ffi;

pub use args::FromArg;
pub use composite::{composite_key, split_composite_key};
pub use context::{Context, HistoryEntry, Kv};
pub use error::{Error, Result};

use alloc::string::ToString;
use alloc::vec::Vec;

/// Runs `handler` for the current invocation and hands its outcome to the
/// host. Called by the code [`entry!`] generates.
pub fn run(handler: fn(&mut Context) -> Result<Vec<u8>>) {
    let outcome = Context::load().and_then(|mut ctx| handler(&mut ctx));
    // If the host refuses the response there is nobody left to tell: the
    // host then reports a missing response itself.
    let _ = match outcome {
        Ok(payload) => ffi::set_response(200, b"", &payload),
        Err(e) => ffi::set_response(e.status(), e.to_string().as_bytes(), b""),
    };
}

/// Declares the chaincode entry point: `entry!(handler)` where
/// `handler: fn(&mut Context) -> Result<Vec<u8>>`.
#[macro_export]
macro_rules! entry {
    ($handler:path) => {
        /// Chaincode entry point called by the CryptaNet host.
        #[no_mangle]
        pub extern "C" fn cn_invoke() {
            $crate::run($handler)
        }
    };
}
