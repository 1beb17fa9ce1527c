//! The insights job over a real database: it computes only when the data
//! version or the day moved on, stores each customer's insights, and the
//! snapshot's numbers match the purchases. Runs on SQLite and PostgreSQL.

#[macro_use]
extern crate rapport_testing;

use rapport_domain::records::{LifecycleStage, PersonInput, PurchaseInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role};
use rapport_reports::{Insights, REFRESH_JOB, Settings};
use rapport_storage::{JobFilter, Store};
use rapport_testing::{Backend, TestDatabase};
use time::{Duration, OffsetDateTime};

backend_tests!(the_job_computes_when_the_data_changes, every_node_reads_the_stored_snapshot);

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

fn person(first: &str, referred_by: Option<PersonId>) -> PersonInput {
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
        source: Some(Name::try_from("Website").unwrap()),
        referred_by_id: referred_by,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    }
}

async fn the_job_computes_when_the_data_changes(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let insights = Insights::new(store.clone(), Settings::default());
    assert!(insights.refresh_if_changed().await.expect("first run"), "the first run computes");
    let empty = insights.state().snapshot.expect("a snapshot");
    assert!(empty.reports.is_none(), "no purchases, no reports");
    assert!(!insights.refresh_if_changed().await.expect("second run"), "nothing changed, nothing computed");

    // Forty customers, every other one referred by the first; customer i
    // bought i % 5 + 1 times, 9 EUR more each time.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let first = store.create_person(&actor, person("Customer 0", None)).await.unwrap().id;
    let mut people = vec![first];
    for i in 1..40 {
        let referred = (i % 2 == 0).then_some(first);
        people.push(store.create_person(&actor, person(&format!("Customer {i}"), referred)).await.unwrap().id);
    }
    let eur = Currency::parse("EUR").unwrap();
    let mut purchases = Vec::new();
    let mut total = 0;
    for (i, id) in people.iter().enumerate() {
        for k in 0..(i % 5 + 1) {
            let amount = 900 * (k as i64 + 1);
            total += amount;
            purchases.push(PurchaseInput {
                person_id: *id,
                occurred_at: now - Duration::days((i * 11 + k * 37) as i64),
                amount: Money::new(amount, eur),
                reference: None,
                description: None,
            });
        }
    }
    store.create_purchases(&actor, purchases).await.expect("create the purchases");
    assert!(insights.refresh_if_changed().await.expect("run after purchases"), "new purchases, new snapshot");
    let snapshot = insights.state().snapshot.expect("a snapshot");
    assert_eq!(snapshot.version, store.insights_data_version().await.unwrap());
    let reports = snapshot.reports.as_ref().expect("reports");
    assert_eq!(reports.rfm.customers, 40);
    assert_eq!(reports.rfm.total_value_minor, i128::from(total));
    assert_eq!(reports.cohorts.customers, 40);
    assert_eq!(reports.referrals.referred_customers, 19, "every other customer after the first was referred");
    assert_eq!(reports.referrals.top_referrers[0].referrer, first.0);
    assert_eq!(reports.names.get(&first.0).map(String::as_str), Some("Customer 0"));
    assert!(reports.charts.rfm_segments.contains("<svg"), "charts are drawn with the snapshot");
    assert!(reports.charts.retention.contains("<svg"));

    // Every customer's insights are stored, consistent with the report.
    let mut in_segments = 0;
    for id in &people {
        let insight = store.customer_insight(*id).await.unwrap().expect("stored insights");
        assert!((1..=5).contains(&insight.r_score));
        in_segments += 1;
        if let Some(p) = insight.probability_alive {
            assert!((0.0..=1.0).contains(&p), "a probability: {p}");
        }
    }
    assert_eq!(in_segments, 40);
    assert!(!insights.refresh_if_changed().await.unwrap(), "unchanged again");
    store.close().await.expect("close");
}

/// Two nodes: one computes (as the `insights.refresh` job), the other only
/// reads what was stored, and asks for a refresh, once, when data changes.
async fn every_node_reads_the_stored_snapshot(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let computing = Insights::new(store.clone(), Settings::default());
    let other_store = Store::connect(&db.url).await.expect("a second node's connection");
    let reading = Insights::new(other_store.clone(), Settings::default());

    reading.sync().await.expect("sync before any snapshot");
    assert!(reading.state().snapshot.is_none() && reading.state().stale, "nothing stored yet: stale");
    let waiting = |store: Store| async move {
        store
            .list_jobs(None, &JobFilter { kind: Some(REFRESH_JOB.into()), limit: 50, ..JobFilter::default() })
            .await
            .expect("list the jobs")
    };
    assert_eq!(waiting(store.clone()).await.len(), 1, "a refresh was asked for");
    reading.sync().await.expect("sync again");
    computing.sync().await.expect("sync on the other node");
    assert_eq!(waiting(store.clone()).await.len(), 1, "asked once, whichever node asks");

    let customer = store.create_person(&actor, person("Buyer", None)).await.unwrap().id;
    let purchase = PurchaseInput {
        person_id: customer,
        occurred_at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(3),
        amount: Money::new(4_200, Currency::parse("EUR").unwrap()),
        reference: None,
        description: None,
    };
    store.create_purchases(&actor, vec![purchase]).await.expect("a purchase");
    assert!(computing.refresh_if_changed().await.expect("compute"), "the job computes");
    assert!(!reading.refresh_if_changed().await.expect("read"), "the other node finds it stored");
    reading.sync().await.expect("sync after the refresh");
    let held = reading.state();
    let snapshot = held.snapshot.expect("the stored snapshot, read");
    assert!(!held.stale, "up to date");
    assert_eq!(snapshot.version, store.insights_data_version().await.unwrap());
    assert_eq!(snapshot.reports.as_ref().expect("reports").rfm.total_value_minor, 4_200);
    assert_eq!(
        snapshot.to_stored_json().unwrap(),
        computing.state().snapshot.expect("computed").to_stored_json().unwrap(),
        "both nodes serve the same snapshot"
    );
    other_store.close().await.expect("close");
    store.close().await.expect("close");
}
