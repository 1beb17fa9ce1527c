//! What the insights job last computed for each customer (RFM scores and
//! segment, probability alive, expected lifetime value), and the counter that
//! tells the job the data it reads has changed.

use std::collections::HashSet;

use rapport_domain::{Currency, Money, PersonId, Segment};
use sea_orm::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DbBackend, ExprTrait, QuerySelect, Set};
use time::{Date, OffsetDateTime};

use crate::common::parse_with;
use crate::entities::{customer_insights, insights_state, people};
use crate::{Result, StorageError, Store};

/// Rows per INSERT: 14 columns each stays under both databases' bind limits.
const INSERT_CHUNK: usize = 1_000;

/// One customer's insights, as the job stored them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CustomerInsight {
    pub person_id: PersonId,
    pub segment: Segment,
    /// Recency, frequency and monetary scores, 1–5 each (5 is best).
    pub r_score: u8,
    pub f_score: u8,
    pub m_score: u8,
    pub last_purchase: Date,
    /// Days from the last purchase to the day the insights were computed for.
    pub recency_days: i64,
    /// Purchases in the analysed currency.
    pub frequency: i64,
    /// What the customer spent in all, in the analysed currency.
    pub monetary: Money,
    /// BG/NBD probability that the customer still buys (absent when no model could be fitted).
    pub probability_alive: Option<f64>,
    /// Purchases expected over the lifetime-value horizon.
    pub expected_purchases: Option<f64>,
    /// Discounted lifetime value over the horizon (absent without a spend model).
    pub expected_value: Option<Money>,
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
}

fn insight_from(row: customer_insights::Model) -> Result<CustomerInsight> {
    let currency = parse_with(&row.currency, "currency", Currency::parse)?;
    let segment = parse_with(&row.segment, "segment", |s| Segment::parse(s).ok_or_else(|| format!("{s:?}")))?;
    let score = |v: i16| u8::try_from(v).map_err(|_| StorageError::Corrupt(format!("RFM score {v}")));
    Ok(CustomerInsight {
        person_id: PersonId(row.person_id),
        segment,
        r_score: score(row.r_score)?,
        f_score: score(row.f_score)?,
        m_score: score(row.m_score)?,
        last_purchase: row.last_purchase,
        recency_days: row.recency_days,
        frequency: row.frequency,
        monetary: Money::new(row.monetary_minor, currency),
        probability_alive: row.probability_alive,
        expected_purchases: row.expected_purchases,
        expected_value: row.expected_value_minor.map(|v| Money::new(v, currency)),
        computed_at: row.computed_at,
    })
}

fn active_from(row: &CustomerInsight) -> customer_insights::ActiveModel {
    customer_insights::ActiveModel {
        person_id: Set(row.person_id.0),
        currency: Set(row.monetary.currency.as_str().to_owned()),
        segment: Set(row.segment.as_str().to_owned()),
        r_score: Set(i16::from(row.r_score)),
        f_score: Set(i16::from(row.f_score)),
        m_score: Set(i16::from(row.m_score)),
        last_purchase: Set(row.last_purchase),
        recency_days: Set(row.recency_days),
        frequency: Set(row.frequency),
        monetary_minor: Set(row.monetary.amount_minor),
        probability_alive: Set(row.probability_alive),
        expected_purchases: Set(row.expected_purchases),
        expected_value_minor: Set(row.expected_value.map(|m| m.amount_minor)),
        computed_at: Set(row.computed_at),
    }
}

/// Moves the insights data version on: called inside every transaction that
/// changes purchases or the people fields insights read.
///
/// On PostgreSQL this only marks the transaction, and `Write::commit` moves
/// the version on as its last statement: updating the one version row locks
/// it until commit, so a long bulk change that updated it early would hold
/// every other purchase write behind it. SQLite has one writer at a time
/// anyway, so there the row is updated at once.
pub(crate) async fn bump_insights_version<C: ConnectionTrait>(conn: &C) -> Result<()> {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            conn.execute_unprepared("SELECT set_config('rapport.insights_changed', 'on', true)").await?;
        }
        _ => {
            insights_state::Entity::update_many()
                .col_expr(insights_state::Column::DataVersion, Expr::col(insights_state::Column::DataVersion).add(1))
                .filter(insights_state::Column::Id.eq(1))
                .exec(conn)
                .await?;
        }
    }
    Ok(())
}

/// On PostgreSQL, just before commit: moves the version on when
/// `bump_insights_version` marked the transaction. The mark is
/// transaction-local, so it is gone after the commit or a rollback.
pub(crate) async fn bump_marked_insights_version<C: ConnectionTrait>(conn: &C) -> Result<()> {
    conn.execute_unprepared(
        "UPDATE insights_state SET data_version = data_version + 1 \
         WHERE id = 1 AND current_setting('rapport.insights_changed', true) = 'on'",
    )
    .await?;
    Ok(())
}

impl Store {
    /// The insights data version: it moves on whenever purchases change (or
    /// the lifecycle stage, source or referrer of a person), so equal versions
    /// mean equal insights.
    pub async fn insights_data_version(&self) -> Result<i64> {
        let row = insights_state::Entity::find_by_id(1).one(self.conn()).await?;
        row.map(|r| r.data_version).ok_or_else(|| StorageError::Corrupt("the insights_state row is missing".into()))
    }

    /// Replaces every customer's stored insights with `rows`, in one
    /// transaction. Rows of people deleted meanwhile are skipped.
    pub async fn replace_customer_insights(&self, rows: &[CustomerInsight]) -> Result<()> {
        let w = self.begin_write().await?;
        customer_insights::Entity::delete_many().exec(&*w).await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|r| r.person_id.0).collect();
            let present: HashSet<Uuid> = people::Entity::find()
                .select_only()
                .column(people::Column::Id)
                .filter(people::Column::Id.is_in(ids))
                .into_tuple()
                .all(&*w)
                .await?
                .into_iter()
                .collect();
            let models: Vec<_> = chunk.iter().filter(|r| present.contains(&r.person_id.0)).map(active_from).collect();
            if !models.is_empty() {
                customer_insights::Entity::insert_many(models).exec(&*w).await?;
            }
        }
        w.commit().await
    }

    /// One customer's stored insights, if the job has computed any.
    pub async fn customer_insight(&self, person: PersonId) -> Result<Option<CustomerInsight>> {
        customer_insights::Entity::find_by_id(person.0).one(self.conn()).await?.map(insight_from).transpose()
    }
}
