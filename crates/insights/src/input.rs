//! Input types shared by the RFM, cohort, churn and referral computations:
//! customer keys, purchase dates, calendar months, currencies and the error
//! type.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// What identifies a customer: anything small, hashable and ordered, such as
/// `u128`, `i64` or `uuid::Uuid`. Reports list customers in key order.
pub trait CustomerKey: Copy + Eq + Hash + Ord + fmt::Debug + Serialize {}

impl<T: Copy + Eq + Hash + Ord + fmt::Debug + Serialize> CustomerKey for T {}

/// A purchase time the builders accept: a calendar [`Date`], or an
/// [`OffsetDateTime`], which counts on its UTC date. Callers who want local
/// calendar days convert to their offset and pass the `Date`.
pub trait PurchaseDate {
    /// The calendar day the purchase counts on.
    fn purchase_date(self) -> Date;
}

impl PurchaseDate for Date {
    fn purchase_date(self) -> Date {
        self
    }
}

impl PurchaseDate for OffsetDateTime {
    fn purchase_date(self) -> Date {
        self.to_offset(UtcOffset::UTC).date()
    }
}

/// Errors from the insights computations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightsError {
    /// A streaming builder that needs rows grouped by customer saw a customer
    /// again after other customers' rows.
    #[error("rows for customer {0} are not contiguous: feed purchases ordered by customer")]
    CustomerNotContiguous(String),
    /// Text that should name a month (`YYYY-MM`) did not.
    #[error("not a month (expected YYYY-MM): {0:?}")]
    BadMonth(String),
    /// The chart backend failed.
    #[error("chart rendering failed: {0}")]
    Chart(String),
}

/// A calendar month, shown and serialized as `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

impl YearMonth {
    /// The month `year`-`month` (1–12), or `None` when `month` is out of range.
    pub fn new(year: i32, month: u8) -> Option<Self> {
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: Date) -> Self {
        Self { year: date.year(), month: date.month() as u8 }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month of the year, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Months since year 0, a dense index for arithmetic.
    pub(crate) fn index(self) -> i32 {
        self.year * 12 + i32::from(self.month) - 1
    }

    pub(crate) fn from_index(index: i32) -> Self {
        Self { year: index.div_euclid(12), month: (index.rem_euclid(12) + 1) as u8 }
    }

    /// This month moved by `months` (negative goes back).
    pub fn plus_months(self, months: i32) -> Self {
        Self::from_index(self.index() + months)
    }

    /// Whole months from `earlier` to `self` (negative when `earlier` is later).
    pub fn months_since(self, earlier: YearMonth) -> i32 {
        self.index() - earlier.index()
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        let month = Month::try_from(self.month).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        self.plus_months(1).first_day().previous_day().unwrap_or(Date::MAX)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = InsightsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InsightsError::BadMonth(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Self::new(year, month).ok_or_else(bad)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MonthVisitor;
        impl Visitor<'_> for MonthVisitor {
            type Value = YearMonth;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a month as YYYY-MM")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<YearMonth, E> {
                v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(MonthVisitor)
    }
}

/// Digits after the decimal point in a currency's minor unit (ISO 4217):
/// 0 for JPY, KRW and the like, 3 for BHD, KWD, ..., otherwise 2.
pub fn currency_exponent(code: &str) -> u32 {
    // One table of minor units for all of Rapport: the domain's.
    rapport_domain::Currency::parse(code).map(|currency| currency.minor_digits()).unwrap_or(2)
}

/// An amount in minor units as a number of major units (for charts).
pub fn minor_to_major(amount_minor: impl Into<i128>, currency: &str) -> f64 {
    amount_minor.into() as f64 / 10f64.powi(currency_exponent(currency) as i32)
}

/// An FxHash-style hasher: customer keys are trusted ids, so the DoS
/// resistance of SipHash is not needed and speed matters (millions of rows).
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher {
    hash: u64,
}

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// Days from `from` to `to` (negative when `to` is earlier).
pub(crate) fn days_between(from: Date, to: Date) -> i64 {
    i64::from(to.to_julian_day()) - i64::from(from.to_julian_day())
}

/// `part / whole`, or 0 when `whole` is 0 (so reports never hold NaN).
pub(crate) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}
