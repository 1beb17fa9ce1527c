//! Staff relationship style from the inside: the questionnaire and the
//! development steps (admins edit them), self-assessments, colleague
//! feedback rounds (results only from three answers, never who answered),
//! and each staff member's style profile putting self, colleagues and the
//! measured scorecard side by side.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::style_feedback::{
    FeedbackRequest, FeedbackRound, FeedbackRoundInput, Questionnaire, RatingsInput, SelfAssessment, StepCatalogue,
};
use rapport_domain::{FeedbackRequestId, FeedbackRoundId, UserId};
use rapport_reports::scorecards::StyleScope;
use rapport_reports::style_profile::{StyleProfile, style_profile};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::style::style_period;
use super::{Items, instant, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, NoParams, Params};

/// The questions of self-assessments and colleague feedback.
#[utoipa::path(get, path = "/api/v1/style/questions", tag = "style",
    responses((status = 200, body = Questionnaire), (status = 422, body = ErrorBody)))]
pub async fn questions(
    State(state): State<AppState>,
    _auth: Auth,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Questionnaire>, ApiError> {
    Ok(Json(state.store.style_questionnaire().await?))
}

/// Replaces the questionnaire (admins): one to 30 questions with distinct
/// keys. Rounds already made keep their questions.
#[utoipa::path(put, path = "/api/v1/style/questions", tag = "style", request_body = Questionnaire,
    responses((status = 200, body = Questionnaire), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_questions(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<Questionnaire>,
) -> Result<Json<Questionnaire>, ApiError> {
    Ok(Json(state.store.set_style_questionnaire(&auth.actor, input).await?))
}

/// The development steps the style profile suggests for a weakness.
#[utoipa::path(get, path = "/api/v1/style/development-steps", tag = "style",
    responses((status = 200, body = StepCatalogue), (status = 422, body = ErrorBody)))]
pub async fn steps(
    State(state): State<AppState>,
    _auth: Auth,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<StepCatalogue>, ApiError> {
    Ok(Json(state.store.style_step_catalogue().await?))
}

/// Replaces the development steps (admins).
#[utoipa::path(put, path = "/api/v1/style/development-steps", tag = "style", request_body = StepCatalogue,
    responses((status = 200, body = StepCatalogue), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_steps(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<StepCatalogue>,
) -> Result<Json<StepCatalogue>, ApiError> {
    Ok(Json(state.store.set_style_step_catalogue(&auth.actor, input).await?))
}

/// Whose self-assessments.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserParams {
    /// The staff member (default: the caller); someone the caller may not see is not found.
    pub user_id: Option<UserId>,
}

/// The caller rates their own skills on the current questionnaire, each 1 to 5.
#[utoipa::path(post, path = "/api/v1/style/self-assessments", tag = "style", request_body = RatingsInput,
    responses((status = 201, body = SelfAssessment), (status = 422, body = ErrorBody)))]
pub async fn add_self_assessment(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<RatingsInput>,
) -> Result<(StatusCode, Json<SelfAssessment>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.add_self_assessment(&auth.actor, input).await?)))
}

/// A staff member's self-assessments, newest first: the caller's own, their
/// team's (managers) or anyone's (admins).
#[utoipa::path(get, path = "/api/v1/style/self-assessments", tag = "style", params(UserParams),
    responses((status = 200, body = Items<SelfAssessment>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn self_assessments(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<UserParams>,
) -> Result<Json<Items<SelfAssessment>>, ApiError> {
    let user = params.user_id.unwrap_or(auth.actor.user_id);
    Ok(Json(Items { items: state.store.self_assessments(&auth.actor, user).await? }))
}

/// Asks at least three colleagues for feedback on a staff member (the
/// subject themselves, their manager or an admin may ask).
#[utoipa::path(post, path = "/api/v1/style/feedback-rounds", tag = "style", request_body = FeedbackRoundInput,
    responses((status = 201, body = FeedbackRound), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_round(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<FeedbackRoundInput>,
) -> Result<(StatusCode, Json<FeedbackRound>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.create_feedback_round(&auth.actor, input).await?)))
}

/// Whose feedback rounds.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundParams {
    /// Only rounds about this staff member (someone the caller may see).
    pub subject_id: Option<UserId>,
}

/// The feedback rounds the caller may see, newest first: about themselves,
/// their team (managers) or anyone (admins). Results stay `null` until three
/// colleagues answered; who answered is never shown.
#[utoipa::path(get, path = "/api/v1/style/feedback-rounds", tag = "style", params(RoundParams),
    responses((status = 200, body = Items<FeedbackRound>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rounds(
    State(state): State<AppState>,
    auth: Auth,
    Params(params): Params<RoundParams>,
) -> Result<Json<Items<FeedbackRound>>, ApiError> {
    Ok(Json(Items { items: state.store.feedback_rounds(&auth.actor, params.subject_id).await? }))
}

/// One feedback round the caller may see.
#[utoipa::path(get, path = "/api/v1/style/feedback-rounds/{id}", tag = "style", params(("id" = String, Path)),
    responses((status = 200, body = FeedbackRound), (status = 404, body = ErrorBody)))]
pub async fn round(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<FeedbackRound>, ApiError> {
    let id: FeedbackRoundId = parse_id(&id, "feedback round")?;
    Ok(Json(state.store.feedback_round(&auth.actor, id).await?))
}

/// The caller's requests still waiting for their answer, soonest closing first.
#[utoipa::path(get, path = "/api/v1/style/feedback-requests", tag = "style",
    responses((status = 200, body = Items<FeedbackRequest>), (status = 422, body = ErrorBody)))]
pub async fn requests(
    State(state): State<AppState>,
    auth: Auth,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Items<FeedbackRequest>>, ApiError> {
    Ok(Json(Items { items: state.store.pending_feedback_requests(&auth.actor).await? }))
}

/// Answers one of the caller's open requests, once. A used request, one of a
/// closed round or someone else's is not found.
#[utoipa::path(post, path = "/api/v1/style/feedback-requests/{id}/answer", tag = "style", params(("id" = String, Path)),
    request_body = RatingsInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RatingsInput>,
) -> Result<StatusCode, ApiError> {
    let id: FeedbackRequestId = parse_id(&id, "open feedback request")?;
    state.store.answer_feedback_request(&auth.actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The period of a style profile.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileParams {
    /// The first day counted, `YYYY-MM-DD` or RFC 3339 (default: 30 days before `to`).
    #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
    pub from: Option<String>,
    /// The day after the last counted (exclusive; default: the end of today).
    #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
    pub to: Option<String>,
}

/// A staff member's style profile: per dimension their own rating, their
/// colleagues' (from a round with at least three answers) and the measured
/// scorecard score; where they differ; and steps to work on.
#[utoipa::path(get, path = "/api/v1/style/profiles/{user_id}", tag = "style", params(("user_id" = String, Path), ProfileParams),
    responses((status = 200, body = StyleProfile), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    auth: Auth,
    Path(user_id): Path<String>,
    Params(params): Params<ProfileParams>,
) -> Result<Json<StyleProfile>, ApiError> {
    let user: UserId = parse_id(&user_id, "user")?;
    let (from, to) = style_period(instant(params.from.as_deref(), "from")?, instant(params.to.as_deref(), "to")?)?;
    let report = state.scorecards.report(&state.store, &auth.actor, StyleScope::User(user), from, to).await?;
    Ok(Json(style_profile(&state.store, &auth.actor, report).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(questions, set_questions))
        .routes(routes!(steps, set_steps))
        .routes(routes!(add_self_assessment, self_assessments))
        .routes(routes!(create_round, rounds))
        .routes(routes!(round))
        .routes(routes!(requests))
        .routes(routes!(answer))
        .routes(routes!(profile))
}
