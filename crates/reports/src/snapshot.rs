//! Every report at once, from one pass over the purchases and one over the
//! people: what the insights pages and API serve, with the charts drawn and
//! each customer's insights stored for the customer page and list filters.

use std::collections::HashMap;
use std::time::Instant;

use rapport_domain::{Currency, Money, PersonId, Segment};
use rapport_insights::charts;
use rapport_insights::churn::{ChurnBuilder, ChurnDefinition, ChurnReport, SurvivalCurve};
use rapport_insights::clv::{ModelReport, Summary, TimeUnit};
use rapport_insights::cohorts::{CohortBuilder, CohortReport};
use rapport_insights::input::currency_exponent;
use rapport_insights::referrals::{ReferralBuilder, ReferralReport};
use rapport_insights::rfm::{RfmReport, SegmentSummary};
use rapport_storage::{CustomerInsight, StagedInsights, StorageError, Store};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::compute::{CustomerClv, MIN_CUSTOMERS, MIN_REPEAT_BUYERS, apply_person, fit_models, predict, rfm_builder};
use crate::pass::{ClvCollector, Pass};
use crate::{ReportError, Scope, Settings};

/// Referrers and top customers a snapshot names.
const TOP: usize = 10;

/// How survival curves are split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChurnGrouping {
    /// By the person's source (web, referral, event, ...).
    #[default]
    Source,
    /// By RFM segment.
    Segment,
}

/// The RFM report without its per-customer rows (those are in the store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RfmSummary {
    pub as_of: Date,
    pub currency: String,
    /// Customers scored.
    pub customers: u64,
    /// Every segment, best first, also empty ones.
    pub segments: Vec<SegmentSummary>,
    /// Exact: a sum of bounded amounts can pass `i64`.
    pub total_value_minor: i128,
    pub ignored_after_as_of: u64,
}

/// A customer with one of the highest expected lifetime values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopCustomer {
    pub person_id: PersonId,
    pub name: String,
    pub segment: Option<Segment>,
    /// Repeat purchase days up to the day of observation.
    pub repeat_purchases: u32,
    #[serde(with = "rapport_insights::float")]
    pub probability_alive: f64,
    #[serde(with = "rapport_insights::float")]
    pub expected_purchases: f64,
    /// Discounted lifetime value over the horizon, minor units.
    pub lifetime_value_minor: Option<i64>,
}

/// The lifetime value models, their check and what they expect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClvSummary {
    pub time_unit: TimeUnit,
    pub horizon_months: u32,
    #[serde(with = "rapport_insights::float")]
    pub annual_discount_rate: f64,
    /// Both models fitted on every purchase up to the day of observation.
    pub model: ModelReport,
    /// The same models fitted up to `check_calibration_end` only, with
    /// expected against actual repeat purchases after it (absent when no
    /// customer bought before then, or the fit failed).
    pub check: Option<ModelReport>,
    pub check_calibration_end: Date,
    /// Purchases expected from all customers over the horizon.
    #[serde(with = "rapport_insights::float")]
    pub expected_purchases: f64,
    /// Their discounted lifetime value in all, minor units.
    pub expected_value_minor: Option<i64>,
    /// The sum of every customer's probability alive.
    #[serde(with = "rapport_insights::float")]
    pub likely_alive: f64,
    /// Highest expected lifetime value first.
    pub top: Vec<TopCustomer>,
}

/// The charts of a snapshot, drawn once when it is computed (SVG). Not in
/// the API's JSON, but in the stored form ([`Snapshot::to_stored_json`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotCharts {
    pub rfm_segments: String,
    pub retention: String,
    pub churn_rate: String,
    pub survival_by_source: String,
    pub survival_by_segment: String,
    /// Expected against actual holdout purchases (absent without a check).
    pub holdout: Option<String>,
}

/// Every report over the purchases of one currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reports {
    pub scope: Scope,
    /// Purchases analysed (in the scope's currency).
    pub purchases: u64,
    pub rfm: RfmSummary,
    pub cohorts: CohortReport,
    /// Churn under the default definition, survival by source.
    pub churn: ChurnReport,
    /// Survival curves by RFM segment (all customers first).
    pub survival_by_segment: Vec<SurvivalCurve>,
    /// The lifetime value models (absent when they could not be fitted: see `clv_error`).
    pub clv: Option<ClvSummary>,
    pub clv_error: Option<String>,
    /// Referrals; `referrals` (the pair list) is left empty: list a
    /// referrer's people with the `referred_by_id` filter instead.
    pub referrals: ReferralReport<Uuid>,
    /// Names of the people the reports mention (top referrers).
    pub names: HashMap<Uuid, String>,
    #[serde(skip)]
    pub charts: SnapshotCharts,
}

/// The insights as of one day and one data version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The data version the snapshot reflects.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// How long computing it took, milliseconds.
    pub took_ms: u64,
    pub as_of: Date,
    pub settings: Settings,
    /// `None` until there is a purchase.
    pub reports: Option<Reports>,
}

fn to_minor(major: f64, currency: &str) -> Option<i64> {
    let minor = (major * 10f64.powi(currency_exponent(currency) as i32)).round();
    (minor.is_finite() && minor.abs() < 9.0e18).then_some(minor as i64)
}

/// A computed snapshot and its customers' insights, staged in the store:
/// `Store::publish_insights` makes them current together.
#[derive(Debug)]
pub struct Computed {
    pub snapshot: Snapshot,
    pub insights: StagedInsights,
}

impl Snapshot {
    /// Computes every report as of `as_of` and stages each customer's
    /// insights. `version` is the data version read before starting.
    pub async fn compute(
        store: &Store,
        settings: Settings,
        as_of: Date,
        version: i64,
    ) -> Result<Computed, ReportError> {
        let started = Instant::now();
        let computed_at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc());
        let (reports, insights) = match Scope::pick(store, None).await? {
            Some(scope) => {
                let (reports, insights) = reports(store, &settings, as_of, scope, computed_at).await?;
                (Some(reports), insights)
            }
            None => (None, store.stage_customer_insights(&[]).await?),
        };
        let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(Computed { snapshot: Snapshot { version, computed_at, took_ms, as_of, settings, reports }, insights })
    }

    /// The snapshot as JSON to store in the database, for every node to
    /// read back with [`Snapshot::from_stored_json`]: the API's JSON plus
    /// the charts, with non-finite numbers kept (see `rapport_insights::float`).
    pub fn to_stored_json(&self) -> Result<String, ReportError> {
        let stored = Stored { snapshot: self, charts: self.reports.as_ref().map(|r| &r.charts) };
        rapport_insights::float::non_finite_as_strings(|| serde_json::to_string(&stored))
            .map_err(|e| StorageError::Corrupt(format!("cannot write the insights snapshot as JSON: {e}")).into())
    }

    /// A snapshot stored by [`Snapshot::to_stored_json`], charts included.
    pub fn from_stored_json(json: &str) -> Result<Snapshot, ReportError> {
        let corrupt =
            |what: String| ReportError::from(StorageError::Corrupt(format!("stored insights snapshot: {what}")));
        let stored: Stored<Snapshot, SnapshotCharts> =
            serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
        let mut snapshot = stored.snapshot;
        match (snapshot.reports.as_mut(), stored.charts) {
            (Some(reports), Some(charts)) => reports.charts = charts,
            (None, None) => {}
            (Some(_), None) => return Err(corrupt("reports without their charts".into())),
            (None, Some(_)) => return Err(corrupt("charts without reports".into())),
        }
        Ok(snapshot)
    }
}

/// The stored form of a snapshot: `Reports::charts` is left out of the
/// snapshot's own JSON (the API does not serve it), so it is stored beside
/// it. Written from references, read into owned values. A read error
/// (say, a snapshot stored by an older version without a newer field) is
/// `StorageError::Corrupt`: whoever reads it computes a new one. (Not a
/// `ReportError` variant of its own: the server maps every variant by name.)
#[derive(Serialize, Deserialize)]
struct Stored<S, C> {
    snapshot: S,
    /// Present exactly when `snapshot.reports` is.
    charts: Option<C>,
}

async fn reports(
    store: &Store,
    settings: &Settings,
    as_of: Date,
    scope: Scope,
    computed_at: OffsetDateTime,
) -> Result<(Reports, StagedInsights), ReportError> {
    let currency = scope.currency.clone();
    let definition = ChurnDefinition::NoPurchaseFor { days: settings.churn_days };
    let check_end = as_of - Duration::days(i64::from(settings.holdout_months) * 30);
    let pass = Pass {
        rfm: Some(rfm_builder(store, &scope, as_of).await?),
        cohorts: Some(CohortBuilder::new(as_of, currency.clone())),
        cohort_error: None,
        churn: Some(ChurnBuilder::new(as_of, definition)),
        clv: Some(ClvCollector::new(&currency, settings.unit, as_of, Some(check_end))),
    };
    let (pass, purchases) = store.feed_purchases(&currency, pass).await?;
    let pass = pass.finish()?;
    let (rfm, cohorts, pass) = blocking(move || {
        let mut pass = pass;
        let rfm = pass.rfm.take().expect("switched on").finish();
        let cohorts = pass.cohorts.take().expect("switched on").finish();
        (rfm, cohorts, pass)
    })
    .await?;
    let mut by_source = pass.churn.expect("switched on");
    let mut by_segment = by_source.clone();
    let collected = pass.clv.expect("switched on");

    // People: churn groups by source, and referrals among the customers.
    let mut referral_builder = ReferralBuilder::new(currency.clone());
    store
        .for_each_person(|person| {
            if let Some(c) = rfm.customer(&person.id.0) {
                apply_person(&mut by_source, definition, ChurnGrouping::Source, &person, true);
                referral_builder.add(person.id.0, person.referred_by_id.map(|r| r.0), c.monetary_minor);
            }
        })
        .await?;
    for c in &rfm.customers {
        by_segment.set_group(c.customer, c.segment.label());
    }
    let churn = by_source.finish();
    let survival_by_segment = by_segment.finish().survival;
    let mut referrals = referral_builder.finish(TOP);
    referrals.referrals.clear();

    // Lifetime value: fitted on everything, checked on a holdout.
    let horizon = f64::from(settings.horizon_months) * settings.unit.per_month();
    let settings_copy = *settings;
    let (clv, clv_error, predictions) = blocking(move || fit_and_predict(&settings_copy, collected, horizon)).await?;
    let by_customer: HashMap<Uuid, &CustomerClv> = predictions.iter().map(|p| (p.customer, p)).collect();

    let money_currency =
        Currency::parse(&currency).map_err(|e| rapport_storage::StorageError::Corrupt(format!("currency: {e}")))?;
    let rows: Vec<CustomerInsight> = rfm
        .customers
        .iter()
        .map(|c| {
            let p = by_customer.get(&c.customer);
            // The store keeps one customer's total in a BIGINT: only a
            // customer with over 9 223 purchases at the 10^15 bound passes
            // it, and that is refused rather than stored rounded.
            let monetary = i64::try_from(c.monetary_minor).map_err(|_| {
                StorageError::Corrupt(format!(
                    "person {}: total spent {} minor units is beyond what can be stored (about 9.2e18)",
                    c.customer, c.monetary_minor
                ))
            })?;
            Ok::<_, ReportError>(CustomerInsight {
                person_id: PersonId(c.customer),
                segment: c.segment,
                r_score: c.r,
                f_score: c.f,
                m_score: c.m,
                last_purchase: c.last_purchase,
                recency_days: c.recency_days,
                frequency: i64::try_from(c.frequency).unwrap_or(i64::MAX),
                monetary: Money::new(monetary, money_currency),
                probability_alive: p.map(|p| p.probability_alive),
                expected_purchases: p.map(|p| p.expected_purchases),
                expected_value: p
                    .and_then(|p| p.lifetime_value)
                    .and_then(|v| to_minor(v, &currency))
                    .map(|v| Money::new(v, money_currency)),
                computed_at,
            })
        })
        .collect::<Result<_, _>>()?;
    let insights = store.stage_customer_insights(&rows).await?;

    let clv = match clv {
        Some((model, check)) => {
            let mut ranked: Vec<&CustomerClv> = predictions.iter().collect();
            ranked.sort_by(|a, b| {
                let key = |c: &CustomerClv| c.lifetime_value.unwrap_or(c.expected_purchases);
                key(b).total_cmp(&key(a)).then(a.customer.cmp(&b.customer))
            });
            ranked.truncate(TOP);
            let names = crate::compute::names(store, ranked.iter().map(|c| c.customer)).await?;
            let top = ranked
                .iter()
                .map(|c| TopCustomer {
                    person_id: PersonId(c.customer),
                    name: names.get(&c.customer).cloned().unwrap_or_else(|| c.customer.to_string()),
                    segment: rfm.segment_of(&c.customer),
                    repeat_purchases: c.summary.frequency,
                    probability_alive: c.probability_alive,
                    expected_purchases: c.expected_purchases,
                    lifetime_value_minor: c.lifetime_value.and_then(|v| to_minor(v, &currency)),
                })
                .collect();
            let total: Option<f64> = predictions.iter().map(|p| p.lifetime_value).sum();
            Some(ClvSummary {
                time_unit: settings.unit,
                horizon_months: settings.horizon_months,
                annual_discount_rate: settings.annual_discount_rate,
                model,
                check,
                check_calibration_end: check_end,
                expected_purchases: predictions.iter().map(|p| p.expected_purchases).sum(),
                expected_value_minor: total.and_then(|v| to_minor(v, &currency)),
                likely_alive: predictions.iter().map(|p| p.probability_alive).sum(),
                top,
            })
        }
        None => None,
    };
    let names = crate::compute::names(store, referrals.top_referrers.iter().map(|r| r.referrer)).await?;
    let charts = draw(&rfm, &cohorts, &churn, &survival_by_segment, clv.as_ref())?;
    let reports = Reports {
        scope,
        purchases,
        rfm: RfmSummary {
            as_of: rfm.as_of,
            currency: rfm.currency.clone(),
            customers: rfm.customers.len() as u64,
            segments: rfm.segments.clone(),
            total_value_minor: rfm.total_value_minor,
            ignored_after_as_of: rfm.ignored_after_as_of,
        },
        cohorts,
        churn,
        survival_by_segment,
        clv,
        clv_error,
        referrals,
        names,
        charts,
    };
    Ok((reports, insights))
}

/// Seconds of computing for a million customers: off the async workers, so
/// requests keep being served meanwhile.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ReportError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ReportError::Stopped(e.to_string()))
}

type Fitted = (Option<(ModelReport, Option<ModelReport>)>, Option<String>, Vec<CustomerClv>);

/// Both models on everything, their check on the holdout split, and every
/// customer's predictions; or why the models could not be fitted.
fn fit_and_predict(settings: &Settings, collected: ClvCollector, horizon: f64) -> Fitted {
    let only: Vec<Summary> = collected.summaries.iter().map(|(_, s)| *s).collect();
    match fit_models(settings.unit, &only) {
        Ok(model) => {
            let repeat_buyers = collected.holdout.iter().filter(|r| r.calibration.frequency > 0).count();
            let check = if collected.holdout.len() < MIN_CUSTOMERS || repeat_buyers < MIN_REPEAT_BUYERS {
                None
            } else {
                match ModelReport::from_calibration_holdout(settings.unit, &collected.holdout) {
                    // An unsettled check fit says nothing about the model: leave it out.
                    Ok(check) if check.bgnbd.converged => Some(check),
                    Ok(_) => {
                        tracing::warn!("the lifetime value model check did not converge");
                        None
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "the lifetime value model check could not be fitted");
                        None
                    }
                }
            };
            let predictions = predict(&model, collected.summaries, horizon, settings.monthly_discount_rate());
            (Some((model, check)), None, predictions)
        }
        Err(err) => {
            tracing::warn!(error = %err, "the lifetime value models could not be fitted");
            (None, Some(err.to_string()), Vec::new())
        }
    }
}

fn draw(
    rfm: &RfmReport<Uuid>,
    cohorts: &CohortReport,
    churn: &ChurnReport,
    by_segment: &[SurvivalCurve],
    clv: Option<&ClvSummary>,
) -> Result<SnapshotCharts, ReportError> {
    Ok(SnapshotCharts {
        rfm_segments: charts::rfm_segments_chart(rfm)?,
        retention: charts::retention_heatmap(cohorts)?,
        churn_rate: charts::churn_rate_chart(churn)?,
        survival_by_source: charts::survival_chart("Customer survival by source", &churn.survival, 0)?,
        survival_by_segment: charts::survival_chart("Customer survival by RFM segment", by_segment, 0)?,
        holdout: match clv.and_then(|c| c.check.as_ref().map(|check| (c, check))) {
            Some((c, check)) => Some(charts::holdout_chart(&check.holdout, c.check_calibration_end, rfm.as_of)?),
            None => None,
        },
    })
}
