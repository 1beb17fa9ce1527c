//! The SLA report: the share of response targets met per agent, team,
//! priority or month, and the tickets that missed theirs (managers and admins).

use axum::Json;
use axum::extract::State;
use rapport_domain::sla_events::{MissedTarget, SlaReportQuery, SlaReportRequest, SlaReportRow};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Items;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// agent (default), team, priority or month.
    #[param(value_type = Option<String>, pattern = "^(agent|team|priority|month)?$", example = "agent")]
    group: Option<String>,
    /// The first day counted, `YYYY-MM-DD` (UTC; default: 90 days before `to`).
    #[param(value_type = Option<rapport_domain::time_input::DateOrEmpty>, example = "2026-09-01")]
    from: Option<String>,
    /// The last day counted, `YYYY-MM-DD` (UTC; default: today).
    #[param(value_type = Option<rapport_domain::time_input::DateOrEmpty>, example = "2026-11-30")]
    to: Option<String>,
    /// Only this target: first_response, next_response or resolution (the missed list).
    #[param(value_type = Option<String>, pattern = "^(first_response|next_response|resolution)?$", example = "first_response")]
    target: Option<String>,
    /// Only the misses of one report row, grouped by `group`: the row's `key`, or `none` for
    /// the row without one (unassigned, no team). The missed list only.
    #[param(example = "high")]
    key: Option<String>,
}

impl ReportParams {
    fn request(&self) -> Result<SlaReportRequest, ApiError> {
        let query = SlaReportQuery {
            group: self.group.as_deref(),
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            target: self.target.as_deref(),
            key: self.key.as_deref(),
        };
        Ok(SlaReportRequest::parse(&query, OffsetDateTime::now_utc().date())?)
    }
}

/// Targets met and missed in the period (counted when the reply or solve
/// came), per group and target, with the share met.
#[utoipa::path(get, path = "/api/v1/reports/sla", tag = "sla", params(ReportParams),
    responses((status = 200, body = Items<SlaReportRow>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ReportParams>,
) -> Result<Json<Items<SlaReportRow>>, ApiError> {
    let request = params.request()?;
    let items = state.store.sla_report(&auth.actor, request.grouping, request.from, request.to).await?;
    Ok(Json(Items { items }))
}

/// The misses behind the report: each missed target with its ticket and subject, most recent first.
#[utoipa::path(get, path = "/api/v1/reports/sla/missed", tag = "sla", params(ReportParams),
    responses((status = 200, body = Items<MissedTarget>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn missed(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ReportParams>,
) -> Result<Json<Items<MissedTarget>>, ApiError> {
    let r = params.request()?;
    let items = state.store.missed_tickets(&auth.actor, r.target, r.group.as_ref(), r.from, r.to).await?;
    Ok(Json(Items { items }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(missed))
}
