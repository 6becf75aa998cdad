//! Writing through the API: photos, stories, slides, publication, history.
//! Every handler takes [`Editor`], so anonymous callers get 401 and
//! browser sessions without the CSRF header 403, before anything happens.

use super::bodies::{
    ErrorBody, PhotoBody, PhotoList, RevisionList, SlideBody, SlideReply, StoryBody, UploadBody,
};
use super::{ApiJson, Paging};
use crate::auth::Editor;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use photodesk_core::{CoreError, PhotoInput, SlideChanges};
use photodesk_types::{SlideId, StoryId};
use serde::Deserialize;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/photos", get(list_photos).post(upload_photo))
        .route("/photos/{id}", get(get_photo))
        .route("/stories/{id}/slides", post(add_slide))
        .route(
            "/stories/{id}/slides/{slide_id}",
            axum::routing::patch(update_slide).delete(remove_slide),
        )
        .route("/stories/{id}/slides/order", put(reorder_slides))
        .route("/stories/{id}/publish", post(publish))
        .route("/stories/{id}/schedule", post(schedule))
        .route("/stories/{id}/unpublish", post(unpublish))
        .route("/stories/{id}/revisions", get(revisions))
        .route("/stories/{id}/revisions/{version}", get(revision))
        .route("/stories/{id}/revisions/{version}/restore", post(restore))
        // Uploads are read to their end by hand, against the photo size limit.
        .layer(DefaultBodyLimit::disable())
}

/// Ids in paths are numbers; anything else names nothing.
fn id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| CoreError::NotFound(format!("no such id {text:?}")).into())
}

/// A story in a path: its numeric id, or (for scripts that know only that)
/// its slug.
async fn story_id(state: &AppState, text: &str) -> Result<StoryId, ApiError> {
    match text.parse() {
        Ok(id) => Ok(id),
        Err(_) => Ok(state.app.story_by_reference(text).await?.story.id),
    }
}

/// A revision number in a path; anything else names no revision.
fn revision_number(text: &str) -> Result<u32, ApiError> {
    text.parse()
        .map_err(|_| CoreError::NotFound(format!("no revision {text:?}")).into())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("the upload is larger than the {limit}-byte limit"),
    )
}

/// `POST /photos`: multipart with a `file` field, or the image as the raw
/// body (`Content-Type: image/...`, optional `X-Filename`).
#[utoipa::path(post, path = "/photos", tag = "photos",
    request_body(content_type = "multipart/form-data",
                 description = "the photo in the multipart field `file`; or the image itself as the body, with its image/* Content-Type"),
    responses((status = 201, body = UploadBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn upload_photo(
    State(state): State<AppState>,
    _editor: Editor,
    request: Request,
) -> Result<impl IntoResponse, ApiError> {
    let limit = state.app.max_file_bytes();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (name, bytes) = if content_type.starts_with("multipart/form-data") {
        multipart_file(
            Multipart::from_request(request, &state)
                .await
                .map_err(|e| ApiError::new(e.status(), "bad-request", e.body_text()))?,
            limit,
        )
        .await?
    } else if content_type.starts_with("image/") || content_type == "application/octet-stream" {
        let name = request
            .headers()
            .get("x-filename")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("upload")
            .to_owned();
        let body = axum::body::to_bytes(request.into_body(), limit as usize)
            .await
            .map_err(|_| too_large(limit))?;
        (name, body)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the photo as multipart/form-data (field `file`) or as the body with an image/* Content-Type",
        ));
    };
    if bytes.is_empty() {
        return Err(CoreError::Invalid("the upload is empty".into()).into());
    }
    let ingested = state.app.ingest(PhotoInput::Bytes { name, bytes }).await?;
    Ok((StatusCode::CREATED, Json(UploadBody::new(ingested))))
}

async fn multipart_file(mut multipart: Multipart, limit: u64) -> Result<(String, Bytes), ApiError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), "bad-request", e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ApiError::new(e.status(), "bad-request", e.body_text()))?
        {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok((name, bytes.into()));
    }
    Err(CoreError::Invalid("the form has no `file` field".into()).into())
}

#[utoipa::path(get, path = "/photos", tag = "photos",
    params(("q" = Option<String>, Query, description = "caption, headline, keyword, credit or creator contains"),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, body = PhotoList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)), security(("token" = []), ("session" = [])))]
async fn list_photos(
    State(state): State<AppState>,
    _editor: Editor,
    Query(paging): Query<Paging>,
) -> Result<Json<PhotoList>, ApiError> {
    let (limit, offset) = paging.limits()?;
    let query = paging.q.as_deref().unwrap_or_default();
    let mut photos = state.app.search_photos(query, limit + 1, offset).await?;
    let next_offset = (photos.len() > limit as usize).then_some(offset + limit);
    photos.truncate(limit as usize);
    Ok(Json(PhotoList {
        photos: photos.into_iter().map(PhotoBody::from).collect(),
        limit,
        offset,
        next_offset,
    }))
}

#[utoipa::path(get, path = "/photos/{id}", tag = "photos", params(("id" = i64, Path)),
    responses((status = 200, body = PhotoBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn get_photo(
    State(state): State<AppState>,
    _editor: Editor,
    Path(photo): Path<String>,
) -> Result<Json<PhotoBody>, ApiError> {
    let photo = state.app.photo_by_id(id(&photo)?).await?;
    let failure = state
        .app
        .rendition_failures(Some(&[photo.id]), 1)
        .await?
        .pop();
    Ok(Json(PhotoBody::with_failure(photo, failure)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStoryRequest {
    headline: String,
    #[serde(default)]
    lead: Vec<String>,
}

#[utoipa::path(post, path = "/stories", tag = "stories", request_body = NewStoryRequest,
    responses((status = 201, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn create_story(
    State(state): State<AppState>,
    Editor(user): Editor,
    ApiJson(body): ApiJson<NewStoryRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let story = state
        .app
        .create_draft(&body.headline, body.lead, &user)
        .await?;
    let location = format!("/api/v1/stories/{}", story.story.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(StoryBody::from(story)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoryChanges {
    headline: Option<String>,
    lead: Option<Vec<String>>,
    /// The version the change was made to; omitted, the change applies to
    /// whatever is current.
    version: Option<u32>,
}

#[utoipa::path(patch, path = "/stories/{id}", tag = "stories", params(("id" = i64, Path)),
    request_body = StoryChanges,
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
pub async fn update_story(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(story): Path<String>,
    ApiJson(body): ApiJson<StoryChanges>,
) -> Result<Json<StoryBody>, ApiError> {
    let story = state
        .app
        .edit_story(
            story_id(&state, &story).await?,
            body.version,
            &user,
            |content| {
                if let Some(headline) = body.headline {
                    content.headline = headline.trim().to_owned();
                }
                if let Some(lead) = body.lead {
                    content.lead = lead;
                }
                Ok(())
            },
        )
        .await?;
    Ok(Json(story.into()))
}

#[utoipa::path(delete, path = "/stories/{id}", tag = "stories", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("token" = []), ("session" = [])))]
pub async fn delete_story(
    State(state): State<AppState>,
    _editor: Editor,
    Path(story): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .delete_story(story_id(&state, &story).await?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSlideRequest {
    photo_id: i64,
    caption: Option<String>,
    alt_text: Option<String>,
    credit: Option<String>,
    version: Option<u32>,
}

#[utoipa::path(post, path = "/stories/{id}/slides", tag = "slides", params(("id" = i64, Path)),
    request_body = NewSlideRequest,
    responses((status = 201, body = SlideReply), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn add_slide(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(story): Path<String>,
    ApiJson(body): ApiJson<NewSlideRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let changes = SlideChanges {
        caption: body.caption,
        alt_text: body.alt_text,
        credit: body.credit,
    };
    let (story, slide_id) = state
        .app
        .add_slide(
            story_id(&state, &story).await?,
            body.version,
            &user,
            body.photo_id,
            changes,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(slide_reply(story, slide_id)?)))
}

fn slide_reply(
    story: photodesk_types::StoryWithSlides,
    slide_id: SlideId,
) -> Result<SlideReply, ApiError> {
    let version = story.story.version;
    let slug = story.story.slug.clone();
    let slide = story
        .slides
        .into_iter()
        .find(|s| s.id == slide_id)
        .ok_or_else(|| CoreError::Internal(format!("slide {slide_id} vanished")))?;
    Ok(SlideReply {
        slide: SlideBody::new(&slug, slide),
        story_version: version,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlideChangeRequest {
    caption: Option<String>,
    alt_text: Option<String>,
    credit: Option<String>,
    version: Option<u32>,
}

#[utoipa::path(patch, path = "/stories/{id}/slides/{slide_id}", tag = "slides",
    params(("id" = i64, Path), ("slide_id" = i64, Path)), request_body = SlideChangeRequest,
    responses((status = 200, body = SlideReply), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn update_slide(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path((story, slide)): Path<(String, String)>,
    ApiJson(body): ApiJson<SlideChangeRequest>,
) -> Result<Json<SlideReply>, ApiError> {
    let slide_id = id(&slide)?;
    let changes = SlideChanges {
        caption: body.caption,
        alt_text: body.alt_text,
        credit: body.credit,
    };
    let story = state
        .app
        .change_slide(
            story_id(&state, &story).await?,
            body.version,
            &user,
            slide_id,
            changes,
        )
        .await?;
    Ok(Json(slide_reply(story, slide_id)?))
}

#[derive(Deserialize, Default, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    version: Option<u32>,
}

#[utoipa::path(delete, path = "/stories/{id}/slides/{slide_id}", tag = "slides",
    params(("id" = i64, Path), ("slide_id" = i64, Path), VersionQuery),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn remove_slide(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path((story, slide)): Path<(String, String)>,
    Query(query): Query<VersionQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .remove_slide(
            story_id(&state, &story).await?,
            query.version,
            &user,
            id(&slide)?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    slide_ids: Vec<SlideId>,
    version: Option<u32>,
}

#[utoipa::path(put, path = "/stories/{id}/slides/order", tag = "slides", params(("id" = i64, Path)),
    request_body = OrderRequest,
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn reorder_slides(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path(story): Path<String>,
    ApiJson(body): ApiJson<OrderRequest>,
) -> Result<Json<StoryBody>, ApiError> {
    let story = state
        .app
        .reorder_slides(
            story_id(&state, &story).await?,
            body.version,
            &user,
            &body.slide_ids,
        )
        .await?;
    Ok(Json(story.into()))
}

/// Publication bodies are optional: `{}` or nothing at all.
#[derive(Deserialize, Default, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    version: Option<u32>,
}

async fn optional_json<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    request: Request,
) -> Result<T, ApiError> {
    let has_body = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|len| len != "0")
        || request.headers().contains_key(header::CONTENT_TYPE);
    if has_body {
        ApiJson::<T>::from_request(request, state)
            .await
            .map(|ApiJson(v)| v)
    } else {
        Ok(T::default())
    }
}

#[utoipa::path(post, path = "/stories/{id}/publish", tag = "publication", params(("id" = i64, Path)),
    request_body(content = Option<PublishRequest>),
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, description = "what is missing, in `problems`", body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn publish(
    State(state): State<AppState>,
    _editor: Editor,
    Path(story): Path<String>,
    request: Request,
) -> Result<Json<StoryBody>, ApiError> {
    let body: PublishRequest = optional_json(&state, request).await?;
    Ok(Json(
        state
            .app
            .publish(story_id(&state, &story).await?, body.version)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// RFC 3339, e.g. `2026-12-01T06:00:00Z`.
    at: DateTime<Utc>,
    version: Option<u32>,
}

#[utoipa::path(post, path = "/stories/{id}/schedule", tag = "publication", params(("id" = i64, Path)),
    request_body = ScheduleRequest,
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn schedule(
    State(state): State<AppState>,
    _editor: Editor,
    Path(story): Path<String>,
    ApiJson(body): ApiJson<ScheduleRequest>,
) -> Result<Json<StoryBody>, ApiError> {
    Ok(Json(
        state
            .app
            .schedule(story_id(&state, &story).await?, body.version, body.at)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, path = "/stories/{id}/unpublish", tag = "publication", params(("id" = i64, Path)),
    request_body(content = Option<PublishRequest>),
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn unpublish(
    State(state): State<AppState>,
    _editor: Editor,
    Path(story): Path<String>,
    request: Request,
) -> Result<Json<StoryBody>, ApiError> {
    let body: PublishRequest = optional_json(&state, request).await?;
    Ok(Json(
        state
            .app
            .unpublish(story_id(&state, &story).await?, body.version)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/stories/{id}/revisions", tag = "history", params(("id" = i64, Path)),
    responses((status = 200, body = RevisionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn revisions(
    State(state): State<AppState>,
    _editor: Editor,
    Path(story): Path<String>,
) -> Result<Json<RevisionList>, ApiError> {
    Ok(Json(RevisionList {
        revisions: state.app.revisions(story_id(&state, &story).await?).await?,
    }))
}

#[utoipa::path(get, path = "/stories/{id}/revisions/{version}", tag = "history",
    params(("id" = i64, Path), ("version" = u32, Path)),
    responses((status = 200, body = photodesk_types::StoryContent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn revision(
    State(state): State<AppState>,
    _editor: Editor,
    Path((story, version)): Path<(String, String)>,
) -> Result<Json<photodesk_types::StoryContent>, ApiError> {
    let version = revision_number(&version)?;
    Ok(Json(
        state
            .app
            .revision(story_id(&state, &story).await?, version)
            .await?,
    ))
}

#[utoipa::path(post, path = "/stories/{id}/revisions/{version}/restore", tag = "history",
    params(("id" = i64, Path), ("version" = u32, Path)), request_body(content = Option<PublishRequest>),
    responses((status = 200, body = StoryBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("token" = []), ("session" = [])))]
async fn restore(
    State(state): State<AppState>,
    Editor(user): Editor,
    Path((story, version)): Path<(String, String)>,
    request: Request,
) -> Result<Json<StoryBody>, ApiError> {
    let body: PublishRequest = optional_json(&state, request).await?;
    let version = revision_number(&version)?;
    let story = story_id(&state, &story).await?;
    Ok(Json(
        state
            .app
            .restore_revision(story, version, body.version, &user)
            .await?
            .into(),
    ))
}
