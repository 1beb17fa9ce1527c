//! The public survey pages a customer's personal link opens: no sign-in,
//! no session, no link into the staff pages. A token opens its own survey's
//! form and nothing else; expired, used and unknown tokens get the same
//! polite page, which tells nothing about which it was. Each address gets a
//! limited number of requests a minute, so tokens cannot be guessed in bulk.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rapport_domain::FieldErrors;
use rapport_domain::surveys::{Answer, QuestionKind, Response as Given, Survey};
use rapport_storage::{LinkState, StorageError};

use rapport_api::AppState;
use rapport_api::endpoints::session::ClientAddr;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/s/{token}", get(show).post(answer))
        .route("/s/{token}/unsubscribe", get(unsubscribe_form).post(unsubscribe))
        .route_layer(axum::middleware::from_fn_with_state(state, limit))
}

/// Every survey page counts against its address's limit.
async fn limit(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.link_limiter.allows(addr) { next.run(request).await } else { too_many() }
}

/// One question as the form shows it.
struct QuestionView {
    name: String,
    text: String,
    required: bool,
    kind: &'static str,
    /// Scores (or options) to choose from, with whether each is chosen.
    options: Vec<(String, bool)>,
    low_label: &'static str,
    high_label: &'static str,
    text_value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "public/survey.html")]
struct SurveyPage {
    title: String,
    intro: Option<String>,
    questions: Vec<QuestionView>,
    action: String,
    unsubscribe: String,
    editing: bool,
    has_errors: bool,
    assets: &'static str,
}

#[derive(Template)]
#[template(path = "public/message.html")]
struct MessagePage {
    title: String,
    message: String,
    /// A form to confirm the unsubscribe.
    confirm: Option<String>,
    assets: &'static str,
}

fn page(status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            // A personal link must not be kept by shared caches. (Its Referer
            // stays on our own origin: the server-wide `same-origin` policy;
            // `no-referrer` would make the form's own post look cross-origin.)
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "rendering a survey page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let view =
        MessagePage { title: title.into(), message: text.into(), confirm: None, assets: crate::assets::version() };
    page(status, view.render())
}

/// What every link that does not open shows: nothing about why.
fn closed() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "This survey is closed",
        "This link does not open a survey any more. It may have expired or already been answered. \
         Thank you for your time.",
    )
}

fn too_many() -> Response {
    let mut response = message(
        StatusCode::TOO_MANY_REQUESTS,
        "Please wait a moment",
        "Too many requests from your address. Try again in a minute.",
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

fn failed(err: StorageError) -> Response {
    tracing::error!(error = %err, "a survey page failed");
    message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a little while.")
}

fn questions(survey: &Survey, given: &BTreeMap<String, Vec<String>>, errors: &FieldErrors) -> Vec<QuestionView> {
    survey
        .fields
        .questions
        .iter()
        .map(|q| {
            let key = q.key.as_str();
            let chosen = given.get(key).cloned().unwrap_or_default();
            let options = match q.kind.scale() {
                Some((low, high)) => (low..=high).map(|s| s.to_string()).collect(),
                None => q.choices.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            };
            let (low_label, high_label) = match q.kind {
                QuestionKind::Nps => ("Not at all likely", "Extremely likely"),
                QuestionKind::Csat | QuestionKind::Rating => ("Very unsatisfied", "Very satisfied"),
                QuestionKind::Ces => ("Very hard", "Very easy"),
                _ => ("", ""),
            };
            QuestionView {
                name: format!("q_{key}"),
                text: q.text.to_string(),
                required: q.required,
                kind: match q.kind {
                    QuestionKind::FreeText => "text",
                    QuestionKind::MultipleChoice => "many",
                    QuestionKind::SingleChoice => "one",
                    _ => "scale",
                },
                options: options.into_iter().map(|o| (o.clone(), chosen.contains(&o))).collect(),
                low_label,
                high_label,
                text_value: if q.kind == QuestionKind::FreeText { chosen.join("\n") } else { String::new() },
                error: errors.get(key).map(str::to_owned),
            }
        })
        .collect()
}

/// What an earlier answer gave, as the form's values.
fn given_of(answer: &Answer) -> BTreeMap<String, Vec<String>> {
    answer
        .responses
        .iter()
        .map(|(key, response)| {
            let values = match response {
                Given::Score(score) => vec![score.to_string()],
                Given::Text(text) => vec![text.clone()],
                Given::Choices(choices) => choices.clone(),
            };
            (key.as_str().to_owned(), values)
        })
        .collect()
}

fn survey_page(
    token: &str,
    survey: &Survey,
    given: &BTreeMap<String, Vec<String>>,
    errors: &FieldErrors,
    editing: bool,
) -> SurveyPage {
    SurveyPage {
        title: survey.fields.name.to_string(),
        intro: survey.fields.intro.as_ref().map(|t| t.to_string()),
        questions: questions(survey, given, errors),
        action: format!("/s/{token}"),
        unsubscribe: format!("/s/{token}/unsubscribe"),
        editing,
        has_errors: !errors.is_empty(),
        assets: crate::assets::version(),
    }
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.open_survey_link(&token).await {
        Ok(LinkState::Open { survey, answer, .. }) => {
            let given = answer.as_deref().map(given_of).unwrap_or_default();
            page(StatusCode::OK, survey_page(&token, &survey, &given, &FieldErrors::new(), answer.is_some()).render())
        }
        Ok(_) => closed(),
        Err(err) => failed(err),
    }
}

/// The form's fields (`q_<key>`) by question key.
fn form_answers(body: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut given: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if let Some(key) = name.strip_prefix("q_") {
            given.entry(key.to_owned()).or_default().push(value.into_owned());
        }
    }
    given
}

async fn answer(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    let given = form_answers(&body);
    match state.store.answer_survey_link(&token, &given).await {
        Ok(Some((survey, _))) => {
            let thanks =
                survey.fields.thanks.map(|t| t.to_string()).unwrap_or_else(|| "Thank you for your answer.".into());
            message(
                StatusCode::OK,
                "Thank you",
                &format!("{thanks} You can change your answer from the same link for the next 24 hours."),
            )
        }
        Ok(None) => closed(),
        Err(StorageError::Invalid(errors)) => match state.store.open_survey_link(&token).await {
            Ok(LinkState::Open { survey, answer, .. }) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                survey_page(&token, &survey, &given, &errors, answer.is_some()).render(),
            ),
            Ok(_) => closed(),
            Err(err) => failed(err),
        },
        Err(err) => failed(err),
    }
}

async fn unsubscribe_form(Path(token): Path<String>) -> Response {
    // A mail client's link preview must not unsubscribe anyone: the GET only asks.
    let view = MessagePage {
        title: "Stop receiving surveys".into(),
        message: "We will not send you surveys or other messages any more.".into(),
        confirm: Some(format!("/s/{token}/unsubscribe")),
        assets: crate::assets::version(),
    };
    page(StatusCode::OK, view.render())
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.unsubscribe_survey_link(&token).await {
        Ok(true) => message(
            StatusCode::OK,
            "You are unsubscribed",
            "We will not contact you again. Thank you for having been with us.",
        ),
        Ok(false) => closed(),
        Err(err) => failed(err),
    }
}
