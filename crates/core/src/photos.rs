//! Photos on their way in and out: read within limits, probe, hash, store.

use crate::{CoreError, Photodesk};
use bytes::Bytes;
use photodesk_db::NewPhoto;
use photodesk_imaging::{probe, read_metadata};
use photodesk_storage::original_key;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where a photo comes from: a file, or bytes already in memory (an upload,
/// a photo bundled in the binary).
#[derive(Debug, Clone)]
pub enum PhotoInput {
    File(PathBuf),
    Bytes { name: String, bytes: Bytes },
}

impl PhotoInput {
    /// How messages name the photo.
    pub fn name(&self) -> String {
        match self {
            PhotoInput::File(path) => path.display().to_string(),
            PhotoInput::Bytes { name, .. } => name.clone(),
        }
    }
}

/// A photo read and checked but not yet stored.
#[derive(Debug, Clone)]
pub struct PreparedPhoto {
    pub record: NewPhoto,
    pub bytes: Bytes,
}

impl Photodesk {
    pub async fn prepare_photo_input(&self, input: PhotoInput) -> Result<PreparedPhoto, CoreError> {
        match input {
            PhotoInput::File(path) => self.prepare_photo_file(&path).await,
            PhotoInput::Bytes { bytes, .. } => self.prepare_photo(bytes).await,
        }
    }

    /// Reads a photo file, refusing it before reading if it is over the size
    /// limit, then probes it on the blocking pool.
    pub async fn prepare_photo_file(&self, path: &Path) -> Result<PreparedPhoto, CoreError> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| CoreError::Invalid(format!("cannot read: {e}")))?
            .len();
        if size > self.limits.max_file_bytes {
            return Err(CoreError::TooLarge(format!(
                "file is {size} bytes; the limit is {} bytes",
                self.limits.max_file_bytes
            )));
        }
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| CoreError::Invalid(format!("cannot read: {e}")))?;
        self.prepare_photo(Bytes::from(bytes)).await
    }

    /// Probes and hashes photo bytes (decoding them fully, so corrupt files
    /// are refused here) with at most one decode per core at a time.
    pub async fn prepare_photo(&self, bytes: Bytes) -> Result<PreparedPhoto, CoreError> {
        let _slot = self
            .decode_slots
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("decoder pool closed".into()))?;
        let limits = self.limits;
        let checked = bytes.clone();
        let (probed, sha256, metadata) = tokio::task::spawn_blocking(move || {
            let probed = probe(&checked, limits)?;
            let sha256 = hex::encode(Sha256::digest(&checked));
            let metadata = read_metadata(checked);
            Ok::<_, CoreError>((probed, sha256, metadata))
        })
        .await
        .map_err(|e| CoreError::Internal(format!("photo decoder failed: {e}")))??;
        Ok(PreparedPhoto {
            record: NewPhoto {
                sha256,
                media_type: probed.media_type.to_owned(),
                width: probed.width,
                height: probed.height,
                byte_size: bytes.len() as u64,
                metadata,
            },
            bytes,
        })
    }

    /// Stores originals, returning the keys that were new, so a failure later
    /// in the same operation can take exactly those back.
    pub(crate) async fn store_originals(
        &self,
        photos: &[&PreparedPhoto],
    ) -> Result<Vec<String>, CoreError> {
        let mut created = Vec::new();
        for photo in photos {
            let key = original_key(&photo.record.sha256);
            match self.blobs.put_if_absent(&key, photo.bytes.clone()).await {
                Ok(true) => created.push(key),
                Ok(false) => {}
                Err(err) => {
                    self.remove_unreferenced(&created).await;
                    return Err(err.into());
                }
            }
        }
        Ok(created)
    }

    /// Deletes blobs written by a failed operation, unless a photo row
    /// (committed meanwhile by someone else) refers to them.
    pub(crate) async fn remove_unreferenced(&self, keys: &[String]) {
        for key in keys {
            let sha256 = key.rsplit('/').next().unwrap_or_default();
            match self.db.photo_by_sha256(sha256).await {
                Ok(None) => {
                    if let Err(err) = self.blobs.delete(key).await {
                        tracing::error!(%key, %err, "could not remove blob of failed operation");
                    }
                }
                Ok(Some(_)) => {}
                Err(err) => tracing::error!(%key, %err, "could not check blob of failed operation"),
            }
        }
    }

    /// An original's bytes and media type, by its SHA-256.
    pub async fn original(&self, sha256: &str) -> Result<(Bytes, String), CoreError> {
        let not_found = || CoreError::NotFound(format!("no photo {sha256}"));
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let photo = self
            .db
            .photo_by_sha256(sha256)
            .await?
            .ok_or_else(not_found)?;
        let bytes = self.blobs.get(&original_key(&photo.sha256)).await?;
        Ok((bytes, photo.media_type))
    }
}
