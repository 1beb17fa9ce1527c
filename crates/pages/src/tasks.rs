//! Tasks: the list, the new-task and edit forms (the edit page shows the
//! task's history beside the form), one-click completion, and the inbox
//! (what is overdue, due today and coming up, and who is due a call).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::access::Action;
use rapport_domain::history::RecordKind;
use rapport_domain::records::{Links, Person, Task, TaskInput};
use rapport_domain::text::{LongText, Name};
use rapport_domain::{CompanyId, DealId, FieldErrors, PersonId, TaskId, UserId};
use rapport_storage::{ListQuery, StorageError, TaskFilter};
use serde::Deserialize;
use time::OffsetDateTime;

use super::form::{Conflict, Fields, FormData, FormView};
use super::history::{HistoryPanel, last_editor};
use super::list_bulk::{BulkBar, RowKey};
use super::lists::{Cell, Choice, Column, Filter, ListRequest, ListSpec};
use super::lookup::{company_by_name, person_by_label, person_label};
use super::staff::Staff;
use super::timeline::parse_due;
use super::{
    Chrome, Signed, WebError, format, is_htmx, redirect_with_flash, render, see_other, with_toast, with_toast_and,
};
use rapport_api::AppState;

const COLUMNS: &[Column] = &[
    Column::new("title", "Task"),
    Column::new("due", "Due").sorts("due_at"),
    Column::new("status", "Status"),
    Column::new("assignee", "Assignee"),
    Column::new("about", "About"),
    Column::new("created", "Added").sorts("created_at").optional(),
];

const SPEC: ListSpec = ListSpec {
    path: "/tasks",
    list: rapport_domain::views::ListKind::Tasks,
    heading: "Tasks",
    new_label: "New task",
    search_label: "",
    searchable: false,
    default_sort: "due_at",
    empty_title: "No tasks yet.",
    empty_hint: "Add one with “New task”, or from the timeline on a customer's page.",
};

/// How many days ahead the inbox's "Upcoming" section looks.
const UPCOMING_DAYS: i64 = 14;

/// How many people due a call the inbox lists.
const CONTACT_LIMIT: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/count", get(count))
        .route("/tasks/new", get(new_form))
        .route("/tasks/{id}", get(page).post(update))
        .route("/tasks/{id}/edit", get(edit_form))
        .route("/tasks/{id}/done", post(complete))
        .route("/tasks/{id}/reopen", post(reopen))
        .route("/inbox", get(inbox))
}

/// The first moment of tomorrow, UTC: "due today" means due before it.
pub fn end_of_today(now: OffsetDateTime) -> OffsetDateTime {
    let today = now.date();
    today.next_day().unwrap_or(today).midnight().assume_utc()
}

/// Names of the people, companies and deals that tasks or activities are about.
#[derive(Default)]
pub struct Names {
    people: HashMap<PersonId, String>,
    companies: HashMap<CompanyId, String>,
    deals: HashMap<DealId, String>,
}

impl Names {
    pub async fn load<'a>(state: &AppState, links: impl IntoIterator<Item = &'a Links>) -> Result<Self, WebError> {
        let mut people = BTreeSet::new();
        let mut companies = BTreeSet::new();
        let mut deals = BTreeSet::new();
        for link in links {
            people.extend(link.person_id);
            companies.extend(link.company_id);
            deals.extend(link.deal_id);
        }
        let people: Vec<PersonId> = people.into_iter().collect();
        let companies: Vec<CompanyId> = companies.into_iter().collect();
        let mut names = Names {
            people: state.store.person_names(&people).await?,
            companies: state.store.company_names(&companies).await?,
            deals: HashMap::new(),
        };
        for id in deals {
            match state.store.get_deal(id).await {
                Ok(deal) => {
                    names.deals.insert(id, deal.fields.name.to_string());
                }
                Err(StorageError::NotFound(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(names)
    }

    /// (name, link) of each record the links name, person first.
    pub fn about(&self, links: &Links) -> Vec<(String, String)> {
        let mut about = Vec::new();
        if let Some(id) = links.person_id
            && let Some(name) = self.people.get(&id)
        {
            about.push((name.clone(), format!("/people/{id}")));
        }
        if let Some(id) = links.company_id
            && let Some(name) = self.companies.get(&id)
        {
            about.push((name.clone(), format!("/companies/{id}")));
        }
        if let Some(id) = links.deal_id
            && let Some(name) = self.deals.get(&id)
        {
            about.push((name.clone(), format!("/deals/{id}")));
        }
        about
    }
}

/// A task as the inbox, the home page and the list show it.
pub struct TaskRow {
    pub id: TaskId,
    pub title: String,
    pub version: i64,
    pub about: Vec<(String, String)>,
    /// Empty without a due time.
    pub due_iso: String,
    pub due_text: String,
    /// "in 2 days", "3 hours ago".
    pub due_hint: String,
    pub status: &'static str,
    pub status_class: &'static str,
    /// Shows the Complete button.
    pub can_complete: bool,
    /// Shows the Edit link.
    pub can_edit: bool,
    /// Takes the focus when htmx swaps the row in (after an Undo).
    pub focus: bool,
}

pub fn task_status(task: &Task, now: OffsetDateTime) -> (&'static str, &'static str) {
    if task.fields.done {
        ("done", "ok")
    } else if task.fields.due_at.is_some_and(|due| due < now) {
        ("overdue", "danger")
    } else {
        ("open", "accent")
    }
}

pub fn task_row(task: &Task, names: &Names, staff: &Staff, signed: &Signed, now: OffsetDateTime) -> TaskRow {
    let (status, status_class) = task_status(task, now);
    let f = &task.fields;
    let can_edit = staff.allows(&signed.actor, Action::Edit, f.assignee_id, task.meta.created_by);
    TaskRow {
        id: task.id,
        title: f.title.to_string(),
        version: task.meta.version,
        about: names.about(&f.links),
        due_iso: f.due_at.map(format::iso).unwrap_or_default(),
        due_text: f.due_at.map(|due| format::date(due.date())).unwrap_or_default(),
        due_hint: f.due_at.map(|due| format::relative(due, now)).unwrap_or_default(),
        status,
        status_class,
        can_complete: !f.done && can_edit,
        can_edit,
        focus: false,
    }
}

/// Someone whose keep-in-touch cadence has lapsed.
pub struct ContactLine {
    pub name: String,
    pub href: String,
    /// "last contact 3 months ago" or "never contacted".
    pub since: String,
    /// "every 30 days".
    pub cadence: String,
    /// "due 5 days ago".
    pub overdue: String,
}

pub fn contact_lines(people: &[Person], now: OffsetDateTime) -> Vec<ContactLine> {
    people
        .iter()
        .map(|person| {
            let p = &person.fields;
            let days = p.keep_in_touch_days.unwrap_or(0);
            let since_at = person.last_contacted_at.unwrap_or(person.meta.created_at);
            let due = since_at + time::Duration::days(days.into());
            ContactLine {
                name: p.full_name(),
                href: format!("/people/{}", person.id),
                since: match person.last_contacted_at {
                    Some(at) => format!("last contact {}", format::relative(at, now)),
                    None => format!("never contacted (added {})", format::relative(person.meta.created_at, now)),
                },
                cadence: if days == 1 { "every day".into() } else { format!("every {days} days") },
                overdue: format!("was due {}", format::relative(due, now)),
            }
        })
        .collect()
}

fn status_label(status: &str) -> String {
    super::format::capitalize(status)
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<TaskFilter>::parse_count(raw.as_deref())?;
    state.store.list_tasks(&request.params.query, &request.params.filter).await?;
    SPEC.count(&signed, &request, true)
}

pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let request = ListRequest::<TaskFilter>::parse(raw.as_deref())?;
    let page = state.store.list_tasks(&request.params.query, &request.params.filter).await?;
    let staff = Staff::load(&state).await?;
    let names = Names::load(&state, page.items.iter().map(|t| &t.fields.links)).await?;
    let now = rapport_domain::records::now();
    let filters = vec![
        Filter {
            name: "assignee_id",
            label: "Assignee",
            choices: staff.choices(),
            selected: request.get("assignee_id").to_owned(),
        },
        Filter {
            name: "open",
            label: "Status",
            choices: vec![Choice::new("true", "Open"), Choice::new("false", "Done")],
            selected: request.get("open").to_owned(),
        },
    ];
    let keys = page.items.iter().map(|t| RowKey::new(t.id, t.fields.title.to_string())).collect();
    let mut view = SPEC
        .build(&state, &signed, &request, COLUMNS, filters, page, |task: &Task, shown| {
            let f = &task.fields;
            shown
                .iter()
                .map(|column| match column.key {
                    "title" => Cell::link(f.title.to_string(), format!("/tasks/{}/edit", task.id)),
                    "due" => Cell::text(f.due_at.map(|due| format::date(due.date())).unwrap_or_default()),
                    "status" => {
                        let (status, class) = task_status(task, now);
                        Cell::badge(status_label(status), class)
                    }
                    "assignee" => Cell::text(staff.name(f.assignee_id)),
                    "about" => match names.about(&f.links).into_iter().next() {
                        Some((name, href)) => Cell::link(name, href),
                        None => Cell::default(),
                    },
                    _ => Cell::text(format::date(task.meta.created_at.date())),
                })
                .collect()
        })
        .await?;
    view.bulk = Some(BulkBar::tasks(request.total(), staff.choices()));
    view.row_keys = keys;
    signed.page(&view)
}

#[derive(Template)]
#[template(path = "task_form.html")]
struct TaskForm {
    chrome: Chrome,
    /// `None` for a new task.
    id: Option<TaskId>,
    version: i64,
    form: FormView,
    assignees: Vec<Choice>,
    /// The deal the task is about (name, link): the form keeps it as it is.
    deal: Option<(String, String)>,
    /// The task's changes, beside the edit form.
    history: Option<HistoryPanel>,
}

impl TaskForm {
    /// The form for a new task, or for editing `task`.
    async fn new(
        state: &AppState,
        signed: &Signed,
        task: Option<&Task>,
        version: i64,
        form: FormView,
    ) -> Result<Self, WebError> {
        let staff = Staff::load(state).await?;
        let mut assignees = vec![Choice::new("", "Nobody")];
        assignees.extend(staff.choices());
        let (id, deal, history) = match task {
            Some(task) => {
                let deal = match task.fields.links.deal_id {
                    Some(deal) => {
                        Some((state.store.get_deal(deal).await?.fields.name.to_string(), format!("/deals/{deal}")))
                    }
                    None => None,
                };
                let history = HistoryPanel::latest(state, RecordKind::Tasks, task.id.0, &staff).await?;
                (Some(task.id), deal, Some(history))
            }
            None => (None, None, None),
        };
        let title = if id.is_some() { "Edit task" } else { "New task" };
        Ok(TaskForm { chrome: signed.chrome("tasks", title), id, version, form, assignees, deal, history })
    }

    fn respond(&self, signed: &Signed) -> Result<Response, WebError> {
        signed.form_page(self, &self.form)
    }
}

#[derive(Deserialize)]
pub struct NewTaskParams {
    person_id: Option<PersonId>,
}

pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<NewTaskParams>,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let mut pairs = vec![("assignee_id", signed.user.id.to_string())];
    if let Some(person) = params.person_id {
        let person = state.store.get_person(person).await?;
        if let Some(email) = person.fields.primary_email() {
            pairs.push(("person", email.to_string()));
        }
    }
    TaskForm::new(&state, &signed, None, 0, FormView::from_pairs(pairs)).await?.respond(&signed)
}

fn task_id(raw: &str) -> Result<TaskId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("task"))
}

/// A task's own address: its edit page, with its history.
pub async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = task_id(&id)?;
    state.store.get_task(id).await?;
    Ok(see_other(&format!("/tasks/{id}/edit")))
}

pub async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = task_id(&id)?;
    let task = state.store.get_task(id).await?;
    Staff::load(&state).await?.ensure(&signed.actor, Action::Edit, task.fields.assignee_id, task.meta.created_by)?;
    let stored = form_values(&state, &task).await?;
    TaskForm::new(&state, &signed, Some(&task), task.meta.version, FormView::editing(stored)).await?.respond(&signed)
}

/// The due date as the form shows it (a date input has no time).
fn due_text(task: &Task) -> String {
    task.fields.due_at.map(|due| format::date(due.date())).unwrap_or_default()
}

/// A stored task as the edit form's values.
async fn form_values(state: &AppState, task: &Task) -> Result<Vec<(String, String)>, WebError> {
    let f = &task.fields;
    let mut pairs = vec![
        ("title".to_owned(), f.title.to_string()),
        ("due".to_owned(), due_text(task)),
        ("assignee_id".to_owned(), f.assignee_id.map(|a| a.to_string()).unwrap_or_default()),
        ("notes".to_owned(), f.notes.as_ref().map(|n| n.to_string()).unwrap_or_default()),
    ];
    // A checkbox sends nothing when unticked: only a ticked one has a value.
    if f.done {
        pairs.push(("done".to_owned(), "true".to_owned()));
    }
    if let Some(person) = f.links.person_id {
        pairs.push(("person".to_owned(), person_label(&state.store.get_person(person).await?)));
    }
    if let Some(company) = f.links.company_id {
        pairs.push(("company".to_owned(), state.store.get_company(company).await?.fields.name.to_string()));
    }
    Ok(pairs)
}

/// Parses the task form into the same input the API takes. Editing, a field
/// left as the form showed it keeps the stored value: the time of day of a
/// due date (the date input shows only the day), and the very person or
/// company a name may share with another.
async fn parse(
    state: &AppState,
    form: &FormData,
    current: Option<&Task>,
) -> Result<Result<TaskInput, FieldErrors>, WebError> {
    let shown = match current {
        Some(task) => form_values(state, task).await?,
        None => Vec::new(),
    };
    let unchanged = |name: &str| {
        current.is_some() && shown.iter().find(|(key, _)| key == name).map_or("", |(_, v)| v.trim()) == form.get(name)
    };
    let stored = current.map(|task| &task.fields);
    let mut f = Fields::new(form);
    let title = f.required::<Name>("title");
    let notes = f.optional::<LongText>("notes");
    let due_at = match stored {
        Some(stored) if unchanged("due") => stored.due_at,
        _ => f.optional_with("due", parse_due),
    };
    let assignee_id =
        f.optional_with("assignee_id", |raw| raw.parse::<UserId>().map_err(|_| "is not a staff member".into()));
    let person_id = match stored {
        Some(stored) if unchanged("person") => stored.links.person_id,
        _ => person_by_label(state, &mut f, "person").await?,
    };
    let company_id = match stored {
        Some(stored) if unchanged("company") => stored.links.company_id,
        _ => company_by_name(state, &mut f, "company").await?,
    };
    let links = Links { person_id, company_id, deal_id: stored.and_then(|s| s.links.deal_id) };
    // Only the edit form has the box; a new task is open.
    let done = current.is_some() && form.checked("done");
    Ok(match (title, f.finish()) {
        (Some(title), Ok(())) => Ok(TaskInput { title, notes, due_at, assignee_id, done, links }),
        (_, Err(errors)) => Err(errors),
        (None, Ok(())) => Err(FieldErrors::single("title", "is required")),
    })
}

/// A storage refusal on the task form, each message beside its input.
fn refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    FormView::refused_renamed(form, err, |field| match field {
        "due_at" => Some("due"),
        "person_id" => Some("person"),
        "company_id" => Some("company"),
        "deal_id" => Some("deal"),
        _ => None,
    })
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let input = match parse(&state, &form, None).await? {
        Ok(input) => input,
        Err(errors) => {
            return TaskForm::new(&state, &signed, None, 0, FormView::rejected(&form, errors)).await?.respond(&signed);
        }
    };
    match state.store.create_task(&signed.actor, input).await {
        Ok(task) => Ok(redirect_with_flash("/inbox", &format!("Task added: {}", task.fields.title))),
        Err(err) => TaskForm::new(&state, &signed, None, 0, refused(&form, err)?).await?.respond(&signed),
    }
}

/// Saves the edit form at the version it was rendered with: a save over
/// someone else's change shows the form again over the task as it is now.
pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id = task_id(&id)?;
    let before = state.store.get_task(id).await?;
    Staff::load(&state).await?.ensure(
        &signed.actor,
        Action::Edit,
        before.fields.assignee_id,
        before.meta.created_by,
    )?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let input = match parse(&state, &form, Some(&before)).await? {
        Ok(input) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return TaskForm::new(&state, &signed, Some(&before), version, view).await?.respond(&signed);
        }
    };
    let page = format!("/tasks/{id}/edit");
    match state.store.update_task(&signed.actor, id, input, Some(version)).await {
        Ok(task) => Ok(redirect_with_flash(&page, &format!("Task saved: {}", task.fields.title))),
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_task(id).await?;
            let stored = form_values(&state, &current).await?;
            let who = last_editor(&state, RecordKind::Tasks, id.0).await?;
            let conflict = Conflict::new(&current.meta, who, page);
            let view = FormView::conflicted(&form, stored, conflict);
            TaskForm::new(&state, &signed, Some(&current), current.meta.version, view).await?.respond(&signed)
        }
        Err(err) => {
            TaskForm::new(&state, &signed, Some(&before), version, refused(&form, err)?).await?.respond(&signed)
        }
    }
}

/// Where a plain form goes back to: the page it came from, if it is ours.
fn back(headers: &HeaderMap) -> String {
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let path = if referer.starts_with('/') {
        Some(referer)
    } else if let Some(rest) = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://")) {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (host.is_some_and(|host| host.eq_ignore_ascii_case(authority))).then_some(if path.is_empty() {
            "/"
        } else {
            path
        })
    } else {
        None
    };
    match path {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/inbox".to_owned(),
    }
}

/// Marks a task done. htmx gets the row's replacement, "Completed" with an
/// Undo button that takes the focus, a toast, and the section's count one down.
pub async fn complete(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    set_done(state, signed, headers, id, form, true).await
}

/// Opens a completed task again: the Undo of Complete. htmx gets the task's
/// row back, its Complete button focused, and the section's count one up.
pub async fn reopen(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    set_done(state, signed, headers, id, form, false).await
}

async fn set_done(
    state: AppState,
    signed: Signed,
    headers: HeaderMap,
    id: String,
    form: FormData,
    done: bool,
) -> Result<Response, WebError> {
    let id: TaskId = id.parse().map_err(|_| WebError::NotFound("task"))?;
    signed.actor.ensure_can_create().map_err(|denied| WebError::Forbidden(format!("Not allowed: {denied}.")))?;
    let task = state.store.get_task(id).await?;
    let title = task.fields.title.to_string();
    // A second click (or a second tab) finds it so already: nothing to change.
    if task.fields.done == done {
        let message =
            if done { format!("Task already completed: {title}") } else { format!("Task is open already: {title}") };
        if !is_htmx(&headers) {
            return Ok(redirect_with_flash(&back(&headers), &message));
        }
        return Ok(with_toast(row_now(&state, &signed, &task, false).await?, &message));
    }
    let version = form.get("version").parse::<i64>().ok();
    let mut input = task.fields.clone();
    input.done = done;
    let changed = match state.store.update_task(&signed.actor, id, input, version).await {
        Ok(changed) => changed,
        // Someone changed it since the row was shown (a new due date, another
        // assignee): show the row as it is now, to be changed knowingly.
        Err(StorageError::VersionMismatch { .. }) => {
            let current = state.store.get_task(id).await?;
            let message = format!(
                "Not {}: someone else changed “{}” meanwhile. Check it and try again.",
                if done { "completed" } else { "reopened" },
                current.fields.title
            );
            if !is_htmx(&headers) {
                return Ok(redirect_with_flash(&back(&headers), &message));
            }
            return Ok(with_toast(row_now(&state, &signed, &current, false).await?, &message));
        }
        Err(err) => return Err(err.into()),
    };
    let message = if done { format!("Task completed: {title}") } else { format!("Task reopened: {title}") };
    if !is_htmx(&headers) {
        return Ok(redirect_with_flash(&back(&headers), &message));
    }
    let (body, count) = if done {
        let row = TaskDone { id, title, version: changed.meta.version, csrf: signed.csrf.clone() };
        (render(&row)?, -1)
    } else {
        (row_now(&state, &signed, &changed, true).await?, 1)
    };
    Ok(with_toast_and(body, &message, TASK_COUNT_EVENT, count))
}

/// The htmx event that moves a task section's count by its value.
const TASK_COUNT_EVENT: &str = "rapport-task-count";

/// A task's row as it is now, for htmx to swap in.
async fn row_now(state: &AppState, signed: &Signed, task: &Task, focus: bool) -> Result<Response, WebError> {
    let staff = Staff::load(state).await?;
    let names = Names::load(state, [&task.fields.links]).await?;
    let mut row = task_row(task, &names, &staff, signed, rapport_domain::records::now());
    row.focus = focus;
    render(&TaskRowOne { task: row, csrf: signed.csrf.clone() })
}

/// What a completed task's row becomes: a line saying so, with Undo.
#[derive(Template)]
#[template(path = "task_done.html")]
struct TaskDone {
    id: TaskId,
    title: String,
    version: i64,
    csrf: String,
}

/// One task row, as htmx swaps it back in.
#[derive(Template)]
#[template(path = "task_row_one.html")]
struct TaskRowOne {
    task: TaskRow,
    csrf: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    overdue: Vec<TaskRow>,
    today: Vec<TaskRow>,
    upcoming: Vec<TaskRow>,
    undated: Vec<TaskRow>,
    contacts: Vec<ContactLine>,
    /// More people are due a call than listed.
    more_contacts: bool,
    /// Open tasks due after the upcoming window.
    later: usize,
    later_href: String,
    upcoming_days: i64,
}

/// Every open task of one assignee, soonest due first (undated last).
async fn open_tasks(state: &AppState, assignee: UserId) -> Result<Vec<Task>, WebError> {
    let filter = TaskFilter { assignee_id: Some(assignee), open: Some(true), ..Default::default() };
    let mut query = ListQuery { limit: Some(200), ..Default::default() };
    let mut tasks = Vec::new();
    // Five pages is more than anyone works through; the list page has the rest.
    for _ in 0..5 {
        let page = state.store.list_tasks(&query, &filter).await?;
        tasks.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(tasks)
}

pub async fn inbox(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let me = signed.user.id;
    let tasks = open_tasks(&state, me).await?;
    let staff = Staff::load(&state).await?;
    let names = Names::load(&state, tasks.iter().map(|t| &t.fields.links)).await?;
    let now = rapport_domain::records::now();
    let tonight = end_of_today(now);
    let horizon = tonight + time::Duration::days(UPCOMING_DAYS);
    let mut due_people = state.store.contact_due(Some(me), CONTACT_LIMIT + 1).await?;
    let more_contacts = due_people.len() as u64 > CONTACT_LIMIT;
    due_people.truncate(CONTACT_LIMIT as usize);
    let mut page = InboxPage {
        chrome: signed.chrome("inbox", "Inbox"),
        overdue: Vec::new(),
        today: Vec::new(),
        upcoming: Vec::new(),
        undated: Vec::new(),
        contacts: contact_lines(&due_people, now),
        more_contacts,
        later: 0,
        later_href: format!("/tasks?assignee_id={me}&open=true"),
        upcoming_days: UPCOMING_DAYS,
    };
    for task in &tasks {
        let row = || task_row(task, &names, &staff, &signed, now);
        match task.fields.due_at {
            None => page.undated.push(row()),
            Some(due) if due < now => page.overdue.push(row()),
            Some(due) if due < tonight => page.today.push(row()),
            Some(due) if due < horizon => page.upcoming.push(row()),
            Some(_) => page.later += 1,
        }
    }
    signed.page(&page)
}
