//! The fields a request body may carry, read from its type's OpenAPI schema.
//!
//! serde ignores keys a type does not know, and `deny_unknown_fields` cannot
//! be used on the `*Input` types, which are flattened into the records. So the
//! API checks a body's keys itself, against the schema utoipa derives from the
//! same struct (and its serde attributes) that then parses the body: the check
//! and the document cannot drift apart. Nested objects are checked too
//! (`preferences`, `emails[0]`, `amount`); free-form objects (`custom_fields`)
//! and alternatives that cannot be told apart are left alone.

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, RwLock};

use rapport_domain::FieldErrors;
use serde_json::Value;
use utoipa::ToSchema;

/// What a JSON value may hold.
#[derive(Debug, PartialEq)]
pub enum Shape {
    /// An object with these properties and no others.
    Closed(BTreeMap<String, Shape>),
    /// An array whose items have this shape.
    Array(Box<Shape>),
    /// Objects told apart by the value of one property, `tag` (serde's
    /// internally tagged enums, such as a survey's `{"on": "every", ...}`):
    /// each value's object has its own fields.
    Tagged { tag: String, variants: BTreeMap<String, Shape> },
    /// Anything: a scalar, a free-form object, or alternatives left unchecked.
    Open,
}

/// The shape of `T`'s JSON, computed once per type.
pub fn shape_of<T: ToSchema + 'static>() -> Arc<Shape> {
    static SHAPES: LazyLock<RwLock<HashMap<TypeId, Arc<Shape>>>> = LazyLock::new(Default::default);
    let key = TypeId::of::<T>();
    if let Some(shape) = SHAPES.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(shape);
    }
    let mut components = Vec::new();
    T::schemas(&mut components);
    let components: HashMap<String, Value> =
        components.into_iter().filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?))).collect();
    let root = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
    let shape = Arc::new(Resolver::new(&components).shape(&root, 0));
    SHAPES.write().unwrap_or_else(|e| e.into_inner()).insert(key, Arc::clone(&shape));
    shape
}

/// Every key of `value` that `T` does not accept, named by its JSON path.
pub fn unknown_fields<T: ToSchema + 'static>(value: &Value) -> FieldErrors {
    let mut errors = FieldErrors::new();
    shape_of::<T>().check(value, "", &mut errors);
    errors
}

/// Deeper than any body Rapport takes; also stops a schema that refers to itself.
const MAX_DEPTH: usize = 12;

/// Reads shapes from schemas whose `$ref`s name `components`.
pub(crate) struct Resolver<'a> {
    components: &'a HashMap<String, Value>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(components: &'a HashMap<String, Value>) -> Self {
        Resolver { components }
    }

    /// Whether the API checks the keys of alternatives like these: they are
    /// objects told apart by a tag (see [`Resolver::tagged`]).
    pub(crate) fn tells_apart(&self, choices: &[&Value]) -> bool {
        matches!(self.tagged(choices, 0), Shape::Tagged { .. })
    }
    fn shape(&self, schema: &Value, depth: usize) -> Shape {
        if depth > MAX_DEPTH {
            return Shape::Open;
        }
        let Some(schema) = schema.as_object() else { return Shape::Open };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return match self.components.get(ref_name(reference)) {
                Some(target) => self.shape(target, depth + 1),
                None => Shape::Open,
            };
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            // Every part describes the same object: its fields are all of theirs.
            let mut fields = BTreeMap::new();
            for part in parts {
                match self.shape(part, depth + 1) {
                    Shape::Closed(more) => fields.extend(more),
                    _ => return Shape::Open,
                }
            }
            return Shape::Closed(fields);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(choices) = schema.get(key).and_then(Value::as_array) {
                // `Option<T>` is "null or T"; tagged objects are told apart by
                // their tag; other alternatives are not checked.
                let choices: Vec<&Value> = choices.iter().filter(|c| !is_null(c)).collect();
                return match choices.as_slice() {
                    [only] => self.shape(only, depth + 1),
                    _ => self.tagged(&choices, depth + 1),
                };
            }
        }
        if has_type(schema, "array") {
            return match schema.get("items") {
                Some(items) => Shape::Array(Box::new(self.shape(items, depth + 1))),
                None => Shape::Open,
            };
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        match properties {
            Some(properties) if !is_free_form(schema) && has_type(schema, "object") => Shape::Closed(
                properties.iter().map(|(name, property)| (name.clone(), self.shape(property, depth + 1))).collect(),
            ),
            _ => Shape::Open,
        }
    }

    /// Alternatives that are all closed objects with one property in common
    /// whose value is fixed, and different, in each: that property's value
    /// says which object the rest must be.
    fn tagged(&self, choices: &[&Value], depth: usize) -> Shape {
        let choices: Vec<&Value> = choices.iter().map(|c| self.resolve(c, depth)).collect();
        let constants: Vec<BTreeMap<&str, &str>> = choices.iter().map(|c| constant_properties(c)).collect();
        let Some(tag) = constants
            .first()
            .and_then(|first| first.keys().find(|name| constants.iter().all(|c| c.contains_key(*name))).copied())
        else {
            return Shape::Open;
        };
        let mut variants = BTreeMap::new();
        for (choice, constant) in choices.iter().zip(&constants) {
            let value = constant[tag].to_string();
            match self.shape(choice, depth + 1) {
                Shape::Closed(fields) if !variants.contains_key(&value) => {
                    variants.insert(value, Shape::Closed(fields));
                }
                _ => return Shape::Open,
            }
        }
        Shape::Tagged { tag: tag.to_string(), variants }
    }

    /// The schema a `$ref` points to (the schema itself when it is none).
    fn resolve<'v>(&'v self, mut schema: &'v Value, depth: usize) -> &'v Value {
        for _ in depth..MAX_DEPTH {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else { break };
            match self.components.get(ref_name(reference)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }
}

/// The properties of an object schema that hold one fixed string (`"enum": ["every"]`).
fn constant_properties(schema: &Value) -> BTreeMap<&str, &str> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return BTreeMap::new() };
    properties
        .iter()
        .filter_map(|(name, property)| match property.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(only)]) => Some((name.as_str(), only.as_str())),
            _ => None,
        })
        .collect()
}

/// The component a `$ref` names: `Money` for `#/components/schemas/Money`.
pub(crate) fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Whether an object schema takes keys beyond its properties.
pub(crate) fn is_free_form(schema: &serde_json::Map<String, Value>) -> bool {
    schema.get("additionalProperties").is_some_and(|extra| extra != &Value::Bool(false))
}

pub(crate) fn has_type(schema: &serde_json::Map<String, Value>, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == wanted,
        Some(Value::Array(types)) => types.iter().any(|t| t == wanted),
        _ => false,
    }
}

pub(crate) fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

impl Shape {
    fn check(&self, value: &Value, path: &str, errors: &mut FieldErrors) {
        match (self, value) {
            (Shape::Closed(fields), Value::Object(object)) => {
                for (key, inner) in object {
                    let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    match fields.get(key) {
                        Some(shape) => shape.check(inner, &here, errors),
                        None => errors.add(here, unknown_message(key, fields.keys().map(String::as_str))),
                    }
                }
            }
            (Shape::Array(items), Value::Array(values)) => {
                for (i, inner) in values.iter().enumerate() {
                    items.check(inner, &format!("{path}[{i}]"), errors);
                }
            }
            // serde would read an array as the struct's fields in order.
            (Shape::Closed(_) | Shape::Tagged { .. }, Value::Array(_)) => {
                errors.add(if path.is_empty() { "body" } else { path }, "must be an object, not an array");
            }
            // An unknown tag is serde's to name.
            (Shape::Tagged { tag, variants }, Value::Object(object)) => {
                if let Some(variant) = object.get(tag).and_then(Value::as_str).and_then(|v| variants.get(v)) {
                    variant.check(value, path, errors);
                }
            }
            _ => {}
        }
    }

    /// The names an object of this shape accepts (empty unless it is closed).
    pub fn field_names(&self) -> Vec<&str> {
        match self {
            Shape::Closed(fields) => fields.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// "is not a field here", with the likely intended field when one is close.
pub fn unknown_message<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let wanted = key.to_lowercase();
    let closest = known
        .into_iter()
        .map(|name| (strsim::jaro_winkler(&wanted, name), name))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, name)) => format!("is not a field here: did you mean `{name}`?"),
        None if key == "version" => "is not a field here: send the version you last read as If-Match".into(),
        None => "is not a field here".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::records::{ActivityInput, PersonInput};
    use rapport_domain::surveys::SurveyInput;
    use serde_json::json;

    #[test]
    fn unknown_keys_are_named_at_any_depth() {
        let body = json!({
            "first_name": "Ada", "email": "ada@example.com",
            "emails": [{"address": "a@example.com", "lable": "work"}],
            "preferences": {"language": "en", "colour": "blue"},
            "custom_fields": {"anything": 1}, "last_name": null
        });
        let errors = unknown_fields::<PersonInput>(&body);
        let named: Vec<_> = errors.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            named,
            [
                ("email", "is not a field here: did you mean `emails`?"),
                ("emails[0].lable", "is not a field here: did you mean `label`?"),
                ("preferences.colour", "is not a field here"),
            ]
        );
    }

    #[test]
    fn flattened_fields_count_as_the_type_s_own() {
        let fields = shape_of::<ActivityInput>().field_names().join(",");
        assert!(fields.contains("person_id") && fields.contains("kind"), "{fields}");
        let body = json!({"kind": "note", "body": "x", "deal_id": null, "version": 3});
        let errors = unknown_fields::<ActivityInput>(&body);
        assert_eq!(errors.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["version"]);
    }

    #[test]
    fn tagged_alternatives_are_checked_by_their_tag() {
        let shape = shape_of::<SurveyInput>();
        let Shape::Closed(fields) = &*shape else { panic!("{shape:?}") };
        assert!(matches!(&fields["trigger"], Shape::Tagged { tag, variants } if tag == "on" && variants.len() == 5));
        let body = json!({ "name": "N", "trigger": { "on": "every", "months": 3, "audiance": "segment=lost" } });
        let errors = unknown_fields::<SurveyInput>(&body);
        assert_eq!(errors.get("trigger.audiance"), Some("is not a field here: did you mean `audience`?"));
        // Each tag's own fields: `months` belongs to `every` only.
        let body = json!({ "trigger": { "on": "manual", "months": 3 } });
        assert_eq!(unknown_fields::<SurveyInput>(&body).get("trigger.months"), Some("is not a field here"));
        let fine = json!({ "trigger": { "on": "ticket_solved", "team_id": null } });
        assert!(unknown_fields::<SurveyInput>(&fine).is_empty());
        // A tag no variant has is left to serde, which names the value.
        assert!(unknown_fields::<SurveyInput>(&json!({ "trigger": { "on": "never", "x": 1 } })).is_empty());
    }

    #[test]
    fn an_array_is_not_an_object() {
        let body = json!({"first_name": "Ada", "preferences": [null, null]});
        let errors = unknown_fields::<PersonInput>(&body);
        assert_eq!(errors.get("preferences"), Some("must be an object, not an array"));
        let errors = unknown_fields::<PersonInput>(&json!(["Ada"]));
        assert_eq!(errors.get("body"), Some("must be an object, not an array"));
    }

    #[test]
    fn free_form_bodies_take_anything() {
        assert_eq!(*shape_of::<Value>(), Shape::Open);
        assert!(unknown_fields::<Value>(&json!({"x": 1})).is_empty());
    }
}
