//! The lists' bulk bar: tick rows (or "all matching", which the server
//! re-runs the list's query for), then set the owner, add or remove a tag,
//! set the stage, delete (with an Undo for the whole batch) or export the
//! selection as CSV. A plain form, so it works without JavaScript; app.js
//! only shows the bar once something is ticked and keeps its count.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::post;
use rapport_domain::bulk::{
    BULK_MAX, Bulk, CompanyBulkAction, CompanyBulkInput, DealBulkAction, DealBulkInput, PersonBulkAction,
    PersonBulkInput, TaskBulkAction, TaskBulkInput,
};
use rapport_domain::history::RecordKind;
use rapport_domain::records::{DealStatus, LifecycleStage, Pipeline};
use rapport_domain::text::Tag;
use rapport_domain::views::ListKind;
use rapport_domain::{CompanyId, DealId, PersonId, StageId, TaskId, UserId};
use rapport_storage::BulkDone;
use uuid::Uuid;

use super::form::FormData;
use super::lists::{Choice, count_text, counted, nouns};
use super::session::UNDO_COOKIE;
use super::{Signed, WebError, numbers, redirect_with_flash};
use rapport_api::AppState;
use rapport_api::endpoints::bulk::{companies_matching, deals_matching, people_matching, tasks_matching};
use rapport_api::error::ApiError;

/// The owner choice that clears the owner.
const NOBODY: &str = "none";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/bulk", post(people))
        .route("/companies/bulk", post(companies))
        .route("/deals/bulk", post(deals))
        .route("/tasks/bulk", post(tasks))
        .route("/bulk/{batch}/undo", post(undo))
}

/// A row's checkbox: the record's id, and its name for "Select Rosa Larsen".
pub struct RowKey {
    pub id: String,
    pub label: String,
}

impl RowKey {
    pub fn new(id: impl ToString, label: impl Into<String>) -> Self {
        RowKey { id: id.to_string(), label: label.into() }
    }
}

/// The bulk bar above a list: the controls each action needs.
pub struct BulkBar {
    pub actions: Vec<Choice>,
    /// "owner_id", or "assignee_id" for tasks.
    pub owner_field: &'static str,
    pub owner_label: &'static str,
    pub owners: Vec<Choice>,
    pub tags: bool,
    /// The stage field's name ("" when the list has no stage) and its choices.
    pub stage_field: &'static str,
    pub stages: Vec<Choice>,
    pub all: AllMatching,
}

/// The bar's "all matching" choice, which says how many match once the list
/// is counted (the list's count fragment swaps it in).
pub struct AllMatching {
    /// "Select all 1,234 people matching".
    pub label: String,
    /// "1,234 people", for app.js's "All 1,234 people selected".
    pub total: String,
    /// Said when more records match than one change may touch.
    pub capped: Option<String>,
}

impl AllMatching {
    /// `total`: how many match, if counted yet.
    pub fn new(list: ListKind, total: Option<u64>) -> Self {
        let Some(total) = total else {
            let many = nouns(list).1;
            return AllMatching {
                label: format!("Select all matching {many}"),
                total: format!("matching {many}"),
                capped: None,
            };
        };
        let capped = (total > BULK_MAX as u64).then(|| {
            format!(
                "{} match: a change takes at most {} at a time, so narrow the filters to act on all.",
                count_text(total),
                numbers::count(BULK_MAX as u64)
            )
        });
        AllMatching {
            label: format!("Select all {} matching", counted(list, total)),
            total: counted(list, total),
            capped,
        }
    }
}

impl BulkBar {
    /// `total`: how many match, if the page was counted.
    fn new(list: ListKind, total: Option<u64>, owners: Vec<Choice>) -> Self {
        let mut owner_choices = vec![Choice::new(NOBODY, "Nobody")];
        owner_choices.extend(owners);
        BulkBar {
            actions: Vec::new(),
            owner_field: "owner_id",
            owner_label: "Owner",
            owners: owner_choices,
            tags: true,
            stage_field: "",
            stages: Vec::new(),
            all: AllMatching::new(list, total),
        }
    }

    pub fn people(total: Option<u64>, owners: Vec<Choice>) -> Self {
        BulkBar {
            actions: choices(PersonBulkAction::ALL.iter().map(|a| a.as_str())),
            stage_field: "lifecycle_stage",
            stages: LifecycleStage::ALL
                .iter()
                .map(|s| Choice::new(s.as_str(), super::format::capitalize(s.as_str())))
                .collect(),
            ..BulkBar::new(ListKind::People, total, owners)
        }
    }

    pub fn companies(total: Option<u64>, owners: Vec<Choice>) -> Self {
        BulkBar {
            actions: choices(CompanyBulkAction::ALL.iter().map(|a| a.as_str())),
            ..BulkBar::new(ListKind::Companies, total, owners)
        }
    }

    /// A deal moves to a stage of its own pipeline, or is won, lost or open again.
    pub fn deals(total: Option<u64>, owners: Vec<Choice>, pipelines: &[Pipeline]) -> Self {
        let mut stages = stage_choices(pipelines);
        stages.extend(DealStatus::ALL.iter().map(|s| Choice::new(s.as_str(), super::format::capitalize(s.as_str()))));
        BulkBar {
            actions: choices(DealBulkAction::ALL.iter().map(|a| a.as_str())),
            stage_field: "stage",
            stages,
            ..BulkBar::new(ListKind::Deals, total, owners)
        }
    }

    pub fn tasks(total: Option<u64>, owners: Vec<Choice>) -> Self {
        let mut bar = BulkBar::new(ListKind::Tasks, total, owners);
        // A task always has an assignee.
        bar.owners.retain(|choice| choice.value != NOBODY);
        BulkBar {
            actions: choices(TaskBulkAction::ALL.iter().map(|a| a.as_str())),
            owner_field: "assignee_id",
            owner_label: "Assignee",
            tags: false,
            ..bar
        }
    }
}

/// Every pipeline's stages as choices, "Sales › Proposal".
pub fn stage_choices(pipelines: &[Pipeline]) -> Vec<Choice> {
    pipelines
        .iter()
        .flat_map(|p| p.stages.iter().map(move |s| Choice::new(s.id.to_string(), format!("{} › {}", p.name, s.name))))
        .collect()
}

/// The actions as the bar's drop-down names them, export last.
fn choices<'a>(actions: impl Iterator<Item = &'a str>) -> Vec<Choice> {
    let mut all: Vec<Choice> = actions
        .map(|action| {
            let label = match action {
                "set_owner" => "Set owner",
                "set_assignee" => "Set assignee",
                "add_tag" => "Add tag",
                "remove_tag" => "Remove tag",
                "set_stage" => "Set stage",
                _ => "Delete",
            };
            Choice::new(action, label)
        })
        .collect();
    all.push(Choice::new(EXPORT, "Export CSV"));
    all
}

/// The action that downloads the selection instead of changing it.
const EXPORT: &str = "export";

/// What the form picked: ticked ids, or every record the list's query matches.
struct Picked<'f> {
    ids: Vec<&'f str>,
    filter: Option<String>,
}

fn picked(form: &FormData) -> Picked<'_> {
    let ids = form.pairs().filter(|(key, _)| *key == "ids").map(|(_, id)| id.trim()).collect();
    // The list's query, without the page's column choice (not a filter).
    let filter = (form.get("all") == "matching").then(|| {
        let kept = form_urlencoded::parse(form.get("filter").as_bytes()).into_owned().filter(|(key, _)| key != "cols");
        form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
    });
    Picked { ids, filter }
}

/// Ticked ids as the record's id type, or the form's problem.
fn ids<T: std::str::FromStr>(picked: &Picked<'_>, noun: &str) -> Result<Option<Vec<T>>, String> {
    if picked.filter.is_some() {
        return Ok(None);
    }
    if picked.ids.is_empty() {
        return Err(format!("Tick the {noun} to change first, or choose all matching."));
    }
    picked
        .ids
        .iter()
        .map(|raw| raw.parse::<T>().map_err(|_| format!("“{raw}” is not one of the list’s {noun}.")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The owner field as the bulk inputs take it: "none" clears, an id sets.
fn owner(form: &FormData, field: &str) -> Result<Option<Option<UserId>>, String> {
    match form.get(field) {
        "" => Ok(None),
        NOBODY => Ok(Some(None)),
        raw => raw.parse::<UserId>().map(|id| Some(Some(id))).map_err(|_| "Choose a staff member.".to_owned()),
    }
}

fn tag(form: &FormData) -> Result<Option<Tag>, String> {
    match form.get("tag") {
        "" => Ok(None),
        raw => Tag::try_from(raw.to_owned()).map(Some).map_err(|message| format!("The tag {message}.")),
    }
}

/// Where the form came from (the list with its query), kept to the list's own path.
fn back(form: &FormData, list: ListKind) -> String {
    let path = format!("/{}", list.as_str());
    match form.get("filter") {
        "" => path,
        query => format!("{path}?{query}"),
    }
}

/// A refusal in words, naming the record by its name where it has one.
async fn problem(state: &AppState, err: ApiError) -> Result<String, WebError> {
    Ok(match err {
        ApiError::Refused { what, id, inner } => {
            let name = match what {
                "person" => state.store.get_person(PersonId(id)).await.ok().map(|p| p.fields.full_name()),
                "company" => state.store.get_company(CompanyId(id)).await.ok().map(|c| c.fields.name.to_string()),
                "deal" => state.store.get_deal(DealId(id)).await.ok().map(|d| d.fields.name.to_string()),
                "task" => state.store.get_task(TaskId(id)).await.ok().map(|t| t.fields.title.to_string()),
                _ => None,
            };
            let name = name.map(|n| format!("“{n}”")).unwrap_or_else(|| format!("the {what} {id}"));
            format!("Nothing changed: {name} was refused ({inner}).")
        }
        ApiError::Internal => return Err(WebError::Internal),
        other => format!("Nothing changed: {other}."),
    })
}

/// The bar's fields a refusal keeps: what was ticked and the chosen change.
const KEPT: &[&str] = &["ids", "all", "action", "owner_id", "assignee_id", "tag", "stage", "lifecycle_stage"];

/// Back to the list with the refusal, and in the address's fragment (which
/// the server never sees, so the list's query stays as it was) the ticked
/// rows, the chosen change and the message: app.js ticks and fills them in
/// again and shows the message in the bar, so nothing has to be picked twice.
fn refused(back: &str, form: &FormData, message: &str) -> Response {
    let mut kept = form_urlencoded::Serializer::new(String::new());
    kept.extend_pairs(form.pairs().filter(|(key, value)| KEPT.contains(key) && !value.is_empty()));
    kept.append_pair("problem", message);
    redirect_with_flash(&format!("{back}#bulk:{}", kept.finish()), message)
}

/// After the change: back to the list, with what happened (and an Undo after a delete).
fn finished(back: &str, list: ListKind, done: BulkDone) -> Response {
    let noun = counted(list, done.changed as u64);
    match done.batch {
        Some(batch) => {
            let mut response = redirect_with_flash(back, &format!("Moved {noun} to the trash."));
            let cookie = format!("{UNDO_COOKIE}=bulk.{batch}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        None => redirect_with_flash(back, &format!("Updated {noun}.")),
    }
}

/// The selection as CSV, in the columns of the full export.
async fn export(state: &AppState, kind: RecordKind, ids: &[Uuid]) -> Result<Response, WebError> {
    let mut csv = Vec::new();
    state.store.export_csv_of(kind, ids, &mut csv).await.map_err(|err| {
        tracing::error!(error = %err, "bulk export failed");
        WebError::Internal
    })?;
    Ok(rapport_api::download::attachment(&format!("rapport-{kind}.csv"), csv))
}

/// Runs one list's bulk form: parse, resolve the selection, apply or export.
macro_rules! bulk_handler {
    ($name:ident, $list:expr, $kind:expr, $noun:literal, $id:ty, $action:ty, $input:ident, $matching:ident, $apply:ident) => {
        async fn $name(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
            signed.ensure_can_create()?;
            let back = back(&form, $list);
            let picked = picked(&form);
            let chosen = match ids::<$id>(&picked, $noun) {
                Ok(chosen) => chosen,
                Err(message) => return Ok(refused(&back, &form, &message)),
            };
            let exporting = form.get("action") == EXPORT;
            let bulk = if exporting {
                None
            } else {
                let input = <$action>::parse(form.get("action"))
                    .map_err(|_| "Choose what to do with the selection.".to_owned())
                    .and_then(|action| $input(&form, action, chosen.clone(), picked.filter.clone()));
                match input.map(Bulk::try_from) {
                    Ok(Ok(bulk)) => Some(bulk),
                    Ok(Err(errors)) => {
                        let message = errors.iter().map(|(f, m)| format!("{f} {m}")).collect::<Vec<_>>().join("; ");
                        return Ok(refused(&back, &form, &format!("Nothing changed: {message}.")));
                    }
                    Err(message) => return Ok(refused(&back, &form, &message)),
                }
            };
            let ids = match chosen {
                Some(ids) => ids,
                // "All matching": the server runs the list's query again, up to the cap.
                None => match $matching(&state.store, picked.filter.as_deref().unwrap_or("")).await {
                    Ok(ids) => ids,
                    Err(err) => return Ok(refused(&back, &form, &problem(&state, err).await?)),
                },
            };
            let Some(bulk) = bulk else {
                let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
                return export(&state, $kind, &raw).await;
            };
            match state.store.$apply(&signed.actor, &ids, &bulk.change).await {
                Ok(done) => Ok(finished(&back, $list, done)),
                Err(err) => Ok(refused(&back, &form, &problem(&state, ApiError::from(err)).await?)),
            }
        }
    };
}

bulk_handler!(
    people,
    ListKind::People,
    RecordKind::People,
    "people",
    PersonId,
    PersonBulkAction,
    person_input,
    people_matching,
    bulk_people
);
bulk_handler!(
    companies,
    ListKind::Companies,
    RecordKind::Companies,
    "companies",
    CompanyId,
    CompanyBulkAction,
    company_input,
    companies_matching,
    bulk_companies
);
bulk_handler!(
    deals,
    ListKind::Deals,
    RecordKind::Deals,
    "deals",
    DealId,
    DealBulkAction,
    deal_input,
    deals_matching,
    bulk_deals
);
bulk_handler!(
    tasks,
    ListKind::Tasks,
    RecordKind::Tasks,
    "tasks",
    TaskId,
    TaskBulkAction,
    task_input,
    tasks_matching,
    bulk_tasks
);

/// The bulk bar's fields as the API's input: only those the action uses
/// (the form sends every control), so the domain's checks apply as they are.
fn person_input(
    form: &FormData,
    action: PersonBulkAction,
    ids: Option<Vec<PersonId>>,
    filter: Option<String>,
) -> Result<PersonBulkInput, String> {
    let stage = match (action, form.get("lifecycle_stage")) {
        (PersonBulkAction::SetStage, raw) if !raw.is_empty() => {
            Some(LifecycleStage::parse(raw).map_err(|m| format!("The stage {m}."))?)
        }
        _ => None,
    };
    let tags = matches!(action, PersonBulkAction::AddTag | PersonBulkAction::RemoveTag);
    Ok(PersonBulkInput {
        ids,
        filter,
        action,
        owner_id: if action == PersonBulkAction::SetOwner { owner(form, "owner_id")? } else { None },
        tag: if tags { tag(form)? } else { None },
        lifecycle_stage: stage,
    })
}

fn company_input(
    form: &FormData,
    action: CompanyBulkAction,
    ids: Option<Vec<CompanyId>>,
    filter: Option<String>,
) -> Result<CompanyBulkInput, String> {
    let tags = matches!(action, CompanyBulkAction::AddTag | CompanyBulkAction::RemoveTag);
    Ok(CompanyBulkInput {
        ids,
        filter,
        action,
        owner_id: if action == CompanyBulkAction::SetOwner { owner(form, "owner_id")? } else { None },
        tag: if tags { tag(form)? } else { None },
    })
}

/// A deal's stage choice is a stage id or a status (won, lost, open).
fn deal_input(
    form: &FormData,
    action: DealBulkAction,
    ids: Option<Vec<DealId>>,
    filter: Option<String>,
) -> Result<DealBulkInput, String> {
    let (stage_id, status) = match (action, form.get("stage")) {
        (DealBulkAction::SetStage, raw) if !raw.is_empty() => match DealStatus::parse(raw) {
            Ok(status) => (None, Some(status)),
            Err(_) => (Some(raw.parse::<StageId>().map_err(|_| "Choose a stage.".to_owned())?), None),
        },
        _ => (None, None),
    };
    let tags = matches!(action, DealBulkAction::AddTag | DealBulkAction::RemoveTag);
    Ok(DealBulkInput {
        ids,
        filter,
        action,
        owner_id: if action == DealBulkAction::SetOwner { owner(form, "owner_id")? } else { None },
        tag: if tags { tag(form)? } else { None },
        stage_id,
        status,
    })
}

fn task_input(
    form: &FormData,
    action: TaskBulkAction,
    ids: Option<Vec<TaskId>>,
    filter: Option<String>,
) -> Result<TaskBulkInput, String> {
    let assignee_id = match (action, owner(form, "assignee_id")?) {
        (TaskBulkAction::SetAssignee, Some(assignee)) => assignee,
        _ => None,
    };
    Ok(TaskBulkInput { ids, filter, action, assignee_id })
}

/// The Undo of a bulk delete: every record of the batch back, then to their list.
async fn undo(State(state): State<AppState>, signed: Signed, Path(batch): Path<String>) -> Result<Response, WebError> {
    let batch: Uuid = batch.parse().map_err(|_| WebError::NotFound("bulk delete"))?;
    match state.store.undo_bulk_delete(&signed.actor, batch).await {
        Ok((kind, restored)) => {
            let list = ListKind::parse(kind.as_str()).unwrap_or(ListKind::People);
            Ok(redirect_with_flash(
                &format!("/{}", list.as_str()),
                &format!("Restored {} from the trash.", counted(list, restored as u64)),
            ))
        }
        Err(rapport_storage::StorageError::NotFound(_)) => Ok(redirect_with_flash(
            "/trash",
            "Not restored: they are no longer in the trash (restored or purged already).",
        )),
        Err(err) => Ok(redirect_with_flash("/trash", &problem(&state, ApiError::from(err)).await?)),
    }
}
