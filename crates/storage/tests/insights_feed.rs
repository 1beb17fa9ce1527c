//! The insights feed: purchases ordered by person then time, people ordered
//! by id, read in keyset batches (here of 3 rows, so that batches split a
//! person's purchases), with exact values. Every test runs twice, as
//! `sqlite::NAME` and `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES
//! is set).

#[macro_use]
extern crate rapport_testing;

use rapport_domain::records::{LifecycleStage, PersonInput, PurchaseInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role};
use rapport_storage::{INSIGHTS_BATCH, PersonRow, PurchaseRow, Store};
use rapport_testing::{Backend, TestDatabase};
use time::OffsetDateTime;
use time::macros::datetime;

backend_tests!(
    purchases_come_ordered_by_person_then_time_across_batches,
    people_come_ordered_by_id_across_batches,
    an_empty_database_feeds_nothing,
);

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::new(backend).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    store.migrate().await.expect("migrate the test database");
    let input = UserInput {
        name: Name::try_from("Admin").expect("a name"),
        email: Email::parse("admin@example.com").expect("an email"),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    let actor = Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id };
    (db, store, actor)
}

async fn person(
    store: &Store,
    actor: &Actor,
    first: &str,
    stage: LifecycleStage,
    source: Option<&str>,
    referred_by: Option<PersonId>,
) -> PersonId {
    let input = PersonInput {
        first_name: Name::try_from(first).expect("a name"),
        last_name: None,
        emails: Vec::new(),
        phones: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: stage,
        source: source.map(|s| Name::try_from(s).expect("a source")),
        referred_by_id: referred_by,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        custom_fields: Default::default(),
    };
    store.create_person(actor, input).await.expect("create a person").id
}

async fn purchase(store: &Store, actor: &Actor, person: PersonId, at: OffsetDateTime, minor: i64, currency: &str) {
    let amount = Money::new(minor, Currency::parse(currency).expect("a currency"));
    let input = PurchaseInput { person_id: person, occurred_at: at, amount, reference: None, description: None };
    store.create_purchase(actor, input).await.expect("create a purchase");
}

async fn purchases(store: &Store, currency: Option<&str>, batch: u64) -> Vec<PurchaseRow> {
    let mut rows = Vec::new();
    let fed = store.for_each_purchase(currency, batch, |row| rows.push(row)).await.expect("feed purchases");
    assert_eq!(fed, rows.len() as u64, "the count returned is the rows fed");
    rows
}

fn row(person: PersonId, occurred_at: OffsetDateTime, amount_minor: i64, currency: &str) -> PurchaseRow {
    PurchaseRow { person_id: person, occurred_at, amount_minor, currency: currency.to_owned() }
}

async fn purchases_come_ordered_by_person_then_time_across_batches(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Lead, None, None).await;
    let t1 = datetime!(2024-01-05 10:00 UTC);
    let t2 = datetime!(2024-02-10 09:30 UTC);
    let t3 = datetime!(2024-03-01 00:00 UTC);
    let t4 = datetime!(2024-07-31 23:59:59 UTC);
    // Inserted out of order, with two purchases at the same instant.
    purchase(&store, &actor, bob, t3, 700, "EUR").await;
    purchase(&store, &actor, ann, t4, 400, "EUR").await;
    purchase(&store, &actor, bob, t1, 500, "USD").await;
    purchase(&store, &actor, ann, t1, 100, "EUR").await;
    purchase(&store, &actor, ann, t2, 250, "EUR").await;
    purchase(&store, &actor, ann, t2, 260, "EUR").await;
    purchase(&store, &actor, bob, t2, 600, "EUR").await;

    let mut expected = vec![
        row(ann, t1, 100, "EUR"),
        row(ann, t2, 250, "EUR"),
        row(ann, t2, 260, "EUR"),
        row(ann, t4, 400, "EUR"),
        row(bob, t1, 500, "USD"),
        row(bob, t2, 600, "EUR"),
        row(bob, t3, 700, "EUR"),
    ];
    // Rows come by person id (whatever order the ids have), then time; the
    // two at the same instant come in purchase-id order, which the test does
    // not know, so compare those as a set.
    expected.sort_by_key(|r| (r.person_id, r.occurred_at));
    let normalize = |mut rows: Vec<PurchaseRow>| {
        rows.sort_by_key(|r| (r.person_id, r.occurred_at, r.amount_minor));
        rows
    };
    for batch in [1, 2, 3, 7, INSIGHTS_BATCH] {
        let rows = purchases(&store, None, batch).await;
        assert_eq!(rows.len(), 7, "batch {batch}: every purchase once");
        let keys: Vec<_> = rows.iter().map(|r| (r.person_id, r.occurred_at)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "batch {batch}: ordered by person, then time");
        assert_eq!(normalize(rows), normalize(expected.clone()), "batch {batch}: exact values");
    }
    // Batches of 3 split Ann's purchases, including the two at the same instant, the same way every time.
    assert_eq!(purchases(&store, None, 3).await, purchases(&store, None, 1).await);

    let euros = purchases(&store, Some("EUR"), 3).await;
    assert_eq!(euros.len(), 6);
    assert!(euros.iter().all(|r| r.currency == "EUR"));
    assert!(purchases(&store, Some("GBP"), 3).await.is_empty());
    assert!(euros.iter().all(|r| r.person_id != cat), "a person without purchases feeds nothing");

    assert!(store.for_each_purchase(None, 0, |_| {}).await.is_err(), "a batch of 0 rows is refused");
    store.close().await.expect("close the database");
}

async fn people_come_ordered_by_id_across_batches(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Advocate, Some("Website"), None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, Some("Referral"), Some(ann)).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Churned, None, Some(ann)).await;
    let dan = person(&store, &actor, "Dan", LifecycleStage::Lead, Some("Event"), Some(bob)).await;
    let mut expected = vec![
        PersonRow { id: ann, lifecycle_stage: "advocate".into(), source: Some("Website".into()), referred_by_id: None },
        PersonRow {
            id: bob,
            lifecycle_stage: "customer".into(),
            source: Some("Referral".into()),
            referred_by_id: Some(ann),
        },
        PersonRow { id: cat, lifecycle_stage: "churned".into(), source: None, referred_by_id: Some(ann) },
        PersonRow { id: dan, lifecycle_stage: "lead".into(), source: Some("Event".into()), referred_by_id: Some(bob) },
    ];
    expected.sort_by_key(|p| p.id);
    for batch in [1, 3, 4, INSIGHTS_BATCH] {
        let mut rows = Vec::new();
        let fed = store.for_each_person(batch, |p| rows.push(p)).await.expect("feed people");
        assert_eq!(fed, 4);
        assert_eq!(rows, expected, "batch {batch}");
    }
    assert!(store.for_each_person(0, |_| {}).await.is_err(), "a batch of 0 rows is refused");
    store.close().await.expect("close the database");
}

async fn an_empty_database_feeds_nothing(backend: Backend) {
    let (_db, store, _actor) = open(backend).await;
    assert_eq!(store.for_each_purchase(None, 3, |_| panic!("no purchase to feed")).await.expect("feed"), 0);
    assert_eq!(store.for_each_person(3, |_| panic!("no person to feed")).await.expect("feed"), 0);
    store.close().await.expect("close the database");
}
