//! Photos on their way in: read within limits, decoded once into their web
//! renditions and fingerprints, stored, and checked against the library for
//! duplicates and near-duplicates.

use crate::{CoreError, Photodesk};
use bytes::Bytes;
use photodesk_db::{Database, NewPhoto};
use photodesk_imaging::render::{process, Job, Likeness, Processed, Rendered, RenditionSpec};
use photodesk_imaging::ImagingError;
use photodesk_storage::{key_sha256, original_key, rendition_key};
use photodesk_types::{Fingerprints, Photo, PhotoId, Rendition, RenditionFormat};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The formats made while a photo is ingested; AVIF, slow to encode, is made
/// afterwards in the background and appears once ready.
pub const INGEST_FORMATS: &[RenditionFormat] = &[RenditionFormat::Jpeg, RenditionFormat::Webp];

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

/// Reads a photo file of at most `max_bytes`, counted as it is read: the
/// size is checked first, but a pipe (`photodesk ingest <(curl …)`) or a
/// device has none, and a file can grow meanwhile. (Folders searched for
/// photos skip pipes and devices: nobody named those.)
pub fn read_photo_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, CoreError> {
    let unreadable = |e: std::io::Error| CoreError::Invalid(format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if metadata.is_dir() {
        return Err(CoreError::Invalid("cannot read: it is a folder".into()));
    }
    let size = metadata.len();
    if size > max_bytes {
        return Err(ImagingError::FileTooLarge {
            size,
            limit: max_bytes,
        }
        .into());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > max_bytes {
        return Err(CoreError::TooLarge(format!(
            "file is over the limit of {max_bytes} bytes"
        )));
    }
    Ok(bytes)
}

/// A photo whose original and renditions are in the blob store, ready to be
/// recorded in the database.
#[derive(Debug, Clone)]
pub struct StagedPhoto {
    pub record: NewPhoto,
    /// True if the library already had these exact bytes.
    pub duplicate: bool,
    /// What could not be read of its metadata, for the person ingesting.
    pub warnings: Vec<String>,
    /// Blobs this staging created, to take back if the operation fails.
    pub(crate) created_keys: Vec<String>,
}

/// One ingested photo: the stored record, what happened, and what could
/// not be read of its metadata (empty for a duplicate: its first ingest said).
#[derive(Debug, Clone)]
pub struct Ingested {
    pub photo: Photo,
    pub outcome: IngestOutcome,
    pub warnings: Vec<String>,
}

/// What ingesting one photo did.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    Added,
    /// The same bytes were already in the library; nothing was stored twice.
    Duplicate,
    /// Added, and flagged as nearly identical to the photo with this SHA-256.
    NearDuplicate {
        of: String,
    },
}

/// How many ids below the highest one read are read again: PostgreSQL
/// hands out ids as rows are inserted, not as they are committed, so a
/// photo another instance is still committing can appear below it.
const LOOKBACK: PhotoId = 256;

/// The library's perceptual fingerprints, as far as this process has read
/// them. New photos are compared with all of them, but only the photos
/// added since are read each time: reading the whole library for every
/// photo took 0.2 s an ingest at 100 000 photos, and a folder paid it for
/// each file.
#[derive(Default)]
pub(crate) struct Catalogue {
    /// By photo id, ascending.
    known: Vec<(PhotoId, Likeness)>,
}

impl Catalogue {
    /// Reads the photos added since the last read (by any process).
    async fn read_new(&mut self, db: &dyn Database) -> Result<(), CoreError> {
        let read_up_to = self.known.last().map_or(0, |&(id, _)| id);
        for (id, fingerprints) in db.fingerprints_after(read_up_to - LOOKBACK).await? {
            let Some(likeness) = Likeness::of(&fingerprints) else {
                continue;
            };
            if let Err(at) = self.known.binary_search_by_key(&id, |&(known, _)| known) {
                self.known.insert(at, (id, likeness));
            }
        }
        Ok(())
    }

    /// The known photo `likeness` nearly duplicates most closely (the
    /// earliest of equals), with how many bits apart they are.
    fn nearest(&self, likeness: &Likeness) -> Option<(u32, PhotoId)> {
        self.known
            .iter()
            .filter_map(|(id, theirs)| Some((likeness.near_duplicate_distance(theirs)?, *id)))
            .min()
    }
}

impl Photodesk {
    /// Adds one photo to the library (no story): original, renditions and
    /// fingerprints. The same bytes twice are stored once.
    pub async fn ingest(&self, input: PhotoInput) -> Result<Ingested, CoreError> {
        let mut staged = self.stage_photo(input).await?;
        // Flagging and inserting under one lock, so photos ingested at the
        // same time see each other.
        let mut catalogue = self.catalogue.lock().await;
        let flagged = if staged.duplicate {
            Ok(())
        } else {
            self.flag_near_duplicates(&mut catalogue, [&mut staged.record])
                .await
        };
        let near = staged.record.near_duplicate_of.clone();
        let inserted = match flagged {
            Ok(()) => self
                .db
                .insert_photo(staged.record.clone())
                .await
                .map_err(CoreError::from),
            Err(err) => Err(err),
        };
        match inserted {
            Ok((photo, created)) => {
                let outcome = match (created, near) {
                    (false, _) => IngestOutcome::Duplicate,
                    (true, Some(of)) => IngestOutcome::NearDuplicate { of },
                    (true, None) => IngestOutcome::Added,
                };
                Ok(Ingested {
                    photo,
                    outcome,
                    warnings: staged.warnings,
                })
            }
            Err(err) => {
                self.remove_unreferenced(&staged.created_keys).await;
                Err(err)
            }
        }
    }

    /// Reads a photo, refusing it before reading if the file is over the
    /// size limit, and stages it. Callers may start any number at once:
    /// files are read only when a staging slot is free.
    pub async fn stage_photo(&self, input: PhotoInput) -> Result<StagedPhoto, CoreError> {
        let _slot = self
            .staging_slots
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("staging pool closed".into()))?;
        let bytes = match input {
            PhotoInput::Bytes { bytes, .. } => bytes,
            PhotoInput::File(path) => self.read_photo_file(&path).await?,
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(known) = self.db.photo_by_sha256(&sha256).await? {
            if self.blobs.exists(&original_key(&sha256)).await? {
                return Ok(StagedPhoto {
                    record: record_of(known),
                    duplicate: true,
                    warnings: Vec::new(),
                    created_keys: Vec::new(),
                });
            }
        }
        let processed = self
            .process_photo(bytes.clone(), INGEST_FORMATS.to_vec(), true)
            .await?;
        self.store_staged(sha256, bytes, processed).await
    }

    async fn read_photo_file(&self, path: &Path) -> Result<Bytes, CoreError> {
        let (path, max_bytes) = (path.to_owned(), self.limits.max_file_bytes);
        tokio::task::spawn_blocking(move || read_photo_file(&path, max_bytes))
            .await
            .map_err(|e| CoreError::Internal(format!("reading a photo file: {e}")))?
            .map(Bytes::from)
    }

    /// Decodes the photo once (corrupt files fail here) into the standard
    /// ladder in `formats` (and the fingerprints if asked), with at most one
    /// photo per core at a time so memory stays bounded however many arrive
    /// together.
    pub(crate) async fn process_photo(
        &self,
        bytes: Bytes,
        formats: Vec<RenditionFormat>,
        fingerprints: bool,
    ) -> Result<Processed, CoreError> {
        let _slot = self
            .decode_slots
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("decoder pool closed".into()))?;
        let (limits, embed) = (self.limits, self.embed);
        tokio::task::spawn_blocking(move || {
            let specs = |width| {
                formats
                    .iter()
                    .flat_map(|&format| RenditionSpec::ladder(width, format))
                    .collect()
            };
            let job = Job {
                specs: Box::new(specs),
                fingerprints,
                embed,
            };
            process(bytes, limits, &job)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("photo decoder failed: {e}")))?
        .map_err(CoreError::from)
    }

    /// Writes the original and its renditions to the blob store.
    async fn store_staged(
        &self,
        sha256: String,
        original: Bytes,
        processed: Processed,
    ) -> Result<StagedPhoto, CoreError> {
        let mut created = Vec::new();
        let renditions = match self
            .store_renditions(
                &sha256,
                original.clone(),
                processed.renditions,
                &mut created,
            )
            .await
        {
            Ok(renditions) => renditions,
            Err(err) => {
                self.remove_unreferenced(&created).await;
                return Err(err);
            }
        };
        let fingerprints = processed
            .fingerprints
            .ok_or_else(|| CoreError::Internal("ingest made no fingerprints".into()))?;
        Ok(StagedPhoto {
            record: NewPhoto {
                byte_size: original.len() as u64,
                sha256,
                media_type: processed.media_type.to_owned(),
                width: processed.width,
                height: processed.height,
                metadata: processed.metadata,
                placeholder: Some(fingerprints.placeholder),
                perceptual_hash: Some(fingerprints.perceptual_hash),
                near_duplicate_of: None,
                renditions,
                // AVIF is still to come (`complete_renditions`).
                rendition_version: None,
            },
            duplicate: false,
            warnings: processed.metadata_problems,
            created_keys: created,
        })
    }

    /// Stores the original and each rendition, noting the keys that were new.
    async fn store_renditions(
        &self,
        sha256: &str,
        original: Bytes,
        rendered: Vec<Rendered>,
        created: &mut Vec<String>,
    ) -> Result<Vec<Rendition>, CoreError> {
        let key = original_key(sha256);
        if self.blobs.put_if_absent(&key, original).await? {
            created.push(key);
        }
        self.store_rendition_blobs(sha256, rendered, created).await
    }

    /// Stores renditions under keys derived from the original and the spec,
    /// noting the keys that were new.
    pub(crate) async fn store_rendition_blobs(
        &self,
        sha256: &str,
        rendered: Vec<Rendered>,
        created: &mut Vec<String>,
    ) -> Result<Vec<Rendition>, CoreError> {
        let mut renditions = Vec::with_capacity(rendered.len());
        for r in rendered {
            let key = rendition_key(sha256, &r.spec.file_name());
            let mut byte_size = r.bytes.len() as u64;
            if self.blobs.put_if_absent(&key, Bytes::from(r.bytes)).await? {
                created.push(key.clone());
            } else {
                // Another instance made it first: record what is stored,
                // in case its encoder's bytes differ from ours.
                byte_size = self.blobs.get(&key).await?.len() as u64;
            }
            renditions.push(Rendition {
                format: r.spec.format,
                width: r.width,
                height: r.height,
                quality: r.spec.quality,
                byte_size,
                key,
            });
        }
        Ok(renditions)
    }

    /// Links each new photo to the nearest of its near-duplicates
    /// ([`near_duplicate_distance`]): one already in the library or one
    /// earlier in `records` (a burst imported together). Callers hold
    /// `catalogue` until the records are inserted.
    pub(crate) async fn flag_near_duplicates(
        &self,
        catalogue: &mut Catalogue,
        records: impl IntoIterator<Item = &mut NewPhoto>,
    ) -> Result<(), CoreError> {
        // Collected first: the iterator's closures would be held across the
        // awaits below, which axum's handlers need to be `Send`.
        let records: Vec<&mut NewPhoto> = records.into_iter().collect();
        catalogue.read_new(self.db.as_ref()).await?;
        let mut burst: Vec<(String, Likeness)> = Vec::new();
        for record in records {
            let Some(likeness) = record.perceptual_hash.clone().and_then(|perceptual_hash| {
                Likeness::of(&Fingerprints {
                    placeholder: record.placeholder.clone().unwrap_or_default(),
                    perceptual_hash,
                })
            }) else {
                continue;
            };
            let nearest_known = catalogue.nearest(&likeness);
            let nearest_in_burst = burst
                .iter()
                .filter(|(other, _)| *other != record.sha256)
                .filter_map(|(other, theirs)| {
                    Some((likeness.near_duplicate_distance(theirs)?, other))
                })
                .min();
            record.near_duplicate_of = match (nearest_known, nearest_in_burst) {
                (Some((bits, id)), burst) if burst.is_none_or(|(closer, _)| bits <= closer) => self
                    .db
                    .photo_by_id(id)
                    .await?
                    .map(|photo| photo.sha256)
                    .filter(|other| *other != record.sha256),
                (_, burst) => burst.map(|(_, other)| other.clone()),
            };
            burst.push((record.sha256.clone(), likeness));
        }
        Ok(())
    }

    /// Deletes blobs written by a failed operation, unless a photo row
    /// (committed meanwhile by someone else) refers to them.
    pub(crate) async fn remove_unreferenced(&self, keys: &[String]) {
        for key in keys {
            let Some(sha256) = key_sha256(key) else {
                continue;
            };
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

    /// An original's bytes and media type, by its SHA-256: for editors
    /// only. Readers get renditions: an original is full size and keeps
    /// everything, the GPS position and camera serial numbers included.
    pub async fn original(&self, sha256: &str) -> Result<(Bytes, String), CoreError> {
        let photo = self.photo(sha256).await?;
        let bytes = self.blobs.get(&original_key(&photo.sha256)).await?;
        Ok((bytes, photo.media_type))
    }

    /// A rendition's bytes and media type, by the original's SHA-256 and the
    /// rendition's file name (as in [`RenditionSpec::file_name`]). Both are
    /// checked, then the key they make is read straight from the blob store:
    /// pages ask for many renditions, and none needs a database query.
    pub async fn rendition(
        &self,
        sha256: &str,
        file_name: &str,
    ) -> Result<(Bytes, &'static str), CoreError> {
        let not_found = || CoreError::NotFound(format!("no rendition {file_name}"));
        let spec = RenditionSpec::from_file_name(file_name).ok_or_else(not_found)?;
        if !is_sha256(sha256) {
            return Err(not_found());
        }
        let bytes = self.blobs.get(&rendition_key(sha256, file_name)).await?;
        Ok((bytes, spec.format.media_type()))
    }

    async fn photo(&self, sha256: &str) -> Result<Photo, CoreError> {
        let not_found = || CoreError::NotFound(format!("no photo {sha256}"));
        if !is_sha256(sha256) {
            return Err(not_found());
        }
        self.db.photo_by_sha256(sha256).await?.ok_or_else(not_found)
    }
}

/// Lower-case hex SHA-256, as every key uses: anything else names nothing.
fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A stored photo as a record to insert again (inserting it is a no-op).
fn record_of(photo: Photo) -> NewPhoto {
    NewPhoto {
        sha256: photo.sha256,
        media_type: photo.media_type,
        width: photo.width,
        height: photo.height,
        byte_size: photo.byte_size,
        metadata: photo.metadata,
        placeholder: photo.placeholder,
        perceptual_hash: photo.perceptual_hash,
        near_duplicate_of: photo.near_duplicate_of,
        renditions: photo.renditions,
        // Inserting a known photo changes nothing.
        rendition_version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::read_photo_file;
    use crate::CoreError;
    use std::path::Path;

    fn refused(path: &Path, max_bytes: u64) -> String {
        match read_photo_file(path, max_bytes) {
            Err(err @ (CoreError::Invalid(_) | CoreError::TooLarge(_))) => err.to_string(),
            other => panic!("{} was not refused: {other:?}", path.display()),
        }
    }

    #[test]
    fn files_pipes_and_devices_are_read_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, [7u8; 100]).unwrap();
        assert_eq!(read_photo_file(&photo, 100).unwrap(), [7u8; 100]);
        assert!(refused(&photo, 99).contains("file is 100 bytes; the limit is 99 bytes"));

        // A pipe has no size: it is read up to the limit.
        let fifo = dir.path().join("b.jpg");
        photodesk_testkit::make_fifo(&fifo);
        let write = |len: usize| {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                // The reader may stop early: a broken pipe is fine here.
                std::fs::write(fifo, vec![9u8; len]).ok();
            })
        };
        let writer = write(300);
        assert_eq!(read_photo_file(&fifo, 300).unwrap(), [9u8; 300]);
        writer.join().unwrap();
        let writer = write(301);
        assert!(refused(&fifo, 300).contains("over the limit of 300 bytes"));
        writer.join().unwrap();
        // An endless device ends at the limit.
        assert!(refused(Path::new("/dev/zero"), 1 << 20).contains("over the limit"));

        assert!(refused(dir.path(), 100).contains("cannot read"));
        assert!(refused(&dir.path().join("c.jpg"), 100).contains("cannot read"));
    }
}
