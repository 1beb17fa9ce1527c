//! Custom fields on forms and record pages. Inputs are named
//! `custom_fields.<key>`, the same path the API's validation errors use, so
//! storage's messages land beside the right input.

use rapport_domain::custom_fields::{CustomFieldDefinition, CustomValues, EntityType, FieldKind};
use rapport_domain::money::Currency;
use serde_json::Value;

use super::WebError;
use super::form::FormData;
use rapport_api::AppState;

pub struct CustomInput {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub choices: Vec<String>,
}

/// A custom value as a record page shows it.
pub struct CustomShown {
    pub label: String,
    pub value: String,
}

pub async fn definitions(state: &AppState, entity: EntityType) -> Result<Vec<CustomFieldDefinition>, WebError> {
    Ok(state.store.list_custom_fields(Some(entity)).await?)
}

pub fn inputs(definitions: &[CustomFieldDefinition]) -> Vec<CustomInput> {
    definitions
        .iter()
        .map(|d| CustomInput {
            name: format!("custom_fields.{}", d.field.key.as_str()),
            label: d.field.label.to_string(),
            kind: d.field.kind.as_str(),
            required: d.field.required,
            choices: d.field.choices.iter().map(|c| c.to_string()).collect(),
        })
        .collect()
}

/// The values a form sent, as the JSON the API would take. Empty inputs
/// clear their value; a number that does not parse is sent as text, so the
/// definition's own check names the problem.
pub fn from_form(definitions: &[CustomFieldDefinition], form: &FormData) -> CustomValues {
    let mut values = CustomValues::new();
    for definition in definitions {
        let key = definition.field.key.as_str();
        let raw = form.get(&format!("custom_fields.{key}"));
        let value = match definition.field.kind {
            FieldKind::Boolean => Value::Bool(form.checked(&format!("custom_fields.{key}"))),
            _ if raw.is_empty() => continue,
            // Whole numbers stay integers, so "12" reads back as "12", not "12.0".
            FieldKind::Number => match raw.parse::<i64>() {
                Ok(whole) => Value::from(whole),
                Err(_) => raw
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(raw.to_owned())),
            },
            _ => Value::String(raw.to_owned()),
        };
        values.insert(key.to_owned(), value);
    }
    values
}

/// Form values for a record's stored custom values. An unticked box has no
/// value, as a browser sends it, so an untouched one never reads as changed.
pub fn form_pairs(values: &CustomValues) -> Vec<(String, String)> {
    values
        .iter()
        .filter(|(_, value)| !matches!(value, Value::Bool(false) | Value::Null))
        .map(|(key, value)| (format!("custom_fields.{key}"), text(value)))
        .collect()
}

pub fn shown(definitions: &[CustomFieldDefinition], values: &CustomValues) -> Vec<CustomShown> {
    definitions
        .iter()
        .filter_map(|d| {
            let value = values.get(d.field.key.as_str())?;
            let value = match value {
                Value::Number(number) if d.field.kind == FieldKind::Number => {
                    number_text(number, d.field.label.as_str())
                }
                Value::Bool(true) => "Yes".to_owned(),
                Value::Bool(false) => "No".to_owned(),
                other => text(other),
            };
            Some(CustomShown { label: d.field.label.to_string(), value })
        })
        .collect()
}

/// A number field's value as money is shown when its label names a currency
/// ("Annual revenue (EUR)" → "€3,703,000.00"), else with grouped thousands.
pub(super) fn number_text(number: &serde_json::Number, label: &str) -> String {
    let currency = label
        .trim_end()
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once('('))
        .and_then(|(_, code)| Currency::parse(code).ok());
    if let (Some(currency), Some(value)) = (currency, number.as_f64()) {
        let minor = value * 10_f64.powi(currency.minor_digits() as i32);
        if minor.is_finite() && minor.abs() < 1e30 {
            return super::numbers::money_minor(minor.round() as i128, currency);
        }
    }
    super::numbers::exact(&number.to_string())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_with_thousands_and_their_currency() {
        let number = |raw: &str| raw.parse::<serde_json::Number>().unwrap();
        assert_eq!(number_text(&number("3703000"), "Annual revenue (EUR)"), "€3,703,000.00");
        assert_eq!(number_text(&number("1250.5"), "Budget (usd)"), "$1,250.50");
        assert_eq!(number_text(&number("3703000"), "Employees"), "3,703,000");
        assert_eq!(number_text(&number("-1234567.25"), "Balance"), "-1,234,567.25");
        assert_eq!(number_text(&number("12"), "Seats (approx)"), "12");
    }
}
