//! The editor's HTML side: login, logout and (under `/edit`) the pages
//! editors work in. Every page here needs a session; every form post
//! carries the session's CSRF token.

use crate::auth::{same_secret, Caller, ClientAddress, SESSION_COOKIE};
use crate::error::PageError;
use crate::public::{original_url, rendition_url};
use crate::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use minijinja::context;
use photodesk_core::{CoreError, SessionUser, SESSION_LIFETIME};
use photodesk_types::{RenditionFailure, RenditionFormat, StoryId};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(log_in))
        .route("/logout", post(log_out))
        .route("/edit", get(story_list))
        .route("/edit/stories", post(new_story))
        .route(
            "/edit/import",
            post(import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/edit/stories/{id}", get(edit_story))
        .route("/edit/stories/{id}/preview", get(preview))
        .route("/edit/stories/{id}/history", get(history))
        .route(
            "/edit/stories/{id}/revisions/{version}/restore",
            post(restore),
        )
}

/// The session behind an editor page, or the way to the login page.
fn session_or_login(caller: Caller, here: &str) -> Result<SessionUser, Redirect> {
    match caller {
        Caller::Session(session) => Ok(session),
        _ => Err(Redirect::to(&format!("/login?next={here}"))),
    }
}

/// Form posts prove they come from our page with the session's token.
fn check_csrf(state: &AppState, session: &SessionUser, sent: &str) -> Result<(), PageError> {
    if same_secret(sent, &session.csrf_token) {
        Ok(())
    } else {
        Err(state.page_error(CoreError::Forbidden(
            "this form is stale or was sent from another site; reload the page".into(),
        )))
    }
}

fn story_id(state: &AppState, text: &str) -> Result<StoryId, PageError> {
    text.parse()
        .map_err(|_| state.page_error(CoreError::NotFound(format!("no story {text:?}"))))
}

/// Uploaded in one import at most (its photos are held in memory until
/// they are stored).
const MAX_IMPORT_BYTES: u64 = 1 << 30;

/// `POST /edit/import`: the plain-text story and its photos as a form
/// (`csrf_token`, `story`, `photos`…); becomes a draft, or nothing.
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let session = match session_or_login(caller, "/edit") {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login.into_response()),
    };
    let invalid = |message: String| state.page_error(CoreError::Invalid(message));
    let per_file = state.app.max_file_bytes();
    let (mut csrf, mut text, mut photos, mut total) = (String::new(), Vec::new(), Vec::new(), 0u64);
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| invalid(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| invalid(e.body_text()))? {
            total += chunk.len() as u64;
            if bytes.len() as u64 + chunk.len() as u64 > per_file || total > MAX_IMPORT_BYTES {
                return Err(state.page_error(CoreError::TooLarge(format!(
                    "{file_name}: files may have at most {per_file} bytes, an import {MAX_IMPORT_BYTES}"
                ))));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "story" => text = bytes,
            "photos" if !bytes.is_empty() => photos.push((file_name, bytes.into())),
            _ => {}
        }
    }
    check_csrf(&state, &session, &csrf)?;
    let story = state
        .app
        .import_uploaded_story(&text, photos)
        .await
        .map_err(|e| state.page_error(e))?;
    Ok(Redirect::to(&format!("/edit/stories/{}", story.story.id)).into_response())
}

#[derive(Deserialize)]
struct NewStoryForm {
    headline: String,
    csrf_token: String,
}

async fn new_story(
    State(state): State<AppState>,
    caller: Caller,
    Form(form): Form<NewStoryForm>,
) -> Result<Response, PageError> {
    let session = match session_or_login(caller, "/edit") {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login.into_response()),
    };
    check_csrf(&state, &session, &form.csrf_token)?;
    let story = state
        .app
        .create_draft(&form.headline, Vec::new(), &session.user)
        .await
        .map_err(|e| state.page_error(e))?;
    Ok(Redirect::to(&format!("/edit/stories/{}", story.story.id)).into_response())
}

async fn edit_story(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = match session_or_login(caller, &format!("/edit/stories/{id}")) {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login.into_response()),
    };
    let story = state
        .app
        .story_by_id(story_id(&state, &id)?)
        .await
        .map_err(|e| state.page_error(e))?;
    let photo_ids: Vec<_> = story.slides.iter().map(|slide| slide.photo.id).collect();
    let failures = state
        .app
        .rendition_failures(Some(&photo_ids), 0)
        .await
        .map_err(|e| state.page_error(e))?;
    let slides: Vec<_> = story
        .slides
        .iter()
        .map(|slide| {
            let failure = failures.iter().find(|f| f.photo_id == slide.photo.id);
            let thumb = slide
                .photo
                .renditions
                .iter()
                .filter(|r| r.format == RenditionFormat::Jpeg)
                .min_by_key(|r| r.width);
            context! {
                id => slide.id,
                position => slide.position,
                caption => slide.caption,
                alt_text => slide.alt_text,
                credit => slide.credit,
                thumb => thumb.map_or_else(|| original_url(&slide.photo.sha256), |r| rendition_url(&slide.photo, r)),
                thumb_height => (160 * slide.photo.height).checked_div(slide.photo.width).unwrap_or(107),
                near_duplicate => slide.photo.near_duplicate_of.is_some(),
                rendition_failure => failure.map(failure_view),
            }
        })
        .collect();
    state.html(
        StatusCode::OK,
        "edit/story.html",
        context! {
            title => format!("Edit: {}", story.story.headline),
            story => context! {
                id => story.story.id,
                slug => story.story.slug,
                headline => story.story.headline,
                lead => story.story.lead,
                status => story.story.status.as_str(),
                version => story.story.version,
            },
            slides,
            user => session.user.name,
            csrf_token => session.csrf_token,
        },
    )
}

/// The story exactly as readers will see it, whatever its status.
async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Err(to_login) = session_or_login(caller, &format!("/edit/stories/{id}/preview")) {
        return Ok(to_login.into_response());
    }
    let story = state
        .app
        .story_by_id(story_id(&state, &id)?)
        .await
        .map_err(|e| state.page_error(e))?;
    let origin = state.origin(&headers);
    state.html(
        StatusCode::OK,
        "story.html",
        crate::public::story_view(&origin, &story, None),
    )
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = match session_or_login(caller, &format!("/edit/stories/{id}/history")) {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login.into_response()),
    };
    let id = story_id(&state, &id)?;
    let story = state
        .app
        .story_by_id(id)
        .await
        .map_err(|e| state.page_error(e))?;
    let revisions = state
        .app
        .revisions(id)
        .await
        .map_err(|e| state.page_error(e))?;
    let mut rows = Vec::new();
    for revision in revisions {
        let content = state
            .app
            .revision(id, revision.version)
            .await
            .map_err(|e| state.page_error(e))?;
        rows.push(context! {
            version => revision.version,
            user => revision.user,
            when => revision.created_at.format("%-d %b %Y %H:%M:%S UTC").to_string(),
            headline => content.headline,
            slide_count => content.slides.len(),
            captions => content.slides.iter().map(|s| s.caption.clone()).collect::<Vec<_>>(),
            current => revision.version == story.story.version,
        });
    }
    state.html(
        StatusCode::OK,
        "edit/history.html",
        context! {
            title => format!("History: {}", story.story.headline),
            story => context! { id => id, headline => story.story.headline, version => story.story.version },
            revisions => rows,
            csrf_token => session.csrf_token,
        },
    )
}

#[derive(Deserialize)]
struct RestoreForm {
    csrf_token: String,
    version: u32,
}

async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, revision)): Path<(String, u32)>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, PageError> {
    let session = match session_or_login(caller, "/edit") {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login.into_response()),
    };
    check_csrf(&state, &session, &form.csrf_token)?;
    let id = story_id(&state, &id)?;
    state
        .app
        .restore_revision(id, revision, Some(form.version), &session.user)
        .await
        .map_err(|e| state.page_error(e))?;
    Ok(Redirect::to(&format!("/edit/stories/{id}")).into_response())
}

/// Where to go after logging in: only a path on this site.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/edit".to_owned(),
    }
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let next = local_path(query.next.as_deref());
    if caller.user().is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    state.html(
        StatusCode::OK,
        "login.html",
        context! { next, title => "Log in" },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

async fn log_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    ClientAddress(address): ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = local_path(form.next.as_deref());
    // Login CSRF: a login form posted from another site is refused.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        if origin != state.origin(&headers) {
            return Err(state.page_error(CoreError::Forbidden(
                "this form was sent from another site".into(),
            )));
        }
    }
    let form_again = |status, error: &str| {
        state.html(
            status,
            "login.html",
            context! { next, title => "Log in", name => form.name, error },
        )
    };
    let allowed = state
        .app
        .login_allowed(&form.name, address)
        .await
        .map_err(|err| state.page_error(err))?;
    if !allowed {
        return form_again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts. Wait a minute, then try again.",
        );
    }
    match state.app.log_in(&form.name, &form.password).await {
        Ok(login) => {
            let secure = state
                .base_url
                .as_deref()
                .is_some_and(|b| b.starts_with("https://"));
            let cookie = Cookie::build((SESSION_COOKIE, login.cookie))
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure)
                .path("/")
                .max_age(cookie_lifetime());
            Ok((jar.add(cookie), Redirect::to(&next)).into_response())
        }
        Err(CoreError::Unauthorized(message)) => form_again(
            StatusCode::UNAUTHORIZED,
            &format!("{}.", capitalise(&message)),
        ),
        Err(err) => Err(state.page_error(err)),
    }
}

fn cookie_lifetime() -> time::Duration {
    time::Duration::seconds(SESSION_LIFETIME.num_seconds())
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf_token: String,
}

async fn log_out(
    State(state): State<AppState>,
    caller: Caller,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    let Caller::Session(session) = caller else {
        return Ok(Redirect::to("/").into_response());
    };
    if !same_secret(&form.csrf_token, &session.csrf_token) {
        return Err(state.page_error(CoreError::Forbidden(
            "this form is stale or was sent from another site".into(),
        )));
    }
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state
            .app
            .log_out(cookie.value())
            .await
            .map_err(|e| state.page_error(e))?;
    }
    let gone = Cookie::build((SESSION_COOKIE, "")).path("/");
    Ok((jar.remove(gone), Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
}

async fn story_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let Caller::Session(session) = caller else {
        return Ok(Redirect::to("/login?next=/edit").into_response());
    };
    let search = query.q.unwrap_or_default();
    let stories = state
        .app
        .all_stories(&search, 200, 0)
        .await
        .map_err(|e| state.page_error(e))?;
    let failures = state
        .app
        .rendition_failures(None, FAILURES_LISTED)
        .await
        .map_err(|e| state.page_error(e))?;
    let rows: Vec<_> = stories
        .iter()
        .map(|s| {
            context! {
                headline => s.headline,
                status => s.status.as_str(),
                slide_count => s.slide_count,
                updated => s.updated_at.format("%-d %b %Y %H:%M").to_string(),
                edit_url => format!("/edit/stories/{}", s.id),
            }
        })
        .collect();
    state.html(
        StatusCode::OK,
        "edit/stories.html",
        context! {
            title => "Stories",
            stories => rows,
            failures => failures.iter().map(failure_view).collect::<Vec<_>>(),
            search,
            user => session.user.name,
            csrf_token => session.csrf_token,
        },
    )
}

/// Photos with failed renditions listed above the stories, the most often
/// failed first.
const FAILURES_LISTED: u32 = 20;

/// A photo whose renditions failed, as editor pages show it.
fn failure_view(failure: &RenditionFailure) -> minijinja::Value {
    context! {
        original_url => original_url(&failure.sha256),
        photo => failure.sha256.get(..12).unwrap_or(&failure.sha256),
        failures => failure.failures,
        error => failure.error,
        retry_at => failure.retry_at.format("%-d %b %Y %H:%M UTC").to_string(),
    }
}

impl AppState {
    fn html(
        &self,
        status: StatusCode,
        template: &str,
        context: impl serde::Serialize,
    ) -> Result<Response, PageError> {
        let html = self.templates.render(template, context).map_err(|e| {
            self.page_error(CoreError::Internal(format!("template {template}: {e}")))
        })?;
        // Editor pages hold drafts and tokens: never cached anywhere.
        Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
    }
}
