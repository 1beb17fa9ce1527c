//! Signing in and out through the pages, the first-admin setup, and the
//! signed-in staff member every other page is shown to.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::Actor;
use rapport_domain::Email;
use rapport_domain::records::{Password, User};
use rapport_domain::text::Name;
use serde::Deserialize;

use super::csrf::{self, PRESESSION_COOKIE};
use super::form::{Fields, FormData, FormView};
use super::{Chrome, WebError, assets, redirect_with_flash, render, see_other};
use rapport_api::AppState;
use rapport_api::endpoints::session::{ClientAddr, LoginRequest, sign_in, sign_out};
use rapport_api::error::ApiError;
use rapport_api::extract::{session_auth, session_cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/setup", get(setup_page).post(setup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

pub const FLASH_COOKIE: &str = "rapport_flash";
/// The trash entry the flash message's Undo button restores.
pub const UNDO_COOKIE: &str = "rapport_undo";

/// The staff member signed in to the browser. Pages without one send the
/// browser to the login page (or, before anyone exists, to the setup).
pub struct Signed {
    pub actor: Actor,
    pub user: User,
    pub csrf: String,
    flash: Option<String>,
    /// Where the Undo of a delete just made posts.
    undo: Option<String>,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let Some(secret) = session_cookie(parts) else {
            return Err(no_session(state, next).await);
        };
        let Some((actor, user)) = session_auth(state, &secret).await? else {
            return Err(no_session(state, next).await);
        };
        let flash = cookie(parts, FLASH_COOKIE).map(|raw| {
            form_urlencoded::parse(format!("m={raw}").as_bytes())
                .next()
                .map(|(_, m)| m.into_owned())
                .unwrap_or_default()
        });
        // A delete's trash entry, or a bulk delete's batch ("bulk.<id>"): where its Undo posts.
        let undo = cookie(parts, UNDO_COOKIE).and_then(|raw| match raw.strip_prefix("bulk.") {
            Some(batch) => batch.parse::<uuid::Uuid>().ok().map(|batch| format!("/bulk/{batch}/undo")),
            None => raw.parse::<uuid::Uuid>().ok().map(|entry| format!("/trash/{entry}/restore")),
        });
        Ok(Signed { actor, user, csrf: csrf::csrf_token(&secret), flash, undo })
    }
}

async fn no_session(state: &AppState, next: String) -> WebError {
    match state.store.count_users().await {
        Ok(0) => WebError::Setup,
        Ok(_) => WebError::SignIn { next },
        Err(err) => WebError::from(err),
    }
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

impl Signed {
    pub fn chrome(&self, section: &'static str, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            section,
            user_name: self.user.fields.name.to_string(),
            user_email: self.user.fields.email.to_string(),
            role: self.actor.role.as_str(),
            is_admin: self.actor.is_admin(),
            can_write: self.actor.ensure_can_create().is_ok(),
            csrf: self.csrf.clone(),
            flash: self.flash.clone(),
            undo: self.undo.clone(),
            assets: assets::version(),
        }
    }

    /// A form page: 409 when it shows a conflicting change, 422 when it shows
    /// errors, so scripts and tests can tell.
    pub fn form_page<T: Template>(&self, template: &T, form: &FormView) -> Result<Response, WebError> {
        let mut response = self.page(template)?;
        if form.conflict.is_some() {
            *response.status_mut() = axum::http::StatusCode::CONFLICT;
        } else if form.has_errors() {
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(response)
    }

    /// Viewers may not create records: their "new" pages answer 403.
    pub fn ensure_can_create(&self) -> Result<(), WebError> {
        self.actor.ensure_can_create().map_err(|denied| WebError::Forbidden(denied.to_string()))
    }

    /// Renders a page, clearing a confirmation it has now shown.
    pub fn page<T: Template>(&self, template: &T) -> Result<Response, WebError> {
        let mut response = render(template)?;
        if self.flash.is_some() {
            let clear = format!("{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
            response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("a valid cookie"));
        }
        if self.undo.is_some() {
            let clear = format!("{UNDO_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
            response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("a valid cookie"));
        }
        Ok(response)
    }
}

/// A page shown before sign-in, with its pre-session form token.
struct Presession {
    token: String,
}

impl Presession {
    fn new(headers: &HeaderMap) -> Self {
        let existing = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, value)| *key == PRESESSION_COOKIE && value.len() >= 32)
            .map(|(_, value)| value.to_owned());
        Presession { token: existing.unwrap_or_else(csrf::new_presession_token) }
    }

    fn respond<T: Template>(&self, template: &T) -> Result<Response, WebError> {
        let mut response = render(template)?;
        let cookie = format!("{PRESESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", self.token);
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a valid cookie"));
        Ok(response)
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    form: FormView,
    assets: &'static str,
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only a path on this site: never send someone elsewhere after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next.to_owned() } else { "/".into() }
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<NextParam>,
) -> Result<Response, WebError> {
    if state.store.count_users().await? == 0 {
        return Ok(see_other("/setup"));
    }
    let presession = Presession::new(&headers);
    let next = safe_next(params.next.as_deref().unwrap_or("/"));
    presession.respond(&LoginPage {
        csrf: presession.token.clone(),
        next,
        form: FormView::default(),
        assets: assets::version(),
    })
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, WebError> {
    let next = safe_next(form.get("next"));
    let request = LoginRequest { email: form.get("email").to_owned(), password: form.get("password").to_owned() };
    match sign_in(&state, addr, &headers, request).await {
        Ok((_, cookie)) => {
            let mut response = see_other(&next);
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(err @ (ApiError::InvalidCredentials | ApiError::RateLimited { .. })) => {
            let mut view = FormView::rejected(&form, rapport_domain::FieldErrors::new());
            view.problem = Some(super::format::capitalize(&err.to_string()));
            let presession = Presession::new(&headers);
            let mut response = presession.respond(&LoginPage {
                csrf: presession.token.clone(),
                next,
                form: view,
                assets: assets::version(),
            })?;
            *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn logout(State(state): State<AppState>, request: axum::extract::Request) -> Result<Response, WebError> {
    let (parts, _) = request.into_parts();
    let clear = sign_out(&state, &parts).await?;
    let mut response = redirect_with_flash("/login", "You are signed out.");
    response.headers_mut().append(header::SET_COOKIE, clear);
    Ok(response)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    csrf: String,
    form: FormView,
    assets: &'static str,
}

pub async fn setup_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    if state.store.count_users().await? > 0 {
        return Ok(see_other("/login"));
    }
    let presession = Presession::new(&headers);
    presession.respond(&SetupPage {
        csrf: presession.token.clone(),
        form: FormView::default(),
        assets: assets::version(),
    })
}

/// Creates the first admin (and, in the same transaction, a starter pipeline) and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, WebError> {
    let mut fields = Fields::new(&form);
    let name = fields.required::<Name>("name");
    let email = fields.required::<Email>("email");
    let password = fields.required::<Password>("password");
    if password.is_some() && form.get("password") != form.get("password_again") {
        fields.fail("password_again", "does not match the password");
    }
    let presession = Presession::new(&headers);
    let show_again = |view: FormView| -> Result<Response, WebError> {
        let mut response =
            presession.respond(&SetupPage { csrf: presession.token.clone(), form: view, assets: assets::version() })?;
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        Ok(response)
    };
    let errors = fields.errors.clone();
    let (Some(name), Some(email), Some(password), true) = (name, email, password, errors.is_empty()) else {
        return show_again(FormView::rejected(&form, errors));
    };
    if let Err(err) = state.store.create_first_admin(name, email.clone(), &password).await {
        return show_again(FormView::refused(&form, err)?);
    }
    let request = LoginRequest { email: email.to_string(), password: form.get("password").to_owned() };
    let (_, cookie) = sign_in(&state, addr, &headers, request).await?;
    let mut response = redirect_with_flash("/", "Welcome to Rapport. Your admin account is ready.");
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}
