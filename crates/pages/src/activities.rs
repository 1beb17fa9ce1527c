//! The activities list: calls, emails, meetings, notes and messages across
//! every customer, narrowed by staff member, kind and days. The sales
//! page's activity counts lead here, each to exactly the activities it
//! counts.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::records::{Activity, ActivityKind};
use rapport_storage::ActivityFilter;

use super::lists::{Choice, CountSlot, FilterField, ListCount, ListRequest, count_text};
use super::staff::Staff;
use super::tasks::Names;
use super::{Chrome, Signed, WebError, format};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/activities", get(list)).route("/activities/count", get(count))
}

struct ActivityRow {
    iso: String,
    when: String,
    kind: String,
    subject: String,
    about: Vec<(String, String)>,
    staff: String,
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ActivitiesPage {
    chrome: Chrome,
    filters: Vec<FilterField>,
    /// How many match, all pages together.
    count: CountSlot,
    rows: Vec<ActivityRow>,
    filtered: bool,
    next_href: Option<String>,
    first_href: Option<String>,
}

/// `/activities?…` with this page's filters and `cursor` (none: the first page).
fn page_href(raw: &str, cursor: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(
        form_urlencoded::parse(raw.as_bytes()).filter(|(key, value)| key != "cursor" && !value.trim().is_empty()),
    );
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    format!("/activities?{}", query.finish())
}

/// "12 activities".
fn counted(total: u64) -> String {
    format!("{} {}", count_text(total), if total == 1 { "activity" } else { "activities" })
}

/// The list's count, loaded after the page (`lists::CountSlot`).
async fn count(State(state): State<AppState>, _signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let request = ListRequest::<ActivityFilter>::parse_count(raw.as_deref())?;
    state.store.list_activities(&request.params.query, &request.params.filter).await?;
    ListCount::answer(counted(request.total().unwrap_or(0)), None)
}

async fn list(State(state): State<AppState>, signed: Signed, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    let raw = raw.unwrap_or_default();
    let request = ListRequest::<ActivityFilter>::parse(Some(&raw))?;
    let page = state.store.list_activities(&request.params.query, &request.params.filter).await?;
    let staff = Staff::load(&state).await?;
    let names = Names::load(&state, page.items.iter().map(|a| &a.fields.links)).await?;
    let kinds = ActivityKind::ALL.iter().map(|k| Choice::new(k.as_str(), format::capitalize(k.as_str()))).collect();
    let filters = vec![
        FilterField::select(&request, "staff_id", "Staff member", staff.choices()),
        FilterField::select(
            &request,
            "has_staff",
            "Staff named",
            vec![Choice::new("true", "Someone"), Choice::new("false", "Nobody")],
        ),
        FilterField::select(&request, "kind", "Kind", kinds),
        FilterField::input(&request, "occurred_from", "From", "date"),
        FilterField::input(&request, "occurred_to", "To", "date"),
    ];
    let rows = page
        .items
        .iter()
        .map(|activity: &Activity| {
            let at = activity.fields.occurred_at.unwrap_or(activity.meta.created_at);
            ActivityRow {
                iso: format::iso(at),
                when: format::datetime(at),
                kind: format::capitalize(activity.fields.kind.as_str()),
                subject: activity.fields.subject.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                about: names.about(&activity.fields.links),
                // Whom the sales report counts it for: its author, else who logged it.
                staff: staff.name(activity.fields.author_id.or(activity.meta.created_by)),
            }
        })
        .collect();
    let view = ActivitiesPage {
        chrome: signed.chrome("activities", "Activities"),
        filtered: filters.iter().any(|f| !f.value.is_empty()),
        filters,
        count: request.count_slot("/activities", request.total().map(counted)),
        rows,
        next_href: page.next_cursor.as_deref().map(|cursor| page_href(&raw, Some(cursor))),
        first_href: (!request.get("cursor").is_empty()).then(|| page_href(&raw, None)),
    };
    signed.page(&view)
}
