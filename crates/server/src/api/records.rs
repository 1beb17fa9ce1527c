//! People, companies, deals, activities, tasks and purchases: list, create,
//! read, replace (PUT), merge-patch (PATCH) and delete, all alike.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::records::*;
use rapport_domain::*;
use rapport_storage::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Created, Found, parse_id, patched};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch, ListParams};

macro_rules! record_api {
    (
        $module:ident, tag = $tag:literal, what = $what:literal,
        collection = $collection:literal, item = $item:literal,
        id = $id:ty, input = $input:ty, output = $output:ty, filter = $filter:ty,
        list = $list:ident, create = $create:ident, get = $get:ident, update = $update:ident, delete = $delete:ident $(,)?
    ) => {
        pub mod $module {
            use super::*;

            #[utoipa::path(get, path = $collection, tag = $tag,
                params(crate::extract::CommonParams, $filter),
                responses((status = 200, body = Page<$output>), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
            pub async fn list(
                State(state): State<AppState>,
                _auth: Auth,
                params: ListParams<$filter>,
            ) -> Result<Json<Page<$output>>, ApiError> {
                Ok(Json(state.store.$list(&params.query, &params.filter).await?))
            }

            #[utoipa::path(post, path = $collection, tag = $tag, request_body = $input,
                responses((status = 201, body = $output), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
            pub async fn create(
                State(state): State<AppState>,
                auth: Auth,
                ApiJson(input): ApiJson<$input>,
            ) -> Result<Created<$output>, ApiError> {
                let record = state.store.$create(&auth.actor, input).await?;
                let location = format!("{}/{}", $collection, record.id);
                Ok(Created(record, location))
            }

            #[utoipa::path(get, path = $item, tag = $tag, params(("id" = String, Path)),
                responses((status = 200, body = $output), (status = 404, body = ErrorBody)))]
            pub async fn get(State(state): State<AppState>, _auth: Auth, Path(id): Path<String>) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                Ok(Found(state.store.$get(id).await?))
            }

            /// Replaces the record: fields left out return to their defaults.
            #[utoipa::path(put, path = $item, tag = $tag, params(("id" = String, Path)), request_body = $input,
                responses((status = 200, body = $output), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn replace(
                State(state): State<AppState>,
                auth: Auth,
                Path(id): Path<String>,
                IfMatch(version): IfMatch,
                ApiJson(input): ApiJson<$input>,
            ) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                Ok(Found(state.store.$update(&auth.actor, id, input, version).await?))
            }

            /// Changes only the fields sent (JSON merge patch); `null` clears a field.
            #[utoipa::path(patch, path = $item, tag = $tag, params(("id" = String, Path)), request_body = Object,
                responses((status = 200, body = $output), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
            pub async fn patch(
                State(state): State<AppState>,
                auth: Auth,
                Path(id): Path<String>,
                IfMatch(version): IfMatch,
                ApiJson(body): ApiJson<serde_json::Value>,
            ) -> Result<Found<$output>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                let current = state.store.$get(id).await?;
                // Without If-Match, the version read here guards against a write in between.
                let version = version.or(Some(current.meta.version));
                let input: $input = patched(&current, body)?;
                Ok(Found(state.store.$update(&auth.actor, id, input, version).await?))
            }

            #[utoipa::path(delete, path = $item, tag = $tag, params(("id" = String, Path)),
                responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
            pub async fn delete(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                state.store.$delete(&auth.actor, id).await?;
                Ok(StatusCode::NO_CONTENT)
            }

            pub fn routes() -> OpenApiRouter<AppState> {
                OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get, replace, patch, delete))
            }
        }
    };
}

record_api!(
    people,
    tag = "people",
    what = "person",
    collection = "/api/v1/people",
    item = "/api/v1/people/{id}",
    id = PersonId,
    input = PersonInput,
    output = Person,
    filter = PersonFilter,
    list = list_people,
    create = create_person,
    get = get_person,
    update = update_person,
    delete = delete_person
);
record_api!(
    companies,
    tag = "companies",
    what = "company",
    collection = "/api/v1/companies",
    item = "/api/v1/companies/{id}",
    id = CompanyId,
    input = CompanyInput,
    output = Company,
    filter = CompanyFilter,
    list = list_companies,
    create = create_company,
    get = get_company,
    update = update_company,
    delete = delete_company
);
record_api!(
    deals,
    tag = "deals",
    what = "deal",
    collection = "/api/v1/deals",
    item = "/api/v1/deals/{id}",
    id = DealId,
    input = DealInput,
    output = Deal,
    filter = DealFilter,
    list = list_deals,
    create = create_deal,
    get = get_deal,
    update = update_deal,
    delete = delete_deal
);
record_api!(
    activities,
    tag = "activities",
    what = "activity",
    collection = "/api/v1/activities",
    item = "/api/v1/activities/{id}",
    id = ActivityId,
    input = ActivityInput,
    output = Activity,
    filter = ActivityFilter,
    list = list_activities,
    create = create_activity,
    get = get_activity,
    update = update_activity,
    delete = delete_activity
);
record_api!(
    tasks,
    tag = "tasks",
    what = "task",
    collection = "/api/v1/tasks",
    item = "/api/v1/tasks/{id}",
    id = TaskId,
    input = TaskInput,
    output = Task,
    filter = TaskFilter,
    list = list_tasks,
    create = create_task,
    get = get_task,
    update = update_task,
    delete = delete_task
);
record_api!(
    purchases,
    tag = "purchases",
    what = "purchase",
    collection = "/api/v1/purchases",
    item = "/api/v1/purchases/{id}",
    id = PurchaseId,
    input = PurchaseInput,
    output = Purchase,
    filter = PurchaseFilter,
    list = list_purchases,
    create = create_purchase,
    get = get_purchase,
    update = update_purchase,
    delete = delete_purchase
);

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Timeline {
    /// Newest first.
    pub items: Vec<TimelineEntry>,
}

/// Everything that happened with a person: activities, tasks, deals, purchases.
#[utoipa::path(get, path = "/api/v1/people/{id}/timeline", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = Timeline), (status = 404, body = ErrorBody)))]
pub async fn person_timeline(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    Ok(Json(Timeline { items: state.store.person_timeline(id).await? }))
}

/// Everything that happened with a company, including its people's purchases.
#[utoipa::path(get, path = "/api/v1/companies/{id}/timeline", tag = "companies", params(("id" = String, Path)),
    responses((status = 200, body = Timeline), (status = 404, body = ErrorBody)))]
pub async fn company_timeline(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let id: CompanyId = parse_id(&id, "company")?;
    Ok(Json(Timeline { items: state.store.company_timeline(id).await? }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(people::routes())
        .merge(companies::routes())
        .merge(deals::routes())
        .merge(activities::routes())
        .merge(tasks::routes())
        .merge(purchases::routes())
        .routes(routes!(person_timeline))
        .routes(routes!(company_timeline))
}
