//! Insights: RFM segments, cohorts, churn and survival, lifetime value and
//! referrals, as the background job last computed them (a page view never
//! computes a snapshot). The charts are inline SVG with their marks (hover
//! for a value, click for the customers behind it; see
//! `rapport_insights::charts`), and also served as SVG files. Also the
//! customer page's "Value and loyalty" panel and purchase history chart.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rapport_domain::{Currency, PersonId, Segment};
use rapport_insights::charts;
use rapport_insights::churn::{ChurnDefinition, ChurnReport, SurvivalCurve};
use rapport_reports::{ChurnGrouping, Reports, Snapshot};
use rapport_storage::{ListQuery, PurchaseFilter};

use super::numbers::filters;
use super::svg::{chart_failed, svg};
use super::{Chrome, Signed, WebError, format, numbers};
use rapport_api::AppState;

/// Days a "no purchase for N days" definition may use.
const MAX_CHURN_DAYS: u32 = 3650;
/// Days at which the survival table reads each curve.
const SURVIVAL_DAYS: [u32; 4] = [30, 90, 180, 365];
/// Pages of purchases the purchase history chart reads at most.
const HISTORY_PAGES: usize = 25;
/// Purchases per page read (the storage maximum).
const HISTORY_PAGE_SIZE: u64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/insights", get(overview))
        .route("/insights/cohorts", get(cohorts))
        .route("/insights/churn", get(churn))
        .route("/insights/value", get(value))
        .route("/insights/referrals", get(referrals))
        .route("/insights/charts/{name}", get(chart))
        .route("/people/{id}/purchases.svg", get(purchase_history))
}

// Formatting.

fn money(minor: impl Into<i128>, currency: &str) -> String {
    match Currency::parse(currency) {
        // Sums: exact even beyond i64.
        Ok(currency) => numbers::money_minor(minor.into(), currency),
        Err(_) => format!("{} {currency}", minor.into()),
    }
}

fn pct(share: f64) -> String {
    numbers::percent(share, 1)
}

fn number(value: f64, decimals: usize) -> String {
    numbers::decimal(value, decimals)
}

/// An expected count, which the models give with decimals: "about 969".
fn about(value: f64) -> String {
    if value.is_finite() { format!("about {}", number(value.round(), 0)) } else { "—".into() }
}

/// A model parameter: four decimals, or four significant digits when large.
fn param(value: f64) -> String {
    if value.is_finite() && value.abs() >= 10_000.0 { format!("{value:.3e}") } else { number(value, 4) }
}

fn grouping_name(grouping: ChurnGrouping) -> &'static str {
    match grouping {
        ChurnGrouping::Source => "source",
        ChurnGrouping::Segment => "segment",
    }
}

fn definition_text(definition: ChurnDefinition) -> String {
    match definition {
        ChurnDefinition::NoPurchaseFor { days } => format!("no purchase for {days} days"),
        ChurnDefinition::LifecycleChurned => "lifecycle stage “churned”".into(),
    }
}

// What every insights page shows above its content.

/// The snapshot's state and when it was computed.
pub struct Head {
    /// Which tab is open: overview, cohorts, churn, value or referrals.
    tab: &'static str,
    /// No snapshot yet: the job is computing the first one.
    computing: bool,
    /// A snapshot, but no purchase to report on.
    empty: bool,
    stale: bool,
    error: Option<String>,
    as_of: String,
    computed_iso: String,
    computed_at: String,
    took_ms: u64,
    scope_note: Option<String>,
    currency: String,
}

impl Head {
    fn new(tab: &'static str, state: &AppState) -> (Head, Option<Arc<Snapshot>>) {
        let current = state.insights.state();
        let snapshot = current.snapshot;
        let reports = snapshot.as_ref().and_then(|s| s.reports.as_ref());
        let head = Head {
            tab,
            computing: snapshot.is_none(),
            empty: snapshot.is_some() && reports.is_none(),
            stale: current.stale,
            error: current.error,
            as_of: snapshot.as_ref().map(|s| format::date(s.as_of)).unwrap_or_default(),
            computed_iso: snapshot.as_ref().map(|s| format::iso(s.computed_at)).unwrap_or_default(),
            computed_at: snapshot.as_ref().map(|s| format::datetime(s.computed_at)).unwrap_or_default(),
            took_ms: snapshot.as_ref().map_or(0, |s| s.took_ms),
            scope_note: reports.and_then(|r| r.scope.note()),
            currency: reports.map(|r| r.scope.currency.clone()).unwrap_or_default(),
        };
        (head, snapshot)
    }
}

/// The snapshot's reports, when there is a snapshot with purchases.
fn reports(snapshot: &Option<Arc<Snapshot>>) -> Option<&Reports> {
    snapshot.as_ref().and_then(|s| s.reports.as_ref())
}

// Overview: RFM segments.

struct SegmentRow {
    label: &'static str,
    href: String,
    customers: u64,
    share: String,
    value: String,
    share_of_value: String,
    average: String,
}

struct OverviewView {
    customers: u64,
    total_value: String,
    segments: Vec<SegmentRow>,
    churned_share: String,
    expected_value: Option<String>,
    share_referred: String,
    /// The segments chart, inline SVG.
    chart: String,
}

#[derive(Template)]
#[template(path = "insights.html")]
struct OverviewPage {
    chrome: Chrome,
    head: Head,
    view: Option<OverviewView>,
}

async fn overview(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (head, snapshot) = Head::new("overview", &state);
    let view = reports(&snapshot).map(|r| {
        let currency = r.rfm.currency.as_str();
        OverviewView {
            customers: r.rfm.customers,
            total_value: money(r.rfm.total_value_minor, currency),
            segments: r
                .rfm
                .segments
                .iter()
                .map(|s| SegmentRow {
                    label: s.segment.label(),
                    href: format!("/people?segment={}", s.segment.as_str()),
                    customers: s.customers,
                    share: pct(s.share_of_customers),
                    value: money(s.value_minor, currency),
                    share_of_value: pct(s.share_of_value),
                    average: money(s.average_value_minor, currency),
                })
                .collect(),
            churned_share: pct(r.churn.churned_share),
            expected_value: r.clv.as_ref().and_then(|c| c.expected_value_minor).map(|v| money(v, currency)),
            share_referred: pct(r.referrals.share_referred),
            chart: r.charts.rfm_segments.clone(),
        }
    });
    signed.page(&OverviewPage { chrome: signed.chrome("insights", "Insights"), head, view })
}

// Cohorts.

struct CohortRow {
    month: String,
    size: u64,
    repeat_rate: String,
    revenue: String,
    retention: Vec<String>,
}

struct CohortsView {
    customers: u64,
    repeat_rate: String,
    revenue: String,
    offsets: Vec<usize>,
    rows: Vec<CohortRow>,
    average: Vec<String>,
    /// The retention heat map, inline SVG.
    chart: String,
}

#[derive(Template)]
#[template(path = "insights_cohorts.html")]
struct CohortsPage {
    chrome: Chrome,
    head: Head,
    view: Option<CohortsView>,
}

async fn cohorts(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (head, snapshot) = Head::new("cohorts", &state);
    let view = reports(&snapshot).map(|r| {
        let c = &r.cohorts;
        let offsets: Vec<usize> = (0..=c.max_offset).collect();
        let cell = |value: Option<f64>| value.map(pct).unwrap_or_default();
        CohortsView {
            customers: c.customers,
            repeat_rate: pct(c.repeat_purchase_rate),
            revenue: money(c.revenue_minor, &c.currency),
            rows: c
                .cohorts
                .iter()
                .map(|cohort| CohortRow {
                    month: cohort.month.to_string(),
                    size: cohort.size,
                    repeat_rate: pct(cohort.repeat_purchase_rate),
                    revenue: money(cohort.revenue_minor, &c.currency),
                    retention: offsets.iter().map(|&k| cell(cohort.retention.get(k).copied())).collect(),
                })
                .collect(),
            average: offsets.iter().map(|&k| cell(c.average_retention(k))).collect(),
            offsets,
            chart: r.charts.retention.clone(),
        }
    });
    signed.page(&CohortsPage { chrome: signed.chrome("insights", "Cohorts · Insights"), head, view })
}

// Churn and survival.

/// The churn page's choices, from its query string.
#[derive(Clone, Copy, PartialEq)]
struct ChurnParams {
    definition: ChurnDefinition,
    grouping: ChurnGrouping,
    /// The days field as shown (also when the definition is the lifecycle stage).
    days: u32,
}

impl ChurnParams {
    /// Parses `definition` (no_purchase | lifecycle), `days` (1–3650) and
    /// `group_by` (source | segment); empty fields take the defaults.
    fn parse(raw: Option<&str>, default_days: u32) -> Result<ChurnParams, WebError> {
        let mut lifecycle = false;
        let mut days = default_days;
        let mut grouping = ChurnGrouping::Source;
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_ref() {
                "definition" => {
                    lifecycle = match value {
                        "no_purchase" => false,
                        "lifecycle" => true,
                        _ => {
                            return Err(WebError::BadRequest(
                                "definition: must be “no_purchase” or “lifecycle”".into(),
                            ));
                        }
                    }
                }
                "days" => {
                    days = value.parse().ok().filter(|d| (1..=MAX_CHURN_DAYS).contains(d)).ok_or_else(|| {
                        WebError::BadRequest(format!("days: must be a whole number of days from 1 to {MAX_CHURN_DAYS}"))
                    })?;
                }
                "group_by" => {
                    grouping = match value {
                        "source" => ChurnGrouping::Source,
                        "segment" => ChurnGrouping::Segment,
                        _ => return Err(WebError::BadRequest("group_by: must be “source” or “segment”".into())),
                    }
                }
                _ => {}
            }
        }
        let definition =
            if lifecycle { ChurnDefinition::LifecycleChurned } else { ChurnDefinition::NoPurchaseFor { days } };
        Ok(ChurnParams { definition, grouping, days })
    }

    /// The query string of these choices ("" for the defaults).
    fn query(&self, default_days: u32) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        match self.definition {
            ChurnDefinition::LifecycleChurned => {
                pairs.append_pair("definition", "lifecycle");
            }
            ChurnDefinition::NoPurchaseFor { days } if days != default_days => {
                pairs.append_pair("days", &days.to_string());
            }
            ChurnDefinition::NoPurchaseFor { .. } => {}
        }
        if self.grouping != ChurnGrouping::Source {
            pairs.append_pair("group_by", grouping_name(self.grouping));
        }
        pairs.finish()
    }
}

/// The churn report and survival curves for `params`: the snapshot's for
/// its own definition, else computed (once per data version) by the job.
async fn churn_for(
    state: &AppState,
    (default_report, by_segment): (&ChurnReport, &[SurvivalCurve]),
    params: ChurnParams,
) -> Result<(Arc<ChurnReport>, Vec<SurvivalCurve>), WebError> {
    let default = ChurnDefinition::NoPurchaseFor { days: state.insights.settings().churn_days };
    if params.definition == default {
        let curves = match params.grouping {
            ChurnGrouping::Source => default_report.survival.clone(),
            ChurnGrouping::Segment => by_segment.to_vec(),
        };
        return Ok((Arc::new(default_report.clone()), curves));
    }
    let report = state.insights.churn(params.definition, params.grouping).await.map_err(|err| {
        tracing::error!(error = %err, "computing a churn report failed");
        WebError::Internal
    })?;
    let report = report.unwrap_or_else(|| Arc::new(default_report.clone()));
    let curves = report.survival.clone();
    Ok((report, curves))
}

struct MonthRow {
    month: String,
    active_at_start: u64,
    new_customers: u64,
    churned: u64,
    rate: String,
    partial: bool,
}

struct CurveRow {
    group: String,
    subjects: u64,
    events: u64,
    median: String,
    /// S(t) with its 95 % band at each of `SURVIVAL_DAYS`.
    at: Vec<String>,
}

struct ChurnView {
    definition: String,
    customers: u64,
    churned: u64,
    churned_share: String,
    without_purchase: u64,
    months: Vec<MonthRow>,
    curves: Vec<CurveRow>,
    /// The churn rate and survival charts, inline SVG.
    rate_chart: String,
    survival_chart: String,
    /// One link per survival curve that shows it highlighted.
    curve_links: Vec<CurveLink>,
}

/// A survival group as a link that highlights its curve.
struct CurveLink {
    label: String,
    href: String,
    current: bool,
}

/// `curve`: which survival curve to highlight (0, all customers, when absent).
fn highlighted_curve(raw: Option<&str>, curves: usize) -> Result<usize, WebError> {
    let Some((_, value)) = form_urlencoded::parse(raw.unwrap_or("").as_bytes()).find(|(k, _)| k == "curve") else {
        return Ok(0);
    };
    if value.trim().is_empty() {
        return Ok(0);
    }
    value
        .trim()
        .parse()
        .ok()
        .filter(|&i: &usize| i < curves.max(1))
        .ok_or_else(|| WebError::BadRequest(format!("curve: must be a group number from 0 to {}", curves.max(1) - 1)))
}

#[derive(Template)]
#[template(path = "insights_churn.html")]
struct ChurnPage {
    chrome: Chrome,
    head: Head,
    view: Option<ChurnView>,
    lifecycle: bool,
    days: u32,
    by_segment: bool,
    grouping: &'static str,
    survival_days: [u32; 4],
}

async fn churn(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let default_days = state.insights.settings().churn_days;
    let params = ChurnParams::parse(raw.as_deref(), default_days)?;
    let (head, snapshot) = Head::new("churn", &state);
    let view = match reports(&snapshot) {
        Some(r) => {
            let (report, curves) = churn_for(&state, (&r.churn, &r.survival_by_segment), params).await?;
            let query = params.query(default_days);
            let highlight = highlighted_curve(raw.as_deref(), curves.len())?;
            let default = params.definition == ChurnDefinition::NoPurchaseFor { days: default_days };
            let rate_chart = if default {
                r.charts.churn_rate.clone()
            } else {
                charts::churn_rate_chart(&report).map_err(chart_failed)?
            };
            let title = format!("Customer survival by {}", grouping_name(params.grouping));
            let survival_chart = charts::survival_chart(&title, &curves, highlight).map_err(chart_failed)?;
            let curve_links = curves
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut pairs = form_urlencoded::Serializer::new(query.clone());
                    if i > 0 {
                        pairs.append_pair("curve", &i.to_string());
                    }
                    let query = pairs.finish();
                    CurveLink {
                        label: c.group.clone(),
                        href: format!(
                            "/insights/churn{}{query}#survival-heading",
                            if query.is_empty() { "" } else { "?" }
                        ),
                        current: i == highlight,
                    }
                })
                .collect();
            Some(ChurnView {
                definition: definition_text(report.definition),
                customers: report.customers,
                churned: report.churned,
                churned_share: pct(report.churned_share),
                without_purchase: report.without_purchase,
                months: report
                    .monthly
                    .iter()
                    .map(|m| MonthRow {
                        month: m.month.to_string(),
                        active_at_start: m.active_at_start,
                        new_customers: m.new_customers,
                        churned: m.churned,
                        rate: m.churn_rate.map(pct).unwrap_or_else(|| "—".into()),
                        partial: m.partial,
                    })
                    .collect(),
                curves: curves
                    .iter()
                    .map(|c| CurveRow {
                        group: c.group.clone(),
                        subjects: c.subjects,
                        events: c.events,
                        median: c.median.map(|d| format!("{d} days")).unwrap_or_else(|| "not reached".into()),
                        at: SURVIVAL_DAYS
                            .iter()
                            .map(|&t| {
                                let (s, lower, upper) = c.at(t);
                                format!("{} ({}–{})", pct(s), pct(lower), pct(upper))
                            })
                            .collect(),
                    })
                    .collect(),
                rate_chart,
                survival_chart,
                curve_links,
            })
        }
        None => None,
    };
    let page = ChurnPage {
        chrome: signed.chrome("insights", "Churn · Insights"),
        head,
        view,
        lifecycle: params.definition == ChurnDefinition::LifecycleChurned,
        days: params.days,
        by_segment: params.grouping == ChurnGrouping::Segment,
        grouping: grouping_name(params.grouping),
        survival_days: SURVIVAL_DAYS,
    };
    signed.page(&page)
}

// Lifetime value.

struct TopRow {
    name: String,
    href: String,
    segment: String,
    segment_href: String,
    repeat_purchases: u32,
    probability_alive: String,
    expected_purchases: String,
    value: String,
}

struct HoldoutLine {
    frequency: u32,
    customers: usize,
    actual: String,
    expected: String,
}

struct ModelView {
    customers: usize,
    r: String,
    alpha: String,
    a: String,
    b: String,
    log_likelihood: String,
    converged: bool,
    /// Gamma-Gamma: p, q, γ, log-likelihood and repeat buyers fitted.
    spend: Option<(String, String, String, String, usize)>,
    /// r ÷ α: the average customer's purchases per time unit, in words.
    purchases_per_unit: String,
    /// a ÷ (a + b): the average chance of leaving after a purchase.
    dropout: String,
}

struct ValueView {
    unit: &'static str,
    unit_singular: &'static str,
    horizon_months: u32,
    discount: String,
    model: ModelView,
    expected_purchases: String,
    expected_value: String,
    likely_alive: String,
    top: Vec<TopRow>,
    check_end: String,
    check: Option<ModelView>,
    holdout: Vec<HoldoutLine>,
    /// The model check chart, inline SVG.
    holdout_chart: Option<String>,
}

#[derive(Template)]
#[template(path = "insights_value.html")]
struct ValuePage {
    chrome: Chrome,
    head: Head,
    view: Option<ValueView>,
    /// Why the models could not be fitted, when they could not.
    clv_error: Option<String>,
}

fn model_view(model: &rapport_insights::clv::ModelReport) -> ModelView {
    let p = &model.bgnbd.params;
    ModelView {
        customers: model.bgnbd.n_customers,
        r: param(p.r),
        alpha: param(p.alpha),
        a: param(p.a),
        b: param(p.b),
        log_likelihood: number(model.bgnbd.log_likelihood, 2),
        converged: model.bgnbd.converged,
        spend: model.gamma_gamma.as_ref().map(|g| {
            (param(g.params.p), param(g.params.q), param(g.params.gamma), number(g.log_likelihood, 2), g.n_customers)
        }),
        purchases_per_unit: number(p.r / p.alpha, 3),
        dropout: pct(p.a / (p.a + p.b)),
    }
}

async fn value(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (head, snapshot) = Head::new("value", &state);
    let r = reports(&snapshot);
    let view = r.and_then(|r| r.clv.as_ref().map(|c| (r, c))).map(|(r, c)| {
        let currency = r.scope.currency.as_str();
        let check = c.check.as_ref();
        ValueView {
            unit: match c.time_unit {
                rapport_insights::clv::TimeUnit::Days => "days",
                rapport_insights::clv::TimeUnit::Weeks => "weeks",
            },
            unit_singular: match c.time_unit {
                rapport_insights::clv::TimeUnit::Days => "day",
                rapport_insights::clv::TimeUnit::Weeks => "week",
            },
            horizon_months: c.horizon_months,
            discount: pct(c.annual_discount_rate),
            model: model_view(&c.model),
            expected_purchases: about(c.expected_purchases),
            expected_value: c.expected_value_minor.map(|v| money(v, currency)).unwrap_or_else(|| "—".into()),
            likely_alive: about(c.likely_alive),
            top: c
                .top
                .iter()
                .map(|t| TopRow {
                    name: t.name.clone(),
                    href: format!("/people/{}", t.person_id),
                    segment: t.segment.map(Segment::label).unwrap_or_default().to_owned(),
                    segment_href: t.segment.map(|s| format!("/people?segment={}", s.as_str())).unwrap_or_default(),
                    repeat_purchases: t.repeat_purchases,
                    probability_alive: pct(t.probability_alive),
                    expected_purchases: number(t.expected_purchases, 2),
                    value: t.lifetime_value_minor.map(|v| money(v, currency)).unwrap_or_else(|| "—".into()),
                })
                .collect(),
            check_end: format::date(c.check_calibration_end),
            check: check.map(model_view),
            holdout: check
                .map(|m| {
                    m.holdout
                        .iter()
                        .map(|h| HoldoutLine {
                            frequency: h.frequency,
                            customers: h.customers,
                            actual: number(h.mean_actual, 2),
                            expected: number(h.mean_expected, 2),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            holdout_chart: r.charts.holdout.clone(),
        }
    });
    let clv_error = r.and_then(|r| r.clv_error.clone());
    signed.page(&ValuePage { chrome: signed.chrome("insights", "Lifetime value · Insights"), head, view, clv_error })
}

// Referrals.

struct ReferrerRow {
    name: String,
    href: String,
    referrals: u64,
    value: String,
    is_customer: bool,
}

struct ReferralsView {
    customers: u64,
    referred: u64,
    /// Customers nobody referred.
    others: u64,
    share_referred: String,
    referrers: u64,
    referred_value: String,
    other_value: String,
    average_referred: String,
    average_other: String,
    top: Vec<ReferrerRow>,
}

#[derive(Template)]
#[template(path = "insights_referrals.html")]
struct ReferralsPage {
    chrome: Chrome,
    head: Head,
    view: Option<ReferralsView>,
}

async fn referrals(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let (head, snapshot) = Head::new("referrals", &state);
    let view = reports(&snapshot).map(|r| {
        let f = &r.referrals;
        let currency = f.currency.as_str();
        ReferralsView {
            customers: f.customers,
            referred: f.referred_customers,
            others: f.customers.saturating_sub(f.referred_customers),
            share_referred: pct(f.share_referred),
            referrers: f.referrers,
            referred_value: money(f.referred_value_minor, currency),
            other_value: money(f.other_value_minor, currency),
            average_referred: money(f.average_referred_value_minor, currency),
            average_other: money(f.average_other_value_minor, currency),
            top: f
                .top_referrers
                .iter()
                .map(|t| ReferrerRow {
                    name: r.names.get(&t.referrer).cloned().unwrap_or_else(|| t.referrer.to_string()),
                    href: format!("/people/{}", t.referrer),
                    referrals: t.referrals,
                    value: money(t.referred_value_minor, currency),
                    is_customer: t.is_customer,
                })
                .collect(),
        }
    });
    signed.page(&ReferralsPage { chrome: signed.chrome("insights", "Referrals · Insights"), head, view })
}

// Charts.

/// `/insights/charts/{name}.svg`: a chart of the latest snapshot; the churn
/// charts take the churn page's query string for other choices.
async fn chart(
    State(state): State<AppState>,
    _signed: Signed,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let name = name.strip_suffix(".svg").ok_or(WebError::NotFound("chart"))?;
    let known = ["rfm_segments", "retention", "churn_rate", "survival", "holdout"];
    if !known.contains(&name) {
        return Err(WebError::NotFound("chart"));
    }
    let default_days = state.insights.settings().churn_days;
    let params = ChurnParams::parse(raw.as_deref(), default_days)?;
    let snapshot = state.insights.state().snapshot;
    let Some(reports) = reports(&snapshot) else { return Err(WebError::NotFound("chart")) };
    let version = snapshot.as_ref().map_or(0, |s| s.version);
    let c = &reports.charts;
    let churn_chart = matches!(name, "churn_rate" | "survival");
    let highlighted = raw.as_deref().is_some_and(|q| q.contains("curve="));
    let default = params.definition == ChurnDefinition::NoPurchaseFor { days: default_days } && !highlighted;
    if !churn_chart || default {
        let body = match (name, params.grouping) {
            ("rfm_segments", _) => c.rfm_segments.clone(),
            ("retention", _) => c.retention.clone(),
            ("churn_rate", _) => c.churn_rate.clone(),
            ("survival", ChurnGrouping::Source) => c.survival_by_source.clone(),
            ("survival", ChurnGrouping::Segment) => c.survival_by_segment.clone(),
            _ => c.holdout.clone().ok_or(WebError::NotFound("chart"))?,
        };
        let etag = format!("\"insights-{version}-{}-{name}\"", grouping_name(params.grouping));
        let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
        if matches {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(value) = HeaderValue::from_str(&etag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            return Ok(response);
        }
        return Ok(svg(body, Some(etag)));
    }
    let (report, curves) = churn_for(&state, (&reports.churn, &reports.survival_by_segment), params).await?;
    let body = if name == "churn_rate" {
        charts::churn_rate_chart(&report).map_err(chart_failed)?
    } else {
        let title = format!("Customer survival by {}", grouping_name(params.grouping));
        charts::survival_chart(&title, &curves, highlighted_curve(raw.as_deref(), curves.len())?)
            .map_err(chart_failed)?
    };
    Ok(svg(body, None))
}

/// `/people/{id}/purchases.svg`: one customer's purchases over time (see
/// [`ChartedPurchases`]), full size.
async fn purchase_history(
    State(state): State<AppState>,
    _signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let person = state.store.get_person(id).await?;
    let charted = ChartedPurchases::load(&state, id).await?;
    let body = charts::purchase_history_chart(&person.fields.full_name(), &charted.rows, &charted.currency)
        .map_err(chart_failed)?;
    Ok(svg(body, None))
}

/// A customer's purchases as their chart draws them: in the currency the
/// insights use (or else the one they bought in most), by day.
struct ChartedPurchases {
    /// (day, amount in minor units), oldest first.
    rows: Vec<(time::Date, i64)>,
    currency: String,
    /// Whether they also bought in other currencies (not drawn).
    other_currencies: bool,
}

impl ChartedPurchases {
    async fn load(state: &AppState, id: PersonId) -> Result<ChartedPurchases, WebError> {
        let mut purchases = Vec::new();
        let mut cursor = None;
        for _ in 0..HISTORY_PAGES {
            let page = state
                .store
                .list_purchases(
                    &ListQuery { limit: Some(HISTORY_PAGE_SIZE), cursor, ..Default::default() },
                    &PurchaseFilter { person_id: Some(id), ..Default::default() },
                )
                .await?;
            purchases.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let analysed =
            state.insights.state().snapshot.and_then(|s| s.reports.as_ref().map(|r| r.scope.currency.clone()));
        let mut counts: Vec<(String, usize)> = Vec::new();
        for p in &purchases {
            let code = p.fields.amount.currency.as_str();
            match counts.iter_mut().find(|(c, _)| c == code) {
                Some((_, n)) => *n += 1,
                None => counts.push((code.to_owned(), 1)),
            }
        }
        let currency = match analysed {
            Some(code) if counts.iter().any(|(c, _)| *c == code) => code,
            _ => counts.iter().max_by_key(|(_, n)| *n).map(|(c, _)| c.clone()).unwrap_or_else(|| "EUR".into()),
        };
        let mut rows: Vec<(time::Date, i64)> = purchases
            .iter()
            .filter(|p| p.fields.amount.currency.as_str() == currency)
            .map(|p| (p.fields.occurred_at.date(), p.fields.amount.amount_minor))
            .collect();
        rows.sort();
        Ok(ChartedPurchases { rows, currency, other_currencies: counts.len() > 1 })
    }

    /// The customer page's chart: each day leads to the list of that day's
    /// purchases (the list's `since` and `until`, a day apart, in UTC as
    /// the days are).
    fn card_chart(&self, id: PersonId) -> Result<String, WebError> {
        let day_href = |day: time::Date| {
            let next = day.next_day()?;
            Some(format!("/purchases?person_id={id}&since={day}&until={next}"))
        };
        charts::purchase_chart("", &self.rows, &self.currency, charts::PurchaseChartSize::Card, day_href)
            .map_err(chart_failed)
    }
}

// The customer page's panel.

/// "Value and loyalty" on a person's page.
pub struct ValuePanel {
    /// Shown instead of the figures when there are none.
    pub note: Option<&'static str>,
    pub segment: String,
    pub segment_href: String,
    pub scores: String,
    /// The scores in words.
    pub scores_meaning: String,
    pub probability_alive: String,
    pub expected_purchases: String,
    pub expected_value: String,
    pub horizon: String,
    pub last_purchase: String,
    pub purchases: String,
    pub computed_at: String,
    /// The purchase chart (inline SVG), when they bought anything.
    pub chart: Option<String>,
    /// The chart's currency, and whether purchases in others are left out.
    pub chart_currency: String,
    pub chart_other_currencies: bool,
}

impl ValuePanel {
    pub async fn load(state: &AppState, id: PersonId, purchase_count: i64) -> Result<ValuePanel, WebError> {
        let horizon_months = state.insights.settings().horizon_months;
        let horizon = format!("next {horizon_months} months");
        let mut panel = ValuePanel {
            note: None,
            segment: String::new(),
            segment_href: String::new(),
            scores: String::new(),
            scores_meaning: String::new(),
            probability_alive: String::new(),
            expected_purchases: String::new(),
            expected_value: String::new(),
            horizon,
            last_purchase: String::new(),
            purchases: String::new(),
            computed_at: String::new(),
            chart: None,
            chart_currency: String::new(),
            chart_other_currencies: false,
        };
        if purchase_count > 0 {
            let charted = ChartedPurchases::load(state, id).await?;
            panel.chart = Some(charted.card_chart(id)?);
            panel.chart_other_currencies = charted.other_currencies;
            panel.chart_currency = charted.currency;
        }
        if purchase_count == 0 {
            panel.note = Some("No purchases yet.");
            return Ok(panel);
        }
        let Some(insight) = state.store.customer_insight(id).await? else {
            panel.note = Some("Computed after the next insights run.");
            return Ok(panel);
        };
        let not_fitted = || "—".to_owned();
        panel.segment = insight.segment.label().to_owned();
        panel.segment_href = format!("/people?segment={}", insight.segment.as_str());
        panel.scores = format!("R{} F{} M{}", insight.r_score, insight.f_score, insight.m_score);
        panel.scores_meaning = format!(
            "Bought lately: {} of 5, buys often: {} of 5, spends: {} of 5 (5 is best)",
            insight.r_score, insight.f_score, insight.m_score
        );
        panel.probability_alive = insight.probability_alive.map(pct).unwrap_or_else(not_fitted);
        panel.expected_purchases = insight.expected_purchases.map(|e| number(e, 1)).unwrap_or_else(not_fitted);
        panel.expected_value = insight.expected_value.map(|v| numbers::money(&v)).unwrap_or_else(not_fitted);
        panel.last_purchase = format!(
            "{} ({} day{} ago)",
            format::date(insight.last_purchase),
            insight.recency_days,
            if insight.recency_days == 1 { "" } else { "s" }
        );
        panel.purchases = format!(
            "{} purchase{}, {} in all",
            insight.frequency,
            if insight.frequency == 1 { "" } else { "s" },
            numbers::money(&insight.monetary)
        );
        panel.computed_at = format::datetime(insight.computed_at);
        Ok(panel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome() -> Chrome {
        Chrome {
            title: "Insights".into(),
            section: "insights",
            user_name: "Ada".into(),
            user_email: "ada@example.com".into(),
            role: "admin",
            is_admin: true,
            can_write: true,
            csrf: "token".into(),
            flash: None,
            undo: None,
            assets: "v",
        }
    }

    fn head(computing: bool, empty: bool, stale: bool) -> Head {
        Head {
            tab: "overview",
            computing,
            empty,
            stale,
            error: None,
            as_of: "2026-11-25".into(),
            computed_iso: "2026-11-25T14:03:00Z".into(),
            computed_at: "2026-11-25 14:03 UTC".into(),
            took_ms: 850,
            scope_note: None,
            currency: String::new(),
        }
    }

    #[test]
    fn the_states_before_and_without_data_read_right() {
        let page = OverviewPage { chrome: chrome(), head: head(true, false, true), view: None }.render().unwrap();
        assert!(page.contains("Insights are being computed…"), "{page}");
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"5\">"), "{page}");
        assert!(!page.contains("As of"), "{page}");
        let page = OverviewPage { chrome: chrome(), head: head(false, true, true), view: None }.render().unwrap();
        assert!(page.contains("No purchases yet."), "{page}");
        assert!(page.contains("updating…"), "{page}");
        assert!(page.contains("in 850 ms"), "{page}");
        assert!(!page.contains("http-equiv"), "{page}");
    }

    #[test]
    fn churn_choices_parse_and_name_bad_fields() {
        let params = ChurnParams::parse(None, 180).ok().unwrap();
        assert_eq!(params.definition, ChurnDefinition::NoPurchaseFor { days: 180 });
        assert_eq!(params.query(180), "");
        let params = ChurnParams::parse(Some("days=90&group_by=segment"), 180).ok().unwrap();
        assert_eq!(params.definition, ChurnDefinition::NoPurchaseFor { days: 90 });
        assert_eq!(params.query(180), "days=90&group_by=segment");
        let params = ChurnParams::parse(Some("definition=lifecycle&days="), 180).ok().unwrap();
        assert_eq!(params.definition, ChurnDefinition::LifecycleChurned);
        for (raw, field) in [("days=0", "days"), ("days=abc", "days"), ("group_by=nope", "group_by")] {
            match ChurnParams::parse(Some(raw), 180) {
                Err(WebError::BadRequest(message)) => assert!(message.starts_with(field), "{raw}: {message}"),
                _ => panic!("{raw} was accepted"),
            }
        }
    }
}
