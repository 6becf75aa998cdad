//! What templates receive: plain values prepared from domain types, so the
//! templates hold no logic beyond loops and conditionals.

use chrono::{DateTime, Utc};
use minijinja::{context, Value};
use photodesk_types::{Photo, Rendition, RenditionFormat, StorySummary, StoryWithSlides};
use serde::Serialize;

pub fn original_url(photo: &Photo) -> String {
    format!("/originals/{}", photo.sha256)
}

/// `/renditions/<sha256>/<file>`: the file name is the last segment of the
/// blob key, which names the spec, so the URL changes whenever the bytes do.
pub fn rendition_url(photo: &Photo, rendition: &Rendition) -> String {
    let file = rendition.key.rsplit('/').next().unwrap_or_default();
    format!("/renditions/{}/{file}", photo.sha256)
}

#[derive(Serialize)]
struct Date {
    /// Machine-readable, for `<time datetime>`.
    iso: String,
    /// For readers, e.g. "26 November 2026".
    text: String,
}

fn date(at: Option<DateTime<Utc>>) -> Option<Date> {
    at.map(|at| Date {
        iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text: at.format("%-d %B %Y").to_string(),
    })
}

/// A photo as `<picture>`: one `<source>` per modern format, a JPEG `<img>`.
#[derive(Serialize)]
struct Image {
    /// The fallback `src`: a mid-sized JPEG (the original while none exists).
    url: String,
    /// JPEG `srcset` for the `<img>`.
    srcset: String,
    sources: Vec<Source>,
    sizes: &'static str,
    width: u32,
    height: u32,
    alt: String,
    /// ThumbHash (base64) for the script to paint while loading.
    placeholder: Option<String>,
}

#[derive(Serialize)]
struct Source {
    media_type: &'static str,
    srcset: String,
}

/// How wide images show: slides fill the 64rem column; teasers a third of it.
pub const SLIDE_SIZES: &str = "(min-width: 64rem) 62rem, calc(100vw - 2rem)";
pub const TEASER_SIZES: &str =
    "(min-width: 64rem) 20rem, (min-width: 40rem) 45vw, calc(100vw - 2rem)";

fn srcset(photo: &Photo, format: RenditionFormat) -> String {
    photo
        .renditions
        .iter()
        .filter(|r| r.format == format)
        .map(|r| format!("{} {}w", rendition_url(photo, r), r.width))
        .collect::<Vec<_>>()
        .join(", ")
}

fn image(photo: &Photo, alt: &str, sizes: &'static str) -> Image {
    // A 1024-px JPEG suits browsers that ignore srcset.
    let fallback = photo
        .renditions
        .iter()
        .filter(|r| r.format == RenditionFormat::Jpeg)
        .min_by_key(|r| r.width.abs_diff(1024))
        .map_or_else(|| original_url(photo), |r| rendition_url(photo, r));
    let sources = [RenditionFormat::Avif, RenditionFormat::Webp]
        .into_iter()
        .map(|format| Source {
            media_type: format.media_type(),
            srcset: srcset(photo, format),
        })
        .filter(|source| !source.srcset.is_empty())
        .collect();
    Image {
        url: fallback,
        srcset: srcset(photo, RenditionFormat::Jpeg),
        sources,
        sizes,
        width: photo.width,
        height: photo.height,
        alt: alt.to_owned(),
        placeholder: photo.placeholder.clone(),
    }
}

pub fn home(stories: &[StorySummary], page: u32, has_next: bool) -> Value {
    let teasers: Vec<Value> = stories
        .iter()
        .map(|s| {
            context! {
                url => format!("/stories/{}", s.slug),
                headline => s.headline,
                date => date(s.published_at),
                slide_count => s.slide_count,
                cover => s.cover.as_ref().map(|p| image(p, &s.cover_alt, TEASER_SIZES)),
            }
        })
        .collect();
    context! {
        title => "Photodesk",
        teasers,
        page,
        previous_page => (page > 1).then(|| page - 1),
        next_page => has_next.then(|| page + 1),
    }
}

pub fn story(story: &StoryWithSlides, current: Option<u32>) -> Value {
    let total = story.slides.len();
    let slides: Vec<Value> = story
        .slides
        .iter()
        .map(|slide| {
            context! {
                position => slide.position,
                url => format!("/stories/{}/{}", story.story.slug, slide.position),
                caption => slide.caption,
                credit => slide.credit,
                image => image(&slide.photo, &slide.alt_text, SLIDE_SIZES),
                current => current == Some(slide.position),
            }
        })
        .collect();
    context! {
        title => story.story.headline,
        headline => story.story.headline,
        lead => story.story.lead,
        date => date(story.story.published_at),
        canonical => format!("/stories/{}", story.story.slug),
        slides,
        total,
        current,
    }
}
