//! What templates receive: plain values prepared from domain types, so the
//! templates hold no logic beyond loops and conditionals.

use chrono::{DateTime, Utc};
use minijinja::{context, Value};
use photodesk_types::{Photo, StorySummary, StoryWithSlides};
use serde::Serialize;

pub fn original_url(photo: &Photo) -> String {
    format!("/originals/{}", photo.sha256)
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

#[derive(Serialize)]
struct Image {
    url: String,
    width: u32,
    height: u32,
    alt: String,
}

fn image(photo: &Photo, alt: &str) -> Image {
    Image {
        url: original_url(photo),
        width: photo.width,
        height: photo.height,
        alt: alt.to_owned(),
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
                cover => s.cover.as_ref().map(|p| image(p, &s.cover_alt)),
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
                image => image(&slide.photo, &slide.alt_text),
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
