//! A person's birthday and postal addresses: parsed once at the edge (API,
//! forms, CSV and vCard imports), so every later layer holds a valid one.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::text::Name;

/// A day of birth whose year may be unknown: `1985-04-15`, or `--04-15` for
/// the 15th of April of a year nobody said (vCard's and ISO 8601's form). No
/// 30th of February, and no day after today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Birthday {
    year: Option<i32>,
    month: Month,
    day: u8,
}

/// The earliest year a birthday may be in: nobody alive was born before it,
/// so an earlier year is a typing mistake (`1085`).
pub const FIRST_BIRTH_YEAR: i32 = 1900;

crate::schema::schema_from!(
    Birthday,
    crate::schema::text(
        7,
        10,
        "^(19[0-9]{2}|[2-9][0-9]{3}|-)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        "A day of birth: YYYY-MM-DD, or --MM-DD when the year is not known (--04-15). A real day of the \
         calendar (29 February only in a leap year, or without a year), from 1900 and not after today."
    )
);

impl Birthday {
    /// A birthday from its parts, checked as the text form is; `today` is the
    /// last day it may be.
    pub fn new(year: Option<i32>, month: u8, day: u8, today: Date) -> Result<Self, String> {
        let month = Month::try_from(month).map_err(|_| format!("has no month {month}: months are 01 to 12"))?;
        // A year nobody said may hold 29 February: take a leap year to check the day.
        let checked_year = year.unwrap_or(2000);
        if Date::from_calendar_date(checked_year, month, day).is_err() {
            return Err(match year {
                Some(year) if month == Month::February && day == 29 => format!("{year} has no 29 February"),
                _ => format!("{month} has no day {day}"),
            });
        }
        if let Some(year) = year {
            if year < FIRST_BIRTH_YEAR {
                return Err(format!("must be in {FIRST_BIRTH_YEAR} or later"));
            }
            if Date::from_calendar_date(year, month, day).is_ok_and(|born| born > today) {
                return Err("must not be after today".into());
            }
        }
        Ok(Birthday { year, month, day })
    }

    /// The last day a birthday may be: today where the day starts first
    /// (UTC+14), so nobody's birthday of today is refused.
    pub fn latest_day() -> Date {
        (time::OffsetDateTime::now_utc() + time::Duration::hours(14)).date()
    }

    /// Reads the forms address books and spreadsheets write: `1985-04-15`,
    /// `19850415` (vCard 2.1 and 4.0's basic form), `--04-15` and `--0415`
    /// (no year), and a date-time (`1985-04-15T00:00:00Z`, vCard 3.0) by its day.
    pub fn read(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let day_part = text.split_once('T').map_or(text, |(day, _)| day);
        let (year, rest) = match day_part.strip_prefix("--") {
            Some(rest) => (None, rest),
            None => {
                let (year, rest) = day_part.split_at_checked(4).ok_or_else(|| not_a_birthday(text))?;
                (Some(digits(year).ok_or_else(|| not_a_birthday(text))?), rest.strip_prefix('-').unwrap_or(rest))
            }
        };
        let (month, day) = match rest.split_once('-') {
            Some((month, day)) if month.len() == 2 && day.len() == 2 => (month, day),
            None if rest.len() == 4 && rest.is_ascii() => rest.split_at(2),
            _ => return Err(not_a_birthday(text)),
        };
        let (Some(month), Some(day)) = (digits(month), digits(day)) else { return Err(not_a_birthday(text)) };
        let year = year.map(|y| y as i32);
        Birthday::new(year, month as u8, day as u8, Self::latest_day())
    }

    pub fn year(&self) -> Option<i32> {
        self.year
    }

    pub fn month(&self) -> Month {
        self.month
    }

    pub fn day(&self) -> u8 {
        self.day
    }

    /// Their age in whole years on `today`, when the year is known. Someone
    /// born on 29 February turns a year older on 1 March in other years.
    pub fn age_on(&self, today: Date) -> Option<i32> {
        let year = self.year?;
        let had_birthday = (today.month() as u8, today.day()) >= (self.month as u8, self.day);
        Some(today.year() - year - if had_birthday { 0 } else { 1 })
    }
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn not_a_birthday(text: &str) -> String {
    format!("{text:?} is not a day of birth such as 1985-04-15, or --04-15 without the year")
}

impl TryFrom<String> for Birthday {
    type Error = String;
    /// The API's and the database's form only: `YYYY-MM-DD` or `--MM-DD`.
    fn try_from(raw: String) -> Result<Self, String> {
        let text = raw.trim();
        let canonical = text.len() == 10 || (text.len() == 7 && text.starts_with("--"));
        let shaped = canonical
            && text.get(text.len() - 6..text.len() - 5) == Some("-")
            && text.get(text.len() - 3..text.len() - 2) == Some("-");
        if !shaped {
            return Err("must be YYYY-MM-DD, or --MM-DD when the year is not known".into());
        }
        Birthday::read(text)
    }
}

impl std::fmt::Display for Birthday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.year {
            Some(year) => write!(f, "{year:04}-{:02}-{:02}", self.month as u8, self.day),
            None => write!(f, "--{:02}-{:02}", self.month as u8, self.day),
        }
    }
}

impl From<Birthday> for String {
    fn from(birthday: Birthday) -> String {
        birthday.to_string()
    }
}

/// A postal code as written: letters, digits, spaces and hyphens, up to 20
/// characters (`10115`, `SW1A 1AA`, `1000-001`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);

crate::schema::schema_from!(
    PostalCode,
    crate::schema::text(
        1,
        20,
        "^\\s*[A-Za-z0-9](?:[A-Za-z0-9 -]{0,18}[A-Za-z0-9])?\\s*$",
        "A postal code as written, such as 10115, SW1A 1AA or 1000-001: letters and digits, with spaces or '-' \
         between them; up to 20 characters."
    )
);

impl PostalCode {
    pub const MAX_CHARS: usize = 20;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PostalCode {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        let code = raw.trim();
        let valid = code.starts_with(|c: char| c.is_ascii_alphanumeric())
            && code.ends_with(|c: char| c.is_ascii_alphanumeric())
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if valid {
            Ok(Self(code.to_owned()))
        } else {
            Err("is not a postal code: letters and digits, with spaces or '-' between them".into())
        }
    }
}

impl From<PostalCode> for String {
    fn from(code: PostalCode) -> String {
        code.0
    }
}

/// A postal address, shaped like a person's phone numbers (a label such as
/// home or work, one of them primary). Every part is optional, but an
/// address holds at least one of street, locality, region, postal code and
/// country.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PostalAddress {
    /// "home", "work"...
    #[serde(default)]
    pub label: Option<Name>,
    #[serde(default)]
    pub primary: bool,
    /// The street and number; line breaks separate its lines.
    #[serde(default)]
    pub street: Option<Name>,
    /// The city, town or village.
    #[serde(default)]
    pub locality: Option<Name>,
    /// The state, province or county.
    #[serde(default)]
    pub region: Option<Name>,
    #[serde(default)]
    pub postal_code: Option<PostalCode>,
    #[serde(default)]
    pub country: Option<Name>,
}

/// People have at most this many addresses.
pub const MAX_ADDRESSES: usize = 10;

impl PostalAddress {
    /// Whether it holds any part of an address (a label alone is none).
    pub fn is_empty(&self) -> bool {
        self.street.is_none()
            && self.locality.is_none()
            && self.region.is_none()
            && self.postal_code.is_none()
            && self.country.is_none()
    }

    /// The address on one line, its parts in the order they are written:
    /// "Rua Augusta 10, 1100-053 Lisbon, Portugal".
    pub fn one_line(&self) -> String {
        let street = self.street.as_ref().map(|s| s.as_str().split('\n').map(str::trim).collect::<Vec<_>>().join(", "));
        let town = [self.postal_code.as_ref().map(PostalCode::as_str), self.locality.as_ref().map(Name::as_str)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        [
            street,
            Some(town).filter(|t| !t.is_empty()),
            self.region.as_ref().map(Name::to_string),
            self.country.as_ref().map(Name::to_string),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 05);

    fn text(raw: &str) -> Result<Birthday, String> {
        Birthday::try_from(raw.to_owned())
    }

    #[test]
    fn a_birthday_with_or_without_its_year() {
        let known = text("1985-04-15").unwrap();
        assert_eq!((known.year(), known.month(), known.day()), (Some(1985), Month::April, 15));
        assert_eq!(known.to_string(), "1985-04-15");
        let yearless = text("--04-15").unwrap();
        assert_eq!((yearless.year(), yearless.month(), yearless.day()), (None, Month::April, 15));
        assert_eq!(yearless.to_string(), "--04-15");
        assert_eq!(serde_json::to_value(yearless).unwrap(), "--04-15");
        assert_eq!(serde_json::from_value::<Birthday>("1985-04-15".into()).unwrap(), known);
    }

    #[test]
    fn no_day_the_calendar_lacks_and_none_after_today() {
        assert!(text("1985-02-30").unwrap_err().contains("February has no day 30"));
        assert!(text("1985-02-29").unwrap_err().contains("1985 has no 29 February"));
        assert!(text("1984-02-29").is_ok(), "a leap year");
        assert!(text("--02-29").is_ok(), "some year had it");
        assert!(text("--02-30").is_err());
        assert!(text("1985-13-01").unwrap_err().contains("no month 13"));
        assert!(text("1985-04-00").is_err());
        assert!(text("1899-12-31").unwrap_err().contains("1900 or later"));
        let next_year = time::OffsetDateTime::now_utc().year() + 1;
        assert!(text(&format!("{next_year}-01-01")).unwrap_err().contains("after today"));
        assert_eq!(Birthday::new(Some(2026), 12, 6, TODAY).unwrap_err(), "must not be after today");
        assert!(Birthday::new(Some(2026), 12, 5, TODAY).is_ok(), "born today");
    }

    #[test]
    fn the_api_takes_the_two_written_forms_only() {
        for raw in ["19850415", "--0415", "85-04-15", "1985-4-15", "April 15", "", "1985-04-15T10:00:00Z"] {
            assert!(text(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn address_books_forms_are_read() {
        let read = |raw: &str| Birthday::read(raw).map(|b| b.to_string());
        assert_eq!(read("19850415"), Ok("1985-04-15".into()), "vCard 2.1 and 4.0's basic form");
        assert_eq!(read("1985-04-15"), Ok("1985-04-15".into()));
        assert_eq!(read("--0415"), Ok("--04-15".into()), "4.0 without the year");
        assert_eq!(read("--04-15"), Ok("--04-15".into()));
        assert_eq!(read("1953-10-15T23:10:00Z"), Ok("1953-10-15".into()), "3.0's date-time");
        for raw in ["1985", "1985-04", "15/04/1985", "circa 1950", "--04", "--0431"] {
            assert!(read(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn age_counts_whole_years() {
        let born = text("1985-12-06").unwrap();
        assert_eq!(born.age_on(TODAY), Some(40), "the day before the 41st birthday");
        assert_eq!(born.age_on(date!(2026 - 12 - 06)), Some(41));
        assert_eq!(text("--12-06").unwrap().age_on(TODAY), None);
        let leap = text("2000-02-29").unwrap();
        assert_eq!(leap.age_on(date!(2025 - 02 - 28)), Some(24));
        assert_eq!(leap.age_on(date!(2025 - 03 - 01)), Some(25));
    }

    #[test]
    fn postal_codes_and_addresses() {
        for code in ["10115", "SW1A 1AA", "1000-001", "K1A 0B1"] {
            assert!(PostalCode::try_from(code.to_owned()).is_ok(), "{code}");
        }
        for code in ["", "-1000", "10115;", "123456789012345678901", "Straße 1"] {
            assert!(PostalCode::try_from(code.to_owned()).is_err(), "{code}");
        }
        let address: PostalAddress = serde_json::from_value(serde_json::json!({
            "street": "Rua Augusta 10\n2º Esq", "locality": "Lisbon", "postal_code": "1100-053", "country": "Portugal"
        }))
        .unwrap();
        assert_eq!(address.one_line(), "Rua Augusta 10, 2º Esq, 1100-053 Lisbon, Portugal");
        assert!(!address.is_empty());
        let labelled: PostalAddress = serde_json::from_value(serde_json::json!({ "label": "home" })).unwrap();
        assert!(labelled.is_empty(), "a label is no address");
    }
}
