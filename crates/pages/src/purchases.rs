//! Purchases: the list (all, one customer's with `person_id`, or a
//! company's people's with `company_id`), and a
//! purchase as the customer and ticket pages list it.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::PersonId;
use rapport_domain::records::Purchase;
use rapport_domain::timeline::TimelineEntry;
use rapport_storage::PurchaseFilter;

use super::lists::{Cell, Column, Filter, ListRequest, ListSpec};
use super::{Signed, WebError, format};
use rapport_api::AppState;

const COLUMNS: &[Column] = &[
    Column::new("date", "Date").sorts("occurred_at"),
    Column::new("customer", "Customer"),
    Column::new("what", "What"),
    Column::new("amount", "Amount").sorts("amount").numeric(),
    Column::new("reference", "Reference").optional(),
    Column::new("created", "Added").sorts("created_at").optional(),
];

const SPEC: ListSpec = ListSpec {
    path: "/purchases",
    list: rapport_domain::views::ListKind::Purchases,
    heading: "Purchases",
    new_label: "",
    search_label: "",
    searchable: false,
    default_sort: "-occurred_at",
    empty_title: "No purchases yet.",
    empty_hint: "Purchases come in through the API or an import (`rapport import purchases`).",
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/purchases", get(list)).route("/purchases/count", get(count))
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<PurchaseFilter>::parse_count(raw.as_deref())?;
    state.store.list_purchases(&request.params.query, &request.params.filter).await?;
    SPEC.count(&signed, &request, false)
}

/// `/purchases`, newest first; `?person_id=` narrows it to one customer's,
/// `?company_id=` to those of a company's people.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let request = ListRequest::<PurchaseFilter>::parse(raw.as_deref())?;
    let page = state.store.list_purchases(&request.params.query, &request.params.filter).await?;
    let mut ids: Vec<PersonId> = page.items.iter().map(|p| p.fields.person_id).collect();
    ids.extend(request.params.filter.person_id);
    let names = state.store.person_names(&ids).await?;
    // The record the list is narrowed to shows as its filter's one choice.
    let mut filters = Vec::new();
    if let Some(person) = request.params.filter.person_id {
        let name = names.get(&person).cloned().ok_or(WebError::NotFound("person"))?;
        filters.push(Filter::only("person_id", "Customer", person, name));
    }
    if let Some(company) = request.params.filter.company_id {
        let names = state.store.company_names(&[company]).await?;
        let name = names.get(&company).cloned().ok_or(WebError::NotFound("company"))?;
        filters.push(Filter::only("company_id", "Company", company, name));
    }
    let view = SPEC
        .build(&state, &signed, &request, COLUMNS, filters, page, |purchase: &Purchase, shown| {
            let p = &purchase.fields;
            shown
                .iter()
                .map(|column| match column.key {
                    "date" => Cell::text(format::date(p.occurred_at.date())),
                    "customer" => Cell::link(
                        names.get(&p.person_id).cloned().unwrap_or_default(),
                        format!("/people/{}", p.person_id),
                    ),
                    "what" => Cell::text(p.description.as_ref().map(|d| d.to_string()).unwrap_or_default()),
                    "amount" => Cell::text(super::numbers::money(&p.amount)),
                    "reference" => Cell::text(p.reference.as_ref().map(|r| r.to_string()).unwrap_or_default()),
                    _ => Cell::text(format::date(purchase.meta.created_at.date())),
                })
                .collect()
        })
        .await?;
    signed.page(&view)
}

/// One purchase line: when, how much, and what (its description, else its reference).
pub struct PurchaseLine {
    pub at: String,
    pub amount: String,
    pub what: String,
}

impl From<&Purchase> for PurchaseLine {
    fn from(purchase: &Purchase) -> Self {
        let p = &purchase.fields;
        PurchaseLine {
            at: format::date(p.occurred_at.date()),
            amount: super::numbers::money(&p.amount),
            what: p
                .description
                .as_ref()
                .map(|d| d.to_string())
                .or_else(|| p.reference.as_ref().map(|r| r.to_string()))
                .unwrap_or_default(),
        }
    }
}

/// "1 purchase", "94 purchases".
pub fn count_text(count: i64) -> String {
    format!("{count} purchase{}", if count == 1 { "" } else { "s" })
}

/// The latest `limit` purchases among timeline entries.
pub fn purchases(entries: &[TimelineEntry], limit: usize) -> Vec<PurchaseLine> {
    entries
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Purchase(p) => Some(PurchaseLine::from(p)),
            _ => None,
        })
        .take(limit)
        .collect()
}
