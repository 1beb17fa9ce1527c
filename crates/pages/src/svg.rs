//! What every chart route shares: the SVG answer and a drawing failure.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::WebError;

/// An SVG answer, fresh each time: charts follow the data.
pub fn svg(body: String, etag: Option<String>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// A chart that could not be drawn: logged with its cause, a 500 page.
pub fn chart_failed(err: impl std::fmt::Display) -> WebError {
    tracing::error!(error = %err, "drawing a chart failed");
    WebError::Internal
}
