//! The trash: deleting a record moves it, and every row its deletion takes
//! with it, into one JSON snapshot in the `trash` table; a restore puts those
//! rows back. The live tables hold live records only, so no query anywhere
//! has to remember to leave deleted ones out. The purge job removes entries
//! older than the retention period for good.
//!
//! What a deletion takes with it follows the schema's foreign keys:
//! cascaded rows (a person's activities, purchases and contact points) are
//! copied into the snapshot; rows that only pointed at the record (a deal's
//! person, a task's company) are unlinked by the database, and the snapshot
//! remembers them so a restore links them again. A ticket takes its
//! conversation, attachments, outgoing mail and SLA events with it; a person
//! who asked tickets is not deleted (nor merged away) from under them.

use rapport_domain::access::Action;
use rapport_domain::history::{HistoryAction, RecordKind, TrashEntry, TrashReason};
use rapport_domain::mail::OutboxStatus;
use rapport_domain::records::now;
use rapport_domain::tickets::TicketReach;
use rapport_domain::{Actor, TeamId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Alias, ExprTrait, Query};
use sea_orm::{Condition, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use time::{Duration, OffsetDateTime};

use crate::archive::{ArchiveError, reinsert, row_json};
use crate::common::{ByKey, from_json, ownership, parse_with, to_json};
use crate::entities::{
    activities, companies, contact_points, custom_field_values, deals, outbox, people, purchases, record_tags,
    sla_events, survey_answers, survey_sends, tasks, ticket_attachments, ticket_messages, tickets, trash,
};
use crate::history::{record, user_names};
use crate::records::customer_insights::bump_insights_version;
use crate::records::people::{refresh_company_people, refresh_last_contacted};
use crate::{Result, StorageError, Store};

/// Rows deleted with a record of each kind: (table, column pointing at it).
fn cascaded(kind: RecordKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        RecordKind::People => {
            // Survey links before the answers that point at them.
            &[
                ("contact_points", "person_id"),
                ("activities", "person_id"),
                ("purchases", "person_id"),
                ("survey_sends", "person_id"),
                ("survey_answers", "person_id"),
            ]
        }
        RecordKind::Companies => &[("activities", "company_id")],
        RecordKind::Deals => &[("activities", "deal_id")],
        // Messages before what points at them (attachments, outgoing mail).
        RecordKind::Tickets => &[
            ("ticket_messages", "ticket_id"),
            ("ticket_attachments", "ticket_id"),
            ("outbox", "ticket_id"),
            ("sla_events", "ticket_id"),
        ],
        RecordKind::Activities | RecordKind::Tasks | RecordKind::Purchases => &[],
    }
}

/// Rows that stay but are unlinked from a deleted record of each kind.
fn unlinked(kind: RecordKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        RecordKind::People => &[
            ("people", "referred_by_id"),
            ("deals", "person_id"),
            ("tasks", "person_id"),
            // Messages they wrote on tickets someone else now asks.
            ("ticket_messages", "person_id"),
        ],
        RecordKind::Companies => {
            &[("people", "company_id"), ("deals", "company_id"), ("tasks", "company_id"), ("tickets", "company_id")]
        }
        RecordKind::Deals => &[("tasks", "deal_id"), ("survey_sends", "deal_id"), ("survey_answers", "deal_id")],
        RecordKind::Tickets => &[("survey_sends", "ticket_id"), ("survey_answers", "ticket_id")],
        RecordKind::Tasks => &[("survey_answers", "follow_up_task_id")],
        // `mail_received` (keyed by message, not by id) only notes which
        // ticket a message went to; its link is cleared and stays so.
        RecordKind::Activities | RecordKind::Purchases => &[],
    }
}

/// The links a restored row may carry: (table, column, target table,
/// whether the row cannot exist without it). A link whose target is gone by
/// the time of the restore is cleared, or the row left out when required.
const LINKS: &[(&str, &str, &str, bool)] = &[
    ("people", "company_id", "companies", false),
    ("people", "owner_id", "users", false),
    ("people", "referred_by_id", "people", false),
    ("companies", "owner_id", "users", false),
    ("deals", "pipeline_id", "pipelines", true),
    ("deals", "stage_id", "stages", true),
    ("deals", "person_id", "people", false),
    ("deals", "company_id", "companies", false),
    ("deals", "owner_id", "users", false),
    ("activities", "author_id", "users", false),
    ("activities", "person_id", "people", false),
    ("activities", "company_id", "companies", false),
    ("activities", "deal_id", "deals", false),
    ("tasks", "assignee_id", "users", false),
    ("tasks", "person_id", "people", false),
    ("tasks", "company_id", "companies", false),
    ("tasks", "deal_id", "deals", false),
    ("purchases", "person_id", "people", true),
    ("tickets", "requester_id", "people", true),
    ("tickets", "company_id", "companies", false),
    ("tickets", "assignee_id", "users", false),
    ("tickets", "team_id", "teams", false),
    ("tickets", "sla_policy_id", "sla_policies", false),
    ("ticket_messages", "author_id", "users", false),
    ("ticket_messages", "person_id", "people", false),
    ("ticket_attachments", "message_id", "ticket_messages", true),
    ("outbox", "message_id", "ticket_messages", false),
    ("survey_sends", "survey_id", "surveys", true),
    ("survey_sends", "person_id", "people", true),
    ("survey_sends", "ticket_id", "tickets", false),
    ("survey_sends", "deal_id", "deals", false),
    ("survey_sends", "staff_id", "users", false),
    ("survey_sends", "outbox_id", "outbox", false),
    ("survey_answers", "survey_id", "surveys", true),
    ("survey_answers", "send_id", "survey_sends", false),
    ("survey_answers", "person_id", "people", true),
    ("survey_answers", "ticket_id", "tickets", false),
    ("survey_answers", "deal_id", "deals", false),
    ("survey_answers", "staff_id", "users", false),
    ("survey_answers", "follow_up_task_id", "tasks", false),
];

fn table_of(kind: RecordKind) -> &'static str {
    kind.as_str()
}

/// What a trash entry holds: the rows to put back, parents first, and the
/// rows to link again.
#[derive(Default, Serialize, Deserialize)]
struct Snapshot {
    tables: Vec<(String, Vec<Map<String, Json>>)>,
    links: Vec<Relink>,
}

#[derive(Serialize, Deserialize)]
struct Relink {
    table: String,
    column: String,
    ids: Vec<Uuid>,
}

impl Snapshot {
    fn attached(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows.len() as u64).sum::<u64>().saturating_sub(1)
    }
}

/// The rows of `table` matching `condition`, as JSON objects.
async fn rows_where<C: ConnectionTrait>(conn: &C, table: &str, condition: Condition) -> Result<Vec<Map<String, Json>>> {
    async fn read<E: EntityTrait, C: ConnectionTrait>(
        conn: &C,
        condition: Condition,
    ) -> Result<Vec<Map<String, Json>>> {
        E::find().filter(condition).all(conn).await?.iter().map(row_json::<E>).collect()
    }
    match table {
        "people" => read::<people::Entity, _>(conn, condition).await,
        "companies" => read::<companies::Entity, _>(conn, condition).await,
        "deals" => read::<deals::Entity, _>(conn, condition).await,
        "activities" => read::<activities::Entity, _>(conn, condition).await,
        "tasks" => read::<tasks::Entity, _>(conn, condition).await,
        "purchases" => read::<purchases::Entity, _>(conn, condition).await,
        "tickets" => read::<tickets::Entity, _>(conn, condition).await,
        "ticket_messages" => read::<ticket_messages::Entity, _>(conn, condition).await,
        "ticket_attachments" => read::<ticket_attachments::Entity, _>(conn, condition).await,
        "outbox" => read::<outbox::Entity, _>(conn, condition).await,
        "sla_events" => read::<sla_events::Entity, _>(conn, condition).await,
        "survey_sends" => read::<survey_sends::Entity, _>(conn, condition).await,
        "survey_answers" => read::<survey_answers::Entity, _>(conn, condition).await,
        "contact_points" => read::<contact_points::Entity, _>(conn, condition).await,
        "record_tags" => read::<record_tags::Entity, _>(conn, condition).await,
        "custom_field_values" => read::<custom_field_values::Entity, _>(conn, condition).await,
        other => Err(StorageError::Corrupt(format!("the trash does not keep table {other}"))),
    }
}

fn column_is(column: &str, value: impl Into<sea_orm::Value>) -> Condition {
    Condition::all().add(Expr::col(Alias::new(column)).eq(value.into()))
}

/// The record and everything its deletion would take or unlink, read inside
/// the deleting transaction.
async fn capture<C: ConnectionTrait>(conn: &C, kind: RecordKind, id: Uuid) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let record = rows_where(conn, table_of(kind), column_is("id", id)).await?;
    if record.is_empty() {
        return Err(StorageError::NotFound(kind.singular()));
    }
    snapshot.tables.push((table_of(kind).to_owned(), record));
    for &(table, column) in cascaded(kind) {
        let rows = rows_where(conn, table, column_is(column, id)).await?;
        if !rows.is_empty() {
            snapshot.tables.push((table.to_owned(), rows));
        }
    }
    // Tags and custom values are keyed by type and id, not by a foreign key.
    if let Some(entity) = kind.custom_fields() {
        for table in ["record_tags", "custom_field_values"] {
            let condition = column_is("entity_type", entity.as_str()).add(Expr::col(Alias::new("entity_id")).eq(id));
            let rows = rows_where(conn, table, condition).await?;
            if !rows.is_empty() {
                snapshot.tables.push((table.to_owned(), rows));
            }
        }
    }
    for &(table, column) in unlinked(kind) {
        let query = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).eq(id))
            .to_owned();
        let ids = conn
            .query_all(&query)
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect::<Result<Vec<_>, _>>()?;
        if !ids.is_empty() {
            snapshot.links.push(Relink { table: table.to_owned(), column: column.to_owned(), ids });
        }
    }
    Ok(snapshot)
}

/// Why and how a record leaves for the trash.
pub(crate) struct Removal {
    /// What the trash page calls it.
    pub label: String,
    pub reason: TrashReason,
    pub merged_into: Option<Uuid>,
    /// What undoing a merge needs; kept as it is. (A deleted ticket's
    /// entry keeps who may see it there, written by `move_to_trash`.)
    pub detail: Option<Json>,
}

/// Who may see a trashed ticket, kept in its entry's detail so the trash
/// list need not read the snapshot.
#[derive(Serialize, Deserialize)]
struct TicketDetail {
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
}

impl From<TicketDetail> for TicketReach {
    fn from(detail: TicketDetail) -> Self {
        TicketReach { assignee_id: detail.assignee_id.map(UserId), team_id: detail.team_id.map(TeamId) }
    }
}

/// A person who asked tickets stays: the tickets cannot be without them.
async fn refuse_requester<C: ConnectionTrait>(conn: &C, person: Uuid) -> Result<()> {
    let asked = tickets::Entity::find().filter(tickets::Column::RequesterId.eq(person)).count(conn).await?;
    match asked {
        0 => Ok(()),
        1 => Err(StorageError::Conflict(
            "this person asked a ticket: delete the ticket, or give it another requester, first".into(),
        )),
        n => Err(StorageError::Conflict(format!(
            "this person asked {n} tickets: delete those, or give them another requester, first"
        ))),
    }
}

/// Moves a record, and every row its deletion takes, into the trash, and
/// records the deletion (or merge) in its history. The caller has checked
/// that `actor` may delete it. Returns the trash entry's id.
pub(crate) async fn move_to_trash<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: RecordKind,
    id: Uuid,
    mut removal: Removal,
) -> Result<Uuid> {
    if kind == RecordKind::People {
        refuse_requester(conn, id).await?;
    }
    let snapshot = capture(conn, kind, id).await?;
    if kind == RecordKind::Tickets && removal.detail.is_none() {
        let row = snapshot.tables.first().and_then(|(_, rows)| rows.first());
        let uuid = |column: &str| row.and_then(|row| row.get(column)?.as_str()?.parse::<Uuid>().ok());
        removal.detail = Some(to_json(&TicketDetail { assignee_id: uuid("assignee_id"), team_id: uuid("team_id") }));
    }
    let contacted = contacted_people(kind, &snapshot);
    if kind == RecordKind::Companies {
        // Its people are no longer found by its name.
        refresh_company_people(conn, id, None).await?;
    }
    if let Some(entity) = kind.custom_fields() {
        crate::common::delete_index_rows(conn, entity, id).await?;
    }
    let delete =
        Query::delete().from_table(Alias::new(table_of(kind))).and_where(Expr::col(Alias::new("id")).eq(id)).to_owned();
    conn.execute(&delete).await?;
    after_change(conn, kind, &snapshot, contacted).await?;
    let entry = Uuid::now_v7();
    trash::ActiveModel {
        id: Set(entry),
        record_type: Set(kind.as_str().to_owned()),
        record_id: Set(id),
        label: Set(removal.label),
        reason: Set(removal.reason.as_str().to_owned()),
        merged_into: Set(removal.merged_into),
        deleted_by: Set(Some(actor.user_id.0)),
        deleted_at: Set(now()),
        attached: Set(snapshot.attached() as i64),
        snapshot: Set(to_json(&snapshot)),
        detail: Set(removal.detail),
    }
    .insert(conn)
    .await?;
    let action = match removal.reason {
        TrashReason::Deleted => HistoryAction::Delete,
        TrashReason::Merged => HistoryAction::Merge,
    };
    record(conn, Some(actor), kind, id, action, Vec::new(), removal.merged_into).await?;
    Ok(entry)
}

/// The people whose last contact may move when these rows come or go.
fn contacted_people(kind: RecordKind, snapshot: &Snapshot) -> Vec<Uuid> {
    let mut people: Vec<Uuid> = snapshot
        .tables
        .iter()
        .filter(|(table, _)| table == "activities")
        .flat_map(|(_, rows)| rows.iter().filter_map(|row| row.get("person_id")?.as_str()?.parse().ok()))
        .collect();
    if kind == RecordKind::People {
        // The person's own activities come and go with them.
        people.clear();
    }
    people.sort_unstable();
    people.dedup();
    people
}

/// Keeps derived data right after rows left or came back: last contact
/// dates, and the insights job's data version.
async fn after_change<C: ConnectionTrait>(
    conn: &C,
    kind: RecordKind,
    snapshot: &Snapshot,
    contacted: Vec<Uuid>,
) -> Result<()> {
    for person in contacted {
        if people::Entity::find_by_id(person).by_key(conn).await?.is_some() {
            refresh_last_contacted(conn, person).await?;
        }
    }
    let purchases = snapshot.tables.iter().any(|(table, _)| table == "purchases");
    if kind == RecordKind::People || purchases {
        bump_insights_version(conn).await?;
    }
    Ok(())
}

/// Puts a trash entry's rows back and removes the entry. Links whose target
/// has gone since are cleared (a row that cannot exist without its link is
/// left out), and rows that were unlinked by the deletion are linked again
/// unless they have been linked elsewhere meanwhile.
pub(crate) async fn restore_entry<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: trash::Model,
    action: HistoryAction,
) -> Result<()> {
    let kind = parse_kind(&entry.record_type)?;
    let snapshot: Snapshot = from_json(entry.snapshot, "trash snapshot")?;
    let mut present = std::collections::HashMap::new();
    for (table, rows) in &snapshot.tables {
        let mut kept = Vec::with_capacity(rows.len());
        'rows: for row in rows {
            let mut row = row.clone();
            for &(_, column, target, required) in LINKS.iter().filter(|(t, ..)| t == table) {
                let Some(link) = row.get(column).and_then(Json::as_str).and_then(|s| s.parse::<Uuid>().ok()) else {
                    continue;
                };
                let key = (target.to_owned(), link);
                let exists = match present.get(&key) {
                    Some(&exists) => exists,
                    None => {
                        let query = Query::select()
                            .expr(Expr::val(1))
                            .from(Alias::new(target))
                            .and_where(Expr::col(Alias::new("id")).eq(link))
                            .to_owned();
                        let exists = conn.query_one(&query).await?.is_some();
                        present.insert(key, exists);
                        exists
                    }
                };
                if !exists {
                    if required {
                        if table == table_of(kind) {
                            return Err(StorageError::Conflict(format!(
                                "this {} cannot come back: its {} was deleted since",
                                kind.singular(),
                                column.trim_end_matches("_id")
                            )));
                        }
                        continue 'rows;
                    }
                    row.insert(column.to_owned(), Json::Null);
                }
            }
            kept.push(row);
        }
        // Later rows may point at these (a restored person's activities).
        for id in kept.iter().filter_map(|row| row.get("id")?.as_str()?.parse::<Uuid>().ok()) {
            present.insert((table.clone(), id), true);
        }
        reinsert(conn, table, kept).await.map_err(|err| match err {
            ArchiveError::Storage(err) => err,
            other => StorageError::Corrupt(other.to_string()),
        })?;
    }
    let id = entry.record_id;
    for relink in &snapshot.links {
        let update = Query::update()
            .table(Alias::new(relink.table.as_str()))
            .value(Alias::new(relink.column.as_str()), id)
            .and_where(Expr::col(Alias::new("id")).is_in(relink.ids.iter().copied()))
            .and_where(Expr::col(Alias::new(relink.column.as_str())).is_null())
            .to_owned();
        conn.execute(&update).await?;
    }
    if kind == RecordKind::Companies {
        let name = companies::Entity::find_by_id(id).by_key(conn).await?.map(|c| c.name);
        refresh_company_people(conn, id, name.as_deref()).await?;
    }
    // Replies still waiting to go out when the ticket was deleted go now:
    // their send job found nothing while it was in the trash.
    for (_, rows) in snapshot.tables.iter().filter(|(table, _)| table == "outbox") {
        for row in
            rows.iter().filter(|row| row.get("status").and_then(Json::as_str) == Some(OutboxStatus::Queued.as_str()))
        {
            if let Some(outbox) = row.get("id").and_then(Json::as_str).and_then(|s| s.parse::<Uuid>().ok()) {
                crate::mail::enqueue_send(conn, rapport_domain::OutboxId(outbox)).await?;
            }
        }
    }
    after_change(conn, kind, &snapshot, contacted_people(kind, &snapshot)).await?;
    trash::Entity::delete_by_id(entry.id).exec(conn).await?;
    record(conn, Some(actor), kind, id, action, Vec::new(), entry.merged_into).await
}

fn parse_kind(raw: &str) -> Result<RecordKind> {
    parse_with(raw, "trash record type", RecordKind::parse)
}

/// A trash entry, read inside the caller's transaction.
pub(crate) async fn entry<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<trash::Model> {
    trash::Entity::find_by_id(id).by_key(conn).await?.ok_or(StorageError::NotFound("trash entry"))
}

/// Restores a deleted (not merged) record inside the caller's transaction,
/// when `actor` may delete it.
pub(crate) async fn restore_deleted<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    entry: trash::Model,
) -> Result<(RecordKind, Uuid)> {
    if entry.record_type == RecordKind::Tickets.as_str() && !actor.can_see_ticket(trashed_ticket_reach(&entry)?) {
        return Err(StorageError::NotFound("trash entry"));
    }
    actor.ensure_can(Action::Delete, &owner_of(conn, &entry).await?)?;
    if entry.reason != TrashReason::Deleted.as_str() {
        return Err(StorageError::Conflict("this record was merged into another: undo the merge instead".into()));
    }
    let restored = (parse_kind(&entry.record_type)?, entry.record_id);
    restore_entry(conn, actor, entry, HistoryAction::Restore).await?;
    Ok(restored)
}

/// Who a trashed record belonged to, for the permission to restore it.
async fn owner_of<C: ConnectionTrait>(conn: &C, entry: &trash::Model) -> Result<rapport_domain::Ownership> {
    let kind = parse_kind(&entry.record_type)?;
    let snapshot: Snapshot = from_json(entry.snapshot.clone(), "trash snapshot")?;
    let row = snapshot.tables.first().and_then(|(_, rows)| rows.first()).cloned().unwrap_or_default();
    let uuid = |column: &str| row.get(column).and_then(Json::as_str).and_then(|s| s.parse::<Uuid>().ok());
    if kind == RecordKind::Tickets {
        let reach = TicketReach { assignee_id: uuid("assignee_id").map(UserId), team_id: uuid("team_id").map(TeamId) };
        return Ok(reach.ownership(uuid("created_by").map(UserId)));
    }
    let owner = match kind {
        RecordKind::People | RecordKind::Companies | RecordKind::Deals => uuid("owner_id"),
        RecordKind::Activities => uuid("author_id"),
        RecordKind::Tasks => uuid("assignee_id"),
        // A purchase is its customer's owner's.
        RecordKind::Purchases => match uuid("person_id") {
            Some(person) => people::Entity::find_by_id(person).by_key(conn).await?.and_then(|p| p.owner_id),
            None => None,
        },
        RecordKind::Tickets => unreachable!("answered above"),
    };
    ownership(conn, owner, uuid("created_by")).await
}

/// Who may see a trashed ticket: as it was assigned when deleted.
pub(crate) fn trashed_ticket_reach(entry: &trash::Model) -> Result<TicketReach> {
    if let Some(detail) = &entry.detail {
        let detail: TicketDetail = from_json(detail.clone(), "trashed ticket detail")?;
        return Ok(detail.into());
    }
    let snapshot: Snapshot = from_json(entry.snapshot.clone(), "trash snapshot")?;
    let row = snapshot.tables.first().and_then(|(_, rows)| rows.first());
    let uuid = |column: &str| row.and_then(|row| row.get(column)?.as_str()?.parse::<Uuid>().ok());
    Ok(TicketReach { assignee_id: uuid("assignee_id").map(UserId), team_id: uuid("team_id").map(TeamId) })
}

impl Store {
    /// The trash as `actor` may see it: like `list_trash`, without the
    /// tickets an agent or viewer could not see (another team's).
    pub async fn list_trash_for(
        &self,
        actor: &Actor,
        kind: Option<RecordKind>,
        retention: Duration,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<TrashEntry>> {
        if actor.ensure_can_see_everyone().is_ok() || matches!(kind, Some(k) if k != RecordKind::Tickets) {
            return self.list_trash(kind, retention, after, limit).await;
        }
        let mut shown = Vec::new();
        let mut after = after;
        loop {
            let page = self.list_trash(kind, retention, after, limit).await?;
            let last_page = (page.len() as u64) < limit;
            after = page.last().map(|entry| entry.id);
            for entry in page {
                if entry.record_type == RecordKind::Tickets {
                    let reach = match trash::Entity::find_by_id(entry.id)
                        .select_only()
                        .column(trash::Column::Detail)
                        .into_tuple::<Option<Json>>()
                        .one(self.conn())
                        .await?
                    {
                        Some(Some(detail)) => from_json::<TicketDetail>(detail, "trashed ticket detail")?.into(),
                        // Gone meanwhile, or written without its detail.
                        Some(None) => trashed_ticket_reach(&crate::trash::entry(self.conn(), entry.id).await?)?,
                        None => continue,
                    };
                    if !actor.can_see_ticket(reach) {
                        continue;
                    }
                }
                shown.push(entry);
                if shown.len() as u64 == limit {
                    return Ok(shown);
                }
            }
            if last_page {
                return Ok(shown);
            }
        }
    }

    /// What is in the trash, newest first, `limit` at a time after the
    /// entry `after` (the last one of the previous page).
    pub async fn list_trash(
        &self,
        kind: Option<RecordKind>,
        retention: Duration,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<TrashEntry>> {
        let mut select = trash::Entity::find()
            .select_only()
            .columns([
                trash::Column::Id,
                trash::Column::RecordType,
                trash::Column::RecordId,
                trash::Column::Label,
                trash::Column::Reason,
                trash::Column::MergedInto,
                trash::Column::DeletedBy,
                trash::Column::DeletedAt,
                trash::Column::Attached,
            ])
            .order_by_desc(trash::Column::Id)
            .limit(limit);
        if let Some(kind) = kind {
            select = select.filter(trash::Column::RecordType.eq(kind.as_str()));
        }
        if let Some(after) = after {
            select = select.filter(trash::Column::Id.lt(after));
        }
        type Row = (Uuid, String, Uuid, String, String, Option<Uuid>, Option<Uuid>, OffsetDateTime, i64);
        let rows: Vec<Row> = select.into_tuple().all(self.conn()).await?;
        let names = user_names(self.conn(), rows.iter().filter_map(|row| row.6)).await?;
        rows.into_iter()
            .map(|(id, record_type, record_id, label, reason, merged_into, deleted_by, deleted_at, attached)| {
                Ok(TrashEntry {
                    id,
                    record_type: parse_kind(&record_type)?,
                    record_id,
                    label,
                    reason: parse_with(&reason, "trash reason", |raw| {
                        TrashReason::parse(raw).ok_or_else(|| format!("unknown reason {raw:?}"))
                    })?,
                    merged_into,
                    deleted_by_name: deleted_by.and_then(|user| names.get(&user).cloned()),
                    deleted_by: deleted_by.map(UserId),
                    deleted_at,
                    purge_after: deleted_at + retention,
                    attached: attached as u64,
                })
            })
            .collect()
    }

    /// Puts a deleted record back, with everything deleted with it. A merged
    /// record comes back only by undoing its merge.
    pub async fn restore_from_trash(&self, actor: &Actor, id: Uuid) -> Result<(RecordKind, Uuid)> {
        let w = self.begin_write().await?;
        let entry = entry(&*w, id).await?;
        let restored = restore_deleted(&*w, actor, entry).await?;
        w.commit().await?;
        Ok(restored)
    }

    /// Removes for good what was deleted before `before`; returns how many entries.
    pub async fn purge_trash(&self, before: OffsetDateTime) -> Result<u64> {
        let w = self.begin_write().await?;
        let purged = trash::Entity::delete_many().filter(trash::Column::DeletedAt.lt(before)).exec(&*w).await?;
        w.commit().await?;
        Ok(purged.rows_affected)
    }
}
