//! Bulk changes of the people, companies, deals and tasks lists: one action
//! over records named by id or matched by the list's own query string, each
//! by the rules of a single update or delete, all or nothing. The web
//! lists' bulk bar resolves its selection with the same functions.

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::bulk::{
    BULK_MAX, Bulk, CompanyBulkInput, DealBulkInput, PersonBulkInput, Selection, TaskBulkInput,
};
use rapport_domain::{CompanyId, DealId, FieldErrors, PersonId, TaskId};
use rapport_storage::{BulkDone, CompanyFilter, DealFilter, MAX_LIMIT, PersonFilter, Store, TaskFilter};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::parse_id;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, ListParams};

/// How a bulk change went.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkApplied {
    /// How many records changed (a record named twice counts once), or
    /// went to the trash.
    pub changed: usize,
    /// After `delete`: the batch `POST /api/v1/bulk/{batch}/undo` restores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<Uuid>,
}

impl From<BulkDone> for BulkApplied {
    fn from(done: BulkDone) -> Self {
        BulkApplied { changed: done.changed, batch: done.batch }
    }
}

/// How an Undo of a bulk delete went.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkRestored {
    /// How many records came back from the trash.
    pub restored: usize,
}

/// The query parameters that choose a page rather than records: a bulk
/// change's `filter` is about every page.
const PAGING: [&str; 3] = ["limit", "cursor", "count"];

/// The list's parameters from a bulk change's `filter`, paging left out; a
/// parameter that does not fit is named as `filter.<name>`.
fn filter_params<F: serde::de::DeserializeOwned + utoipa::IntoParams + rapport_storage::ListShape>(
    raw: &str,
) -> Result<ListParams<F>, ApiError> {
    let kept = form_urlencoded::parse(raw.as_bytes()).into_owned().filter(|(key, _)| !PAGING.contains(&key.as_str()));
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    // The list's own conditions (`where`) too, as its GET takes them.
    ListParams::parse_listing(&query).map_err(|err| match err {
        ApiError::Validation(fields) => {
            let mut named = FieldErrors::new();
            for (field, message) in fields.iter() {
                named.add(format!("filter.{field}"), message.clone());
            }
            ApiError::Validation(named)
        }
        other => other,
    })
}

/// Refuses a filter that matches more records than one change may touch.
fn within_cap(found: usize) -> Result<(), ApiError> {
    if found > BULK_MAX {
        return Err(ApiError::field(
            "filter",
            format!("matches more than {BULK_MAX} records: narrow it, at most {BULK_MAX} change at a time"),
        ));
    }
    Ok(())
}

/// Every id a list query matches, page by page (up to one past the cap,
/// which is refused).
macro_rules! matching {
    ($name:ident, $filter:ty, $id:ty, $list:ident) => {
        pub async fn $name(store: &Store, raw: &str) -> Result<Vec<$id>, ApiError> {
            let params = filter_params::<$filter>(raw)?;
            let mut query = params.query;
            query.limit = Some(MAX_LIMIT);
            let mut ids = Vec::new();
            loop {
                let page = store.$list(&query, &params.filter).await?;
                ids.extend(page.items.iter().map(|record| record.id));
                within_cap(ids.len())?;
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
            if ids.is_empty() {
                return Err(ApiError::field("filter", "matches no records"));
            }
            Ok(ids)
        }
    };
}

matching!(people_matching, PersonFilter, PersonId, list_people);
matching!(companies_matching, CompanyFilter, CompanyId, list_companies);
matching!(deals_matching, DealFilter, DealId, list_deals);
matching!(tasks_matching, TaskFilter, TaskId, list_tasks);

/// The records a selection names: its ids, or what its filter matches now.
macro_rules! chosen {
    ($state:expr, $selection:expr, $matching:ident) => {
        match $selection {
            Selection::Ids(ids) => ids,
            Selection::Filter(filter) => $matching(&$state.store, &filter).await?,
        }
    };
}

/// Sets the owner of, tags, untags, moves the lifecycle stage of, or
/// deletes people named by `ids` or matched by `filter` (the people
/// list's query string, up to 10,000), each by the rules of a single update
/// or delete. All or nothing: when one person is missing (404) or out of
/// reach (403) or refused (409, 422), none changes and the message names them.
#[utoipa::path(post, path = "/api/v1/people/bulk", tag = "people", request_body = PersonBulkInput,
    responses((status = 200, body = BulkApplied), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn bulk_people(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<PersonBulkInput>,
) -> Result<Json<BulkApplied>, ApiError> {
    let bulk = Bulk::try_from(input)?;
    let ids = chosen!(state, bulk.selection, people_matching);
    Ok(Json(state.store.bulk_people(&auth.actor, &ids, &bulk.change).await?.into()))
}

/// Sets the owner of, tags, untags or deletes companies named by `ids` or
/// matched by `filter` (the companies list's query string, up to 10,000),
/// each by the rules of a single update or delete, all or nothing.
#[utoipa::path(post, path = "/api/v1/companies/bulk", tag = "companies", request_body = CompanyBulkInput,
    responses((status = 200, body = BulkApplied), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn bulk_companies(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CompanyBulkInput>,
) -> Result<Json<BulkApplied>, ApiError> {
    let bulk = Bulk::try_from(input)?;
    let ids = chosen!(state, bulk.selection, companies_matching);
    Ok(Json(state.store.bulk_companies(&auth.actor, &ids, &bulk.change).await?.into()))
}

/// Sets the owner of, tags, untags, moves (to a stage of each deal's own
/// pipeline, or won, lost or open) or deletes deals named by `ids` or
/// matched by `filter` (the deals list's query string, up to 10,000), each
/// by the rules of a single update or delete, all or nothing.
#[utoipa::path(post, path = "/api/v1/deals/bulk", tag = "deals", request_body = DealBulkInput,
    responses((status = 200, body = BulkApplied), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn bulk_deals(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<DealBulkInput>,
) -> Result<Json<BulkApplied>, ApiError> {
    let bulk = Bulk::try_from(input)?;
    let ids = chosen!(state, bulk.selection, deals_matching);
    Ok(Json(state.store.bulk_deals(&auth.actor, &ids, &bulk.change).await?.into()))
}

/// Assigns or deletes tasks named by `ids` or matched by `filter` (the
/// tasks list's query string, up to 10,000), each by the rules of a single
/// update or delete, all or nothing.
#[utoipa::path(post, path = "/api/v1/tasks/bulk", tag = "tasks", request_body = TaskBulkInput,
    responses((status = 200, body = BulkApplied), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn bulk_tasks(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TaskBulkInput>,
) -> Result<Json<BulkApplied>, ApiError> {
    let bulk = Bulk::try_from(input)?;
    let ids = chosen!(state, bulk.selection, tasks_matching);
    Ok(Json(state.store.bulk_tasks(&auth.actor, &ids, &bulk.change).await?.into()))
}

/// Restores every record a bulk delete of the caller's moved to the trash,
/// all or nothing. 404 when none of the batch is left in the trash.
#[utoipa::path(post, path = "/api/v1/bulk/{batch}/undo", tag = "trash", params(("batch" = String, Path)),
    responses((status = 200, body = BulkRestored), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn undo_bulk_delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(batch): Path<String>,
) -> Result<Json<BulkRestored>, ApiError> {
    let batch: Uuid = parse_id(&batch, "bulk delete")?;
    let (_, restored) = state.store.undo_bulk_delete(&auth.actor, batch).await?;
    Ok(Json(BulkRestored { restored }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_people))
        .routes(routes!(bulk_companies))
        .routes(routes!(bulk_deals))
        .routes(routes!(bulk_tasks))
        .routes(routes!(undo_bulk_delete))
}
