//! Failures as responses. Pages get an HTML error page, the API a JSON body
//! with a stable `code` and a human `message`. Internal details are logged,
//! never sent.

use crate::templates::Templates;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use photodesk_core::CoreError;
use serde_json::json;

/// Status, stable code and public message for a use-case error.
fn classify(err: &CoreError) -> (StatusCode, &'static str, String) {
    match err {
        CoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", err.to_string()),
        CoreError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", err.to_string()),
        CoreError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large", err.to_string()),
        CoreError::Unsupported(_) => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported",
            err.to_string(),
        ),
        CoreError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", err.to_string()),
        CoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", err.to_string()),
        CoreError::Conflict(_) => (StatusCode::CONFLICT, "conflict", err.to_string()),
        CoreError::Incomplete(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "incomplete",
            err.to_string(),
        ),
        CoreError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on our side".into(),
            )
        }
    }
}

/// An error on a JSON API route.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// What keeps a story from being published, one entry per missing field.
    problems: Vec<photodesk_core::Problem>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The request itself is malformed (query string, path, headers).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let (status, code, message) = classify(&err);
        ApiError {
            status,
            code,
            message,
            problems: match err {
                CoreError::Incomplete(problems) => problems,
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if !self.problems.is_empty() {
            body["problems"] = json!(self.problems);
        }
        (self.status, Json(body)).into_response()
    }
}

/// An error on an HTML page route.
pub struct PageError {
    pub err: CoreError,
    pub templates: std::sync::Arc<Templates>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, _, message) = classify(&self.err);
        let title = if status == StatusCode::NOT_FOUND {
            "Page not found".to_owned()
        } else {
            status.canonical_reason().unwrap_or("Error").to_owned()
        };
        // Readers get a short, friendly text; the detail is for API clients.
        let text = if status == StatusCode::NOT_FOUND {
            "There is no page at this address. It may have moved, or the story is not published yet.".to_owned()
        } else {
            message
        };
        match self
            .templates
            .render("error.html", minijinja::context! { title, text })
        {
            Ok(body) => (status, Html(body)).into_response(),
            Err(err) => {
                tracing::error!(%err, "error page failed to render");
                (status, title).into_response()
            }
        }
    }
}
