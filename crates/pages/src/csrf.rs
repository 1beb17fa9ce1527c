//! Cross-site request forgery: every unsafe request to a page must carry a
//! token that only our own pages know. Signed in, the token is derived from
//! the session secret (which the HttpOnly cookie hides from scripts and other
//! sites); before sign-in (login, setup) it is a random value kept in a
//! SameSite=Strict cookie and repeated in the form (double submit).
//! htmx sends the token as `X-CSRF-Token` (app.js adds it); plain forms send `_csrf`
//! (file uploads as their first field).

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::WebError;
use rapport_api::{BODY_LIMIT, SESSION_COOKIE};

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
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Some(boundary) = multipart_boundary(content_type) {
        return verify_multipart(request, &boundary, &accepted, next).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
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

/// How much of a multipart body may come before the end of its first field.
const FIRST_FIELD_LIMIT: usize = 16 * 1024;

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|param| param.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|boundary| !boundary.is_empty())
}

/// A file upload (multipart) must carry the token as its first field (our
/// forms put `_csrf` first, and browsers send fields in order): only that
/// much is read here, so the file streams on to the handler untouched.
async fn verify_multipart(request: Request, boundary: &str, accepted: &[String], next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut head: Vec<u8> = Vec::new();
    let sent = loop {
        match first_field(&head, boundary) {
            FirstField::Csrf(value) => break value,
            FirstField::Other => return WebError::Csrf.into_response(),
            FirstField::NeedMore if head.len() > FIRST_FIELD_LIMIT => return WebError::Csrf.into_response(),
            FirstField::NeedMore => match stream.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                _ => return WebError::Csrf.into_response(),
            },
        }
    };
    if !accepted.iter().any(|a| same(a, &sent)) {
        return WebError::Csrf.into_response();
    }
    let replay = futures::stream::once(std::future::ready(Ok::<_, axum::Error>(Bytes::from(head))));
    next.run(Request::from_parts(parts, Body::from_stream(replay.chain(stream)))).await
}

enum FirstField {
    NeedMore,
    /// The first field is `_csrf`, with this value.
    Csrf(String),
    Other,
}

/// Looks at the start of a multipart body for its first field.
fn first_field(head: &[u8], boundary: &str) -> FirstField {
    let opening = format!("--{boundary}\r\n");
    if head.len() < opening.len() {
        return if opening.as_bytes().starts_with(head) { FirstField::NeedMore } else { FirstField::Other };
    }
    let Some(rest) = head.strip_prefix(opening.as_bytes()) else { return FirstField::Other };
    let Some(headers_end) = find(rest, b"\r\n\r\n") else { return FirstField::NeedMore };
    let headers = String::from_utf8_lossy(&rest[..headers_end]);
    let is_csrf = headers.lines().any(|line| {
        let Some((name, value)) = line.split_once(':') else { return false };
        name.trim().eq_ignore_ascii_case("content-disposition")
            && value.split(';').any(|param| param.trim() == format!("name=\"{FORM_FIELD}\""))
    });
    if !is_csrf {
        return FirstField::Other;
    }
    let value = &rest[headers_end + 4..];
    match find(value, format!("\r\n--{boundary}").as_bytes()) {
        Some(end) => FirstField::Csrf(String::from_utf8_lossy(&value[..end]).into_owned()),
        None => FirstField::NeedMore,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_first_field_of_a_multipart_body() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nsecret\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na,b\r\n--XyZ--\r\n";
        assert!(matches!(first_field(body, "XyZ"), FirstField::Csrf(token) if token == "secret"));
        for cut in 0..body.len() {
            if let FirstField::Csrf(token) = first_field(&body[..cut], "XyZ") {
                assert_eq!(token, "secret", "cut at {cut}");
            }
        }
        assert!(matches!(first_field(&body[..20], "XyZ"), FirstField::NeedMore));
        let file_first =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"_csrf\"\r\n\r\nx\r\n--XyZ--";
        assert!(matches!(first_field(file_first, "XyZ"), FirstField::Other));
        assert!(matches!(first_field(b"garbage", "XyZ"), FirstField::Other));
        assert_eq!(multipart_boundary("multipart/form-data; boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(multipart_boundary("application/json"), None);
    }
}
