//! Photodesk's use cases, independent of how they are reached (CLI, web,
//! tests). [`Photodesk`] holds the database and blob store behind their
//! traits and runs image work on a bounded blocking pool.

mod accounts;
mod check;
mod editing;
mod error;
pub mod import;
pub mod migrate;
mod photos;
mod renditions;
pub mod slug;
mod stories;

pub use accounts::{NewLogin, SessionUser, SESSION_LIFETIME};
pub use check::CheckReport;
pub use editing::{SlideChanges, SCHEDULER_PERIOD};
pub use error::{CoreError, Problem};
pub use photos::{
    read_photo_file, IngestOutcome, Ingested, PhotoInput, StagedPhoto, INGEST_FORMATS,
};
pub use renditions::{PassReport, LATER_FORMATS};

use migrate::Site;
use photodesk_config::Config;
use photodesk_db::Database;
use photodesk_imaging::render::EmbedOptions;
use photodesk_imaging::DecodeLimits;
use photodesk_storage::BlobStore;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The application: every use case is a method.
#[derive(Clone)]
pub struct Photodesk {
    db: Arc<dyn Database>,
    blobs: Arc<dyn BlobStore>,
    limits: DecodeLimits,
    /// What renditions may carry beyond the rights fields.
    embed: EmbedOptions,
    /// The library's fingerprints, held while new photos are compared
    /// with the library and inserted, so near-duplicates arriving together
    /// are found.
    catalogue: Arc<tokio::sync::Mutex<photos::Catalogue>>,
    /// At most this many photos are decoded at once, so memory stays bounded
    /// however many arrive together.
    decode_slots: Arc<Semaphore>,
    /// At most this many photos are staged at once (read, decoded, stored):
    /// a folder of thousands is never all in memory, and the next photos
    /// are read while others decode.
    staging_slots: Arc<Semaphore>,
    /// Photos whose later renditions failed, with when to try again.
    /// This process's name in photo leases (see `Database::lease_photo`).
    lease_holder: Arc<str>,
}

impl Photodesk {
    pub fn new(
        db: Arc<dyn Database>,
        blobs: Arc<dyn BlobStore>,
        limits: DecodeLimits,
        embed: EmbedOptions,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Photodesk {
            db,
            blobs,
            limits,
            embed,
            catalogue: Arc::default(),
            decode_slots: Arc::new(Semaphore::new(cores)),
            staging_slots: Arc::new(Semaphore::new(2 * cores)),
            lease_holder: renditions::lease_holder().into(),
        }
    }

    /// Opens the database and blob store the settings name (by default
    /// SQLite and a blob folder inside the data dir).
    pub async fn open(config: &Config) -> Result<Self, CoreError> {
        let site = Site::open(&config.database_url, &config.blob_url).await?;
        Ok(Photodesk::new(
            Arc::new(site.database),
            site.blobs,
            DecodeLimits {
                max_pixels: config.limits.max_pixels,
                max_file_bytes: config.limits.max_file_bytes,
            },
            EmbedOptions {
                keep_location: config.keep_location,
            },
        ))
    }

    /// Largest photo file accepted, in bytes (uploads stop there).
    pub fn max_file_bytes(&self) -> u64 {
        self.limits.max_file_bytes
    }

    pub fn database(&self) -> &dyn Database {
        self.db.as_ref()
    }

    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }
}
