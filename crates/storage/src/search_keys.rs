//! A search's page in relevance order, read rank by rank. The exact and
//! prefix matches of a record's names and emails come from `search_keys`
//! (kept by triggers, migration m0028) already in name order, a batch at a
//! time, so only the records on the page are read; ranking every record that
//! matches `q` instead read them all (48,000 of a million people for `mar`).

use std::collections::{HashMap, HashSet};

use rapport_domain::custom_fields::EntityType;
use rapport_domain::search::Rank;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::Result;

/// Past this many keys a batch stops growing: filters besides `q` that pass
/// few of a rank's records are read through in batches this large.
const MAX_BATCH: u64 = 4_096;

/// A relevance-sorted search of one record type.
#[derive(Clone, Debug)]
pub(crate) struct RankedSearch {
    pub entity: EntityType,
    /// The records' table, whose `sort_name` orders the rest of the matches.
    pub table: &'static str,
    /// The query's words as one phrase, as a key part holds a name.
    pub phrase: String,
}

/// Where the previous page stopped: its last record's rank, sort name and id.
pub(crate) struct After {
    rank: Rank,
    sort_name: String,
    id: Uuid,
}

impl After {
    /// From a relevance cursor's key: the rank's digit, then the sort name.
    pub fn parse(key: &str, id: Uuid) -> Option<Self> {
        let mut chars = key.chars();
        let rank = match chars.next()? {
            '0' => Rank::Exact,
            '1' => Rank::Prefix,
            '2' => Rank::Other,
            _ => return None,
        };
        Some(After { rank, sort_name: chars.as_str().to_owned(), id })
    }
}

/// `(name, id)` sorts after `after`'s.
fn past(name: SimpleExpr, id: SimpleExpr, after: &After) -> SimpleExpr {
    name.clone().gt(after.sort_name.clone()).or(name.eq(after.sort_name.clone()).and(id.gt(after.id)))
}

fn keys_col(column: &str) -> SimpleExpr {
    Expr::col((Alias::new("search_keys"), Alias::new(column)))
}

impl RankedSearch {
    /// The keys of this record type whose part is the phrase (`Exact`), or
    /// starts with it (`Prefix`, `Other`: the exact ones too).
    fn keys(&self, rank: Rank) -> SelectStatement {
        let mut keys = Query::select()
            .from(Alias::new("search_keys"))
            .and_where(keys_col("entity_type").eq(self.entity.as_str()))
            .to_owned();
        let part = keys_col("key_part");
        match rank {
            Rank::Exact => keys.and_where(part.eq(self.phrase.clone())),
            // Parts hold letters, digits and spaces, all below U+10FFFF.
            Rank::Prefix | Rank::Other => keys
                .and_where(part.clone().gte(self.phrase.clone()))
                .and_where(part.lt(format!("{}\u{10FFFF}", self.phrase))),
        };
        keys
    }

    /// The records with a part that is the phrase: the prefix rank leaves
    /// them out, as they rank first. (Leaving them out in SQL, a look-up per
    /// prefix key, took ten times the keys' own read.)
    async fn exact_ids<C: ConnectionTrait>(&self, conn: &C) -> Result<HashSet<Uuid>> {
        let mut keys = self.keys(Rank::Exact);
        keys.expr(keys_col("record_id"));
        let mut ids = HashSet::new();
        for key in conn.query_all(&keys).await? {
            ids.insert(key.try_get_by_index::<Uuid>(0)?);
        }
        Ok(ids)
    }

    /// Up to `wanted` records of `searched` (every list filter and `q`
    /// applied) in relevance order, after `after`: each rank's in name order.
    /// `keyed` is `searched` without `q`, which the exact and prefix ranks'
    /// records match by their keys.
    #[allow(clippy::too_many_arguments)]
    pub async fn page<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        keyed: Select<E>,
        searched: Select<E>,
        id: E::Column,
        wanted: u64,
        after: Option<After>,
        id_of: impl Fn(&E::Model) -> Uuid,
    ) -> Result<Vec<E::Model>> {
        let start = after.as_ref().map_or(Rank::Exact, |a| a.rank);
        let mut after = after;
        let mut rows = Vec::new();
        for rank in [Rank::Exact, Rank::Prefix, Rank::Other] {
            if rank < start || rows.len() as u64 >= wanted {
                continue;
            }
            let from = if rank == start { after.take() } else { None };
            let need = wanted - rows.len() as u64;
            let found = match rank {
                Rank::Exact => self.keyed(conn, &keyed, id, rank, need, from, &HashSet::new(), &id_of).await?,
                Rank::Prefix => {
                    let exact = self.exact_ids(conn).await?;
                    self.keyed(conn, &keyed, id, rank, need, from, &exact, &id_of).await?
                }
                Rank::Other => self.rest(conn, searched.clone(), id, need, from).await?,
            };
            rows.extend(found);
        }
        Ok(rows)
    }

    /// Up to `need` records of an exact or prefix rank, but those in `skip`:
    /// their ids from the keys in name order, then those of them `select`
    /// passes, until enough have passed or the rank runs out.
    #[allow(clippy::too_many_arguments)]
    async fn keyed<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        select: &Select<E>,
        id: E::Column,
        rank: Rank,
        need: u64,
        mut from: Option<After>,
        skip: &HashSet<Uuid>,
        id_of: &impl Fn(&E::Model) -> Uuid,
    ) -> Result<Vec<E::Model>> {
        let mut rows = Vec::new();
        let mut batch = need;
        loop {
            let mut keys = self.keys(rank);
            keys.expr(keys_col("sort_name"))
                .expr(keys_col("record_id"))
                .order_by_expr(keys_col("sort_name"), Order::Asc)
                .order_by_expr(keys_col("record_id"), Order::Asc)
                .limit(batch);
            if let Some(after) = &from {
                keys.and_where(past(keys_col("sort_name"), keys_col("record_id"), after));
            }
            let keys = conn.query_all(&keys).await?;
            // A record with several parts that match comes once for each,
            // side by side in this order.
            let mut order: Vec<Uuid> = Vec::with_capacity(keys.len());
            let mut last = None;
            for key in &keys {
                let (sort_name, record) = (key.try_get_by_index::<String>(0)?, key.try_get_by_index::<Uuid>(1)?);
                if !skip.contains(&record) && order.last() != Some(&record) {
                    order.push(record);
                }
                last = Some(After { rank, sort_name, id: record });
            }
            if !order.is_empty() {
                let position: HashMap<Uuid, usize> = order.iter().enumerate().map(|(at, id)| (*id, at)).collect();
                let mut found = select.clone().filter(Expr::col((E::default(), id)).is_in(order)).all(conn).await?;
                found.sort_by_key(|row| position.get(&id_of(row)).copied());
                rows.extend(found);
            }
            if rows.len() as u64 >= need || (keys.len() as u64) < batch {
                rows.truncate(need as usize);
                return Ok(rows);
            }
            from = last;
            batch = Ord::min(batch * 4, MAX_BATCH);
        }
    }

    /// Up to `need` of the other matches, in name order: those with no key
    /// part starting with the phrase.
    async fn rest<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        select: Select<E>,
        id: E::Column,
        need: u64,
        from: Option<After>,
    ) -> Result<Vec<E::Model>> {
        let mut keyed = self.keys(Rank::Other);
        keyed.expr(keys_col("record_id"));
        let name = Expr::col((Alias::new(self.table), Alias::new("sort_name")));
        let record = Expr::col((E::default(), id));
        let mut select = select.filter(record.clone().not_in_subquery(keyed));
        if let Some(after) = &from {
            select = select.filter(past(name.clone(), record.clone(), after));
        }
        Ok(select.order_by(name, Order::Asc).order_by(record, Order::Asc).limit(need).all(conn).await?)
    }
}
