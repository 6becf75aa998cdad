use super::*;
use crate::backend::query;
use crate::NewSlide;
use photodesk_testservers::Postgres;

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
        rendition_version: None,
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

/// A database server or file for one test; every case runs on both.
enum Fixture {
    Sqlite(tempfile::TempDir),
    Postgres { _server: Postgres, url: String },
}

impl Fixture {
    fn sqlite() -> Fixture {
        Fixture::Sqlite(tempfile::tempdir().unwrap())
    }

    fn postgres() -> Fixture {
        let server = Postgres::start();
        let url = server.create_database();
        Fixture::Postgres {
            _server: server,
            url,
        }
    }

    /// Opens (again) the same database.
    async fn open(&self) -> SqlDatabase {
        match self {
            Fixture::Sqlite(dir) => {
                SqlDatabase::open_sqlite(&dir.path().join("photodesk.db")).await
            }
            Fixture::Postgres { url, .. } => SqlDatabase::open_postgres(url).await,
        }
        .unwrap()
    }
}

/// Each case as a test on SQLite and a test on PostgreSQL.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Fixture::sqlite()).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Fixture::postgres()).await
            })*
        }
    };
}

async fn story_round_trip_keeps_every_field_and_order(fixture: Fixture) {
    let db = fixture.open().await;
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

async fn slugs_stay_unique_and_photos_are_shared(fixture: Fixture) {
    let db = fixture.open().await;
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

async fn public_listing_hides_drafts_and_future_publications(fixture: Fixture) {
    let db = fixture.open().await;
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

async fn a_failing_transaction_leaves_no_rows(fixture: Fixture) {
    let db = fixture.open().await;
    // A real constraint failure half-way: the second slide names a photo whose
    // width violates the CHECK, after the story and first slide were inserted.
    let mut bad = story("Bad", StoryStatus::Draft, &[1, 2]);
    bad.slides[1].photo.width = 0;
    assert!(db.create_story(bad).await.is_err());
    assert_eq!(db.counts().await.unwrap(), Counts::default());
}

async fn reopening_keeps_data_and_migrations_are_idempotent(fixture: Fixture) {
    {
        let db = fixture.open().await;
        db.create_story(story("Kept", StoryStatus::Draft, &[1]))
            .await
            .unwrap();
        db.close().await;
    }
    let db = fixture.open().await;
    assert_eq!(db.counts().await.unwrap().stories, 1);
    assert!(db
        .photo_by_sha256(&"01".repeat(32))
        .await
        .unwrap()
        .is_some());
    assert!(db.photo_by_sha256("nope").await.unwrap().is_none());
}

/// A 320-px AVIF rendition stored under `key`, as the worker records one.
fn avif_rendition(key: &str) -> Rendition {
    Rendition {
        format: RenditionFormat::Avif,
        width: 320,
        height: 240,
        quality: 60,
        byte_size: 500,
        key: key.into(),
    }
}

async fn photos_keep_renditions_and_fingerprints(fixture: Fixture) {
    let db = fixture.open().await;
    let story = db
        .create_story(story("R", StoryStatus::Draft, &[1]))
        .await
        .unwrap();
    let photo = &story.slides[0].photo;
    assert_eq!(photo.renditions, self::photo(1).renditions);
    assert_eq!(photo.placeholder, self::photo(1).placeholder);
    assert_eq!(photo.perceptual_hash, self::photo(1).perceptual_hash);

    // Insert again: nothing new. The set lacks a format (no version) until
    // one is added with the version of the whole set.
    let (again, created) = db.insert_photo(self::photo(1)).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, photo.id);
    let ids = |photos: Vec<Photo>| photos.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        ids(db
            .photos_lacking_renditions(Utc::now(), 0, 10)
            .await
            .unwrap()),
        [photo.id]
    );
    // A cursor past the photo's id finds no more.
    assert!(db
        .photos_lacking_renditions(Utc::now(), photo.id, 10)
        .await
        .unwrap()
        .is_empty());
    let avif = avif_rendition("renditions/01/320w-q60-v1.avif");
    db.add_renditions(&photo.sha256, vec![avif.clone()], Some(1))
        .await
        .unwrap();
    let loaded = db.photo_by_sha256(&photo.sha256).await.unwrap().unwrap();
    assert_eq!(loaded.renditions.len(), 4);
    assert!(loaded.renditions.contains(&avif));
    assert!(db
        .photos_lacking_renditions(Utc::now(), 0, 10)
        .await
        .unwrap()
        .is_empty());

    // A set of an earlier pipeline version is found by that version, and
    // replaced all at once.
    assert!(db
        .photos_with_renditions_before(1, Utc::now(), 0, 10)
        .await
        .unwrap()
        .is_empty());
    let stale = db
        .photos_with_renditions_before(2, Utc::now(), 0, 10)
        .await
        .unwrap();
    assert_eq!(ids(stale.clone()), [photo.id]);
    assert_eq!(stale[0].renditions.len(), 4);
    assert!(db
        .photos_with_renditions_before(2, Utc::now(), photo.id, 10)
        .await
        .unwrap()
        .is_empty());
    let current = Rendition {
        key: "renditions/01/320w-q60-v2.avif".into(),
        ..avif
    };
    db.replace_renditions(&photo.sha256, vec![current.clone()], Some(2))
        .await
        .unwrap();
    let loaded = db.photo_by_sha256(&photo.sha256).await.unwrap().unwrap();
    assert_eq!(loaded.renditions, [current]);
    assert!(db
        .photos_with_renditions_before(2, Utc::now(), 0, 10)
        .await
        .unwrap()
        .is_empty());
    // A set recorded as lacking again is looked for as such, not as stale.
    db.add_renditions(&photo.sha256, Vec::new(), None)
        .await
        .unwrap();
    assert_eq!(
        ids(db
            .photos_lacking_renditions(Utc::now(), 0, 10)
            .await
            .unwrap()),
        [photo.id]
    );
    assert!(db
        .photos_with_renditions_before(3, Utc::now(), 0, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Migration 0007 gives a library from before it the version of each
/// photo's set from its keys: none where a format is missing, 1 where a
/// key is of version 1, else 2.
async fn rendition_versions_are_read_from_the_keys_of_a_library(fixture: Fixture) {
    let db = fixture.open().await;
    let with_keys = |n: u8, keys: &[(RenditionFormat, &str)]| NewPhoto {
        renditions: keys
            .iter()
            .map(|&(format, version)| Rendition {
                format,
                key: format!("renditions/{n}/320w-q80-{version}.{}", format.extension()),
                ..avif_rendition("")
            })
            .collect(),
        rendition_version: Some(99),
        ..photo(n)
    };
    use RenditionFormat::{Avif, Jpeg, Webp};
    let current = db
        .insert_photo(with_keys(1, &[(Jpeg, "v2"), (Webp, "v2"), (Avif, "v2")]))
        .await
        .unwrap()
        .0;
    let older = db
        .insert_photo(with_keys(2, &[(Jpeg, "v1"), (Webp, "v1"), (Avif, "v2")]))
        .await
        .unwrap()
        .0;
    let lacking = db
        .insert_photo(with_keys(3, &[(Jpeg, "v2"), (Webp, "v2")]))
        .await
        .unwrap()
        .0;
    let migration = match db.dialect() {
        Dialect::Sqlite => include_str!("../../migrations/sqlite/0007_rendition_version.sql"),
        Dialect::Postgres => include_str!("../../migrations/postgres/0007_rendition_version.sql"),
    };
    let start = migration.find("UPDATE photos").unwrap();
    let end = start + migration[start..].find("END;").unwrap() + 3;
    query(&migration[start..end])
        .execute(&db.pool)
        .await
        .unwrap();
    let ids = |photos: Vec<Photo>| photos.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        ids(db
            .photos_lacking_renditions(Utc::now(), 0, 10)
            .await
            .unwrap()),
        [lacking.id]
    );
    assert_eq!(
        ids(db
            .photos_with_renditions_before(2, Utc::now(), 0, 10)
            .await
            .unwrap()),
        [older.id]
    );
    assert_eq!(
        ids(db
            .photos_with_renditions_before(3, Utc::now(), 0, 10)
            .await
            .unwrap()),
        [current.id, older.id]
    );
}

async fn a_near_duplicate_names_the_earlier_photo(fixture: Fixture) {
    let db = fixture.open().await;
    let (first, created) = db.insert_photo(photo(1)).await.unwrap();
    assert!(created);
    let mut burst = photo(2);
    burst.near_duplicate_of = Some(first.sha256.clone());
    let (second, created) = db.insert_photo(burst).await.unwrap();
    assert!(created);
    assert_eq!(second.near_duplicate_of, Some(first.sha256.clone()));
    let fingerprints = db.fingerprints_after(0).await.unwrap();
    assert_eq!(fingerprints.len(), 2);
    let expected = Fingerprints {
        placeholder: photo(1).placeholder.unwrap(),
        perceptual_hash: "01".repeat(16),
    };
    assert_eq!(fingerprints[0], (first.id, expected));
    // Those added since a photo was read.
    let since = db.fingerprints_after(first.id).await.unwrap();
    assert_eq!(
        since.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [second.id]
    );
}

async fn saves_check_versions_and_keep_revisions(fixture: Fixture) {
    let db = fixture.open().await;
    let created = db
        .create_story(story("First", StoryStatus::Draft, &[1, 2, 3]))
        .await
        .unwrap();
    let id = created.story.id;
    let original = created.content();
    db.add_first_revision(id, &original, "ann").await.unwrap();
    let (added, _) = db.insert_photo(photo(9)).await.unwrap();

    // Reorder, edit, drop one slide and add a new one, in one save.
    let mut edited = original.clone();
    edited.headline = "Second — «edited»".into();
    edited.slides.swap(0, 2);
    edited.slides.remove(1);
    edited.slides[0].caption = "Moved first".into();
    edited.slides.push(photodesk_types::SlideContent {
        id: None,
        photo_id: added.id,
        caption: "New slide".into(),
        alt_text: "New alt".into(),
        credit: "Agency".into(),
    });
    let SaveResult::Saved(saved) = db.save_story(id, Some(1), &edited, "bo").await.unwrap() else {
        panic!("save refused");
    };
    assert_eq!(saved.story.version, 2);
    assert_eq!(saved.story.headline, "Second — «edited»");
    let order: Vec<(i64, &str)> = saved
        .slides
        .iter()
        .map(|s| (s.id, s.caption.as_str()))
        .collect();
    assert_eq!(order[0], (created.slides[2].id, "Moved first"));
    assert_eq!(order[1], (created.slides[0].id, "Caption 1 — «quoted»"));
    assert_eq!(order[2].1, "New slide");
    assert_eq!(
        saved.slides.iter().map(|s| s.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );

    // A save from the old version is a conflict and changes nothing.
    assert_eq!(
        db.save_story(id, Some(1), &original, "ann").await.unwrap(),
        SaveResult::Conflict { current: 2 }
    );
    assert_eq!(
        db.save_story(id + 1000, None, &original, "ann")
            .await
            .unwrap(),
        SaveResult::NotFound
    );
    let revisions = db.revisions(id).await.unwrap();
    assert_eq!(
        revisions
            .iter()
            .map(|r| (r.version, r.user.as_str()))
            .collect::<Vec<_>>(),
        [(2, "bo"), (1, "ann")]
    );
    assert_eq!(db.revision_content(id, 1).await.unwrap(), Some(original));
    assert_eq!(db.revision_content(id, 7).await.unwrap(), None);

    // Every slide removed at once.
    let mut empty = edited;
    empty.slides.clear();
    let SaveResult::Saved(emptied) = db.save_story(id, Some(2), &empty, "bo").await.unwrap() else {
        panic!("save refused");
    };
    assert!(emptied.slides.is_empty());
    assert!(db.delete_story(id).await.unwrap());
    assert!(!db.delete_story(id).await.unwrap());
    assert_eq!(db.revisions(id).await.unwrap(), []);
}

async fn scheduled_stories_publish_exactly_once(fixture: Fixture) {
    let db = fixture.open().await;
    let created = db
        .create_story(story("Soon", StoryStatus::Draft, &[1]))
        .await
        .unwrap();
    let due = Utc::now() - chrono::Duration::seconds(1);
    let SaveResult::Saved(scheduled) = db
        .set_publication(created.story.id, Some(1), StoryStatus::Scheduled, Some(due))
        .await
        .unwrap()
    else {
        panic!("scheduling refused");
    };
    assert_eq!(scheduled.story.status, StoryStatus::Scheduled);

    // Two instances run the scheduler at the same moment.
    let other = fixture.open().await;
    let now = Utc::now();
    let (a, b) = tokio::join!(db.publish_due(now), other.publish_due(now));
    let mut published = a.unwrap();
    published.extend(b.unwrap());
    assert_eq!(published, ["same-slug"]);
    let story = db.story_by_id(created.story.id).await.unwrap().unwrap();
    assert_eq!(story.story.status, StoryStatus::Published);
    assert_eq!(story.story.version, 3);
    assert!(db.publish_due(Utc::now()).await.unwrap().is_empty());
}

async fn photo_search_reads_metadata_text_literally(fixture: Fixture) {
    let db = fixture.open().await;
    let mut ice = photo(1);
    ice.metadata.caption = Some("Ледяной фестиваль в Харбине".into());
    ice.metadata.keywords = vec!["冰雕".into(), "Winter".into()];
    ice.metadata.creator = vec!["Jane O'Neil".into()];
    ice.metadata.credit = Some("100% Agency_X".into());
    let ice = db.insert_photo(ice).await.unwrap().0;
    let plain = db.insert_photo(photo(2)).await.unwrap().0;

    let found = |query: &'static str| {
        let db = &db;
        async move {
            db.search_photos(query, 10, 0)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("").await, [plain.id, ice.id]);
    assert_eq!(found("фестиваль").await, [ice.id]);
    assert_eq!(found("冰雕").await, [ice.id]);
    assert_eq!(found("WINTER").await, [ice.id]);
    assert_eq!(found("o'neil").await, [ice.id]);
    assert_eq!(found("100%").await, [ice.id]);
    // Wildcards are literal: "_" and "%" match only themselves.
    assert_eq!(found("y_x").await, [ice.id]);
    assert_eq!(found("%").await, [ice.id]);
    assert!(found("0_A").await.is_empty());
    // Keys and other fields are not searched.
    assert!(found("orientation").await.is_empty());
    assert!(found("image/jpeg").await.is_empty());
    assert_eq!(found("Embedded caption 2").await, [plain.id]);
    assert_eq!(db.search_photos("", 1, 1).await.unwrap()[0].id, ice.id);
}

async fn accounts_sessions_and_tokens(fixture: Fixture) {
    let db = fixture.open().await;
    let ann = db
        .create_user("ann", Role::Admin, "hash-1")
        .await
        .unwrap()
        .unwrap();
    assert!(!ann.disabled);
    assert!(db
        .create_user("ann", Role::Editor, "other")
        .await
        .unwrap()
        .is_none());
    db.create_user("bo", Role::Editor, "hash-2")
        .await
        .unwrap()
        .unwrap();
    let (user, hash) = db.user_credentials("ann").await.unwrap().unwrap();
    assert_eq!((user, hash.as_str()), (ann.clone(), "hash-1"));
    assert_eq!(
        db.list_users()
            .await
            .unwrap()
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["ann", "bo"]
    );

    let now = Utc::now();
    for (token, expires) in [("live", 60), ("stale", -60)] {
        db.create_session(NewSession {
            token_hash: token.into(),
            user_id: ann.id,
            csrf_token: format!("csrf-{token}"),
            expires_at: now + chrono::Duration::seconds(expires),
        })
        .await
        .unwrap();
    }
    let (user, csrf) = db.session("live", now).await.unwrap().unwrap();
    assert_eq!((user.name.as_str(), csrf.as_str()), ("ann", "csrf-live"));
    assert!(db.session("stale", now).await.unwrap().is_none());
    assert!(db.set_password_hash("ann", "hash-3").await.unwrap());
    assert!(db.session("live", now).await.unwrap().is_none());
    assert!(!db.set_password_hash("nobody", "x").await.unwrap());

    let token = db
        .create_api_token("bo", "ci", "token-hash")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((token.user.as_str(), token.revoked_at), ("bo", None));
    assert!(db
        .create_api_token("nobody", "x", "other-hash")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        db.api_token_user("token-hash").await.unwrap().unwrap().name,
        "bo"
    );
    assert!(db.set_disabled("bo", true).await.unwrap());
    assert!(db.api_token_user("token-hash").await.unwrap().is_none());
    assert!(db.set_disabled("bo", false).await.unwrap());
    assert!(db.revoke_api_token(token.id).await.unwrap());
    assert!(!db.revoke_api_token(token.id).await.unwrap());
    assert!(db.api_token_user("token-hash").await.unwrap().is_none());
    assert!(db.list_api_tokens().await.unwrap()[0].revoked_at.is_some());
}

async fn blob_references_and_integrity(fixture: Fixture) {
    let db = fixture.open().await;
    db.create_story(story("Refs", StoryStatus::Draft, &[1, 2]))
        .await
        .unwrap();
    let references = db.referenced_blobs().await.unwrap();
    let originals = references
        .iter()
        .filter(|r| matches!(r, BlobReference::Original { .. }))
        .count();
    assert_eq!((originals, references.len()), (2, 8));
    assert!(references.contains(&BlobReference::Rendition {
        key: "renditions/02/640.jpg".into(),
        byte_size: 1640,
        format: RenditionFormat::Jpeg,
    }));
    assert_eq!(db.integrity_problems().await.unwrap(), Vec::<String>::new());
}

async fn attempts_are_counted_per_key_and_window(fixture: Fixture) {
    let db = fixture.open().await;
    let other = fixture.open().await;
    let minute = chrono::Duration::minutes(1);
    let start = Utc::now();
    for expected in 1..=3 {
        assert_eq!(
            db.count_attempt("a", start, minute).await.unwrap(),
            expected
        );
    }
    // Another instance counts on from there.
    assert_eq!(other.count_attempt("a", start, minute).await.unwrap(), 4);
    assert_eq!(db.count_attempt("b", start, minute).await.unwrap(), 1);
    // Concurrent attempts are each counted.
    let (x, y) = tokio::join!(
        db.count_attempt("a", start, minute),
        other.count_attempt("a", start, minute)
    );
    let mut pair = [x.unwrap(), y.unwrap()];
    pair.sort();
    assert_eq!(pair, [5, 6]);
    // A new window starts afresh.
    let later = start + minute + chrono::Duration::seconds(1);
    assert_eq!(db.count_attempt("a", later, minute).await.unwrap(), 1);
}

/// Two connections to one database holding two photos, as two instances
/// see it.
async fn two_connections_two_photos(fixture: &Fixture) -> (SqlDatabase, SqlDatabase, Photo, Photo) {
    let db = fixture.open().await;
    let other = fixture.open().await;
    let (first, _) = db.insert_photo(photo(1)).await.unwrap();
    let (second, _) = db.insert_photo(photo(2)).await.unwrap();
    (db, other, first, second)
}

/// Asks for the photo's lease for `holder` at `at`, for a minute.
async fn lease(db: &SqlDatabase, id: PhotoId, holder: &str, at: DateTime<Utc>) -> PhotoLease {
    let minute = chrono::Duration::minutes(1);
    db.lease_photo(id, holder, at, at + minute).await.unwrap()
}

async fn a_photo_is_leased_to_one_holder_at_a_time(fixture: Fixture) {
    let (db, other, first, second) = two_connections_two_photos(&fixture).await;
    let now = Utc::now();
    let minute = chrono::Duration::minutes(1);
    let taken = PhotoLease::Taken { failures: 0 };
    assert_eq!(lease(&db, first.id, "a", now).await, taken);
    // Held: another holder is refused, on another connection too, while
    // the holder may renew; other photos are free.
    assert_eq!(lease(&other, first.id, "b", now).await, PhotoLease::Held);
    assert_eq!(lease(&db, first.id, "a", now).await, taken);
    assert_eq!(lease(&other, second.id, "b", now).await, taken);
    // Only the holder ends it.
    other.end_photo_lease(first.id, "b").await.unwrap();
    assert_eq!(lease(&other, first.id, "b", now).await, PhotoLease::Held);
    db.end_photo_lease(first.id, "a").await.unwrap();
    assert_eq!(lease(&other, first.id, "b", now).await, taken);
    // A lease that ran out (its holder died) is taken over.
    let later = now + minute;
    assert_eq!(lease(&db, first.id, "a", later).await, taken);
    // Two racing for a free photo: exactly one wins.
    db.end_photo_lease(first.id, "a").await.unwrap();
    let (x, y) = tokio::join!(
        lease(&db, first.id, "a", later),
        lease(&other, first.id, "b", later)
    );
    assert!((x == taken) ^ (y == taken), "{x:?} {y:?}");
}

/// A failed try holds the photo for every process until its retry time,
/// even the one that failed; the failures are counted and the last error
/// kept until the renditions are made.
async fn failed_photos_wait_for_everyone_and_tell_why(fixture: Fixture) {
    let (db, other, first, second) = two_connections_two_photos(&fixture).await;
    let now = Utc::now();
    let minute = chrono::Duration::minutes(1);
    assert!(db.rendition_failures(None, 10).await.unwrap().is_empty());
    assert_eq!(
        lease(&db, first.id, "a", now).await,
        PhotoLease::Taken { failures: 0 }
    );
    // Only the holder can record a failure.
    other
        .fail_photo_lease(first.id, "b", "not mine", now + minute)
        .await
        .unwrap();
    assert!(db.rendition_failures(None, 10).await.unwrap().is_empty());
    let retry_at = now + minute * 2;
    db.fail_photo_lease(first.id, "a", "<script>truncated</script>", retry_at)
        .await
        .unwrap();
    // Left out of the work to do until its retry time, by every process.
    let lacking = |db: &SqlDatabase, at| {
        let db = db.clone();
        async move {
            let photos = db.photos_lacking_renditions(at, 0, 10).await.unwrap();
            photos.iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(lacking(&other, now).await, [second.id]);
    assert_eq!(lacking(&db, retry_at).await, [first.id, second.id]);
    for (db, holder) in [(&db, "a"), (&other, "b")] {
        assert_eq!(lease(db, first.id, holder, now).await, PhotoLease::Waiting);
        assert_eq!(
            lease(db, first.id, holder, now + minute).await,
            PhotoLease::Waiting
        );
    }
    let failures = other.rendition_failures(None, 10).await.unwrap();
    assert_eq!(failures.len(), 1);
    let failure = &failures[0];
    assert_eq!(
        (failure.photo_id, failure.sha256.as_str(), failure.failures),
        (first.id, first.sha256.as_str(), 1)
    );
    assert_eq!(failure.error, "<script>truncated</script>");
    assert_eq!(
        failure.retry_at.timestamp_micros(),
        retry_at.timestamp_micros()
    );
    // Once the wait is over, the next try knows how many failed before.
    assert_eq!(
        lease(&other, first.id, "b", retry_at).await,
        PhotoLease::Taken { failures: 1 }
    );
    other
        .fail_photo_lease(first.id, "b", "still broken", retry_at + minute)
        .await
        .unwrap();
    // A command ends every wait at once.
    assert_eq!(db.end_failure_waits(now).await.unwrap(), 1);
    assert_eq!(db.end_failure_waits(now).await.unwrap(), 0);
    assert_eq!(
        lease(&db, first.id, "a", now).await,
        PhotoLease::Taken { failures: 2 }
    );
    // Listed among given photos, or the furthest next try first, up to a
    // limit; still listed while being tried again.
    assert_eq!(
        lease(&db, second.id, "a", now).await,
        PhotoLease::Taken { failures: 0 }
    );
    db.fail_photo_lease(second.id, "a", "gone", now + minute * 3)
        .await
        .unwrap();
    let all = db.rendition_failures(None, 10).await.unwrap();
    let ids: Vec<_> = all.iter().map(|f| f.photo_id).collect();
    assert_eq!(ids, [second.id, first.id]);
    assert_eq!(all[1].error, "still broken");
    let limited = db.rendition_failures(None, 1).await.unwrap();
    assert_eq!(limited.len(), 1);
    let among = db.rendition_failures(Some(&[first.id]), 0).await.unwrap();
    assert_eq!(among.len(), 1);
    assert_eq!(among[0].photo_id, first.id);
    assert!(db
        .rendition_failures(Some(&[]), 10)
        .await
        .unwrap()
        .is_empty());
    // Made at last: the record goes with the lease.
    db.end_photo_lease(first.id, "a").await.unwrap();
    let left = db.rendition_failures(None, 10).await.unwrap();
    assert_eq!(
        left.iter().map(|f| f.photo_id).collect::<Vec<_>>(),
        [second.id]
    );
    assert_eq!(
        lease(&other, first.id, "b", now).await,
        PhotoLease::Taken { failures: 0 }
    );
}

/// Writes from several connections at once (two instances, or one pool's
/// connections) each wait their turn: none fails with "database is locked".
async fn concurrent_writers_wait_their_turn(fixture: Fixture) {
    let (db, other) = (fixture.open().await, fixture.open().await);
    let mut photos = Vec::new();
    for seed in 1..=8 {
        photos.push(db.insert_photo(photo(seed)).await.unwrap().0);
    }
    let mut writes = tokio::task::JoinSet::new();
    for (at, photo) in photos.into_iter().enumerate() {
        let on = if at % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        let avif = avif_rendition(&format!("renditions/{at}/320.avif"));
        writes.spawn(async move { on.add_renditions(&photo.sha256, vec![avif], Some(1)).await });
    }
    for written in writes.join_all().await {
        written.unwrap();
    }
    let recorded = db
        .photos_with_renditions_before(2, Utc::now(), 0, 10)
        .await
        .unwrap();
    assert_eq!(recorded.len(), 8);
    assert!(recorded.iter().all(|p| p
        .renditions
        .iter()
        .any(|r| r.format == RenditionFormat::Avif)));
}

/// migrate-store copies the columns `copy::TABLES` lists: a migration that
/// adds a table or a column must add it there too, or copies would lose it.
async fn the_copy_covers_every_table_and_column(fixture: Fixture) {
    let db = fixture.open().await;
    let columns_sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info(?) ORDER BY name",
        Dialect::Postgres => {
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ? ORDER BY column_name"
        }
    };
    let tables_sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() ORDER BY table_name"
        }
    };
    let mut copied: Vec<&str> = crate::copy::TABLES.iter().map(|t| t.name).collect();
    copied.sort_unstable();
    let tables: Vec<String> = query(tables_sql).scalars(&db.pool).await.unwrap();
    let not_copied = ["_sqlx_migrations", "login_attempts", "photo_leases"];
    assert_eq!(
        tables
            .iter()
            .filter(|t| !not_copied.contains(&t.as_str()))
            .collect::<Vec<_>>(),
        copied
    );
    for table in crate::copy::TABLES {
        let mut listed: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        listed.sort_unstable();
        let actual: Vec<String> = query(columns_sql)
            .bind(table.name)
            .scalars(&db.pool)
            .await
            .unwrap();
        assert_eq!(actual, listed, "columns of {}", table.name);
    }
}

on_both_backends!(
    the_copy_covers_every_table_and_column,
    attempts_are_counted_per_key_and_window,
    a_photo_is_leased_to_one_holder_at_a_time,
    failed_photos_wait_for_everyone_and_tell_why,
    concurrent_writers_wait_their_turn,
    story_round_trip_keeps_every_field_and_order,
    slugs_stay_unique_and_photos_are_shared,
    public_listing_hides_drafts_and_future_publications,
    a_failing_transaction_leaves_no_rows,
    reopening_keeps_data_and_migrations_are_idempotent,
    photos_keep_renditions_and_fingerprints,
    rendition_versions_are_read_from_the_keys_of_a_library,
    a_near_duplicate_names_the_earlier_photo,
    saves_check_versions_and_keep_revisions,
    scheduled_stories_publish_exactly_once,
    photo_search_reads_metadata_text_literally,
    accounts_sessions_and_tokens,
    blob_references_and_integrity,
);

/// SQLite → PostgreSQL → SQLite keeps every row; copying again writes
/// nothing; new rows on the copy get fresh ids.
#[tokio::test]
async fn rows_copy_across_backends_and_back() {
    let (source, middle, back) = (Fixture::sqlite(), Fixture::postgres(), Fixture::sqlite());
    let db = source.open().await;
    let created = db
        .create_story(story(
            "Кириллица, 中文 and 'quotes'",
            StoryStatus::Published,
            &[1, 2, 3],
        ))
        .await
        .unwrap();
    db.add_first_revision(created.story.id, &created.content(), "ann")
        .await
        .unwrap();
    db.create_story(story("Draft", StoryStatus::Draft, &[3]))
        .await
        .unwrap();
    let ann = db
        .create_user("ann", Role::Admin, "argon-hash")
        .await
        .unwrap()
        .unwrap();
    db.create_session(NewSession {
        token_hash: "session".into(),
        user_id: ann.id,
        csrf_token: "csrf".into(),
        expires_at: Utc::now() + chrono::Duration::days(1),
    })
    .await
    .unwrap();
    db.create_api_token("ann", "ci", "token").await.unwrap();
    let mut burst = photo(7);
    burst.near_duplicate_of = Some(photo(1).sha256);
    burst.rendition_version = Some(2);
    db.insert_photo(burst).await.unwrap();

    let (middle_db, back_db) = (middle.open().await, back.open().await);
    let first = db.copy_rows_to(&middle_db, |_, _, _| {}).await.unwrap();
    assert!(first.iter().all(|t| t.copied == t.rows), "{first:?}");
    assert_eq!(first.iter().map(|t| t.rows).sum::<u64>(), 26);
    let again = db.copy_rows_to(&middle_db, |_, _, _| {}).await.unwrap();
    assert!(again.iter().all(|t| t.copied == 0), "{again:?}");
    middle_db
        .copy_rows_to(&back_db, |_, _, _| {})
        .await
        .unwrap();

    let digests = db.table_digests().await.unwrap();
    assert_eq!(middle_db.table_digests().await.unwrap(), digests);
    assert_eq!(back_db.table_digests().await.unwrap(), digests);
    for copy in [&middle_db, &back_db] {
        assert_eq!(
            copy.story_by_slug("same-slug").await.unwrap().unwrap(),
            db.story_by_slug("same-slug").await.unwrap().unwrap()
        );
        assert_eq!(
            copy.session("session", Utc::now())
                .await
                .unwrap()
                .unwrap()
                .0,
            ann
        );
    }

    // A change on one side shows in the digests.
    back_db.set_disabled("ann", true).await.unwrap();
    assert_ne!(back_db.table_digests().await.unwrap(), digests);

    // Ids continue after the copied ones on PostgreSQL.
    let newer = middle_db
        .create_story(story("After", StoryStatus::Draft, &[8]))
        .await
        .unwrap();
    assert!(newer.story.id > created.story.id + 1);
}
