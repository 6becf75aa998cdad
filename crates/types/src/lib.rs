//! Domain types: what a story, a slide and a photo are.
//!
//! These are plain data with serde derives so every layer (database, use
//! cases, HTTP, templates) speaks the same vocabulary. Nothing here knows how
//! it is stored or shown.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub type StoryId = i64;
pub type SlideId = i64;
pub type PhotoId = i64;

/// Where a story is in its life. Only `Published` stories are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StoryStatus {
    Draft,
    Scheduled,
    Published,
}

impl StoryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StoryStatus::Draft => "draft",
            StoryStatus::Scheduled => "scheduled",
            StoryStatus::Published => "published",
        }
    }
}

impl fmt::Display for StoryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(StoryStatus::Draft),
            "scheduled" => Ok(StoryStatus::Scheduled),
            "published" => Ok(StoryStatus::Published),
            other => Err(format!("unknown story status {other:?}")),
        }
    }
}

/// A gallery story: headline, lead paragraphs and (separately loaded) slides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Story {
    pub id: StoryId,
    /// URL name, unique, ASCII; frozen once the story has been published.
    pub slug: String,
    pub headline: String,
    pub lead: Vec<String>,
    pub status: StoryStatus,
    /// When the story went (or, if scheduled, will go) public.
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; a save naming an older version is refused,
    /// so two editors never silently overwrite each other.
    pub version: u32,
}

/// What an editor saves: the story's text and its slides in order. Slides
/// with an `id` are kept (and updated), the others are added; slides left
/// out are removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryContent {
    pub headline: String,
    pub lead: Vec<String>,
    pub slides: Vec<SlideContent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlideContent {
    #[serde(default)]
    pub id: Option<SlideId>,
    pub photo_id: PhotoId,
    pub caption: String,
    pub alt_text: String,
    pub credit: String,
}

/// A saved version of a story, as listed in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revision {
    pub version: u32,
    pub user: String,
    pub created_at: DateTime<Utc>,
}

/// One captioned photo in a story. Caption, alt text and credit belong to the
/// slide, so one photo can be captioned differently in two stories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slide {
    pub id: SlideId,
    /// 1-based place in the story.
    pub position: u32,
    pub caption: String,
    pub alt_text: String,
    pub credit: String,
    pub photo: Photo,
}

/// A stored original photo. The bytes are kept untouched in the blob store
/// under their SHA-256; width and height are as displayed (orientation
/// applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Photo {
    pub id: PhotoId,
    /// Lower-case hex SHA-256 of the original bytes.
    pub sha256: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: u64,
    pub metadata: PhotoMetadata,
    /// ThumbHash of the photo (base64), painted by pages until the image loads.
    pub placeholder: Option<String>,
    /// Perceptual hash (hex), to spot near-identical frames.
    pub perceptual_hash: Option<String>,
    /// The SHA-256 of an earlier photo this one nearly duplicates.
    pub near_duplicate_of: Option<String>,
    /// Web renditions made so far, narrowest first.
    pub renditions: Vec<Rendition>,
    pub created_at: DateTime<Utc>,
}

/// A photo whose renditions the background worker could not make: it waits
/// until `retry_at`, longer after each failed try, up to a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionFailure {
    pub photo_id: PhotoId,
    pub sha256: String,
    pub failures: u32,
    pub error: String,
    pub retry_at: DateTime<Utc>,
}

/// Small fingerprints of a photo's pixels, stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    /// ThumbHash (base64): a blurred miniature pages paint before the image.
    pub placeholder: String,
    /// Perceptual hash (hex), for spotting near-identical frames.
    pub perceptual_hash: String,
}

/// An encoded web version of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rendition {
    pub format: RenditionFormat,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    pub byte_size: u64,
    /// Where the bytes are in the blob store.
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RenditionFormat {
    Avif,
    Webp,
    Jpeg,
}

impl RenditionFormat {
    /// Best compression first: the order of `<source>` elements.
    pub const ALL: [RenditionFormat; 3] = [
        RenditionFormat::Avif,
        RenditionFormat::Webp,
        RenditionFormat::Jpeg,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            RenditionFormat::Avif => "avif",
            RenditionFormat::Webp => "webp",
            RenditionFormat::Jpeg => "jpg",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            RenditionFormat::Avif => "image/avif",
            RenditionFormat::Webp => "image/webp",
            RenditionFormat::Jpeg => "image/jpeg",
        }
    }

    /// Parses the names used by the CLI, the API and file extensions.
    pub fn parse(name: &str) -> Option<RenditionFormat> {
        match name.to_ascii_lowercase().as_str() {
            "avif" => Some(RenditionFormat::Avif),
            "webp" => Some(RenditionFormat::Webp),
            "jpeg" | "jpg" => Some(RenditionFormat::Jpeg),
            _ => None,
        }
    }
}

impl std::fmt::Display for RenditionFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RenditionFormat::Avif => "avif",
            RenditionFormat::Webp => "webp",
            RenditionFormat::Jpeg => "jpeg",
        })
    }
}

/// A story with its slides in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoryWithSlides {
    #[serde(flatten)]
    pub story: Story,
    pub slides: Vec<Slide>,
}

impl StoryWithSlides {
    /// What an editor would save to keep the story as it is.
    pub fn content(&self) -> StoryContent {
        StoryContent {
            headline: self.story.headline.clone(),
            lead: self.story.lead.clone(),
            slides: self
                .slides
                .iter()
                .map(|s| SlideContent {
                    id: Some(s.id),
                    photo_id: s.photo.id,
                    caption: s.caption.clone(),
                    alt_text: s.alt_text.clone(),
                    credit: s.credit.clone(),
                })
                .collect(),
        }
    }
}

/// What a story list shows: enough for a teaser, without every slide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorySummary {
    pub id: StoryId,
    pub slug: String,
    pub headline: String,
    pub status: StoryStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub slide_count: u32,
    pub cover: Option<Photo>,
    /// Alt text of the cover slide, for the teaser image.
    pub cover_alt: String,
}

/// What a photo says about itself in its EXIF, IPTC IIM and XMP, reconciled
/// by the Metadata Working Group rules. Every text is untrusted input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PhotoMetadata {
    /// Description / caption (IIM Caption-Abstract, XMP dc:description).
    pub caption: Option<String>,
    pub headline: Option<String>,
    /// Title / object name (IIM Object Name, XMP dc:title).
    pub title: Option<String>,
    /// Photographers (IIM By-line, XMP dc:creator, EXIF Artist).
    pub creator: Vec<String>,
    /// Credit line (IIM Credit, XMP photoshop:Credit).
    pub credit: Option<String>,
    /// Copyright notice (IIM Copyright Notice, XMP dc:rights, EXIF Copyright).
    pub copyright: Option<String>,
    pub source: Option<String>,
    /// When the picture was taken, ISO 8601 as precise as the file says
    /// (`2019-10-16`, `2019-10-16T19:01:00.35+02:00`).
    pub date_created: Option<String>,
    pub sublocation: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub keywords: Vec<String>,
    /// IPTC Alt Text (Accessibility): the only source of alt text.
    pub alt_text: Option<String>,
    /// IPTC Extended Description (Accessibility).
    pub extended_description: Option<String>,
    /// Licence or rights page (XMP xmpRights:WebStatement).
    pub web_statement: Option<String>,
    pub usage_terms: Option<String>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub lens: Option<String>,
    pub gps: Option<Gps>,
    /// EXIF orientation 1–8 (1 when absent or invalid).
    pub orientation: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gps {
    pub latitude: f64,
    pub longitude: f64,
}

/// What a person may do: admins also manage users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            other => Err(format!("unknown role {other:?}: use admin or editor")),
        }
    }
}

pub type UserId = i64;

/// A person who edits (never a reader: readers need no account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// Disabled users cannot log in, and their sessions and tokens stop working.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// An API token as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub user: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
