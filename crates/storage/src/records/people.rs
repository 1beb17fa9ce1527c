//! People: the contacts at the centre of every relationship.

use rapport_domain::access::Action;
use rapport_domain::custom_fields::{CheckedValue, CustomFieldInput, EntityType};
use rapport_domain::records::{LifecycleStage, Person, PersonInput, Preferences, normalize_timestamp, now};
use rapport_domain::{Actor, CalendarMonth, CompanyId, FieldErrors, PersonId, Segment, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, QueryOrder, QuerySelect, Set};

use super::customer_insights::{bump_insights_version, in_current_generation};
use crate::common::*;
use crate::entities::{activities, companies, contact_points, customer_insight_rows, people, purchases};
use crate::history;
use crate::listing::{RELEVANCE, SortField, SortKind, SortValue};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};
use rapport_domain::surveys::NpsGroup;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonFilter {
    pub owner_id: Option<UserId>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub company_id: Option<CompanyId>,
    pub referred_by_id: Option<PersonId>,
    /// RFM segment, as the insights job last computed it.
    pub segment: Option<Segment>,
    /// Where their latest NPS answer falls.
    pub nps_group: Option<NpsGroup>,
    /// Customers whose first purchase (UTC, in the insights currency) was in
    /// this month, `YYYY-MM`: a cohort of the insights.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2025-03")]
    pub first_purchase_month: Option<CalendarMonth>,
    /// Customers with a purchase (UTC, in the insights currency) in this
    /// month, `YYYY-MM`; with `first_purchase_month`, a cohort's cell.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2025-06")]
    pub purchased_in: Option<CalendarMonth>,
}

impl crate::listing::ListShape for PersonFilter {
    const SORTS: &'static [&'static str] =
        &["name", "created_at", "updated_at", "last_contacted_at", "lifecycle_stage", RELEVANCE];
    const SEARCH_AND_TAGS: bool = true;
    const CONDITIONS: &'static [rapport_domain::conditions::FieldSpec] = rapport_domain::conditions::PEOPLE;
}

/// Last contact, never-contacted people first (at the epoch): the list's sort
/// key, written as the index `people_last_contacted` (migration m0003) is, so
/// the planner reads that index in order.
fn last_contact_key(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust("COALESCE(\"people\".\"last_contacted_at\", TIMESTAMPTZ '1970-01-01 00:00:00+00')")
        }
        _ => Expr::cust("COALESCE(\"people\".\"last_contacted_at\", '1970-01-01T00:00:00Z')"),
    }
}

/// The customers (with insights) matching the list's month filters, counted
/// as the cohorts are: purchases in the customer's insights currency, UTC.
fn bought_in_months(filter: &PersonFilter) -> sea_orm::sea_query::SelectStatement {
    let bought = |from: Option<time::OffsetDateTime>, to: time::OffsetDateTime| {
        let mut purchase = Query::select();
        purchase
            .expr(Expr::val(1))
            .from(purchases::Entity)
            .and_where(
                Expr::col((purchases::Entity, purchases::Column::PersonId))
                    .equals((customer_insight_rows::Entity, customer_insight_rows::Column::PersonId)),
            )
            .and_where(
                Expr::col((purchases::Entity, purchases::Column::Currency))
                    .equals((customer_insight_rows::Entity, customer_insight_rows::Column::Currency)),
            )
            .and_where(Expr::col((purchases::Entity, purchases::Column::OccurredAt)).lt(normalize_timestamp(to)));
        if let Some(from) = from {
            purchase.and_where(
                Expr::col((purchases::Entity, purchases::Column::OccurredAt)).gte(normalize_timestamp(from)),
            );
        }
        Expr::exists(purchase.to_owned())
    };
    let mut customers = Query::select();
    customers
        .column((customer_insight_rows::Entity, customer_insight_rows::Column::PersonId))
        .from(customer_insight_rows::Entity)
        .and_where(in_current_generation());
    if let Some(month) = filter.first_purchase_month {
        customers.and_where(bought(Some(month.start()), month.end())).and_where(bought(None, month.start()).not());
    }
    if let Some(month) = filter.purchased_in {
        customers.and_where(bought(Some(month.start()), month.end()));
    }
    customers.to_owned()
}

/// The lifecycle stage's place in the funnel (lead first, churned last), for sorting.
fn stage_order(stage: &str) -> i64 {
    LifecycleStage::ALL.iter().position(|s| s.as_str() == stage).map_or(i64::MAX, |i| i as i64)
}

fn stage_order_key() -> SimpleExpr {
    let whens: String = LifecycleStage::ALL
        .iter()
        .map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), stage_order(s.as_str())))
        .collect();
    Expr::cust(format!("(CASE \"people\".\"lifecycle_stage\"{whens} ELSE {} END)", i64::MAX))
}

pub(crate) fn person_from(row: people::Model) -> Result<Person> {
    Ok(Person {
        id: PersonId(row.id),
        fields: PersonInput {
            first_name: parse(row.first_name, "first name")?,
            last_name: parse_opt(row.last_name, "last name")?,
            emails: from_json(row.emails, "emails")?,
            phones: from_json(row.phones, "phones")?,
            birthday: parse_opt(row.birthday, "birthday")?,
            addresses: match row.addresses {
                Some(addresses) => from_json(addresses, "addresses")?,
                None => Vec::new(),
            },
            job_title: parse_opt(row.job_title, "job title")?,
            company_id: row.company_id.map(CompanyId),
            owner_id: row.owner_id.map(UserId),
            lifecycle_stage: parse_with(&row.lifecycle_stage, "lifecycle stage", LifecycleStage::parse)?,
            source: parse_opt(row.source, "source")?,
            referred_by_id: row.referred_by_id.map(PersonId),
            tags: from_json(row.tags, "tags")?,
            preferences: from_json::<Preferences>(row.preferences, "preferences")?,
            keep_in_touch_days: row.keep_in_touch_days,
            external_id: parse_opt(row.external_id, "external id")?,
            custom_fields: from_json(row.custom_fields, "custom fields")?,
        },
        last_contacted_at: row.last_contacted_at,
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

/// A person is found by name (either way round), email, phone, company and
/// the towns and countries of their addresses, and ranked by name and email.
pub(crate) fn search_text(input: &PersonInput, company_name: Option<&str>) -> String {
    let first = input.first_name.as_str();
    let (name, reversed) = match &input.last_name {
        Some(last) => (format!("{first} {last}"), format!("{last} {first}")),
        None => (first.to_owned(), String::new()),
    };
    let key = [name.as_str(), reversed.as_str()].into_iter().chain(input.emails.iter().map(|e| e.address.as_str()));
    let places = input.addresses.iter().flat_map(|a| [a.locality.as_ref(), a.country.as_ref()]).flatten();
    let rest = input.phones.iter().map(|p| p.number.as_str()).chain(company_name).chain(places.map(|n| n.as_str()));
    rapport_domain::search::document(key, rest)
}

/// A person's addresses as stored: null for none, as the people stored
/// before addresses existed have it.
fn addresses_json(input: &PersonInput) -> Option<Json> {
    (!input.addresses.is_empty()).then(|| to_json(&input.addresses))
}

fn sort_name(input: &PersonInput) -> String {
    let last = input.last_name.as_ref().map(|n| n.as_str()).unwrap_or("");
    format!("{} {}", last, input.first_name).trim().to_lowercase()
}

/// What checking people needs from the database, read once for a whole
/// batch: the custom field definitions, and the companies, referrers and
/// external ids the inputs name.
struct PeopleChecks {
    definitions: Vec<CustomFieldInput>,
    company_names: HashMap<Uuid, String>,
    referrers: HashSet<Uuid>,
    /// External ids already held, and by whom.
    external_ids: HashMap<String, Uuid>,
}

/// What a checked person needs stored besides its fields.
struct Checked {
    values: Vec<CheckedValue>,
    company_name: Option<String>,
}

impl PeopleChecks {
    async fn read<C: ConnectionTrait>(conn: &C, inputs: &[PersonInput]) -> Result<Self> {
        let companies: BTreeSet<Uuid> = inputs.iter().filter_map(|i| i.company_id.map(|c| c.0)).collect();
        let mut checks = PeopleChecks {
            definitions: definitions(conn, EntityType::Person).await?,
            company_names: HashMap::new(),
            referrers: existing_ids::<people::Entity, _>(
                conn,
                inputs.iter().filter_map(|i| i.referred_by_id.map(|p| p.0)),
            )
            .await?,
            external_ids: ids_by_external_id::<people::Entity, _>(
                conn,
                inputs.iter().filter_map(|i| i.external_id.as_ref().map(|e| e.as_str())),
            )
            .await?,
        };
        for chunk in companies.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
            let found: Vec<(Uuid, String)> = companies::Entity::find()
                .select_only()
                .column(companies::Column::Id)
                .column(companies::Column::Name)
                .filter(companies::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
            checks.company_names.extend(found);
        }
        Ok(checks)
    }

    /// Checks a person's fields and references, normalizing `input` as it
    /// will be stored; `this` is the person being changed, if any.
    fn check(&self, input: &mut PersonInput, this: Option<PersonId>) -> Result<Checked> {
        input.check()?;
        if let Some(referrer) = input.referred_by_id {
            if Some(referrer) == this {
                return Err(FieldErrors::single("referred_by_id", "a person cannot refer themselves").into());
            }
            if !self.referrers.contains(&referrer.0) {
                return Err(no_such("referred_by_id", "person"));
            }
        }
        if let Some(external) = &input.external_id
            && let Some(&holder) = self.external_ids.get(external.as_str())
            && Some(holder) != this.map(|p| p.0)
        {
            return Err(taken_external_id(external, holder, "person"));
        }
        let company_name = match input.company_id {
            Some(company) => {
                Some(self.company_names.get(&company.0).cloned().ok_or_else(|| no_such("company_id", "company"))?)
            }
            None => None,
        };
        let (values, stored) = checked_values(&self.definitions, &input.custom_fields)?;
        input.custom_fields = stored;
        Ok(Checked { values, company_name })
    }
}

fn contact_points_of(id: Uuid, input: &PersonInput) -> Vec<contact_points::ActiveModel> {
    let mut points: Vec<(&str, String)> = input.emails.iter().map(|e| ("email", e.address.to_string())).collect();
    points.extend(input.phones.iter().map(|p| ("phone", p.number.digits())));
    points.sort();
    points.dedup();
    points
        .into_iter()
        .map(|(kind, value)| contact_points::ActiveModel {
            person_id: Set(id),
            kind: Set(kind.to_owned()),
            value: Set(value),
        })
        .collect()
}

async fn write_contact_points<C: ConnectionTrait>(conn: &C, id: Uuid, input: &PersonInput) -> Result<()> {
    contact_points::Entity::delete_many().filter(contact_points::Column::PersonId.eq(id)).exec(conn).await?;
    insert_all(conn, contact_points_of(id, input)).await
}

/// Whether a new person may have an email address another person has.
/// Imports match people by email, so the API and the forms refuse it unless
/// the client says it wants a second person with that address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SharedEmail {
    #[default]
    Refuse,
    Allow,
}

/// The people holding these email addresses, as (address, person) pairs;
/// several people may share one address.
pub(crate) async fn email_holders<'a, C: ConnectionTrait>(
    conn: &C,
    addresses: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<(String, Uuid)>> {
    let addresses: BTreeSet<&str> = addresses.into_iter().collect();
    let mut holders = Vec::new();
    for chunk in addresses.into_iter().collect::<Vec<_>>().chunks(IN_LIST_CHUNK) {
        let found: Vec<(String, Uuid)> = contact_points::Entity::find()
            .select_only()
            .column(contact_points::Column::Value)
            .column(contact_points::Column::PersonId)
            .filter(contact_points::Column::Kind.eq("email"))
            .filter(contact_points::Column::Value.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        holders.extend(found);
    }
    Ok(holders)
}

/// Refuses `input` when one of its addresses is another person's, naming
/// the address (`emails[i].address`) and that person.
pub(crate) async fn refuse_taken_emails<C: ConnectionTrait>(
    conn: &C,
    input: &PersonInput,
    this: Option<PersonId>,
) -> Result<()> {
    if input.emails.is_empty() {
        return Ok(());
    }
    let mut select = contact_points::Entity::find()
        .filter(contact_points::Column::Kind.eq("email"))
        .filter(contact_points::Column::Value.is_in(input.emails.iter().map(|e| e.address.to_string())));
    if let Some(this) = this {
        select = select.filter(contact_points::Column::PersonId.ne(this.0));
    }
    let Some(point) = select.order_by_asc(contact_points::Column::PersonId).one(conn).await? else {
        return Ok(());
    };
    let index = input.emails.iter().position(|e| e.address.as_str() == point.value).unwrap_or(0);
    let owner = people::Entity::find_by_id(point.person_id).by_key(conn).await?;
    let name = owner
        .map(|p| [Some(p.first_name), p.last_name].into_iter().flatten().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Err(StorageError::Taken {
        field: format!("emails[{index}].address"),
        message: format!("{} is already the address of {name} ({})", point.value, point.person_id),
        existing: Some(point.person_id),
    })
}

/// Inserts one person inside the caller's transaction.
pub(crate) async fn insert_person<C: ConnectionTrait>(conn: &C, actor: &Actor, input: PersonInput) -> Result<Person> {
    only_outcome(insert_people(conn, actor, vec![input]).await?, "person")
}

/// Creates people together: each input is checked as one create would
/// check it, with what they share read once for all of them, and the valid
/// ones are written with a few multi-row statements (people, contact
/// points, index rows, history). The outcomes come back in input order; a
/// refused input writes nothing, and a database error fails the call.
pub(crate) async fn insert_people<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<PersonInput>,
) -> Result<Vec<Result<Person>>> {
    let mut checks = PeopleChecks::read(conn, &inputs).await?;
    let mut users = Users::default();
    let now = now();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut points = Vec::with_capacity(inputs.len());
    let mut index_rows = IndexRows::default();
    let mut outcomes = Vec::with_capacity(inputs.len());
    for mut input in inputs {
        let Some(checked) = passed(check_new(conn, actor, &checks, &mut users, &mut input).await, &mut outcomes)?
        else {
            continue;
        };
        let id = PersonId::new().0;
        if let Some(external) = &input.external_id {
            // Later inputs of the batch may not take it too.
            checks.external_ids.insert(external.to_string(), id);
        }
        rows.push(people::ActiveModel {
            id: Set(id),
            first_name: Set(input.first_name.to_string()),
            last_name: Set(input.last_name.as_ref().map(|n| n.to_string())),
            emails: Set(to_json(&input.emails)),
            phones: Set(to_json(&input.phones)),
            birthday: Set(input.birthday.map(String::from)),
            addresses: Set(addresses_json(&input)),
            job_title: Set(input.job_title.as_ref().map(|n| n.to_string())),
            company_id: Set(input.company_id.map(|c| c.0)),
            owner_id: Set(input.owner_id.map(|u| u.0)),
            lifecycle_stage: Set(input.lifecycle_stage.as_str().to_owned()),
            source: Set(input.source.as_ref().map(|n| n.to_string())),
            referred_by_id: Set(input.referred_by_id.map(|p| p.0)),
            tags: Set(to_json(&input.tags)),
            preferences: Set(to_json(&input.preferences)),
            keep_in_touch_days: Set(input.keep_in_touch_days),
            last_contacted_at: Set(None),
            custom_fields: Set(to_json(&input.custom_fields)),
            search_text: Set(search_text(&input, checked.company_name.as_deref())),
            sort_name: Set(sort_name(&input)),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            external_id: Set(input.external_id.as_ref().map(|e| e.to_string())),
        });
        points.extend(contact_points_of(id, &input));
        index_rows.add(EntityType::Person, id, &input.tags, &checked.values);
        outcomes.push(Ok(Person {
            id: PersonId(id),
            fields: input,
            last_contacted_at: None,
            meta: meta(now, now, Some(actor.user_id.0), 1),
        }));
    }
    insert_all(conn, rows).await?;
    insert_all(conn, points).await?;
    index_rows.write(conn).await?;
    history::created_all(conn, actor, outcomes.iter().filter_map(|outcome| outcome.as_ref().ok())).await?;
    Ok(outcomes)
}

/// One new person's checks, in the order a single create makes them; each
/// owner is looked up once (`users`).
async fn check_new<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    checks: &PeopleChecks,
    users: &mut Users,
    input: &mut PersonInput,
) -> Result<Checked> {
    actor.ensure_can_create()?;
    let checked = checks.check(input, None)?;
    users.check_assignment(conn, actor, input.owner_id, None, "owner_id").await?;
    Ok(checked)
}

/// Recomputes a person's last contact from their activities.
pub(crate) async fn refresh_last_contacted<C: ConnectionTrait>(conn: &C, person: Uuid) -> Result<()> {
    refresh_last_contacted_of(conn, [person]).await
}

/// Recomputes these people's last contact, a statement for many of them.
pub(crate) async fn refresh_last_contacted_of<C: ConnectionTrait>(
    conn: &C,
    people_ids: impl IntoIterator<Item = Uuid>,
) -> Result<()> {
    let latest = Query::select()
        .expr(Expr::col((activities::Entity, activities::Column::OccurredAt)).max())
        .from(activities::Entity)
        .and_where(
            Expr::col((activities::Entity, activities::Column::PersonId)).equals((people::Entity, people::Column::Id)),
        )
        .and_where(Expr::col((activities::Entity, activities::Column::Kind)).ne("note"))
        .and_where(Expr::col((activities::Entity, activities::Column::Direction)).ne("internal"))
        .to_owned();
    let ids: Vec<Uuid> = people_ids.into_iter().collect();
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        people::Entity::update_many()
            .col_expr(people::Column::LastContactedAt, SimpleExpr::SubQuery(None, Box::new(latest.clone().into())))
            .filter(people::Column::Id.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// After a company is renamed (or deleted: `None`), its people are found by the new name.
pub(crate) async fn refresh_company_people<C: ConnectionTrait>(
    conn: &C,
    company: Uuid,
    name: Option<&str>,
) -> Result<()> {
    let rows = people::Entity::find().filter(people::Column::CompanyId.eq(company)).all(conn).await?;
    for row in rows {
        let id = row.id;
        let person = person_from(row)?;
        people::Entity::update_many()
            .col_expr(people::Column::SearchText, Expr::value(search_text(&person.fields, name)))
            .filter(people::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Replaces a stored person's fields inside the caller's transaction, after
/// the access check and, when the client sent one, the version check.
pub(crate) async fn replace_person<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: people::Model,
    input: PersonInput,
    expected_version: Option<i64>,
) -> Result<Person> {
    let mut writer = PeopleWriter::read(conn, std::slice::from_ref(&input)).await?;
    writer.replace(conn, actor, row, input, expected_version).await
}

/// Writes a stored person's new fields, raising the version, without a
/// history entry: the caller checked the access and records what happened.
pub(crate) async fn write_person<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: people::Model,
    input: PersonInput,
) -> Result<Person> {
    let mut writer = PeopleWriter::read(conn, std::slice::from_ref(&input)).await?;
    writer.write(conn, actor, row, input).await
}

/// Changes stored people inside one transaction by the rules of a single
/// update, reading once what every change's checks need (the checks' reads,
/// each owner's team, each new owner's standing) and moving the insights
/// version on once: a bulk change of 10,000 people otherwise repeated a
/// dozen statements per person while holding SQLite's one writer.
pub(crate) struct PeopleWriter {
    checks: PeopleChecks,
    users: Users,
    insights_moved: bool,
}

impl PeopleWriter {
    /// Reads what checking `inputs` needs: every input the writer is given must be among them.
    pub(crate) async fn read<C: ConnectionTrait>(conn: &C, inputs: &[PersonInput]) -> Result<Self> {
        Ok(PeopleWriter {
            checks: PeopleChecks::read(conn, inputs).await?,
            users: Users::default(),
            insights_moved: false,
        })
    }

    /// Replaces a stored person's fields after the access check and, when
    /// the client sent one, the version check; records the change in the history.
    pub(crate) async fn replace<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        actor: &Actor,
        row: people::Model,
        input: PersonInput,
        expected_version: Option<i64>,
    ) -> Result<Person> {
        actor.ensure_can(Action::Edit, &self.users.ownership(conn, row.owner_id, row.created_by).await?)?;
        check_version(expected_version, row.version)?;
        let previous = person_from(row.clone())?;
        let person = self.write(conn, actor, row, input).await?;
        history::updated(conn, actor, &previous, person).await
    }

    /// Writes a stored person's new fields, raising the version, without a
    /// history entry: the caller checked the access and records what happened.
    pub(crate) async fn write<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        actor: &Actor,
        row: people::Model,
        mut input: PersonInput,
    ) -> Result<Person> {
        let id = row.id;
        let checked = self.checks.check(&mut input, Some(PersonId(id)))?;
        self.users.check_assignment(conn, actor, input.owner_id, row.owner_id, "owner_id").await?;
        // Contact points and index rows follow from these fields alone:
        // unchanged, they are left as they are.
        let emails = to_json(&input.emails);
        let phones = to_json(&input.phones);
        let tags = to_json(&input.tags);
        let custom_fields = to_json(&input.custom_fields);
        let points_changed = row.emails != emails || row.phones != phones;
        let index_changed = row.tags != tags || row.custom_fields != custom_fields;
        let version = row.version;
        let mut active: people::ActiveModel = row.into();
        // Only the columns that change are written: SQLite then leaves the
        // indexes (and the search index's trigger) of the others alone.
        active.first_name.set_ne(input.first_name.to_string());
        active.last_name.set_ne(input.last_name.as_ref().map(|n| n.to_string()));
        active.emails.set_ne(emails);
        active.phones.set_ne(phones);
        active.birthday.set_ne(input.birthday.map(String::from));
        active.addresses.set_ne(addresses_json(&input));
        active.job_title.set_ne(input.job_title.as_ref().map(|n| n.to_string()));
        active.company_id.set_ne(input.company_id.map(|c| c.0));
        active.owner_id.set_ne(input.owner_id.map(|u| u.0));
        active.lifecycle_stage.set_ne(input.lifecycle_stage.as_str().to_owned());
        active.source.set_ne(input.source.as_ref().map(|n| n.to_string()));
        active.referred_by_id.set_ne(input.referred_by_id.map(|p| p.0));
        active.tags.set_ne(tags);
        active.preferences.set_ne(to_json(&input.preferences));
        active.keep_in_touch_days.set_ne(input.keep_in_touch_days);
        active.external_id.set_ne(input.external_id.as_ref().map(|e| e.to_string()));
        active.custom_fields.set_ne(custom_fields);
        active.search_text.set_ne(search_text(&input, checked.company_name.as_deref()));
        active.sort_name.set_ne(sort_name(&input));
        active.updated_at = Set(now());
        active.version = Set(version + 1);
        let row = save(conn, active, people::Column::Version, version).await?;
        if !self.insights_moved {
            bump_insights_version(conn).await?;
            self.insights_moved = true;
        }
        if points_changed {
            write_contact_points(conn, id, &input).await?;
        }
        if index_changed {
            write_index_rows(conn, EntityType::Person, id, &input.tags, &checked.values).await?;
        }
        person_from(row)
    }
}

impl Store {
    pub async fn get_person(&self, id: PersonId) -> Result<Person> {
        person_from(
            people::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("person"))?,
        )
    }

    pub async fn list_people(&self, query: &ListQuery, filter: &PersonFilter) -> Result<Page<Person>> {
        let mut select = people::Entity::find();
        if let Some(owner) = filter.owner_id {
            select = select.filter(people::Column::OwnerId.eq(owner.0));
        }
        if let Some(stage) = filter.lifecycle_stage {
            select = select.filter(people::Column::LifecycleStage.eq(stage.as_str()));
        }
        if let Some(company) = filter.company_id {
            select = select.filter(people::Column::CompanyId.eq(company.0));
        }
        if let Some(referrer) = filter.referred_by_id {
            select = select.filter(people::Column::ReferredById.eq(referrer.0));
        }
        if let Some(segment) = filter.segment {
            let in_segment = Query::select()
                .column(customer_insight_rows::Column::PersonId)
                .from(customer_insight_rows::Entity)
                .and_where(in_current_generation())
                .and_where(customer_insight_rows::Column::Segment.eq(segment.as_str()))
                .to_owned();
            select = select.filter(people::Column::Id.in_subquery(in_segment));
        }
        if filter.first_purchase_month.is_some() || filter.purchased_in.is_some() {
            select = select.filter(people::Column::Id.in_subquery(bought_in_months(filter)));
        }
        if let Some(group) = filter.nps_group {
            let (low, high) = group.scores();
            // The person's latest NPS answer is in the group: no later NPS answer of theirs exists.
            select = select.filter(Expr::cust(format!(
                "\"people\".\"id\" IN (SELECT a.person_id FROM survey_answers a WHERE a.score_kind = 'nps' \
                 AND a.score BETWEEN {low} AND {high} AND NOT EXISTS (SELECT 1 FROM survey_answers b \
                 WHERE b.person_id = a.person_id AND b.score_kind = 'nps' \
                 AND (b.answered_at > a.answered_at OR (b.answered_at = a.answered_at AND b.id > a.id))))"
            )));
        }
        let select = query
            .apply_common(
                self.conn(),
                select,
                EntityType::Person,
                "people",
                people::Column::Id,
                people::Column::UpdatedAt,
            )
            .await?;
        let never = time::OffsetDateTime::UNIX_EPOCH;
        let fields = vec![
            SortField::new("name", Expr::col((people::Entity, people::Column::SortName)), SortKind::Text),
            SortField::new("created_at", Expr::col((people::Entity, people::Column::CreatedAt)), SortKind::Time),
            SortField::new("updated_at", Expr::col((people::Entity, people::Column::UpdatedAt)), SortKind::Time),
            SortField::new("last_contacted_at", last_contact_key(self.backend()), SortKind::Time),
            SortField::new("lifecycle_stage", stage_order_key(), SortKind::Int),
            query.relevance(self.backend(), "people", EntityType::Person),
        ];
        let page = query
            .fetch(self, select, people::Column::Id, fields, "name", |p, field| {
                let value = match field {
                    "created_at" => SortValue::Time(p.created_at),
                    "updated_at" => SortValue::Time(p.updated_at),
                    "last_contacted_at" => SortValue::Time(p.last_contacted_at.unwrap_or(never)),
                    "lifecycle_stage" => SortValue::Int(stage_order(&p.lifecycle_stage)),
                    RELEVANCE => query.relevance_key(&p.search_text, &p.sort_name),
                    _ => SortValue::Text(p.sort_name.clone()),
                };
                (value, p.id)
            })
            .await?;
        page.try_map(person_from)
    }

    pub async fn update_person(
        &self,
        actor: &Actor,
        id: PersonId,
        input: PersonInput,
        expected_version: Option<i64>,
    ) -> Result<Person> {
        let w = self.begin_write().await?;
        let row = people::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("person"))?;
        let person = replace_person(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(person)
    }

    /// Moves a person to the trash with their activities and purchases;
    /// deals and tasks stay, unlinked until the person is restored. Gives
    /// the trash entry the delete made, for an Undo.
    pub async fn delete_person(&self, actor: &Actor, id: PersonId) -> Result<Uuid> {
        let w = self.begin_write().await?;
        let row = people::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("person"))?;
        actor.ensure_can(Action::Delete, &ownership(&*w, row.owner_id, row.created_by).await?)?;
        let label = [Some(row.first_name.as_str()), row.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let entry = move_to_trash(
            &*w,
            actor,
            RecordKind::People,
            id.0,
            Removal { label, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await?;
        Ok(entry)
    }
}
