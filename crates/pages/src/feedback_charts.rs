//! The feedback dashboard's charts (inline on the page, with a mark per
//! month or score for its value on hover, and as SVG files): NPS, CSAT and CES by
//! month with their 95 % intervals, and the NPS answers by score. Each takes
//! the dashboard's survey and days (`?survey_id=&from=&to=`) and reads the
//! same answers the page does; the tables under them on the page hold the
//! same numbers.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use rapport_insights::feedback_charts::{TrendAxis, TrendPoint, nps_distribution_chart, score_trend_chart};
use rapport_reports::feedback::{Answers, FeedbackSummary, Figures, GroupBy};
use rapport_text::Estimate;

use super::feedback::{Period, PeriodQuery};
use super::svg::{chart_failed, svg};
use super::{Signed, WebError};
use rapport_api::AppState;
use rapport_api::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/feedback/charts/{name}", get(chart))
}

/// A score drawn by month.
#[derive(Clone, Copy)]
pub(super) enum Trend {
    Nps,
    Csat,
    Ces,
}

impl Trend {
    fn axis(self) -> &'static TrendAxis {
        match self {
            Trend::Nps => &TrendAxis::NPS,
            Trend::Csat => &TrendAxis::CSAT,
            Trend::Ces => &TrendAxis::CES,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Trend::Nps => "Net Promoter Score by month",
            Trend::Csat => "Customer satisfaction (CSAT) by month",
            Trend::Ces => "Customer effort (CES) by month",
        }
    }

    fn of(self, figures: &Figures) -> Option<&Estimate> {
        match self {
            Trend::Nps => figures.nps.as_ref(),
            Trend::Csat => figures.csat.as_ref(),
            Trend::Ces => figures.ces.as_ref(),
        }
    }
}

enum Chart {
    Trend(Trend),
    NpsDistribution,
}

impl Chart {
    fn named(name: &str) -> Option<Chart> {
        Some(match name {
            "nps_trend.svg" => Chart::Trend(Trend::Nps),
            "csat_trend.svg" => Chart::Trend(Trend::Csat),
            "ces_trend.svg" => Chart::Trend(Trend::Ces),
            "nps_distribution.svg" => Chart::NpsDistribution,
            _ => return None,
        })
    }
}

/// `/feedback/charts/{name}`: one of the dashboard's charts for its survey
/// and days. Without answers the chart says so (200); an unknown name is 404.
async fn chart(
    State(state): State<AppState>,
    _signed: Signed,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let chart = Chart::named(&name).ok_or(WebError::NotFound("chart"))?;
    let period = Period::parse(&query)?;
    let answers = Answers::load(&state.store, &period.filter()).await.map_err(ApiError::from)?;
    let by_month = answers.summary(&state.store, Some(GroupBy::Month)).await.map_err(ApiError::from)?;
    let body = match chart {
        Chart::Trend(trend) => trend_chart(trend, &by_month, &period)?,
        Chart::NpsDistribution => distribution_chart(&by_month, &period)?,
    };
    Ok(svg(body, None))
}

fn days(period: &Period) -> String {
    format!("{} to {}", period.from.date(), period.last_day())
}

/// A score by month, from the period's answers grouped by month.
pub(super) fn trend_chart(trend: Trend, by_month: &FeedbackSummary, period: &Period) -> Result<String, WebError> {
    let points: Vec<TrendPoint> = by_month
        .groups
        .iter()
        .filter_map(|g| {
            trend.of(&g.figures).map(|e| TrendPoint {
                label: g.label.clone(),
                value: e.value,
                low: e.low,
                high: e.high,
            })
        })
        .collect();
    score_trend_chart(&format!("{}, {}", trend.title(), days(period)), trend.axis(), &points).map_err(chart_failed)
}

/// The period's NPS answers by score.
pub(super) fn distribution_chart(summary: &FeedbackSummary, period: &Period) -> Result<String, WebError> {
    nps_distribution_chart(&format!("NPS answers by score, {}", days(period)), &summary.distribution.nps)
        .map_err(chart_failed)
}
