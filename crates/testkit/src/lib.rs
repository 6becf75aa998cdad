//! Shared test fixtures. Photos are generated, not stored, so the repo stays
//! small and every test states the sizes it needs.

pub use photodesk_testservers::{Postgres, SeaweedFs};

use bytes::Bytes;
use image::{ImageBuffer, ImageFormat, Rgb};
use photodesk_config::{Config, RawConfig};
use photodesk_core::Photodesk;
use photodesk_storage::original_key;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// The seed story shipped with the demo (12 slides).
pub const SEED_STORY: &str = include_str!("../../../examples/harbin/story.txt");

/// A JPEG of the given size whose content depends on `seed`, so different
/// seeds give different bytes (and different content hashes).
pub fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([
            (x as u8).wrapping_add(seed),
            (y as u8).wrapping_mul(3),
            seed.wrapping_mul(40),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg)
        .expect("encode test JPEG");
    out.into_inner()
}

/// Writes `count` distinct small JPEGs named `1.jpg`…`N.jpg` into `dir`.
pub fn write_photos(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for n in 1..=count {
        std::fs::write(dir.join(format!("{n}.jpg")), jpeg(48, 32, n as u8)).unwrap();
    }
}

/// A photo-like JPEG (smooth shapes, so resized copies stay recognisable
/// to a perceptual hash; `seed` picks a different picture).
pub fn photo_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let f = 1.0 + f64::from(seed % 7);
    let img = ImageBuffer::from_fn(width, height, |x, y| {
        let (u, v) = (
            f64::from(x) / f64::from(width),
            f64::from(y) / f64::from(height),
        );
        let a = ((u * 6.0 * f).sin() + (v * 4.0 + f).cos()) * 60.0 + 128.0;
        let b = ((u * v * 9.0 * f).sin() * 100.0 + 128.0) as u8;
        Rgb([a as u8, b, (255.0 - a) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// `jpeg` with an XMP packet (APP1 after SOI) whose XML is cut off
/// mid-element, as a damaged file has it: its caption cannot be read.
pub fn with_broken_xmp(jpeg: &[u8]) -> Vec<u8> {
    let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">A caption cut o"#;
    let mut segment = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    segment.extend_from_slice(packet.as_bytes());
    let length = u16::try_from(segment.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A story text with `slides` slides.
pub fn story_text(headline: &str, slides: usize) -> String {
    let mut text = format!("{headline}\n\nA lead paragraph.\n\n");
    for n in 1..=slides {
        text.push_str(&format!("{n} / {slides}\nCaption of photo {n}.\n\n"));
    }
    text
}

/// A Photodesk in a temp data dir: on the embedded default, or on a fresh
/// PostgreSQL database when `PHOTODESK_TEST_DATABASE=postgres` (how
/// `scripts/test` runs the core and web suites a second time).
pub struct TestApp {
    pub app: Photodesk,
    pub config: Config,
    pub dir: tempfile::TempDir,
    /// The server behind `config.database_url`, when on PostgreSQL.
    _postgres: Option<Postgres>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_settings(RawConfig::default()).await
    }

    /// With some settings changed (the data dir is always a fresh temp dir).
    pub async fn with_settings(settings: RawConfig) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let on_postgres = settings.database_url.is_none()
            && std::env::var("PHOTODESK_TEST_DATABASE").is_ok_and(|db| db == "postgres");
        let postgres = on_postgres.then(Postgres::start);
        let config = Config::from_raw(RawConfig {
            data_dir: Some(dir.path().join("data")),
            database_url: settings
                .database_url
                .clone()
                .or_else(|| postgres.as_ref().map(Postgres::create_database)),
            ..settings
        })
        .unwrap();
        let app = Photodesk::open(&config).await.unwrap();
        TestApp {
            app,
            config,
            dir,
            _postgres: postgres,
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Replaces the photo's stored original with bytes that are no photo,
    /// as a damaged store would hold, so making its renditions fails; gives
    /// the original back for [`TestApp::restore_original`].
    pub async fn damage_original(&self, sha256: &str) -> Bytes {
        let key = original_key(sha256);
        let original = self.app.blobs().get(&key).await.unwrap();
        self.replace_original(sha256, Bytes::from_static(b"no longer a photo"))
            .await;
        original
    }

    pub async fn restore_original(&self, sha256: &str, original: Bytes) {
        self.replace_original(sha256, original).await;
    }

    async fn replace_original(&self, sha256: &str, bytes: Bytes) {
        let key = original_key(sha256);
        self.app.blobs().delete(&key).await.unwrap();
        self.app.blobs().put_if_absent(&key, bytes).await.unwrap();
    }

    /// A folder with `count` generated photos, inside the temp dir.
    pub fn photo_folder(&self, name: &str, count: usize) -> PathBuf {
        let folder = self.dir.path().join(name);
        write_photos(&folder, count);
        folder
    }

    /// Imports the seed story with 12 generated photos, published.
    pub async fn with_seed_story(self) -> TestApp {
        let photos = self.photo_folder("seed-photos", 12);
        self.app
            .import_story(SEED_STORY.as_bytes(), &photos, true)
            .await
            .unwrap();
        self
    }
}

/// Makes a named pipe at `path` (coreutils' `mkfifo`: std has no call for
/// it, and the workspace forbids `unsafe`).
pub fn make_fifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success(), "mkfifo {}", path.display());
}

/// Text as the templates write it into HTML: minijinja escapes these six.
pub fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
