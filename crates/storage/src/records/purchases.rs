//! Purchases: who bought what, when, for how much. The ground truth for
//! retention and lifetime value.

use rapport_domain::access::Action;
use rapport_domain::records::{Purchase, PurchaseInput, normalize_timestamp, now};
use rapport_domain::{Actor, CompanyId, Currency, Money, PersonId, PurchaseId};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, QuerySelect, Set};
use std::collections::{BTreeSet, HashSet};

use super::customer_insights::bump_insights_version;
use crate::common::*;
use crate::entities::{people, purchases};
use crate::history;
use crate::listing::{SortField, SortKind, SortValue};
use crate::trash::{Removal, move_to_trash};
use crate::{ListQuery, Page, Result, StorageError, Store};
use rapport_domain::history::{RecordKind, TrashReason};

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurchaseFilter {
    pub person_id: Option<PersonId>,
    /// Only purchases by the people who work at this company.
    pub company_id: Option<CompanyId>,
    /// Only purchases made at or after this time (RFC 3339, or a date for midnight UTC).
    #[serde(default, with = "rapport_domain::time_input::option")]
    pub since: Option<time::OffsetDateTime>,
    /// Only purchases made before this time (RFC 3339, or a date for midnight UTC).
    #[serde(default, with = "rapport_domain::time_input::option")]
    pub until: Option<time::OffsetDateTime>,
}

impl crate::listing::ListShape for PurchaseFilter {
    const SORTS: &'static [&'static str] = &["occurred_at", "amount", "created_at"];
    const SEARCH_AND_TAGS: bool = false;
}

/// Purchases by the people who work at `company`.
pub(crate) fn by_people_of(company: CompanyId) -> SimpleExpr {
    let its_people = Query::select()
        .column(people::Column::Id)
        .from(people::Entity)
        .and_where(people::Column::CompanyId.eq(company.0))
        .to_owned();
    purchases::Column::PersonId.in_subquery(its_people)
}

pub(crate) fn purchase_from(row: purchases::Model) -> Result<Purchase> {
    Ok(Purchase {
        id: PurchaseId(row.id),
        fields: PurchaseInput {
            person_id: PersonId(row.person_id),
            occurred_at: row.occurred_at,
            amount: Money::new(row.amount_minor, parse_with(&row.currency, "currency", Currency::parse)?),
            reference: parse_opt(row.reference, "reference")?,
            description: parse_opt(row.description, "description")?,
        },
        meta: meta(row.created_at, row.updated_at, row.created_by, row.version),
    })
}

const REFERENCE_TAKEN: &str = "this person already has a purchase with this reference";

fn reference_taken(err: impl Into<StorageError>) -> StorageError {
    match err.into() {
        StorageError::Conflict(_) => StorageError::Conflict(REFERENCE_TAKEN.into()),
        other => other,
    }
}

/// A purchase belongs to whoever owns its customer.
async fn purchase_ownership<C: ConnectionTrait>(
    conn: &C,
    person: Uuid,
    created_by: Option<Uuid>,
) -> Result<rapport_domain::Ownership> {
    let owner = people::Entity::find_by_id(person).by_key(conn).await?.and_then(|p| p.owner_id);
    ownership(conn, owner, created_by).await
}

fn fill(active: &mut purchases::ActiveModel, input: &PurchaseInput) {
    active.person_id = Set(input.person_id.0);
    active.occurred_at = Set(input.occurred_at);
    active.amount_minor = Set(input.amount.amount_minor);
    active.currency = Set(input.amount.currency.as_str().to_owned());
    active.reference = Set(input.reference.as_ref().map(|r| r.to_string()));
    active.description = Set(input.description.as_ref().map(|d| d.to_string()));
}

pub(crate) async fn insert_purchase<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    input: PurchaseInput,
) -> Result<Purchase> {
    only_outcome(insert_purchases(conn, actor, vec![input]).await?, "purchase")
}

/// Records purchases together: each input is checked as one create would
/// check it, with the customers and references they name looked up once
/// for all of them, and the valid ones written with a few multi-row
/// statements. The outcomes come back in input order; a refused input
/// writes nothing, and a database error fails the call.
pub(crate) async fn insert_purchases<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    inputs: Vec<PurchaseInput>,
) -> Result<Vec<Result<Purchase>>> {
    let customers = existing_ids::<people::Entity, _>(conn, inputs.iter().map(|i| i.person_id.0)).await?;
    let mut taken = taken_references(conn, &inputs).await?;
    let now = now();
    let mut rows = Vec::with_capacity(inputs.len());
    let mut outcomes = Vec::with_capacity(inputs.len());
    for mut input in inputs {
        let checked = (|| -> Result<()> {
            actor.ensure_can_create()?;
            input.check()?;
            if !customers.contains(&input.person_id.0) {
                return Err(no_such("person_id", "person"));
            }
            if let Some(reference) = &input.reference
                && !taken.insert((input.person_id.0, reference.to_string()))
            {
                return Err(StorageError::Conflict(REFERENCE_TAKEN.into()));
            }
            Ok(())
        })();
        if let Err(refused) = checked {
            outcomes.push(Err(refused));
            continue;
        }
        let id = PurchaseId::new();
        let mut active = purchases::ActiveModel {
            id: Set(id.0),
            created_at: Set(now),
            updated_at: Set(now),
            created_by: Set(Some(actor.user_id.0)),
            version: Set(1),
            ..Default::default()
        };
        fill(&mut active, &input);
        rows.push(active);
        outcomes.push(Ok(Purchase { id, fields: input, meta: meta(now, now, Some(actor.user_id.0), 1) }));
    }
    if rows.is_empty() {
        return Ok(outcomes);
    }
    insert_all(conn, rows).await.map_err(reference_taken)?;
    bump_insights_version(conn).await?;
    history::created_all(conn, actor, outcomes.iter().filter_map(|outcome| outcome.as_ref().ok())).await?;
    Ok(outcomes)
}

/// The (customer, reference) pairs of `inputs` that stored purchases hold,
/// read through the `(person_id, reference)` index a chunk of pairs at a time.
async fn taken_references<C: ConnectionTrait>(conn: &C, inputs: &[PurchaseInput]) -> Result<HashSet<(Uuid, String)>> {
    let wanted: BTreeSet<(Uuid, &str)> =
        inputs.iter().filter_map(|i| i.reference.as_ref().map(|r| (i.person_id.0, r.as_str()))).collect();
    let wanted: Vec<(Uuid, &str)> = wanted.into_iter().collect();
    let mut taken = HashSet::new();
    for chunk in wanted.chunks(IN_LIST_CHUNK / 2) {
        let found: Vec<(Uuid, String)> = purchases::Entity::find()
            .select_only()
            .column(purchases::Column::PersonId)
            .column(purchases::Column::Reference)
            .filter(purchases::Column::PersonId.is_in(chunk.iter().map(|(person, _)| *person)))
            .filter(purchases::Column::Reference.is_in(chunk.iter().map(|(_, reference)| *reference)))
            .into_tuple()
            .all(conn)
            .await?;
        taken.extend(found.into_iter().filter(|(person, reference)| chunk.contains(&(*person, reference.as_str()))));
    }
    Ok(taken)
}

/// Replaces a stored purchase inside the caller's transaction, after the access and version checks.
pub(crate) async fn replace_purchase<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    row: purchases::Model,
    mut input: PurchaseInput,
    expected_version: Option<i64>,
) -> Result<Purchase> {
    input.check()?;
    actor.ensure_can(Action::Edit, &purchase_ownership(conn, row.person_id, row.created_by).await?)?;
    check_version(expected_version, row.version)?;
    let previous = purchase_from(row.clone())?;
    if input.person_id.0 != row.person_id {
        must_exist::<people::Entity, _>(conn, input.person_id.0, "person_id", "person").await?;
        actor.ensure_can(Action::Edit, &purchase_ownership(conn, input.person_id.0, row.created_by).await?)?;
    }
    let version = row.version;
    let mut active: purchases::ActiveModel = row.into();
    fill(&mut active, &input);
    active.updated_at = Set(now());
    active.version = Set(version + 1);
    let row = save(conn, active, purchases::Column::Version, version).await.map_err(reference_taken)?;
    bump_insights_version(conn).await?;
    history::updated(conn, actor, &previous, purchase_from(row)?).await
}

impl Store {
    pub async fn get_purchase(&self, id: PurchaseId) -> Result<Purchase> {
        purchase_from(
            purchases::Entity::find_by_id(id.0).by_key(self.conn()).await?.ok_or(StorageError::NotFound("purchase"))?,
        )
    }

    pub async fn list_purchases(&self, query: &ListQuery, filter: &PurchaseFilter) -> Result<Page<Purchase>> {
        query.refuse_search_and_tags()?;
        let mut select = purchases::Entity::find();
        if let Some(id) = filter.person_id {
            select = select.filter(purchases::Column::PersonId.eq(id.0));
        }
        if let Some(id) = filter.company_id {
            select = select.filter(by_people_of(id));
        }
        if let Some(since) = filter.since {
            select = select.filter(purchases::Column::OccurredAt.gte(normalize_timestamp(since)));
        }
        if let Some(until) = filter.until {
            select = select.filter(purchases::Column::OccurredAt.lt(normalize_timestamp(until)));
        }
        if let Some(since) = query.updated_since {
            select = select.filter(purchases::Column::UpdatedAt.gte(normalize_timestamp(since)));
        }
        let fields = vec![
            SortField::new(
                "occurred_at",
                Expr::col((purchases::Entity, purchases::Column::OccurredAt)),
                SortKind::Time,
            ),
            SortField::new("amount", Expr::col((purchases::Entity, purchases::Column::AmountMinor)), SortKind::Int),
            SortField::new("created_at", Expr::col((purchases::Entity, purchases::Column::CreatedAt)), SortKind::Time),
        ];
        let page = query
            .fetch(self, select, purchases::Column::Id, fields, "-occurred_at", |p, field| {
                let value = match field {
                    "amount" => SortValue::Int(p.amount_minor),
                    "created_at" => SortValue::Time(p.created_at),
                    _ => SortValue::Time(p.occurred_at),
                };
                (value, p.id)
            })
            .await?;
        page.try_map(purchase_from)
    }

    pub async fn update_purchase(
        &self,
        actor: &Actor,
        id: PurchaseId,
        input: PurchaseInput,
        expected_version: Option<i64>,
    ) -> Result<Purchase> {
        let w = self.begin_write().await?;
        let row = purchases::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("purchase"))?;
        let purchase = replace_purchase(&*w, actor, row, input, expected_version).await?;
        w.commit().await?;
        Ok(purchase)
    }

    pub async fn delete_purchase(&self, actor: &Actor, id: PurchaseId) -> Result<()> {
        let w = self.begin_write().await?;
        let row = purchases::Entity::find_by_id(id.0).by_key(&*w).await?.ok_or(StorageError::NotFound("purchase"))?;
        actor.ensure_can(Action::Delete, &purchase_ownership(&*w, row.person_id, row.created_by).await?)?;
        let label = row.reference.clone().unwrap_or_else(|| format!("{} {}", row.currency, row.occurred_at.date()));
        move_to_trash(
            &*w,
            actor,
            RecordKind::Purchases,
            id.0,
            Removal { label, reason: TrashReason::Deleted, merged_into: None, detail: None },
        )
        .await?;
        w.commit().await
    }
}
