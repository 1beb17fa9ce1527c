//! RFM analysis: recency, frequency and monetary value per customer, their
//! quintile scores and named segments.
//!
//! Feed purchases one at a time into an [`RfmBuilder`] (in any order, e.g.
//! straight from a database cursor) and call [`RfmBuilder::finish`]. Memory is
//! one small record per customer.
//!
//! # Scores
//!
//! Each of R, F and M is scored 1–5 by quintile of rank, like SQL `NTILE(5)`:
//! customers are sorted from worst to best and the customer at 0-based rank
//! `i` of `n` gets score `1 + 5·i / n`, so every score holds `n/5` customers
//! give or take one. Recency is reversed (the most recent buyers score 5).
//! Equal values are ordered deterministically by the other measures, then by
//! customer key:
//!
//! | score | sorted worst → best by                                    |
//! |-------|-----------------------------------------------------------|
//! | R     | days since last purchase (desc), frequency, monetary, key |
//! | F     | frequency, monetary, days since last purchase (desc), key |
//! | M     | monetary, frequency, days since last purchase (desc), key |
//!
//! # Segments
//!
//! Segments come from the R and F scores with the R×F grid popularised by
//! Putler's RFM segments (<https://www.putler.com/rfm-analysis/>) and the
//! `seg_map` reused in many public RFM notebooks, plus Putler's "lost" for the
//! bottom corner (R1 F1, taken out of "hibernating"):
//!
//! | R \ F | 1              | 2              | 3              | 4         | 5         |
//! |-------|----------------|----------------|----------------|-----------|-----------|
//! | 5     | new            | potential loy. | potential loy. | champions | champions |
//! | 4     | promising      | potential loy. | potential loy. | loyal     | loyal     |
//! | 3     | about to sleep | about to sleep | need attention | loyal     | loyal     |
//! | 2     | hibernating    | hibernating    | at risk        | at risk   | can't lose|
//! | 1     | lost           | hibernating    | at risk        | at risk   | can't lose|

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use time::Date;

pub use rapport_domain::segment::{Segment, UnknownSegment};

use crate::input::{CustomerKey, FastMap, PurchaseDate, days_between, ratio};

#[derive(Clone, Copy)]
struct Acc {
    last: Date,
    count: u64,
    // i128: a customer's amounts are bounded (±10^15) but their sum is not.
    total: i128,
}

/// Accumulates purchases for an RFM report; rows may come in any order.
#[derive(Clone)]
pub struct RfmBuilder<K> {
    as_of: Date,
    currency: String,
    customers: FastMap<K, Acc>,
    ignored_after_as_of: u64,
}

impl<K: CustomerKey> RfmBuilder<K> {
    /// A builder measuring recency at `as_of`; amounts are minor units of
    /// `currency` (feed one currency per report).
    pub fn new(as_of: Date, currency: impl Into<String>) -> Self {
        Self { as_of, currency: currency.into(), customers: FastMap::default(), ignored_after_as_of: 0 }
    }

    /// Like [`RfmBuilder::new`], reserving room for `customers`.
    pub fn with_capacity(as_of: Date, currency: impl Into<String>, customers: usize) -> Self {
        let mut builder = Self::new(as_of, currency);
        builder.customers.reserve(customers);
        builder
    }

    /// Adds one purchase. Purchases after `as_of` are ignored (and counted).
    #[inline]
    pub fn add(&mut self, customer: K, at: impl PurchaseDate, amount_minor: i64) {
        let at = at.purchase_date();
        if at > self.as_of {
            self.ignored_after_as_of += 1;
            return;
        }
        self.customers
            .entry(customer)
            .and_modify(|acc| {
                acc.last = acc.last.max(at);
                acc.count += 1;
                acc.total += i128::from(amount_minor);
            })
            .or_insert(Acc { last: at, count: 1, total: amount_minor.into() });
    }

    /// Customers seen so far.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// Whether no purchase was added yet.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// Scores every customer and sums up the segments.
    pub fn finish(self) -> RfmReport<K> {
        let as_of = self.as_of;
        let mut customers: Vec<CustomerRfm<K>> = self
            .customers
            .into_iter()
            .map(|(customer, acc)| CustomerRfm {
                customer,
                last_purchase: acc.last,
                recency_days: days_between(acc.last, as_of),
                frequency: acc.count,
                monetary_minor: acc.total,
                r: 0,
                f: 0,
                m: 0,
                segment: Segment::Lost,
            })
            .collect();
        let n = customers.len();

        let mut order: Vec<u32> = (0..n as u32).collect();
        let by_recency = |a: &CustomerRfm<K>, b: &CustomerRfm<K>| {
            b.recency_days
                .cmp(&a.recency_days)
                .then(a.frequency.cmp(&b.frequency))
                .then(a.monetary_minor.cmp(&b.monetary_minor))
                .then(a.customer.cmp(&b.customer))
        };
        let by_frequency = |a: &CustomerRfm<K>, b: &CustomerRfm<K>| {
            a.frequency
                .cmp(&b.frequency)
                .then(a.monetary_minor.cmp(&b.monetary_minor))
                .then(b.recency_days.cmp(&a.recency_days))
                .then(a.customer.cmp(&b.customer))
        };
        let by_monetary = |a: &CustomerRfm<K>, b: &CustomerRfm<K>| {
            a.monetary_minor
                .cmp(&b.monetary_minor)
                .then(a.frequency.cmp(&b.frequency))
                .then(b.recency_days.cmp(&a.recency_days))
                .then(a.customer.cmp(&b.customer))
        };
        type Cmp<K> = fn(&CustomerRfm<K>, &CustomerRfm<K>) -> Ordering;
        let sorts: [(Cmp<K>, usize); 3] = [(by_recency, 0), (by_frequency, 1), (by_monetary, 2)];
        // Rank `i` scores `1 + 5i/n`: only the four ranks where the score
        // steps matter, so partition around them (linear) instead of sorting.
        // The orders are total (the key breaks ties), so the scores are those
        // a full sort gives.
        let cuts: [usize; 4] = [1, 2, 3, 4].map(|s| (s * n).div_ceil(5));
        for (cmp, which) in sorts {
            let mut end = n;
            for (k, &cut) in cuts.iter().enumerate().rev() {
                if cut < end {
                    order[..end]
                        .select_nth_unstable_by(cut, |&a, &b| cmp(&customers[a as usize], &customers[b as usize]));
                }
                let score = k as u8 + 2;
                for &i in &order[cut.min(end)..end] {
                    let c = &mut customers[i as usize];
                    match which {
                        0 => c.r = score,
                        1 => c.f = score,
                        _ => c.m = score,
                    }
                }
                end = cut.min(end);
            }
            for &i in &order[..end] {
                let c = &mut customers[i as usize];
                match which {
                    0 => c.r = 1,
                    1 => c.f = 1,
                    _ => c.m = 1,
                }
            }
        }
        drop(order);

        let mut sizes = [0u64; 11];
        // Exact: i128 holds 2^64 customers of 2^63 minor units each.
        let mut values = [0i128; 11];
        let mut total_value = 0i128;
        for c in &mut customers {
            c.segment = Segment::from_scores(c.r, c.f);
            let i = c.segment as usize;
            sizes[i] += 1;
            values[i] += c.monetary_minor;
            total_value += c.monetary_minor;
        }
        customers.sort_unstable_by_key(|c| c.customer);

        let segments = Segment::ALL
            .into_iter()
            .map(|segment| {
                let i = segment as usize;
                SegmentSummary {
                    segment,
                    customers: sizes[i],
                    share_of_customers: ratio(sizes[i], n as u64),
                    value_minor: values[i],
                    share_of_value: if total_value > 0 { values[i] as f64 / total_value as f64 } else { 0.0 },
                    average_value_minor: if sizes[i] == 0 { 0 } else { values[i] / i128::from(sizes[i]) },
                }
            })
            .collect();

        RfmReport {
            as_of,
            currency: self.currency,
            customers,
            segments,
            total_value_minor: total_value,
            ignored_after_as_of: self.ignored_after_as_of,
        }
    }
}

/// One customer's RFM measures, scores and segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRfm<K> {
    /// The customer.
    pub customer: K,
    /// The day of the latest purchase.
    pub last_purchase: Date,
    /// Days from the latest purchase to `as_of`.
    pub recency_days: i64,
    /// Number of purchases.
    pub frequency: u64,
    /// Total spent, minor units (exact: a sum of bounded amounts can pass `i64`).
    pub monetary_minor: i128,
    /// Recency score 1–5 (5 = most recent).
    pub r: u8,
    /// Frequency score 1–5 (5 = most purchases).
    pub f: u8,
    /// Monetary score 1–5 (5 = most spent).
    pub m: u8,
    /// The segment from `r` and `f`.
    pub segment: Segment,
}

impl<K> CustomerRfm<K> {
    /// The classic three-digit RFM code, e.g. `"545"`.
    pub fn code(&self) -> String {
        format!("{}{}{}", self.r, self.f, self.m)
    }
}

/// Size and value of one segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    /// The segment.
    pub segment: Segment,
    /// Customers in it.
    pub customers: u64,
    /// Its share of all customers, 0–1.
    #[serde(with = "crate::float")]
    pub share_of_customers: f64,
    /// What its customers spent in total, minor units.
    pub value_minor: i128,
    /// Its share of all value, 0–1.
    #[serde(with = "crate::float")]
    pub share_of_value: f64,
    /// Average spend per customer, minor units (rounded toward zero).
    pub average_value_minor: i128,
}

/// The RFM analysis of every customer with a purchase up to `as_of`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RfmReport<K> {
    /// The day recency is measured at.
    pub as_of: Date,
    /// Currency of all amounts.
    pub currency: String,
    /// Every customer, in key order.
    pub customers: Vec<CustomerRfm<K>>,
    /// Every segment (also empty ones), in [`Segment::ALL`] order.
    pub segments: Vec<SegmentSummary>,
    /// Total spent by all customers, minor units.
    pub total_value_minor: i128,
    /// Purchases dated after `as_of`, left out.
    pub ignored_after_as_of: u64,
}

impl<K: CustomerKey> RfmReport<K> {
    /// One customer's row.
    pub fn customer(&self, customer: &K) -> Option<&CustomerRfm<K>> {
        self.customers.binary_search_by(|c| c.customer.cmp(customer)).ok().map(|i| &self.customers[i])
    }

    /// One customer's segment (for list filters).
    pub fn segment_of(&self, customer: &K) -> Option<Segment> {
        self.customer(customer).map(|c| c.segment)
    }

    /// The customers of a segment, in key order (for list filters).
    pub fn customers_in(&self, segment: Segment) -> impl Iterator<Item = K> + '_ {
        self.customers.iter().filter(move |c| c.segment == segment).map(|c| c.customer)
    }

    /// The summary of one segment.
    pub fn summary(&self, segment: Segment) -> Option<&SegmentSummary> {
        self.segments.iter().find(|s| s.segment == segment)
    }
}
