//! Self-assessment and anonymous colleague feedback on staff members'
//! relationship style, as pages:
//!
//! - `/style/assessment`: the signed-in staff member rates their own skills;
//! - `/style/feedback`: the requests asked of them, the rounds they may see,
//!   and a form to ask colleagues for feedback;
//! - `/style/feedback/requests/{id}`: a colleague answers (anonymously);
//! - `/style/feedback/rounds/{id}`: a round's results, once three answered;
//! - `/settings/style`: admins edit the questionnaire and the catalogue of
//!   development steps.
//!
//! They call the same storage methods as `/api/v1/style/...`, so who may see
//! and do what is the same whichever door a request comes through.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::records::User;
use rapport_domain::style::Dimension;
use rapport_domain::style_feedback::{
    DEFAULT_ROUND_DAYS, DevelopmentStep, FeedbackRoundInput, MAX_ROUND_DAYS, MIN_COLLEAGUE_ANSWERS, Questionnaire,
    RATING_MAX, RatingsInput, StepCatalogue, StyleQuestion, may_view_style,
};
use rapport_domain::surveys::QuestionKey;
use rapport_domain::text::{LongText, Name};
use rapport_domain::{FeedbackRequestId, FeedbackRoundId, FieldErrors, UserId};
use rapport_storage::{ListQuery, MAX_LIMIT, StorageError, Store, UserFilter};
use serde::Deserialize;

use super::form::{FormData, FormView};
use super::settings::{Stamp, Tab, respond, sentence, tabs};
use super::{Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/style/assessment", get(assessment_page).post(save_assessment))
        .route("/style/feedback", get(feedback_page))
        .route("/style/feedback/rounds", post(create_round))
        .route("/style/feedback/rounds/{id}", get(round_page))
        .route("/style/feedback/requests/{id}", get(request_page).post(answer_request))
        .route("/settings/style", get(settings_page))
        .route("/settings/style/questions", post(save_questions))
        .route("/settings/style/steps", post(save_steps))
}

/// The labels of the rating scale, 1 to 5.
const SCALE: [&str; RATING_MAX as usize] = ["rarely", "sometimes", "often", "mostly", "always"];

/// How many empty rows the settings forms offer for adding.
const BLANK_ROWS: usize = 3;

// ---------------------------------------------------------------------------
// The ratings widget, shared by the self-assessment and the answer form.

/// One radio button of a question's scale.
struct RatingOption {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// One question with its scale, as the ratings widget shows it.
struct RatingQuestion {
    /// The form field: `scores.KEY` (the domain's error names match it).
    name: String,
    /// An id-safe form of the key.
    id: String,
    text: String,
    dimension: &'static str,
    options: Vec<RatingOption>,
    /// "Can't judge" is chosen (no rating).
    unrated: bool,
    error: Option<String>,
}

const VALUES: [&str; RATING_MAX as usize] = ["1", "2", "3", "4", "5"];

fn rating_questions(questions: &[StyleQuestion], form: &FormView) -> Vec<RatingQuestion> {
    questions
        .iter()
        .map(|q| {
            let name = format!("scores.{}", q.key.as_str());
            let chosen = form.value(&name);
            RatingQuestion {
                id: format!("q-{}", q.key.as_str()),
                text: q.text.to_string(),
                dimension: q.dimension.label(),
                options: VALUES
                    .iter()
                    .zip(SCALE)
                    .map(|(value, label)| RatingOption { value, label, checked: chosen == *value })
                    .collect(),
                unrated: !VALUES.contains(&chosen),
                error: form.error(&name).map(str::to_owned),
                name,
            }
        })
        .collect()
}

/// Reads the ratings widget: every `scores.KEY` with a value (an empty one is
/// "can't judge"), and the comment. A value that is no number is refused
/// here; the questionnaire checks the rest.
fn read_ratings(data: &FormData) -> Result<RatingsInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut scores = BTreeMap::new();
    for (name, value) in data.pairs() {
        let Some(key) = name.strip_prefix("scores.") else { continue };
        let value = value.trim();
        if value.is_empty() || scores.contains_key(key) {
            continue;
        }
        match value.parse::<u8>() {
            Ok(rating) => {
                scores.insert(key.to_owned(), rating);
            }
            Err(_) => errors.add(name, format!("must be a rating from 1 to {RATING_MAX}")),
        }
    }
    let comment = match data.get("comment") {
        "" => None,
        text => match LongText::try_from(text) {
            Ok(comment) => Some(comment),
            Err(message) => {
                errors.add("comment", message);
                None
            }
        },
    };
    errors.into_result()?;
    Ok(RatingsInput { scores, comment })
}

/// Errors of fields the form does not show (a question removed meanwhile):
/// listed above the form so that none goes unseen.
fn stray_errors(form: &FormView, questions: &[RatingQuestion]) -> Vec<String> {
    form.errors
        .iter()
        .filter(|(field, _)| field.as_str() != "comment" && !questions.iter().any(|q| &q.name == *field))
        .map(|(field, message)| match field.as_str() {
            "scores" => sentence(message),
            other => format!("{}: {message}", other.trim_start_matches("scores.")),
        })
        .collect()
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

// ---------------------------------------------------------------------------
// /style/assessment

#[derive(Template)]
#[template(path = "style_assessment.html")]
struct AssessmentPage {
    chrome: super::Chrome,
    user_id: String,
    last: Option<Stamp>,
    questions: Vec<RatingQuestion>,
    form: FormView,
    stray: Vec<String>,
    scale_low: &'static str,
    scale_high: &'static str,
}

async fn render_assessment(state: &AppState, signed: &Signed, form: FormView) -> Result<Response, WebError> {
    let questionnaire = state.store.style_questionnaire().await?;
    let last = state.store.self_assessments(&signed.actor, signed.actor.user_id).await?.into_iter().next();
    let questions = rating_questions(&questionnaire.questions, &form);
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = AssessmentPage {
        chrome: signed.chrome("style", "Assess yourself"),
        user_id: signed.actor.user_id.to_string(),
        last: last.map(|a| Stamp::day(a.created_at)),
        stray: stray_errors(&form, &questions),
        questions,
        form,
        scale_low: SCALE[0],
        scale_high: SCALE[SCALE.len() - 1],
    };
    Ok(with_status(signed.page(&page)?, status))
}

async fn assessment_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    render_assessment(&state, &signed, FormView::default()).await
}

async fn save_assessment(State(state): State<AppState>, signed: Signed, data: FormData) -> Result<Response, WebError> {
    let input = match read_ratings(&data) {
        Ok(input) => input,
        Err(errors) => return render_assessment(&state, &signed, FormView::rejected(&data, errors)).await,
    };
    match state.store.add_self_assessment(&signed.actor, input).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/style/{}", signed.actor.user_id),
            "Your self-assessment was saved: your profile shows it beside your colleagues' view and your figures.",
        )),
        Err(err) => render_assessment(&state, &signed, FormView::refused(&data, err)?).await,
    }
}

// ---------------------------------------------------------------------------
// /style/feedback

struct RequestView {
    href: String,
    subject: String,
    note: Option<String>,
    closes: Stamp,
    questions: usize,
}

struct RoundView {
    href: String,
    subject_href: String,
    subject: String,
    asked: Stamp,
    answered: u32,
    of: u32,
    closes: Stamp,
    open: bool,
    shown: bool,
}

/// A staff member offered as a subject or a colleague.
struct StaffChoice {
    id: String,
    name: String,
    team: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "style_feedback.html")]
struct FeedbackPage {
    chrome: super::Chrome,
    requests: Vec<RequestView>,
    rounds: Vec<RoundView>,
    subjects: Vec<StaffChoice>,
    colleagues: Vec<StaffChoice>,
    form: FormView,
    min_answers: u32,
    max_days: u16,
}

/// Every active staff member, in name order.
async fn active_staff(store: &Store) -> Result<Vec<User>, StorageError> {
    let filter = UserFilter { active: Some(true), ..Default::default() };
    let mut staff = Vec::new();
    let mut query = ListQuery { limit: Some(MAX_LIMIT), ..Default::default() };
    loop {
        let page = store.list_users(&query, &filter).await?;
        staff.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    staff.sort_by_key(|u| u.fields.name.as_str().to_lowercase());
    Ok(staff)
}

#[derive(Deserialize, Default)]
struct FeedbackQuery {
    subject: Option<String>,
}

async fn render_feedback(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    chosen: &[String],
) -> Result<Response, WebError> {
    let store = &state.store;
    let requests = store.pending_feedback_requests(&signed.actor).await?;
    let rounds = store.feedback_rounds(&signed.actor, None).await?;
    let staff = active_staff(store).await?;
    let teams = store.list_teams().await?;
    let team_name = |user: &User| {
        user.fields
            .team_id
            .and_then(|t| teams.iter().find(|team| team.id == t))
            .map(|t| t.fields.name.to_string())
            .unwrap_or_default()
    };
    let me = signed.actor.user_id.to_string();
    let subject = match form.value("subject_id") {
        "" => me.clone(),
        chosen => chosen.to_owned(),
    };
    let subjects = staff
        .iter()
        .filter(|u| may_view_style(&signed.actor, u.id, u.fields.team_id))
        .map(|u| StaffChoice {
            id: u.id.to_string(),
            name: if u.id == signed.actor.user_id {
                format!("{} (you)", u.fields.name)
            } else {
                u.fields.name.to_string()
            },
            team: team_name(u),
            chosen: u.id.to_string() == subject,
        })
        .collect();
    // An agent asks about themselves only: they are never their own colleague.
    let only_self =
        !staff.iter().any(|u| u.id != signed.actor.user_id && may_view_style(&signed.actor, u.id, u.fields.team_id));
    let colleagues = staff
        .iter()
        .filter(|u| !(only_self && u.id == signed.actor.user_id))
        .map(|u| StaffChoice {
            id: u.id.to_string(),
            name: u.fields.name.to_string(),
            team: team_name(u),
            chosen: chosen.iter().any(|c| *c == u.id.to_string()),
        })
        .collect();
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = FeedbackPage {
        chrome: signed.chrome("style", "Feedback"),
        requests: requests
            .iter()
            .map(|r| RequestView {
                href: format!("/style/feedback/requests/{}", r.id),
                subject: r.subject_name.clone(),
                note: r.note.clone(),
                closes: Stamp::day(r.closes_at),
                questions: r.questions.len(),
            })
            .collect(),
        rounds: rounds
            .iter()
            .map(|r| RoundView {
                href: format!("/style/feedback/rounds/{}", r.id),
                subject_href: format!("/style/{}", r.subject_id),
                subject: r.subject_name.clone(),
                asked: Stamp::day(r.created_at),
                answered: r.answered,
                of: r.asked,
                closes: Stamp::day(r.closes_at),
                open: r.open,
                shown: r.results.is_some(),
            })
            .collect(),
        subjects,
        colleagues,
        form,
        min_answers: MIN_COLLEAGUE_ANSWERS,
        max_days: MAX_ROUND_DAYS,
    };
    Ok(with_status(signed.page(&page)?, status))
}

async fn feedback_page(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<FeedbackQuery>,
) -> Result<Response, WebError> {
    let subject = query.subject.unwrap_or_default();
    let form = FormView::from_pairs([("subject_id", subject), ("open_days", DEFAULT_ROUND_DAYS.to_string())]);
    render_feedback(&state, &signed, form, &[]).await
}

fn read_round(data: &FormData, colleague_ids: &[String]) -> Result<FeedbackRoundInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let subject_id = match data.get("subject_id").parse::<UserId>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add("subject_id", "choose whose style the colleagues are asked about");
            None
        }
    };
    let mut colleagues = Vec::new();
    for raw in colleague_ids {
        match raw.parse::<UserId>() {
            Ok(id) => colleagues.push(id),
            Err(_) => errors.add("colleague_ids", "is not a staff member"),
        }
    }
    let open_days = match data.get("open_days") {
        "" => None,
        raw => match raw.parse::<u16>() {
            Ok(days) => Some(days),
            Err(_) => {
                errors.add("open_days", format!("must be between 1 and {MAX_ROUND_DAYS}"));
                None
            }
        },
    };
    let note = match data.get("note") {
        "" => None,
        text => match LongText::try_from(text) {
            Ok(note) => Some(note),
            Err(message) => {
                errors.add("note", message);
                None
            }
        },
    };
    errors.into_result()?;
    Ok(FeedbackRoundInput { subject_id: subject_id.expect("checked"), colleague_ids: colleagues, open_days, note })
}

async fn create_round(State(state): State<AppState>, signed: Signed, data: FormData) -> Result<Response, WebError> {
    let chosen: Vec<String> =
        data.pairs().filter(|(k, _)| *k == "colleague_ids").map(|(_, v)| v.trim().to_owned()).collect();
    let input = match read_round(&data, &chosen) {
        Ok(input) => input,
        Err(errors) => return render_feedback(&state, &signed, FormView::rejected(&data, errors), &chosen).await,
    };
    match state.store.create_feedback_round(&signed.actor, input).await {
        Ok(round) => Ok(redirect_with_flash(
            "/style/feedback",
            &format!(
                "{} colleagues were asked for feedback on {}. Results show once {MIN_COLLEAGUE_ANSWERS} of them have answered.",
                round.asked, round.subject_name
            ),
        )),
        // A subject the actor may not ask about reads as not found: say so on the form.
        Err(StorageError::NotFound(_)) => {
            let errors = FieldErrors::single("subject_id", "is not a staff member you may ask about");
            render_feedback(&state, &signed, FormView::rejected(&data, errors), &chosen).await
        }
        Err(err) => render_feedback(&state, &signed, FormView::refused(&data, err)?, &chosen).await,
    }
}

// ---------------------------------------------------------------------------
// /style/feedback/requests/{id}

#[derive(Template)]
#[template(path = "style_feedback_answer.html")]
struct AnswerPage {
    chrome: super::Chrome,
    action: String,
    subject: String,
    note: Option<String>,
    closes: Stamp,
    min_answers: u32,
    questions: Vec<RatingQuestion>,
    form: FormView,
    stray: Vec<String>,
    scale_low: &'static str,
    scale_high: &'static str,
}

fn request_in_path(raw: &str) -> Result<FeedbackRequestId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("open feedback request"))
}

async fn render_answer(
    state: &AppState,
    signed: &Signed,
    id: FeedbackRequestId,
    form: FormView,
) -> Result<Response, WebError> {
    let request = state.store.feedback_request(&signed.actor, id).await?;
    let questions = rating_questions(&request.questions, &form);
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = AnswerPage {
        chrome: signed.chrome("style", format!("Feedback on {}", request.subject_name)),
        action: format!("/style/feedback/requests/{id}"),
        subject: request.subject_name.clone(),
        note: request.note.clone(),
        closes: Stamp::day(request.closes_at),
        min_answers: MIN_COLLEAGUE_ANSWERS,
        stray: stray_errors(&form, &questions),
        questions,
        form,
        scale_low: SCALE[0],
        scale_high: SCALE[SCALE.len() - 1],
    };
    Ok(with_status(signed.page(&page)?, status))
}

async fn request_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = request_in_path(&id)?;
    render_answer(&state, &signed, id, FormView::default()).await
}

async fn answer_request(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    data: FormData,
) -> Result<Response, WebError> {
    let id = request_in_path(&id)?;
    let input = match read_ratings(&data) {
        Ok(input) => input,
        Err(errors) => return render_answer(&state, &signed, id, FormView::rejected(&data, errors)).await,
    };
    match state.store.answer_feedback_request(&signed.actor, id, input).await {
        Ok(()) => Ok(redirect_with_flash(
            "/style/feedback",
            "Thank you for your feedback. It was added anonymously, without your name.",
        )),
        Err(err) => render_answer(&state, &signed, id, FormView::refused(&data, err)?).await,
    }
}

// ---------------------------------------------------------------------------
// /style/feedback/rounds/{id}

/// One rating's share of a question's answers.
struct Bar {
    rating: usize,
    label: &'static str,
    count: u32,
}

struct QuestionResultView {
    text: String,
    dimension: &'static str,
    mean: String,
    ratings: u32,
    /// The bars' full length: the question's ratings (at least 1).
    max: u32,
    bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "style_feedback_round.html")]
struct RoundPage {
    chrome: super::Chrome,
    subject: String,
    subject_href: String,
    asked: Stamp,
    closes: Stamp,
    open: bool,
    note: Option<String>,
    answered: u32,
    of: u32,
    min_answers: u32,
    /// `None` until enough colleagues answered.
    questions: Option<Vec<QuestionResultView>>,
    dimensions: Vec<(&'static str, String)>,
    comments: Vec<String>,
}

fn mean_text(mean: Option<f64>) -> String {
    mean.filter(|m| m.is_finite()).map(|m| format!("{m:.1}")).unwrap_or_else(|| "—".into())
}

async fn round_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: FeedbackRoundId = id.parse().map_err(|_| WebError::NotFound("feedback round"))?;
    let round = state.store.feedback_round(&signed.actor, id).await?;
    let (questions, dimensions, comments) = match round.results {
        Some(results) => (
            Some(
                results
                    .questions
                    .iter()
                    .map(|q| QuestionResultView {
                        text: q.text.clone(),
                        dimension: q.dimension.label(),
                        mean: mean_text(q.mean),
                        ratings: q.ratings,
                        max: q.ratings.max(1),
                        bars: q
                            .counts
                            .iter()
                            .enumerate()
                            .map(|(i, count)| Bar { rating: i + 1, label: SCALE[i], count: *count })
                            .collect(),
                    })
                    .collect(),
            ),
            results.dimensions.iter().map(|d| (d.dimension.label(), mean_text(d.mean))).collect(),
            results.comments,
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    let page = RoundPage {
        chrome: signed.chrome("style", format!("Feedback on {}", round.subject_name)),
        subject: round.subject_name.clone(),
        subject_href: format!("/style/{}", round.subject_id),
        asked: Stamp::day(round.created_at),
        closes: Stamp::day(round.closes_at),
        open: round.open,
        note: round.note,
        answered: round.answered,
        of: round.asked,
        min_answers: MIN_COLLEAGUE_ANSWERS,
        questions,
        dimensions,
        comments,
    };
    signed.page(&page)
}

/// Open requests waiting for the viewer's answer, for links to the feedback page.
pub(super) async fn open_requests(store: &Store, signed: &Signed) -> Result<usize, WebError> {
    Ok(store.pending_feedback_requests(&signed.actor).await?.len())
}

// ---------------------------------------------------------------------------
// /settings/style

/// A row of the questions table as shown (and as sent).
struct QuestionRow {
    index: usize,
    key: String,
    dimension: String,
    text: String,
    removed: bool,
    key_error: Option<String>,
    dimension_error: Option<String>,
    text_error: Option<String>,
}

struct StepRow {
    index: usize,
    dimension: String,
    text: String,
    removed: bool,
    dimension_error: Option<String>,
    text_error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_style.html")]
struct SettingsPage {
    chrome: super::Chrome,
    tabs: Vec<Tab>,
    dimensions: Vec<(&'static str, &'static str)>,
    questions: Vec<QuestionRow>,
    questions_problem: Vec<String>,
    steps: Vec<StepRow>,
    steps_problem: Vec<String>,
}

fn require_admin(signed: &Signed) -> Result<(), WebError> {
    if signed.actor.is_admin() {
        Ok(())
    } else {
        Err(WebError::Forbidden("Only an admin can edit the style questions and development steps.".into()))
    }
}

fn question_rows(questionnaire: &Questionnaire) -> Vec<QuestionRow> {
    let mut rows: Vec<QuestionRow> = questionnaire
        .questions
        .iter()
        .enumerate()
        .map(|(index, q)| QuestionRow {
            index,
            key: q.key.as_str().to_owned(),
            dimension: q.dimension.as_str().to_owned(),
            text: q.text.to_string(),
            removed: false,
            key_error: None,
            dimension_error: None,
            text_error: None,
        })
        .collect();
    add_blank_questions(&mut rows);
    rows
}

fn add_blank_questions(rows: &mut Vec<QuestionRow>) {
    let next = rows.iter().map(|r| r.index + 1).max().unwrap_or(0);
    for index in next..next + BLANK_ROWS {
        rows.push(QuestionRow {
            index,
            key: String::new(),
            dimension: String::new(),
            text: String::new(),
            removed: false,
            key_error: None,
            dimension_error: None,
            text_error: None,
        });
    }
}

fn step_rows(catalogue: &StepCatalogue) -> Vec<StepRow> {
    let mut rows: Vec<StepRow> = catalogue
        .steps
        .iter()
        .enumerate()
        .map(|(index, s)| StepRow {
            index,
            dimension: s.dimension.as_str().to_owned(),
            text: s.text.to_string(),
            removed: false,
            dimension_error: None,
            text_error: None,
        })
        .collect();
    add_blank_steps(&mut rows);
    rows
}

fn add_blank_steps(rows: &mut Vec<StepRow>) {
    let next = rows.iter().map(|r| r.index + 1).max().unwrap_or(0);
    for index in next..next + BLANK_ROWS {
        rows.push(StepRow {
            index,
            dimension: String::new(),
            text: String::new(),
            removed: false,
            dimension_error: None,
            text_error: None,
        });
    }
}

async fn render_settings(
    state: &AppState,
    signed: &Signed,
    questions: Option<(Vec<QuestionRow>, Vec<String>)>,
    steps: Option<(Vec<StepRow>, Vec<String>)>,
) -> Result<Response, WebError> {
    let failed = questions.is_some() || steps.is_some();
    let (questions, questions_problem) = match questions {
        Some(shown) => shown,
        None => (question_rows(&state.store.style_questionnaire().await?), Vec::new()),
    };
    let (steps, steps_problem) = match steps {
        Some(shown) => shown,
        None => (step_rows(&state.store.style_step_catalogue().await?), Vec::new()),
    };
    let page = SettingsPage {
        chrome: signed.chrome("settings", "Style questions · Settings"),
        tabs: tabs(signed, "/settings/style"),
        dimensions: Dimension::ALL.iter().map(|d| (d.as_str(), d.label())).collect(),
        questions,
        questions_problem,
        steps,
        steps_problem,
    };
    respond(signed, &page, if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK })
}

async fn settings_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    render_settings(&state, &signed, None, None).await
}

/// The row numbers a settings form sent for `prefix` (`q` or `s`), in order.
fn row_indexes(data: &FormData, prefix: &str) -> Vec<usize> {
    let mut indexes: Vec<usize> = data
        .pairs()
        .filter_map(|(name, _)| name.strip_prefix(prefix)?.split_once('.')?.0.parse().ok())
        .filter(|i| *i < 1000)
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

/// The domain names a list entry `questions[3].key`: the row it came from,
/// and the field.
fn list_error<'a>(field: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let rest = field.strip_prefix(list)?.strip_prefix('[')?;
    let (position, rest) = rest.split_once(']')?;
    Some((position.parse().ok()?, rest.strip_prefix('.').unwrap_or("")))
}

async fn save_questions(State(state): State<AppState>, signed: Signed, data: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut rows = Vec::new();
    let mut questions = Vec::new();
    // Which row each question of the list came from.
    let mut origin = Vec::new();
    for index in row_indexes(&data, "q") {
        let field = |name: &str| data.get(&format!("q{index}.{name}")).to_owned();
        let mut row = QuestionRow {
            index,
            key: field("key"),
            dimension: field("dimension"),
            text: field("text"),
            removed: data.checked(&format!("q{index}.remove")),
            key_error: None,
            dimension_error: None,
            text_error: None,
        };
        let blank = row.key.is_empty() && row.dimension.is_empty() && row.text.is_empty();
        if !row.removed && !blank {
            let key = QuestionKey::parse(&row.key).map_err(|e| row.key_error = Some(e)).ok();
            let dimension = Dimension::parse(&row.dimension);
            if dimension.is_none() {
                row.dimension_error = Some("choose a dimension".into());
            }
            let text = Name::try_from(row.text.as_str()).map_err(|e| row.text_error = Some(e)).ok();
            if let (Some(key), Some(dimension), Some(text)) = (key, dimension, text) {
                origin.push(rows.len());
                questions.push(StyleQuestion { key, dimension, text });
            }
        }
        rows.push(row);
    }
    let row_errors =
        rows.iter().any(|r| r.key_error.is_some() || r.dimension_error.is_some() || r.text_error.is_some());
    if row_errors {
        add_blank_questions(&mut rows);
        let problem = vec!["Some rows need attention: see the messages in them.".to_owned()];
        return render_settings(&state, &signed, Some((rows, problem)), None).await;
    }
    match state.store.set_style_questionnaire(&signed.actor, Questionnaire { questions }).await {
        Ok(saved) => {
            Ok(redirect_with_flash("/settings/style", &format!("The {} questions were saved.", saved.questions.len())))
        }
        Err(StorageError::Invalid(errors)) => {
            let mut problem = Vec::new();
            for (field, message) in errors.iter() {
                match list_error(field, "questions").and_then(|(i, name)| Some((*origin.get(i)?, name))) {
                    Some((row, "key")) => rows[row].key_error = Some(message.clone()),
                    Some((row, "dimension")) => rows[row].dimension_error = Some(message.clone()),
                    Some((row, _)) => rows[row].text_error = Some(message.clone()),
                    None => problem.push(sentence(message)),
                }
            }
            add_blank_questions(&mut rows);
            render_settings(&state, &signed, Some((rows, problem)), None).await
        }
        Err(err) => Err(err.into()),
    }
}

async fn save_steps(State(state): State<AppState>, signed: Signed, data: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut rows = Vec::new();
    let mut steps = Vec::new();
    let mut origin = Vec::new();
    for index in row_indexes(&data, "s") {
        let field = |name: &str| data.get(&format!("s{index}.{name}")).to_owned();
        let mut row = StepRow {
            index,
            dimension: field("dimension"),
            text: field("text"),
            removed: data.checked(&format!("s{index}.remove")),
            dimension_error: None,
            text_error: None,
        };
        let blank = row.dimension.is_empty() && row.text.is_empty();
        if !row.removed && !blank {
            let dimension = Dimension::parse(&row.dimension);
            if dimension.is_none() {
                row.dimension_error = Some("choose a dimension".into());
            }
            let text = Name::try_from(row.text.as_str()).map_err(|e| row.text_error = Some(e)).ok();
            if let (Some(dimension), Some(text)) = (dimension, text) {
                origin.push(rows.len());
                steps.push(DevelopmentStep { dimension, text });
            }
        }
        rows.push(row);
    }
    if rows.iter().any(|r| r.dimension_error.is_some() || r.text_error.is_some()) {
        add_blank_steps(&mut rows);
        let problem = vec!["Some rows need attention: see the messages in them.".to_owned()];
        return render_settings(&state, &signed, None, Some((rows, problem))).await;
    }
    match state.store.set_style_step_catalogue(&signed.actor, StepCatalogue { steps }).await {
        Ok(saved) => Ok(redirect_with_flash(
            "/settings/style",
            &format!("The {} development steps were saved.", saved.steps.len()),
        )),
        Err(StorageError::Invalid(errors)) => {
            let mut problem = Vec::new();
            for (field, message) in errors.iter() {
                match list_error(field, "steps").and_then(|(i, name)| Some((*origin.get(i)?, name))) {
                    Some((row, "dimension")) => rows[row].dimension_error = Some(message.clone()),
                    Some((row, _)) => rows[row].text_error = Some(message.clone()),
                    None => problem.push(sentence(message)),
                }
            }
            add_blank_steps(&mut rows);
            render_settings(&state, &signed, None, Some((rows, problem))).await
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_errors_name_their_row_and_field() {
        assert_eq!(list_error("questions[3].key", "questions"), Some((3, "key")));
        assert_eq!(list_error("steps[0]", "steps"), Some((0, "")));
        assert_eq!(list_error("questions", "questions"), None);
        assert_eq!(list_error("steps[x].text", "steps"), None);
    }

    #[test]
    fn ratings_read_from_the_form_skip_the_unrated() {
        let data = FormData::from_pairs(vec![
            ("scores.empathy".into(), "4".into()),
            ("scores.clarity".into(), "".into()),
            ("comment".into(), "  Kind  ".into()),
        ]);
        let input = read_ratings(&data).unwrap();
        assert_eq!(input.scores.len(), 1);
        assert_eq!(input.scores["empathy"], 4);
        assert_eq!(input.comment.unwrap().as_str(), "Kind");
        let bad = FormData::from_pairs(vec![("scores.empathy".into(), "lots".into())]);
        assert_eq!(read_ratings(&bad).unwrap_err().get("scores.empathy"), Some("must be a rating from 1 to 5"));
    }
}
