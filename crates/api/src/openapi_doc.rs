//! The finishing touches on the OpenAPI document that utoipa derives from the
//! handlers: what the shared extractors and middleware answer on every
//! operation, how a client authenticates, and which objects refuse unknown
//! keys. Clients generate code from this document, and schemathesis checks
//! the server against it (`scripts/schemathesis.sh`).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

use crate::SESSION_COOKIE;
use crate::shape::{Resolver, has_type, is_free_form, is_null, ref_name};

/// Operations anyone may call: signing in, and signing out (which only clears a cookie).
const PUBLIC: [(&str, &str); 2] = [("post", "/api/v1/session"), ("delete", "/api/v1/session")];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The served document: utoipa's, with what the shared layers answer and
/// which objects are closed. (As JSON: utoipa's types cannot read back
/// every schema they write.)
pub fn finish(spec: &OpenApi) -> Value {
    let mut doc = serde_json::to_value(spec).expect("the OpenAPI document serializes");
    document_security(&mut doc);
    document_shared_errors(&mut doc);
    document_query_text(&mut doc);
    flatten_compositions(&mut doc);
    document_merge_patches(&mut doc);
    close_request_objects(&mut doc);
    doc
}

fn operations(doc: &mut Value) -> impl Iterator<Item = (String, &'static str, &mut Map<String, Value>)> {
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut).into_iter().flat_map(|paths| paths.iter_mut());
    paths.flat_map(|(path, item)| {
        let path = path.clone();
        item.as_object_mut().into_iter().flat_map(move |item| {
            let path = path.clone();
            item.iter_mut().filter_map(move |(method, operation)| {
                let method = METHODS.into_iter().find(|m| m == method)?;
                Some((path.clone(), method, operation.as_object_mut()?))
            })
        })
    })
}

/// A token (`Authorization: Bearer`) or the session cookie, on every
/// operation but the public ones.
fn document_security(doc: &mut Value) {
    doc["components"]["securitySchemes"] = json!({
        "token": {"type": "http", "scheme": "bearer", "description": "An API token from POST /api/v1/tokens or `rapport token create`."},
        "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": "The cookie POST /api/v1/session sets."},
    });
    doc["security"] = json!([{"token": []}, {"session": []}]);
    for (path, method, operation) in operations(doc) {
        if PUBLIC.contains(&(method, path.as_str())) {
            operation.insert("security".into(), json!([]));
        }
    }
}

/// The answers that the shared extractors and layers give on every
/// operation of a kind, where its own annotation leaves them out: 401
/// without valid credentials, 400 when a JSON body is not JSON, 415 when a
/// body is not of the documented type, and 404 when the record an `{id}`
/// names does not exist (or is not the caller's to see).
fn document_shared_errors(doc: &mut Value) {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    for (path, method, operation) in operations(doc) {
        let public = PUBLIC.contains(&(method, path.as_str()));
        let has_body = operation.contains_key("requestBody");
        let json_body =
            operation.get("requestBody").is_some_and(|body| body["content"].get("application/json").is_some());
        let responses = operation.entry("responses").or_insert_with(|| json!({}));
        let Some(responses) = responses.as_object_mut() else { continue };
        let mut add = |status: &str, description: &str| {
            responses.entry(status).or_insert_with(|| error(description));
        };
        if !public {
            add("401", "Not signed in: no session cookie or API token, or one that no longer works.");
        }
        if json_body {
            add("400", "The body is not valid JSON.");
        }
        if has_body {
            add("415", "The body is not of the documented content type.");
        }
        if path.contains("{id}") {
            add("404", "No such record, or not yours to see.");
        }
    }
}

/// Free text in a query parameter has no control character: the query
/// extractor refuses them in every parameter (`extract.rs`), and parameters
/// with a pattern, a format or a list of values of their own already leave
/// them out. A shared type's pattern may allow some (a `Name` takes tabs,
/// as a body's text may), so a parameter of a shared text type takes both.
fn document_query_text(doc: &mut Value) {
    let components = components(doc);
    for (_, _, operation) in operations(doc) {
        let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
        for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
            let Some(schema) = parameter.get_mut("schema") else { continue };
            if schema.get("$ref").is_some() {
                if resolve(schema, &components).as_object().is_some_and(|shared| is_text(shared, &["format", "enum"])) {
                    let shared = schema.take();
                    *schema = json!({"allOf": [shared, {"pattern": NO_CONTROL_CHARACTERS}]});
                }
            } else if let Some(own) = schema.as_object_mut()
                && is_text(own, &["pattern", "format", "enum"])
            {
                own.insert("pattern".into(), json!(NO_CONTROL_CHARACTERS));
            }
        }
    }
}

const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// A string schema without any of the `constraints` that would already
/// leave control characters out.
fn is_text(schema: &Map<String, Value>, constraints: &[&str]) -> bool {
    has_type(schema, "string") && !constraints.iter().any(|k| schema.contains_key(*k))
}

/// Schemas that are several objects in one (`allOf`, from serde's
/// `flatten`) become one object with all their properties, so that an
/// object can say it has no others (`additionalProperties: false` on a
/// part would refuse the other parts' properties).
fn flatten_compositions(doc: &mut Value) {
    let components = components(doc);
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    for schema in schemas.values_mut() {
        flatten(schema, &components, 0);
    }
}

fn flatten(schema: &mut Value, components: &HashMap<String, Value>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some(object) = merged_object(schema, components, depth) {
        *schema = object;
    }
    match schema {
        Value::Object(map) => map.values_mut().for_each(|inner| flatten(inner, components, depth + 1)),
        Value::Array(items) => items.iter_mut().for_each(|inner| flatten(inner, components, depth + 1)),
        _ => {}
    }
}

const MAX_DEPTH: usize = 24;

/// An `allOf` of two or more parts that are all plain objects, as one
/// object (the composition's description kept).
fn merged_object(schema: &Value, components: &HashMap<String, Value>, depth: usize) -> Option<Value> {
    let parts = schema.get("allOf")?.as_array()?;
    if parts.len() < 2 || depth > MAX_DEPTH {
        return None;
    }
    let mut properties = Map::new();
    let mut required = BTreeSet::new();
    for part in parts {
        let part = resolve(part, components);
        let part = merged_object(part, components, depth + 1).unwrap_or_else(|| part.clone());
        let object = part.as_object()?;
        if !has_type(object, "object") || is_free_form(object) {
            return None;
        }
        properties.extend(object.get("properties").and_then(Value::as_object).cloned().unwrap_or_default());
        let names = object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
        required.extend(names.map(String::from));
    }
    let mut merged = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        merged["required"] = json!(required);
    }
    if let Some(description) = schema.get("description") {
        merged["description"] = description.clone();
    }
    Some(merged)
}

/// A PATCH takes a JSON merge patch (RFC 7396) of what the PUT on the same
/// path takes: any of its fields, each replacing the stored one (`null`
/// clears an optional field), no others.
fn document_merge_patches(doc: &mut Value) {
    let mut patches = Vec::new();
    for (path, method, operation) in operations(doc) {
        if method == "put"
            && let Some(reference) = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        {
            patches.push((path, ref_name(reference).to_string()));
        }
    }
    // The inputs the patches are made from; the patches added below are not among them.
    let components = components(doc);
    for (path, input) in patches {
        let Some(input_schema) = components.get(&input) else { continue };
        let Some(patch) = doc["paths"][&path].get_mut("patch") else { continue };
        let body = &mut patch["requestBody"]["content"]["application/json"]["schema"];
        if body.get("$ref").is_some() {
            continue;
        }
        let name = format!("{input}Patch");
        *body = json!({"$ref": format!("#/components/schemas/{name}")});
        let mut schema = patch_of(input_schema, &components, 0);
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "description".into(),
                json!(format!("Any of {input}'s fields (a JSON merge patch): each one sent replaces the stored value, null clears it.")),
            );
        }
        doc["components"]["schemas"][&name] = schema;
    }
}

/// What a merge patch may send for a value of `schema`: an object's fields
/// are all optional, the optional ones may be null (back to their default),
/// and an object inside is itself a patch; anything else is sent whole.
fn patch_of(schema: &Value, components: &HashMap<String, Value>, depth: usize) -> Value {
    let resolved = resolve(schema, components);
    if depth > MAX_DEPTH {
        return schema.clone();
    }
    if let Some(choices) = resolved.get("oneOf").and_then(Value::as_array) {
        let choices: Vec<Value> = choices.iter().map(|choice| patch_of(choice, components, depth + 1)).collect();
        let mut patched = resolved.clone();
        patched["oneOf"] = Value::Array(choices);
        return patched;
    }
    let (Some(properties), Some(true)) =
        (resolved.get("properties").and_then(Value::as_object), resolved.as_object().map(|o| has_type(o, "object")))
    else {
        return schema.clone();
    };
    let required: BTreeSet<&str> =
        resolved.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut patched = resolved.clone();
    let object = patched.as_object_mut().expect("an object schema");
    object.remove("required");
    let properties = properties
        .iter()
        .map(|(name, property)| {
            let mut property = patch_of(property, components, depth + 1);
            // null puts back an optional field's default; a required one cannot be cleared.
            if !required.contains(name.as_str()) && !accepts_null(&property) {
                property = json!({"oneOf": [property, {"type": "null"}]});
            }
            (name.clone(), property)
        })
        .collect();
    object.insert("properties".into(), Value::Object(properties));
    patched
}

/// Every object a request body may hold that the API checks key by key
/// (see `shape`) says so: `additionalProperties: false`. The walk follows
/// the checker's rules, so the document closes what the server closes and
/// nothing else (alternatives it cannot tell apart stay open).
fn close_request_objects(doc: &mut Value) {
    let components = components(doc);
    let resolver = Resolver::new(&components);
    let mut closer =
        Closer { resolver: &resolver, components: &components, visited: BTreeSet::new(), close: Vec::new() };
    let mut bodies = Vec::new();
    for (path, method, operation) in operations(doc) {
        if let Some(schema) = operation.get("requestBody").and_then(|body| body["content"].get("application/json")) {
            bodies.push((
                format!("/paths/{}/{method}/requestBody/content/application~1json/schema", escape(&path)),
                schema["schema"].clone(),
            ));
        }
    }
    for (pointer, schema) in &bodies {
        closer.walk(schema, pointer, 0);
    }
    // Multipart forms name their fields (the import upload refuses others).
    let forms: Vec<String> = operations(doc)
        .filter_map(|(_, _, operation)| {
            let form = operation.get("requestBody")?["content"].get("multipart/form-data")?;
            Some(format!("/components/schemas/{}", ref_name(form["schema"]["$ref"].as_str()?)))
        })
        .collect();
    for pointer in closer.close.into_iter().chain(forms) {
        if let Some(Value::Object(object)) = doc.pointer_mut(&pointer) {
            object.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

struct Closer<'a> {
    resolver: &'a Resolver<'a>,
    components: &'a HashMap<String, Value>,
    visited: BTreeSet<String>,
    /// JSON pointers to the objects to close.
    close: Vec<String>,
}

impl Closer<'_> {
    fn walk(&mut self, schema: &Value, pointer: &str, depth: usize) {
        let Some(object) = schema.as_object() else { return };
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = ref_name(reference).to_string();
            if let Some(target) = self.components.get(&name)
                && self.visited.insert(name.clone())
            {
                self.walk(target, &format!("/components/schemas/{}", escape(&name)), depth + 1);
            }
            return;
        }
        if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
            for (i, part) in parts.iter().enumerate() {
                self.walk(part, &format!("{pointer}/allOf/{i}"), depth + 1);
            }
            return;
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(choices) = object.get(key).and_then(Value::as_array) {
                let open: Vec<(usize, &Value)> = choices.iter().enumerate().filter(|(_, c)| !is_null(c)).collect();
                let told_apart =
                    open.len() == 1 || self.resolver.tells_apart(&open.iter().map(|(_, c)| *c).collect::<Vec<_>>());
                if told_apart {
                    for (i, choice) in open {
                        self.walk(choice, &format!("{pointer}/{key}/{i}"), depth + 1);
                    }
                }
                return;
            }
        }
        if let Some(items) = object.get("items") {
            self.walk(items, &format!("{pointer}/items"), depth + 1);
            return;
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object)
            && !is_free_form(object)
            && has_type(object, "object")
        {
            self.close.push(pointer.to_string());
            for (name, property) in properties {
                self.walk(property, &format!("{pointer}/properties/{}", escape(name)), depth + 1);
            }
        }
    }
}

fn accepts_null(schema: &Value) -> bool {
    let null = json!("null");
    schema.get("type").is_some_and(|t| t == &null || t.as_array().is_some_and(|types| types.contains(&null)))
        || ["oneOf", "anyOf"].iter().any(|key| {
            schema.get(*key).and_then(Value::as_array).is_some_and(|choices| choices.iter().any(accepts_null))
        })
}

fn components(doc: &Value) -> HashMap<String, Value> {
    doc["components"]["schemas"].as_object().map(|s| s.clone().into_iter().collect()).unwrap_or_default()
}

fn resolve<'v>(schema: &'v Value, components: &'v HashMap<String, Value>) -> &'v Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => components.get(ref_name(reference)).unwrap_or(schema),
        None => schema,
    }
}

/// A JSON pointer's escaping of one segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `char::is_control` holds, which the query extractor refuses.
    const CONTROL_CHARACTERS: [char; 5] = ['\u{0}', '\t', '\n', '\u{7f}', '\u{85}'];

    /// The patterns a value must match: the schema's own and those of each
    /// part of an `allOf`, through references.
    fn patterns(schema: &Value, components: &HashMap<String, Value>) -> Vec<String> {
        let schema = resolve(schema, components);
        let own = schema.get("pattern").and_then(Value::as_str).map(String::from);
        let parts = schema.get("allOf").and_then(Value::as_array).into_iter().flatten();
        own.into_iter().chain(parts.flat_map(|part| patterns(part, components))).collect()
    }

    fn is_closed_set(schema: &Value, components: &HashMap<String, Value>) -> bool {
        let schema = resolve(schema, components);
        ["format", "enum"].iter().any(|k| schema.get(*k).is_some())
            || schema
                .get("allOf")
                .and_then(Value::as_array)
                .is_some_and(|parts| parts.iter().any(|part| is_closed_set(part, components)))
    }

    #[test]
    fn every_query_parameter_of_text_says_it_takes_no_control_characters() {
        let (_, spec) = crate::api_router().split_for_parts();
        let mut doc = finish(&spec);
        let components = components(&doc);
        let mut checked = 0;
        for (path, method, operation) in operations(&mut doc) {
            let parameters = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for parameter in parameters.iter().filter(|p| p["in"] == "query") {
                let schema = &parameter["schema"];
                let patterns = patterns(schema, &components);
                let is_string = !patterns.is_empty()
                    || resolve(schema, &components).as_object().is_some_and(|s| has_type(s, "string"));
                if !is_string || is_closed_set(schema, &components) {
                    continue;
                }
                checked += 1;
                let name = &parameter["name"];
                let regexes: Vec<regex::Regex> =
                    patterns.iter().map(|p| regex::Regex::new(p).expect("a pattern Rust's regex reads")).collect();
                for control in CONTROL_CHARACTERS {
                    let value = format!("a{control}b");
                    assert!(
                        regexes.iter().any(|r| !r.is_match(&value)),
                        "{method} {path}: query parameter {name} takes {value:?} by its schema {schema}, which the server refuses"
                    );
                }
            }
        }
        assert!(checked > 20, "only {checked} query parameters of text were checked");
    }
}
