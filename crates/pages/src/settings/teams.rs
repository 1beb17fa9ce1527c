//! Settings → Teams: managers and agents act for their team's records.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::TeamId;
use rapport_domain::records::TeamInput;
use rapport_domain::text::Name;
use rapport_storage::StorageError;

use super::users::all_users;
use super::{Tab, require_admin, respond, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub struct TeamRow {
    pub id: TeamId,
    pub name: String,
    pub version: i64,
    pub members: usize,
    /// What the rename box shows: the name, or what was typed when it was refused.
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_teams.html")]
struct TeamsPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    teams: Vec<TeamRow>,
    form: FormView,
}

/// A rename refused: which team, what was typed, and why.
struct Refused {
    id: TeamId,
    typed: String,
    message: String,
}

async fn teams_page(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    refused: Option<Refused>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let users = all_users(state).await?;
    let teams = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(|team| {
            let name = team.fields.name.to_string();
            let (value, error) = match &refused {
                Some(r) if r.id == team.id => (r.typed.clone(), Some(r.message.clone())),
                _ => (name.clone(), None),
            };
            TeamRow {
                id: team.id,
                members: users.iter().filter(|u| u.fields.active && u.fields.team_id == Some(team.id)).count(),
                name,
                version: team.meta.version,
                value,
                error,
            }
        })
        .collect();
    let page =
        TeamsPage { chrome: signed.chrome("settings", "Teams"), tabs: tabs(signed, "/settings/teams"), teams, form };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    teams_page(&state, &signed, FormView::default(), None, StatusCode::OK).await
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut f = Fields::new(&form);
    let name = f.required::<Name>("name");
    let errors = f.errors.clone();
    let (Some(name), true) = (name, errors.is_empty()) else {
        return teams_page(&state, &signed, FormView::rejected(&form, errors), None, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    match state.store.create_team(&signed.actor, TeamInput { name }).await {
        Ok(team) => {
            state.auth_cache.clear();
            Ok(redirect_with_flash("/settings/teams", &format!("Team “{}” was added.", team.fields.name)))
        }
        Err(err) => {
            teams_page(&state, &signed, FormView::refused(&form, err)?, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn team_id(raw: &str) -> Result<TeamId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("team"))
}

pub async fn rename(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = team_id(&id)?;
    let before = state.store.get_team(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let refuse = |message: String| Refused { id, typed: form.get("name").to_owned(), message };
    let name = match Name::try_from(form.get("name").to_owned()) {
        Ok(name) => name,
        Err(_) if form.get("name").is_empty() => {
            let refused = refuse("Team name is required".into());
            return teams_page(&state, &signed, FormView::default(), Some(refused), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        Err(message) => {
            let refused = refuse(format!("Team name {message}"));
            return teams_page(&state, &signed, FormView::default(), Some(refused), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    match state.store.update_team(&signed.actor, id, TeamInput { name }, Some(version)).await {
        Ok(team) => {
            state.auth_cache.clear();
            Ok(redirect_with_flash(
                "/settings/teams",
                &format!("Team “{}” was renamed to “{}”.", before.fields.name, team.fields.name),
            ))
        }
        Err(err) => {
            let message = match err {
                StorageError::Invalid(errors) => errors.to_string(),
                StorageError::Conflict(message) => message,
                StorageError::VersionMismatch { .. } => {
                    "someone else changed this team meanwhile: reload the page and try again".into()
                }
                other => return Err(other.into()),
            };
            let refused = refuse(format!("Team name: {message}"));
            teams_page(&state, &signed, FormView::default(), Some(refused), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = team_id(&id)?;
    let team = state.store.get_team(id).await?;
    state.store.delete_team(&signed.actor, id).await?;
    state.auth_cache.clear();
    Ok(redirect_with_flash(
        "/settings/teams",
        &format!("Team “{}” was deleted; its members stay, without a team.", team.fields.name),
    ))
}
