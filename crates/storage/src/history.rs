//! Every create, update, delete, restore and merge of a record, with who,
//! when and each changed field. Writers call `record` inside their own
//! transaction, so history and the change land together or not at all.

use std::collections::HashMap;

use rapport_domain::history::{FieldChange, HistoryAction, HistoryEntry, RecordKind};
use rapport_domain::{Actor, UserId};
use sea_orm::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, Set};

use rapport_domain::records::now;

use crate::common::{from_json, insert_all, parse_with, to_json};
use crate::entities::{record_history, users};
use crate::{Result, Store};

/// Writes one history entry. `actor` is `None` for the system (the purge
/// job); work done as `Actor::system()` (mail taken in, the SLA watcher) is
/// recorded as the system's too.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    kind: RecordKind,
    id: Uuid,
    action: HistoryAction,
    changes: Vec<FieldChange>,
    related: Option<Uuid>,
) -> Result<()> {
    entry(actor, kind, id, action, &changes, related, now()).insert(conn).await?;
    Ok(())
}

fn entry(
    actor: Option<&Actor>,
    kind: RecordKind,
    id: Uuid,
    action: HistoryAction,
    changes: &[FieldChange],
    related: Option<Uuid>,
    at: time::OffsetDateTime,
) -> record_history::ActiveModel {
    record_history::ActiveModel {
        id: Set(Uuid::now_v7()),
        record_type: Set(kind.as_str().to_owned()),
        record_id: Set(id),
        action: Set(action.as_str().to_owned()),
        actor_id: Set(actor.map(|a| a.user_id.0).filter(|id| !id.is_nil())),
        at: Set(at),
        changes: Set(to_json(&changes)),
        related_id: Set(related),
    }
}

/// The names of the given users, for showing who did what.
pub(crate) async fn user_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Name)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

impl Store {
    /// A record's history, newest first. It outlives the record: a deleted
    /// record's history is still there, ending with its deletion.
    pub async fn history(&self, kind: RecordKind, id: Uuid) -> Result<Vec<HistoryEntry>> {
        let rows = record_history::Entity::find()
            .filter(record_history::Column::RecordId.eq(id))
            .filter(record_history::Column::RecordType.eq(kind.as_str()))
            .order_by_desc(record_history::Column::At)
            .order_by_desc(record_history::Column::Id)
            .all(self.conn())
            .await?;
        let names = user_names(self.conn(), rows.iter().filter_map(|row| row.actor_id)).await?;
        rows.into_iter()
            .map(|row| {
                Ok(HistoryEntry {
                    id: row.id,
                    record_type: kind,
                    record_id: row.record_id,
                    action: parse_with(&row.action, "history action", |raw| {
                        HistoryAction::parse(raw).ok_or_else(|| format!("unknown action {raw:?}"))
                    })?,
                    actor_name: row.actor_id.and_then(|actor| names.get(&actor).cloned()),
                    actor_id: row.actor_id.map(UserId),
                    at: row.at,
                    changes: from_json(row.changes, "history changes")?,
                    related_id: row.related_id,
                })
            })
            .collect()
    }
}

/// A record type whose writes are recorded.
pub(crate) trait Recorded {
    const KIND: RecordKind;
    type Fields: serde::Serialize;
    fn record_id(&self) -> Uuid;
    fn fields(&self) -> &Self::Fields;
}

macro_rules! recorded {
    ($($record:ty = $kind:ident, $fields:ty;)*) => {
        $(impl Recorded for $record {
            const KIND: RecordKind = RecordKind::$kind;
            type Fields = $fields;
            fn record_id(&self) -> Uuid {
                self.id.0
            }
            fn fields(&self) -> &$fields {
                &self.fields
            }
        })*
    };
}

use rapport_domain::records::*;
use rapport_domain::tickets::{Ticket, TicketInput};

recorded! {
    Person = People, PersonInput;
    Company = Companies, CompanyInput;
    Deal = Deals, DealInput;
    Activity = Activities, ActivityInput;
    Task = Tasks, TaskInput;
    Purchase = Purchases, PurchaseInput;
    Ticket = Tickets, TicketInput;
}

/// Records a new record's fields; returns it.
pub(crate) async fn created<C: ConnectionTrait, R: Recorded>(conn: &C, actor: &Actor, record: R) -> Result<R> {
    created_all(conn, actor, [&record]).await?;
    Ok(record)
}

/// Records many new records' fields, as `created` does one's, in a few
/// multi-row statements.
pub(crate) async fn created_all<'a, C, R>(
    conn: &C,
    actor: &Actor,
    records: impl IntoIterator<Item = &'a R>,
) -> Result<()>
where
    C: ConnectionTrait,
    R: Recorded + 'a,
{
    insert_all(conn, entries_of(actor, records.into_iter().map(|record| (None, record)))).await
}

/// Records what an update changed; returns the updated record.
pub(crate) async fn updated<C: ConnectionTrait, R: Recorded>(
    conn: &C,
    actor: &Actor,
    before: &R,
    after: R,
) -> Result<R> {
    updated_all(conn, actor, [(before, &after)]).await?;
    Ok(after)
}

/// Records what many updates changed, as `updated` does one's, in a few
/// multi-row statements. An update that changed nothing a client sees
/// leaves no entry.
pub(crate) async fn updated_all<'a, C, R>(
    conn: &C,
    actor: &Actor,
    updates: impl IntoIterator<Item = (&'a R, &'a R)>,
) -> Result<()>
where
    C: ConnectionTrait,
    R: Recorded + 'a,
{
    insert_all(conn, entries_of(actor, updates.into_iter().map(|(before, after)| (Some(before), after)))).await
}

/// One entry per write, each with the fields it changed: a create
/// (nothing before) always has one, an update only when a field changed.
fn entries_of<'a, R: Recorded + 'a>(
    actor: &Actor,
    writes: impl Iterator<Item = (Option<&'a R>, &'a R)>,
) -> Vec<record_history::ActiveModel> {
    let at = now();
    writes
        .filter_map(|(before, after)| {
            let changes = rapport_domain::history::diff(before.map(R::fields), Some(after.fields()));
            let action = if before.is_some() { HistoryAction::Update } else { HistoryAction::Create };
            (before.is_none() || !changes.is_empty())
                .then(|| entry(Some(actor), R::KIND, after.record_id(), action, &changes, None, at))
        })
        .collect()
}
