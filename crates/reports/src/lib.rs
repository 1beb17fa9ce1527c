//! Insights reports over the store. `rapport-insights` computes; this crate
//! feeds it: purchases stream out of the database once (grouped by customer)
//! into whichever builders a report needs, people follow for groups and
//! referrals, and the results come back as plain serializable reports.
//!
//! - [`compute`]: one report at a time, for the CLI and for parameters the
//!   cached snapshot does not hold (say, another churn definition).
//! - [`Snapshot`]: every report at once with its charts and each customer's
//!   insights, which the web pages and the API serve.
//! - [`Insights`]: keeps the latest snapshot and recomputes it in the
//!   background when the data version moves on (a purchase or a person
//!   changed) or the day changes, never on a page view.

pub mod compute;
mod error;
pub mod feedback;
pub mod goals;
mod job;
mod pass;
pub mod review;
mod scope;
pub mod scorecards;
mod snapshot;
pub mod style_profile;

pub use error::ReportError;
pub use job::{Insights, InsightsState, REFRESH_JOB};
pub use scope::{CurrencyCount, Scope};
pub use snapshot::{ChurnGrouping, ClvSummary, Computed, Reports, RfmSummary, Snapshot, SnapshotCharts, TopCustomer};

use rapport_insights::clv::TimeUnit;

/// What the reports are computed with: the defaults of every page and of
/// the background job.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// A customer has churned after this many days without a purchase.
    pub churn_days: u32,
    /// Time unit of the lifetime-value models.
    pub unit: TimeUnit,
    /// Lifetime value looks this many months ahead.
    pub horizon_months: u32,
    /// Yearly discount rate of lifetime value (0.1 = 10 %).
    #[serde(with = "rapport_insights::float")]
    pub annual_discount_rate: f64,
    /// The model check holds out this many months before the day of
    /// observation and compares predicted with actual repeat purchases there.
    pub holdout_months: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            churn_days: 180,
            unit: TimeUnit::Weeks,
            horizon_months: 12,
            annual_discount_rate: 0.1,
            holdout_months: 6,
        }
    }
}

impl Settings {
    /// The monthly rate equivalent to the yearly one.
    pub fn monthly_discount_rate(&self) -> f64 {
        (1.0 + self.annual_discount_rate).powf(1.0 / 12.0) - 1.0
    }
}
