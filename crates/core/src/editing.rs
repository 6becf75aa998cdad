//! Editing stories: drafts, slides, order, publication and history. Every
//! change loads the story, changes its content and saves it naming the
//! version it started from, so a concurrent edit is a conflict, never a
//! silent overwrite.

use crate::slug::slugify;
use crate::stories::default_credit;
use crate::{CoreError, Photodesk, Problem};
use chrono::{DateTime, Utc};
use photodesk_db::{NewStory, SaveResult};
use photodesk_types::{
    Photo, PhotoId, Revision, SlideContent, SlideId, StoryContent, StoryId, StoryStatus,
    StoryWithSlides, User,
};
use std::time::Duration;

const MAX_HEADLINE_CHARS: usize = 300;
const MAX_LEAD_PARAGRAPHS: usize = 50;
const MAX_TEXT_CHARS: usize = 10_000;
const MAX_SLIDES: usize = 500;

/// How often the scheduler looks for stories due to go public.
pub const SCHEDULER_PERIOD: Duration = Duration::from_secs(5);

/// Fields of a slide to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SlideChanges {
    pub caption: Option<String>,
    pub alt_text: Option<String>,
    pub credit: Option<String>,
}

fn check_text(field: &str, text: &str, max: usize) -> Result<(), CoreError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(CoreError::Invalid(format!(
            "{field} has {chars} characters; at most {max} are allowed"
        )));
    }
    Ok(())
}

/// Limits that hold for drafts too (completeness is checked on publishing).
fn check_content(content: &StoryContent) -> Result<(), CoreError> {
    if content.headline.trim().is_empty() {
        return Err(CoreError::Invalid("the headline is empty".into()));
    }
    check_text("the headline", &content.headline, MAX_HEADLINE_CHARS)?;
    if content.lead.len() > MAX_LEAD_PARAGRAPHS {
        return Err(CoreError::Invalid(format!(
            "the lead has {} paragraphs; at most {MAX_LEAD_PARAGRAPHS} are allowed",
            content.lead.len()
        )));
    }
    for paragraph in &content.lead {
        check_text("a lead paragraph", paragraph, MAX_TEXT_CHARS)?;
    }
    if content.slides.len() > MAX_SLIDES {
        return Err(CoreError::Invalid(format!(
            "a story holds at most {MAX_SLIDES} slides"
        )));
    }
    for slide in &content.slides {
        check_text("a caption", &slide.caption, MAX_TEXT_CHARS)?;
        check_text("an alt text", &slide.alt_text, MAX_TEXT_CHARS)?;
        check_text("a credit", &slide.credit, 1_000)?;
    }
    Ok(())
}

/// What stops a story from going public.
fn problems(story: &StoryWithSlides) -> Vec<Problem> {
    let mut problems = Vec::new();
    if story.slides.is_empty() {
        problems.push(Problem {
            slide_id: None,
            position: None,
            field: "slides",
            message: "the story has no slides".into(),
        });
    }
    for slide in &story.slides {
        for (field, value, name) in [
            ("caption", &slide.caption, "caption"),
            ("alt_text", &slide.alt_text, "alt text"),
            ("credit", &slide.credit, "credit"),
        ] {
            if value.trim().is_empty() {
                problems.push(Problem {
                    slide_id: Some(slide.id),
                    position: Some(slide.position),
                    field,
                    message: format!("slide {} has no {name}", slide.position),
                });
            }
        }
    }
    problems
}

fn saved(
    result: SaveResult,
    id: StoryId,
    expected: Option<u32>,
) -> Result<StoryWithSlides, CoreError> {
    match result {
        SaveResult::Saved(story) => Ok(story),
        SaveResult::NotFound => Err(CoreError::NotFound(format!("no story {id}"))),
        SaveResult::Conflict { current } => Err(CoreError::Conflict(format!(
            "the story was changed by someone else: you edited version {}, it is now at version \
             {current}; reload it and apply your change again",
            expected.map_or_else(|| "an older".to_owned(), |v| v.to_string())
        ))),
    }
}

impl Photodesk {
    /// A story by slug or else numeric id, whatever its status.
    pub async fn story_by_reference(&self, reference: &str) -> Result<StoryWithSlides, CoreError> {
        let mut found = self.db.story_by_slug(reference).await?;
        if found.is_none() {
            if let Ok(id) = reference.parse::<StoryId>() {
                found = self.db.story_by_id(id).await?;
            }
        }
        found.ok_or_else(|| CoreError::NotFound(format!("no story {reference:?}")))
    }

    /// A story by its numeric id, whatever its status.
    pub async fn story_by_id(&self, id: StoryId) -> Result<StoryWithSlides, CoreError> {
        self.db
            .story_by_id(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no story {id}")))
    }

    /// A new draft with no slides yet.
    pub async fn create_draft(
        &self,
        headline: &str,
        lead: Vec<String>,
        user: &User,
    ) -> Result<StoryWithSlides, CoreError> {
        let content = StoryContent {
            headline: headline.trim().to_owned(),
            lead: lead
                .into_iter()
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            slides: Vec::new(),
        };
        check_content(&content)?;
        let story = self
            .db
            .create_story(NewStory {
                slug: slugify(&content.headline),
                headline: content.headline.clone(),
                lead: content.lead.clone(),
                status: StoryStatus::Draft,
                published_at: None,
                slides: Vec::new(),
            })
            .await?;
        self.db
            .add_first_revision(story.story.id, &content, &user.name)
            .await?;
        Ok(story)
    }

    /// Loads the story, lets `change` edit its content, saves it if nobody
    /// saved in between (and, when `expected` is given, if that is the
    /// version the caller saw).
    pub async fn edit_story(
        &self,
        id: StoryId,
        expected: Option<u32>,
        user: &User,
        change: impl FnOnce(&mut StoryContent) -> Result<(), CoreError>,
    ) -> Result<StoryWithSlides, CoreError> {
        let story = self.story_by_id(id).await?;
        if let Some(expected) = expected {
            if expected != story.story.version {
                return saved(
                    SaveResult::Conflict {
                        current: story.story.version,
                    },
                    id,
                    Some(expected),
                );
            }
        }
        let mut content = story.content();
        change(&mut content)?;
        check_content(&content)?;
        let version = Some(story.story.version);
        let result = self
            .db
            .save_story(id, version, &content, &user.name)
            .await?;
        saved(result, id, expected.or(version))
    }

    /// Appends a slide for a library photo; caption, alt text and credit
    /// default from the photo's metadata where not given.
    pub async fn add_slide(
        &self,
        id: StoryId,
        expected: Option<u32>,
        user: &User,
        photo_id: PhotoId,
        given: SlideChanges,
    ) -> Result<(StoryWithSlides, SlideId), CoreError> {
        let photo = self.photo_by_id(photo_id).await?;
        let metadata = &photo.metadata;
        let slide = SlideContent {
            id: None,
            photo_id,
            caption: given
                .caption
                .unwrap_or_else(|| metadata.caption.clone().unwrap_or_default()),
            alt_text: given
                .alt_text
                .unwrap_or_else(|| metadata.alt_text.clone().unwrap_or_default()),
            credit: given.credit.unwrap_or_else(|| default_credit(metadata)),
        };
        let story = self
            .edit_story(id, expected, user, |content| {
                content.slides.push(slide);
                Ok(())
            })
            .await?;
        let slide_id = story
            .slides
            .last()
            .map(|s| s.id)
            .ok_or_else(|| CoreError::Internal("the new slide is missing".into()))?;
        Ok((story, slide_id))
    }

    pub async fn change_slide(
        &self,
        id: StoryId,
        expected: Option<u32>,
        user: &User,
        slide_id: SlideId,
        changes: SlideChanges,
    ) -> Result<StoryWithSlides, CoreError> {
        self.edit_story(id, expected, user, |content| {
            let slide = content
                .slides
                .iter_mut()
                .find(|s| s.id == Some(slide_id))
                .ok_or_else(|| {
                    CoreError::NotFound(format!("story {id} has no slide {slide_id}"))
                })?;
            if let Some(caption) = changes.caption {
                slide.caption = caption;
            }
            if let Some(alt_text) = changes.alt_text {
                slide.alt_text = alt_text;
            }
            if let Some(credit) = changes.credit {
                slide.credit = credit;
            }
            Ok(())
        })
        .await
    }

    pub async fn remove_slide(
        &self,
        id: StoryId,
        expected: Option<u32>,
        user: &User,
        slide_id: SlideId,
    ) -> Result<StoryWithSlides, CoreError> {
        self.edit_story(id, expected, user, |content| {
            let before = content.slides.len();
            content.slides.retain(|s| s.id != Some(slide_id));
            if content.slides.len() == before {
                return Err(CoreError::NotFound(format!(
                    "story {id} has no slide {slide_id}"
                )));
            }
            Ok(())
        })
        .await
    }

    /// Puts the slides in the order given, which must name each exactly once.
    pub async fn reorder_slides(
        &self,
        id: StoryId,
        expected: Option<u32>,
        user: &User,
        order: &[SlideId],
    ) -> Result<StoryWithSlides, CoreError> {
        self.edit_story(id, expected, user, |content| {
            let mut current: Vec<SlideId> = content.slides.iter().filter_map(|s| s.id).collect();
            let mut wanted = order.to_vec();
            current.sort_unstable();
            wanted.sort_unstable();
            if current != wanted {
                return Err(CoreError::Invalid(
                    "slide_ids must name every slide of the story exactly once".into(),
                ));
            }
            content
                .slides
                .sort_by_key(|s| order.iter().position(|&id| Some(id) == s.id));
            Ok(())
        })
        .await
    }

    /// Publishes now, if nothing is missing.
    pub async fn publish(
        &self,
        id: StoryId,
        expected: Option<u32>,
    ) -> Result<StoryWithSlides, CoreError> {
        self.go_public(id, expected, StoryStatus::Published, Utc::now())
            .await
    }

    /// Publishes at `at` (later than now), if nothing is missing then.
    pub async fn schedule(
        &self,
        id: StoryId,
        expected: Option<u32>,
        at: DateTime<Utc>,
    ) -> Result<StoryWithSlides, CoreError> {
        if at <= Utc::now() {
            return Err(CoreError::Invalid(format!(
                "the time {} has passed; publish now instead",
                at.to_rfc3339()
            )));
        }
        self.go_public(id, expected, StoryStatus::Scheduled, at)
            .await
    }

    async fn go_public(
        &self,
        id: StoryId,
        expected: Option<u32>,
        status: StoryStatus,
        at: DateTime<Utc>,
    ) -> Result<StoryWithSlides, CoreError> {
        let story = self.story_by_id(id).await?;
        let problems = problems(&story);
        if !problems.is_empty() {
            return Err(CoreError::Incomplete(problems));
        }
        let version = expected.unwrap_or(story.story.version);
        let result = self
            .db
            .set_publication(id, Some(version), status, Some(at))
            .await?;
        saved(result, id, Some(version))
    }

    /// Back to draft: readers no longer see it.
    pub async fn unpublish(
        &self,
        id: StoryId,
        expected: Option<u32>,
    ) -> Result<StoryWithSlides, CoreError> {
        let result = self
            .db
            .set_publication(id, expected, StoryStatus::Draft, None)
            .await?;
        saved(result, id, expected)
    }

    pub async fn delete_story(&self, id: StoryId) -> Result<(), CoreError> {
        if self.db.delete_story(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(format!("no story {id}")))
        }
    }

    pub async fn revisions(&self, id: StoryId) -> Result<Vec<Revision>, CoreError> {
        self.story_by_id(id).await?;
        Ok(self.db.revisions(id).await?)
    }

    pub async fn revision(&self, id: StoryId, version: u32) -> Result<StoryContent, CoreError> {
        self.db
            .revision_content(id, version)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("story {id} has no revision {version}")))
    }

    /// Saves an old revision's content as the newest version. Slides whose
    /// photos are still in the library come back; removed slides come back
    /// as new slides.
    pub async fn restore_revision(
        &self,
        id: StoryId,
        version: u32,
        expected: Option<u32>,
        user: &User,
    ) -> Result<StoryWithSlides, CoreError> {
        let old = self.revision(id, version).await?;
        self.edit_story(id, expected, user, |content| {
            let live: Vec<SlideId> = content.slides.iter().filter_map(|s| s.id).collect();
            content.headline = old.headline;
            content.lead = old.lead;
            content.slides = old
                .slides
                .into_iter()
                .map(|mut slide| {
                    if slide.id.is_some_and(|id| !live.contains(&id)) {
                        slide.id = None;
                    }
                    slide
                })
                .collect();
            Ok(())
        })
        .await
    }

    /// Publishes scheduled stories whose time has come (each exactly once,
    /// however many instances run this).
    pub async fn publish_due(&self) -> Result<Vec<String>, CoreError> {
        Ok(self.db.publish_due(Utc::now()).await?)
    }

    /// Runs [`Photodesk::publish_due`] every few seconds, in the background.
    pub fn spawn_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SCHEDULER_PERIOD);
            loop {
                tick.tick().await;
                match app.publish_due().await {
                    Ok(slugs) => {
                        for slug in slugs {
                            tracing::info!(%slug, "scheduled story published");
                        }
                    }
                    Err(err) => tracing::warn!(%err, "scheduled publishing failed"),
                }
            }
        })
    }

    pub async fn photo_by_id(&self, id: PhotoId) -> Result<Photo, CoreError> {
        self.db
            .photo_by_id(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no photo {id}")))
    }

    pub async fn search_photos(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Photo>, CoreError> {
        Ok(self.db.search_photos(query.trim(), limit, offset).await?)
    }
}
