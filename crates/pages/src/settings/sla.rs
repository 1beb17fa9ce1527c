//! Settings → SLA: response-target policies (which tickets they govern, the
//! targets, the calendar they count in) and business-hours calendars.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::sla::{
    Calendar, CalendarHours, CalendarInput, SlaCondition, SlaPolicy, SlaPolicyInput, Targets, TimeOfDay, TimeZoneName,
    Weekday, WorkingPeriod,
};
use rapport_domain::text::{Name, Tag};
use rapport_domain::tickets::TicketPriority;
use rapport_domain::{CalendarId, FieldErrors, SlaPolicyId, TeamId};
use rapport_storage::StorageError;
use time::Duration;

use super::{Tab, require_admin, respond, sentence, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::lists::Choice;
use crate::tickets::span;
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/sla", get(page))
        .route("/settings/sla/policies", post(create_policy))
        .route("/settings/sla/policies/new", get(new_policy))
        .route("/settings/sla/policies/{id}", get(edit_policy).post(update_policy))
        .route("/settings/sla/policies/{id}/delete", post(delete_policy))
        .route("/settings/sla/calendars", post(create_calendar))
        .route("/settings/sla/calendars/new", get(new_calendar))
        .route("/settings/sla/calendars/{id}", get(edit_calendar).post(update_calendar))
        .route("/settings/sla/calendars/{id}/delete", post(delete_calendar))
}

const TAB: &str = "/settings/sla";

// The overview.

pub struct PolicyRow {
    pub id: SlaPolicyId,
    pub name: String,
    pub position: i32,
    pub applies_to: String,
    pub targets: Vec<(&'static str, String)>,
    pub calendar: String,
    pub active: bool,
}

pub struct CalendarRow {
    pub id: CalendarId,
    pub name: String,
    pub time_zone: String,
    pub hours: Vec<String>,
    pub holidays: usize,
}

#[derive(Template)]
#[template(path = "settings_sla.html")]
struct SlaPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    policies: Vec<PolicyRow>,
    calendars: Vec<CalendarRow>,
    /// Why a delete was refused.
    problem: Option<String>,
}

fn target_rows(targets: &Targets) -> Vec<(&'static str, String)> {
    let show = |minutes: Option<u32>| minutes.map(|m| span(Duration::minutes(i64::from(m))));
    [
        ("First response", show(targets.first_response_minutes)),
        ("Next response", show(targets.next_response_minutes)),
        ("Resolution", show(targets.resolution_minutes)),
    ]
    .into_iter()
    .filter_map(|(label, value)| Some((label, value?)))
    .collect()
}

fn applies_to(condition: &SlaCondition, teams: &HashMap<TeamId, String>) -> String {
    let mut parts = Vec::new();
    if !condition.priorities.is_empty() {
        let mut priorities = condition.priorities.clone();
        priorities.sort_by_key(|p| TicketPriority::ALL.iter().position(|q| q == p));
        let labels: Vec<&str> = priorities.iter().map(|p| p.label()).collect();
        parts.push(format!("priority {}", labels.join(" or ")));
    }
    if let Some(team) = condition.team_id {
        parts.push(format!("team {}", teams.get(&team).cloned().unwrap_or_else(|| "(deleted)".into())));
    }
    if let Some(tag) = &condition.tag {
        parts.push(format!("tag #{}", tag.as_str()));
    }
    if parts.is_empty() { "Every ticket".to_owned() } else { format!("Tickets with {}", parts.join(", ")) }
}

/// "HH:MM-HH:MM, HH:MM-HH:MM" of one weekday, as the form shows it.
fn day_text(hours: &CalendarHours, day: Weekday) -> String {
    hours
        .periods
        .iter()
        .filter(|p| p.day == day)
        .map(|p| format!("{}-{}", String::from(p.start), String::from(p.end)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The week in a few lines: consecutive days with the same hours together ("Monday–Friday 09:00-17:00").
fn week_summary(hours: &CalendarHours) -> Vec<String> {
    let days: Vec<(Weekday, String)> = Weekday::ALL.iter().map(|&d| (d, day_text(hours, d))).collect();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1].1 == days[i].1 {
            j += 1;
        }
        if !days[i].1.is_empty() {
            let span = if i == j {
                days[i].0.label().to_owned()
            } else {
                format!("{}–{}", days[i].0.label(), days[j].0.label())
            };
            lines.push(format!("{span} {}", days[i].1));
        }
        i = j + 1;
    }
    lines
}

async fn team_names(state: &AppState) -> Result<HashMap<TeamId, String>, WebError> {
    Ok(state.store.list_teams().await?.into_iter().map(|t| (t.id, t.fields.name.to_string())).collect())
}

async fn overview(
    state: &AppState,
    signed: &Signed,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let teams = team_names(state).await?;
    let calendars = state.store.list_calendars().await?;
    let calendar_names: HashMap<CalendarId, String> =
        calendars.iter().map(|c| (c.id, c.fields.name.to_string())).collect();
    let policies = state
        .store
        .list_sla_policies()
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            id: p.id,
            name: p.fields.name.to_string(),
            position: p.fields.position,
            applies_to: applies_to(&p.fields.condition, &teams),
            targets: target_rows(&p.fields.targets),
            calendar: match p.fields.calendar_id {
                Some(id) => calendar_names.get(&id).cloned().unwrap_or_default(),
                None => "Around the clock".to_owned(),
            },
            active: p.fields.active,
        })
        .collect();
    let calendars = calendars
        .into_iter()
        .map(|c| CalendarRow {
            id: c.id,
            name: c.fields.name.to_string(),
            time_zone: c.fields.hours.time_zone.as_str().to_owned(),
            hours: week_summary(&c.fields.hours),
            holidays: c.fields.hours.holidays.len(),
        })
        .collect();
    let page = SlaPage {
        chrome: signed.chrome("settings", "SLA policies"),
        tabs: tabs(signed, TAB),
        policies,
        calendars,
        problem,
    };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    overview(&state, &signed, None, StatusCode::OK).await
}

// Policies.

/// One target's inputs: a number and its unit.
pub struct TargetField {
    pub name: &'static str,
    pub unit: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
}

const TARGETS: [TargetField; 3] = [
    TargetField {
        name: "first_response",
        unit: "first_response_unit",
        label: "First response",
        hint: "From the ticket's opening to the first reply.",
    },
    TargetField {
        name: "next_response",
        unit: "next_response_unit",
        label: "Next response",
        hint: "From each later customer message to the reply after it.",
    },
    TargetField {
        name: "resolution",
        unit: "resolution_unit",
        label: "Resolution",
        hint: "From opening to solved; time pending does not count.",
    },
];

#[derive(Template)]
#[template(path = "settings_sla_policy.html")]
struct PolicyForm {
    chrome: Chrome,
    tabs: Vec<Tab>,
    id: Option<SlaPolicyId>,
    version: i64,
    form: FormView,
    priorities: Vec<(String, &'static str)>,
    teams: Vec<Choice>,
    calendars: Vec<Choice>,
    targets: &'static [TargetField],
    units: Vec<Choice>,
}

async fn policy_form(
    state: &AppState,
    signed: &Signed,
    id: Option<SlaPolicyId>,
    version: i64,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut teams = vec![Choice::new("", "Any team")];
    teams.extend(
        state.store.list_teams().await?.into_iter().map(|t| Choice::new(t.id.to_string(), t.fields.name.to_string())),
    );
    let mut calendars = vec![Choice::new("", "Around the clock (no calendar)")];
    calendars.extend(
        state
            .store
            .list_calendars()
            .await?
            .into_iter()
            .map(|c| Choice::new(c.id.to_string(), c.fields.name.to_string())),
    );
    let page = PolicyForm {
        chrome: signed.chrome("settings", if id.is_some() { "Edit SLA policy" } else { "New SLA policy" }),
        tabs: tabs(signed, TAB),
        id,
        version,
        form,
        priorities: TicketPriority::ALL.iter().map(|p| (format!("priority_{}", p.as_str()), p.label())).collect(),
        teams,
        calendars,
        targets: &TARGETS,
        units: vec![Choice::new("minutes", "minutes"), Choice::new("hours", "hours")],
    };
    respond(signed, &page, status)
}

/// Stored minutes as the form shows them: whole hours in hours, the rest in minutes.
fn target_pairs(pairs: &mut Vec<(String, String)>, field: &TargetField, minutes: Option<u32>) {
    let (value, unit) = match minutes {
        Some(m) if m % 60 == 0 => ((m / 60).to_string(), "hours"),
        Some(m) => (m.to_string(), "minutes"),
        None => (String::new(), "hours"),
    };
    pairs.push((field.name.to_owned(), value));
    pairs.push((field.unit.to_owned(), unit.to_owned()));
}

fn policy_values(policy: &SlaPolicy) -> Vec<(String, String)> {
    let p = &policy.fields;
    let mut pairs = vec![
        ("name".to_owned(), p.name.to_string()),
        ("position".to_owned(), p.position.to_string()),
        ("team_id".to_owned(), p.condition.team_id.map(|t| t.to_string()).unwrap_or_default()),
        ("tag".to_owned(), p.condition.tag.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default()),
        ("calendar_id".to_owned(), p.calendar_id.map(|c| c.to_string()).unwrap_or_default()),
    ];
    for priority in &p.condition.priorities {
        pairs.push((format!("priority_{}", priority.as_str()), "true".to_owned()));
    }
    let [first, next, resolution] = &TARGETS;
    target_pairs(&mut pairs, first, p.targets.first_response_minutes);
    target_pairs(&mut pairs, next, p.targets.next_response_minutes);
    target_pairs(&mut pairs, resolution, p.targets.resolution_minutes);
    if p.active {
        pairs.push(("active".to_owned(), "true".to_owned()));
    }
    pairs
}

pub async fn new_policy(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let count = state.store.list_sla_policies().await?.len();
    let form = FormView::from_pairs([
        ("position", ((count + 1) * 10).to_string()),
        ("first_response_unit", "hours".to_owned()),
        ("next_response_unit", "hours".to_owned()),
        ("resolution_unit", "hours".to_owned()),
        ("active", "true".to_owned()),
    ]);
    policy_form(&state, &signed, None, 0, form, StatusCode::OK).await
}

fn policy_id(raw: &str) -> Result<SlaPolicyId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("SLA policy"))
}

pub async fn edit_policy(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let policy = state.store.get_sla_policy(policy_id(&id)?).await?;
    let form = FormView::from_pairs(policy_values(&policy).iter().map(|(k, v)| (k.as_str(), v.clone())));
    policy_form(&state, &signed, Some(policy.id), policy.meta.version, form, StatusCode::OK).await
}

/// A target typed as a number of minutes or hours ("90" minutes, "1.5" hours).
fn target(f: &mut Fields<'_>, form: &FormData, field: &TargetField) -> Option<u32> {
    let hours = form.get(field.unit) == "hours";
    f.optional_with(field.name, |raw| {
        let number: f64 =
            raw.replace(',', ".").parse().map_err(|_| "must be a number, such as 30 or 1.5".to_string()).and_then(
                |n: f64| if n.is_finite() && n > 0.0 { Ok(n) } else { Err("must be more than zero".to_string()) },
            )?;
        let minutes = if hours { (number * 60.0).round() } else { number };
        if !hours && minutes.fract() != 0.0 {
            return Err("must be a whole number of minutes".into());
        }
        if minutes > f64::from(u32::MAX) {
            return Err("must be at most a year".into());
        }
        Ok(minutes as u32)
    })
}

/// The policy form as the input the API takes; targets' errors under the form's names.
fn parse_policy(form: &FormData) -> Result<SlaPolicyInput, FieldErrors> {
    let mut f = Fields::new(form);
    let name = f.required::<Name>("name");
    let position = f
        .optional_with("position", |raw| raw.parse::<i32>().map_err(|_| "must be a whole number".to_string()))
        .unwrap_or(0);
    let priorities: Vec<TicketPriority> =
        TicketPriority::ALL.iter().copied().filter(|p| form.checked(&format!("priority_{}", p.as_str()))).collect();
    let team_id = f.optional_with("team_id", |raw| raw.parse::<TeamId>().map_err(|_| "is not a team".into()));
    let tag = f.optional::<Tag>("tag");
    let [first, next, resolution] = &TARGETS;
    let targets = Targets {
        first_response_minutes: target(&mut f, form, first),
        next_response_minutes: target(&mut f, form, next),
        resolution_minutes: target(&mut f, form, resolution),
    };
    let calendar_id =
        f.optional_with("calendar_id", |raw| raw.parse::<CalendarId>().map_err(|_| "is not a calendar".into()));
    let mut errors = f.errors.clone();
    let Some(name) = name else {
        return Err(errors);
    };
    let mut input = SlaPolicyInput {
        name,
        position,
        condition: SlaCondition { priorities, team_id, tag },
        targets,
        calendar_id,
        active: form.checked("active"),
    };
    if errors.is_empty()
        && let Err(checked) = input.check()
    {
        errors = checked;
    }
    if errors.is_empty() { Ok(input) } else { Err(form_names(errors)) }
}

/// The API's field names as the policy form's.
fn form_names(errors: FieldErrors) -> FieldErrors {
    let mut renamed = FieldErrors::new();
    for (field, message) in errors.iter() {
        let field = field.strip_suffix("_minutes").unwrap_or(field);
        let field = field.strip_prefix("condition.").unwrap_or(field);
        renamed.add(field, message.clone());
    }
    renamed
}

fn policy_refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    match err {
        StorageError::Invalid(errors) => Ok(FormView::rejected(form, form_names(errors))),
        other => {
            let mut view = FormView::refused(form, other)?;
            view.problem = view.problem.as_deref().map(sentence);
            Ok(view)
        }
    }
}

pub async fn create_policy(
    State(state): State<AppState>,
    signed: Signed,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let input = match parse_policy(&form) {
        Ok(input) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return policy_form(&state, &signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.create_sla_policy(&signed.actor, input).await {
        Ok(policy) => Ok(redirect_with_flash(TAB, &format!("SLA policy “{}” was added.", policy.fields.name))),
        Err(err) => {
            let view = policy_refused(&form, err)?;
            policy_form(&state, &signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn update_policy(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = policy_id(&id)?;
    let before = state.store.get_sla_policy(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let input = match parse_policy(&form) {
        Ok(input) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return policy_form(&state, &signed, Some(id), version, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.update_sla_policy(&signed.actor, id, input, Some(version)).await {
        Ok(policy) => Ok(redirect_with_flash(TAB, &format!("SLA policy “{}” was saved.", policy.fields.name))),
        Err(err) => {
            let conflict = matches!(err, StorageError::VersionMismatch { .. });
            let view = policy_refused(&form, err)?;
            let status = if conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            policy_form(&state, &signed, Some(id), version, view, status).await
        }
    }
}

pub async fn delete_policy(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = policy_id(&id)?;
    let policy = state.store.get_sla_policy(id).await?;
    state.store.delete_sla_policy(&signed.actor, id).await?;
    Ok(redirect_with_flash(
        TAB,
        &format!(
            "SLA policy “{}” was deleted; open tickets now follow the next policy that matches.",
            policy.fields.name
        ),
    ))
}

// Calendars.

/// One weekday's row of the calendar form.
pub struct DayField {
    pub name: String,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "settings_sla_calendar.html")]
struct CalendarForm {
    chrome: Chrome,
    tabs: Vec<Tab>,
    id: Option<CalendarId>,
    version: i64,
    form: FormView,
    days: Vec<DayField>,
}

fn day_field(day: Weekday) -> String {
    format!("hours_{}", day.label().to_lowercase())
}

async fn calendar_form(
    signed: &Signed,
    id: Option<CalendarId>,
    version: i64,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = CalendarForm {
        chrome: signed.chrome("settings", if id.is_some() { "Edit calendar" } else { "New calendar" }),
        tabs: tabs(signed, TAB),
        id,
        version,
        form,
        days: Weekday::ALL.iter().map(|&day| DayField { name: day_field(day), label: day.label() }).collect(),
    };
    respond(signed, &page, status)
}

fn calendar_values(calendar: &Calendar) -> Vec<(String, String)> {
    let hours = &calendar.fields.hours;
    let mut pairs = vec![
        ("name".to_owned(), calendar.fields.name.to_string()),
        ("time_zone".to_owned(), hours.time_zone.as_str().to_owned()),
        ("holidays".to_owned(), hours.holidays.iter().map(|d| crate::format::date(*d)).collect::<Vec<_>>().join("\n")),
    ];
    pairs.extend(Weekday::ALL.iter().map(|&day| (day_field(day), day_text(hours, day))));
    pairs
}

pub async fn new_calendar(signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut pairs = vec![("time_zone".to_owned(), "UTC".to_owned())];
    for day in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday] {
        pairs.push((day_field(day), "09:00-17:00".to_owned()));
    }
    let form = FormView::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())));
    calendar_form(&signed, None, 0, form, StatusCode::OK).await
}

fn calendar_id(raw: &str) -> Result<CalendarId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("calendar"))
}

pub async fn edit_calendar(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let calendar = state.store.get_calendar(calendar_id(&id)?).await?;
    let form = FormView::from_pairs(calendar_values(&calendar).iter().map(|(k, v)| (k.as_str(), v.clone())));
    calendar_form(&signed, Some(calendar.id), calendar.meta.version, form, StatusCode::OK).await
}

/// "09:00-12:00, 13:00-17:00" as working periods of `day`.
fn parse_day(raw: &str, day: Weekday) -> Result<Vec<WorkingPeriod>, String> {
    let mut periods = Vec::new();
    for part in raw.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((start, end)) = part.split_once(['-', '–']) else {
            return Err(format!("“{part}” is not a period: write it as 09:00-12:00"));
        };
        let start = TimeOfDay::try_from(start.trim().to_owned())?;
        let end = TimeOfDay::try_from(end.trim().to_owned())?;
        periods.push(WorkingPeriod { day, start, end });
    }
    Ok(periods)
}

/// One date per line, as `2026-12-25`.
fn parse_holidays(raw: &str) -> Result<Vec<time::Date>, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut dates = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in raw.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        match time::Date::parse(line, &format) {
            Ok(date) => dates.push(date),
            Err(_) => problems.push(format!("line {number}: “{line}” is not a date such as 2026-12-25")),
        }
    }
    if problems.is_empty() { Ok(dates) } else { Err(problems.join("; ")) }
}

/// The calendar's errors placed on the form: a period's error on its weekday's field.
fn place_calendar_errors(errors: FieldErrors, hours: &CalendarHours) -> FieldErrors {
    let mut placed = FieldErrors::new();
    for (field, message) in errors.iter() {
        let period = field
            .strip_prefix("periods[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|index| index.parse::<usize>().ok())
            .and_then(|index| hours.periods.get(index));
        match period {
            Some(p) => {
                placed.add(day_field(p.day), format!("{}-{} {message}", String::from(p.start), String::from(p.end)))
            }
            None => placed.add(field.clone(), message.clone()),
        }
    }
    placed
}

fn parse_calendar(form: &FormData) -> Result<CalendarInput, FieldErrors> {
    let mut f = Fields::new(form);
    let name = f.required::<Name>("name");
    let time_zone = f.required::<TimeZoneName>("time_zone");
    let mut periods = Vec::new();
    for day in Weekday::ALL {
        if let Some(found) = f.parse_with(&day_field(day), |raw| parse_day(raw, day)) {
            periods.extend(found);
        }
    }
    let holidays = f.parse_with("holidays", parse_holidays).unwrap_or_default();
    let errors = f.errors.clone();
    let (Some(name), Some(time_zone), true) = (name, time_zone, errors.is_empty()) else {
        return Err(errors);
    };
    let mut hours = CalendarHours { time_zone, periods, holidays };
    if let Err(errors) = hours.check() {
        return Err(place_calendar_errors(errors, &hours));
    }
    Ok(CalendarInput { name, hours })
}

fn calendar_refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    match err {
        StorageError::Invalid(errors) => {
            // The form's own check ran first; what storage adds has no period to place.
            Ok(FormView::rejected(form, errors))
        }
        other => {
            let mut view = FormView::refused(form, other)?;
            view.problem = view.problem.as_deref().map(sentence);
            Ok(view)
        }
    }
}

pub async fn create_calendar(
    State(state): State<AppState>,
    signed: Signed,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let input = match parse_calendar(&form) {
        Ok(input) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return calendar_form(&signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.create_calendar(&signed.actor, input).await {
        Ok(calendar) => Ok(redirect_with_flash(TAB, &format!("Calendar “{}” was added.", calendar.fields.name))),
        Err(err) => {
            let view = calendar_refused(&form, err)?;
            calendar_form(&signed, None, 0, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn update_calendar(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = calendar_id(&id)?;
    let before = state.store.get_calendar(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let input = match parse_calendar(&form) {
        Ok(input) => input,
        Err(errors) => {
            let view = FormView::rejected(&form, errors);
            return calendar_form(&signed, Some(id), version, view, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.update_calendar(&signed.actor, id, input, Some(version)).await {
        Ok(calendar) => Ok(redirect_with_flash(
            TAB,
            &format!("Calendar “{}” was saved; open tickets' due times follow it.", calendar.fields.name),
        )),
        Err(err) => {
            let conflict = matches!(err, StorageError::VersionMismatch { .. });
            let view = calendar_refused(&form, err)?;
            let status = if conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            calendar_form(&signed, Some(id), version, view, status).await
        }
    }
}

pub async fn delete_calendar(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = calendar_id(&id)?;
    let calendar = state.store.get_calendar(id).await?;
    match state.store.delete_calendar(&signed.actor, id).await {
        Ok(()) => Ok(redirect_with_flash(TAB, &format!("Calendar “{}” was deleted.", calendar.fields.name))),
        Err(StorageError::Conflict(message)) => {
            let problem = format!(
                "Calendar “{}” was not deleted: {message}. Give that policy another calendar first.",
                calendar.fields.name
            );
            overview(&state, &signed, Some(problem), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_into_periods() {
        let periods = parse_day("09:00-12:00, 13:00 – 17:30", Weekday::Monday).unwrap();
        assert_eq!(periods.len(), 2);
        assert_eq!(String::from(periods[1].end), "17:30");
        assert!(parse_day("", Weekday::Monday).unwrap().is_empty());
        assert!(parse_day("25:00-26:00", Weekday::Monday).unwrap_err().contains("\"25:00\" is not a time of day"));
        assert!(parse_day("nine to five", Weekday::Monday).unwrap_err().contains("is not a period"));
        assert!(parse_holidays("2026-12-25\n\n2026-12-26").is_ok());
        assert!(parse_holidays("Christmas").unwrap_err().contains("line 1"));
    }
}
