//! Importing people from outside (a CSV or vCard file, read and parsed by
//! `rapport-import`): each row creates a person or, when one of its emails
//! is already a person's (found through the `contact_points` index), updates
//! that person, so importing the same file twice adds nobody twice.

use rapport_domain::custom_fields::CustomValues;
use rapport_domain::records::{EmailEntry, LifecycleStage, PersonInput, Phone, PhoneEntry, Preferences};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, Email, FieldErrors};
use sea_orm::prelude::*;
use sea_orm::{ConnectionTrait, QuerySelect};

use super::people::{insert_person, person_from, replace_person};
use crate::entities::{contact_points, people};
use crate::{Result, StorageError, Store, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportMode {
    /// Every check and every upsert, then a rollback: the report tells what would happen.
    DryRun,
    /// One transaction for every row, committed only when no row is rejected.
    AllOrNothing,
    /// The valid rows, in batches that each commit on their own.
    SkipInvalid,
}

/// One row's values, already parsed. What a row leaves out (an empty cell,
/// a column the file does not have) is left as it is on an update: an import
/// never clears a field. Emails, phones and tags are added to a person's own.
#[derive(Clone, Debug, Default)]
pub struct PersonImport {
    /// Where the row starts in the file, for the report.
    pub line: u64,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
    pub emails: Vec<Email>,
    pub phones: Vec<Phone>,
    pub job_title: Option<Name>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<Name>,
    pub tags: Vec<Tag>,
    pub keep_in_touch_days: Option<i32>,
    pub custom_fields: CustomValues,
}

/// A row that was not imported, with every field's reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub line: u64,
    pub errors: FieldErrors,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<Rejection>,
    /// Whether anything was committed.
    pub written: bool,
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// An import fed batch by batch, so a file of any size is never held whole.
/// Skip-invalid commits each batch in its own transaction (whole batches
/// survive a killed import, and no transaction holds the SQLite writer for
/// the whole file); dry run and all-or-nothing keep one transaction open
/// across every batch and decide at `finish`. Dropped unfinished, the open
/// transaction rolls back.
pub struct ImportBatches {
    store: Store,
    actor: Actor,
    mode: ImportMode,
    open: Option<Write>,
    report: ImportReport,
}

impl Store {
    /// Starts an import as `actor`: feed it batches (`people`, ...), then `finish` it.
    pub async fn begin_import(&self, actor: &Actor, mode: ImportMode) -> Result<ImportBatches> {
        let open = match mode {
            ImportMode::SkipInvalid => None,
            ImportMode::DryRun | ImportMode::AllOrNothing => Some(self.begin_write().await?),
        };
        Ok(ImportBatches { store: self.clone(), actor: *actor, mode, open, report: ImportReport::default() })
    }
}

impl ImportBatches {
    /// What the import has done so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// A row the caller could not parse: it counts as rejected, so
    /// all-or-nothing then writes nothing.
    pub fn reject(&mut self, rejection: Rejection) {
        self.report.rejected.push(rejection);
    }

    /// Upserts a batch of people. Invalid rows are reported, not returned as
    /// errors; a database error stops the import.
    pub async fn people(&mut self, rows: Vec<PersonImport>) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        for row in rows {
            import_row(&**w, &self.actor, row, &mut self.report).await?;
        }
        self.end_batch().await
    }

    /// Opens this batch's transaction, unless one stays open across batches.
    async fn open_batch(&mut self) -> Result<()> {
        if self.open.is_none() {
            self.open = Some(self.store.begin_write().await?);
        }
        Ok(())
    }

    async fn end_batch(&mut self) -> Result<()> {
        if self.mode == ImportMode::SkipInvalid
            && let Some(w) = self.open.take()
        {
            w.commit().await?;
            self.report.written = true;
        }
        Ok(())
    }

    /// Commits all-or-nothing when no row was rejected; rolls back a dry
    /// run, or all-or-nothing with a rejected row. Rejections come in line order.
    pub async fn finish(mut self) -> Result<ImportReport> {
        if let Some(w) = self.open.take() {
            if self.mode == ImportMode::AllOrNothing && self.report.rejected.is_empty() {
                w.commit().await?;
                self.report.written = true;
            } else {
                w.rollback().await?;
            }
        }
        self.report.rejected.sort_by_key(|r| r.line);
        Ok(self.report)
    }
}

/// Imports one row; a row the domain refuses, or the actor may not change,
/// goes to the report. Both are found before the row writes anything, so
/// the transaction stays usable for the next row.
async fn import_row<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: PersonImport,
    report: &mut ImportReport,
) -> Result<()> {
    let line = row.line;
    match upsert(conn, actor, row).await {
        Ok(Outcome::Created) => report.created += 1,
        Ok(Outcome::Updated) => report.updated += 1,
        Ok(Outcome::Unchanged) => report.unchanged += 1,
        Err(StorageError::Invalid(errors)) => report.rejected.push(Rejection { line, errors }),
        Err(StorageError::Denied(denied)) => {
            report.rejected.push(Rejection { line, errors: FieldErrors::single("row", denied.to_string()) })
        }
        Err(other) => return Err(other),
    }
    Ok(())
}

async fn upsert<C: ConnectionTrait>(conn: &C, actor: &Actor, row: PersonImport) -> Result<Outcome> {
    match find_by_emails(conn, &row.emails).await? {
        None => {
            let first_name =
                row.first_name.ok_or_else(|| FieldErrors::single("first_name", "is required for a new person"))?;
            let input = PersonInput {
                first_name,
                last_name: row.last_name,
                emails: row
                    .emails
                    .into_iter()
                    .map(|address| EmailEntry { address, label: None, primary: false })
                    .collect(),
                phones: row
                    .phones
                    .into_iter()
                    .map(|number| PhoneEntry { number, label: None, primary: false })
                    .collect(),
                job_title: row.job_title,
                company_id: None,
                owner_id: None,
                lifecycle_stage: row.lifecycle_stage.unwrap_or_default(),
                source: row.source,
                referred_by_id: None,
                tags: row.tags,
                preferences: Preferences::default(),
                keep_in_touch_days: row.keep_in_touch_days,
                custom_fields: row.custom_fields,
            };
            insert_person(conn, actor, input).await?;
            Ok(Outcome::Created)
        }
        Some(stored) => {
            let current = person_from(stored.clone())?.fields;
            let mut merged = current.clone();
            merge(&mut merged, row);
            // Normalized as it would be stored (tags sorted, one primary), so
            // a row that repeats what is stored compares equal.
            merged.check()?;
            if merged == current {
                return Ok(Outcome::Unchanged);
            }
            replace_person(conn, actor, stored, merged, None).await.map_err(|err| match err {
                // Say which column led to a person the actor may not change.
                StorageError::Denied(denied) => {
                    FieldErrors::single("emails", format!("belongs to a person you may not change: {denied}")).into()
                }
                other => other,
            })?;
            Ok(Outcome::Updated)
        }
    }
}

fn merge(person: &mut PersonInput, row: PersonImport) {
    if let Some(first_name) = row.first_name {
        person.first_name = first_name;
    }
    if row.last_name.is_some() {
        person.last_name = row.last_name;
    }
    if row.job_title.is_some() {
        person.job_title = row.job_title;
    }
    if let Some(stage) = row.lifecycle_stage {
        person.lifecycle_stage = stage;
    }
    if row.source.is_some() {
        person.source = row.source;
    }
    if row.keep_in_touch_days.is_some() {
        person.keep_in_touch_days = row.keep_in_touch_days;
    }
    for address in row.emails {
        if !person.emails.iter().any(|e| e.address == address) {
            person.emails.push(EmailEntry { address, label: None, primary: false });
        }
    }
    for number in row.phones {
        if !person.phones.iter().any(|p| p.number.digits() == number.digits()) {
            person.phones.push(PhoneEntry { number, label: None, primary: false });
        }
    }
    person.tags.extend(row.tags);
    person.custom_fields.extend(row.custom_fields);
}

/// The one person holding any of these addresses; none when no address is
/// known. Addresses of two different people make the row ambiguous.
async fn find_by_emails<C: ConnectionTrait>(conn: &C, emails: &[Email]) -> Result<Option<people::Model>> {
    if emails.is_empty() {
        return Ok(None);
    }
    let ids: Vec<Uuid> = contact_points::Entity::find()
        .select_only()
        .column(contact_points::Column::PersonId)
        .distinct()
        .filter(contact_points::Column::Kind.eq("email"))
        .filter(contact_points::Column::Value.is_in(emails.iter().map(|e| e.as_str())))
        .into_tuple()
        .all(conn)
        .await?;
    match ids.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some(people::Entity::find_by_id(*id).one(conn).await?.ok_or(StorageError::NotFound("person"))?)),
        _ => {
            Err(FieldErrors::single("emails", format!("the addresses belong to {} different people", ids.len())).into())
        }
    }
}
