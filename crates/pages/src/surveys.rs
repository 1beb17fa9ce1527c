//! The survey pages: the list (admins add surveys from the shipped
//! templates and set the public address of links), and one survey's page:
//! its questions, sending it to one customer (emailed, or a link to copy)
//! or to a saved people view or segment, the links sent and the answers.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::Segment;
use rapport_domain::surveys::{AnswerSubject, PublicUrl, SendInput, SendOutcome, Survey, SurveySettings, templates};
use rapport_domain::views::ListKind;
use rapport_domain::{SurveyId, ViewId};
use rapport_storage::AnswerFilter;

use super::form::{Fields, FormData};
use super::lookup::person_by_label;
use super::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;
use rapport_api::endpoints::surveys::{AudienceInput, queue_audience};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list))
        .route("/surveys/from-template", post(from_template))
        .route("/surveys/settings", post(save_settings))
        .route("/surveys/{id}", get(show))
        .route("/surveys/{id}/send", post(send))
        .route("/surveys/{id}/audience", post(audience))
        .route("/surveys/{id}/active", post(switch))
}

struct SurveyRow {
    href: String,
    name: String,
    trigger: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    chrome: Chrome,
    surveys: Vec<SurveyRow>,
    templates: Vec<(usize, String)>,
    public_url: String,
    quiet_days: u16,
    settings_error: Option<String>,
}

async fn list_page(state: &AppState, signed: &Signed, settings_error: Option<String>) -> Result<Response, WebError> {
    let settings = state.store.survey_settings().await?;
    let view = ListPage {
        chrome: signed.chrome("feedback", "Surveys"),
        surveys: state
            .store
            .list_surveys()
            .await?
            .into_iter()
            .map(|s| SurveyRow {
                href: format!("/surveys/{}", s.id),
                name: s.fields.name.to_string(),
                trigger: s.fields.trigger.label(),
                active: s.fields.active,
            })
            .collect(),
        templates: templates().into_iter().enumerate().map(|(i, t)| (i, t.name.to_string())).collect(),
        public_url: settings.public_url.map(|u| u.as_str().to_owned()).unwrap_or_default(),
        quiet_days: settings.quiet_days,
        settings_error,
    };
    let mut response = signed.page(&view)?;
    if view.settings_error.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn list(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    list_page(&state, &signed, None).await
}

async fn from_template(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let template = form
        .get("template")
        .parse::<usize>()
        .ok()
        .and_then(|i| templates().into_iter().nth(i))
        .ok_or_else(|| WebError::BadRequest("pick one of the templates".into()))?;
    let survey = state.store.create_survey(&signed.actor, template).await?;
    Ok(redirect_with_flash(&format!("/surveys/{}", survey.id), &format!("{} was added.", survey.fields.name)))
}

async fn save_settings(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let public_url = match form.get("public_url") {
        "" => None,
        raw => match PublicUrl::parse(raw) {
            Ok(url) => Some(url),
            Err(message) => return list_page(&state, &signed, Some(format!("Public address: {message}"))).await,
        },
    };
    let Ok(quiet_days) = form.get("quiet_days").parse::<u16>() else {
        return list_page(&state, &signed, Some("Quiet period: a whole number of days".into())).await;
    };
    state.store.set_survey_settings(&signed.actor, SurveySettings { public_url, quiet_days }).await?;
    Ok(redirect_with_flash("/surveys", "Survey settings saved."))
}

struct SendRow {
    person_href: String,
    status: &'static str,
    sent: String,
    expires: String,
    emailed: bool,
}

struct AnswerRow {
    person_href: String,
    score: String,
    comment: String,
    sentiment: String,
    answered: String,
    task_href: Option<String>,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    chrome: Chrome,
    id: String,
    survey: Survey,
    trigger: String,
    /// The outcome of a send just made: the link to copy, or why nobody was asked.
    outcome: Option<String>,
    link: Option<String>,
    person: String,
    email: bool,
    person_error: Option<String>,
    views: Vec<(ViewId, String)>,
    segments: Vec<(&'static str, &'static str)>,
    can_send_audience: bool,
    sends: Vec<SendRow>,
    answers: Vec<AnswerRow>,
}

struct Sent {
    outcome: Option<String>,
    link: Option<String>,
    person: String,
    email: bool,
    person_error: Option<String>,
}

impl Default for Sent {
    fn default() -> Self {
        Sent { outcome: None, link: None, person: String::new(), email: true, person_error: None }
    }
}

async fn survey_page(state: &AppState, signed: &Signed, id: SurveyId, sent: Sent) -> Result<Response, WebError> {
    let survey = state.store.get_survey(id).await?;
    let sends = state.store.survey_sends(id, 50).await?;
    let answers = state.store.list_answers(&AnswerFilter { survey_id: Some(id), ..Default::default() }, 50).await?;
    let views = state.store.list_views(&signed.actor, Some(ListKind::People)).await?;
    let failed = sent.person_error.is_some();
    let view = SurveyPage {
        chrome: signed.chrome("feedback", survey.fields.name.to_string()),
        id: id.to_string(),
        trigger: survey.fields.trigger.label(),
        survey,
        outcome: sent.outcome,
        link: sent.link,
        person: sent.person,
        email: sent.email,
        person_error: sent.person_error,
        views: views.into_iter().map(|v| (v.id, v.fields.name.to_string())).collect(),
        segments: Segment::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        can_send_audience: signed.actor.ensure_can_see_everyone().is_ok(),
        sends: sends
            .into_iter()
            .map(|s| SendRow {
                person_href: format!("/people/{}", s.person_id),
                status: s.status.label(),
                sent: s.sent_at.date().to_string(),
                expires: s.expires_at.date().to_string(),
                emailed: s.emailed,
            })
            .collect(),
        answers: answers
            .into_iter()
            .map(|a| AnswerRow {
                person_href: format!("/people/{}", a.person_id),
                score: match (a.score_kind, a.score) {
                    (Some(kind), Some(score)) => format!("{} {score}", kind.as_str().to_uppercase()),
                    _ => "—".into(),
                },
                comment: a.comment.unwrap_or_default(),
                sentiment: a.sentiment.map(|s| format!("{s:+.2}")).unwrap_or_default(),
                answered: a.answered_at.date().to_string(),
                task_href: a.follow_up_task_id.map(|_| "/tasks".to_owned()),
            })
            .collect(),
    };
    let mut response = signed.page(&view)?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn survey_id(raw: &str) -> Result<SurveyId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("survey"))
}

async fn show(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    survey_page(&state, &signed, survey_id(&id)?, Sent::default()).await
}

async fn send(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id = survey_id(&id)?;
    let email = form.checked("email");
    let mut fields = Fields::new(&form);
    let person = person_by_label(&state, &mut fields, "person").await?;
    let sent = Sent { person: form.get("person").to_owned(), email, ..Sent::default() };
    let Some(person_id) = person else {
        let message = fields.errors.get("person").unwrap_or("name a customer: their email or full name").to_owned();
        return survey_page(&state, &signed, id, Sent { person_error: Some(message), ..sent }).await;
    };
    let input = SendInput { person_id, subject: AnswerSubject::default(), email };
    let sent = match state.store.send_survey(&signed.actor, id, input).await? {
        SendOutcome::Sent { link, .. } => {
            state.job_waker.notify_one();
            let outcome = if email {
                "Sent: the email is in the outbox. The link, to copy if you like:"
            } else {
                "The personal link, to copy into another channel (it is shown this once):"
            };
            Sent { outcome: Some(outcome.into()), link: Some(link), ..Sent::default() }
        }
        SendOutcome::Skipped { reason } => {
            Sent { outcome: Some(format!("Not sent: {}.", reason.label().to_lowercase())), ..sent }
        }
    };
    survey_page(&state, &signed, id, sent).await
}

async fn audience(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id = survey_id(&id)?;
    let input = match (form.get("view_id"), form.get("segment")) {
        ("", "") => return Err(WebError::BadRequest("pick a saved view or a segment".into())),
        (view, "") => AudienceInput {
            view_id: Some(view.parse().map_err(|_| WebError::BadRequest("no such view".into()))?),
            query: None,
        },
        ("", segment) => {
            let segment = Segment::parse(segment).ok_or_else(|| WebError::BadRequest("no such segment".into()))?;
            AudienceInput { view_id: None, query: Some(format!("segment={}", segment.as_str())) }
        }
        _ => return Err(WebError::BadRequest("pick a saved view or a segment, not both".into())),
    };
    let job = queue_audience(&state, &signed.actor, id, input).await?;
    Ok(redirect_with_flash(
        &format!("/surveys/{id}"),
        &format!("Sending in the background (job {job}); see Settings → Jobs for the count."),
    ))
}

async fn switch(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let id = survey_id(&id)?;
    let survey = state.store.get_survey(id).await?;
    let mut fields = survey.fields;
    fields.active = form.get("active") == "true";
    let version = form.get("version").parse().ok();
    let survey = state.store.update_survey(&signed.actor, id, fields, version).await?;
    let state_word = if survey.fields.active { "on" } else { "off" };
    Ok(redirect_with_flash(&format!("/surveys/{id}"), &format!("{} is switched {state_word}.", survey.fields.name)))
}
