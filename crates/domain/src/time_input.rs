//! Date-times as clients send them: RFC 3339 (`2026-01-05T09:30:00Z`), or a
//! bare date (`2026-01-05`), which is unambiguous enough to take as
//! midnight UTC. Written back as RFC 3339. Use with
//! `#[serde(with = "crate::time_input")]` (or `time_input::option`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// What a date-time must look like; serde puts it in its errors, the
/// server prefixes the field's name.
pub const EXPECTED: &str = "an RFC 3339 date-time such as 2026-01-05T09:30:00Z, or a date such as 2026-01-05";

/// How the API documents a date-time it parses with [`parse`]: an RFC 3339
/// date-time or a date (`#[param(value_type = Option<DateOrDateTime>)]`).
pub struct DateOrDateTime;

crate::schema::schema_from!(DateOrDateTime, {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    let string =
        |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
    Schema::from(
        OneOfBuilder::new()
            .item(string(KnownFormat::DateTime))
            .item(string(KnownFormat::Date))
            .description(Some("An RFC 3339 date-time such as 2026-01-05T09:30:00Z, or a date such as 2026-01-05."))
            .build(),
    )
});

/// How the API documents a query parameter that takes a date alone, where
/// an empty value counts as left out.
pub struct DateOrEmpty;

crate::schema::schema_from!(DateOrEmpty, {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
    Schema::from(
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
            )
            .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
            .description(Some("A date such as 2026-01-05, or empty for none."))
            .build(),
    )
});

/// A value that is neither an RFC 3339 date-time nor a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {EXPECTED}")]
pub struct BadDateTime;

/// An RFC 3339 date-time, or a date as its midnight UTC.
pub fn parse(raw: &str) -> Result<OffsetDateTime, BadDateTime> {
    let raw = raw.trim();
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map(|day| day.midnight().assume_utc())
        .map_err(|_| BadDateTime)
}

struct DateTimeVisitor;

impl Visitor<'_> for DateTimeVisitor {
    type Value = OffsetDateTime;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<OffsetDateTime, E> {
        parse(raw).map_err(E::custom)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    deserializer.deserialize_str(DateTimeVisitor)
}

pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    time::serde::rfc3339::serialize(at, serializer)
}

/// The same for an optional date-time (`null` or absent is `None`).
pub mod option {
    use super::*;

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<OffsetDateTime>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "{EXPECTED}, or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            super::deserialize(deserializer).map(Some)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }

    pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(at, serializer)
    }
}

/// What a date must look like.
pub const EXPECTED_DATE: &str = "a date such as 2026-01-05";

/// A value that is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {EXPECTED_DATE}")]
pub struct BadDate;

/// A date, `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<Date, BadDate> {
    Date::parse(raw.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| BadDate)
}

/// Dates (`2026-01-05`), refused in words that say so (time's own serde says
/// "the 'month' component could not be parsed"). Written as time writes
/// them. Use with `#[serde(with = "crate::time_input::date")]`, or its
/// `option` and `list`.
pub mod date {
    use serde::{Deserialize, Serialize};

    use super::*;

    struct DateVisitor;

    impl Visitor<'_> for DateVisitor {
        type Value = Date;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(EXPECTED_DATE)
        }

        fn visit_str<E: de::Error>(self, raw: &str) -> Result<Date, E> {
            parse_date(raw).map_err(E::custom)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        deserializer.deserialize_str(DateVisitor)
    }

    pub fn serialize<S: Serializer>(day: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        day.serialize(serializer)
    }

    /// One date, read by `date` (for `option` and `list`).
    struct Day(Date);

    impl<'de> Deserialize<'de> for Day {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::date::deserialize(deserializer).map(Day)
        }
    }

    /// An optional date (`null` or absent is `None`).
    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
            Ok(Option::<Day>::deserialize(deserializer)?.map(|Day(day)| day))
        }

        pub fn serialize<S: Serializer>(day: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
            day.serialize(serializer)
        }
    }

    /// A list of dates.
    pub mod list {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Date>, D::Error> {
            Ok(Vec::<Day>::deserialize(deserializer)?.into_iter().map(|Day(day)| day).collect())
        }

        pub fn serialize<S: Serializer>(days: &[Date], serializer: S) -> Result<S::Ok, S::Error> {
            days.serialize(serializer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct At {
        #[serde(with = "crate::time_input")]
        at: OffsetDateTime,
        #[serde(default, with = "crate::time_input::option")]
        maybe: Option<OffsetDateTime>,
    }

    #[test]
    fn date_times_and_dates_are_read() {
        let at: At = serde_json::from_str(r#"{"at": "2026-01-05T09:30:00+01:00", "maybe": "2026-01-05"}"#).unwrap();
        assert_eq!(at.at, datetime!(2026-01-05 08:30 UTC));
        assert_eq!(at.maybe, Some(datetime!(2026-01-05 00:00 UTC)));
        let at: At = serde_json::from_str(r#"{"at": "2026-01-05", "maybe": null}"#).unwrap();
        assert_eq!((at.at, at.maybe), (datetime!(2026-01-05 00:00 UTC), None));
        assert_eq!(serde_json::to_string(&at).unwrap(), r#"{"at":"2026-01-05T00:00:00Z","maybe":null}"#);
    }

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    struct Days {
        #[serde(default, with = "crate::time_input::date::option")]
        day: Option<time::Date>,
        #[serde(default, with = "crate::time_input::date::list")]
        days: Vec<time::Date>,
    }

    #[test]
    fn dates_are_read_and_refused_in_words() {
        let days: Days = serde_json::from_str(r#"{"day": "2026-01-05", "days": ["2026-12-25"]}"#).unwrap();
        assert_eq!(
            days,
            Days { day: Some(time::macros::date!(2026 - 01 - 05)), days: vec![time::macros::date!(2026 - 12 - 25)] }
        );
        assert_eq!(serde_json::to_string(&days).unwrap(), r#"{"day":"2026-01-05","days":["2026-12-25"]}"#);
        let none: Days = serde_json::from_str(r#"{"day": null}"#).unwrap();
        assert_eq!(none, Days { day: None, days: Vec::new() });
        for bad in [r#""2026-01-05T09:30:00Z""#, r#""05/01/2026""#, r#""2026-02-30""#, "5"] {
            for body in [format!(r#"{{"day": {bad}}}"#), format!(r#"{{"days": ["2026-01-01", {bad}]}}"#)] {
                let error = serde_json::from_str::<Days>(&body).unwrap_err().to_string();
                assert!(error.contains("a date such as 2026-01-05"), "{body}: {error}");
            }
        }
    }

    #[test]
    fn errors_say_what_is_expected() {
        for bad in [r#""2026-01-05 09:30""#, r#""yesterday""#, r#""2026-02-30""#, "5", "true"] {
            let error = serde_json::from_str::<At>(&format!(r#"{{"at": {bad}}}"#)).unwrap_err().to_string();
            assert!(error.contains("such as 2026-01-05T09:30:00Z, or a date such as 2026-01-05"), "{bad}: {error}");
            let error = serde_json::from_str::<At>(&format!(r#"{{"at": "2026-01-05", "maybe": {bad}}}"#))
                .unwrap_err()
                .to_string();
            assert!(error.contains("such as 2026-01-05T09:30:00Z"), "{bad}: {error}");
        }
    }
}
