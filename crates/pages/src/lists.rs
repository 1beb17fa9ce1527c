//! What the lists of people, companies, deals and tasks share: the query
//! string (the API's own filters, plus `cols`), sortable column headers,
//! column choice, cursor pages, the total count (loaded after the page) and
//! each user's saved views.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use rapport_domain::ViewId;
use rapport_domain::text::Name;
use rapport_domain::views::{ListKind, SavedViewInput, ViewQuery};
use rapport_storage::{Page, Total};
use serde::de::DeserializeOwned;

use super::form::{Fields, FormData};
use super::list_bulk::{AllMatching, BulkBar, RowKey};
use super::list_filters::FilterBuilder;
use super::{Chrome, Signed, WebError, redirect_with_flash, render};
use rapport_api::AppState;
use rapport_api::extract::ListParams;

/// A column a list can show.
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    /// The API sort field, when the column sorts.
    pub sort: Option<&'static str>,
    pub numeric: bool,
    /// Shown when the query names no columns.
    pub default: bool,
}

impl Column {
    pub const fn new(key: &'static str, label: &'static str) -> Self {
        Column { key, label, sort: None, numeric: false, default: true }
    }
    pub const fn sorts(mut self, field: &'static str) -> Self {
        self.sort = Some(field);
        self
    }
    pub const fn numeric(mut self) -> Self {
        self.numeric = true;
        self
    }
    pub const fn optional(mut self) -> Self {
        self.default = false;
        self
    }
}

/// One cell: text, maybe a link, maybe shown as a badge.
#[derive(Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub badge: Option<&'static str>,
    /// Where the cell is edited in place (`inline_edit.rs`), and its Edit button's name.
    pub edit: Option<(String, String)>,
}

impl Cell {
    /// The cell with an Edit button that swaps in `base`/edit, named `label` ("Edit email of Rosa Larsen").
    pub fn editable(mut self, base: String, label: String) -> Self {
        self.edit = Some((base, label));
        self
    }

    pub fn text(text: impl Into<String>) -> Self {
        Cell { text: text.into(), ..Default::default() }
    }
    pub fn link(text: impl Into<String>, href: String) -> Self {
        Cell { text: text.into(), href: Some(href), ..Default::default() }
    }
    pub fn badge(text: impl Into<String>, class: &'static str) -> Self {
        Cell { text: text.into(), badge: Some(class), ..Default::default() }
    }
}

pub struct HeaderCell {
    pub label: &'static str,
    pub numeric: bool,
    pub sort_href: Option<String>,
    /// "ascending", "descending" or "none", for aria-sort.
    pub sorted: &'static str,
}

pub struct ColumnChoice {
    pub key: &'static str,
    pub label: &'static str,
    pub shown: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Choice { value: value.into(), label: label.into() }
    }
}

/// A filter drop-down above a list.
pub struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub choices: Vec<Choice>,
    pub selected: String,
}

impl Filter {
    /// A filter with one choice, chosen: the record a list is narrowed to.
    pub fn only(name: &'static str, label: &'static str, id: impl std::fmt::Display, text: String) -> Self {
        Filter { name, label, choices: vec![Choice::new(id.to_string(), text)], selected: id.to_string() }
    }
}

/// A filter field beyond the drop-downs (a list's "More filters", the
/// activities list's filters): a day, a text, or a choice.
pub struct FilterField {
    pub name: &'static str,
    pub label: &'static str,
    /// The input's type: "date" or "text"; "select" for `choices`.
    pub kind: &'static str,
    pub choices: Vec<Choice>,
    pub value: String,
}

impl FilterField {
    pub fn input<F: DeserializeOwned>(
        request: &ListRequest<F>,
        name: &'static str,
        label: &'static str,
        kind: &'static str,
    ) -> Self {
        FilterField { name, label, kind, choices: Vec::new(), value: request.get(name).to_owned() }
    }

    pub fn select<F: DeserializeOwned>(
        request: &ListRequest<F>,
        name: &'static str,
        label: &'static str,
        choices: Vec<Choice>,
    ) -> Self {
        FilterField { name, label, kind: "select", choices, value: request.get(name).to_owned() }
    }

    /// A yes/no filter (`true`/`false`), worded for the list.
    pub fn yes_no<F: DeserializeOwned>(request: &ListRequest<F>, name: &'static str, label: &'static str) -> Self {
        Self::select(request, name, label, vec![Choice::new("true", "Yes"), Choice::new("false", "No")])
    }
}

pub struct ViewLink {
    pub id: ViewId,
    pub name: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub path: &'static str,
    pub list: &'static str,
    pub heading: &'static str,
    pub new_label: &'static str,
    pub search_label: &'static str,
    pub searchable: bool,
    pub q: String,
    pub tag: String,
    pub filters: Vec<Filter>,
    /// Filters under a "More filters" disclosure, open when one is set.
    pub more_filters: Vec<FilterField>,
    pub headers: Vec<HeaderCell>,
    pub choices: Vec<ColumnChoice>,
    pub rows: Vec<Vec<Cell>>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub views: Vec<ViewLink>,
    /// The query string as it stands, for "save this view".
    pub query: String,
    pub empty_title: &'static str,
    pub empty_hint: &'static str,
    pub filtered: bool,
    /// The filter builder's chips and fields (lists of people, companies and deals).
    pub filter_builder: FilterBuilder,
    /// How many records the filters match, all pages together.
    pub count: CountSlot,
    /// The bulk bar, on lists that have one, and each row's checkbox.
    pub bulk: Option<BulkBar>,
    pub row_keys: Vec<RowKey>,
}

impl ListPage {
    /// Whether the rows can be ticked for a bulk action: lists with a bulk bar, for staff who may change records.
    fn bulk_on(&self) -> bool {
        self.bulk.is_some() && self.chrome.can_write
    }

    /// How many of the "More filters" are set.
    fn more_set(&self) -> usize {
        self.more_filters.iter().filter(|field| !field.value.is_empty()).count()
    }

    /// Row `index`'s checkbox (askama hands loop indexes by reference).
    fn row_key(&self, index: &usize) -> Option<&RowKey> {
        self.row_keys.get(*index)
    }
}

/// A list page's request: parsed filters, and the raw pairs to build links from.
pub struct ListRequest<F> {
    pub params: ListParams<F>,
    pairs: Vec<(String, String)>,
    columns: Vec<String>,
}

impl<F: DeserializeOwned> ListRequest<F> {
    /// Empty fields of the filter form mean "any": they are dropped before parsing.
    pub fn parse(raw: Option<&str>) -> Result<Self, WebError>
    where
        F: utoipa::IntoParams + rapport_storage::ListShape,
    {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .into_owned()
            .filter(|(_, value)| !value.trim().is_empty())
            .collect();
        super::list_filters::fold_builder(&mut pairs);
        let kept: Vec<&(String, String)> = pairs.iter().filter(|(key, _)| key != "cols").collect();
        let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
        let params = ListParams::<F>::parse_listing(&query).map_err(WebError::from)?;
        let columns = pairs
            .iter()
            .filter(|(key, _)| key == "cols")
            .flat_map(|(_, value)| value.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        Ok(ListRequest { params, pairs, columns })
    }

    /// The request of a list's count (`/{list}/count?…`): the page's filters,
    /// counted, and one row, which is all the list query must read besides.
    pub fn parse_count(raw: Option<&str>) -> Result<Self, WebError>
    where
        F: utoipa::IntoParams + rapport_storage::ListShape,
    {
        let mut request = Self::parse(raw)?;
        request.params.query.count = Some(Total::default());
        request.params.query.limit = Some(1);
        Ok(request)
    }

    /// How many records the filters match, all pages together, when the
    /// list query counted them (`count=true`, or the count's own request).
    pub fn total(&self) -> Option<u64> {
        self.params.query.count.as_ref().and_then(Total::get)
    }

    /// Where the page's count is: counted with the page (`count=true`, as a
    /// browser without JavaScript asks for it), else loaded after it from `path`/count.
    pub fn count_slot(&self, path: &str, total: Option<String>) -> CountSlot {
        CountSlot {
            total,
            href: format!("{path}/count?{}", self.with(&[("cursor", ""), ("count", "")])),
            page_href: format!("{path}?{}", self.with(&[("count", "true")])),
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or("")
    }

    /// The query string with `changes` applied (an empty value removes the key).
    fn with(&self, changes: &[(&str, &str)]) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.pairs {
            if !changes.iter().any(|(changed, _)| changed == key) {
                serializer.append_pair(key, value);
            }
        }
        for (key, value) in changes {
            if !value.is_empty() {
                serializer.append_pair(key, value);
            }
        }
        serializer.finish()
    }

    /// Which of `columns` to show: the query's choice, else the defaults.
    pub fn shown<'c>(&self, columns: &'c [Column]) -> Vec<&'c Column> {
        let chosen: Vec<&Column> = columns.iter().filter(|c| self.columns.iter().any(|k| k == c.key)).collect();
        if chosen.is_empty() { columns.iter().filter(|c| c.default).collect() } else { chosen }
    }
}

/// A list page's count: shown when the page was counted, else a place that
/// htmx fills from `href` once the page has loaded (counting can take far
/// longer than the page of rows), with a link for browsers without JavaScript.
pub struct CountSlot {
    /// "1,234 people".
    pub total: Option<String>,
    /// The count fragment, `/{list}/count?…`.
    pub href: String,
    /// This page counted (`count=true`).
    pub page_href: String,
}

/// The count fragment: "1,234 people", and for a list with a bulk bar its
/// "Select all 1,234 people matching", swapped in out of band.
#[derive(Template)]
#[template(path = "list_count.html")]
pub struct ListCount {
    pub total: String,
    pub all: Option<AllMatching>,
}

impl ListCount {
    pub fn answer(total: String, all: Option<AllMatching>) -> Result<Response, WebError> {
        render(&ListCount { total, all })
    }
}

/// What each list page fills in; `build` does the rest.
pub struct ListSpec {
    pub path: &'static str,
    pub list: ListKind,
    pub heading: &'static str,
    pub new_label: &'static str,
    pub search_label: &'static str,
    pub searchable: bool,
    pub default_sort: &'static str,
    pub empty_title: &'static str,
    pub empty_hint: &'static str,
}

impl ListSpec {
    #[allow(clippy::too_many_arguments)]
    pub async fn build<F: DeserializeOwned, T>(
        &self,
        state: &AppState,
        signed: &Signed,
        request: &ListRequest<F>,
        columns: &[Column],
        filters: Vec<Filter>,
        page: Page<T>,
        mut row: impl FnMut(&T, &[&Column]) -> Vec<Cell>,
    ) -> Result<ListPage, WebError> {
        let shown = request.shown(columns);
        let current_sort = request.get("sort");
        let current_sort = match current_sort {
            // A search is sorted by relevance (no column's header says so).
            "" if self.searchable && !request.get("q").trim().is_empty() => rapport_storage::RELEVANCE,
            "" => self.default_sort,
            chosen => chosen,
        };
        let headers = shown
            .iter()
            .map(|column| {
                let (sort_href, sorted) = match column.sort {
                    Some(field) => {
                        let descending = format!("-{field}");
                        let (next, sorted) = if current_sort == field {
                            (descending.as_str(), "ascending")
                        } else if current_sort == descending {
                            (field, "descending")
                        } else {
                            (field, "none")
                        };
                        (Some(format!("{}?{}", self.path, request.with(&[("sort", next), ("cursor", "")]))), sorted)
                    }
                    None => (None, "none"),
                };
                HeaderCell { label: column.label, numeric: column.numeric, sort_href, sorted }
            })
            .collect();
        let choices = columns
            .iter()
            .map(|c| ColumnChoice { key: c.key, label: c.label, shown: shown.iter().any(|s| s.key == c.key) })
            .collect();
        let count = request.count_slot(self.path, request.total().map(|total| counted(self.list, total)));
        let rows = page.items.iter().map(|item| row(item, &shown)).collect();
        let next_href =
            page.next_cursor.as_deref().map(|cursor| format!("{}?{}", self.path, request.with(&[("cursor", cursor)])));
        let first_href =
            (!request.get("cursor").is_empty()).then(|| format!("{}?{}", self.path, request.with(&[("cursor", "")])));
        let query = request.with(&[("cursor", ""), ("count", "")]);
        let views = state
            .store
            .list_views(&signed.actor, Some(self.list))
            .await?
            .into_iter()
            .map(|view| ViewLink {
                id: view.id,
                current: view.fields.query.as_str() == query,
                href: format!("{}?{}", self.path, view.fields.query.as_str()),
                name: view.fields.name.to_string(),
            })
            .collect();
        let filtered = request.pairs.iter().any(|(key, _)| !["sort", "cols", "count"].contains(&key.as_str()));
        Ok(ListPage {
            chrome: signed.chrome(self.list.as_str(), self.heading),
            path: self.path,
            list: self.list.as_str(),
            heading: self.heading,
            new_label: self.new_label,
            search_label: self.search_label,
            searchable: self.searchable,
            q: request.get("q").to_owned(),
            tag: request.get("tag").to_owned(),
            filters,
            more_filters: Vec::new(),
            headers,
            choices,
            rows,
            next_href,
            first_href,
            views,
            query,
            empty_title: self.empty_title,
            empty_hint: self.empty_hint,
            filtered,
            filter_builder: FilterBuilder::load(state, self.list, self.path, &request.pairs).await?,
            count,
            bulk: None,
            row_keys: Vec::new(),
        })
    }

    /// The count fragment (`/{list}/count?…`), once the list query counted:
    /// with "Select all N matching" when the page has a bulk bar for `signed`.
    pub fn count<F: DeserializeOwned>(
        &self,
        signed: &Signed,
        request: &ListRequest<F>,
        bulk: bool,
    ) -> Result<Response, WebError> {
        let total = request.total().unwrap_or(0);
        // A list with no rows shows no bulk bar, so there is nothing to fill in.
        let all = (bulk && total > 0 && signed.actor.ensure_can_create().is_ok())
            .then(|| AllMatching::new(self.list, Some(total)));
        ListCount::answer(counted(self.list, total), all)
    }
}

/// What a list holds: one, and many ("person", "people").
pub fn nouns(list: ListKind) -> (&'static str, &'static str) {
    match list {
        ListKind::People => ("person", "people"),
        ListKind::Companies => ("company", "companies"),
        ListKind::Deals => ("deal", "deals"),
        ListKind::Tasks => ("task", "tasks"),
        ListKind::Tickets => ("ticket", "tickets"),
        ListKind::Purchases => ("purchase", "purchases"),
    }
}

/// "1 person", "1,234 people": a list's count with its noun.
pub fn counted(list: ListKind, count: u64) -> String {
    let (one, many) = nouns(list);
    format!("{} {}", count_text(count), if count == 1 { one } else { many })
}

/// A list's count as a number, "1,234"; past the count's cap, "10,000+"
/// (a list stops counting there, see `rapport_storage::COUNT_CAP`).
pub fn count_text(count: u64) -> String {
    if count > rapport_storage::COUNT_CAP {
        format!("{}+", super::numbers::count(rapport_storage::COUNT_CAP))
    } else {
        super::numbers::count(count)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/views", post(save_view)).route("/views/{id}/delete", post(delete_view))
}

/// Saves the list's current query under a name, for the signed-in user only.
pub async fn save_view(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let mut fields = Fields::new(&form);
    let list = fields.parse_with("list", ListKind::parse);
    let name = fields.required::<Name>("name");
    let query = fields.parse_with("query", ViewQuery::parse);
    let (Some(list), Some(name), Some(query)) = (list, name, query) else {
        let errors = fields.errors.iter().map(|(f, m)| format!("{f} {m}")).collect::<Vec<_>>().join("; ");
        return Err(WebError::BadRequest(format!("The view was not saved: {errors}.")));
    };
    let back = format!("/{}?{}", list.as_str(), query.as_str());
    let message = format!("View \u{201c}{name}\u{201d} saved.");
    state.store.save_view(&signed.actor, SavedViewInput { list, name, query }).await?;
    Ok(redirect_with_flash(&back, &message))
}

pub async fn delete_view(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id: ViewId = id.parse().map_err(|_| WebError::NotFound("view"))?;
    let list = ListKind::parse(form.get("list")).unwrap_or(ListKind::People);
    state.store.delete_view(&signed.actor, id).await?;
    Ok(redirect_with_flash(&format!("/{}", list.as_str()), "View deleted."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators_and_the_right_noun() {
        assert_eq!(counted(ListKind::People, 1), "1 person");
        assert_eq!(counted(ListKind::People, 1234), "1,234 people");
        assert_eq!(counted(ListKind::Companies, 0), "0 companies");
        assert_eq!(counted(ListKind::People, rapport_storage::COUNT_CAP), "10,000 people");
        assert_eq!(counted(ListKind::People, rapport_storage::COUNT_CAP + 1), "10,000+ people");
    }
}
