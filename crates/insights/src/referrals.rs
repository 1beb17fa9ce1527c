//! Referrals: who referred whom, referral counts per referrer, the value of
//! referred customers against the others and the share of customers won by
//! referral.
//!
//! Feed one row per customer to a [`ReferralBuilder`]: the customer, who
//! referred them (if anyone) and their value (e.g. total spent, minor units).
//! A customer naming themselves as referrer counts as not referred. A
//! referrer need not be among the customers (e.g. a deleted one). If a
//! customer comes twice, the rows are merged: values add up, the last
//! referrer given wins.

use serde::{Deserialize, Serialize};

use crate::input::{CustomerKey, FastMap, ratio};

#[derive(Clone, Copy)]
struct Row<K> {
    referred_by: Option<K>,
    // i128: values are sums of bounded amounts (e.g. an RFM total), unbounded.
    value: i128,
}

/// Accumulates one row per customer.
#[derive(Clone)]
pub struct ReferralBuilder<K> {
    currency: String,
    customers: FastMap<K, Row<K>>,
    self_referrals: u64,
}

impl<K: CustomerKey> ReferralBuilder<K> {
    /// A builder for values in minor units of `currency`.
    pub fn new(currency: impl Into<String>) -> Self {
        Self { currency: currency.into(), customers: FastMap::default(), self_referrals: 0 }
    }

    /// Adds a customer, their referrer and their value (minor units).
    pub fn add(&mut self, customer: K, referred_by: Option<K>, value_minor: impl Into<i128>) {
        let referred_by = match referred_by {
            Some(r) if r == customer => {
                self.self_referrals += 1;
                None
            }
            other => other,
        };
        let row = self.customers.entry(customer).or_insert(Row { referred_by: None, value: 0 });
        row.value += value_minor.into();
        if referred_by.is_some() {
            row.referred_by = referred_by;
        }
    }

    /// Builds the report with the `top` referrers by count.
    pub fn finish(self, top: usize) -> ReferralReport<K> {
        let mut referrals: Vec<Referral<K>> = Vec::new();
        let mut referrers: FastMap<K, (u64, i128)> = FastMap::default();
        let (mut referred_value, mut other_value, mut referred_count) = (0i128, 0i128, 0u64);
        for (&customer, row) in &self.customers {
            match row.referred_by {
                Some(referrer) => {
                    referred_count += 1;
                    referred_value += row.value;
                    let stat = referrers.entry(referrer).or_insert((0, 0));
                    stat.0 += 1;
                    stat.1 += row.value;
                    referrals.push(Referral { referrer, customer, value_minor: row.value });
                }
                None => other_value += row.value,
            }
        }
        referrals.sort_unstable_by(|a, b| a.referrer.cmp(&b.referrer).then(a.customer.cmp(&b.customer)));
        let mut top_referrers: Vec<ReferrerStats<K>> = referrers
            .into_iter()
            .map(|(referrer, (count, value))| ReferrerStats {
                referrer,
                referrals: count,
                referred_value_minor: value,
                is_customer: self.customers.contains_key(&referrer),
            })
            .collect();
        let referrer_count = top_referrers.len() as u64;
        top_referrers.sort_unstable_by(|a, b| {
            b.referrals
                .cmp(&a.referrals)
                .then(b.referred_value_minor.cmp(&a.referred_value_minor))
                .then(a.referrer.cmp(&b.referrer))
        });
        top_referrers.truncate(top);
        let customers = self.customers.len() as u64;
        let others = customers - referred_count;
        ReferralReport {
            currency: self.currency,
            customers,
            referred_customers: referred_count,
            share_referred: ratio(referred_count, customers),
            referrers: referrer_count,
            referred_value_minor: referred_value,
            other_value_minor: other_value,
            average_referred_value_minor: if referred_count == 0 {
                0
            } else {
                referred_value / i128::from(referred_count)
            },
            average_other_value_minor: if others == 0 { 0 } else { other_value / i128::from(others) },
            self_referrals_ignored: self.self_referrals,
            top_referrers,
            referrals,
        }
    }
}

/// One referral: `referrer` brought in `customer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral<K> {
    /// Who referred.
    pub referrer: K,
    /// Who was referred.
    pub customer: K,
    /// The referred customer's value, minor units.
    pub value_minor: i128,
}

/// What one referrer brought in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferrerStats<K> {
    /// The referrer.
    pub referrer: K,
    /// Customers they referred.
    pub referrals: u64,
    /// Total value of those customers, minor units.
    pub referred_value_minor: i128,
    /// Whether the referrer is among the customers fed in.
    pub is_customer: bool,
}

/// Referrals among the customers fed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferralReport<K> {
    /// Currency of all values.
    pub currency: String,
    /// Customers fed in.
    pub customers: u64,
    /// Of those, won by referral.
    pub referred_customers: u64,
    /// `referred_customers / customers`.
    #[serde(with = "crate::float")]
    pub share_referred: f64,
    /// Distinct referrers.
    pub referrers: u64,
    /// Total value of referred customers, minor units.
    pub referred_value_minor: i128,
    /// Total value of the other customers, minor units.
    pub other_value_minor: i128,
    /// Average value of a referred customer (rounded toward zero).
    pub average_referred_value_minor: i128,
    /// Average value of another customer (rounded toward zero).
    pub average_other_value_minor: i128,
    /// Rows naming the customer as their own referrer (treated as none).
    pub self_referrals_ignored: u64,
    /// Referrers with the most referrals (then value, then key).
    pub top_referrers: Vec<ReferrerStats<K>>,
    /// Who referred whom, by referrer then customer.
    pub referrals: Vec<Referral<K>>,
}
