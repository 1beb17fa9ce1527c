//! Form bodies parsed into domain types, field by field, so a form shows
//! every field's error at once, in the words of the domain's own checks.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use rapport_domain::FieldErrors;
use rapport_domain::records::Meta;
use rapport_storage::StorageError;

use super::{WebError, format};
use rapport_api::BODY_LIMIT;

/// The hidden field of an edit form that carries the values it was rendered
/// with (urlencoded), so a save over someone else's change can tell which
/// fields this user changed and apply only those.
pub const ORIGINAL: &str = "_original";

/// Fields of a form that are not record fields.
const CONTROL_FIELDS: &[&str] = &["_csrf", "version", ORIGINAL];

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
    /// A form read another way (the text fields of a multipart form).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        FormData(pairs)
    }

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
    /// Set when the record changed since the form was rendered.
    pub conflict: Option<Conflict>,
    /// Fields both this user and someone else changed: the value stored now.
    theirs: HashMap<String, String>,
}

/// Who saved a record while someone else was editing it, and when.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// Their name, when it is known.
    pub who: Option<String>,
    /// "2 minutes ago".
    pub ago: String,
    /// "2026-11-25 14:03 UTC".
    pub at: String,
    pub iso: String,
    /// The record's page: going back there drops this user's changes.
    pub discard_href: String,
}

impl Conflict {
    /// The change that made `meta` what it is now.
    pub fn new(meta: &Meta, who: Option<String>, discard_href: String) -> Self {
        let now = rapport_domain::records::now();
        Conflict {
            who,
            ago: format::relative(meta.updated_at, now),
            at: format::datetime(meta.updated_at),
            iso: format::iso(meta.updated_at),
            discard_href,
        }
    }
}

impl FormView {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        FormView { values: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), ..Default::default() }
    }

    /// An edit form over a stored record's values, remembering them as the
    /// original the user's changes will be told apart from.
    pub fn editing(stored: Vec<(String, String)>) -> Self {
        let original = encode_pairs(&stored);
        let mut values: HashMap<String, String> = stored.into_iter().collect();
        values.insert(ORIGINAL.to_owned(), original);
        FormView { values, ..Default::default() }
    }

    /// A save refused because someone else saved the record after this form
    /// was rendered. The form is shown again over the record as stored now:
    /// the fields this user changed keep their values, every other field takes
    /// the stored one, and where both changed a field the stored value is shown
    /// beside theirs. Its original becomes the stored values, so saving again
    /// applies this user's changes on top of the other person's.
    ///
    /// A form without an original (sent by a script) counts every field as changed.
    pub fn conflicted(form: &FormData, stored: Vec<(String, String)>, conflict: Conflict) -> Self {
        let original: Option<HashMap<String, String>> = form
            .0
            .iter()
            .find(|(key, _)| key == ORIGINAL)
            .map(|(_, blob)| form_urlencoded::parse(blob.as_bytes()).into_owned().collect());
        let stored_values: HashMap<&str, &str> = stored.iter().map(|(k, v)| (k.as_str(), v.trim())).collect();
        let mut names: BTreeSet<&str> = stored_values.keys().copied().collect();
        names.extend(form.pairs().map(|(key, _)| key).filter(|key| !CONTROL_FIELDS.contains(key)));
        if let Some(original) = &original {
            names.extend(original.keys().map(String::as_str));
        }
        let mut values = HashMap::new();
        let mut theirs = HashMap::new();
        for name in names {
            let mine = form.get(name);
            let now = stored_values.get(name).copied().unwrap_or("");
            let (changed_mine, changed_theirs) = match &original {
                Some(original) => {
                    let was = original.get(name).map(|v| v.trim()).unwrap_or("");
                    (mine != was, now != was)
                }
                None => (true, true),
            };
            let shown = if changed_mine { mine } else { now };
            if changed_mine && changed_theirs && mine != now {
                theirs.insert(name.to_owned(), now.to_owned());
            }
            // An absent value reads as empty, and as an unticked checkbox.
            if !shown.is_empty() {
                values.insert(name.to_owned(), shown.to_owned());
            }
        }
        values.insert(ORIGINAL.to_owned(), encode_pairs(&stored));
        FormView { values, theirs, conflict: Some(conflict), ..Default::default() }
    }

    /// The form as submitted, with the errors to show beside its fields.
    pub fn rejected(form: &FormData, errors: FieldErrors) -> Self {
        let mut values = HashMap::new();
        for (key, value) in form.pairs() {
            values.entry(key.to_owned()).or_insert_with(|| value.to_owned());
        }
        let problem = errors.get("body").map(str::to_owned);
        FormView { values, errors, problem, ..Default::default() }
    }

    /// A storage refusal shown on the form: field errors beside their fields,
    /// anything else above the form.
    pub fn refused(form: &FormData, err: StorageError) -> Result<Self, WebError> {
        match err {
            StorageError::Invalid(errors) => Ok(Self::rejected(form, errors)),
            StorageError::Conflict(message) => Ok(Self::with_problem(form, message)),
            StorageError::Taken { field, message, .. } => Ok(Self::rejected(form, FieldErrors::single(field, message))),
            // Record forms show the change instead (`conflicted`); settings forms just say so.
            StorageError::VersionMismatch { .. } => Ok(Self::with_problem(
                form,
                "Someone else changed this record while you were editing. Open it again to see their change, then apply yours."
                    .into(),
            )),
            other => Err(WebError::from(other)),
        }
    }

    /// Like `refused`, with the API's field names turned into the form's by
    /// `rename` (names it gives `None` for stay as they are), so each message
    /// lands beside its input.
    pub fn refused_renamed(
        form: &FormData,
        err: StorageError,
        rename: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<Self, WebError> {
        let renamed = |field: &str| rename(field).map(str::to_owned).unwrap_or_else(|| field.to_owned());
        match err {
            StorageError::Invalid(errors) => {
                let mut shown = FieldErrors::new();
                for (field, message) in errors.iter() {
                    shown.add(renamed(field.as_str()), message.clone());
                }
                Ok(Self::rejected(form, shown))
            }
            StorageError::Taken { field, message, .. } => {
                Ok(Self::rejected(form, FieldErrors::single(renamed(&field), message)))
            }
            other => Self::refused(form, other),
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

    /// The value saved meanwhile of a field both this user and someone else changed.
    pub fn theirs(&self, name: &str) -> Option<&str> {
        self.theirs.get(name).map(String::as_str)
    }

    /// Whether field NAME was saved meanwhile as VALUE (to name a choice).
    pub fn theirs_is(&self, name: &str, value: &str) -> bool {
        self.theirs(name) == Some(value)
    }

    /// How many fields both this user and someone else changed.
    pub fn clashes(&self) -> usize {
        self.theirs.len()
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.problem.is_some()
    }
}

/// Pairs as one urlencoded string.
fn encode_pairs(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
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
