//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; database, pool and validation errors convert into it.
//! Unexpected errors become an opaque 500 whose cause is logged, never sent to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field in a 422 response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// Path of the field in the request (`name`, `inventors[1].share`, or `query.limit`).
    pub field: String,
    /// Machine-readable reason (`required`, `length`, `invalid`, `not_found`, ...).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Line of an imported file the error is on (imports only; a CSV header is line 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
            line: None,
        }
    }

    /// An error on one line of an imported file.
    pub fn at_line(
        line: u64,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            line: Some(line),
            ..FieldError::new(field, code, message)
        }
    }
}

/// RFC 9457 problem details, as sent in every 4xx/5xx response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable URI identifying the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:innofolio:problem:validation-error")]
    pub type_: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field details (validation errors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Allowed alternatives, where the problem is a move that is not allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<String>),
    #[error("conflict: {detail}")]
    Conflict {
        slug: &'static str,
        detail: String,
        allowed: Option<Vec<String>>,
    },
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    #[error("payload too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("unprocessable: {detail}")]
    Unprocessable { slug: &'static str, detail: String },
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(entity: &str, id: i64) -> Self {
        ApiError::NotFound(format!("{entity} {id} does not exist"))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            slug: "conflict",
            detail: detail.into(),
            allowed: None,
        }
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn slug_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            ApiError::Conflict { slug, .. } => (slug, "Conflict"),
            ApiError::PreconditionFailed(_) => ("precondition-failed", "Precondition failed"),
            ApiError::PreconditionRequired(_) => ("precondition-required", "Precondition required"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Validation(_) => ("validation-error", "Validation failed"),
            ApiError::Unprocessable { slug, .. } => (slug, "Unprocessable request"),
            ApiError::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    /// The problem body this error is sent as.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_title();
        let detail = match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PreconditionRequired(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::TooManyRequests(d) => Some(d.clone()),
            ApiError::Conflict { detail, .. } | ApiError::Unprocessable { detail, .. } => {
                Some(detail.clone())
            }
            ApiError::MethodNotAllowed(allow) => {
                Some(format!("this resource allows {}", allow.join(", ")))
            }
            ApiError::PayloadTooLarge(limit) => Some(format!(
                "the request body exceeds the limit of {limit} bytes"
            )),
            ApiError::Validation(errors) => Some(format!(
                "{} field(s) are invalid: {}",
                errors.len(),
                errors
                    .iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ApiError::Unavailable(_) => Some("the database is not reachable; try again".into()),
            ApiError::Internal(_) => {
                Some("an unexpected error occurred; it has been logged".into())
            }
        };
        Problem {
            type_: format!("urn:innofolio:problem:{slug}"),
            title: title.to_string(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            allowed: match self {
                ApiError::Conflict { allowed, .. } => allowed.clone(),
                ApiError::MethodNotAllowed(allow) => Some(allow.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::error!(%cause, "database unavailable"),
            _ => {}
        }
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let ApiError::MethodNotAllowed(allow) = self {
            builder.insert_header((header::ALLOW, allow.join(", ")));
        }
        if let ApiError::Unauthorized(_) = self {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let body = serde_json::to_string(&self.problem()).unwrap_or_else(|_| "{}".to_string());
        builder.body(body)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::NotFound("the resource does not exist".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::info!(message = info.message(), "unique violation");
                ApiError::conflict("a record with the same unique value already exists")
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::info!(message = info.message(), "foreign key violation");
                ApiError::conflict("the change would break a reference between records")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Conflict {
                    slug: "concurrent-update",
                    detail: "a concurrent change got there first; retry the request".into(),
                    allowed: None,
                }
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::Unavailable(info.message().to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        ApiError::Unavailable(err.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        collect_validation_errors("", &errors, &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    }
}

fn collect_validation_errors(
    prefix: &str,
    errors: &validator::ValidationErrors,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("is invalid ({})", e.code));
                    out.push(FieldError::new(path.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation_errors(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation_errors(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}
