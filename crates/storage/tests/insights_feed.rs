//! The insights feed (purchases of one currency ordered by person then time,
//! people ordered by id, with exact values), the insights data version that
//! tells the job to recompute, and the stored per-customer insights with the
//! segment list filter, written a generation at a time. Every test runs twice, as `sqlite::NAME` and
//! `postgres::NAME` (the latter when RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

use rapport_domain::bulk::BulkChange;
use rapport_domain::records::{LifecycleStage, PersonInput, PurchaseInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, CalendarMonth, Currency, Email, Money, PersonId, Role, Segment};
use rapport_storage::{
    CustomerInsight, ListQuery, NewSnapshot, PersonFilter, PersonRow, PurchaseRow, PurchaseSink, Store,
};
use rapport_testing::{Backend, TestDatabase};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use time::OffsetDateTime;
use time::macros::{date, datetime};

backend_tests!(
    purchases_come_ordered_by_person_then_time,
    people_come_ordered_by_id,
    an_empty_database_feeds_nothing,
    the_data_version_moves_with_every_change_insights_read,
    customer_insights_are_replaced_whole_and_filter_the_people_list,
    readers_see_the_last_run_until_the_next_is_published,
    a_run_never_published_is_never_seen_and_the_next_run_removes_it,
    a_run_published_after_a_later_one_is_dropped_with_its_snapshot,
    people_deleted_during_a_run_are_skipped,
    other_writes_go_between_a_runs_transactions,
);

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
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
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: stage,
        source: source.map(|s| Name::try_from(s).expect("a source")),
        referred_by_id: referred_by,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    };
    store.create_person(actor, input).await.expect("create a person").id
}

async fn purchase(
    store: &Store,
    actor: &Actor,
    person: PersonId,
    at: OffsetDateTime,
    minor: i64,
    currency: &str,
) -> rapport_domain::records::Purchase {
    let amount = Money::new(minor, Currency::parse(currency).expect("a currency"));
    let input = PurchaseInput { person_id: person, occurred_at: at, amount, reference: None, description: None };
    store.create_purchase(actor, input).await.expect("create a purchase")
}

struct Collect(Vec<PurchaseRow>);

impl PurchaseSink for Collect {
    fn purchase(&mut self, row: PurchaseRow) {
        self.0.push(row);
    }
}

async fn purchases(store: &Store, currency: &str) -> Vec<PurchaseRow> {
    let (Collect(rows), fed) = store.feed_purchases(currency, Collect(Vec::new())).await.expect("feed purchases");
    assert_eq!(fed, rows.len() as u64, "the count returned is the rows fed");
    rows
}

fn row(person: PersonId, at: OffsetDateTime, amount_minor: i64) -> PurchaseRow {
    PurchaseRow { person_id: person, day: at.date(), amount_minor }
}

async fn purchases_come_ordered_by_person_then_time(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Lead, None, None).await;
    let t1 = datetime!(2024-01-05 10:00 UTC);
    let t2 = datetime!(2024-02-10 09:30 UTC);
    let t3 = datetime!(2024-03-01 00:00 UTC);
    // The last second of a UTC day stays on that day.
    let t4 = datetime!(2024-07-31 23:59:59 UTC);
    // Inserted out of order, with two purchases at the same instant.
    purchase(&store, &actor, bob, t3, 700, "EUR").await;
    purchase(&store, &actor, ann, t4, 400, "EUR").await;
    purchase(&store, &actor, bob, t1, 500, "USD").await;
    purchase(&store, &actor, ann, t1, 100, "EUR").await;
    purchase(&store, &actor, ann, t2, 260, "EUR").await;
    purchase(&store, &actor, ann, t2, 250, "EUR").await;
    purchase(&store, &actor, bob, t2, 600, "EUR").await;
    // A purchase at 01:30 in UTC+02:00 is stored in UTC: the day before.
    purchase(&store, &actor, cat, datetime!(2024-05-02 01:30 +02:00), 90, "GBP").await;

    let mut expected = vec![
        row(ann, t1, 100),
        row(ann, t2, 250),
        row(ann, t2, 260),
        row(ann, t4, 400),
        row(bob, t2, 600),
        row(bob, t3, 700),
    ];
    // By person id (whatever order the ids have), then time, then amount.
    expected.sort_by_key(|r| (r.person_id, r.day, r.amount_minor));
    assert_eq!(purchases(&store, "EUR").await, expected, "euros only, ordered, exact values");
    assert_eq!(purchases(&store, "USD").await, vec![row(bob, t1, 500)]);
    assert_eq!(
        purchases(&store, "GBP").await,
        vec![PurchaseRow { person_id: cat, day: date!(2024 - 05 - 01), amount_minor: 90 }]
    );
    assert!(purchases(&store, "JPY").await.is_empty());
    store.close().await.expect("close the database");
}

async fn people_come_ordered_by_id(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Advocate, Some("Website"), None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, Some("Referral"), Some(ann)).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Churned, None, Some(ann)).await;
    let dan = person(&store, &actor, "Dan", LifecycleStage::Lead, Some("Event"), Some(bob)).await;
    let mut expected = vec![
        PersonRow {
            id: ann,
            lifecycle_stage: "advocate".into(),
            source: Some("Website".into()),
            referred_by_id: None,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        },
        PersonRow {
            id: bob,
            lifecycle_stage: "customer".into(),
            source: Some("Referral".into()),
            referred_by_id: Some(ann),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        },
        PersonRow {
            id: cat,
            lifecycle_stage: "churned".into(),
            source: None,
            referred_by_id: Some(ann),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        },
        PersonRow {
            id: dan,
            lifecycle_stage: "lead".into(),
            source: Some("Event".into()),
            referred_by_id: Some(bob),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        },
    ];
    expected.sort_by_key(|p| p.id);
    let mut rows = Vec::new();
    let fed = store.for_each_person(|p| rows.push(p)).await.expect("feed people");
    assert_eq!(fed, 4);
    // When a person last changed comes from the database: compare the rest.
    assert!(rows.iter().all(|r| r.updated_at.year() >= 2026));
    for row in &mut rows {
        row.updated_at = time::OffsetDateTime::UNIX_EPOCH;
    }
    assert_eq!(rows, expected);
    store.close().await.expect("close the database");
}

async fn an_empty_database_feeds_nothing(backend: Backend) {
    let (_db, store, _actor) = open(backend).await;
    assert!(purchases(&store, "EUR").await.is_empty());
    assert_eq!(store.for_each_person(|_| panic!("no person to feed")).await.expect("feed"), 0);
    store.close().await.expect("close the database");
}

async fn the_data_version_moves_with_every_change_insights_read(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let mut last = store.insights_data_version().await.expect("read the version");
    let mut moved = |now: i64, what: &str| {
        assert!(now > last, "{what}: the version moves on ({last} -> {now})");
        last = now;
    };
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bought = purchase(&store, &actor, ann, datetime!(2024-01-05 10:00 UTC), 100, "EUR").await;
    moved(store.insights_data_version().await.unwrap(), "a purchase");
    let mut changed = bought.fields.clone();
    changed.amount = Money::new(150, changed.amount.currency);
    store.update_purchase(&actor, bought.id, changed, None).await.expect("update the purchase");
    moved(store.insights_data_version().await.unwrap(), "a purchase changed");
    let mut input = store.get_person(ann).await.expect("read Ann").fields;
    input.lifecycle_stage = LifecycleStage::Churned;
    store.update_person(&actor, ann, input, None).await.expect("update Ann");
    moved(store.insights_data_version().await.unwrap(), "a person changed");
    let bo = person(&store, &actor, "Bo", LifecycleStage::Lead, None, None).await;
    let to_customers = BulkChange::SetStage(LifecycleStage::Customer);
    store.bulk_people(&actor, &[ann, bo], &to_customers).await.expect("change Ann and Bo at once");
    moved(store.insights_data_version().await.unwrap(), "a bulk change");
    store.delete_purchase(&actor, bought.id).await.expect("delete the purchase");
    moved(store.insights_data_version().await.unwrap(), "a purchase deleted");
    store.delete_person(&actor, ann).await.expect("delete Ann");
    moved(store.insights_data_version().await.unwrap(), "a person deleted");
    // A refused write leaves the version where it was.
    let bad = PurchaseInput {
        person_id: ann,
        occurred_at: datetime!(2024-01-05 10:00 UTC),
        amount: Money::new(100, Currency::parse("EUR").unwrap()),
        reference: None,
        description: None,
    };
    assert!(store.create_purchase(&actor, bad).await.is_err(), "Ann is gone");
    assert_eq!(store.insights_data_version().await.unwrap(), last);
    // A bulk change refused part-way rolls back with the version (PostgreSQL
    // moves it at commit), and the next write does not inherit its mark.
    let nobody = PersonId(uuid::Uuid::now_v7());
    let to_churned = BulkChange::SetStage(LifecycleStage::Churned);
    assert!(store.bulk_people(&actor, &[bo, nobody], &to_churned).await.is_err(), "nobody is missing");
    person(&store, &actor, "Cy", LifecycleStage::Lead, None, None).await;
    assert_eq!(store.insights_data_version().await.unwrap(), last, "a refused bulk change leaves the version");
    store.close().await.expect("close the database");
}

fn insight(person: PersonId, segment: Segment, monetary_minor: i64) -> CustomerInsight {
    let eur = Currency::parse("EUR").unwrap();
    CustomerInsight {
        person_id: person,
        segment,
        r_score: 5,
        f_score: 4,
        m_score: 3,
        last_purchase: date!(2024 - 07 - 31),
        recency_days: 12,
        frequency: 7,
        monetary: Money::new(monetary_minor, eur),
        probability_alive: Some(0.875),
        expected_purchases: Some(2.5),
        expected_value: Some(Money::new(12_345, eur)),
        computed_at: datetime!(2024-08-12 06:00 UTC),
    }
}

async fn segment_members(store: &Store, segment: Segment) -> Vec<PersonId> {
    let filter = PersonFilter { segment: Some(segment), ..Default::default() };
    let page = store.list_people(&ListQuery::default(), &filter).await.expect("list people");
    page.items.into_iter().map(|p| p.id).collect()
}

async fn customer_insights_are_replaced_whole_and_filter_the_people_list(backend: Backend) {
    let (_db, store, actor) = open(backend).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Customer, None, None).await;
    assert_eq!(store.customer_insight(ann).await.unwrap(), None, "nothing before the first run");

    let mut gone = insight(PersonId::new(), Segment::Lost, 1);
    gone.expected_value = None;
    let first = vec![insight(ann, Segment::Champions, 9_000), insight(bob, Segment::Champions, 5_000), gone];
    store.replace_customer_insights(&first).await.expect("store the insights");
    assert_eq!(store.customer_insight(ann).await.unwrap(), Some(first[0].clone()), "read back exactly");
    let mut champions = segment_members(&store, Segment::Champions).await;
    champions.sort();
    let mut want = vec![ann, bob];
    want.sort();
    assert_eq!(champions, want);
    assert!(segment_members(&store, Segment::Lost).await.is_empty(), "a person who does not exist is skipped");

    // The next run replaces everything: Bob left the segment, Cat joined another.
    let second = vec![insight(ann, Segment::Champions, 9_500), insight(cat, Segment::AtRisk, 700)];
    store.replace_customer_insights(&second).await.expect("replace the insights");
    assert_eq!(segment_members(&store, Segment::Champions).await, vec![ann]);
    assert_eq!(segment_members(&store, Segment::AtRisk).await, vec![cat]);
    assert_eq!(store.customer_insight(bob).await.unwrap(), None);
    assert_eq!(store.customer_insight(ann).await.unwrap().map(|i| i.monetary.amount_minor), Some(9_500));

    // Deleting a person removes their insights with them.
    store.delete_person(&actor, cat).await.expect("delete Cat");
    assert!(segment_members(&store, Segment::AtRisk).await.is_empty());
    store.close().await.expect("close the database");
}

/// A plain connection beside the store, to see what no reader may: the rows
/// of every generation.
async fn raw(db: &TestDatabase) -> DatabaseConnection {
    sea_orm::Database::connect(db.url.as_str()).await.expect("a raw connection to the test database")
}

/// Customer insight rows of every generation.
async fn stored_rows(raw: &DatabaseConnection) -> i64 {
    let row = raw
        .query_one(Query::select().expr_as(Expr::cust("count(*)"), "n").from("customer_insight_rows"))
        .await
        .expect("count the rows")
        .expect("a count");
    row.try_get::<i64>("", "n").expect("a number")
}

/// The last generation a run was given.
async fn last_generation(raw: &DatabaseConnection) -> i64 {
    let row = raw
        .query_one(Query::select().column("last_generation").from("insights_state"))
        .await
        .expect("read the state")
        .expect("the state row");
    row.try_get::<i64>("", "last_generation").expect("a number")
}

fn snapshot(version: i64, body: &str) -> NewSnapshot {
    NewSnapshot {
        version,
        as_of: date!(2024 - 08 - 12),
        computed_at: datetime!(2024-08-12 06:00 UTC),
        body: body.to_owned(),
    }
}

async fn stored_snapshot_body(store: &Store) -> Option<String> {
    store.insights_snapshot().await.expect("read the snapshot").and_then(|s| s.body)
}

async fn purchased_in(store: &Store, month: CalendarMonth) -> Vec<PersonId> {
    let filter = PersonFilter { purchased_in: Some(month), ..Default::default() };
    let page = store.list_people(&ListQuery::default(), &filter).await.expect("list people");
    page.items.into_iter().map(|p| p.id).collect()
}

async fn readers_see_the_last_run_until_the_next_is_published(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let raw = raw(&db).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Customer, None, None).await;
    purchase(&store, &actor, cat, datetime!(2024-07-31 10:00 UTC), 700, "EUR").await;
    let july: CalendarMonth = "2024-07".parse().expect("a month");
    let first = vec![insight(ann, Segment::Champions, 9_000), insight(bob, Segment::Champions, 5_000)];
    store.replace_customer_insights(&first).await.expect("the first run");

    // The second run is written, not yet published: every reader still sees the first.
    let second = vec![insight(ann, Segment::AtRisk, 9_100), insight(cat, Segment::New, 700)];
    let staged = store.stage_customer_insights(&second).await.expect("stage the second run");
    assert_eq!(stored_rows(&raw).await, 4, "both runs are stored");
    assert_eq!(store.customer_insight(ann).await.unwrap(), Some(first[0].clone()));
    assert_eq!(store.customer_insight(cat).await.unwrap(), None);
    let mut champions = segment_members(&store, Segment::Champions).await;
    champions.sort();
    let mut both = vec![ann, bob];
    both.sort();
    assert_eq!(champions, both);
    assert!(segment_members(&store, Segment::AtRisk).await.is_empty());
    assert!(purchased_in(&store, july).await.is_empty(), "Cat is a customer only in the second run");

    // Published with its snapshot: the second run, whole, and only it.
    let written = store.publish_insights(staged, snapshot(2, "second")).await.expect("publish");
    assert!(written.published);
    assert_eq!(written.rows, 2);
    assert_eq!(store.customer_insight(ann).await.unwrap(), Some(second[0].clone()));
    assert_eq!(store.customer_insight(bob).await.unwrap(), None);
    assert_eq!(store.customer_insight(cat).await.unwrap(), Some(second[1].clone()));
    assert!(segment_members(&store, Segment::Champions).await.is_empty());
    assert_eq!(segment_members(&store, Segment::AtRisk).await, vec![ann]);
    assert_eq!(purchased_in(&store, july).await, vec![cat]);
    assert_eq!(stored_snapshot_body(&store).await.as_deref(), Some("second"));
    assert_eq!(store.insights_snapshot_stamp().await.unwrap().map(|s| s.version), Some(2));
    assert_eq!(stored_rows(&raw).await, 2, "the first run's rows are deleted");
    store.close().await.expect("close the database");
}

async fn a_run_never_published_is_never_seen_and_the_next_run_removes_it(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let raw = raw(&db).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let first = vec![insight(ann, Segment::Champions, 9_000)];
    store.replace_customer_insights(&first).await.expect("the first run");

    // A run that failed after writing its rows.
    let failed = vec![insight(ann, Segment::Lost, 1), insight(bob, Segment::Lost, 2)];
    drop(store.stage_customer_insights(&failed).await.expect("stage a run that then fails"));
    assert_eq!(stored_rows(&raw).await, 3);
    assert_eq!(store.customer_insight(ann).await.unwrap(), Some(first[0].clone()));
    assert_eq!(store.customer_insight(bob).await.unwrap(), None);
    assert!(segment_members(&store, Segment::Lost).await.is_empty());

    let third = vec![insight(bob, Segment::Loyal, 4_000)];
    store.replace_customer_insights(&third).await.expect("the next run");
    assert_eq!(store.customer_insight(ann).await.unwrap(), None);
    assert_eq!(store.customer_insight(bob).await.unwrap(), Some(third[0].clone()));
    assert!(segment_members(&store, Segment::Lost).await.is_empty());
    assert_eq!(stored_rows(&raw).await, 1, "the failed run's rows are gone with the first run's");
    store.close().await.expect("close the database");
}

async fn a_run_published_after_a_later_one_is_dropped_with_its_snapshot(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let raw = raw(&db).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    // Two nodes' runs overlap: the one that started later is published first.
    let earlier = vec![insight(ann, Segment::Lost, 1)];
    let later = vec![insight(ann, Segment::Champions, 9_000)];
    let earlier_staged = store.stage_customer_insights(&earlier).await.expect("stage the earlier run");
    let later_staged = store.stage_customer_insights(&later).await.expect("stage the later run");
    assert!(store.publish_insights(later_staged, snapshot(8, "later")).await.expect("publish the later run").published);
    let written = store.publish_insights(earlier_staged, snapshot(7, "earlier")).await.expect("publish the earlier");
    assert!(!written.published, "an older run never replaces a newer one");
    assert_eq!(store.customer_insight(ann).await.unwrap(), Some(later[0].clone()));
    assert_eq!(stored_snapshot_body(&store).await.as_deref(), Some("later"), "rows and snapshot of one run");
    assert_eq!(stored_rows(&raw).await, 1, "the earlier run's rows are deleted");
    store.close().await.expect("close the database");
}

async fn people_deleted_during_a_run_are_skipped(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let raw = raw(&db).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    let bob = person(&store, &actor, "Bob", LifecycleStage::Customer, None, None).await;
    let cat = person(&store, &actor, "Cat", LifecycleStage::Customer, None, None).await;
    let dan = person(&store, &actor, "Dan", LifecycleStage::Customer, None, None).await;
    let rows: Vec<_> = [ann, bob, cat, dan].into_iter().map(|p| insight(p, Segment::Loyal, 100)).collect();
    // Dan is deleted after the run read him, before it writes his row.
    store.delete_person(&actor, dan).await.expect("delete Dan");
    let staged = store.stage_customer_insights(&rows).await.expect("stage");
    // Bob after his row was written, before the run is published.
    store.delete_person(&actor, bob).await.expect("delete Bob");
    let written = store.publish_insights(staged, snapshot(1, "run")).await.expect("publish");
    assert_eq!(written.rows, 3, "Dan's row was never written");
    let mut loyal = segment_members(&store, Segment::Loyal).await;
    loyal.sort();
    let mut want = vec![ann, cat];
    want.sort();
    assert_eq!(loyal, want);
    assert_eq!(store.customer_insight(bob).await.unwrap(), None);
    assert_eq!(stored_rows(&raw).await, 2, "Bob's row went with him");
    store.close().await.expect("close the database");
}

async fn other_writes_go_between_a_runs_transactions(backend: Backend) {
    let (db, store, actor) = open(backend).await;
    let raw = raw(&db).await;
    let ann = person(&store, &actor, "Ann", LifecycleStage::Customer, None, None).await;
    // A long run: its chunks of people who are no longer there still take a
    // transaction each.
    let mut rows: Vec<_> = (0..100_000).map(|i| insight(PersonId::new(), Segment::Lost, i)).collect();
    rows.push(insight(ann, Segment::Champions, 9_000));
    let before = last_generation(&raw).await;
    let run = tokio::spawn({
        let store = store.clone();
        async move { store.replace_customer_insights(&rows).await }
    });
    while last_generation(&raw).await == before {
        assert!(!run.is_finished(), "the run ended before it began");
        tokio::task::yield_now().await;
    }

    // The run has started: a person update waits for one of its transactions at most.
    let mut input = store.get_person(ann).await.expect("read Ann").fields;
    input.job_title = Some(Name::try_from("Buyer").expect("a job title"));
    store.update_person(&actor, ann, input, None).await.expect("update Ann during the run");
    assert!(!run.is_finished(), "the update did not wait for the whole run");
    let written = run.await.expect("the run's task").expect("the run");
    assert!(written.transactions > 3, "a transaction per chunk: {written:?}");
    assert_eq!(written.rows, 1);
    assert_eq!(store.customer_insight(ann).await.unwrap().map(|i| i.segment), Some(Segment::Champions));
    assert_eq!(store.get_person(ann).await.unwrap().fields.job_title.map(|t| t.to_string()), Some("Buyer".into()));
    store.close().await.expect("close the database");
}
