//! Staff scorecards: each staff member's measured relationship style over a
//! period, with team medians, ranks and trends. Staff see their own, managers
//! their team's, admins everyone's.

use axum::Json;
use axum::extract::State;
use rapport_domain::{TeamId, UserId};
use rapport_reports::scorecards::{ScorecardReport, StyleScope};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::instant;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

/// Whose scorecards, over which period.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardParams {
    /// One staff member (they must be someone the caller may see).
    pub user_id: Option<UserId>,
    /// One team's members.
    pub team_id: Option<TeamId>,
    /// The first day counted, `YYYY-MM-DD` or RFC 3339 (default: 30 days before `to`).
    #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
    pub from: Option<String>,
    /// The day after the last counted (exclusive; default: the end of today).
    #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
    pub to: Option<String>,
}

/// The period a scorecard covers: the 30 days up to the end of today unless
/// told; at most a year, so the trend's four periods stay readable.
pub fn style_period(
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let to =
        to.unwrap_or_else(|| (rapport_domain::records::now().date() + time::Duration::days(1)).midnight().assume_utc());
    let from = from.unwrap_or(to - time::Duration::days(30));
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    if to - from > time::Duration::days(366) {
        return Err(ApiError::field("from", "a scorecard covers at most a year"));
    }
    Ok((from, to))
}

impl ScorecardParams {
    pub fn scope(&self) -> Result<StyleScope, ApiError> {
        match (self.user_id, self.team_id) {
            (Some(_), Some(_)) => Err(ApiError::field("team_id", "give a user_id or a team_id, not both")),
            (Some(user), None) => Ok(StyleScope::User(user)),
            (None, Some(team)) => Ok(StyleScope::Team(team)),
            (None, None) => Ok(StyleScope::Visible),
        }
    }

    pub fn period(&self) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
        style_period(instant(self.from.as_deref(), "from")?, instant(self.to.as_deref(), "to")?)
    }
}

/// The scorecards the caller may see: their own, their team's (managers) or
/// everyone's (admins), narrowed to one user or team. Each figure comes with
/// its definition, the cases behind it, the team median, a rank only when
/// there are enough cases, and its trend over the three periods before.
#[utoipa::path(get, path = "/api/v1/style/scorecards", tag = "style", params(ScorecardParams),
    responses((status = 200, body = ScorecardReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn scorecards(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ScorecardParams>,
) -> Result<Json<ScorecardReport>, ApiError> {
    let scope = params.scope()?;
    let (from, to) = params.period()?;
    let report = state.scorecards.report(&state.store, &auth.actor, scope, from, to).await?;
    // One user asked for and not shown: unknown, inactive or not the caller's to see.
    if matches!(scope, StyleScope::User(_)) && report.scorecards.is_empty() {
        return Err(ApiError::NotFound("scorecard"));
    }
    Ok(Json(report))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scorecards))
}
