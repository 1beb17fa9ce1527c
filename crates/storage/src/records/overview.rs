//! Read models for the pages: who is due a call, what the pipeline holds,
//! what the team did lately, and the names a list shows beside its ids.

use std::collections::HashMap;

use rapport_domain::records::{Activity, DealStatus, Person};
use rapport_domain::{CompanyId, Currency, Money, MoneySum, PersonId, PipelineId, StageId, UserId};
use sea_orm::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, QueryOrder, QuerySelect};

use super::activities::activity_from;
use super::people::person_from;
use crate::common::parse_with;
use crate::entities::{companies, deal_totals, people, purchases};
use crate::{Result, StorageError, Store};

/// Open deals in one stage of a pipeline, in one currency, with the sum as
/// a `Money` (see [`Store::open_deal_sums`] for the exact sum).
#[derive(Clone, Debug, PartialEq)]
pub struct StageTotal {
    pub stage_id: StageId,
    pub count: i64,
    pub amount: Money,
}

/// Open deals in one stage of a pipeline, in one currency: their exact sum.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSum {
    pub stage_id: StageId,
    pub count: i64,
    pub amount: MoneySum,
}

/// A customer's purchases in one currency: their exact sum.
#[derive(Clone, Debug, PartialEq)]
pub struct PurchaseTotal {
    pub count: i64,
    pub amount: MoneySum,
}

/// Amounts are bounded (±10^15) but their sums are not, and a plain
/// `SUM(amount_minor)` fails beyond `i64` (SQLite: integer overflow;
/// PostgreSQL: a NUMERIC that does not decode as BIGINT). So the database
/// sums the quotient and remainder by 10^9 apart, each of which fits a
/// BIGINT for billions of rows, and [`exact_sum`] joins them in `i128`.
/// Both backends truncate integer division toward zero with the remainder
/// taking the dividend's sign, so `x = x / 10^9 * 10^9 + x % 10^9` on both.
const SUM_HIGH: &str = "CAST(SUM({col} / 1000000000) AS BIGINT)";
const SUM_LOW: &str = "CAST(SUM({col} % 1000000000) AS BIGINT)";

fn sum_parts(col: &str) -> (String, String) {
    (SUM_HIGH.replace("{col}", col), SUM_LOW.replace("{col}", col))
}

fn exact_sum(high: i64, low: i64) -> i128 {
    i128::from(high) * 1_000_000_000 + i128::from(low)
}

/// A person's display name, from their first and last names.
pub(crate) fn person_name(first: String, last: Option<String>) -> String {
    match last {
        Some(last) => format!("{first} {last}"),
        None => first,
    }
}

fn currency(code: &str) -> Result<Currency> {
    parse_with(code, "currency", Currency::parse)
}

impl Store {
    /// People with a keep-in-touch cadence whose last contact (or, never
    /// contacted, their creation) is longer ago than it: most overdue first.
    pub async fn contact_due(&self, owner: Option<UserId>, limit: u64) -> Result<Vec<Person>> {
        // The expression of the `people_contact_due` index, which serves this order.
        let due_at = crate::migration::contact_due_expression(self.backend(), "people.");
        let now = match self.backend() {
            DbBackend::Postgres => "(now() AT TIME ZONE 'UTC')",
            _ => "julianday('now')",
        };
        let mut select = people::Entity::find()
            .filter(people::Column::KeepInTouchDays.is_not_null())
            .filter(Expr::cust(format!("{due_at} < {now}")));
        if let Some(owner) = owner {
            select = select.filter(people::Column::OwnerId.eq(owner.0));
        }
        select
            .order_by_asc(Expr::cust(due_at))
            .limit(limit)
            .all(self.conn())
            .await?
            .into_iter()
            .map(person_from)
            .collect()
    }

    /// Count and amount of the open deals of a pipeline, per stage and
    /// currency, as `Money`: a stage whose sum passes `i64` is an error
    /// naming it. Pages use [`Store::open_deal_sums`], which is exact.
    pub async fn open_deal_totals(&self, pipeline: PipelineId) -> Result<Vec<StageTotal>> {
        self.open_deal_sums(pipeline)
            .await?
            .into_iter()
            .map(|sum| {
                let amount_minor = i64::try_from(sum.amount.amount_minor).map_err(|_| {
                    StorageError::Conflict(format!(
                        "amount_minor: the open deals of stage {} sum beyond what a Money holds",
                        sum.stage_id
                    ))
                })?;
                Ok(StageTotal {
                    stage_id: sum.stage_id,
                    count: sum.count,
                    amount: Money::new(amount_minor, sum.amount.currency),
                })
            })
            .collect()
    }

    /// Count and exact sum of the open deals of a pipeline, per stage and currency.
    pub async fn open_deal_sums(&self, pipeline: PipelineId) -> Result<Vec<StageSum>> {
        Ok(self.column_sums(pipeline, &[(DealStatus::Open, None)]).await?.into_iter().next().unwrap_or_default())
    }

    /// Count and exact sum of the deals in each of a pipeline's board
    /// `columns` (a status and, for open deals, a stage; without one, every
    /// deal of the status), per stage and currency: the columns' headers, in
    /// `columns`' order, from the pipeline's rows of `deal_totals` (a few per
    /// stage, kept by triggers), never from the deals themselves.
    pub async fn column_sums(
        &self,
        pipeline: PipelineId,
        columns: &[(DealStatus, Option<StageId>)],
    ) -> Result<Vec<Vec<StageSum>>> {
        let mut sums = vec![Vec::new(); columns.len()];
        if columns.is_empty() {
            return Ok(sums);
        }
        let statuses: Vec<&str> = columns.iter().map(|(status, _)| status.as_str()).collect();
        // By currency, as a single column's sums always came.
        let rows = deal_totals::Entity::find()
            .filter(deal_totals::Column::PipelineId.eq(pipeline.0))
            .filter(deal_totals::Column::Status.is_in(statuses))
            .order_by_asc(deal_totals::Column::Currency)
            .order_by_asc(deal_totals::Column::StageId)
            .all(self.conn())
            .await?;
        for row in rows {
            let status = parse_with(&row.status, "deal status", DealStatus::parse)?;
            let sum = StageSum {
                stage_id: StageId(row.stage_id),
                count: row.deal_count,
                amount: MoneySum::new(exact_sum(row.amount_high, row.amount_low), currency(&row.currency)?),
            };
            for (into, (of, in_stage)) in sums.iter_mut().zip(columns) {
                if *of == status && in_stage.is_none_or(|s| s == sum.stage_id) {
                    into.push(sum.clone());
                }
            }
        }
        Ok(sums)
    }

    /// Purchases of one person, or of everyone at one company, per currency.
    pub async fn purchase_totals(
        &self,
        person: Option<PersonId>,
        company: Option<CompanyId>,
    ) -> Result<Vec<PurchaseTotal>> {
        let (high, low) = sum_parts("purchases.amount_minor");
        let mut select = purchases::Entity::find()
            .select_only()
            .column(purchases::Column::Currency)
            .column_as(Expr::cust("COUNT(*)"), "count")
            .column_as(Expr::cust(high), "high")
            .column_as(Expr::cust(low), "low");
        if let Some(person) = person {
            select = select.filter(purchases::Column::PersonId.eq(person.0));
        }
        if let Some(company) = company {
            select = select.filter(super::purchases::by_people_of(company));
        }
        let rows: Vec<(String, i64, i64, i64)> = select
            .group_by(purchases::Column::Currency)
            .order_by_asc(purchases::Column::Currency)
            .into_tuple()
            .all(self.conn())
            .await?;
        rows.into_iter()
            .map(|(code, count, high, low)| {
                Ok(PurchaseTotal { count, amount: MoneySum::new(exact_sum(high, low), currency(&code)?) })
            })
            .collect()
    }

    /// The latest activities written by any of `authors`, newest first. One
    /// index range per author (`activities_author`), merged here: a single
    /// `IN` query would walk every activity when the authors wrote little.
    pub async fn recent_activities(&self, authors: &[UserId], limit: u64) -> Result<Vec<Activity>> {
        use crate::entities::activities;
        let mut rows = Vec::new();
        for author in authors {
            rows.extend(
                activities::Entity::find()
                    .filter(activities::Column::AuthorId.eq(author.0))
                    .order_by_desc(activities::Column::OccurredAt)
                    .limit(limit)
                    .all(self.conn())
                    .await?,
            );
        }
        rows.sort_by(|a, b| b.occurred_at.cmp(&a.occurred_at).then(b.id.cmp(&a.id)));
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        rows.into_iter().map(activity_from).collect()
    }

    /// Display names of people, for lists that show a person beside a record.
    pub async fn person_names(&self, ids: &[PersonId]) -> Result<HashMap<PersonId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String, Option<String>)> = people::Entity::find()
            .select_only()
            .columns([people::Column::Id, people::Column::FirstName, people::Column::LastName])
            .filter(people::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .into_tuple()
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().map(|(id, first, last)| (PersonId(id), person_name(first, last))).collect())
    }

    /// Names of companies, for lists that show a company beside a record.
    pub async fn company_names(&self, ids: &[CompanyId]) -> Result<HashMap<CompanyId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Uuid, String)> = companies::Entity::find()
            .select_only()
            .columns([companies::Column::Id, companies::Column::Name])
            .filter(companies::Column::Id.is_in(ids.iter().map(|id| id.0)))
            .into_tuple()
            .all(self.conn())
            .await?;
        Ok(rows.into_iter().map(|(id, name)| (CompanyId(id), name)).collect())
    }
}
