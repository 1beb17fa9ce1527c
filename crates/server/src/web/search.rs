//! Search across people, companies and deals: a page of its own, and the
//! results the search dialog (Ctrl+K) swaps in from it.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use rapport_storage::{CompanyFilter, DealFilter, ListQuery, Page, PersonFilter, StorageError};
use serde::Deserialize;

use super::form::encode;
use super::{Chrome, Signed, WebError};
use crate::AppState;

/// Results per group.
const LIMIT: u64 = 5;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(page))
}

struct Hit {
    name: String,
    detail: String,
    href: String,
}

struct Group {
    heading: &'static str,
    hits: Vec<Hit>,
    /// The full list, searched, when there may be more than shown.
    more_href: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    /// Why the search could not run.
    message: Option<String>,
    groups: Vec<Group>,
}

impl SearchPage {
    fn found_nothing(&self) -> bool {
        self.groups.iter().all(|g| g.hits.is_empty())
    }
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

/// A group's hits, or the reason the search was refused.
fn hits<T>(
    result: Result<Page<T>, StorageError>,
    message: &mut Option<String>,
    hit: impl Fn(&T) -> Hit,
) -> Result<(Vec<Hit>, bool), WebError> {
    match result {
        Ok(page) => Ok((page.items.iter().map(hit).collect(), page.next_cursor.is_some())),
        Err(StorageError::Invalid(errors)) => {
            let reasons: Vec<String> = errors.iter().map(|(_, m)| m.clone()).collect();
            *message = Some(format!("That search did not work: {}.", reasons.join("; ")));
            Ok((Vec::new(), false))
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<SearchParams>,
) -> Result<Response, WebError> {
    let q = params.q.trim().to_owned();
    let mut view =
        SearchPage { chrome: signed.chrome("search", "Search"), q: q.clone(), message: None, groups: Vec::new() };
    if q.is_empty() {
        return signed.page(&view);
    }
    if q.chars().any(char::is_control) {
        view.message = Some("A search cannot contain control characters.".into());
        return signed.page(&view);
    }
    if rapport_domain::search::SearchQuery::parse(&q).is_none() {
        view.message = Some("Search for letters or digits: punctuation alone matches nothing.".into());
        return signed.page(&view);
    }
    view.chrome.title = format!("Search: {q}");
    let query = ListQuery { q: Some(q.clone()), limit: Some(LIMIT), ..Default::default() };
    let more = |path: &str, more: bool| more.then(|| format!("{path}?q={}", encode(&q)));
    let mut message = None;

    let (people, more_people) =
        hits(state.store.list_people(&query, &PersonFilter::default()).await, &mut message, |person| Hit {
            name: person.fields.full_name(),
            detail: person.fields.primary_email().map(|e| e.to_string()).unwrap_or_default(),
            href: format!("/people/{}", person.id),
        })?;
    let (companies, more_companies) =
        hits(state.store.list_companies(&query, &CompanyFilter::default()).await, &mut message, |company| Hit {
            name: company.fields.name.to_string(),
            detail: company.fields.domain.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
            href: format!("/companies/{}", company.id),
        })?;
    let (deals, more_deals) =
        hits(state.store.list_deals(&query, &DealFilter::default()).await, &mut message, |deal| Hit {
            name: deal.fields.name.to_string(),
            detail: deal.fields.amount.display(),
            href: format!("/deals/{}", deal.id),
        })?;
    view.groups = vec![
        Group { heading: "People", hits: people, more_href: more("/people", more_people) },
        Group { heading: "Companies", hits: companies, more_href: more("/companies", more_companies) },
        Group { heading: "Deals", hits: deals, more_href: more("/deals", more_deals) },
    ];
    view.message = message;
    signed.page(&view)
}
