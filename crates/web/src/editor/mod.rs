//! The editor's HTML side: login, logout and (under `/edit`) the pages
//! editors work in. Every page here needs a session; every form post
//! carries the session's CSRF token.

use crate::auth::{same_secret, Caller, ClientAddress, SESSION_COOKIE};
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use minijinja::context;
use photodesk_core::{CoreError, SESSION_LIFETIME};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(log_in))
        .route("/logout", post(log_out))
        .route("/edit", get(story_list))
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
    if !state.login_limits.allow(&form.name, address) {
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
    let rows: Vec<_> = stories
        .iter()
        .map(|s| {
            context! {
                headline => s.headline,
                status => s.status.as_str(),
                slide_count => s.slide_count,
                updated => s.updated_at.format("%-d %b %Y %H:%M").to_string(),
                url => format!("/stories/{}", s.slug),
            }
        })
        .collect();
    state.html(
        StatusCode::OK,
        "edit/stories.html",
        context! {
            title => "Stories",
            stories => rows,
            search,
            user => session.user.name,
            csrf_token => session.csrf_token,
        },
    )
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
