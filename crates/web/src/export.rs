//! The public site as static files (`photodesk export`), for a plain web
//! server or a CDN bucket: every published page and slide page, the feeds,
//! the sitemap, the renditions the pages show, the assets and a 404 page.
//!
//! Each file is fetched through the site's own router, as a reader would
//! fetch it, so the export is byte for byte what `serve` answers and can
//! never drift from it. Pages become `…/index.html` (`/stories/x/3` is
//! `stories/x/3/index.html`), which static servers answer for `/stories/x/3/`.

use crate::public::{self, PAGE_SIZE};
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use photodesk_core::CoreError;
use std::collections::BTreeMap;
use tower::ServiceExt;

/// One file of the export.
pub struct StaticFile {
    /// Relative, `/`-separated, made only of safe segments.
    pub path: String,
    pub bytes: Bytes,
}

/// One URL of the site to export.
pub struct SitePath {
    pub url: String,
    /// The file's size for good, when its name fixes its content
    /// (renditions are named by the photo's hash and their spec): an
    /// earlier export's copy of this size can stand in for fetching it.
    pub immutable_size: Option<u64>,
}

/// The site, ready to be fetched page by page.
pub struct Export {
    state: AppState,
    router: Router,
}

impl Export {
    /// `state` should carry the site's public base URL: feeds, the sitemap
    /// and sharing tags need absolute links.
    pub fn new(state: AppState) -> Self {
        Export {
            router: crate::app(state.clone()),
            state,
        }
    }

    /// Every URL path of the public site, pages first: home pages, story
    /// and slide pages, feeds, sitemap, robots.txt, assets, then each
    /// rendition of the photos the published stories show (pages never
    /// show originals).
    pub async fn paths(&self) -> Result<Vec<SitePath>, CoreError> {
        let stories = self.state.published_stories(u32::MAX).await?;
        let home_pages = stories.len().div_ceil(PAGE_SIZE as usize).max(1) as u32;
        let mut pages: Vec<String> = (1..=home_pages).map(public::home_url).collect();
        let mut renditions = BTreeMap::new();
        for story in &stories {
            pages.push(public::story_url(&story.story.slug));
            for slide in &story.slides {
                pages.push(public::slide_url(&story.story.slug, slide.position));
                renditions.extend(
                    slide
                        .photo
                        .renditions
                        .iter()
                        .map(|r| (public::rendition_url(&slide.photo, r), r.byte_size)),
                );
            }
        }
        pages.extend(["/feed.rss", "/feed.atom", "/sitemap.xml", "/robots.txt"].map(String::from));
        pages.extend(self.state.assets.public_urls());
        let pages = pages.into_iter().map(|url| SitePath {
            url,
            immutable_size: None,
        });
        let renditions = renditions.into_iter().map(|(url, size)| SitePath {
            url,
            immutable_size: Some(size),
        });
        Ok(pages.chain(renditions).collect())
    }

    /// The file for `url_path`. Anything but a 200 is an error: an export
    /// with a hole in it is not finished.
    pub async fn fetch(&self, url_path: &str) -> Result<StaticFile, CoreError> {
        let (status, bytes) = self.get(url_path).await?;
        if status != StatusCode::OK {
            return Err(CoreError::Internal(format!(
                "{url_path} answered {status} during the export"
            )));
        }
        Ok(StaticFile {
            path: file_path(url_path)?,
            bytes,
        })
    }

    /// `404.html`: the site's "page not found" page, which static servers
    /// can be told to answer with.
    pub async fn not_found_page(&self) -> Result<StaticFile, CoreError> {
        let (_, bytes) = self.get("/404").await?;
        Ok(StaticFile {
            path: "404.html".to_owned(),
            bytes,
        })
    }

    async fn get(&self, url_path: &str) -> Result<(StatusCode, Bytes), CoreError> {
        let failed = |e: &dyn std::fmt::Display| CoreError::Internal(format!("{url_path}: {e}"));
        let request = Request::get(url_path)
            .body(Body::empty())
            .map_err(|e| failed(&e))?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failed(&e))?;
        Ok((status, body.to_bytes()))
    }
}

/// Where `url_path` goes in the export. Slugs and file names come from the
/// database, so every segment is checked: no `..`, no hidden files, no
/// separators of other systems.
pub fn file_path(url_path: &str) -> Result<String, CoreError> {
    let segments: Vec<&str> = url_path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let unsafe_segment = segments.iter().find(|s| {
        s.starts_with('.') || s.contains(['\\', '\0', ':']) || s.chars().any(char::is_control)
    });
    if let Some(segment) = unsafe_segment {
        return Err(CoreError::Invalid(format!(
            "{url_path}: {segment:?} cannot be a file name in the export"
        )));
    }
    let is_page = segments.last().is_none_or(|last| !last.contains('.'));
    let mut path = segments.join("/");
    if is_page {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str("index.html");
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::file_path;

    #[test]
    fn pages_become_index_files_and_other_files_keep_their_names() {
        for (url, file) in [
            ("/", "index.html"),
            ("/page/2", "page/2/index.html"),
            ("/stories/harbin-ice", "stories/harbin-ice/index.html"),
            ("/stories/harbin-ice/12", "stories/harbin-ice/12/index.html"),
            ("/feed.rss", "feed.rss"),
            ("/assets/site.0123abcd.css", "assets/site.0123abcd.css"),
            ("/renditions/ab12/w2048.avif", "renditions/ab12/w2048.avif"),
        ] {
            assert_eq!(file_path(url).unwrap(), file, "{url}");
        }
    }

    #[test]
    fn segments_that_could_leave_the_export_are_refused() {
        for url in [
            "/stories/../../etc/passwd",
            "/stories/..",
            "/stories/.hidden",
            "/stories/a\\b",
            "/stories/c:",
            "/stories/a\0b",
            "/stories/a\nb",
        ] {
            assert!(file_path(url).is_err(), "{url:?}");
        }
    }
}
