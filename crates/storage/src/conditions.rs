//! Filter-builder conditions (`where=`) as SQL, the same expressions on both
//! backends: record columns directly, emails through `contact_points`, tags
//! through `record_tags`, custom fields through their canonical values in
//! `custom_field_values` (a sub-query each, see [`Shape`]). Values are always
//! bound parameters.

use std::sync::{Mutex, PoisonError};

use rapport_domain::FieldErrors;
use rapport_domain::conditions::{Comparison, Condition, FieldType, Source, Subject, Test, Where};
use rapport_domain::custom_fields::{EntityType, FieldKind};
use rapport_domain::money::{NO_MINOR_DIGITS, THREE_MINOR_DIGITS};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Select};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::entities::{contact_points, custom_field_values, record_tags};
use crate::{Result, StorageError};

/// How a test on a record's related rows (tags, custom values, emails) is
/// written. Both mean the same on both backends; they differ in what the
/// SQLite planner can do with them (PostgreSQL plans both as a semi-join).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `EXISTS (SELECT 1 … WHERE key = record.id LIMIT 1)`, tested record by
    /// record: a page read in its sort index's order stops after one page.
    /// A page's test that few rows pass is a `Set` instead (see [`page_shape`]).
    Correlated,
    /// `record.id IN (SELECT key …)` for a test that related rows exist:
    /// their index drives, so a count visits only the records a test picks
    /// (a count of "custom tier is gold" reads the gold ones, not all
    /// 100,000 people). Tests that none exists stay `NOT EXISTS`.
    Set,
}

/// `query`'s rows related to the record `id` by their column `key` exist
/// (or, `negated`, none does). `query` selects nothing yet.
pub(crate) fn related(
    shape: Shape,
    id: &SimpleExpr,
    mut query: SelectStatement,
    key: SimpleExpr,
    negated: bool,
) -> SimpleExpr {
    match (shape, negated) {
        // A "none" test picks records without related rows: a count visits
        // every record either way, and NOT IN would keep PostgreSQL from
        // planning an anti-join.
        (Shape::Correlated, _) | (Shape::Set, true) => {
            query.expr(Expr::val(1)).and_where(key.eq(id.clone()));
            // Without the LIMIT, SQLite (3.4x and later) turns a correlated
            // EXISTS into a join behind a Bloom filter, which it builds by
            // reading every related row of the kind first: 20-40 ms at
            // 100,000 people before the first row of a page.
            if shape == Shape::Correlated {
                query.limit(1);
            }
            let exists = Expr::exists(query);
            if negated { exists.not() } else { exists }
        }
        (Shape::Set, false) => id.clone().in_subquery(query.expr(key).to_owned()),
    }
}

/// A page's related-rows test that fewer rows than this pass is read from
/// its own index first: read in the records' sort order, a page of matches
/// would sit among tens of thousands of records that do not match.
const FEW_RELATED_ROWS: u64 = 2_000;

/// The shape of a test that `query`'s rows related by `key` exist: a page's
/// (`Correlated`) test stays so unless fewer than [`FEW_RELATED_ROWS`] rows
/// pass it, found by one bounded read of its index; a count's stays `Set`.
pub(crate) async fn page_shape<C: ConnectionTrait>(
    conn: &C,
    shape: Shape,
    query: &SelectStatement,
    key: &SimpleExpr,
) -> Result<Shape> {
    if shape == Shape::Set {
        return Ok(shape);
    }
    let passing = query.clone().expr(key.clone()).limit(FEW_RELATED_ROWS).to_owned();
    let probe = Query::select().expr(Expr::cust("COUNT(*)")).from_subquery(passing, Alias::new("passing")).to_owned();
    let row =
        conn.query_one(&probe).await?.ok_or_else(|| StorageError::Corrupt("a COUNT(*) returned no row".into()))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(if u64::try_from(count).unwrap_or(0) < FEW_RELATED_ROWS { Shape::Set } else { Shape::Correlated })
}

/// The record a condition tests: its table, record type and id column.
struct Record<'a> {
    table: &'a str,
    entity: EntityType,
    id: SimpleExpr,
    backend: DbBackend,
    shape: Shape,
    /// The tests that related rows exist built so far, for [`page_shape`]
    /// (a Mutex: the filter's future, which holds it, must be `Send`).
    exists_tests: Mutex<Vec<(SelectStatement, SimpleExpr)>>,
}

/// Narrows a select by every condition (they AND together); a custom
/// field's condition is typed by its definition first.
pub(crate) async fn filter_conditions<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    mut select: Select<E>,
    conditions: &[Where],
    entity: EntityType,
    table: &str,
    id: E::Column,
    shape: Shape,
) -> Result<Select<E>> {
    if conditions.is_empty() {
        return Ok(select);
    }
    let definitions = if conditions.iter().any(|c| matches!(c, Where::Custom(_))) {
        crate::common::definitions(conn, entity).await?
    } else {
        Vec::new()
    };
    let record = Record {
        table,
        entity,
        id: Expr::col((E::default(), id)),
        backend: conn.get_database_backend(),
        shape,
        exists_tests: Mutex::default(),
    };
    let mut errors = FieldErrors::new();
    for condition in conditions {
        let typed = match condition {
            Where::Ready(condition) => Ok(condition.clone()),
            Where::Custom(custom) => definitions
                .iter()
                .find(|d| d.key == custom.key)
                .ok_or_else(|| format!("no such custom field: {} (in {})", custom.key.as_str(), custom.text))
                .and_then(|definition| {
                    custom.resolve(definition).map_err(|reason| format!("{reason} (in {})", custom.text))
                }),
        };
        match typed {
            Ok(condition) => select = select.filter(record.shaped_expr(conn, &condition).await?),
            Err(message) => errors.add("where", message),
        }
    }
    errors.into_result().map_err(StorageError::from)?;
    Ok(select)
}

/// `%`, `_` and `\` stand for themselves in the typed text.
fn like_escaped(text: &str) -> String {
    text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn lower_like(expr: SimpleExpr, pattern: String) -> SimpleExpr {
    Func::lower(expr).like(LikeExpr::new(pattern).escape('\\'))
}

fn lower_eq(expr: SimpleExpr, text: &str) -> SimpleExpr {
    SimpleExpr::from(Func::lower(expr)).eq(text.to_lowercase())
}

/// The first moment of a UTC day.
fn start_of(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn compare(expr: SimpleExpr, comparison: Comparison, value: impl Into<sea_orm::Value>) -> SimpleExpr {
    let value = value.into();
    match comparison {
        Comparison::Eq => expr.eq(value),
        Comparison::Lt => expr.lt(value),
        Comparison::Le => expr.lte(value),
        Comparison::Gt => expr.gt(value),
        Comparison::Ge => expr.gte(value),
    }
}

impl Record<'_> {
    /// `condition` as SQL, as a set when it is a page's test that few rows pass.
    async fn shaped_expr<C: ConnectionTrait>(&self, conn: &C, condition: &Condition) -> Result<SimpleExpr> {
        let expr = self.expr(condition);
        let tests = std::mem::take(&mut *self.exists_tests.lock().unwrap_or_else(PoisonError::into_inner));
        for (query, key) in tests {
            if page_shape(conn, self.shape, &query, &key).await? == Shape::Set {
                let as_set = Record { shape: Shape::Set, exists_tests: Mutex::default(), id: self.id.clone(), ..*self };
                return Ok(as_set.expr(condition));
            }
        }
        Ok(expr)
    }

    fn related(&self, query: SelectStatement, key: SimpleExpr, negated: bool) -> SimpleExpr {
        if !negated {
            self.exists_tests.lock().unwrap_or_else(PoisonError::into_inner).push((query.clone(), key.clone()));
        }
        related(self.shape, &self.id, query, key, negated)
    }

    fn column(&self, name: &str) -> SimpleExpr {
        Expr::col((Alias::new(self.table), Alias::new(name)))
    }

    fn expr(&self, condition: &Condition) -> SimpleExpr {
        match &condition.subject {
            Subject::Field(spec) => match spec.source {
                Source::Column(name) => self.on_value(spec.ty, self.column(name), &condition.test, true),
                Source::Emails => self.emails(&condition.test),
                Source::Tags => self.tags(&condition.test),
            },
            Subject::Custom { key, kind } => self.custom(key.as_str(), *kind, &condition.test),
        }
    }

    /// A test on one value that may be NULL (`nullable`): a record without
    /// a value is "empty", and is "not" any value.
    fn on_value(&self, ty: FieldType, value: SimpleExpr, test: &Test, nullable: bool) -> SimpleExpr {
        let null = value.clone().is_null();
        let missing = if matches!(ty, FieldType::Text) { null.or(value.clone().eq("")) } else { null };
        let or_missing = |expr: SimpleExpr| if nullable { missing.clone().or(expr) } else { expr };
        match test {
            Test::Empty => missing.clone(),
            Test::Set => missing.clone().not(),
            Test::TextIs { value: text, negated: false } => lower_eq(value, text),
            Test::TextIs { value: text, negated: true } => or_missing(lower_eq(value, text).not()),
            Test::Contains(text) => lower_like(value, format!("%{}%", like_escaped(text))),
            Test::StartsWith(text) => lower_like(value, format!("{}%", like_escaped(text))),
            Test::Compare(comparison, number) => match ty {
                FieldType::Money => compare(self.major_units(value), *comparison, *number),
                _ => compare(value, *comparison, *number),
            },
            Test::NumberIsNot(number) => match ty {
                FieldType::Money => self.major_units(value).ne(*number),
                _ => or_missing(value.ne(*number)),
            },
            Test::On(day) => self.days(ty, value, *day, *day),
            Test::Before(day) => match ty {
                FieldType::Timestamp => value.lt(start_of(*day)),
                _ => value.lt(*day),
            },
            Test::After(day) => match ty {
                FieldType::Timestamp => value.gte(start_of(day.next_day().unwrap_or(*day))),
                _ => value.gt(*day),
            },
            Test::WithinDays(days) => {
                let today = today();
                self.days(ty, value, today - Duration::days(i64::from(*days) - 1), today)
            }
            Test::OneOf { values, negated } => {
                let values: Vec<String> = values.clone();
                if *negated { or_missing(value.is_not_in(values)) } else { value.is_in(values) }
            }
            Test::OneOfIds { ids, negated } => {
                let ids = ids.clone();
                if *negated { or_missing(value.is_not_in(ids)) } else { value.is_in(ids) }
            }
            Test::Is(flag) => value.eq(flag.to_string()),
            // Tags are their own source; parsing gives these only to tag fields.
            Test::HasTag(_) | Test::HasNotTag(_) => self.tags(test),
        }
    }

    /// Days `first` to `last`, both included: of a date, or the UTC days of a moment.
    fn days(&self, ty: FieldType, value: SimpleExpr, first: Date, last: Date) -> SimpleExpr {
        match ty {
            FieldType::Timestamp => {
                value.clone().gte(start_of(first)).and(value.lt(start_of(last.next_day().unwrap_or(last))))
            }
            _ => value.clone().gte(first).and(value.lte(last)),
        }
    }

    /// An amount in minor units as major units, by its row's currency.
    fn major_units(&self, minor: SimpleExpr) -> SimpleExpr {
        let currency = self.column("currency");
        let divisor = Expr::case(currency.clone().is_in(NO_MINOR_DIGITS.iter().copied()), 1.0)
            .case(currency.is_in(THREE_MINOR_DIGITS.iter().copied()), 1000.0)
            .finally(100.0);
        minor.cast_as(self.real()).div(divisor)
    }

    fn real(&self) -> Alias {
        Alias::new(if self.backend == DbBackend::Postgres { "DOUBLE PRECISION" } else { "REAL" })
    }

    fn emails(&self, test: &Test) -> SimpleExpr {
        let points = contact_points::Entity;
        let value: SimpleExpr = Expr::col((points, contact_points::Column::Value));
        let of_person = |extra: Option<SimpleExpr>, negated: bool| {
            let mut query = Query::select()
                .from(points)
                .and_where(Expr::col((points, contact_points::Column::Kind)).eq("email"))
                .to_owned();
            if let Some(extra) = extra {
                query.and_where(extra);
            }
            self.related(query, Expr::col((points, contact_points::Column::PersonId)), negated)
        };
        match test {
            Test::Empty => of_person(None, true),
            Test::Set => of_person(None, false),
            Test::TextIs { value: text, negated } => of_person(Some(lower_eq(value, text.trim())), *negated),
            other => of_person(Some(self.on_value(FieldType::Text, value, other, false)), false),
        }
    }

    fn tags(&self, test: &Test) -> SimpleExpr {
        let tags = record_tags::Entity;
        let tagged = |tag: &str, negated: bool| {
            let query = Query::select()
                .from(tags)
                .and_where(Expr::col((tags, record_tags::Column::EntityType)).eq(self.entity.as_str()))
                .and_where(Expr::col((tags, record_tags::Column::Tag)).eq(tag))
                .to_owned();
            self.related(query, Expr::col((tags, record_tags::Column::EntityId)), negated)
        };
        match test {
            Test::HasTag(tag) => tagged(tag, false),
            Test::HasNotTag(tag) => tagged(tag, true),
            // Parsing gives a tag field no other test.
            _ => Expr::val(false),
        }
    }

    /// A custom field's test on its canonical text: numbers cast back to
    /// numbers, days compared as YYYY-MM-DD text (which sorts as days do).
    fn custom(&self, key: &str, kind: FieldKind, test: &Test) -> SimpleExpr {
        let values = custom_field_values::Entity;
        let text: SimpleExpr = Expr::col((values, custom_field_values::Column::ValueText));
        let of_record = |extra: Option<SimpleExpr>, negated: bool| {
            let mut query = Query::select()
                .from(values)
                .and_where(Expr::col((values, custom_field_values::Column::EntityType)).eq(self.entity.as_str()))
                .and_where(Expr::col((values, custom_field_values::Column::FieldKey)).eq(key))
                .to_owned();
            if let Some(extra) = extra {
                query.and_where(extra);
            }
            let record = Expr::col((values, custom_field_values::Column::EntityId));
            self.related(query, record, negated)
        };
        let day = |d: Date| d.to_string();
        let matching = match (kind, test) {
            (_, Test::Empty) => return of_record(None, true),
            (_, Test::Set) => return of_record(None, false),
            // "Not" holds for records without a value too.
            (_, Test::TextIs { value, negated: true }) => return of_record(Some(lower_eq(text, value)), true),
            (_, Test::NumberIsNot(number)) => {
                return of_record(Some(text.cast_as(self.real()).eq(*number)), true);
            }
            (_, Test::OneOf { values, negated: true }) => {
                return of_record(Some(text.is_in(values.clone())), true);
            }
            (FieldKind::Number, Test::Compare(comparison, number)) => {
                compare(text.cast_as(self.real()), *comparison, *number)
            }
            (_, Test::On(d)) => text.eq(day(*d)),
            (_, Test::Before(d)) => text.lt(day(*d)),
            (_, Test::After(d)) => text.gt(day(*d)),
            (_, Test::WithinDays(days)) => {
                let today = today();
                text.clone().gte(day(today - Duration::days(i64::from(*days) - 1))).and(text.lte(day(today)))
            }
            (_, other) => self.on_value(FieldType::Text, text, other, false),
        };
        of_record(Some(matching), false)
    }
}
