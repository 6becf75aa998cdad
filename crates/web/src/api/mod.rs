//! The JSON API (`/api/v1`). Response shapes are spelled out as structs so
//! they change only on purpose. Reading published stories needs no account;
//! everything else needs an editor (session with CSRF header, or token).

mod bodies;
mod editing;
mod users;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use bodies::{StoryBody, StoryList, StoryListItem};
use serde::de::DeserializeOwned;
use serde::Deserialize;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stories", get(list_stories).post(editing::create_story))
        .route(
            "/stories/{reference}",
            get(get_story)
                .patch(editing::update_story)
                .delete(editing::delete_story),
        )
        .merge(editing::routes())
        .merge(users::routes())
        .route("/openapi.json", get(openapi))
}

/// The OpenAPI 3.1 document, generated from the handlers and body types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Photodesk API", description = "Stories, slides and photos of a Photodesk site."),
    servers((url = "/api/v1")),
    paths(
        list_stories, get_story, editing::create_story, editing::update_story, editing::delete_story,
        editing::upload_photo, editing::list_photos, editing::get_photo,
        editing::add_slide, editing::update_slide, editing::remove_slide, editing::reorder_slides,
        editing::publish, editing::schedule, editing::unpublish,
        editing::revisions, editing::revision, editing::restore,
        users::list_users, users::add_user, users::disable_user, users::enable_user, users::set_password,
    ),
    modifiers(&Security),
)]
struct ApiDoc;

/// Two ways to authenticate: a token, or the editor's session cookie plus
/// its CSRF token in `X-CSRF-Token`.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "plus the session's CSRF token in the X-CSRF-Token header for changes",
            ))),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi())
}

/// A JSON body whose every failure is a JSON error: 415 without a JSON
/// content type, 400 for broken JSON, 422 for wrong fields, 413 too large.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "send the body as JSON with Content-Type: application/json",
                ),
                JsonRejection::JsonSyntaxError(e) => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad-json",
                    format!("the body is not valid JSON: {}", e.body_text()),
                ),
                JsonRejection::JsonDataError(e) => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.body_text())
                }
                other => ApiError::new(other.status(), "bad-request", other.body_text()),
            }),
        }
    }
}

/// Paging parameters as given; parsed by hand so a bad value gets a JSON
/// error rather than the framework's plain-text rejection.
#[derive(Deserialize)]
struct Paging {
    limit: Option<String>,
    offset: Option<String>,
    /// Editors only: headline contains (stories) or metadata matches (photos).
    q: Option<String>,
}

impl Paging {
    fn limits(&self) -> Result<(u32, u32), ApiError> {
        let limit = number("limit", self.limit.as_deref(), DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
        Ok((limit, number("offset", self.offset.as_deref(), 0)?))
    }
}

fn number(name: &str, value: Option<&str>, default: u32) -> Result<u32, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a whole number, not {text:?}"))
        }),
    }
}

#[utoipa::path(get, path = "/stories", tag = "stories",
    params(("q" = Option<String>, Query, description = "editors: headline contains"),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, body = StoryList), (status = 400, body = bodies::ErrorBody)))]
/// Published stories for everyone; editors see drafts and scheduled ones
/// too, and may search headlines (`q`).
async fn list_stories(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<Paging>,
) -> Result<Json<StoryList>, ApiError> {
    let (limit, offset) = paging.limits()?;
    let mut stories = match caller.user() {
        Some(_) => {
            let search = paging.q.as_deref().unwrap_or_default();
            state.app.all_stories(search, limit + 1, offset).await?
        }
        None => state.app.public_stories(limit + 1, offset).await?,
    };
    let next_offset = (stories.len() > limit as usize).then_some(offset + limit);
    stories.truncate(limit as usize);
    Ok(Json(StoryList {
        stories: stories.into_iter().map(StoryListItem::from).collect(),
        limit,
        offset,
        next_offset,
    }))
}

#[utoipa::path(get, path = "/stories/{reference}", tag = "stories",
    params(("reference" = String, Path, description = "slug or numeric id")),
    responses((status = 200, body = StoryBody), (status = 404, body = bodies::ErrorBody)))]
/// By slug or id; drafts and scheduled stories only for editors.
async fn get_story(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<StoryBody>, ApiError> {
    let story = match caller.user() {
        Some(_) => state.app.story_by_reference(&reference).await?,
        None => state.app.public_story(&reference).await?,
    };
    Ok(Json(story.into()))
}
