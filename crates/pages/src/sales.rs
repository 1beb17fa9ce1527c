//! The sales dashboard: win rate and sales cycle by owner, lead source and
//! stage, the weighted forecast by expected close month and activity per
//! staff member. Every count links to the list of exactly the records it
//! counts (deals, activities or tasks). Reads the same figures as
//! `/api/v1/reports/sales`.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::Currency;
use rapport_domain::records::ActivityKind;
use rapport_domain::sales::{SalesReportQuery, SalesReportRequest};
use rapport_insights::sales::{ClosedGroup, ForecastBucket, SalesFigures, sales_figures};
use time::{Date, OffsetDateTime};

use super::lists::Choice;
use super::{Chrome, Signed, WebError, numbers};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/sales", get(page))
}

/// One cell of a sales table: a label, a figure linked to its records, or
/// a bar (its length 0–100, drawn as an SVG rect: the page's CSP allows no
/// inline styles).
struct Cell {
    text: String,
    href: Option<String>,
    bar: Option<u32>,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Cell { text: text.into(), href: None, bar: None }
    }

    fn link(text: String, href: String) -> Self {
        Cell { text, href: Some(href), bar: None }
    }

    fn bar(text: String, href: Option<String>, width: u32) -> Self {
        Cell { text, href, bar: Some(width) }
    }
}

struct Header {
    label: &'static str,
    numeric: bool,
}

const fn label(label: &'static str) -> Header {
    Header { label, numeric: false }
}

const fn number(label: &'static str) -> Header {
    Header { label, numeric: true }
}

/// A card with one table: every section of the page has this shape.
struct Table {
    id: &'static str,
    title: &'static str,
    explanation: &'static str,
    /// Said instead of the table when it has no rows.
    empty: &'static str,
    headers: &'static [Header],
    rows: Vec<Vec<Cell>>,
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
    overall_counts: Cell,
    overall_cycle: String,
    tables: Vec<Table>,
}

/// `path?…` with the given filters.
fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    format!("{path}?{}", query.finish())
}

/// `/deals?…` with the period's pipeline and the given filters.
fn deals_href(figures: &SalesFigures, pairs: &[(&str, String)]) -> String {
    let mut all: Vec<(&str, String)> =
        figures.pipeline_id.map(|p| ("pipeline_id", p.to_string())).into_iter().collect();
    all.extend_from_slice(pairs);
    href("/deals", &all)
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

const CLOSED_HEADERS: [Header; 6] =
    [label(""), label("Win rate"), number("Won"), number("Lost"), number("Median cycle"), number("Mean cycle")];
const OWNER_HEADERS: &[Header] = &{
    let mut headers = CLOSED_HEADERS;
    headers[0] = label("Owner");
    headers
};
const SOURCE_HEADERS: &[Header] = &{
    let mut headers = CLOSED_HEADERS;
    headers[0] = label("Source");
    headers
};

/// A group's deals: `filter=key`, or for the group without a key `none`
/// (the deals list's "has no owner/source" filter, `false`).
fn closed_rows(
    figures: &SalesFigures,
    groups: &[ClosedGroup],
    filter: &'static str,
    none: &'static str,
) -> Vec<Vec<Cell>> {
    groups
        .iter()
        .map(|group| {
            let by = |status: Option<&str>| {
                let mut pairs = closed_in(figures);
                match &group.key {
                    Some(key) => pairs.push((filter, key.clone())),
                    None => pairs.push((none, "false".to_owned())),
                }
                if let Some(status) = status {
                    pairs.push(("status", status.to_owned()));
                }
                deals_href(figures, &pairs)
            };
            let (rate, width) = percent(group.win_rate);
            vec![
                Cell::text(group.label.clone()),
                Cell::bar(rate, Some(by(None)), width),
                Cell::link(numbers::count(group.won), by(Some("won"))),
                Cell::link(numbers::count(group.lost), by(Some("lost"))),
                Cell::text(days(group.median_cycle_days)),
                Cell::text(days(group.mean_cycle_days)),
            ]
        })
        .collect()
}

const STAGE_HEADERS: &[Header] = &[
    label("Stage"),
    number("Probability"),
    number("Reached"),
    label("Won of those"),
    number("Median days in stage"),
    number("Won here"),
    number("Lost here"),
];
const FORECAST_HEADERS: &[Header] =
    &[label("Expected close"), label("Currency"), number("Deals"), number("Amount"), label("Weighted")];
const ACTIVITY_HEADERS: &[Header] = &[
    label("Staff member"),
    number("Calls"),
    number("Emails"),
    number("Meetings"),
    number("Notes"),
    number("Messages"),
    number("Tasks done"),
    label("Total"),
];

fn stage_rows(figures: &SalesFigures) -> Vec<Vec<Cell>> {
    figures
        .by_stage
        .iter()
        .map(|stage| {
            let deals = |filter: &'static str, status: Option<&str>| {
                let mut pairs = closed_in(figures);
                pairs.push((filter, stage.stage_id.to_string()));
                if let Some(status) = status {
                    pairs.push(("status", status.to_owned()));
                }
                deals_href(figures, &pairs)
            };
            let (share, width) = percent(stage.won_share);
            let label = if figures.pipeline_id.is_some() {
                stage.stage.clone()
            } else {
                format!("{} · {}", stage.pipeline, stage.stage)
            };
            vec![
                Cell::text(label),
                Cell::text(format!("{}%", stage.win_probability)),
                Cell::link(numbers::count(stage.reached), deals("reached_stage_id", None)),
                Cell::bar(share, Some(deals("reached_stage_id", Some("won"))), width),
                Cell::text(days(stage.median_days_in_stage)),
                Cell::link(numbers::count(stage.won_here), deals("stage_id", Some("won"))),
                Cell::link(numbers::count(stage.lost_here), deals("stage_id", Some("lost"))),
            ]
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

/// Months without open deals are left out here (the API lists them).
fn forecast_rows(figures: &SalesFigures) -> Vec<Vec<Cell>> {
    let largest_weighted = |currency: &str| {
        figures.forecast.iter().filter(|r| r.currency == currency).map(|r| r.weighted_minor).max().unwrap_or(0).max(1)
    };
    figures
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
            let mut pairs = vec![("status", "open".to_owned()), ("currency", row.currency.clone())];
            if row.bucket == ForecastBucket::NoDate {
                pairs.push(("has_expected_close", "false".to_owned()));
            }
            if let Some(day) = row.first_day {
                pairs.push(("expected_close_from", day.to_string()));
            }
            if let Some(day) = row.last_day {
                pairs.push(("expected_close_to", day.to_string()));
            }
            let href = deals_href(figures, &pairs);
            let width = (row.weighted_minor as f64 * 100.0 / largest_weighted(&row.currency) as f64).round() as u32;
            vec![
                Cell::text(label),
                Cell::text(row.currency.clone()),
                Cell::link(numbers::count(row.deals), href.clone()),
                Cell::text(money_text(row.amount_minor, &row.currency)),
                Cell::bar(money_text(row.weighted_minor, &row.currency), Some(href), width),
            ]
        })
        .collect()
}

/// Each kind's count leads to those activities, tasks done to those tasks;
/// the total adds the two lists, so it leads to neither.
fn activity_rows(figures: &SalesFigures) -> Vec<Vec<Cell>> {
    let period =
        |from: &'static str, to: &'static str| vec![(from, figures.from.to_string()), (to, figures.to.to_string())];
    let busiest = figures.activity.iter().map(|r| r.total).max().unwrap_or(0).max(1);
    figures
        .activity
        .iter()
        .map(|row| {
            let activities = |kind: ActivityKind, count: u64| {
                let mut pairs = period("occurred_from", "occurred_to");
                match row.user_id {
                    Some(id) => pairs.push(("staff_id", id.to_string())),
                    None => pairs.push(("has_staff", "false".to_owned())),
                }
                pairs.push(("kind", kind.as_str().to_owned()));
                Cell::link(numbers::count(count), href("/activities", &pairs))
            };
            let mut tasks = period("done_from", "done_to");
            match row.user_id {
                Some(id) => tasks.push(("assignee_id", id.to_string())),
                None => tasks.push(("has_assignee", "false".to_owned())),
            }
            vec![
                Cell::text(row.name.clone()),
                activities(ActivityKind::Call, row.calls),
                activities(ActivityKind::Email, row.emails),
                activities(ActivityKind::Meeting, row.meetings),
                activities(ActivityKind::Note, row.notes),
                activities(ActivityKind::Message, row.messages),
                Cell::link(numbers::count(row.tasks_done), href("/tasks", &tasks)),
                Cell::bar(numbers::count(row.total), None, (row.total * 100 / busiest) as u32),
            ]
        })
        .collect()
}

fn view(signed: &Signed, figures: &SalesFigures, pipelines: Vec<Choice>, today: Date) -> SalesPage {
    let pipeline_id = figures.pipeline_id.map(|p| p.to_string()).unwrap_or_default();
    let presets = [30, 90, 365]
        .into_iter()
        .map(|n| {
            let preset = SalesReportRequest::last_days(n, today, figures.pipeline_id);
            let mut pairs = vec![("from", preset.first_day().to_string()), ("to", preset.last_day().to_string())];
            if !pipeline_id.is_empty() {
                pairs.push(("pipeline_id", pipeline_id.clone()));
            }
            Preset {
                label: format!("Last {n} days"),
                href: href("/sales", &pairs),
                current: preset.first_day() == figures.from && preset.last_day() == figures.to,
            }
        })
        .collect();
    let overall = &figures.overall;
    let (overall_rate, _) = percent(overall.win_rate);
    let tables = vec![
        Table {
            id: "sales-owner",
            title: "Win rate by owner",
            explanation: "Each owner's deals closed in this period: won, lost, the share won and how long they took.",
            empty: "No closed deals in this period.",
            headers: OWNER_HEADERS,
            rows: closed_rows(figures, &figures.by_owner, "owner_id", "has_owner"),
        },
        Table {
            id: "sales-source",
            title: "Win rate by lead source",
            explanation: "The deals closed in this period by their person's lead source: won, lost, the share won and how long they took.",
            empty: "No closed deals in this period.",
            headers: SOURCE_HEADERS,
            rows: closed_rows(figures, &figures.by_source, "source", "has_source"),
        },
        Table {
            id: "sales-stage",
            title: "Stages",
            explanation: "Of the deals closed in this period: how many were ever in each stage, the share of those that was won, the median days spent in it, and how many were won or lost from it.",
            empty: "No stages.",
            headers: STAGE_HEADERS,
            rows: stage_rows(figures),
        },
        Table {
            id: "sales-forecast",
            title: "Weighted forecast",
            explanation: "Open deals by expected close month (months with none are left out): each deal's amount times its stage's win probability, added up per currency.",
            empty: "No open deals.",
            headers: FORECAST_HEADERS,
            rows: forecast_rows(figures),
        },
        Table {
            id: "sales-activity",
            title: "Activity per staff member",
            explanation: "Calls, emails, meetings, notes and messages logged in this period by whom they name as author, and the tasks each person completed.",
            empty: "No activity in this period.",
            headers: ACTIVITY_HEADERS,
            rows: activity_rows(figures),
        },
    ];
    SalesPage {
        chrome: signed.chrome("sales", "Sales"),
        from: figures.from.to_string(),
        to: figures.to.to_string(),
        pipeline_id,
        pipelines,
        presets,
        overall_rate,
        overall_counts: Cell::link(
            format!("{} won of {} closed", numbers::count(overall.won), numbers::count(overall.won + overall.lost)),
            deals_href(figures, &closed_in(figures)),
        ),
        overall_cycle: days(overall.median_cycle_days),
        tables,
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
