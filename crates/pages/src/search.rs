//! Search across people, companies and deals: a page of its own, and the
//! results the search dialog (Ctrl+K) swaps in from it.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use rapport_storage::{CompanyFilter, DealFilter, ListQuery, Page, PersonFilter, StorageError};
use serde::Deserialize;

use rapport_domain::{CompanyId, UserId};

use super::form::encode;
use super::staff::Staff;
use super::{Chrome, Signed, WebError};
use rapport_api::AppState;

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

    // People and deals of one name are told apart by their company and owner.
    let staff = Staff::load(&state).await?;
    let people = state.store.list_people(&query, &PersonFilter::default()).await;
    let deals = state.store.list_deals(&query, &DealFilter::default()).await;
    let company_ids: Vec<CompanyId> = people
        .iter()
        .flat_map(|page| page.items.iter().filter_map(|p| p.fields.company_id))
        .chain(deals.iter().flat_map(|page| page.items.iter().filter_map(|d| d.fields.company_id)))
        .collect();
    let company_names = state.store.company_names(&company_ids).await?;
    let detail = |parts: Vec<String>| parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" · ");
    let company_of = |id: Option<CompanyId>| id.and_then(|id| company_names.get(&id).cloned()).unwrap_or_default();
    let owner = |id: Option<UserId>| {
        let name = staff.name(id);
        if name.is_empty() { name } else { format!("owner {name}") }
    };
    let (people, more_people) = hits(people, &mut message, |person| Hit {
        name: person.fields.full_name(),
        detail: detail(vec![
            person.fields.primary_email().map(|e| e.to_string()).unwrap_or_default(),
            company_of(person.fields.company_id),
            owner(person.fields.owner_id),
        ]),
        href: format!("/people/{}", person.id),
    })?;
    let (companies, more_companies) =
        hits(state.store.list_companies(&query, &CompanyFilter::default()).await, &mut message, |company| Hit {
            name: company.fields.name.to_string(),
            detail: detail(vec![
                company.fields.domain.as_ref().map(|d| d.as_str().to_owned()).unwrap_or_default(),
                owner(company.fields.owner_id),
            ]),
            href: format!("/companies/{}", company.id),
        })?;
    let (deals, more_deals) = hits(deals, &mut message, |deal| Hit {
        name: deal.fields.name.to_string(),
        detail: detail(vec![
            super::numbers::money(&deal.fields.amount),
            company_of(deal.fields.company_id),
            owner(deal.fields.owner_id),
        ]),
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
