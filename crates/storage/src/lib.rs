//! Where bytes live. The [`BlobStore`] trait hides the backend (a folder of
//! files now, an S3-compatible store later) from everything above.
//!
//! Keys are relative, `/`-separated paths made by Photodesk itself (for
//! example `originals/ab/ab12…`); [`validate_key`] refuses anything that
//! could escape the store.

mod file;
mod object;
mod staged;

pub use file::{write_whole, FileBlobStore};
pub use object::ObjectBlobStore;
pub use staged::StagedFolder;

use async_trait::async_trait;
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("invalid blob key {0:?}")]
    InvalidKey(String),
    #[error("blob store I/O on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("object store, {key}: {message}")]
    Remote { key: String, message: String },
    #[error("blob store setting: {0}")]
    Config(String),
}

impl StorageError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound(_))
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` atomically: readers see the whole blob or
    /// none. Returns `true` if the key was new, `false` if it already existed
    /// (content-addressed keys never need rewriting).
    async fn put_if_absent(&self, key: &str, bytes: Bytes) -> Result<bool, StorageError>;
    async fn get(&self, key: &str) -> Result<Bytes, StorageError>;
    async fn exists(&self, key: &str) -> Result<bool, StorageError>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    /// Every key in the store, sorted.
    async fn list(&self) -> Result<Vec<String>, StorageError>;
}

/// The blob store a URL names: `file://DIR`, or `s3://BUCKET/PREFIX`
/// (see [`ObjectBlobStore::from_url`]).
pub fn open_blob_store(url: &str) -> Result<std::sync::Arc<dyn BlobStore>, StorageError> {
    if let Some(dir) = url.strip_prefix("file://") {
        Ok(std::sync::Arc::new(FileBlobStore::open(dir)?))
    } else if url.starts_with("s3://") {
        Ok(std::sync::Arc::new(ObjectBlobStore::from_url(url)?))
    } else {
        Err(StorageError::Config(format!(
            "{url:?}: the blob URL must start with file:// or s3://"
        )))
    }
}

/// The key of an original photo: `originals/<first two hex>/<sha256 hex>`.
pub fn original_key(sha256_hex: &str) -> String {
    format!("originals/{}/{}", &sha256_hex[..2], sha256_hex)
}

/// The key of a rendition: `renditions/<first two hex>/<sha256 hex>/<file>`,
/// where `file` names the spec, so a new spec never overwrites an old one.
pub fn rendition_key(sha256_hex: &str, file_name: &str) -> String {
    format!(
        "renditions/{}/{}/{}",
        &sha256_hex[..2],
        sha256_hex,
        file_name
    )
}

/// The SHA-256 of the original a key belongs to (original or rendition).
pub fn key_sha256(key: &str) -> Option<&str> {
    let mut segments = key.split('/');
    match segments.next()? {
        "originals" | "renditions" => segments.nth(1),
        _ => None,
    }
}

/// Accepts only keys made of `[a-z0-9._-]` segments joined by `/`, with no
/// empty, `.` or `..` segment.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_store() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/./b",
            "A/b",
            "a\\b",
            "a/b\0",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?} accepted");
        }
        validate_key("originals/ab/ab12.jpg").unwrap();
    }
}
