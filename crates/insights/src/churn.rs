//! Churn: a configurable definition, churn rate by month and Kaplan–Meier
//! survival of customer lifetime with a 95 % confidence band.
//!
//! # Definition
//!
//! A customer's lifetime starts at the first purchase and ends at churn:
//!
//! * [`ChurnDefinition::NoPurchaseFor`]: churned `days` after the **last**
//!   purchase, once that day is on or before `as_of`. A customer who came
//!   back after a long gap was not lost, so only the final lapse counts.
//! * [`ChurnDefinition::LifecycleChurned`]: churned on the day the CRM marked
//!   the customer churned ([`ChurnBuilder::set_churned`]), if on or before
//!   `as_of` (a day before the first purchase counts as the first purchase).
//!
//! Customers not churned at `as_of` are censored there. Customers without a
//! purchase up to `as_of` have no lifetime and are left out (counted).
//!
//! # Churn rate by month
//!
//! For month `m`: customers active at its start (first purchase before `m`,
//! not churned before `m`), how many of them churned during `m`, and the rate
//! = churned ÷ active at start. Customers who both started and churned in `m`
//! are counted in `churned` but not in the rate.
//!
//! # Kaplan–Meier
//!
//! `S(t) = Π_{tᵢ ≤ t} (1 − dᵢ/nᵢ)` over event times `tᵢ` with `dᵢ` events and
//! `nᵢ` at risk (censored at `tᵢ` still count as at risk at `tᵢ`). Variance by
//! Greenwood: `V = Σ dᵢ / (nᵢ (nᵢ − dᵢ))`, standard error of `S` = `S √V`. The
//! 95 % band uses the log-log transform (Kalbfleisch & Prentice; the default
//! `conf.type = "log-log"` of Stata and SAS, an option of R's `survfit`):
//! `S^exp(±1.96 √V / ln S)`, which always stays inside [0, 1]. Where `S = 1`
//! the band is [1, 1]; where `S = 0` it is [0, 0].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::Date;

use crate::input::{CustomerKey, FastMap, PurchaseDate, YearMonth, days_between, ratio};

/// The 97.5 % quantile of the standard normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// Label of the curve over all customers.
pub const ALL_CUSTOMERS: &str = "All customers";
/// Group label of customers without one, when groups are used.
pub const NO_GROUP: &str = "Unknown";

/// When a customer counts as churned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChurnDefinition {
    /// No purchase for this many days after the last one.
    NoPurchaseFor {
        /// Days without a purchase.
        days: u32,
    },
    /// The lifecycle stage is "churned" (with the day it was set).
    LifecycleChurned,
}

#[derive(Clone, Copy)]
struct State {
    first: Option<Date>,
    last: Option<Date>,
    churned_on: Option<Date>,
    group: u32,
}

const NONE: u32 = u32::MAX;

/// Accumulates purchases (any order), lifecycle churn days and group labels.
#[derive(Clone)]
pub struct ChurnBuilder<K> {
    as_of: Date,
    definition: ChurnDefinition,
    customers: FastMap<K, State>,
    groups: Vec<String>,
    group_index: HashMap<String, u32>,
}

impl<K: CustomerKey> ChurnBuilder<K> {
    /// A builder for `definition`, observing up to `as_of`.
    pub fn new(as_of: Date, definition: ChurnDefinition) -> Self {
        Self { as_of, definition, customers: FastMap::default(), groups: Vec::new(), group_index: HashMap::new() }
    }

    fn state(&mut self, customer: K) -> &mut State {
        self.customers.entry(customer).or_insert(State { first: None, last: None, churned_on: None, group: NONE })
    }

    /// Adds one purchase (purchases after `as_of` are ignored).
    pub fn add_purchase(&mut self, customer: K, at: impl PurchaseDate) {
        let at = at.purchase_date();
        if at > self.as_of {
            return;
        }
        let s = self.state(customer);
        s.first = Some(s.first.map_or(at, |f| f.min(at)));
        s.last = Some(s.last.map_or(at, |l| l.max(at)));
    }

    /// Records that the customer's lifecycle stage became "churned" on `on`
    /// (used by [`ChurnDefinition::LifecycleChurned`]).
    pub fn set_churned(&mut self, customer: K, on: Date) {
        self.state(customer).churned_on = Some(on);
    }

    /// Puts the customer in a group (segment, source, ...) for the survival
    /// curves. Customers without a group go to [`NO_GROUP`].
    pub fn set_group(&mut self, customer: K, label: &str) {
        let index = match self.group_index.get(label) {
            Some(&i) => i,
            None => {
                let i = self.groups.len() as u32;
                self.groups.push(label.to_owned());
                self.group_index.insert(label.to_owned(), i);
                i
            }
        };
        self.state(customer).group = index;
    }

    /// Builds the report.
    pub fn finish(self) -> ChurnReport {
        let as_of = self.as_of;
        let use_groups = !self.groups.is_empty();
        let mut all = Vec::with_capacity(self.customers.len());
        let mut by_group: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
        // (start month, churn month if churned)
        let mut months: Vec<(i32, Option<i32>)> = Vec::with_capacity(self.customers.len());
        let mut without_purchase = 0;
        for state in self.customers.values() {
            let (Some(first), Some(last)) = (state.first, state.last) else {
                without_purchase += 1;
                continue;
            };
            let churn = match self.definition {
                ChurnDefinition::NoPurchaseFor { days } => {
                    last.checked_add(time::Duration::days(i64::from(days))).filter(|&d| d <= as_of)
                }
                ChurnDefinition::LifecycleChurned => state.churned_on.filter(|&d| d <= as_of).map(|d| d.max(first)),
            };
            let end = churn.unwrap_or(as_of);
            let observation = Observation {
                duration: days_between(first, end).clamp(0, i64::from(u32::MAX)) as u32,
                event: churn.is_some(),
            };
            all.push(observation);
            if use_groups {
                let label = if state.group == NONE { NO_GROUP } else { &self.groups[state.group as usize] };
                by_group.entry(label.to_owned()).or_default().push(observation);
            }
            months.push((YearMonth::of(first).index(), churn.map(|d| YearMonth::of(d).index())));
        }

        let mut survival = vec![kaplan_meier(ALL_CUSTOMERS, &mut all)];
        for (label, mut observations) in by_group {
            survival.push(kaplan_meier(&label, &mut observations));
        }

        let churned = months.iter().filter(|(_, c)| c.is_some()).count() as u64;
        ChurnReport {
            as_of,
            definition: self.definition,
            customers: months.len() as u64,
            churned,
            churned_share: ratio(churned, months.len() as u64),
            without_purchase,
            monthly: monthly(&months, as_of),
            survival,
        }
    }
}

fn monthly(months: &[(i32, Option<i32>)], as_of: Date) -> Vec<MonthlyChurn> {
    let Some(first) = months.iter().map(|&(s, _)| s).min() else { return Vec::new() };
    let last_month = YearMonth::of(as_of);
    let last = last_month.index();
    let len = (last - first + 1).max(0) as usize;
    let mut starts = vec![0u64; len];
    let mut churn_old = vec![0u64; len];
    let mut churn_new = vec![0u64; len];
    for &(s, c) in months {
        starts[(s - first) as usize] += 1;
        if let Some(c) = c {
            if c == s {
                churn_new[(c - first) as usize] += 1;
            } else {
                churn_old[(c - first) as usize] += 1;
            }
        }
    }
    let mut active = 0u64;
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let month = YearMonth::from_index(first + i as i32);
        out.push(MonthlyChurn {
            month,
            active_at_start: active,
            new_customers: starts[i],
            churned: churn_old[i] + churn_new[i],
            churned_of_active: churn_old[i],
            churn_rate: (active > 0).then(|| ratio(churn_old[i], active)),
            partial: month == last_month && as_of < month.last_day(),
        });
        active = active + starts[i] - churn_old[i] - churn_new[i];
    }
    out
}

/// Churn in one calendar month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyChurn {
    /// The month.
    pub month: YearMonth,
    /// Customers active at the start of the month.
    pub active_at_start: u64,
    /// Customers whose first purchase fell in the month.
    pub new_customers: u64,
    /// Customers who churned in the month (also new ones).
    pub churned: u64,
    /// Of those, customers active at the start of the month.
    pub churned_of_active: u64,
    /// `churned_of_active / active_at_start`; `None` without active customers.
    #[serde(with = "crate::float::option")]
    pub churn_rate: Option<f64>,
    /// Whether the month runs past `as_of` (not complete yet).
    pub partial: bool,
}

/// Churn under one definition at `as_of`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChurnReport {
    /// The day of observation.
    pub as_of: Date,
    /// The churn definition used.
    pub definition: ChurnDefinition,
    /// Customers with a purchase up to `as_of`.
    pub customers: u64,
    /// Of those, churned at `as_of`.
    pub churned: u64,
    /// `churned / customers`.
    #[serde(with = "crate::float")]
    pub churned_share: f64,
    /// Customers seen (churn day or group) without a purchase, left out.
    pub without_purchase: u64,
    /// Churn by month, from the month of the first purchase to `as_of`.
    pub monthly: Vec<MonthlyChurn>,
    /// Survival of customer lifetime (days): all customers first, then one
    /// curve per group in label order when groups were given.
    pub survival: Vec<SurvivalCurve>,
}

/// One lifetime: its length and whether it ended in the event (churn) or was
/// censored (still a customer at the end of observation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Length, in any unit (days for customers).
    pub duration: u32,
    /// `true` for an event, `false` when censored.
    pub event: bool,
}

/// The survival estimate at one observed time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurvivalPoint {
    /// The time (days for customers).
    pub time: u32,
    /// Subjects at risk just before `time`.
    pub at_risk: u64,
    /// Events at `time`.
    pub events: u64,
    /// Censored at `time`.
    pub censored: u64,
    /// Kaplan–Meier estimate S(time).
    #[serde(with = "crate::float")]
    pub survival: f64,
    /// Greenwood standard error of S.
    #[serde(with = "crate::float")]
    pub std_err: f64,
    /// Lower end of the 95 % log-log band.
    #[serde(with = "crate::float")]
    pub lower: f64,
    /// Upper end of the 95 % log-log band.
    #[serde(with = "crate::float")]
    pub upper: f64,
}

/// A Kaplan–Meier curve. S = 1 before the first point; the curve is a step
/// function, constant between points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurvivalCurve {
    /// Group label.
    pub group: String,
    /// Subjects.
    pub subjects: u64,
    /// Events.
    pub events: u64,
    /// Median survival time: the first time with S ≤ 0.5, if reached.
    pub median: Option<u32>,
    /// One point per distinct observed time, ascending.
    pub points: Vec<SurvivalPoint>,
}

impl SurvivalCurve {
    /// S(t) and its band (1, 1, 1 before the first point).
    pub fn at(&self, time: u32) -> (f64, f64, f64) {
        match self.points.partition_point(|p| p.time <= time) {
            0 => (1.0, 1.0, 1.0),
            i => {
                let p = &self.points[i - 1];
                (p.survival, p.lower, p.upper)
            }
        }
    }
}

/// Kaplan–Meier estimate with Greenwood variance and a 95 % log-log band
/// (see the module documentation). Sorts `observations` in place.
pub fn kaplan_meier(group: &str, observations: &mut [Observation]) -> SurvivalCurve {
    observations.sort_unstable_by_key(|o| o.duration);
    let mut at_risk = observations.len() as u64;
    let mut survival = 1.0f64;
    let mut greenwood = 0.0f64;
    let mut points = Vec::new();
    let mut median = None;
    let mut total_events = 0;
    let mut i = 0;
    while i < observations.len() {
        let time = observations[i].duration;
        let mut events = 0u64;
        let mut censored = 0u64;
        while i < observations.len() && observations[i].duration == time {
            if observations[i].event {
                events += 1;
            } else {
                censored += 1;
            }
            i += 1;
        }
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            if events < at_risk {
                greenwood += events as f64 / (at_risk as f64 * (at_risk - events) as f64);
            }
            total_events += events;
        }
        let (lower, upper) = log_log_band(survival, greenwood);
        if median.is_none() && survival <= 0.5 {
            median = Some(time);
        }
        points.push(SurvivalPoint {
            time,
            at_risk,
            events,
            censored,
            survival,
            std_err: survival * greenwood.sqrt(),
            lower,
            upper,
        });
        at_risk -= events + censored;
    }
    SurvivalCurve { group: group.to_owned(), subjects: observations.len() as u64, events: total_events, median, points }
}

fn log_log_band(survival: f64, greenwood: f64) -> (f64, f64) {
    if survival >= 1.0 {
        return (1.0, 1.0);
    }
    if survival <= 0.0 {
        return (0.0, 0.0);
    }
    let se = greenwood.sqrt() / survival.ln().abs();
    (survival.powf((Z_975 * se).exp()), survival.powf((-Z_975 * se).exp()))
}
