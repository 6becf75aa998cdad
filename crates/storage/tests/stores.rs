//! One behaviour, every backend: the file store, and an S3-compatible
//! store (a real SeaweedFS on 127.0.0.1, see `photodesk_testkit::SeaweedFs`).

use bytes::Bytes;
use photodesk_storage::{open_blob_store, BlobStore, StorageError};
use photodesk_testkit::SeaweedFs;
use std::sync::Arc;

const KEY: &str = "originals/ab/abc";

async fn conformance(store: Arc<dyn BlobStore>) {
    assert!(
        store.list().await.unwrap().is_empty(),
        "a new store is empty"
    );
    assert!(store
        .put_if_absent(KEY, Bytes::from_static(b"one"))
        .await
        .unwrap());
    assert!(
        !store
            .put_if_absent(KEY, Bytes::from_static(b"two"))
            .await
            .unwrap(),
        "kept, not overwritten"
    );
    assert_eq!(&store.get(KEY).await.unwrap()[..], b"one");
    assert!(store.exists(KEY).await.unwrap());
    let big = Bytes::from(vec![7u8; 3 << 20]);
    let big_key = "renditions/ab/abc/320w-q82-v1.jpg";
    store.put_if_absent(big_key, big.clone()).await.unwrap();
    assert_eq!(store.get(big_key).await.unwrap(), big);
    assert_eq!(store.list().await.unwrap(), [KEY, big_key]);
    // The same content-addressed key written at once from two places.
    let (a, b) = tokio::join!(
        store.put_if_absent("originals/cd/cde", Bytes::from_static(b"same")),
        store.put_if_absent("originals/cd/cde", Bytes::from_static(b"same")),
    );
    assert!(a.unwrap() || b.unwrap());
    assert_eq!(&store.get("originals/cd/cde").await.unwrap()[..], b"same");

    store.delete(KEY).await.unwrap();
    store.delete(KEY).await.unwrap();
    assert!(!store.exists(KEY).await.unwrap());
    assert!(store.get(KEY).await.unwrap_err().is_not_found());
    for bad in [
        "../escape",
        "originals/../../etc/passwd",
        "/abs",
        "Upper/case",
        "",
    ] {
        let err = store
            .put_if_absent(bad, Bytes::from_static(b"x"))
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::InvalidKey(_)), "{bad}: {err}");
    }
}

#[tokio::test]
async fn the_file_store_behaves() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_blob_store(&format!("file://{}", dir.path().join("blobs").display())).unwrap();
    conformance(store).await;
    assert!(!dir.path().join("escape").exists());
    let url = format!("file://{}", dir.path().join("other").display());
    conformance(open_blob_store(&url).unwrap()).await;
}

#[tokio::test]
async fn stored_files_get_the_permissions_of_any_new_file() {
    // Not a temporary file's 0600: a web server running as another user
    // may serve the folder.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    let reference = dir.path().join("reference");
    std::fs::write(&reference, b"x").unwrap();
    let store = open_blob_store(&format!("file://{}", dir.path().display())).unwrap();
    store
        .put_if_absent("renditions/ab/photo.jpg", bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    assert_eq!(
        mode(&dir.path().join("renditions/ab/photo.jpg")),
        mode(&reference)
    );
}

#[tokio::test]
async fn the_s3_store_behaves() {
    let s3 = SeaweedFs::start();
    // Two prefixes in one bucket are two separate stores.
    let one = open_blob_store(&format!("s3://{}/site-one", s3.bucket)).unwrap();
    let two = open_blob_store(&format!("s3://{}/site-two", s3.bucket)).unwrap();
    conformance(one).await;
    conformance(two).await;
}

#[test]
fn blob_urls_are_checked() {
    for bad in ["ftp://x/y", "s3://", "s3:///prefix", "blobs"] {
        let err = open_blob_store(bad).err().expect(bad);
        assert!(matches!(err, StorageError::Config(_)), "{bad}: {err}");
    }
}
