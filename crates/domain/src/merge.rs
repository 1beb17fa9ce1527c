//! Merging two records into one: the survivor keeps, field by field, its own
//! value or the other's; emails, phones and tags are the union of both.
//! Works on the records' JSON form, so people and companies share the rules.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::duplicates::{DuplicateKind, phone_key};
use crate::validation::FieldErrors;

/// Whose value a merged field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Survivor,
    Other,
}

/// Field (`first_name`, `custom_fields.tier`) → whose value to keep. A field
/// left out keeps the survivor's value, or the other's when the survivor has none.
pub type FieldChoices = BTreeMap<String, Side>;

const PERSON_CHOSEN: &[&str] = &[
    "first_name",
    "last_name",
    "job_title",
    "company_id",
    "owner_id",
    "lifecycle_stage",
    "source",
    "referred_by_id",
    "preferences",
    "keep_in_touch_days",
    "birthday",
];
const COMPANY_CHOSEN: &[&str] = &["name", "domain", "industry", "size", "owner_id"];
/// Lists merged as unions, with the key that makes two entries one.
const UNIONS: &[(&str, Option<&str>)] =
    &[("emails", Some("address")), ("phones", Some("number")), ("addresses", None), ("tags", None)];
const CUSTOM: &str = "custom_fields";

fn chosen_fields(kind: DuplicateKind) -> &'static [&'static str] {
    match kind {
        DuplicateKind::People => PERSON_CHOSEN,
        DuplicateKind::Companies => COMPANY_CHOSEN,
    }
}

fn object<T: Serialize>(record: &T) -> Map<String, Value> {
    match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// The value a field takes: the chosen side's, or by default the survivor's
/// unless it is empty.
fn pick(survivor: Option<&Value>, other: Option<&Value>, choice: Option<Side>) -> Option<Value> {
    let side = choice.unwrap_or(if is_empty(survivor) && !is_empty(other) { Side::Other } else { Side::Survivor });
    match side {
        Side::Survivor => survivor.cloned(),
        Side::Other => other.cloned(),
    }
}

/// What makes two list entries one: a phone number's last digits (as
/// duplicates are found), an address's parts whatever its label and
/// primary mark, anything else as it is, lower-cased.
fn identity(entry: &Value, key: Option<&str>) -> String {
    if key.is_none()
        && let Some(parts) = entry.as_object()
    {
        let parts: Map<String, Value> = parts
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "label" | "primary"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return Value::Object(parts).to_string().to_lowercase();
    }
    let value = key.and_then(|k| entry.get(k)).unwrap_or(entry);
    let text = value.as_str().map_or_else(|| value.to_string(), str::to_lowercase);
    if key == Some("number") {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        phone_key(&digits).to_owned()
    } else {
        text
    }
}

fn union(survivor: Option<&Value>, other: Option<&Value>, key: Option<&str>) -> Value {
    let mut merged: Vec<Value> = survivor.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut seen: Vec<String> = merged.iter().map(|e| identity(e, key)).collect();
    for entry in other.and_then(Value::as_array).into_iter().flatten() {
        let id = identity(entry, key);
        if !seen.contains(&id) {
            seen.push(id);
            let mut entry = entry.clone();
            // The survivor's primary stays the primary.
            if let Some(primary) = entry.get_mut("primary") {
                *primary = Value::Bool(false);
            }
            merged.push(entry);
        }
    }
    Value::Array(merged)
}

/// Checks the choices' field names against what `kind` has and may choose.
fn check_choices(kind: DuplicateKind, custom_keys: &[&String], choices: &FieldChoices) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    for field in choices.keys() {
        let path = format!("fields.{field}");
        if let Some(key) = field.strip_prefix("custom_fields.") {
            if !custom_keys.iter().any(|k| k.as_str() == key) {
                errors.add(path, "neither record has this custom field");
            }
        } else if UNIONS.iter().any(|(name, _)| name == field) {
            errors.add(path, "is combined from both records, not chosen");
        } else if !chosen_fields(kind).contains(&field.as_str()) {
            errors.add(path, "is not a field that can be chosen");
        }
    }
    errors.into_result()
}

/// The survivor's fields after the merge: each field from the side chosen,
/// emails, phones and tags from both. Fails naming `fields.<field>` for a
/// field that cannot be chosen.
pub fn merge_fields<T: Serialize + DeserializeOwned>(
    kind: DuplicateKind,
    survivor: &T,
    other: &T,
    choices: &FieldChoices,
) -> Result<T, FieldErrors> {
    let (survivor, other) = (object(survivor), object(other));
    let empty = Map::new();
    let survivor_custom = survivor.get(CUSTOM).and_then(Value::as_object).unwrap_or(&empty);
    let other_custom = other.get(CUSTOM).and_then(Value::as_object).unwrap_or(&empty);
    let mut custom_keys: Vec<&String> = survivor_custom.keys().chain(other_custom.keys()).collect();
    custom_keys.sort();
    custom_keys.dedup();
    check_choices(kind, &custom_keys, choices)?;

    let mut merged = survivor.clone();
    for &field in chosen_fields(kind) {
        match pick(survivor.get(field), other.get(field), choices.get(field).copied()) {
            Some(value) => merged.insert(field.to_owned(), value),
            None => merged.remove(field),
        };
    }
    for &(field, key) in UNIONS {
        if survivor.contains_key(field) || other.contains_key(field) {
            merged.insert(field.to_owned(), union(survivor.get(field), other.get(field), key));
        }
    }
    let mut custom = Map::new();
    for key in custom_keys {
        let choice = choices.get(&format!("custom_fields.{key}")).copied();
        if let Some(value) = pick(survivor_custom.get(key), other_custom.get(key), choice)
            && !value.is_null()
        {
            custom.insert(key.clone(), value);
        }
    }
    merged.insert(CUSTOM.to_owned(), Value::Object(custom));
    serde_json::from_value(Value::Object(merged)).map_err(|e| FieldErrors::single("fields", e.to_string()))
}

/// One field the two records disagree on, for a side-by-side comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldDifference {
    /// As a choice names it: `first_name`, `custom_fields.tier`.
    pub field: String,
    pub survivor: String,
    pub other: String,
    /// The side taken when the user does not choose.
    pub default: Side,
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields a user may choose that differ between the two records.
pub fn differences<T: Serialize>(kind: DuplicateKind, survivor: &T, other: &T) -> Vec<FieldDifference> {
    let (survivor, other) = (object(survivor), object(other));
    let mut found = Vec::new();
    let mut compare = |field: String, a: Option<&Value>, b: Option<&Value>| {
        if a != b && !(is_empty(a) && is_empty(b)) {
            let default = if is_empty(a) && !is_empty(b) { Side::Other } else { Side::Survivor };
            found.push(FieldDifference { field, survivor: text(a), other: text(b), default });
        }
    };
    for &field in chosen_fields(kind) {
        compare(field.to_owned(), survivor.get(field), other.get(field));
    }
    let empty = Map::new();
    let a = survivor.get(CUSTOM).and_then(Value::as_object).unwrap_or(&empty);
    let b = other.get(CUSTOM).and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        compare(format!("custom_fields.{key}"), a.get(key), b.get(key));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::PersonInput;
    use serde_json::json;

    fn person(value: Value) -> PersonInput {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn fields_come_from_the_chosen_side_and_lists_from_both() {
        let survivor = person(json!({ "first_name": "A.", "last_name": "Lima", "source": null,
            "emails": [{ "address": "ana@example.com", "primary": true }], "phones": [{ "number": "+44 20 7946 0958" }],
            "tags": ["vip"], "custom_fields": { "tier": "gold", "size": 3 } }));
        let other = person(json!({ "first_name": "Ana", "last_name": "Lyma", "source": "event",
            "emails": [{ "address": "ANA@example.com" }, { "address": "ana@home.example", "primary": true }],
            "phones": [{ "number": "020 7946-0958" }, { "number": "555 0100" }],
            "tags": ["vip", "newsletter"], "custom_fields": { "tier": "silver", "colour": "red" } }));
        let choices: FieldChoices =
            [("first_name".to_owned(), Side::Other), ("custom_fields.tier".to_owned(), Side::Other)].into();
        let merged = merge_fields(DuplicateKind::People, &survivor, &other, &choices).unwrap();
        assert_eq!(merged.first_name.as_str(), "Ana");
        assert_eq!(merged.last_name.as_ref().unwrap().as_str(), "Lima", "not chosen: the survivor's");
        assert_eq!(merged.source.as_ref().unwrap().as_str(), "event", "the survivor had none");
        let emails: Vec<&str> = merged.emails.iter().map(|e| e.address.as_str()).collect();
        assert_eq!(emails, ["ana@example.com", "ana@home.example"]);
        assert_eq!(merged.emails.iter().filter(|e| e.primary).count(), 1);
        assert_eq!(merged.phones.len(), 2, "one number typed two ways is one");
        assert_eq!(merged.tags.len(), 2);
        assert_eq!(merged.custom_fields["tier"], json!("silver"));
        assert_eq!(merged.custom_fields["size"], json!(3));
        assert_eq!(merged.custom_fields["colour"], json!("red"));
    }

    #[test]
    fn addresses_are_joined_and_the_birthday_chosen() {
        let survivor = person(json!({ "first_name": "Ana", "birthday": "--04-15",
            "addresses": [{ "label": "home", "locality": "Lisbon", "country": "Portugal", "primary": true }] }));
        let other = person(json!({ "first_name": "Ana", "birthday": "1985-04-15",
            "addresses": [{ "label": "casa", "locality": "Lisbon", "country": "Portugal", "primary": true },
                          { "label": "work", "locality": "Porto", "primary": false }] }));
        let merged = merge_fields(DuplicateKind::People, &survivor, &other, &FieldChoices::new()).unwrap();
        let towns: Vec<(&str, bool)> =
            merged.addresses.iter().map(|a| (a.locality.as_ref().unwrap().as_str(), a.primary)).collect();
        assert_eq!(towns, [("Lisbon", true), ("Porto", false)], "the same parts under another label are one");
        assert_eq!(merged.birthday.map(String::from).as_deref(), Some("--04-15"), "the survivor's");
        let choices: FieldChoices = [("birthday".to_owned(), Side::Other)].into();
        let merged = merge_fields(DuplicateKind::People, &survivor, &other, &choices).unwrap();
        assert_eq!(merged.birthday.map(String::from).as_deref(), Some("1985-04-15"), "the year, chosen");
    }

    #[test]
    fn bad_choices_name_the_field() {
        let a = person(json!({ "first_name": "A" }));
        let b = person(json!({ "first_name": "B" }));
        for (field, message) in [
            ("emails", "combined"),
            ("addresses", "combined"),
            ("name", "not a field"),
            ("custom_fields.nope", "neither record"),
            ("version", "not a field"),
        ] {
            let choices: FieldChoices = [(field.to_owned(), Side::Other)].into();
            let errors = merge_fields(DuplicateKind::People, &a, &b, &choices).unwrap_err();
            let got = errors.get(&format!("fields.{field}")).unwrap_or_else(|| panic!("{field}: {errors:?}"));
            assert!(got.contains(message), "{field}: {got}");
        }
    }

    #[test]
    fn differences_list_only_what_differs() {
        let a = person(json!({ "first_name": "A", "job_title": "CTO", "custom_fields": { "tier": "gold" } }));
        let b = person(json!({ "first_name": "A", "source": "web", "custom_fields": { "tier": "gold", "x": 1 } }));
        let found = differences(DuplicateKind::People, &a, &b);
        let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["job_title", "source", "custom_fields.x"]);
        assert_eq!(found[0].default, Side::Survivor);
        assert_eq!(found[1].default, Side::Other);
    }
}
