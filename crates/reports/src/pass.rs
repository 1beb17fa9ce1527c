//! One pass over the purchase feed, feeding whichever builders are switched
//! on. The feed comes grouped by customer, so lifetime value needs only one
//! customer's purchases in memory at a time.

use rapport_insights::churn::ChurnBuilder;
use rapport_insights::clv::{self, CalibrationHoldout, Summary, TimeUnit, Transaction};
use rapport_insights::cohorts::CohortBuilder;
use rapport_insights::input::{InsightsError, minor_to_major};
use rapport_insights::rfm::RfmBuilder;
use rapport_storage::{PurchaseRow, PurchaseSink};
use time::Date;
use uuid::Uuid;

/// What lifetime value needs per customer: the summary at the calibration
/// end and, for the model check, the calibration/holdout split.
pub(crate) struct ClvCollector {
    currency: String,
    unit: TimeUnit,
    calibration_end: Date,
    /// Start of the holdout period of the model check (`None`: no check).
    check_end: Option<Date>,
    current: Vec<Transaction<Uuid>>,
    pub summaries: Vec<(Uuid, Summary)>,
    pub holdout: Vec<CalibrationHoldout<Uuid>>,
}

impl ClvCollector {
    pub fn new(currency: &str, unit: TimeUnit, calibration_end: Date, check_end: Option<Date>) -> Self {
        ClvCollector {
            currency: currency.to_owned(),
            unit,
            calibration_end,
            check_end,
            current: Vec::new(),
            summaries: Vec::new(),
            holdout: Vec::new(),
        }
    }

    fn add(&mut self, row: &PurchaseRow) {
        if self.current.first().is_some_and(|t| t.customer != row.person_id.0) {
            self.flush();
        }
        self.current.push(Transaction {
            customer: row.person_id.0,
            date: row.day,
            amount: minor_to_major(row.amount_minor, &self.currency),
        });
    }

    /// Summarizes the customer held so far; call once more after the feed.
    pub fn flush(&mut self) {
        if self.current.is_empty() {
            return;
        }
        self.summaries.extend(clv::summarize(&self.current, self.calibration_end, self.unit));
        if let Some(check_end) = self.check_end
            && let Ok(rows) = clv::calibration_and_holdout(&self.current, check_end, self.calibration_end, self.unit)
        {
            self.holdout.extend(rows);
        }
        self.current.clear();
    }
}

/// The builders of one pass; `None` is a report not asked for.
pub(crate) struct Pass {
    pub rfm: Option<RfmBuilder<Uuid>>,
    pub cohorts: Option<CohortBuilder<Uuid>>,
    /// The first row the cohorts refused (the feed was not grouped).
    pub cohort_error: Option<InsightsError>,
    pub churn: Option<ChurnBuilder<Uuid>>,
    pub clv: Option<ClvCollector>,
}

impl Pass {
    pub fn empty() -> Self {
        Pass { rfm: None, cohorts: None, cohort_error: None, churn: None, clv: None }
    }

    /// Ends the pass: the last customer's lifetime-value rows, and the
    /// cohorts' refusal as an error.
    pub fn finish(mut self) -> Result<Self, InsightsError> {
        if let Some(clv) = &mut self.clv {
            clv.flush();
        }
        match self.cohort_error.take() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }
}

impl PurchaseSink for Pass {
    fn purchase(&mut self, row: PurchaseRow) {
        let customer = row.person_id.0;
        if let Some(rfm) = &mut self.rfm {
            rfm.add(customer, row.day, row.amount_minor);
        }
        if let Some(cohorts) = &mut self.cohorts
            && self.cohort_error.is_none()
            && let Err(err) = cohorts.add(customer, row.day, row.amount_minor)
        {
            self.cohort_error = Some(err);
        }
        if let Some(churn) = &mut self.churn {
            churn.add_purchase(customer, row.day);
        }
        if let Some(clv) = &mut self.clv {
            clv.add(&row);
        }
    }
}
