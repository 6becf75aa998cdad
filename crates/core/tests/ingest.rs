//! Ingest end to end on a real SQLite database and blob folder: renditions,
//! duplicates, near-duplicates, later (AVIF) renditions, hostile files.

use bytes::Bytes;
use photodesk_core::{CoreError, IngestOutcome, Ingested, PhotoInput, Photodesk, LATER_FORMATS};
use photodesk_imaging::render::PIPELINE_VERSION;
use photodesk_testkit::{make_fifo, photo_jpeg, TestApp};
use photodesk_types::{Photo, Rendition, RenditionFormat};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn input(name: &str, bytes: Vec<u8>) -> PhotoInput {
    PhotoInput::Bytes {
        name: name.into(),
        bytes: Bytes::from(bytes),
    }
}

/// Ingests a JPEG that must be accepted; returns the stored photo.
async fn added(t: &TestApp, jpeg: Vec<u8>) -> Photo {
    t.app.ingest(input("a.jpg", jpeg)).await.unwrap().photo
}

/// The photo as the database has it now.
async fn stored(t: &TestApp, sha256: &str) -> Photo {
    t.app
        .database()
        .photo_by_sha256(sha256)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn ingest_stores_once_flags_near_duplicates_and_completes_avif() {
    let t = TestApp::new().await;
    let original = photo_jpeg(800, 600, 1);
    let Ingested { photo, outcome, .. } = t
        .app
        .ingest(input("a.jpg", original.clone()))
        .await
        .unwrap();
    assert_eq!(outcome, IngestOutcome::Added);
    let ladder: Vec<(u32, String)> = photo
        .renditions
        .iter()
        .map(|r| (r.width, r.format.to_string()))
        .collect();
    assert_eq!(
        ladder,
        [
            (320, "jpeg"),
            (320, "webp"),
            (640, "jpeg"),
            (640, "webp"),
            (800, "jpeg"),
            (800, "webp")
        ]
        .map(|(w, f)| (w, f.to_string()))
    );
    assert!(photo.renditions.iter().all(|r| r.height * 4 == r.width * 3));
    let blobs_after_first = t.app.blobs().list().await.unwrap();

    // The same bytes again: nothing new is stored.
    let Ingested {
        photo: again,
        outcome,
        ..
    } = t
        .app
        .ingest(input("copy.jpg", original.clone()))
        .await
        .unwrap();
    assert_eq!(outcome, IngestOutcome::Duplicate);
    assert_eq!(again.id, photo.id);
    assert_eq!(t.app.blobs().list().await.unwrap(), blobs_after_first);

    // A smaller re-encode of the same picture is a near-duplicate; another picture is not.
    let resized = photo_jpeg(400, 300, 1);
    let Ingested { outcome, .. } = t.app.ingest(input("small.jpg", resized)).await.unwrap();
    assert_eq!(
        outcome,
        IngestOutcome::NearDuplicate {
            of: photo.sha256.clone()
        }
    );
    let Ingested { outcome, .. } = t
        .app
        .ingest(input("other.jpg", photo_jpeg(800, 600, 4)))
        .await
        .unwrap();
    assert_eq!(outcome, IngestOutcome::Added);
    assert_eq!(t.app.database().counts().await.unwrap().photos, 3);

    // AVIF comes afterwards, for every photo, once.
    let made = t.app.complete_renditions(|_, _| {}).await.unwrap();
    assert_eq!((made.done, made.failed), (3, 0));
    let again = t.app.complete_renditions(|_, _| {}).await.unwrap();
    assert_eq!((again.done, again.failed), (0, 0));
    let stored = stored(&t, &photo.sha256).await;
    let avif: Vec<_> = stored
        .renditions
        .iter()
        .filter(|r| r.format == RenditionFormat::Avif)
        .collect();
    assert_eq!(
        avif.iter().map(|r| r.width).collect::<Vec<_>>(),
        [320, 640, 800]
    );

    // Served by SHA-256 and file name; anything else is not found.
    let file = avif[0].key.rsplit('/').next().unwrap();
    let (bytes, media_type) = t.app.rendition(&photo.sha256, file).await.unwrap();
    assert_eq!(media_type, "image/avif");
    assert_eq!(bytes.len() as u64, avif[0].byte_size);
    for bad in [
        "../../originals",
        "320w-q60-v1.avif.exe",
        "99w-q60-v1.avif",
        "320w-q61-v1.avif",
        "",
    ] {
        let err = t.app.rendition(&photo.sha256, bad).await.unwrap_err();
        assert!(err.is_not_found(), "{bad:?}: {err}");
    }
}

/// A photo whose AVIF cannot be made (its original damaged in the store)
/// is reported, does not hold up the photos after it, and waits before its
/// next try, in every instance sharing the database; editors can read why.
/// Trying again at once (`photodesk rerender`) counts the next failure, and
/// once the original is repaired the record is gone.
#[tokio::test]
async fn a_failing_photo_waits_everywhere_and_holds_up_nothing() {
    let t = TestApp::new().await;
    let other = Photodesk::open(&t.config).await.unwrap();
    let mut photos = Vec::new();
    for seed in 1..=3 {
        photos.push(added(&t, photo_jpeg(320, 240, seed * 3)).await);
    }
    let original = t.damage_original(&photos[0].sha256).await;
    let progress = std::sync::Mutex::new(Vec::new());
    let made = t
        .app
        .complete_renditions(|done, remaining| progress.lock().unwrap().push((done, remaining)))
        .await
        .unwrap();
    assert_eq!((made.done, made.failed), (2, 1));
    assert_eq!(*progress.lock().unwrap(), [(0, 2), (1, 1), (2, 0)]);
    // Not retried at the next poll, by this instance or another: nothing is
    // done, nothing fails.
    for app in [&t.app, &other] {
        let again = app.complete_renditions(|_, _| {}).await.unwrap();
        assert_eq!((again.done, again.failed), (0, 0));
    }
    for (photo, made) in photos.iter().zip([false, true, true]) {
        assert_eq!(has_avif(&stored(&t, &photo.sha256).await), made);
    }
    let failures = other.rendition_failures(None, 10).await.unwrap();
    assert_eq!(failures.len(), 1);
    let failure = &failures[0];
    assert_eq!(
        (failure.sha256.as_str(), failure.failures),
        (photos[0].sha256.as_str(), 1)
    );
    assert!(
        failure.error.starts_with("unsupported format"),
        "{}",
        failure.error
    );
    // The first wait is two poll periods (15 s each).
    let wait = failure.retry_at - chrono::Utc::now();
    assert!(
        wait > chrono::TimeDelta::seconds(20) && wait <= chrono::TimeDelta::seconds(30),
        "{wait}"
    );

    assert_eq!(other.retry_failed_renditions_now().await.unwrap(), 1);
    let again = other.complete_renditions(|_, _| {}).await.unwrap();
    assert_eq!((again.done, again.failed), (0, 1));
    let failures = t
        .app
        .rendition_failures(Some(&[photos[0].id]), 0)
        .await
        .unwrap();
    assert_eq!(failures[0].failures, 2);
    let wait = failures[0].retry_at - chrono::Utc::now();
    assert!(
        wait > chrono::TimeDelta::seconds(50),
        "the wait doubles: {wait}"
    );

    t.restore_original(&photos[0].sha256, original).await;
    t.app.retry_failed_renditions_now().await.unwrap();
    let made = t.app.complete_renditions(|_, _| {}).await.unwrap();
    assert_eq!((made.done, made.failed), (1, 0));
    assert!(has_avif(&stored(&t, &photos[0].sha256).await));
    assert!(t.app.rendition_failures(None, 10).await.unwrap().is_empty());
}

/// Instances sharing the database and the store (as several servers do)
/// make each photo's later renditions once between them, and leave a photo
/// to the process that holds it.
#[tokio::test]
async fn instances_make_each_photo_once_between_them() {
    let t = TestApp::new().await;
    let other = Photodesk::open(&t.config).await.unwrap();
    let mut photos = Vec::new();
    for seed in 1..=4 {
        photos.push(added(&t, photo_jpeg(320, 240, seed * 5)).await);
    }
    // The first photo is held by a process that is still at it.
    let now = chrono::Utc::now();
    let db = t.app.database();
    assert_eq!(
        db.lease_photo(
            photos[0].id,
            "busy",
            now,
            now + chrono::TimeDelta::minutes(1)
        )
        .await
        .unwrap(),
        photodesk_db::PhotoLease::Taken { failures: 0 }
    );
    let (a, b) = tokio::join!(
        t.app.complete_renditions(|_, _| {}),
        other.complete_renditions(|_, _| {})
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.done + b.done, a.failed + b.failed),
        (3, 0),
        "{a:?} {b:?}"
    );
    // Each left the held photo alone (and maybe one the other was making).
    assert!(a.elsewhere >= 1 && b.elsewhere >= 1, "{a:?} {b:?}");
    assert!(!has_avif(&stored(&t, &photos[0].sha256).await));
    // Once it lets go, the photo is made, once.
    db.end_photo_lease(photos[0].id, "busy").await.unwrap();
    let (a, b) = tokio::join!(
        t.app.complete_renditions(|_, _| {}),
        other.complete_renditions(|_, _| {})
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.done + b.done, 1, "{a:?} {b:?}");
    for photo in &photos {
        assert!(has_avif(&stored(&t, &photo.sha256).await));
    }
}

/// Instances keep the library's fingerprints and read only the photos
/// added since they last looked, another instance's included: a near copy
/// is flagged whether its photo was there at the instance's first look or
/// was added by the other instance after its last one.
#[tokio::test]
async fn near_duplicates_are_found_across_instances() {
    let t = TestApp::new().await;
    let other = Photodesk::open(&t.config).await.unwrap();
    let first = added(&t, photo_jpeg(800, 600, 1)).await;
    let Ingested {
        photo: second,
        outcome,
        ..
    } = other
        .ingest(input("b.jpg", photo_jpeg(800, 600, 2)))
        .await
        .unwrap();
    assert_eq!(outcome, IngestOutcome::Added);
    let later = added(&t, photo_jpeg(800, 600, 3)).await;
    for (seen, copy_of) in [(&first, 1), (&later, 3)] {
        let Ingested { outcome, .. } = other
            .ingest(input("copy.jpg", photo_jpeg(400, 300, copy_of)))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            IngestOutcome::NearDuplicate {
                of: seen.sha256.clone()
            }
        );
    }
    let Ingested { outcome, .. } = t
        .app
        .ingest(input("copy.jpg", photo_jpeg(640, 480, 2)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        IngestOutcome::NearDuplicate {
            of: second.sha256.clone()
        }
    );
}

fn has_avif(photo: &Photo) -> bool {
    photo
        .renditions
        .iter()
        .any(|r| r.format == RenditionFormat::Avif)
}

/// The file names of the current pipeline version and the one before.
fn current_and_earlier() -> (String, String) {
    (
        format!("-v{PIPELINE_VERSION}."),
        format!("-v{}.", PIPELINE_VERSION - 1),
    )
}

/// Moves the photo's renditions in `formats` to their earlier-version
/// names, as an older Photodesk stored them, and records the set as of
/// that version; gives the set.
async fn made_by_earlier_version(
    t: &TestApp,
    photo: &Photo,
    formats: &[RenditionFormat],
) -> Vec<Rendition> {
    let (current, earlier) = current_and_earlier();
    let mut old = photo.renditions.clone();
    for rendition in old.iter_mut().filter(|r| formats.contains(&r.format)) {
        let bytes = t.app.blobs().get(&rendition.key).await.unwrap();
        t.app.blobs().delete(&rendition.key).await.unwrap();
        rendition.key = rendition.key.replace(&current, &earlier);
        t.app
            .blobs()
            .put_if_absent(&rendition.key, bytes)
            .await
            .unwrap();
    }
    t.app
        .database()
        .replace_renditions(&photo.sha256, old.clone(), Some(PIPELINE_VERSION - 1))
        .await
        .unwrap();
    old
}

/// A library made by an earlier pipeline version: its renditions keep
/// being served under their old names while the worker's pass re-makes
/// every one of them under the current version, once.
#[tokio::test]
async fn renditions_of_an_earlier_pipeline_version_are_remade() {
    let t = TestApp::new().await;
    let photo = added(&t, photo_jpeg(800, 600, 1)).await;
    t.app.complete_renditions(|_, _| {}).await.unwrap();
    let (current, earlier) = current_and_earlier();
    let made = stored(&t, &photo.sha256).await;
    assert_eq!(made.renditions.len(), 9);
    let old = made_by_earlier_version(&t, &made, LATER_FORMATS).await;
    let old_name = old[0].key.rsplit('/').next().unwrap().to_owned();
    assert!(t.app.rendition(&photo.sha256, &old_name).await.is_ok());

    let report = t.app.refresh_stale_renditions(|_, _| {}).await.unwrap();
    assert_eq!((report.done, report.failed), (1, 0));
    let remade = stored(&t, &photo.sha256).await;
    assert_eq!(remade.renditions.len(), 9);
    assert!(remade.renditions.iter().all(|r| r.key.contains(&current)));
    for rendition in &remade.renditions {
        let name = rendition.key.rsplit('/').next().unwrap();
        let (bytes, _) = t.app.rendition(&photo.sha256, name).await.unwrap();
        assert_eq!(bytes.len() as u64, rendition.byte_size);
    }
    // Pages already out still get the old files; nothing is left to redo.
    assert!(t.app.rendition(&photo.sha256, &old_name).await.is_ok());
    let again = t.app.refresh_stale_renditions(|_, _| {}).await.unwrap();
    assert_eq!((again.done, again.failed), (0, 0));
    // A version not made yet names nothing.
    let future = old_name.replace(&earlier, &format!("-v{}.", PIPELINE_VERSION + 1));
    let err = t.app.rendition(&photo.sha256, &future).await.unwrap_err();
    assert!(err.is_not_found());
}

/// A set of which only the JPEG files are of an earlier pipeline version
/// (as when a version changes one format) gets new JPEG files alone: the
/// WebP and AVIF renditions keep their keys and are not made again.
#[tokio::test]
async fn only_formats_of_an_earlier_version_are_remade() {
    let t = TestApp::new().await;
    let photo = added(&t, photo_jpeg(800, 600, 1)).await;
    t.app.complete_renditions(|_, _| {}).await.unwrap();
    let made = stored(&t, &photo.sha256).await;
    made_by_earlier_version(&t, &made, &[RenditionFormat::Jpeg]).await;
    let keys = |photo: &Photo, format| -> Vec<String> {
        let mut keys: Vec<String> = photo
            .renditions
            .iter()
            .filter(|r| r.format == format)
            .map(|r| r.key.clone())
            .collect();
        keys.sort();
        keys
    };
    // Taken away: were the AVIF files made again, they would be back.
    let avif = keys(&made, RenditionFormat::Avif);
    for key in &avif {
        t.app.blobs().delete(key).await.unwrap();
    }

    let report = t.app.refresh_stale_renditions(|_, _| {}).await.unwrap();
    assert_eq!((report.done, report.failed), (1, 0));
    let remade = stored(&t, &photo.sha256).await;
    for format in LATER_FORMATS {
        assert_eq!(keys(&remade, *format), keys(&made, *format), "{format:?}");
    }
    for key in keys(&remade, RenditionFormat::Jpeg) {
        assert!(t.app.blobs().get(&key).await.is_ok(), "{key}");
    }
    for key in &avif {
        assert!(t.app.blobs().get(key).await.is_err(), "{key} made again");
    }
    let again = t.app.refresh_stale_renditions(|_, _| {}).await.unwrap();
    assert_eq!((again.done, again.failed), (0, 0));
}

#[tokio::test]
async fn hostile_files_are_refused_and_leave_nothing_behind() {
    let t = TestApp::new().await;
    let good = photo_jpeg(300, 200, 2);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("text.jpg", b"<script>alert(1)</script>".to_vec()),
        ("truncated.jpg", good[..good.len() / 2].to_vec()),
        ("empty.jpg", Vec::new()),
    ];
    for (name, bytes) in cases {
        let err = t.app.ingest(input(name, bytes)).await.unwrap_err();
        assert!(
            matches!(err, CoreError::Invalid(_) | CoreError::Unsupported(_)),
            "{name}: {err:?}"
        );
    }
    assert_eq!(t.app.database().counts().await.unwrap().photos, 0);
    assert!(t.app.blobs().list().await.unwrap().is_empty());
}

#[tokio::test]
async fn photos_stored_without_renditions_get_them_all_later() {
    // A photo recorded by an older version: original and row, no renditions.
    let t = TestApp::new().await;
    let photo = added(&t, photo_jpeg(500, 300, 3)).await;
    let old = photodesk_db::NewPhoto {
        sha256: "ab".repeat(32),
        media_type: photo.media_type.clone(),
        width: photo.width,
        height: photo.height,
        byte_size: photo.byte_size,
        metadata: photo.metadata.clone(),
        placeholder: None,
        perceptual_hash: None,
        near_duplicate_of: None,
        renditions: Vec::new(),
        rendition_version: None,
    };
    let (bytes, _) = t.app.original(&photo.sha256).await.unwrap();
    t.app
        .blobs()
        .put_if_absent(&photodesk_storage::original_key(&old.sha256), bytes)
        .await
        .unwrap();
    t.app.database().insert_photo(old.clone()).await.unwrap();

    t.app.complete_renditions(|_, _| {}).await.unwrap();
    let upgraded = stored(&t, &old.sha256).await;
    let mut formats: Vec<String> = upgraded
        .renditions
        .iter()
        .map(|r| format!("{}@{}", r.format, r.width))
        .collect();
    formats.sort();
    assert_eq!(
        formats,
        ["avif@320", "avif@500", "jpeg@320", "jpeg@500", "webp@320", "webp@500"]
    );
}

/// Two instances on one blob store: the second to render a photo finds the
/// renditions stored and records them as stored, even where its encoder's
/// bytes would have differed.
#[tokio::test]
async fn a_rendition_stored_by_another_instance_is_recorded_as_stored() {
    let first = TestApp::new().await;
    let bytes = photo_jpeg(800, 600, 3);
    let Ingested { photo, .. } = first
        .app
        .ingest(input("a.jpg", bytes.clone()))
        .await
        .unwrap();
    let key_of = |width: u32| {
        photo
            .renditions
            .iter()
            .find(|r| r.width == width && r.format == RenditionFormat::Jpeg)
            .unwrap()
            .key
            .clone()
    };
    // Stand-in for another encoder's output: a different, valid JPEG.
    let blobs = first.data_dir().join("blobs");
    let other = std::fs::read(blobs.join(key_of(320))).unwrap();
    std::fs::write(blobs.join(key_of(640)), &other).unwrap();

    let second = TestApp::with_settings(photodesk_config::RawConfig {
        blob_url: Some(format!("file://{}", blobs.display())),
        ..Default::default()
    })
    .await;
    let Ingested { photo: again, .. } = second.app.ingest(input("a.jpg", bytes)).await.unwrap();
    let recorded = again
        .renditions
        .iter()
        .find(|r| r.key == key_of(640))
        .unwrap();
    assert_eq!(recorded.byte_size, other.len() as u64);
    let report = second.app.check_store(false, |_, _| {}).await.unwrap();
    assert!(report.damaged.is_empty() && report.is_clean(), "{report:?}");
}

/// A writer on the named pipe `path` if a reader has it open (opening for
/// writing without blocking fails while nobody reads).
fn writer_if_read(path: &Path) -> Option<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()
}

/// On drop, ends every read still waiting on one of the pipes (with no
/// data), so a failed test ends instead of hanging.
struct EndReads<'a>(&'a [PathBuf]);

impl Drop for EndReads<'_> {
    fn drop(&mut self) {
        self.0.iter().for_each(|pipe| drop(writer_if_read(pipe)));
    }
}

/// Files are read only when a staging slot is free (two per core), so a
/// folder of thousands of photos is never all in memory at once. Each
/// "photo" here is a named pipe: the test sees which ones are being read,
/// and a read ends only when the test writes the photo into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_reads_a_few_files_at_a_time_however_many_are_given() {
    let t = TestApp::new().await;
    let slots = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let dir = tempfile::tempdir().unwrap();
    let pipes: Vec<PathBuf> = (0..slots + 3)
        .map(|i| dir.path().join(format!("{i}.jpg")))
        .collect();
    pipes.iter().for_each(|pipe| make_fifo(pipe));
    let _end_reads = EndReads(&pipes);
    let ingests: Vec<_> = pipes
        .iter()
        .map(|pipe| {
            let (app, pipe) = (t.app.clone(), pipe.clone());
            tokio::spawn(async move { app.ingest(PhotoInput::File(pipe)).await })
        })
        .collect();

    // Writers are kept open, so no read ends before the photo is written.
    let mut writers: Vec<Option<File>> = pipes.iter().map(|_| None).collect();
    let open_reads = |writers: &mut Vec<Option<File>>| {
        for (pipe, writer) in pipes.iter().zip(writers.iter_mut()) {
            if writer.is_none() {
                *writer = writer_if_read(pipe);
            }
        }
        writers.iter().filter(|w| w.is_some()).count()
    };
    // Every slot fills, and a while later still no more are read.
    let start = Instant::now();
    while open_reads(&mut writers) < slots && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(open_reads(&mut writers), slots);

    // Photos written one by one let the others in, until all are added.
    let mut written = vec![false; pipes.len()];
    let start = Instant::now();
    while written.iter().any(|w| !w) && start.elapsed() < Duration::from_secs(60) {
        open_reads(&mut writers);
        for (index, writer) in writers.iter_mut().enumerate() {
            if let Some(mut file) = writer.take() {
                file.write_all(&photo_jpeg(120, 90, index as u32 + 1))
                    .unwrap();
                written[index] = true;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for ingest in ingests {
        ingest.await.unwrap().unwrap();
    }
}
