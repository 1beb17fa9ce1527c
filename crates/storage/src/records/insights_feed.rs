//! The insights feed: every purchase and every person, read in keyset
//! batches so that millions of rows never sit in memory at once. The rows go
//! to a callback one by one; what to compute from them is up to the caller
//! (the `rapport insights` commands hand them to `rapport-insights`).

use rapport_domain::PersonId;
use sea_orm::prelude::*;
use sea_orm::{ExprTrait, QueryOrder, QuerySelect};
use time::OffsetDateTime;

use crate::entities::{people, purchases};
use crate::{Result, StorageError, Store};

/// Rows per batch the feed reads when the caller has no reason to pick another.
pub const INSIGHTS_BATCH: u64 = 10_000;

/// One purchase as the insights need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurchaseRow {
    pub person_id: PersonId,
    pub occurred_at: OffsetDateTime,
    pub amount_minor: i64,
    /// ISO 4217 code, as stored.
    pub currency: String,
}

/// One person as churn and referrals need them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRow {
    pub id: PersonId,
    /// The lifecycle stage, as stored (`lead`, `customer`, `churned`, ...).
    pub lifecycle_stage: String,
    pub source: Option<String>,
    pub referred_by_id: Option<PersonId>,
}

fn check_batch(batch: u64) -> Result<u64> {
    if batch == 0 {
        return Err(StorageError::Corrupt("the insights batch size must be at least 1".into()));
    }
    Ok(batch)
}

type PurchaseTuple = (Uuid, Uuid, OffsetDateTime, i64, String);

impl Store {
    /// Calls `each` with every purchase (only those in `currency`, when
    /// given), ordered by person, then time, then purchase id. Reads `batch`
    /// rows at a time, each batch continuing after the last row of the one
    /// before (keyset, no `OFFSET`). Returns the number of rows fed.
    pub async fn for_each_purchase(
        &self,
        currency: Option<&str>,
        batch: u64,
        mut each: impl FnMut(PurchaseRow),
    ) -> Result<u64> {
        let batch = check_batch(batch)?;
        let mut after: Option<(Uuid, OffsetDateTime, Uuid)> = None;
        let mut fed = 0u64;
        loop {
            let mut select = purchases::Entity::find().select_only().columns([
                purchases::Column::Id,
                purchases::Column::PersonId,
                purchases::Column::OccurredAt,
                purchases::Column::AmountMinor,
                purchases::Column::Currency,
            ]);
            if let Some(currency) = currency {
                select = select.filter(purchases::Column::Currency.eq(currency));
            }
            if let Some((person, at, id)) = after {
                // A row-value comparison, so both databases seek straight to the
                // next batch in the index `purchases_feed` (migration m0004).
                let key = Expr::tuple([
                    Expr::col((purchases::Entity, purchases::Column::PersonId)),
                    Expr::col((purchases::Entity, purchases::Column::OccurredAt)),
                    Expr::col((purchases::Entity, purchases::Column::Id)),
                ]);
                select = select.filter(key.gt(Expr::tuple([Expr::value(person), Expr::value(at), Expr::value(id)])));
            }
            let rows: Vec<PurchaseTuple> = select
                .order_by_asc(purchases::Column::PersonId)
                .order_by_asc(purchases::Column::OccurredAt)
                .order_by_asc(purchases::Column::Id)
                .limit(batch)
                .into_tuple()
                .all(self.conn())
                .await?;
            let full = rows.len() as u64 == batch;
            after = rows.last().map(|(id, person, at, _, _)| (*person, *at, *id));
            for (_, person, occurred_at, amount_minor, currency) in rows {
                fed += 1;
                each(PurchaseRow { person_id: PersonId(person), occurred_at, amount_minor, currency });
            }
            if !full {
                return Ok(fed);
            }
        }
    }

    /// Calls `each` with every person, ordered by id, reading `batch` rows at
    /// a time (keyset on the id). Returns the number of rows fed.
    pub async fn for_each_person(&self, batch: u64, mut each: impl FnMut(PersonRow)) -> Result<u64> {
        let batch = check_batch(batch)?;
        let mut after: Option<Uuid> = None;
        let mut fed = 0u64;
        loop {
            let mut select = people::Entity::find().select_only().columns([
                people::Column::Id,
                people::Column::LifecycleStage,
                people::Column::Source,
                people::Column::ReferredById,
            ]);
            if let Some(after) = after {
                select = select.filter(people::Column::Id.gt(after));
            }
            let rows: Vec<(Uuid, String, Option<String>, Option<Uuid>)> =
                select.order_by_asc(people::Column::Id).limit(batch).into_tuple().all(self.conn()).await?;
            let full = rows.len() as u64 == batch;
            after = rows.last().map(|row| row.0);
            for (id, lifecycle_stage, source, referred_by) in rows {
                fed += 1;
                each(PersonRow {
                    id: PersonId(id),
                    lifecycle_stage,
                    source,
                    referred_by_id: referred_by.map(PersonId),
                });
            }
            if !full {
                return Ok(fed);
            }
        }
    }
}
