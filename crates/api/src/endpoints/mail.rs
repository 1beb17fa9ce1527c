//! Mail: the SMTP and IMAP settings (admins), a test message, fetching the
//! mailbox now, taking in one raw message (what `rapport mail receive`
//! does, for a mail gateway's webhook), and ticket attachments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rapport_domain::mail::{
    ImapSettingsInput, ImapSettingsView, MailSettingsView, Received, SmtpSettingsInput, SmtpSettingsView,
};
use rapport_domain::{AttachmentId, Email, JobId};
use rapport_storage::NewJob;
use rapport_storage::mail::FETCH_JOB;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, has_media_type};

/// The largest raw message taken through the API: the attachment limit, with room for encoding.
const MAX_RAW_MESSAGE: usize = 32 * 1024 * 1024;

fn admin(auth: &Auth) -> Result<(), ApiError> {
    auth.actor.ensure_admin().map_err(|d| ApiError::Forbidden(d.to_string()))
}

/// Both directions' settings; passwords are never returned.
#[utoipa::path(get, path = "/api/v1/mail/settings", tag = "mail",
    responses((status = 200, body = MailSettingsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_settings(State(state): State<AppState>, auth: Auth) -> Result<Json<MailSettingsView>, ApiError> {
    admin(&auth)?;
    let smtp = state.store.smtp_settings().await?;
    let imap = state.store.imap_settings().await?;
    Ok(Json(MailSettingsView { smtp: smtp.as_ref().map(Into::into), imap: imap.as_ref().map(Into::into) }))
}

/// Sets outgoing mail; a password left out keeps the current one.
#[utoipa::path(put, path = "/api/v1/mail/settings/smtp", tag = "mail", request_body = SmtpSettingsInput,
    responses((status = 200, body = SmtpSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_smtp(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<SmtpSettingsInput>,
) -> Result<Json<SmtpSettingsView>, ApiError> {
    Ok(Json((&state.store.set_smtp_settings(&auth.actor, input).await?).into()))
}

/// Turns outgoing mail off: replies are no longer emailed.
#[utoipa::path(delete, path = "/api/v1/mail/settings/smtp", tag = "mail",
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_smtp(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    state.store.clear_mail_settings(&auth.actor, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets incoming mail (fetched every minute while enabled); a password left out keeps the current one.
#[utoipa::path(put, path = "/api/v1/mail/settings/imap", tag = "mail", request_body = ImapSettingsInput,
    responses((status = 200, body = ImapSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_imap(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ImapSettingsInput>,
) -> Result<Json<ImapSettingsView>, ApiError> {
    Ok(Json((&state.store.set_imap_settings(&auth.actor, input).await?).into()))
}

/// Turns incoming mail off.
#[utoipa::path(delete, path = "/api/v1/mail/settings/imap", tag = "mail",
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn delete_imap(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    state.store.clear_mail_settings(&auth.actor, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMessage {
    /// Where to send the test message.
    pub to: Email,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestSent {
    /// The mail server's answer, such as "250 2.0.0 Ok: queued as 4FQ2".
    pub server_reply: String,
}

/// Sends a test message now, with the saved outgoing settings; a server
/// that refuses or cannot be reached answers 502 with its reason.
#[utoipa::path(post, path = "/api/v1/mail/test", tag = "mail", request_body = TestMessage,
    responses((status = 200, body = TestSent), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn send_test(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TestMessage>,
) -> Result<Json<TestSent>, ApiError> {
    admin(&auth)?;
    let settings = state.store.smtp_settings().await?.ok_or_else(|| {
        ApiError::Conflict("outgoing mail is not set up: PUT /api/v1/mail/settings/smtp first".into())
    })?;
    let server_reply = rapport_mail::send::send_test(&settings, &input.to).await?;
    Ok(Json(TestSent { server_reply }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FetchQueued {
    /// Follow it at /api/v1/jobs/{job_id}.
    pub job_id: JobId,
}

/// Fetches the IMAP mailbox now rather than at the next minute.
#[utoipa::path(post, path = "/api/v1/mail/fetch", tag = "mail",
    responses((status = 202, body = FetchQueued), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn fetch_now(State(state): State<AppState>, auth: Auth) -> Result<(StatusCode, Json<FetchQueued>), ApiError> {
    admin(&auth)?;
    if !state.store.imap_settings().await?.is_some_and(|s| s.enabled) {
        return Err(ApiError::Conflict("incoming mail is off: PUT /api/v1/mail/settings/imap first".into()));
    }
    let mut job = NewJob::new(FETCH_JOB, serde_json::json!({}));
    job.created_by = Some(auth.actor.user_id);
    job.max_attempts = 1;
    let job = state.store.enqueue_job(job).await?.ok_or(ApiError::Internal)?;
    state.job_waker.notify_one();
    Ok((StatusCode::ACCEPTED, Json(FetchQueued { job_id: job.id })))
}

/// Takes in one raw email (RFC 822, as `message/rfc822`), as if it had
/// arrived in the mailbox: it joins the ticket it answers or opens one.
#[utoipa::path(post, path = "/api/v1/mail/receive", tag = "mail",
    request_body(content = String, content_type = "message/rfc822", description = "The whole message, headers and body"),
    responses((status = 200, body = Received), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    admin(&auth)?;
    if !has_media_type(&headers, "message/rfc822") {
        return Err(ApiError::WrongMediaType("message/rfc822"));
    }
    Ok(Json(rapport_mail::receive(&state.store, &body).await?))
}

/// A file that came with a customer's email; only for those who may see its ticket.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: AttachmentId = parse_id(&id, "attachment")?;
    let (info, data) = state.store.attachment(&auth.actor, id).await?;
    Ok(crate::download::attachment(&info.filename, data))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings))
        .routes(routes!(put_smtp, delete_smtp))
        .routes(routes!(put_imap, delete_imap))
        .routes(routes!(send_test))
        .routes(routes!(fetch_now))
        .routes(routes!(get_attachment))
        .merge(OpenApiRouter::new().routes(routes!(receive)).layer(DefaultBodyLimit::max(MAX_RAW_MESSAGE)))
}
