//! Saved views: each staff member's named list queries, the same ones the
//! list pages save and show.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::ViewId;
use rapport_domain::views::{ListKind, SavedView, SavedViewInput};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, Params};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewFilter {
    /// Only the views of one list.
    list: Option<ListKind>,
}

/// The signed-in user's saved views.
#[utoipa::path(get, path = "/api/v1/views", tag = "views", params(ViewFilter),
    responses((status = 200, body = Items<SavedView>), (status = 422, body = ErrorBody)))]
pub async fn list_views(
    State(state): State<AppState>,
    auth: Auth,
    Params(filter): Params<ViewFilter>,
) -> Result<Json<Items<SavedView>>, ApiError> {
    Ok(Json(Items { items: state.store.list_views(&auth.actor, filter.list).await? }))
}

/// Saves a view for the signed-in user; one of the same name on the same list is replaced.
#[utoipa::path(post, path = "/api/v1/views", tag = "views", request_body = SavedViewInput,
    responses((status = 201, body = SavedView), (status = 422, body = ErrorBody)))]
pub async fn save_view(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<SavedViewInput>,
) -> Result<(StatusCode, Json<SavedView>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.save_view(&auth.actor, input).await?)))
}

/// Deletes one of the signed-in user's views (another user's is not found).
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "views", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_view(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ViewId = parse_id(&id, "view")?;
    state.store.delete_view(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_views, save_view)).routes(routes!(delete_view))
}
