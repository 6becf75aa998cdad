//! Blobs in an S3-compatible object store (object_store): for several
//! instances sharing one store. Keys are the same as in the file store,
//! under an optional prefix.

use crate::{validate_key, BlobStore, StorageError};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    /// Where Photodesk's keys start inside the bucket ("" for the root).
    prefix: String,
}

fn remote(key: &str, err: object_store::Error) -> StorageError {
    match err {
        object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_owned()),
        other => StorageError::Remote {
            key: key.to_owned(),
            message: other.to_string(),
        },
    }
}

impl ObjectBlobStore {
    /// `s3://BUCKET/PREFIX`, with endpoint, region and credentials from the
    /// standard `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP=true` for plain
    /// HTTP on loopback).
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            StorageError::Config(format!("{url:?} is not an s3://BUCKET/PREFIX URL"))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StorageError::Config(format!("{url:?} names no bucket")));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder.with_endpoint(endpoint);
        }
        if std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
            builder = builder.with_allow_http(true);
        }
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            builder = builder.with_region("us-east-1");
        }
        let store = builder
            .build()
            .map_err(|e| StorageError::Config(format!("{url}: {e}")))?;
        Ok(ObjectBlobStore {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    fn path(&self, key: &str) -> Result<Path, StorageError> {
        validate_key(key)?;
        Ok(if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        })
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    /// A PUT is atomic for readers; two instances storing the same
    /// content-addressed key at once write the same bytes, harmlessly.
    async fn put_if_absent(&self, key: &str, bytes: Bytes) -> Result<bool, StorageError> {
        if self.exists(key).await? {
            return Ok(false);
        }
        self.store
            .put(&self.path(key)?, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| remote(key, e))?;
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&self.path(key)?)
            .await
            .map_err(|e| remote(key, e))?;
        result.bytes().await.map_err(|e| remote(key, e))
    }

    async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.store.head(&self.path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(remote(key, err)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(remote(key, err)),
        }
    }

    async fn list(&self) -> Result<Vec<String>, StorageError> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| remote(&self.prefix, e))?;
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|meta| meta.location.as_ref()[strip..].to_owned())
            .collect();
        keys.sort();
        Ok(keys)
    }
}
