//! Building a survey on a page (admins): its name, texts, how it goes out
//! (by hand, after a ticket or deal, or every few months to an audience),
//! and its questions. The form works without JavaScript: it shows the
//! questions there are and a few empty rows; a row whose question text is
//! cleared is dropped, and rows are put in the order their numbers give.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use rapport_domain::surveys::{Question, QuestionKey, QuestionKind, Survey, SurveyInput, SurveyTrigger};
use rapport_domain::text::{LongText, Name};
use rapport_domain::views::ListKind;
use rapport_domain::{FieldErrors, Segment, SurveyId, TeamId};
use rapport_storage::StorageError;

use super::form::{Fields, FormData, FormView};
use super::lists::Choice;
use super::settings::{require_admin, respond};
use super::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;
use rapport_api::endpoints::surveys::check_audience;

/// Empty question rows the form offers beyond the survey's own.
const SPARE_ROWS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new().route("/surveys/new", get(new).post(create)).route("/surveys/{id}/edit", get(edit).post(update))
}

/// The form names of one question row.
struct QuestionRow {
    number: usize,
    position: String,
    text: String,
    kind: String,
    key: String,
    choices: String,
    required: String,
}

impl QuestionRow {
    fn new(i: usize) -> Self {
        QuestionRow {
            number: i + 1,
            position: format!("q{i}_position"),
            text: format!("q{i}_text"),
            kind: format!("q{i}_kind"),
            key: format!("q{i}_key"),
            choices: format!("q{i}_choices"),
            required: format!("q{i}_required"),
        }
    }
}

#[derive(Template)]
#[template(path = "survey_form.html")]
struct BuilderPage {
    chrome: Chrome,
    id: Option<SurveyId>,
    version: i64,
    form: FormView,
    rows: Vec<QuestionRow>,
    kinds: Vec<Choice>,
    triggers: Vec<Choice>,
    teams: Vec<Choice>,
    audiences: Vec<Choice>,
}

async fn builder(
    state: &AppState,
    signed: &Signed,
    id: Option<SurveyId>,
    version: i64,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let rows = (0..row_count(&form)).map(QuestionRow::new).collect();
    let mut teams = vec![Choice::new("", "Any team")];
    teams.extend(
        state.store.list_teams().await?.into_iter().map(|t| Choice::new(t.id.to_string(), t.fields.name.to_string())),
    );
    let mut audiences = vec![Choice::new("", "Every customer")];
    audiences.extend(Segment::ALL.iter().map(|s| Choice::new(format!("segment={}", s.as_str()), s.label())));
    for view in state.store.list_views(&signed.actor, Some(ListKind::People)).await? {
        audiences.push(Choice::new(view.fields.query.as_str(), format!("Saved view: {}", view.fields.name)));
    }
    // An audience set through the API that is none of the above stays choosable.
    let current = form.value("audience");
    if !audiences.iter().any(|a| a.value == current) {
        audiences.push(Choice::new(current, format!("People list: {current}")));
    }
    let page = BuilderPage {
        chrome: signed.chrome("feedback", if id.is_some() { "Edit survey" } else { "New survey" }),
        id,
        version,
        form,
        rows,
        kinds: QuestionKind::ALL.iter().map(|k| Choice::new(k.as_str(), k.label())).collect(),
        triggers: vec![
            Choice::new("manual", "Only when sent by hand"),
            Choice::new("ticket_solved", "After a ticket is solved"),
            Choice::new("deal_won", "After a deal is won"),
            Choice::new("deal_lost", "After a deal is lost"),
            Choice::new("every", "Every few months, to an audience"),
        ],
        teams,
        audiences,
    };
    respond(signed, &page, status)
}

/// The question rows to show: one past the last the form holds, plus spares.
fn row_count(form: &FormView) -> usize {
    let used = (0..=50).rev().find(|i| form.has(&format!("q{i}_text"))).map_or(0, |i| i + 1);
    used + SPARE_ROWS
}

/// A stored survey as the form's fields.
fn survey_values(survey: &SurveyInput) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("name".to_owned(), survey.name.to_string()),
        ("intro".to_owned(), survey.intro.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("thanks".to_owned(), survey.thanks.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("expiry_days".to_owned(), survey.expiry_days.to_string()),
        ("reminder_days".to_owned(), survey.reminder_days.map(|d| d.to_string()).unwrap_or_default()),
    ];
    if survey.active {
        pairs.push(("active".to_owned(), "true".to_owned()));
    }
    let (trigger, team, months, audience) = match &survey.trigger {
        SurveyTrigger::Manual => ("manual", String::new(), String::new(), String::new()),
        SurveyTrigger::TicketSolved { team_id } => {
            ("ticket_solved", team_id.map(|t| t.to_string()).unwrap_or_default(), String::new(), String::new())
        }
        SurveyTrigger::DealWon => ("deal_won", String::new(), String::new(), String::new()),
        SurveyTrigger::DealLost => ("deal_lost", String::new(), String::new(), String::new()),
        SurveyTrigger::Every { months, audience } => {
            ("every", String::new(), months.to_string(), audience.clone().unwrap_or_default())
        }
    };
    pairs.extend([
        ("trigger".to_owned(), trigger.to_owned()),
        ("team_id".to_owned(), team),
        ("months".to_owned(), months),
        ("audience".to_owned(), audience),
    ]);
    for (i, q) in survey.questions.iter().enumerate() {
        let row = QuestionRow::new(i);
        pairs.extend([
            (row.position, (i + 1).to_string()),
            (row.text, q.text.to_string()),
            (row.kind, q.kind.as_str().to_owned()),
            (row.key, q.key.as_str().to_owned()),
            (row.choices, q.choices.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
        ]);
        if q.required {
            pairs.push((row.required, "true".to_owned()));
        }
    }
    pairs
}

fn form_view(pairs: &[(String, String)]) -> FormView {
    FormView::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())))
}

/// A key made from the question: `score` for the first scored question,
/// `why` for the first free text, else the words of its text.
fn key_for(kind: QuestionKind, text: &str, taken: &[QuestionKey]) -> Option<QuestionKey> {
    let words: String = text
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join("_");
    let base = match kind {
        QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces => "score".to_owned(),
        QuestionKind::FreeText => "why".to_owned(),
        _ if words.is_empty() => "question".to_owned(),
        _ => words.chars().take(28).collect::<String>().trim_end_matches('_').to_owned(),
    };
    (1..100)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}_{n}") })
        .filter_map(|candidate| QuestionKey::parse(&candidate).ok())
        .find(|key| !taken.contains(key))
}

/// The form as a survey, and for each question the row it came from (to
/// put the domain's `questions[i]` errors beside the right row).
fn parse_survey(form: &FormData) -> Result<(SurveyInput, Vec<usize>), FieldErrors> {
    let mut f = Fields::new(form);
    let name: Option<Name> = f.required("name");
    let intro: Option<LongText> = f.optional("intro");
    let thanks: Option<LongText> = f.optional("thanks");
    let expiry_days =
        f.parse_with("expiry_days", |raw| raw.parse::<u16>().map_err(|_| "must be a whole number".into()));
    let reminder_days =
        f.optional_with("reminder_days", |raw| raw.parse::<u16>().map_err(|_| "must be a whole number".to_owned()));
    let trigger = match f.raw("trigger") {
        "" | "manual" => Some(SurveyTrigger::Manual),
        "ticket_solved" => Some(SurveyTrigger::TicketSolved {
            team_id: f.optional_with("team_id", |raw| raw.parse::<TeamId>().map_err(|_| "no such team".to_owned())),
        }),
        "deal_won" => Some(SurveyTrigger::DealWon),
        "deal_lost" => Some(SurveyTrigger::DealLost),
        "every" => f
            .parse_with("months", |raw| raw.parse::<u16>().map_err(|_| "must be a whole number of months".to_owned()))
            .map(|months| SurveyTrigger::Every {
                months,
                audience: Some(f.raw("audience").to_owned()).filter(|a| !a.is_empty()),
            }),
        _ => {
            f.fail("trigger", "pick one of the choices");
            None
        }
    };

    // Rows in the order of their numbers (a row without one keeps its place).
    let mut rows: Vec<(f64, usize)> = (0..=50)
        .filter(|i| !form.get(&format!("q{i}_text")).is_empty())
        .map(|i| (form.get(&format!("q{i}_position")).parse::<f64>().unwrap_or(i as f64 + 1.0), i))
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut questions = Vec::new();
    let mut origin = Vec::new();
    let mut keys: Vec<QuestionKey> = Vec::new();
    // Keys typed in are kept; the rest are made once every typed one is known.
    for (_, i) in &rows {
        if let Ok(key) = QuestionKey::parse(form.get(&format!("q{i}_key"))) {
            keys.push(key);
        }
    }
    for (_, i) in rows {
        let row = QuestionRow::new(i);
        let text: Option<Name> = f.required(&row.text);
        let kind = f.parse_with(&row.kind, QuestionKind::parse);
        let key = match form.get(&row.key) {
            "" => kind.and_then(|k| key_for(k, form.get(&row.text), &keys)),
            _ => f.parse_with(&row.key, QuestionKey::parse),
        };
        if let Some(key) = &key
            && !keys.contains(key)
        {
            keys.push(key.clone());
        }
        let choices: Vec<Name> = form
            .get(&row.choices)
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                f.parse_with(&row.choices, |raw| Name::try_from(raw).map_err(|e| format!("“{line}” {e}")))
            })
            .collect();
        if let (Some(text), Some(kind), Some(key)) = (text, kind, key) {
            questions.push(Question { key, kind, text, choices, required: form.checked(&row.required) });
            origin.push(i);
        }
    }
    let checked = f.finish();
    let (Some(name), Some(expiry_days), Some(trigger), Ok(())) = (name, expiry_days, trigger, &checked) else {
        return Err(checked.err().unwrap_or_default());
    };
    let input = SurveyInput {
        name,
        questions,
        intro,
        thanks,
        trigger,
        reminder_days,
        expiry_days,
        active: form.checked("active"),
    };
    let mut errors = match input.check() {
        Ok(()) => FieldErrors::new(),
        Err(errors) => errors,
    };
    if let Err(more) = check_audience(&input) {
        for (field, message) in more.iter() {
            errors.add(field.clone(), message.clone());
        }
    }
    if errors.is_empty() { Ok((input, origin)) } else { Err(form_names(errors, &origin)) }
}

/// The domain's field names (`questions[2].choices`, `trigger.months`) as
/// the form's (`q5_choices`, `months`).
fn form_names(errors: FieldErrors, origin: &[usize]) -> FieldErrors {
    let mut renamed = FieldErrors::new();
    for (field, message) in errors.iter() {
        let name = match field.strip_prefix("questions[").and_then(|rest| rest.split_once("].")) {
            Some((index, part)) => match index.parse::<usize>().ok().and_then(|i| origin.get(i)) {
                Some(row) => format!("q{row}_{part}"),
                None => "questions".to_owned(),
            },
            None => field.strip_prefix("trigger.").unwrap_or(field).to_owned(),
        };
        renamed.add(name, message.clone());
    }
    renamed
}

/// A refusal from storage as the form shows it.
fn refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    match err {
        StorageError::Invalid(errors) => Ok(FormView::rejected(form, form_names(errors, &[]))),
        other => FormView::refused(form, other),
    }
}

async fn new(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let pairs = [("expiry_days", "30"), ("reminder_days", "5"), ("trigger", "manual"), ("active", "true")];
    let form = FormView::from_pairs(pairs.map(|(k, v)| (k, v.to_owned())));
    builder(&state, &signed, None, 0, form, StatusCode::OK).await
}

async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let input = match parse_survey(&form) {
        Ok((input, _)) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return builder(&state, &signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.create_survey(&signed.actor, input).await {
        Ok(survey) => Ok(saved(&survey, "added")),
        Err(err) => {
            let view = refused(&form, err)?;
            builder(&state, &signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn survey_id(raw: &str) -> Result<SurveyId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("survey"))
}

fn saved(survey: &Survey, how: &str) -> Response {
    redirect_with_flash(&format!("/surveys/{}", survey.id), &format!("{} was {how}.", survey.fields.name))
}

async fn edit(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let survey = state.store.get_survey(survey_id(&id)?).await?;
    let form = form_view(&survey_values(&survey.fields));
    builder(&state, &signed, Some(survey.id), survey.meta.version, form, StatusCode::OK).await
}

async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = survey_id(&id)?;
    let before = state.store.get_survey(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let input = match parse_survey(&form) {
        Ok((input, _)) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return builder(&state, &signed, Some(id), version, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.update_survey(&signed.actor, id, input, Some(version)).await {
        Ok(survey) => Ok(saved(&survey, "saved")),
        Err(err) => {
            let status = match err {
                StorageError::VersionMismatch { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let view = refused(&form, err)?;
            builder(&state, &signed, Some(id), version, view, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn rows_become_questions_in_their_order_with_keys_made_for_them() {
        let (input, origin) = parse_survey(&form(&[
            ("name", "After delivery"),
            ("expiry_days", "14"),
            ("trigger", "every"),
            ("months", "6"),
            ("audience", "segment=champions"),
            ("q0_position", "2"),
            ("q0_text", "Anything else?"),
            ("q0_kind", "free_text"),
            ("q1_position", "1"),
            ("q1_text", "How likely are you to recommend us?"),
            ("q1_kind", "nps"),
            ("q1_required", "true"),
            ("q2_position", "3"),
            ("q2_text", "Which did you use?"),
            ("q2_kind", "multiple_choice"),
            ("q2_choices", "Phone\n\nEmail\n"),
            ("q3_text", ""),
            ("q3_kind", "nps"),
        ]))
        .unwrap();
        let keys: Vec<&str> = input.questions.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["score", "why", "which_did_you_use"]);
        assert_eq!(origin, [1, 0, 2]);
        assert!(input.questions[0].required);
        assert_eq!(input.questions[2].choices.len(), 2);
        assert_eq!(input.trigger, SurveyTrigger::Every { months: 6, audience: Some("segment=champions".into()) });
        assert!(!input.active);
    }

    #[test]
    fn errors_land_beside_the_row_they_are_about() {
        let errors = parse_survey(&form(&[
            ("name", "Bad"),
            ("expiry_days", "30"),
            ("trigger", "every"),
            ("months", "0"),
            ("q4_text", "Pick one"),
            ("q4_kind", "single_choice"),
            ("q4_choices", "Only one"),
        ]))
        .unwrap_err();
        assert!(errors.get("q4_choices").is_some(), "{errors:?}");
        assert!(errors.get("months").is_some(), "{errors:?}");
    }

    #[test]
    fn typed_keys_are_kept_and_made_keys_step_around_them() {
        let (input, _) = parse_survey(&form(&[
            ("name", "Two scores"),
            ("expiry_days", "30"),
            ("q0_text", "Effort?"),
            ("q0_kind", "ces"),
            ("q1_text", "Satisfied?"),
            ("q1_kind", "csat"),
            ("q1_key", "score"),
        ]))
        .unwrap();
        let keys: Vec<&str> = input.questions.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(keys, ["score_2", "score"]);
    }
}
