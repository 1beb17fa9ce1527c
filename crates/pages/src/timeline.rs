//! The timeline on a customer page, and its composer: add a note, call,
//! email, meeting or task without leaving the page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_domain::records::{ActivityInput, ActivityKind, Deal, DealStatus, Links, TaskInput};
use rapport_domain::text::{LongText, Name};
use rapport_domain::tickets::MessageKind;
use rapport_domain::timeline::{TimelineCursor, TimelineEntry, TimelineKind};
use rapport_domain::{CompanyId, FieldErrors, PersonId};
use rapport_storage::{TimelinePage, TimelineQuery};
use time::OffsetDateTime;

use super::form::{Fields, FormData, FormView};
use super::purchases::PurchaseLine;
use super::staff::Staff;
use super::{Signed, WebError, format, is_htmx, redirect_with_flash, with_toast};
use rapport_api::AppState;

/// Whose timeline.
#[derive(Clone, Copy)]
pub enum Subject {
    Person(PersonId),
    Company(CompanyId),
}

impl Subject {
    fn path(&self) -> String {
        match self {
            Subject::Person(id) => format!("/people/{id}"),
            Subject::Company(id) => format!("/companies/{id}"),
        }
    }

    /// One page of the subject's timeline.
    pub async fn page(&self, state: &AppState, signed: &Signed, shown: &Shown) -> Result<TimelinePage, WebError> {
        let query = TimelineQuery { kind: shown.kind, before: shown.before, limit: PAGE };
        Ok(match self {
            Subject::Person(id) => state.store.person_timeline_page(&signed.actor, *id, &query).await?,
            Subject::Company(id) => state.store.company_timeline_page(&signed.actor, *id, &query).await?,
        })
    }

    /// The latest `limit` purchases on the subject's timeline.
    pub async fn latest_purchases(
        &self,
        state: &AppState,
        signed: &Signed,
        limit: u64,
    ) -> Result<Vec<TimelineEntry>, WebError> {
        let query = TimelineQuery { kind: Some(TimelineKind::Purchases), before: None, limit };
        Ok(match self {
            Subject::Person(id) => state.store.person_timeline_page(&signed.actor, *id, &query).await?,
            Subject::Company(id) => state.store.company_timeline_page(&signed.actor, *id, &query).await?,
        }
        .entries)
    }

    fn links(&self) -> Links {
        match self {
            Subject::Person(id) => Links { person_id: Some(*id), ..Default::default() },
            Subject::Company(id) => Links { company_id: Some(*id), ..Default::default() },
        }
    }
}

/// How many entries a page of the timeline shows; "Load more" adds as many again.
pub const PAGE: u64 = 25;

/// Which part of a timeline is shown: a kind (or every kind), and from where.
#[derive(Clone, Copy, Debug, Default)]
pub struct Shown {
    pub kind: Option<TimelineKind>,
    pub before: Option<TimelineCursor>,
    /// The composer's tab to open on (`compose=call` from "Log a call").
    pub compose: Option<&'static str>,
}

/// The composer's tabs, as its `kind` field names them.
const COMPOSER_KINDS: [&str; 5] = ["note", "call", "email", "meeting", "task"];

impl Shown {
    /// `kind`, `before` and `compose` from a page's query string; other
    /// parameters are the page's own. A kind or place that does not exist is refused.
    pub fn parse(raw: Option<&str>) -> Result<Self, WebError> {
        let mut shown = Shown::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "kind" => {
                    shown.kind = TimelineKind::parse(&value)
                        .map_err(|message| WebError::BadRequest(format!("The timeline filter kind {message}.")))?;
                }
                "compose" => {
                    shown.compose = Some(COMPOSER_KINDS.into_iter().find(|kind| *kind == value).ok_or_else(|| {
                        WebError::BadRequest(format!("The composer opens on one of: {}.", COMPOSER_KINDS.join(", ")))
                    })?);
                }
                "before" if !value.trim().is_empty() => {
                    shown.before = Some(TimelineCursor::parse(&value).map_err(|message| {
                        WebError::BadRequest(format!("The timeline's \u{201c}before\u{201d} {message}."))
                    })?);
                }
                _ => {}
            }
        }
        Ok(shown)
    }

    fn kind_str(&self) -> &'static str {
        self.kind.map(TimelineKind::as_str).unwrap_or("all")
    }
}

/// One of the filter links above the timeline.
pub struct KindLink {
    pub label: &'static str,
    pub href: String,
    pub fragment_href: String,
    pub current: bool,
}

pub struct EntryView {
    /// note, call, email, meeting, message, task, deal, purchase, ticket, reply: styles the dot.
    pub kind: &'static str,
    pub label: String,
    /// The letter in the entry's dot.
    pub mark: String,
    pub title: String,
    pub href: Option<String>,
    pub body: String,
    pub at_iso: String,
    pub at_text: String,
    pub who: String,
    pub status: Option<(&'static str, &'static str)>,
    /// On a company's timeline: the person the entry belongs to, and their page.
    pub person: Option<(String, String)>,
}

/// A deal as the side panels list it.
pub struct DealLine {
    pub name: String,
    pub href: String,
    pub amount: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

impl From<&Deal> for DealLine {
    fn from(deal: &Deal) -> Self {
        let (status, status_class) = deal_status(deal.fields.status);
        DealLine {
            name: deal.fields.name.to_string(),
            href: format!("/deals/{}", deal.id),
            amount: super::numbers::money(&deal.fields.amount),
            status,
            status_class,
        }
    }
}

pub fn deal_status(status: DealStatus) -> (&'static str, &'static str) {
    match status {
        DealStatus::Open => ("Open", "accent"),
        DealStatus::Won => ("Won", "ok"),
        DealStatus::Lost => ("Lost", "danger"),
    }
}

fn entry_view(entry: &TimelineEntry, staff: &Staff, now: OffsetDateTime) -> EntryView {
    let at = entry.at();
    let (kind, label, title, href, body, who, status) = match entry {
        TimelineEntry::Activity(a) => {
            let f = &a.fields;
            let kind = f.kind.as_str();
            let label = match f.kind {
                ActivityKind::Note => "Note",
                ActivityKind::Call => "Call",
                ActivityKind::Email => "Email",
                ActivityKind::Meeting => "Meeting",
                ActivityKind::Message => "Message",
            };
            let title = f.subject.as_ref().map(|s| s.to_string()).unwrap_or_default();
            let body = f.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
            (kind, label.to_owned(), title, None, body, staff.name(f.author_id), None)
        }
        TimelineEntry::Task(t) => {
            let status = if t.fields.done {
                Some(("done", "ok"))
            } else if t.fields.due_at.is_some_and(|due| due < now) {
                Some(("overdue", "danger"))
            } else {
                Some(("open", "accent"))
            };
            let body = t.fields.notes.as_ref().map(|n| n.to_string()).unwrap_or_default();
            (
                "task",
                "Task".to_owned(),
                t.fields.title.to_string(),
                Some(format!("/tasks/{}/edit", t.id)),
                body,
                staff.name(t.fields.assignee_id),
                status,
            )
        }
        TimelineEntry::Deal(d) => {
            let (text, class) = deal_status(d.fields.status);
            let title = format!("{} · {}", d.fields.name, super::numbers::money(&d.fields.amount));
            (
                "deal",
                "Deal".to_owned(),
                title,
                Some(format!("/deals/{}", d.id)),
                String::new(),
                staff.name(d.fields.owner_id),
                Some((text, class)),
            )
        }
        TimelineEntry::Purchase(p) => {
            let line = PurchaseLine::from(p);
            ("purchase", "Purchase".to_owned(), line.amount, None, line.what, String::new(), None)
        }
        TimelineEntry::Ticket(t) => {
            let f = &t.fields;
            (
                "ticket",
                "Ticket".to_owned(),
                f.subject.to_string(),
                Some(format!("/tickets/{}", t.id)),
                String::new(),
                staff.name(f.assignee_id),
                Some((f.status.label(), super::tickets::status_class(f.status))),
            )
        }
        TimelineEntry::TicketMessage(m) => {
            let message = &m.message;
            let (kind, label, who) = match message.kind {
                MessageKind::Customer => {
                    ("message", "Customer message", message.from_address.clone().unwrap_or_default())
                }
                MessageKind::Reply => ("reply", "Reply", staff.name(message.author_id)),
                MessageKind::Note => ("note", "Internal note", staff.name(message.author_id)),
            };
            (
                kind,
                label.to_owned(),
                m.ticket_subject.clone(),
                Some(format!("/tickets/{}#message-{}", message.ticket_id, message.id)),
                excerpt(&message.body),
                who,
                None,
            )
        }
        TimelineEntry::SurveyAnswer(a) => {
            let answer = &a.answer;
            let title = match (answer.score_kind, answer.score) {
                (Some(kind), Some(score)) => format!("{} · {} {score}", a.survey_name, kind.as_str().to_uppercase()),
                _ => a.survey_name.clone(),
            };
            let status = match answer.sentiment_label.as_deref() {
                Some("positive") => Some(("positive", "ok")),
                Some("negative") => Some(("negative", "danger")),
                Some(_) => Some(("neutral", "accent")),
                None => None,
            };
            let comment = answer.comment.as_deref().map(excerpt).unwrap_or_default();
            (
                "answer",
                "Survey answer".to_owned(),
                title,
                Some(format!("/surveys/{}", answer.survey_id)),
                comment,
                String::new(),
                status,
            )
        }
    };
    EntryView {
        kind,
        mark: label.chars().take(1).collect(),
        label,
        title,
        href,
        body,
        at_iso: format::iso(at),
        at_text: format::datetime(at),
        who,
        status,
        person: None,
    }
}

/// How much of a ticket message the timeline shows; the ticket has the rest.
const EXCERPT_CHARS: usize = 400;

fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", body[..cut].trim_end()),
        None => body.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelineFragment {
    action: String,
    csrf: String,
    can_write: bool,
    form: FormView,
    kinds: Vec<KindLink>,
    /// The filter's label when one kind is shown.
    kind_label: Option<&'static str>,
    /// Showing an older page (without JavaScript): the link back to the newest.
    newest_href: Option<String>,
    rows: TimelineRows,
}

/// The entries of one page and the "Load more" after them: inside the
/// timeline, or alone when htmx adds the next page.
#[derive(Template)]
#[template(path = "timeline_rows.html")]
struct TimelineRows {
    entries: Vec<EntryView>,
    /// The next page: on the customer page (without JavaScript), and the fragment htmx takes.
    more: Option<(String, String)>,
    /// An older page added by "Load more": its first entry takes the focus.
    focus_first: bool,
}

impl TimelineRows {
    async fn new(
        state: &AppState,
        subject: &Subject,
        shown: &Shown,
        page: &TimelinePage,
        staff: &Staff,
        now: OffsetDateTime,
    ) -> Result<Self, WebError> {
        let mut entries: Vec<EntryView> = page.entries.iter().map(|e| entry_view(e, staff, now)).collect();
        if let Subject::Company(_) = subject {
            // A company's timeline gathers its people's: each entry says whose it is.
            let ids: Vec<PersonId> = page.entries.iter().filter_map(TimelineEntry::person_id).collect();
            let names: HashMap<PersonId, String> = state.store.person_names(&ids).await?;
            for (view, entry) in entries.iter_mut().zip(&page.entries) {
                view.person =
                    entry.person_id().and_then(|id| names.get(&id).map(|name| (name.clone(), format!("/people/{id}"))));
            }
        }
        let more = page.next.map(|cursor| {
            let query = format!("kind={}&before={}", shown.kind_str(), cursor.encode());
            (format!("{}?{query}#timeline", subject.path()), format!("{}/timeline?{query}", subject.path()))
        });
        Ok(TimelineRows { entries, more, focus_first: shown.before.is_some() })
    }
}

fn render_template(template: &impl Template) -> Result<String, WebError> {
    template.render().map_err(|err| {
        tracing::error!(error = %err, "rendering a timeline failed");
        WebError::Internal
    })
}

/// The timeline with its filter and composer, as HTML: inside the customer
/// page, or alone for htmx.
#[allow(clippy::too_many_arguments)]
pub async fn render_fragment(
    state: &AppState,
    subject: &Subject,
    shown: &Shown,
    page: &TimelinePage,
    staff: &Staff,
    signed: &Signed,
    form: FormView,
    now: OffsetDateTime,
) -> Result<String, WebError> {
    let path = subject.path();
    let mut kinds = vec![KindLink {
        label: "All",
        href: format!("{path}#timeline"),
        fragment_href: format!("{path}/timeline?kind=all"),
        current: shown.kind.is_none(),
    }];
    kinds.extend(TimelineKind::ALL.iter().map(|kind| KindLink {
        label: kind.label(),
        href: format!("{path}?kind={}#timeline", kind.as_str()),
        fragment_href: format!("{path}/timeline?kind={}", kind.as_str()),
        current: shown.kind == Some(*kind),
    }));
    let fragment = TimelineFragment {
        action: format!("{path}/timeline"),
        csrf: signed.csrf.clone(),
        can_write: signed.actor.ensure_can_create().is_ok(),
        form,
        kinds,
        kind_label: shown.kind.map(TimelineKind::label),
        newest_href: shown.before.map(|_| match shown.kind {
            Some(kind) => format!("{path}?kind={}#timeline", kind.as_str()),
            None => format!("{path}#timeline"),
        }),
        rows: TimelineRows::new(state, subject, shown, page, staff, now).await?,
    };
    render_template(&fragment)
}

/// `GET /people/{id}/timeline?kind=…&before=…`: for htmx, the timeline
/// (a filter) or the entries of the next page ("Load more"); otherwise the
/// customer page showing the same.
async fn fragment(
    state: AppState,
    signed: Signed,
    headers: HeaderMap,
    subject: Subject,
    raw: Option<String>,
) -> Result<Response, WebError> {
    let shown = Shown::parse(raw.as_deref())?;
    if !is_htmx(&headers) {
        let mut query = String::new();
        if let Some(kind) = shown.kind {
            query = format!("?kind={}", kind.as_str());
        }
        if let Some(before) = shown.before {
            query.push_str(if query.is_empty() { "?" } else { "&" });
            query.push_str(&format!("before={}", before.encode()));
        }
        return Ok(Redirect::to(&format!("{}{query}#timeline", subject.path())).into_response());
    }
    let page = subject.page(&state, &signed, &shown).await?;
    let staff = Staff::load(&state).await?;
    let now = rapport_domain::records::now();
    let html = if shown.before.is_some() {
        render_template(&TimelineRows::new(&state, &subject, &shown, &page, &staff, now).await?)?
    } else {
        render_fragment(&state, &subject, &shown, &page, &staff, &signed, FormView::default(), now).await?
    };
    Ok(Html(html).into_response())
}

pub async fn person_fragment(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    fragment(state, signed, headers, Subject::Person(id), raw).await
}

pub async fn company_fragment(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    fragment(state, signed, headers, Subject::Company(id), raw).await
}

/// What the composer adds.
enum Addition {
    Activity(ActivityInput),
    Task(TaskInput),
}

fn parse(form: &FormData, subject: &Subject) -> Result<Addition, FieldErrors> {
    let mut f = Fields::new(form);
    let kind = f.raw("kind");
    if kind == "task" {
        let title = f.required::<Name>("subject");
        let notes = f.optional::<LongText>("body");
        let due_at = f.optional_with("due", parse_due);
        return match (title, f.finish()) {
            (Some(title), Ok(())) => Ok(Addition::Task(TaskInput {
                title,
                notes,
                due_at,
                assignee_id: None,
                done: false,
                links: subject.links(),
            })),
            (_, Err(errors)) => Err(errors),
            (None, Ok(())) => Err(FieldErrors::single("subject", "is required")),
        };
    }
    let kind = f.parse_with("kind", ActivityKind::parse);
    let subject_line = f.optional::<Name>("subject");
    let body = f.optional::<LongText>("body");
    if subject_line.is_none() && body.is_none() && f.errors.is_empty() {
        f.fail("body", "needs a few words (or a subject)");
    }
    match (kind, f.finish()) {
        (Some(kind), Ok(())) => Ok(Addition::Activity(ActivityInput {
            kind,
            direction: None,
            occurred_at: None,
            subject: subject_line,
            body,
            author_id: None,
            links: subject.links(),
        })),
        (_, Err(errors)) => Err(errors),
        (None, Ok(())) => Err(FieldErrors::single("kind", "is required")),
    }
}

/// A due date (end of that day, UTC) or a date and time from the form.
pub fn parse_due(raw: &str) -> Result<OffsetDateTime, String> {
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    let with_time = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    if let Ok(day) = time::Date::parse(raw, &date_only) {
        return Ok(day.with_hms(17, 0, 0).expect("17:00 is a time").assume_utc());
    }
    time::PrimitiveDateTime::parse(raw, &with_time)
        .map(|at| at.assume_utc())
        .map_err(|_| "must be a date such as 2026-12-01".to_string())
}

async fn add(
    state: AppState,
    signed: Signed,
    headers: HeaderMap,
    subject: Subject,
    form: FormData,
) -> Result<Response, WebError> {
    // The subject must exist (and 404 otherwise) before anything is checked.
    let shown = Shown::default();
    subject.page(&state, &signed, &shown).await?;
    let result = match parse(&form, &subject) {
        Err(errors) => Err(FormView::rejected(&form, errors)),
        Ok(Addition::Activity(input)) => {
            let label = input.kind.as_str();
            match state.store.create_activity(&signed.actor, input).await {
                Ok(_) => Ok(format!("{} added.", super::format::capitalize(label))),
                Err(err) => Err(FormView::refused(&form, err)?),
            }
        }
        Ok(Addition::Task(input)) => match state.store.create_task(&signed.actor, input).await {
            Ok(_) => Ok("Task added.".to_owned()),
            Err(err) => Err(FormView::refused(&form, err)?),
        },
    };
    if !is_htmx(&headers) {
        return match result {
            Ok(message) => Ok(redirect_with_flash(&subject.path(), &message)),
            Err(view) => Err(WebError::BadRequest(
                view.errors.iter().map(|(f, m)| format!("{f} {m}")).collect::<Vec<_>>().join("; "),
            )),
        };
    }
    let staff = Staff::load(&state).await?;
    // After an addition, the newest entries of every kind: the one just added among them.
    let page = subject.page(&state, &signed, &shown).await?;
    let now = rapport_domain::records::now();
    match result {
        Ok(message) => {
            let html =
                render_fragment(&state, &subject, &shown, &page, &staff, &signed, FormView::default(), now).await?;
            Ok(with_toast(Html(html).into_response(), &message))
        }
        Err(view) => {
            let html = render_fragment(&state, &subject, &shown, &page, &staff, &signed, view, now).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

pub async fn add_to_person(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    add(state, signed, headers, Subject::Person(id), form).await
}

pub async fn add_to_company(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    add(state, signed, headers, Subject::Company(id), form).await
}
