//! Cross-site request forgery: every unsafe request to a page must carry a
//! token that only our own pages know. Signed in, the token is derived from
//! the session secret (which the HttpOnly cookie hides from scripts and other
//! sites); before sign-in (login, setup) it is a random value kept in a
//! SameSite=Strict cookie and repeated in the form (double submit).
//! htmx sends the token as `X-CSRF-Token` (app.js adds it); plain forms send `_csrf`.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::WebError;
use crate::{BODY_LIMIT, SESSION_COOKIE};

pub const PRESESSION_COOKIE: &str = "rapport_csrf";
pub const FORM_FIELD: &str = "_csrf";
pub const HEADER: &str = "x-csrf-token";

/// The form token of a session.
pub fn csrf_token(session_secret: &str) -> String {
    let digest = Sha256::new().chain_update(b"rapport-csrf\0").chain_update(session_secret.as_bytes()).finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// A fresh random token for the pre-session cookie.
pub fn new_presession_token() -> String {
    let bytes: [u8; 24] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn verify(request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let mut accepted: Vec<String> = Vec::new();
    if let Some(secret) = cookie(&request, SESSION_COOKIE) {
        accepted.push(csrf_token(secret));
    }
    if let Some(token) = cookie(&request, PRESESSION_COOKIE).filter(|t| t.len() >= 32) {
        accepted.push(token.to_owned());
    }
    if accepted.is_empty() {
        return WebError::Csrf.into_response();
    }
    if let Some(sent) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if accepted.iter().any(|a| same(a, sent)) {
            next.run(request).await
        } else {
            WebError::Csrf.into_response()
        };
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return WebError::Csrf.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return WebError::BadRequest("the form is larger than 1 MiB".into()).into_response();
    };
    let sent = form_urlencoded::parse(&bytes).find(|(key, _)| key == FORM_FIELD).map(|(_, value)| value.into_owned());
    match sent {
        Some(sent) if accepted.iter().any(|a| same(a, &sent)) => {
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        _ => WebError::Csrf.into_response(),
    }
}
