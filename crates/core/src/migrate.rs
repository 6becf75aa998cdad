//! `migrate-store`: copies a whole site (database rows and blobs) to other
//! backends, e.g. SQLite + files to PostgreSQL + S3 when a newsroom outgrows
//! one machine, and back. Blobs go first, so the copy's rows never point at
//! a blob it lacks; both steps skip what is already there, so a run that was
//! interrupted resumes. The copy is then verified: equal row counts and
//! table hashes, and every referenced blob read back and hashed.

use crate::check::{damage, reference_key};
use crate::CoreError;
use photodesk_db::{BlobReference, Database, SqlDatabase, TableCopy};
use photodesk_storage::{open_blob_store, BlobStore};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::task::JoinSet;

/// A site's two halves.
#[derive(Clone)]
pub struct Site {
    pub database: SqlDatabase,
    pub blobs: Arc<dyn BlobStore>,
}

impl Site {
    /// Opens the database and blob store two URLs name (see `Config`),
    /// creating them if new; a bad blob URL fails before a database is made.
    pub async fn open(database_url: &str, blob_url: &str) -> Result<Site, CoreError> {
        let blobs = open_blob_store(blob_url)?;
        Ok(Site {
            database: SqlDatabase::connect(database_url).await?,
            blobs,
        })
    }

    /// Opens a site that must exist: a SQLite file or blob folder that is
    /// not there is an error, not a new, empty site to copy.
    pub async fn open_existing(database_url: &str, blob_url: &str) -> Result<Site, CoreError> {
        for (url, prefix) in [(database_url, "sqlite://"), (blob_url, "file://")] {
            if let Some(path) = url.strip_prefix(prefix) {
                if !std::path::Path::new(path).exists() {
                    return Err(CoreError::NotFound(format!(
                        "there is no site at {url}: {path} does not exist"
                    )));
                }
            }
        }
        Site::open(database_url, blob_url).await
    }
}

/// What the migration is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationStep {
    Blobs,
    Rows(&'static str),
    Verify,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Blobs the site references.
    pub blobs: usize,
    /// Of those, copied by this run (the rest were there already).
    pub blobs_copied: usize,
    pub tables: Vec<TableCopy>,
    /// Blobs read back from the destination and found equal.
    pub blobs_verified: usize,
}

/// Blobs copied or verified at once: enough to hide an object store's
/// latency, few enough to bound memory (each holds one blob).
const IN_FLIGHT: usize = 8;

/// Runs `work` on every reference with at most [`IN_FLIGHT`] at once;
/// `progress(done, total)` after each. Stops at the first error.
async fn for_each_blob<T, F, Fut>(
    references: &[BlobReference],
    work: F,
    progress: impl Fn(u64, u64),
) -> Result<Vec<T>, CoreError>
where
    T: Send + 'static,
    F: Fn(BlobReference) -> Fut,
    Fut: std::future::Future<Output = Result<T, CoreError>> + Send + 'static,
{
    let total = references.len() as u64;
    let mut tasks = JoinSet::new();
    let mut results = Vec::with_capacity(references.len());
    let mut pending = references.iter().cloned();
    progress(0, total);
    loop {
        while tasks.len() < IN_FLIGHT {
            match pending.next() {
                Some(reference) => {
                    tasks.spawn(work(reference));
                }
                None => break,
            }
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        results.push(joined.map_err(|e| CoreError::Internal(format!("blob task: {e}")))??);
        progress(results.len() as u64, total);
    }
    Ok(results)
}

/// Copies one blob unless the destination has it; true if it copied.
async fn copy_blob(
    reference: BlobReference,
    from: Arc<dyn BlobStore>,
    to: Arc<dyn BlobStore>,
) -> Result<bool, CoreError> {
    let key = reference_key(&reference);
    if to.exists(&key).await? {
        return Ok(false);
    }
    let bytes = from.get(&key).await.map_err(|e| {
        CoreError::Invalid(format!(
            "the source lacks {key} ({e}); run `photodesk check` on it"
        ))
    })?;
    if let Some(why) = damage(&reference, &bytes) {
        return Err(CoreError::Invalid(format!(
            "the source's {key} is damaged: {why}; run `photodesk check` on it"
        )));
    }
    to.put_if_absent(&key, bytes).await?;
    Ok(true)
}

/// Reads a blob back from the destination: it must be sound and, byte for
/// byte (by SHA-256), the source's.
async fn verify_blob(
    reference: BlobReference,
    from: Arc<dyn BlobStore>,
    to: Arc<dyn BlobStore>,
) -> Result<(), CoreError> {
    let key = reference_key(&reference);
    let copied = to.get(&key).await?;
    if let Some(why) = damage(&reference, &copied) {
        return Err(CoreError::Internal(format!(
            "the copy of {key} is damaged: {why}"
        )));
    }
    if let BlobReference::Rendition { .. } = reference {
        let original = from.get(&key).await?;
        if Sha256::digest(&original) != Sha256::digest(&copied) {
            return Err(CoreError::Internal(format!(
                "the copy of {key} differs from the source"
            )));
        }
    }
    Ok(())
}

/// Copies `from` into `to` and verifies the copy; refuses, before writing
/// anything, a destination holding rows of another site. Nothing may write to
/// either site meanwhile (stop the instances, or keep them read-only).
pub async fn migrate_store(
    from: &Site,
    to: &Site,
    progress: impl Fn(MigrationStep, u64, u64),
) -> Result<MigrationReport, CoreError> {
    let foreign = to.database.rows_foreign_to(&from.database, 5).await?;
    if !foreign.is_empty() {
        return Err(CoreError::Conflict(format!(
            "the destination database holds rows the source does not: {}; copy into a new, \
             empty database (or one an interrupted copy of this source left)",
            foreign.join("; ")
        )));
    }
    let references = from.database.referenced_blobs().await?;
    let copied = for_each_blob(
        &references,
        |reference| copy_blob(reference, from.blobs.clone(), to.blobs.clone()),
        |done, total| progress(MigrationStep::Blobs, done, total),
    )
    .await?;
    let tables = from
        .database
        .copy_rows_to(&to.database, |table, done, total| {
            progress(MigrationStep::Rows(table), done, total)
        })
        .await?;

    let (source, copy) = (
        from.database.table_digests().await?,
        to.database.table_digests().await?,
    );
    let differing: Vec<String> = source
        .iter()
        .zip(&copy)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{} ({} rows here, {} there)", a.table, a.rows, b.rows))
        .collect();
    if !differing.is_empty() {
        return Err(CoreError::Conflict(format!(
            "the destination database differs from the source in {}: was it empty?",
            differing.join(", ")
        )));
    }
    let verified = for_each_blob(
        &references,
        |reference| verify_blob(reference, from.blobs.clone(), to.blobs.clone()),
        |done, total| progress(MigrationStep::Verify, done, total),
    )
    .await?;
    Ok(MigrationReport {
        blobs: references.len(),
        blobs_copied: copied.into_iter().filter(|&c| c).count(),
        tables,
        blobs_verified: verified.len(),
    })
}
