//! Settings → API tokens: everyone's own (admins see everyone's). A new
//! token's secret is shown once, on the page that answers the form: it is
//! never put into a redirect or a cookie.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::TokenId;
use rapport_domain::records::{ApiToken, now};
use rapport_domain::text::Name;
use time::OffsetDateTime;

use super::users::all_users;
use super::{Stamp, Tab, no_store, respond, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub struct TokenRow {
    pub id: TokenId,
    pub name: String,
    pub owner: String,
    pub mine: bool,
    pub created: Stamp,
    pub last_used: Option<Stamp>,
    pub expires: Option<Stamp>,
    pub status: &'static str,
    pub status_class: &'static str,
    /// Still working, so it can be revoked.
    pub revocable: bool,
}

/// A token just created, with its secret.
pub struct NewSecret {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "settings_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    /// Admins see everyone's tokens.
    all: bool,
    tokens: Vec<TokenRow>,
    form: FormView,
    created: Option<NewSecret>,
}

/// The token's status, its badge, and whether it still works.
fn status(token: &ApiToken, now: OffsetDateTime) -> (&'static str, &'static str, bool) {
    if token.revoked_at.is_some() {
        ("Revoked", "danger", false)
    } else if token.expires_at.is_some_and(|at| at <= now) {
        ("Expired", "warn", false)
    } else {
        ("Active", "ok", true)
    }
}

async fn tokens_page(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    created: Option<NewSecret>,
    status_code: StatusCode,
) -> Result<Response, WebError> {
    let all = signed.actor.is_admin();
    let tokens = state.store.list_tokens(if all { None } else { Some(signed.user.id) }).await?;
    let owners: HashMap<_, _> = if all {
        all_users(state).await?.into_iter().map(|u| (u.id, u.fields.name.to_string())).collect()
    } else {
        HashMap::new()
    };
    let now = now();
    let tokens = tokens
        .iter()
        .map(|token| {
            let (status, status_class, revocable) = status(token, now);
            TokenRow {
                id: token.id,
                name: token.name.to_string(),
                owner: owners.get(&token.user_id).cloned().unwrap_or_default(),
                mine: token.user_id == signed.user.id,
                created: Stamp::new(token.created_at),
                last_used: token.last_used_at.map(Stamp::new),
                expires: token.expires_at.map(Stamp::new),
                status,
                status_class,
                revocable,
            }
        })
        .collect();
    let page = TokensPage {
        chrome: signed.chrome("settings", "API tokens"),
        tabs: tabs(signed, "/settings/tokens"),
        all,
        tokens,
        form,
        created,
    };
    respond(signed, &page, status_code)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    tokens_page(&state, &signed, FormView::default(), None, StatusCode::OK).await
}

pub async fn create(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    let mut f = Fields::new(&form);
    let name = f.required::<Name>("name");
    let days = f.optional_with("expires_in_days", |raw| {
        raw.parse::<u32>()
            .ok()
            .filter(|days| (1..=3650).contains(days))
            .ok_or_else(|| "must be a whole number of days from 1 to 3650".to_string())
    });
    let errors = f.errors.clone();
    let (Some(name), true) = (name, errors.is_empty()) else {
        return tokens_page(&state, &signed, FormView::rejected(&form, errors), None, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    };
    match state.store.create_token(signed.user.id, name, days).await {
        Ok(created) => {
            let secret = NewSecret { name: created.token.name.to_string(), secret: created.secret };
            Ok(no_store(tokens_page(&state, &signed, FormView::default(), Some(secret), StatusCode::CREATED).await?))
        }
        Err(err) => {
            tokens_page(&state, &signed, FormView::refused(&form, err)?, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: TokenId = id.parse().map_err(|_| WebError::NotFound("token"))?;
    let token = state.store.revoke_token(&signed.actor, id).await?;
    state.auth_cache.clear();
    Ok(redirect_with_flash("/settings/tokens", &format!("The token “{}” was revoked: it no longer works.", token.name)))
}
