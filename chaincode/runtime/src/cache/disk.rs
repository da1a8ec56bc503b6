//! On-disk cache of compiled modules.
//!
//! One file per code hash, `<hash>.cwasm`:
//!
//! ```text
//! "CNCWASM1" ‖ u32 LE len ‖ engine fingerprint ‖ code hash (32) ‖ SHA3(artifact) (32) ‖ artifact
//! ```
//!
//! The fingerprint names the wasmtime release and hashes the engine's
//! compatibility settings, so artifacts of another version or configuration
//! are recompiled rather than loaded (wasmtime checks again on load). The
//! artifact digest guards against truncated or altered files, since loading
//! native code is trusted. Any mismatch or I/O problem is a cache miss.

use crate::error::{Error, Result};
use cryptanet_types::Digest;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

const MAGIC: &[u8; 8] = b"CNCWASM1";
/// The wasmtime release this crate is built against.
const WASMTIME_RELEASE: &str = "wasmtime-48";

/// A directory of compiled modules for one engine configuration.
pub(crate) struct DiskCache {
    dir: PathBuf,
    fingerprint: Vec<u8>,
}

impl DiskCache {
    /// Opens (creating if needed) `dir` for `engine`.
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create cache directory",
            path: dir.to_owned(),
            source,
        })?;
        Ok(DiskCache {
            dir: dir.to_owned(),
            fingerprint: fingerprint(engine).into_bytes(),
        })
    }

    fn path(&self, code_hash: &Digest) -> PathBuf {
        self.dir.join(format!("{}.cwasm", code_hash.to_hex()))
    }

    fn header(&self, code_hash: &Digest, artifact: &[u8]) -> Vec<u8> {
        let mut h = Vec::with_capacity(8 + 4 + self.fingerprint.len() + 64);
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&(self.fingerprint.len() as u32).to_le_bytes());
        h.extend_from_slice(&self.fingerprint);
        h.extend_from_slice(code_hash.as_bytes());
        h.extend_from_slice(Digest::of(artifact).as_bytes());
        h
    }

    /// The cached module for `code_hash`, if a valid one exists.
    pub(crate) fn load(&self, engine: &Engine, code_hash: &Digest) -> Option<Module> {
        let path = self.path(code_hash);
        let bytes = std::fs::read(&path).ok()?;
        let header_len = 8 + 4 + self.fingerprint.len() + 64;
        if bytes.len() < header_len {
            return None;
        }
        let (header, artifact) = bytes.split_at(header_len);
        if header != self.header(code_hash, artifact).as_slice() {
            tracing::debug!(path = %path.display(), "stale or corrupt module cache entry");
            return None;
        }
        deserialize(engine, artifact)
            .map_err(
                |e| tracing::debug!(path = %path.display(), error = %e, "cache entry rejected"),
            )
            .ok()
    }

    /// Stores `module` under `code_hash` (write to a temporary file, then rename).
    pub(crate) fn store(&self, code_hash: &Digest, module: &Module) -> Result<()> {
        let artifact = module.serialize().map_err(|e| Error::Engine {
            reason: format!("{e:#}"),
        })?;
        let mut bytes = self.header(code_hash, &artifact);
        bytes.extend_from_slice(&artifact);
        let path = self.path(code_hash);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let io = |op, source| Error::Io {
            op,
            path: path.clone(),
            source,
        };
        std::fs::write(&tmp, &bytes).map_err(|e| io("write cache entry", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io("rename cache entry", e))
    }
}

/// Loads a compiled artifact.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Module> {
    // SAFETY: wasmtime requires that the bytes come from `Module::serialize`
    // of a compatible engine and were not tampered with. The caller only
    // passes artifacts this cache wrote itself (under our own directory),
    // whose SHA3-256 and engine fingerprint it has just verified; wasmtime
    // additionally checks its version and configuration.
    unsafe { Module::deserialize(engine, artifact) }
}

/// `wasmtime-48:<hash of the engine's compatibility settings>`.
fn fingerprint(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{WASMTIME_RELEASE}:{:016x}", h.finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::{engine, RuntimeConfig};

    #[test]
    fn round_trip_and_corruption_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&RuntimeConfig::default()).unwrap();
        let cache = DiskCache::open(dir.path(), &e).unwrap();
        let wasm =
            wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 7))"#).unwrap();
        let hash = Digest::of(&wasm);
        assert!(cache.load(&e, &hash).is_none());
        let module = Module::new(&e, &wasm).unwrap();
        cache.store(&hash, &module).unwrap();
        let back = cache.load(&e, &hash).unwrap();
        assert!(back.get_export("f").is_some());

        // A second engine with the same config shares the fingerprint.
        let e2 = engine(&RuntimeConfig::default()).unwrap();
        assert_eq!(fingerprint(&e), fingerprint(&e2));
        assert!(DiskCache::open(dir.path(), &e2)
            .unwrap()
            .load(&e2, &hash)
            .is_some());

        // Flip one artifact byte: the digest check refuses it.
        let path = cache.path(&hash);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.load(&e, &hash).is_none());
    }

    #[test]
    fn other_configuration_misses() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(&RuntimeConfig::default()).unwrap();
        let wasm = wat::parse_str("(module)").unwrap();
        let hash = Digest::of(&wasm);
        DiskCache::open(dir.path(), &e)
            .unwrap()
            .store(&hash, &Module::new(&e, &wasm).unwrap())
            .unwrap();
        let other = wasmtime::Engine::new(wasmtime::Config::new().consume_fuel(false)).unwrap();
        assert!(DiskCache::open(dir.path(), &other)
            .unwrap()
            .load(&other, &hash)
            .is_none());
    }
}
