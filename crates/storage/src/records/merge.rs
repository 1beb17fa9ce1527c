//! Merging two people (or two companies) into one, and undoing it. In one
//! transaction: everything attached to the other record moves to the
//! survivor, the other goes to the trash (reason "merged", with what undo
//! needs in its detail), the survivor takes the chosen fields, and its
//! history gets a `merge` entry. Undo reverses each step, refusing when the
//! survivor changed since.

use rapport_domain::access::Action;
use rapport_domain::duplicates::DuplicateKind;
use rapport_domain::history::{HistoryAction, RecordKind, TrashReason, diff};
use rapport_domain::merge::{FieldChoices, merge_fields};
use rapport_domain::records::{Company, CompanyInput, Person, PersonInput};
use rapport_domain::{Actor, CompanyId, FieldErrors, PersonId};
use sea_orm::ConnectionTrait;
use sea_orm::prelude::*;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde::{Deserialize, Serialize};

use super::companies::{company_from, write_company};
use super::customer_insights::bump_insights_version;
use super::people::{person_from, refresh_company_people, refresh_last_contacted, write_person};
use crate::common::{ByKey, check_version, from_json, ownership, to_json};
use crate::entities::{companies, people};
use crate::history::record;
use crate::trash::{Removal, entry, move_to_trash, restore_entry};
use crate::{Result, StorageError, Store};

/// The rows that point at a record of each kind and move with a merge: (table, column).
fn attached(kind: DuplicateKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        DuplicateKind::People => &[
            ("activities", "person_id"),
            ("tasks", "person_id"),
            ("deals", "person_id"),
            ("purchases", "person_id"),
            ("people", "referred_by_id"),
            ("tickets", "requester_id"),
            ("ticket_messages", "person_id"),
        ],
        DuplicateKind::Companies => &[
            ("people", "company_id"),
            ("deals", "company_id"),
            ("activities", "company_id"),
            ("tasks", "company_id"),
            ("tickets", "company_id"),
        ],
    }
}

/// What undoing a merge needs, kept in the other record's trash entry.
#[derive(Serialize, Deserialize)]
struct MergeDetail {
    kind: DuplicateKind,
    survivor: Uuid,
    /// The survivor's fields before the merge.
    survivor_before: serde_json::Value,
    /// The survivor's version right after the merge: undo refuses any other.
    survivor_version: i64,
    /// Per table and column, the rows moved from the other to the survivor.
    moved: Vec<Moved>,
}

impl MergeDetail {
    /// Sends the merged-away record to the trash, keeping what undo needs;
    /// returns the trash entry's id, which is the merge's id.
    async fn retire<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        kind: RecordKind,
        other: Uuid,
        label: String,
    ) -> Result<Uuid> {
        let removal = Removal {
            label,
            reason: TrashReason::Merged,
            merged_into: Some(self.survivor),
            detail: Some(to_json(self)),
        };
        move_to_trash(conn, actor, kind, other, removal).await
    }
}

#[derive(Serialize, Deserialize)]
struct Moved {
    table: String,
    column: String,
    ids: Vec<Uuid>,
}

/// A merge done: the survivor as it is now, and the id that undoes it.
#[derive(Clone, Debug)]
pub struct Merged<T> {
    pub record: T,
    pub merge_id: Uuid,
}

/// Versions the client read, when it sent them: a merge against older ones is refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct MergeVersions {
    pub survivor: Option<i64>,
    pub other: Option<i64>,
}

/// Moves every row pointing at `from` to `to`; returns what moved.
async fn move_rows<C: ConnectionTrait>(conn: &C, kind: DuplicateKind, from: Uuid, to: Uuid) -> Result<Vec<Moved>> {
    let mut moved = Vec::new();
    for &(table, column) in attached(kind) {
        let mut select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).eq(from))
            .to_owned();
        if table == "people" {
            // The survivor referred by the other is handled by its own fields.
            select.and_where(Expr::col(Alias::new("id")).ne(to));
        }
        let ids = conn
            .query_all(&select)
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<Uuid>(0))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            continue;
        }
        point(conn, table, column, &ids, from, to).await?;
        moved.push(Moved { table: table.to_owned(), column: column.to_owned(), ids });
    }
    Ok(moved)
}

/// Points the rows `ids` of `table` that still point at `from` to `to`.
async fn point<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    column: &str,
    ids: &[Uuid],
    from: Uuid,
    to: Uuid,
) -> Result<()> {
    for chunk in ids.chunks(500) {
        let update = Query::update()
            .table(Alias::new(table))
            .value(Alias::new(column), to)
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .and_where(Expr::col(Alias::new(column)).eq(from))
            .to_owned();
        conn.execute(&update).await?;
    }
    Ok(())
}

impl Store {
    /// Merges `other` into `survivor`: see the module documentation.
    pub async fn merge_people(
        &self,
        actor: &Actor,
        survivor: PersonId,
        other: PersonId,
        choices: &FieldChoices,
        versions: MergeVersions,
    ) -> Result<Merged<Person>> {
        if survivor == other {
            return Err(FieldErrors::single("other", "is the record itself").into());
        }
        let w = self.begin_write().await?;
        let kept = people::Entity::find_by_id(survivor.0).by_key(&*w).await?.ok_or(StorageError::NotFound("person"))?;
        let gone = people::Entity::find_by_id(other.0)
            .by_key(&*w)
            .await?
            .ok_or_else(|| FieldErrors::single("other", "no such person"))?;
        actor.ensure_can(Action::Edit, &ownership(&*w, kept.owner_id, kept.created_by).await?)?;
        actor.ensure_can(Action::Delete, &ownership(&*w, gone.owner_id, gone.created_by).await?)?;
        check_version(versions.survivor, kept.version)?;
        check_version(versions.other, gone.version)?;
        let before = person_from(kept.clone())?;
        let other_person = person_from(gone)?;
        let mut merged: PersonInput =
            merge_fields(DuplicateKind::People, &before.fields, &other_person.fields, choices)?;
        // Neither may end up referring to itself.
        if merged.referred_by_id.is_some_and(|r| r == survivor || r == other) {
            merged.referred_by_id = None;
        }
        let moved = move_rows(&*w, DuplicateKind::People, other.0, survivor.0).await?;
        let detail = MergeDetail {
            kind: DuplicateKind::People,
            survivor: survivor.0,
            survivor_before: to_json(&before.fields),
            survivor_version: kept.version + 1,
            moved,
        };
        let merge_id = detail.retire(&*w, actor, RecordKind::People, other.0, other_person.fields.full_name()).await?;
        let person = write_person(&*w, actor, kept, merged).await?;
        let changes = diff(Some(&before.fields), Some(&person.fields));
        record(&*w, Some(actor), RecordKind::People, survivor.0, HistoryAction::Merge, changes, Some(other.0)).await?;
        refresh_last_contacted(&*w, survivor.0).await?;
        bump_insights_version(&*w).await?;
        w.commit().await?;
        Ok(Merged { record: person, merge_id })
    }

    /// Merges `other` into `survivor`: its people, deals, activities, tasks and tickets move.
    pub async fn merge_companies(
        &self,
        actor: &Actor,
        survivor: CompanyId,
        other: CompanyId,
        choices: &FieldChoices,
        versions: MergeVersions,
    ) -> Result<Merged<Company>> {
        if survivor == other {
            return Err(FieldErrors::single("other", "is the record itself").into());
        }
        let w = self.begin_write().await?;
        let kept =
            companies::Entity::find_by_id(survivor.0).by_key(&*w).await?.ok_or(StorageError::NotFound("company"))?;
        let gone = companies::Entity::find_by_id(other.0)
            .by_key(&*w)
            .await?
            .ok_or_else(|| FieldErrors::single("other", "no such company"))?;
        actor.ensure_can(Action::Edit, &ownership(&*w, kept.owner_id, kept.created_by).await?)?;
        actor.ensure_can(Action::Delete, &ownership(&*w, gone.owner_id, gone.created_by).await?)?;
        check_version(versions.survivor, kept.version)?;
        check_version(versions.other, gone.version)?;
        let before = company_from(kept.clone())?;
        let other_company = company_from(gone)?;
        let merged: CompanyInput =
            merge_fields(DuplicateKind::Companies, &before.fields, &other_company.fields, choices)?;
        let moved = move_rows(&*w, DuplicateKind::Companies, other.0, survivor.0).await?;
        let detail = MergeDetail {
            kind: DuplicateKind::Companies,
            survivor: survivor.0,
            survivor_before: to_json(&before.fields),
            survivor_version: kept.version + 1,
            moved,
        };
        // The other leaves first, so the survivor may take its domain.
        let label = other_company.fields.name.to_string();
        let merge_id = detail.retire(&*w, actor, RecordKind::Companies, other.0, label).await?;
        let company = write_company(&*w, actor, kept, merged).await?;
        // The people who moved are found by the survivor's name.
        refresh_company_people(&*w, survivor.0, Some(company.fields.name.as_str())).await?;
        let changes = diff(Some(&before.fields), Some(&company.fields));
        record(&*w, Some(actor), RecordKind::Companies, survivor.0, HistoryAction::Merge, changes, Some(other.0))
            .await?;
        w.commit().await?;
        Ok(Merged { record: company, merge_id })
    }

    /// Undoes a merge: the other record comes back from the trash with what
    /// was moved from it, and the survivor gets its fields back. Refused
    /// (409) when the survivor changed since the merge. Returns the kind,
    /// the survivor's id and the other's.
    pub async fn undo_merge(&self, actor: &Actor, merge_id: Uuid) -> Result<(DuplicateKind, Uuid, Uuid)> {
        let w = self.begin_write().await?;
        let trashed = entry(&*w, merge_id).await.map_err(|err| match err {
            StorageError::NotFound(_) => StorageError::NotFound("merge"),
            other => other,
        })?;
        if trashed.reason != TrashReason::Merged.as_str() {
            return Err(StorageError::NotFound("merge"));
        }
        let detail: MergeDetail =
            from_json(trashed.detail.clone().unwrap_or_default(), "merge detail in the trash entry")?;
        let other = trashed.record_id;
        let kind = detail.kind;
        let changed = |name: &str, current: i64| {
            StorageError::Conflict(format!(
                "{name} changed after the merge (now at version {current}, not {}): undoing would lose that change",
                detail.survivor_version
            ))
        };
        let gone = || StorageError::Conflict("the record merged into was deleted since: restore it first".into());
        match kind {
            DuplicateKind::People => {
                let row = people::Entity::find_by_id(detail.survivor).by_key(&*w).await?.ok_or_else(gone)?;
                actor.ensure_can(Action::Edit, &ownership(&*w, row.owner_id, row.created_by).await?)?;
                if row.version != detail.survivor_version {
                    let name = person_from(row.clone())?.fields.full_name();
                    return Err(changed(&name, row.version));
                }
                let now = person_from(row.clone())?;
                let before: PersonInput = from_json(detail.survivor_before.clone(), "the survivor before the merge")?;
                // The other comes back first: the survivor's referrer may be them.
                restore_entry(&*w, actor, trashed, HistoryAction::Unmerge).await?;
                let restored = write_person(&*w, actor, row, before).await?;
                move_back(&*w, &detail, other).await?;
                let changes = diff(Some(&now.fields), Some(&restored.fields));
                record(
                    &*w,
                    Some(actor),
                    RecordKind::People,
                    detail.survivor,
                    HistoryAction::Unmerge,
                    changes,
                    Some(other),
                )
                .await?;
                refresh_last_contacted(&*w, detail.survivor).await?;
                refresh_last_contacted(&*w, other).await?;
                bump_insights_version(&*w).await?;
            }
            DuplicateKind::Companies => {
                let row = companies::Entity::find_by_id(detail.survivor).by_key(&*w).await?.ok_or_else(gone)?;
                actor.ensure_can(Action::Edit, &ownership(&*w, row.owner_id, row.created_by).await?)?;
                if row.version != detail.survivor_version {
                    return Err(changed(&row.name.clone(), row.version));
                }
                let now = company_from(row.clone())?;
                let before: CompanyInput = from_json(detail.survivor_before.clone(), "the survivor before the merge")?;
                // The survivor gives back the other's domain before the other returns.
                let restored = write_company(&*w, actor, row, before).await?;
                restore_entry(&*w, actor, trashed, HistoryAction::Unmerge).await?;
                move_back(&*w, &detail, other).await?;
                let name = restored.fields.name.to_string();
                refresh_company_people(&*w, detail.survivor, Some(&name)).await?;
                let other_name = companies::Entity::find_by_id(other).by_key(&*w).await?.map(|c| c.name);
                refresh_company_people(&*w, other, other_name.as_deref()).await?;
                let changes = diff(Some(&now.fields), Some(&restored.fields));
                record(
                    &*w,
                    Some(actor),
                    RecordKind::Companies,
                    detail.survivor,
                    HistoryAction::Unmerge,
                    changes,
                    Some(other),
                )
                .await?;
            }
        }
        w.commit().await?;
        Ok((kind, detail.survivor, other))
    }
}

/// Moves the rows a merge moved back to the record they came from.
async fn move_back<C: ConnectionTrait>(conn: &C, detail: &MergeDetail, other: Uuid) -> Result<()> {
    for moved in &detail.moved {
        point(conn, &moved.table, &moved.column, &moved.ids, detail.survivor, other).await?;
    }
    Ok(())
}
