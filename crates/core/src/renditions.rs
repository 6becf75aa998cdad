//! Renditions made after ingest: AVIF takes about a second per photo, so it
//! is encoded in the background and each photo's AVIF sources appear in
//! pages and the API once they are stored.

use crate::{CoreError, Photodesk};
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
        // One format at a time: each has its own "lacking" query.
        for formats in LATER_FORMATS.chunks(1) {
            let format = formats[0];
            let mut skipped = std::collections::HashSet::new();
            loop {
                let lacking: Vec<Photo> = self
                    .db
                    .photos_lacking(format, 64)
                    .await?
                    .into_iter()
                    .filter(|p| !skipped.contains(&p.sha256))
                    .collect();
                let Some(photo) = lacking.first() else {
                    break;
                };
                match self.add_later_renditions(photo, formats).await {
                    Ok(()) => done += 1,
                    Err(err) => {
                        tracing::error!(sha256 = %photo.sha256, %err, "could not make {format} renditions");
                        skipped.insert(photo.sha256.clone());
                    }
                }
                progress(done, lacking.len() - 1);
            }
        }
        Ok(done)
    }

    async fn add_later_renditions(
        &self,
        photo: &Photo,
        formats: &'static [RenditionFormat],
    ) -> Result<(), CoreError> {
        let original = self.blobs.get(&original_key(&photo.sha256)).await?;
        let processed = self.process_photo(original, formats, false).await?;
        // Blobs stored before a failure below are harmless: the next attempt
        // writes the same keys.
        let mut created = Vec::new();
        let renditions = self
            .store_rendition_blobs(&photo.sha256, processed.renditions, &mut created)
            .await?;
        self.db.add_renditions(&photo.sha256, renditions).await?;
        Ok(())
    }

    /// Starts the background worker: it completes renditions now and then
    /// every few seconds, until the runtime stops.
    pub fn spawn_rendition_worker(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                match app.complete_renditions(|_, _| {}).await {
                    Ok(0) => {}
                    Ok(done) => tracing::info!(done, "background renditions made"),
                    Err(err) => tracing::error!(%err, "background renditions failed"),
                }
                tokio::time::sleep(WORKER_POLL).await;
            }
        });
    }
}
