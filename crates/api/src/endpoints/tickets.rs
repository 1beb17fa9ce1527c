//! Support tickets, their conversation, and the response targets (SLA
//! policies and business-hours calendars) they are measured by.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use rapport_domain::history::HistoryEntry;
use rapport_domain::mail::MAX_MESSAGE_ATTACHMENT_BYTES;
use rapport_domain::sla::{Calendar, CalendarInput, SlaPolicy, SlaPolicyInput};
use rapport_domain::sla_events::SlaEvent;
use rapport_domain::tickets::{MessageInput, Ticket, TicketInput, TicketMessage};
use rapport_domain::{CalendarId, SlaPolicyId, TicketId};
use rapport_storage::TicketFilter;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Created, Found, Items, Versioned, parse_id, patch_again, patched};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Auth, IfMatch, ListParams, Listed, NoParams, Params, has_media_type, parse_body};
use crate::{AppState, BODY_LIMIT};

impl Versioned for Ticket {
    fn version(&self) -> i64 {
        self.meta.version
    }
}

impl Versioned for Calendar {
    fn version(&self) -> i64 {
        self.meta.version
    }
}

impl Versioned for SlaPolicy {
    fn version(&self) -> i64 {
        self.meta.version
    }
}

/// Tickets the caller may see (agents: their own, their team's and the
/// unassigned queue), most recently changed first.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    params(crate::extract::ListDoc<TicketFilter>),
    responses((status = 200, body = Listed<Ticket>), (status = 422, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    auth: Auth,
    params: ListParams<TicketFilter>,
) -> Result<Json<Listed<Ticket>>, ApiError> {
    let page = state.store.list_tickets(&auth.actor, &params.query, &params.filter).await?;
    Ok(Json(params.answer(page)))
}

/// Opens a ticket for a customer; its SLA policy and due times are set from the first policy that matches.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = TicketInput,
    responses((status = 201, body = Ticket), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TicketInput>,
) -> Result<Created<Ticket>, ApiError> {
    let ticket = state.store.create_ticket(&auth.actor, input).await?;
    let location = format!("/api/v1/tickets/{}", ticket.id);
    Ok(Created(ticket, location))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<Ticket>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    Ok(Found(state.store.get_ticket(&auth.actor, id).await?))
}

/// Replaces the ticket's fields (status, priority, assignee ...); a closed ticket is final (409).
#[utoipa::path(put, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)), request_body = TicketInput,
    responses((status = 200, body = Ticket), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<TicketInput>,
) -> Result<Found<Ticket>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    Ok(Found(state.store.update_ticket(&auth.actor, id, input, version).await?))
}

/// Changes only the fields sent (JSON merge patch), e.g. `{"status": "solved"}`.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)), request_body = Object,
    responses((status = 200, body = Ticket), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Found<Ticket>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    let mut attempts = 0;
    loop {
        let current = state.store.get_ticket(&auth.actor, id).await?;
        let input: TicketInput = patched(&current.fields, body.clone())?;
        match state.store.update_ticket(&auth.actor, id, input, version.or(Some(current.meta.version))).await {
            Err(rapport_storage::StorageError::VersionMismatch { .. }) if patch_again(version, &mut attempts) => {}
            written => return Ok(Found(written?)),
        }
    }
}

/// Moves the ticket to the trash with its conversation, attachments, outgoing
/// mail and SLA events; `POST /api/v1/trash/{id}/restore` brings it all back.
/// Agents delete their own tickets (assigned to them or opened by them),
/// managers their team's and unassigned ones, admins any (403 otherwise); a
/// ticket the caller may not see is 404.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = String, Path)),
    responses((status = 204, description = "Moved to the trash"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_ticket(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    state.store.delete_ticket(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every create, update (status, priority, assignee ... with each changed
/// field, old → new), delete and restore of the ticket, newest first. Status
/// changes a message made are the message writer's (the system's for mail
/// taken in); the automatic close of solved tickets is the system's
/// (`actor_id` null). A deleted ticket's history is still here, for whoever
/// could see the ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = Items<HistoryEntry>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn ticket_history(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<HistoryEntry>>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    Ok(Json(Items { items: state.store.ticket_history(&auth.actor, id).await? }))
}

/// The conversation, oldest first: customer messages, replies and internal notes.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = Items<TicketMessage>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<TicketMessage>>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    Ok(Json(Items { items: state.store.ticket_messages(&auth.actor, id).await? }))
}

/// A message added to a ticket, with the ticket as it is after it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub ticket: Ticket,
    pub message: TicketMessage,
}

/// The largest body of a new message: its files in base64 (4 characters for
/// every 3 bytes) with room for the text.
const MAX_MESSAGE_BODY: usize = MAX_MESSAGE_ATTACHMENT_BYTES / 3 * 4 + BODY_LIMIT;

/// Adds a reply (to the customer), an internal note, or a customer's message
/// taken down by staff; `status` moves the ticket at the same time.
/// `attachments` carries files in base64: a reply emails them to the
/// customer with it (multipart/mixed), a note keeps them inside; each
/// appears in the message's `attachments` and downloads from
/// `/api/v1/attachments/{id}`. At most 10 files, each 1 byte to 10 MiB, 25 MiB
/// together; a file refused (bad base64, too large, no name) is 422 naming it
/// (`attachments[0].data`) and nothing is written. A body over 34 MiB is 413.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "tickets", params(("id" = String, Path)),
    request_body = MessageInput,
    responses((status = 201, body = Posted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_message(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Posted>), ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    if !has_media_type(&headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|_| ApiError::PayloadTooLarge(MAX_MESSAGE_BODY))?;
    let input: MessageInput = parse_body(&body)?;
    let (ticket, message) = state.store.add_ticket_message(&auth.actor, id, input).await?;
    Ok((StatusCode::CREATED, Json(Posted { ticket, message })))
}

/// Business-hours calendars, by name.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "sla",
    responses((status = 200, body = Items<Calendar>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_calendars(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<Calendar>>, ApiError> {
    Ok(Json(Items { items: state.store.list_calendars().await? }))
}

/// Adds a calendar (admins): a time zone, working periods per weekday and holidays.
#[utoipa::path(post, path = "/api/v1/calendars", tag = "sla", request_body = CalendarInput,
    responses((status = 201, body = Calendar), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_calendar(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CalendarInput>,
) -> Result<Created<Calendar>, ApiError> {
    let calendar = state.store.create_calendar(&auth.actor, input).await?;
    let location = format!("/api/v1/calendars/{}", calendar.id);
    Ok(Created(calendar, location))
}

#[utoipa::path(get, path = "/api/v1/calendars/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 200, body = Calendar), (status = 404, body = ErrorBody)))]
pub async fn get_calendar(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<Calendar>, ApiError> {
    let id: CalendarId = parse_id(&id, "calendar")?;
    Ok(Found(state.store.get_calendar(id).await?))
}

/// Replaces a calendar (admins); the due times of open tickets counted in it move at once.
#[utoipa::path(put, path = "/api/v1/calendars/{id}", tag = "sla", params(("id" = String, Path)), request_body = CalendarInput,
    responses((status = 200, body = Calendar), (status = 403, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<CalendarInput>,
) -> Result<Found<Calendar>, ApiError> {
    let id: CalendarId = parse_id(&id, "calendar")?;
    Ok(Found(state.store.update_calendar(&auth.actor, id, input, version).await?))
}

/// Removes a calendar no policy counts in (admins; 409 while one does).
#[utoipa::path(delete, path = "/api/v1/calendars/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: CalendarId = parse_id(&id, "calendar")?;
    state.store.delete_calendar(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// SLA policies in the order they are tried; the first that matches a ticket applies.
#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "sla",
    responses((status = 200, body = Items<SlaPolicy>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    _auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<SlaPolicy>>, ApiError> {
    Ok(Json(Items { items: state.store.list_sla_policies().await? }))
}

/// Adds a policy (admins); open tickets it now matches take its targets at once.
#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "sla", request_body = SlaPolicyInput,
    responses((status = 201, body = SlaPolicy), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_policy(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<SlaPolicyInput>,
) -> Result<Created<SlaPolicy>, ApiError> {
    let policy = state.store.create_sla_policy(&auth.actor, input).await?;
    let location = format!("/api/v1/sla-policies/{}", policy.id);
    Ok(Created(policy, location))
}

#[utoipa::path(get, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 200, body = SlaPolicy), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> Result<Found<SlaPolicy>, ApiError> {
    let id: SlaPolicyId = parse_id(&id, "SLA policy")?;
    Ok(Found(state.store.get_sla_policy(id).await?))
}

/// Replaces a policy (admins); open tickets' policies and due times are recomputed.
#[utoipa::path(put, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)), request_body = SlaPolicyInput,
    responses((status = 200, body = SlaPolicy), (status = 403, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn replace_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<SlaPolicyInput>,
) -> Result<Found<SlaPolicy>, ApiError> {
    let id: SlaPolicyId = parse_id(&id, "SLA policy")?;
    Ok(Found(state.store.update_sla_policy(&auth.actor, id, input, version).await?))
}

#[utoipa::path(delete, path = "/api/v1/sla-policies/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_policy(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: SlaPolicyId = parse_id(&id, "SLA policy")?;
    state.store.delete_sla_policy(&auth.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What happened to the ticket's response targets: warnings, breaches, and outcomes.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/sla-events", tag = "tickets", params(("id" = String, Path)),
    responses((status = 200, body = Items<SlaEvent>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_sla_events(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Items<SlaEvent>>, ApiError> {
    let id: TicketId = parse_id(&id, "ticket")?;
    Ok(Json(Items { items: state.store.sla_events(&auth.actor, id).await? }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(get_ticket, replace_ticket, patch_ticket, delete_ticket))
        .routes(routes!(ticket_history))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_messages, add_message))
                .layer(DefaultBodyLimit::max(MAX_MESSAGE_BODY)),
        )
        .routes(routes!(list_sla_events))
        .routes(routes!(list_calendars, create_calendar))
        .routes(routes!(get_calendar, replace_calendar, delete_calendar))
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, replace_policy, delete_policy))
}
