//! Settings → Mail (admins only): how replies go out (SMTP), where
//! customers' mail is fetched from (IMAP), a test message that shows the
//! server's answer, and fetching now instead of at the next minute.
//! Passwords are never shown back: a blank password keeps the stored one.

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::FieldErrors;
use rapport_domain::email::Email;
use rapport_domain::mail::{
    Host, ImapSettings, ImapSettingsInput, ImapSettingsView, MailSecurity, Secret, SmtpSettings, SmtpSettingsInput,
    SmtpSettingsView,
};
use rapport_domain::text::Name;
use rapport_storage::{NewJob, StorageError};

use super::{Tab, require_admin, respond, sentence, tabs};
use crate::form::{Fields, FormData, FormView};
use crate::lists::Choice;
use crate::{Chrome, Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/mail", get(page))
        .route("/settings/mail/outgoing", post(save_outgoing))
        .route("/settings/mail/outgoing/off", post(turn_off_outgoing))
        .route("/settings/mail/incoming", post(save_incoming))
        .route("/settings/mail/incoming/off", post(turn_off_incoming))
        .route("/settings/mail/test", post(send_test))
        .route("/settings/mail/fetch", post(fetch_now))
}

const TAB: &str = "/settings/mail";

/// The request times out after 30 s, as does the SMTP client: give up a
/// little earlier so the page can say the server did not answer.
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What became of a test message.
pub struct TestOutcome {
    pub sent: bool,
    pub text: String,
}

#[derive(Template)]
#[template(path = "settings_mail.html")]
struct MailPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    smtp: Option<SmtpSettingsView>,
    imap: Option<ImapSettingsView>,
    smtp_password_set: bool,
    outgoing: FormView,
    incoming: FormView,
    test: FormView,
    outcome: Option<TestOutcome>,
    securities: Vec<Choice>,
}

/// The forms to show as typed; the others show what is stored.
#[derive(Default)]
struct Shown {
    outgoing: Option<FormView>,
    incoming: Option<FormView>,
    test: Option<FormView>,
    outcome: Option<TestOutcome>,
}

fn smtp_values(smtp: Option<&SmtpSettings>) -> FormView {
    let Some(s) = smtp else {
        return FormView::from_pairs([
            ("smtp_port", "587".to_owned()),
            ("smtp_security", MailSecurity::StartTls.as_str().to_owned()),
        ]);
    };
    FormView::from_pairs([
        ("smtp_host", s.host.as_str().to_owned()),
        ("smtp_port", s.port.to_string()),
        ("smtp_security", s.security.as_str().to_owned()),
        ("smtp_username", s.username.as_ref().map(|u| u.to_string()).unwrap_or_default()),
        ("smtp_from_address", s.from_address.to_string()),
        ("smtp_from_name", s.from_name.as_ref().map(|n| n.to_string()).unwrap_or_default()),
    ])
}

fn imap_values(imap: Option<&ImapSettings>) -> FormView {
    let Some(s) = imap else {
        return FormView::from_pairs([
            ("imap_port", "993".to_owned()),
            ("imap_security", MailSecurity::Tls.as_str().to_owned()),
            ("imap_mailbox", "INBOX".to_owned()),
            ("imap_enabled", "true".to_owned()),
        ]);
    };
    let mut pairs = vec![
        ("imap_host", s.host.as_str().to_owned()),
        ("imap_port", s.port.to_string()),
        ("imap_security", s.security.as_str().to_owned()),
        ("imap_username", s.username.to_string()),
        ("imap_mailbox", s.mailbox.to_string()),
    ];
    if s.enabled {
        pairs.push(("imap_enabled", "true".to_owned()));
    }
    FormView::from_pairs(pairs)
}

async fn mail_page(state: &AppState, signed: &Signed, shown: Shown, status: StatusCode) -> Result<Response, WebError> {
    let smtp = state.store.smtp_settings().await?;
    let imap = state.store.imap_settings().await?;
    let page = MailPage {
        chrome: signed.chrome("settings", "Mail"),
        tabs: tabs(signed, TAB),
        outgoing: shown.outgoing.unwrap_or_else(|| smtp_values(smtp.as_ref())),
        incoming: shown.incoming.unwrap_or_else(|| imap_values(imap.as_ref())),
        test: shown.test.unwrap_or_else(|| FormView::from_pairs([("test_to", signed.user.fields.email.to_string())])),
        outcome: shown.outcome,
        smtp_password_set: smtp.as_ref().is_some_and(|s| s.password.is_some()),
        smtp: smtp.as_ref().map(SmtpSettingsView::from),
        imap: imap.as_ref().map(ImapSettingsView::from),
        securities: MailSecurity::ALL.iter().map(|s| Choice::new(s.as_str(), s.label())).collect(),
    };
    respond(signed, &page, status)
}

pub async fn page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    mail_page(&state, &signed, Shown::default(), StatusCode::OK).await
}

fn port(raw: &str) -> Result<u16, String> {
    raw.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| "must be a number from 1 to 65535".to_owned())
}

/// A typed password, untrimmed (spaces may belong to it); blank keeps the stored one.
fn password(f: &mut Fields, form: &FormData, name: &str) -> Option<Secret> {
    let typed = form.pairs().find(|(key, _)| *key == name).map(|(_, value)| value).filter(|v| !v.is_empty())?;
    f.parse_with(name, |_| Secret::parse(typed))
}

fn parse_smtp(form: &FormData) -> Result<SmtpSettingsInput, FieldErrors> {
    let mut f = Fields::new(form);
    let host = f.required::<Host>("smtp_host");
    let port = f.parse_with("smtp_port", port);
    let security = f.parse_with("smtp_security", MailSecurity::parse);
    let username = f.optional::<Name>("smtp_username");
    let from_address = f.required::<Email>("smtp_from_address");
    let from_name = f.optional::<Name>("smtp_from_name");
    let password = password(&mut f, form, "smtp_password");
    match (host, port, security, from_address, f.errors.is_empty()) {
        (Some(host), Some(port), Some(security), Some(from_address), true) => {
            Ok(SmtpSettingsInput { host, port, security, username, password, from_address, from_name })
        }
        _ => Err(f.errors),
    }
}

fn parse_imap(form: &FormData) -> Result<ImapSettingsInput, FieldErrors> {
    let mut f = Fields::new(form);
    let host = f.required::<Host>("imap_host");
    let port = f.parse_with("imap_port", port);
    let security = f.parse_with("imap_security", MailSecurity::parse);
    let username = f.required::<Name>("imap_username");
    let mailbox = f.optional::<Name>("imap_mailbox");
    let password = password(&mut f, form, "imap_password");
    match (host, port, security, username, f.errors.is_empty()) {
        (Some(host), Some(port), Some(security), Some(username), true) => Ok(ImapSettingsInput {
            host,
            port,
            security,
            username,
            password,
            mailbox: mailbox.unwrap_or_else(|| Name::try_from("INBOX").expect("a valid mailbox name")),
            enabled: form.checked("imap_enabled"),
        }),
        _ => Err(f.errors),
    }
}

/// A refusal from storage on the form, the domain's field names given the form's prefix.
fn refused(form: &FormData, prefix: &str, err: StorageError) -> Result<FormView, WebError> {
    match err {
        StorageError::Invalid(errors) => {
            let mut named = FieldErrors::new();
            for (field, message) in errors.iter() {
                named.add(format!("{prefix}{field}"), message.clone());
            }
            Ok(FormView::rejected(form, named))
        }
        other => {
            let mut view = FormView::refused(form, other)?;
            view.problem = view.problem.as_deref().map(sentence);
            Ok(view)
        }
    }
}

pub async fn save_outgoing(
    State(state): State<AppState>,
    signed: Signed,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let view = match parse_smtp(&form) {
        Err(errors) => FormView::rejected(&form, errors),
        Ok(input) => match state.store.set_smtp_settings(&signed.actor, input).await {
            Ok(settings) => {
                let message = format!("Outgoing mail was saved: replies are sent from {}.", settings.from_address);
                return Ok(redirect_with_flash(TAB, &message));
            }
            Err(err) => refused(&form, "smtp_", err)?,
        },
    };
    let shown = Shown { outgoing: Some(view), ..Default::default() };
    mail_page(&state, &signed, shown, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn save_incoming(
    State(state): State<AppState>,
    signed: Signed,
    form: FormData,
) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let view = match parse_imap(&form) {
        Err(errors) => FormView::rejected(&form, errors),
        Ok(input) => match state.store.set_imap_settings(&signed.actor, input).await {
            Ok(settings) => {
                let message = if settings.enabled {
                    format!(
                        "Incoming mail was saved: {} on {} is fetched every minute.",
                        settings.mailbox,
                        settings.host.as_str()
                    )
                } else {
                    "Incoming mail was saved, switched off: nothing is fetched.".to_owned()
                };
                return Ok(redirect_with_flash(TAB, &message));
            }
            Err(err) => refused(&form, "imap_", err)?,
        },
    };
    let shown = Shown { incoming: Some(view), ..Default::default() };
    mail_page(&state, &signed, shown, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub async fn turn_off_outgoing(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    state.store.clear_mail_settings(&signed.actor, true).await?;
    Ok(redirect_with_flash(TAB, "Outgoing mail was turned off: replies stay on their tickets, unsent."))
}

pub async fn turn_off_incoming(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    state.store.clear_mail_settings(&signed.actor, false).await?;
    Ok(redirect_with_flash(TAB, "Incoming mail was turned off: the mailbox is no longer fetched."))
}

/// Sends a test message with the stored settings and shows the server's
/// answer on the page: 200 when it was accepted, 502 when not.
pub async fn send_test(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    require_admin(&signed)?;
    let mut f = Fields::new(&form);
    let Some(to) = f.required::<Email>("test_to") else {
        let shown = Shown { test: Some(FormView::rejected(&form, f.errors)), ..Default::default() };
        return mail_page(&state, &signed, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let Some(settings) = state.store.smtp_settings().await? else {
        let mut view = FormView::rejected(&form, FieldErrors::new());
        view.problem = Some("Outgoing mail is not set up: save the settings above first.".into());
        let shown = Shown { test: Some(view), ..Default::default() };
        return mail_page(&state, &signed, shown, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let answer = tokio::time::timeout(TEST_TIMEOUT, rapport_mail::send::send_test(&settings, &to)).await;
    let (outcome, status) = match answer {
        Ok(Ok(reply)) => {
            (TestOutcome { sent: true, text: format!("Sent to {to}. The server answered: {reply}") }, StatusCode::OK)
        }
        Ok(Err(err)) => (TestOutcome { sent: false, text: format!("Not sent: {err}") }, StatusCode::BAD_GATEWAY),
        Err(_) => (
            TestOutcome {
                sent: false,
                text: format!(
                    "Not sent: {}:{} did not answer within {} seconds.",
                    settings.host.as_str(),
                    settings.port,
                    TEST_TIMEOUT.as_secs()
                ),
            },
            StatusCode::BAD_GATEWAY,
        ),
    };
    let shown = Shown {
        test: Some(FormView::rejected(&form, FieldErrors::new())),
        outcome: Some(outcome),
        ..Default::default()
    };
    mail_page(&state, &signed, shown, status).await
}

/// Queues a fetch of the mailbox now; the Jobs page shows how it went.
pub async fn fetch_now(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    require_admin(&signed)?;
    if !state.store.imap_settings().await?.is_some_and(|s| s.enabled) {
        return Ok(redirect_with_flash(TAB, "Incoming mail is off: save and switch it on first."));
    }
    let mut job = NewJob::new(rapport_storage::mail::FETCH_JOB, serde_json::json!({}));
    job.created_by = Some(signed.user.id);
    state.store.enqueue_job(job).await?;
    state.job_waker.notify_one();
    Ok(redirect_with_flash(TAB, "Fetching mail now: the Jobs page shows how it went."))
}
