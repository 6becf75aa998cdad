//! Who is asking: a browser session (cookie, with a CSRF token for every
//! state-changing request), an API token (`Authorization: Bearer`), or no
//! one. Extractors refuse requests that may not go on, so handlers never
//! forget a check.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum_extra::extract::CookieJar;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use photodesk_core::SessionUser;
use photodesk_types::{Role, User};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

pub const SESSION_COOKIE: &str = "photodesk_session";
/// Browser scripts send the session's CSRF token in this header; forms in
/// a `csrf_token` field.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The person behind a request.
#[derive(Clone)]
pub enum Caller {
    Anonymous,
    Session(SessionUser),
    Token(User),
}

impl Caller {
    pub fn user(&self) -> Option<&User> {
        match self {
            Caller::Anonymous => None,
            Caller::Session(session) => Some(&session.user),
            Caller::Token(user) => Some(user),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
            return match state.app.token_user(token).await? {
                Some(user) => Ok(Caller::Token(user)),
                None => Err(unauthorized(
                    "the API token is unknown, revoked or its user disabled",
                )),
            };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        match jar.get(SESSION_COOKIE) {
            Some(cookie) => Ok(state
                .app
                .session_user(cookie.value())
                .await?
                .map_or(Caller::Anonymous, Caller::Session)),
            None => Ok(Caller::Anonymous),
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A logged-in editor or admin (both may edit stories and photos). A
/// browser session must also prove, for anything but GET/HEAD, that the
/// request comes from our own page: the `X-CSRF-Token` header.
pub struct Editor(pub User);

impl FromRequestParts<AppState> for Editor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Anonymous => Err(unauthorized("log in, or send an API token")),
            Caller::Token(user) => Ok(Editor(user)),
            Caller::Session(session) => {
                let safe = matches!(parts.method, Method::GET | Method::HEAD);
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if safe || same_secret(sent, &session.csrf_token) {
                    Ok(Editor(session.user))
                } else {
                    Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf",
                        "missing or wrong X-CSRF-Token header for this session",
                    ))
                }
            }
        }
    }
}

/// The client's address as the socket saw it (unspecified when there is
/// none, as in tests). Behind a load balancer this is the balancer's.
pub struct ClientAddress(pub IpAddr);

impl<S: Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}

/// An admin: may also manage users. Editors get 403.
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Editor(user) = Editor::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(Admin(user))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only admins manage users",
            ))
        }
    }
}

/// Keys tracked before recovered ones are swept.
const MAX_TRACKED: usize = 10_000;

/// Login attempts allowed per account and per client address: a burst,
/// then one more every few seconds. Kept in memory per instance.
pub struct LoginLimits {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimits {
    pub fn new() -> Self {
        let quota =
            |per_minute: u32| Quota::per_minute(NonZeroU32::new(per_minute).expect("non-zero"));
        LoginLimits {
            per_account: RateLimiter::keyed(quota(5)),
            per_address: RateLimiter::keyed(quota(20)),
        }
    }

    /// True if this attempt may go on; every attempt counts against both.
    pub fn allow(&self, account: &str, address: IpAddr) -> bool {
        let account_ok = self.per_account.check_key(&account.to_lowercase()).is_ok();
        let address_ok = self.per_address.check_key(&address).is_ok();
        // Attempts with ever new names or addresses must not grow memory
        // without end: keys whose limit has fully recovered are dropped.
        if self.per_account.len() > MAX_TRACKED || self.per_address.len() > MAX_TRACKED {
            self.per_account.retain_recent();
            self.per_address.retain_recent();
        }
        account_ok && address_ok
    }
}
