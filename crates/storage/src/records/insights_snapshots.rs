//! The latest insights snapshot, as JSON: computed by whichever node ran the
//! insights job, read by every node.

use sea_orm::ActiveValue::Set;
use sea_orm::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, QuerySelect};
use time::{Date, OffsetDateTime};

use crate::common::{ByKey, parse_with};
use crate::entities::insights_snapshots;
use crate::{Result, Store};

/// The one row's key.
const CURRENT: &str = "current";

/// Which data a stored snapshot reflects, without its (large) body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotStamp {
    /// The insights data version it was computed at.
    pub version: i64,
    pub as_of: Date,
    pub computed_at: OffsetDateTime,
    /// The last attempt to compute a newer one failed: why.
    pub error: Option<String>,
}

/// A newly computed snapshot, stored with its run's customer insights.
#[derive(Clone, Debug)]
pub struct NewSnapshot {
    /// The insights data version it was computed at.
    pub version: i64,
    pub as_of: Date,
    pub computed_at: OffsetDateTime,
    /// The snapshot as JSON.
    pub body: String,
}

/// A stored snapshot: its stamp and, once one was computed, its JSON.
#[derive(Clone, Debug)]
pub struct StoredSnapshot {
    pub stamp: SnapshotStamp,
    pub body: Option<String>,
}

fn parse_date(raw: &str) -> Result<Date, String> {
    Date::parse(raw, &time::format_description::well_known::Iso8601::DATE).map_err(|e| e.to_string())
}

fn format_date(date: Date) -> String {
    // A calendar date always formats as ISO 8601.
    date.format(&time::format_description::well_known::Iso8601::DATE).unwrap_or_default()
}

impl Store {
    /// Which data the stored snapshot reflects: cheap, for checking often.
    pub async fn insights_snapshot_stamp(&self) -> Result<Option<SnapshotStamp>> {
        let row: Option<(i64, String, OffsetDateTime, Option<String>)> =
            insights_snapshots::Entity::find_by_id(CURRENT)
                .select_only()
                .column(insights_snapshots::Column::Version)
                .column(insights_snapshots::Column::AsOf)
                .column(insights_snapshots::Column::ComputedAt)
                .column(insights_snapshots::Column::Error)
                .into_tuple()
                .one(self.conn())
                .await?;
        row.map(|(version, as_of, computed_at, error)| {
            Ok(SnapshotStamp { version, as_of: parse_with(&as_of, "snapshot day", parse_date)?, computed_at, error })
        })
        .transpose()
    }

    /// The stored snapshot, body included.
    pub async fn insights_snapshot(&self) -> Result<Option<StoredSnapshot>> {
        let Some(row) = insights_snapshots::Entity::find_by_id(CURRENT).by_key(self.conn()).await? else {
            return Ok(None);
        };
        let stamp = SnapshotStamp {
            version: row.version,
            as_of: parse_with(&row.as_of, "snapshot day", parse_date)?,
            computed_at: row.computed_at,
            error: row.error,
        };
        Ok(Some(StoredSnapshot { stamp, body: row.body }))
    }

    /// Records why computing a newer snapshot failed; the last one stays.
    pub async fn save_insights_error(&self, error: &str) -> Result<()> {
        let row = insights_snapshots::ActiveModel {
            id: Set(CURRENT.to_owned()),
            version: Set(-1),
            as_of: Set(format_date(Date::MIN)),
            computed_at: Set(rapport_domain::records::now()),
            body: Set(None),
            error: Set(Some(error.to_owned())),
        };
        let w = self.begin_write().await?;
        upsert(&*w, row, &[insights_snapshots::Column::Error]).await?;
        w.commit().await
    }
}

async fn upsert<C: ConnectionTrait>(
    conn: &C,
    row: insights_snapshots::ActiveModel,
    update: &[insights_snapshots::Column],
) -> Result<()> {
    insights_snapshots::Entity::insert(row)
        .on_conflict(
            OnConflict::column(insights_snapshots::Column::Id).update_columns(update.iter().copied()).to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Stores a newly computed snapshot in place of the last one, inside the
/// transaction that makes its run's customer insights current
/// (`Store::publish_insights`).
pub(crate) async fn save_computed_snapshot<C: ConnectionTrait>(conn: &C, snapshot: NewSnapshot) -> Result<()> {
    let row = insights_snapshots::ActiveModel {
        id: Set(CURRENT.to_owned()),
        version: Set(snapshot.version),
        as_of: Set(format_date(snapshot.as_of)),
        computed_at: Set(snapshot.computed_at),
        body: Set(Some(snapshot.body)),
        error: Set(None),
    };
    upsert(
        conn,
        row,
        &[
            insights_snapshots::Column::Version,
            insights_snapshots::Column::AsOf,
            insights_snapshots::Column::ComputedAt,
            insights_snapshots::Column::Body,
            insights_snapshots::Column::Error,
        ],
    )
    .await
}
