//! The records a form names in a text field: a person by email or full
//! name, a company by name. Shared by the forms that link to them.

use rapport_domain::records::Person;
use rapport_domain::{CompanyId, Email, PersonId};
use rapport_storage::{CompanyFilter, ListQuery, PersonFilter};

use super::WebError;
use super::form::Fields;
use rapport_api::AppState;

/// How a form names a person: by primary email, else by full name (what
/// `person_by_label` finds them by again).
pub fn person_label(person: &Person) -> String {
    person.fields.primary_email().map(|e| e.to_string()).unwrap_or_else(|| person.fields.full_name())
}

/// The company a form names: an exact (case-insensitive) name match.
pub async fn company_by_name(
    state: &AppState,
    fields: &mut Fields<'_>,
    name: &str,
) -> Result<Option<CompanyId>, WebError> {
    let wanted = fields.raw(name);
    if wanted.is_empty() {
        return Ok(None);
    }
    let query = ListQuery { q: Some(wanted.to_owned()), limit: Some(50), ..Default::default() };
    let found = state.store.list_companies(&query, &CompanyFilter::default()).await?;
    match found.items.iter().find(|c| c.fields.name.as_str().eq_ignore_ascii_case(wanted)) {
        Some(company) => Ok(Some(company.id)),
        None => {
            fields.fail(name, "names no company we know: pick one from the suggestions, or add the company first");
            Ok(None)
        }
    }
}

/// The person a form names: by email, or by an unambiguous full name.
pub async fn person_by_label(
    state: &AppState,
    fields: &mut Fields<'_>,
    name: &str,
) -> Result<Option<PersonId>, WebError> {
    let wanted = fields.raw(name);
    if wanted.is_empty() {
        return Ok(None);
    }
    let query = ListQuery { q: Some(wanted.to_owned()), limit: Some(20), ..Default::default() };
    let found = state.store.list_people(&query, &PersonFilter::default()).await?.items;
    if let Ok(email) = Email::try_from(wanted.to_owned()) {
        return Ok(match found.iter().find(|p| p.fields.emails.iter().any(|e| e.address == email)) {
            Some(person) => Some(person.id),
            None => {
                fields.fail(name, "is nobody's email address here");
                None
            }
        });
    }
    let named: Vec<&Person> = found.iter().filter(|p| p.fields.full_name().eq_ignore_ascii_case(wanted)).collect();
    match named.as_slice() {
        [person] => Ok(Some(person.id)),
        [] => {
            fields.fail(name, "names nobody we know: pick someone from the suggestions, or type their email");
            Ok(None)
        }
        _ => {
            fields.fail(name, "matches several people: type their email instead");
            Ok(None)
        }
    }
}
