//! The whole database as one JSON archive, and back.
//!
//! ```json
//! {"format": "rapport-archive", "version": 1, "exported_at": "...", "schema": "m0005_...",
//!  "tables": {"teams": [{...}, ...], "users": [...], ...}}
//! ```
//!
//! Tables are copied column by column from the sea-orm entities, so an archive
//! keeps ids, timestamps, versions and password hashes, and a new table is one
//! line in `archived_tables!`. Export reads each table in keyset batches inside
//! one read transaction (a consistent snapshot) and writes as it reads; import
//! parses on a blocking thread and inserts each batch as it arrives, all in one
//! write transaction, so a damaged file writes nothing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::fmt;
use std::io::Read;
use std::path::Path;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::entities;
use crate::{StorageError, Store};

const ARCHIVE_FORMAT: &str = "rapport-archive";
const ARCHIVE_VERSION: u64 = 1;

/// Rows read per query on export.
const READ_BATCH: u64 = 1_000;
/// Rows per insert on import: well under both databases' limit on bound values.
const INSERT_BATCH: usize = 500;
/// Bytes gathered before they go to the output.
const WRITE_CHUNK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Rapport archive: {0}")]
    NotAnArchive(String),
    #[error("the archive is version {0}, and this Rapport reads version {ARCHIVE_VERSION}")]
    Version(u64),
    #[error("the archive was made with schema {0:?}, which this Rapport does not know: upgrade Rapport first")]
    Schema(String),
    #[error("the archive is damaged or incomplete ({0}); nothing was imported")]
    Malformed(String),
    #[error("the database already holds users or records: import or restore only into an empty database")]
    NotEmpty,
}

impl From<DbErr> for ArchiveError {
    fn from(err: DbErr) -> Self {
        ArchiveError::Storage(err.into())
    }
}

/// How many rows of each table an import wrote.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub tables: Vec<(&'static str, u64)>,
}

/// The archived tables, parents before children so each row is inserted after
/// the rows it refers to.
///
/// The index tables (`contact_points`, `record_tags`, `custom_field_values`)
/// are archived as they are rather than rebuilt: they were written with their
/// record in one transaction, and copying them keeps the import a plain copy
/// instead of a second implementation of every writer's rules. Left out:
/// `sessions` (sign-ins expire; users sign in again), and `customer_insight_rows`
/// and `insights_state`, which the insights job recomputes from the purchases.
/// Full-text indexes are rebuilt by the databases themselves (FTS triggers on
/// SQLite, a generated column on PostgreSQL), and so are `deal_totals` (triggers
/// on `deals`) and `search_keys` (triggers on the searchable records).
macro_rules! archived_tables {
    ($($table:ident),* $(,)?) => {
        const TABLES: &[&str] = &[$(stringify!($table)),*];

        async fn export_tables<C: ConnectionTrait, W: AsyncWrite + Unpin>(
            db: &C,
            out: &mut ArchiveWriter<W>,
        ) -> Result<(), ArchiveError> {
            $(export_table::<entities::$table::Entity, _, _>(db, out).await?;)*
            Ok(())
        }

        async fn insert_batch<C: ConnectionTrait>(
            db: &C,
            table: &str,
            rows: Vec<Map<String, Json>>,
            deferred: &mut Vec<Deferred>,
        ) -> Result<(), ArchiveError> {
            match table {
                $(stringify!($table) => insert_rows::<entities::$table::Entity, _>(db, rows, deferred).await,)*
                other => Err(ArchiveError::Malformed(format!("unknown table {other:?}"))),
            }
        }

        async fn holds_rows<C: ConnectionTrait>(db: &C) -> Result<bool, ArchiveError> {
            $(if entities::$table::Entity::find().one(db).await?.is_some() {
                return Ok(true);
            })*
            Ok(false)
        }
    };
}

archived_tables!(
    teams,
    users,
    api_tokens,
    custom_fields,
    pipelines,
    stages,
    companies,
    people,
    contact_points,
    record_tags,
    custom_field_values,
    deals,
    activities,
    tasks,
    purchases,
    saved_views,
    record_history,
    trash,
    duplicate_dismissals,
    business_calendars,
    sla_policies,
    tickets,
    ticket_messages,
    ticket_attachments,
    outbox,
    mail_settings,
    mail_received,
    sla_events,
    surveys,
    survey_sends,
    survey_answers,
    feedback_theme_rules,
    feedback_theme_notes,
    app_settings,
    style_self_assessments,
    style_feedback_rounds,
    style_feedback_requests,
    goals,
);

/// Columns that point into their own table: a row may name one that comes
/// later, so they are inserted empty and set once every row is in.
const SELF_REFERENCES: &[(&str, &str)] = &[("people", "referred_by_id")];

/// A self-reference set after the rows are in: table, column, row id, value.
struct Deferred(&'static str, &'static str, Value, Value);

async fn apply_deferred<C: ConnectionTrait>(db: &C, deferred: Vec<Deferred>) -> Result<(), ArchiveError> {
    for Deferred(table, column, id, value) in deferred {
        let update = Query::update().table(table).value(column, value).and_where(Expr::col("id").eq(id)).to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}

/// Puts back rows of an archived table exactly as `row_json` wrote them
/// (the trash's restore).
pub(crate) async fn reinsert<C: ConnectionTrait>(
    db: &C,
    table: &str,
    mut rows: Vec<Map<String, Json>>,
) -> Result<(), ArchiveError> {
    let mut deferred = Vec::new();
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(INSERT_BATCH));
        insert_batch(db, table, rows, &mut deferred).await?;
        rows = rest;
    }
    apply_deferred(db, deferred).await
}

impl Store {
    /// Copies a SQLite database into the new file `path`: one consistent
    /// snapshot, taken while others go on reading and writing.
    pub async fn backup_sqlite(&self, path: &Path) -> Result<(), ArchiveError> {
        if !self.is_sqlite() {
            return Err(StorageError::Config("a file backup needs a SQLite database".into()).into());
        }
        let path = path.to_str().ok_or_else(|| StorageError::Config("the backup path is not UTF-8".into()))?;
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]);
        self.conn().execute_raw(statement).await?;
        Ok(())
    }

    /// Whether the database holds any user or record (what an import would copy).
    pub async fn holds_data(&self) -> Result<bool, ArchiveError> {
        holds_rows(self.conn()).await
    }

    /// Writes the whole database as a JSON archive to `out`, a batch at a time,
    /// from one consistent snapshot.
    pub async fn export_archive<W: AsyncWrite + Unpin>(&self, out: W) -> Result<(), ArchiveError> {
        let txn = self.read_snapshot().await?;
        let mut out = ArchiveWriter { out, buf: Vec::with_capacity(WRITE_CHUNK), first_row: true };
        let header = WrittenHeader {
            format: ARCHIVE_FORMAT,
            version: ARCHIVE_VERSION,
            exported_at: timestamp(rapport_domain::records::now()),
            schema: crate::migration::latest(),
        };
        let header = serde_json::to_string(&header).map_err(std::io::Error::other)?;
        // The header object, left open for the tables.
        out.buf.extend_from_slice(&header.as_bytes()[..header.len() - 1]);
        out.buf.extend_from_slice(b",\"tables\":{");
        export_tables(&txn, &mut out).await?;
        out.buf.extend_from_slice(b"\n}}\n");
        out.flush().await?;
        txn.commit().await?;
        Ok(())
    }

    /// Reads an archive into this database, which must be empty, in one
    /// transaction: a wrong, truncated or malformed file writes nothing.
    /// Refreshes the planner statistics afterwards.
    pub async fn import_archive<R: Read + Send + 'static>(&self, input: R) -> Result<ImportSummary, ArchiveError> {
        let (tx, mut rx) = mpsc::channel::<Parsed>(4);
        let parser = tokio::task::spawn_blocking(move || parse(input, &tx));
        let outcome = async {
            let header = match rx.recv().await {
                Some(Parsed::Header(header)) => header,
                // The parser failed before the tables: its error says why.
                _ => return Ok(None),
            };
            header.check()?;
            let txn = self.begin_write().await?;
            if holds_rows(&*txn).await? {
                return Err(ArchiveError::NotEmpty);
            }
            let mut summary = ImportSummary::default();
            let mut deferred = Vec::new();
            while let Some(message) = rx.recv().await {
                let Parsed::Rows(table, rows) = message else {
                    return Err(ArchiveError::Malformed("a second header".into()));
                };
                match summary.tables.last_mut() {
                    Some((last, count)) if *last == table => *count += rows.len() as u64,
                    _ => summary.tables.push((table, rows.len() as u64)),
                }
                insert_batch(&*txn, table, rows, &mut deferred).await?;
            }
            Ok(Some((txn, summary, deferred)))
        }
        .await;
        // Stops the parser if the import failed first.
        drop(rx);
        let parsed = parser.await.map_err(|err| ArchiveError::Malformed(format!("the reader stopped: {err}")))?;
        let (txn, summary, deferred) = match (outcome?, parsed) {
            (Some(done), Ok(())) => done,
            (_, Err(err)) => return Err(err),
            (None, Ok(())) => return Err(ArchiveError::Malformed("no tables".into())),
        };
        apply_deferred(&*txn, deferred).await?;
        txn.commit().await?;
        self.analyze().await?;
        Ok(summary)
    }
}

/// The archive's header, in the order it is written.
#[derive(serde::Serialize)]
struct WrittenHeader {
    format: &'static str,
    version: u64,
    exported_at: String,
    schema: String,
}

/// Buffers the archive's text and hands it to the output in chunks.
struct ArchiveWriter<W> {
    out: W,
    buf: Vec<u8>,
    first_row: bool,
}

impl<W: AsyncWrite + Unpin> ArchiveWriter<W> {
    async fn flush(&mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf).await?;
        self.buf.clear();
        self.out.flush().await
    }
}

/// The models of `E` after `after` (its primary key values), in key order.
pub(crate) async fn read_batch<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    after: Option<&[Value]>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    let keys: Vec<E::Column> = E::PrimaryKey::iter().map(|key| key.into_column()).collect();
    let mut select = E::find();
    for key in &keys {
        select = select.order_by_asc(*key);
    }
    if let Some(after) = after {
        let columns = keys.iter().map(|key| Expr::col((E::default(), *key)));
        let values = after.iter().cloned().map(Expr::val);
        select = select.filter(Expr::tuple(columns).gt(Expr::tuple(values)));
    }
    select.limit(limit).all(db).await
}

/// The primary key values of a model, for the next `read_batch`.
pub(crate) fn key_of<E: EntityTrait>(model: &E::Model) -> Vec<Value> {
    E::PrimaryKey::iter().map(|key| model.get(key.into_column())).collect()
}

/// A row as a JSON object of its columns, as an archive holds it.
pub(crate) fn row_json<E: EntityTrait>(row: &E::Model) -> Result<Map<String, Json>, StorageError> {
    E::Column::iter().map(|column| Ok((column.as_str().to_owned(), to_json(row.get(column))?))).collect()
}

async fn export_table<E: EntityTrait, C: ConnectionTrait, W: AsyncWrite + Unpin>(
    db: &C,
    out: &mut ArchiveWriter<W>,
) -> Result<(), ArchiveError> {
    let name = E::default().table_name();
    let comma = if std::mem::take(&mut out.first_row) { "" } else { "," };
    out.buf.extend_from_slice(format!("{comma}\n{}:[", Json::from(name)).as_bytes());
    let mut after = None;
    let mut first = true;
    loop {
        let rows = read_batch::<E, _>(db, after.as_deref(), READ_BATCH).await?;
        for row in &rows {
            let object = row_json::<E>(row)?;
            out.buf.extend_from_slice(if first { b"\n" } else { b",\n" });
            first = false;
            serde_json::to_writer(&mut out.buf, &object).map_err(std::io::Error::other)?;
            if out.buf.len() >= WRITE_CHUNK {
                out.flush().await?;
            }
        }
        match rows.last() {
            Some(last) if rows.len() as u64 == READ_BATCH => after = Some(key_of::<E>(last)),
            _ => break,
        }
    }
    out.buf.extend_from_slice(b"]");
    Ok(())
}

/// RFC 3339 in UTC, as records keep their times.
fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).expect("a UTC time formats as RFC 3339")
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn to_json(value: Value) -> Result<Json, StorageError> {
    let json = match value {
        Value::Bool(v) => v.map(Json::Bool),
        Value::SmallInt(v) => v.map(Json::from),
        Value::Int(v) => v.map(Json::from),
        Value::BigInt(v) => v.map(Json::from),
        // A survey answer's sentiment; not finite never happens (and would be null).
        Value::Double(v) => v.and_then(serde_json::Number::from_f64).map(Json::Number),
        Value::String(v) => v.map(Json::String),
        Value::Json(v) => v.map(|json| *json),
        Value::Uuid(v) => v.map(|id| Json::String(id.to_string())),
        Value::TimeDate(v) => match v {
            Some(date) => Some(Json::String(date.format(DATE).map_err(|e| StorageError::Corrupt(e.to_string()))?)),
            None => None,
        },
        Value::TimeDateTimeWithTimeZone(v) => v.map(|at| Json::String(timestamp(at))),
        // Attachments: base64 in the JSON archive.
        Value::Bytes(v) => v.map(|bytes| Json::String(BASE64.encode(bytes))),
        other => return Err(StorageError::Corrupt(format!("cannot archive a value such as {other:?}"))),
    };
    Ok(json.unwrap_or(Json::Null))
}

/// A JSON value as the value of a column of type `ty`; null for null.
fn from_json(ty: &ColumnType, json: Json) -> Result<Value, String> {
    fn some<T>(json: &Json, read: impl FnOnce(&Json) -> Option<T>, what: &str) -> Result<Option<T>, String> {
        if matches!(json, Json::Null) { Ok(None) } else { read(json).map(Some).ok_or_else(|| format!("is not {what}")) }
    }
    Ok(match ty {
        ColumnType::Boolean => Value::Bool(some(&json, Json::as_bool, "true or false")?),
        ColumnType::SmallInteger => {
            Value::SmallInt(some(&json, |j| j.as_i64().and_then(|n| n.try_into().ok()), "a small integer")?)
        }
        ColumnType::Integer => Value::Int(some(&json, |j| j.as_i64().and_then(|n| n.try_into().ok()), "an integer")?),
        ColumnType::BigInteger => Value::BigInt(some(&json, Json::as_i64, "an integer")?),
        ColumnType::Double => Value::Double(some(&json, Json::as_f64, "a number")?),
        ColumnType::String(_) | ColumnType::Text => {
            Value::String(some(&json, |j| j.as_str().map(str::to_owned), "a string")?)
        }
        ColumnType::Json | ColumnType::JsonBinary => {
            Value::Json(if matches!(json, Json::Null) { None } else { Some(Box::new(json)) })
        }
        ColumnType::Uuid => Value::Uuid(some(&json, |j| j.as_str().and_then(|s| s.parse().ok()), "an id")?),
        ColumnType::Date => {
            Value::TimeDate(some(&json, |j| j.as_str().and_then(|s| time::Date::parse(s, DATE).ok()), "a date")?)
        }
        ColumnType::TimestampWithTimeZone => Value::TimeDateTimeWithTimeZone(some(
            &json,
            |j| j.as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()),
            "an RFC 3339 time",
        )?),
        ColumnType::Blob | ColumnType::Binary(_) | ColumnType::VarBinary(_) => {
            Value::Bytes(some(&json, |j| j.as_str().and_then(|s| BASE64.decode(s).ok()), "base64 bytes")?)
        }
        other => return Err(format!("has a column type ({other:?}) archives do not carry")),
    })
}

/// The value of a column that may not be null for a row written before the
/// column was added (an older archive, or a record trashed before): what its
/// migration gave the rows stored then.
fn added_later(table: &str, column: &str) -> Option<Json> {
    match (table, column) {
        // m0014: tickets brought no custom fields before.
        ("tickets", "custom_fields") => Some(Json::Object(Map::new())),
        _ => None,
    }
}

async fn insert_rows<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    rows: Vec<Map<String, Json>>,
    deferred: &mut Vec<Deferred>,
) -> Result<(), ArchiveError> {
    let table = E::default().table_name();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let mut insert = Query::insert();
    insert.into_table(E::default()).columns(columns.iter().copied());
    for mut row in rows {
        let mut values = Vec::with_capacity(columns.len());
        let mut id = None;
        for column in &columns {
            let name = column.as_str();
            // A column added after the archive was made, such as m0007's
            // external ids, is null when it may be, or what the migration
            // that added it gave the rows already stored.
            let json = match row.remove(name) {
                Some(json) => json,
                None if column.def().is_null() => Json::Null,
                None => added_later(table, name)
                    .ok_or_else(|| ArchiveError::Malformed(format!("a row of {table} lacks {name}")))?,
            };
            let mut value = from_json(column.def().get_column_type(), json)
                .map_err(|e| ArchiveError::Malformed(format!("{table}.{name} {e}")))?;
            if name == "id" {
                id = Some(value.clone());
            }
            if let Some(&(table, column)) = SELF_REFERENCES.iter().find(|(t, c)| *t == table && *c == name)
                && let Some(id) = id.clone()
                && value.is_some()
            {
                let null = value.as_null();
                let target = std::mem::replace(&mut value, null);
                deferred.push(Deferred(table, column, id, target));
            }
            values.push(Expr::val(value));
        }
        if let Some(extra) = row.keys().next() {
            return Err(ArchiveError::Malformed(format!("{table} has no column {extra:?}")));
        }
        insert.values(values).map_err(|e| ArchiveError::Malformed(e.to_string()))?;
    }
    db.execute(&insert).await?;
    Ok(())
}

/// What the parser hands to the importer.
enum Parsed {
    Header(Header),
    Rows(&'static str, Vec<Map<String, Json>>),
}

#[derive(Default)]
struct Header {
    format: Option<String>,
    version: Option<u64>,
    schema: Option<String>,
}

impl Header {
    fn check(&self) -> Result<(), ArchiveError> {
        match self.format.as_deref() {
            Some(ARCHIVE_FORMAT) => {}
            Some(other) => return Err(ArchiveError::NotAnArchive(format!("its format is {other:?}"))),
            None => return Err(ArchiveError::NotAnArchive("it has no \"format\"".into())),
        }
        match self.version {
            Some(ARCHIVE_VERSION) => {}
            Some(other) => return Err(ArchiveError::Version(other)),
            None => return Err(ArchiveError::NotAnArchive("it has no \"version\"".into())),
        }
        match &self.schema {
            Some(schema) if crate::migration::known(schema) => Ok(()),
            Some(schema) => Err(ArchiveError::Schema(schema.clone())),
            None => Err(ArchiveError::NotAnArchive("it has no \"schema\"".into())),
        }
    }
}

/// Parses an archive, sending the header and then batches of rows.
fn parse<R: Read>(input: R, tx: &mpsc::Sender<Parsed>) -> Result<(), ArchiveError> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
    let failed = |err: serde_json::Error| {
        if err.line() == 1 && err.column() <= 1 {
            ArchiveError::NotAnArchive("the file is not JSON (a SQLite backup goes through `rapport restore`)".into())
        } else if err.is_eof() {
            ArchiveError::Malformed("the file ends early".into())
        } else {
            ArchiveError::Malformed(err.to_string())
        }
    };
    ArchiveSeed(tx).deserialize(&mut de).map_err(failed)?;
    de.end().map_err(failed)
}

fn send<E: de::Error>(tx: &mpsc::Sender<Parsed>, parsed: Parsed) -> Result<(), E> {
    tx.blocking_send(parsed).map_err(|_| E::custom("the import stopped"))
}

struct ArchiveSeed<'a>(&'a mpsc::Sender<Parsed>);

impl<'de> DeserializeSeed<'de> for ArchiveSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ArchiveSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Rapport archive")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut header = Some(Header::default());
        while let Some(key) = map.next_key::<String>()? {
            let Some(fields) = header.as_mut() else {
                return Err(de::Error::custom(format!("{key:?} after the tables")));
            };
            match key.as_str() {
                "format" => fields.format = Some(map.next_value()?),
                "version" => fields.version = Some(map.next_value()?),
                "schema" => fields.schema = Some(map.next_value()?),
                "exported_at" => {
                    map.next_value::<String>()?;
                }
                "tables" => {
                    send(self.0, Parsed::Header(header.take().unwrap_or_default()))?;
                    map.next_value_seed(TablesSeed(self.0))?;
                }
                other => return Err(de::Error::custom(format!("unknown key {other:?}"))),
            }
        }
        match header {
            // No tables: the header still tells whether this is an archive at all.
            Some(header) => {
                send(self.0, Parsed::Header(header))?;
                Err(de::Error::custom("no tables"))
            }
            None => Ok(()),
        }
    }
}

struct TablesSeed<'a>(&'a mpsc::Sender<Parsed>);

impl<'de> DeserializeSeed<'de> for TablesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the tables, by name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let table = TABLES
                .iter()
                .find(|table| **table == key)
                .ok_or_else(|| de::Error::custom(format!("unknown table {key:?}")))?;
            map.next_value_seed(RowsSeed(table, self.0))?;
        }
        Ok(())
    }
}

struct RowsSeed<'a>(&'static str, &'a mpsc::Sender<Parsed>);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the rows of {}", self.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut batch = Vec::with_capacity(INSERT_BATCH);
        while let Some(row) = seq.next_element::<Map<String, Json>>()? {
            batch.push(row);
            if batch.len() == INSERT_BATCH {
                send(self.1, Parsed::Rows(self.0, std::mem::take(&mut batch)))?;
            }
        }
        if !batch.is_empty() {
            send(self.1, Parsed::Rows(self.0, batch))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rapport_testing::{Backend, TestDatabase};
    use sea_orm::prelude::Uuid;

    use super::*;
    use crate::entities::record_tags;

    rapport_testing::backend_tests!(keyset_batches_visit_every_row_once);

    /// A composite key read a few rows at a time: every row once, in key order.
    async fn keyset_batches_visit_every_row_once(backend: Backend) {
        let db = TestDatabase::new(backend).await;
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let mut insert = Query::insert();
        insert.into_table(record_tags::Entity).columns([
            record_tags::Column::EntityType,
            record_tags::Column::EntityId,
            record_tags::Column::Tag,
        ]);
        for entity_type in ["person", "company"] {
            for id in [Uuid::now_v7(), Uuid::now_v7()] {
                for tag in ["c", "a", "b"] {
                    insert.values_panic([entity_type.into(), id.into(), tag.into()]);
                }
            }
        }
        store.conn().execute(&insert).await.expect("insert tags");

        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let rows = read_batch::<record_tags::Entity, _>(store.conn(), after.as_deref(), 5).await.expect("a batch");
            let Some(last) = rows.last() else { break };
            after = Some(key_of::<record_tags::Entity>(last));
            seen.extend(rows);
        }
        let all = read_batch::<record_tags::Entity, _>(store.conn(), None, 100).await.expect("all rows");
        assert_eq!(all.len(), 12);
        assert_eq!(seen, all, "batches of 5 give the rows of one read, in the same order");
        assert_eq!(all[0].entity_type, "company");
        assert_eq!([&all[0].tag, &all[1].tag, &all[2].tag], ["a", "b", "c"]);
    }
}
