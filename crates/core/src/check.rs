//! `photodesk check`: does the store hold what the database says? Every
//! referenced blob must exist, originals must hash to their name,
//! renditions must have their recorded size and format; blobs nothing
//! refers to are orphans (reported, removed on request); and the database
//! runs its own consistency check.

use crate::{CoreError, Photodesk};
use photodesk_db::BlobReference;
use photodesk_storage::original_key;
use photodesk_types::RenditionFormat;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Referenced blobs read and verified.
    pub checked: usize,
    /// Referenced but absent.
    pub missing: Vec<String>,
    /// Present but wrong: `key: why`.
    pub damaged: Vec<String>,
    /// Present but referenced by nothing.
    pub orphans: Vec<String>,
    /// Orphans removed (with `remove_orphans`).
    pub removed: usize,
    /// The database's own findings.
    pub database: Vec<String>,
}

impl CheckReport {
    /// Nothing lost or damaged. Orphans do not count: an upload or import
    /// interrupted between storing its blobs and its rows leaves some, and
    /// they only waste space.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.damaged.is_empty() && self.database.is_empty()
    }
}

fn has_signature(bytes: &[u8], format: RenditionFormat) -> bool {
    match format {
        RenditionFormat::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        RenditionFormat::Webp => {
            bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP"
        }
        RenditionFormat::Avif => {
            bytes.len() > 12 && &bytes[4..8] == b"ftyp" && &bytes[8..12] == b"avif"
        }
    }
}

/// Where the blob a reference names is stored.
pub(crate) fn reference_key(reference: &BlobReference) -> String {
    match reference {
        BlobReference::Original { sha256 } => original_key(sha256),
        BlobReference::Rendition { key, .. } => key.clone(),
    }
}

/// What is wrong with a referenced blob's bytes, if anything: an original
/// must hash to its name, a rendition must have its recorded size and format.
pub(crate) fn damage(reference: &BlobReference, bytes: &[u8]) -> Option<String> {
    match reference {
        BlobReference::Original { sha256 } => {
            let actual = hex::encode(Sha256::digest(bytes));
            (&actual != sha256).then(|| format!("its content hashes to {actual}"))
        }
        BlobReference::Rendition {
            byte_size, format, ..
        } => {
            if bytes.len() as u64 != *byte_size {
                Some(format!("{} bytes, {byte_size} recorded", bytes.len()))
            } else if !has_signature(bytes, *format) {
                Some(format!("not a {format} file"))
            } else {
                None
            }
        }
    }
}

impl Photodesk {
    /// Checks the whole store; `progress(done, total)` follows the blobs
    /// read. Orphans are removed only when asked: run it while no import is
    /// under way, as an import stores its blobs before its rows.
    pub async fn check_store(
        &self,
        remove_orphans: bool,
        progress: impl Fn(usize, usize),
    ) -> Result<CheckReport, CoreError> {
        let mut report = CheckReport {
            database: self.db.integrity_problems().await?,
            ..CheckReport::default()
        };
        let references = self.db.referenced_blobs().await?;
        let mut referenced = HashSet::new();
        for (done, reference) in references.iter().enumerate() {
            progress(done, references.len());
            let key = reference_key(reference);
            referenced.insert(key.clone());
            let bytes = match self.blobs.get(&key).await {
                Ok(bytes) => bytes,
                Err(err) if err.is_not_found() => {
                    report.missing.push(key);
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            report.checked += 1;
            if let Some(why) = damage(reference, &bytes) {
                report.damaged.push(format!("{key}: {why}"));
            }
        }
        progress(references.len(), references.len());
        report.orphans = self
            .blobs
            .list()
            .await?
            .into_iter()
            .filter(|key| !referenced.contains(key))
            .collect();
        if remove_orphans {
            for key in &report.orphans {
                self.blobs.delete(key).await?;
                report.removed += 1;
            }
        }
        Ok(report)
    }
}
