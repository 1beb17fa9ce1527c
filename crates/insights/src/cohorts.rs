//! Cohorts by month of first purchase: retention matrix, revenue per cohort
//! and month, repeat-purchase rate.
//!
//! A [`CohortBuilder`] takes purchases **grouped by customer** (e.g. a cursor
//! over `ORDER BY customer_id`; order within a customer does not matter). It
//! keeps only the current customer's purchases and the cohort totals, plus
//! the set of customers already finished so that a customer showing up again
//! is reported as an error instead of silently counted twice.
//!
//! Definitions, with month 0 the month of a customer's first purchase:
//!
//! * retention in month `k` = customers of the cohort with a purchase in
//!   month `k` ÷ cohort size (month 0 is always 1);
//! * revenue in month `k` = what the cohort spent in that month;
//! * repeat-purchase rate = share of customers with two purchases or more
//!   (on any days, up to `as_of`).
//!
//! Months after the month of `as_of` are not observed and are left out of the
//! matrix, so row `i` is shorter for later cohorts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::input::{CustomerKey, FastSet, InsightsError, PurchaseDate, YearMonth, ratio};

#[derive(Default, Clone)]
struct CohortAcc {
    size: u64,
    repeaters: u64,
    purchases: u64,
    active: Vec<u64>,
    // i128: amounts are bounded (±10^15), their sums are not.
    revenue: Vec<i128>,
}

/// Accumulates purchases, grouped by customer, into cohorts.
#[derive(Clone)]
pub struct CohortBuilder<K> {
    as_of: Date,
    currency: String,
    done: FastSet<K>,
    current: Option<K>,
    buffer: Vec<(i32, i64)>,
    cohorts: BTreeMap<i32, CohortAcc>,
    ignored_after_as_of: u64,
}

impl<K: CustomerKey> CohortBuilder<K> {
    /// A builder counting purchases up to and including `as_of`; amounts are
    /// minor units of `currency`.
    pub fn new(as_of: Date, currency: impl Into<String>) -> Self {
        Self {
            as_of,
            currency: currency.into(),
            done: FastSet::default(),
            current: None,
            buffer: Vec::new(),
            cohorts: BTreeMap::new(),
            ignored_after_as_of: 0,
        }
    }

    /// Adds one purchase. All of a customer's purchases must come together;
    /// a customer seen again after another one is an error (and the row is
    /// not counted). Purchases after `as_of` are ignored (and counted).
    #[inline]
    pub fn add(&mut self, customer: K, at: impl PurchaseDate, amount_minor: i64) -> Result<(), InsightsError> {
        let at = at.purchase_date();
        if self.current != Some(customer) {
            if self.done.contains(&customer) {
                return Err(InsightsError::CustomerNotContiguous(format!("{customer:?}")));
            }
            self.flush();
            self.current = Some(customer);
        }
        if at > self.as_of {
            self.ignored_after_as_of += 1;
            return Ok(());
        }
        self.buffer.push((YearMonth::of(at).index(), amount_minor));
        Ok(())
    }

    fn flush(&mut self) {
        let Some(customer) = self.current.take() else { return };
        self.done.insert(customer);
        if self.buffer.is_empty() {
            return;
        }
        self.buffer.sort_unstable_by_key(|&(month, _)| month);
        let first = self.buffer[0].0;
        let acc = self.cohorts.entry(first).or_default();
        acc.size += 1;
        acc.purchases += self.buffer.len() as u64;
        if self.buffer.len() > 1 {
            acc.repeaters += 1;
        }
        let mut last_offset = usize::MAX;
        for &(month, amount) in &self.buffer {
            let offset = (month - first) as usize;
            if acc.active.len() <= offset {
                acc.active.resize(offset + 1, 0);
                acc.revenue.resize(offset + 1, 0);
            }
            if offset != last_offset {
                acc.active[offset] += 1;
                last_offset = offset;
            }
            acc.revenue[offset] += i128::from(amount);
        }
        self.buffer.clear();
    }

    /// Builds the report.
    pub fn finish(mut self) -> CohortReport {
        self.flush();
        let last = YearMonth::of(self.as_of);
        let mut customers = 0;
        let mut repeaters = 0;
        let mut revenue_total = 0i128;
        let mut cohorts = Vec::with_capacity(self.cohorts.len());
        let mut max_offset = 0;
        for (index, acc) in self.cohorts {
            let month = YearMonth::from_index(index);
            let observed = (last.months_since(month) + 1).max(1) as usize;
            max_offset = max_offset.max(observed - 1);
            let mut active = acc.active;
            let mut revenue = acc.revenue;
            active.resize(observed, 0);
            revenue.resize(observed, 0);
            let retention = active.iter().map(|&a| ratio(a, acc.size)).collect();
            let revenue_minor: i128 = revenue.iter().sum();
            customers += acc.size;
            repeaters += acc.repeaters;
            revenue_total += revenue_minor;
            cohorts.push(Cohort {
                month,
                size: acc.size,
                purchases: acc.purchases,
                active,
                retention,
                revenue_minor,
                revenue_by_month_minor: revenue,
                repeat_customers: acc.repeaters,
                repeat_purchase_rate: ratio(acc.repeaters, acc.size),
            });
        }
        CohortReport {
            as_of: self.as_of,
            currency: self.currency,
            cohorts,
            max_offset,
            customers,
            repeat_customers: repeaters,
            repeat_purchase_rate: ratio(repeaters, customers),
            revenue_minor: revenue_total,
            ignored_after_as_of: self.ignored_after_as_of,
        }
    }
}

/// One cohort: the customers whose first purchase fell in `month`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// The month of first purchase.
    pub month: YearMonth,
    /// Customers in the cohort.
    pub size: u64,
    /// Their purchases in all.
    pub purchases: u64,
    /// `active[k]`: customers with a purchase in month `k` after the first.
    pub active: Vec<u64>,
    /// `retention[k]` = `active[k] / size` (0–1; `retention[0]` = 1).
    #[serde(with = "crate::float::vec")]
    pub retention: Vec<f64>,
    /// Revenue of the cohort, minor units.
    pub revenue_minor: i128,
    /// `revenue_by_month_minor[k]`: revenue in month `k`, minor units.
    pub revenue_by_month_minor: Vec<i128>,
    /// Customers with two purchases or more.
    pub repeat_customers: u64,
    /// `repeat_customers / size`.
    #[serde(with = "crate::float")]
    pub repeat_purchase_rate: f64,
}

/// Cohorts by month of first purchase, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    /// Purchases up to this day count.
    pub as_of: Date,
    /// Currency of all amounts.
    pub currency: String,
    /// The cohorts, oldest first.
    pub cohorts: Vec<Cohort>,
    /// The largest month offset observed (the oldest cohort's last column).
    pub max_offset: usize,
    /// Customers in all cohorts.
    pub customers: u64,
    /// Customers with two purchases or more.
    pub repeat_customers: u64,
    /// `repeat_customers / customers`.
    #[serde(with = "crate::float")]
    pub repeat_purchase_rate: f64,
    /// Revenue of all cohorts, minor units.
    pub revenue_minor: i128,
    /// Purchases dated after `as_of`, left out.
    pub ignored_after_as_of: u64,
}

impl CohortReport {
    /// The cohort of a month.
    pub fn cohort(&self, month: YearMonth) -> Option<&Cohort> {
        self.cohorts.iter().find(|c| c.month == month)
    }

    /// Retention in month `k` over all cohorts that reached month `k`,
    /// weighted by cohort size (`None` when no cohort is that old).
    pub fn average_retention(&self, k: usize) -> Option<f64> {
        let (active, size) = self
            .cohorts
            .iter()
            .filter(|c| c.active.len() > k)
            .fold((0u64, 0u64), |(a, s), c| (a + c.active[k], s + c.size));
        (size > 0).then(|| ratio(active, size))
    }
}
