//! Filter-builder conditions (`where=`) as SQL, the same expressions on both
//! backends: record columns directly, emails through `contact_points`, tags
//! through `record_tags`, custom fields through their canonical values in
//! `custom_field_values` (an EXISTS sub-query each). Values are always bound
//! parameters.

use rapport_domain::FieldErrors;
use rapport_domain::conditions::{Comparison, Condition, FieldType, Source, Subject, Test, Where};
use rapport_domain::custom_fields::{EntityType, FieldKind};
use rapport_domain::money::{NO_MINOR_DIGITS, THREE_MINOR_DIGITS};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Select};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::entities::{contact_points, custom_field_values, record_tags};
use crate::{Result, StorageError};

/// The record a condition tests: its table, record type and id column.
struct Record<'a> {
    table: &'a str,
    entity: EntityType,
    id: SimpleExpr,
    backend: DbBackend,
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
) -> Result<Select<E>> {
    if conditions.is_empty() {
        return Ok(select);
    }
    let definitions = if conditions.iter().any(|c| matches!(c, Where::Custom(_))) {
        crate::common::definitions(conn, entity).await?
    } else {
        Vec::new()
    };
    let record = Record { table, entity, id: Expr::col((E::default(), id)), backend: conn.get_database_backend() };
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
            Ok(condition) => select = select.filter(record.expr(&condition)),
            Err(message) => errors.add("where", message),
        }
    }
    errors.into_result().map_err(StorageError::from)?;
    Ok(select)
}

fn exists(query: SelectStatement) -> SimpleExpr {
    Expr::exists(query)
}

fn not_exists(query: SelectStatement) -> SimpleExpr {
    Expr::exists(query).not()
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
        let of_person = |extra: Option<SimpleExpr>| {
            let mut query = Query::select()
                .expr(Expr::val(1))
                .from(points)
                .and_where(Expr::col((points, contact_points::Column::PersonId)).eq(self.id.clone()))
                .and_where(Expr::col((points, contact_points::Column::Kind)).eq("email"))
                .to_owned();
            if let Some(extra) = extra {
                query.and_where(extra);
            }
            query
        };
        match test {
            Test::Empty => not_exists(of_person(None)),
            Test::Set => exists(of_person(None)),
            Test::TextIs { value: text, negated } => {
                let query = of_person(Some(lower_eq(value, text.trim())));
                if *negated { not_exists(query) } else { exists(query) }
            }
            other => exists(of_person(Some(self.on_value(FieldType::Text, value, other, false)))),
        }
    }

    fn tags(&self, test: &Test) -> SimpleExpr {
        let tags = record_tags::Entity;
        let tagged = |tag: &str| {
            Query::select()
                .expr(Expr::val(1))
                .from(tags)
                .and_where(Expr::col((tags, record_tags::Column::EntityType)).eq(self.entity.as_str()))
                .and_where(Expr::col((tags, record_tags::Column::EntityId)).eq(self.id.clone()))
                .and_where(Expr::col((tags, record_tags::Column::Tag)).eq(tag))
                .to_owned()
        };
        match test {
            Test::HasTag(tag) => exists(tagged(tag)),
            Test::HasNotTag(tag) => not_exists(tagged(tag)),
            // Parsing gives a tag field no other test.
            _ => Expr::val(false),
        }
    }

    /// A custom field's test on its canonical text: numbers cast back to
    /// numbers, days compared as YYYY-MM-DD text (which sorts as days do).
    fn custom(&self, key: &str, kind: FieldKind, test: &Test) -> SimpleExpr {
        let values = custom_field_values::Entity;
        let text: SimpleExpr = Expr::col((values, custom_field_values::Column::ValueText));
        let of_record = |extra: Option<SimpleExpr>| {
            let mut query = Query::select()
                .expr(Expr::val(1))
                .from(values)
                .and_where(Expr::col((values, custom_field_values::Column::EntityType)).eq(self.entity.as_str()))
                .and_where(Expr::col((values, custom_field_values::Column::EntityId)).eq(self.id.clone()))
                .and_where(Expr::col((values, custom_field_values::Column::FieldKey)).eq(key))
                .to_owned();
            if let Some(extra) = extra {
                query.and_where(extra);
            }
            query
        };
        let day = |d: Date| d.to_string();
        let matching = match (kind, test) {
            (_, Test::Empty) => return not_exists(of_record(None)),
            (_, Test::Set) => return exists(of_record(None)),
            // "Not" holds for records without a value too.
            (_, Test::TextIs { value, negated: true }) => return not_exists(of_record(Some(lower_eq(text, value)))),
            (_, Test::NumberIsNot(number)) => {
                return not_exists(of_record(Some(text.cast_as(self.real()).eq(*number))));
            }
            (_, Test::OneOf { values, negated: true }) => {
                return not_exists(of_record(Some(text.is_in(values.clone()))));
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
        exists(of_record(Some(matching)))
    }
}
