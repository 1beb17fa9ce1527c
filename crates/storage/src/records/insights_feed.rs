//! The insights feed: every purchase of one currency and every person,
//! streamed to a sink row by row so that millions of rows never sit in memory
//! at once. What to compute from them is up to the sink (the insights reports
//! hand them to `rapport-insights`).
//!
//! Purchases come in one statement that reads the covering index
//! `purchases_insights` (migration m0005) in order. On SQLite the rows are
//! stepped through by rusqlite on a read-only connection of its own, on a
//! blocking thread: sqlx hands each row across threads, which costs more than
//! the rest of the work together (80 s for 10 M rows against 3 s).

use futures::TryStreamExt;
use rapport_domain::PersonId;
use sea_orm::prelude::*;
use sea_orm::{DbBackend, QueryOrder, QuerySelect};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::entities::{people, purchases};
use crate::{Result, StorageError, Store};

/// Rows per batch of the people feed.
const PEOPLE_BATCH: u64 = 10_000;

/// One purchase as the insights need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurchaseRow {
    pub person_id: PersonId,
    /// The day of the purchase (UTC).
    pub day: Date,
    pub amount_minor: i64,
}

/// Takes the purchases of a feed, grouped by person and in time order within
/// each person.
pub trait PurchaseSink: Send + 'static {
    fn purchase(&mut self, row: PurchaseRow);
}

type PersonTuple = (Uuid, String, Option<String>, Option<Uuid>, OffsetDateTime);

/// One person as churn and referrals need them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRow {
    pub id: PersonId,
    /// The lifecycle stage, as stored (`lead`, `customer`, `churned`, ...).
    pub lifecycle_stage: String,
    pub source: Option<String>,
    pub referred_by_id: Option<PersonId>,
    /// When the person was last changed (the day a churned stage was set, as
    /// far as the record tells).
    pub updated_at: OffsetDateTime,
}

impl Store {
    /// Feeds every purchase in `currency` to `sink`, ordered by person, then
    /// time, then amount (the index order), and gives the sink back with the
    /// number of rows fed.
    pub async fn feed_purchases<S: PurchaseSink>(&self, currency: &str, mut sink: S) -> Result<(S, u64)> {
        if self.backend() == DbBackend::Sqlite {
            let path = self.conn().get_sqlite_connection_pool().connect_options().get_filename().to_owned();
            let currency = currency.to_owned();
            return tokio::task::spawn_blocking(move || {
                let fed = sqlite_feed(&path, &currency, &mut sink)?;
                Ok((sink, fed))
            })
            .await
            .map_err(|e| StorageError::Corrupt(format!("the purchase feed stopped: {e}")))?;
        }
        let mut rows = purchases::Entity::find()
            .select_only()
            .columns([purchases::Column::PersonId, purchases::Column::OccurredAt, purchases::Column::AmountMinor])
            .filter(purchases::Column::Currency.eq(currency))
            .order_by_asc(purchases::Column::PersonId)
            .order_by_asc(purchases::Column::OccurredAt)
            .order_by_asc(purchases::Column::AmountMinor)
            .into_tuple::<(Uuid, OffsetDateTime, i64)>()
            .stream(self.conn())
            .await?;
        let mut fed = 0u64;
        while let Some((person, at, amount_minor)) = rows.try_next().await? {
            fed += 1;
            sink.purchase(PurchaseRow { person_id: PersonId(person), day: at.date(), amount_minor });
        }
        Ok((sink, fed))
    }

    /// The currencies purchases are in, in code order: one index seek per
    /// currency (the feed's index leads with the currency), however many
    /// purchases there are.
    pub async fn purchase_currencies(&self) -> Result<Vec<String>> {
        let mut found: Vec<String> = Vec::new();
        loop {
            let mut select = purchases::Entity::find().select_only().column(purchases::Column::Currency);
            if let Some(last) = found.last() {
                select = select.filter(purchases::Column::Currency.gt(last.as_str()));
            }
            let next: Option<String> =
                select.order_by_asc(purchases::Column::Currency).limit(1).into_tuple().one(self.conn()).await?;
            match next {
                Some(currency) => found.push(currency),
                None => return Ok(found),
            }
        }
    }

    /// How many people there are (what per-customer tables are sized for).
    pub async fn count_people(&self) -> Result<u64> {
        Ok(people::Entity::find().count(self.conn()).await?)
    }

    /// Calls `each` with every person, ordered by id, reading them in keyset
    /// batches. Returns the number of rows fed.
    pub async fn for_each_person(&self, mut each: impl FnMut(PersonRow)) -> Result<u64> {
        let mut after: Option<Uuid> = None;
        let mut fed = 0u64;
        loop {
            let mut select = people::Entity::find().select_only().columns([
                people::Column::Id,
                people::Column::LifecycleStage,
                people::Column::Source,
                people::Column::ReferredById,
                people::Column::UpdatedAt,
            ]);
            if let Some(after) = after {
                select = select.filter(people::Column::Id.gt(after));
            }
            let rows: Vec<PersonTuple> =
                select.order_by_asc(people::Column::Id).limit(PEOPLE_BATCH).into_tuple().all(self.conn()).await?;
            let full = rows.len() as u64 == PEOPLE_BATCH;
            after = rows.last().map(|row| row.0);
            for (id, lifecycle_stage, source, referred_by, updated_at) in rows {
                fed += 1;
                each(PersonRow {
                    id: PersonId(id),
                    lifecycle_stage,
                    source,
                    referred_by_id: referred_by.map(PersonId),
                    updated_at,
                });
            }
            if !full {
                return Ok(fed);
            }
        }
    }
}

fn sqlite_error(err: rusqlite::Error) -> StorageError {
    tracing::error!(error = %err, "the SQLite purchase feed failed");
    StorageError::Corrupt(format!("reading the purchases failed: {err}"))
}

/// Rows per hand-over from the reading thread to the sink's.
const FEED_BATCH: usize = 4_096;

/// Two threads: one steps SQLite through the index and decodes rows, the
/// other runs the sink, so reading and computing overlap.
fn sqlite_feed(path: &std::path::Path, currency: &str, sink: &mut impl PurchaseSink) -> Result<u64> {
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<PurchaseRow>>(8);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_sqlite(path, currency, batches));
        let mut fed = 0u64;
        for batch in received {
            fed += batch.len() as u64;
            for row in batch {
                sink.purchase(row);
            }
        }
        match reader.join() {
            Ok(read) => read.map(|()| fed),
            Err(_) => Err(StorageError::Corrupt("the purchase reader stopped".into())),
        }
    })
}

fn read_sqlite(
    path: &std::path::Path,
    currency: &str,
    batches: std::sync::mpsc::SyncSender<Vec<PurchaseRow>>,
) -> Result<()> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite_error)?;
    conn.pragma_update(None, "mmap_size", 268_435_456).map_err(sqlite_error)?;
    let mut statement = conn
        .prepare(
            "SELECT person_id, occurred_at, amount_minor FROM purchases \
             WHERE currency = ?1 ORDER BY person_id, occurred_at, amount_minor",
        )
        .map_err(sqlite_error)?;
    let mut rows = statement.query([currency]).map_err(sqlite_error)?;
    // Consecutive rows mostly share the person: decode the id once per person.
    let mut last_raw: Vec<u8> = Vec::new();
    let mut person = PersonId(Uuid::nil());
    let mut batch = Vec::with_capacity(FEED_BATCH);
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        let raw = row.get_ref(0).map_err(sqlite_error)?;
        let bytes = match raw {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b,
            _ => return Err(StorageError::Corrupt("a purchase without a person".into())),
        };
        if bytes != last_raw.as_slice() {
            person = PersonId(parse_uuid(bytes)?);
            last_raw.clear();
            last_raw.extend_from_slice(bytes);
        }
        let at = row.get_ref(1).map_err(sqlite_error)?.as_str().map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let amount_minor: i64 = row.get(2).map_err(sqlite_error)?;
        batch.push(PurchaseRow { person_id: person, day: utc_day(at)?, amount_minor });
        if batch.len() == FEED_BATCH {
            // A closed channel means the sink is gone: nothing more to do.
            if batches.send(std::mem::replace(&mut batch, Vec::with_capacity(FEED_BATCH))).is_err() {
                return Ok(());
            }
        }
    }
    // As above, a closed channel only means the sink stopped listening.
    if !batch.is_empty() && batches.send(batch).is_err() {
        return Ok(());
    }
    Ok(())
}

fn parse_uuid(bytes: &[u8]) -> Result<Uuid> {
    let parsed = if bytes.len() == 16 { Uuid::from_slice(bytes).ok() } else { Uuid::try_parse_ascii(bytes).ok() };
    parsed.ok_or_else(|| StorageError::Corrupt("a purchase's person id is not a UUID".into()))
}

/// The UTC day of a stored timestamp. Rapport stores UTC, so the day is the
/// text's first ten characters; any other offset takes the full parse.
fn utc_day(text: &str) -> Result<Date> {
    let bad = || StorageError::Corrupt(format!("a purchase time is not a timestamp: {text:?}"));
    let utc = text.ends_with('Z') || text.ends_with("+00:00");
    if utc && text.len() >= 10 {
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
        };
        if b[4] == b'-' && b[7] == b'-' {
            let (year, month, day) = (digits(0..4).ok_or_else(bad)?, digits(5..7).ok_or_else(bad)?, digits(8..10));
            let month = time::Month::try_from(month as u8).map_err(|_| bad())?;
            return Date::from_calendar_date(year as i32, month, day.ok_or_else(bad)? as u8).map_err(|_| bad());
        }
    }
    OffsetDateTime::parse(text, &Rfc3339).map(|t| t.to_offset(time::UtcOffset::UTC).date()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn stored_times_give_their_utc_day() {
        assert_eq!(utc_day("2024-02-29T23:59:59+00:00").unwrap(), date!(2024 - 02 - 29));
        assert_eq!(utc_day("2024-02-29T10:00:00Z").unwrap(), date!(2024 - 02 - 29));
        assert_eq!(utc_day("2024-02-29T23:30:00-02:00").unwrap(), date!(2024 - 03 - 01));
        assert!(utc_day("2024-02-30T10:00:00Z").is_err());
        assert!(utc_day("yesterday").is_err());
    }
}
