//! Where generated material lives on disk, and loaders for it.
//!
//! Layout of `--out DIR` (private; `DIR/.gitignore` ignores all of it):
//!
//! ```text
//! DIR/<MspId>/ca/{cert.pem, private.key}
//! DIR/<MspId>/peer0/{cert.pem, private.key}     (peer1, ... with --peers-per-org)
//! DIR/<MspId>/admin/{cert.pem, private.key}
//! DIR/<MspId>/client/{cert.pem, private.key}
//! ```
//!
//! Layout of `--orgs-dir` (public, committed if the operator wishes):
//! `ORGS/<MspId>/org.toml`, an [`OrgDefinition`].
//!
//! Private keys are PKCS#8 PEM (`PRIVATE KEY`), certificates PEM.

use crate::error::{Error, Result};
use cryptanet_types::identity::{LocalIdentity, OrgDefinition};
use std::path::{Path, PathBuf};

/// File name of a certificate inside an identity directory.
pub const CERT_FILE: &str = "cert.pem";
/// File name of a private key inside an identity directory. The `.key`
/// extension is also ignored by the repository's `.gitignore`.
pub const KEY_FILE: &str = "private.key";
/// File name of an org definition inside `ORGS/<MspId>/`.
pub const ORG_FILE: &str = "org.toml";

/// Reads a file to a string.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        op: "read",
        path: path.to_owned(),
        source,
    })
}

/// Loads the identity in `dir` (`cert.pem` and `private.key`), checking that
/// the key is the certificate's. This is how a peer or client loads what
/// `cryptanet orgs generate` wrote.
pub fn load_identity(dir: &Path) -> Result<LocalIdentity> {
    let cert = read_text(&dir.join(CERT_FILE))?;
    let key = read_text(&dir.join(KEY_FILE))?;
    LocalIdentity::from_pem(&cert, &key).map_err(|source| Error::Identity {
        path: dir.to_owned(),
        source,
    })
}

/// Loads every `ORGS/*/org.toml`, in directory-name order.
pub fn load_org_definitions(orgs_dir: &Path) -> Result<Vec<OrgDefinition>> {
    let entries = std::fs::read_dir(orgs_dir).map_err(|source| Error::Io {
        op: "list",
        path: orgs_dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            op: "list",
            path: orgs_dir.to_owned(),
            source,
        })?;
        let file = entry.path().join(ORG_FILE);
        if file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    files
        .iter()
        .map(|file| {
            OrgDefinition::from_toml(&read_text(file)?).map_err(|source| Error::Identity {
                path: file.clone(),
                source,
            })
        })
        .collect()
}
