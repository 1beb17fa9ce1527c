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
    let shape = Arc::new(Resolver { components: &components }.shape(&root, 0));
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

struct Resolver<'a> {
    components: &'a HashMap<String, Value>,
}

impl Resolver<'_> {
    fn shape(&self, schema: &Value, depth: usize) -> Shape {
        if depth > MAX_DEPTH {
            return Shape::Open;
        }
        let Some(schema) = schema.as_object() else { return Shape::Open };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            return match self.components.get(name) {
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
                // `Option<T>` is "null or T"; other alternatives are not checked.
                let mut shapes = choices.iter().filter(|c| !is_null(c)).map(|c| self.shape(c, depth + 1));
                return match (shapes.next(), shapes.next()) {
                    (Some(only), None) => only,
                    _ => Shape::Open,
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
        let free_form = schema.get("additionalProperties").is_some_and(|extra| extra != &Value::Bool(false));
        match properties {
            Some(properties) if !free_form && has_type(schema, "object") => Shape::Closed(
                properties.iter().map(|(name, property)| (name.clone(), self.shape(property, depth + 1))).collect(),
            ),
            _ => Shape::Open,
        }
    }
}

fn has_type(schema: &serde_json::Map<String, Value>, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == wanted,
        Some(Value::Array(types)) => types.iter().any(|t| t == wanted),
        _ => false,
    }
}

fn is_null(schema: &Value) -> bool {
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
                        None => errors.add(here, unknown_message(key, fields.keys())),
                    }
                }
            }
            (Shape::Array(items), Value::Array(values)) => {
                for (i, inner) in values.iter().enumerate() {
                    items.check(inner, &format!("{path}[{i}]"), errors);
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
fn unknown_message<'a>(key: &str, known: impl Iterator<Item = &'a String>) -> String {
    let wanted = key.to_lowercase();
    let closest = known
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
    fn free_form_bodies_take_anything() {
        assert_eq!(*shape_of::<Value>(), Shape::Open);
        assert!(unknown_fields::<Value>(&json!({"x": 1})).is_empty());
    }
}
