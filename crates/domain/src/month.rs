//! A calendar month ("2025-03"), as the people list's purchase filters take
//! it: the cohort (month of first purchase) and a month with a purchase,
//! both in UTC as the insights count them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};
use time::{Date, Month, OffsetDateTime};

/// A month of a year from 1 to 9999, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarMonth {
    year: i32,
    month: Month,
}

/// A month that is not `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a month written YYYY-MM, such as 2025-03")]
pub struct BadMonth;

impl CalendarMonth {
    /// Midnight UTC on the month's first day.
    pub fn start(self) -> OffsetDateTime {
        Date::from_calendar_date(self.year, self.month, 1)
            .map_or(OffsetDateTime::UNIX_EPOCH, |d| d.midnight().assume_utc())
    }

    /// Midnight UTC on the next month's first day (where this month ends).
    pub fn end(self) -> OffsetDateTime {
        let (year, month) = if self.month == Month::December {
            (self.year + 1, Month::January)
        } else {
            (self.year, self.month.next())
        };
        CalendarMonth { year, month }.start()
    }
}

impl FromStr for CalendarMonth {
    type Err = BadMonth;

    fn from_str(s: &str) -> Result<Self, BadMonth> {
        let (year, month) = s.trim().split_once('-').ok_or(BadMonth)?;
        if year.len() != 4 || month.len() != 2 || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(BadMonth);
        }
        let year: i32 = year.parse().map_err(|_| BadMonth)?;
        let month = Month::try_from(month.parse::<u8>().map_err(|_| BadMonth)?).map_err(|_| BadMonth)?;
        if year < 1 {
            return Err(BadMonth);
        }
        Ok(CalendarMonth { year, month })
    }
}

impl fmt::Display for CalendarMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

impl<'de> Deserialize<'de> for CalendarMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(|e: BadMonth| de::Error::custom(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound_their_days() {
        let march: CalendarMonth = "2025-03".parse().unwrap();
        assert_eq!(march.to_string(), "2025-03");
        assert_eq!(march.start().to_string(), "2025-03-01 0:00:00.0 +00:00:00");
        assert_eq!(march.end().to_string(), "2025-04-01 0:00:00.0 +00:00:00");
        let december: CalendarMonth = "2024-12".parse().unwrap();
        assert_eq!(december.end().to_string(), "2025-01-01 0:00:00.0 +00:00:00");
        for bad in ["2025-13", "2025-00", "2025-3", "25-03", "2025/03", "", "0000-01", "2025-03-01", "+025-03"] {
            assert_eq!(bad.parse::<CalendarMonth>(), Err(BadMonth), "{bad}");
        }
    }
}
