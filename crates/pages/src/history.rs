//! A record's history in words: who did what and when, and each changed
//! field as "old → new" with names for ids and formatted money. The record
//! pages show the latest entries; `/{type}/{id}/history` shows them all.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::custom_fields::CustomFieldDefinition;
use rapport_domain::history::{FieldChange, HistoryAction, HistoryEntry, RecordKind};
use rapport_domain::{CompanyId, DealId, Money, PersonId, UserId};
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::format::capitalize;
use super::staff::Staff;
use super::{Chrome, Signed, WebError, custom, format};
use rapport_api::AppState;

/// How many entries a record's page shows; its history page has the rest.
const ON_RECORD_PAGE: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/history", get(person_history))
        .route("/companies/{id}/history", get(company_history))
        .route("/deals/{id}/history", get(deal_history))
        .route("/tasks/{id}/history", get(task_history))
        .route("/tickets/{id}/history", get(ticket_history))
}

/// One entry as a page shows it.
pub struct HistoryLine {
    pub who: String,
    /// "created", "changed", "moved to the trash"...
    pub action: &'static str,
    pub ago: String,
    pub at: String,
    pub iso: String,
    pub changes: Vec<ChangeLine>,
}

/// One field's change, in words.
pub struct ChangeLine {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// A record's history, newest first.
pub struct HistoryPanel {
    pub lines: Vec<HistoryLine>,
    /// Everything: more entries than shown exist when this is more than `lines.len()`.
    pub total: usize,
    /// The page with the whole history.
    pub all_href: String,
}

impl HistoryPanel {
    /// The latest entries of a record, for its page.
    pub async fn latest(state: &AppState, kind: RecordKind, id: Uuid, staff: &Staff) -> Result<Self, WebError> {
        Self::load(state, kind, id, staff, ON_RECORD_PAGE).await
    }

    async fn load(state: &AppState, kind: RecordKind, id: Uuid, staff: &Staff, limit: usize) -> Result<Self, WebError> {
        let mut entries = state.store.history(kind, id).await?;
        let total = entries.len();
        entries.truncate(limit);
        let words = Words::load(state, kind, &entries, staff).await?;
        let now = rapport_domain::records::now();
        let lines = entries
            .iter()
            .map(|entry| HistoryLine {
                who: entry.actor_name.clone().unwrap_or_else(|| {
                    if entry.actor_id.is_some() { "A former user".into() } else { "Rapport".into() }
                }),
                action: action_words(entry.action),
                ago: format::relative(entry.at, now),
                at: format::datetime(entry.at),
                iso: format::iso(entry.at),
                changes: words.changes(entry),
            })
            .collect();
        Ok(HistoryPanel { lines, total, all_href: format!("/{}/{id}/history", kind.as_str()) })
    }

    pub fn has_more(&self) -> bool {
        self.total > self.lines.len()
    }
}

/// Who made a record's latest change, when its history names them.
pub async fn last_editor(state: &AppState, kind: RecordKind, id: Uuid) -> Result<Option<String>, WebError> {
    Ok(state.store.history(kind, id).await?.into_iter().next().and_then(|entry| entry.actor_name))
}

fn action_words(action: HistoryAction) -> &'static str {
    match action {
        HistoryAction::Create => "created it",
        HistoryAction::Update => "changed it",
        HistoryAction::Delete => "moved it to the trash",
        HistoryAction::Restore => "restored it from the trash",
        HistoryAction::Merge => "merged it",
        HistoryAction::Unmerge => "undid a merge",
    }
}

/// Names for the ids a history mentions, looked up once per page.
struct Words<'a> {
    staff: &'a Staff,
    people: HashMap<PersonId, String>,
    companies: HashMap<CompanyId, String>,
    deals: HashMap<DealId, String>,
    stages: HashMap<Uuid, String>,
    pipelines: HashMap<Uuid, String>,
    teams: HashMap<Uuid, String>,
    custom: Vec<CustomFieldDefinition>,
}

/// Fields whose value is an object of named parts, each shown as a change of its own.
const NESTED: &[&str] = &["preferences", "custom_fields", "links"];

impl<'a> Words<'a> {
    async fn load(
        state: &AppState,
        kind: RecordKind,
        entries: &[HistoryEntry],
        staff: &'a Staff,
    ) -> Result<Words<'a>, WebError> {
        let mut people = BTreeSet::new();
        let mut companies = BTreeSet::new();
        let mut deals = BTreeSet::new();
        let mut wants_stages = false;
        let mut wants_teams = false;
        for change in entries.iter().flat_map(|e| &e.changes) {
            for value in [&change.old, &change.new] {
                let id = value.as_str().and_then(|raw| raw.parse::<Uuid>().ok());
                match (change.field.as_str(), id) {
                    ("person_id" | "referred_by_id" | "requester_id", Some(id)) => {
                        people.insert(PersonId(id));
                    }
                    ("company_id", Some(id)) => {
                        companies.insert(CompanyId(id));
                    }
                    ("deal_id", Some(id)) => {
                        deals.insert(DealId(id));
                    }
                    ("stage_id" | "pipeline_id", _) => wants_stages = true,
                    ("team_id", _) => wants_teams = true,
                    _ => {}
                }
            }
        }
        let (mut stages, mut pipelines) = (HashMap::new(), HashMap::new());
        if wants_stages {
            for pipeline in state.store.list_pipelines().await? {
                for stage in &pipeline.stages {
                    stages.insert(stage.id.0, stage.name.to_string());
                }
                pipelines.insert(pipeline.id.0, pipeline.name.to_string());
            }
        }
        let teams = match wants_teams {
            true => state.store.list_teams().await?.into_iter().map(|t| (t.id.0, t.fields.name.to_string())).collect(),
            false => HashMap::new(),
        };
        let mut deal_names = HashMap::new();
        for id in deals {
            match state.store.get_deal(id).await {
                Ok(deal) => {
                    deal_names.insert(id, deal.fields.name.to_string());
                }
                Err(rapport_storage::StorageError::NotFound(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let custom = match kind.custom_fields() {
            Some(entity) => custom::definitions(state, entity).await?,
            None => Vec::new(),
        };
        Ok(Words {
            staff,
            people: state.store.person_names(&people.into_iter().collect::<Vec<_>>()).await?,
            companies: state.store.company_names(&companies.into_iter().collect::<Vec<_>>()).await?,
            deals: deal_names,
            stages,
            pipelines,
            teams,
            custom,
        })
    }

    fn changes(&self, entry: &HistoryEntry) -> Vec<ChangeLine> {
        let mut lines = Vec::new();
        // A deletion or a restore lists every field: the action says it all.
        if matches!(entry.action, HistoryAction::Delete | HistoryAction::Restore) {
            return lines;
        }
        for change in &entry.changes {
            let is_object = |v: &Json| v.is_object() || v.is_null();
            if NESTED.contains(&change.field.as_str()) && is_object(&change.old) && is_object(&change.new) {
                self.nested(change, &mut lines);
            } else {
                lines.push(self.line(field_label(&change.field), &change.field, &change.old, &change.new));
            }
        }
        lines
    }

    /// Each part of an object-valued field that changed, as a line of its own.
    fn nested(&self, change: &FieldChange, lines: &mut Vec<ChangeLine>) {
        let empty = serde_json::Map::new();
        let old = change.old.as_object().unwrap_or(&empty);
        let new = change.new.as_object().unwrap_or(&empty);
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for key in keys {
            let (before, after) = (old.get(key).unwrap_or(&Json::Null), new.get(key).unwrap_or(&Json::Null));
            // A part's default (unticked, empty) reads as no value at all.
            if before == after || (blank(before) && blank(after)) {
                continue;
            }
            let label = match change.field.as_str() {
                "custom_fields" => self
                    .custom
                    .iter()
                    .find(|d| d.field.key.as_str() == key)
                    .map(|d| d.field.label.to_string())
                    .unwrap_or_else(|| capitalize(key)),
                "preferences" => format!("Preferences: {}", field_label(key).to_lowercase()),
                _ => field_label(key),
            };
            // A custom number reads as on the record's page (thousands, its currency).
            let number = self.custom.iter().find(|d| {
                change.field == "custom_fields"
                    && d.field.key.as_str() == key
                    && d.field.kind == rapport_domain::custom_fields::FieldKind::Number
            });
            match number {
                Some(definition) => {
                    let shown = |value: &Json| match value {
                        Json::Number(n) => custom::number_text(n, definition.field.label.as_str()),
                        other => self.value(key, other),
                    };
                    lines.push(ChangeLine { field: label, old: shown(before), new: shown(after) });
                }
                None => lines.push(self.line(label, key, before, after)),
            }
        }
    }

    fn line(&self, label: String, field: &str, old: &Json, new: &Json) -> ChangeLine {
        ChangeLine { field: label, old: self.value(field, old), new: self.value(field, new) }
    }

    /// A stored value in words.
    fn value(&self, field: &str, value: &Json) -> String {
        let id = value.as_str().and_then(|raw| raw.parse::<Uuid>().ok());
        let named = |name: Option<&String>, what: &str| name.cloned().unwrap_or_else(|| format!("a deleted {what}"));
        match (field, value) {
            (_, Json::Null) => "(none)".into(),
            ("owner_id" | "assignee_id" | "author_id", _) if id.is_some() => {
                let name = self.staff.name(id.map(UserId));
                if name.is_empty() { "a former user".into() } else { name }
            }
            ("person_id" | "referred_by_id" | "requester_id", _) if id.is_some() => {
                named(id.and_then(|id| self.people.get(&PersonId(id))), "person")
            }
            ("company_id", _) if id.is_some() => named(id.and_then(|id| self.companies.get(&CompanyId(id))), "company"),
            ("deal_id", _) if id.is_some() => named(id.and_then(|id| self.deals.get(&DealId(id))), "deal"),
            ("due_at", Json::String(raw)) => {
                OffsetDateTime::parse(raw, &Rfc3339).map(format::datetime).unwrap_or_else(|_| raw.clone())
            }
            ("stage_id", _) if id.is_some() => named(id.and_then(|id| self.stages.get(&id)), "stage"),
            ("pipeline_id", _) if id.is_some() => named(id.and_then(|id| self.pipelines.get(&id)), "pipeline"),
            ("team_id", _) if id.is_some() => named(id.and_then(|id| self.teams.get(&id)), "team"),
            ("amount", _) => match serde_json::from_value::<Money>(value.clone()) {
                Ok(money) => super::numbers::money(&money),
                Err(_) => value.to_string(),
            },
            ("addresses", Json::Array(items)) => items
                .iter()
                .filter_map(|item| serde_json::from_value::<rapport_domain::records::PostalAddress>(item.clone()).ok())
                .map(|address| address.one_line())
                .collect::<Vec<_>>()
                .join("; "),
            ("emails" | "phones", Json::Array(items)) => items
                .iter()
                .filter_map(|item| item.get("address").or_else(|| item.get("number")).and_then(Json::as_str))
                .collect::<Vec<_>>()
                .join(", "),
            (
                "lifecycle_stage" | "status" | "size" | "preferred_channel" | "priority" | "channel",
                Json::String(raw),
            ) => capitalize(raw),
            (_, Json::Array(items)) => items.iter().map(|item| self.value("", item)).collect::<Vec<_>>().join(", "),
            (_, Json::Bool(true)) => "yes".into(),
            (_, Json::Bool(false)) => "no".into(),
            (_, Json::String(text)) => text.clone(),
            (_, other) => other.to_string(),
        }
    }
}

/// A value that says nothing: null, false, "" or an empty list or object.
fn blank(value: &Json) -> bool {
    match value {
        Json::Null | Json::Bool(false) => true,
        Json::String(text) => text.is_empty(),
        Json::Array(items) => items.is_empty(),
        Json::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// A field's name as a person reads it.
fn field_label(field: &str) -> String {
    match field {
        "owner_id" => "Owner".into(),
        "assignee_id" => "Assignee".into(),
        "company_id" => "Company".into(),
        "person_id" => "Person".into(),
        "deal_id" => "Deal".into(),
        "due_at" => "Due".into(),
        "referred_by_id" => "Referred by".into(),
        "requester_id" => "Requester".into(),
        "team_id" => "Team".into(),
        "external_id" => "External id".into(),
        "stage_id" => "Stage".into(),
        "pipeline_id" => "Pipeline".into(),
        "lifecycle_stage" => "Stage".into(),
        "keep_in_touch_days" => "Keep in touch (days)".into(),
        other => capitalize(other),
    }
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    chrome: Chrome,
    name: String,
    back_href: String,
    history: HistoryPanel,
}

async fn history_page(
    state: &AppState,
    signed: &Signed,
    kind: RecordKind,
    id: Uuid,
    name: String,
    section: &'static str,
) -> Result<Response, WebError> {
    let staff = Staff::load(state).await?;
    let history = HistoryPanel::load(state, kind, id, &staff, usize::MAX).await?;
    let view = HistoryPage {
        chrome: signed.chrome(section, format!("History of {name}")),
        name,
        back_href: format!("/{}/{id}", kind.as_str()),
        history,
    };
    signed.page(&view)
}

async fn person_history(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let name = state.store.get_person(id).await?.fields.full_name();
    history_page(&state, &signed, RecordKind::People, id.0, name, "people").await
}

async fn company_history(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let name = state.store.get_company(id).await?.fields.name.to_string();
    history_page(&state, &signed, RecordKind::Companies, id.0, name, "companies").await
}

async fn deal_history(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: rapport_domain::DealId = id.parse().map_err(|_| WebError::NotFound("deal"))?;
    let name = state.store.get_deal(id).await?.fields.name.to_string();
    history_page(&state, &signed, RecordKind::Deals, id.0, name, "deals").await
}

async fn task_history(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: rapport_domain::TaskId = id.parse().map_err(|_| WebError::NotFound("task"))?;
    let name = state.store.get_task(id).await?.fields.title.to_string();
    history_page(&state, &signed, RecordKind::Tasks, id.0, name, "tasks").await
}

async fn ticket_history(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: rapport_domain::TicketId = id.parse().map_err(|_| WebError::NotFound("ticket"))?;
    // A ticket this user may not see is not found, its history neither.
    let name = state.store.get_ticket(&signed.actor, id).await?.fields.subject.to_string();
    history_page(&state, &signed, RecordKind::Tickets, id.0, name, "tickets").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_read_as_words() {
        assert_eq!(field_label("owner_id"), "Owner");
        assert_eq!(field_label("first_name"), "First name");
        assert_eq!(field_label("expected_close"), "Expected close");
    }
}
