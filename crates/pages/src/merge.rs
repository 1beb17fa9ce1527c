//! Merging two people (or companies) in the browser: pick the other record,
//! compare them side by side with a choice per differing field, confirm; the
//! survivor's page then offers "Undo merge".

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::duplicates::DuplicateKind;
use rapport_domain::merge::{FieldChoices, Side, differences};
use rapport_domain::{CompanyId, PersonId};
use rapport_storage::{CompanyFilter, ListQuery, MergeVersions, PersonFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{FormData, encode};
use super::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;
use rapport_api::extract::parse_query;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/merge", get(people_page).post(merge_people))
        .route("/companies/{id}/merge", get(companies_page).post(merge_companies))
        .route("/merges/{id}/undo", post(undo))
}

/// One field the records disagree on, with the side taken unless the user picks.
pub struct Choice {
    pub field: String,
    pub label: String,
    pub survivor: String,
    pub other: String,
    pub other_by_default: bool,
}

/// The record to merge in, compared with the survivor.
pub struct Compared {
    pub id: Uuid,
    pub name: String,
    pub version: i64,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "merge.html")]
struct MergePage {
    chrome: Chrome,
    /// `people` or `companies`.
    kind: &'static str,
    id: Uuid,
    name: String,
    version: i64,
    /// Search results to pick the other record from, when none is chosen.
    q: String,
    candidates: Vec<(Uuid, String)>,
    other: Option<Compared>,
}

#[derive(Deserialize)]
struct PageParams {
    other: Option<String>,
    q: Option<String>,
}

fn label(field: &str) -> String {
    let name = field.strip_prefix("custom_fields.").unwrap_or(field).replace('_', " ");
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn choices<T: serde::Serialize>(kind: DuplicateKind, survivor: &T, other: &T) -> Vec<Choice> {
    differences(kind, survivor, other)
        .into_iter()
        .map(|d| Choice {
            label: label(&d.field),
            field: d.field,
            survivor: d.survivor,
            other: d.other,
            other_by_default: d.default == Side::Other,
        })
        .collect()
}

fn other_id(raw: Option<&str>) -> Result<Option<Uuid>, WebError> {
    match raw.filter(|r| !r.is_empty()) {
        Some(raw) => Uuid::parse_str(raw).map(Some).map_err(|_| WebError::BadRequest("other: not a record id".into())),
        None => Ok(None),
    }
}

async fn people_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let params: PageParams = parse_query(raw.as_deref().unwrap_or(""))?;
    let person = state.store.get_person(id).await?;
    let other = match other_id(params.other.as_deref())? {
        Some(other) => {
            let other = state.store.get_person(PersonId(other)).await?;
            Some(Compared {
                id: other.id.0,
                name: other.fields.full_name(),
                version: other.meta.version,
                choices: choices(DuplicateKind::People, &person.fields, &other.fields),
            })
        }
        None => None,
    };
    let q = params.q.unwrap_or_default();
    let candidates = if q.is_empty() {
        Vec::new()
    } else {
        let query = ListQuery { limit: Some(20), q: Some(q.clone()), ..Default::default() };
        let found = state.store.list_people(&query, &PersonFilter::default()).await?.items;
        found.into_iter().filter(|p| p.id != id).map(|p| (p.id.0, p.fields.full_name())).collect()
    };
    signed.page(&MergePage {
        chrome: signed.chrome("people", format!("Merge {}", person.fields.full_name())),
        kind: "people",
        id: id.0,
        name: person.fields.full_name(),
        version: person.meta.version,
        q,
        candidates,
        other,
    })
}

async fn companies_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let params: PageParams = parse_query(raw.as_deref().unwrap_or(""))?;
    let company = state.store.get_company(id).await?;
    let other = match other_id(params.other.as_deref())? {
        Some(other) => {
            let other = state.store.get_company(CompanyId(other)).await?;
            Some(Compared {
                id: other.id.0,
                name: other.fields.name.to_string(),
                version: other.meta.version,
                choices: choices(DuplicateKind::Companies, &company.fields, &other.fields),
            })
        }
        None => None,
    };
    let q = params.q.unwrap_or_default();
    let candidates = if q.is_empty() {
        Vec::new()
    } else {
        let query = ListQuery { limit: Some(20), q: Some(q.clone()), ..Default::default() };
        let found = state.store.list_companies(&query, &CompanyFilter::default()).await?.items;
        found.into_iter().filter(|c| c.id != id).map(|c| (c.id.0, c.fields.name.to_string())).collect()
    };
    signed.page(&MergePage {
        chrome: signed.chrome("companies", format!("Merge {}", company.fields.name)),
        kind: "companies",
        id: id.0,
        name: company.fields.name.to_string(),
        version: company.meta.version,
        q,
        candidates,
        other,
    })
}

/// The form's other record, versions and `take.FIELD` choices.
fn parse_merge(form: &FormData) -> Result<(Uuid, FieldChoices, MergeVersions), WebError> {
    let other =
        other_id(Some(form.get("other")))?.ok_or_else(|| WebError::BadRequest("choose the other record".into()))?;
    let version = |name: &str| form.get(name).parse::<i64>().ok();
    let mut choices = FieldChoices::new();
    for (key, value) in form.pairs() {
        if let Some(field) = key.strip_prefix("take.") {
            let side = match value {
                "survivor" => Side::Survivor,
                "other" => Side::Other,
                _ => return Err(WebError::BadRequest(format!("{field}: choose this record or the other"))),
            };
            choices.insert(field.to_owned(), side);
        }
    }
    Ok((other, choices, MergeVersions { survivor: version("version"), other: version("other_version") }))
}

async fn merge_people(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: PersonId = id.parse().map_err(|_| WebError::NotFound("person"))?;
    let (other, choices, versions) = parse_merge(&form)?;
    let merged = state.store.merge_people(&signed.actor, id, PersonId(other), &choices, versions).await?;
    let target = format!("/people/{id}?merged={}", encode(&merged.merge_id.to_string()));
    Ok(redirect_with_flash(&target, &format!("Merged into {}", merged.record.fields.full_name())))
}

async fn merge_companies(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: CompanyId = id.parse().map_err(|_| WebError::NotFound("company"))?;
    let (other, choices, versions) = parse_merge(&form)?;
    let merged = state.store.merge_companies(&signed.actor, id, CompanyId(other), &choices, versions).await?;
    let target = format!("/companies/{id}?merged={}", encode(&merged.merge_id.to_string()));
    Ok(redirect_with_flash(&target, &format!("Merged into {}", merged.record.fields.name)))
}

async fn undo(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    let merge_id: Uuid = id.parse().map_err(|_| WebError::NotFound("merge"))?;
    let (kind, survivor, _) = state.store.undo_merge(&signed.actor, merge_id).await?;
    Ok(redirect_with_flash(&format!("/{}/{survivor}", kind.as_str()), "Merge undone: both records are back"))
}

/// The merge id in a survivor page's `?merged=`, for its "Undo merge" button.
pub fn merged_param(raw: Option<&str>) -> Option<Uuid> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .find(|(key, _)| key == "merged")
        .and_then(|(_, value)| Uuid::parse_str(&value).ok())
}
