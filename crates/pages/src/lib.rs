//! The web pages: server-rendered HTML (askama templates, checked at compile
//! time) with htmx for partial updates. Handlers here parse forms into domain
//! types and call the same storage methods as the API, so validation and
//! permissions are the same whichever door a change comes through. The
//! staff's pages sit behind a session; the customers' survey links
//! (`survey_links`) open without one.

mod activities;
mod assets;
mod board;
mod companies;
mod csrf;
mod custom;
mod deals;
mod duplicates;
mod feedback;
mod feedback_charts;
mod feedback_themes;
mod form;
mod format;
mod history;
mod home;
mod imports;
mod inline_edit;
mod insights;
mod jobs;
mod list_bulk;
mod list_filters;
mod lists;
mod lookup;
mod merge;
mod numbers;
mod people;
mod purchases;
mod sales;
mod search;
mod session;
mod settings;
mod sla_report;
mod staff;
mod style;
mod style_feedback;
mod style_goals;
mod style_review;
mod survey_builder;
mod survey_links;
mod surveys;
mod svg;
mod tasks;
mod ticket_bulk;
mod tickets;
mod timeline;
mod trash;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rapport_storage::StorageError;
use tower_http::set_header::SetResponseHeaderLayer;

use session::Signed;

use rapport_api::AppState;
use rapport_api::error::ApiError;

/// Content-Security-Policy of every page: our own scripts and styles only.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Every page, the staff's and the customers' survey links, each sent
/// with [`PAGE_CSP`].
pub fn routes(state: AppState) -> Router<AppState> {
    staff_routes()
        .merge(survey_links::routes(state))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP)))
}

/// The page for a path nothing answers (the router's fallback, which runs
/// outside [`routes`] and its CSP layer).
pub fn not_found() -> Response {
    let mut response = WebError::NotFound("page").into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    response
}

fn staff_routes() -> Router<AppState> {
    Router::new()
        .merge(session::routes())
        .merge(home::routes())
        .merge(people::routes())
        .merge(companies::routes())
        .merge(purchases::routes())
        .merge(deals::routes())
        .merge(board::routes())
        .merge(activities::routes())
        .merge(sales::routes())
        .merge(tasks::routes())
        .merge(sla_report::routes())
        .merge(tickets::routes())
        .merge(ticket_bulk::routes())
        .merge(search::routes())
        .merge(feedback::routes())
        .merge(feedback_charts::routes())
        .merge(feedback_themes::routes())
        .merge(style::routes())
        .merge(style_feedback::routes())
        .merge(style_goals::routes())
        .merge(style_review::routes())
        .merge(survey_builder::routes())
        .merge(surveys::routes())
        .merge(insights::routes())
        .merge(imports::routes())
        .merge(duplicates::routes())
        .merge(merge::routes())
        .merge(lists::routes())
        .merge(list_bulk::routes())
        .merge(inline_edit::routes())
        .merge(settings::routes())
        .merge(history::routes())
        .merge(trash::routes())
        .merge(jobs::routes())
        .route("/assets/{name}", get(assets::serve))
        .layer(axum::middleware::from_fn(csrf::verify))
        .layer(axum::middleware::from_fn(htmx_redirects))
        .layer(axum::middleware::from_fn(numbers::reader_locale))
}

/// htmx sends requests through XMLHttpRequest, which follows a 303 on its
/// own and would swap the next page into the target: tell htmx to navigate.
async fn htmx_redirects(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let htmx = is_htmx(request.headers());
    let mut response = next.run(request).await;
    if htmx && response.status() == StatusCode::SEE_OTHER {
        if let Some(location) = response.headers_mut().remove(header::LOCATION) {
            response.headers_mut().insert("hx-redirect", location);
        }
        *response.status_mut() = StatusCode::OK;
    }
    response
}

/// `<option>`s for an input's suggestions (a `<datalist>`), filled as the user types.
#[derive(Template)]
#[template(path = "options.html")]
pub struct Options {
    pub choices: Vec<lists::Choice>,
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub title: String,
    pub section: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub role: &'static str,
    pub is_admin: bool,
    /// Viewers see no create or edit controls.
    pub can_write: bool,
    pub csrf: String,
    /// A confirmation carried over a redirect ("Person saved").
    pub flash: Option<String>,
    /// Where the Undo of a delete just made posts: the confirmation offers it.
    pub undo: Option<String>,
    pub assets: &'static str,
}

/// A page that could not be shown: each becomes a redirect or an error page.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the login page, then back to `next`.
    SignIn {
        next: String,
    },
    /// No user exists yet: to the first-admin setup.
    Setup,
    Forbidden(String),
    NotFound(&'static str),
    BadRequest(String),
    /// The form's CSRF token is missing or stale.
    Csrf,
    Internal,
}

impl From<StorageError> for WebError {
    fn from(err: StorageError) -> Self {
        WebError::from(ApiError::from(err))
    }
}

impl From<ApiError> for WebError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::NotFound(what) => WebError::NotFound(what),
            ApiError::Forbidden(message) => WebError::Forbidden(message),
            ApiError::Unauthorized => WebError::SignIn { next: "/".into() },
            ApiError::Internal => WebError::Internal,
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    heading: &'a str,
    message: &'a str,
    assets: &'static str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match &self {
            WebError::SignIn { next } => {
                let target = format!("/login?next={}", form::encode(next));
                return see_other(&target);
            }
            WebError::Setup => return see_other("/setup"),
            WebError::Forbidden(message) => (StatusCode::FORBIDDEN, "Not allowed", message.clone()),
            WebError::NotFound(what) => {
                (StatusCode::NOT_FOUND, "Not found", format!("This {what} does not exist, or it was deleted."))
            }
            WebError::BadRequest(message) => (StatusCode::BAD_REQUEST, "That did not work", message.clone()),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "Reload the page and try again. (The request did not carry this session's form token.)".into(),
            ),
            WebError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side; it has been logged.".into(),
            ),
        };
        let page = ErrorPage { status: status.as_u16(), heading, message: &message, assets: assets::version() };
        let body = page.render().unwrap_or_else(|_| message.clone());
        let mut response = (status, Html(body)).into_response();
        // htmx swaps only 2xx answers by default: show the message as a toast instead.
        if let Ok(value) = HeaderValue::from_str(&toast_header(&message)) {
            response.headers_mut().insert("hx-trigger", value);
        }
        response
    }
}

/// A 303 to `target` (`htmx_redirects` turns it into `HX-Redirect` for htmx).
pub fn see_other(target: &str) -> Response {
    Redirect::to(target).into_response()
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(template: &T) -> Result<Response, WebError> {
    match template.render() {
        Ok(body) => Ok(Html(body).into_response()),
        Err(err) => {
            tracing::error!(error = %err, "rendering a page failed");
            Err(WebError::Internal)
        }
    }
}

/// Whether htmx sent the request (it then wants a fragment, not a page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// The `HX-Trigger` value that makes app.js show `message` as a toast.
/// Header values must be ASCII, so everything else is escaped as JSON `\u` units.
pub fn toast_header(message: &str) -> String {
    let mut escaped = String::new();
    for unit in message.encode_utf16() {
        match unit {
            0x22 => escaped.push_str("\\\""),
            0x5c => escaped.push_str("\\\\"),
            0x20..=0x7e => escaped.push(char::from(unit as u8)),
            other => escaped.push_str(&format!("\\u{other:04x}")),
        }
    }
    format!("{{\"rapport-toast\":\"{escaped}\"}}")
}

/// A fragment for htmx with a confirmation toast.
pub fn with_toast(mut response: Response, message: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(&toast_header(message)) {
        response.headers_mut().insert("hx-trigger", value);
    }
    response
}

/// `with_toast`, and the htmx event `event` with the number `value` beside it.
pub fn with_toast_and(mut response: Response, message: &str, event: &'static str, value: i64) -> Response {
    let toast = toast_header(message);
    let members = toast.strip_suffix('}').unwrap_or(&toast);
    if let Ok(value) = HeaderValue::from_str(&format!("{members},\"{event}\":{value}}}")) {
        response.headers_mut().insert("hx-trigger", value);
    }
    response
}

/// After a change made through a plain form: back to `target`, with a confirmation.
pub fn redirect_with_flash(target: &str, message: &str) -> Response {
    let mut response = see_other(target);
    let cookie =
        format!("{}={}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", session::FLASH_COOKIE, form::encode(message));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `redirect_with_flash` whose confirmation offers to restore the trash entry `undo`.
pub fn redirect_with_undo(target: &str, message: &str, undo: uuid::Uuid) -> Response {
    let mut response = redirect_with_flash(target, message);
    let cookie = format!("{}={undo}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", session::UNDO_COOKIE);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toast_headers_are_ascii_json() {
        let header = toast_header("Saved \"Zoë\" \\ ok");
        assert!(header.is_ascii());
        let parsed: serde_json::Value = serde_json::from_str(&header).unwrap();
        assert_eq!(parsed["rapport-toast"], "Saved \"Zoë\" \\ ok");
    }

    #[test]
    fn a_toast_carries_an_event_beside_it() {
        let response = with_toast_and(Html("").into_response(), "Done: \"x\"}", "rapport-task-count", -1);
        let header = response.headers().get("hx-trigger").unwrap().to_str().unwrap();
        let parsed: serde_json::Value = serde_json::from_str(header).unwrap();
        assert_eq!(parsed, serde_json::json!({ "rapport-toast": "Done: \"x\"}", "rapport-task-count": -1 }));
    }
}
