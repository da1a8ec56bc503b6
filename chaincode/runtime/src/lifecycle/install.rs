//! The install store: packages installed on this peer, one file per
//! package under a directory, named by the package digest.

use super::package::{package_id, parse_package_id, ChaincodePackage};
use crate::error::{Error, Result};
use crate::runtime::{Chaincode, Runtime};
use cryptanet_types::Digest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// crash never leaves a half-written file under the final name.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |op, source| Error::Io {
        op,
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| io("write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
}

/// Installed packages on disk, with their compiled form cached in memory.
pub struct InstallStore {
    dir: PathBuf,
    loaded: Mutex<HashMap<String, Arc<Chaincode>>>,
}

impl InstallStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            op: "create install directory",
            path: dir.to_owned(),
            source,
        })?;
        Ok(InstallStore {
            dir: dir.to_owned(),
            loaded: Mutex::new(HashMap::new()),
        })
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(format!("{}.ccpkg", digest.to_hex()))
    }

    /// Checks, compiles and stores package bytes; returns the package id.
    /// Installing the same bytes again is a no-op with the same id.
    pub fn install(&self, runtime: &Runtime, package_bytes: &[u8]) -> Result<String> {
        let package = ChaincodePackage::from_bytes(package_bytes)?;
        let code = runtime.load(&package.wasm)?;
        let id = package_id(&package.metadata.label, package_bytes);
        let path = self.path(&Digest::of(package_bytes));
        write_atomically(&path, package_bytes)?;
        self.lock().insert(id.clone(), code);
        tracing::info!(package_id = %id, "chaincode installed");
        Ok(id)
    }

    /// The installed package `package_id`, verified against its digest.
    pub fn get(&self, package_id: &str) -> Result<ChaincodePackage> {
        let (label, digest) = parse_package_id(package_id)?;
        let path = self.path(&digest);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotInstalled {
                    package_id: package_id.to_owned(),
                })
            }
            Err(source) => {
                return Err(Error::Io {
                    op: "read package",
                    path,
                    source,
                })
            }
        };
        let package = ChaincodePackage::from_bytes(&bytes)?;
        if Digest::of(&bytes) != digest || package.metadata.label != label {
            return Err(Error::BadPackageId {
                package_id: package_id.to_owned(),
            });
        }
        Ok(package)
    }

    /// The compiled chaincode of `package_id`, compiling it on first use
    /// after a restart.
    pub fn chaincode(&self, runtime: &Runtime, package_id: &str) -> Result<Arc<Chaincode>> {
        if let Some(code) = self.lock().get(package_id) {
            return Ok(code.clone());
        }
        let package = self.get(package_id)?;
        let code = runtime.load(&package.wasm)?;
        self.lock().insert(package_id.to_owned(), code.clone());
        Ok(code)
    }

    /// Ids of all installed packages, sorted.
    pub fn installed(&self) -> Result<Vec<String>> {
        let io = |source| Error::Io {
            op: "list packages",
            path: self.dir.clone(),
            source,
        };
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|e| e == "ccpkg") {
                let bytes = std::fs::read(&path).map_err(io)?;
                if let Ok(p) = ChaincodePackage::from_bytes(&bytes) {
                    ids.push(package_id(&p.metadata.label, &bytes));
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Chaincode>>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
