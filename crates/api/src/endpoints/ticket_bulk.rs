//! Bulk changes of tickets: assign and move the status of many at once.

use axum::Json;
use axum::extract::State;
use rapport_domain::tickets::{TicketBulkChange, TicketBulkInput};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth};

/// How a bulk change went.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkUpdated {
    /// The tickets changed (a ticket named twice counts once).
    pub updated: usize,
}

/// Assigns (or unassigns, with `"assignee_id": null`) and/or moves the
/// status of 1 to 500 tickets, each by the rules of a single update. All or
/// nothing: when one ticket is missing (404), out of reach (403 or 404),
/// closed (409) or refused (422), none changes and the message names it.
#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "tickets", request_body = TicketBulkInput,
    responses((status = 200, body = BulkUpdated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_update_tickets(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TicketBulkInput>,
) -> Result<Json<BulkUpdated>, ApiError> {
    let change = TicketBulkChange::try_from(input)?;
    let updated = state.store.bulk_update_tickets(&auth.actor, &change).await?;
    Ok(Json(BulkUpdated { updated }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bulk_update_tickets))
}
