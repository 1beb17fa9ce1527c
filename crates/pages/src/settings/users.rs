//! Settings → Users: the staff, adding someone, and changing their role,
//! team, or whether they may sign in.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rapport_domain::records::{Password, User, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Email, FieldErrors, Role, TeamId, UserId};
use rapport_storage::{ListQuery, StorageError, UserFilter};

use super::{Stamp, Tab, no_store, require_admin, respond, sentence, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::format::capitalize;
use crate::lists::Choice;
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub team: String,
    pub active: bool,
    pub created: Stamp,
    pub is_me: bool,
}

/// A password made up for a new user: shown once, on the answer page.
pub struct NewPassword {
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Template)]
#[template(path = "settings_users.html")]
struct UsersPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    users: Vec<UserRow>,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    form: FormView,
    created: Option<NewPassword>,
}

#[derive(Template)]
#[template(path = "settings_user.html")]
struct UserPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    id: UserId,
    version: i64,
    name: String,
    active: bool,
    is_me: bool,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    form: FormView,
}

fn role_choices() -> Vec<Choice> {
    Role::ALL.iter().map(|r| Choice::new(r.as_str(), capitalize(r.as_str()))).collect()
}

async fn team_choices(state: &AppState) -> Result<(Vec<Choice>, HashMap<TeamId, String>), WebError> {
    let teams = state.store.list_teams().await?;
    let mut choices = vec![Choice::new("", "No team")];
    choices.extend(teams.iter().map(|t| Choice::new(t.id.to_string(), t.fields.name.to_string())));
    let names = teams.into_iter().map(|t| (t.id, t.fields.name.to_string())).collect();
    Ok((choices, names))
}

/// Everyone, active or not, by name.
pub async fn all_users(state: &AppState) -> Result<Vec<User>, WebError> {
    let mut users = Vec::new();
    let mut query = ListQuery { limit: Some(200), sort: Some("name".into()), ..Default::default() };
    loop {
        let page = state.store.list_users(&query, &UserFilter::default()).await?;
        users.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(users),
        }
    }
}

async fn users_page(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    created: Option<NewPassword>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (teams, team_names) = team_choices(state).await?;
    let users = all_users(state)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            name: u.fields.name.to_string(),
            email: u.fields.email.to_string(),
            role: capitalize(u.fields.role.as_str()),
            team: u.fields.team_id.and_then(|t| team_names.get(&t).cloned()).unwrap_or_default(),
            active: u.fields.active,
            created: Stamp::day(u.meta.created_at),
            is_me: u.id == signed.user.id,
        })
        .collect();
    let page = UsersPage {
        chrome: signed.chrome("settings", "Users"),
        tabs: tabs(signed, "/settings/users"),
        users,
        roles: role_choices(),
        teams,
        form,
        created,
    };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let form = FormView::from_pairs([("role", "agent".to_owned())]);
    users_page(&state, &signed, form, None, StatusCode::OK).await
}

/// The user form's fields; the password is checked but left to the caller.
fn parse(f: &mut Fields<'_>, form: &FormData) -> Option<UserInput> {
    let name = f.required::<Name>("name");
    let email = f.required::<Email>("email");
    let role = f.parse_with("role", Role::parse);
    let team_id = f.optional_with("team_id", |raw| raw.parse::<TeamId>().map_err(|_| "is not a team".into()));
    Some(UserInput { name: name?, email: email?, role: role?, team_id, active: form.checked("active") })
}

/// "a user with this email already exists" belongs beside the email field.
fn refused(form: &FormData, err: StorageError) -> Result<FormView, WebError> {
    let mut view = FormView::refused(form, err)?;
    if view.problem.as_deref().is_some_and(|p| p.contains("with this email")) {
        view.problem = None;
        view.errors.add("email", "is already used by another user");
    }
    if let Some(problem) = &mut view.problem
        && problem.contains("last active admin")
    {
        *problem = LAST_ADMIN.into();
    }
    view.problem = view.problem.as_deref().map(sentence);
    Ok(view)
}

const LAST_ADMIN: &str =
    "This is the last active admin: make someone else an admin first, so nobody is locked out of the settings.";

fn random_password() -> String {
    let bytes: [u8; 12] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut f = Fields::new(&form);
    let input = parse(&mut f, &form);
    let password = f.optional::<Password>("password");
    let errors = f.errors.clone();
    let (Some(mut input), true) = (input, errors.is_empty()) else {
        let errors = if errors.is_empty() { FieldErrors::single("body", "the form is incomplete") } else { errors };
        return users_page(&state, &signed, FormView::rejected(&form, errors), None, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    // A new user can sign in at once; there is no box for it on this form.
    input.active = true;
    let (password, generated) = match password {
        Some(password) => (password, false),
        None => (Password::try_from(random_password()).map_err(|_| WebError::Internal)?, true),
    };
    match state.store.create_user(input, Some(&password), Some(signed.user.id)).await {
        Ok(user) => {
            state.auth_cache.clear();
            let name = user.fields.name.to_string();
            if generated {
                let created =
                    NewPassword { name, email: user.fields.email.to_string(), password: password.expose().to_owned() };
                let form = FormView::from_pairs([("role", "agent".to_owned())]);
                Ok(no_store(users_page(&state, &signed, form, Some(created), StatusCode::CREATED).await?))
            } else {
                Ok(redirect_with_flash("/settings/users", &format!("{name} was added.")))
            }
        }
        Err(err) => users_page(&state, &signed, refused(&form, err)?, None, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

fn user_id(raw: &str) -> Result<UserId, WebError> {
    raw.parse().map_err(|_| WebError::NotFound("user"))
}

async fn edit(
    state: &AppState,
    signed: &Signed,
    user: &User,
    version: i64,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (teams, _) = team_choices(state).await?;
    let page = UserPage {
        chrome: signed.chrome("settings", format!("Edit {}", user.fields.name)),
        tabs: tabs(signed, "/settings/users"),
        id: user.id,
        version,
        name: user.fields.name.to_string(),
        active: user.fields.active,
        is_me: user.id == signed.user.id,
        roles: role_choices(),
        teams,
        form,
    };
    respond(signed, &page, status)
}

pub async fn edit_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let user = state.store.get_user(user_id(&id)?).await?;
    edit(&state, &signed, &user, user.meta.version, stored(&user), StatusCode::OK).await
}

/// A stored user as the edit form's values.
fn stored(user: &User) -> FormView {
    let u = &user.fields;
    let mut pairs = vec![
        ("name", u.name.to_string()),
        ("email", u.email.to_string()),
        ("role", u.role.as_str().to_owned()),
        ("team_id", u.team_id.map(|t| t.to_string()).unwrap_or_default()),
    ];
    if u.active {
        pairs.push(("active", "true".to_owned()));
    }
    FormView::from_pairs(pairs)
}

pub async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = user_id(&id)?;
    let before = state.store.get_user(id).await?;
    let version = form.get("version").parse::<i64>().unwrap_or(before.meta.version);
    let mut f = Fields::new(&form);
    let input = parse(&mut f, &form);
    let password = f.optional::<Password>("password");
    let errors = f.errors.clone();
    let (Some(input), true) = (input, errors.is_empty()) else {
        let errors = if errors.is_empty() { FieldErrors::single("body", "the form is incomplete") } else { errors };
        let view = FormView::rejected(&form, errors);
        return edit(&state, &signed, &before, version, view, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match state.store.update_user(&signed.actor, id, input, password.as_ref(), Some(version)).await {
        Ok(user) => {
            state.auth_cache.clear();
            Ok(redirect_with_flash("/settings/users", &format!("{} was saved.", user.fields.name)))
        }
        Err(err) => {
            let view = refused(&form, err)?;
            edit(&state, &signed, &before, version, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn deactivate(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let id = user_id(&id)?;
    let before = state.store.get_user(id).await?;
    match state.store.deactivate_user(&signed.actor, id).await {
        Ok(user) => {
            state.auth_cache.clear();
            Ok(redirect_with_flash(
                "/settings/users",
                &format!("{} was deactivated: signed out everywhere, their API tokens revoked.", user.fields.name),
            ))
        }
        Err(StorageError::Conflict(message)) => {
            let mut view = stored(&before);
            let why = if message.contains("last active admin") { LAST_ADMIN.to_owned() } else { message };
            view.problem = Some(format!("{} was not deactivated. {why}", before.fields.name));
            edit(&state, &signed, &before, before.meta.version, view, StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}
