//! Shared helpers of the integration tests: building the example chaincode
//! from source, loading fixtures, making invocations.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use cryptanet_chaincode::{Invocation, MemoryState, Runtime, RuntimeConfig};
use cryptanet_types::{Digest, TxRwSet, Version};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds every example with scripts/build-chaincode.sh (once per test
/// process) and returns the bytes of `name`.wasm. Fails loudly when no wasm
/// toolchain is available: this test must never pass without running the
/// real chaincode.
pub fn example_wasm(name: &str) -> Vec<u8> {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    let out = OUT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chaincode-wasm");
        let script = repo_root().join("scripts/build-chaincode.sh");
        let result = Command::new("bash")
            .arg(&script)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        if !result.status.success() {
            panic!(
                "building the example chaincode to wasm failed (is a wasm32 toolchain \
                 installed? see docs/chaincode.md).\n--- stderr ---\n{}",
                String::from_utf8_lossy(&result.stderr)
            );
        }
        out
    });
    let path = out.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A hostile (or baseline) fixture from chaincode/examples/hostile.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join(format!("chaincode/examples/hostile/{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A runtime with test-friendly limits.
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        fuel_limit: 50_000_000,
        memory_limit: 32 << 20,
        pool_instances: 8,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

/// An invocation of `function` by `msp` with text arguments.
pub fn call(msp: &str, function: &str, args: &[&str]) -> Invocation {
    Invocation {
        tx_id: Digest::of_parts(&[
            msp.as_bytes(),
            function.as_bytes(),
            args.join(",").as_bytes(),
        ]),
        timestamp_ms: 1_700_000_000_000,
        creator_msp_id: msp.into(),
        creator_cert: format!("cert of {msp}").into_bytes(),
        function: function.into(),
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        transient: vec![],
    }
}

/// Commits `rwset` as the only transaction of block `block`.
pub fn commit(state: &mut MemoryState, rwset: &TxRwSet, block: u64) {
    state.apply(
        rwset,
        Version::new(block, 0),
        Digest::of(&block.to_le_bytes()),
    );
}
