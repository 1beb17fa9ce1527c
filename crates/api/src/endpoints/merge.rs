//! Merging two people or two companies, field by field, and undoing a merge.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use rapport_domain::duplicates::DuplicateKind;
use rapport_domain::merge::FieldChoices;
use rapport_domain::records::{Company, Person};
use rapport_domain::{CompanyId, PersonId};
use rapport_storage::{MergeVersions, Merged};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Found, Versioned, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch};

/// What to merge into the record of the path.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The record merged in; it goes to the trash.
    pub other: Uuid,
    /// Field (`first_name`, `custom_fields.tier`) → `survivor` or `other`.
    /// A field left out keeps the survivor's value, or the other's when the
    /// survivor has none. Emails, phones and tags are always combined.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, rapport_domain::merge::Side>)]
    pub fields: FieldChoices,
    /// The other record's version as read; a merge against a newer one is refused (412).
    #[serde(default)]
    pub other_version: Option<i64>,
}

/// The undone merge: which kind of record, and the survivor's id.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unmerged {
    pub kind: DuplicateKind,
    pub survivor: Uuid,
    /// The record that came back.
    pub other: Uuid,
}

/// The merged record, its ETag, and `Merge-Id`: the id that undoes the merge.
struct MergeResponse<T>(Merged<T>);

impl<T: Serialize + Versioned> IntoResponse for MergeResponse<T> {
    fn into_response(self) -> Response {
        let mut response = Found(self.0.record).into_response();
        if let Ok(id) = HeaderValue::from_str(&self.0.merge_id.to_string()) {
            response.headers_mut().insert("merge-id", id);
        }
        response
    }
}

/// Merges `other` into this person: its activities, tasks, deals, purchases
/// and the people it referred move here, in one transaction; it goes to the trash.
#[utoipa::path(post, path = "/api/v1/people/{id}/merge", tag = "people", params(("id" = String, Path)),
    request_body = MergeBody,
    responses((status = 200, body = Person, headers(("merge-id" = String, description = "POST /api/v1/merges/{merge-id}/undo undoes it"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_people(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Response, ApiError> {
    let survivor: PersonId = parse_id(&id, "person")?;
    let versions = MergeVersions { survivor: version, other: body.other_version };
    let merged = state.store.merge_people(&auth.actor, survivor, PersonId(body.other), &body.fields, versions).await?;
    Ok(MergeResponse(merged).into_response())
}

/// Merges `other` into this company: its people, deals, activities and tasks move here.
#[utoipa::path(post, path = "/api/v1/companies/{id}/merge", tag = "companies", params(("id" = String, Path)),
    request_body = MergeBody,
    responses((status = 200, body = Company, headers(("merge-id" = String, description = "POST /api/v1/merges/{merge-id}/undo undoes it"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_companies(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Response, ApiError> {
    let survivor: CompanyId = parse_id(&id, "company")?;
    let versions = MergeVersions { survivor: version, other: body.other_version };
    let merged =
        state.store.merge_companies(&auth.actor, survivor, CompanyId(body.other), &body.fields, versions).await?;
    Ok(MergeResponse::<Company>(merged).into_response())
}

/// Undoes a merge: the other record comes back with everything moved from
/// it, and the survivor gets its fields back. 409 when the survivor changed since.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "merges", params(("id" = String, Path, description = "the merge-id of the merge")),
    responses((status = 200, body = Unmerged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn undo_merge(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Unmerged>, ApiError> {
    let merge_id: Uuid = parse_id(&id, "merge")?;
    let (kind, survivor, other) = state.store.undo_merge(&auth.actor, merge_id).await?;
    Ok(Json(Unmerged { kind, survivor, other }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(merge_people)).routes(routes!(merge_companies)).routes(routes!(undo_merge))
}
