//! Goals on scorecard figures, with their progress and forecast: the
//! business's (admins set them), a team's (its manager) and each staff
//! member's own; and the monthly review that reports on them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::GoalId;
use rapport_domain::goals::{Goal, GoalInput};
use rapport_domain::records::now;
use rapport_reports::goals::{GoalProgress, goal_report};
use rapport_reports::review::{MonthlyReview, monthly_review, parse_month};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, NoParams, Params};

/// The goals the caller may see (the business's, their team's, their own;
/// managers their team members', admins all), soonest due first, each with
/// its figure over the last six 30-day periods, its progress from the first
/// of them toward the target, and where the trend line reaches by the due day.
#[utoipa::path(get, path = "/api/v1/style/goals", tag = "style",
    responses((status = 200, body = Items<GoalProgress>), (status = 422, body = ErrorBody)))]
pub async fn list_goals(
    State(state): State<AppState>,
    auth: Auth,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Items<GoalProgress>>, ApiError> {
    Ok(Json(Items { items: goal_report(&state.store, &auth.actor, now().date()).await? }))
}

/// Sets a goal: admins for the business or any team or person, a manager
/// for their team or its members, a staff member for themselves.
#[utoipa::path(post, path = "/api/v1/style/goals", tag = "style", request_body = GoalInput,
    responses((status = 201, body = Goal), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_goal(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<GoalInput>,
) -> Result<(StatusCode, Json<Goal>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.create_goal(&auth.actor, input).await?)))
}

/// Removes a goal (whoever may set one of its kind).
#[utoipa::path(delete, path = "/api/v1/style/goals/{id}", tag = "style", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_goal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: GoalId = parse_id(&id, "goal")?;
    state.store.delete_goal(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewParams {
    /// The month, `YYYY-MM` (default: last month; this month counts up to today).
    #[param(pattern = "^([0-9]{4}-(0[1-9]|1[0-2]))?$", example = "2026-11")]
    pub month: Option<String>,
}

/// The monthly review the caller gets (admins the business's, a manager
/// their team's, anyone else their own): the scorecard figures that improved
/// and got worse against the month before, the goals they may see, the
/// customers won back and lost, and the most-mentioned feedback themes.
#[utoipa::path(get, path = "/api/v1/style/review", tag = "style", params(ReviewParams),
    responses((status = 200, body = MonthlyReview), (status = 422, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ReviewParams>,
) -> Result<Json<MonthlyReview>, ApiError> {
    let today = now().date();
    let first = parse_month(params.month.as_deref(), today).map_err(|e| ApiError::field("month", e))?;
    let churn_days = state.insights.settings().churn_days;
    Ok(Json(monthly_review(&state.store, &auth.actor, first, today, churn_days).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_goals, create_goal)).routes(routes!(delete_goal)).routes(routes!(review))
}
