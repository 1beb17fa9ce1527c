//! Failed sign-ins, kept in the database so that the failed-login limit holds
//! across every node on it (the rules themselves live in the server's
//! limiter). One row per failure and key; a key is whatever the limiter
//! counts by ("account:EMAIL", "ip:ADDRESS"). Timestamps come from the node
//! that wrote them, so nodes' clocks should agree (NTP).

use sea_orm::ActiveValue::Set;
use sea_orm::prelude::*;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{FromQueryResult, QuerySelect};
use time::OffsetDateTime;

use crate::entities::login_attempts;
use crate::{Result, Store};

/// A key's failures since some time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginFailures {
    pub count: u64,
    /// The oldest of them, if any.
    pub oldest: Option<OffsetDateTime>,
}

#[derive(FromQueryResult)]
struct CountRow {
    count: i64,
    oldest: Option<OffsetDateTime>,
}

impl Store {
    /// Records one failed sign-in at `at` under each of `keys`, in one transaction.
    pub async fn record_login_failure(&self, keys: &[&str], at: OffsetDateTime) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let at = rapport_domain::records::normalize_timestamp(at);
        let rows = keys.iter().map(|key| login_attempts::ActiveModel {
            id: Set(Uuid::now_v7()),
            key: Set((*key).to_owned()),
            attempted_at: Set(at),
        });
        let w = self.begin_write().await?;
        login_attempts::Entity::insert_many(rows).exec_without_returning(&*w).await?;
        w.commit().await
    }

    /// How many failures `key` has had since `since` (inclusive), and the oldest of them.
    pub async fn count_login_failures(&self, key: &str, since: OffsetDateTime) -> Result<LoginFailures> {
        let row = login_attempts::Entity::find()
            .select_only()
            .column_as(Expr::from(Func::count(Expr::col(login_attempts::Column::Id))), "count")
            .column_as(Expr::from(Func::min(Expr::col(login_attempts::Column::AttemptedAt))), "oldest")
            .filter(login_attempts::Column::Key.eq(key))
            .filter(login_attempts::Column::AttemptedAt.gte(rapport_domain::records::normalize_timestamp(since)))
            .into_model::<CountRow>()
            .one(self.conn())
            .await?;
        Ok(row.map_or_else(LoginFailures::default, |row| LoginFailures {
            count: u64::try_from(row.count).unwrap_or(0),
            oldest: row.oldest,
        }))
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    pub async fn clear_login_failures(&self, key: &str) -> Result<u64> {
        let w = self.begin_write().await?;
        let cleared =
            login_attempts::Entity::delete_many().filter(login_attempts::Column::Key.eq(key)).exec(&*w).await?;
        w.commit().await?;
        Ok(cleared.rows_affected)
    }

    /// Removes failures older than `before`: they no longer count.
    pub async fn prune_login_attempts(&self, before: OffsetDateTime) -> Result<u64> {
        let w = self.begin_write().await?;
        let pruned = login_attempts::Entity::delete_many()
            .filter(login_attempts::Column::AttemptedAt.lt(rapport_domain::records::normalize_timestamp(before)))
            .exec(&*w)
            .await?;
        w.commit().await?;
        Ok(pruned.rows_affected)
    }
}
