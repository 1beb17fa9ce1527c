//! Surveys over the API: building them (admins), their settings, sending one
//! to a customer or to an audience (a people-list query, such as a saved
//! view or a segment), and the links sent.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::surveys::{
    SendInput, SendOutcome, Survey, SurveyInput, SurveySend, SurveySettings, SurveyTrigger, templates,
};
use rapport_domain::{FieldErrors, JobId, SurveyId, ViewId};
use rapport_jobs::surveys::{AudienceSend, SEND, audience_filter};
use rapport_storage::NewJob;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Created, Found, Items, Versioned, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch, NoParams, Params};

impl Versioned for Survey {
    fn version(&self) -> i64 {
        self.meta.version
    }
}

/// A scheduled survey's audience must read as a people-list query (the
/// domain cannot tell: the people list's filters live in storage).
pub fn check_audience(input: &SurveyInput) -> Result<(), FieldErrors> {
    match &input.trigger {
        SurveyTrigger::Every { audience: Some(query), .. } => {
            audience_filter(query).map(|_| ()).map_err(|message| FieldErrors::single("trigger.audience", message))
        }
        _ => Ok(()),
    }
}

/// Every survey, by name.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys",
    responses((status = 200, body = Items<Survey>), (status = 422, body = ErrorBody)))]
pub async fn list_surveys(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<Survey>>, ApiError> {
    Ok(Json(Items { items: state.store.list_surveys().await? }))
}

/// A new survey (admins).
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyInput,
    responses((status = 201, body = Survey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_survey(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<SurveyInput>,
) -> Result<Created<Survey>, ApiError> {
    check_audience(&input).map_err(ApiError::Validation)?;
    let survey = state.store.create_survey(&auth.actor, input).await?;
    let location = format!("/api/v1/surveys/{}", survey.id);
    Ok(Created(survey, location))
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "surveys", params(("id" = String, Path)),
    responses((status = 200, body = Survey), (status = 404, body = ErrorBody)))]
pub async fn get_survey(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<Survey>, ApiError> {
    let id: SurveyId = parse_id(&id, "survey")?;
    Ok(Found(state.store.get_survey(id).await?))
}

/// Replaces a survey (admins); `If-Match` guards against overwriting someone else's change.
#[utoipa::path(put, path = "/api/v1/surveys/{id}", tag = "surveys", params(("id" = String, Path)), request_body = SurveyInput,
    responses((status = 200, body = Survey), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_survey(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<SurveyInput>,
) -> Result<Found<Survey>, ApiError> {
    let id: SurveyId = parse_id(&id, "survey")?;
    check_audience(&input).map_err(ApiError::Validation)?;
    Ok(Found(state.store.update_survey(&auth.actor, id, input, version).await?))
}

/// The shipped templates (NPS, CSAT, CES, each asking why), to create a survey from.
#[utoipa::path(get, path = "/api/v1/survey-templates", tag = "surveys",
    responses((status = 200, body = Items<SurveyInput>), (status = 422, body = ErrorBody)))]
pub async fn list_survey_templates(_auth: Auth, _params: Params<NoParams>) -> Json<Items<SurveyInput>> {
    Json(Items { items: templates() })
}

#[utoipa::path(get, path = "/api/v1/survey-settings", tag = "surveys", responses((status = 200, body = SurveySettings)))]
pub async fn get_survey_settings(State(state): State<AppState>, _auth: Auth) -> Result<Json<SurveySettings>, ApiError> {
    Ok(Json(state.store.survey_settings().await?))
}

/// The public address personal links start with, and the quiet period (admins).
#[utoipa::path(put, path = "/api/v1/survey-settings", tag = "surveys", request_body = SurveySettings,
    responses((status = 200, body = SurveySettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_survey_settings(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(settings): ApiJson<SurveySettings>,
) -> Result<Json<SurveySettings>, ApiError> {
    Ok(Json(state.store.set_survey_settings(&auth.actor, settings).await?))
}

/// Sends the survey to one customer: a personal link, emailed unless
/// `email` is false. The link is in the answer this once (only its hash is
/// kept), to copy into another channel. A customer who asked not to be
/// contacted, or was asked within the quiet period, is skipped.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/sends", tag = "surveys", params(("id" = String, Path)), request_body = SendInput,
    responses((status = 200, body = SendOutcome), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn send_survey(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SendInput>,
) -> Result<Json<SendOutcome>, ApiError> {
    let id: SurveyId = parse_id(&id, "survey")?;
    let outcome = state.store.send_survey(&auth.actor, id, input).await?;
    state.job_waker.notify_one();
    Ok(Json(outcome))
}

/// The links a survey sent, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/surveys/{id}/sends", tag = "surveys", params(("id" = String, Path)),
    responses((status = 200, body = Items<SurveySend>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_survey_sends(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<SurveySend>>, ApiError> {
    let id: SurveyId = parse_id(&id, "survey")?;
    state.store.get_survey(id).await?;
    Ok(Json(Items { items: state.store.survey_sends(id, 500).await? }))
}

/// Who an audience send goes to: a saved people view, or a people-list query.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    /// A saved view of the people list (yours).
    #[serde(default)]
    pub view_id: Option<ViewId>,
    /// A people-list query string, such as `segment=champions&lifecycle_stage=customer`.
    #[serde(default)]
    pub query: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AudienceQueued {
    pub job_id: JobId,
}

/// Sends the survey to everyone a saved view or people-list query selects,
/// in the background (managers and admins). Follow the job at `/api/v1/jobs/{id}`:
/// its result counts the sent and the skipped, by reason.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/audience", tag = "surveys", params(("id" = String, Path)),
    request_body = AudienceInput,
    responses((status = 202, body = AudienceQueued), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_to_audience(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AudienceInput>,
) -> Result<(StatusCode, Json<AudienceQueued>), ApiError> {
    let id: SurveyId = parse_id(&id, "survey")?;
    let job_id = queue_audience(&state, &auth.actor, id, input).await?;
    Ok((StatusCode::ACCEPTED, Json(AudienceQueued { job_id })))
}

/// Checks an audience send and queues its job (the API and the survey page).
pub async fn queue_audience(
    state: &AppState,
    actor: &rapport_domain::Actor,
    survey_id: SurveyId,
    input: AudienceInput,
) -> Result<JobId, ApiError> {
    actor.ensure_can_see_everyone().map_err(rapport_storage::StorageError::from)?;
    let survey = state.store.get_survey(survey_id).await?;
    if !survey.fields.active {
        return Err(ApiError::Conflict("this survey is switched off: switch it on to send it".into()));
    }
    if state.store.survey_settings().await?.public_url.is_none() {
        return Err(ApiError::Conflict("set the public address for survey links first (Settings → Surveys)".into()));
    }
    let query = match (input.view_id, input.query) {
        (Some(view), None) => {
            let views = state.store.list_views(actor, Some(rapport_domain::views::ListKind::People)).await?;
            let view = views
                .into_iter()
                .find(|v| v.id == view)
                .ok_or(ApiError::field("view_id", "no such people view of yours"))?;
            view.fields.query.as_str().to_owned()
        }
        (None, Some(query)) => query,
        _ => return Err(ApiError::field("view_id", "give either a view_id or a query")),
    };
    audience_filter(&query).map_err(|message| ApiError::field("query", message))?;
    let mut job = NewJob::new(SEND, serde_json::to_value(AudienceSend { survey_id, query }).expect("serialises"));
    job.created_by = Some(actor.user_id);
    job.max_attempts = 3;
    let job = state.store.enqueue_job(job).await?.ok_or(ApiError::Internal)?;
    state.job_waker.notify_one();
    Ok(job.id)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_surveys, create_survey))
        .routes(routes!(get_survey, replace_survey))
        .routes(routes!(list_survey_templates))
        .routes(routes!(get_survey_settings, put_survey_settings))
        .routes(routes!(send_survey, list_survey_sends))
        .routes(routes!(send_to_audience))
}
