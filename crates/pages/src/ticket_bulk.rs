//! The queue's bulk change: tick tickets, choose an assignee and/or a
//! status, apply. A plain form (no JavaScript needed); the queue comes back
//! with "Updated N tickets", or again with the ticks kept and why nothing changed.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use rapport_domain::tickets::{TicketBulkChange, TicketBulkInput, TicketStatus};
use rapport_domain::{TicketId, UserId};
use rapport_storage::StorageError;

use super::form::FormData;
use super::tickets::{BulkForm, UNASSIGN, queue_page};
use super::{Signed, WebError, redirect_with_flash};
use rapport_api::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tickets/bulk", post(apply))
}

/// The queue parameters a bulk form may carry back: nothing else gets into the redirect.
const QUEUE_KEYS: [&str; 4] = ["queue", "status", "priority", "cursor"];

/// The queue's query string, from the form's `back` field, keeping only the queue's own parameters.
fn queue_query(raw: &str) -> String {
    let kept = form_urlencoded::parse(raw.trim_start_matches('?').as_bytes())
        .into_owned()
        .filter(|(key, value)| QUEUE_KEYS.contains(&key.as_str()) && !value.is_empty());
    form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

/// The change the form asks for, or why it cannot be made.
fn parse(form: &FormData, ticked: &[String]) -> Result<TicketBulkChange, String> {
    let ids = ticked
        .iter()
        .map(|raw| raw.parse::<TicketId>().map_err(|_| format!("“{raw}” is not a ticket.")))
        .collect::<Result<Vec<_>, _>>()?;
    let assignee_id = match form.get("assignee") {
        "" => None,
        UNASSIGN => Some(None),
        raw => Some(Some(raw.parse::<UserId>().map_err(|_| "The assignee is not a staff member.".to_owned())?)),
    };
    let status = match form.get("status") {
        "" => None,
        raw => Some(TicketStatus::parse(raw).map_err(|message| format!("The status {message}."))?),
    };
    TicketBulkChange::try_from(TicketBulkInput { ids, assignee_id, status }).map_err(|errors| {
        if errors.get("ids").is_some() {
            "Tick the tickets to change first.".to_owned()
        } else {
            "Choose an assignee or a status to apply.".to_owned()
        }
    })
}

/// Applies the form's change to the ticked tickets, all or none.
pub async fn apply(State(state): State<AppState>, signed: Signed, form: FormData) -> Result<Response, WebError> {
    signed.ensure_can_create()?;
    let query = queue_query(form.get("back"));
    let ticked: Vec<String> = form.pairs().filter(|(key, _)| *key == "ids").map(|(_, id)| id.to_owned()).collect();
    let mut bulk = BulkForm {
        assignee: form.get("assignee").to_owned(),
        status: form.get("status").to_owned(),
        ..Default::default()
    };
    match parse(&form, &ticked) {
        Ok(change) => match state.store.bulk_update_tickets(&signed.actor, &change).await {
            Ok(updated) => {
                let target = if query.is_empty() { "/tickets".to_owned() } else { format!("/tickets?{query}") };
                let noun = if updated == 1 { "ticket" } else { "tickets" };
                return Ok(redirect_with_flash(&target, &format!("Updated {updated} {noun}.")));
            }
            Err(StorageError::Refused { id, source, .. }) => {
                bulk.refused = Some((TicketId(id), source.to_string()));
            }
            Err(err) => return Err(err.into()),
        },
        Err(problem) => bulk.problem = Some(problem),
    }
    bulk.ticked = ticked;
    let mut response = queue_page(&state, &signed, Some(&query), bulk).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_queue_parameters_come_back() {
        assert_eq!(queue_query("?queue=mine&status=open&next=//evil.example"), "queue=mine&status=open");
        assert_eq!(queue_query("priority=high&cursor=abc&queue="), "priority=high&cursor=abc");
        assert_eq!(queue_query(""), "");
    }
}
