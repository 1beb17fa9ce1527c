//! Lists: keyset (cursor) pagination over a chosen sort, full-text `q`, and
//! the filters every list shares (tag, updated since, custom field equality).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rapport_domain::FieldErrors;
use rapport_domain::custom_fields::EntityType;
use rapport_domain::search::{Rank, SearchQuery};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::conditions::{Shape, page_shape, related};
use crate::entities::{custom_field_values, record_tags};
use crate::search_keys::{After, RankedSearch};
use crate::{Result, StorageError};

pub const DEFAULT_LIMIT: u64 = 50;
/// The sort of searchable lists that puts the best matches of `q` first.
pub const RELEVANCE: &str = "relevance";
pub const MAX_LIMIT: u64 = 200;

/// What every list endpoint accepts besides its own filters.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// A sort field, `-` in front for descending.
    pub sort: Option<String>,
    pub q: Option<String>,
    pub tag: Option<String>,
    pub updated_since: Option<OffsetDateTime>,
    /// Custom field equality filters: (key, value as typed).
    pub custom: Vec<(String, String)>,
    /// Filter-builder conditions (`where=`), all of which must hold.
    pub conditions: Vec<rapport_domain::conditions::Where>,
    /// Asked for with `count=true`: `fetch` puts the number of matching
    /// records (all pages together) here, for the answer's `total`.
    pub count: Option<Total>,
}

/// What a list's filter type says of the list beside its own filters: the
/// fields it sorts by and whether it takes `q` and `tag`, as the API
/// documents them. (The list functions check the same: an API test sorts
/// every list by each field named here.)
pub trait ListShape {
    const SORTS: &'static [&'static str];
    const SEARCH_AND_TAGS: bool;
    /// The record fields its `where` conditions test (none: it takes no `where`).
    const CONDITIONS: &'static [rapport_domain::conditions::FieldSpec] = &[];
}

/// Counting stops past this many matches: a list then says "10,000+". The
/// number a bulk change takes at most, so "all N matching" is exact whenever
/// a bulk change could take them all; and a count never reads more than that.
pub const COUNT_CAP: u64 = 10_000;

/// A list's total count, filled in by the list query that was asked for it.
#[derive(Clone, Debug, Default)]
pub struct Total(std::sync::Arc<std::sync::OnceLock<u64>>);

impl Total {
    /// How many records match, exact up to [`COUNT_CAP`]; more than that
    /// reads as `COUNT_CAP + 1` (see [`Total::capped`]).
    pub fn get(&self) -> Option<u64> {
        self.0.get().copied()
    }

    /// Whether more than [`COUNT_CAP`] records match (counting stopped there).
    pub fn capped(&self) -> bool {
        self.get().is_some_and(|count| count > COUNT_CAP)
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }

    /// Converts every item, or fails with the first error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> std::result::Result<U, E>) -> std::result::Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<std::result::Result<_, E>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum SortKind {
    Text,
    Time,
    Date,
    Int,
}

/// A column a list may be sorted by. `expr` must never be NULL (use COALESCE).
pub(crate) struct SortField {
    pub name: &'static str,
    pub expr: SimpleExpr,
    pub kind: SortKind,
    /// For the relevance sort of a search: read rank by rank instead (only
    /// ascending, see [`ListQuery::chosen_sort`]; `expr` gives the same
    /// order, at the cost of reading every match).
    ranked: Option<RankedSearch>,
}

impl SortField {
    pub fn new(name: &'static str, expr: impl Into<SimpleExpr>, kind: SortKind) -> Self {
        Self { name, expr: expr.into(), kind, ranked: None }
    }
}

/// A sort value as kept in a cursor.
pub(crate) enum SortValue {
    Text(String),
    Time(OffsetDateTime),
    Date(time::Date),
    Int(i64),
}

impl SortValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            SortValue::Text(s) => s.clone().into(),
            SortValue::Time(t) => t.unix_timestamp_nanos().to_string().into(),
            SortValue::Date(d) => d.to_julian_day().into(),
            SortValue::Int(i) => (*i).into(),
        }
    }

    fn from_json(kind: SortKind, value: &serde_json::Value) -> Option<Value> {
        match kind {
            SortKind::Text => value.as_str().filter(|s| !s.contains('\0')).map(|s| Value::from(s.to_owned())),
            SortKind::Int => value.as_i64().map(Value::from),
            SortKind::Date => value
                .as_i64()
                .and_then(|day| i32::try_from(day).ok())
                .and_then(|day| time::Date::from_julian_day(day).ok())
                .map(Value::from),
            SortKind::Time => value
                .as_str()
                .and_then(|s| s.parse::<i128>().ok())
                .and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
                .map(Value::from),
        }
    }
}

fn bad(field: &str, message: &str) -> StorageError {
    FieldErrors::single(field, message).into()
}

impl ListQuery {
    fn limit(&self) -> Result<u64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(bad("limit", "must be between 1 and 200")),
        }
    }

    /// For lists without text search, tags or custom fields: says so rather
    /// than ignore the parameter.
    pub(crate) fn refuse_search_and_tags(&self) -> Result<()> {
        self.refuse_unsupported(false)
    }

    /// For lists with custom fields but without text search or tag filters
    /// (tickets): says so rather than ignore the parameter.
    pub(crate) fn refuse_search_and_tag_filter(&self) -> Result<()> {
        self.refuse_unsupported(true)
    }

    fn refuse_unsupported(&self, has_custom_fields: bool) -> Result<()> {
        let mut errors = FieldErrors::new();
        if self.q.is_some() {
            errors.add("q", "this list has no text search");
        }
        if self.tag.is_some() {
            errors.add("tag", "these records have no tags");
        }
        if !has_custom_fields {
            for (key, _) in &self.custom {
                errors.add(format!("cf.{key}"), "these records have no custom fields");
            }
        }
        if !self.conditions.is_empty() {
            errors.add("where", "this list takes no conditions");
        }
        errors.into_result().map_err(StorageError::from)
    }

    /// The search, when `q` has words to search for.
    fn search(&self) -> Option<SearchQuery> {
        self.q.as_deref().and_then(SearchQuery::parse)
    }

    /// The `relevance` sort of a searchable table: records whose name or
    /// email is `q` first, then those whose name or email starts with it,
    /// then the rest; by name within each. Without `q`, by name. The key is
    /// the rank's digit before the name, so that one text keys the cursor.
    pub(crate) fn relevance(&self, backend: DbBackend, table: &'static str, entity: EntityType) -> SortField {
        let name = format!("\"{table}\".\"sort_name\"");
        let search = self.search();
        let ranked = search.as_ref().map(|query| RankedSearch { entity, table, phrase: query.phrase() });
        let expr = match search {
            Some(query) => {
                let text = format!("\"{table}\".\"search_text\"");
                let (exact, prefix) = query.like_patterns();
                let (first, second) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
                Expr::cust_with_values(
                    format!(
                        "(CASE WHEN {text} LIKE {first} THEN '0' WHEN {text} LIKE {second} THEN '1' ELSE '2' END || {name})"
                    ),
                    [exact, prefix],
                )
            }
            None => Expr::cust(format!("('2' || {name})")),
        };
        SortField { ranked, ..SortField::new(RELEVANCE, expr, SortKind::Text) }
    }

    /// A record's `relevance` sort key, as [`ListQuery::relevance`] computes it.
    pub(crate) fn relevance_key(&self, search_text: &str, sort_name: &str) -> SortValue {
        let rank = self.search().map_or(Rank::Other, |query| query.rank(search_text));
        SortValue::Text(format!("{}{sort_name}", rank.digit()))
    }

    /// Narrows a select by `q`, `tag`, `updated_since`, custom fields and
    /// conditions: for the page, and (with `count`) for counting, where the
    /// tests on tags and custom values are written as sets (see [`Shape`]).
    pub(crate) async fn apply_common<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        select: Select<E>,
        entity: EntityType,
        table: &'static str,
        id: E::Column,
        updated_at: E::Column,
    ) -> Result<Filtered<E>> {
        let counting = match self.count {
            Some(_) => {
                let narrowed = self.narrow(conn, select.clone(), entity, table, id, updated_at, Shape::Set).await?;
                Some(self.filter_search(conn, narrowed, table).await?)
            }
            None => None,
        };
        let unsearched = self.narrow(conn, select, entity, table, id, updated_at, Shape::Correlated).await?;
        let page = self.filter_search(conn, unsearched.clone(), table).await?;
        Ok(Filtered { page, unsearched: self.search().map(|_| unsearched), counting })
    }

    #[allow(clippy::too_many_arguments)]
    async fn narrow<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        mut select: Select<E>,
        entity: EntityType,
        table: &'static str,
        id: E::Column,
        updated_at: E::Column,
        shape: Shape,
    ) -> Result<Select<E>> {
        if let Some(tag) = &self.tag {
            let tag = tag.trim().to_lowercase();
            let tags = record_tags::Entity;
            let query = Query::select()
                .from(tags)
                .and_where(Expr::col((tags, record_tags::Column::EntityType)).eq(entity.as_str()))
                .and_where(Expr::col((tags, record_tags::Column::Tag)).eq(tag))
                .to_owned();
            let key = Expr::col((tags, record_tags::Column::EntityId));
            let shape = page_shape(conn, shape, &query, &key).await?;
            select = select.filter(related(shape, &Expr::col((E::default(), id)), query, key, false));
        }
        if let Some(since) = self.updated_since {
            let since = rapport_domain::records::normalize_timestamp(since);
            select = select.filter(Expr::col((E::default(), updated_at)).gte(since));
        }
        let select = self.filter_custom_as(conn, select, entity, id, shape).await?;
        crate::conditions::filter_conditions(conn, select, &self.conditions, entity, table, id, shape).await
    }

    /// Narrows a select to the records matching `q`; when none does (with
    /// every other filter applied), to those matching `q` with one typo
    /// mended in a word (`larsn` finds "Larsen").
    async fn filter_search<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        select: Select<E>,
        table: &'static str,
    ) -> Result<Select<E>> {
        let Some(query) = self.search() else { return Ok(select) };
        let backend = conn.get_database_backend();
        let exact: Vec<Vec<String>> = query.terms.iter().map(|term| vec![term.clone()]).collect();
        let strict = select.clone().filter(match_condition(backend, table, &exact, query.digits.as_deref()));
        let Some(mended) = query.typo_variants() else { return Ok(strict) };
        if strict.clone().limit(1).one(conn).await?.is_some() {
            return Ok(strict);
        }
        Ok(select.filter(match_condition(backend, table, &mended, None)))
    }

    /// Narrows a select to the records whose custom fields equal the `cf.<key>` filters.
    pub(crate) async fn filter_custom<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        select: Select<E>,
        entity: EntityType,
        id: E::Column,
    ) -> Result<Select<E>> {
        self.filter_custom_as(conn, select, entity, id, Shape::Correlated).await
    }

    async fn filter_custom_as<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        mut select: Select<E>,
        entity: EntityType,
        id: E::Column,
        shape: Shape,
    ) -> Result<Select<E>> {
        if self.custom.is_empty() {
            return Ok(select);
        }
        let definitions = crate::common::definitions(conn, entity).await?;
        for (key, raw) in &self.custom {
            let field = format!("cf.{key}");
            let definition = definitions
                .iter()
                .find(|d| d.key.as_str() == key)
                .ok_or_else(|| bad(&field, "no such custom field"))?;
            let canonical = definition.canonical_filter(raw).map_err(|m| bad(&field, &m))?;
            let values = custom_field_values::Entity;
            let query = Query::select()
                .from(values)
                .and_where(Expr::col((values, custom_field_values::Column::EntityType)).eq(entity.as_str()))
                .and_where(Expr::col((values, custom_field_values::Column::FieldKey)).eq(key.as_str()))
                .and_where(Expr::col((values, custom_field_values::Column::ValueText)).eq(canonical))
                .to_owned();
            let record = Expr::col((values, custom_field_values::Column::EntityId));
            let shape = page_shape(conn, shape, &query, &record).await?;
            select = select.filter(related(shape, &Expr::col((E::default(), id)), query, record, false));
        }
        Ok(select)
    }

    /// Sorts, applies the cursor and fetches one page. `key_of` gives a
    /// model's value for the chosen sort field and its id.
    pub(crate) async fn fetch<E: EntityTrait>(
        &self,
        store: &crate::Store,
        select: impl Into<Filtered<E>>,
        id: E::Column,
        fields: Vec<SortField>,
        default_sort: &str,
        key_of: impl Fn(&E::Model, &str) -> (SortValue, Uuid),
    ) -> Result<Page<E::Model>> {
        let select = select.into();
        let (field, descending) = self.chosen_sort(fields, default_sort)?;
        if self.count.is_none() && field.ranked.is_none() {
            return self.fetch_on(store.conn(), select, id, field, descending, key_of).await;
        }
        // The total and the page from one snapshot: records keep arriving,
        // and a total counted a moment before could be smaller than the page.
        // A page read rank by rank takes several reads, which must agree too.
        let snapshot = store.read_snapshot().await?;
        let page = self.fetch_on(&snapshot, select, id, field, descending, key_of).await?;
        snapshot.commit().await?;
        Ok(page)
    }

    /// The sort asked for (a search by relevance unless asked otherwise),
    /// and whether it is descending; only an ascending one is read rank by rank.
    fn chosen_sort(&self, fields: Vec<SortField>, default_sort: &str) -> Result<(SortField, bool)> {
        let searched = self.search().is_some() && fields.iter().any(|f| f.name == RELEVANCE);
        let raw_sort = self.sort.as_deref().unwrap_or(if searched { RELEVANCE } else { default_sort });
        let (descending, name) = match raw_sort.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw_sort),
        };
        let allowed: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let mut field = fields
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| bad("sort", &format!("must be one of {} (prefix - for descending)", allowed.join(", "))))?;
        if descending {
            field.ranked = None;
        }
        Ok((field, descending))
    }

    async fn fetch_on<E: EntityTrait, C: ConnectionTrait>(
        &self,
        conn: &C,
        Filtered { page: select, unsearched, counting }: Filtered<E>,
        id: E::Column,
        field: SortField,
        descending: bool,
        key_of: impl Fn(&E::Model, &str) -> (SortValue, Uuid),
    ) -> Result<Page<E::Model>> {
        let limit = self.limit()?;
        let id_expr = Expr::col((E::default(), id));
        if let Some(total) = &self.count {
            // Before the cursor: every page of this list counts the same.
            let _ = total.0.set(count_rows(conn, counting.as_ref().unwrap_or(&select), id).await?);
        }
        let cursor = match &self.cursor {
            Some(cursor) => {
                Some(decode_cursor(cursor, field.kind).ok_or_else(|| bad("cursor", "not a cursor from this list"))?)
            }
            None => None,
        };
        let mut rows = match &field.ranked {
            Some(ranked) => {
                let after = match cursor {
                    Some((Value::String(Some(key)), after)) => {
                        Some(After::parse(&key, after).ok_or_else(|| bad("cursor", "not a cursor from this list"))?)
                    }
                    Some(_) => return Err(bad("cursor", "not a cursor from this list")),
                    None => None,
                };
                let keyed = unsearched.unwrap_or_else(|| select.clone());
                ranked.page(conn, keyed, select, id, limit + 1, after, |row| key_of(row, field.name).1).await?
            }
            None => {
                let mut select = select;
                if let Some((value, after)) = cursor {
                    let condition = if descending {
                        field.expr.clone().lt(value.clone()).or(field
                            .expr
                            .clone()
                            .eq(value)
                            .and(id_expr.clone().lt(after)))
                    } else {
                        field.expr.clone().gt(value.clone()).or(field
                            .expr
                            .clone()
                            .eq(value)
                            .and(id_expr.clone().gt(after)))
                    };
                    select = select.filter(condition);
                }
                let order = if descending { Order::Desc } else { Order::Asc };
                select
                    .order_by(field.expr.clone(), order.clone())
                    .order_by(id_expr, order)
                    .limit(limit + 1)
                    .all(conn)
                    .await?
            }
        };
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| {
                let (value, id) = key_of(last, field.name);
                encode_cursor(&value, id)
            })
        } else {
            None
        };
        Ok(Page { items: rows, next_cursor })
    }
}

/// A list's select narrowed by its filters: for the page and, when the list
/// is counted, for counting (the same records, written to count fast).
pub(crate) struct Filtered<E: EntityTrait> {
    page: Select<E>,
    /// With `q`: the page's select with every filter but the search. A
    /// record whose name or email starts with the query matches it, so the
    /// exact and prefix ranks need not run the full-text query again.
    unsearched: Option<Select<E>>,
    counting: Option<Select<E>>,
}

impl<E: EntityTrait> From<Select<E>> for Filtered<E> {
    fn from(page: Select<E>) -> Self {
        Filtered { page, unsearched: None, counting: None }
    }
}

/// How many rows a select matches, up to `COUNT_CAP + 1`: `SELECT COUNT(*)
/// FROM (SELECT id ... LIMIT cap + 1)`, so a broad filter stops counting
/// early (and only the id is read per row).
async fn count_rows<E: EntityTrait, C: ConnectionTrait>(conn: &C, select: &Select<E>, id: E::Column) -> Result<u64> {
    let inner = QueryTrait::into_query(select.clone().select_only().column(id).limit(COUNT_CAP + 1));
    let statement = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(inner, sea_orm::sea_query::Alias::new("matching"))
        .to_owned();
    let row = conn.query_one(&statement).await?.ok_or_else(|| StorageError::Corrupt("COUNT(*) gave no row".into()))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The keyset condition of a newest-updated-first (`-updated_at`) list after
/// `cursor`, for reads that build their own query (the board's columns, read
/// together): the same cursors as [`ListQuery::fetch`] gives that sort.
pub(crate) fn after_newest(cursor: &str, updated_at: SimpleExpr, id: SimpleExpr) -> Result<SimpleExpr> {
    let (value, after) =
        decode_cursor(cursor, SortKind::Time).ok_or_else(|| bad("cursor", "not a cursor from this list"))?;
    Ok(updated_at.clone().lt(value.clone()).or(updated_at.eq(value).and(id.lt(after))))
}

/// The cursor after a record of a newest-updated-first list (see [`after_newest`]).
pub(crate) fn newest_cursor(updated_at: OffsetDateTime, id: Uuid) -> String {
    encode_cursor(&SortValue::Time(updated_at), id)
}

fn encode_cursor(value: &SortValue, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([value.to_json(), id]).to_string())
}

fn decode_cursor(cursor: &str, kind: SortKind) -> Option<(Value, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let [value, id] = json.as_array()?.as_slice() else { return None };
    let id = Uuid::parse_str(id.as_str()?).ok()?;
    Some((SortValue::from_json(kind, value)?, id))
}

/// A condition on the table's full-text index: every group has a spelling
/// that starts a word of the record (or, `digits` given, the record has a
/// word starting with those digits).
fn match_condition(backend: DbBackend, table: &str, groups: &[Vec<String>], digits: Option<&str>) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            let group = |spellings: &Vec<String>| {
                format!("({})", spellings.iter().map(|s| format!("{s}:*")).collect::<Vec<_>>().join(" | "))
            };
            let every = groups.iter().map(group).collect::<Vec<_>>().join(" & ");
            let tsquery = match digits {
                Some(digits) => format!("({every}) | {digits}:*"),
                None => every,
            };
            Expr::cust_with_values(format!("\"{table}\".\"search_vector\" @@ to_tsquery('simple', $1)"), [tsquery])
        }
        _ => {
            let group = |spellings: &Vec<String>| {
                format!("({})", spellings.iter().map(|s| format!("\"{s}\"*")).collect::<Vec<_>>().join(" OR "))
            };
            let every = groups.iter().map(group).collect::<Vec<_>>().join(" AND ");
            let fts = match digits {
                Some(digits) => format!("({every}) OR \"{digits}\"*"),
                None => every,
            };
            Expr::cust_with_values(
                format!("\"{table}\".rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)"),
                [fts],
            )
        }
    }
}
