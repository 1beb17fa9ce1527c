//! The trash: what was deleted, newest first, and putting it back.

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::history::{RecordKind, TrashEntry};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::parse_id;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrashQuery {
    /// Only this record type: people, companies, deals, activities, tasks, purchases or tickets.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<RecordKind>)]
    kind: Option<String>,
    /// Entries per page (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TrashPage {
    pub items: Vec<TrashEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What was deleted, newest first, and when each will be purged for good.
/// Agents and viewers see the deleted tickets they could see before (their
/// own, their team's and unassigned ones), not other teams'.
#[utoipa::path(get, path = "/api/v1/trash", tag = "trash", params(TrashQuery),
    responses((status = 200, body = TrashPage), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Params(query): Params<TrashQuery>,
) -> Result<Json<TrashPage>, ApiError> {
    let kind = query.kind.as_deref().map(RecordKind::parse).transpose().map_err(|e| ApiError::field("type", e))?;
    let limit = match query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(_) => return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    };
    let after = query
        .cursor
        .as_deref()
        .map(|c| c.parse::<Uuid>().map_err(|_| ApiError::field("cursor", "is not a cursor this list gave")))
        .transpose()?;
    let items = state.store.list_trash_for(&auth.actor, kind, state.config.trash_retention, after, limit).await?;
    let next_cursor = (items.len() as u64 == limit).then(|| items.last().map(|e| e.id.to_string())).flatten();
    Ok(Json(TrashPage { items, next_cursor }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Restored {
    pub record_type: RecordKind,
    pub record_id: Uuid,
    /// The restored record's address in the API.
    pub location: String,
}

/// Puts a deleted record back with everything deleted with it (a person's
/// activities and purchases, a ticket's messages, attachments and SLA
/// events, say) and links again what was unlinked (their deals and tasks).
/// Links to records deleted since are left empty; a record that cannot be
/// without one (a purchase's customer, a ticket's requester) is 409. A
/// merged record comes back only by undoing its merge (409). A deleted
/// ticket the caller could not see is 404.
#[utoipa::path(post, path = "/api/v1/trash/{id}/restore", tag = "trash", params(("id" = String, Path)),
    responses((status = 200, body = Restored), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Restored>, ApiError> {
    let id: Uuid = parse_id(&id, "trash entry")?;
    let (record_type, record_id) = state.store.restore_from_trash(&auth.actor, id).await?;
    let location = format!("/api/v1/{record_type}/{record_id}");
    Ok(Json(Restored { record_type, record_id, location }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(restore))
}
