//! The sales dashboard: win rate and sales cycle by owner, lead source and
//! stage, the weighted forecast by expected close month and activity per
//! staff member. Every number and bar links to the deals (or tasks) behind
//! it. Reads the same figures as `/api/v1/reports/sales`.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::Currency;
use rapport_domain::sales::{SalesReportQuery, SalesReportRequest};
use rapport_insights::sales::{ClosedGroup, ForecastBucket, SalesFigures, sales_figures};
use time::{Date, OffsetDateTime};

use super::lists::Choice;
use super::numbers::filters;
use super::{Chrome, Signed, WebError, numbers};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sales", get(page))
}

/// A figure and where it leads; no link when no list can show its deals.
struct Link {
    text: String,
    href: Option<String>,
}

/// A bar's length, 0–100, drawn as an SVG rect (the page's CSP allows no inline styles).
struct Bar {
    text: String,
    href: Option<String>,
    width: u32,
}

struct ClosedRow {
    label: String,
    win_rate: Bar,
    won: Link,
    lost: Link,
    median_cycle: String,
    mean_cycle: String,
}

/// Win rate and cycle by owner or by source.
struct ClosedSection {
    id: &'static str,
    title: &'static str,
    column: &'static str,
    explanation: &'static str,
    rows: Vec<ClosedRow>,
}

struct StageRow {
    label: String,
    probability: String,
    reached: String,
    won_share: Bar,
    median_days: String,
    won_here: Link,
    lost_here: Link,
}

struct ForecastRowView {
    label: String,
    currency: String,
    deals: Link,
    amount: String,
    weighted: Bar,
}

struct ActivityRow {
    name: String,
    calls: u64,
    emails: u64,
    meetings: u64,
    notes: u64,
    messages: u64,
    tasks_done: Link,
    total: Bar,
}

struct Preset {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sales.html")]
struct SalesPage {
    chrome: Chrome,
    from: String,
    to: String,
    pipeline_id: String,
    pipelines: Vec<Choice>,
    presets: Vec<Preset>,
    overall_rate: String,
    overall_counts: Link,
    overall_cycle: String,
    closed_sections: Vec<ClosedSection>,
    by_stage: Vec<StageRow>,
    forecast: Vec<ForecastRowView>,
    activity: Vec<ActivityRow>,
}

/// `/deals?…` with the period's pipeline and the given filters.
fn deals_href(figures: &SalesFigures, pairs: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(pipeline) = figures.pipeline_id {
        query.append_pair("pipeline_id", &pipeline.to_string());
    }
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    format!("/deals?{}", query.finish())
}

/// The filters of the deals closed in the period.
fn closed_in(figures: &SalesFigures) -> Vec<(&'static str, String)> {
    vec![("closed_from", figures.from.to_string()), ("closed_to", figures.to.to_string())]
}

fn percent(share: Option<f64>) -> (String, u32) {
    match share {
        Some(share) => (numbers::percent(share, 0), (share * 100.0).round().clamp(0.0, 100.0) as u32),
        None => ("no closed deals".to_owned(), 0),
    }
}

fn days(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |d| format!("{} days", numbers::decimal(d, 1)))
}

/// `filter` is the deals list's filter a group's key goes in (`owner_id` or `source`).
fn closed_rows(figures: &SalesFigures, groups: &[ClosedGroup], filter: &'static str) -> Vec<ClosedRow> {
    groups
        .iter()
        .map(|group| {
            // The deals list cannot pick "no owner" or "no source": those rows show their figures unlinked.
            let by = |status: Option<&str>| {
                group.key.as_ref().map(|key| {
                    let mut pairs = closed_in(figures);
                    pairs.push((filter, key.clone()));
                    if let Some(status) = status {
                        pairs.push(("status", status.to_owned()));
                    }
                    deals_href(figures, &pairs)
                })
            };
            let (rate, width) = percent(group.win_rate);
            ClosedRow {
                label: group.label.clone(),
                win_rate: Bar { text: rate, href: by(None), width },
                won: Link { text: numbers::count(group.won), href: by(Some("won")) },
                lost: Link { text: numbers::count(group.lost), href: by(Some("lost")) },
                median_cycle: days(group.median_cycle_days),
                mean_cycle: days(group.mean_cycle_days),
            }
        })
        .collect()
}

fn money_text(amount_minor: i64, currency: &str) -> String {
    Currency::parse(currency)
        .map_or_else(|_| format!("{amount_minor} {currency}"), |c| numbers::money_minor(i128::from(amount_minor), c))
}

fn month_label(first_day: Option<Date>) -> String {
    first_day.map_or(String::new(), |day| format!("{} {}", day.month(), day.year()))
}

fn view(signed: &Signed, figures: &SalesFigures, pipelines: Vec<Choice>, today: Date) -> SalesPage {
    let pipeline_id = figures.pipeline_id.map(|p| p.to_string()).unwrap_or_default();
    let presets = [30, 90, 365]
        .into_iter()
        .map(|n| {
            let preset = SalesReportRequest::last_days(n, today, figures.pipeline_id);
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("from", &preset.first_day().to_string());
            query.append_pair("to", &preset.last_day().to_string());
            if !pipeline_id.is_empty() {
                query.append_pair("pipeline_id", &pipeline_id);
            }
            Preset {
                label: format!("Last {n} days"),
                href: format!("/sales?{}", query.finish()),
                current: preset.first_day() == figures.from && preset.last_day() == figures.to,
            }
        })
        .collect();
    let overall = &figures.overall;
    let by_stage = figures
        .by_stage
        .iter()
        .map(|stage| {
            let here = |status: &str| {
                let mut pairs = closed_in(figures);
                pairs.push(("stage_id", stage.stage_id.to_string()));
                pairs.push(("status", status.to_owned()));
                deals_href(figures, &pairs)
            };
            let (share, width) = percent(stage.won_share);
            let label = if figures.pipeline_id.is_some() {
                stage.stage.clone()
            } else {
                format!("{} · {}", stage.pipeline, stage.stage)
            };
            StageRow {
                label,
                probability: format!("{}%", stage.win_probability),
                reached: numbers::count(stage.reached),
                won_share: Bar { text: share, href: None, width },
                median_days: days(stage.median_days_in_stage),
                won_here: Link { text: numbers::count(stage.won_here), href: Some(here("won")) },
                lost_here: Link { text: numbers::count(stage.lost_here), href: Some(here("lost")) },
            }
        })
        .collect();
    let largest_weighted = |currency: &str| {
        figures.forecast.iter().filter(|r| r.currency == currency).map(|r| r.weighted_minor).max().unwrap_or(0).max(1)
    };
    // Months without open deals are left out here (the API lists them).
    let forecast = figures
        .forecast
        .iter()
        .filter(|row| row.deals > 0)
        .map(|row| {
            let label = match row.bucket {
                ForecastBucket::Overdue => "Overdue".to_owned(),
                ForecastBucket::Month => month_label(row.first_day),
                ForecastBucket::Later => "Later".to_owned(),
                ForecastBucket::NoDate => "No date".to_owned(),
            };
            // The deals list has no "without an expected close" filter: that row is unlinked.
            let href = (row.bucket != ForecastBucket::NoDate).then(|| {
                let mut pairs = vec![("status", "open".to_owned()), ("currency", row.currency.clone())];
                if let Some(day) = row.first_day {
                    pairs.push(("expected_close_from", day.to_string()));
                }
                if let Some(day) = row.last_day {
                    pairs.push(("expected_close_to", day.to_string()));
                }
                deals_href(figures, &pairs)
            });
            let width = (row.weighted_minor as f64 * 100.0 / largest_weighted(&row.currency) as f64).round() as u32;
            ForecastRowView {
                label,
                currency: row.currency.clone(),
                deals: Link { text: numbers::count(row.deals), href: href.clone() },
                amount: money_text(row.amount_minor, &row.currency),
                weighted: Bar { text: money_text(row.weighted_minor, &row.currency), href, width },
            }
        })
        .collect();
    let busiest = figures.activity.iter().map(|r| r.total).max().unwrap_or(0).max(1);
    let activity = figures
        .activity
        .iter()
        .map(|row| ActivityRow {
            name: row.name.clone(),
            calls: row.calls,
            emails: row.emails,
            meetings: row.meetings,
            notes: row.notes,
            messages: row.messages,
            tasks_done: Link {
                text: numbers::count(row.tasks_done),
                href: row.user_id.map(|id| format!("/tasks?assignee_id={id}&open=false")),
            },
            total: Bar { text: numbers::count(row.total), href: None, width: (row.total * 100 / busiest) as u32 },
        })
        .collect();
    let (overall_rate, _) = percent(overall.win_rate);
    SalesPage {
        chrome: signed.chrome("sales", "Sales"),
        from: figures.from.to_string(),
        to: figures.to.to_string(),
        pipeline_id,
        pipelines,
        presets,
        overall_rate,
        overall_counts: Link {
            text: format!(
                "{} won of {} closed",
                numbers::count(overall.won),
                numbers::count(overall.won + overall.lost)
            ),
            href: Some(deals_href(figures, &closed_in(figures))),
        },
        overall_cycle: days(overall.median_cycle_days),
        closed_sections: vec![
            ClosedSection {
                id: "sales-owner",
                title: "Win rate by owner",
                column: "Owner",
                explanation: "Each owner's deals closed in this period: won, lost, the share won and how long they took.",
                rows: closed_rows(figures, &figures.by_owner, "owner_id"),
            },
            ClosedSection {
                id: "sales-source",
                title: "Win rate by lead source",
                column: "Source",
                explanation: "The deals closed in this period by their person's lead source: won, lost, the share won and how long they took.",
                rows: closed_rows(figures, &figures.by_source, "source"),
            },
        ],
        by_stage,
        forecast,
        activity,
    }
}

async fn page(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let today = OffsetDateTime::now_utc().date();
    let query = SalesReportQuery { from: get("from"), to: get("to"), pipeline_id: get("pipeline_id") };
    let request =
        SalesReportRequest::parse(&query, today).map_err(|errors| WebError::BadRequest(errors.to_string()))?;
    let facts = state.store.sales_facts(&request, today).await?;
    let figures = sales_figures(&facts);
    let pipelines = state
        .store
        .list_pipelines()
        .await?
        .into_iter()
        .map(|p| Choice::new(p.id.to_string(), p.name.to_string()))
        .collect();
    signed.page(&view(&signed, &figures, pipelines, today))
}
