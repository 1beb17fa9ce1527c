//! The one place errors become HTTP: every failure leaves as
//! `{"error": {"code", "message", "fields"?}}` with a fitting status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::FieldErrors;
use rapport_reports::ReportError;
use rapport_storage::StorageError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(FieldErrors),
    #[error("{0}")]
    MalformedJson(String),
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("send the body as multipart/form-data")]
    NotMultipart,
    #[error("send the body as {0}")]
    WrongMediaType(&'static str),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("sign in, or send an API token as 'Authorization: Bearer ...'")]
    Unauthorized,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A value that must be unique is another record's (`existing`, when it is one).
    #[error("{message}")]
    Taken { field: String, message: String, existing: Option<uuid::Uuid> },
    #[error("the record is at version {current}, not {expected}: reload it and apply your change again")]
    VersionMismatch { expected: i64, current: i64 },
    #[error("too many failed sign-in attempts: try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// Something the server computes in the background is not there yet.
    #[error("{0}")]
    NotReady(String),
    /// A server Rapport talks to (the mail server) failed or refused.
    #[error("{0}")]
    Upstream(String),
    #[error("something went wrong on our side; it has been logged")]
    Internal,
    /// One record of a change to several was refused, so none changed; the
    /// status and fields are the refusal's own.
    #[error("{what} {id}: {inner}")]
    Refused { what: &'static str, id: uuid::Uuid, inner: Box<ApiError> },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `validation` or `not_found`.
    pub code: &'static str,
    pub message: String,
    /// For validation errors: each field (as a JSON path) and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// For a taken unique value: the record that has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(FieldErrors::single(field, message))
    }

    /// The field errors the body lists, if any.
    fn into_fields(self) -> Option<FieldErrors> {
        match self {
            ApiError::Validation(fields) => Some(fields),
            ApiError::Taken { field, message, .. } => Some(FieldErrors::single(field, message)),
            ApiError::Refused { inner, .. } => inner.into_fields(),
            _ => None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ApiError::UnsupportedMediaType | ApiError::NotMultipart | ApiError::WrongMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) | ApiError::Taken { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::VersionMismatch { .. } => (StatusCode::PRECONDITION_FAILED, "version_mismatch"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Refused { inner, .. } => inner.status_and_code(),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::NotFound(what) => ApiError::NotFound(what),
            StorageError::Invalid(fields) => ApiError::Validation(fields),
            StorageError::Conflict(message) => ApiError::Conflict(message),
            StorageError::Taken { field, message, existing } => ApiError::Taken { field, message, existing },
            StorageError::Denied(denied) => ApiError::Forbidden(denied.to_string()),
            StorageError::VersionMismatch { expected, current } => ApiError::VersionMismatch { expected, current },
            StorageError::Refused { what, id, source } => {
                ApiError::Refused { what, id, inner: Box::new(ApiError::from(*source)) }
            }
            other @ (StorageError::Config(_) | StorageError::Corrupt(_) | StorageError::Database(_)) => {
                tracing::error!(error = %other, cause = ?other, "storage failure");
                ApiError::Internal
            }
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(err: ReportError) -> Self {
        match err {
            ReportError::Storage(err) => err.into(),
            err @ ReportError::NoPurchasesIn { .. } => ApiError::field("currency", err.to_string()),
            err @ (ReportError::TooLittleData { .. } | ReportError::NotConverged) => {
                ApiError::Conflict(err.to_string())
            }
            other @ (ReportError::Insights(_) | ReportError::Model(_) | ReportError::Stopped(_)) => {
                tracing::error!(error = %other, cause = ?other, "computing insights failed");
                ApiError::Internal
            }
        }
    }
}

impl From<rapport_mail::send::SendError> for ApiError {
    fn from(err: rapport_mail::send::SendError) -> Self {
        match err {
            err @ rapport_mail::send::SendError::Build(_) => ApiError::field("to", err.to_string()),
            err => ApiError::Upstream(err.to_string()),
        }
    }
}

impl From<rapport_mail::ReceiveError> for ApiError {
    fn from(err: rapport_mail::ReceiveError) -> Self {
        match err {
            rapport_mail::ReceiveError::Parse(err) => ApiError::field("body", err.to_string()),
            rapport_mail::ReceiveError::Storage(err) => err.into(),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(fields: FieldErrors) -> Self {
        ApiError::Validation(fields)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let current_version = match &self {
            ApiError::VersionMismatch { current, .. } => Some(*current),
            _ => None,
        };
        let message = match &self {
            ApiError::Validation(_) => "some fields are not valid".to_string(),
            other => other.to_string(),
        };
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::NotReady(_) => Some(2),
            _ => None,
        };
        let existing_id = match &self {
            ApiError::Taken { existing, .. } => *existing,
            _ => None,
        };
        let fields = self.into_fields();
        let body = ErrorBody { error: ErrorDetail { code, message, fields, current_version, existing_id } };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
