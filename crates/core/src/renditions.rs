//! Renditions made after ingest: AVIF takes about a second per photo, so it
//! is encoded in the background and each photo's AVIF sources appear in
//! pages and the API once they are stored. The same worker then re-makes
//! renditions of an earlier pipeline version (see `PIPELINE_VERSION`).

use crate::{CoreError, Photodesk};
use photodesk_imaging::render::RenditionSpec;
use photodesk_storage::original_key;
use photodesk_types::{Photo, RenditionFormat};
use std::time::Duration;

/// Formats [`Photodesk::complete_renditions`] makes for photos lacking them:
/// AVIF, which ingest leaves for later, and JPEG and WebP too, for photos
/// stored before renditions existed (a data dir from an older version).
pub const LATER_FORMATS: &[RenditionFormat] = &[
    RenditionFormat::Jpeg,
    RenditionFormat::Webp,
    RenditionFormat::Avif,
];

/// How often the background worker looks for photos lacking renditions
/// (added by this server, another process or another instance).
const WORKER_POLL: Duration = Duration::from_secs(15);

/// The photos one pass of the worker goes through, a photo at a time.
enum Pass {
    /// Photos lacking these formats (one: each has its own query).
    Lacking(&'static [RenditionFormat]),
    /// Photos with renditions whose keys lack this pipeline-version marker.
    Stale(String),
}

/// What a pass over the library did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    /// Photos whose renditions were made.
    pub done: usize,
    /// Photos that failed (logged) and were skipped.
    pub failed: usize,
}

impl Photodesk {
    /// Makes the later formats for every photo lacking them, one photo at a
    /// time (bounded memory; readers keep the other core). Calls `progress`
    /// with (done, remaining) after each photo; returns how many were done.
    /// A photo that fails is logged and skipped, never retried in a loop.
    pub async fn complete_renditions(
        &self,
        progress: impl Fn(usize, usize),
    ) -> Result<usize, CoreError> {
        let mut done = 0;
        for formats in LATER_FORMATS.chunks(1) {
            done += self.run_pass(Pass::Lacking(formats), &progress).await?.done;
        }
        Ok(done)
    }

    /// Re-makes every rendition of photos that have one from an earlier
    /// pipeline version and records the new set in place of the old, like
    /// [`Photodesk::complete_renditions`]. The old files stay in the store,
    /// so pages and feeds already out keep working until
    /// `photodesk check --remove-orphans` reclaims them.
    pub async fn refresh_stale_renditions(
        &self,
        progress: impl Fn(usize, usize),
    ) -> Result<PassReport, CoreError> {
        let marker = RenditionSpec::current_version_marker();
        self.run_pass(Pass::Stale(marker), &progress).await
    }

    async fn run_pass(
        &self,
        pass: Pass,
        progress: &impl Fn(usize, usize),
    ) -> Result<PassReport, CoreError> {
        let mut done = 0;
        let mut skipped = std::collections::HashSet::new();
        loop {
            let batch = match &pass {
                Pass::Lacking(formats) => self.db.photos_lacking(formats[0], 64).await?,
                Pass::Stale(marker) => self.db.photos_with_stale_renditions(marker, 64).await?,
            };
            let pending: Vec<Photo> = batch
                .into_iter()
                .filter(|p| !skipped.contains(&p.sha256))
                .collect();
            let Some(photo) = pending.first() else {
                break;
            };
            let made = match &pass {
                Pass::Lacking(formats) => self.make_renditions(photo, formats, false).await,
                Pass::Stale(_) => self.make_renditions(photo, LATER_FORMATS, true).await,
            };
            match made {
                Ok(()) => done += 1,
                Err(err) => {
                    tracing::error!(sha256 = %photo.sha256, %err, "could not make renditions");
                    skipped.insert(photo.sha256.clone());
                }
            }
            progress(done, pending.len() - 1);
        }
        Ok(PassReport {
            done,
            failed: skipped.len(),
        })
    }

    /// Makes the photo's renditions in `formats` from its original and
    /// records them, beside the others or (`replace_all`) instead of them.
    async fn make_renditions(
        &self,
        photo: &Photo,
        formats: &'static [RenditionFormat],
        replace_all: bool,
    ) -> Result<(), CoreError> {
        let original = self.blobs.get(&original_key(&photo.sha256)).await?;
        let processed = self.process_photo(original, formats, false).await?;
        // Blobs stored before a failure below are harmless: the next attempt
        // writes the same keys.
        let mut created = Vec::new();
        let renditions = self
            .store_rendition_blobs(&photo.sha256, processed.renditions, &mut created)
            .await?;
        if replace_all {
            self.db
                .replace_renditions(&photo.sha256, renditions)
                .await?;
        } else {
            self.db.add_renditions(&photo.sha256, renditions).await?;
        }
        Ok(())
    }

    /// Starts the background worker: it completes renditions, then
    /// refreshes stale ones, now and then every few seconds, until the
    /// runtime stops.
    pub fn spawn_rendition_worker(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                match app.complete_renditions(|_, _| {}).await {
                    Ok(0) => {}
                    Ok(done) => tracing::info!(done, "background renditions made"),
                    Err(err) => tracing::error!(%err, "background renditions failed"),
                }
                match app.refresh_stale_renditions(|_, _| {}).await {
                    Ok(PassReport { done: 0, .. }) => {}
                    Ok(PassReport { done, .. }) => tracing::info!(done, "stale renditions re-made"),
                    Err(err) => tracing::error!(%err, "re-making stale renditions failed"),
                }
                tokio::time::sleep(WORKER_POLL).await;
            }
        });
    }
}
