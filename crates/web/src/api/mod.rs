//! The JSON API (`/api/v1`). Response shapes are spelled out as structs so
//! they change only on purpose.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use photodesk_types::{PhotoMetadata, RenditionFormat, StoryStatus, StoryWithSlides};
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stories", get(list_stories))
        .route("/stories/{slug}", get(get_story))
}

/// Paging parameters as given; parsed by hand so a bad value gets a JSON
/// error rather than the framework's plain-text rejection.
#[derive(Deserialize)]
struct Paging {
    limit: Option<String>,
    offset: Option<String>,
}

fn number(name: &str, value: Option<&str>, default: u32) -> Result<u32, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a whole number, not {text:?}"))
        }),
    }
}

#[derive(Serialize)]
struct StoryListItem {
    slug: String,
    headline: String,
    published_at: Option<DateTime<Utc>>,
    slide_count: u32,
    url: String,
}

#[derive(Serialize)]
struct StoryList {
    stories: Vec<StoryListItem>,
    limit: u32,
    offset: u32,
    /// Offset of the next page, absent on the last page.
    next_offset: Option<u32>,
}

async fn list_stories(
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
) -> Result<Json<StoryList>, ApiError> {
    let limit = number("limit", paging.limit.as_deref(), DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
    let offset = number("offset", paging.offset.as_deref(), 0)?;
    let mut stories = state.app.public_stories(limit + 1, offset).await?;
    let next_offset = (stories.len() > limit as usize).then_some(offset + limit);
    stories.truncate(limit as usize);
    Ok(Json(StoryList {
        stories: stories
            .into_iter()
            .map(|s| StoryListItem {
                url: format!("/stories/{}", s.slug),
                slug: s.slug,
                headline: s.headline,
                published_at: s.published_at,
                slide_count: s.slide_count,
            })
            .collect(),
        limit,
        offset,
        next_offset,
    }))
}

#[derive(Serialize)]
struct StoryBody {
    id: i64,
    slug: String,
    headline: String,
    lead: Vec<String>,
    status: StoryStatus,
    published_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    url: String,
    slides: Vec<SlideBody>,
}

#[derive(Serialize)]
struct SlideBody {
    id: i64,
    position: u32,
    caption: String,
    alt_text: String,
    credit: String,
    url: String,
    photo: PhotoBody,
}

#[derive(Serialize)]
struct PhotoBody {
    id: i64,
    sha256: String,
    media_type: String,
    width: u32,
    height: u32,
    byte_size: u64,
    original_url: String,
    metadata: PhotoMetadata,
    /// ThumbHash (base64) to paint while the image loads.
    placeholder: Option<String>,
    /// Web versions made so far, narrowest first; AVIF appears once its
    /// background encoding is done.
    renditions: Vec<RenditionBody>,
}

#[derive(Serialize)]
struct RenditionBody {
    format: RenditionFormat,
    width: u32,
    height: u32,
    byte_size: u64,
    url: String,
}

impl From<StoryWithSlides> for StoryBody {
    fn from(s: StoryWithSlides) -> Self {
        let slug = s.story.slug;
        StoryBody {
            id: s.story.id,
            url: format!("/stories/{slug}"),
            headline: s.story.headline,
            lead: s.story.lead,
            status: s.story.status,
            published_at: s.story.published_at,
            updated_at: s.story.updated_at,
            slides: s
                .slides
                .into_iter()
                .map(|slide| SlideBody {
                    id: slide.id,
                    position: slide.position,
                    url: format!("/stories/{slug}/{}", slide.position),
                    caption: slide.caption,
                    alt_text: slide.alt_text,
                    credit: slide.credit,
                    photo: PhotoBody {
                        id: slide.photo.id,
                        original_url: crate::public::original_url(&slide.photo),
                        renditions: slide
                            .photo
                            .renditions
                            .iter()
                            .map(|r| RenditionBody {
                                format: r.format,
                                width: r.width,
                                height: r.height,
                                byte_size: r.byte_size,
                                url: crate::public::rendition_url(&slide.photo, r),
                            })
                            .collect(),
                        placeholder: slide.photo.placeholder,
                        sha256: slide.photo.sha256,
                        media_type: slide.photo.media_type,
                        width: slide.photo.width,
                        height: slide.photo.height,
                        byte_size: slide.photo.byte_size,
                        metadata: slide.photo.metadata,
                    },
                })
                .collect(),
            slug,
        }
    }
}

async fn get_story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<StoryBody>, ApiError> {
    Ok(Json(state.app.public_story(&slug).await?.into()))
}
