//! Support tickets: the queues, the ticket page with its conversation
//! (email senders, attachments, formatted mail, and how each reply's email
//! fared), SLA clocks and reply box, the create and edit forms, and
//! attachment downloads.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::custom_fields::{CustomFieldDefinition, EntityType};
use rapport_domain::mail::{
    AttachmentInfo, AttachmentInput, Delivery, MAX_ATTACHMENT_BYTES, MAX_MESSAGE_ATTACHMENT_BYTES,
    MAX_MESSAGE_ATTACHMENTS, OCTET_STREAM, OutboxStatus,
};
use rapport_domain::sla::SlaPolicy;
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::tickets::{
    MessageInput, MessageKind, Ticket, TicketChannel, TicketInput, TicketMessage, TicketPriority, TicketStatus,
};
use rapport_domain::views::ListKind;
use rapport_domain::{Actor, AttachmentId, FieldErrors, MessageId, PersonId, TeamId, TicketId, UserId};
use rapport_storage::{ListQuery, PurchaseFilter, StorageError, TicketFilter, TicketQueue};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::custom::{self, CustomInput, CustomShown};
use super::form::{Conflict, Fields, FormData, FormView};
use super::insights::ValuePanel;
use super::lists::{Choice, ListRequest, ViewLink};
use super::lookup::{person_by_label, person_label};
use super::purchases::PurchaseLine;
use super::staff::Staff;
use super::{Chrome, Signed, WebError, format, is_htmx, redirect_with_flash, with_toast};
use rapport_api::{AppState, BODY_LIMIT};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets", get(list).post(create))
        .route("/tickets/new", get(new_form))
        .route("/tickets/{id}", get(page).post(update))
        .route("/tickets/{id}/edit", get(edit_form))
        .route("/tickets/{id}/messages", post(add_message).layer(DefaultBodyLimit::max(MAX_REPLY_FORM)))
        .route("/tickets/{id}/delete", post(delete))
        .route("/tickets/attachments/{id}", get(attachment))
}

/// A target counts as "due soon" (shown in amber) this long before its due time.
const SOON: Duration = Duration::hours(1);

fn ticket_id(raw: &str) -> Result<TicketId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("ticket"))
}

/// "35 min", "2 h 10 min", "3 d 4 h": a stretch of time, to the minute (at least one).
pub fn span(duration: Duration) -> String {
    let minutes = (duration.whole_seconds().unsigned_abs() / 60).max(1);
    match (minutes / 1440, minutes % 1440 / 60, minutes % 60) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A due time as read now: "in 2 h 10 min" (amber within the hour) or "late by 35 min" (red).
pub fn countdown(due: OffsetDateTime, now: OffsetDateTime) -> (String, &'static str) {
    if due <= now {
        (format!("late by {}", span(now - due)), "late")
    } else if due - now <= SOON {
        (format!("in {}", span(due - now)), "soon")
    } else {
        (format!("in {}", span(due - now)), "")
    }
}

pub fn status_class(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::New => "warn",
        TicketStatus::Open => "accent",
        TicketStatus::Pending => "",
        TicketStatus::Solved => "ok",
        TicketStatus::Closed => "",
    }
}

pub fn priority_class(priority: TicketPriority) -> &'static str {
    match priority {
        TicketPriority::Low | TicketPriority::Normal => "",
        TicketPriority::High => "warn",
        TicketPriority::Urgent => "danger",
    }
}

/// The nearest due time of an active ticket's targets still running.
pub fn nearest_due(ticket: &Ticket) -> Option<OffsetDateTime> {
    if !ticket.fields.status.is_active() {
        return None;
    }
    let c = &ticket.clocks;
    let first = c.first_response_due.filter(|_| c.first_responded_at.is_none());
    [first, c.next_response_due, c.resolution_due].into_iter().flatten().min()
}

/// A ticket as the person page and the ticket page's side panel list it.
pub struct TicketLine {
    pub subject: String,
    pub href: String,
    pub status: &'static str,
    pub status_class: &'static str,
    /// "3 days ago".
    pub updated: String,
}

impl TicketLine {
    fn new(ticket: &Ticket, now: OffsetDateTime) -> Self {
        let f = &ticket.fields;
        TicketLine {
            subject: f.subject.to_string(),
            href: format!("/tickets/{}", ticket.id),
            status: f.status.label(),
            status_class: status_class(f.status),
            updated: format::relative(ticket.meta.updated_at, now),
        }
    }
}

/// A person's tickets for their page: the active ones first, then the most recently changed.
pub async fn person_tickets(state: &AppState, actor: &Actor, person: PersonId) -> Result<Vec<TicketLine>, WebError> {
    let query = ListQuery { limit: Some(50), ..Default::default() };
    let filter = TicketFilter { requester_id: Some(person), ..Default::default() };
    let mut tickets = state.store.list_tickets(actor, &query, &filter).await?.items;
    tickets.sort_by_key(|t| !t.fields.status.is_active());
    let now = rapport_domain::records::now();
    Ok(tickets.iter().map(|t| TicketLine::new(t, now)).collect())
}

// The queues.

/// One tab of the queue bar.
pub struct QueueTab {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct TicketRow {
    pub id: TicketId,
    /// Ticked in the bulk form (kept when a bulk change was refused).
    pub ticked: bool,
    /// The ticket a bulk change was refused for.
    pub refused: bool,
    pub subject: String,
    pub href: String,
    pub requester: Option<(String, String)>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub priority: &'static str,
    pub priority_class: &'static str,
    pub assignee: String,
    /// Time left on the nearest target, and its class ("late", "soon" or "").
    pub due: Option<(String, &'static str)>,
    pub updated_iso: String,
    pub updated_text: String,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    chrome: Chrome,
    tabs: Vec<QueueTab>,
    queue: String,
    statuses: Vec<Choice>,
    status: String,
    priorities: Vec<Choice>,
    priority: String,
    rows: Vec<TicketRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    /// Why the queue shows nothing, when that is not the tickets' doing.
    note: Option<String>,
    filtered: bool,
    /// The bulk form: assignee choices ("" keeps, `UNASSIGN` empties), what was chosen, and why nothing changed.
    assignees: Vec<Choice>,
    bulk: BulkForm,
    problem: Option<String>,
    /// The queue's query string, without the cursor: what "Save view" saves.
    query: String,
    /// The query string with the cursor: where a bulk change comes back to.
    back: String,
    views: Vec<ViewLink>,
}

const QUEUES: &[(&str, &str)] = &[
    ("mine", "Mine"),
    ("team", "My team"),
    ("unassigned", "Unassigned"),
    ("due_soon", "Due soon"),
    ("breached", "Breached"),
    ("", "All"),
];

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        serializer.append_pair(key, value);
    }
    let query = serializer.finish();
    if query.is_empty() { "/tickets".to_owned() } else { format!("/tickets?{query}") }
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    queue_page(&state, &signed, raw.as_deref(), BulkForm::default()).await
}

/// The queue page for the query string `raw`, with the bulk form as `bulk` left it.
pub async fn queue_page(
    state: &AppState,
    signed: &Signed,
    raw: Option<&str>,
    bulk: BulkForm,
) -> Result<Response, WebError> {
    let request = ListRequest::<TicketFilter>::parse(raw)?;
    let (queue, status, priority, cursor) =
        (request.get("queue"), request.get("status"), request.get("priority"), request.get("cursor"));
    let in_no_team = request.params.filter.queue == Some(TicketQueue::Team) && signed.actor.team_id.is_none();
    let page = if in_no_team {
        rapport_storage::Page { items: Vec::new(), next_cursor: None }
    } else {
        state.store.list_tickets(&signed.actor, &request.params.query, &request.params.filter).await?
    };
    let staff = Staff::load(state).await?;
    let requesters: Vec<PersonId> = page.items.iter().map(|t| t.fields.requester_id).collect();
    let names = state.store.person_names(&requesters).await?;
    let now = rapport_domain::records::now();
    let rows = page
        .items
        .iter()
        .map(|ticket| {
            let f = &ticket.fields;
            TicketRow {
                id: ticket.id,
                ticked: bulk.ticked.iter().any(|id| *id == ticket.id.to_string()),
                refused: bulk.refused.as_ref().is_some_and(|(id, _)| *id == ticket.id),
                subject: f.subject.to_string(),
                href: format!("/tickets/{}", ticket.id),
                requester: names.get(&f.requester_id).map(|name| (name.clone(), format!("/people/{}", f.requester_id))),
                status: f.status.label(),
                status_class: status_class(f.status),
                priority: f.priority.label(),
                priority_class: priority_class(f.priority),
                assignee: staff.name(f.assignee_id),
                due: nearest_due(ticket).map(|due| countdown(due, now)),
                updated_iso: format::iso(ticket.meta.updated_at),
                updated_text: format::relative(ticket.meta.updated_at, now),
            }
        })
        .collect::<Vec<TicketRow>>();
    let problem = match &bulk.refused {
        Some((id, reason)) => {
            let subject = rows.iter().find(|row| row.id == *id).map(|row| format!("“{}”", row.subject));
            let which = subject.unwrap_or_else(|| format!("ticket {id}"));
            Some(format!("Nothing was changed: {which} was refused ({reason})."))
        }
        None => bulk.problem.clone(),
    };
    let tabs = QUEUES
        .iter()
        .filter(|(key, _)| *key != "team" || signed.actor.team_id.is_some() || queue == "team")
        .map(|&(key, label)| QueueTab {
            label,
            href: query_string(&[("queue", key), ("status", status), ("priority", priority)]),
            current: key == queue,
        })
        .collect();
    let base = [("queue", queue), ("status", status), ("priority", priority)];
    let next_href = page.next_cursor.as_deref().map(|next| {
        let mut pairs = base.to_vec();
        pairs.push(("cursor", next));
        query_string(&pairs)
    });
    let first_href = (!cursor.is_empty()).then(|| query_string(&base));
    let bare = |url: String| url.trim_start_matches("/tickets").trim_start_matches('?').to_owned();
    let query = bare(query_string(&base));
    let back = bare(query_string(&[("queue", queue), ("status", status), ("priority", priority), ("cursor", cursor)]));
    let views = state
        .store
        .list_views(&signed.actor, Some(ListKind::Tickets))
        .await?
        .into_iter()
        .map(|view| ViewLink {
            id: view.id,
            current: view.fields.query.as_str() == query,
            href: format!("/tickets?{}", view.fields.query.as_str()),
            name: view.fields.name.to_string(),
        })
        .collect();
    let mut assignees = vec![Choice::new("", "Keep assignee"), Choice::new(UNASSIGN, "Unassigned")];
    assignees.extend(staff.choices());
    let view = TicketsPage {
        chrome: signed.chrome("tickets", "Tickets"),
        tabs,
        queue: queue.to_owned(),
        statuses: TicketStatus::ALL.iter().map(|s| Choice::new(s.as_str(), s.label())).collect(),
        status: status.to_owned(),
        priorities: TicketPriority::ALL.iter().map(|p| Choice::new(p.as_str(), p.label())).collect(),
        priority: priority.to_owned(),
        rows,
        next_href,
        first_href,
        note: in_no_team
            .then(|| "You are in no team, so “My team” holds nothing: ask an admin to add you to one.".into()),
        filtered: !status.is_empty() || !priority.is_empty(),
        assignees,
        bulk,
        problem,
        query,
        back,
        views,
    };
    signed.page(&view)
}

// The ticket page.

/// One SLA target as the ticket page shows it.
pub struct ClockView {
    pub label: &'static str,
    /// The due time, when there is one.
    pub due: Option<(String, String)>,
    /// "in 2 h 10 min", "late by 35 min", "met", "breached by 5 min", "paused while pending"…
    pub state: String,
    /// "late", "soon", "met", "breached" or "" (muted).
    pub class: &'static str,
}

fn stamp(at: OffsetDateTime) -> (String, String) {
    (format::iso(at), format::datetime(at))
}

/// Met or breached, once the target's moment came.
fn judged(at: OffsetDateTime, due: Option<OffsetDateTime>) -> (String, &'static str) {
    match due {
        Some(due) if at > due => (format!("breached by {}", span(at - due)), "breached"),
        _ => ("met".to_owned(), "met"),
    }
}

fn clocks(ticket: &Ticket, policy: &SlaPolicy, now: OffsetDateTime) -> Vec<ClockView> {
    let c = &ticket.clocks;
    let targets = &policy.fields.targets;
    let status = ticket.fields.status;
    let mut views = Vec::new();
    if targets.first_response_minutes.is_some() {
        let (state, class) = match (c.first_responded_at, c.first_response_due) {
            (Some(at), due) => judged(at, due),
            (None, _) if !status.is_active() => ("no reply was sent".to_owned(), ""),
            (None, Some(due)) => countdown(due, now),
            (None, None) => ("no due time".to_owned(), ""),
        };
        views.push(ClockView { label: "First response", due: c.first_response_due.map(stamp), state, class });
    }
    if targets.next_response_minutes.is_some() {
        let (state, class) = match c.next_response_due {
            Some(due) if status.is_active() => countdown(due, now),
            _ if c.first_responded_at.is_none() => ("starts after the first response".to_owned(), ""),
            _ => ("nobody is waiting for a reply".to_owned(), ""),
        };
        let due = c.next_response_due.filter(|_| status.is_active()).map(stamp);
        views.push(ClockView { label: "Next response", due, state, class });
    }
    if targets.resolution_minutes.is_some() {
        let (state, class) = match (c.solved_at, c.resolution_due) {
            (Some(at), due) => judged(at, due),
            (None, _) if status == TicketStatus::Pending => ("paused while pending".to_owned(), ""),
            (None, Some(due)) => countdown(due, now),
            (None, None) => ("no due time".to_owned(), ""),
        };
        let due = c.resolution_due.filter(|_| status != TicketStatus::Pending).map(stamp);
        views.push(ClockView { label: "Resolution", due, state, class });
    }
    views
}

pub struct MessageView {
    pub id: MessageId,
    /// customer, reply or note: styles the message.
    pub kind: &'static str,
    pub label: &'static str,
    pub who: String,
    /// The sender's address, for a message that came by email.
    pub from_address: Option<String>,
    pub body: String,
    /// The email's HTML, sanitised (ammonia) when it arrived, so shown as HTML.
    pub html: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub delivery: Option<DeliveryView>,
    /// A reply that was never queued for email.
    pub not_emailed: bool,
    pub at_iso: String,
    pub at_text: String,
}

pub struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub size: String,
}

impl AttachmentView {
    fn new(info: &AttachmentInfo) -> Self {
        AttachmentView {
            href: format!("/tickets/attachments/{}", info.id),
            filename: info.filename.clone(),
            size: file_size(info.size),
        }
    }
}

/// "512 bytes", "14 KB", "2.5 MB".
fn file_size(bytes: i64) -> String {
    match bytes {
        ..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{} KB", (bytes + 512) / 1024),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// How a reply's email fared.
pub struct DeliveryView {
    pub to: String,
    /// sent, queued or failed.
    pub status: &'static str,
    pub label: &'static str,
    /// Tries made so far.
    pub attempts: i32,
    /// The server's last answer: its acceptance, or why it refused.
    pub answer: String,
    pub sent_at: Option<(String, String)>,
}

impl DeliveryView {
    fn new(delivery: &Delivery) -> Self {
        DeliveryView {
            to: delivery.to.to_string(),
            status: delivery.status.as_str(),
            label: delivery.status.label(),
            attempts: delivery.attempts,
            answer: delivery.server_reply.clone().unwrap_or_default(),
            sent_at: delivery.sent_at.map(stamp),
        }
    }

    /// Still to be sent: the page looks again until it is settled.
    pub fn queued(&self) -> bool {
        self.status == OutboxStatus::Queued.as_str()
    }
}

fn message_view(message: &TicketMessage, requester: &str, staff: &Staff) -> MessageView {
    let who = match message.kind {
        MessageKind::Customer => {
            let noted = staff.name(message.author_id);
            if noted.is_empty() { requester.to_owned() } else { format!("{requester} (noted by {noted})") }
        }
        _ => staff.name(message.author_id),
    };
    MessageView {
        id: message.id,
        kind: message.kind.as_str(),
        label: message.kind.label(),
        who,
        from_address: message.from_address.clone(),
        body: message.body.clone(),
        html: message.html.clone(),
        attachments: message.attachments.iter().map(AttachmentView::new).collect(),
        delivery: message.delivery.as_ref().map(DeliveryView::new),
        not_emailed: message.kind == MessageKind::Reply && message.delivery.is_none(),
        at_iso: format::iso(message.created_at),
        at_text: format::datetime(message.created_at),
    }
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    chrome: Chrome,
    id: TicketId,
    subject: String,
    status: &'static str,
    status_class: &'static str,
    priority: &'static str,
    priority_class: &'static str,
    channel: &'static str,
    tags: Vec<String>,
    requester: Option<(String, String)>,
    requester_email: String,
    company: Option<(String, String)>,
    assignee: String,
    team: String,
    created: (String, String),
    /// The ticket's custom values, shown with its details.
    custom: Vec<CustomShown>,
    policy: Option<String>,
    clocks: Vec<ClockView>,
    messages: Vec<MessageView>,
    /// Whether replies go out by email now (outgoing mail set up).
    mail_out: bool,
    others: Vec<TicketLine>,
    /// What the requester is worth and bought lately, beside the conversation.
    customer: Option<CustomerPanel>,
    closed: bool,
    can_write: bool,
    /// Whether this user may move the ticket to the trash (the rule storage enforces).
    can_delete: bool,
    history: super::history::HistoryPanel,
    /// The reply box: what was typed when a message was refused.
    form: FormView,
    reply_statuses: Vec<Choice>,
    /// What the reply box's files may be.
    files_hint: String,
}

/// The assignee choice that empties the assignee ("" keeps each one's).
pub const UNASSIGN: &str = "none";

/// What the bulk form sent, to show it again when nothing changed.
#[derive(Default)]
pub struct BulkForm {
    pub ticked: Vec<String>,
    pub assignee: String,
    pub status: String,
    /// Why the form could not be applied.
    pub problem: Option<String>,
    /// The ticket that was refused, and why: nothing changed.
    pub refused: Option<(TicketId, String)>,
}

/// The requester's value and latest purchases, as the ticket page shows them.
struct CustomerPanel {
    value: ValuePanel,
    purchase_count: i64,
    purchase_totals: Vec<String>,
    purchases: Vec<PurchaseLine>,
}

/// How many of the requester's purchases the ticket page lists.
const RECENT_PURCHASES: u64 = 5;

impl CustomerPanel {
    async fn load(state: &AppState, person: PersonId) -> Result<CustomerPanel, WebError> {
        let totals = state.store.purchase_totals(Some(person), None).await?;
        let purchase_count: i64 = totals.iter().map(|t| t.count).sum();
        let latest =
            ListQuery { limit: Some(RECENT_PURCHASES), sort: Some("-occurred_at".into()), ..Default::default() };
        let filter = PurchaseFilter { person_id: Some(person), ..Default::default() };
        let purchases = state.store.list_purchases(&latest, &filter).await?.items;
        Ok(CustomerPanel {
            value: ValuePanel::load(state, person, purchase_count).await?,
            purchase_count,
            purchase_totals: totals.iter().map(|t| super::numbers::sum(&t.amount)).collect(),
            purchases: purchases.iter().map(PurchaseLine::from).collect(),
        })
    }
}

async fn ticket_page(state: &AppState, signed: &Signed, id: TicketId, form: FormView) -> Result<TicketPage, WebError> {
    let ticket = state.store.get_ticket(&signed.actor, id).await?;
    let messages = state.store.ticket_messages(&signed.actor, id).await?;
    let staff = Staff::load(state).await?;
    let mail_out = state.store.smtp_settings().await?.is_some();
    let definitions = custom::definitions(state, EntityType::Ticket).await?;
    let f = &ticket.fields;
    let now = rapport_domain::records::now();
    let person = match state.store.get_person(f.requester_id).await {
        Ok(person) => Some(person),
        Err(StorageError::NotFound(_)) => None,
        Err(err) => return Err(err.into()),
    };
    let requester_name = person.as_ref().map(|p| p.fields.full_name()).unwrap_or_default();
    let company = match ticket.company_id {
        Some(company) => state
            .store
            .company_names(&[company])
            .await?
            .remove(&company)
            .map(|name| (name, format!("/companies/{company}"))),
        None => None,
    };
    let team = match f.team_id {
        Some(team) => match state.store.get_team(team).await {
            Ok(team) => team.fields.name.to_string(),
            Err(StorageError::NotFound(_)) => String::new(),
            Err(err) => return Err(err.into()),
        },
        None => String::new(),
    };
    let policy = match ticket.clocks.sla_policy_id {
        Some(policy) => match state.store.get_sla_policy(policy).await {
            Ok(policy) => Some(policy),
            Err(StorageError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    let others = state
        .store
        .list_tickets(
            &signed.actor,
            &ListQuery { limit: Some(11), ..Default::default() },
            &TicketFilter { requester_id: Some(f.requester_id), ..Default::default() },
        )
        .await?
        .items
        .iter()
        .filter(|t| t.id != id)
        .take(10)
        .map(|t| TicketLine::new(t, now))
        .collect();
    let mut reply_statuses = vec![Choice::new("", "Keep (or as the message implies)")];
    reply_statuses.extend(
        TicketStatus::ALL.iter().filter(|s| **s != TicketStatus::New).map(|s| Choice::new(s.as_str(), s.label())),
    );
    Ok(TicketPage {
        chrome: signed.chrome("tickets", f.subject.to_string()),
        id,
        subject: f.subject.to_string(),
        status: f.status.label(),
        status_class: status_class(f.status),
        priority: f.priority.label(),
        priority_class: priority_class(f.priority),
        channel: f.channel.label(),
        tags: f.tags.iter().map(|t| t.as_str().to_owned()).collect(),
        requester: person.as_ref().map(|p| (p.fields.full_name(), format!("/people/{}", p.id))),
        requester_email: person
            .as_ref()
            .and_then(|p| p.fields.primary_email().map(|e| e.to_string()))
            .unwrap_or_default(),
        company,
        assignee: staff.name(f.assignee_id),
        team,
        created: stamp(ticket.meta.created_at),
        custom: custom::shown(&definitions, &f.custom_fields),
        policy: policy.as_ref().map(|p| p.fields.name.to_string()),
        clocks: policy.as_ref().map(|p| clocks(&ticket, p, now)).unwrap_or_default(),
        messages: messages.iter().map(|m| message_view(m, &requester_name, &staff)).collect(),
        mail_out,
        others,
        customer: match &person {
            Some(person) => Some(CustomerPanel::load(state, person.id).await?),
            None => None,
        },
        closed: f.status == TicketStatus::Closed,
        can_write: signed.actor.ensure_can_create().is_ok(),
        can_delete: signed.actor.ensure_can(rapport_domain::access::Action::Delete, &ticket.ownership()).is_ok(),
        history: super::history::HistoryPanel::latest(
            state,
            rapport_domain::history::RecordKind::Tickets,
            id.0,
            &staff,
        )
        .await?,
        form,
        reply_statuses,
        files_hint: format!(
            "Up to {MAX_MESSAGE_ATTACHMENTS} files, each at most {} MB, {} MB in all. A reply emails them to the customer; a note keeps them here.",
            MAX_ATTACHMENT_BYTES >> 20,
            MAX_MESSAGE_ATTACHMENT_BYTES >> 20
        ),
    })
}

pub async fn page(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = ticket_id(&id)?;
    let view = ticket_page(&state, &signed, id, FormView::default()).await?;
    signed.page(&view)
}

/// Moves the ticket to the trash, then shows the queues with an Undo.
pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = ticket_id(&id)?;
    let ticket = state.store.get_ticket(&signed.actor, id).await?;
    let entry = state.store.delete_ticket(&signed.actor, id).await?;
    Ok(super::trash::deleted(entry, "/tickets", ticket.fields.subject.as_str()))
}

/// The reply box's file field.
const FILES: &str = "attachments";
/// The largest reply form: its files, with room for the text.
const MAX_REPLY_FORM: usize = MAX_MESSAGE_ATTACHMENT_BYTES + BODY_LIMIT;

/// The reply box as sent: urlencoded, or multipart with files (`_csrf`
/// first, which the CSRF check reads). Files over the limits are read
/// through and dropped, each named in `errors` under `attachments`, so the
/// form comes back with the reason rather than a broken connection.
pub struct ReplyForm {
    form: FormData,
    files: Vec<AttachmentInput>,
    errors: FieldErrors,
}

impl<S: Send + Sync> FromRequest<S> for ReplyForm {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
            let form = FormData::from_request(req, state).await?;
            return Ok(ReplyForm { form, files: Vec::new(), errors: FieldErrors::new() });
        }
        let multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| WebError::BadRequest("Send the message through the reply form.".into()))?;
        read_reply_form(multipart).await
    }
}

/// The name a browser sent for a file, without any folder an old browser put before it.
fn base_name(sent: &str) -> String {
    sent.rsplit(['/', '\\']).next().unwrap_or_default().trim().to_owned()
}

async fn read_reply_form(mut multipart: Multipart) -> Result<ReplyForm, WebError> {
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    let mut errors = FieldErrors::new();
    let (mut text, mut total) = (0usize, 0usize);
    let too_much = |errors: &mut FieldErrors| {
        errors.add(
            FILES,
            format!(
                "The files come to more than {} MB together, the limit for one message.",
                MAX_MESSAGE_ATTACHMENT_BYTES >> 20
            ),
        )
    };
    let unreadable =
        |err: MultipartError| WebError::BadRequest(format!("The form could not be read: {}", err.body_text()));
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                too_much(&mut errors);
                break;
            }
            Err(err) => return Err(unreadable(err)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Some(sent_name) = field.file_name().map(base_name) else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                text += chunk.len();
                if text > BODY_LIMIT {
                    return Err(WebError::BadRequest(format!("the form's text is larger than {BODY_LIMIT} bytes")));
                }
                value.extend_from_slice(&chunk);
            }
            pairs.push((name, String::from_utf8_lossy(&value).into_owned()));
            continue;
        };
        let content_type = field.content_type().map(str::trim).filter(|t| !t.is_empty()).unwrap_or(OCTET_STREAM);
        let content_type = content_type.to_owned();
        let mut data = Vec::new();
        let mut over = false;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    too_much(&mut errors);
                    return Ok(ReplyForm { form: FormData::from_pairs(pairs), files, errors });
                }
                Err(err) => return Err(unreadable(err)),
            };
            total += chunk.len();
            if over || name != FILES {
                continue;
            }
            if data.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
                // Read on (and drop) to the end, so the form can answer.
                over = true;
                data = Vec::new();
                let limit = MAX_ATTACHMENT_BYTES >> 20;
                errors.add(FILES, format!("{sent_name} is larger than {limit} MB, the limit for one file."));
                continue;
            }
            data.extend_from_slice(&chunk);
        }
        // A file input left empty still sends a part, without a name or bytes.
        if over || name != FILES || (sent_name.is_empty() && data.is_empty()) {
            continue;
        }
        let file = AttachmentInput { filename: sent_name, content_type, data };
        if let Some((_, problem)) = file.problems().into_iter().next() {
            let shown = if file.filename.is_empty() { "A file" } else { file.filename.as_str() };
            errors.add(FILES, format!("{shown}: {problem}."));
            continue;
        }
        files.push(file);
    }
    if files.len() > MAX_MESSAGE_ATTACHMENTS {
        errors.add(FILES, format!("Choose at most {MAX_MESSAGE_ATTACHMENTS} files for one message."));
    } else if total > MAX_MESSAGE_ATTACHMENT_BYTES {
        too_much(&mut errors);
    }
    Ok(ReplyForm { form: FormData::from_pairs(pairs), files, errors })
}

/// Adds a reply, a note or a customer's message, with any files chosen.
/// Without JavaScript the browser is sent back to the ticket; htmx gets the
/// page again (it swaps in the ticket) with a toast. A refused message (a
/// file too large among the reasons) shows the page again with what was
/// typed and why (422), and nothing is written.
pub async fn add_message(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    reply: ReplyForm,
) -> Result<Response, WebError> {
    let id = ticket_id(&id)?;
    // A ticket this user may not see is not found, whatever the form says.
    state.store.get_ticket(&signed.actor, id).await?;
    let ReplyForm { form, files: attachments, errors } = reply;
    let mut f = Fields::new(&form);
    for (field, message) in errors.iter() {
        f.fail(field, message.clone());
    }
    let kind =
        f.parse_with("kind", |raw| if raw.is_empty() { Ok(MessageKind::Reply) } else { MessageKind::parse(raw) });
    let body = f.required::<LongText>("body");
    let status = f.optional_with("status", TicketStatus::parse);
    let outcome = match (kind, body, f.finish()) {
        (Some(kind), Some(body), Ok(())) => {
            let input = MessageInput { kind, body, status, attachments };
            match state.store.add_ticket_message(&signed.actor, id, input).await {
                Ok((ticket, _)) => {
                    let what = match kind {
                        MessageKind::Reply => "Reply added",
                        MessageKind::Note => "Internal note added",
                        MessageKind::Customer => "Customer's message added",
                    };
                    Ok(format!("{what}; the ticket is {}.", ticket.fields.status.label().to_lowercase()))
                }
                Err(err) => Err(FormView::refused(&form, err)?),
            }
        }
        (_, _, Err(errors)) => Err(FormView::rejected(&form, errors)),
        _ => Err(FormView::rejected(&form, FieldErrors::single("body", "is required"))),
    };
    match outcome {
        Ok(message) if is_htmx(&headers) => {
            let view = ticket_page(&state, &signed, id, FormView::default()).await?;
            Ok(with_toast(signed.page(&view)?, &message))
        }
        Ok(message) => Ok(redirect_with_flash(&format!("/tickets/{id}#conversation"), &message)),
        Err(form) => {
            let view = ticket_page(&state, &signed, id, form).await?;
            let mut response = signed.page(&view)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

/// An attachment's bytes, as a download only: never shown in the page's
/// origin, where a customer's HTML or SVG could run as Rapport. Someone who
/// may not see its ticket gets "not found".
pub async fn attachment(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: AttachmentId = id.parse().map_err(|_| WebError::NotFound("attachment"))?;
    let (info, bytes) = state.store.attachment(&signed.actor, id).await?;
    Ok(rapport_api::download::attachment(&info.filename, bytes))
}

// The form.

#[derive(Template)]
#[template(path = "ticket_form.html")]
struct TicketForm {
    chrome: Chrome,
    /// `None` for a new ticket.
    id: Option<TicketId>,
    version: i64,
    form: FormView,
    channels: Vec<Choice>,
    priorities: Vec<Choice>,
    statuses: Vec<Choice>,
    assignees: Vec<Choice>,
    teams: Vec<Choice>,
    custom: Vec<CustomInput>,
}

impl TicketForm {
    async fn new(
        state: &AppState,
        signed: &Signed,
        id: Option<TicketId>,
        version: i64,
        form: FormView,
    ) -> Result<Self, WebError> {
        let staff = Staff::load(state).await?;
        let mut assignees = vec![Choice::new("", "Nobody (the unassigned queue)")];
        assignees.extend(staff.choices());
        let mut teams = vec![Choice::new("", "No team (the assignee's, if any)")];
        teams.extend(
            state
                .store
                .list_teams()
                .await?
                .into_iter()
                .map(|t| Choice::new(t.id.to_string(), t.fields.name.to_string())),
        );
        let statuses = TicketStatus::ALL
            .iter()
            .filter(|s| id.is_some() || **s != TicketStatus::Closed)
            .map(|s| Choice::new(s.as_str(), s.label()))
            .collect();
        Ok(TicketForm {
            chrome: signed.chrome("tickets", if id.is_some() { "Edit ticket" } else { "New ticket" }),
            id,
            version,
            form,
            channels: TicketChannel::ALL.iter().map(|c| Choice::new(c.as_str(), c.label())).collect(),
            priorities: TicketPriority::ALL.iter().map(|p| Choice::new(p.as_str(), p.label())).collect(),
            statuses,
            assignees,
            teams,
            custom: custom::inputs(&custom::definitions(state, EntityType::Ticket).await?),
        })
    }

    fn respond(&self, signed: &Signed) -> Result<Response, WebError> {
        signed.form_page(self, &self.form)
    }
}

#[derive(Deserialize)]
pub struct NewTicketParams {
    person_id: Option<PersonId>,
}

pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<NewTicketParams>,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let mut pairs = vec![
        ("channel", TicketChannel::Web.as_str().to_owned()),
        ("priority", TicketPriority::Normal.as_str().to_owned()),
        ("status", TicketStatus::New.as_str().to_owned()),
        ("team_id", signed.actor.team_id.map(|t| t.to_string()).unwrap_or_default()),
    ];
    if let Some(person) = params.person_id {
        pairs.push(("requester", person_label(&state.store.get_person(person).await?)));
    }
    TicketForm::new(&state, &signed, None, 0, FormView::from_pairs(pairs)).await?.respond(&signed)
}

/// A stored ticket as the edit form's values.
async fn form_values(state: &AppState, ticket: &Ticket) -> Result<Vec<(String, String)>, WebError> {
    let f = &ticket.fields;
    let requester = match state.store.get_person(f.requester_id).await {
        Ok(person) => person_label(&person),
        Err(StorageError::NotFound(_)) => String::new(),
        Err(err) => return Err(err.into()),
    };
    let mut pairs = vec![
        ("requester".to_owned(), requester),
        ("subject".to_owned(), f.subject.to_string()),
        ("channel".to_owned(), f.channel.as_str().to_owned()),
        ("priority".to_owned(), f.priority.as_str().to_owned()),
        ("status".to_owned(), f.status.as_str().to_owned()),
        ("assignee_id".to_owned(), f.assignee_id.map(|u| u.to_string()).unwrap_or_default()),
        ("team_id".to_owned(), f.team_id.map(|t| t.to_string()).unwrap_or_default()),
        ("tags".to_owned(), f.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")),
    ];
    pairs.extend(custom::form_pairs(&f.custom_fields));
    Ok(pairs)
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = ticket_id(&id)?;
    let ticket = state.store.get_ticket(&signed.actor, id).await?;
    signed.ensure_can_create()?;
    let stored = form_values(&state, &ticket).await?;
    TicketForm::new(&state, &signed, Some(id), ticket.meta.version, FormView::editing(stored)).await?.respond(&signed)
}

/// Parses the ticket form into the same input the API takes.
async fn parse(
    state: &AppState,
    form: &FormData,
    definitions: &[CustomFieldDefinition],
    external_id: Option<Name>,
) -> Result<Result<TicketInput, FieldErrors>, WebError> {
    let mut f = Fields::new(form);
    if f.raw("requester").is_empty() {
        f.fail("requester", "is required: type the customer's email or name");
    }
    let requester = person_by_label(state, &mut f, "requester").await?;
    let subject = f.required::<Name>("subject");
    let channel = f.optional_with("channel", TicketChannel::parse).unwrap_or(TicketChannel::Web);
    let priority = f.optional_with("priority", TicketPriority::parse).unwrap_or(TicketPriority::Normal);
    let status = f.optional_with("status", TicketStatus::parse).unwrap_or(TicketStatus::New);
    let assignee_id =
        f.optional_with("assignee_id", |raw| raw.parse::<UserId>().map_err(|_| "is not a staff member".into()));
    let team_id = f.optional_with("team_id", |raw| raw.parse::<TeamId>().map_err(|_| "is not a team".into()));
    let tags = f.list::<Tag>("tags");
    let custom_fields = custom::from_form(definitions, form);
    Ok(match (requester, subject, f.finish()) {
        (Some(requester_id), Some(subject), Ok(())) => Ok(TicketInput {
            requester_id,
            subject,
            channel,
            status,
            priority,
            assignee_id,
            team_id,
            tags,
            external_id,
            custom_fields,
        }),
        (_, _, Err(errors)) => Err(errors),
        _ => Err(FieldErrors::single("subject", "is required")),
    })
}

/// A storage refusal on the form, with the API's field names turned into the form's.
fn refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    match err {
        StorageError::Invalid(errors) => {
            let mut renamed = FieldErrors::new();
            for (field, message) in errors.iter() {
                let field = if field == "requester_id" { "requester" } else { field.as_str() };
                renamed.add(field, message.clone());
            }
            Ok(FormView::rejected(form, renamed))
        }
        other => FormView::refused(form, other),
    }
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let definitions = custom::definitions(&state, EntityType::Ticket).await?;
    let input = match parse(&state, &form, &definitions, None).await? {
        Ok(input) => input,
        Err(errors) => {
            return TicketForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.create_ticket(&signed.actor, input).await {
        Ok(ticket) => Ok(redirect_with_flash(
            &format!("/tickets/{}", ticket.id),
            &format!("Ticket “{}” was opened.", ticket.fields.subject),
        )),
        Err(err) => TicketForm::new(&state, &signed, None, 0, refused(&form, err)?).await?.respond(&signed),
    }
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id = ticket_id(&id)?;
    let before = state.store.get_ticket(&signed.actor, id).await?;
    signed.ensure_can_create()?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let definitions = custom::definitions(&state, EntityType::Ticket).await?;
    let input = match parse(&state, &form, &definitions, before.fields.external_id.clone()).await? {
        Ok(input) => input,
        Err(errors) => {
            return TicketForm::new(&state, &signed, Some(id), version, FormView::rejected(&form, errors))
                .await?
                .respond(&signed);
        }
    };
    match state.store.update_ticket(&signed.actor, id, input, Some(version)).await {
        Ok(ticket) => Ok(redirect_with_flash(
            &format!("/tickets/{id}"),
            &format!("Ticket “{}” was saved.", ticket.fields.subject),
        )),
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_ticket(&signed.actor, id).await?;
            let stored = form_values(&state, &current).await?;
            let conflict = Conflict::new(&current.meta, None, format!("/tickets/{id}"));
            let view = FormView::conflicted(&form, stored, conflict);
            TicketForm::new(&state, &signed, Some(id), current.meta.version, view).await?.respond(&signed)
        }
        Err(err) => TicketForm::new(&state, &signed, Some(id), version, refused(&form, err)?).await?.respond(&signed),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(file_size(300), "300 bytes");
        assert_eq!(file_size(14_000), "14 KB");
        assert_eq!(file_size(2_621_440), "2.5 MB");
    }

    #[test]
    fn spans_and_countdowns_read_naturally() {
        assert_eq!(span(Duration::seconds(20)), "1 min");
        assert_eq!(span(Duration::minutes(35)), "35 min");
        assert_eq!(span(Duration::minutes(130)), "2 h 10 min");
        assert_eq!(span(Duration::hours(3)), "3 h");
        assert_eq!(span(Duration::hours(76)), "3 d 4 h");
        assert_eq!(span(Duration::days(2)), "2 d");
        let now = datetime!(2026-12-14 10:00 UTC);
        assert_eq!(countdown(datetime!(2026-12-14 12:10 UTC), now), ("in 2 h 10 min".to_owned(), ""));
        assert_eq!(countdown(datetime!(2026-12-14 10:20 UTC), now), ("in 20 min".to_owned(), "soon"));
        assert_eq!(countdown(datetime!(2026-12-14 09:25 UTC), now), ("late by 35 min".to_owned(), "late"));
    }
}
