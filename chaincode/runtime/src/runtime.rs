//! [`Runtime`]: compiles chaincode once per code hash and runs invocations,
//! each in a fresh, metered instance from the pooling allocator.
//!
//! Loading checks the module (no start function, only host imports, a
//! memory and a `cn_invoke: () -> ()` export), compiles it (or loads it
//! from the disk cache) and pre-links it against the host API
//! (`InstancePre`), so an invocation only allocates a store, instantiates
//! from a warm pool slot, and calls the entry point.

use crate::cache::{disk::DiskCache, MemoryCache};
use crate::config::{engine, RuntimeConfig};
use crate::detector::Detector;
use crate::epoch::Ticker;
use crate::error::{Error, Result};
use crate::execution::{Execution, Invocation};
use crate::host::{self, HostState, Limiter};
use crate::simulator::TxSimulator;
use crate::state::StateView;
use crate::wasm_check::reject_start_section;
use cryptanet_sdk::abi;
use cryptanet_types::{Digest, TxRwSet};
use std::sync::Arc;
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module, Store, Trap};

/// A validated, compiled, pre-linked chaincode module.
pub struct Chaincode {
    code_hash: Digest,
    pre: InstancePre<HostState>,
}

impl Chaincode {
    /// SHA3-256 of the wasm bytes.
    pub fn code_hash(&self) -> Digest {
        self.code_hash
    }
}

/// The chaincode host. Cheap to share (`Arc<Runtime>`); invocations may run
/// concurrently up to [`RuntimeConfig::pool_instances`].
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    config: Arc<RuntimeConfig>,
    memory_cache: MemoryCache,
    disk_cache: Option<DiskCache>,
    /// Running only when `wall_clock_limit` is set; stops when dropped.
    _ticker: Option<Ticker>,
}

impl Runtime {
    /// A runtime with the deterministic engine of [`crate::config::engine`].
    pub fn new(config: RuntimeConfig) -> Result<Runtime> {
        let engine = engine(&config)?;
        let linker = host::linker(&engine)?;
        let disk_cache = match &config.cache_dir {
            Some(dir) => Some(DiskCache::open(dir, &engine)?),
            None => None,
        };
        let ticker = match config.wall_clock_limit {
            Some(_) => Some(Ticker::start(&engine).map_err(|e| Error::Engine {
                reason: format!("cannot start the epoch ticker: {e}"),
            })?),
            None => None,
        };
        Ok(Runtime {
            _ticker: ticker,
            engine,
            linker,
            config: Arc::new(config),
            memory_cache: MemoryCache::default(),
            disk_cache,
        })
    }

    /// The limits this runtime enforces.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Number of modules in the in-memory cache.
    pub fn cached_modules(&self) -> usize {
        self.memory_cache.len()
    }

    /// Validates and compiles `wasm`, or returns the cached result for the
    /// same bytes.
    pub fn load(&self, wasm: &[u8]) -> Result<Arc<Chaincode>> {
        let code_hash = Digest::of(wasm);
        if let Some(code) = self.memory_cache.get(&code_hash) {
            return Ok(code);
        }
        reject_start_section(wasm)?;
        let cached = self
            .disk_cache
            .as_ref()
            .and_then(|d| d.load(&self.engine, &code_hash));
        let module = match cached {
            Some(m) => m,
            None => {
                let m = Module::new(&self.engine, wasm).map_err(|e| Error::InvalidModule {
                    reason: format!("{e:#}"),
                })?;
                if let Some(d) = &self.disk_cache {
                    // A failed cache write costs a recompilation later, nothing more.
                    if let Err(e) = d.store(&code_hash, &m) {
                        tracing::warn!(error = %e, "cannot write module cache");
                    }
                }
                m
            }
        };
        check_interface(&module)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| Error::Link {
                reason: format!("{e:#}"),
            })?;
        let code = Arc::new(Chaincode { code_hash, pre });
        self.memory_cache.insert(code.clone());
        tracing::debug!(code_hash = %code_hash, "chaincode loaded");
        Ok(code)
    }

    /// Runs `invocation` of `code` in namespace `chaincode` against
    /// committed `state`. Any guest failure is returned as a typed error and
    /// leaves the runtime ready for the next call.
    pub fn execute(
        &self,
        code: &Chaincode,
        chaincode: &str,
        invocation: &Invocation,
        state: Arc<dyn StateView>,
        detector: Arc<dyn Detector>,
    ) -> Result<Execution> {
        // Chaincode writes only its own namespace, never a system one.
        if !crate::lifecycle::definition::is_valid_name(chaincode) {
            return Err(Error::InvalidDefinition {
                reason: "not a chaincode name (system namespaces cannot be invoked)",
            });
        }
        let fuel_limit = self.config.fuel_limit;
        let data = HostState {
            sim: TxSimulator::new(state, chaincode),
            detector,
            config: self.config.clone(),
            context: invocation.encode(),
            ret: None,
            response: None,
            event: None,
            fault: None,
            limiter: Limiter::new(self.config.memory_limit, self.config.table_limit),
            memory: None,
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(fuel_limit).map_err(host::engine)?;
        if let Some(limit) = self.config.wall_clock_limit {
            store.set_epoch_deadline(crate::epoch::ticks(limit));
        }

        let run = |store: &mut Store<HostState>| -> wasmtime::Result<()> {
            let instance = code.pre.instantiate(&mut *store)?;
            let memory = instance.get_memory(&mut *store, abi::MEMORY_EXPORT);
            store.data_mut().memory = memory;
            let entry = instance.get_typed_func::<(), ()>(&mut *store, abi::ENTRY_EXPORT)?;
            entry.call(&mut *store, ())
        };
        let outcome = run(&mut store);
        let fuel_used = fuel_limit.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        if let Err(e) = outcome {
            return Err(classify(state, e, fuel_limit, self.config.wall_clock_limit));
        }
        let response = state.response.ok_or(Error::NoResponse)?;
        Ok(Execution {
            chaincode: chaincode.to_owned(),
            rwset: TxRwSet {
                ns: vec![state.sim.into_rwset()],
            },
            response,
            event: state.event,
            fuel_used,
        })
    }
}

/// Turns a failed call into the most precise error available.
fn classify(
    state: HostState,
    e: wasmtime::Error,
    fuel_limit: u64,
    wall_clock_limit: Option<std::time::Duration>,
) -> Error {
    if let Some(fault) = state.fault {
        return fault;
    }
    if let Some((what, requested, limit)) = state.limiter.hit {
        return Error::ResourceLimit {
            what,
            requested,
            limit,
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Error::OutOfFuel { limit: fuel_limit },
        Some(Trap::StackOverflow) => Error::StackOverflow,
        Some(Trap::Interrupt) => Error::WallClock {
            limit: wall_clock_limit.unwrap_or_default(),
        },
        Some(&trap) => Error::Trap { trap },
        None => Error::Engine {
            reason: format!("{e:#}"),
        },
    }
}

/// Checks imports and exports against the ABI.
fn check_interface(module: &Module) -> Result<()> {
    for import in module.imports() {
        let known = import.module() == abi::IMPORT_MODULE && is_host_function(import.name());
        if !known {
            return Err(Error::UnknownImport {
                module: import.module().to_owned(),
                name: import.name().to_owned(),
            });
        }
    }
    match module.get_export(abi::MEMORY_EXPORT) {
        Some(ExternType::Memory(_)) => {}
        _ => {
            return Err(Error::MissingExport {
                name: abi::MEMORY_EXPORT,
            })
        }
    }
    match module.get_export(abi::ENTRY_EXPORT) {
        Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => Ok(()),
        _ => Err(Error::MissingExport {
            name: abi::ENTRY_EXPORT,
        }),
    }
}

fn is_host_function(name: &str) -> bool {
    use abi::import::*;
    [
        GET_CONTEXT,
        READ_RETURN,
        GET_STATE,
        PUT_STATE,
        DEL_STATE,
        GET_STATE_BY_RANGE,
        GET_BY_PARTIAL_COMPOSITE_KEY,
        GET_HISTORY_FOR_KEY,
        SET_EVENT,
        DETECT,
        LOG,
        SET_RESPONSE,
    ]
    .contains(&name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn shareable<T: Send + Sync>() {}

    #[test]
    fn runtime_is_shareable_and_caches_by_code_hash() {
        shareable::<Runtime>();
        shareable::<Chaincode>();
        shareable::<crate::lifecycle::InstallStore>();
        let rt = Runtime::new(RuntimeConfig {
            pool_instances: 4,
            ..RuntimeConfig::default()
        })
        .unwrap();
        let wasm =
            wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "cn_invoke")))"#)
                .unwrap();
        let a = rt.load(&wasm).unwrap();
        let b = rt.load(&wasm).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.code_hash(), Digest::of(&wasm));
        assert_eq!(rt.cached_modules(), 1);
        let denied = rt.execute(
            &a,
            crate::lifecycle::LIFECYCLE_NS,
            &crate::Invocation {
                tx_id: Digest::ZERO,
                timestamp_ms: 0,
                creator_msp_id: "Org1MSP".into(),
                creator_cert: vec![],
                function: "F".into(),
                args: vec![],
                transient: vec![],
            },
            Arc::new(crate::MemoryState::new()),
            Arc::new(crate::TestDetector),
        );
        assert!(matches!(denied, Err(Error::InvalidDefinition { .. })));
    }
}
