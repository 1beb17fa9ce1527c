//! The SLA report page (managers and admins): the share of response targets
//! met per agent, team, priority or month over a period, each figure
//! linking to the tickets that missed it, listed below on the same page.
//! Reads the same storage methods as `/api/v1/reports/sla`.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::sla_events::{
    MissedTarget, SlaGroup, SlaGrouping, SlaReportQuery, SlaReportRequest, SlaReportRow, SlaTarget,
};
use time::OffsetDateTime;

use super::lists::Choice;
use super::staff::Staff;
use super::{Chrome, Signed, WebError, format};
use rapport_api::AppState;

/// The misses the page lists at most; the API gives them all.
const MISSES_SHOWN: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports/sla", get(page))
}

/// One target's figure in a row.
struct Cell {
    /// "85%", or "—" when nothing was decided.
    share: String,
    met: i64,
    decided: i64,
    /// The misses behind the figure, when there are any.
    missed: Option<(i64, String)>,
}

struct Row {
    label: String,
    cells: Vec<Cell>,
}

struct MissView {
    subject: String,
    href: String,
    target: &'static str,
    due: String,
    due_iso: String,
    late_by: String,
    assignee: String,
    priority: &'static str,
}

#[derive(Template)]
#[template(path = "sla_report.html")]
struct ReportPage {
    chrome: Chrome,
    groupings: Vec<Choice>,
    grouping: &'static str,
    from: String,
    to: String,
    targets: Vec<&'static str>,
    rows: Vec<Row>,
    /// What the list of misses shows ("First response missed · Priority: High"), when asked for.
    missed_title: Option<String>,
    misses: Vec<MissView>,
    /// How many misses were left out of the list.
    more_misses: usize,
}

/// The period's first and last day as the form shows them (`to` is the
/// day after the last, as the report counts).
fn days(request: &SlaReportRequest) -> (String, String) {
    (request.from.date().to_string(), (request.to - time::Duration::days(1)).date().to_string())
}

/// A link to this page with the period and grouping kept.
fn link(request: &SlaReportRequest, extra: &[(&str, &str)]) -> String {
    let (from, to) = days(request);
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.append_pair("group", request.grouping.as_str());
    serializer.append_pair("from", &from);
    serializer.append_pair("to", &to);
    for (key, value) in extra {
        serializer.append_pair(key, value);
    }
    format!("/reports/sla?{}#missed", serializer.finish())
}

fn rows(request: &SlaReportRequest, report: Vec<SlaReportRow>) -> Vec<Row> {
    // key → (label, the row's figures by target); BTreeMap keeps the report's order.
    let mut grouped: BTreeMap<Option<String>, (String, Vec<SlaReportRow>)> = BTreeMap::new();
    for row in report {
        grouped.entry(row.key.clone()).or_insert_with(|| (row.label.clone(), Vec::new())).1.push(row);
    }
    grouped
        .into_iter()
        .map(|(key, (label, figures))| {
            let cells = SlaTarget::ALL
                .iter()
                .map(|&target| {
                    let figure = figures.iter().find(|f| f.target == target);
                    let (met, missed) = figure.map_or((0, 0), |f| (f.met, f.missed));
                    let decided = met + missed;
                    let share = match figure {
                        Some(f) if decided > 0 => format!("{:.0}%", f.share_met * 100.0),
                        _ => "—".into(),
                    };
                    let key = key.as_deref().unwrap_or(SlaReportRequest::NO_KEY);
                    let missed =
                        (missed > 0).then(|| (missed, link(request, &[("key", key), ("target", target.as_str())])));
                    Cell { share, met, decided, missed }
                })
                .collect();
            Row { label, cells }
        })
        .collect()
}

/// "Resolution missed · Agent: Ann", naming the report row the list explains.
fn missed_title(request: &SlaReportRequest, report_rows: &[Row], labels: &[(Option<String>, String)]) -> String {
    let target = request.target.map_or("Targets", |t| t.label());
    let mut title = format!("{target} missed");
    if let Some(SlaGroup { grouping, key }) = &request.group {
        let label = labels.iter().find(|(k, _)| k == key).map(|(_, l)| l.clone());
        let label = label.unwrap_or_else(|| key.clone().unwrap_or_else(|| "none".into()));
        title.push_str(&format!(" · {}: {label}", grouping.label()));
    }
    if report_rows.is_empty() {
        title.push_str(" (nothing decided in this period)");
    }
    title
}

async fn page(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    signed
        .actor
        .ensure_can_see_everyone()
        .map_err(|_| WebError::Forbidden("Only managers and admins see the SLA report.".into()))?;
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let query = SlaReportQuery {
        group: get("group"),
        from: get("from"),
        to: get("to"),
        target: get("target"),
        key: get("key"),
    };
    let request = SlaReportRequest::parse(&query, OffsetDateTime::now_utc().date())
        .map_err(|errors| WebError::BadRequest(errors.to_string()))?;
    let report = state.store.sla_report(&signed.actor, request.grouping, request.from, request.to).await?;
    let labels: Vec<(Option<String>, String)> = report.iter().map(|r| (r.key.clone(), r.label.clone())).collect();
    let rows = rows(&request, report);
    let asked = request.target.is_some() || request.group.is_some();
    let (mut misses, mut more_misses) = (Vec::new(), 0);
    if asked {
        let found: Vec<MissedTarget> = state
            .store
            .missed_tickets(&signed.actor, request.target, request.group.as_ref(), request.from, request.to)
            .await?;
        let staff = Staff::load(&state).await?;
        more_misses = found.len().saturating_sub(MISSES_SHOWN);
        misses = found
            .into_iter()
            .take(MISSES_SHOWN)
            .map(|m| MissView {
                subject: m.subject,
                href: format!("/tickets/{}", m.event.ticket_id),
                target: m.event.target.label(),
                due: format::datetime(m.event.due_at),
                due_iso: format::iso(m.event.due_at),
                late_by: super::tickets::span(m.event.at - m.event.due_at),
                assignee: staff.name(m.event.assignee_id),
                priority: m.event.priority.label(),
            })
            .collect();
    }
    let (from, to) = days(&request);
    let view = ReportPage {
        chrome: signed.chrome("tickets", "SLA report"),
        groupings: SlaGrouping::ALL.iter().map(|g| Choice::new(g.as_str(), g.label())).collect(),
        grouping: request.grouping.as_str(),
        from,
        to,
        targets: SlaTarget::ALL.iter().map(|t| t.label()).collect(),
        missed_title: asked.then(|| missed_title(&request, &rows, &labels)),
        rows,
        misses,
        more_misses,
    };
    signed.page(&view)
}
