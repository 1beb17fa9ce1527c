//! Form bodies parsed into domain types, field by field, so a form shows
//! every field's error at once, in the words of the domain's own checks.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use rapport_domain::FieldErrors;
use rapport_storage::StorageError;

use super::WebError;
use crate::BODY_LIMIT;

/// A urlencoded form body, as sent.
#[derive(Clone, Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::BadRequest(format!("the form is larger than {BODY_LIMIT} bytes")))?;
        Ok(FormData(form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}

impl FormData {
    /// The first value of a field, trimmed; "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim()).unwrap_or("")
    }

    /// A checkbox: present (with any value) means ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Parses fields one by one, remembering each failure under the field's name.
pub struct Fields<'a> {
    form: &'a FormData,
    pub errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub fn new(form: &'a FormData) -> Self {
        Fields { form, errors: FieldErrors::new() }
    }

    pub fn raw(&self, name: &str) -> &'a str {
        self.form.get(name)
    }

    /// A field that must be filled in.
    pub fn required<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<T> {
        let raw = self.form.get(name);
        if raw.is_empty() {
            self.errors.add(name, "is required");
            return None;
        }
        self.parse_with(name, |raw| T::try_from(raw.to_owned()))
    }

    /// A field that may be left empty.
    pub fn optional<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Option<T> {
        self.optional_with(name, |raw| T::try_from(raw.to_owned()))
    }

    pub fn optional_with<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        if self.form.get(name).is_empty() { None } else { self.parse_with(name, parse) }
    }

    pub fn parse_with<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match parse(self.form.get(name)) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.add(name, message);
                None
            }
        }
    }

    /// A comma-separated list, each item parsed as `T`.
    pub fn list<T: TryFrom<String, Error = String>>(&mut self, name: &str) -> Vec<T> {
        let mut items = Vec::new();
        for item in self.form.get(name).split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match T::try_from(item.to_owned()) {
                Ok(value) => items.push(value),
                Err(message) => self.errors.add(name, format!("\"{item}\" {message}")),
            }
        }
        items
    }

    /// Records a failure found after parsing.
    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors.add(name, message);
    }

    /// `Err` with every recorded failure, if there was one.
    pub fn finish(self) -> Result<(), FieldErrors> {
        self.errors.into_result()
    }
}

/// A form as shown again: what was typed, and what was wrong with it.
#[derive(Clone, Debug, Default)]
pub struct FormView {
    values: HashMap<String, String>,
    pub errors: FieldErrors,
    /// A failure that belongs to no one field.
    pub problem: Option<String>,
}

impl FormView {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        FormView { values: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), ..Default::default() }
    }

    /// The form as submitted, with the errors to show beside its fields.
    pub fn rejected(form: &FormData, errors: FieldErrors) -> Self {
        let mut values = HashMap::new();
        for (key, value) in form.pairs() {
            values.entry(key.to_owned()).or_insert_with(|| value.to_owned());
        }
        let problem = errors.get("body").map(str::to_owned);
        FormView { values, errors, problem }
    }

    /// A storage refusal shown on the form: field errors beside their fields,
    /// anything else above the form.
    pub fn refused(form: &FormData, err: StorageError) -> Result<Self, WebError> {
        match err {
            StorageError::Invalid(errors) => Ok(Self::rejected(form, errors)),
            StorageError::Conflict(message) => Ok(Self::with_problem(form, message)),
            StorageError::VersionMismatch { .. } => Ok(Self::with_problem(
                form,
                "Someone else changed this record while you were editing. Open it again to see their change, then apply yours."
                    .into(),
            )),
            other => Err(WebError::from(other)),
        }
    }

    fn with_problem(form: &FormData, message: String) -> Self {
        let mut view = Self::rejected(form, FieldErrors::new());
        view.problem = Some(message);
        view
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }

    /// Whether the form sent the field at all (a select sends even an empty choice).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn ticked(&self, name: &str) -> bool {
        self.values.contains_key(name) && self.value(name) != "false"
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name)
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.problem.is_some()
    }
}

/// Percent-encodes a value for a URL query or a cookie.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What was typed into a suggestion input: the first non-empty query value.
pub fn typed(raw: Option<&str>) -> String {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(_, value)| value.trim().to_owned())
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}
