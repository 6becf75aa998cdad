use super::*;
use crate::NewSlide;

fn photo(n: u8) -> NewPhoto {
    NewPhoto {
        sha256: format!("{n:02x}").repeat(32),
        media_type: "image/jpeg".into(),
        width: 800,
        height: 600,
        byte_size: 1234,
        metadata: photodesk_types::PhotoMetadata {
            caption: Some(format!("Embedded caption {n}")),
            keywords: vec!["a".into(), "б".into()],
            orientation: 1,
            ..Default::default()
        },
        placeholder: Some("3OcRJYB4d3h/iIeHeEh3eIhw+j2w".into()),
        perceptual_hash: Some(format!("{n:02x}").repeat(16)),
        near_duplicate_of: None,
        renditions: [
            (RenditionFormat::Jpeg, 320),
            (RenditionFormat::Webp, 320),
            (RenditionFormat::Jpeg, 640),
        ]
        .into_iter()
        .map(|(format, width)| Rendition {
            format,
            width,
            height: width * 3 / 4,
            quality: 82,
            byte_size: 1000 + u64::from(width),
            key: format!("renditions/{n:02x}/{width}.{}", format.extension()),
        })
        .collect(),
    }
}

fn story(headline: &str, status: StoryStatus, photos: &[u8]) -> NewStory {
    NewStory {
        slug: "same-slug".into(),
        headline: headline.into(),
        lead: vec!["First paragraph.".into(), "Второй абзац.".into()],
        status,
        published_at: (status == StoryStatus::Published).then(Utc::now),
        slides: photos
            .iter()
            .map(|&n| NewSlide {
                photo: photo(n),
                caption: format!("Caption {n} — «quoted»"),
                alt_text: format!("Alt {n}"),
                credit: "Photo: Someone".into(),
            })
            .collect(),
    }
}

async fn open() -> (tempfile::TempDir, SqliteDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("photodesk.db"))
        .await
        .unwrap();
    (dir, db)
}

#[tokio::test]
async fn story_round_trip_keeps_every_field_and_order() {
    let (_dir, db) = open().await;
    let created = db
        .create_story(story("Headline", StoryStatus::Published, &[3, 1, 2]))
        .await
        .unwrap();
    let loaded = db.story_by_slug("same-slug").await.unwrap().unwrap();
    assert_eq!(created, loaded);
    assert_eq!(loaded.story.lead[1], "Второй абзац.");
    let positions: Vec<u32> = loaded.slides.iter().map(|s| s.position).collect();
    assert_eq!(positions, [1, 2, 3]);
    let captions: Vec<&str> = loaded.slides.iter().map(|s| s.caption.as_str()).collect();
    assert_eq!(
        captions,
        [
            "Caption 3 — «quoted»",
            "Caption 1 — «quoted»",
            "Caption 2 — «quoted»"
        ]
    );
    assert_eq!(loaded.slides[0].photo.sha256, "03".repeat(32));
    assert_eq!(
        loaded.slides[0].photo.metadata.caption.as_deref(),
        Some("Embedded caption 3")
    );
    assert_eq!(loaded.slides[0].photo.metadata.keywords, ["a", "б"]);
}

#[tokio::test]
async fn slugs_stay_unique_and_photos_are_shared() {
    let (_dir, db) = open().await;
    let a = db
        .create_story(story("A", StoryStatus::Draft, &[1, 2]))
        .await
        .unwrap();
    let b = db
        .create_story(story("B", StoryStatus::Draft, &[2, 3]))
        .await
        .unwrap();
    let c = db
        .create_story(story("C", StoryStatus::Draft, &[1]))
        .await
        .unwrap();
    assert_eq!(
        [a.story.slug, b.story.slug, c.story.slug],
        ["same-slug", "same-slug-2", "same-slug-3"]
    );
    let counts = db.counts().await.unwrap();
    assert_eq!(
        counts,
        Counts {
            stories: 3,
            slides: 5,
            photos: 3
        }
    );
    assert_eq!(b.slides[0].photo.id, a.slides[1].photo.id);
}

#[tokio::test]
async fn public_listing_hides_drafts_and_future_publications() {
    let (_dir, db) = open().await;
    db.create_story(story("Draft", StoryStatus::Draft, &[1]))
        .await
        .unwrap();
    let mut later = story("Later", StoryStatus::Published, &[2]);
    later.published_at = Some(Utc::now() + chrono::Duration::hours(1));
    db.create_story(later).await.unwrap();
    let mut old = story("Old", StoryStatus::Published, &[3]);
    old.published_at = Some(Utc::now() - chrono::Duration::hours(2));
    db.create_story(old).await.unwrap();
    db.create_story(story("New", StoryStatus::Published, &[4, 5]))
        .await
        .unwrap();

    let public = db
        .list_stories(Visibility::PublicAt(Utc::now()), "", 10, 0)
        .await
        .unwrap();
    let headlines: Vec<&str> = public.iter().map(|s| s.headline.as_str()).collect();
    assert_eq!(headlines, ["New", "Old"]);
    assert_eq!(public[0].slide_count, 2);
    assert_eq!(public[0].cover.as_ref().unwrap().sha256, "04".repeat(32));
    assert_eq!(public[0].cover_alt, "Alt 4");

    let all = db.list_stories(Visibility::All, "", 10, 0).await.unwrap();
    assert_eq!(all.len(), 4);
    let page = db.list_stories(Visibility::All, "", 2, 3).await.unwrap();
    assert_eq!(page.len(), 1);
    let found = db.list_stories(Visibility::All, "nE", 10, 0).await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|s| s.headline.as_str())
            .collect::<Vec<_>>(),
        ["New"]
    );
}

#[tokio::test]
async fn a_failing_transaction_leaves_no_rows() {
    let (_dir, db) = open().await;
    // A real constraint failure half-way: the second slide names a photo whose
    // width violates the CHECK, after the story and first slide were inserted.
    let mut bad = story("Bad", StoryStatus::Draft, &[1, 2]);
    bad.slides[1].photo.width = 0;
    assert!(db.create_story(bad).await.is_err());
    assert_eq!(db.counts().await.unwrap(), Counts::default());
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photodesk.db");
    {
        let db = SqliteDatabase::open(&path).await.unwrap();
        db.create_story(story("Kept", StoryStatus::Draft, &[1]))
            .await
            .unwrap();
    }
    let db = SqliteDatabase::open(&path).await.unwrap();
    assert_eq!(db.counts().await.unwrap().stories, 1);
    assert!(db
        .photo_by_sha256(&"01".repeat(32))
        .await
        .unwrap()
        .is_some());
    assert!(db.photo_by_sha256("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn photos_keep_renditions_and_fingerprints() {
    let (_dir, db) = open().await;
    let story = db
        .create_story(story("R", StoryStatus::Draft, &[1]))
        .await
        .unwrap();
    let photo = &story.slides[0].photo;
    assert_eq!(photo.renditions, self::photo(1).renditions);
    assert_eq!(photo.placeholder, self::photo(1).placeholder);
    assert_eq!(photo.perceptual_hash, self::photo(1).perceptual_hash);

    // Insert again: nothing new; later renditions are added beside the others.
    let (again, created) = db.insert_photo(self::photo(1)).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, photo.id);
    assert_eq!(
        db.photos_lacking(RenditionFormat::Avif, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let avif = Rendition {
        format: RenditionFormat::Avif,
        width: 320,
        height: 240,
        quality: 60,
        byte_size: 500,
        key: "renditions/01/320.avif".into(),
    };
    db.add_renditions(&photo.sha256, vec![avif.clone()])
        .await
        .unwrap();
    let loaded = db.photo_by_sha256(&photo.sha256).await.unwrap().unwrap();
    assert_eq!(loaded.renditions.len(), 4);
    assert!(loaded.renditions.contains(&avif));
    assert!(db
        .photos_lacking(RenditionFormat::Avif, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_near_duplicate_names_the_earlier_photo() {
    let (_dir, db) = open().await;
    let (first, created) = db.insert_photo(photo(1)).await.unwrap();
    assert!(created);
    let mut burst = photo(2);
    burst.near_duplicate_of = Some(first.sha256.clone());
    let (second, created) = db.insert_photo(burst).await.unwrap();
    assert!(created);
    assert_eq!(second.near_duplicate_of, Some(first.sha256.clone()));
    let hashes = db.perceptual_hashes().await.unwrap();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0], (first.sha256, "01".repeat(16)));
}
