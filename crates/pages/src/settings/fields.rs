//! Settings → Custom fields: extra fields on people, companies, deals and tickets.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKey, FieldKind};
use rapport_domain::text::Name;
use rapport_domain::{CustomFieldId, FieldErrors};
use rapport_storage::StorageError;

use super::{Tab, require_admin, respond, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::lists::Choice;
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

const ENTITIES: [(EntityType, &str); 4] = [
    (EntityType::Person, "People"),
    (EntityType::Company, "Companies"),
    (EntityType::Deal, "Deals"),
    (EntityType::Ticket, "Tickets"),
];

const KINDS: [(FieldKind, &str); 5] = [
    (FieldKind::Text, "Text"),
    (FieldKind::Number, "Number"),
    (FieldKind::Date, "Date"),
    (FieldKind::Boolean, "Yes / no"),
    (FieldKind::Choice, "Choice from a list"),
];

pub struct FieldRow {
    pub id: CustomFieldId,
    pub key: String,
    pub label: String,
    pub kind: &'static str,
    pub choices: String,
    pub required: bool,
}

pub struct FieldGroup {
    pub entity: &'static str,
    pub heading: &'static str,
    pub fields: Vec<FieldRow>,
}

#[derive(Template)]
#[template(path = "settings_fields.html")]
struct FieldsPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    groups: Vec<FieldGroup>,
    entity_types: Vec<Choice>,
    kinds: Vec<Choice>,
    form: FormView,
}

fn kind_label(kind: FieldKind) -> &'static str {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, label)| *label).unwrap_or("Text")
}

async fn fields_page(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let definitions = state.store.list_custom_fields(None).await?;
    let groups = ENTITIES
        .iter()
        .map(|&(entity, heading)| FieldGroup {
            entity: entity.as_str(),
            heading,
            fields: definitions
                .iter()
                .filter(|d| d.field.entity_type == entity)
                .map(|d| FieldRow {
                    id: d.id,
                    key: d.field.key.as_str().to_owned(),
                    label: d.field.label.to_string(),
                    kind: kind_label(d.field.kind),
                    choices: d.field.choices.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                    required: d.field.required,
                })
                .collect(),
        })
        .collect();
    let page = FieldsPage {
        chrome: signed.chrome("settings", "Custom fields"),
        tabs: tabs(signed, "/settings/fields"),
        groups,
        entity_types: ENTITIES
            .iter()
            .map(|(entity, _)| Choice::new(entity.as_str(), crate::format::capitalize(entity.as_str())))
            .collect(),
        kinds: KINDS.iter().map(|(kind, label)| Choice::new(kind.as_str(), *label)).collect(),
        form,
    };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let form = FormView::from_pairs([("entity_type", "person".to_owned()), ("kind", "text".to_owned())]);
    fields_page(&state, &signed, form, StatusCode::OK).await
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut f = Fields::new(&form);
    let entity_type = f.parse_with("entity_type", |raw| {
        EntityType::parse(raw).ok_or_else(|| "must be person, company, deal or ticket".into())
    });
    let key = f.required::<FieldKey>("key");
    let label = f.required::<Name>("label");
    let kind = f.parse_with("kind", |raw| {
        FieldKind::parse(raw).ok_or_else(|| "must be text, number, date, boolean or choice".into())
    });
    let choices = f.list::<Name>("choices");
    let errors = f.errors.clone();
    let input = match (entity_type, key, label, kind, errors.is_empty()) {
        (Some(entity_type), Some(key), Some(label), Some(kind), true) => {
            CustomFieldInput { entity_type, key, label, kind, choices, required: form.checked("required") }
        }
        _ => {
            return fields_page(&state, &signed, FormView::rejected(&form, errors), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    if let Err(errors) = input.check() {
        return fields_page(
            &state,
            &signed,
            FormView::rejected(&form, reworded(errors)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.store.create_custom_field(&signed.actor, input).await {
        Ok(definition) => Ok(redirect_with_flash(
            "/settings/fields",
            &format!("The field “{}” was added to {}.", definition.field.label, plural(definition.field.entity_type)),
        )),
        Err(StorageError::Conflict(_)) => {
            let mut view = FormView::rejected(&form, Default::default());
            view.errors.add("key", "is already used by another field of this record type");
            fields_page(&state, &signed, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => {
            fields_page(&state, &signed, FormView::refused(&form, err)?, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The domain's messages about choices, worded to follow the field's label.
fn reworded(errors: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for (field, message) in errors.iter() {
        let message = match message.as_str() {
            "a choice field needs at least one choice" => "are needed: a choice field needs at least one",
            "only choice fields have choices" => "are only for choice fields: leave them empty",
            "choices must be unique" => "must be unique",
            other => other,
        };
        out.add(field.clone(), message);
    }
    out
}

fn plural(entity: EntityType) -> &'static str {
    match entity {
        EntityType::Person => "people",
        EntityType::Company => "companies",
        EntityType::Deal => "deals",
        EntityType::Ticket => "tickets",
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id: CustomFieldId = id.parse().map_err(|_| WebError::NotFound("custom field"))?;
    let definition = state.store.get_custom_field(id).await?;
    state.store.delete_custom_field(&signed.actor, id).await?;
    Ok(redirect_with_flash(
        "/settings/fields",
        &format!(
            "The field “{}” was deleted from {}, with its values.",
            definition.field.label,
            plural(definition.field.entity_type)
        ),
    ))
}
