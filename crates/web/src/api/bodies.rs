//! Response shapes of the JSON API; their schemas go into the OpenAPI
//! document, so the document follows the code.

use crate::public::{original_url, rendition_url};
use chrono::{DateTime, Utc};
use photodesk_core::{IngestOutcome, Ingested};
use photodesk_types::{
    Photo, PhotoMetadata, RenditionFailure, RenditionFormat, Revision, Slide, StoryStatus,
    StorySummary, StoryWithSlides,
};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct StoryListItem {
    id: i64,
    slug: String,
    headline: String,
    status: StoryStatus,
    published_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    slide_count: u32,
    url: String,
}

impl From<StorySummary> for StoryListItem {
    fn from(s: StorySummary) -> Self {
        StoryListItem {
            id: s.id,
            url: format!("/stories/{}", s.slug),
            slug: s.slug,
            headline: s.headline,
            status: s.status,
            published_at: s.published_at,
            updated_at: s.updated_at,
            slide_count: s.slide_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StoryList {
    pub stories: Vec<StoryListItem>,
    pub limit: u32,
    pub offset: u32,
    /// Offset of the next page, absent on the last page.
    pub next_offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct StoryBody {
    id: i64,
    slug: String,
    headline: String,
    lead: Vec<String>,
    status: StoryStatus,
    published_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    /// Send it back with a change: a change to an older version is refused (409).
    version: u32,
    url: String,
    slides: Vec<SlideBody>,
}

#[derive(Serialize, ToSchema)]
pub struct SlideBody {
    id: i64,
    position: u32,
    caption: String,
    alt_text: String,
    credit: String,
    url: String,
    photo: PhotoBody,
}

impl SlideBody {
    pub fn new(slug: &str, slide: Slide) -> Self {
        SlideBody {
            id: slide.id,
            position: slide.position,
            url: format!("/stories/{slug}/{}", slide.position),
            caption: slide.caption,
            alt_text: slide.alt_text,
            credit: slide.credit,
            photo: slide.photo.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PhotoBody {
    id: i64,
    sha256: String,
    media_type: String,
    width: u32,
    height: u32,
    byte_size: u64,
    /// The original, byte for byte: editors only (readers get 401).
    original_url: String,
    /// Without `gps` for readers unless the site keeps the location.
    metadata: PhotoMetadata,
    /// ThumbHash (base64) to paint while the image loads.
    placeholder: Option<String>,
    /// SHA-256 of a library photo this one nearly duplicates (a burst frame).
    near_duplicate_of: Option<String>,
    /// Web versions made so far, narrowest first; AVIF appears once its
    /// background encoding is done.
    renditions: Vec<RenditionBody>,
    /// Set (for editors) when the background worker could not make the
    /// photo's renditions: how often, why, and when it tries again.
    #[serde(skip_serializing_if = "Option::is_none")]
    rendition_failure: Option<RenditionFailureBody>,
}

#[derive(Serialize, ToSchema)]
struct RenditionFailureBody {
    failures: u32,
    error: String,
    retry_at: DateTime<Utc>,
}

impl PhotoBody {
    /// The photo as editors get it, with the failure of its renditions.
    pub fn with_failure(photo: Photo, failure: Option<RenditionFailure>) -> Self {
        PhotoBody {
            rendition_failure: failure.map(|f| RenditionFailureBody {
                failures: f.failures,
                error: f.error,
                retry_at: f.retry_at,
            }),
            ..photo.into()
        }
    }
}

#[derive(Serialize, ToSchema)]
struct RenditionBody {
    format: RenditionFormat,
    width: u32,
    height: u32,
    byte_size: u64,
    url: String,
}

impl From<Photo> for PhotoBody {
    fn from(photo: Photo) -> Self {
        PhotoBody {
            id: photo.id,
            original_url: original_url(&photo.sha256),
            renditions: photo
                .renditions
                .iter()
                .map(|r| RenditionBody {
                    format: r.format,
                    width: r.width,
                    height: r.height,
                    byte_size: r.byte_size,
                    url: rendition_url(&photo, r),
                })
                .collect(),
            placeholder: photo.placeholder,
            near_duplicate_of: photo.near_duplicate_of,
            sha256: photo.sha256,
            media_type: photo.media_type,
            width: photo.width,
            height: photo.height,
            byte_size: photo.byte_size,
            metadata: photo.metadata,
            rendition_failure: None,
        }
    }
}

/// An uploaded photo and what the library made of it.
#[derive(Serialize, ToSchema)]
pub struct UploadBody {
    #[serde(flatten)]
    photo: PhotoBody,
    /// `added`, `duplicate` (the same bytes were there) or `near-duplicate`.
    outcome: &'static str,
    /// What could not be read of the photo's metadata (a damaged XMP
    /// packet), so its caption or credit may be missing; usually empty.
    warnings: Vec<String>,
}

impl UploadBody {
    pub fn new(ingested: Ingested) -> Self {
        UploadBody {
            photo: ingested.photo.into(),
            outcome: match ingested.outcome {
                IngestOutcome::Added => "added",
                IngestOutcome::Duplicate => "duplicate",
                IngestOutcome::NearDuplicate { .. } => "near-duplicate",
            },
            warnings: ingested.warnings,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PhotoList {
    pub photos: Vec<PhotoBody>,
    pub limit: u32,
    pub offset: u32,
    pub next_offset: Option<u32>,
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
            version: s.story.version,
            slides: s
                .slides
                .into_iter()
                .map(|slide| SlideBody::new(&slug, slide))
                .collect(),
            slug,
        }
    }
}

/// A slide just added or changed, with the story version it produced.
#[derive(Serialize, ToSchema)]
pub struct SlideReply {
    #[serde(flatten)]
    pub slide: SlideBody,
    pub story_version: u32,
}

#[derive(Serialize, ToSchema)]
pub struct RevisionList {
    pub revisions: Vec<Revision>,
}

/// Every error: a stable `code`, a message for people, and for a refused
/// publication the `problems`, one per missing field.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    code: String,
    message: String,
    #[schema(value_type = Option<Vec<Object>>)]
    problems: Option<Vec<serde_json::Value>>,
}
