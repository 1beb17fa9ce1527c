//! Changing many people, companies, deals or tasks at once (the lists' bulk
//! actions): each record takes the path a single update or delete takes
//! (access check, history entry, search text), all in one transaction.
//! A bulk delete makes one trash entry per record, each marked with the
//! batch, so its Undo restores exactly those entries.

use std::collections::HashMap;

use rapport_domain::access::Action;
use rapport_domain::bulk::{BulkChange, DealStage, NoStage};
use rapport_domain::history::{RecordKind, TrashReason};
use rapport_domain::records::{Deal, DealInput, LifecycleStage};
use rapport_domain::{Actor, CompanyId, DealId, PersonId, TaskId};
use sea_orm::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder};

use crate::common::ownership;
use crate::entities::{companies, deals, people, tasks, trash};
use crate::records::companies::{company_from, replace_company};
use crate::records::deals::{deal_from, replace_deals};
use crate::records::people::{PeopleWriter, person_from};
use crate::records::tasks::{replace_task, task_from};
use crate::trash::{Removal, move_to_trash, restore_deleted};
use crate::{Result, StorageError, Store};

/// The key a bulk delete's trash entries carry their batch under (in `detail`).
const BATCH_KEY: &str = "bulk";

/// What a bulk change did.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkDone {
    /// How many records changed (or went to the trash).
    pub changed: usize,
    /// For a delete: the batch its Undo restores (`Store::undo_bulk_delete`).
    pub batch: Option<Uuid>,
}

/// Names the record a refusal is about; a failure of the database itself stays as it is.
fn refused(what: &'static str, id: Uuid, err: StorageError) -> StorageError {
    if err.is_refusal() { StorageError::Refused { what, id, source: Box::new(err) } } else { err }
}

/// Replaces deals together, each `(id, change)` in the order asked with
/// the input `input_of` makes from its row and change. The changes stop
/// at the first deal not among `rows`, which is then refused unless an
/// earlier one is: the first refusal in the order asked is the one named.
async fn replace_deals_in_order<C, Change>(
    conn: &C,
    actor: &Actor,
    mut rows: HashMap<Uuid, deals::Model>,
    changes: impl IntoIterator<Item = (Uuid, Change)>,
    input_of: impl Fn(&deals::Model, Change) -> Result<DealInput>,
) -> Result<Vec<Deal>>
where
    C: ConnectionTrait,
{
    let mut found = Vec::new();
    let mut missing = None;
    for (id, change) in changes {
        let Some(row) = rows.remove(&id) else {
            missing = Some(id);
            break;
        };
        let input = input_of(&row, change).map_err(|err| refused("deal", id, err))?;
        found.push((row, input, None));
    }
    let ids: Vec<Uuid> = found.iter().map(|(row, _, _)| row.id).collect();
    let mut replaced = Vec::with_capacity(ids.len());
    for (id, outcome) in ids.into_iter().zip(replace_deals(conn, actor, found).await?) {
        replaced.push(outcome.map_err(|err| refused("deal", id, err))?);
    }
    match missing {
        Some(id) => Err(refused("deal", id, StorageError::NotFound("deal"))),
        None => Ok(replaced),
    }
}

/// The rows of `ids`, by id, read inside the transaction.
async fn rows_by_id<E, C>(
    conn: &C,
    id_column: E::Column,
    ids: &[Uuid],
    id_of: fn(&E::Model) -> Uuid,
) -> Result<HashMap<Uuid, E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = HashMap::with_capacity(ids.len());
    // In chunks: a statement takes a bounded number of parameters.
    for chunk in ids.chunks(500) {
        for row in E::find().filter(id_column.is_in(chunk.iter().copied())).all(conn).await? {
            rows.insert(id_of(&row), row);
        }
    }
    Ok(rows)
}

/// One record of a bulk delete to the trash, marked with its batch.
struct Trashed {
    kind: RecordKind,
    id: Uuid,
    owner: Option<Uuid>,
    created_by: Option<Uuid>,
    label: String,
}

async fn trash_one<C: ConnectionTrait>(conn: &C, actor: &Actor, record: Trashed, batch: Uuid) -> Result<()> {
    actor.ensure_can(Action::Delete, &ownership(conn, record.owner, record.created_by).await?)?;
    let detail = serde_json::json!({ BATCH_KEY: batch.to_string() });
    let removal =
        Removal { label: record.label, reason: TrashReason::Deleted, merged_into: None, detail: Some(detail) };
    move_to_trash(conn, actor, record.kind, record.id, removal).await?;
    Ok(())
}

fn done(changed: usize, deleted: bool, batch: Uuid) -> BulkDone {
    BulkDone { changed, batch: deleted.then_some(batch) }
}

impl Store {
    /// Applies `change` to each of `ids` by the rules of `update_person` or
    /// `delete_person`. All or nothing: when one person is missing or
    /// refused, none changes and the error names them.
    pub async fn bulk_people(
        &self,
        actor: &Actor,
        ids: &[PersonId],
        change: &BulkChange<LifecycleStage>,
    ) -> Result<BulkDone> {
        let w = self.begin_write().await?;
        let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let mut rows = rows_by_id::<people::Entity, _>(&*w, people::Column::Id, &raw, |r| r.id).await?;
        let mut found = Vec::with_capacity(raw.len());
        for id in raw.iter().copied() {
            let row = rows.remove(&id).ok_or_else(|| refused("person", id, StorageError::NotFound("person")))?;
            found.push(row);
        }
        let batch = Uuid::now_v7();
        if let BulkChange::Delete = change {
            for row in found {
                let id = row.id;
                let label = [Some(row.first_name.as_str()), row.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let record =
                    Trashed { kind: RecordKind::People, id, owner: row.owner_id, created_by: row.created_by, label };
                trash_one(&*w, actor, record, batch).await.map_err(|err| refused("person", id, err))?;
            }
        } else {
            let mut inputs = Vec::with_capacity(found.len());
            for row in &found {
                let person = person_from(row.clone()).map_err(|err| refused("person", row.id, err))?;
                inputs.push(change.apply_to_person(person.fields));
            }
            let mut writer = PeopleWriter::read(&*w, &inputs).await?;
            for (row, input) in found.into_iter().zip(inputs) {
                let id = row.id;
                writer.replace(&*w, actor, row, input, None).await.map_err(|err| refused("person", id, err))?;
            }
        }
        w.commit().await?;
        Ok(done(raw.len(), matches!(change, BulkChange::Delete), batch))
    }

    /// Applies `change` to each of `ids` by the rules of `update_company`
    /// or `delete_company`, all or nothing.
    pub async fn bulk_companies(
        &self,
        actor: &Actor,
        ids: &[CompanyId],
        change: &BulkChange<NoStage>,
    ) -> Result<BulkDone> {
        let w = self.begin_write().await?;
        let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let mut rows = rows_by_id::<companies::Entity, _>(&*w, companies::Column::Id, &raw, |r| r.id).await?;
        let batch = Uuid::now_v7();
        for id in raw.iter().copied() {
            let row = rows.remove(&id).ok_or_else(|| refused("company", id, StorageError::NotFound("company")))?;
            let result = match change {
                BulkChange::Delete => {
                    let record = Trashed {
                        kind: RecordKind::Companies,
                        id,
                        owner: row.owner_id,
                        created_by: row.created_by,
                        label: row.name.clone(),
                    };
                    trash_one(&*w, actor, record, batch).await
                }
                change => match company_from(row.clone()) {
                    Ok(company) => {
                        let input = change.apply_to_company(company.fields);
                        replace_company(&*w, actor, row, input, None).await.map(drop)
                    }
                    Err(err) => Err(err),
                },
            };
            result.map_err(|err| refused("company", id, err))?;
        }
        w.commit().await?;
        Ok(done(raw.len(), matches!(change, BulkChange::Delete), batch))
    }

    /// Applies `change` to each of `ids` by the rules of `update_deal` or
    /// `delete_deal` (a stage must be one of the deal's own pipeline), all
    /// or nothing.
    pub async fn bulk_deals(&self, actor: &Actor, ids: &[DealId], change: &BulkChange<DealStage>) -> Result<BulkDone> {
        let w = self.begin_write().await?;
        let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let mut rows = rows_by_id::<deals::Entity, _>(&*w, deals::Column::Id, &raw, |r| r.id).await?;
        let batch = Uuid::now_v7();
        if let BulkChange::Delete = change {
            for id in raw.iter().copied() {
                let row = rows.remove(&id).ok_or_else(|| refused("deal", id, StorageError::NotFound("deal")))?;
                let record = Trashed {
                    kind: RecordKind::Deals,
                    id,
                    owner: row.owner_id,
                    created_by: row.created_by,
                    label: row.name.clone(),
                };
                trash_one(&*w, actor, record, batch).await.map_err(|err| refused("deal", id, err))?;
            }
        } else {
            let changes = raw.iter().map(|id| (*id, ()));
            replace_deals_in_order(&*w, actor, rows, changes, |row, ()| {
                Ok(change.apply_to_deal(deal_from(row.clone())?.fields))
            })
            .await?;
        }
        w.commit().await?;
        Ok(done(raw.len(), matches!(change, BulkChange::Delete), batch))
    }

    /// Replaces each deal's fields with its input by the rules of
    /// `update_deal`, in one transaction: all or nothing, a refusal naming
    /// its deal (one named twice is not found the second time). For many
    /// changes at once (`rapport demo` moves thousands of deals along their
    /// stages), where a transaction each costs a commit each.
    pub async fn update_deals(&self, actor: &Actor, changes: Vec<(DealId, DealInput)>) -> Result<Vec<Deal>> {
        let w = self.begin_write().await?;
        let raw: Vec<Uuid> = changes.iter().map(|(id, _)| id.0).collect();
        let rows = rows_by_id::<deals::Entity, _>(&*w, deals::Column::Id, &raw, |r| r.id).await?;
        let changes = changes.into_iter().map(|(id, input)| (id.0, input));
        let updated = replace_deals_in_order(&*w, actor, rows, changes, |_, input| Ok(input)).await?;
        w.commit().await?;
        Ok(updated)
    }

    /// Applies `change` (assignee or delete) to each of `ids` by the rules
    /// of `update_task` or `delete_task`, all or nothing.
    pub async fn bulk_tasks(&self, actor: &Actor, ids: &[TaskId], change: &BulkChange<NoStage>) -> Result<BulkDone> {
        let w = self.begin_write().await?;
        let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        let mut rows = rows_by_id::<tasks::Entity, _>(&*w, tasks::Column::Id, &raw, |r| r.id).await?;
        let batch = Uuid::now_v7();
        for id in raw.iter().copied() {
            let row = rows.remove(&id).ok_or_else(|| refused("task", id, StorageError::NotFound("task")))?;
            let result = match change {
                BulkChange::Delete => {
                    let record = Trashed {
                        kind: RecordKind::Tasks,
                        id,
                        owner: row.assignee_id,
                        created_by: row.created_by,
                        label: row.title.clone(),
                    };
                    trash_one(&*w, actor, record, batch).await
                }
                change => match task_from(row.clone()) {
                    Ok(task) => {
                        let input = change.apply_to_task(task.fields);
                        replace_task(&*w, actor, row, input, None).await.map(drop)
                    }
                    Err(err) => Err(err),
                },
            };
            result.map_err(|err| refused("task", id, err))?;
        }
        w.commit().await?;
        Ok(done(raw.len(), matches!(change, BulkChange::Delete), batch))
    }

    /// Restores every record a bulk delete of `actor`'s moved to the trash
    /// (its `batch`), all or nothing; returns their kind and how many.
    /// Entries already restored or purged are gone; when none is left, "not found".
    pub async fn undo_bulk_delete(&self, actor: &Actor, batch: Uuid) -> Result<(RecordKind, usize)> {
        let w = self.begin_write().await?;
        // The batch id is a v7 UUID: its time bounds the entries' (made after it).
        let (seconds, nanos) = batch.get_timestamp().ok_or_else(|| StorageError::NotFound("bulk delete"))?.to_unix();
        let made = time::OffsetDateTime::from_unix_timestamp(seconds as i64)
            .map_err(|_| StorageError::NotFound("bulk delete"))?
            + time::Duration::nanoseconds(i64::from(nanos))
            - time::Duration::seconds(1);
        let wanted = batch.to_string();
        let entries: Vec<trash::Model> = trash::Entity::find()
            .filter(trash::Column::DeletedBy.eq(actor.user_id.0))
            .filter(trash::Column::DeletedAt.gte(made))
            .order_by_asc(trash::Column::Id)
            .all(&*w)
            .await?
            .into_iter()
            .filter(|entry| {
                entry.detail.as_ref().and_then(|d| d.get(BATCH_KEY)).and_then(|b| b.as_str()) == Some(wanted.as_str())
            })
            .collect();
        if entries.is_empty() {
            return Err(StorageError::NotFound("bulk delete"));
        }
        let count = entries.len();
        let mut kind = RecordKind::People;
        for entry in entries {
            let id = entry.record_id;
            kind = RecordKind::parse(&entry.record_type).map_err(StorageError::Corrupt)?;
            restore_deleted(&*w, actor, entry).await.map_err(|err| refused(kind.singular(), id, err))?;
        }
        w.commit().await?;
        Ok((kind, count))
    }
}
