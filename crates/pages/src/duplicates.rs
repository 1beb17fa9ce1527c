//! The duplicates page: likely duplicate people (or companies), strongest
//! first, each with its reasons, a way to compare and merge them, and "Not a
//! duplicate" to stop listing a pair.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::duplicates::{DuplicateKind, DuplicatePair};
use rapport_storage::DuplicateQuery;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{FormData, encode};
use super::{Chrome, Signed, WebError, redirect_with_flash, see_other};
use rapport_api::AppState;
use rapport_api::extract::parse_query;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/duplicates", get(|| async { see_other("/duplicates/people") }))
        .route("/duplicates/{kind}", get(page))
        .route("/duplicates/{kind}/dismiss", post(dismiss))
}

/// One tab: people or companies.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    /// `people` or `companies`: the records' path.
    kind: &'static str,
    pairs: Vec<DuplicatePair>,
    min_score: u8,
    /// The address of the next page, if there is one.
    next: Option<String>,
}

#[derive(Deserialize)]
struct PageParams {
    min_score: Option<u8>,
    cursor: Option<String>,
}

fn kind(raw: &str) -> Result<DuplicateKind, WebError> {
    DuplicateKind::parse(raw).map_err(|_| WebError::NotFound("page"))
}

async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(raw_kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let kind = kind(&raw_kind)?;
    let params: PageParams = parse_query(raw.as_deref().unwrap_or(""))?;
    let min_score = params.min_score.unwrap_or(0).min(100);
    let query = DuplicateQuery { min_score, limit: None, cursor: params.cursor };
    let found = state.store.find_duplicates(kind, &query).await?;
    let next = found
        .next_cursor
        .map(|cursor| format!("/duplicates/{}?min_score={min_score}&cursor={}", kind.as_str(), encode(&cursor)));
    let tabs = [
        (DuplicateKind::People, "/duplicates/people", "People"),
        (DuplicateKind::Companies, "/duplicates/companies", "Companies"),
    ]
    .into_iter()
    .map(|(tab, href, label)| Tab { href, label, current: tab == kind })
    .collect();
    let title = match kind {
        DuplicateKind::People => "Duplicate people",
        DuplicateKind::Companies => "Duplicate companies",
    };
    signed.page(&DuplicatesPage {
        chrome: signed.chrome("duplicates", title),
        tabs,
        kind: kind.as_str(),
        pairs: found.items,
        min_score,
        next,
    })
}

async fn dismiss(
    State(state): State<AppState>,
    signed: Signed,
    Path(raw_kind): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let kind = kind(&raw_kind)?;
    let id = |name: &str| {
        Uuid::parse_str(form.get(name)).map_err(|_| WebError::BadRequest(format!("{name}: not a record id")))
    };
    let (a, b) = (id("a")?, id("b")?);
    state.store.dismiss_duplicate(&signed.actor, kind, a, b).await?;
    Ok(redirect_with_flash(&format!("/duplicates/{}", kind.as_str()), "Marked as not a duplicate"))
}
