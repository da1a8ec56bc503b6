//! Every hostile fixture fails with its own typed error, and the runtime
//! serves a well-behaved invocation right after.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use common::{call, fixture, runtime};
use cryptanet_chaincode::{Error, MemoryState, Runtime, TestDetector};
use std::sync::Arc;

fn run(rt: &Runtime, wasm: &[u8]) -> Result<cryptanet_chaincode::Execution, Error> {
    let code = rt.load(wasm)?;
    rt.execute(
        &code,
        "hostile",
        &call("Org1MSP", "Go", &[]),
        Arc::new(MemoryState::new()),
        Arc::new(TestDetector),
    )
}

/// Runs `name`, checks its error, then checks the runtime still works.
fn contained(name: &str, check: impl FnOnce(&Error) -> bool) {
    let rt = runtime();
    let err = run(&rt, &fixture(name)).expect_err(name);
    assert!(check(&err), "{name}: unexpected error {err:?}");
    let ok = run(&rt, &fixture("noop")).unwrap();
    assert_eq!(
        ok.response.status, 200,
        "{name}: runtime unusable afterwards"
    );
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    contained("infinite-loop", |e| {
        matches!(e, Error::OutOfFuel { limit: 50_000_000 })
    });
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    contained("memory-bomb", |e| {
        matches!(e, Error::ResourceLimit { what: "memory", limit, requested }
            if *limit == 32 << 20 && requested > limit)
    });
}

#[test]
fn deep_recursion_overflows_the_stack() {
    contained("deep-recursion", |e| matches!(e, Error::StackOverflow));
}

#[test]
fn trap_is_reported() {
    contained("trap", |e| {
        matches!(
            e,
            Error::Trap {
                trap: wasmtime::Trap::UnreachableCodeReached
            }
        )
    });
}

#[test]
fn huge_return_value_is_refused() {
    contained("huge-return", |e| {
        matches!(
            e,
            Error::TooLarge {
                what: "response payload",
                len: 16_777_216,
                ..
            }
        )
    });
}

#[test]
fn unknown_import_is_refused_at_load() {
    contained(
        "unknown-import",
        |e| matches!(e, Error::UnknownImport { module, name } if module == "env" && name == "launch_missiles"),
    );
}

#[test]
fn start_function_is_refused_at_load() {
    contained("start-function", |e| matches!(e, Error::StartFunction));
}

#[test]
fn out_of_bounds_pointer_is_refused() {
    contained("bad-pointer", |e| {
        matches!(
            e,
            Error::GuestMemory {
                ptr: 0x10_0000,
                len: 8
            }
        )
    });
}

#[test]
fn garbage_bytes_are_an_invalid_module() {
    let rt = runtime();
    assert!(matches!(
        rt.load(b"\0asm\x01\0\0\0\x01\xff"),
        Err(Error::InvalidModule { .. })
    ));
    assert!(matches!(
        rt.load(b"not wasm"),
        Err(Error::InvalidModule { .. })
    ));
}

#[test]
fn wrong_entry_signature_is_refused() {
    let rt = runtime();
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "cn_invoke") (param i32)))"#,
    )
    .unwrap();
    assert!(matches!(
        rt.load(&wasm),
        Err(Error::MissingExport { name: "cn_invoke" })
    ));
    let wasm = wat::parse_str(r#"(module (func (export "cn_invoke")))"#).unwrap();
    assert!(matches!(
        rt.load(&wasm),
        Err(Error::MissingExport { name: "memory" })
    ));
}

#[test]
fn no_response_is_an_error() {
    let rt = runtime();
    let wasm =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "cn_invoke")))"#)
            .unwrap();
    assert!(matches!(run(&rt, &wasm), Err(Error::NoResponse)));
}

#[test]
fn host_calls_are_metered() {
    // Loops on get_state with a 4 KiB key: every call is charged, so the
    // loop ends in OutOfFuel even though the guest executes few instructions.
    let wasm = wat::parse_str(
        r#"(module
             (import "cryptanet" "get_state" (func $get (param i32 i32) (result i64)))
             (memory (export "memory") 1)
             (data (i32.const 0) "k")
             (func (export "cn_invoke")
               (loop $l (drop (call $get (i32.const 0) (i32.const 4096))) (br $l))))"#,
    )
    .unwrap();
    let rt = runtime();
    assert!(matches!(run(&rt, &wasm), Err(Error::OutOfFuel { .. })));
    assert_eq!(run(&rt, &fixture("noop")).unwrap().response.status, 200);
}

#[test]
fn misusing_the_return_buffer_gets_an_error_code() {
    // read_return without a pending value answers ERR_NO_RETURN (-5); the
    // module reports the code it got as its response status.
    let wasm = wat::parse_str(
        r#"(module
             (import "cryptanet" "read_return" (func $rr (param i32 i32) (result i64)))
             (import "cryptanet" "set_response"
               (func $resp (param i32 i32 i32 i32 i32) (result i64)))
             (memory (export "memory") 1)
             (func (export "cn_invoke")
               (local $code i32)
               (local.set $code (i32.wrap_i64 (call $rr (i32.const 0) (i32.const 4))))
               (drop (call $resp (i32.sub (i32.const 0) (local.get $code))
                                 (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))"#,
    )
    .unwrap();
    let rt = runtime();
    assert_eq!(run(&rt, &wasm).unwrap().response.status, 5);
}

#[test]
fn wall_clock_safety_net_interrupts_when_enabled() {
    // Fuel set absurdly high: only the optional epoch deadline stops the loop.
    let limit = std::time::Duration::from_millis(50);
    let rt = Runtime::new(cryptanet_chaincode::RuntimeConfig {
        fuel_limit: u64::MAX / 2,
        wall_clock_limit: Some(limit),
        pool_instances: 4,
        ..Default::default()
    })
    .unwrap();
    let err = run(&rt, &fixture("infinite-loop")).unwrap_err();
    assert!(
        matches!(err, Error::WallClock { limit: l } if l == limit),
        "{err:?}"
    );
    assert_eq!(run(&rt, &fixture("noop")).unwrap().response.status, 200);
}
