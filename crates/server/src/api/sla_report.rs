//! The SLA report: the share of response targets met per agent, team,
//! priority or month, and the tickets that missed theirs (managers and admins).

use axum::Json;
use axum::extract::State;
use rapport_domain::sla_events::{SlaEvent, SlaGrouping, SlaReportRow, SlaTarget};
use serde::Deserialize;
use time::{Date, OffsetDateTime, Time};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Items;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

/// The report's period when none is given: the last 90 days.
const DEFAULT_DAYS: i64 = 90;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// agent (default), team, priority or month.
    #[param(value_type = Option<String>, example = "agent")]
    group: Option<String>,
    /// The first day counted, `YYYY-MM-DD` (UTC; default: 90 days ago).
    #[param(example = "2026-09-01")]
    from: Option<String>,
    /// The last day counted, `YYYY-MM-DD` (UTC; default: today).
    #[param(example = "2026-11-30")]
    to: Option<String>,
    /// Only this target: first_response, next_response or resolution (the missed list).
    #[param(value_type = Option<String>, example = "first_response")]
    target: Option<String>,
}

fn day(raw: Option<&str>, field: &str) -> Result<Option<Date>, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    raw.map(|raw| {
        Date::parse(raw, format)
            .map_err(|_| ApiError::field(field, format!("{raw:?} is not a date: use YYYY-MM-DD, like 2026-11-30")))
    })
    .transpose()
}

impl ReportParams {
    /// `[from, to)` in UTC: from the first day's start to the end of the last.
    fn period(&self) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
        let today = OffsetDateTime::now_utc().date();
        let to = day(self.to.as_deref(), "to")?.unwrap_or(today);
        let from = day(self.from.as_deref(), "from")?.unwrap_or(to - time::Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(ApiError::field("from", "must not be after to"));
        }
        let end = to.next_day().ok_or_else(|| ApiError::field("to", "is too far in the future"))?;
        Ok((from.with_time(Time::MIDNIGHT).assume_utc(), end.with_time(Time::MIDNIGHT).assume_utc()))
    }

    fn grouping(&self) -> Result<SlaGrouping, ApiError> {
        self.group
            .as_deref()
            .map_or(Ok(SlaGrouping::Agent), |g| SlaGrouping::parse(g).map_err(|e| ApiError::field("group", e)))
    }

    fn target(&self) -> Result<Option<SlaTarget>, ApiError> {
        self.target.as_deref().map(|t| SlaTarget::parse(t).map_err(|e| ApiError::field("target", e))).transpose()
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
    let (from, to) = params.period()?;
    let items = state.store.sla_report(&auth.actor, params.grouping()?, from, to).await?;
    Ok(Json(Items { items }))
}

/// The misses behind the report: each missed target with its ticket, most recent first.
#[utoipa::path(get, path = "/api/v1/reports/sla/missed", tag = "sla", params(ReportParams),
    responses((status = 200, body = Items<SlaEvent>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn missed(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<ReportParams>,
) -> Result<Json<Items<SlaEvent>>, ApiError> {
    let (from, to) = params.period()?;
    let items = state.store.missed_tickets(&auth.actor, params.target()?, from, to).await?;
    Ok(Json(Items { items }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(missed))
}
