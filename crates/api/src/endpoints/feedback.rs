//! Answers and what they add up to: recording an answer given by phone,
//! listing answers, the NPS/CSAT/CES summary with intervals, and the themes
//! of what customers wrote (whose grouping admins can steer).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rapport_domain::surveys::{Answer, AnswerSource, AnswerSubject, NpsGroup, ThemeNote, ThemeNoteInput};
use rapport_domain::text::Name;
use rapport_domain::{AnswerId, DealId, PersonId, SurveyId, ThemeNoteId, TicketId, UserId};
use rapport_reports::feedback::{FeedbackSummary, GroupBy};
use rapport_storage::{AnswerFilter, RecordedAnswer};
use rapport_text::{Theme, ThemeRule};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, instant, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, NoParams, Params};

/// Query parameters for answers: which answers (a survey, a customer, a
/// staff member, a period, an NPS group), plus what only `$name`'s
/// operation takes, so each one documents, and accepts, its own.
macro_rules! answer_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$extra_meta:meta])* $extra:ident: $extra_type:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            survey_id: Option<SurveyId>,
            person_id: Option<PersonId>,
            staff_id: Option<UserId>,
            /// The first day counted, `YYYY-MM-DD` or RFC 3339.
            #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
            from: Option<String>,
            /// The day after the last counted (exclusive), `YYYY-MM-DD` or RFC 3339.
            #[param(value_type = Option<rapport_domain::time_input::DateOrDateTime>)]
            to: Option<String>,
            nps_group: Option<NpsGroup>,
            $($(#[$extra_meta])* $extra: $extra_type),*
        }

        impl $name {
            fn filter(&self) -> Result<AnswerFilter, ApiError> {
                Ok(AnswerFilter {
                    survey_id: self.survey_id,
                    person_id: self.person_id,
                    staff_id: self.staff_id,
                    from: instant(self.from.as_deref(), "from")?,
                    to: instant(self.to.as_deref(), "to")?,
                    nps_group: self.nps_group,
                })
            }
        }
    };
}

answer_params!(
    /// Which answers to list, and how many.
    AnswerListParams {
        /// At most this many answers (1–1000, default 100).
        #[param(minimum = 1, maximum = 1000)]
        limit: Option<u64>,
    }
);

answer_params!(
    /// Which answers to summarise, and how to group them.
    AnswerSummaryParams {
        /// month, survey, team, staff, segment or stage.
        #[param(value_type = Option<String>, pattern = "^(month|survey|team|staff|segment|stage)$")]
        by: Option<String>,
    }
);

answer_params!(
    /// Which answers' comments to find themes in.
    AnswerThemesParams {}
);

/// Answers, newest first.
#[utoipa::path(get, path = "/api/v1/answers", tag = "feedback", params(AnswerListParams),
    responses((status = 200, body = Items<Answer>), (status = 422, body = ErrorBody)))]
pub async fn list_answers(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<AnswerListParams>,
) -> Result<Json<Items<Answer>>, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    Ok(Json(Items { items: state.store.list_answers(&params.filter()?, limit).await? }))
}

#[utoipa::path(get, path = "/api/v1/answers/{id}", tag = "feedback", params(("id" = String, Path)),
    responses((status = 200, body = Answer), (status = 404, body = ErrorBody)))]
pub async fn get_answer(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Answer>, ApiError> {
    let id: AnswerId = parse_id(&id, "answer")?;
    Ok(Json(state.store.get_answer(id).await?))
}

/// An answer given another way than the personal link: by phone to a staff member.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub survey_id: SurveyId,
    pub person_id: PersonId,
    /// The ticket, deal and staff member the answer is about (named one by
    /// one: a flattened struct would let unknown fields through).
    #[serde(default)]
    pub ticket_id: Option<TicketId>,
    #[serde(default)]
    pub deal_id: Option<DealId>,
    #[serde(default)]
    pub staff_id: Option<UserId>,
    /// Each question's answer by its key: a score, a text, or a list of choices.
    #[schema(schema_with = answers_schema, example = json!({"score": 9, "why": "Quick and friendly"}))]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// When it was answered (RFC 3339 or `YYYY-MM-DD`; default: now).
    #[serde(default)]
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
    /// Its id in another system: sending it again updates the same answer.
    #[serde(default)]
    pub external_id: Option<Name>,
}

/// Question key to a number, a text, a list of choices, or null (no answer).
fn answers_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let answer = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .item(ObjectBuilder::new().schema_type(Type::Null));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(answer.into())))
        .description(Some("Each question's answer by its key: a score, a text, or a list of choices."))
        .build()
}

/// The JSON answers as the text a form would carry.
fn as_given(answers: BTreeMap<String, serde_json::Value>) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    answers
        .into_iter()
        .map(|(key, value)| {
            let values = match value {
                serde_json::Value::Number(n) => vec![n.to_string()],
                serde_json::Value::String(s) => vec![s],
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        serde_json::Value::String(s) => Ok(s),
                        _ => Err(ApiError::field(format!("answers.{key}"), "choices are strings")),
                    })
                    .collect::<Result<_, _>>()?,
                serde_json::Value::Null => Vec::new(),
                _ => {
                    return Err(ApiError::field(
                        format!("answers.{key}"),
                        "must be a number, a string or a list of strings",
                    ));
                }
            };
            Ok((key, values))
        })
        .collect()
}

#[utoipa::path(post, path = "/api/v1/answers", tag = "feedback", request_body = AnswerInput,
    responses((status = 201, body = Answer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A record the answer names (its staff member) does not exist."),
        (status = 422, body = ErrorBody)))]
pub async fn record_answer(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<AnswerInput>,
) -> Result<(StatusCode, Json<Answer>), ApiError> {
    let answered_at = instant(input.answered_at.as_deref(), "answered_at")?;
    let recorded = RecordedAnswer {
        survey_id: input.survey_id,
        person_id: input.person_id,
        subject: AnswerSubject { ticket_id: input.ticket_id, deal_id: input.deal_id, staff_id: input.staff_id },
        given: as_given(input.answers)?,
        answered_at,
        source: AnswerSource::Phone,
        external_id: input.external_id,
    };
    Ok((StatusCode::CREATED, Json(state.store.record_answer(&auth.actor, recorded).await?)))
}

/// NPS, CSAT and CES with their 95 % intervals, the score distribution and
/// the response rate; with `by`, the same per month, survey, team, staff
/// member, segment or lifecycle stage.
#[utoipa::path(get, path = "/api/v1/feedback/summary", tag = "feedback", params(AnswerSummaryParams),
    responses((status = 200, body = FeedbackSummary), (status = 422, body = ErrorBody)))]
pub async fn feedback_summary(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<AnswerSummaryParams>,
) -> Result<Json<FeedbackSummary>, ApiError> {
    let by = params.by.as_deref().map(GroupBy::parse).transpose().map_err(|message| ApiError::field("by", message))?;
    Ok(Json(rapport_reports::feedback::summary(&state.store, &params.filter()?, by).await?))
}

/// The themes of the period's comments (default: the last 90 days), with
/// their trend against the period of the same length before.
#[utoipa::path(get, path = "/api/v1/feedback/themes", tag = "feedback", params(AnswerThemesParams),
    responses((status = 200, body = Items<Theme>), (status = 422, body = ErrorBody)))]
pub async fn feedback_themes(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<AnswerThemesParams>,
) -> Result<Json<Items<Theme>>, ApiError> {
    let filter = params.filter()?;
    let (from, to) = period(filter.from, filter.to)?;
    Ok(Json(Items { items: rapport_reports::feedback::themes(&state.store, filter.survey_id, from, to, 2).await? }))
}

/// The period a themes request covers: the 90 days up to the end of today unless told.
pub fn period(
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let to =
        to.unwrap_or_else(|| (rapport_domain::records::now().date() + time::Duration::days(1)).midnight().assume_utc());
    let from = from.unwrap_or(to - time::Duration::days(90));
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/v1/feedback/theme-rules", tag = "feedback",
    responses((status = 200, body = Items<ThemeRule>), (status = 422, body = ErrorBody)))]
pub async fn list_theme_rules(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<ThemeRule>>, ApiError> {
    Ok(Json(Items { items: state.store.theme_rules().await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    pub rules: Vec<ThemeRule>,
}

/// Renames, merges or pins themes (admins): each rule puts a phrase (or a
/// theme's key) in the named theme; the grouping keeps to them.
#[utoipa::path(put, path = "/api/v1/feedback/theme-rules", tag = "feedback", request_body = RulesInput,
    responses((status = 200, body = Items<ThemeRule>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_theme_rules(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<RulesInput>,
) -> Result<Json<Items<ThemeRule>>, ApiError> {
    state.store.set_theme_rules(&auth.actor, input.rules).await?;
    Ok(Json(Items { items: state.store.theme_rules().await? }))
}

/// Lets the grouping decide for a phrase (or a theme's key) again (admins).
#[utoipa::path(delete, path = "/api/v1/feedback/theme-rules/{phrase}", tag = "feedback", params(("phrase" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn clear_theme_rule(
    State(state): State<AppState>,
    auth: Auth,
    Path(phrase): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.clear_theme_rule(&auth.actor, &phrase).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteParams {
    /// Only the notes of the theme with this name (compared without case).
    #[param(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    theme: Option<String>,
}

/// "You said, we did" notes, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/feedback/theme-notes", tag = "feedback", params(NoteParams),
    responses((status = 200, body = Items<ThemeNote>), (status = 422, body = ErrorBody)))]
pub async fn list_theme_notes(
    State(state): State<AppState>,
    _auth: Auth,
    Params(params): Params<NoteParams>,
) -> Result<Json<Items<ThemeNote>>, ApiError> {
    Ok(Json(Items { items: state.store.theme_notes(params.theme.as_deref(), 500).await? }))
}

/// Writes what was done about a theme (managers and admins).
#[utoipa::path(post, path = "/api/v1/feedback/theme-notes", tag = "feedback", request_body = ThemeNoteInput,
    responses((status = 201, body = ThemeNote), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_theme_note(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ThemeNoteInput>,
) -> Result<(StatusCode, Json<ThemeNote>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.store.add_theme_note(&auth.actor, input).await?)))
}

/// Removes a note (its author or an admin).
#[utoipa::path(delete, path = "/api/v1/feedback/theme-notes/{id}", tag = "feedback", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_theme_note(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ThemeNoteId = parse_id(&id, "theme note")?;
    state.store.delete_theme_note(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_answers, record_answer))
        .routes(routes!(get_answer))
        .routes(routes!(feedback_summary))
        .routes(routes!(feedback_themes))
        .routes(routes!(list_theme_rules, set_theme_rules))
        .routes(routes!(clear_theme_rule))
        .routes(routes!(list_theme_notes, add_theme_note))
        .routes(routes!(delete_theme_note))
}
