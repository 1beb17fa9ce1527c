//! Staff and settings: users, teams, pipelines and custom fields. Anyone
//! signed in may read them; changes are for admins (checked in storage),
//! except that users may edit their own name and password.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::custom_fields::{CustomFieldDefinition, CustomFieldInput, EntityType};
use rapport_domain::records::*;
use rapport_domain::*;
use rapport_storage::UserFilter;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Created, Found, Items, parse_id, patch_again, patched};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch, ListParams, Listed, NoParams, Params, from_value, refuse_unknown_fields};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    #[serde(flatten)]
    pub user: UserInput,
    pub password: Password,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    #[serde(flatten)]
    pub user: UserInput,
    /// A new password, to change it.
    #[serde(default)]
    pub password: Option<Password>,
}

/// serde loses the field path inside a flattened struct: parse the user's
/// own fields first, so an error names the field (`role`, not `body`).
fn user_body<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    from_value::<UserInput>(body.clone())?;
    from_value::<T>(body)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(crate::extract::ListDoc<UserFilter>),
    responses((status = 200, body = Listed<User>), (status = 422, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    _auth: Auth,
    params: ListParams<UserFilter>,
) -> Result<Json<Listed<User>>, ApiError> {
    let page = state.store.list_users(&params.query, &params.filter).await?;
    Ok(Json(params.answer(page)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another user has this email."), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Created<User>, ApiError> {
    auth.actor.ensure_admin().map_err(|d| ApiError::Forbidden(d.to_string()))?;
    refuse_unknown_fields::<NewUser>(&body)?;
    let new: NewUser = user_body(body)?;
    let user = state.store.create_user(new.user, Some(&new.password), Some(auth.user.id)).await?;
    let location = format!("/api/v1/users/{}", user.id);
    Ok(Created(user, location))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<User>, ApiError> {
    Ok(Found(state.store.get_user(parse_id(&id, "user")?).await?))
}

/// Changes a user (merge patch). Include `password` to set a new one.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another user has this email."), (status = 422, body = ErrorBody)))]
pub async fn patch_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<User>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    refuse_unknown_fields::<UserChange>(&body)?;
    let mut attempts = 0;
    loop {
        let current = state.store.get_user(id).await?;
        let merged: serde_json::Value = patched(&current, body.clone())?;
        match save_user(&state, &auth, id, merged, version.or(Some(current.meta.version))).await {
            Err(ApiError::VersionMismatch { .. }) if patch_again(version, &mut attempts) => {}
            saved => return saved,
        }
    }
}

/// Replaces a user's fields. Include `password` to set a new one.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserChange,
    responses((status = 200, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another user has this email."), (status = 422, body = ErrorBody)))]
pub async fn replace_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<User>, ApiError> {
    refuse_unknown_fields::<UserChange>(&body)?;
    save_user(&state, &auth, parse_id(&id, "user")?, body, version).await
}

/// Saves a user's fields (and password, when given) from a full body; the
/// user's credentials may act differently now, so they are looked up afresh.
async fn save_user(
    state: &AppState,
    auth: &Auth,
    id: UserId,
    body: serde_json::Value,
    version: Option<i64>,
) -> Result<Found<User>, ApiError> {
    let change: UserChange = user_body(body)?;
    let user = state.store.update_user(&auth.actor, id, change.user, change.password.as_ref(), version).await?;
    state.auth_cache.clear();
    Ok(Found(user))
}

/// Deactivates a user: they are signed out everywhere; their records keep
/// their name. The last active admin cannot be deactivated (409).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.deactivate_user(&auth.actor, parse_id(&id, "user")?).await?;
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams",
    responses((status = 200, body = Items<Team>), (status = 422, body = ErrorBody)))]
pub async fn list_teams(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<Team>>, ApiError> {
    Ok(Json(Items { items: state.store.list_teams().await? }))
}

#[utoipa::path(get, path = "/api/v1/pipelines", tag = "pipelines",
    responses((status = 200, body = Items<Pipeline>), (status = 422, body = ErrorBody)))]
pub async fn list_pipelines(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<Pipeline>>, ApiError> {
    Ok(Json(Items { items: state.store.list_pipelines().await? }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomFieldParams {
    pub entity_type: Option<EntityType>,
}

#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "custom fields", params(CustomFieldParams),
    responses((status = 200, body = Items<CustomFieldDefinition>), (status = 422, body = ErrorBody)))]
pub async fn list_custom_fields(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<CustomFieldParams>,
) -> Result<Json<Items<CustomFieldDefinition>>, ApiError> {
    Ok(Json(Items { items: state.store.list_custom_fields(params.entity_type).await? }))
}

/// A team's members act for their team: when teams change, forget who they were.
fn forget_credentials(state: &AppState) {
    state.auth_cache.clear();
}

item_api!(
    teams,
    tag = "teams",
    what = "team",
    collection = "/api/v1/teams",
    item = "/api/v1/teams/{id}",
    id = TeamId,
    input = TeamInput,
    output = Team,
    create = create_team,
    get = get_team,
    update = update_team,
    delete = delete_team,
    after_write = forget_credentials
);
item_api!(
    pipelines,
    tag = "pipelines",
    what = "pipeline",
    collection = "/api/v1/pipelines",
    item = "/api/v1/pipelines/{id}",
    id = PipelineId,
    input = PipelineInput,
    output = Pipeline,
    create = create_pipeline,
    get = get_pipeline,
    update = update_pipeline,
    delete = delete_pipeline,
    delete_conflict = "The pipeline still has deals: move or delete them first"
);
item_api!(
    custom_fields,
    tag = "custom fields",
    what = "custom field",
    collection = "/api/v1/custom-fields",
    item = "/api/v1/custom-fields/{id}",
    id = CustomFieldId,
    input = CustomFieldInput,
    output = CustomFieldDefinition,
    create = create_custom_field,
    get = get_custom_field,
    update = update_custom_field,
    delete = delete_custom_field
);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, replace_user, patch_user, deactivate_user))
        .routes(routes!(list_teams))
        .merge(teams::routes())
        .routes(routes!(list_pipelines))
        .merge(pipelines::routes())
        .routes(routes!(list_custom_fields))
        .merge(custom_fields::routes())
}
