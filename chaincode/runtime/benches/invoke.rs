//! Invocation benchmark: throughput of `RecordReading` on the reference
//! supply-chain chaincode with the test detector, and per-invocation host
//! overhead (p50/p99) beside a bare-wasmtime baseline, in one run.
//!
//! ```text
//! cargo build --release -p cryptanet-chaincode --benches
//! target/release/deps/invoke-<hash> [--iterations N]
//! ```
//!
//! The supply-chain wasm is built with scripts/build-chaincode.sh unless
//! `CRYPTANET_SUPPLY_CHAIN_WASM` names a prebuilt file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cryptanet_chaincode::config::engine;
use cryptanet_chaincode::{Invocation, MemoryState, Runtime, RuntimeConfig, TestDetector};
use cryptanet_types::{Digest, TxRwSet, Version};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{Linker, Module, Store};

fn main() {
    let mut iterations = 20_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--iterations" {
            iterations = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("--iterations N");
        }
        // Other arguments (e.g. cargo bench's `--bench`) are ignored.
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let supply_chain = std::fs::read(supply_chain_wasm(&root)).expect("supply-chain wasm");
    let noop = wat::parse_file(root.join("chaincode/examples/hostile/noop.wat")).unwrap();

    println!("cryptanet-chaincode invocation benchmark");
    println!("machine: {} ({} logical CPUs, shared)", cpu_model(), cpus());
    println!(
        "iterations per case: {iterations} (after {} warm-up), single thread",
        iterations / 10
    );
    println!();

    let config = RuntimeConfig::default();
    let baseline = bare_wasmtime(&config, iterations);
    let rt = Runtime::new(config).unwrap();
    let overhead = host_noop(&rt, &noop, iterations);
    let (reading, fuel) = record_reading(&rt, &supply_chain, iterations);

    println!(
        "{:<44} {:>10} {:>10} {:>12}",
        "case", "p50 µs", "p99 µs", "calls/s"
    );
    for (name, s) in [
        ("baseline: bare wasmtime instantiate + call", &baseline),
        ("host overhead: noop chaincode via Runtime", &overhead),
        ("RecordReading (supply-chain, TestDetector)", &reading),
    ] {
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>12.0}",
            name,
            micros(s.p50),
            micros(s.p99),
            s.per_second
        );
    }
    println!();
    println!(
        "host overhead above bare wasmtime: p50 {:+.2} µs, p99 {:+.2} µs; goal: overhead <= 20 µs per invocation",
        micros(overhead.p50) - micros(baseline.p50),
        micros(overhead.p99) - micros(baseline.p99),
    );
    println!("RecordReading fuel per invocation: {fuel}");
}

struct Stats {
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

fn measure(iterations: usize, mut f: impl FnMut(usize)) -> Stats {
    for i in 0..iterations / 10 {
        f(usize::MAX - i);
    }
    let mut samples = Vec::with_capacity(iterations);
    let start = Instant::now();
    for i in 0..iterations {
        let t = Instant::now();
        f(i);
        samples.push(t.elapsed());
    }
    let total = start.elapsed();
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Stats {
        p50: pick(0.50),
        p99: pick(0.99),
        per_second: iterations as f64 / total.as_secs_f64(),
    }
}

/// The floor: the same engine configuration, an empty module with no
/// imports, `InstancePre`, a fresh store with fuel, instantiate, call.
fn bare_wasmtime(config: &RuntimeConfig, iterations: usize) -> Stats {
    let engine = engine(config).unwrap();
    let module = Module::new(
        &engine,
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "cn_invoke")))"#)
            .unwrap(),
    )
    .unwrap();
    let pre = Linker::<()>::new(&engine).instantiate_pre(&module).unwrap();
    measure(iterations, |_| {
        let mut store = Store::new(&engine, ());
        store.set_fuel(config.fuel_limit).unwrap();
        let instance = pre.instantiate(&mut store).unwrap();
        let f = instance
            .get_typed_func::<(), ()>(&mut store, "cn_invoke")
            .unwrap();
        f.call(&mut store, ()).unwrap();
    })
}

fn invocation(function: &str, args: Vec<Vec<u8>>) -> Invocation {
    Invocation {
        tx_id: Digest::of(function.as_bytes()),
        timestamp_ms: 1_700_000_000_000,
        creator_msp_id: "Org1MSP".into(),
        creator_cert: vec![0x30; 600],
        function: function.into(),
        args,
        transient: vec![],
    }
}

/// Everything the host adds: context encoding, store and limiter set-up,
/// instantiation from the pool, one host call, collecting the result.
fn host_noop(rt: &Runtime, wasm: &[u8], iterations: usize) -> Stats {
    let code = rt.load(wasm).unwrap();
    let state: Arc<MemoryState> = Arc::new(MemoryState::new());
    let detector: Arc<TestDetector> = Arc::new(TestDetector);
    let inv = invocation("Noop", vec![]);
    measure(iterations, |_| {
        let e = rt
            .execute(&code, "noop", &inv, state.clone(), detector.clone())
            .unwrap();
        assert_eq!(e.response.status, 200);
    })
}

fn record_reading(rt: &Runtime, wasm: &[u8], iterations: usize) -> (Stats, u64) {
    let code = rt.load(wasm).unwrap();
    let mut state = MemoryState::new();
    let register = invocation(
        "RegisterShipment",
        [
            "SHP-1", "insulin", "100", "Basel", "Oslo", "Org1MSP", "2000", "8000", "300", "450",
        ]
        .map(|a| a.as_bytes().to_vec())
        .to_vec(),
    );
    let e = rt
        .execute(
            &code,
            "supply-chain",
            &register,
            Arc::new(state.clone()),
            Arc::new(TestDetector),
        )
        .unwrap();
    assert_eq!(e.response.status, 200);
    state.apply(
        &TxRwSet { ns: e.rwset.ns },
        Version::new(1, 0),
        Digest::of(b"reg"),
    );
    let state = Arc::new(state);
    let detector: Arc<TestDetector> = Arc::new(TestDetector);
    let mut fuel = 0;
    let stats = measure(iterations, |i| {
        // Alternate in-spec and out-of-spec temperatures; unique timestamps.
        let temp = if i % 2 == 0 { "4500" } else { "9100" };
        let inv = invocation(
            "RecordReading",
            [&i.to_string()[..], temp, "400", "100", "A1 km 12"]
                .iter()
                .fold(vec![b"SHP-1".to_vec()], |mut v, a| {
                    v.push(a.as_bytes().to_vec());
                    v
                }),
        );
        let e = rt
            .execute(&code, "supply-chain", &inv, state.clone(), detector.clone())
            .unwrap();
        assert_eq!(e.response.status, 200, "{}", e.response.message);
        fuel = e.fuel_used;
    });
    (stats, fuel)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn supply_chain_wasm(root: &Path) -> PathBuf {
    if let Ok(p) = std::env::var("CRYPTANET_SUPPLY_CHAIN_WASM") {
        return PathBuf::from(p);
    }
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/build-chaincode.sh"))
        .output()
        .expect("run scripts/build-chaincode.sh");
    assert!(
        out.status.success(),
        "build-chaincode.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .find(|p| p.ends_with("supply-chain.wasm"))
        .expect("supply-chain.wasm in script output")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
