//! Saving edited stories: version check, slide updates in place (so slide
//! ids stay stable for API clients), a revision per save; publication.

use super::{attach_renditions, photo_from_row, story_from_row, with_slides, PHOTO_COLUMNS};
use crate::backend::{contains_pattern, placeholders, query, Dialect, Pool, Tx};
use crate::{DbError, SaveResult};
use chrono::{DateTime, Utc};
use photodesk_types::{Photo, Revision, StoryContent, StoryId, StoryStatus, StoryWithSlides};

/// Positions are moved out of the way before slides are renumbered, so the
/// UNIQUE (story_id, position) constraint holds at every step.
const POSITION_SHIFT: i64 = 1_000_000;

pub async fn story_by_id(pool: &Pool, id: StoryId) -> Result<Option<StoryWithSlides>, DbError> {
    let row = query("SELECT * FROM stories WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => with_slides(pool, story_from_row(&row)?).await.map(Some),
        None => Ok(None),
    }
}

/// Bumps the version if it is `expected` (any, for `None`); tells apart a
/// conflict from a missing story.
async fn bump_version(
    tx: &mut Tx,
    id: StoryId,
    expected: Option<u32>,
) -> Result<Option<SaveResult>, DbError> {
    let bumped = query(
        "UPDATE stories SET version = version + 1, updated_at = ?
         WHERE id = ? AND (? IS NULL OR version = ?)",
    )
    .bind(Utc::now())
    .bind(id)
    .bind(expected)
    .bind(expected)
    .execute(&mut *tx)
    .await?;
    if bumped == 1 {
        return Ok(None);
    }
    let current: Option<i64> = query("SELECT version FROM stories WHERE id = ?")
        .bind(id)
        .scalar_optional(&mut *tx)
        .await?;
    let current = current
        .map(u32::try_from)
        .transpose()
        .map_err(|_| DbError::Corrupt(format!("story {id} has a version out of range")))?;
    Ok(Some(match current {
        Some(current) => SaveResult::Conflict { current },
        None => SaveResult::NotFound,
    }))
}

pub async fn save_story(
    pool: &Pool,
    id: StoryId,
    expected: Option<u32>,
    content: &StoryContent,
    user: &str,
) -> Result<SaveResult, DbError> {
    let mut tx = pool.begin().await?;
    if let Some(refused) = bump_version(&mut tx, id, expected).await? {
        return Ok(refused);
    }
    query("UPDATE stories SET headline = ?, lead = ? WHERE id = ?")
        .bind(&content.headline)
        .bind(serde_json::to_string(&content.lead).expect("strings serialise"))
        .bind(id)
        .execute(&mut tx)
        .await?;
    let kept: Vec<i64> = content.slides.iter().filter_map(|s| s.id).collect();
    let mut remove = query(if kept.is_empty() {
        "DELETE FROM slides WHERE story_id = ?".to_owned()
    } else {
        format!(
            "DELETE FROM slides WHERE story_id = ? AND id NOT IN ({})",
            placeholders(kept.len())
        )
    })
    .bind(id);
    for slide_id in kept {
        remove = remove.bind(slide_id);
    }
    remove.execute(&mut tx).await?;
    query("UPDATE slides SET position = position + ? WHERE story_id = ?")
        .bind(POSITION_SHIFT)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let mut saved = content.clone();
    for (index, slide) in saved.slides.iter_mut().enumerate() {
        let position = index as i64 + 1;
        match slide.id {
            Some(slide_id) => {
                let updated = query(
                    "UPDATE slides SET position = ?, caption = ?, alt_text = ?, credit = ?
                     WHERE id = ? AND story_id = ? AND photo_id = ?",
                )
                .bind(position)
                .bind(&slide.caption)
                .bind(&slide.alt_text)
                .bind(&slide.credit)
                .bind(slide_id)
                .bind(id)
                .bind(slide.photo_id)
                .execute(&mut tx)
                .await?;
                if updated != 1 {
                    return Err(DbError::Invalid(format!(
                        "slide {slide_id} is not a slide of story {id} with photo {}",
                        slide.photo_id
                    )));
                }
            }
            None => {
                let new_id: i64 = query(
                    "INSERT INTO slides (story_id, position, photo_id, caption, alt_text, credit)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                )
                .bind(id)
                .bind(position)
                .bind(slide.photo_id)
                .bind(&slide.caption)
                .bind(&slide.alt_text)
                .bind(&slide.credit)
                .scalar(&mut tx)
                .await?;
                slide.id = Some(new_id);
            }
        }
    }
    let version = query("SELECT version FROM stories WHERE id = ?")
        .bind(id)
        .fetch_one(&mut tx)
        .await?
        .unsigned("version")?;
    add_revision(&mut tx, id, version, user, &saved).await?;
    tx.commit().await?;
    saved_story(pool, id).await
}

pub async fn add_revision(
    tx: &mut Tx,
    id: StoryId,
    version: u32,
    user: &str,
    content: &StoryContent,
) -> Result<(), DbError> {
    query(
        "INSERT INTO revisions (story_id, version, user_name, created_at, content)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(version)
    .bind(user)
    .bind(Utc::now())
    .bind(serde_json::to_string(content).expect("content serialises"))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn saved_story(pool: &Pool, id: StoryId) -> Result<SaveResult, DbError> {
    Ok(story_by_id(pool, id)
        .await?
        .map_or(SaveResult::NotFound, SaveResult::Saved))
}

pub async fn set_publication(
    pool: &Pool,
    id: StoryId,
    expected: Option<u32>,
    status: StoryStatus,
    published_at: Option<DateTime<Utc>>,
) -> Result<SaveResult, DbError> {
    let mut tx = pool.begin().await?;
    if let Some(refused) = bump_version(&mut tx, id, expected).await? {
        return Ok(refused);
    }
    query("UPDATE stories SET status = ?, published_at = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(published_at)
        .bind(id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    saved_story(pool, id).await
}

pub async fn delete_story(pool: &Pool, id: StoryId) -> Result<bool, DbError> {
    Ok(query("DELETE FROM stories WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?
        == 1)
}

/// One statement: several instances running this at once publish each
/// story once, and each learns only the stories it flipped.
pub async fn publish_due(pool: &Pool, now: DateTime<Utc>) -> Result<Vec<String>, DbError> {
    query(
        "UPDATE stories SET status = 'published', version = version + 1, updated_at = ?
         WHERE status = 'scheduled' AND published_at <= ? RETURNING slug",
    )
    .bind(now)
    .bind(now)
    .scalars(pool)
    .await
}

pub async fn revisions(pool: &Pool, id: StoryId) -> Result<Vec<Revision>, DbError> {
    let rows = query(
        "SELECT version, user_name, created_at FROM revisions WHERE story_id = ?
         ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Revision {
                version: row.unsigned("version")?,
                user: row.try_get("user_name")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

pub async fn revision_content(
    pool: &Pool,
    id: StoryId,
    version: u32,
) -> Result<Option<StoryContent>, DbError> {
    let content: Option<String> =
        query("SELECT content FROM revisions WHERE story_id = ? AND version = ?")
            .bind(id)
            .bind(version)
            .scalar_optional(pool)
            .await?;
    content
        .map(|c| serde_json::from_str(&c).map_err(|e| DbError::Corrupt(format!("revision: {e}"))))
        .transpose()
}

pub async fn photo_by_id(pool: &Pool, id: i64) -> Result<Option<Photo>, DbError> {
    let row = query(format!(
        "SELECT {PHOTO_COLUMNS} FROM photos p WHERE p.id = ?"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut photo = photo_from_row(&row)?;
    attach_renditions(pool, std::iter::once(&mut photo)).await?;
    Ok(Some(photo))
}

/// Newest first; `search` matches caption, headline, keywords, credit,
/// source or creator (case-insensitive: ASCII only on SQLite), "" lists all.
pub async fn search_photos(
    pool: &Pool,
    search: &str,
    limit: u32,
    offset: u32,
) -> Result<Vec<Photo>, DbError> {
    // The searchable text of each photo's metadata JSON, one row per value.
    let texts = match pool.dialect() {
        Dialect::Sqlite => {
            "SELECT m.atom AS text FROM json_tree(p.metadata) m
             WHERE m.type = 'text'
               AND (m.fullkey IN ('$.caption', '$.headline', '$.credit', '$.source')
                    OR m.fullkey LIKE '$.keywords[%' OR m.fullkey LIKE '$.creator[%')"
        }
        Dialect::Postgres => {
            "SELECT p.metadata::jsonb ->> field AS text
             FROM unnest(ARRAY['caption', 'headline', 'credit', 'source']) field
             UNION ALL
             SELECT jsonb_array_elements_text(list) FROM (
                 SELECT p.metadata::jsonb -> 'keywords' AS list
                 UNION ALL SELECT p.metadata::jsonb -> 'creator') lists
             WHERE jsonb_typeof(list) = 'array'"
        }
    };
    let rows = query(format!(
        "SELECT {PHOTO_COLUMNS} FROM photos p
         WHERE ? = '' OR EXISTS (
             SELECT 1 FROM ({texts}) m WHERE lower(m.text) LIKE lower(?) ESCAPE '\\')
         ORDER BY p.id DESC LIMIT ? OFFSET ?"
    ))
    .bind(search)
    .bind(contains_pattern(search))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let mut photos = rows
        .iter()
        .map(photo_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_renditions(pool, photos.iter_mut()).await?;
    Ok(photos)
}
