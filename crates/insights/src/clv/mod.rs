//! Customer lifetime value: BG/NBD for purchasing and dropout, Gamma-Gamma
//! for spend, both fitted by maximum likelihood on their closed-form
//! log-likelihoods evaluated in log space.
//!
//! Inputs are per-customer [`Summary`] rows in a chosen [`TimeUnit`], built
//! from purchases by [`summarize`] (or [`calibration_and_holdout`] for a
//! calibration/holdout check). [`ModelReport`] fits both models and checks
//! expected against actual holdout purchases; [`CustomerValue::predict`]
//! gives per-customer P(alive), expected purchases, expected average spend
//! and discounted lifetime value.

pub mod bgnbd;
pub mod fit;
pub mod gamma_gamma;
pub mod hyp2f1;
pub mod simulate;
pub mod special;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

pub use bgnbd::{BgNbdFit, BgNbdParams};
pub use gamma_gamma::{GammaGammaFit, GammaGammaParams};

/// Errors from building summaries or fitting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    /// No customers to fit.
    #[error("no customers to fit")]
    NoCustomers,
    /// No customer with a repeat purchase and positive spend (Gamma-Gamma).
    #[error("no repeat buyers with positive spend to fit Gamma-Gamma")]
    NoRepeatBuyers,
    /// A summary row is inconsistent.
    #[error("summary {index} is invalid: {reason}")]
    InvalidSummary {
        /// Position of the row.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The observation end precedes the calibration end.
    #[error("observation end precedes calibration end")]
    BadPeriod,
    /// The optimiser ended at a non-finite likelihood.
    #[error("fit failed: {0}")]
    FitFailed(&'static str),
}

/// Unit in which recency, age and horizons are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Days.
    Days,
    /// Weeks (days / 7, fractional).
    Weeks,
}

impl TimeUnit {
    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    /// Units per month, as lifetimes' `customer_lifetime_value` uses
    /// (30 days, 4.345 weeks).
    pub fn per_month(self) -> f64 {
        match self {
            TimeUnit::Days => 30.0,
            TimeUnit::Weeks => 4.345,
        }
    }
}

/// One customer's purchase history in the calibration period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Repeat purchases `x` (purchase days after the first).
    pub frequency: u32,
    /// Time from first to last purchase, `t_x` (0 when `frequency` is 0).
    pub recency: f64,
    /// Time from first purchase to the calibration end, `T`.
    pub age: f64,
    /// Mean value of the repeat purchases (0 when `frequency` is 0).
    pub monetary_value: f64,
}

impl Summary {
    fn validate(&self) -> Result<(), &'static str> {
        if !(self.recency.is_finite() && self.age.is_finite()) {
            return Err("recency and age must be finite");
        }
        if self.recency < 0.0 || self.recency > self.age {
            return Err("recency must lie in [0, age]");
        }
        if self.frequency == 0 && self.recency != 0.0 {
            return Err("recency must be 0 when frequency is 0");
        }
        if self.age <= 0.0 && self.frequency == 0 {
            // Allowed: a customer first seen on the calibration end date.
            return Ok(());
        }
        Ok(())
    }
}

/// One purchase: customer key, day, amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction<K> {
    /// Customer key.
    pub customer: K,
    /// Purchase day (purchases on the same day count once).
    pub date: Date,
    /// Amount.
    pub amount: f64,
}

/// A customer's calibration summary and what they did in the holdout period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationHoldout<K> {
    /// Customer key.
    pub customer: K,
    /// Summary at the calibration end.
    pub calibration: Summary,
    /// Purchase days in (calibration end, observation end].
    pub holdout_purchases: u32,
    /// Length of the holdout period in the time unit.
    pub holdout_duration: f64,
}

fn daily_totals<K: Ord + Clone>(transactions: &[Transaction<K>], until: Date) -> BTreeMap<K, BTreeMap<Date, f64>> {
    let mut by_customer: BTreeMap<K, BTreeMap<Date, f64>> = BTreeMap::new();
    for t in transactions.iter().filter(|t| t.date <= until) {
        *by_customer.entry(t.customer.clone()).or_default().entry(t.date).or_insert(0.0) += t.amount;
    }
    by_customer
}

fn summary_of(days: &BTreeMap<Date, f64>, calibration_end: Date, unit: TimeUnit) -> Option<Summary> {
    let mut cal = days.range(..=calibration_end);
    let (&first, _) = cal.next()?;
    let repeats: Vec<(Date, f64)> = cal.map(|(d, v)| (*d, *v)).collect();
    let span = |from: Date, to: Date| (to - from).whole_days() as f64 / unit.days();
    let frequency = repeats.len() as u32;
    let (recency, monetary_value) = match repeats.last() {
        Some(&(last, _)) => (span(first, last), repeats.iter().map(|r| r.1).sum::<f64>() / frequency as f64),
        None => (0.0, 0.0),
    };
    Some(Summary { frequency, recency, age: span(first, calibration_end), monetary_value })
}

/// Per-customer summaries at `calibration_end` (purchases after it are
/// ignored), sorted by customer key, as lifetimes'
/// `summary_data_from_transaction_data` with daily periods: purchases on the
/// same day count once, and `monetary_value` is the mean of the repeat
/// purchase days' totals.
pub fn summarize<K: Ord + Clone>(
    transactions: &[Transaction<K>],
    calibration_end: Date,
    unit: TimeUnit,
) -> Vec<(K, Summary)> {
    daily_totals(transactions, calibration_end)
        .into_iter()
        .filter_map(|(k, days)| summary_of(&days, calibration_end, unit).map(|s| (k, s)))
        .collect()
}

/// Calibration summaries at `calibration_end` for customers first seen by
/// then, with their purchase days in (calibration_end, observation_end], as
/// lifetimes' `calibration_and_holdout_data`.
pub fn calibration_and_holdout<K: Ord + Clone>(
    transactions: &[Transaction<K>],
    calibration_end: Date,
    observation_end: Date,
    unit: TimeUnit,
) -> Result<Vec<CalibrationHoldout<K>>, ClvError> {
    if observation_end < calibration_end {
        return Err(ClvError::BadPeriod);
    }
    let holdout_duration = (observation_end - calibration_end).whole_days() as f64 / unit.days();
    Ok(daily_totals(transactions, observation_end)
        .into_iter()
        .filter_map(|(customer, days)| {
            let calibration = summary_of(&days, calibration_end, unit)?;
            let holdout_purchases = days.range(calibration_end..).filter(|(d, _)| **d > calibration_end).count() as u32;
            Some(CalibrationHoldout { customer, calibration, holdout_purchases, holdout_duration })
        })
        .collect())
}

/// Discounted lifetime value over `months` months, as lifetimes'
/// `customer_lifetime_value`: expected purchases in each month times the
/// expected average spend, discounted by `(1 + monthly_discount_rate)^month`.
pub fn customer_lifetime_value(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    s: &Summary,
    unit: TimeUnit,
    months: u32,
    monthly_discount_rate: f64,
) -> f64 {
    lifetime_value_over(bg, gg, s, unit, f64::from(months) * unit.per_month(), monthly_discount_rate)
}

/// Discounted lifetime value over `horizon` (in `unit`): month by month as
/// [`customer_lifetime_value`], the last month cut short where the horizon
/// ends inside it.
pub fn lifetime_value_over(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    s: &Summary,
    unit: TimeUnit,
    horizon: f64,
    monthly_discount_rate: f64,
) -> f64 {
    let spend = gg.conditional_expected_average_spend(s.frequency, s.monetary_value);
    let per_month = unit.per_month();
    let mut previous = 0.0;
    let mut clv = 0.0;
    if horizon <= 0.0 {
        return 0.0;
    }
    let mut month = 1;
    loop {
        let until = (f64::from(month) * per_month).min(horizon);
        let cumulative = bg.conditional_expected_purchases(until, s);
        clv += spend * (cumulative - previous) / (1.0 + monthly_discount_rate).powi(month);
        previous = cumulative;
        // The small slack keeps float rounding from adding an empty month.
        if until >= horizon - 1e-9 {
            break;
        }
        month += 1;
    }
    clv
}

/// Per-customer predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerValue {
    /// Probability the customer is still active.
    pub probability_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected average spend per purchase.
    pub expected_average_spend: f64,
    /// Discounted lifetime value over the horizon.
    pub lifetime_value: f64,
}

impl CustomerValue {
    /// Predictions for one customer over `horizon_months` months (converted to
    /// the time unit as lifetimes does), discounting monthly.
    pub fn predict(
        bg: &BgNbdParams,
        gg: &GammaGammaParams,
        s: &Summary,
        unit: TimeUnit,
        horizon_months: u32,
        monthly_discount_rate: f64,
    ) -> Self {
        CustomerValue {
            probability_alive: bg.probability_alive(s),
            expected_purchases: bg.conditional_expected_purchases(horizon_months as f64 * unit.per_month(), s),
            expected_average_spend: gg.conditional_expected_average_spend(s.frequency, s.monetary_value),
            lifetime_value: customer_lifetime_value(bg, gg, s, unit, horizon_months, monthly_discount_rate),
        }
    }
}

/// One row of the calibration/holdout check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoldoutRow {
    /// Calibration frequency (the last row, 7, holds 7 or more).
    pub frequency: u32,
    /// Customers in the row.
    pub customers: usize,
    /// Mean actual purchases in the holdout period.
    #[serde(with = "crate::float")]
    pub mean_actual: f64,
    /// Mean purchases the model expected in the holdout period.
    #[serde(with = "crate::float")]
    pub mean_expected: f64,
}

/// Fitted models and their checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// Time unit of all durations and of `alpha`.
    pub time_unit: TimeUnit,
    /// Customers in the calibration data.
    pub n_customers: usize,
    /// BG/NBD fit.
    pub bgnbd: BgNbdFit,
    /// Gamma-Gamma fit (absent without repeat buyers with positive spend).
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Expected against actual holdout purchases by calibration frequency
    /// (empty without holdout data).
    pub holdout: Vec<HoldoutRow>,
}

/// Highest frequency row in the holdout table; it collects all higher ones.
pub const HOLDOUT_MAX_FREQUENCY: u32 = 7;

impl ModelReport {
    /// Fits both models on calibration summaries.
    pub fn from_summaries(unit: TimeUnit, summaries: &[Summary]) -> Result<Self, ClvError> {
        let bgnbd = bgnbd::fit(summaries)?;
        let gamma_gamma = match gamma_gamma::fit(summaries) {
            Ok(f) => Some(f),
            Err(ClvError::NoRepeatBuyers) => None,
            Err(e) => return Err(e),
        };
        Ok(ModelReport { time_unit: unit, n_customers: summaries.len(), bgnbd, gamma_gamma, holdout: Vec::new() })
    }

    /// Fits on the calibration part and compares expected with actual
    /// holdout purchases by calibration frequency (0..=7+).
    pub fn from_calibration_holdout<K>(unit: TimeUnit, rows: &[CalibrationHoldout<K>]) -> Result<Self, ClvError> {
        let summaries: Vec<Summary> = rows.iter().map(|r| r.calibration).collect();
        let mut report = Self::from_summaries(unit, &summaries)?;
        report.holdout = holdout_table(&report.bgnbd.params, rows);
        Ok(report)
    }
}

/// Mean actual and expected holdout purchases by calibration frequency.
pub fn holdout_table<K>(params: &BgNbdParams, rows: &[CalibrationHoldout<K>]) -> Vec<HoldoutRow> {
    let k = HOLDOUT_MAX_FREQUENCY as usize + 1;
    let mut sums = vec![(0usize, 0.0f64, 0.0f64); k];
    for r in rows {
        let bucket = r.calibration.frequency.min(HOLDOUT_MAX_FREQUENCY) as usize;
        let expected = params.conditional_expected_purchases(r.holdout_duration, &r.calibration);
        let e = &mut sums[bucket];
        e.0 += 1;
        e.1 += r.holdout_purchases as f64;
        e.2 += expected;
    }
    sums.into_iter()
        .enumerate()
        .filter(|(_, (n, _, _))| *n > 0)
        .map(|(f, (n, actual, expected))| HoldoutRow {
            frequency: f as u32,
            customers: n,
            mean_actual: actual / n as f64,
            mean_expected: expected / n as f64,
        })
        .collect()
}
