//! Small pieces every record module uses: stored text back into domain types,
//! record metadata, owner look-ups, and the index rows beside each record.

use rapport_domain::custom_fields::{CheckedValue, CustomFieldInput, CustomValues, EntityType, FieldKey, FieldKind};
use rapport_domain::records::Meta;
use rapport_domain::text::Tag;
use rapport_domain::{FieldErrors, TeamId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, QuerySelect, SelectTwo};
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;

use crate::entities::{custom_field_values, custom_fields, record_tags, users};
use crate::{Result, StorageError};

/// Fetching the row a primary key names.
pub(crate) trait ByKey {
    type Row;

    /// The row, if any, without the `LIMIT ?` that `.one()` adds: SQLite
    /// (3.51 here) plans with a bound LIMIT's value, so a statement that
    /// binds one is prepared again on every execution (docs/PERFORMANCE.md,
    /// "Lookups by id prepared again on every request").
    async fn by_key<C: ConnectionTrait>(self, db: &C) -> std::result::Result<Option<Self::Row>, DbErr>;
}

impl<E: EntityTrait> ByKey for Select<E> {
    type Row = E::Model;

    async fn by_key<C: ConnectionTrait>(self, db: &C) -> std::result::Result<Option<E::Model>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}

impl<E: EntityTrait, F: EntityTrait> ByKey for SelectTwo<E, F> {
    type Row = (E::Model, Option<F::Model>);

    async fn by_key<C: ConnectionTrait>(self, db: &C) -> std::result::Result<Option<Self::Row>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}

/// Stored text back into a checked domain type; a failure means corrupt data.
pub(crate) fn parse<T: TryFrom<String, Error = String>>(raw: String, what: &str) -> Result<T> {
    T::try_from(raw).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn parse_opt<T: TryFrom<String, Error = String>>(raw: Option<String>, what: &str) -> Result<Option<T>> {
    raw.map(|r| parse(r, what)).transpose()
}

pub(crate) fn parse_with<T>(raw: &str, what: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T> {
    f(raw).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(value: Json, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Json {
    serde_json::to_value(value).expect("domain types serialize to JSON")
}

pub(crate) fn meta(
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    created_by: Option<Uuid>,
    version: i64,
) -> Meta {
    Meta { created_at, updated_at, created_by: created_by.map(UserId), version }
}

/// Refuses an update made against an older version than the stored one.
pub(crate) fn check_version(expected: Option<i64>, current: i64) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(StorageError::VersionMismatch { expected, current }),
        _ => Ok(()),
    }
}

/// The team of a user, for permission checks; `None` for no user.
pub(crate) async fn team_of<C: ConnectionTrait>(conn: &C, user: Option<Uuid>) -> Result<Option<TeamId>> {
    let Some(user) = user else { return Ok(None) };
    let team: Option<Option<Uuid>> =
        users::Entity::find_by_id(user).select_only().column(users::Column::TeamId).into_tuple().one(conn).await?;
    Ok(team.flatten().map(TeamId))
}

/// Checks that an owner or assignee is an active user; returns their team.
pub(crate) async fn active_user<C: ConnectionTrait>(conn: &C, user: UserId, field: &str) -> Result<Option<TeamId>> {
    match users::Entity::find_by_id(user.0).by_key(conn).await? {
        Some(found) if found.active => Ok(found.team_id.map(TeamId)),
        Some(_) => Err(FieldErrors::single(field, "this user is deactivated").into()),
        None => Err(FieldErrors::single(field, "no such user").into()),
    }
}

/// Refuses an external id that another record of `E` (not `this`) holds:
/// 409 naming the field `external_id` and that record. The unique index
/// (migration m0007) stays the last word: a write that races this check
/// fails there, which `StorageError::from` names the same way.
pub(crate) async fn refuse_taken_external_id<E, C>(
    conn: &C,
    external: Option<&rapport_domain::text::Name>,
    this: Option<Uuid>,
    what: &str,
) -> Result<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use std::str::FromStr;
    let Some(external) = external else { return Ok(()) };
    let column = E::Column::from_str("external_id").map_err(|_| StorageError::Corrupt("no external_id".into()))?;
    let id_column = E::Column::from_str("id").map_err(|_| StorageError::Corrupt("no id".into()))?;
    let mut select = E::find().select_only().column(id_column).filter(column.eq(external.as_str()));
    if let Some(this) = this {
        select = select.filter(id_column.ne(this));
    }
    let existing: Option<Uuid> = select.into_tuple().one(conn).await?;
    match existing {
        None => Ok(()),
        Some(existing) => Err(taken_external_id(external, existing, what)),
    }
}

/// The 409 for an external id that `existing`, another record, holds.
pub(crate) fn taken_external_id(external: &rapport_domain::text::Name, existing: Uuid, what: &str) -> StorageError {
    StorageError::Taken {
        field: "external_id".into(),
        message: format!("{:?} is already the external id of another {what} ({existing})", external.as_str()),
        existing: Some(existing),
    }
}

/// Fails with a field error when a referenced record does not exist.
pub(crate) async fn must_exist<E, C>(conn: &C, id: Uuid, field: &str, what: &str) -> Result<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
    C: ConnectionTrait,
{
    E::find_by_id(id).by_key(conn).await?.ok_or_else(|| no_such(field, what))
}

/// Which of these ids a record of `E` has, looked up a chunk at a time.
pub(crate) async fn existing_ids<E, C>(conn: &C, ids: impl IntoIterator<Item = Uuid>) -> Result<HashSet<Uuid>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use std::str::FromStr;
    let id_column = E::Column::from_str("id").map_err(|_| StorageError::Corrupt("no id".into()))?;
    existing_values::<E, _, _>(conn, id_column, ids).await
}

/// Which of these values some record of `E` holds in `column`, looked up
/// a chunk at a time.
pub(crate) async fn existing_values<E, C, V>(
    conn: &C,
    column: E::Column,
    values: impl IntoIterator<Item = V>,
) -> Result<HashSet<V>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    V: Ord + std::hash::Hash + Clone + Into<sea_orm::Value> + sea_orm::TryGetable,
{
    let values: BTreeSet<V> = values.into_iter().collect();
    let mut found = HashSet::new();
    for chunk in values.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
        let existing: Vec<V> = E::find()
            .select_only()
            .column(column)
            .filter(column.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(existing);
    }
    Ok(found)
}

/// The records of `E` holding these external ids, by external id.
pub(crate) async fn ids_by_external_id<'a, E, C>(
    conn: &C,
    externals: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Uuid>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use std::str::FromStr;
    let column = E::Column::from_str("external_id").map_err(|_| StorageError::Corrupt("no external_id".into()))?;
    let id_column = E::Column::from_str("id").map_err(|_| StorageError::Corrupt("no id".into()))?;
    let externals: BTreeSet<&str> = externals.into_iter().collect();
    let mut found = HashMap::new();
    for chunk in externals.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
        let holders: Vec<(String, Uuid)> = E::find()
            .select_only()
            .column(column)
            .column(id_column)
            .filter(column.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(holders);
    }
    Ok(found)
}

/// The field error for a reference to a record that does not exist.
/// `parts` joined by `UNION ALL` into one statement; none when there are none.
pub(crate) fn union_all(parts: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    parts.into_iter().reduce(|mut union, part| {
        union.union(UnionType::All, part);
        union
    })
}

pub(crate) fn no_such(field: &str, what: &str) -> StorageError {
    FieldErrors::single(field, format!("no such {what}")).into()
}

pub(crate) async fn definitions<C: ConnectionTrait>(conn: &C, entity: EntityType) -> Result<Vec<CustomFieldInput>> {
    custom_fields::Entity::find()
        .filter(custom_fields::Column::EntityType.eq(entity.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(definition_from)
        .collect()
}

pub(crate) fn definition_from(row: custom_fields::Model) -> Result<CustomFieldInput> {
    Ok(CustomFieldInput {
        entity_type: parse_with(&row.entity_type, "custom field type", |s| {
            EntityType::parse(s).ok_or_else(|| s.to_owned())
        })?,
        key: parse::<FieldKey>(row.key, "custom field key")?,
        label: parse(row.label, "custom field label")?,
        kind: parse_with(&row.kind, "custom field kind", |s| FieldKind::parse(s).ok_or_else(|| s.to_owned()))?,
        choices: from_json(row.choices, "custom field choices")?,
        required: row.required,
    })
}

/// Checks custom values against the current definitions and returns the
/// checked values and the JSON object to keep on the record.
pub(crate) async fn check_custom<C: ConnectionTrait>(
    conn: &C,
    entity: EntityType,
    values: &CustomValues,
) -> Result<(Vec<CheckedValue>, CustomValues)> {
    checked_values(&definitions(conn, entity).await?, values)
}

/// `check_custom` against definitions the caller already read.
pub(crate) fn checked_values(
    definitions: &[CustomFieldInput],
    values: &CustomValues,
) -> Result<(Vec<CheckedValue>, CustomValues)> {
    let checked = rapport_domain::custom_fields::check_values(definitions, values)?;
    let stored = checked.iter().map(|c| (c.key.clone(), c.json.clone())).collect();
    Ok((checked, stored))
}

/// Rewrites the tag and custom-field index rows of one record.
pub(crate) async fn write_index_rows<C: ConnectionTrait>(
    conn: &C,
    entity: EntityType,
    id: Uuid,
    tags: &[Tag],
    custom: &[CheckedValue],
) -> Result<()> {
    delete_index_rows(conn, entity, id).await?;
    let mut rows = IndexRows::default();
    rows.add(entity, id, tags, custom);
    rows.write(conn).await
}

/// The tag and custom-field index rows of new records, written together.
#[derive(Default)]
pub(crate) struct IndexRows {
    tags: Vec<record_tags::ActiveModel>,
    values: Vec<custom_field_values::ActiveModel>,
}

impl IndexRows {
    pub(crate) fn add(&mut self, entity: EntityType, id: Uuid, tags: &[Tag], custom: &[CheckedValue]) {
        self.tags.extend(tags.iter().map(|tag| record_tags::ActiveModel {
            entity_type: sea_orm::Set(entity.as_str().to_owned()),
            entity_id: sea_orm::Set(id),
            tag: sea_orm::Set(tag.as_str().to_owned()),
        }));
        self.values.extend(custom.iter().map(|value| custom_field_values::ActiveModel {
            entity_type: sea_orm::Set(entity.as_str().to_owned()),
            entity_id: sea_orm::Set(id),
            field_key: sea_orm::Set(value.key.clone()),
            value_text: sea_orm::Set(value.canonical.clone()),
        }));
    }

    pub(crate) async fn write<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        insert_all(conn, self.tags).await?;
        insert_all(conn, self.values).await
    }
}

/// Bound parameters per statement: under SQLite's limit (32,766) and
/// PostgreSQL's (65,535).
const MAX_PARAMETERS: usize = 30_000;

/// Values in one `IN (...)` list, so a look-up of a whole batch stays
/// well under the parameter limit.
pub(crate) const IN_LIST_CHUNK: usize = 1_000;

/// Inserts new rows with as few multi-row statements as the parameter
/// limit allows: a bulk load's cost is then the engine's, not one round
/// trip a row.
pub(crate) async fn insert_all<C, A>(conn: &C, rows: Vec<A>) -> Result<()>
where
    C: ConnectionTrait,
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::Iterable;
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count().max(1);
    let per_statement = (MAX_PARAMETERS / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

pub(crate) async fn delete_index_rows<C: ConnectionTrait>(conn: &C, entity: EntityType, id: Uuid) -> Result<()> {
    delete_index_rows_of(conn, entity, &[id]).await
}

/// `delete_index_rows` for many records, a chunk of them per statement.
pub(crate) async fn delete_index_rows_of<C: ConnectionTrait>(conn: &C, entity: EntityType, ids: &[Uuid]) -> Result<()> {
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        record_tags::Entity::delete_many()
            .filter(record_tags::Column::EntityType.eq(entity.as_str()))
            .filter(record_tags::Column::EntityId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
        custom_field_values::Entity::delete_many()
            .filter(custom_field_values::Column::EntityType.eq(entity.as_str()))
            .filter(custom_field_values::Column::EntityId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Checks a new owner (or assignee): an active user the actor may hand the record to.
/// Keeping the current owner needs no check.
pub(crate) async fn check_assignment<C: ConnectionTrait>(
    conn: &C,
    actor: &rapport_domain::Actor,
    new_owner: Option<UserId>,
    current_owner: Option<Uuid>,
    field: &str,
) -> Result<()> {
    Users::default().check_assignment(conn, actor, new_owner, current_owner, field).await
}

/// The permission-relevant facts of a record owned by `owner`.
pub(crate) async fn ownership<C: ConnectionTrait>(
    conn: &C,
    owner: Option<Uuid>,
    created_by: Option<Uuid>,
) -> Result<rapport_domain::Ownership> {
    Users::default().ownership(conn, owner, created_by).await
}

/// The users the access checks ask about, each looked up once: a bulk
/// change asks about the same few owners for every record it changes.
#[derive(Default)]
pub(crate) struct Users {
    /// Owners' teams.
    teams: HashMap<Uuid, Option<TeamId>>,
    /// New owners found to be active users, with their teams.
    assignable: HashMap<UserId, Option<TeamId>>,
}

impl Users {
    /// `ownership`, with each owner's team looked up once.
    pub(crate) async fn ownership<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        owner: Option<Uuid>,
        created_by: Option<Uuid>,
    ) -> Result<rapport_domain::Ownership> {
        let owner_team_id = match owner {
            Some(owner) => match self.teams.get(&owner) {
                Some(team) => *team,
                None => {
                    let team = team_of(conn, Some(owner)).await?;
                    self.teams.insert(owner, team);
                    team
                }
            },
            None => None,
        };
        Ok(rapport_domain::Ownership { owner_id: owner.map(UserId), owner_team_id, created_by: created_by.map(UserId) })
    }

    /// `check_assignment`, with each new owner looked up once.
    pub(crate) async fn check_assignment<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        actor: &rapport_domain::Actor,
        new_owner: Option<UserId>,
        current_owner: Option<Uuid>,
        field: &str,
    ) -> Result<()> {
        if new_owner.map(|u| u.0) == current_owner {
            return Ok(());
        }
        let team = match new_owner {
            Some(user) => match self.assignable.get(&user) {
                Some(team) => *team,
                None => {
                    let team = active_user(conn, user, field).await?;
                    self.assignable.insert(user, team);
                    team
                }
            },
            None => None,
        };
        actor.ensure_can_assign(new_owner, team)?;
        Ok(())
    }
}

/// One input of a batch after its checks: passed (`Some`), refused (kept as
/// its outcome, `None`: the batch goes on), or failed (the error fails the
/// whole batch).
pub(crate) fn passed<T, U>(checked: Result<T>, outcomes: &mut Vec<Result<U>>) -> Result<Option<T>> {
    match checked {
        Ok(checked) => Ok(Some(checked)),
        Err(refused) if refused.is_refusal() => {
            outcomes.push(Err(refused));
            Ok(None)
        }
        Err(failed) => Err(failed),
    }
}

/// The outcome of a batch of one, as a single create or update gives it.
pub(crate) fn only_outcome<T>(mut outcomes: Vec<Result<T>>, what: &str) -> Result<T> {
    outcomes.pop().unwrap_or_else(|| Err(StorageError::Corrupt(format!("a batch of one {what} gave no outcome"))))
}

/// Saves a changed record only if nobody else saved it since it was read at
/// `read_version`; otherwise the update matches no row and fails.
pub(crate) async fn save<A, C>(
    conn: &C,
    active: A,
    version: <A::Entity as EntityTrait>::Column,
    read_version: i64,
) -> Result<<A::Entity as EntityTrait>::Model>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
    C: ConnectionTrait,
{
    Ok(<A::Entity as EntityTrait>::update(active).validate()?.filter(version.eq(read_version)).exec(conn).await?)
}
