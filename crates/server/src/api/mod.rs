//! The JSON API under /api/v1. Record types with the usual five operations
//! are declared with `record_api!`; the rest are written out by hand.

pub mod admin;
pub mod records;
pub mod session;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::from_value;

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

/// The current record with a merge patch applied, parsed as the record's input.
pub fn patched<I: serde::de::DeserializeOwned, O: Serialize>(
    current: &O,
    patch: serde_json::Value,
) -> Result<I, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::field("body", "a merge patch is a JSON object"));
    }
    let mut value = serde_json::to_value(current).expect("records serialize to JSON");
    merge_patch(&mut value, patch);
    from_value(value)
}

/// Ids in paths: anything that is not an id is simply not found.
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
