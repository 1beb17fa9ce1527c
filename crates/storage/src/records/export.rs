//! One record type as CSV, for spreadsheets: a header row, one row per record
//! in id order, lists joined with "; ", money as an amount in major units
//! plus its currency, and one `cf.<key>` column per custom field. Records
//! are read in keyset batches and written as they are read: each record is
//! exported once even while others are written, though not from one
//! snapshot (the archive is the consistent copy).

use std::collections::HashSet;

use rapport_domain::custom_fields::CustomValues;
use rapport_domain::history::RecordKind;
use rapport_domain::money::Money;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::activities::activity_from;
use super::companies::company_from;
use super::deals::deal_from;
use super::people::person_from;
use super::purchases::purchase_from;
use super::tasks::task_from;
use super::tickets::ticket_from;
use crate::archive::{ArchiveError, key_of, read_batch};
use crate::entities::{activities, companies, deals, people, purchases, tasks, tickets};
use crate::{StorageError, Store};

const BATCH: u64 = 1_000;

const PEOPLE: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "emails",
    "phones",
    "birthday",
    // The primary address, in the columns an import reads as one.
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "job_title",
    "company_id",
    "owner_id",
    "lifecycle_stage",
    "source",
    "referred_by_id",
    "tags",
    "do_not_contact",
    "keep_in_touch_days",
    "last_contacted_at",
    "created_at",
    "updated_at",
    "version",
    "external_id",
];
const COMPANIES: &[&str] = &[
    "id",
    "name",
    "domain",
    "industry",
    "size",
    "owner_id",
    "tags",
    "created_at",
    "updated_at",
    "version",
    "external_id",
];
const DEALS: &[&str] = &[
    "id",
    "name",
    "amount",
    "currency",
    "pipeline_id",
    "stage_id",
    "person_id",
    "company_id",
    "owner_id",
    "expected_close",
    "status",
    "lost_reason",
    "closed_at",
    "tags",
    "created_at",
    "updated_at",
    "version",
    "external_id",
];
const ACTIVITIES: &[&str] = &[
    "id",
    "kind",
    "direction",
    "occurred_at",
    "subject",
    "body",
    "author_id",
    "person_id",
    "company_id",
    "deal_id",
    "created_at",
    "updated_at",
    "version",
    "external_id",
];
const TASKS: &[&str] = &[
    "id",
    "title",
    "notes",
    "due_at",
    "assignee_id",
    "done_at",
    "person_id",
    "company_id",
    "deal_id",
    "created_at",
    "updated_at",
    "version",
];
const PURCHASES: &[&str] = &[
    "id",
    "person_id",
    "occurred_at",
    "amount",
    "currency",
    "reference",
    "description",
    "created_at",
    "updated_at",
    "version",
];
const TICKETS: &[&str] = &[
    "id",
    "subject",
    "requester_id",
    "company_id",
    "channel",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "tags",
    "sla_policy_id",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "first_responded_at",
    "solved_at",
    "closed_at",
    "message_count",
    "created_at",
    "updated_at",
    "version",
    "external_id",
];

/// One CSV row's cells, and the record's custom values when it has them.
type Cells = (Vec<String>, Option<CustomValues>);

impl Store {
    /// Writes every record of `kind` to `out` as CSV; returns how many.
    pub async fn export_csv<W: AsyncWrite + Unpin>(&self, kind: RecordKind, out: W) -> Result<u64, ArchiveError> {
        self.export_rows(kind, None, out).await
    }

    /// Writes the records of `kind` among `ids` to `out` as CSV (a list's
    /// selection), in the same columns; returns how many.
    pub async fn export_csv_of<W: AsyncWrite + Unpin>(
        &self,
        kind: RecordKind,
        ids: &[uuid::Uuid],
        out: W,
    ) -> Result<u64, ArchiveError> {
        let only: HashSet<String> = ids.iter().map(uuid::Uuid::to_string).collect();
        self.export_rows(kind, Some(&only), out).await
    }

    async fn export_rows<W: AsyncWrite + Unpin>(
        &self,
        kind: RecordKind,
        only: Option<&HashSet<String>>,
        out: W,
    ) -> Result<u64, ArchiveError> {
        let keys: Vec<String> = match kind.custom_fields() {
            Some(entity) => {
                self.list_custom_fields(Some(entity)).await?.into_iter().map(|d| String::from(d.field.key)).collect()
            }
            None => Vec::new(),
        };
        let db = self.conn();
        match kind {
            RecordKind::People => {
                write_csv::<people::Entity, _, _, _>(db, PEOPLE, &keys, only, out, |row| {
                    let p = person_from(row)?;
                    let f = p.fields;
                    let address = f.addresses.iter().find(|a| a.primary).cloned().unwrap_or_default();
                    let cells = vec![
                        p.id.to_string(),
                        f.first_name.to_string(),
                        opt(f.last_name),
                        join(f.emails.iter().map(|e| e.address.as_str())),
                        join(f.phones.iter().map(|e| e.number.as_str())),
                        opt(f.birthday),
                        opt(address.street),
                        opt(address.locality),
                        opt(address.region),
                        opt(address.postal_code.map(String::from)),
                        opt(address.country),
                        opt(f.job_title),
                        opt(f.company_id),
                        opt(f.owner_id),
                        f.lifecycle_stage.to_string(),
                        opt(f.source),
                        opt(f.referred_by_id),
                        join(f.tags.iter().map(|t| t.as_str())),
                        f.preferences.do_not_contact.to_string(),
                        opt(f.keep_in_touch_days),
                        opt_time(p.last_contacted_at),
                        time(p.meta.created_at),
                        time(p.meta.updated_at),
                        p.meta.version.to_string(),
                        opt(f.external_id.as_ref()),
                    ];
                    Ok((cells, Some(f.custom_fields)))
                })
                .await
            }
            RecordKind::Companies => {
                write_csv::<companies::Entity, _, _, _>(db, COMPANIES, &keys, only, out, |row| {
                    let c = company_from(row)?;
                    let f = c.fields;
                    let cells = vec![
                        c.id.to_string(),
                        f.name.to_string(),
                        f.domain.map(|d| d.as_str().to_owned()).unwrap_or_default(),
                        opt(f.industry),
                        opt(f.size),
                        opt(f.owner_id),
                        join(f.tags.iter().map(|t| t.as_str())),
                        time(c.meta.created_at),
                        time(c.meta.updated_at),
                        c.meta.version.to_string(),
                        opt(f.external_id.as_ref()),
                    ];
                    Ok((cells, Some(f.custom_fields)))
                })
                .await
            }
            RecordKind::Deals => {
                write_csv::<deals::Entity, _, _, _>(db, DEALS, &keys, only, out, |row| {
                    let d = deal_from(row)?;
                    let f = d.fields;
                    let cells = vec![
                        d.id.to_string(),
                        f.name.to_string(),
                        amount(f.amount),
                        f.amount.currency.to_string(),
                        f.pipeline_id.to_string(),
                        f.stage_id.to_string(),
                        opt(f.person_id),
                        opt(f.company_id),
                        opt(f.owner_id),
                        opt(f.expected_close),
                        f.status.to_string(),
                        opt(f.lost_reason),
                        opt_time(d.closed_at),
                        join(f.tags.iter().map(|t| t.as_str())),
                        time(d.meta.created_at),
                        time(d.meta.updated_at),
                        d.meta.version.to_string(),
                        opt(f.external_id.as_ref()),
                    ];
                    Ok((cells, Some(f.custom_fields)))
                })
                .await
            }
            RecordKind::Activities => {
                write_csv::<activities::Entity, _, _, _>(db, ACTIVITIES, &keys, only, out, |row| {
                    let a = activity_from(row)?;
                    let f = a.fields;
                    let cells = vec![
                        a.id.to_string(),
                        f.kind.to_string(),
                        opt(f.direction),
                        opt_time(f.occurred_at),
                        opt(f.subject),
                        opt(f.body),
                        opt(f.author_id),
                        opt(f.links.person_id),
                        opt(f.links.company_id),
                        opt(f.links.deal_id),
                        time(a.meta.created_at),
                        time(a.meta.updated_at),
                        a.meta.version.to_string(),
                        opt(a.external_id.as_ref()),
                    ];
                    Ok((cells, None))
                })
                .await
            }
            RecordKind::Tasks => {
                write_csv::<tasks::Entity, _, _, _>(db, TASKS, &keys, only, out, |row| {
                    let t = task_from(row)?;
                    let f = t.fields;
                    let cells = vec![
                        t.id.to_string(),
                        f.title.to_string(),
                        opt(f.notes),
                        opt_time(f.due_at),
                        opt(f.assignee_id),
                        opt_time(t.done_at),
                        opt(f.links.person_id),
                        opt(f.links.company_id),
                        opt(f.links.deal_id),
                        time(t.meta.created_at),
                        time(t.meta.updated_at),
                        t.meta.version.to_string(),
                    ];
                    Ok((cells, None))
                })
                .await
            }
            RecordKind::Purchases => {
                write_csv::<purchases::Entity, _, _, _>(db, PURCHASES, &keys, only, out, |row| {
                    let p = purchase_from(row)?;
                    let f = p.fields;
                    let cells = vec![
                        p.id.to_string(),
                        f.person_id.to_string(),
                        time(f.occurred_at),
                        amount(f.amount),
                        f.amount.currency.to_string(),
                        opt(f.reference),
                        opt(f.description),
                        time(p.meta.created_at),
                        time(p.meta.updated_at),
                        p.meta.version.to_string(),
                    ];
                    Ok((cells, None))
                })
                .await
            }
            RecordKind::Tickets => {
                write_csv::<tickets::Entity, _, _, _>(db, TICKETS, &keys, only, out, |row| {
                    let t = ticket_from(row)?;
                    let (f, c) = (t.fields, t.clocks);
                    let cells = vec![
                        t.id.to_string(),
                        f.subject.to_string(),
                        f.requester_id.to_string(),
                        opt(t.company_id),
                        f.channel.to_string(),
                        f.status.to_string(),
                        f.priority.to_string(),
                        opt(f.assignee_id),
                        opt(f.team_id),
                        join(f.tags.iter().map(|t| t.as_str())),
                        opt(c.sla_policy_id),
                        opt_time(c.first_response_due),
                        opt_time(c.next_response_due),
                        opt_time(c.resolution_due),
                        opt_time(c.first_responded_at),
                        opt_time(c.solved_at),
                        opt_time(c.closed_at),
                        t.message_count.to_string(),
                        time(t.meta.created_at),
                        time(t.meta.updated_at),
                        t.meta.version.to_string(),
                        opt(f.external_id),
                    ];
                    Ok((cells, Some(f.custom_fields)))
                })
                .await
            }
        }
    }
}

async fn write_csv<E, C, W, F>(
    db: &C,
    header: &[&str],
    keys: &[String],
    only: Option<&HashSet<String>>,
    mut out: W,
    cells: F,
) -> Result<u64, ArchiveError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    W: AsyncWrite + Unpin,
    F: Fn(E::Model) -> Result<Cells, StorageError>,
{
    let mut buf = Vec::new();
    let names = header.iter().map(|name| name.to_string()).chain(keys.iter().map(|key| format!("cf.{key}")));
    write_rows(&mut buf, [names.collect()])?;
    let mut count = 0;
    let mut after = None;
    loop {
        let rows = read_batch::<E, _>(db, after.as_deref(), BATCH).await?;
        let full = rows.len() as u64 == BATCH;
        after = rows.last().map(key_of::<E>);
        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            let (mut row, custom) = cells(row)?;
            // The first cell is the record's id.
            if only.is_some_and(|only| !row.first().is_some_and(|id| only.contains(id))) {
                continue;
            }
            if let Some(custom) = custom {
                row.extend(keys.iter().map(|key| custom.get(key).map(custom_text).unwrap_or_default()));
            }
            batch.push(row);
        }
        count += batch.len() as u64;
        write_rows(&mut buf, batch)?;
        out.write_all(&buf).await?;
        buf.clear();
        if !full {
            break;
        }
    }
    out.flush().await?;
    Ok(count)
}

/// Appends rows to `buf`, quoted as CSV.
fn write_rows(buf: &mut Vec<u8>, rows: impl IntoIterator<Item = Vec<String>>) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(buf);
    for row in rows {
        csv.write_record(&row).map_err(std::io::Error::other)?;
    }
    csv.flush()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn opt_time(at: Option<OffsetDateTime>) -> String {
    at.map(time).unwrap_or_default()
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

/// Major units without grouping, e.g. "12500.00": what spreadsheets read as a number.
fn amount(money: Money) -> String {
    money.input_text()
}

fn custom_text(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(text) => text.clone(),
        Json::Array(items) => items.iter().map(custom_text).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}
