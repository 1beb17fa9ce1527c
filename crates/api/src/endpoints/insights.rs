//! Insights: RFM segments, cohorts, churn, lifetime value and referrals, as
//! the insights job last computed them (never computed on request, except
//! churn under a definition the job does not precompute, which is computed
//! once per data version and kept).

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::PersonId;
use rapport_insights::churn::ChurnDefinition;
use rapport_reports::{ChurnGrouping, InsightsState, Snapshot};
use rapport_storage::CustomerInsight;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, Params};

/// Longest no-purchase period a churn definition may use (ten years).
const MAX_CHURN_DAYS: u32 = 3650;

fn not_ready(state: &InsightsState) -> ApiError {
    match &state.error {
        Some(error) => ApiError::NotReady(format!("the insights could not be computed yet ({error}); retrying")),
        None => ApiError::NotReady("the insights are being computed; try again in a moment".into()),
    }
}

/// The latest snapshot, or 503 before the first one.
fn latest(state: &AppState) -> Result<(InsightsState, std::sync::Arc<Snapshot>), ApiError> {
    let current = state.insights.state();
    match current.snapshot.clone() {
        Some(snapshot) => Ok((current, snapshot)),
        None => Err(not_ready(&current)),
    }
}

/// A report as JSON text: sums of money are `i128` (exact beyond `i64`),
/// which `serde_json::Value` cannot hold, so reports skip it.
fn to_value<T: Serialize>(value: &T) -> Result<Box<RawValue>, ApiError> {
    serde_json::value::to_raw_value(value).map_err(|err| {
        tracing::error!(error = %err, "an insights report did not serialize");
        ApiError::Internal
    })
}

/// The envelope every insights answer shares: which data and day it
/// reflects, whether a newer one is coming, and the report (`null` while
/// there is no purchase).
#[derive(Serialize)]
pub struct Envelope {
    version: i64,
    computed_at: String,
    took_ms: u64,
    as_of: String,
    stale: bool,
    scope: Box<RawValue>,
    report: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn envelope(
    current: &InsightsState,
    snapshot: &Snapshot,
    report: Option<Box<RawValue>>,
) -> Result<Json<Envelope>, ApiError> {
    Ok(Json(Envelope {
        version: snapshot.version,
        computed_at: snapshot.computed_at.format(&Rfc3339).map_err(|_| ApiError::Internal)?,
        took_ms: snapshot.took_ms,
        as_of: snapshot.as_of.to_string(),
        stale: current.stale,
        scope: to_value(&snapshot.reports.as_ref().map(|r| &r.scope))?,
        report,
        error: current.error.clone(),
    }))
}

/// Every report of the latest snapshot at once.
#[utoipa::path(get, path = "/api/v1/insights", tag = "insights",
    responses((status = 200, description = "The latest snapshot: settings, RFM, cohorts, churn, lifetime value, referrals", body = Object),
        (status = 503, body = ErrorBody)))]
pub async fn overview(State(state): State<AppState>, _auth: Auth) -> Result<Json<Envelope>, ApiError> {
    let (current, snapshot) = latest(&state)?;
    /// Every report with the settings beside them.
    #[derive(Serialize)]
    struct Overview<'a> {
        #[serde(flatten)]
        reports: &'a rapport_reports::Reports,
        settings: &'a rapport_reports::Settings,
    }
    let report = match &snapshot.reports {
        Some(reports) => Some(to_value(&Overview { reports, settings: &snapshot.settings })?),
        None => None,
    };
    envelope(&current, &snapshot, report)
}

macro_rules! report_endpoint {
    ($name:ident, $path:literal, $what:literal, |$r:ident| $pick:expr) => {
        #[doc = $what]
        #[utoipa::path(get, path = $path, tag = "insights",
                    responses((status = 200, description = $what, body = Object), (status = 503, body = ErrorBody)))]
        pub async fn $name(State(state): State<AppState>, _auth: Auth) -> Result<Json<Envelope>, ApiError> {
            let (current, snapshot) = latest(&state)?;
            let report = match &snapshot.reports {
                Some($r) => Some(to_value(&$pick)?),
                None => None,
            };
            envelope(&current, &snapshot, report)
        }
    };
}

report_endpoint!(rfm, "/api/v1/insights/rfm", "RFM segments: size and value of each segment.", |r| r.rfm);
report_endpoint!(
    cohorts,
    "/api/v1/insights/cohorts",
    "Cohorts by month of first purchase: retention and revenue.",
    |r| r.cohorts
);
report_endpoint!(
    clv,
    "/api/v1/insights/clv",
    "Lifetime value: BG/NBD and Gamma-Gamma fits, their holdout check, and the customers worth most.",
    |r| Clv { clv: &r.clv, error: &r.clv_error }
);
report_endpoint!(
    referrals,
    "/api/v1/insights/referrals",
    "Referrals: share of customers referred, their value, the top referrers (named in `names`).",
    |r| Referrals { referrals: &r.referrals, names: &r.names }
);

#[derive(Serialize)]
struct Clv<'a> {
    clv: &'a Option<rapport_reports::ClvSummary>,
    error: &'a Option<String>,
}

#[derive(Serialize)]
struct Referrals<'a> {
    referrals: &'a rapport_insights::referrals::ReferralReport<uuid::Uuid>,
    names: &'a std::collections::HashMap<uuid::Uuid, String>,
}

/// How churn is defined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChurnKind {
    /// No purchase for `days` days.
    #[default]
    NoPurchase,
    /// The lifecycle stage is "churned".
    Lifecycle,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChurnQuery {
    /// `no_purchase` (default) or `lifecycle`.
    definition: Option<ChurnKind>,
    /// For `no_purchase`: days without a purchase (1–3650; default from the settings, 180).
    #[param(minimum = 1, maximum = 3650)]
    days: Option<u32>,
    /// Survival curves by `source` (default) or RFM `segment`.
    group_by: Option<ChurnGrouping>,
}

impl ChurnQuery {
    /// The definition and grouping asked for, checked.
    pub fn resolve(&self, default_days: u32) -> Result<(ChurnDefinition, ChurnGrouping), ApiError> {
        let definition = match (self.definition.unwrap_or_default(), self.days) {
            (ChurnKind::Lifecycle, Some(_)) => {
                return Err(ApiError::field("days", "applies only to the no_purchase definition"));
            }
            (ChurnKind::Lifecycle, None) => ChurnDefinition::LifecycleChurned,
            (ChurnKind::NoPurchase, Some(days)) if !(1..=MAX_CHURN_DAYS).contains(&days) => {
                return Err(ApiError::field("days", format!("must be between 1 and {MAX_CHURN_DAYS}")));
            }
            (ChurnKind::NoPurchase, days) => ChurnDefinition::NoPurchaseFor { days: days.unwrap_or(default_days) },
        };
        Ok((definition, self.group_by.unwrap_or_default()))
    }
}

/// Churn by month and survival curves (Kaplan–Meier with a 95 % band).
#[utoipa::path(get, path = "/api/v1/insights/churn", tag = "insights", params(ChurnQuery),
    responses((status = 200, description = "Churn by month and survival curves", body = Object),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn churn(
    State(state): State<AppState>,
    _auth: Auth,
    Params(query): Params<ChurnQuery>,
) -> Result<Json<Envelope>, ApiError> {
    let (current, snapshot) = latest(&state)?;
    let (definition, grouping) = query.resolve(snapshot.settings.churn_days)?;
    let Some(reports) = &snapshot.reports else { return envelope(&current, &snapshot, None) };
    let default = ChurnDefinition::NoPurchaseFor { days: snapshot.settings.churn_days };
    let report = if definition == default && grouping == ChurnGrouping::Source {
        to_value(&reports.churn)?
    } else {
        match state.insights.churn(definition, grouping).await? {
            Some(report) => to_value(&*report)?,
            None => return envelope(&current, &snapshot, None),
        }
    };
    envelope(&current, &snapshot, Some(report))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonInsights {
    pub person_id: PersonId,
    /// `null` until the person has a purchase in the analysed currency and the job has run since.
    pub insight: Option<CustomerInsight>,
}

/// One customer's segment, scores, probability alive and expected lifetime value.
#[utoipa::path(get, path = "/api/v1/people/{id}/insights", tag = "insights", params(("id" = String, Path)),
    responses((status = 200, body = PersonInsights), (status = 404, body = ErrorBody)))]
pub async fn person_insights(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<PersonInsights>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    // 404 for someone who does not exist, not an empty answer.
    state.store.get_person(id).await?;
    Ok(Json(PersonInsights { person_id: id, insight: state.store.customer_insight(id).await? }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(rfm))
        .routes(routes!(cohorts))
        .routes(routes!(churn))
        .routes(routes!(clv))
        .routes(routes!(referrals))
        .routes(routes!(person_insights))
}
