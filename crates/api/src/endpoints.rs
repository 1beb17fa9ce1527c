//! The JSON API under /api/v1. Every record type's create, read, replace,
//! merge-patch and delete are declared with `item_api!`; lists and the rest
//! are written out.

/// Create (POST), read (GET), replace (PUT), merge-patch (PATCH) and delete
/// of one record type, with their OpenAPI descriptions, in a module of their
/// own. `after_write` runs after every successful write; `delete_conflict`
/// documents the delete's 409 and when it comes. With `create_query`,
/// the create takes those query parameters and passes them on
/// (`store.create(actor, input, query.into())`).
macro_rules! item_api {
    (@query) => { $crate::extract::NoParams };
    (@query $query:ty) => { $query };
    (@create $state:ident, $auth:ident, $input:ident, $params:ident, $create:ident) => {{
        let _ = $params;
        $state.store.$create(&$auth.actor, $input)
    }};
    (@create $state:ident, $auth:ident, $input:ident, $params:ident, $create:ident, $query:ty) => {
        $state.store.$create(&$auth.actor, $input, $params.0.into())
    };
    (
        $module:ident, tag = $tag:literal, what = $what:literal,
        collection = $collection:literal, item = $item:literal,
        id = $id:ty, input = $input:ty, output = $output:ty,
        create = $create:ident $(, create_query = $query:ty)?, get = $get:ident, update = $update:ident, delete = $delete:ident
        $(, delete_conflict = $conflict:literal)? $(, after_write = $after:path)? $(,)?
    ) => {
        pub mod $module {
            use axum::extract::{Path, State};
            use axum::http::StatusCode;
            use utoipa_axum::router::OpenApiRouter;
            use utoipa_axum::routes;

            use super::*;
            use $crate::AppState;
            use $crate::endpoints::{Created, Found, Versioned, parse_id, patch_again, patched};
            use $crate::error::{ApiError, ErrorBody};
            use $crate::extract::{ApiJson, Auth, IfMatch};

            /// The create's query parameters (none unless `create_query` says).
            type CreateQuery = item_api!(@query $($query)?);

            #[utoipa::path(post, path = $collection, tag = $tag, operation_id = concat!("create_", stringify!($module)),
                request_body = $input, $(params($query),)?
                responses((status = 201, body = $output), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
                    (status = 403, body = ErrorBody)))]
            pub async fn create(
                State(state): State<AppState>,
                auth: Auth,
                query: $crate::extract::Params<CreateQuery>,
                ApiJson(input): ApiJson<$input>,
            ) -> Result<Created<$output>, ApiError> {
                let record = item_api!(@create state, auth, input, query, $create $(, $query)?).await?;
                $($after(&state);)?
                let location = format!("{}/{}", $collection, record.id);
                Ok(Created(record, location))
            }

            #[utoipa::path(get, path = $item, tag = $tag, operation_id = concat!("get_", stringify!($module)), params(("id" = String, Path)),
                responses((status = 200, body = $output), (status = 404, body = ErrorBody)))]
            pub async fn get(State(state): State<AppState>, _auth: Auth, Path(id): Path<String>) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                Ok(Found(state.store.$get(id).await?))
            }

            /// Replaces the record: fields left out return to their defaults.
            #[utoipa::path(put, path = $item, tag = $tag, operation_id = concat!("replace_", stringify!($module)), params(("id" = String, Path)),
                request_body = $input,
                responses((status = 200, body = $output), (status = 409, body = ErrorBody, description = "Another record has this external_id, or the change conflicts with what the record holds (a removed stage that still has deals)."), (status = 412, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn replace(
                State(state): State<AppState>,
                auth: Auth,
                Path(id): Path<String>,
                IfMatch(version): IfMatch,
                ApiJson(input): ApiJson<$input>,
            ) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                let record = state.store.$update(&auth.actor, id, input, version).await?;
                $($after(&state);)?
                Ok(Found(record))
            }

            /// Changes only the fields sent (JSON merge patch); `null` clears a field.
            #[utoipa::path(patch, path = $item, tag = $tag, operation_id = concat!("patch_", stringify!($module)), params(("id" = String, Path)),
                request_body = Object,
                responses((status = 200, body = $output), (status = 409, body = ErrorBody, description = "Another record has this external_id, or the change conflicts with what the record holds (a removed stage that still has deals)."), (status = 412, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            pub async fn patch(
                State(state): State<AppState>,
                auth: Auth,
                Path(id): Path<String>,
                IfMatch(version): IfMatch,
                ApiJson(body): ApiJson<serde_json::Value>,
            ) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                let mut attempts = 0;
                let record = loop {
                    let current = state.store.$get(id).await?;
                    let input: $input = patched(&current, body.clone())?;
                    match state.store.$update(&auth.actor, id, input, version.or(Some(current.version()))).await {
                        Err(rapport_storage::StorageError::VersionMismatch { .. }) if patch_again(version, &mut attempts) => {}
                        written => break written?,
                    }
                };
                $($after(&state);)?
                Ok(Found(record))
            }

            #[utoipa::path(delete, path = $item, tag = $tag, operation_id = concat!("delete_", stringify!($module)), params(("id" = String, Path)),
                responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
                    $(, (status = 409, body = ErrorBody, description = $conflict))?))]
            pub async fn delete(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                state.store.$delete(&auth.actor, id).await?;
                $($after(&state);)?
                Ok(StatusCode::NO_CONTENT)
            }

            pub fn routes() -> OpenApiRouter<AppState> {
                OpenApiRouter::new().routes(routes!(create)).routes(routes!(get, replace, patch, delete))
            }
        }
    };
}

pub mod admin;
pub mod bulk;
pub mod duplicates;
pub mod export;
pub mod feedback;
pub mod imports;
pub mod insights;
pub mod jobs;
pub mod mail;
pub mod merge;
pub mod records;
pub mod sales;
pub mod session;
pub mod sla_report;
pub mod style;
pub mod style_feedback;
pub mod style_goals;
pub mod surveys;
pub mod ticket_bulk;
pub mod tickets;
pub mod trash;
pub mod views;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::{from_value, refuse_unknown_fields};

/// A whole list, not paged.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// A record's version, which is also its ETag.
pub trait Versioned {
    fn version(&self) -> i64;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> i64 {
                self.meta.version
            }
        }
    )*};
}

use rapport_domain::records::*;
versioned!(Person, Company, Deal, Activity, Task, Purchase, User, Team, Pipeline);

impl Versioned for rapport_domain::custom_fields::CustomFieldDefinition {
    fn version(&self) -> i64 {
        self.version
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a valid header value")
}

/// 200 with the record as JSON and its ETag.
pub struct Found<T>(pub T);

impl<T: Serialize + Versioned> IntoResponse for Found<T> {
    fn into_response(self) -> Response {
        let tag = etag(self.0.version());
        let mut response = axum::Json(self.0).into_response();
        response.headers_mut().insert(header::ETAG, tag);
        response
    }
}

/// 201 with the new record as JSON, its ETag and its address.
pub struct Created<T>(pub T, pub String);

impl<T: Serialize + Versioned> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let tag = etag(self.0.version());
        let mut response = (StatusCode::CREATED, axum::Json(self.0)).into_response();
        response.headers_mut().insert(header::ETAG, tag);
        if let Ok(location) = HeaderValue::from_str(&self.1) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: serde_json::Value) {
    match patch {
        serde_json::Value::Object(patch) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            let object = target.as_object_mut().expect("made an object above");
            for (key, value) in patch {
                if value.is_null() {
                    object.remove(&key);
                } else {
                    merge_patch(object.entry(key).or_insert(serde_json::Value::Null), value);
                }
            }
        }
        other => *target = other,
    }
}

/// How many times a patch sent without If-Match is applied before a
/// conflicting write's 412 stands.
const PATCH_ATTEMPTS: u32 = 3;

/// Whether to apply a merge patch again after its write found the record
/// changed since it was read. With If-Match, that write is the client's
/// conflict: no (412). Without, the client asked for no precondition and the
/// version read only keeps a write in between from being lost, so yes, to
/// what is stored now, up to `PATCH_ATTEMPTS` times (a bulk change of every
/// person made schemathesis's patches fail).
pub fn patch_again(if_match: Option<i64>, attempts: &mut u32) -> bool {
    *attempts += 1;
    if_match.is_none() && *attempts < PATCH_ATTEMPTS
}

/// The current record with a merge patch applied, parsed as the record's
/// input. The patch may name only the input's fields.
pub fn patched<I: serde::de::DeserializeOwned + utoipa::ToSchema + 'static, O: Serialize>(
    current: &O,
    patch: serde_json::Value,
) -> Result<I, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::field("body", "a merge patch is a JSON object"));
    }
    refuse_unknown_fields::<I>(&patch)?;
    let mut value = serde_json::to_value(current).expect("records serialize to JSON");
    merge_patch(&mut value, patch);
    from_value(value)
}

/// Ids in paths: anything that is not an id is simply not found.
/// An optional date or instant parameter (`YYYY-MM-DD` or RFC 3339); a bad
/// one is refused naming `field`.
pub fn instant(raw: Option<&str>, field: &str) -> Result<Option<time::OffsetDateTime>, ApiError> {
    raw.map(|r| rapport_domain::time_input::parse(r).map_err(|err| ApiError::field(field, err.to_string()))).transpose()
}

pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(what))
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "keep": 1});
        merge_patch(&mut doc, json!({"a": "z", "c": {"f": null}, "new": [1]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "keep": 1, "new": [1]}));
    }
}
