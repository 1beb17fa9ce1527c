//! People, companies, deals, activities, tasks and purchases: list, create,
//! read, replace (PUT), merge-patch (PATCH) and delete, all alike.

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::history::{HistoryEntry, RecordKind};
use rapport_domain::records::*;
use rapport_domain::timeline::TimelineEntry;
use rapport_domain::*;
use rapport_storage::*;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, ListParams, Listed, NoParams, Params};

/// A record type's list endpoint, beside `item_api!`'s five.
macro_rules! record_api {
    (
        $module:ident, kind = $kind:ident, tag = $tag:literal, what = $what:literal,
        collection = $collection:literal, item = $item:literal, history = $history:literal,
        id = $id:ty, input = $input:ty, output = $output:ty, filter = $filter:ty,
        list = $list:ident, create = $create:ident $(, create_query = $query:ty)?, get = $get:ident, update = $update:ident, delete = $delete:ident
        $(, delete_conflict = $conflict:literal)? $(,)?
    ) => {
        pub mod $module {
            use super::*;

            item_api!($module, tag = $tag, what = $what, collection = $collection, item = $item,
                id = $id, input = $input, output = $output,
                create = $create $(, create_query = $query)?, get = $get, update = $update, delete = $delete
                $(, delete_conflict = $conflict)?);

            #[utoipa::path(get, path = $collection, tag = $tag, operation_id = concat!("list_", stringify!($module)),
                params(crate::extract::ListDoc<$filter>),
                responses((status = 200, body = Listed<$output>), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
            pub async fn list(
                State(state): State<AppState>,
                _auth: Auth,
                params: ListParams<$filter>,
            ) -> Result<Json<Listed<$output>>, ApiError> {
                let page = state.store.$list(&params.query, &params.filter).await?;
                Ok(Json(params.answer(page)))
            }

            /// Every create, update, delete, restore and merge of the record, newest
            /// first, with who, when and each changed field (old → new). A deleted
            /// record's history is still here.
            #[utoipa::path(get, path = $history, tag = $tag, operation_id = concat!("history_", stringify!($module)),
                params(("id" = String, Path)),
                responses((status = 200, body = Items<HistoryEntry>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
                    (status = 401, body = ErrorBody)))]
            pub async fn history(
                State(state): State<AppState>,
                _auth: Auth,
                _params: Params<NoParams>,
                Path(id): Path<String>,
            ) -> Result<Json<Items<HistoryEntry>>, ApiError> {
                let id: $id = parse_id(&id, $what)?;
                let items = state.store.history(RecordKind::$kind, id.0).await?;
                if items.is_empty() {
                    // Records from before history was kept have none yet.
                    state.store.$get(id).await?;
                }
                Ok(Json(Items { items }))
            }

            pub fn routes() -> OpenApiRouter<AppState> {
                $module::routes().routes(routes!(list)).routes(routes!(history))
            }
        }
    };
}

record_api!(
    people,
    kind = People,
    tag = "people",
    what = "person",
    collection = "/api/v1/people",
    item = "/api/v1/people/{id}",
    history = "/api/v1/people/{id}/history",
    id = PersonId,
    input = PersonInput,
    output = Person,
    filter = PersonFilter,
    list = list_people,
    create = add_person,
    create_query = NewPersonParams,
    get = get_person,
    update = update_person,
    delete = delete_person,
    delete_conflict = "The person asked tickets: delete those, or give them another requester, first"
);
record_api!(
    companies,
    kind = Companies,
    tag = "companies",
    what = "company",
    collection = "/api/v1/companies",
    item = "/api/v1/companies/{id}",
    history = "/api/v1/companies/{id}/history",
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
    kind = Deals,
    tag = "deals",
    what = "deal",
    collection = "/api/v1/deals",
    item = "/api/v1/deals/{id}",
    history = "/api/v1/deals/{id}/history",
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
    kind = Activities,
    tag = "activities",
    what = "activity",
    collection = "/api/v1/activities",
    item = "/api/v1/activities/{id}",
    history = "/api/v1/activities/{id}/history",
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
    kind = Tasks,
    tag = "tasks",
    what = "task",
    collection = "/api/v1/tasks",
    item = "/api/v1/tasks/{id}",
    history = "/api/v1/tasks/{id}/history",
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
    kind = Purchases,
    tag = "purchases",
    what = "purchase",
    collection = "/api/v1/purchases",
    item = "/api/v1/purchases/{id}",
    history = "/api/v1/purchases/{id}/history",
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

/// What creating a person may say besides the person.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewPersonParams {
    /// `true` to create the person even when another person has one of their
    /// email addresses (otherwise 409, naming that person in `existing_id`).
    #[serde(default)]
    allow_duplicate: bool,
}

impl From<NewPersonParams> for SharedEmail {
    fn from(params: NewPersonParams) -> Self {
        if params.allow_duplicate { SharedEmail::Allow } else { SharedEmail::Refuse }
    }
}

/// Everything that happened with a person, newest first: activities, tasks, deals, purchases,
/// and the tickets the caller may see with their messages.
#[utoipa::path(get, path = "/api/v1/people/{id}/timeline", tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = Items<TimelineEntry>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn person_timeline(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<TimelineEntry>>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    Ok(Json(Items { items: state.store.person_timeline(&auth.actor, id).await? }))
}

/// Everything that happened with a company, newest first, including its people's purchases
/// and the tickets the caller may see.
#[utoipa::path(get, path = "/api/v1/companies/{id}/timeline", tag = "companies", params(("id" = String, Path)),
    responses((status = 200, body = Items<TimelineEntry>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn company_timeline(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<TimelineEntry>>, ApiError> {
    let id: CompanyId = parse_id(&id, "company")?;
    Ok(Json(Items { items: state.store.company_timeline(&auth.actor, id).await? }))
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
