//! Request extractors: JSON bodies parsed into domain types (naming the field
//! that failed), the signed-in actor, `If-Match`, and list parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, IF_MATCH};
use axum::http::request::Parts;
use rapport_domain::Actor;
use rapport_domain::records::User;
use rapport_storage::ListQuery;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::{AppState, BODY_LIMIT, SESSION_COOKIE};

/// A JSON body parsed straight into a domain type.
pub struct ApiJson<T>(pub T);

/// Parses JSON into `T`; type and value errors name the field by its JSON path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// Like `parse_json`, from an already parsed JSON value (after a merge patch).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| field_error(e.path(), &e.inner().to_string()))
}

fn json_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = err.inner();
    match inner.classify() {
        serde_json::error::Category::Data => field_error(err.path(), &inner.to_string()),
        _ => ApiError::MalformedJson(format!("the body is not valid JSON: {inner}")),
    }
}

/// A value that did not fit, named by its JSON path. serde reports a missing
/// field at its parent and names it in the message: name it as the field.
fn field_error(path: &serde_path_to_error::Path, message: &str) -> ApiError {
    let parent = path.to_string();
    let message = strip_position(message);
    match message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        Some(missing) if parent == "." => ApiError::field(missing, "is required"),
        Some(missing) => ApiError::field(format!("{parent}.{missing}"), "is required"),
        None if parent == "." => ApiError::field("body", message),
        None => ApiError::field(parent, message),
    }
}

/// serde_json appends "at line 1 column 42" to messages; a field name is clearer.
fn strip_position(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    message.to_string()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json =
            req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| ApiError::PayloadTooLarge(BODY_LIMIT))?;
        Ok(ApiJson(parse_json::<T>(&bytes)?))
    }
}

/// The staff member a request acts for, from an API token or the session cookie.
pub struct Auth {
    pub actor: Actor,
    pub user: User,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (key, found) = if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token =
                value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(ApiError::Unauthorized)?.trim();
            let key = format!("token:{token}");
            if let Some((actor, user)) = state.auth_cache.get(&key) {
                return Ok(Auth { actor, user });
            }
            (key, state.store.token_user(token).await?)
        } else {
            let secret = session_cookie(parts).ok_or(ApiError::Unauthorized)?;
            let (actor, user) = session_auth(state, &secret).await?.ok_or(ApiError::Unauthorized)?;
            return Ok(Auth { actor, user });
        };
        let (actor, user) = found.ok_or(ApiError::Unauthorized)?;
        state.auth_cache.put(&key, actor, user.clone());
        Ok(Auth { actor, user })
    }
}

/// The staff member behind a session cookie's secret, through the auth cache.
pub async fn session_auth(state: &AppState, secret: &str) -> Result<Option<(Actor, User)>, ApiError> {
    let key = format!("session:{secret}");
    if let Some(found) = state.auth_cache.get(&key) {
        return Ok(Some(found));
    }
    let found = state.store.session_user(secret).await?;
    if let Some((actor, user)) = &found {
        state.auth_cache.put(&key, *actor, user.clone());
    }
    Ok(found)
}

pub fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The version a client last saw, from `If-Match: "3"` (or `W/"3"`, or `3`).
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IF_MATCH) else { return Ok(IfMatch(None)) };
        let raw = value.to_str().map_err(|_| ApiError::field("If-Match", "must be a record version"))?.trim();
        if raw == "*" {
            return Ok(IfMatch(None));
        }
        let version = raw.trim_start_matches("W/").trim_matches('"');
        version
            .parse::<i64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| ApiError::field("If-Match", "must be a record version such as \"3\""))
    }
}

/// A list's query string: the shared parameters and the endpoint's own filters `F`.
pub struct ListParams<F> {
    pub query: ListQuery,
    pub filter: F,
}

/// The parameters every list takes.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommonParams {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` from the previous page.
    cursor: Option<String>,
    /// A sort field; prefix `-` for descending.
    sort: Option<String>,
    /// Words to search for; each matches as a prefix.
    q: Option<String>,
    tag: Option<String>,
    /// Only records changed at or after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    updated_since: Option<time::OffsetDateTime>,
}

/// Parses a query string into `T`, naming the parameter that did not fit.
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        let field = e.path().to_string();
        ApiError::field(if field == "." { "query".to_string() } else { field }, message)
    })
}

impl<F: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ListParams<F> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        ListParams::parse(parts.uri.query().unwrap_or(""))
    }
}

impl<F: DeserializeOwned> ListParams<F> {
    /// Parses a list's query string: the API's and the list pages' alike.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        // No database stores a NUL byte in text; no filter needs a control character.
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            if value.chars().any(char::is_control) {
                return Err(ApiError::field(key.into_owned(), "must not contain control characters"));
            }
        }
        let common: CommonParams = parse_query(raw)?;
        let filter: F = parse_query(raw)?;
        let custom = form_urlencoded::parse(raw.as_bytes())
            .filter_map(|(key, value)| key.strip_prefix("cf.").map(|k| (k.to_owned(), value.into_owned())))
            .collect();
        Ok(ListParams {
            query: ListQuery {
                limit: common.limit,
                cursor: common.cursor.filter(|c| !c.is_empty()),
                sort: common.sort.filter(|s| !s.is_empty()),
                q: common.q.filter(|q| !q.trim().is_empty()),
                tag: common.tag.filter(|t| !t.trim().is_empty()),
                updated_since: common.updated_since,
                custom,
            },
            filter,
        })
    }
}
