//! `/style/goals`: the goals the viewer may see, each with its figure's
//! recent periods, progress and forecast, and a form to set one (admins for
//! the business or anyone, managers for their team and its members, staff
//! for themselves). Reads and writes what `/api/v1/style/goals` does.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rapport_domain::goals::{Comparison, GoalInput, GoalScope, may_manage_goal};
use rapport_domain::records::now;
use rapport_domain::style::Figure;
use rapport_domain::text::LongText;
use rapport_domain::{FieldErrors, GoalId, Role};
use rapport_insights::goals::GoalStatus;
use rapport_reports::goals::{GoalProgress, goal_report};
use rapport_storage::StorageError;

use super::form::FormData;
use super::{Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/style/goals", get(goals_page).post(create_goal))
        .route("/style/goals/{id}/delete", post(delete_goal))
}

struct GoalView {
    id: String,
    title: String,
    scope_name: String,
    note: Option<String>,
    current: String,
    forecast: String,
    /// How the forecast was reached, in plain words.
    forecast_meaning: String,
    /// 0..100, for the progress bar.
    progress: Option<u8>,
    status: &'static str,
    status_class: &'static str,
    days_left: i64,
    /// The figure per period, oldest first: "50 %, 70 %, 90 %".
    trend: String,
    removable: bool,
}

/// The status badge's colour.
fn status_class(status: GoalStatus) -> &'static str {
    match status {
        GoalStatus::NoData => "",
        GoalStatus::OnTrack | GoalStatus::Met => "ok",
        GoalStatus::OffTrack => "warn",
        GoalStatus::Missed => "danger",
    }
}

fn goal_view(
    progress: &GoalProgress,
    signed: &Signed,
    team_of: &dyn Fn(GoalScope) -> Option<rapport_domain::TeamId>,
) -> GoalView {
    let unit = progress.unit;
    GoalView {
        id: progress.goal.id.to_string(),
        title: progress.title.clone(),
        scope_name: progress.goal.scope_name.clone(),
        note: progress.goal.note.clone(),
        current: unit.format(progress.forecast.current),
        forecast: unit.format(progress.forecast.forecast),
        forecast_meaning: forecast_words(progress),
        progress: progress.forecast.progress.map(|p| p.round().clamp(0.0, 100.0) as u8),
        status: progress.forecast.status.label(),
        status_class: status_class(progress.forecast.status),
        days_left: progress.days_left,
        trend: progress.points.iter().map(|p| unit.format(Some(p.value))).collect::<Vec<_>>().join(", "),
        removable: may_manage_goal(&signed.actor, progress.goal.scope, team_of(progress.goal.scope)),
    }
}

/// The forecast in plain words: the straight line through the periods, the
/// one period's value kept, or nothing to go on.
fn forecast_words(progress: &GoalProgress) -> String {
    let unit = progress.unit;
    let periods = progress.points.len();
    match (progress.forecast.forecast, progress.forecast.per_month) {
        (Some(_), Some(slope)) if slope.abs() < 1e-9 => {
            format!("The {periods} periods with enough cases hold steady; the forecast keeps that level.")
        }
        (Some(_), Some(slope)) => format!(
            "The straight line through the {periods} periods with enough cases, {} by about {} every 30 days, carried on to the due day.",
            if slope > 0.0 { "rising" } else { "falling" },
            unit.format(Some(slope.abs()))
        ),
        (Some(_), None) => "Only one period has enough cases: the forecast assumes it stays at that value.".to_owned(),
        (None, _) => "No period has enough cases yet, so there is nothing to forecast from.".to_owned(),
    }
}

/// What the form had, to show it again with its errors.
#[derive(Default)]
struct GoalForm {
    figure: String,
    scope: String,
    comparison: String,
    target: String,
    due_on: String,
    note: String,
}

#[derive(Template)]
#[template(path = "style_goals.html")]
struct GoalsPage {
    chrome: super::Chrome,
    goals: Vec<GoalView>,
    /// (value, label) of each figure.
    figures: Vec<(&'static str, &'static str)>,
    /// (value, label) of each scope the viewer may set a goal for.
    scopes: Vec<(String, String)>,
    form: GoalForm,
    errors: Vec<(String, String)>,
    min_day: String,
}

async fn render_page(
    state: &AppState,
    signed: &Signed,
    form: GoalForm,
    errors: Option<FieldErrors>,
) -> Result<Response, WebError> {
    let report = goal_report(&state.store, &signed.actor, now().date()).await?;
    let all_staff = rapport_storage::ListQuery { limit: Some(rapport_storage::MAX_LIMIT), ..Default::default() };
    let active = rapport_storage::UserFilter { active: Some(true), ..Default::default() };
    let users = state.store.list_users(&all_staff, &active).await?.items;
    let teams = state.store.list_teams().await?;
    let team_of = |scope: GoalScope| match scope {
        GoalScope::User { user_id } => users.iter().find(|u| u.id == user_id).and_then(|u| u.fields.team_id),
        _ => None,
    };
    let mut scopes = Vec::new();
    if signed.actor.role == Role::Admin {
        scopes.push(("business".to_owned(), "The business".to_owned()));
    }
    for team in &teams {
        if may_manage_goal(&signed.actor, GoalScope::Team { team_id: team.id }, None) {
            scopes.push((format!("team:{}", team.id), format!("Team {}", team.fields.name)));
        }
    }
    for user in &users {
        if may_manage_goal(&signed.actor, GoalScope::User { user_id: user.id }, user.fields.team_id) {
            scopes.push((format!("user:{}", user.id), user.fields.name.to_string()));
        }
    }
    let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = GoalsPage {
        chrome: signed.chrome("style", "Goals"),
        goals: report.iter().map(|g| goal_view(g, signed, &team_of)).collect(),
        figures: Figure::ALL.iter().map(|f| (f.as_str(), f.label())).collect(),
        scopes,
        form,
        errors: errors.map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        min_day: (now().date() + time::Duration::days(1)).to_string(),
    };
    let mut response = signed.page(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

async fn goals_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    let form = GoalForm { comparison: "natural".into(), ..Default::default() };
    render_page(&state, &signed, form, None).await
}

/// Reads the form into a goal, naming each field it cannot read.
fn parse_goal(form: &GoalForm) -> Result<GoalInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let figure = Figure::parse(&form.figure);
    if figure.is_none() {
        errors.add("figure", "choose a figure");
    }
    let scope = match form.scope.split_once(':') {
        None if form.scope == "business" => Some(GoalScope::Business),
        Some(("team", id)) => id.parse().ok().map(|team_id| GoalScope::Team { team_id }),
        Some(("user", id)) => id.parse().ok().map(|user_id| GoalScope::User { user_id }),
        _ => None,
    };
    if scope.is_none() {
        errors.add("scope", "choose whose goal it is");
    }
    let comparison = match form.comparison.as_str() {
        "at_least" => Some(Comparison::AtLeast),
        "at_most" => Some(Comparison::AtMost),
        _ => None,
    };
    let target = form.target.replace(',', ".").parse::<f64>().ok().filter(|t| t.is_finite());
    if target.is_none() {
        errors.add("target", "write a number, e.g. 50");
    }
    let due_on = rapport_domain::time_input::parse_date(&form.due_on).ok();
    if due_on.is_none() {
        errors.add("due_on", "choose a day");
    }
    let note = match form.note.as_str() {
        "" => None,
        text => match LongText::try_from(text) {
            Ok(note) => Some(note),
            Err(e) => {
                errors.add("note", e);
                None
            }
        },
    };
    errors.into_result()?;
    Ok(GoalInput {
        figure: figure.expect("checked"),
        scope: scope.expect("checked"),
        comparison,
        target: target.expect("checked"),
        due_on: due_on.expect("checked"),
        note,
    })
}

async fn create_goal(State(state): State<AppState>, signed: Signed, data: FormData) -> Result<Response, WebError> {
    let form = GoalForm {
        figure: data.get("figure").to_owned(),
        scope: data.get("scope").to_owned(),
        comparison: data.get("comparison").to_owned(),
        target: data.get("target").to_owned(),
        due_on: data.get("due_on").to_owned(),
        note: data.get("note").to_owned(),
    };
    let input = match parse_goal(&form) {
        Ok(input) => input,
        Err(errors) => return render_page(&state, &signed, form, Some(errors)).await,
    };
    match state.store.create_goal(&signed.actor, input).await {
        Ok(goal) => Ok(redirect_with_flash("/style/goals", &format!("The goal “{}” was set.", goal.title()))),
        Err(StorageError::Invalid(errors)) => render_page(&state, &signed, form, Some(errors)).await,
        Err(err) => Err(err.into()),
    }
}

async fn delete_goal(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    _form: FormData,
) -> Result<Response, WebError> {
    let id: GoalId = id.parse().map_err(|_| WebError::NotFound("goal"))?;
    state.store.delete_goal(&signed.actor, id).await?;
    Ok(redirect_with_flash("/style/goals", "The goal was removed.").into_response())
}
