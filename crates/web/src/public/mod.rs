//! Pages for readers. They work without JavaScript; every slide has its own
//! URL (`/stories/{slug}/{n}`).

mod views;

pub use views::{original_url, rendition_url};

use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use photodesk_core::CoreError;
use serde::Deserialize;

/// Stories per home page.
pub const PAGE_SIZE: u32 = 20;
/// Content-addressed responses never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SITE_CSS: &str = include_str!("../../assets/site.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/stories/{slug}", get(story))
        .route("/stories/{slug}/{n}", get(slide))
        .route("/originals/{sha256}", get(original))
        .route("/renditions/{sha256}/{file}", get(rendition))
        .route("/assets/site.css", get(site_css))
}

impl AppState {
    fn page_error(&self, err: CoreError) -> PageError {
        PageError {
            err,
            templates: self.templates.clone(),
        }
    }

    fn page(&self, name: &str, context: impl serde::Serialize) -> Result<Response, PageError> {
        self.templates
            .render(name, context)
            .map(|html| Html(html).into_response())
            .map_err(|e| self.page_error(CoreError::Internal(format!("template {name}: {e}"))))
    }
}

#[derive(Deserialize)]
struct HomeQuery {
    page: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    Query(query): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let page: u32 = match query.page.as_deref() {
        None => 1,
        Some(text) => text
            .parse()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| state.page_error(CoreError::NotFound("no such page".into())))?,
    };
    // One extra row tells whether a next page exists.
    let mut stories = state
        .app
        .public_stories(PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        .await
        .map_err(|e| state.page_error(e))?;
    let has_next = stories.len() > PAGE_SIZE as usize;
    stories.truncate(PAGE_SIZE as usize);
    if stories.is_empty() && page > 1 {
        return Err(state.page_error(CoreError::NotFound("no such page".into())));
    }
    state.page("home.html", views::home(&stories, page, has_next))
}

async fn story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    render_story(&state, &slug, None).await
}

async fn slide(
    State(state): State<AppState>,
    Path((slug, n)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let position = n.parse::<u32>().ok().filter(|&n| n >= 1);
    match position {
        Some(position) => render_story(&state, &slug, Some(position)).await,
        None => Err(state.page_error(CoreError::NotFound(format!("no slide {n:?}")))),
    }
}

async fn render_story(
    state: &AppState,
    slug: &str,
    current: Option<u32>,
) -> Result<Response, PageError> {
    let story = state
        .app
        .public_story(slug)
        .await
        .map_err(|e| state.page_error(e))?;
    if let Some(n) = current {
        if n as usize > story.slides.len() {
            return Err(state.page_error(CoreError::NotFound(format!(
                "story {slug} has no slide {n}"
            ))));
        }
    }
    state.page("story.html", views::story(&story, current))
}

async fn original(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, PageError> {
    let (bytes, media_type) = state
        .app
        .original(&sha256)
        .await
        .map_err(|e| state.page_error(e))?;
    Ok(immutable_image(bytes, &media_type))
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

async fn site_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SITE_CSS,
    )
}

pub async fn not_found(State(state): State<AppState>) -> Response {
    let mut response = state
        .page_error(CoreError::NotFound("no such page".into()))
        .into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
