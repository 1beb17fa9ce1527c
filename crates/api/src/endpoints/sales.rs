//! The sales report: win rate and sales cycle by owner, source and stage,
//! the weighted pipeline forecast and activity per staff member.

use axum::Json;
use axum::extract::State;
use rapport_domain::sales::{SalesReportQuery, SalesReportRequest};
use rapport_insights::sales::{SalesFigures, sales_figures};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesParams {
    /// The first day counted, `YYYY-MM-DD` (UTC; default: 89 days before `to`).
    #[param(value_type = Option<rapport_domain::time_input::DateOrEmpty>, example = "2026-09-01")]
    from: Option<String>,
    /// The last day counted, `YYYY-MM-DD` (UTC; default: today).
    #[param(value_type = Option<rapport_domain::time_input::DateOrEmpty>, example = "2026-11-30")]
    to: Option<String>,
    /// Only this pipeline's deals and stages (default, or empty: every pipeline).
    #[param(value_type = Option<rapport_domain::IdOrEmpty>)]
    pipeline_id: Option<String>,
}

/// The figures for the deals closed in the period (win rate, sales cycle,
/// stages), every open deal (forecast, from today) and the activities and
/// tasks done in the period. Every signed-in staff member may read it, as
/// they may read every deal.
#[utoipa::path(get, path = "/api/v1/reports/sales", tag = "deals", params(SalesParams),
    responses((status = 200, body = SalesFigures), (status = 422, body = ErrorBody)))]
pub async fn sales_report(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<SalesParams>,
) -> Result<Json<SalesFigures>, ApiError> {
    let today = OffsetDateTime::now_utc().date();
    let query = SalesReportQuery {
        from: params.from.as_deref(),
        to: params.to.as_deref(),
        pipeline_id: params.pipeline_id.as_deref(),
    };
    let request = SalesReportRequest::parse(&query, today)?;
    let facts = state.store.sales_facts(&request, today).await?;
    Ok(Json(sales_figures(&facts)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sales_report))
}
