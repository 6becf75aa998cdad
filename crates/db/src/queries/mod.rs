//! The repository queries, written once for SQLite and PostgreSQL through
//! [`crate::backend`]; the few that differ branch on the [`Dialect`].

mod accounts;
mod editing;

use crate::backend::{contains_pattern, placeholders, query, Dialect, Pool, Row, Tx};
use crate::{
    BlobReference, Counts, Database, DbError, NewPhoto, NewSession, NewStory, PhotoLease,
    SaveResult, Visibility,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use photodesk_types::{
    ApiToken, Fingerprints, Photo, PhotoId, Rendition, RenditionFailure, RenditionFormat, Revision,
    Role, Slide, Story, StoryContent, StoryId, StoryStatus, StorySummary, StoryWithSlides, User,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The story database on SQLite (the embedded default: one file, WAL so
/// readers never wait for the writer, foreign keys enforced) or PostgreSQL
/// (several instances share it).
#[derive(Debug, Clone)]
pub struct SqlDatabase {
    pub(crate) pool: Pool,
}

impl SqlDatabase {
    /// Records renditions for the photo `sha256` (if it exists), after
    /// removing all it had when `replace_all`, in one transaction.
    async fn record_renditions(
        &self,
        sha256: &str,
        renditions: &[Rendition],
        replace_all: bool,
        set_version: Option<u32>,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        let Some(id) = query("SELECT id FROM photos WHERE sha256 = ?")
            .bind(sha256)
            .scalar_optional(&mut tx)
            .await?
        else {
            return Ok(());
        };
        if replace_all {
            query("DELETE FROM renditions WHERE photo_id = ?")
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
        insert_renditions(&mut tx, id, renditions).await?;
        query("UPDATE photos SET rendition_version = ? WHERE id = ?")
            .bind(set_version)
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Photos matching `condition` (on `p`, with one `?` for each of
    /// `parameters`) with ids above `after` and no wait after a failure
    /// running past `now`, oldest first, with their renditions.
    async fn photos_to_render_where(
        &self,
        condition: &str,
        parameters: &[u32],
        now: DateTime<Utc>,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, DbError> {
        let mut rows = query(format!(
            "SELECT {PHOTO_COLUMNS} FROM photos p WHERE {condition} AND p.id > ?
               AND NOT EXISTS (SELECT 1 FROM photo_leases l
                               WHERE l.photo_id = p.id AND l.holder = '' AND l.expires_at > ?)
             ORDER BY p.id LIMIT ?"
        ));
        for &parameter in parameters {
            rows = rows.bind(parameter);
        }
        let rows = rows
            .bind(after)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut photos = rows
            .iter()
            .map(photo_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        attach_renditions(&self.pool, photos.iter_mut()).await?;
        Ok(photos)
    }

    /// Opens the database a URL names: `sqlite://PATH` (the file and its
    /// folder are created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = Path::new(path);
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Invalid(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            Self::open_sqlite(path).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres(url).await
        } else {
            Err(DbError::Invalid(format!(
                "{url:?}: the database URL must start with sqlite:// or postgres://"
            )))
        }
    }

    /// Opens (creating if needed) a SQLite file and runs pending migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, DbError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // A statement is slow here mostly while it waits for another
            // writer's lock (a server and a command on one file) or for a
            // loaded disk: logged at debug level, not as a warning in the
            // middle of a command's output.
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqlDatabase {
            pool: Pool::Sqlite(pool),
        })
    }

    /// Connects to PostgreSQL (`postgres://…`) and runs pending migrations;
    /// the migrator's advisory lock lets several instances start at once.
    pub async fn open_postgres(url: &str) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Invalid(format!("not a usable PostgreSQL URL: {e}")))?;
        // One connection first: the pool would only report a timeout, this
        // says why (refused, unknown database, wrong password…).
        let place = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        PgConnection::connect_with(&options)
            .await
            .map_err(|e| DbError::Invalid(format!("cannot connect to PostgreSQL at {place}: {e}")))?
            .close()
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(SqlDatabase {
            pool: Pool::Postgres(pool),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Waits for queries in flight and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

const PHOTO_COLUMNS: &str =
    "p.id AS photo_id, p.sha256, p.media_type, p.width, p.height, p.byte_size, \
     p.metadata, p.placeholder, p.perceptual_hash, p.created_at AS photo_created_at, \
     (SELECT d.sha256 FROM photos d WHERE d.id = p.near_duplicate_of) AS near_duplicate_sha";

fn photo_from_row(row: &Row) -> Result<Photo, DbError> {
    Ok(Photo {
        id: row.try_get("photo_id")?,
        sha256: row.try_get("sha256")?,
        media_type: row.try_get("media_type")?,
        width: row.unsigned("width")?,
        height: row.unsigned("height")?,
        byte_size: row.unsigned("byte_size")?,
        metadata: serde_json::from_str(row.try_get::<&str>("metadata")?)
            .map_err(|e| DbError::Corrupt(format!("photo metadata: {e}")))?,
        placeholder: row.try_get("placeholder")?,
        perceptual_hash: row.try_get("perceptual_hash")?,
        near_duplicate_of: row.try_get("near_duplicate_sha")?,
        renditions: Vec::new(),
        created_at: row.try_get("photo_created_at")?,
    })
}

/// Fills in the renditions of `photos` with one query.
async fn attach_renditions<'p>(
    pool: &Pool,
    photos: impl IntoIterator<Item = &'p mut Photo>,
) -> Result<(), DbError> {
    let mut photos: Vec<&mut Photo> = photos.into_iter().collect();
    if photos.is_empty() {
        return Ok(());
    }
    let mut select = query(format!(
        "SELECT photo_id, format, width, height, quality, byte_size, key FROM renditions
         WHERE photo_id IN ({}) ORDER BY width, format",
        placeholders(photos.len())
    ));
    for photo in &photos {
        select = select.bind(photo.id);
    }
    let rows = select.fetch_all(pool).await?;
    for row in rows {
        let photo_id: i64 = row.try_get("photo_id")?;
        let format: &str = row.try_get("format")?;
        let rendition = Rendition {
            format: RenditionFormat::parse(format)
                .ok_or_else(|| DbError::Corrupt(format!("rendition format {format:?}")))?,
            width: row.unsigned("width")?,
            height: row.unsigned("height")?,
            quality: row.unsigned("quality")?,
            byte_size: row.unsigned("byte_size")?,
            key: row.try_get("key")?,
        };
        for photo in photos.iter_mut().filter(|p| p.id == photo_id) {
            photo.renditions.push(rendition.clone());
        }
    }
    Ok(())
}

async fn insert_renditions(
    tx: &mut Tx,
    photo_id: i64,
    renditions: &[Rendition],
) -> Result<(), DbError> {
    for r in renditions {
        query(
            "INSERT INTO renditions (photo_id, format, width, height, quality, byte_size, key)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (photo_id, format, width) DO UPDATE SET
               height = excluded.height, quality = excluded.quality,
               byte_size = excluded.byte_size, key = excluded.key",
        )
        .bind(photo_id)
        .bind(r.format.to_string())
        .bind(r.width)
        .bind(r.height)
        .bind(u32::from(r.quality))
        .bind(r.byte_size)
        .bind(&r.key)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn status_from_row(row: &Row) -> Result<StoryStatus, DbError> {
    StoryStatus::from_str(row.try_get::<&str>("status")?).map_err(DbError::Corrupt)
}

fn story_from_row(row: &Row) -> Result<Story, DbError> {
    let lead: &str = row.try_get("lead")?;
    Ok(Story {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        headline: row.try_get("headline")?,
        lead: serde_json::from_str(lead)
            .map_err(|e| DbError::Corrupt(format!("lead of story: {e}")))?,
        status: status_from_row(row)?,
        published_at: row.try_get("published_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.unsigned("version")?,
    })
}

/// The story with its slides (and their photos) in order.
async fn with_slides(pool: &Pool, story: Story) -> Result<StoryWithSlides, DbError> {
    let rows = query(format!(
        "SELECT s.id, s.position, s.caption, s.alt_text, s.credit, {PHOTO_COLUMNS}
         FROM slides s JOIN photos p ON p.id = s.photo_id
         WHERE s.story_id = ? ORDER BY s.position"
    ))
    .bind(story.id)
    .fetch_all(pool)
    .await?;
    let mut slides: Vec<Slide> = rows
        .iter()
        .map(|row| {
            Ok(Slide {
                id: row.try_get("id")?,
                position: row.unsigned("position")?,
                caption: row.try_get("caption")?,
                alt_text: row.try_get("alt_text")?,
                credit: row.try_get("credit")?,
                photo: photo_from_row(row)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    attach_renditions(pool, slides.iter_mut().map(|s| &mut s.photo)).await?;
    Ok(StoryWithSlides { story, slides })
}

/// Inserts the photo and its renditions unless its hash is known; returns
/// its id either way and whether it was new.
async fn upsert_photo(
    tx: &mut Tx,
    photo: &NewPhoto,
    now: DateTime<Utc>,
) -> Result<(i64, bool), DbError> {
    let inserted = query(
        "INSERT INTO photos (sha256, media_type, width, height, byte_size, metadata, placeholder,
                             perceptual_hash, near_duplicate_of, created_at, rendition_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT id FROM photos WHERE sha256 = ?), ?, ?)
         ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&photo.sha256)
    .bind(&photo.media_type)
    .bind(photo.width)
    .bind(photo.height)
    .bind(photo.byte_size)
    .bind(serde_json::to_string(&photo.metadata).expect("metadata serialises"))
    .bind(&photo.placeholder)
    .bind(&photo.perceptual_hash)
    .bind(&photo.near_duplicate_of)
    .bind(now)
    .bind(photo.rendition_version)
    .execute(&mut *tx)
    .await?
        == 1;
    let id: i64 = query("SELECT id FROM photos WHERE sha256 = ?")
        .bind(&photo.sha256)
        .scalar(&mut *tx)
        .await?;
    insert_renditions(tx, id, &photo.renditions).await?;
    Ok((id, inserted))
}

/// The first of `wanted`, `wanted-2`, `wanted-3`… that no story uses.
async fn free_slug(tx: &mut Tx, wanted: &str) -> Result<String, DbError> {
    let mut candidate = wanted.to_owned();
    for n in 2.. {
        let taken: bool = query("SELECT EXISTS (SELECT 1 FROM stories WHERE slug = ?)")
            .bind(&candidate)
            .scalar(&mut *tx)
            .await?;
        if !taken {
            break;
        }
        candidate = format!("{wanted}-{n}");
    }
    Ok(candidate)
}

#[async_trait]
impl Database for SqlDatabase {
    async fn create_story(&self, new: NewStory) -> Result<StoryWithSlides, DbError> {
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        let slug = free_slug(&mut tx, &new.slug).await?;
        let lead = serde_json::to_string(&new.lead).expect("strings serialise");
        let story_id: i64 = query(
            "INSERT INTO stories (slug, headline, lead, status, published_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&slug)
        .bind(&new.headline)
        .bind(lead)
        .bind(new.status.as_str())
        .bind(new.published_at)
        .bind(now)
        .bind(now)
        .scalar(&mut tx)
        .await?;
        for (index, slide) in new.slides.iter().enumerate() {
            let (photo_id, _) = upsert_photo(&mut tx, &slide.photo, now).await?;
            query(
                "INSERT INTO slides (story_id, position, photo_id, caption, alt_text, credit)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(story_id)
            .bind(index as i64 + 1)
            .bind(photo_id)
            .bind(&slide.caption)
            .bind(&slide.alt_text)
            .bind(&slide.credit)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        self.story_by_slug(&slug)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("story {slug} vanished after insert")))
    }

    async fn story_by_slug(&self, slug: &str) -> Result<Option<StoryWithSlides>, DbError> {
        let row = query("SELECT * FROM stories WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => with_slides(&self.pool, story_from_row(&row)?)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    async fn list_stories(
        &self,
        visibility: Visibility,
        headline_search: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<StorySummary>, DbError> {
        let (public_only, now) = match visibility {
            Visibility::PublicAt(now) => (true, Some(now)),
            Visibility::All => (false, None),
        };
        let rows = query(format!(
            "SELECT st.id, st.slug, st.headline, st.status, st.published_at, st.updated_at,
                    (SELECT COUNT(*) FROM slides WHERE story_id = st.id) AS slide_count,
                    cover.alt_text AS cover_alt, {PHOTO_COLUMNS}
             FROM stories st
             LEFT JOIN slides cover ON cover.story_id = st.id AND cover.position = 1
             LEFT JOIN photos p ON p.id = cover.photo_id
             WHERE (NOT ? OR (st.status = 'published' AND st.published_at <= ?))
               AND (? = '' OR lower(st.headline) LIKE lower(?) ESCAPE '\\')
             ORDER BY st.published_at IS NULL, st.published_at DESC, st.created_at DESC, st.id DESC
             LIMIT ? OFFSET ?"
        ))
        .bind(public_only)
        .bind(now)
        .bind(headline_search)
        .bind(contains_pattern(headline_search))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut stories: Vec<StorySummary> = rows
            .iter()
            .map(|row| {
                let cover = match row.try_get::<Option<i64>>("photo_id")? {
                    Some(_) => Some(photo_from_row(row)?),
                    None => None,
                };
                Ok(StorySummary {
                    id: row.try_get("id")?,
                    slug: row.try_get("slug")?,
                    headline: row.try_get("headline")?,
                    status: status_from_row(row)?,
                    published_at: row.try_get("published_at")?,
                    updated_at: row.try_get("updated_at")?,
                    slide_count: row.unsigned("slide_count")?,
                    cover_alt: row
                        .try_get::<Option<String>>("cover_alt")?
                        .unwrap_or_default(),
                    cover,
                })
            })
            .collect::<Result<_, DbError>>()?;
        attach_renditions(
            &self.pool,
            stories.iter_mut().filter_map(|s| s.cover.as_mut()),
        )
        .await?;
        Ok(stories)
    }

    async fn photo_by_sha256(&self, sha256: &str) -> Result<Option<Photo>, DbError> {
        let row = query(format!(
            "SELECT {PHOTO_COLUMNS} FROM photos p WHERE p.sha256 = ?"
        ))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        let mut photo = row.as_ref().map(photo_from_row).transpose()?;
        attach_renditions(&self.pool, photo.as_mut()).await?;
        Ok(photo)
    }

    async fn insert_photo(&self, photo: NewPhoto) -> Result<(Photo, bool), DbError> {
        let mut tx = self.pool.begin().await?;
        let (_, created) = upsert_photo(&mut tx, &photo, Utc::now()).await?;
        tx.commit().await?;
        let stored = self.photo_by_sha256(&photo.sha256).await?.ok_or_else(|| {
            DbError::Corrupt(format!("photo {} vanished after insert", photo.sha256))
        })?;
        Ok((stored, created))
    }

    async fn add_renditions(
        &self,
        sha256: &str,
        renditions: Vec<Rendition>,
        set_version: Option<u32>,
    ) -> Result<(), DbError> {
        self.record_renditions(sha256, &renditions, false, set_version)
            .await
    }

    async fn replace_renditions(
        &self,
        sha256: &str,
        renditions: Vec<Rendition>,
        set_version: Option<u32>,
    ) -> Result<(), DbError> {
        self.record_renditions(sha256, &renditions, true, set_version)
            .await
    }

    async fn photos_lacking_renditions(
        &self,
        now: DateTime<Utc>,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, DbError> {
        self.photos_to_render_where("p.rendition_version IS NULL", &[], now, after, limit)
            .await
    }

    async fn photos_with_renditions_before(
        &self,
        version: u32,
        now: DateTime<Utc>,
        after: PhotoId,
        limit: u32,
    ) -> Result<Vec<Photo>, DbError> {
        // Bounded on both sides, so that SQLite's planner, which has no
        // statistics, takes the index rather than scanning photos by id.
        self.photos_to_render_where(
            "p.rendition_version >= 0 AND p.rendition_version < ?",
            &[version],
            now,
            after,
            limit,
        )
        .await
    }

    async fn lease_photo(
        &self,
        id: PhotoId,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<PhotoLease, DbError> {
        // One statement, so two processes racing for a photo cannot both
        // win: PostgreSQL re-checks the WHERE on the row the other wrote.
        // A wait after a failure is held by '', which no process is.
        let taken = query(
            "INSERT INTO photo_leases (photo_id, holder, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (photo_id) DO UPDATE SET
               holder = excluded.holder, expires_at = excluded.expires_at
             WHERE photo_leases.expires_at <= ? OR photo_leases.holder = excluded.holder
             RETURNING failures",
        )
        .bind(id)
        .bind(holder)
        .bind(until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = taken {
            return Ok(PhotoLease::Taken {
                failures: row.unsigned("failures")?,
            });
        }
        let holder = query("SELECT holder FROM photo_leases WHERE photo_id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match holder {
            Some(row) if row.try_get::<&str>("holder")?.is_empty() => PhotoLease::Waiting,
            // Gone since: let go a moment ago, so taken at the next try.
            _ => PhotoLease::Held,
        })
    }

    async fn end_photo_lease(&self, id: PhotoId, holder: &str) -> Result<(), DbError> {
        query("DELETE FROM photo_leases WHERE photo_id = ? AND holder = ?")
            .bind(id)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn fail_photo_lease(
        &self,
        id: PhotoId,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        query(
            "UPDATE photo_leases SET holder = '', failures = failures + 1, error = ?, expires_at = ?
             WHERE photo_id = ? AND holder = ?",
        )
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn end_failure_waits(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        query("UPDATE photo_leases SET expires_at = ? WHERE holder = '' AND expires_at > ?")
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await
    }

    async fn rendition_failures(
        &self,
        photos: Option<&[PhotoId]>,
        limit: u32,
    ) -> Result<Vec<RenditionFailure>, DbError> {
        let among = match photos {
            Some([]) => return Ok(Vec::new()),
            Some(ids) => format!("AND l.photo_id IN ({})", placeholders(ids.len())),
            None => String::new(),
        };
        let mut select = query(format!(
            "SELECT l.photo_id, p.sha256, l.failures, COALESCE(l.error, '') AS error, l.expires_at
             FROM photo_leases l JOIN photos p ON p.id = l.photo_id
             WHERE l.failures > 0 {among}
             ORDER BY l.expires_at DESC, l.photo_id LIMIT ?"
        ));
        for &id in photos.unwrap_or_default() {
            select = select.bind(id);
        }
        let limit = photos.map_or(limit, |ids| ids.len().try_into().unwrap_or(u32::MAX));
        select
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(RenditionFailure {
                    photo_id: row.try_get("photo_id")?,
                    sha256: row.try_get("sha256")?,
                    failures: row.unsigned("failures")?,
                    error: row.try_get("error")?,
                    retry_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    async fn fingerprints_after(
        &self,
        after: PhotoId,
    ) -> Result<Vec<(PhotoId, Fingerprints)>, DbError> {
        query(
            "SELECT id, perceptual_hash, COALESCE(placeholder, '') AS placeholder
             FROM photos WHERE id > ? AND perceptual_hash IS NOT NULL ORDER BY id",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let fingerprints = Fingerprints {
                placeholder: row.try_get("placeholder")?,
                perceptual_hash: row.try_get("perceptual_hash")?,
            };
            Ok((row.try_get("id")?, fingerprints))
        })
        .collect()
    }

    async fn counts(&self) -> Result<Counts, DbError> {
        let row = query(
            "SELECT (SELECT COUNT(*) FROM stories) AS stories,
                    (SELECT COUNT(*) FROM slides) AS slides,
                    (SELECT COUNT(*) FROM photos) AS photos",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            stories: row.unsigned("stories")?,
            slides: row.unsigned("slides")?,
            photos: row.unsigned("photos")?,
        })
    }

    async fn referenced_blobs(&self) -> Result<Vec<BlobReference>, DbError> {
        let rows = query(
            "SELECT p.sha256, NULL AS key, NULL AS byte_size, NULL AS format FROM photos p
             UNION ALL
             SELECT p.sha256, r.key, r.byte_size, r.format FROM renditions r
             JOIN photos p ON p.id = r.photo_id
             ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let key: Option<String> = row.try_get("key")?;
                Ok(match key {
                    None => BlobReference::Original {
                        sha256: row.try_get("sha256")?,
                    },
                    Some(key) => {
                        let format: &str = row.try_get("format")?;
                        BlobReference::Rendition {
                            format: RenditionFormat::parse(format).ok_or_else(|| {
                                DbError::Corrupt(format!("rendition format {format:?}"))
                            })?,
                            byte_size: row.unsigned("byte_size")?,
                            key,
                        }
                    }
                })
            })
            .collect()
    }

    async fn integrity_problems(&self) -> Result<Vec<String>, DbError> {
        match self.dialect() {
            Dialect::Sqlite => {
                let mut problems: Vec<String> = query("PRAGMA integrity_check")
                    .scalars(&self.pool)
                    .await?
                    .into_iter()
                    .filter(|line: &String| line != "ok")
                    .collect();
                for row in query("PRAGMA foreign_key_check")
                    .fetch_all(&self.pool)
                    .await?
                {
                    let table: String = row.at(0)?;
                    let parent: String = row.at(2)?;
                    problems.push(format!("a row of {table} points at a missing {parent} row"));
                }
                Ok(problems)
            }
            // PostgreSQL enforces keys and checks itself; what can be wrong
            // is a constraint left unvalidated (added NOT VALID by hand).
            Dialect::Postgres => Ok(query(
                "SELECT conrelid::regclass::text || ': constraint ' || conname || ' is not validated'
                 FROM pg_constraint
                 WHERE NOT convalidated AND connamespace = current_schema()::regnamespace",
            )
            .scalars(&self.pool)
            .await?),
        }
    }

    async fn story_by_id(&self, id: StoryId) -> Result<Option<StoryWithSlides>, DbError> {
        editing::story_by_id(&self.pool, id).await
    }

    async fn save_story(
        &self,
        id: StoryId,
        expected: Option<u32>,
        content: &StoryContent,
        user: &str,
    ) -> Result<SaveResult, DbError> {
        editing::save_story(&self.pool, id, expected, content, user).await
    }

    async fn add_first_revision(
        &self,
        id: StoryId,
        content: &StoryContent,
        user: &str,
    ) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        editing::add_revision(&mut tx, id, 1, user, content).await?;
        Ok(tx.commit().await?)
    }

    async fn set_publication(
        &self,
        id: StoryId,
        expected: Option<u32>,
        status: StoryStatus,
        published_at: Option<DateTime<Utc>>,
    ) -> Result<SaveResult, DbError> {
        editing::set_publication(&self.pool, id, expected, status, published_at).await
    }

    async fn delete_story(&self, id: StoryId) -> Result<bool, DbError> {
        editing::delete_story(&self.pool, id).await
    }

    async fn publish_due(&self, now: DateTime<Utc>) -> Result<Vec<String>, DbError> {
        editing::publish_due(&self.pool, now).await
    }

    async fn revisions(&self, id: StoryId) -> Result<Vec<Revision>, DbError> {
        editing::revisions(&self.pool, id).await
    }

    async fn revision_content(
        &self,
        id: StoryId,
        version: u32,
    ) -> Result<Option<StoryContent>, DbError> {
        editing::revision_content(&self.pool, id, version).await
    }

    async fn photo_by_id(&self, id: PhotoId) -> Result<Option<Photo>, DbError> {
        editing::photo_by_id(&self.pool, id).await
    }

    async fn search_photos(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Photo>, DbError> {
        editing::search_photos(&self.pool, query, limit, offset).await
    }

    async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<User>, DbError> {
        accounts::create_user(&self.pool, name, role, password_hash).await
    }

    async fn list_users(&self) -> Result<Vec<User>, DbError> {
        accounts::list_users(&self.pool).await
    }

    async fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>, DbError> {
        accounts::user_credentials(&self.pool, name).await
    }

    async fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<bool, DbError> {
        accounts::set_password_hash(&self.pool, name, password_hash).await
    }

    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<bool, DbError> {
        accounts::set_disabled(&self.pool, name, disabled).await
    }

    async fn create_session(&self, session: NewSession) -> Result<(), DbError> {
        accounts::create_session(&self.pool, session).await
    }

    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, String)>, DbError> {
        accounts::session(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), DbError> {
        accounts::delete_session(&self.pool, token_hash).await
    }

    async fn create_api_token(
        &self,
        user: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<Option<ApiToken>, DbError> {
        accounts::create_api_token(&self.pool, user, name, token_hash).await
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, DbError> {
        accounts::list_api_tokens(&self.pool).await
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>, DbError> {
        accounts::api_token_user(&self.pool, token_hash).await
    }

    async fn revoke_api_token(&self, id: i64) -> Result<bool, DbError> {
        accounts::revoke_api_token(&self.pool, id).await
    }

    async fn count_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<u64, DbError> {
        accounts::count_attempt(&self.pool, key, now, window).await
    }
}

#[cfg(test)]
mod tests;
