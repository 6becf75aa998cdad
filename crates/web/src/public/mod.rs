//! Pages for readers. They work without JavaScript; every slide has its own
//! URL (`/stories/{slug}/{n}`). Pages, feeds and the sitemap are rendered
//! into a [`PageCache`] and answered with validators and compressed bodies.

mod representation;
mod views;

pub use representation::Representation;
pub use views::{home_url, original_url, rendition_url, slide_url, story_url};

/// The story page's template values (the editor's preview uses them too).
pub fn story_view(origin: &str, story: &StoryWithSlides, current: Option<u32>) -> minijinja::Value {
    views::story(origin, SITE_NAME, story, current)
}

use crate::error::PageError;
use crate::{AppState, SITE_NAME};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use minijinja::context;
use photodesk_core::CoreError;
use photodesk_types::StoryWithSlides;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use views::SlideMedia;

/// Stories per home page.
pub const PAGE_SIZE: u32 = 20;
/// Stories in the feeds.
const FEED_SIZE: u32 = 20;
/// The sitemap protocol's limits: URLs per sitemap, images per URL.
const SITEMAP_URLS: u32 = 50_000;
const SITEMAP_IMAGES: usize = 1_000;
/// Content-addressed responses never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages may change (corrections): browsers revalidate after a minute.
const PAGE_CACHING: &str = "public, max-age=60";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/page/{n}", get(later_home_page))
        .route("/stories/{slug}", get(story))
        .route("/stories/{slug}/{n}", get(slide))
        .route("/feed.rss", get(rss))
        .route("/feed.atom", get(atom))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
        .route("/originals/{sha256}", get(original))
        .route("/renditions/{sha256}/{file}", get(rendition))
        .route("/assets/{file}", get(asset))
}

/// Rendered public responses, shared by all readers for a short while.
///
/// A page costs a database read and a template render; a popular story is
/// asked for thousands of times a second. Each rendering is reused for one
/// second (pages) or a minute (feeds, sitemap: many reads each), so an
/// edit shows within that time on every instance without any invalidation
/// between instances. Errors are not kept.
#[derive(Clone)]
pub struct PageCache {
    pages: moka::future::Cache<String, Arc<Representation>>,
    listings: moka::future::Cache<String, Arc<Representation>>,
}

impl PageCache {
    pub fn new() -> Self {
        let cache = |ttl| {
            moka::future::Cache::builder()
                // Bounded by bytes, not entries: 64 MB of pages at most.
                .weigher(|key: &String, value: &Arc<Representation>| {
                    (key.len() + value.weight()).try_into().unwrap_or(u32::MAX)
                })
                .max_capacity(64 << 20)
                .time_to_live(ttl)
                .build()
        };
        PageCache {
            pages: cache(Duration::from_secs(1)),
            listings: cache(Duration::from_secs(60)),
        }
    }
}

impl AppState {
    pub(crate) fn page_error(&self, err: CoreError) -> PageError {
        PageError {
            err,
            templates: self.templates.clone(),
        }
    }

    fn render(&self, name: &str, context: impl Serialize) -> Result<String, CoreError> {
        self.templates
            .render(name, context)
            .map_err(|e| CoreError::Internal(format!("template {name}: {e}")))
    }

    /// `http(s)://host` for absolute links: the configured base URL, else
    /// the request's `Host` (only if it looks like a host name).
    pub(crate) fn origin(&self, request: &HeaderMap) -> String {
        if let Some(base) = &self.base_url {
            return base.to_string();
        }
        let host = request
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            })
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// Answers from the cache, or runs `build` (given the origin) and keeps
    /// its result. The key includes the origin: a page built for one `Host`
    /// is never served to another.
    async fn cached<F, Fut>(
        &self,
        request: &HeaderMap,
        listing: bool,
        path: &str,
        build: F,
    ) -> Result<Response, PageError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<Representation, CoreError>> + Send,
    {
        let origin = self.origin(request);
        let cache = if listing {
            &self.cache.listings
        } else {
            &self.cache.pages
        };
        let key = format!("{origin}{path}");
        let representation = cache
            .try_get_with(key, async { build(origin).await.map(Arc::new) })
            .await
            .map_err(|err| self.page_error((*err).clone()))?;
        Ok(representation.respond(request))
    }
}

#[derive(Deserialize)]
struct HomeQuery {
    page: Option<String>,
}

/// `/`, and `/?page=N` as earlier links have it (the same page as `/page/N`).
async fn home(
    State(state): State<AppState>,
    Query(query): Query<HomeQuery>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let page = match query.page.as_deref() {
        None => Some(1),
        Some(text) => text.parse().ok().filter(|p| (1..=100_000).contains(p)),
    };
    match page {
        Some(page) => home_page(state, page, request).await,
        None => Err(state.page_error(CoreError::NotFound("no such page".into()))),
    }
}

/// `/page/{n}` for the pages after the first (`/page/1` is `/`).
async fn later_home_page(
    State(state): State<AppState>,
    Path(page): Path<String>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    match page
        .parse::<u32>()
        .ok()
        .filter(|p| (2..=100_000).contains(p))
    {
        Some(page) => home_page(state, page, request).await,
        None => Err(state.page_error(CoreError::NotFound("no such page".into()))),
    }
}

async fn home_page(state: AppState, page: u32, request: HeaderMap) -> Result<Response, PageError> {
    let path = views::home_url(page);
    let app = state.clone();
    state
        .cached(&request, false, &path, |_origin| async move {
            // One extra row tells whether a next page exists.
            let mut stories = app
                .app
                .public_stories(PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
                .await?;
            let has_next = stories.len() > PAGE_SIZE as usize;
            stories.truncate(PAGE_SIZE as usize);
            if stories.is_empty() && page > 1 {
                return Err(CoreError::NotFound("no such page".into()));
            }
            let modified = stories.iter().map(|s| s.updated_at).max();
            let html = app.render("home.html", views::home(&stories, page, has_next))?;
            Ok(html_page(html, modified))
        })
        .await
}

async fn story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    story_page(state, slug, None, request).await
}

async fn slide(
    State(state): State<AppState>,
    Path((slug, n)): Path<(String, String)>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    match n.parse::<u32>().ok().filter(|&n| n >= 1) {
        Some(position) => story_page(state, slug, Some(position), request).await,
        None => Err(state.page_error(CoreError::NotFound(format!("no slide {n:?}")))),
    }
}

async fn story_page(
    state: AppState,
    slug: String,
    current: Option<u32>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    let path = match current {
        Some(n) => views::slide_url(&slug, n),
        None => views::story_url(&slug),
    };
    let app = state.clone();
    state
        .cached(&request, false, &path, |origin| async move {
            let story = app.app.public_story(&slug).await?;
            if let Some(n) = current {
                if n as usize > story.slides.len() {
                    return Err(CoreError::NotFound(format!(
                        "story {slug} has no slide {n}"
                    )));
                }
            }
            let html = app.render("story.html", story_view(&origin, &story, current))?;
            Ok(html_page(html, Some(story.story.updated_at)))
        })
        .await
}

fn html_page(html: String, modified: Option<DateTime<Utc>>) -> Representation {
    Representation::new("text/html; charset=utf-8", PAGE_CACHING, html, modified)
}

/// A story as feeds and the sitemap list it.
#[derive(Serialize)]
struct FeedItem {
    headline: String,
    url: String,
    description: String,
    published: FeedDate,
    updated: FeedDate,
    cover: Option<SlideMedia>,
    media: Vec<SlideMedia>,
}

#[derive(Serialize)]
struct FeedDate {
    rfc2822: String,
    rfc3339: String,
}

impl From<DateTime<Utc>> for FeedDate {
    fn from(at: DateTime<Utc>) -> Self {
        FeedDate {
            rfc2822: at.to_rfc2822(),
            rfc3339: views::rfc3339(at),
        }
    }
}

impl FeedItem {
    fn new(origin: &str, story: &StoryWithSlides, images: usize) -> Self {
        let media: Vec<SlideMedia> = story
            .slides
            .iter()
            .take(images)
            .map(|slide| SlideMedia::new(origin, &story.story, slide))
            .collect();
        let cover = story
            .slides
            .first()
            .map(|slide| SlideMedia::new(origin, &story.story, slide));
        FeedItem {
            headline: story.story.headline.clone(),
            url: format!("{origin}{}", views::story_url(&story.story.slug)),
            description: views::description(&story.story.lead),
            published: story
                .story
                .published_at
                .unwrap_or(story.story.created_at)
                .into(),
            updated: story.story.updated_at.into(),
            cover,
            media,
        }
    }
}

impl AppState {
    /// The newest `limit` published stories with their slides.
    pub(crate) async fn published_stories(
        &self,
        limit: u32,
    ) -> Result<Vec<StoryWithSlides>, CoreError> {
        const BATCH: u32 = 500;
        let mut stories = Vec::new();
        let mut offset = 0;
        while offset < limit {
            let batch = self
                .app
                .public_stories(BATCH.min(limit - offset), offset)
                .await?;
            let done = (batch.len() as u32) < BATCH.min(limit - offset);
            for summary in batch {
                // A story unpublished since the listing is simply left out.
                match self.app.public_story(&summary.slug).await {
                    Ok(story) => stories.push(story),
                    Err(err) if err.is_not_found() => {}
                    Err(err) => return Err(err),
                }
            }
            if done {
                break;
            }
            offset += BATCH;
        }
        Ok(stories)
    }

    /// A feed or sitemap: `template` over the newest `limit` stories.
    async fn listing(
        &self,
        request: &HeaderMap,
        path: &str,
        template: &'static str,
        content_type: &'static str,
        limit: u32,
        images: usize,
    ) -> Result<Response, PageError> {
        let app = self.clone();
        self.cached(request, true, path, |origin| async move {
            let stories = app.published_stories(limit).await?;
            let items: Vec<FeedItem> = stories
                .iter()
                .map(|story| FeedItem::new(&origin, story, images))
                .collect();
            let modified = stories.iter().map(|s| s.story.updated_at).max();
            let body = app.render(
                template,
                context! {
                    origin,
                    items,
                    updated => modified.map(FeedDate::from),
                    epoch => "1970-01-01T00:00:00Z",
                },
            )?;
            Ok(Representation::new(
                content_type,
                PAGE_CACHING,
                body,
                modified,
            ))
        })
        .await
    }
}

async fn rss(State(state): State<AppState>, request: HeaderMap) -> Result<Response, PageError> {
    state
        .listing(
            &request,
            "/feed.rss",
            "feed.rss",
            "application/rss+xml; charset=utf-8",
            FEED_SIZE,
            usize::MAX,
        )
        .await
}

async fn atom(State(state): State<AppState>, request: HeaderMap) -> Result<Response, PageError> {
    state
        .listing(
            &request,
            "/feed.atom",
            "feed.atom",
            "application/atom+xml; charset=utf-8",
            FEED_SIZE,
            usize::MAX,
        )
        .await
}

async fn sitemap(State(state): State<AppState>, request: HeaderMap) -> Result<Response, PageError> {
    state
        .listing(
            &request,
            "/sitemap.xml",
            "sitemap.xml",
            "application/xml; charset=utf-8",
            SITEMAP_URLS,
            SITEMAP_IMAGES,
        )
        .await
}

async fn robots(State(state): State<AppState>, request: HeaderMap) -> Response {
    let origin = state.origin(&request);
    let body =
        format!("User-agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: {origin}/sitemap.xml\n");
    Representation::new("text/plain; charset=utf-8", PAGE_CACHING, body, None).respond(&request)
}

async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Result<Response, PageError> {
    match state.assets.find(&file) {
        Some(asset) => Ok(asset.respond(&request)),
        None => Err(state.page_error(CoreError::NotFound(format!("no asset {file:?}")))),
    }
}

/// Originals for editors only (asked before any lookup, so readers learn
/// nothing of the library), never cached by shared caches.
async fn original(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(sha256): Path<String>,
) -> Result<Response, PageError> {
    if caller.user().is_none() {
        return Err(state.page_error(CoreError::Unauthorized(
            "originals are for editors (log in); pages use the web renditions".into(),
        )));
    }
    let (bytes, media_type) = state
        .app
        .original(&sha256)
        .await
        .map_err(|e| state.page_error(e))?;
    let mut response = immutable_image(bytes, &media_type);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

async fn rendition(
    State(state): State<AppState>,
    Path((sha256, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (bytes, media_type) = state
        .app
        .rendition(&sha256, &file)
        .await
        .map_err(|e| state.page_error(e))?;
    Ok(immutable_image(bytes, media_type))
}

/// Image bytes at a content-addressed URL: cached for a year, never sniffed.
fn immutable_image(bytes: axum::body::Bytes, media_type: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(media_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn not_found(State(state): State<AppState>) -> Response {
    let mut response = state
        .page_error(CoreError::NotFound("no such page".into()))
        .into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
