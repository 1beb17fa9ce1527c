//! Settings: staff, teams, pipelines, custom fields, SLA policies and mail (admins only), and
//! everyone's own API tokens. Storage checks who may change what; these
//! pages also hide what a non-admin may not use.

mod fields;
mod mail;
mod pipelines;
mod sla;
mod teams;
mod tokens;
mod users;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use time::OffsetDateTime;

use super::{Signed, WebError, format, see_other};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings", get(index))
        .route("/settings/users", get(users::page).post(users::create))
        .route("/settings/users/{id}", get(users::edit_page).post(users::update))
        .route("/settings/users/{id}/deactivate", post(users::deactivate))
        .route("/settings/teams", get(teams::page).post(teams::create))
        .route("/settings/teams/{id}", post(teams::rename))
        .route("/settings/teams/{id}/delete", post(teams::delete))
        .route("/settings/pipelines", get(pipelines::page).post(pipelines::create))
        .route("/settings/pipelines/{id}", get(pipelines::edit_page).post(pipelines::update))
        .route("/settings/pipelines/{id}/delete", post(pipelines::delete))
        .route("/settings/fields", get(fields::page).post(fields::create))
        .route("/settings/fields/{id}/delete", post(fields::delete))
        .merge(sla::routes())
        .merge(mail::routes())
        .route("/settings/tokens", get(tokens::page).post(tokens::create))
        .route("/settings/tokens/{id}/revoke", post(tokens::revoke))
}

/// Admins start with the staff; everyone else has only their tokens.
async fn index(signed: Signed) -> Response {
    see_other(if signed.actor.is_admin() { "/settings/users" } else { "/settings/tokens" })
}

/// One link of the settings tab bar.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

const TABS: &[(&str, &str, bool)] = &[
    ("/settings/users", "Users", true),
    ("/settings/teams", "Teams", true),
    ("/settings/pipelines", "Pipelines", true),
    ("/settings/fields", "Custom fields", true),
    ("/settings/sla", "SLA", true),
    ("/settings/mail", "Mail", true),
    ("/settings/style", "Style", true),
    ("/jobs", "Jobs", true),
    ("/settings/tokens", "API tokens", false),
];

/// The tabs `signed` may open, `current` marked.
pub fn tabs(signed: &Signed, current: &str) -> Vec<Tab> {
    let admin = signed.actor.is_admin();
    TABS.iter()
        .filter(|(_, _, admin_only)| admin || !admin_only)
        .map(|&(href, label, _)| Tab { href, label, current: href == current })
        .collect()
}

/// Admin tabs answer a 403 page to everyone else.
pub fn require_admin(signed: &Signed) -> Result<(), WebError> {
    signed
        .actor
        .ensure_admin()
        .map_err(|_| WebError::Forbidden("Only an admin can manage users, teams, pipelines and custom fields.".into()))
}

/// Renders a settings page with `status` (422 when a form is shown again with errors).
pub fn respond<T: Template>(signed: &Signed, page: &T, status: StatusCode) -> Result<Response, WebError> {
    let mut response = signed.page(page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// A storage message as a sentence shown above a form: "Capitalized."
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// A page showing a secret once: kept out of every cache.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A moment as shown in a table: readable text, and the machine form for `<time>`.
pub struct Stamp {
    pub iso: String,
    pub text: String,
}

impl Stamp {
    pub fn new(at: OffsetDateTime) -> Self {
        Stamp { iso: format::iso(at), text: format::datetime(at) }
    }

    pub fn day(at: OffsetDateTime) -> Self {
        Stamp { iso: format::iso(at), text: format::date(at.date()) }
    }
}
