//! Editing one cell of the people list in place: the cell's Edit button
//! (htmx) swaps in a small form carrying the record's version; Save sends
//! the one field through the same update as the edit page, so a stale
//! version gets the conflict message instead of overwriting, and a refused
//! value shows its error in the cell. Cancel (or Esc, in app.js) puts the
//! cell back and the focus on its Edit button.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::records::{EmailEntry, LifecycleStage, Person, PersonInput, Phone, PhoneEntry};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Email, PersonId, UserId};
use rapport_storage::StorageError;

use super::form::FormData;
use super::format::capitalize;
use super::lists::Choice;
use super::people::stage_badge;
use super::staff::Staff;
use super::{Signed, WebError, render};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/cells/{field}", get(show).post(save))
        .route("/people/{id}/cells/{field}/edit", get(edit))
}

/// The people list's cells that can be edited in place, with their column labels.
const FIELDS: [(&str, &str); 6] = [
    ("name", "Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("owner", "Owner"),
    ("stage", "Stage"),
    ("tags", "Tags"),
];

/// The edit link of a person's cell in the list, when that column edits in place.
pub fn editable(field: &str) -> bool {
    FIELDS.iter().any(|(key, _)| *key == field)
}

#[derive(Template)]
#[template(path = "inline_cell.html")]
struct CellView {
    id: PersonId,
    field: &'static str,
    label: &'static str,
    /// "Rosa Larsen", for "Edit email of Rosa Larsen".
    name: String,
    text: String,
    href: Option<String>,
    badge: Option<&'static str>,
    editing: bool,
    version: i64,
    value: String,
    /// A drop-down's choices (owner, stage); empty for a text field.
    choices: Vec<Choice>,
    error: Option<String>,
    /// After a save or a cancel: app.js moves the focus back to this cell's Edit button.
    refocus: bool,
}

fn field_of(raw: &str) -> Result<(&'static str, &'static str), WebError> {
    FIELDS.iter().find(|(key, _)| *key == raw).copied().ok_or(WebError::NotFound("cell"))
}

async fn person(state: &AppState, raw: &str) -> Result<Person, WebError> {
    let id: PersonId = raw.parse().map_err(|_| WebError::NotFound("person"))?;
    Ok(state.store.get_person(id).await?)
}

/// The field's value as the editor shows it.
fn value_of(person: &Person, field: &str) -> String {
    let p = &person.fields;
    match field {
        "name" => p.full_name(),
        "email" => p.primary_email().map(|e| e.to_string()).unwrap_or_default(),
        "phone" => p.phones.iter().find(|e| e.primary).map(|e| e.number.as_str().to_owned()).unwrap_or_default(),
        "owner" => p.owner_id.map(|id| id.to_string()).unwrap_or_default(),
        "stage" => p.lifecycle_stage.as_str().to_owned(),
        _ => p.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", "),
    }
}

async fn view(
    state: &AppState,
    person: &Person,
    (field, label): (&'static str, &'static str),
    editing: bool,
) -> Result<CellView, WebError> {
    let staff = Staff::load(state).await?;
    let p = &person.fields;
    let (text, href, badge) = match field {
        "name" => (p.full_name(), Some(format!("/people/{}", person.id)), None),
        "owner" => (staff.name(p.owner_id), None, None),
        "stage" => (capitalize(p.lifecycle_stage.as_str()), None, Some(stage_badge(p.lifecycle_stage))),
        _ => (value_of(person, field), None, None),
    };
    let choices = match field {
        "owner" => std::iter::once(Choice::new("", "Nobody")).chain(staff.choices()).collect(),
        "stage" => super::people::lifecycle_choices(),
        _ => Vec::new(),
    };
    Ok(CellView {
        id: person.id,
        field,
        label,
        name: p.full_name(),
        text,
        href,
        badge,
        editing,
        version: person.meta.version,
        value: value_of(person, field),
        choices,
        error: None,
        refocus: false,
    })
}

/// The cell as the list shows it (Cancel asks for it).
async fn show(
    State(state): State<AppState>,
    _signed: Signed,
    Path((id, field)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let person = person(&state, &id).await?;
    let mut cell = view(&state, &person, field_of(&field)?, false).await?;
    cell.refocus = true;
    render(&cell)
}

/// The cell's small form, at the person's current version.
async fn edit(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(String, String)>,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let person = person(&state, &id).await?;
    render(&view(&state, &person, field_of(&field)?, true).await?)
}

/// The person's fields with the one cell changed, or the cell's error.
fn changed(mut fields: PersonInput, field: &str, raw: &str) -> Result<PersonInput, String> {
    let raw = raw.trim();
    match field {
        "name" => {
            let (first, last) = match raw.split_once(char::is_whitespace) {
                Some((first, last)) => (first, Some(last.trim())),
                None => (raw, None),
            };
            fields.first_name = Name::try_from(first.to_owned()).map_err(|m| format!("The name {m}."))?;
            fields.last_name =
                last.map(|l| Name::try_from(l.to_owned())).transpose().map_err(|m| format!("The last name {m}."))?;
        }
        "email" => {
            fields.emails.retain(|e| !e.primary);
            if !raw.is_empty() {
                let address = Email::parse(raw).map_err(|m| format!("The email {m}."))?;
                fields.emails.retain(|e| e.address != address);
                fields.emails.insert(0, EmailEntry { address, label: None, primary: true });
            }
        }
        "phone" => {
            fields.phones.retain(|e| !e.primary);
            if !raw.is_empty() {
                let number = Phone::try_from(raw.to_owned()).map_err(|m| format!("The phone {m}."))?;
                fields.phones.insert(0, PhoneEntry { number, label: None, primary: true });
            }
        }
        "owner" => {
            fields.owner_id = match raw {
                "" => None,
                raw => Some(raw.parse::<UserId>().map_err(|_| "Choose a staff member.".to_owned())?),
            };
        }
        "stage" => fields.lifecycle_stage = LifecycleStage::parse(raw).map_err(|m| format!("The stage {m}."))?,
        _ => {
            let mut tags = Vec::new();
            for part in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let tag = Tag::try_from(part.to_owned()).map_err(|m| format!("The tag “{part}” {m}."))?;
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            fields.tags = tags;
        }
    }
    Ok(fields)
}

/// Saves the cell at the version its form was opened with.
async fn save(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let field = field_of(&field)?;
    let person = person(&state, &id).await?;
    let version: i64 = form.get("version").parse().map_err(|_| WebError::BadRequest("no version".into()))?;
    let typed = form.get("value").to_owned();
    let refused = |mut cell: CellView, message: String| {
        cell.value = typed.clone();
        cell.error = Some(message);
        let mut response = render(&cell)?;
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        Ok::<Response, WebError>(response)
    };
    let input = match changed(person.fields.clone(), field.0, &typed) {
        Ok(input) => input,
        Err(message) => return refused(view(&state, &person, field, true).await?, message),
    };
    match state.store.update_person(&signed.actor, person.id, input, Some(version)).await {
        Ok(saved) => {
            let mut cell = view(&state, &saved, field, false).await?;
            cell.refocus = true;
            render(&cell)
        }
        Err(StorageError::VersionMismatch { .. }) => {
            // Shown at the stored version: saving again replaces their value with this one.
            let cell = view(&state, &person, field, true).await?;
            let theirs = if cell.text.is_empty() { "empty".to_owned() } else { format!("“{}”", cell.text) };
            let message = format!(
                "Someone else changed this person meanwhile: it is now {theirs}. Save again to replace it with yours."
            );
            let mut response = refused(cell, message)?;
            *response.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(response)
        }
        Err(StorageError::Invalid(errors)) => {
            let message = errors.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ");
            refused(view(&state, &person, field, true).await?, format!("Not saved: {message}."))
        }
        Err(StorageError::Denied(denied)) => {
            refused(view(&state, &person, field, true).await?, format!("Not saved: {denied}."))
        }
        Err(err) => Err(err.into()),
    }
}
