//! Custom fields: admins define them per record type; values are checked
//! against the definition and kept both typed (for display) and as canonical
//! text (for equality filters that behave the same on every database).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::CustomFieldId;
use crate::text::Name;
use crate::validation::FieldErrors;

/// Record types that carry custom fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Person,
    Company,
    Deal,
    Ticket,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "person",
            EntityType::Company => "company",
            EntityType::Deal => "deal",
            EntityType::Ticket => "ticket",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [EntityType::Person, EntityType::Company, EntityType::Deal, EntityType::Ticket]
            .into_iter()
            .find(|t| t.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Boolean,
    Choice,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Boolean => "boolean",
            FieldKind::Choice => "choice",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [FieldKind::Text, FieldKind::Number, FieldKind::Date, FieldKind::Boolean, FieldKind::Choice]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// A custom field's key: lower-case letters, digits and underscores, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldKey(String);

crate::schema::schema_from!(
    FieldKey,
    crate::schema::text(
        1,
        50,
        "^[a-z][a-z0-9_]*$",
        "1-50 lower-case letters, digits or underscores, starting with a letter, e.g. contract_tier."
    )
);

impl FieldKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FieldKey {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let valid = (1..=50).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(raw))
        } else {
            Err("must be 1-50 lower-case letters, digits or underscores, starting with a letter".into())
        }
    }
}

impl From<FieldKey> for String {
    fn from(key: FieldKey) -> String {
        key.0
    }
}

/// Why a ticket field cannot be required.
const TICKET_FIELDS_OPTIONAL: &str = "is not offered for ticket fields: tickets opened by email have no values";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomFieldInput {
    pub entity_type: EntityType,
    pub key: FieldKey,
    pub label: Name,
    pub kind: FieldKind,
    /// The allowed values of a `choice` field (at least one); other kinds have none.
    #[serde(default)]
    pub choices: Vec<Name>,
    /// Every record of the type must have a value. Not offered for tickets:
    /// those opened by email have no values.
    #[serde(default)]
    pub required: bool,
}

impl CustomFieldInput {
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match self.kind {
            FieldKind::Choice if self.choices.is_empty() => {
                errors.add("choices", "a choice field needs at least one choice")
            }
            FieldKind::Choice => {
                let mut seen = std::collections::HashSet::new();
                if !self.choices.iter().all(|c| seen.insert(c.as_str())) {
                    errors.add("choices", "choices must be unique");
                }
            }
            _ if !self.choices.is_empty() => errors.add("choices", "only choice fields have choices"),
            _ => {}
        }
        // Mail intake opens tickets with no custom values; a required one
        // would refuse every new email (and hold up the mailbox behind it).
        if self.required && self.entity_type == EntityType::Ticket {
            errors.add("required", TICKET_FIELDS_OPTIONAL);
        }
        errors.into_result()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomFieldDefinition {
    pub id: CustomFieldId,
    #[serde(flatten)]
    pub field: CustomFieldInput,
    pub version: i64,
}

/// The custom values of one record, as the client sent them.
pub type CustomValues = BTreeMap<String, Value>;

/// A value accepted by its definition: the JSON to keep, and its canonical text.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedValue {
    pub key: String,
    pub json: Value,
    pub canonical: String,
}

impl CustomFieldInput {
    /// Checks one JSON value against this definition.
    pub fn check_value(&self, value: &Value) -> Result<CheckedValue, String> {
        let (json, canonical) = match (self.kind, value) {
            (FieldKind::Text, Value::String(s)) => {
                let text = s.trim();
                if text.is_empty() || text.chars().count() > 2000 {
                    return Err("must be text of 1 to 2000 characters".into());
                }
                if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                    return Err("must not contain control characters".into());
                }
                (Value::String(text.to_owned()), text.to_owned())
            }
            (FieldKind::Number, Value::Number(n)) => {
                let number = n.as_f64().filter(|f| f.is_finite()).ok_or("must be a finite number")?;
                (value.clone(), canonical_number(number))
            }
            (FieldKind::Date, Value::String(s)) => {
                let date = parse_date(s)?;
                (Value::String(date.clone()), date)
            }
            (FieldKind::Boolean, Value::Bool(b)) => (value.clone(), b.to_string()),
            (FieldKind::Choice, Value::String(s)) => {
                let choice = self
                    .choices
                    .iter()
                    .find(|c| c.as_str() == s.trim())
                    .ok_or_else(|| format!("must be one of: {}", self.choice_list()))?;
                (Value::String(choice.to_string()), choice.to_string())
            }
            (kind, _) => return Err(format!("must be a {} value", kind.as_str())),
        };
        Ok(CheckedValue { key: self.key.as_str().to_owned(), json, canonical })
    }

    /// Parses a filter value typed in a URL (`cf.tier=gold`) into canonical text.
    pub fn canonical_filter(&self, raw: &str) -> Result<String, String> {
        self.check_value(&self.value_from_text(raw)?).map(|checked| checked.canonical)
    }

    /// The JSON value that text typed by a person stands for (a URL filter,
    /// a CSV cell): numbers and booleans parsed, everything else as text.
    /// Whole numbers stay integers, so `42` reads back as the API's `42`.
    pub fn value_from_text(&self, raw: &str) -> Result<Value, String> {
        let raw = raw.trim();
        Ok(match self.kind {
            FieldKind::Number => match raw.parse::<i64>() {
                Ok(whole) => Value::from(whole),
                Err(_) => Value::Number(
                    raw.parse::<f64>().ok().and_then(serde_json::Number::from_f64).ok_or("must be a number")?,
                ),
            },
            FieldKind::Boolean => Value::Bool(raw.parse::<bool>().map_err(|_| "must be true or false")?),
            _ => Value::String(raw.to_owned()),
        })
    }

    fn choice_list(&self) -> String {
        self.choices.iter().map(Name::as_str).collect::<Vec<_>>().join(", ")
    }
}

fn canonical_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { format!("{number}") }
}

fn parse_date(raw: &str) -> Result<String, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), &format)
        .map(|d| d.format(&format).expect("a parsed date formats"))
        .map_err(|_| "must be a date as YYYY-MM-DD".to_string())
}

/// Checks a record's custom values against the definitions for its type.
/// `null` clears a value. Field names in errors are `custom_fields.<key>`.
pub fn check_values(definitions: &[CustomFieldInput], values: &CustomValues) -> Result<Vec<CheckedValue>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut checked = Vec::new();
    for (key, value) in values {
        let field = format!("custom_fields.{key}");
        match definitions.iter().find(|d| d.key.as_str() == key) {
            None => errors.add(field, "no such custom field"),
            Some(_) if value.is_null() => {}
            Some(definition) => match definition.check_value(value) {
                Ok(value) => checked.push(value),
                Err(message) => errors.add(field, message),
            },
        }
    }
    for definition in definitions.iter().filter(|d| d.required) {
        if !checked.iter().any(|c| c.key == definition.key.as_str()) {
            errors.add(format!("custom_fields.{}", definition.key.as_str()), "is required");
        }
    }
    errors.into_result().map(|()| checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(kind: FieldKind, choices: &[&str]) -> CustomFieldInput {
        CustomFieldInput {
            entity_type: EntityType::Person,
            key: FieldKey::try_from("f".to_string()).unwrap(),
            label: Name::try_from("F").unwrap(),
            kind,
            choices: choices.iter().map(|c| Name::try_from(*c).unwrap()).collect(),
            required: false,
        }
    }

    #[test]
    fn values_are_checked_and_canonical() {
        assert_eq!(field(FieldKind::Number, &[]).check_value(&json!(5.0)).unwrap().canonical, "5");
        assert_eq!(field(FieldKind::Number, &[]).canonical_filter("5").unwrap(), "5");
        assert!(field(FieldKind::Number, &[]).check_value(&json!("5")).is_err());
        assert_eq!(field(FieldKind::Date, &[]).check_value(&json!("2025-02-03")).unwrap().canonical, "2025-02-03");
        assert!(field(FieldKind::Date, &[]).check_value(&json!("2025-02-30")).is_err());
        assert!(field(FieldKind::Choice, &["gold", "silver"]).check_value(&json!("bronze")).is_err());
        assert!(field(FieldKind::Text, &[]).check_value(&json!("a\u{0}b")).is_err());
        assert_eq!(field(FieldKind::Boolean, &[]).canonical_filter("true").unwrap(), "true");
    }

    #[test]
    fn unknown_and_missing_required_fields_are_named() {
        let mut required = field(FieldKind::Text, &[]);
        required.required = true;
        let values = CustomValues::from([("nope".to_string(), json!(1))]);
        let errors = check_values(&[required], &values).unwrap_err();
        assert_eq!(errors.get("custom_fields.nope"), Some("no such custom field"));
        assert_eq!(errors.get("custom_fields.f"), Some("is required"));
    }

    #[test]
    fn ticket_fields_cannot_be_required() {
        let mut ticket = field(FieldKind::Text, &[]);
        ticket.entity_type = EntityType::Ticket;
        assert!(ticket.check().is_ok());
        ticket.required = true;
        assert_eq!(ticket.check().unwrap_err().get("required"), Some(TICKET_FIELDS_OPTIONAL));
        ticket.entity_type = EntityType::Deal;
        assert!(ticket.check().is_ok(), "other types' fields may be required");
    }
}
