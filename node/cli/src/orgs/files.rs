//! Writing generated material with the right permissions.
//!
//! Private files are created 0600 (and their directories 0700) from the
//! start, never widened afterwards; every file is written to a temporary
//! name and renamed, so an interrupted run leaves no half-written key.

use crate::error::{Error, Result};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

/// Mode of private key files.
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of directories holding private keys.
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` (and parents) and restricts it to its owner.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
    set_mode(dir, PRIVATE_DIR_MODE)
}

/// Creates `dir` (and parents) with default permissions.
pub(crate) fn public_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io("create directory", dir))
}

/// Writes a private file, readable by its owner only.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic(path, contents, Some(PRIVATE_FILE_MODE))
}

/// Writes a public file with default permissions.
pub(crate) fn write_public(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic(path, contents, None)
}

/// Restricts an existing private file to its owner (for material kept from
/// an earlier run).
pub(crate) fn restrict(path: &Path) -> Result<()> {
    set_mode(path, PRIVATE_FILE_MODE)
}

fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    // A stale temporary file from an interrupted run may have any mode.
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove", tmp)(e)),
        _ => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if let Some(mode) = mode {
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(tmp).map_err(io("create", tmp))?;
    file.write_all(contents).map_err(io("write", tmp))?;
    file.sync_all().map_err(io("sync", tmp))?;
    std::fs::rename(tmp, path).map_err(io("rename", path))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io("set permissions of", path))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_owner_only_and_replace_atomically() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let key = dir.join("private.key");
        write_private(&key, b"one").unwrap();
        assert_eq!(mode(&key), 0o600);
        // A leftover temporary file with a wide mode does not leak into the key.
        let stale = dir.join("private.key.tmp");
        std::fs::write(&stale, b"stale").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&key, b"two").unwrap();
        assert_eq!(std::fs::read(&key).unwrap(), b"two");
        assert_eq!(mode(&key), 0o600);
        assert!(!stale.exists());

        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict(&key).unwrap();
        assert_eq!(mode(&key), 0o600);
    }
}
