//! A snapshot stored as JSON reads back equal to the one computed: every
//! report, the charts, and numbers that are not finite. Runs on SQLite and
//! PostgreSQL.

#[macro_use]
extern crate rapport_testing;

use rapport_domain::records::{LifecycleStage, PersonInput, PurchaseInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role};
use rapport_insights::clv::simulate::Rng;
use rapport_reports::{Settings, Snapshot};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

backend_tests!(a_computed_snapshot_reads_back_equal, non_finite_numbers_read_back);

const CUSTOMERS: usize = 160;
const SOURCES: [&str; 3] = ["Website", "Event", "Partner"];

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let input = UserInput {
        name: Name::try_from("Admin").unwrap(),
        email: Email::parse("admin@example.com").unwrap(),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    (db, store, Actor { user_id: user.id, role: Role::Admin, team_id: None })
}

fn person(first: &str, source: &str, referred_by: Option<PersonId>) -> PersonInput {
    PersonInput {
        first_name: Name::try_from(first).unwrap(),
        last_name: None,
        emails: Vec::new(),
        phones: Vec::new(),
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: LifecycleStage::Customer,
        source: Some(Name::try_from(source).unwrap()),
        referred_by_id: referred_by,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    }
}

/// A snapshot over customers who buy the way the lifetime value models
/// assume (as the demo data does): each at a gamma-distributed rate of their
/// own from a first purchase in the last two years, dropping out after a
/// purchase with a beta-distributed probability, spending around a level of
/// their own. Enough of them for both models and their holdout check to fit.
async fn computed_snapshot(backend: Backend) -> (TestDatabase, Store, Snapshot) {
    let (db, store, actor) = open(backend).await;
    let mut rng = Rng::new(2024);
    let mut people: Vec<PersonId> = Vec::with_capacity(CUSTOMERS);
    for i in 0..CUSTOMERS {
        let referred_by = (i % 4 == 3).then(|| people[(i * 7) % people.len()]);
        let input = person(&format!("Customer {i}"), SOURCES[i % SOURCES.len()], referred_by);
        people.push(store.create_person(&actor, input).await.expect("create a person").id);
    }
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let mut purchases = Vec::new();
    for id in &people {
        let rate_per_day = rng.gamma(0.9, 0.9) / 45.0;
        let dropout = rng.beta(1.0, 12.0);
        let spend_level = 60.0 * (0.6 * rng.normal()).exp();
        let mut days_ago = 730.0 * rng.uniform();
        loop {
            let cents = (spend_level * (0.3 * rng.normal()).exp() * 100.0).round().max(100.0) as i64;
            purchases.push(PurchaseInput {
                person_id: *id,
                occurred_at: now - Duration::seconds((days_ago * 86_400.0) as i64),
                amount: Money::new(cents, eur),
                reference: None,
                description: None,
            });
            days_ago -= rng.exponential(rate_per_day);
            if days_ago <= 0.0 || rng.uniform() < dropout {
                break;
            }
        }
    }
    store.create_purchases(&actor, purchases).await.expect("create the purchases");
    let version = store.insights_data_version().await.unwrap();
    let snapshot = Snapshot::compute(&store, Settings::default(), now.date(), version).await.expect("compute").snapshot;

    // Every part is there, so every part is checked.
    let reports = snapshot.reports.as_ref().expect("reports");
    assert_eq!(reports.rfm.customers, CUSTOMERS as u64);
    let clv = reports.clv.as_ref().unwrap_or_else(|| panic!("the models fit: {:?}", reports.clv_error));
    assert!(clv.check.is_some(), "the holdout check fits");
    assert!(!clv.top.is_empty() && clv.expected_value_minor.is_some());
    assert!(reports.referrals.referred_customers > 0 && !reports.names.is_empty());
    assert!(reports.churn.survival.len() > 1, "survival by source");
    let charts = &reports.charts;
    for chart in [
        &charts.rfm_segments,
        &charts.retention,
        &charts.churn_rate,
        &charts.survival_by_source,
        &charts.survival_by_segment,
    ] {
        assert!(chart.contains("<svg"), "every chart is drawn");
    }
    assert!(charts.holdout.as_ref().is_some_and(|c| c.contains("<svg")), "the holdout chart is drawn");
    (db, store, snapshot)
}

/// The API's JSON of a snapshot (objects compare regardless of key order).
fn api_json(snapshot: &Snapshot) -> Value {
    serde_json::to_value(snapshot).expect("the API form")
}

async fn a_computed_snapshot_reads_back_equal(backend: Backend) {
    let (_db, store, snapshot) = computed_snapshot(backend).await;
    let json = snapshot.to_stored_json().expect("store");
    let back = Snapshot::from_stored_json(&json).expect("read back");
    // Every field, the charts and each f64 bit for bit (derived PartialEq;
    // no number here is NaN).
    assert_eq!(back, snapshot);
    let (reports, back_reports) = (snapshot.reports.as_ref().unwrap(), back.reports.as_ref().unwrap());
    assert_eq!(back_reports.charts, reports.charts, "the charts are stored too");
    assert_eq!(api_json(&back), api_json(&snapshot));
    assert!(api_json(&snapshot)["reports"].get("charts").is_none(), "the API still leaves the charts out");
    // Stored again, the same JSON (as values: the names map has no order).
    let again: Value = serde_json::from_str(&back.to_stored_json().expect("store again")).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(&json).unwrap());

    // A snapshot without purchases has neither reports nor charts.
    let empty = Snapshot { reports: None, ..snapshot.clone() };
    assert_eq!(Snapshot::from_stored_json(&empty.to_stored_json().unwrap()).unwrap(), empty);
    // Text that is not a stored snapshot, or reports without their charts, is refused.
    assert!(Snapshot::from_stored_json("{}").is_err());
    let mut stored: Value = serde_json::from_str(&json).unwrap();
    stored["charts"] = Value::Null;
    assert!(Snapshot::from_stored_json(&stored.to_string()).is_err(), "reports without charts");
    store.close().await.expect("close");
}

async fn non_finite_numbers_read_back(backend: Backend) {
    let (_db, store, snapshot) = computed_snapshot(backend).await;
    let mut odd = snapshot.clone();
    odd.settings.annual_discount_rate = f64::INFINITY;
    let reports = odd.reports.as_mut().unwrap();
    let clv = reports.clv.as_mut().unwrap();
    clv.expected_purchases = f64::NAN;
    clv.top[0].probability_alive = f64::NEG_INFINITY;
    clv.model.bgnbd.log_likelihood = f64::NEG_INFINITY;
    clv.check.as_mut().unwrap().holdout[0].mean_expected = f64::NAN;
    reports.churn.survival[0].points[0].lower = f64::NAN;
    reports.cohorts.cohorts[0].retention[0] = f64::INFINITY;
    let month = reports.churn.monthly.iter_mut().find(|m| m.churn_rate.is_some()).expect("a churn rate");
    month.churn_rate = Some(f64::NAN);

    // The API's JSON is as before: null where a number is not finite.
    let api = api_json(&odd);
    assert_eq!(api["settings"]["annual_discount_rate"], Value::Null);
    assert_eq!(api["reports"]["clv"]["expected_purchases"], Value::Null);
    assert_eq!(api["reports"]["cohorts"]["cohorts"][0]["retention"][0], Value::Null);

    let json = odd.to_stored_json().expect("store");
    let back = Snapshot::from_stored_json(&json).expect("read back");
    let b = back.reports.as_ref().unwrap();
    let c = b.clv.as_ref().unwrap();
    assert_eq!(back.settings.annual_discount_rate, f64::INFINITY);
    assert!(c.expected_purchases.is_nan());
    assert_eq!(c.top[0].probability_alive, f64::NEG_INFINITY);
    assert_eq!(c.model.bgnbd.log_likelihood, f64::NEG_INFINITY);
    assert!(c.check.as_ref().unwrap().holdout[0].mean_expected.is_nan());
    assert!(b.churn.survival[0].points[0].lower.is_nan());
    assert_eq!(b.cohorts.cohorts[0].retention[0], f64::INFINITY);
    assert!(b.churn.monthly.iter().any(|m| m.churn_rate.is_some_and(f64::is_nan)));
    // Stored again, the same JSON; and storing switched nothing on for the API.
    let again: Value = serde_json::from_str(&back.to_stored_json().unwrap()).unwrap();
    assert_eq!(again, serde_json::from_str::<Value>(&json).unwrap());
    assert_eq!(api_json(&back), api);
    // Apart from the NaNs (never equal to themselves), equal to what was stored.
    let mut back = back;
    for s in [&mut odd, &mut back] {
        let r = s.reports.as_mut().unwrap();
        let clv = r.clv.as_mut().unwrap();
        clv.expected_purchases = 0.0;
        clv.check.as_mut().unwrap().holdout[0].mean_expected = 0.0;
        r.churn.survival[0].points[0].lower = 0.0;
        for m in &mut r.churn.monthly {
            m.churn_rate = m.churn_rate.filter(|r| !r.is_nan());
        }
    }
    assert_eq!(back, odd);
    store.close().await.expect("close");
}
