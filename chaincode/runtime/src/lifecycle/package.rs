//! Chaincode packages: wasm plus metadata, canonically encoded. The package
//! id is `label:hex(SHA3-256(package bytes))`, so it names exact bytes.

use crate::error::{Error, Result};
use cryptanet_types::{codec, Digest};
use serde::{Deserialize, Serialize};

/// Describes the code in a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageMetadata {
    /// Human label, the first part of the package id (e.g. `supply-chain_1.0`).
    pub label: String,
    /// The host ABI the module was built for (`cryptanet_sdk::abi::ABI_VERSION`).
    pub abi_version: u32,
}

/// A package as installed on peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaincodePackage {
    /// Metadata.
    pub metadata: PackageMetadata,
    /// The wasm module.
    pub wasm: Vec<u8>,
}

impl ChaincodePackage {
    /// Packages `wasm` under `label` for the current ABI.
    pub fn new(label: &str, wasm: Vec<u8>) -> Result<Self> {
        if !is_valid_label(label) {
            return Err(Error::BadPackageId {
                package_id: label.to_owned(),
            });
        }
        Ok(ChaincodePackage {
            metadata: PackageMetadata {
                label: label.to_owned(),
                abi_version: cryptanet_sdk::abi::ABI_VERSION,
            },
            wasm,
        })
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(codec::encode(self)?)
    }

    /// Decodes and checks package bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let p: ChaincodePackage = codec::decode(bytes)?;
        if !is_valid_label(&p.metadata.label) {
            return Err(Error::BadPackageId {
                package_id: p.metadata.label,
            });
        }
        if p.metadata.abi_version != cryptanet_sdk::abi::ABI_VERSION {
            return Err(Error::AbiVersion {
                found: p.metadata.abi_version,
                expected: cryptanet_sdk::abi::ABI_VERSION,
            });
        }
        Ok(p)
    }
}

/// `label:hex(SHA3-256(bytes))` for package bytes whose label is `label`.
pub fn package_id(label: &str, package_bytes: &[u8]) -> String {
    format!("{label}:{}", Digest::of(package_bytes).to_hex())
}

/// Splits a package id into label and digest.
pub fn parse_package_id(id: &str) -> Result<(&str, Digest)> {
    let bad = || Error::BadPackageId {
        package_id: id.to_owned(),
    };
    let (label, hash) = id.rsplit_once(':').ok_or_else(bad)?;
    if !is_valid_label(label) {
        return Err(bad());
    }
    let digest = Digest::from_hex(hash).ok_or_else(bad)?;
    Ok((label, digest))
}

/// Labels: 1 to 64 bytes of `[A-Za-z0-9._+-]`.
fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && label
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'-'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_id() {
        let p = ChaincodePackage::new("sc_1.0", b"\0asm\x01\0\0\0".to_vec()).unwrap();
        let bytes = p.to_bytes().unwrap();
        assert_eq!(ChaincodePackage::from_bytes(&bytes).unwrap(), p);
        let id = package_id("sc_1.0", &bytes);
        let (label, digest) = parse_package_id(&id).unwrap();
        assert_eq!(label, "sc_1.0");
        assert_eq!(digest, Digest::of(&bytes));
        assert!(parse_package_id("nolabel").is_err());
        assert!(parse_package_id("a b:00").is_err());
        assert!(ChaincodePackage::new("bad label", vec![]).is_err());
    }

    #[test]
    fn other_abi_is_refused() {
        let mut p = ChaincodePackage::new("x", vec![]).unwrap();
        p.metadata.abi_version = 99;
        let bytes = codec::encode(&p).unwrap();
        assert!(matches!(
            ChaincodePackage::from_bytes(&bytes),
            Err(Error::AbiVersion { found: 99, .. })
        ));
        assert!(ChaincodePackage::from_bytes(b"garbage").is_err());
    }
}
