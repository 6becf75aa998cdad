//! Renditions made after ingest: AVIF takes about a second per photo, so it
//! is encoded in the background and each photo's AVIF sources appear in
//! pages and the API once they are stored. The same worker then re-makes
//! renditions of an earlier pipeline version (see `PIPELINE_VERSION`), in
//! the formats whose files that version changed.

use crate::{CoreError, Photodesk};
use photodesk_db::PhotoLease;
use photodesk_imaging::render::{RenditionSpec, PIPELINE_VERSION};
use photodesk_storage::original_key;
use photodesk_types::{Photo, PhotoId, Rendition, RenditionFailure, RenditionFormat};
use std::ops::AddAssign;
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

/// The longest a photo that failed waits before the worker tries again.
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Photos read per query of a pass.
const BATCH: u32 = 64;

/// How long a photo stays leased to the process making its renditions:
/// far longer than any photo takes, and how long the other instances wait
/// before taking over from a process that died holding it.
const LEASE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// A name for this process in photo leases: unique, and telling which
/// process it is in the database (its id, then random characters).
pub(crate) fn lease_holder() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        &crate::accounts::random_secret()[..12]
    )
}

/// How long a photo waits after its `failures`-th failed try: from two
/// poll periods, doubling up to a day, so a broken original is neither
/// retried (and logged) at every poll nor given up for good. The wait is
/// kept in the database, so instances sharing it wait the same, and a
/// restart does not start it over.
fn retry_wait(failures: u32) -> Duration {
    WORKER_POLL
        .saturating_mul(1 << failures.min(16))
        .min(LONGEST_RETRY_WAIT)
}

/// The most of an error kept for editors, in characters: more than any of
/// Photodesk's own, while an error page a store sent back, quoted whole,
/// would swamp the list.
const KEPT_ERROR_CHARS: usize = 500;

fn kept_error(err: &CoreError) -> String {
    let text = err.to_string();
    match text.char_indices().nth(KEPT_ERROR_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The photos one pass of the worker goes through, a photo at a time.
#[derive(Clone, Copy)]
enum Pass {
    /// Photos whose renditions are not yet a whole set: each gets the
    /// formats it lacks.
    Lacking,
    /// Photos whose renditions are of an earlier pipeline version: each
    /// gets new files in the formats whose files changed since.
    Stale,
}

impl Pass {
    /// Up to `limit` photos in need, with ids above `after`, oldest first;
    /// those waiting after a failure are left out.
    async fn photos(
        self,
        app: &Photodesk,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, CoreError> {
        let now = chrono::Utc::now();
        Ok(match self {
            Pass::Lacking => app.db.photos_lacking_renditions(now, after, limit).await?,
            Pass::Stale => {
                app.db
                    .photos_with_renditions_before(PIPELINE_VERSION, now, after, limit)
                    .await?
            }
        })
    }
}

/// The pipeline version of a set of renditions: the oldest any of them is
/// as good as, once every one of [`LATER_FORMATS`] is there (`None` before).
fn set_version(renditions: &[Rendition]) -> Option<u32> {
    let whole = LATER_FORMATS
        .iter()
        .all(|&format| renditions.iter().any(|r| r.format == format));
    let versions = renditions
        .iter()
        .map(|r| RenditionSpec::pipeline_version_of(&r.key));
    // A key no version can be read from counts as the oldest.
    whole.then(|| versions.map(|v| v.unwrap_or(0)).min().unwrap_or(0))
}

/// What leasing a photo came to.
enum Lease {
    /// This process has it, as the database has it now, after as many
    /// failed tries.
    Taken(Box<Photo>, u32),
    /// Another process is making its renditions.
    HeldElsewhere,
    /// Another process made them since the photo was read, or failed to
    /// and made it wait.
    NoLongerNeeded,
}

/// What a pass over the library did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Photos whose renditions were made.
    pub done: usize,
    /// Photos that failed (each logged), to be tried again later.
    pub failed: usize,
    /// Photos left to another process that was making their renditions
    /// (another instance, or a command beside the server).
    pub elsewhere: usize,
}

impl AddAssign for PassReport {
    fn add_assign(&mut self, other: PassReport) {
        self.done += other.done;
        self.failed += other.failed;
        self.elsewhere += other.elsewhere;
    }
}

impl Photodesk {
    /// Makes the later formats for every photo lacking them, one photo at a
    /// time (bounded memory; readers keep the other core). Calls `progress`
    /// with (done, remaining in the batch) after each photo; returns how
    /// many were done and failed. A photo that fails is logged and tried
    /// again only after a wait that doubles each time, up to a day
    /// ([`Photodesk::rendition_failures`] tells editors why).
    pub async fn complete_renditions(
        &self,
        progress: impl Fn(usize, usize),
    ) -> Result<PassReport, CoreError> {
        self.run_pass(Pass::Lacking, &progress).await
    }

    /// Re-makes the renditions of photos whose set is of an earlier
    /// pipeline version, in each format whose files changed since (the
    /// others keep theirs), and records the new set in place of the old, like
    /// [`Photodesk::complete_renditions`]. The old files stay in the store,
    /// so pages and feeds already out keep working until
    /// `photodesk check --remove-orphans` reclaims them.
    pub async fn refresh_stale_renditions(
        &self,
        progress: impl Fn(usize, usize),
    ) -> Result<PassReport, CoreError> {
        self.run_pass(Pass::Stale, &progress).await
    }

    /// Ends the wait of every photo whose renditions failed, so the next
    /// pass tries them all again (`photodesk rerender`, after whatever
    /// broke them was fixed). Returns how many were waiting.
    pub async fn retry_failed_renditions_now(&self) -> Result<u64, CoreError> {
        Ok(self.db.end_failure_waits(chrono::Utc::now()).await?)
    }

    /// Photos whose renditions could not be made, with the last error and
    /// the next try, the furthest first: those among `photos` if given,
    /// else up to `limit`.
    pub async fn rendition_failures(
        &self,
        photos: Option<&[PhotoId]>,
        limit: u32,
    ) -> Result<Vec<RenditionFailure>, CoreError> {
        Ok(self.db.rendition_failures(photos, limit).await?)
    }

    /// Goes through the photos `pass` names once, oldest first, by id (a
    /// photo that fails does not hold up those after it). Each photo is
    /// leased first, so processes sharing the database make it once.
    async fn run_pass(
        &self,
        pass: Pass,
        progress: &impl Fn(usize, usize),
    ) -> Result<PassReport, CoreError> {
        let mut report = PassReport::default();
        let mut after = 0;
        loop {
            let batch = pass.photos(self, after, BATCH).await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.id;
            for (at, photo) in batch.iter().enumerate() {
                match self.lease(pass, photo).await? {
                    Lease::HeldElsewhere => report.elsewhere += 1,
                    Lease::NoLongerNeeded => {}
                    Lease::Taken(photo, failures) => {
                        match self.make_renditions(&photo, pass).await {
                            Ok(()) => {
                                report.done += 1;
                                self.db
                                    .end_photo_lease(photo.id, &self.lease_holder)
                                    .await?;
                            }
                            Err(err) => {
                                tracing::error!(sha256 = %photo.sha256, %err, "could not make renditions");
                                report.failed += 1;
                                let retry_at = chrono::Utc::now()
                                    + chrono::TimeDelta::from_std(retry_wait(failures + 1))
                                        .unwrap_or(chrono::TimeDelta::MAX);
                                self.db
                                    .fail_photo_lease(
                                        photo.id,
                                        &self.lease_holder,
                                        &kept_error(&err),
                                        retry_at,
                                    )
                                    .await?;
                            }
                        }
                    }
                }
                progress(report.done, batch.len() - at - 1);
            }
        }
        Ok(report)
    }

    /// Leases `photo` to this process and reads it again, since another
    /// process may have made its renditions after the batch was read.
    async fn lease(&self, pass: Pass, photo: &Photo) -> Result<Lease, CoreError> {
        let now = chrono::Utc::now();
        let until = now + LEASE;
        let failures = match self
            .db
            .lease_photo(photo.id, &self.lease_holder, now, until)
            .await?
        {
            PhotoLease::Taken { failures } => failures,
            PhotoLease::Held => return Ok(Lease::HeldElsewhere),
            PhotoLease::Waiting => return Ok(Lease::NoLongerNeeded),
        };
        let fresh = pass.photos(self, photo.id - 1, 1).await;
        match fresh {
            Ok(mut fresh) if fresh.first().is_some_and(|p| p.id == photo.id) => {
                Ok(Lease::Taken(Box::new(fresh.remove(0)), failures))
            }
            fresh => {
                self.db
                    .end_photo_lease(photo.id, &self.lease_holder)
                    .await?;
                fresh.map(|_| Lease::NoLongerNeeded)
            }
        }
    }

    /// Makes the photo's renditions that `pass` calls for from its original
    /// and records them with the version of the set they complete: the
    /// formats it lacks beside the others, or the formats not current in
    /// place of their old files.
    async fn make_renditions(&self, photo: &Photo, pass: Pass) -> Result<(), CoreError> {
        let lacking = |format| photo.renditions.iter().all(|r| r.format != format);
        let stale = |format| {
            lacking(format)
                || photo
                    .renditions
                    .iter()
                    .any(|r| r.format == format && !RenditionSpec::is_current(&r.key))
        };
        let formats: Vec<RenditionFormat> = LATER_FORMATS
            .iter()
            .copied()
            .filter(|&format| match pass {
                Pass::Lacking => lacking(format),
                Pass::Stale => stale(format),
            })
            .collect();
        let renditions = if formats.is_empty() {
            Vec::new()
        } else {
            let original = self.blobs.get(&original_key(&photo.sha256)).await?;
            let processed = self.process_photo(original, formats.clone(), false).await?;
            // Blobs stored before a failure below are harmless: the next
            // attempt writes the same keys.
            let mut created = Vec::new();
            self.store_rendition_blobs(&photo.sha256, processed.renditions, &mut created)
                .await?
        };
        match pass {
            Pass::Lacking => {
                let mut whole_set = photo.renditions.clone();
                whole_set.extend(renditions.iter().cloned());
                let version = set_version(&whole_set);
                self.db
                    .add_renditions(&photo.sha256, renditions, version)
                    .await?
            }
            Pass::Stale => {
                let mut new_set: Vec<Rendition> = photo
                    .renditions
                    .iter()
                    .filter(|r| !formats.contains(&r.format))
                    .cloned()
                    .collect();
                new_set.extend(renditions);
                let version = set_version(&new_set);
                self.db
                    .replace_renditions(&photo.sha256, new_set, version)
                    .await?
            }
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
                    Ok(PassReport { done: 0, .. }) => {}
                    Ok(PassReport { done, .. }) => {
                        tracing::info!(done, "background renditions made")
                    }
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

#[cfg(test)]
mod tests {
    use super::{kept_error, KEPT_ERROR_CHARS};
    use crate::CoreError;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let short = CoreError::Internal("короткая".into());
        assert_eq!(kept_error(&short), short.to_string());
        let long = CoreError::Internal("ж".repeat(3 * KEPT_ERROR_CHARS));
        let kept = kept_error(&long);
        assert_eq!(kept.chars().count(), KEPT_ERROR_CHARS + 1);
        assert!(long.to_string().starts_with(kept.trim_end_matches('…')));
        assert!(kept.ends_with("ж…"));
    }
}
