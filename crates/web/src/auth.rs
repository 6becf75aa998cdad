//! Who is asking: a browser session (cookie, with a CSRF token for every
//! state-changing request), an API token (`Authorization: Bearer`), or no
//! one. Extractors refuse requests that may not go on, so handlers never
//! forget a check.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum_extra::extract::CookieJar;
use ipnet::IpNet;
use photodesk_core::SessionUser;
use photodesk_types::{Role, User};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientAddress(client_address(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

/// The client: the peer, unless the peer is a trusted proxy; then the
/// nearest `X-Forwarded-For` entry (read from the right, as each proxy
/// appends) that is not itself a trusted proxy. Entries left of that are
/// whatever the client claimed, so they are never believed.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            break;
        };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = ["10.0.0.0/8", "192.168.1.5/32"]
            .iter()
            .map(|net| net.parse().unwrap())
            .collect();
        let cases: &[(&str, &[&str], &str)] = &[
            // From anyone else the header is ignored.
            ("203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
            // Behind the balancer: the entry it appended.
            ("10.0.0.2", &["198.51.100.1"], "198.51.100.1"),
            // What the client claimed left of that is not believed.
            ("10.0.0.2", &["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
            // Several trusted hops, in one header or several.
            ("10.0.0.2", &["198.51.100.1, 192.168.1.5"], "198.51.100.1"),
            ("10.0.0.2", &["198.51.100.1", "10.9.9.9"], "198.51.100.1"),
            ("10.0.0.2", &["2001:db8::7"], "2001:db8::7"),
            // Garbage stops the walk at the last sound hop.
            ("10.0.0.2", &["<script>, 198.51.100.1"], "198.51.100.1"),
            ("10.0.0.2", &["not an address"], "10.0.0.2"),
            ("10.0.0.2", &[], "10.0.0.2"),
        ];
        for (peer, forwarded, expected) in cases {
            let mut headers = HeaderMap::new();
            for value in *forwarded {
                headers.append("x-forwarded-for", value.parse().unwrap());
            }
            assert_eq!(
                client_address(peer.parse().unwrap(), &headers, &trusted),
                expected.parse::<IpAddr>().unwrap(),
                "{peer} {forwarded:?}"
            );
        }
    }
}
