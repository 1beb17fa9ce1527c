//! Request extractors: JSON bodies parsed into domain types (naming the field
//! that failed), the signed-in actor, `If-Match`, and list parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, IF_MATCH};
use axum::http::request::Parts;
use rapport_domain::Actor;
use rapport_domain::FieldErrors;
use rapport_domain::conditions::{self, FieldSpec, Where};
use rapport_domain::records::User;
use rapport_storage::{ListQuery, ListShape, Page, Total};
use serde::de::DeserializeOwned;
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::shape::{unknown_fields, unknown_message};
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

/// Parses a request body into `T`, refusing keys `T` does not accept (see
/// `shape`): each unknown key is named beside any other field error.
pub fn parse_body<T: DeserializeOwned + ToSchema + 'static>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::MalformedJson(format!("the body is not valid JSON: {}", strip_position(&e.to_string())))
    })?;
    let unknown = unknown_fields::<T>(&value);
    let mut value = value;
    let parsed = parse_json::<T>(bytes).or_else(|err| match integral_floats_as_integers(&mut value) {
        true => from_value(value),
        false => Err(err),
    });
    if unknown.is_empty() {
        return parsed;
    }
    Err(with_unknown(unknown, parsed.err()))
}

/// Writes each whole float (`3.0`) in `value` as the integer it is, and says
/// whether there was one: JSON has one number type, so `3.0` is as good an
/// integer as `3` (JSON Schema agrees), while serde reads it only into floats.
fn integral_floats_as_integers(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            // Within ±2^53 a float holds every whole number exactly.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            match number.as_f64() {
                Some(float) if float.fract() == 0.0 && float.abs() <= EXACT => {
                    *value = serde_json::Value::from(float as i64);
                    true
                }
                _ => false,
            }
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().fold(false, |changed, item| integral_floats_as_integers(item) | changed)
        }
        serde_json::Value::Object(fields) => {
            fields.values_mut().fold(false, |changed, field| integral_floats_as_integers(field) | changed)
        }
        _ => false,
    }
}

/// Refuses keys of a JSON value (a merge patch, a body read as a value) that `T` does not accept.
pub fn refuse_unknown_fields<T: ToSchema + 'static>(value: &serde_json::Value) -> Result<(), ApiError> {
    let unknown = unknown_fields::<T>(value);
    if unknown.is_empty() { Ok(()) } else { Err(ApiError::Validation(unknown)) }
}

/// Unknown keys, with the other field errors the same body had.
fn with_unknown(mut unknown: FieldErrors, other: Option<ApiError>) -> ApiError {
    if let Some(ApiError::Validation(fields)) = other {
        for (field, message) in fields.iter() {
            unknown.add(field.clone(), message.clone());
        }
    }
    ApiError::Validation(unknown)
}

/// Like `parse_json`, from an already parsed JSON value (after a merge patch).
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    let mut value = value;
    integral_floats_as_integers(&mut value);
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
/// A key a `deny_unknown_fields` type refused, or one given twice, is named
/// in the same words as the keys `shape` refuses.
fn field_error(path: &serde_path_to_error::Path, message: &str) -> ApiError {
    let parent = path.to_string();
    let message = strip_position(message);
    // A missing or repeated key is reported at its parent, and named only in
    // the message; a refused one is mostly at its own path (not when serde
    // read its object twice, as for an internally tagged enum).
    let child = |key: &str| if parent == "." { key.to_string() } else { format!("{parent}.{key}") };
    if let Some((key, expected)) = serde_unknown_field(&message) {
        let field = if parent == key || parent.ends_with(&format!(".{key}")) { parent.clone() } else { child(key) };
        return ApiError::field(field, unknown_message(key, expected));
    }
    if let Some(key) = serde_key(&message, "duplicate field `") {
        return ApiError::field(child(key), "is given more than once");
    }
    match serde_key(&message, "missing field `") {
        Some(missing) => ApiError::field(child(missing), "is required"),
        None if parent == "." => ApiError::field("body", message),
        None => ApiError::field(parent, message),
    }
}

/// The key in serde's "<prefix>`key`" messages.
fn serde_key<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix).and_then(|m| m.strip_suffix('`'))
}

/// serde's "unknown field `colour`, expected one of `a`, `b`" (from
/// `deny_unknown_fields`): the key, and the names the type takes.
fn serde_unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let (key, expected) = message.strip_prefix("unknown field `")?.split_once('`')?;
    Some((key, expected.split('`').skip(1).step_by(2).collect()))
}

/// serde_json appends "at line 1 column 42" to messages; a field name is clearer.
fn strip_position(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    message.to_string()
}

impl<T: DeserializeOwned + ToSchema + 'static, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !has_media_type(req.headers(), "application/json") {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| ApiError::PayloadTooLarge(BODY_LIMIT))?;
        Ok(ApiJson(parse_body::<T>(&bytes)?))
    }
}

/// Whether the request's Content-Type is `media_type` (parameters such as charset aside).
pub fn has_media_type(headers: &axum::http::HeaderMap, media_type: &str) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media_type))
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

impl<F> ListParams<F> {
    /// The answer to this list request: `page`, with `total` when asked for.
    pub fn answer<T>(&self, page: Page<T>) -> Listed<T> {
        let count = self.query.count.as_ref();
        Listed {
            items: page.items,
            next_cursor: page.next_cursor,
            total: count.and_then(Total::get).map(|total| total.min(rapport_storage::COUNT_CAP)),
            total_capped: count.and_then(|count| count.get().map(|_| count.capped())),
        }
    }
}

/// One page of a list.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// With `count=true` only: how many records match the filters, all pages
    /// together, counted up to 10,000 (see `total_capped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// With `count=true` only: `true` when more than 10,000 records match
    /// (counting stops there and `total` is 10,000), else `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_capped: Option<bool>,
}

/// The parameters every list takes.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommonParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    cursor: Option<String>,
    /// A sort field; prefix `-` for descending (each list documents its own).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    sort: Option<String>,
    /// Words to search for; each matches as a prefix, accents and case aside
    /// (`zoe` finds "Zoë", `obrien` "O'Brien"; a phone number by its digits);
    /// when nothing matches, one typo per word is mended (`larsn` finds "Larsen").
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    q: Option<String>,
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    tag: Option<String>,
    /// Only records changed at or after this time (RFC 3339, or a date for midnight UTC).
    #[serde(default, with = "rapport_domain::time_input::option")]
    updated_since: Option<time::OffsetDateTime>,
    /// `true` to also get `total`, how many records match (all pages together,
    /// counted up to 10,000), and `total_capped`.
    count: Option<bool>,
}

/// The query parameters of the list `F` filters, as documented:
/// `CommonParams` with `sort` naming the list's own fields, and `q` and
/// `tag` only where the list has them, then `F`'s own.
pub struct ListDoc<F>(std::marker::PhantomData<F>);

impl<F: IntoParams + ListShape> IntoParams for ListDoc<F> {
    fn into_params(parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let mut params = CommonParams::into_params(&parameter_in_provider);
        params.retain(|p| F::SEARCH_AND_TAGS || !matches!(p.name.as_str(), "q" | "tag"));
        for param in params.iter_mut().filter(|p| p.name == "sort") {
            let sorts = F::SORTS.iter().flat_map(|field| [field.to_string(), format!("-{field}")]);
            let schema = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(std::iter::once(String::new()).chain(sorts)))
                .description(Some(if F::SORTS.contains(&rapport_storage::RELEVANCE) {
                    "A field to sort by; prefix `-` for descending. Empty: by `relevance` when `q` is given \
                     (a name or email equal to `q` first, then those starting with it, then the rest), \
                     otherwise the list's default."
                } else {
                    "A field to sort by; prefix `-` for descending. Empty: the list's default."
                }));
            param.schema = Some(schema.into());
        }
        params.extend(F::into_params(parameter_in_provider));
        if !F::CONDITIONS.is_empty() {
            params.push(where_param(F::CONDITIONS));
        }
        params
    }
}

/// The `where` parameter of a list whose records `fields` describe.
fn where_param(fields: &'static [FieldSpec]) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterStyle};
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let condition = ObjectBuilder::new().schema_type(Type::String).pattern(Some(conditions::pattern(fields)));
    ParameterBuilder::new()
        .name("where")
        .parameter_in(ParameterIn::Query)
        .style(Some(ParameterStyle::Form))
        .explode(Some(true))
        .description(Some(format!(
            "Filter-builder conditions, repeated; all must hold (and the other filters and `q`). Each is \
             `<field>.<operator>[.<value>]` or `custom.<key>.<operator>[.<value>]`. Fields: {}. Operators by \
             type: text eq, ne, contains, starts; number and money (major units) eq, ne, lt, le, gt, ge; day \
             on, before, after (YYYY-MM-DD, UTC days), last (within the last N days); choice, owner and \
             reference eq, ne, in (values separated by `|`); tag has, hasnot; boolean eq; and empty or set \
             with no value. A custom field's key must exist and its operator and value fit its kind.",
            names.join(", ")
        )))
        .schema(Some(ArrayBuilder::new().items(condition).max_items(Some(conditions::MAX_CONDITIONS))))
        .build()
}

/// Parses a query string into `T`, naming the parameter that did not fit.
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        if let Some(key) = serde_key(&message, "duplicate field `") {
            return ApiError::field(key, "is given more than once");
        }
        if let Some((key, expected)) = serde_unknown_field(&message) {
            return ApiError::field(key, format!("is not a parameter here; it takes {}", expected.join(", ")));
        }
        let field = e.path().to_string();
        ApiError::field(if field == "." { "query".to_string() } else { field }, message)
    })
}

impl<F: DeserializeOwned + IntoParams + ListShape, S: Send + Sync> FromRequestParts<S> for ListParams<F> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        ListParams::parse_listing(parts.uri.query().unwrap_or(""))
    }
}

/// The query parameters `P` documents (its `IntoParams`), which are all it takes.
fn parameter_names<P: IntoParams>() -> Vec<String> {
    P::into_params(|| Some(ParameterIn::Query)).into_iter().map(|p| p.name).collect()
}

/// Refuses parameters that are not `known` (nor, with `custom`, `cf.<key>`),
/// and values with control characters: no database stores a NUL byte in
/// text, and no filter needs a control character.
fn refuse_unknown_parameters(raw: &str, known: &[String], custom: bool) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        if value.chars().any(char::is_control) {
            errors.add(key.clone().into_owned(), "must not contain control characters");
        }
        let is_known = known.iter().any(|k| *k == key) || (custom && key.starts_with("cf."));
        if !is_known {
            let takes = match (known.is_empty(), custom) {
                (true, _) => "it takes none".to_string(),
                (false, true) => format!("it takes {} and cf.<key>", known.join(", ")),
                (false, false) => format!("it takes {}", known.join(", ")),
            };
            errors.add(key.into_owned(), format!("is not a parameter here; {takes}"));
        }
    }
    errors.into_result().map_err(ApiError::Validation)
}

/// A query string of only the parameters `P` documents, parsed into `P`.
pub struct Params<P>(pub P);

impl<P: DeserializeOwned + IntoParams> Params<P> {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        refuse_unknown_parameters(raw, &parameter_names::<P>(), false)?;
        Ok(Params(parse_query(raw)?))
    }
}

impl<P: DeserializeOwned + IntoParams, S: Send + Sync> FromRequestParts<S> for Params<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Params::parse(parts.uri.query().unwrap_or(""))
    }
}

/// No query parameters at all.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct NoParams {}

impl<F: DeserializeOwned + IntoParams> ListParams<F> {
    /// Parses a list's query string: the API's and the list pages' alike. A
    /// parameter neither the list nor `CommonParams` documents is refused.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::parse_with_conditions(raw, &[])
    }

    /// `parse`, with `where` conditions on the record `fields` (none: no `where`).
    fn parse_with_conditions(raw: &str, fields: &'static [FieldSpec]) -> Result<Self, ApiError> {
        let mut known = parameter_names::<CommonParams>();
        known.extend(parameter_names::<F>());
        if !fields.is_empty() {
            known.push("where".to_owned());
        }
        refuse_unknown_parameters(raw, &known, true)?;
        let conditions = parse_conditions(raw, fields)?;
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
                count: common.count.unwrap_or(false).then(Total::default),
                custom,
                conditions,
            },
            filter,
        })
    }
}

impl<F: DeserializeOwned + IntoParams + ListShape> ListParams<F> {
    /// `parse`, with the `where` conditions the list `F` takes.
    pub fn parse_listing(raw: &str) -> Result<Self, ApiError> {
        Self::parse_with_conditions(raw, F::CONDITIONS)
    }
}

/// The `where` conditions of a query string, each parsed against `fields`;
/// one that does not parse is named with the reason.
fn parse_conditions(raw: &str, fields: &'static [FieldSpec]) -> Result<Vec<Where>, ApiError> {
    let texts: Vec<String> =
        form_urlencoded::parse(raw.as_bytes()).filter(|(key, _)| key == "where").map(|(_, v)| v.into_owned()).collect();
    if texts.len() > conditions::MAX_CONDITIONS {
        return Err(ApiError::field("where", format!("at most {} conditions", conditions::MAX_CONDITIONS)));
    }
    let mut errors = FieldErrors::new();
    let mut parsed = Vec::new();
    for text in texts {
        match Where::parse(fields, &text) {
            Ok(condition) => parsed.push(condition),
            Err(reason) => errors.add("where", format!("{reason} (in {text})")),
        }
    }
    errors.into_result().map_err(ApiError::Validation)?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        name: String,
        limit: Option<u64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        label: String,
    }

    fn fields(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(fields) => fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    fn pair(field: &str, message: &str) -> Vec<(String, String)> {
        vec![(field.to_string(), message.to_string())]
    }

    #[test]
    fn whole_floats_are_read_as_integers() {
        let read = from_value::<Strict>(serde_json::json!({ "name": "a", "limit": 3.0 })).unwrap();
        assert_eq!(read.limit, Some(3));
        let error = from_value::<Strict>(serde_json::json!({ "name": "a", "limit": 3.5 })).unwrap_err();
        assert_eq!(fields(error).first().map(|(field, _)| field.as_str()), Some("limit"));
        let mut huge = serde_json::json!([1e300]);
        assert!(!integral_floats_as_integers(&mut huge), "a float past 2^53 stays a float");
    }

    #[test]
    fn keys_serde_refuses_are_named_like_unknown_fields() {
        let error = parse_json::<Strict>(br#"{"name": "a", "limt": 3}"#).unwrap_err();
        assert_eq!(fields(error), pair("limt", "is not a field here: did you mean `limit`?"));
        let error = parse_json::<Strict>(br#"{"name": "a", "inner": {"label": "b", "colour": 1}}"#).unwrap_err();
        assert_eq!(fields(error), pair("inner.colour", "is not a field here"));
        let error = parse_json::<Strict>(br#"{"name": "a", "name": "b"}"#).unwrap_err();
        assert_eq!(fields(error), pair("name", "is given more than once"));
        let error = parse_json::<Strict>(br#"{"name": "a", "inner": {}}"#).unwrap_err();
        assert_eq!(fields(error), pair("inner.label", "is required"));
    }

    #[test]
    fn query_keys_serde_refuses_are_named() {
        let error = parse_query::<Strict>("name=a&limit=1&limit=2").unwrap_err();
        assert_eq!(fields(error), pair("limit", "is given more than once"));
        let error = parse_query::<Strict>("name=a&colour=red").unwrap_err();
        assert_eq!(fields(error), pair("colour", "is not a parameter here; it takes name, limit, inner"));
    }
}
