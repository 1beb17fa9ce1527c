//! One report at a time, straight from the database: what the CLI prints and
//! what the API answers for parameters the snapshot does not hold.

use std::collections::HashMap;

use rapport_domain::PersonId;
use rapport_insights::churn::{ChurnBuilder, ChurnDefinition, ChurnReport};
use rapport_insights::clv::{self, ModelReport, Summary, TimeUnit};
use rapport_insights::cohorts::{CohortBuilder, CohortReport};
use rapport_insights::referrals::{ReferralBuilder, ReferralReport};
use rapport_insights::rfm::{RfmBuilder, RfmReport};
use rapport_storage::{PersonRow, Store};
use serde::Serialize;
use time::Date;
use uuid::Uuid;

use crate::pass::{ClvCollector, Pass};
use crate::{ChurnGrouping, ReportError, Scope};

/// Customers the lifetime value models need at least: with fewer, the
/// maximum-likelihood fit runs off to meaningless parameters (r in the
/// millions on two customers).
pub const MIN_CUSTOMERS: usize = 20;
/// Repeat buyers they need at least.
pub const MIN_REPEAT_BUYERS: usize = 5;

/// Fits both models, if there is enough data for them to mean anything.
pub(crate) fn fit_models(unit: TimeUnit, summaries: &[Summary]) -> Result<ModelReport, ReportError> {
    let repeat_buyers = summaries.iter().filter(|s| s.frequency > 0).count();
    if summaries.len() < MIN_CUSTOMERS || repeat_buyers < MIN_REPEAT_BUYERS {
        return Err(ReportError::TooLittleData { customers: summaries.len(), repeat_buyers });
    }
    let model = ModelReport::from_summaries(unit, summaries)?;
    // Predictions from a fit that did not settle are meaningless, and its
    // parameters can be extreme enough (b in the billions) to make every
    // prediction crawl through millions of series terms.
    if !model.bgnbd.converged || model.gamma_gamma.as_ref().is_some_and(|g| !g.converged) {
        return Err(ReportError::NotConverged);
    }
    Ok(model)
}

/// The lifecycle stage that marks a customer lost by hand.
const CHURNED_STAGE: &str = "churned";

/// An RFM builder sized for every person up front: growing a table of a
/// million customers row by row costs more than the scoring.
pub(crate) async fn rfm_builder(store: &Store, scope: &Scope, as_of: Date) -> Result<RfmBuilder<Uuid>, ReportError> {
    let people = usize::try_from(store.count_people().await?).unwrap_or(usize::MAX);
    Ok(RfmBuilder::with_capacity(as_of, scope.currency.clone(), people))
}

async fn run(store: &Store, scope: &Scope, pass: Pass) -> Result<Pass, ReportError> {
    let (pass, _) = store.feed_purchases(&scope.currency, pass).await?;
    Ok(pass.finish()?)
}

/// RFM scores and segments of every customer as of `as_of`.
pub async fn rfm(store: &Store, scope: &Scope, as_of: Date) -> Result<RfmReport<Uuid>, ReportError> {
    let pass = Pass { rfm: Some(rfm_builder(store, scope, as_of).await?), ..Pass::empty() };
    let pass = run(store, scope, pass).await?;
    Ok(pass.rfm.expect("switched on").finish())
}

/// Cohorts by month of first purchase as of `as_of`.
pub async fn cohorts(store: &Store, scope: &Scope, as_of: Date) -> Result<CohortReport, ReportError> {
    let pass = Pass { cohorts: Some(CohortBuilder::new(as_of, scope.currency.clone())), ..Pass::empty() };
    let pass = run(store, scope, pass).await?;
    Ok(pass.cohorts.expect("switched on").finish())
}

/// RFM and cohorts from one pass over the purchases.
pub async fn rfm_and_cohorts(
    store: &Store,
    scope: &Scope,
    as_of: Date,
) -> Result<(RfmReport<Uuid>, CohortReport), ReportError> {
    let pass = Pass {
        rfm: Some(rfm_builder(store, scope, as_of).await?),
        cohorts: Some(CohortBuilder::new(as_of, scope.currency.clone())),
        ..Pass::empty()
    };
    let pass = run(store, scope, pass).await?;
    Ok((pass.rfm.expect("switched on").finish(), pass.cohorts.expect("switched on").finish()))
}

/// Marks lifecycle churn and groups on a churn builder from the people.
pub(crate) fn apply_person(
    builder: &mut ChurnBuilder<Uuid>,
    definition: ChurnDefinition,
    grouping: ChurnGrouping,
    person: &PersonRow,
    is_customer: bool,
) {
    if !is_customer {
        return;
    }
    if definition == ChurnDefinition::LifecycleChurned && person.lifecycle_stage == CHURNED_STAGE {
        builder.set_churned(person.id.0, person.updated_at.date());
    }
    if grouping == ChurnGrouping::Source
        && let Some(source) = &person.source
    {
        builder.set_group(person.id.0, source);
    }
}

/// Churn by month and survival curves, grouped by source or by RFM segment.
pub async fn churn(
    store: &Store,
    scope: &Scope,
    as_of: Date,
    definition: ChurnDefinition,
    grouping: ChurnGrouping,
) -> Result<ChurnReport, ReportError> {
    let pass = Pass {
        churn: Some(ChurnBuilder::new(as_of, definition)),
        rfm: Some(rfm_builder(store, scope, as_of).await?),
        ..Pass::empty()
    };
    let pass = run(store, scope, pass).await?;
    let mut builder = pass.churn.expect("switched on");
    let rfm = pass.rfm.expect("switched on").finish();
    store
        .for_each_person(|person| {
            let is_customer = rfm.customer(&person.id.0).is_some();
            apply_person(&mut builder, definition, grouping, &person, is_customer);
        })
        .await?;
    if grouping == ChurnGrouping::Segment {
        for customer in &rfm.customers {
            builder.set_group(customer.customer, customer.segment.label());
        }
    }
    Ok(builder.finish())
}

/// One customer's lifetime value.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerClv {
    pub customer: Uuid,
    #[serde(flatten)]
    pub summary: Summary,
    pub probability_alive: f64,
    /// Purchases expected over the horizon.
    pub expected_purchases: f64,
    /// Expected average spend per purchase, major units (absent without a Gamma-Gamma fit).
    pub expected_average_spend: Option<f64>,
    /// Discounted lifetime value over the horizon, major units (absent without a Gamma-Gamma fit).
    pub lifetime_value: Option<f64>,
}

/// Both models and every customer's predictions.
#[derive(Clone, Debug, Serialize)]
pub struct ClvReport {
    pub currency: String,
    pub calibration_end: Date,
    pub time_unit: TimeUnit,
    /// Prediction horizon, in `time_unit`.
    pub horizon: f64,
    /// Yearly discount rate of `lifetime_value`.
    pub annual_discount_rate: f64,
    pub model: ModelReport,
    /// Every customer with a purchase up to `calibration_end`, in key order.
    pub customers: Vec<CustomerClv>,
}

/// Predictions for every summary with fitted models.
pub(crate) fn predict(
    model: &ModelReport,
    summaries: Vec<(Uuid, Summary)>,
    horizon: f64,
    monthly_discount_rate: f64,
) -> Vec<CustomerClv> {
    let bg = model.bgnbd.params;
    let gg = model.gamma_gamma.as_ref().map(|f| f.params);
    summaries
        .into_iter()
        .map(|(customer, s)| CustomerClv {
            customer,
            summary: s,
            probability_alive: bg.probability_alive(&s),
            expected_purchases: bg.conditional_expected_purchases(horizon, &s),
            expected_average_spend: gg.map(|g| g.conditional_expected_average_spend(s.frequency, s.monetary_value)),
            lifetime_value: gg
                .map(|g| clv::lifetime_value_over(&bg, &g, &s, model.time_unit, horizon, monthly_discount_rate)),
        })
        .collect()
}

/// BG/NBD and Gamma-Gamma fitted on purchases up to `calibration_end`, and
/// each customer's predictions over `horizon` (in `unit`). `None` when no
/// purchase falls before the calibration end.
pub async fn clv(
    store: &Store,
    scope: &Scope,
    calibration_end: Date,
    unit: TimeUnit,
    horizon: f64,
    annual_discount_rate: f64,
) -> Result<Option<ClvReport>, ReportError> {
    let pass = Pass { clv: Some(ClvCollector::new(&scope.currency, unit, calibration_end, None)), ..Pass::empty() };
    let pass = run(store, scope, pass).await?;
    let summaries = pass.clv.expect("switched on").summaries;
    if summaries.is_empty() {
        return Ok(None);
    }
    let only: Vec<Summary> = summaries.iter().map(|(_, s)| *s).collect();
    let model = fit_models(unit, &only)?;
    let monthly = (1.0 + annual_discount_rate).powf(1.0 / 12.0) - 1.0;
    let customers = predict(&model, summaries, horizon, monthly);
    Ok(Some(ClvReport {
        currency: scope.currency.clone(),
        calibration_end,
        time_unit: unit,
        horizon,
        annual_discount_rate,
        model,
        customers,
    }))
}

/// Who referred whom among the customers, valued by what they spent up to `as_of`.
pub async fn referrals(
    store: &Store,
    scope: &Scope,
    as_of: Date,
    top: usize,
) -> Result<ReferralReport<Uuid>, ReportError> {
    let rfm = rfm(store, scope, as_of).await?;
    let spent: HashMap<Uuid, i128> = rfm.customers.iter().map(|c| (c.customer, c.monetary_minor)).collect();
    let mut builder = ReferralBuilder::new(rfm.currency.clone());
    store
        .for_each_person(|person| {
            if let Some(&value) = spent.get(&person.id.0) {
                builder.add(person.id.0, person.referred_by_id.map(|r| r.0), value);
            }
        })
        .await?;
    Ok(builder.finish(top))
}

/// Names of people for a report's tables (missing ones are left out).
pub async fn names(store: &Store, ids: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, String>, ReportError> {
    let ids: Vec<PersonId> = ids.into_iter().map(PersonId).collect();
    let names = store.person_names(&ids).await?;
    Ok(names.into_iter().map(|(id, name)| (id.0, name)).collect())
}
