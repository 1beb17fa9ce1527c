//! Importing people from outside (a CSV or vCard file, read and parsed by
//! `rapport-import`): each row creates a person or, when one of its emails
//! is already a person's (found through the `contact_points` index), updates
//! that person, so importing the same file twice adds nobody twice.

use rapport_domain::access::Action;
use rapport_domain::custom_fields::CustomValues;
use rapport_domain::records::{
    ActivityInput, ActivityKind, Birthday, CompanyInput, CompanySize, DealInput, DealStatus, Direction, Domain,
    EmailEntry, Language, LifecycleStage, Links, PersonInput, Phone, PhoneEntry, PostalAddress, Preferences,
    PurchaseInput, TimeZone, normalize_timestamp, now,
};
use rapport_domain::surveys::{AnswerSource, AnswerSubject, Question, QuestionKind, Response, Survey, SurveyInput};
use rapport_domain::text::{LongText, Name, Tag};
use rapport_domain::tickets::{TicketChannel, TicketInput, TicketPriority, TicketStatus};
use rapport_domain::{
    Actor, CompanyId, DealId, Email, FieldErrors, Money, PersonId, PipelineId, StageId, TeamId, UserId,
};
use sea_orm::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use time::{Date, OffsetDateTime};

use super::activities::{activity_from, insert_activities_known_as, insert_activity, replace_activity};
use super::answers::{RecordedAnswer, analyse, answer_by_external_id, answer_from, record_answer_in};
use super::companies::{company_from, insert_companies, insert_company, replace_company};
use super::deals::{deal_from, insert_deal, replace_deal};
use super::people::{email_holders, insert_people, insert_person, person_from, replace_person};
use super::purchases::{insert_purchase, insert_purchases, purchase_from, replace_purchase};
use super::surveys::survey_from;
use super::tickets::{insert_ticket, replace_ticket, ticket_from};
use crate::common::{ByKey, IN_LIST_CHUNK, check_assignment, ids_by_external_id, ownership};
use crate::entities::{
    activities, companies, contact_points, deals, people, pipelines, purchases, stages, surveys, teams, tickets, users,
};
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
    /// The person's id in the system the file came from: found by it first.
    pub external_id: Option<Name>,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
    pub emails: Vec<Email>,
    pub phones: Vec<Phone>,
    pub birthday: Option<Birthday>,
    /// Added to a person's own unless they have one with the same parts
    /// already; on a person who has addresses, a new one is not primary.
    pub addresses: Vec<PostalAddress>,
    pub job_title: Option<Name>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<Name>,
    pub tags: Vec<Tag>,
    pub keep_in_touch_days: Option<i32>,
    pub custom_fields: CustomValues,
    /// The company they work for, by name: created when no company has it.
    pub company_name: Option<Name>,
    /// Their preferred language and time zone (a vCard's LANG and TZ).
    pub language: Option<Language>,
    pub time_zone: Option<TimeZone>,
    /// A note for their timeline (a vCard's NOTE): added once, and not
    /// again when a later import carries the same text.
    pub note: Option<LongText>,
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
    /// Customers created because rows named them and `create_people` was on.
    pub people_created: u64,
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
    /// Batches written so far: see `analyze_looked_up_tables`.
    batches: u64,
}

impl Store {
    /// Starts an import as `actor`: feed it batches (`people`, ...), then `finish` it.
    pub async fn begin_import(&self, actor: &Actor, mode: ImportMode) -> Result<ImportBatches> {
        let open = match mode {
            ImportMode::SkipInvalid => None,
            ImportMode::DryRun | ImportMode::AllOrNothing => Some(self.begin_write().await?),
        };
        Ok(ImportBatches {
            store: self.clone(),
            actor: *actor,
            mode,
            open,
            report: ImportReport::default(),
            batches: 0,
        })
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
        import_people(&**w, &self.actor, rows, &mut self.report).await?;
        self.end_batch().await
    }

    /// Upserts a batch of companies: found by external id, else domain, else name.
    pub async fn companies(&mut self, rows: Vec<CompanyImport>) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        for row in rows {
            let line = row.line;
            let outcome = upsert_company(&**w, &self.actor, row).await;
            tally(outcome, line, &mut self.report)?;
        }
        self.end_batch().await
    }

    /// Upserts a batch of purchases: found by customer and reference.
    /// `create_people` creates the customers no person matches.
    pub async fn purchases(&mut self, rows: Vec<PurchaseImport>, create_people: bool) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        import_purchases(&**w, &self.actor, rows, create_people, &mut self.report).await?;
        self.end_batch().await
    }

    /// Upserts a batch of deals: found by external id.
    pub async fn deals(&mut self, rows: Vec<DealImport>, create_people: bool) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        for row in rows {
            let line = row.line;
            let outcome = upsert_deal(&**w, &self.actor, row, create_people, &mut self.report.people_created).await;
            tally(outcome, line, &mut self.report)?;
        }
        self.end_batch().await
    }

    /// Upserts a batch of activities: found by external id.
    pub async fn activities(&mut self, rows: Vec<ActivityImport>, create_people: bool) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        import_activities(&**w, &self.actor, rows, create_people, &mut self.report).await?;
        self.end_batch().await
    }

    /// Upserts a batch of tickets from another help desk: found by external id.
    pub async fn tickets(&mut self, rows: Vec<TicketImport>, create_people: bool) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        for row in rows {
            let line = row.line;
            let outcome = upsert_ticket(&**w, &self.actor, row, create_people, &mut self.report.people_created).await;
            tally(outcome, line, &mut self.report)?;
        }
        self.end_batch().await
    }

    /// Upserts a batch of survey answers: found by external id. Each survey
    /// the batch names is looked up once.
    pub async fn answers(&mut self, rows: Vec<AnswerImport>, create_people: bool) -> Result<()> {
        self.open_batch().await?;
        let w = self.open.as_ref().expect("a batch is open");
        let surveys = surveys_named(&**w, &rows).await?;
        for row in rows {
            let line = row.line;
            let outcome =
                upsert_answer(&**w, &self.actor, &surveys, row, create_people, &mut self.report.people_created).await;
            tally(outcome, line, &mut self.report)?;
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
        self.batches += 1;
        if self.batches.is_power_of_two() {
            let w = self.open.as_ref().expect("a batch is open");
            analyze_looked_up_tables(&**w).await?;
        }
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

/// The tables a batch's look-ups read (by email, external id, company
/// name, customer and reference).
const LOOKED_UP: &str = "people, contact_points, companies, purchases, activities, deals";

/// PostgreSQL plans a batch's look-ups (`IN` lists of a thousand emails or
/// names) from its statistics, which describe the tables as they were
/// before the import: after an import into empty tables it scanned the
/// whole of `contact_points` for every batch, so each batch cost more than
/// the last. Refreshed after batches 1, 2, 4, 8, ...: a few times in all,
/// while the tables double, inside the batch's transaction so they count
/// its rows. SQLite plans these look-ups by their indexes either way
/// (`Store::refresh_statistics` keeps its statistics between imports).
async fn analyze_looked_up_tables<C: ConnectionTrait>(conn: &C) -> Result<()> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_unprepared(&format!("ANALYZE {LOOKED_UP}")).await?;
    }
    Ok(())
}

/// Imports a batch of people. Who the rows name is looked up for the whole
/// batch at once (external ids, emails, companies); the rows that are new
/// people are checked and written together by `insert_people`. A row that
/// names someone stored, carries a note, or shares an email or external id
/// with an earlier row of the batch goes through `upsert` on its own, once
/// the new people before it are written, so it finds them.
async fn import_people<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: Vec<PersonImport>,
    report: &mut ImportReport,
) -> Result<()> {
    let stored = StoredKeys::read(conn, &rows).await?;
    let mut companies = stored.companies;
    create_named_companies(conn, actor, &rows, &mut companies).await?;
    let mut seen = HashSet::new();
    let mut new_people: Vec<(u64, PersonInput)> = Vec::new();
    for row in rows {
        let line = row.line;
        let keys: Vec<String> = row_keys(&row).collect();
        let repeats = keys.iter().any(|key| seen.contains(key));
        let known = keys.iter().any(|key| stored.people.contains(key));
        seen.extend(keys);
        if repeats || known || row.note.is_some() || row.first_name.is_none() {
            write_new_people(conn, actor, &mut new_people, report).await?;
            let outcome = upsert(conn, actor, row).await;
            tally(outcome, line, report)?;
            continue;
        }
        let company_id = match &row.company_name {
            Some(name) => match companies.get(&name.as_str().to_lowercase()) {
                Some(&id) => Some(id),
                None => match company_named(conn, actor, name).await {
                    Ok(id) => {
                        companies.insert(name.as_str().to_lowercase(), id);
                        Some(id)
                    }
                    Err(refused) => {
                        tally(Err(refused), line, report)?;
                        continue;
                    }
                },
            },
            None => None,
        };
        match new_person(row, company_id) {
            Ok(input) => new_people.push((line, input)),
            Err(refused) => tally(Err(refused), line, report)?,
        }
    }
    write_new_people(conn, actor, &mut new_people, report).await
}

/// Creates the companies the rows name that none is called yet, together,
/// and adds them to `companies`. A name refused here is left out: the rows
/// naming it are refused one by one, with the reason, by `company_named`.
async fn create_named_companies<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: &[PersonImport],
    companies: &mut HashMap<String, CompanyId>,
) -> Result<()> {
    // In the order the file names them, each name once.
    let mut keys = Vec::new();
    let mut inputs = Vec::new();
    let mut seen = HashSet::new();
    for name in rows.iter().filter_map(|row| row.company_name.as_ref()) {
        let key = name.as_str().to_lowercase();
        if !companies.contains_key(&key) && seen.insert(key.clone()) {
            keys.push(key);
            inputs.push(CompanyInput::named(name.clone()));
        }
    }
    for (key, created) in keys.into_iter().zip(insert_companies(conn, actor, inputs).await?) {
        if let Ok(company) = created {
            companies.insert(key, company.id);
        }
    }
    Ok(())
}

/// An import row's external id and emails, as `StoredKeys` holds them.
fn row_keys(row: &PersonImport) -> impl Iterator<Item = String> + '_ {
    let external = row.external_id.iter().map(|e| format!("external:{e}"));
    external.chain(row.emails.iter().map(|e| format!("email:{e}")))
}

/// What a batch of people rows names that is already stored.
struct StoredKeys {
    /// `row_keys` held by a stored person.
    people: HashSet<String>,
    /// Companies by lower-case name (the oldest of a name, as `company_named` finds).
    companies: HashMap<String, CompanyId>,
}

impl StoredKeys {
    async fn read<C: ConnectionTrait>(conn: &C, rows: &[PersonImport]) -> Result<Self> {
        let emails: BTreeSet<&str> = rows.iter().flat_map(|r| r.emails.iter().map(|e| e.as_str())).collect();
        let names: BTreeSet<String> =
            rows.iter().filter_map(|r| r.company_name.as_ref().map(|n| n.as_str().to_lowercase())).collect();
        let externals = rows.iter().filter_map(|r| r.external_id.as_ref().map(|e| e.as_str()));
        let held = ids_by_external_id::<people::Entity, _>(conn, externals).await?;
        let mut stored = StoredKeys {
            people: held.into_keys().map(|e| format!("external:{e}")).collect(),
            companies: HashMap::new(),
        };
        let holders = email_holders(conn, emails).await?;
        stored.people.extend(holders.into_iter().map(|(email, _)| format!("email:{email}")));
        for chunk in names.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
            let found: Vec<(String, Uuid)> = companies::Entity::find()
                .select_only()
                .column(companies::Column::SortName)
                .column(companies::Column::Id)
                .filter(companies::Column::SortName.is_in(chunk.iter().cloned()))
                .order_by_desc(companies::Column::CreatedAt)
                .into_tuple()
                .all(conn)
                .await?;
            // Newest first, so the oldest of a name is the one kept.
            stored.companies.extend(found.into_iter().map(|(name, id)| (name, CompanyId(id))));
        }
        Ok(stored)
    }
}

/// Writes the new people gathered so far and counts their outcomes.
async fn write_new_people<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    new_people: &mut Vec<(u64, PersonInput)>,
    report: &mut ImportReport,
) -> Result<()> {
    if new_people.is_empty() {
        return Ok(());
    }
    let (lines, inputs): (Vec<u64>, Vec<PersonInput>) = new_people.drain(..).unzip();
    tally_created(lines, insert_people(conn, actor, inputs).await?, report)
}

/// Counts one row's outcome. A row the domain refuses, or the actor may not
/// change, goes to the report: both are found before the row writes
/// anything, so the transaction stays usable for the next row. Any other
/// error stops the import.
fn tally(outcome: Result<Outcome>, line: u64, report: &mut ImportReport) -> Result<()> {
    match outcome {
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

async fn upsert<C: ConnectionTrait>(conn: &C, actor: &Actor, mut row: PersonImport) -> Result<Outcome> {
    let note = row.note.take();
    let (outcome, person) = upsert_person(conn, actor, row).await?;
    let noted = match note {
        Some(note) => add_note(conn, actor, person, note).await?,
        None => false,
    };
    // A person whose only news is a note has been updated too.
    Ok(if noted && matches!(outcome, Outcome::Unchanged) { Outcome::Updated } else { outcome })
}

/// The person a row names, created or brought up to date, and its id.
async fn upsert_person<C: ConnectionTrait>(conn: &C, actor: &Actor, row: PersonImport) -> Result<(Outcome, PersonId)> {
    let found = match &row.external_id {
        Some(external) => find_by_external_id::<people::Entity, _>(conn, external).await?,
        None => None,
    };
    let found = match found {
        Some(found) => Some(found),
        None => find_by_emails(conn, &row.emails).await?,
    };
    let company_id = match &row.company_name {
        Some(name) => Some(company_named(conn, actor, name).await?),
        None => None,
    };
    match found {
        None => {
            let person = insert_person(conn, actor, new_person(row, company_id)?).await?;
            Ok((Outcome::Created, person.id))
        }
        Some(stored) => {
            // An external id the person lacks is new: nobody else holds it (looked up first).
            let new_external = row.external_id.clone().filter(|e| stored.external_id.as_deref() != Some(e.as_str()));
            let current = person_from(stored.clone())?.fields;
            let mut merged = current.clone();
            merged.company_id = company_id.or(merged.company_id);
            merge(&mut merged, row);
            if new_external.is_some() {
                merged.external_id = new_external.clone();
            }
            // Normalized as it would be stored (tags sorted, one primary), so
            // a row that repeats what is stored compares equal.
            merged.check()?;
            if merged == current {
                return Ok((Outcome::Unchanged, PersonId(stored.id)));
            }
            if new_external.is_some() {
                actor.ensure_can(Action::Edit, &ownership(conn, stored.owner_id, stored.created_by).await?)?;
            }
            let person = replace_person(conn, actor, stored, merged, None).await.map_err(|err| match err {
                // Say which column led to a person the actor may not change.
                StorageError::Denied(denied) => {
                    FieldErrors::single("emails", format!("belongs to a person you may not change: {denied}")).into()
                }
                other => other,
            })?;
            Ok((Outcome::Updated, person.id))
        }
    }
}

/// A row naming nobody stored, as a new person's fields.
fn new_person(row: PersonImport, company_id: Option<CompanyId>) -> Result<PersonInput> {
    let first_name = row.first_name.ok_or_else(|| FieldErrors::single("first_name", "is required for a new person"))?;
    Ok(PersonInput {
        first_name,
        last_name: row.last_name,
        emails: row.emails.into_iter().map(|address| EmailEntry { address, label: None, primary: false }).collect(),
        phones: row.phones.into_iter().map(|number| PhoneEntry { number, label: None, primary: false }).collect(),
        birthday: row.birthday,
        addresses: row.addresses,
        job_title: row.job_title,
        company_id,
        owner_id: None,
        lifecycle_stage: row.lifecycle_stage.unwrap_or_default(),
        source: row.source,
        referred_by_id: None,
        tags: row.tags,
        preferences: Preferences { language: row.language, time_zone: row.time_zone, ..Default::default() },
        keep_in_touch_days: row.keep_in_touch_days,
        external_id: row.external_id,
        custom_fields: row.custom_fields,
    })
}

/// Adds a note to a person's timeline unless they already have one with
/// this text; whether it was added.
async fn add_note<C: ConnectionTrait>(conn: &C, actor: &Actor, person: PersonId, note: LongText) -> Result<bool> {
    let already = activities::Entity::find()
        .filter(activities::Column::PersonId.eq(person.0))
        .filter(activities::Column::Kind.eq(ActivityKind::Note.as_str()))
        .filter(activities::Column::Body.eq(note.as_str()))
        .count(conn)
        .await?;
    if already > 0 {
        return Ok(false);
    }
    let input = ActivityInput {
        kind: ActivityKind::Note,
        direction: None,
        occurred_at: None,
        subject: None,
        body: Some(note),
        author_id: None,
        links: Links { person_id: Some(person), company_id: None, deal_id: None },
    };
    insert_activity(conn, actor, input).await?;
    Ok(true)
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
    if row.language.is_some() {
        person.preferences.language = row.language;
    }
    if row.time_zone.is_some() {
        person.preferences.time_zone = row.time_zone;
    }
    if row.birthday.is_some() {
        person.birthday = row.birthday;
    }
    for mut address in row.addresses {
        let same = |a: &PostalAddress| {
            (&a.street, &a.locality, &a.region, &a.postal_code, &a.country)
                == (&address.street, &address.locality, &address.region, &address.postal_code, &address.country)
        };
        if !person.addresses.iter().any(same) {
            // The person's own primary address stays the primary one.
            address.primary &= person.addresses.is_empty();
            person.addresses.push(address);
        }
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
        [id] => Ok(Some(people::Entity::find_by_id(*id).by_key(conn).await?.ok_or(StorageError::NotFound("person"))?)),
        _ => {
            Err(FieldErrors::single("emails", format!("the addresses belong to {} different people", ids.len())).into())
        }
    }
}

/// The record of `E` holding this external id.
async fn find_by_external_id<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    external: &Name,
) -> Result<Option<E::Model>> {
    let column = E::Column::from_str("external_id").map_err(|_| StorageError::Corrupt("no external_id".into()))?;
    Ok(E::find().filter(column.eq(external.as_str())).one(conn).await?)
}

async fn set_external_id<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    external: Option<&Name>,
) -> Result<()> {
    let Some(external) = external else { return Ok(()) };
    let column = E::Column::from_str("external_id").map_err(|_| StorageError::Corrupt("no external_id".into()))?;
    let id_column = E::Column::from_str("id").map_err(|_| StorageError::Corrupt("no id".into()))?;
    E::update_many().col_expr(column, Expr::value(external.as_str())).filter(id_column.eq(id)).exec(conn).await?;
    Ok(())
}

/// A company's values from a row; what it leaves out stays as it is.
#[derive(Clone, Debug, Default)]
pub struct CompanyImport {
    pub line: u64,
    pub external_id: Option<Name>,
    pub name: Option<Name>,
    pub domain: Option<Domain>,
    pub industry: Option<Name>,
    pub size: Option<CompanySize>,
    pub tags: Vec<Tag>,
    pub custom_fields: CustomValues,
}

async fn upsert_company<C: ConnectionTrait>(conn: &C, actor: &Actor, row: CompanyImport) -> Result<Outcome> {
    let mut found = match &row.external_id {
        Some(external) => find_by_external_id::<companies::Entity, _>(conn, external).await?,
        None => None,
    };
    let holder = match &row.domain {
        Some(domain) => {
            companies::Entity::find().filter(companies::Column::Domain.eq(domain.as_str())).one(conn).await?
        }
        None => None,
    };
    if let (Some(found), Some(holder)) = (&found, &holder)
        && found.id != holder.id
    {
        return Err(FieldErrors::single("domain", "another company has this domain").into());
    }
    if found.is_none() {
        found = holder;
    }
    if found.is_none()
        && row.external_id.is_none()
        && row.domain.is_none()
        && let Some(name) = &row.name
    {
        // Nothing else to go by: the one company of this name, if there is one.
        let named = companies::Entity::find()
            .filter(companies::Column::SortName.eq(name.as_str().to_lowercase()))
            .limit(2)
            .all(conn)
            .await?;
        if let [one] = named.as_slice() {
            found = Some(one.clone());
        }
    }
    match found {
        None => {
            let name = row.name.ok_or_else(|| FieldErrors::single("name", "is required for a new company"))?;
            let input = CompanyInput {
                name,
                domain: row.domain,
                industry: row.industry,
                size: row.size,
                owner_id: None,
                tags: row.tags,
                external_id: row.external_id,
                custom_fields: row.custom_fields,
            };
            insert_company(conn, actor, input).await?;
            Ok(Outcome::Created)
        }
        Some(stored) => {
            let new_external = row.external_id.filter(|e| stored.external_id.as_deref() != Some(e.as_str()));
            let current = company_from(stored.clone())?.fields;
            let mut merged = current.clone();
            if let Some(name) = row.name {
                merged.name = name;
            }
            merged.domain = row.domain.or(merged.domain);
            merged.industry = row.industry.or(merged.industry);
            merged.size = row.size.or(merged.size);
            merged.tags.extend(row.tags);
            merged.custom_fields.extend(row.custom_fields);
            if new_external.is_some() {
                merged.external_id = new_external;
            }
            merged.check()?;
            if merged == current {
                return Ok(Outcome::Unchanged);
            }
            replace_company(conn, actor, stored, merged, None).await?;
            Ok(Outcome::Updated)
        }
    }
}

/// How a row names a customer: by external id or email, with a name for
/// one created when `create_people` is on.
#[derive(Clone, Debug, Default)]
pub struct CustomerRef {
    pub external_id: Option<Name>,
    pub email: Option<Email>,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
}

/// The customer a row names (external id first, then email); created when
/// missing and `create` is on, else the row is rejected.
async fn resolve_customer<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    customer: &CustomerRef,
    create: bool,
    created: &mut u64,
) -> Result<Uuid> {
    if let Some(external) = &customer.external_id
        && let Some(found) = find_by_external_id::<people::Entity, _>(conn, external).await?
    {
        return Ok(found.id);
    }
    if let Some(email) = &customer.email
        && let Some(found) = find_by_emails(conn, std::slice::from_ref(email)).await?
    {
        // Known by email but not yet by this external id: remember it.
        if let Some(external) = &customer.external_id
            && found.external_id.is_none()
        {
            set_external_id::<people::Entity, _>(conn, found.id, Some(external)).await?;
        }
        return Ok(found.id);
    }
    let (field, named) = match (&customer.external_id, &customer.email) {
        (Some(external), _) => ("customer_external_id", external.to_string()),
        (None, Some(email)) => ("customer_email", email.to_string()),
        (None, None) => {
            return Err(FieldErrors::single("customer_email", "name the customer by email or external id").into());
        }
    };
    if !create {
        return Err(FieldErrors::single(field, format!("no person has {named:?} (--create-people adds them)")).into());
    }
    let fallback =
        customer.email.as_ref().map(|e| e.as_str().split('@').next().unwrap_or_default().to_owned()).unwrap_or(named);
    let first_name = match &customer.first_name {
        Some(first) => first.clone(),
        None => Name::try_from(fallback.as_str()).map_err(|reason| FieldErrors::single(field, reason))?,
    };
    let input = PersonInput {
        first_name,
        last_name: customer.last_name.clone(),
        emails: customer
            .email
            .iter()
            .map(|address| EmailEntry { address: address.clone(), label: None, primary: true })
            .collect(),
        phones: Vec::new(),
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: LifecycleStage::Customer,
        source: None,
        referred_by_id: None,
        tags: Vec::new(),
        preferences: Preferences::default(),
        keep_in_touch_days: None,
        external_id: customer.external_id.clone(),
        custom_fields: CustomValues::default(),
    };
    let person = insert_person(conn, actor, input).await?;
    *created += 1;
    Ok(person.id.0)
}

/// A purchase from a row: its customer, and the reference that makes it one.
#[derive(Clone, Debug)]
pub struct PurchaseImport {
    pub line: u64,
    pub customer: CustomerRef,
    pub occurred_at: OffsetDateTime,
    pub amount: Money,
    /// The order number: a second import of the same (customer, reference) updates it.
    pub reference: Name,
    pub description: Option<LongText>,
}

/// Imports a batch of purchases. The customers the rows name are looked up
/// for the whole batch; the purchases of customers found that are new are
/// checked and written together by `insert_purchases`. A row whose customer
/// is not found as named (to be created, or known by email but not yet by
/// its external id), or that repeats an earlier row's customer and
/// reference, goes through `upsert_purchase` on its own, once the purchases
/// before it are written; so does one whose purchase is stored (an update).
async fn import_purchases<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: Vec<PurchaseImport>,
    create_people: bool,
    report: &mut ImportReport,
) -> Result<()> {
    let customers = StoredRefs::customers(conn, rows.iter().map(|r| &r.customer)).await?;
    let mut seen = HashSet::new();
    let mut new_purchases: Vec<(u64, PurchaseImport, PurchaseInput)> = Vec::new();
    for row in rows {
        let person = customers.find(row.customer.external_id.as_ref(), row.customer.email.as_ref().map(|e| e.as_str()));
        let fresh = person.is_some_and(|person| seen.insert((person, row.reference.to_string())));
        match person {
            Some(person) if fresh => {
                let input = PurchaseInput {
                    person_id: PersonId(person),
                    occurred_at: row.occurred_at,
                    amount: row.amount,
                    reference: Some(row.reference.clone()),
                    description: row.description.clone(),
                };
                new_purchases.push((row.line, row, input));
            }
            _ => {
                write_new_purchases(conn, actor, &mut new_purchases, create_people, report).await?;
                let line = row.line;
                let outcome = upsert_purchase(conn, actor, row, create_people, &mut report.people_created).await;
                tally(outcome, line, report)?;
            }
        }
    }
    write_new_purchases(conn, actor, &mut new_purchases, create_people, report).await
}

/// Writes the purchases gathered so far together; those `insert_purchases`
/// refuses as stored already (an earlier import's) are updated one by one.
async fn write_new_purchases<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    gathered: &mut Vec<(u64, PurchaseImport, PurchaseInput)>,
    create_people: bool,
    report: &mut ImportReport,
) -> Result<()> {
    if gathered.is_empty() {
        return Ok(());
    }
    let (rows, inputs): (Vec<_>, Vec<_>) = gathered.drain(..).map(|(line, row, input)| ((line, row), input)).unzip();
    for ((line, row), outcome) in rows.into_iter().zip(insert_purchases(conn, actor, inputs).await?) {
        match outcome {
            Err(StorageError::Conflict(_)) => {
                let outcome = upsert_purchase(conn, actor, row, create_people, &mut report.people_created).await;
                tally(outcome, line, report)?;
            }
            other => tally(other.map(|_| Outcome::Created), line, report)?,
        }
    }
    Ok(())
}

/// Who the references of a batch name, looked up at once: a record by its
/// external id, else by a second key (a customer's email, a company's
/// lower-case name) that must name exactly one.
struct StoredRefs {
    by_external_id: HashMap<String, Uuid>,
    by_key: HashMap<String, Vec<Uuid>>,
}

impl StoredRefs {
    /// Customers, by external id or email.
    async fn customers<'a, C: ConnectionTrait>(conn: &C, refs: impl Iterator<Item = &'a CustomerRef>) -> Result<Self> {
        let (externals, emails): (BTreeSet<_>, BTreeSet<_>) = refs
            .map(|r| (r.external_id.as_ref().map(|e| e.to_string()), r.email.as_ref().map(|e| e.to_string())))
            .unzip();
        let mut stored = StoredRefs {
            by_external_id: ids_by_external_id::<people::Entity, _>(
                conn,
                externals.iter().flatten().map(String::as_str),
            )
            .await?,
            by_key: HashMap::new(),
        };
        stored.add_keys(email_holders(conn, emails.iter().flatten().map(String::as_str)).await?);
        Ok(stored)
    }

    /// Companies, by external id or name.
    async fn companies<'a, C: ConnectionTrait>(conn: &C, refs: impl Iterator<Item = &'a CompanyRef>) -> Result<Self> {
        let (externals, names): (BTreeSet<_>, BTreeSet<_>) = refs
            .map(|r| {
                (r.external_id.as_ref().map(|e| e.to_string()), r.name.as_ref().map(|n| n.as_str().to_lowercase()))
            })
            .unzip();
        let mut stored = StoredRefs {
            by_external_id: ids_by_external_id::<companies::Entity, _>(
                conn,
                externals.iter().flatten().map(String::as_str),
            )
            .await?,
            by_key: HashMap::new(),
        };
        for chunk in names.into_iter().flatten().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
            let found: Vec<(String, Uuid)> = companies::Entity::find()
                .select_only()
                .column(companies::Column::SortName)
                .column(companies::Column::Id)
                .filter(companies::Column::SortName.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(conn)
                .await?;
            stored.add_keys(found);
        }
        Ok(stored)
    }

    fn add_keys(&mut self, found: Vec<(String, Uuid)>) {
        for (key, id) in found {
            let holders = self.by_key.entry(key).or_default();
            if !holders.contains(&id) {
                holders.push(id);
            }
        }
    }

    /// The one record a reference names, as `resolve_customer` and
    /// `resolve_company` would find it without writing anything; `None`
    /// when they would do more (create, remember an external id) or refuse.
    fn find(&self, external_id: Option<&Name>, key: Option<&str>) -> Option<Uuid> {
        if let Some(external) = external_id {
            return self.by_external_id.get(external.as_str()).copied();
        }
        match self.by_key.get(key?)?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// Counts the outcomes of rows written together.
fn tally_created<T>(lines: Vec<u64>, outcomes: Vec<Result<T>>, report: &mut ImportReport) -> Result<()> {
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        tally(outcome.map(|_| Outcome::Created), line, report)?;
    }
    Ok(())
}

async fn upsert_purchase<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: PurchaseImport,
    create_people: bool,
    people_created: &mut u64,
) -> Result<Outcome> {
    let person = resolve_customer(conn, actor, &row.customer, create_people, people_created).await?;
    let mut input = PurchaseInput {
        person_id: PersonId(person),
        occurred_at: row.occurred_at,
        amount: row.amount,
        reference: Some(row.reference),
        description: row.description,
    };
    input.check()?;
    let stored = purchases::Entity::find()
        .filter(purchases::Column::PersonId.eq(person))
        .filter(purchases::Column::Reference.eq(input.reference.as_ref().map(|r| r.as_str())))
        .one(conn)
        .await?;
    match stored {
        None => {
            insert_purchase(conn, actor, input).await?;
            Ok(Outcome::Created)
        }
        Some(stored) => {
            if purchase_from(stored.clone())?.fields == input {
                return Ok(Outcome::Unchanged);
            }
            replace_purchase(conn, actor, stored, input, None).await?;
            Ok(Outcome::Updated)
        }
    }
}

impl CustomerRef {
    fn is_empty(&self) -> bool {
        self.external_id.is_none() && self.email.is_none()
    }
}

/// How a row names a company: by external id, or by name.
#[derive(Clone, Debug, Default)]
pub struct CompanyRef {
    pub external_id: Option<Name>,
    pub name: Option<Name>,
}

/// The company a row names; a row naming one that does not exist is rejected.
async fn resolve_company<C: ConnectionTrait>(conn: &C, company: &CompanyRef) -> Result<Option<Uuid>> {
    if let Some(external) = &company.external_id {
        return match find_by_external_id::<companies::Entity, _>(conn, external).await? {
            Some(found) => Ok(Some(found.id)),
            None => {
                Err(FieldErrors::single("company_external_id", format!("no company has {:?}", external.as_str()))
                    .into())
            }
        };
    }
    let Some(name) = &company.name else { return Ok(None) };
    let named = companies::Entity::find()
        .filter(companies::Column::SortName.eq(name.as_str().to_lowercase()))
        .limit(2)
        .all(conn)
        .await?;
    match named.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => Err(FieldErrors::single("company_name", format!("no company is called {:?}", name.as_str())).into()),
        _ => {
            Err(FieldErrors::single("company_name", format!("several companies are called {:?}", name.as_str())).into())
        }
    }
}

/// A deal from a row. What it leaves out stays as it is on an update.
#[derive(Clone, Debug)]
pub struct DealImport {
    pub line: u64,
    /// How a second import finds the deal.
    pub external_id: Name,
    pub name: Option<Name>,
    pub amount: Option<Money>,
    /// By name; the first pipeline when absent.
    pub pipeline: Option<Name>,
    /// By name within the pipeline; its first stage when absent.
    pub stage: Option<Name>,
    pub person: CustomerRef,
    pub company: CompanyRef,
    pub expected_close: Option<Date>,
    pub status: Option<DealStatus>,
    pub lost_reason: Option<LongText>,
    pub tags: Vec<Tag>,
    pub custom_fields: CustomValues,
}

/// The pipeline and stage a row names, by name (any case): the first
/// pipeline and its first stage when it names none.
async fn resolve_stage<C: ConnectionTrait>(
    conn: &C,
    pipeline: Option<&Name>,
    stage: Option<&Name>,
    current: Option<(Uuid, Uuid)>,
) -> Result<(PipelineId, StageId)> {
    let pipeline_id = match (pipeline, current) {
        (Some(name), _) => {
            let all = pipelines::Entity::find().all(conn).await?;
            all.iter()
                .find(|p| p.name.to_lowercase() == name.as_str().to_lowercase())
                .map(|p| p.id)
                .ok_or_else(|| FieldErrors::single("pipeline", format!("no pipeline is called {:?}", name.as_str())))?
        }
        (None, Some((pipeline, _))) => pipeline,
        (None, None) => pipelines::Entity::find()
            .order_by_asc(pipelines::Column::CreatedAt)
            .one(conn)
            .await?
            .map(|p| p.id)
            .ok_or_else(|| FieldErrors::single("pipeline", "there is no pipeline yet: add one first"))?,
    };
    let stages = stages::Entity::find()
        .filter(stages::Column::PipelineId.eq(pipeline_id))
        .order_by_asc(stages::Column::Position)
        .all(conn)
        .await?;
    let stage_id = match (stage, current) {
        (Some(name), _) => stages
            .iter()
            .find(|s| s.name.to_lowercase() == name.as_str().to_lowercase())
            .map(|s| s.id)
            .ok_or_else(|| FieldErrors::single("stage", format!("the pipeline has no stage {:?}", name.as_str())))?,
        (None, Some((pipeline, stage))) if pipeline == pipeline_id => stage,
        _ => stages.first().map(|s| s.id).ok_or_else(|| FieldErrors::single("stage", "the pipeline has no stages"))?,
    };
    Ok((PipelineId(pipeline_id), StageId(stage_id)))
}

async fn upsert_deal<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: DealImport,
    create_people: bool,
    people_created: &mut u64,
) -> Result<Outcome> {
    let stored = find_by_external_id::<deals::Entity, _>(conn, &row.external_id).await?;
    let company_id = resolve_company(conn, &row.company).await?.map(CompanyId);
    let person_id = if row.person.is_empty() {
        None
    } else {
        Some(PersonId(resolve_customer(conn, actor, &row.person, create_people, people_created).await?))
    };
    match stored {
        None => {
            let name = row.name.ok_or_else(|| FieldErrors::single("name", "is required for a new deal"))?;
            let amount = row.amount.ok_or_else(|| FieldErrors::single("amount", "is required for a new deal"))?;
            let (pipeline_id, stage_id) = resolve_stage(conn, row.pipeline.as_ref(), row.stage.as_ref(), None).await?;
            let input = DealInput {
                name,
                amount,
                pipeline_id,
                stage_id,
                person_id,
                company_id,
                owner_id: None,
                expected_close: row.expected_close,
                status: row.status.unwrap_or(DealStatus::Open),
                lost_reason: row.lost_reason,
                tags: row.tags,
                external_id: Some(row.external_id),
                custom_fields: row.custom_fields,
            };
            insert_deal(conn, actor, input).await?;
            Ok(Outcome::Created)
        }
        Some(stored) => {
            let current = deal_from(stored.clone())?.fields;
            let mut merged = current.clone();
            if row.pipeline.is_some() || row.stage.is_some() {
                let now = Some((current.pipeline_id.0, current.stage_id.0));
                (merged.pipeline_id, merged.stage_id) =
                    resolve_stage(conn, row.pipeline.as_ref(), row.stage.as_ref(), now).await?;
            }
            if let Some(name) = row.name {
                merged.name = name;
            }
            merged.amount = row.amount.unwrap_or(merged.amount);
            merged.person_id = person_id.or(merged.person_id);
            merged.company_id = company_id.or(merged.company_id);
            merged.expected_close = row.expected_close.or(merged.expected_close);
            merged.status = row.status.unwrap_or(merged.status);
            merged.lost_reason = row.lost_reason.or(merged.lost_reason);
            merged.tags.extend(row.tags);
            merged.custom_fields.extend(row.custom_fields);
            merged.check()?;
            if merged == current {
                return Ok(Outcome::Unchanged);
            }
            replace_deal(conn, actor, stored, merged, None).await?;
            Ok(Outcome::Updated)
        }
    }
}

/// An activity from a row. What it leaves out stays as it is on an update.
#[derive(Clone, Debug)]
pub struct ActivityImport {
    pub line: u64,
    /// How a second import finds the activity.
    pub external_id: Name,
    pub kind: Option<ActivityKind>,
    pub direction: Option<Direction>,
    pub occurred_at: Option<OffsetDateTime>,
    pub subject: Option<Name>,
    pub body: Option<LongText>,
    pub customer: CustomerRef,
    pub company: CompanyRef,
    /// The deal it is about, by the deal's external id.
    pub deal_external_id: Option<Name>,
}

/// Imports a batch of activities. The activities, customers, companies
/// and deals the rows name are looked up for the whole batch; new
/// activities whose every reference is found are checked and written
/// together by `insert_activities_known_as`. Any other row (an update, a
/// repeat of an earlier row's external id, a customer to create, a name
/// that finds no one or several) goes through `upsert_activity` on its own,
/// once the activities before it are written.
async fn import_activities<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    rows: Vec<ActivityImport>,
    create_people: bool,
    report: &mut ImportReport,
) -> Result<()> {
    let stored = ids_by_external_id::<activities::Entity, _>(conn, rows.iter().map(|r| r.external_id.as_str())).await?;
    let customers = StoredRefs::customers(conn, rows.iter().map(|r| &r.customer)).await?;
    let companies = StoredRefs::companies(conn, rows.iter().map(|r| &r.company)).await?;
    let deals = ids_by_external_id::<deals::Entity, _>(
        conn,
        rows.iter().filter_map(|r| r.deal_external_id.as_ref().map(|e| e.as_str())),
    )
    .await?;
    let mut seen = HashSet::new();
    let mut new_activities: Vec<(u64, (ActivityInput, Option<Name>))> = Vec::new();
    for row in rows {
        let fresh = !stored.contains_key(row.external_id.as_str()) && seen.insert(row.external_id.to_string());
        let person_id = match row.customer.is_empty() {
            true => Some(None),
            false => customers
                .find(row.customer.external_id.as_ref(), row.customer.email.as_ref().map(|e| e.as_str()))
                .map(|p| Some(PersonId(p))),
        };
        let company_name = row.company.name.as_ref().map(|n| n.as_str().to_lowercase());
        let company_id = match (&row.company.external_id, &company_name) {
            (None, None) => Some(None),
            (external, name) => companies.find(external.as_ref(), name.as_deref()).map(Some),
        };
        let deal_id = match &row.deal_external_id {
            Some(external) => deals.get(external.as_str()).map(|d| Some(DealId(*d))),
            None => Some(None),
        };
        match (fresh, row.kind, person_id, company_id, deal_id) {
            (true, Some(kind), Some(person_id), Some(company_id), Some(deal_id)) => {
                let input = ActivityInput {
                    kind,
                    direction: row.direction,
                    occurred_at: row.occurred_at,
                    subject: row.subject,
                    body: row.body,
                    author_id: None,
                    links: Links { person_id, company_id: company_id.map(CompanyId), deal_id },
                };
                new_activities.push((row.line, (input, Some(row.external_id))));
            }
            _ => {
                write_new_activities(conn, actor, &mut new_activities, report).await?;
                let line = row.line;
                let outcome = upsert_activity(conn, actor, row, create_people, &mut report.people_created).await;
                tally(outcome, line, report)?;
            }
        }
    }
    write_new_activities(conn, actor, &mut new_activities, report).await
}

async fn write_new_activities<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    gathered: &mut Vec<(u64, (ActivityInput, Option<Name>))>,
    report: &mut ImportReport,
) -> Result<()> {
    if gathered.is_empty() {
        return Ok(());
    }
    let (lines, inputs): (Vec<u64>, Vec<_>) = gathered.drain(..).unzip();
    tally_created(lines, insert_activities_known_as(conn, actor, inputs).await?, report)
}

async fn upsert_activity<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: ActivityImport,
    create_people: bool,
    people_created: &mut u64,
) -> Result<Outcome> {
    let stored = find_by_external_id::<activities::Entity, _>(conn, &row.external_id).await?;
    let company_id = resolve_company(conn, &row.company).await?.map(CompanyId);
    let person_id = if row.customer.is_empty() {
        None
    } else {
        Some(PersonId(resolve_customer(conn, actor, &row.customer, create_people, people_created).await?))
    };
    let deal_id = match &row.deal_external_id {
        Some(external) => Some(DealId(
            find_by_external_id::<deals::Entity, _>(conn, external)
                .await?
                .ok_or_else(|| FieldErrors::single("deal_external_id", format!("no deal has {:?}", external.as_str())))?
                .id,
        )),
        None => None,
    };
    match stored {
        None => {
            let kind = row.kind.ok_or_else(|| FieldErrors::single("kind", "is required for a new activity"))?;
            let input = ActivityInput {
                kind,
                direction: row.direction,
                occurred_at: row.occurred_at,
                subject: row.subject,
                body: row.body,
                author_id: None,
                links: Links { person_id, company_id, deal_id },
            };
            let activity = insert_activity(conn, actor, input).await?;
            set_external_id::<activities::Entity, _>(conn, activity.id.0, Some(&row.external_id)).await?;
            Ok(Outcome::Created)
        }
        Some(stored) => {
            let current = activity_from(stored.clone())?.fields;
            let mut merged = current.clone();
            merged.kind = row.kind.unwrap_or(merged.kind);
            merged.direction = row.direction.or(merged.direction);
            merged.occurred_at = row.occurred_at.map(normalize_timestamp).or(merged.occurred_at);
            merged.subject = row.subject.or(merged.subject);
            merged.body = row.body.or(merged.body);
            merged.links.person_id = person_id.or(merged.links.person_id);
            merged.links.company_id = company_id.or(merged.links.company_id);
            merged.links.deal_id = deal_id.or(merged.links.deal_id);
            merged.check()?;
            if merged == current {
                return Ok(Outcome::Unchanged);
            }
            replace_activity(conn, actor, stored, merged, None).await?;
            Ok(Outcome::Updated)
        }
    }
}

/// The company with this name (in any case), created when there is none.
async fn company_named<C: ConnectionTrait>(conn: &C, actor: &Actor, name: &Name) -> Result<CompanyId> {
    let found = companies::Entity::find()
        .filter(companies::Column::SortName.eq(name.as_str().to_lowercase()))
        .order_by_asc(companies::Column::CreatedAt)
        .one(conn)
        .await?;
    if let Some(found) = found {
        return Ok(CompanyId(found.id));
    }
    Ok(insert_company(conn, actor, CompanyInput::named(name.clone())).await?.id)
}

/// A ticket from another help desk's export. What a row leaves out stays
/// as it is on an update.
#[derive(Clone, Debug)]
pub struct TicketImport {
    pub line: u64,
    /// The ticket's number in the help desk it came from: how a second import finds it.
    pub external_id: Name,
    pub subject: Option<Name>,
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub channel: Option<TicketChannel>,
    /// The requester.
    pub customer: CustomerRef,
    /// The staff member it is assigned to, by their sign-in email.
    pub assignee_email: Option<Email>,
    /// The team, by name.
    pub team: Option<Name>,
    pub tags: Vec<Tag>,
    /// When it was opened (a new ticket's clocks run from then; default: now).
    pub created_at: Option<OffsetDateTime>,
    pub custom_fields: CustomValues,
}

async fn upsert_ticket<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: TicketImport,
    create_people: bool,
    people_created: &mut u64,
) -> Result<Outcome> {
    let stored = find_by_external_id::<tickets::Entity, _>(conn, &row.external_id).await?;
    let requester = if row.customer.is_empty() {
        None
    } else {
        Some(PersonId(resolve_customer(conn, actor, &row.customer, create_people, people_created).await?))
    };
    let assignee_id = match &row.assignee_email {
        Some(email) => Some(UserId(
            users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(conn)
                .await?
                .ok_or_else(|| FieldErrors::single("assignee_email", format!("no staff member signs in as {email}")))?
                .id,
        )),
        None => None,
    };
    let team_id = match &row.team {
        // Teams are few: compared here, in any case.
        Some(name) => Some(TeamId(
            teams::Entity::find()
                .all(conn)
                .await?
                .into_iter()
                .find(|team| team.name.to_lowercase() == name.as_str().to_lowercase())
                .ok_or_else(|| FieldErrors::single("team", format!("no team is called {:?}", name.as_str())))?
                .id,
        )),
        None => None,
    };
    match stored {
        None => {
            let requester = requester.ok_or_else(|| {
                FieldErrors::single("customer_email", "a new ticket needs its requester (email or external id)")
            })?;
            let subject = row.subject.ok_or_else(|| FieldErrors::single("subject", "is required for a new ticket"))?;
            let mut input = TicketInput::new(requester, subject, row.channel.unwrap_or(TicketChannel::Email));
            input.priority = row.priority.unwrap_or(input.priority);
            input.assignee_id = assignee_id;
            input.team_id = team_id;
            input.tags = row.tags;
            input.custom_fields = row.custom_fields;
            input.external_id = Some(row.external_id);
            check_assignment(conn, actor, assignee_id, None, "assignee_email").await?;
            // A ticket cannot be opened closed: it is opened solved, then closed, as it happened.
            let status = row.status.unwrap_or(TicketStatus::New);
            input.status = if status == TicketStatus::Closed { TicketStatus::Solved } else { status };
            let created = insert_ticket(conn, actor, input.clone(), row.created_at.unwrap_or_else(now)).await?;
            if status == TicketStatus::Closed {
                input.status = TicketStatus::Closed;
                replace_ticket(conn, actor, created, input, None).await?;
            }
            Ok(Outcome::Created)
        }
        Some(stored) => {
            let current = ticket_from(stored.clone())?.fields;
            let mut merged = current.clone();
            merged.requester_id = requester.unwrap_or(merged.requester_id);
            merged.subject = row.subject.unwrap_or(merged.subject);
            merged.status = row.status.unwrap_or(merged.status);
            merged.priority = row.priority.unwrap_or(merged.priority);
            merged.channel = row.channel.unwrap_or(merged.channel);
            merged.assignee_id = assignee_id.or(merged.assignee_id);
            merged.team_id = team_id.or(merged.team_id);
            merged.tags.extend(row.tags);
            merged.custom_fields.extend(row.custom_fields);
            merged.check()?;
            if merged == current {
                return Ok(Outcome::Unchanged);
            }
            replace_ticket(conn, actor, stored, merged, None).await?;
            Ok(Outcome::Updated)
        }
    }
}

/// A survey answer from another tool's export (or a spreadsheet): found
/// again by its external id. What a row leaves out stays as it is on an
/// update.
#[derive(Clone, Debug)]
pub struct AnswerImport {
    pub line: u64,
    /// The answer's id in the tool it came from: how a second import finds it.
    pub external_id: Name,
    /// The survey, by its name (in any case) or its id.
    pub survey: Name,
    /// The customer who answered, by email.
    pub customer: CustomerRef,
    /// When it was answered (default: now, for a new answer).
    pub answered_at: Option<OffsetDateTime>,
    /// The answer to the survey's headline question (its first NPS, CSAT or CES), as written.
    pub score: Option<String>,
    /// The answer to the survey's first free-text question.
    pub comment: Option<String>,
    /// Other questions' answers by question key, as written (several
    /// choices separated by `;`).
    pub questions: BTreeMap<String, String>,
    /// The staff member the answer is about, by their sign-in email.
    pub staff_email: Option<Email>,
}

/// Why a row's survey was not found.
enum SurveyMiss {
    Unknown,
    Several,
}

/// The key a survey is looked up by: what the row wrote, in lower case.
fn survey_key(given: &Name) -> String {
    given.as_str().trim().to_lowercase()
}

/// The surveys a batch names, each looked up once: by id, else by name in
/// any case. Surveys are few, so they are read in one query and matched here.
async fn surveys_named<C: ConnectionTrait>(
    conn: &C,
    rows: &[AnswerImport],
) -> Result<HashMap<String, std::result::Result<Survey, SurveyMiss>>> {
    let wanted: BTreeSet<String> = rows.iter().map(|row| survey_key(&row.survey)).collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let all = surveys::Entity::find().all(conn).await?;
    let mut found = HashMap::with_capacity(wanted.len());
    for key in wanted {
        let by_id = Uuid::parse_str(&key).ok().and_then(|id| all.iter().find(|s| s.id == id));
        let named: Vec<&surveys::Model> = match by_id {
            Some(one) => vec![one],
            None => all.iter().filter(|s| s.name.to_lowercase() == key).collect(),
        };
        let resolved = match named.as_slice() {
            [one] => Ok(survey_from((*one).clone())?),
            [] => Err(SurveyMiss::Unknown),
            _ => Err(SurveyMiss::Several),
        };
        found.insert(key, resolved);
    }
    Ok(found)
}

async fn upsert_answer<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    surveys: &HashMap<String, std::result::Result<Survey, SurveyMiss>>,
    row: AnswerImport,
    create_people: bool,
    people_created: &mut u64,
) -> Result<Outcome> {
    actor.ensure_can_create()?;
    let named = row.survey.as_str();
    let survey = match surveys.get(&survey_key(&row.survey)) {
        Some(Ok(survey)) => survey,
        Some(Err(SurveyMiss::Several)) => {
            return Err(
                FieldErrors::single("survey", format!("several surveys are called {named:?}: give its id")).into()
            );
        }
        _ => return Err(FieldErrors::single("survey", format!("no survey is called {named:?} or has that id")).into()),
    };
    let stored = answer_by_external_id(conn, &row.external_id).await?.map(answer_from).transpose()?;
    // Checked before anything is written, so that a rejected row creates nobody.
    let mut given = answers_given(&survey.fields, &row)?;
    if let Some(stored) = stored.as_ref().filter(|stored| stored.survey_id == survey.id) {
        // What the row leaves out stays as it was answered.
        let asked = stored.responses.iter().filter(|(key, _)| survey.fields.questions.iter().any(|q| &q.key == *key));
        for (key, response) in asked {
            given.entry(key.as_str().to_owned()).or_insert_with(|| match response {
                Response::Score(score) => vec![score.to_string()],
                Response::Text(text) => vec![text.clone()],
                Response::Choices(choices) => choices.clone(),
            });
        }
    }
    let checked = survey.fields.check_answer(&given).map_err(|errors| answer_errors(&survey.fields, &row, errors))?;
    let staff_id = match &row.staff_email {
        Some(email) => Some(UserId(
            users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(conn)
                .await?
                .ok_or_else(|| FieldErrors::single("staff_email", format!("no staff member signs in as {email}")))?
                .id,
        )),
        None => None,
    };
    let person_id = PersonId(resolve_customer(conn, actor, &row.customer, create_people, people_created).await?);
    let subject = AnswerSubject {
        ticket_id: stored.as_ref().and_then(|s| s.subject.ticket_id),
        deal_id: stored.as_ref().and_then(|s| s.subject.deal_id),
        staff_id: staff_id.or(stored.as_ref().and_then(|s| s.subject.staff_id)),
    };
    let answered_at = row.answered_at.map(normalize_timestamp).or(stored.as_ref().map(|s| s.answered_at));
    if let Some(stored) = &stored
        && stored.survey_id == survey.id
        && stored.person_id == person_id
        && stored.subject == subject
        && stored.source == AnswerSource::Import
        && Some(stored.answered_at) == answered_at
        && stored.responses == checked.responses
    {
        return Ok(Outcome::Unchanged);
    }
    let input = RecordedAnswer {
        survey_id: survey.id,
        person_id,
        subject,
        given,
        answered_at,
        source: AnswerSource::Import,
        external_id: Some(row.external_id),
    };
    let analysis = analyse(&checked).await?;
    record_answer_in(conn, actor, survey, &checked, analysis, input).await?;
    Ok(if stored.is_some() { Outcome::Updated } else { Outcome::Created })
}

/// A row's answers by question key: `score` answers the headline question,
/// `comment` the first free-text one, `q_<key>` any question.
fn answers_given(survey: &SurveyInput, row: &AnswerImport) -> Result<BTreeMap<String, Vec<String>>> {
    let mut errors = FieldErrors::new();
    let mut given = BTreeMap::new();
    for (key, cell) in &row.questions {
        let multiple = survey.questions.iter().any(|q| q.key.as_str() == key && q.kind == QuestionKind::MultipleChoice);
        let values = if multiple {
            cell.split(';').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
        } else {
            vec![cell.clone()]
        };
        given.insert(key.clone(), values);
    }
    let mut fill = |field: &str, cell: &Option<String>, question: Option<&Question>, missing: &str| {
        let Some(cell) = cell else { return };
        match question {
            Some(q) if given.contains_key(q.key.as_str()) => errors
                .add(field, format!("answers {:?}, which the column q_{} answers too", q.key.as_str(), q.key.as_str())),
            Some(q) => {
                given.insert(q.key.as_str().to_owned(), vec![cell.clone()]);
            }
            None => errors.add(field, format!("the survey has no {missing} question")),
        }
    };
    fill("score", &row.score, survey.headline(), "NPS, CSAT or CES");
    fill("comment", &row.comment, comment_question(survey), "free-text");
    errors.into_result()?;
    Ok(given)
}

/// The question a `comment` column answers: the survey's first free-text one.
fn comment_question(survey: &SurveyInput) -> Option<&Question> {
    survey.questions.iter().find(|q| q.kind == QuestionKind::FreeText)
}

/// The survey's complaints about an answer, each named by the column that
/// gave it (`score`, `comment`, `q_<key>`) rather than the question's key.
fn answer_errors(survey: &SurveyInput, row: &AnswerImport, errors: FieldErrors) -> StorageError {
    let is = |q: Option<&Question>, key: &str| q.is_some_and(|q| q.key.as_str() == key);
    let mut named = FieldErrors::new();
    for (key, message) in errors.iter() {
        let field = if row.questions.contains_key(key) {
            format!("q_{key}")
        } else if is(survey.headline(), key) {
            "score".to_owned()
        } else if is(comment_question(survey), key) {
            "comment".to_owned()
        } else {
            format!("q_{key}")
        };
        named.add(field, message.clone());
    }
    named.into()
}
