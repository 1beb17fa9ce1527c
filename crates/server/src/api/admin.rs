//! Staff and settings: users, teams, pipelines and custom fields. Anyone
//! signed in may read them; changes are for admins (checked in storage),
//! except that users may edit their own name and password.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::custom_fields::{CustomFieldDefinition, CustomFieldInput, EntityType};
use rapport_domain::records::*;
use rapport_domain::*;
use rapport_storage::{Page, UserFilter};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Created, Found, parse_id, patched};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch, ListParams, from_value};

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

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(crate::extract::CommonParams, UserFilter),
    responses((status = 200, body = Page<User>)))]
pub async fn list_users(
    State(state): State<AppState>,
    _auth: Auth,
    params: ListParams<UserFilter>,
) -> Result<Json<Page<User>>, ApiError> {
    Ok(Json(state.store.list_users(&params.query, &params.filter).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Created<User>, ApiError> {
    auth.actor.ensure_admin().map_err(|d| ApiError::Forbidden(d.to_string()))?;
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
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<User>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    let current = state.store.get_user(id).await?;
    let version = version.or(Some(current.meta.version));
    let merged: serde_json::Value = patched(&current, body)?;
    let change: UserChange = user_body(merged)?;
    let user = state.store.update_user(&auth.actor, id, change.user, change.password.as_ref(), version).await?;
    state.auth_cache.clear();
    Ok(Found(user))
}

/// Replaces a user's fields. Include `password` to set a new one.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserChange,
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<User>, ApiError> {
    let change: UserChange = user_body(body)?;
    let user = state
        .store
        .update_user(&auth.actor, parse_id(&id, "user")?, change.user, change.password.as_ref(), version)
        .await?;
    state.auth_cache.clear();
    Ok(Found(user))
}

/// Deactivates a user: they are signed out everywhere; their records keep their name.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.deactivate_user(&auth.actor, parse_id(&id, "user")?).await?;
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamList {
    pub items: Vec<Team>,
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = TeamList)))]
pub async fn list_teams(State(state): State<AppState>, _auth: Auth) -> Result<Json<TeamList>, ApiError> {
    Ok(Json(TeamList { items: state.store.list_teams().await? }))
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 403, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Created<Team>, ApiError> {
    let team = state.store.create_team(&auth.actor, input).await?;
    let location = format!("/api/v1/teams/{}", team.id);
    Ok(Created(team, location))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)),
    responses((status = 200, body = Team), (status = 404, body = ErrorBody)))]
pub async fn get_team(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<Team>, ApiError> {
    Ok(Found(state.store.get_team(parse_id(&id, "team")?).await?))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = Team), (status = 403, body = ErrorBody)))]
pub async fn patch_team(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<Team>, ApiError> {
    let id: TeamId = parse_id(&id, "team")?;
    let current = state.store.get_team(id).await?;
    let version = version.or(Some(current.meta.version));
    let input: TeamInput = patched(&current, body)?;
    Ok(Found(state.store.update_team(&auth.actor, id, input, version).await?))
}

#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)), request_body = TeamInput,
    responses((status = 200, body = Team), (status = 403, body = ErrorBody)))]
pub async fn replace_team(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Found<Team>, ApiError> {
    Ok(Found(state.store.update_team(&auth.actor, parse_id(&id, "team")?, input, version).await?))
}

/// Deletes a team; its members stay, without a team.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_team(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_team(&auth.actor, parse_id(&id, "team")?).await?;
    // Its members' teams changed.
    state.auth_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PipelineList {
    pub items: Vec<Pipeline>,
}

#[utoipa::path(get, path = "/api/v1/pipelines", tag = "pipelines", responses((status = 200, body = PipelineList)))]
pub async fn list_pipelines(State(state): State<AppState>, _auth: Auth) -> Result<Json<PipelineList>, ApiError> {
    Ok(Json(PipelineList { items: state.store.list_pipelines().await? }))
}

#[utoipa::path(post, path = "/api/v1/pipelines", tag = "pipelines", request_body = PipelineInput,
    responses((status = 201, body = Pipeline), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_pipeline(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<PipelineInput>,
) -> Result<Created<Pipeline>, ApiError> {
    let pipeline = state.store.create_pipeline(&auth.actor, input).await?;
    let location = format!("/api/v1/pipelines/{}", pipeline.id);
    Ok(Created(pipeline, location))
}

#[utoipa::path(get, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path)),
    responses((status = 200, body = Pipeline), (status = 404, body = ErrorBody)))]
pub async fn get_pipeline(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<Pipeline>, ApiError> {
    Ok(Found(state.store.get_pipeline(parse_id(&id, "pipeline")?).await?))
}

/// Replaces the name and stages. Keep a stage by sending its id; a stage left
/// out is removed, which is refused while deals sit on it.
#[utoipa::path(put, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path)), request_body = PipelineInput,
    responses((status = 200, body = Pipeline), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_pipeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<PipelineInput>,
) -> Result<Found<Pipeline>, ApiError> {
    Ok(Found(state.store.update_pipeline(&auth.actor, parse_id(&id, "pipeline")?, input, version).await?))
}

#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = Pipeline), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_pipeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<Pipeline>, ApiError> {
    let id: PipelineId = parse_id(&id, "pipeline")?;
    let current = state.store.get_pipeline(id).await?;
    let version = version.or(Some(current.meta.version));
    let input: PipelineInput = patched(&current, body)?;
    Ok(Found(state.store.update_pipeline(&auth.actor, id, input, version).await?))
}

#[utoipa::path(delete, path = "/api/v1/pipelines/{id}", tag = "pipelines", params(("id" = String, Path)),
    responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn delete_pipeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_pipeline(&auth.actor, parse_id(&id, "pipeline")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomFieldParams {
    pub entity_type: Option<EntityType>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomFieldList {
    pub items: Vec<CustomFieldDefinition>,
}

#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "custom fields", params(CustomFieldParams),
    responses((status = 200, body = CustomFieldList)))]
pub async fn list_custom_fields(
    State(state): State<AppState>,
    _auth: Auth,
    params: ListParams<CustomFieldParams>,
) -> Result<Json<CustomFieldList>, ApiError> {
    Ok(Json(CustomFieldList { items: state.store.list_custom_fields(params.filter.entity_type).await? }))
}

#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "custom fields", request_body = CustomFieldInput,
    responses((status = 201, body = CustomFieldDefinition), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CustomFieldInput>,
) -> Result<Created<CustomFieldDefinition>, ApiError> {
    let field = state.store.create_custom_field(&auth.actor, input).await?;
    let location = format!("/api/v1/custom-fields/{}", field.id);
    Ok(Created(field, location))
}

#[utoipa::path(get, path = "/api/v1/custom-fields/{id}", tag = "custom fields", params(("id" = String, Path)),
    responses((status = 200, body = CustomFieldDefinition), (status = 404, body = ErrorBody)))]
pub async fn get_custom_field(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<CustomFieldDefinition>, ApiError> {
    Ok(Found(state.store.get_custom_field(parse_id(&id, "custom field")?).await?))
}

/// Changes a field's label, choices or whether it is required.
#[utoipa::path(patch, path = "/api/v1/custom-fields/{id}", tag = "custom fields", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = CustomFieldDefinition), (status = 422, body = ErrorBody)))]
pub async fn patch_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<CustomFieldDefinition>, ApiError> {
    let id: CustomFieldId = parse_id(&id, "custom field")?;
    let current = state.store.get_custom_field(id).await?;
    let version = version.or(Some(current.version));
    let input: CustomFieldInput = patched(&current, body)?;
    Ok(Found(state.store.update_custom_field(&auth.actor, id, input, version).await?))
}

/// Replaces a field's label, choices and whether it is required; key, record type and kind stay.
#[utoipa::path(put, path = "/api/v1/custom-fields/{id}", tag = "custom fields", params(("id" = String, Path)), request_body = CustomFieldInput,
    responses((status = 200, body = CustomFieldDefinition), (status = 422, body = ErrorBody)))]
pub async fn replace_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<CustomFieldInput>,
) -> Result<Found<CustomFieldDefinition>, ApiError> {
    Ok(Found(state.store.update_custom_field(&auth.actor, parse_id(&id, "custom field")?, input, version).await?))
}

/// Deletes a field and its values from every record.
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", tag = "custom fields", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_custom_field(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_custom_field(&auth.actor, parse_id(&id, "custom field")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, replace_user, patch_user, deactivate_user))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, replace_team, patch_team, delete_team))
        .routes(routes!(list_pipelines, create_pipeline))
        .routes(routes!(get_pipeline, replace_pipeline, patch_pipeline, delete_pipeline))
        .routes(routes!(list_custom_fields, create_custom_field))
        .routes(routes!(get_custom_field, replace_custom_field, patch_custom_field, delete_custom_field))
}
