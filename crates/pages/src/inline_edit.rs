//! Editing one field of a record in place: a cell of the people, companies
//! or deals list, or a fact of the customer page's profile. The field's Edit
//! button (htmx) swaps in a small form carrying the record's version; Save
//! sends the one field through the same storage update as the record's edit
//! form (its checks, access rule, version and history), so a stale version
//! gets the conflict message instead of overwriting, and a refused value
//! shows its error in place, nothing changed. Cancel (or Esc, in app.js)
//! puts the field back and the focus on its Edit button.
//!
//! Each record type says which fields edit in place and how a typed value
//! changes it (`Editable`, implemented beside its pages in `people.rs`,
//! `companies.rs` and `deals.rs`); this module does the rest for all of them.

use std::future::Future;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use rapport_domain::access::Action;
use rapport_domain::records::{Company, Deal, Meta, Person};
use rapport_domain::text::Tag;
use rapport_domain::{Actor, UserId};
use rapport_storage::StorageError;

use super::form::FormData;
use super::lists::{Cell, Choice};
use super::staff::Staff;
use super::{Signed, WebError, render};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    routes_of::<Person>().merge(routes_of::<Company>()).merge(routes_of::<Deal>())
}

/// Where a field is edited: a list's table cell or a fact of a record's page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Cell,
    Fact,
}

impl Place {
    /// The URL segment: `/people/{id}/cells/email`, `/people/{id}/facts/email`.
    fn segment(self) -> &'static str {
        match self {
            Place::Cell => "cells",
            Place::Fact => "facts",
        }
    }

    /// The element the field is and htmx swaps: a table cell or a `<dd>`.
    fn tag(self) -> &'static str {
        match self {
            Place::Cell => "td",
            Place::Fact => "dd",
        }
    }
}

/// How a field's value is typed in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Input {
    Text,
    /// A sum of money, in major units ("1250.50").
    Amount,
    Date,
    /// A drop-down of the record's `choices`.
    Choice,
}

/// A field that edits in place.
pub struct InlineField {
    pub key: &'static str,
    /// As the list's column header says it ("Email"), also the Edit button's name.
    pub label: &'static str,
    pub input: Input,
}

impl InlineField {
    pub const fn new(key: &'static str, label: &'static str, input: Input) -> Self {
        InlineField { key, label, input }
    }
}

/// What a record's fields are shown and checked against: the staff (owners'
/// names and choices, who may edit), and what else the record type needs
/// (a deal's pipelines).
pub struct Context<'a, X> {
    pub staff: &'a Staff,
    pub extra: &'a X,
}

/// A record type whose fields edit in place.
pub trait Editable: Sized + Send + Sync + 'static {
    /// The list's path, where the field URLs start: "people".
    const PATH: &'static str;
    /// "person", for "Someone else changed this person meanwhile".
    const NOUN: &'static str;
    /// The fields that edit in place.
    const FIELDS: &'static [InlineField];
    /// Where its fields are edited.
    const PLACES: &'static [Place];
    /// What the fields need besides the record and the staff.
    type Extra: Send + Sync;
    /// What the record's update takes.
    type Input: Send;

    fn extra(state: &AppState) -> impl Future<Output = Result<Self::Extra, WebError>> + Send;
    /// The record by the id in the URL (404 for one that is not an id).
    fn load(state: &AppState, id: &str) -> impl Future<Output = Result<Self, WebError>> + Send;
    fn id(&self) -> String;
    /// "Rosa Larsen", for "Edit email of Rosa Larsen".
    fn name(&self) -> String;
    fn meta(&self) -> &Meta;
    fn owner(&self) -> Option<UserId>;
    /// Whether this record's `field` may be edited now (a closed deal has no stage to change).
    fn open(&self, _field: &str) -> bool {
        true
    }
    /// The field as `place` shows it.
    fn shown(&self, field: &str, place: Place, cx: &Context<'_, Self::Extra>) -> Cell;
    /// The field's value as the editor starts with it.
    fn value(&self, field: &str) -> String;
    /// A drop-down's choices.
    fn choices(&self, _field: &str, _cx: &Context<'_, Self::Extra>) -> Vec<Choice> {
        Vec::new()
    }
    /// The record's fields with `field` set to what was typed, or the message saying why not.
    fn changed(&self, field: &str, typed: &str, cx: &Context<'_, Self::Extra>) -> Result<Self::Input, String>;
    /// The record's own update, at `version`.
    fn update(
        &self,
        state: &AppState,
        actor: &Actor,
        input: Self::Input,
        version: i64,
    ) -> impl Future<Output = Result<Self, StorageError>> + Send;
}

fn field_of<R: Editable>(raw: &str) -> Option<&'static InlineField> {
    R::FIELDS.iter().find(|field| field.key == raw)
}

/// Whether `actor` may edit this record's `field` in place: the edit form's rule.
fn allowed<R: Editable>(record: &R, field: &str, staff: &Staff, actor: &Actor) -> bool {
    record.open(field) && staff.allows(actor, Action::Edit, record.owner(), record.meta().created_by)
}

/// A list's cell for `key` with its Edit button when `actor` may use it, or
/// `None` when that column does not edit in place.
pub fn list_cell<R: Editable>(record: &R, key: &str, cx: &Context<'_, R::Extra>, actor: &Actor) -> Option<Cell> {
    let field = field_of::<R>(key)?;
    let cell = record.shown(field.key, Place::Cell, cx);
    Some(if allowed(record, field.key, cx.staff, actor) {
        cell.editable(base::<R>(&record.id(), field, Place::Cell), edit_label(field, &record.name()))
    } else {
        cell
    })
}

/// A fact of a record's page, shown with its Edit button when `actor` may use it.
pub struct Fact {
    pub label: &'static str,
    pub html: String,
    /// An empty fact that cannot be edited is left out.
    pub shown: bool,
}

/// The page's facts for `keys`, in that order.
pub fn facts<R: Editable>(
    record: &R,
    keys: &[&str],
    cx: &Context<'_, R::Extra>,
    actor: &Actor,
) -> Result<Vec<Fact>, WebError> {
    keys.iter()
        .filter_map(|key| field_of::<R>(key))
        .map(|field| {
            let view = CellView::new(record, field, Place::Fact, cx, actor, false);
            let shown = view.edit_button || !view.cell.text.is_empty();
            let html = view.render().map_err(|err| {
                tracing::error!(error = %err, "rendering a fact failed");
                WebError::Internal
            })?;
            Ok(Fact { label: field.label, html, shown })
        })
        .collect()
}

fn base<R: Editable>(id: &str, field: &InlineField, place: Place) -> String {
    format!("/{}/{id}/{}/{}", R::PATH, place.segment(), field.key)
}

fn edit_label(field: &InlineField, name: &str) -> String {
    format!("Edit {} of {name}", field.label.to_lowercase())
}

/// The owner drop-down's choices: nobody, then the active staff.
pub fn owner_choices(staff: &Staff) -> Vec<Choice> {
    std::iter::once(Choice::new("", "Nobody")).chain(staff.choices()).collect()
}

/// The owner chosen ("" for nobody).
pub fn owner(typed: &str) -> Result<Option<UserId>, String> {
    match typed {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| "Choose a staff member.".to_owned()),
    }
}

/// A field that must have a value: "The name must not be empty."
pub fn required<T: TryFrom<String, Error = String>>(typed: &str, what: &str) -> Result<T, String> {
    T::try_from(typed.to_owned()).map_err(|m| refusal(what, &m))
}

/// The sentence for a refused value, whether the type's message reads
/// "must not be empty" or "not a phone number".
pub fn refusal(what: &str, message: &str) -> String {
    let predicate = ["must ", "is ", "has ", "may "].iter().any(|verb| message.starts_with(verb));
    if predicate { format!("The {what} {message}.") } else { format!("The {what} is not valid: {message}.") }
}

/// A field that may be left empty to clear it.
pub fn optional<T: TryFrom<String, Error = String>>(typed: &str, what: &str) -> Result<Option<T>, String> {
    if typed.is_empty() { Ok(None) } else { required(typed, what).map(Some) }
}

/// Tags typed with commas between them, each once.
pub fn tags(typed: &str) -> Result<Vec<Tag>, String> {
    let mut tags = Vec::new();
    for part in typed.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let tag: Tag = required(part, &format!("tag “{part}”"))?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

#[derive(Template)]
#[template(path = "inline_cell.html")]
struct CellView {
    /// `td` or `dd`.
    tag: &'static str,
    /// The field's URL: GET shows it, POST saves it, `/edit` opens the editor.
    base: String,
    /// The editor's id, its label's `for`.
    input_id: String,
    label: &'static str,
    /// "Rosa Larsen", for "Email of Rosa Larsen".
    name: String,
    cell: Cell,
    numeric: bool,
    /// A profile fact with no value says so ("Nobody", "None"); a cell stays blank.
    placeholder: Option<&'static str>,
    edit_button: bool,
    edit_label: String,
    editing: bool,
    version: i64,
    value: String,
    /// The text input's `type` and `inputmode`.
    input_type: &'static str,
    input_mode: &'static str,
    /// A drop-down's choices; empty for a typed field.
    choices: Vec<Choice>,
    error: Option<String>,
    /// After a save or a cancel: app.js moves the focus back to this field's Edit button.
    refocus: bool,
}

impl CellView {
    fn new<R: Editable>(
        record: &R,
        field: &'static InlineField,
        place: Place,
        cx: &Context<'_, R::Extra>,
        actor: &Actor,
        editing: bool,
    ) -> Self {
        let id = record.id();
        let name = record.name();
        let (input_type, input_mode) = match field.input {
            Input::Date => ("date", "text"),
            Input::Amount => ("text", "decimal"),
            Input::Text | Input::Choice => ("text", "text"),
        };
        CellView {
            tag: place.tag(),
            base: base::<R>(&id, field, place),
            input_id: format!("inline-{id}-{}", field.key),
            label: field.label,
            cell: record.shown(field.key, place, cx),
            numeric: field.input == Input::Amount && place == Place::Cell,
            placeholder: (place == Place::Fact).then_some(if field.key == "owner" { "Nobody" } else { "None" }),
            edit_button: allowed(record, field.key, cx.staff, actor),
            edit_label: edit_label(field, &name),
            name,
            editing,
            version: record.meta().version,
            value: record.value(field.key),
            input_type,
            input_mode,
            choices: if field.input == Input::Choice { record.choices(field.key, cx) } else { Vec::new() },
            error: None,
            refocus: false,
        }
    }

    /// The editor again, with what was typed and why it was not saved.
    fn refused(mut self, typed: &str, message: String, status: StatusCode) -> Result<Response, WebError> {
        self.value = typed.to_owned();
        self.error = Some(message);
        let mut response = render(&self)?;
        *response.status_mut() = status;
        Ok(response)
    }
}

/// One place's three routes for a record type.
fn routes_of<R: Editable>() -> Router<AppState> {
    R::PLACES.iter().fold(Router::new(), |router, &place| {
        let base = format!("/{}/{{id}}/{}/{{field}}", R::PATH, place.segment());
        router
            .route(
                &base,
                get(move |state: State<AppState>, signed: Signed, path: Path<(String, String)>| {
                    show::<R>(state, signed, path, place)
                })
                .post(
                    move |state: State<AppState>, signed: Signed, path: Path<(String, String)>, form: FormData| {
                        save::<R>(state, signed, path, form, place)
                    },
                ),
            )
            .route(
                &format!("{base}/edit"),
                get(move |state: State<AppState>, signed: Signed, path: Path<(String, String)>| {
                    edit::<R>(state, signed, path, place)
                }),
            )
    })
}

/// The record and the field the URL names.
async fn target<R: Editable>(state: &AppState, id: &str, field: &str) -> Result<(R, &'static InlineField), WebError> {
    let field = field_of::<R>(field).ok_or(WebError::NotFound("field"))?;
    Ok((R::load(state, id).await?, field))
}

/// The field as its place shows it (Cancel asks for it).
async fn show<R: Editable>(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(String, String)>,
    place: Place,
) -> Result<Response, WebError> {
    let (record, field) = target::<R>(&state, &id, &field).await?;
    let staff = Staff::load(&state).await?;
    let extra = R::extra(&state).await?;
    let cx = Context { staff: &staff, extra: &extra };
    let mut view = CellView::new(&record, field, place, &cx, &signed.actor, false);
    view.refocus = true;
    render(&view)
}

/// The field's small form, at the record's current version; 403 for whoever may not edit it.
async fn edit<R: Editable>(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(String, String)>,
    place: Place,
) -> Result<Response, WebError> {
    let (record, field) = target::<R>(&state, &id, &field).await?;
    let staff = Staff::load(&state).await?;
    ensure_allowed(&record, field, &staff, &signed.actor)?;
    let extra = R::extra(&state).await?;
    let cx = Context { staff: &staff, extra: &extra };
    render(&CellView::new(&record, field, place, &cx, &signed.actor, true))
}

fn ensure_allowed<R: Editable>(record: &R, field: &InlineField, staff: &Staff, actor: &Actor) -> Result<(), WebError> {
    staff.ensure(actor, Action::Edit, record.owner(), record.meta().created_by)?;
    if record.open(field.key) {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!("this {}'s {} cannot be changed now", R::NOUN, field.label.to_lowercase())))
    }
}

/// Saves the field at the version its form was opened with.
async fn save<R: Editable>(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, field)): Path<(String, String)>,
    form: FormData,
    place: Place,
) -> Result<Response, WebError> {
    let (record, field) = target::<R>(&state, &id, &field).await?;
    let staff = Staff::load(&state).await?;
    ensure_allowed(&record, field, &staff, &signed.actor)?;
    let version: i64 = form.get("version").parse().map_err(|_| WebError::BadRequest("no version".into()))?;
    let extra = R::extra(&state).await?;
    let cx = Context { staff: &staff, extra: &extra };
    let typed = form.get("value").trim();
    let editor = |record: &R| CellView::new(record, field, place, &cx, &signed.actor, true);
    let input = match record.changed(field.key, typed, &cx) {
        Ok(input) => input,
        Err(message) => return editor(&record).refused(typed, message, StatusCode::UNPROCESSABLE_ENTITY),
    };
    match record.update(&state, &signed.actor, input, version).await {
        Ok(saved) => {
            let mut view = CellView::new(&saved, field, place, &cx, &signed.actor, false);
            view.refocus = true;
            render(&view)
        }
        Err(StorageError::VersionMismatch { .. }) => {
            // Shown at the stored version: saving again replaces their value with this one.
            let view = editor(&record);
            let theirs =
                if view.cell.text.is_empty() { "empty".to_owned() } else { format!("“{}”", view.cell.text) };
            let message = format!(
                "Someone else changed this {} meanwhile: it is now {theirs}. Save again to replace it with yours.",
                R::NOUN
            );
            view.refused(typed, message, StatusCode::CONFLICT)
        }
        Err(StorageError::Invalid(errors)) => {
            let message = errors.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; ");
            editor(&record).refused(typed, format!("Not saved: {message}."), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(StorageError::Denied(denied)) => {
            editor(&record).refused(typed, format!("Not saved: {denied}."), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => Err(err.into()),
    }
}
