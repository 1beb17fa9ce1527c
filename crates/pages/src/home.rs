//! The home page: what needs doing today, who has gone quiet, what the
//! pipelines hold, and what the team did lately.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use rapport_domain::records::{ActivityKind, Direction};
use rapport_storage::{ListQuery, TaskFilter, TicketFilter, TicketQueue};

use super::numbers::filters;
use super::staff::Staff;
use super::tasks::{self, ContactLine, Names, TaskRow};
use super::tickets;
use super::{Chrome, Signed, WebError, format};
use rapport_api::AppState;

/// How many due tasks the home page lists (the inbox has them all).
const TASK_LIMIT: u64 = 10;
/// How many of my tickets due soon or late the home page lists (the queues have them all).
const TICKET_LIMIT: u64 = 8;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(page))
}

/// One currency's share of a stage, as a bar against the pipeline's largest stage.
struct AmountBar {
    text: String,
    value: i64,
    max: i64,
}

struct StageView {
    name: String,
    count: i64,
    amounts: Vec<AmountBar>,
}

struct PipelineView {
    name: String,
    href: String,
    count: i64,
    stages: Vec<StageView>,
}

/// One of my tickets with a target due soon or already late.
struct DueTicket {
    href: String,
    subject: String,
    due_text: String,
    due_class: &'static str,
}

struct ActivityLine {
    who: String,
    what: &'static str,
    subject: String,
    about: Vec<(String, String)>,
    at_iso: String,
    at_text: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    tasks: Vec<TaskRow>,
    /// More tasks are due than the page lists.
    more_tasks: bool,
    contacts: Vec<ContactLine>,
    /// My active tickets past a target or within an hour of one, nearest first.
    due_tickets: Vec<DueTicket>,
    /// More of them than the page lists.
    more_tickets: bool,
    pipelines: Vec<PipelineView>,
    activities: Vec<ActivityLine>,
    /// Whether the user belongs to a team (else "recent activity" is their own).
    has_team: bool,
}

fn what(kind: ActivityKind, direction: Option<Direction>) -> &'static str {
    match (kind, direction) {
        (ActivityKind::Note, _) => "wrote a note on",
        (ActivityKind::Call, Some(Direction::Inbound)) => "took a call from",
        (ActivityKind::Call, _) => "called",
        (ActivityKind::Email, Some(Direction::Inbound)) => "got an email from",
        (ActivityKind::Email, _) => "emailed",
        (ActivityKind::Meeting, _) => "met",
        (ActivityKind::Message, Some(Direction::Inbound)) => "got a message from",
        (ActivityKind::Message, _) => "messaged",
    }
}

async fn pipelines(state: &AppState) -> Result<Vec<PipelineView>, WebError> {
    let mut views = Vec::new();
    for pipeline in state.store.list_pipelines().await? {
        let totals = state.store.open_deal_totals(pipeline.id).await?;
        let mut largest: HashMap<&str, i64> = HashMap::new();
        for total in &totals {
            let max = largest.entry(total.amount.currency.as_str()).or_insert(0);
            *max = (*max).max(total.amount.amount_minor);
        }
        let mut stages: Vec<_> = pipeline.stages.iter().collect();
        stages.sort_by_key(|s| s.position);
        let stages: Vec<StageView> = stages
            .into_iter()
            .map(|stage| {
                let here: Vec<_> = totals.iter().filter(|t| t.stage_id == stage.id).collect();
                StageView {
                    name: stage.name.to_string(),
                    count: here.iter().map(|t| t.count).sum(),
                    amounts: here
                        .iter()
                        .map(|t| AmountBar {
                            text: super::numbers::money(&t.amount),
                            value: t.amount.amount_minor.max(0),
                            max: largest.get(t.amount.currency.as_str()).copied().unwrap_or(0).max(1),
                        })
                        .collect(),
                }
            })
            .collect();
        views.push(PipelineView {
            name: pipeline.name.to_string(),
            href: format!("/pipelines/{}/board", pipeline.id),
            count: stages.iter().map(|s| s.count).sum(),
            stages,
        });
    }
    Ok(views)
}

/// My tickets whose nearest target is late or due within the hour, nearest first.
async fn due_tickets(
    state: &AppState,
    signed: &Signed,
    now: time::OffsetDateTime,
) -> Result<(Vec<DueTicket>, bool), WebError> {
    let mut found = Vec::new();
    let mut more = false;
    for queue in [TicketQueue::Breached, TicketQueue::DueSoon] {
        let filter = TicketFilter { queue: Some(queue), assignee_id: Some(signed.user.id), ..Default::default() };
        let page = state
            .store
            .list_tickets(&signed.actor, &ListQuery { limit: Some(TICKET_LIMIT), ..Default::default() }, &filter)
            .await?;
        more |= page.next_cursor.is_some();
        found.extend(page.items);
    }
    found.sort_by_key(tickets::nearest_due);
    more |= found.len() > TICKET_LIMIT as usize;
    found.truncate(TICKET_LIMIT as usize);
    let lines = found
        .iter()
        .filter_map(|t| {
            let (due_text, due_class) = tickets::countdown(tickets::nearest_due(t)?, now);
            Some(DueTicket {
                href: format!("/tickets/{}", t.id),
                subject: t.fields.subject.to_string(),
                due_text,
                due_class,
            })
        })
        .collect();
    Ok((lines, more))
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let me = signed.user.id;
    let now = rapport_domain::records::now();
    let staff = Staff::load(&state).await?;
    let due = state
        .store
        .list_tasks(
            &ListQuery { limit: Some(TASK_LIMIT), ..Default::default() },
            &TaskFilter {
                assignee_id: Some(me),
                open: Some(true),
                due_before: Some(tasks::end_of_today(now)),
                ..Default::default()
            },
        )
        .await?;
    let team = staff.team(Some(me));
    let activities = state.store.recent_activities(&staff.teammates(me, team), 12).await?;
    let names = Names::load(
        &state,
        due.items.iter().map(|t| &t.fields.links).chain(activities.iter().map(|a| &a.fields.links)),
    )
    .await?;
    let hour = now.hour();
    let part = match hour {
        0..12 => "morning",
        12..18 => "afternoon",
        _ => "evening",
    };
    let (due_tickets, more_tickets) = due_tickets(&state, &signed, now).await?;
    let first_name = signed.user.fields.name.as_str().split_whitespace().next().unwrap_or("").to_owned();
    let view = HomePage {
        chrome: signed.chrome("home", "Home"),
        greeting: format!("Good {part}, {first_name}"),
        tasks: due.items.iter().map(|t| tasks::task_row(t, &names, &staff, &signed, now)).collect(),
        more_tasks: due.next_cursor.is_some(),
        contacts: tasks::contact_lines(&state.store.contact_due(Some(me), 8).await?, now),
        due_tickets,
        more_tickets,
        pipelines: pipelines(&state).await?,
        activities: activities
            .iter()
            .map(|a| {
                let f = &a.fields;
                let at = f.occurred_at.unwrap_or(a.meta.created_at);
                ActivityLine {
                    who: if f.author_id == Some(me) { "You".into() } else { staff.name(f.author_id) },
                    what: what(f.kind, f.direction),
                    subject: f.subject.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                    about: names.about(&f.links),
                    at_iso: format::iso(at),
                    at_text: format::datetime(at),
                }
            })
            .collect(),
        has_team: team.is_some(),
    };
    signed.page(&view)
}
