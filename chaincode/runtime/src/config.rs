//! Runtime limits and the deterministic wasmtime engine configuration.

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

/// Limits and settings of a [`crate::Runtime`]. All peers of a network must
/// use the same execution limits (fuel, memory, stack, sizes), or a
/// transaction near a limit could succeed on one peer and fail on another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Fuel per invocation (roughly one unit per wasm instruction, plus host
    /// call charges).
    pub fuel_limit: u64,
    /// Largest linear memory of an instance, bytes.
    pub memory_limit: usize,
    /// Largest table of an instance, elements.
    pub table_limit: usize,
    /// Wasm stack, bytes.
    pub max_wasm_stack: usize,
    /// Largest key, bytes.
    pub max_key_len: usize,
    /// Largest value written or returned, bytes.
    pub max_value_len: usize,
    /// Largest response payload, bytes.
    pub max_response_len: usize,
    /// Largest event payload, bytes.
    pub max_event_len: usize,
    /// Most results of one range query or history query.
    pub max_range_results: usize,
    /// Instances that may run at the same time (pooling allocator slots).
    pub pool_instances: u32,
    /// Bytes of each pooled linear memory kept resident between
    /// invocations and reset in place (only pages actually touched, where
    /// the kernel supports `PAGEMAP_SCAN`), instead of being unmapped and
    /// faulted in again. A performance knob; results do not depend on it.
    pub memory_keep_resident: usize,
    /// Directory for compiled modules; `None` keeps the cache in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Optional wall-clock safety net per invocation (see [`crate::epoch`]);
    /// `None` (the default) relies on fuel alone.
    pub wall_clock_limit: Option<Duration>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            fuel_limit: 100_000_000,
            memory_limit: 64 << 20,
            table_limit: 10_000,
            max_wasm_stack: 512 << 10,
            max_key_len: 4 << 10,
            max_value_len: 1 << 20,
            max_response_len: 1 << 20,
            max_event_len: 64 << 10,
            max_range_results: 10_000,
            pool_instances: 64,
            memory_keep_resident: 2 << 20,
            cache_dir: None,
            wall_clock_limit: None,
        }
    }
}

/// Fuel charged for every host call, on top of [`FUEL_PER_BYTE`].
pub const FUEL_PER_HOST_CALL: u64 = 1_000;
/// Fuel charged per byte a host call moves in or out of the guest.
pub const FUEL_PER_BYTE: u64 = 1;

/// Builds the engine: fuel on, NaN canonicalisation on, relaxed SIMD and
/// threads off, no proposals beyond what deterministic chaincode needs, a
/// bounded stack, and the pooling allocator sized by `config`.
pub fn engine(config: &RuntimeConfig) -> Result<Engine> {
    let mut c = Config::new();
    c.consume_fuel(true)
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(OptLevel::Speed)
        .wasm_relaxed_simd(false)
        .relaxed_simd_deterministic(true)
        .wasm_memory64(false)
        .wasm_multi_memory(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        .max_wasm_stack(config.max_wasm_stack)
        .epoch_interruption(config.wall_clock_limit.is_some());
    // Threads (shared memories, atomics' waits), exceptions, function
    // references and the component model are off by construction: the
    // workspace builds wasmtime without the `threads`, `gc` and
    // `component-model` features.
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(config.pool_instances)
        .total_memories(config.pool_instances)
        .total_tables(config.pool_instances)
        .max_memory_size(config.memory_limit)
        .table_elements(config.table_limit)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .linear_memory_keep_resident(config.memory_keep_resident.min(config.memory_limit))
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&c).map_err(|e| Error::Engine {
        reason: format!("{e:#}"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use wasmtime::{Instance, Module, Store};

    fn compile(wat: &str) -> wasmtime::Result<Module> {
        let e = engine(&RuntimeConfig::default()).unwrap();
        Module::new(&e, wat::parse_str(wat).unwrap())
    }

    #[test]
    fn nans_are_canonical() {
        // 0/0 yields a NaN whose sign bit is set on x86 unless canonicalised.
        let m = compile(
            r#"(module (func (export "nan") (param f32) (result i32)
                 (i32.reinterpret_f32 (f32.div (local.get 0) (local.get 0)))))"#,
        )
        .unwrap();
        let mut store = Store::new(m.engine(), ());
        store.set_fuel(1_000).unwrap();
        let i = Instance::new(&mut store, &m, &[]).unwrap();
        let f = i.get_typed_func::<f32, i32>(&mut store, "nan").unwrap();
        assert_eq!(f.call(&mut store, 0.0).unwrap() as u32, 0x7FC0_0000);
    }

    #[test]
    fn nondeterministic_proposals_are_refused() {
        // Shared memory needs the threads proposal.
        assert!(compile("(module (memory 1 1 shared))").is_err());
        // Relaxed SIMD.
        assert!(compile(
            r#"(module (func (result v128)
                 (f32x4.relaxed_madd (v128.const i64x2 0 0) (v128.const i64x2 0 0)
                                     (v128.const i64x2 0 0))))"#
        )
        .is_err());
        // Plain deterministic code compiles.
        assert!(compile("(module (func (result i32) i32.const 1))").is_ok());
    }

    #[test]
    fn fuel_is_metered() {
        let m = compile(r#"(module (func (export "spin") (loop $l (br $l))))"#).unwrap();
        let mut store = Store::new(m.engine(), ());
        store.set_fuel(10_000).unwrap();
        let i = Instance::new(&mut store, &m, &[]).unwrap();
        let f = i.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
        let err = f.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(&wasmtime::Trap::OutOfFuel)
        );
    }
}
