//! What templates receive: plain values prepared from domain types, so the
//! templates hold no logic beyond loops and conditionals.

use base64::Engine;
use chrono::{DateTime, Utc};
use minijinja::{context, Value};
use photodesk_types::{
    Photo, Rendition, RenditionFormat, Slide, Story, StorySummary, StoryWithSlides,
};
use serde::Serialize;
use serde_json::json;

pub fn original_url(sha256: &str) -> String {
    format!("/originals/{sha256}")
}

/// `/renditions/<sha256>/<file>`: the file name is the last segment of the
/// blob key, which names the spec, so the URL changes whenever the bytes do.
pub fn rendition_url(photo: &Photo, rendition: &Rendition) -> String {
    let file = rendition.key.rsplit('/').next().unwrap_or_default();
    format!("/renditions/{}/{file}", photo.sha256)
}

/// Page `page` of the story list: `/`, then `/page/2`… (paths, not a
/// query, so a static export can hold every page as a file).
pub fn home_url(page: u32) -> String {
    match page {
        0 | 1 => "/".to_owned(),
        n => format!("/page/{n}"),
    }
}

pub fn story_url(slug: &str) -> String {
    format!("/stories/{slug}")
}

pub fn slide_url(slug: &str, position: u32) -> String {
    format!("/stories/{slug}/{position}")
}

#[derive(Serialize)]
pub struct Date {
    /// Machine-readable, for `<time datetime>`.
    iso: String,
    /// For readers, e.g. "26 November 2026".
    text: String,
}

fn date(at: Option<DateTime<Utc>>) -> Option<Date> {
    at.map(|at| Date {
        iso: rfc3339(at),
        text: at.format("%-d %B %Y").to_string(),
    })
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
    /// ThumbHash (base64), which the script paints blurred while loading.
    placeholder: Option<String>,
    /// The photo's average colour (`#rrggbb`), shown even without script.
    background: Option<String>,
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

fn jpegs(photo: &Photo) -> impl Iterator<Item = &Rendition> {
    photo
        .renditions
        .iter()
        .filter(|r| r.format == RenditionFormat::Jpeg)
}

/// The narrowest JPEG at least `width` wide, else the widest there is.
fn jpeg_at_least(photo: &Photo, width: u32) -> Option<&Rendition> {
    jpegs(photo)
        .filter(|r| r.width >= width)
        .min_by_key(|r| r.width)
        .or_else(|| jpegs(photo).max_by_key(|r| r.width))
}

/// A JPEG of a photo: URL (the original while no rendition exists) and size.
#[derive(Serialize)]
pub struct JpegLink {
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: u64,
}

pub fn jpeg_link(origin: &str, photo: &Photo, width: u32) -> JpegLink {
    match jpeg_at_least(photo, width) {
        Some(r) => JpegLink {
            url: format!("{origin}{}", rendition_url(photo, r)),
            width: r.width,
            height: r.height,
            byte_size: r.byte_size,
        },
        None => JpegLink {
            url: format!("{origin}{}", original_url(&photo.sha256)),
            width: photo.width,
            height: photo.height,
            byte_size: photo.byte_size,
        },
    }
}

/// The size link previews ask for (Open Graph, Twitter cards).
const SHARE_WIDTH: u32 = 1200;
/// The size feeds and JSON-LD offer as the photo itself: the widest JPEG.
const FULL_WIDTH: u32 = u32::MAX;
/// The size of feed thumbnails.
const THUMBNAIL_WIDTH: u32 = 320;

fn average_colour(placeholder: Option<&str>) -> Option<String> {
    let hash = base64::engine::general_purpose::STANDARD
        .decode(placeholder?)
        .ok()?;
    let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&hash).ok()?;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    Some(format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b)))
}

fn image(photo: &Photo, alt: &str, sizes: &'static str) -> Image {
    // A 1024-px JPEG suits browsers that ignore srcset.
    let fallback = jpegs(photo)
        .min_by_key(|r| r.width.abs_diff(1024))
        .map_or_else(|| original_url(&photo.sha256), |r| rendition_url(photo, r));
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
        background: average_colour(photo.placeholder.as_deref()),
    }
}

/// A story's language as a BCP 47 tag, and whether its script runs right
/// to left: on the story's text, so screen readers read a Russian caption
/// with a Russian voice while the site's own words stay English.
#[derive(Serialize)]
struct Language {
    tag: &'static str,
    rtl: bool,
}

/// Detected from the headline, lead and captions (whatlang); none when the
/// detector is unsure, and then the page's English stands.
fn language(story: &StoryWithSlides) -> Option<Language> {
    let mut text = story.story.headline.clone();
    for part in story
        .story
        .lead
        .iter()
        .chain(story.slides.iter().map(|s| &s.caption))
    {
        if text.len() > 4000 {
            break;
        }
        text.push('\n');
        text.push_str(part);
    }
    // Outside Latin script the script itself narrows the choice (Arabic
    // script: Arabic, Persian or Urdu), so a lower confidence will do.
    let info = whatlang::detect(&text).filter(|info| {
        info.is_reliable() || (info.script() != whatlang::Script::Latin && info.confidence() >= 0.5)
    })?;
    let code = info.lang().code();
    // ISO 639-1 where one exists (BCP 47 wants the shortest tag); Mandarin
    // is tagged by its macrolanguage, as browsers and voices expect.
    let tag = match code {
        "cmn" => "zh",
        _ => isolang::Language::from_639_3(code)
            .and_then(|language| language.to_639_1())
            .unwrap_or(code),
    };
    Some(Language {
        tag,
        rtl: matches!(
            info.script(),
            whatlang::Script::Arabic | whatlang::Script::Hebrew
        ),
    })
}

/// The lead's first paragraph, cut at a word near 200 characters: the
/// meta description and feed summary.
pub fn description(lead: &[String]) -> String {
    const LIMIT: usize = 200;
    let first = lead
        .iter()
        .map(|p| p.trim())
        .find(|p| !p.is_empty())
        .unwrap_or_default();
    if first.chars().count() <= LIMIT {
        return first.to_owned();
    }
    let cut: String = first.chars().take(LIMIT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

/// One slide's photo as feeds and structured data describe it. Built in one
/// place so the credit and copyright read the same in the page, the JSON-LD
/// and the feeds (and they come from the same fields the renditions embed).
#[derive(Serialize)]
pub struct SlideMedia {
    pub position: u32,
    pub page_url: String,
    pub full: JpegLink,
    pub thumbnail: JpegLink,
    pub caption: String,
    pub alt_text: String,
    pub credit: String,
    pub creators: Vec<String>,
    pub copyright: Option<String>,
    pub license: Option<String>,
}

impl SlideMedia {
    pub fn new(origin: &str, story: &Story, slide: &Slide) -> Self {
        let metadata = &slide.photo.metadata;
        SlideMedia {
            position: slide.position,
            page_url: format!("{origin}{}", slide_url(&story.slug, slide.position)),
            full: jpeg_link(origin, &slide.photo, FULL_WIDTH),
            thumbnail: jpeg_link(origin, &slide.photo, THUMBNAIL_WIDTH),
            caption: slide.caption.clone(),
            alt_text: slide.alt_text.clone(),
            credit: slide.credit.clone(),
            creators: metadata.creator.clone(),
            copyright: metadata.copyright.clone(),
            license: metadata
                .web_statement
                .clone()
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
        }
    }

    fn json_ld(&self) -> serde_json::Value {
        let mut object = json!({
            "@type": "ImageObject",
            "position": self.position,
            "url": self.page_url,
            "contentUrl": self.full.url,
            "width": self.full.width,
            "height": self.full.height,
            "encodingFormat": "image/jpeg",
            "thumbnailUrl": self.thumbnail.url,
            "caption": self.caption,
        });
        let fields = object.as_object_mut().expect("an object literal");
        if !self.alt_text.is_empty() {
            fields.insert("description".into(), json!(self.alt_text));
        }
        if !self.credit.is_empty() {
            fields.insert("creditText".into(), json!(self.credit));
        }
        if !self.creators.is_empty() {
            let people: Vec<_> = self
                .creators
                .iter()
                .map(|name| json!({"@type": "Person", "name": name}))
                .collect();
            fields.insert("creator".into(), json!(people));
        }
        if let Some(copyright) = &self.copyright {
            fields.insert("copyrightNotice".into(), json!(copyright));
        }
        if let Some(license) = &self.license {
            fields.insert("license".into(), json!(license));
        }
        object
    }
}

/// `NewsArticle` with an `ImageGallery` of the slides, as a `<script>`
/// body: `<`, `>` and `&` are escaped so no caption can end the element.
fn json_ld(
    origin: &str,
    site_name: &str,
    story: &StoryWithSlides,
    media: &[SlideMedia],
    language: Option<&Language>,
) -> Value {
    let url = format!("{origin}{}", story_url(&story.story.slug));
    let mut article = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.story.headline,
        "description": description(&story.story.lead),
        "url": url,
        "mainEntityOfPage": url,
        "dateModified": rfc3339(story.story.updated_at),
        "publisher": {"@type": "Organization", "name": site_name, "url": format!("{origin}/")},
        "image": media.first().map(|m| vec![m.full.url.clone()]).unwrap_or_default(),
        "hasPart": {
            "@type": "ImageGallery",
            "name": story.story.headline,
            "url": url,
            "associatedMedia": media.iter().map(SlideMedia::json_ld).collect::<Vec<_>>(),
        },
    });
    if let Some(at) = story.story.published_at {
        article["datePublished"] = json!(rfc3339(at));
    }
    if let Some(language) = language {
        article["inLanguage"] = json!(language.tag);
    }
    let text = article
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    Value::from_safe_string(text)
}

pub fn home(stories: &[StorySummary], page: u32, has_next: bool) -> Value {
    let teasers: Vec<Value> = stories
        .iter()
        .map(|s| {
            context! {
                url => story_url(&s.slug),
                headline => s.headline,
                date => date(s.published_at),
                slide_count => s.slide_count,
                cover => s.cover.as_ref().map(|p| image(p, &s.cover_alt, TEASER_SIZES)),
            }
        })
        .collect();
    context! {
        title => if page > 1 { format!("Latest galleries, page {page}") } else { "Latest galleries".to_owned() },
        description => "Photo galleries: the latest stories in pictures.",
        teasers,
        previous_page => (page > 1).then(|| home_url(page - 1)),
        next_page => has_next.then(|| home_url(page + 1)),
    }
}

/// The story page; `current` names the slide of a `/stories/{slug}/{n}` URL.
pub fn story(
    origin: &str,
    site_name: &str,
    story: &StoryWithSlides,
    current: Option<u32>,
) -> Value {
    let total = story.slides.len() as u32;
    let shown = current.unwrap_or(1);
    let slug = &story.story.slug;
    let media: Vec<SlideMedia> = story
        .slides
        .iter()
        .map(|slide| SlideMedia::new(origin, &story.story, slide))
        .collect();
    let slides: Vec<Value> = story
        .slides
        .iter()
        .map(|slide| {
            context! {
                position => slide.position,
                url => slide_url(slug, slide.position),
                full_url => jpeg_at_least(&slide.photo, FULL_WIDTH)
                    .map_or_else(|| original_url(&slide.photo.sha256), |r| rendition_url(&slide.photo, r)),
                caption => slide.caption,
                credit => slide.credit,
                image => image(&slide.photo, &slide.alt_text, SLIDE_SIZES),
                current => slide.position == shown,
                focus => current == Some(slide.position),
            }
        })
        .collect();
    let language = language(story);
    // A shared slide link previews that slide's photo; the story its cover.
    let share_slide = story.slides.iter().find(|s| s.position == shown);
    let share_image = share_slide.map(|slide| {
        let link = jpeg_link(origin, &slide.photo, SHARE_WIDTH);
        context! { url => link.url, width => link.width, height => link.height, alt => slide.alt_text }
    });
    // Previous and next wrap around: after the last photo comes the first.
    let (index, count) = (shown - 1, total.max(1));
    let (prev, next) = ((index + count - 1) % count, (index + 1) % count);
    context! {
        title => match current {
            Some(n) => format!("{} (photo {n} of {total})", story.story.headline),
            None => story.story.headline.clone(),
        },
        description => description(&story.story.lead),
        json_ld => json_ld(origin, site_name, story, &media, language.as_ref()),
        language,
        headline => story.story.headline,
        lead => story.story.lead,
        date => date(story.story.published_at),
        modified => rfc3339(story.story.updated_at),
        canonical => format!("{origin}{}", story_url(slug)),
        share_image,
        prev_url => slide_url(slug, prev + 1),
        next_url => slide_url(slug, next + 1),
        slides,
        total,
    }
}
