//! Blobs as files under one folder.

use crate::{validate_key, BlobStore, StorageError};
use async_trait::async_trait;
use bytes::Bytes;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Stores each blob as a file; writes go to a temp file in `.tmp/` that is
/// synced and renamed into place, so a crash never leaves a partial blob
/// under a real key.
#[derive(Debug, Clone)]
pub struct FileBlobStore {
    root: PathBuf,
}

const TEMP_DIR: &str = ".tmp";

impl FileBlobStore {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(root.join(TEMP_DIR)).map_err(|source| StorageError::Io {
            key: root.display().to_string(),
            source,
        })?;
        Ok(FileBlobStore { root })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io(key: &str) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| {
        if source.kind() == ErrorKind::NotFound {
            StorageError::NotFound(key.to_owned())
        } else {
            StorageError::Io {
                key: key.to_owned(),
                source,
            }
        }
    }
}

fn write_atomically(root: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_whole(&root.join(TEMP_DIR), path, bytes, true)?;
    Ok(true)
}

/// Writes `bytes` to `path` through a temporary file in `temp_dir` (on the
/// same file system) renamed into place, so no reader ever sees part of a
/// file, and an interrupted write leaves nothing under the real name.
/// `durable` syncs the data before the rename. The file's permissions
/// follow the umask like any new file (a temporary file would be 0600,
/// unreadable to a web server running as another user).
pub fn write_whole(
    temp_dir: &Path,
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(temp_dir)?;
    temp.write_all(bytes)?;
    if durable {
        temp.as_file().sync_all()?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[async_trait]
impl BlobStore for FileBlobStore {
    async fn put_if_absent(&self, key: &str, bytes: Bytes) -> Result<bool, StorageError> {
        let path = self.path(key)?;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || write_atomically(&root, &path, &bytes))
            .await
            .expect("blob write task panicked")
            .map_err(io(key))
    }

    async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = self.path(key)?;
        tokio::fs::read(path)
            .await
            .map(Bytes::from)
            .map_err(io(key))
    }

    async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        let path = self.path(key)?;
        tokio::fs::try_exists(path).await.map_err(io(key))
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(path).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io(key)(e)),
            _ => Ok(()),
        }
    }

    async fn list(&self) -> Result<Vec<String>, StorageError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let entry = entry?;
                    let path = entry.path();
                    if entry.file_type()?.is_dir() {
                        if path != root.join(TEMP_DIR) {
                            stack.push(path);
                        }
                    } else if let Ok(rel) = path.strip_prefix(&root) {
                        keys.push(rel.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
            keys.sort();
            Ok(keys)
        })
        .await
        .expect("blob list task panicked")
        .map_err(io("(list)"))
    }
}
