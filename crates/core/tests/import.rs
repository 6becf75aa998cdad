//! Story import end to end on a real SQLite database and blob folder.

use photodesk_core::CoreError;
use photodesk_testkit::{jpeg, story_text, TestApp, SEED_STORY};
use photodesk_types::StoryStatus;

async fn snapshot(t: &TestApp) -> (photodesk_db::Counts, Vec<String>) {
    (
        t.app.database().counts().await.unwrap(),
        t.app.blobs().list().await.unwrap(),
    )
}

#[tokio::test]
async fn the_seed_story_imports_with_its_photos_in_order() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 12);
    let story = t
        .app
        .import_story(SEED_STORY.as_bytes(), &photos, true)
        .await
        .unwrap();
    assert_eq!(story.story.slug, "photos-putin-visits-chinas-harbin");
    assert_eq!(story.story.status, StoryStatus::Published);
    assert_eq!(story.slides.len(), 12);
    // Slide n got photo n.jpg (natural order, so 10.jpg is slide 10).
    for (n, slide) in story.slides.iter().enumerate() {
        let expected = jpeg(48, 32, (n + 1) as u8);
        let (bytes, media_type) = t.app.original(&slide.photo.sha256).await.unwrap();
        assert_eq!(&bytes[..], &expected[..], "slide {}", n + 1);
        assert_eq!(media_type, "image/jpeg");
        assert_eq!((slide.photo.width, slide.photo.height), (48, 32));
    }
    let (counts, blobs) = snapshot(&t).await;
    assert_eq!((counts.stories, counts.slides, counts.photos), (1, 12, 12));
    // Each 48-px photo has its original and one JPEG and one WebP rendition
    // (AVIF comes later); every recorded rendition is in the store.
    assert_eq!(
        blobs.iter().filter(|k| k.starts_with("originals/")).count(),
        12
    );
    assert_eq!(
        blobs
            .iter()
            .filter(|k| k.starts_with("renditions/"))
            .count(),
        24
    );
    for slide in &story.slides {
        let formats: Vec<_> = slide
            .photo
            .renditions
            .iter()
            .map(|r| r.format.to_string())
            .collect();
        assert_eq!(formats, ["jpeg", "webp"]);
        assert!(slide
            .photo
            .renditions
            .iter()
            .all(|r| blobs.contains(&r.key)));
        assert!(slide.photo.placeholder.is_some());
    }
    assert_eq!(t.app.public_story(&story.story.slug).await.unwrap(), story);
}

#[tokio::test]
async fn drafts_are_not_public_and_slugs_stay_unique() {
    let t = TestApp::new().await;
    let photos = t.photo_folder("photos", 2);
    let text = story_text("Same headline", 2);
    let draft = t
        .app
        .import_story(text.as_bytes(), &photos, false)
        .await
        .unwrap();
    let published = t
        .app
        .import_story(text.as_bytes(), &photos, true)
        .await
        .unwrap();
    assert_eq!(draft.story.slug, "same-headline");
    assert_eq!(published.story.slug, "same-headline-2");
    assert!(t
        .app
        .public_story("same-headline")
        .await
        .unwrap_err()
        .is_not_found());
    assert!(t.app.public_story("same-headline-2").await.is_ok());
    let listed = t.app.public_stories(10, 0).await.unwrap();
    assert_eq!(listed.len(), 1);
    // The same photos twice are stored once.
    let (counts, blobs) = snapshot(&t).await;
    assert_eq!((counts.photos, blobs.len()), (2, 2 * 3));
}

#[tokio::test]
async fn failed_imports_store_nothing() {
    let t = TestApp::new().await.with_seed_story().await;
    let before = snapshot(&t).await;

    let eleven = t.photo_folder("eleven", 11);
    let err = t
        .app
        .import_story(SEED_STORY.as_bytes(), &eleven, true)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("line 10: the story has 12 slides but")
            && message.contains("holds 11 photos"),
        "{message}"
    );

    let broken = t.photo_folder("broken", 3);
    let whole = jpeg(48, 32, 99);
    std::fs::write(broken.join("2.jpg"), &whole[..whole.len() / 3]).unwrap();
    let err = t
        .app
        .import_story(story_text("Broken", 3).as_bytes(), &broken, true)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, CoreError::Invalid(_)), "{message}");
    assert!(
        message.contains("line 8: photo") && message.contains("2.jpg for slide 2"),
        "{message}"
    );
    assert!(message.contains("corrupt or truncated"), "{message}");

    let not_photo = t.photo_folder("text", 1);
    std::fs::write(not_photo.join("1.jpg"), b"just some text").unwrap();
    let err = t
        .app
        .import_story(story_text("Text", 1).as_bytes(), &not_photo, true)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Unsupported(_)), "{err}");

    let err = t
        .app
        .import_story(b"Headline\n1 / 1\n\n", &eleven, true)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "line 2: slide 1 has an empty caption");

    assert_eq!(snapshot(&t).await, before);
}

#[tokio::test]
async fn a_database_failure_after_the_blobs_were_written_removes_them() {
    let t = TestApp::new().await.with_seed_story().await;
    let before = snapshot(&t).await;
    // Make the real database fail half-way through the transaction: a
    // trigger refuses the third slide, after the story row, two slides and
    // their photos were inserted and all originals written to the blob store.
    let url = &t.config.database_url;
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(
            "CREATE FUNCTION fail_third() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.position = 3 THEN RAISE EXCEPTION 'injected failure'; END IF;
                 RETURN NEW;
             END $$",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER fail_third BEFORE INSERT ON slides
             FOR EACH ROW EXECUTE FUNCTION fail_third()",
        )
        .execute(&pool)
        .await
        .unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER fail_third BEFORE INSERT ON slides WHEN NEW.position = 3
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .execute(&pool)
        .await
        .unwrap();
    }

    // Seed photos 1–12 are already stored; these four are new, the fifth is
    // seed photo 1 again and must survive the clean-up.
    let folder = t.dir.path().join("mixed");
    std::fs::create_dir_all(&folder).unwrap();
    for n in 1..=4u8 {
        std::fs::write(folder.join(format!("{n}.jpg")), jpeg(48, 32, n + 12)).unwrap();
    }
    std::fs::write(folder.join("5.jpg"), jpeg(48, 32, 1)).unwrap();
    let err = t
        .app
        .import_story(story_text("Doomed", 5).as_bytes(), &folder, true)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(snapshot(&t).await, before);
}

#[tokio::test]
async fn slides_take_credit_and_alt_text_from_the_photo_but_never_alt_from_the_caption() {
    let t = TestApp::new().await;
    let folder = t.photo_folder("tagged", 2);
    let status = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-codedcharacterset=utf8",
            "-IPTC:Caption-Abstract=Подпись из файла",
            "-IPTC:Credit=РИА Новости / Пул",
            "-XMP-iptcCore:AltTextAccessibility=Два человека пожимают руки.",
        ])
        .arg(folder.join("1.jpg"))
        .status()
        .expect("exiftool runs");
    assert!(status.success());
    let status = std::process::Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-XMP-dc:Creator=Jane Doe",
            "-XMP-dc:Creator=John Roe",
            "-XMP-dc:Description=Only a caption",
        ])
        .arg(folder.join("2.jpg"))
        .status()
        .unwrap();
    assert!(status.success());

    let story = t
        .app
        .import_story(story_text("Tagged", 2).as_bytes(), &folder, true)
        .await
        .unwrap();
    let first = &story.slides[0];
    assert_eq!(
        first.caption, "Caption of photo 1.",
        "the story text's caption wins"
    );
    assert_eq!(first.credit, "РИА Новости / Пул");
    assert_eq!(first.alt_text, "Два человека пожимают руки.");
    assert_eq!(
        first.photo.metadata.caption.as_deref(),
        Some("Подпись из файла")
    );
    let second = &story.slides[1];
    assert_eq!(second.credit, "Jane Doe, John Roe");
    assert_eq!(
        second.alt_text, "",
        "no alt text in the file: none is invented"
    );
}
