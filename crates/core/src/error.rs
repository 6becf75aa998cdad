//! The one error type of the use cases. Lower crates' errors are mapped into
//! a small set of kinds here; only the web crate turns a kind into an HTTP
//! status, and only the binary into an exit code.

use photodesk_db::DbError;
use photodesk_imaging::ImagingError;
use photodesk_storage::StorageError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    NotFound(String),
    /// The caller's input is wrong; the message says where and why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    /// No one is logged in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in, but this person may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing changed since the caller read it (an edit by someone else),
    /// or a name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The story cannot be published as it is: each problem names a slide
    /// (or none, for the story itself) and the missing field.
    #[error("the story cannot be published yet: {}", describe(.0))]
    Incomplete(Vec<Problem>),
    /// Something failed that the caller cannot fix; details are for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, CoreError::NotFound(_))
    }

    /// Adds where the error happened (a file, a line) in front of the message.
    pub fn context(self, place: impl std::fmt::Display) -> CoreError {
        match self {
            CoreError::NotFound(m) => CoreError::NotFound(format!("{place}: {m}")),
            CoreError::Invalid(m) => CoreError::Invalid(format!("{place}: {m}")),
            CoreError::TooLarge(m) => CoreError::TooLarge(format!("{place}: {m}")),
            CoreError::Unsupported(m) => CoreError::Unsupported(format!("{place}: {m}")),
            CoreError::Unauthorized(m) => CoreError::Unauthorized(format!("{place}: {m}")),
            CoreError::Forbidden(m) => CoreError::Forbidden(format!("{place}: {m}")),
            CoreError::Conflict(m) => CoreError::Conflict(format!("{place}: {m}")),
            CoreError::Incomplete(problems) => CoreError::Incomplete(problems),
            CoreError::Internal(m) => CoreError::Internal(format!("{place}: {m}")),
        }
    }
}

/// Something missing before a story may go public.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The slide, or `None` when the story itself lacks something.
    pub slide_id: Option<i64>,
    pub position: Option<u32>,
    /// `headline`, `slides`, `caption`, `alt_text` or `credit`.
    pub field: &'static str,
    pub message: String,
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<ImagingError> for CoreError {
    fn from(err: ImagingError) -> Self {
        match err {
            ImagingError::Unsupported(_) => CoreError::Unsupported(err.to_string()),
            ImagingError::FileTooLarge { .. } | ImagingError::TooManyPixels { .. } => {
                CoreError::TooLarge(err.to_string())
            }
            ImagingError::Corrupt(_) => CoreError::Invalid(err.to_string()),
        }
    }
}

impl From<DbError> for CoreError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Invalid(message) => CoreError::Invalid(message),
            other => CoreError::Internal(other.to_string()),
        }
    }
}

impl From<StorageError> for CoreError {
    fn from(err: StorageError) -> Self {
        if err.is_not_found() {
            CoreError::NotFound(err.to_string())
        } else if matches!(err, StorageError::Config(_)) {
            CoreError::Invalid(err.to_string())
        } else {
            CoreError::Internal(err.to_string())
        }
    }
}
