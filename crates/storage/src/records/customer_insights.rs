//! What the insights job last computed for each customer (RFM scores and
//! segment, probability alive, expected lifetime value), and the counter that
//! tells the job the data it reads has changed.
//!
//! A run's rows are written under a generation of their own, a few thousand
//! per write transaction, while readers keep seeing the current generation;
//! one small transaction then makes the new one current (with the run's
//! snapshot), and the older rows are deleted a few thousand at a time. So the
//! job never holds SQLite's one writer for long, and every reader sees one
//! run's rows whole.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rapport_domain::{Currency, Money, PersonId, Segment};
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, ExprTrait, QuerySelect, Set};
use time::{Date, OffsetDateTime};

use super::insights_snapshots::{NewSnapshot, save_computed_snapshot};
use crate::common::{ByKey, parse_with};
use crate::entities::{customer_insight_rows, insights_state, people};
use crate::{Result, StorageError, Store};

/// Rows per INSERT: 15 columns each stays under both databases' bind limits.
const INSERT_CHUNK: usize = 1_000;

/// Rows written, or deleted, per write transaction: on SQLite the longest
/// such transaction took 72 ms at a million customers (docs/PERFORMANCE.md,
/// "The insights job and the writer"), so other writers wait at most about
/// that long behind the job.
const ROWS_PER_TRANSACTION: usize = 5_000;

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

fn insight_from(row: customer_insight_rows::Model) -> Result<CustomerInsight> {
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

fn active_from(row: &CustomerInsight, generation: i64) -> customer_insight_rows::ActiveModel {
    customer_insight_rows::ActiveModel {
        person_id: Set(row.person_id.0),
        generation: Set(generation),
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

/// The condition every reader of `customer_insight_rows` adds: the row is of
/// the current generation. A sub-query of the reader's own statement, so the
/// statement sees one generation even while a run makes the next one current
/// (a generation read first and used by a second statement could be deleted
/// in between).
pub(crate) fn in_current_generation() -> SimpleExpr {
    let current = Query::select()
        .column((insights_state::Entity, insights_state::Column::CurrentGeneration))
        .from(insights_state::Entity)
        .and_where(Expr::col((insights_state::Entity, insights_state::Column::Id)).eq(1))
        .to_owned();
    Expr::col((customer_insight_rows::Entity, customer_insight_rows::Column::Generation)).eq(current)
}

/// A run's customer insights, written under a generation of their own that no
/// reader sees until [`Store::publish_insights`] makes it current. Dropped
/// instead (the run failed), its rows stay unseen, and the next published run
/// deletes them.
#[derive(Debug)]
#[must_use = "staged insights are seen only once published"]
pub struct StagedInsights {
    generation: i64,
    written: InsightsWrite,
}

/// How a run's rows were written: for the job's log and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsightsWrite {
    /// Rows stored (those of people deleted meanwhile are skipped).
    pub rows: u64,
    /// Write transactions the run took.
    pub transactions: u64,
    /// The longest of them: the longest another writer waited behind the run.
    pub longest_transaction: Duration,
    /// Whether the run's generation became current: not when a run staged
    /// after it was published first (then this run's rows are deleted).
    pub published: bool,
}

impl InsightsWrite {
    fn took(&mut self, started: Instant) {
        self.transactions += 1;
        self.longest_transaction = self.longest_transaction.max(started.elapsed());
    }
}

/// Inserts the rows of people who still exist under `generation`; returns how many.
async fn insert_present<C: ConnectionTrait>(conn: &C, generation: i64, rows: &[CustomerInsight]) -> Result<u64> {
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|r| r.person_id.0).collect();
        let present: HashSet<Uuid> = people::Entity::find()
            .select_only()
            .column(people::Column::Id)
            .filter(people::Column::Id.is_in(ids))
            .into_tuple()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let models: Vec<_> =
            chunk.iter().filter(|r| present.contains(&r.person_id.0)).map(|r| active_from(r, generation)).collect();
        inserted += customer_insight_rows::Entity::insert_many(models).exec_without_returning(conn).await?;
    }
    Ok(inserted)
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
        let row = insights_state::Entity::find_by_id(1).by_key(self.conn()).await?;
        row.map(|r| r.data_version).ok_or_else(|| StorageError::Corrupt("the insights_state row is missing".into()))
    }

    /// Writes every customer's insights under a new generation, a few
    /// thousand rows per write transaction; readers keep seeing the current
    /// generation. Rows of people deleted meanwhile are skipped (or go with
    /// the person, by the foreign key).
    pub async fn stage_customer_insights(&self, rows: &[CustomerInsight]) -> Result<StagedInsights> {
        let mut written = InsightsWrite::default();
        let w = self.begin_write().await?;
        let started = Instant::now();
        insights_state::Entity::update_many()
            .col_expr(insights_state::Column::LastGeneration, Expr::col(insights_state::Column::LastGeneration).add(1))
            .filter(insights_state::Column::Id.eq(1))
            .exec(&*w)
            .await?;
        let generation = insights_state::Entity::find_by_id(1)
            .by_key(&*w)
            .await?
            .ok_or_else(|| StorageError::Corrupt("the insights_state row is missing".into()))?
            .last_generation;
        w.commit().await?;
        written.took(started);
        for chunk in rows.chunks(ROWS_PER_TRANSACTION) {
            let w = self.begin_write().await?;
            let started = Instant::now();
            written.rows += insert_present(&*w, generation, chunk).await?;
            w.commit().await?;
            written.took(started);
        }
        Ok(StagedInsights { generation, written })
    }

    /// Makes a run's staged insights current and stores its snapshot, in one
    /// transaction, so readers see the snapshot and the rows of one run; then
    /// deletes the older generations' rows. When a run staged later was
    /// published first, nothing is stored and the run's own rows are deleted.
    pub async fn publish_insights(&self, staged: StagedInsights, snapshot: NewSnapshot) -> Result<InsightsWrite> {
        self.make_current(staged, Some(snapshot)).await
    }

    /// Replaces every customer's stored insights with `rows`: staged, then
    /// made current without a snapshot (see [`Store::publish_insights`]).
    pub async fn replace_customer_insights(&self, rows: &[CustomerInsight]) -> Result<InsightsWrite> {
        let staged = self.stage_customer_insights(rows).await?;
        self.make_current(staged, None).await
    }

    async fn make_current(&self, staged: StagedInsights, snapshot: Option<NewSnapshot>) -> Result<InsightsWrite> {
        let StagedInsights { generation, mut written } = staged;
        let w = self.begin_write().await?;
        let started = Instant::now();
        // Only ever forward: a run staged later and published first stays current.
        let flipped = insights_state::Entity::update_many()
            .col_expr(insights_state::Column::CurrentGeneration, Expr::val(generation))
            .filter(insights_state::Column::Id.eq(1))
            .filter(insights_state::Column::CurrentGeneration.lt(generation))
            .exec(&*w)
            .await?
            .rows_affected
            == 1;
        if flipped && let Some(snapshot) = snapshot {
            save_computed_snapshot(&*w, snapshot).await?;
        }
        w.commit().await?;
        written.took(started);
        written.published = flipped;
        // Published: every older generation (the one before, and runs that
        // died). Superseded: this run's own rows. Runs staged later and still
        // writing are above both, and left alone.
        let stale = if flipped {
            customer_insight_rows::Column::Generation.lt(generation)
        } else {
            customer_insight_rows::Column::Generation.eq(generation)
        };
        loop {
            let w = self.begin_write().await?;
            let started = Instant::now();
            let batch = Query::select()
                .column(customer_insight_rows::Column::PersonId)
                .from(customer_insight_rows::Entity)
                .and_where(stale.clone())
                .limit(ROWS_PER_TRANSACTION as u64)
                .to_owned();
            let deleted = customer_insight_rows::Entity::delete_many()
                .filter(stale.clone())
                .filter(customer_insight_rows::Column::PersonId.in_subquery(batch))
                .exec(&*w)
                .await?
                .rows_affected;
            w.commit().await?;
            written.took(started);
            if deleted < ROWS_PER_TRANSACTION as u64 {
                break;
            }
        }
        Ok(written)
    }

    /// One customer's stored insights, if the job has computed any.
    pub async fn customer_insight(&self, person: PersonId) -> Result<Option<CustomerInsight>> {
        customer_insight_rows::Entity::find()
            .filter(customer_insight_rows::Column::PersonId.eq(person.0))
            .filter(in_current_generation())
            .one(self.conn())
            .await?
            .map(insight_from)
            .transpose()
    }
}
