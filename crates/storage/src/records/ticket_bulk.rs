//! Changing several tickets at once (the queue's bulk assign and status):
//! each ticket takes the same path a single update does, all in one transaction.

use std::collections::HashMap;

use rapport_domain::Actor;
use rapport_domain::tickets::TicketBulkChange;
use sea_orm::prelude::*;

use crate::entities::tickets;
use crate::records::tickets::{replace_ticket, ticket_from};
use crate::{Result, StorageError, Store};

/// Names the ticket a refusal is about; a failure of the database itself stays as it is.
fn refused(id: Uuid, err: StorageError) -> StorageError {
    match err {
        err @ (StorageError::Database(_) | StorageError::Corrupt(_) | StorageError::Config(_)) => err,
        err => StorageError::Refused { what: "ticket", id, source: Box::new(err) },
    }
}

impl Store {
    /// Sets the assignee and/or status of several tickets, by the rules of
    /// `update_ticket` (who may see and assign each, a closed ticket is
    /// final, the SLA clocks move). All or nothing: when one ticket is
    /// missing or refused, none changes and the error names it. Returns how
    /// many tickets changed.
    pub async fn bulk_update_tickets(&self, actor: &Actor, change: &TicketBulkChange) -> Result<usize> {
        actor.ensure_can_create()?;
        let w = self.begin_write().await?;
        let ids: Vec<Uuid> = change.ids().iter().map(|id| id.0).collect();
        let mut rows: HashMap<Uuid, tickets::Model> = tickets::Entity::find()
            .filter(tickets::Column::Id.is_in(ids))
            .all(&*w)
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        for id in change.ids() {
            let row = rows.remove(&id.0).ok_or_else(|| refused(id.0, StorageError::NotFound("ticket")))?;
            let input = change.apply(ticket_from(row.clone())?.fields);
            replace_ticket(&*w, actor, row, input, None).await.map_err(|err| refused(id.0, err))?;
        }
        w.commit().await?;
        Ok(change.ids().len())
    }
}
