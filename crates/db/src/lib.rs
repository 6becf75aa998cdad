//! The story database behind a trait, so the SQLite default and the
//! PostgreSQL scale-out backend are interchangeable. Only this crate names
//! the SQL crate.

mod backend;
mod copy;
mod queries;

pub use backend::Dialect;
pub use copy::{TableCopy, TableDigest};
pub use queries::SqlDatabase;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use photodesk_types::{
    ApiToken, Fingerprints, Photo, PhotoId, PhotoMetadata, Rendition, RenditionFailure,
    RenditionFormat, Revision, Role, StoryContent, StoryId, StoryStatus, StorySummary,
    StoryWithSlides, User, UserId,
};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database holds an invalid value: {0}")]
    Corrupt(String),
    /// The caller asked for something the data does not allow.
    #[error("{0}")]
    Invalid(String),
}

/// What a save came to.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveResult {
    Saved(StoryWithSlides),
    /// Someone saved first: the story is now at version `current`.
    Conflict {
        current: u32,
    },
    NotFound,
}

/// A photo to record; if its hash is already known the existing row is used.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPhoto {
    pub sha256: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: u64,
    pub metadata: PhotoMetadata,
    pub placeholder: Option<String>,
    pub perceptual_hash: Option<String>,
    /// SHA-256 of the earlier photo this one nearly duplicates.
    pub near_duplicate_of: Option<String>,
    pub renditions: Vec<Rendition>,
    /// The pipeline version of `renditions` if they are the whole set,
    /// `None` while formats are still to come (see
    /// [`Database::photos_lacking_renditions`]).
    pub rendition_version: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSlide {
    pub photo: NewPhoto,
    pub caption: String,
    pub alt_text: String,
    pub credit: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStory {
    /// The slug wanted; the database appends `-2`, `-3`… if it is taken.
    pub slug: String,
    pub headline: String,
    pub lead: Vec<String>,
    pub status: StoryStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub slides: Vec<NewSlide>,
}

/// Which stories a listing returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Visibility {
    /// Published stories whose publication time has come.
    PublicAt(DateTime<Utc>),
    /// Every story, drafts included.
    All,
}

/// What asking for a photo's lease came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoLease {
    /// The caller has it; its renditions failed this many times before.
    Taken { failures: u32 },
    /// Another process has it.
    Held,
    /// Its renditions failed, and the wait before the next try runs on.
    Waiting,
}

/// Row counts, for integrity checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub stories: u64,
    pub slides: u64,
    pub photos: u64,
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Records a story, its slides and any new photos in one transaction.
    async fn create_story(&self, story: NewStory) -> Result<StoryWithSlides, DbError>;
    async fn story_by_slug(&self, slug: &str) -> Result<Option<StoryWithSlides>, DbError>;
    /// Newest first (by publication time, then creation); `headline_search`
    /// keeps those whose headline contains it (case-insensitive), "" all.
    async fn list_stories(
        &self,
        visibility: Visibility,
        headline_search: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<StorySummary>, DbError>;
    async fn photo_by_sha256(&self, sha256: &str) -> Result<Option<Photo>, DbError>;
    /// Records a photo (and its renditions) unless its hash is known.
    /// Returns the stored photo and whether this call created it.
    async fn insert_photo(&self, photo: NewPhoto) -> Result<(Photo, bool), DbError>;
    /// Records renditions made later, in place of any recorded for the
    /// same format and width, and the pipeline version of the photo's set
    /// now (`None`: formats are still to come).
    async fn add_renditions(
        &self,
        sha256: &str,
        renditions: Vec<Rendition>,
        set_version: Option<u32>,
    ) -> Result<(), DbError>;
    /// Records a photo's renditions in place of all it had, at once, like
    /// [`Database::add_renditions`].
    async fn replace_renditions(
        &self,
        sha256: &str,
        renditions: Vec<Rendition>,
        set_version: Option<u32>,
    ) -> Result<(), DbError>;
    /// Photos whose renditions are not yet a whole set (no version was
    /// recorded), oldest first, from the first with an id above `after` (a
    /// cursor: 0 starts), leaving out those whose wait after a failure runs
    /// past `now` ([`Database::fail_photo_lease`]). Found by index, however
    /// large the library.
    async fn photos_lacking_renditions(
        &self,
        now: DateTime<Utc>,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, DbError>;
    /// Photos whose whole set of renditions is of a pipeline version
    /// before `version`, like [`Database::photos_lacking_renditions`].
    async fn photos_with_renditions_before(
        &self,
        version: u32,
        now: DateTime<Utc>,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, DbError>;
    /// Leases the photo to `holder` until `until`, unless another holder's
    /// lease on it, or the wait after a failure, runs past `now`. Processes
    /// sharing the database take a photo this way before making its
    /// renditions, so each photo's are made once.
    async fn lease_photo(
        &self,
        id: PhotoId,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<PhotoLease, DbError>;
    /// Ends `holder`'s lease on the photo (another holder's stays), and
    /// with it the record of failed tries.
    async fn end_photo_lease(&self, id: PhotoId, holder: &str) -> Result<(), DbError>;
    /// Turns `holder`'s lease into a wait after a failed try: no process
    /// takes the photo before `retry_at`; the failure is counted and
    /// `error` kept for editors.
    async fn fail_photo_lease(
        &self,
        id: PhotoId,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), DbError>;
    /// Ends every wait after a failure at `now`, for a command that tries
    /// every photo again. Returns how many photos were waiting.
    async fn end_failure_waits(&self, now: DateTime<Utc>) -> Result<u64, DbError>;
    /// Photos whose renditions could not be made, the furthest next try
    /// first (the most often failed, as the wait grows with each failure):
    /// those among `photos` if given, else up to `limit`.
    async fn rendition_failures(
        &self,
        photos: Option<&[PhotoId]>,
        limit: u32,
    ) -> Result<Vec<RenditionFailure>, DbError>;
    /// The fingerprints of every fingerprinted photo with an id above
    /// `after`, by id, to find near-duplicates (an empty placeholder where
    /// none was recorded).
    async fn fingerprints_after(
        &self,
        after: PhotoId,
    ) -> Result<Vec<(PhotoId, Fingerprints)>, DbError>;
    async fn counts(&self) -> Result<Counts, DbError>;
    /// Every blob the database refers to, for integrity checks.
    async fn referenced_blobs(&self) -> Result<Vec<BlobReference>, DbError>;
    /// The database's own consistency check; empty when all is well.
    async fn integrity_problems(&self) -> Result<Vec<String>, DbError>;

    // Editing.

    async fn story_by_id(&self, id: StoryId) -> Result<Option<StoryWithSlides>, DbError>;
    /// Saves the story's text and slides if it is at version `expected`
    /// (any, for `None`), bumping the version and keeping a revision.
    async fn save_story(
        &self,
        id: StoryId,
        expected: Option<u32>,
        content: &StoryContent,
        user: &str,
    ) -> Result<SaveResult, DbError>;
    /// Records the first revision of a story just created.
    async fn add_first_revision(
        &self,
        id: StoryId,
        content: &StoryContent,
        user: &str,
    ) -> Result<(), DbError>;
    async fn set_publication(
        &self,
        id: StoryId,
        expected: Option<u32>,
        status: StoryStatus,
        published_at: Option<DateTime<Utc>>,
    ) -> Result<SaveResult, DbError>;
    async fn delete_story(&self, id: StoryId) -> Result<bool, DbError>;
    /// Publishes scheduled stories whose time has come; returns their slugs.
    async fn publish_due(&self, now: DateTime<Utc>) -> Result<Vec<String>, DbError>;
    /// Newest first.
    async fn revisions(&self, id: StoryId) -> Result<Vec<Revision>, DbError>;
    async fn revision_content(
        &self,
        id: StoryId,
        version: u32,
    ) -> Result<Option<StoryContent>, DbError>;
    async fn photo_by_id(&self, id: PhotoId) -> Result<Option<Photo>, DbError>;
    async fn search_photos(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Photo>, DbError>;

    // Accounts. Secrets arrive already hashed: the database never sees them.

    /// `Ok(None)` if the name is taken.
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<User>, DbError>;
    async fn list_users(&self) -> Result<Vec<User>, DbError>;
    /// The user and their password hash, for logging in.
    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>, DbError>;
    /// False if there is no such user.
    async fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<bool, DbError>;
    /// Disabling also ends the user's sessions. False if there is no such user.
    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, DbError>;

    async fn create_session(&self, session: NewSession) -> Result<(), DbError>;
    /// The live session's enabled user and its CSRF token.
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, String)>, DbError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), DbError>;

    /// `Ok(None)` if there is no such user.
    async fn create_api_token(
        &self,
        user: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, DbError>;
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, DbError>;
    /// The enabled user of an unrevoked token.
    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>, DbError>;
    /// False if there is no such unrevoked token.
    async fn revoke_api_token(&self, id: i64) -> Result<bool, DbError>;
    /// Counts an attempt under `key` in the fixed window of length `window`
    /// that began with its first attempt; returns the attempts so far.
    async fn count_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<u64, DbError>;
}

/// A blob the database points at, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobReference {
    /// An original, which must hash to `sha256`.
    Original { sha256: String },
    /// A rendition at `key`, of the recorded size and format.
    Rendition {
        key: String,
        byte_size: u64,
        format: RenditionFormat,
    },
}

/// A browser session to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}
