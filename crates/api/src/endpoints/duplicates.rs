//! Likely duplicates: the pairs of people (or companies) that look like one
//! record, and "not a duplicate" for a pair that is two.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::duplicates::{DuplicateKind, DuplicatePair};
use rapport_storage::{DuplicateQuery, Page};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, Params};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DuplicateParams {
    /// Only pairs scoring at least this, 0–100.
    #[param(maximum = 100)]
    min_score: Option<u8>,
    /// Pairs per page, at most 200 (50 when absent).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

impl DuplicateParams {
    fn into_query(self) -> Result<DuplicateQuery, ApiError> {
        let min_score = self.min_score.unwrap_or(0);
        if min_score > 100 {
            return Err(ApiError::field("min_score", "must be between 0 and 100"));
        }
        if self.limit.is_some_and(|limit| !(1..=200).contains(&limit)) {
            return Err(ApiError::field("limit", "must be between 1 and 200"));
        }
        Ok(DuplicateQuery { min_score, limit: self.limit, cursor: self.cursor })
    }
}

/// Two records a user says are not one.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dismissal {
    pub a: Uuid,
    pub b: Uuid,
}

fn kind(raw: &str) -> Result<DuplicateKind, ApiError> {
    DuplicateKind::parse(raw).map_err(|_| ApiError::NotFound("list of duplicates"))
}

/// Likely duplicate pairs, strongest first, each with its score and reasons.
#[utoipa::path(get, path = "/api/v1/duplicates/{kind}", tag = "duplicates",
    params(("kind" = DuplicateKind, Path, description = "people or companies"), DuplicateParams),
    responses((status = 200, body = Page<DuplicatePair>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_duplicates(
    State(state): State<AppState>,
    _auth: Auth,
    Path(raw_kind): Path<String>,
    Params(params): Params<DuplicateParams>,
) -> Result<Json<Page<DuplicatePair>>, ApiError> {
    let kind = kind(&raw_kind)?;
    Ok(Json(state.store.find_duplicates(kind, &params.into_query()?).await?))
}

/// Marks a pair as two different records: it is no longer listed.
#[utoipa::path(post, path = "/api/v1/duplicates/{kind}/dismiss", tag = "duplicates",
    params(("kind" = DuplicateKind, Path, description = "people or companies")), request_body = Dismissal,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn dismiss_duplicate(
    State(state): State<AppState>,
    auth: Auth,
    Path(raw_kind): Path<String>,
    ApiJson(pair): ApiJson<Dismissal>,
) -> Result<StatusCode, ApiError> {
    let kind = kind(&raw_kind)?;
    state.store.dismiss_duplicate(&auth.actor, kind, pair.a, pair.b).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_duplicates)).routes(routes!(dismiss_duplicate))
}
