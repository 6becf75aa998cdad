//! Stories: import, and what readers may see.

use crate::import::{photos_in_folder, text};
use crate::slug::slugify;
use crate::{CoreError, PhotoInput, Photodesk, StagedPhoto};
use chrono::Utc;
use photodesk_db::{NewSlide, NewStory, Visibility};
use photodesk_types::{Photo, PhotoMetadata, StoryStatus, StorySummary, StoryWithSlides};
use std::path::Path;
use tokio::task::JoinSet;

impl Photodesk {
    /// Imports a plain-text story with one photo per slide from `photo_dir`.
    ///
    /// The text and photo count are checked first; then every photo is
    /// decoded and its original and renditions stored; only if all succeed
    /// is the story written, in one transaction. On any failure the blobs
    /// this import added are removed again: nothing stays behind.
    pub async fn import_story(
        &self,
        story_text: &[u8],
        photo_dir: &Path,
        publish: bool,
    ) -> Result<StoryWithSlides, CoreError> {
        let parsed =
            text::parse_bytes(story_text).map_err(|e| CoreError::Invalid(e.to_string()))?;
        let photo_paths = photos_in_folder(photo_dir)?;
        if photo_paths.len() != parsed.slides.len() {
            return Err(CoreError::Invalid(format!(
                "line {}: the story has {} slides but {} holds {} photos; it needs one photo per slide",
                parsed.slides[0].line,
                parsed.slides.len(),
                photo_dir.display(),
                photo_paths.len()
            )));
        }
        let photos = photo_paths.into_iter().map(PhotoInput::File).collect();
        self.import_parsed_story(parsed, photos, publish).await
    }

    /// Imports a story sent as text with its photos as uploaded files (the
    /// editor's import): photos in natural name order, one per slide, as a
    /// draft. The same checks and all-or-nothing rule as a folder import.
    pub async fn import_uploaded_story(
        &self,
        story_text: &[u8],
        mut files: Vec<(String, bytes::Bytes)>,
    ) -> Result<StoryWithSlides, CoreError> {
        let parsed =
            text::parse_bytes(story_text).map_err(|e| CoreError::Invalid(e.to_string()))?;
        files.retain(|(name, _)| crate::import::is_photo_file_name(name));
        crate::import::sort_by_name(&mut files);
        if files.len() != parsed.slides.len() {
            return Err(CoreError::Invalid(format!(
                "the story has {} slides but {} photos were sent; it needs one photo per slide",
                parsed.slides.len(),
                files.len()
            )));
        }
        let photos = files
            .into_iter()
            .map(|(name, bytes)| PhotoInput::Bytes { name, bytes })
            .collect();
        self.import_parsed_story(parsed, photos, false).await
    }

    /// Imports an already parsed story with one photo per slide, in order.
    pub async fn import_parsed_story(
        &self,
        parsed: text::StoryText,
        photos: Vec<PhotoInput>,
        publish: bool,
    ) -> Result<StoryWithSlides, CoreError> {
        if photos.len() != parsed.slides.len() {
            return Err(CoreError::Invalid(format!(
                "line {}: the story has {} slides but {} photos were given",
                parsed.slides[0].line,
                parsed.slides.len(),
                photos.len()
            )));
        }
        let names: Vec<String> = photos.iter().map(PhotoInput::name).collect();
        let mut tasks = JoinSet::new();
        for (index, photo) in photos.into_iter().enumerate() {
            let app = self.clone();
            tasks.spawn(async move { (index, app.stage_photo(photo).await) });
        }
        let mut staged: Vec<Option<StagedPhoto>> = vec![None; names.len()];
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (index, result) =
                joined.map_err(|e| CoreError::Internal(format!("photo check failed: {e}")))?;
            match result {
                Ok(photo) => staged[index] = Some(photo),
                Err(err) => failures.push((index, err)),
            }
        }
        let mut staged: Vec<StagedPhoto> = staged.into_iter().flatten().collect();
        let created: Vec<String> = staged
            .iter()
            .flat_map(|photo| photo.created_keys.iter().cloned())
            .collect();
        if let Some((index, err)) = failures.into_iter().min_by_key(|(index, _)| *index) {
            self.remove_unreferenced(&created).await;
            return Err(err.context(format_args!(
                "line {}: photo {} for slide {}",
                parsed.slides[index].line,
                names[index],
                index + 1
            )));
        }

        for (slide, photo) in staged.iter().enumerate() {
            for problem in &photo.warnings {
                tracing::warn!(slide = slide + 1, photo = %names[slide], "{problem}");
            }
        }
        let mut catalogue = self.catalogue.lock().await;
        let fresh = staged
            .iter_mut()
            .filter(|photo| !photo.duplicate)
            .map(|photo| &mut photo.record);
        if let Err(err) = self.flag_near_duplicates(&mut catalogue, fresh).await {
            self.remove_unreferenced(&created).await;
            return Err(err);
        }
        let new_story = NewStory {
            slug: slugify(&parsed.headline),
            headline: parsed.headline,
            lead: parsed.lead,
            status: if publish {
                StoryStatus::Published
            } else {
                StoryStatus::Draft
            },
            published_at: publish.then(Utc::now),
            slides: parsed
                .slides
                .into_iter()
                .zip(staged)
                .map(|(slide, photo)| NewSlide {
                    alt_text: photo.record.metadata.alt_text.clone().unwrap_or_default(),
                    credit: default_credit(&photo.record.metadata),
                    caption: slide.caption,
                    photo: photo.record,
                })
                .collect(),
        };
        match self.db.create_story(new_story).await {
            Ok(story) => {
                tracing::info!(slug = %story.story.slug, slides = story.slides.len(), "story imported");
                Ok(story)
            }
            Err(err) => {
                self.remove_unreferenced(&created).await;
                Err(err.into())
            }
        }
    }

    /// Published stories, newest first.
    pub async fn public_stories(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<StorySummary>, CoreError> {
        Ok(self
            .db
            .list_stories(Visibility::PublicAt(Utc::now()), "", limit, offset)
            .await?)
    }

    /// What readers may learn of a photo: its GPS position only where the
    /// site keeps it in renditions too (it can endanger sources).
    fn for_readers(&self, photo: &mut Photo) {
        if !self.embed.keep_location {
            photo.metadata.gps = None;
        }
    }

    /// Every story, drafts included, newest first, optionally only those
    /// whose headline contains `search`: the editor's list.
    pub async fn all_stories(
        &self,
        search: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<StorySummary>, CoreError> {
        Ok(self
            .db
            .list_stories(Visibility::All, search.trim(), limit, offset)
            .await?)
    }

    /// A story as readers see it, by slug (or id): drafts and stories not
    /// yet due are not found.
    pub async fn public_story(&self, reference: &str) -> Result<StoryWithSlides, CoreError> {
        let mut story = self.story_by_reference(reference).await?;
        let due = story.story.published_at.is_some_and(|at| at <= Utc::now());
        if story.story.status == StoryStatus::Published && due {
            for slide in &mut story.slides {
                self.for_readers(&mut slide.photo);
            }
            Ok(story)
        } else {
            Err(CoreError::NotFound(format!("no story {reference:?}")))
        }
    }

    /// Any story by slug, whatever its status (for editors and tools).
    pub async fn story(&self, slug: &str) -> Result<Option<StoryWithSlides>, CoreError> {
        Ok(self.db.story_by_slug(slug).await?)
    }
}

/// A slide's credit when none is given: the photo's credit line, else its
/// creators. (Alt text is never derived from the caption: a caption read
/// aloud as alt text is a known accessibility failure.)
pub(crate) fn default_credit(metadata: &PhotoMetadata) -> String {
    metadata
        .credit
        .clone()
        .unwrap_or_else(|| metadata.creator.join(", "))
}
