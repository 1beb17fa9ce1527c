//! The read models behind the pages (who is due a call, what the pipeline
//! holds, what a customer bought, what the team did lately), saved views,
//! first-admin setup and the saved-views migration, against a real database.
//! Every test runs twice, as `sqlite::NAME` and `postgres::NAME` (the latter
//! when RAPPORT_TEST_POSTGRES is set).

#[macro_use]
extern crate rapport_testing;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rapport_domain::records::{
    Activity, ActivityInput, ActivityKind, Company, CompanyInput, Deal, DealInput, DealStatus, Direction, Links,
    Password, Person, PersonInput, Pipeline, PipelineInput, PurchaseInput, StageInput, TaskInput, User, UserInput,
    normalize_timestamp,
};
use rapport_domain::text::{LongText, Name};
use rapport_domain::views::{ListKind, SavedViewInput, ViewQuery};
use rapport_domain::{Actor, CompanyId, Currency, Email, Money, MoneySum, PersonId, Role, UserId, ViewId};
use rapport_storage::{DealFilter, ListQuery, PurchaseTotal, StageSum, StageTotal, StorageError, Store, TaskFilter};
use rapport_testing::{Backend, TestDatabase};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use time::{Duration, OffsetDateTime};

backend_tests!(
    contact_due_lists_overdue_people_most_overdue_first,
    activities_made_together_move_last_contact_only_later,
    open_deal_totals_sum_open_deals_per_stage_and_currency,
    deal_totals_follow_every_write_of_a_deal,
    due_tasks_soonest_first_page_by_page,
    purchase_totals_per_person_and_per_company,
    sums_beyond_i64_are_exact,
    recent_activities_of_the_given_authors_newest_first,
    names_for_ids_leave_missing_ids_out,
    saved_views_replace_by_name_and_stay_private,
    first_admin_only_on_an_empty_database,
    concurrent_first_admins_make_exactly_one_user,
    migrating_twice_changes_nothing_and_views_go_with_their_user,
    search_folding_migration_rewrites_older_documents,
);

// ---------------------------------------------------------------- helpers

/// A migrated store over a fresh database; keep the database alive as long as the store.
async fn open(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.unwrap_or_else(|err| panic!("connect to {}: {err}", db.url));
    (db, store)
}

/// A second, plain connection to the test database, for what the Store API
/// cannot do: backdate a record, delete a user, read the migration table.
async fn raw(db: &TestDatabase) -> DatabaseConnection {
    sea_orm::Database::connect(db.url.as_str()).await.expect("a raw connection to the test database")
}

fn name(text: &str) -> Name {
    Name::try_from(text).expect("a valid name")
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("a valid email")
}

fn password() -> Password {
    Password::try_from("correct horse battery staple".to_owned()).expect("a valid password")
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a known currency")
}

fn money(amount_minor: i64, code: &str) -> Money {
    Money::new(amount_minor, currency(code))
}

fn sum(amount_minor: i128, code: &str) -> MoneySum {
    MoneySum::new(amount_minor, currency(code))
}

fn days_ago(days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::days(days)
}

fn actor_of(user: &User) -> Actor {
    Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}

async fn user(store: &Store, user_name: &str, role: Role) -> (User, Actor) {
    let input = UserInput {
        name: name(user_name),
        email: email(&format!("{}@example.com", user_name.to_lowercase())),
        role,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    let actor = actor_of(&user);
    (user, actor)
}

async fn admin(store: &Store) -> (User, Actor) {
    user(store, "Admin", Role::Admin).await
}

fn person_input(first: &str, last: Option<&str>) -> PersonInput {
    PersonInput {
        first_name: name(first),
        last_name: last.map(name),
        emails: Vec::new(),
        phones: Vec::new(),
        birthday: None,
        addresses: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        lifecycle_stage: Default::default(),
        source: None,
        referred_by_id: None,
        tags: Vec::new(),
        preferences: Default::default(),
        keep_in_touch_days: None,
        external_id: None,
        custom_fields: Default::default(),
    }
}

async fn person(store: &Store, actor: &Actor, input: PersonInput) -> Person {
    store.create_person(actor, input).await.expect("create a person")
}

/// A person with a keep-in-touch cadence, owned by `owner`.
async fn cadenced(store: &Store, actor: &Actor, first: &str, days: Option<i32>, owner: Option<UserId>) -> Person {
    let mut input = person_input(first, None);
    input.keep_in_touch_days = days;
    input.owner_id = owner;
    person(store, actor, input).await
}

async fn company(store: &Store, actor: &Actor, company_name: &str) -> Company {
    store.create_company(actor, CompanyInput::named(name(company_name))).await.expect("create a company")
}

async fn pipeline(store: &Store, actor: &Actor, pipeline_name: &str, stages: &[&str]) -> Pipeline {
    let input = PipelineInput {
        name: name(pipeline_name),
        stages: stages.iter().map(|s| StageInput { id: None, name: name(s), win_probability: 50 }).collect(),
    };
    store.create_pipeline(actor, input).await.expect("create a pipeline")
}

async fn deal(
    store: &Store,
    actor: &Actor,
    pipeline: &Pipeline,
    stage: usize,
    amount: Money,
    status: DealStatus,
) -> Deal {
    let input = DealInput {
        name: name("A deal"),
        amount,
        pipeline_id: pipeline.id,
        stage_id: pipeline.stages[stage].id,
        person_id: None,
        company_id: None,
        owner_id: None,
        expected_close: None,
        status,
        lost_reason: (status == DealStatus::Lost).then(|| LongText::try_from("too dear").expect("a valid text")),
        tags: Vec::new(),
        external_id: None,
        custom_fields: Default::default(),
    };
    store.create_deal(actor, input).await.expect("create a deal")
}

async fn purchase(store: &Store, actor: &Actor, person: PersonId, amount: Money) {
    let input =
        PurchaseInput { person_id: person, occurred_at: days_ago(3), amount, reference: None, description: None };
    store.create_purchase(actor, input).await.expect("create a purchase");
}

/// Logs an activity of `kind` with `person` at `at`, written by `author`.
async fn activity(
    store: &Store,
    actor: &Actor,
    kind: ActivityKind,
    direction: Direction,
    person: PersonId,
    at: OffsetDateTime,
    author: Option<UserId>,
) -> Activity {
    let input = activity_input(kind, direction, person, at, author);
    store.create_activity(actor, input).await.expect("create an activity")
}

/// An activity with `person`, not yet stored.
fn activity_input(
    kind: ActivityKind,
    direction: Direction,
    person: PersonId,
    at: OffsetDateTime,
    author: Option<UserId>,
) -> ActivityInput {
    ActivityInput {
        kind,
        direction: Some(direction),
        occurred_at: Some(at),
        subject: Some(name("Checking in")),
        body: None,
        author_id: author,
        links: Links { person_id: Some(person), company_id: None, deal_id: None },
    }
}

/// A call to `person` `days` days ago: their last contact.
async fn called(store: &Store, actor: &Actor, person: PersonId, days: i64) {
    activity(store, actor, ActivityKind::Call, Direction::Outbound, person, days_ago(days), None).await;
}

fn ids(people: &[Person]) -> Vec<PersonId> {
    people.iter().map(|p| p.id).collect()
}

fn view_input(list: ListKind, view_name: &str, query: &str) -> SavedViewInput {
    SavedViewInput { list, name: name(view_name), query: ViewQuery::parse(query).expect("a valid view query") }
}

// ---------------------------------------------------------------- contact_due

/// An activity of `kind` with `person` at `at`, not yet stored: a note internal, the rest outbound.
fn touch(kind: ActivityKind, person: &Person, at: OffsetDateTime) -> ActivityInput {
    let direction = if kind == ActivityKind::Note { Direction::Internal } else { Direction::Outbound };
    activity_input(kind, direction, person.id, at, None)
}

async fn activities_made_together_move_last_contact_only_later(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let ada = person(&store, &boss, person_input("Ada", None)).await;
    let ben = person(&store, &boss, person_input("Ben", None)).await;
    let last_contact = |person: PersonId| {
        let store = &store;
        async move { store.get_person(person).await.expect("read a person").last_contacted_at }
    };
    let (ten, three, one) = (days_ago(10), days_ago(3), days_ago(1));

    let first = vec![touch(ActivityKind::Call, &ada, ten), touch(ActivityKind::Note, &ada, one)];
    store.create_activities(&boss, first).await.expect("a call and a note");
    assert_eq!(last_contact(ada.id).await, Some(normalize_timestamp(ten)), "a note is not contact");
    // An older call does not move it back.
    store.create_activities(&boss, vec![touch(ActivityKind::Call, &ada, days_ago(30))]).await.expect("an old call");
    assert_eq!(last_contact(ada.id).await, Some(normalize_timestamp(ten)));
    // The latest of a batch moves it, wherever it stands in the batch.
    let later = vec![
        touch(ActivityKind::Email, &ada, three),
        touch(ActivityKind::Call, &ada, days_ago(20)),
        touch(ActivityKind::Note, &ben, one),
    ];
    store.create_activities(&boss, later).await.expect("an email, a call and a note");
    assert_eq!(last_contact(ada.id).await, Some(normalize_timestamp(three)));
    assert_eq!(last_contact(ben.id).await, None, "only a note: never contacted");
}

async fn contact_due_lists_overdue_people_most_overdue_first(backend: Backend) {
    let (db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let (ana_user, _) = user(&store, "Ana", Role::Agent).await;
    let (bo_user, _) = user(&store, "Bo", Role::Agent).await;

    // Overdue by 40 days (contacted 100 days ago, every 60 days), Ana's.
    let far = cadenced(&store, &boss, "Far", Some(60), Some(ana_user.id)).await;
    called(&store, &boss, far.id, 100).await;
    // Overdue by 10 days (40 days ago, every 30), Bo's.
    let near = cadenced(&store, &boss, "Near", Some(30), Some(bo_user.id)).await;
    called(&store, &boss, near.id, 40).await;
    // Overdue by 20 days, never contacted: created 27 days ago, every 7 days; Ana's.
    let never = cadenced(&store, &boss, "Never", Some(7), Some(ana_user.id)).await;
    // Contacted 5 days ago, every 30: not due.
    let recent = cadenced(&store, &boss, "Recent", Some(30), Some(ana_user.id)).await;
    called(&store, &boss, recent.id, 5).await;
    // The old call was followed by a recent one: not due.
    let again = cadenced(&store, &boss, "Again", Some(30), Some(ana_user.id)).await;
    called(&store, &boss, again.id, 90).await;
    called(&store, &boss, again.id, 2).await;
    // No cadence at all, last contacted long ago: never due.
    let loose = cadenced(&store, &boss, "Loose", None, Some(ana_user.id)).await;
    called(&store, &boss, loose.id, 400).await;
    // A cadence, never contacted, created just now: not due yet.
    let fresh = cadenced(&store, &boss, "Fresh", Some(7), Some(ana_user.id)).await;
    // Only a note 200 days ago: a note is not contact, so their creation counts (just now).
    let noted = cadenced(&store, &boss, "Noted", Some(30), Some(ana_user.id)).await;
    activity(&store, &boss, ActivityKind::Note, Direction::Internal, noted.id, days_ago(200), None).await;

    // Backdate Never's creation: the Store API always creates people now.
    let conn = raw(&db).await;
    conn.execute(
        Query::update()
            .table("people")
            .value("created_at", Expr::value(rapport_domain::records::normalize_timestamp(days_ago(27))))
            .and_where(Expr::col("id").eq(never.id.0)),
    )
    .await
    .expect("backdate a person");
    conn.close().await.expect("close the raw connection");

    assert!(store.get_person(far.id).await.unwrap().last_contacted_at.is_some(), "a call sets last_contacted_at");
    assert_eq!(store.get_person(noted.id).await.unwrap().last_contacted_at, None, "a note is not contact");

    let due = store.contact_due(None, 50).await.expect("contact_due");
    assert_eq!(ids(&due), vec![far.id, never.id, near.id], "everyone due, most overdue first");
    for not_due in [&recent, &again, &loose, &fresh, &noted] {
        assert!(!ids(&due).contains(&not_due.id), "{} is not due", not_due.fields.first_name);
    }

    let anas = store.contact_due(Some(ana_user.id), 50).await.expect("contact_due for Ana");
    assert_eq!(ids(&anas), vec![far.id, never.id], "only Ana's people");
    let bos = store.contact_due(Some(bo_user.id), 50).await.expect("contact_due for Bo");
    assert_eq!(ids(&bos), vec![near.id], "only Bo's people");
    let (nobody, _) = user(&store, "Cy", Role::Agent).await;
    assert_eq!(store.contact_due(Some(nobody.id), 50).await.unwrap(), Vec::<Person>::new());

    assert_eq!(ids(&store.contact_due(None, 1).await.unwrap()), vec![far.id], "the limit holds");
    assert_eq!(ids(&store.contact_due(None, 2).await.unwrap()), vec![far.id, never.id], "the limit holds");
    assert_eq!(ids(&store.contact_due(Some(ana_user.id), 1).await.unwrap()), vec![far.id]);
}

// ---------------------------------------------------------------- open_deal_totals

async fn open_deal_totals_sum_open_deals_per_stage_and_currency(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let sales = pipeline(&store, &boss, "Sales", &["Lead", "Offer", "Closing"]).await;
    let other = pipeline(&store, &boss, "Other", &["Only"]).await;

    // Lead: two EUR and one USD open deal; a won and a lost one that do not count.
    deal(&store, &boss, &sales, 0, money(1_000, "EUR"), DealStatus::Open).await;
    deal(&store, &boss, &sales, 0, money(2_500, "EUR"), DealStatus::Open).await;
    deal(&store, &boss, &sales, 0, money(700, "USD"), DealStatus::Open).await;
    deal(&store, &boss, &sales, 0, money(90_000, "EUR"), DealStatus::Won).await;
    deal(&store, &boss, &sales, 0, money(80_000, "EUR"), DealStatus::Lost).await;
    // Offer: three huge EUR deals, 9e18 in all: beyond what a plain SUM decodes on PostgreSQL.
    const HUGE: i64 = 3_000_000_000_000_000_000;
    for _ in 0..3 {
        deal(&store, &boss, &sales, 1, money(HUGE, "EUR"), DealStatus::Open).await;
    }
    // Closing: only a won deal, so no row at all.
    deal(&store, &boss, &sales, 2, money(5, "EUR"), DealStatus::Won).await;
    // Another pipeline's deal is not counted.
    deal(&store, &boss, &other, 0, money(123, "EUR"), DealStatus::Open).await;

    let mut totals = store.open_deal_totals(sales.id).await.expect("open_deal_totals");
    let position = |t: &StageTotal| sales.stages.iter().position(|s| s.id == t.stage_id).expect("a stage of Sales");
    totals.sort_by_key(|t| (position(t), t.amount.currency));
    let lead = sales.stages[0].id;
    let offer = sales.stages[1].id;
    assert_eq!(
        totals,
        vec![
            StageTotal { stage_id: lead, count: 2, amount: money(3_500, "EUR") },
            StageTotal { stage_id: lead, count: 1, amount: money(700, "USD") },
            StageTotal { stage_id: offer, count: 3, amount: money(3 * HUGE, "EUR") },
        ]
    );

    assert_eq!(
        store.open_deal_totals(other.id).await.unwrap(),
        vec![StageTotal { stage_id: other.stages[0].id, count: 1, amount: money(123, "EUR") }]
    );
    let empty = pipeline(&store, &boss, "Empty", &["Nothing"]).await;
    assert_eq!(store.open_deal_totals(empty.id).await.unwrap(), Vec::new());
}

/// The board's columns and the home page's pipelines, read from the totals
/// the triggers keep, against the same figures summed from the deals.
async fn assert_totals_match_deals(store: &Store, pipeline: &Pipeline, step: &str) {
    let columns = [(DealStatus::Open, None), (DealStatus::Won, None), (DealStatus::Lost, None)];
    let sums = store.column_sums(pipeline.id, &columns).await.expect("column_sums");
    let filter = DealFilter { pipeline_id: Some(pipeline.id), ..Default::default() };
    let deals = store.list_deals(&ListQuery { limit: Some(200), ..Default::default() }, &filter).await.unwrap().items;
    for ((status, _), got) in columns.iter().zip(sums) {
        let mut want: BTreeMap<(uuid::Uuid, Currency), (i64, i128)> = BTreeMap::new();
        for deal in deals.iter().filter(|d| d.fields.status == *status) {
            let entry = want.entry((deal.fields.stage_id.0, deal.fields.amount.currency)).or_default();
            *entry = (entry.0 + 1, entry.1 + i128::from(deal.fields.amount.amount_minor));
        }
        let got: BTreeMap<_, _> =
            got.into_iter().map(|s| ((s.stage_id.0, s.amount.currency), (s.count, s.amount.amount_minor))).collect();
        assert_eq!(got, want, "{status:?} deals after {step}");
    }
}

async fn deal_totals_follow_every_write_of_a_deal(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let sales = pipeline(&store, &boss, "Sales", &["Lead", "Offer"]).await;
    let a = deal(&store, &boss, &sales, 0, money(1_000, "EUR"), DealStatus::Open).await;
    let b = deal(&store, &boss, &sales, 0, money(2_000, "EUR"), DealStatus::Open).await;
    let c = deal(&store, &boss, &sales, 1, money(1_234_567_891_234, "USD"), DealStatus::Open).await;
    assert_totals_match_deals(&store, &sales, "three creates").await;

    let mut moved = a.fields.clone();
    moved.stage_id = sales.stages[1].id;
    moved.amount = money(1_500, "EUR");
    store.update_deal(&boss, a.id, moved, None).await.unwrap();
    assert_totals_match_deals(&store, &sales, "a move to another stage at a new amount").await;

    let mut renamed = b.fields.clone();
    renamed.name = name("Renamed");
    store.update_deal(&boss, b.id, renamed, None).await.unwrap();
    let mut won = b.fields.clone();
    won.status = DealStatus::Won;
    store.update_deal(&boss, b.id, won, None).await.unwrap();
    let mut other_currency = c.fields.clone();
    other_currency.amount = money(1_234_567_891_234, "EUR");
    store.update_deal(&boss, c.id, other_currency, None).await.unwrap();
    assert_totals_match_deals(&store, &sales, "a rename, a win and a change of currency").await;

    let entry = store.delete_deal(&boss, c.id).await.unwrap();
    assert_totals_match_deals(&store, &sales, "a delete").await;
    store.restore_from_trash(&boss, entry).await.unwrap();
    assert_totals_match_deals(&store, &sales, "a restore").await;

    store.bulk_deals(&boss, &[a.id, c.id], &rapport_domain::bulk::BulkChange::Delete).await.unwrap();
    assert_totals_match_deals(&store, &sales, "a bulk delete").await;
    let won_only = store.column_sums(sales.id, &[(DealStatus::Won, None)]).await.unwrap();
    assert_eq!(won_only, vec![vec![StageSum { stage_id: sales.stages[0].id, count: 1, amount: sum(2_000, "EUR") }]]);
    let open_only = store.open_deal_sums(sales.id).await.unwrap();
    assert_eq!(open_only, Vec::new(), "no open deal is left, and no empty group either");
}

// ---------------------------------------------------------------- due tasks

/// The home page's "due today" list: an assignee's open tasks due before a
/// time, soonest first, page by page in either direction.
async fn due_tasks_soonest_first_page_by_page(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (me, boss) = admin(&store).await;
    let (other, _) = user(&store, "Other", Role::Agent).await;
    let cutoff = normalize_timestamp(OffsetDateTime::now_utc() + Duration::hours(1));
    let mut due = Vec::new();
    // Five due ones, two of them at the same time (the id breaks the tie),
    // and what the list leaves out: one due after the cutoff, one with no
    // due time, one done, one of someone else.
    for (title, hours, assignee, done) in [
        ("b", Some(-30), me.id, false),
        ("a", Some(-50), me.id, false),
        ("c", Some(-2), me.id, false),
        ("c twin", Some(-2), me.id, false),
        ("d", Some(0), me.id, false),
        ("later", Some(5), me.id, false),
        ("undated", None, me.id, false),
        ("done", Some(-40), me.id, true),
        ("theirs", Some(-45), other.id, false),
    ] {
        let input = TaskInput {
            title: name(title),
            notes: None,
            due_at: hours.map(|h| cutoff + Duration::hours(h) - Duration::minutes(1)),
            assignee_id: Some(assignee),
            done,
            links: Links::default(),
        };
        let task = store.create_task(&boss, input).await.expect("a task");
        if hours.is_some_and(|h| h <= 0) && assignee == me.id && !done {
            due.push(task);
        }
    }
    due.sort_by_key(|t| (t.fields.due_at, t.id));
    let filter =
        TaskFilter { assignee_id: Some(me.id), open: Some(true), due_before: Some(cutoff), ..Default::default() };
    for sort in ["due_at", "-due_at"] {
        let mut seen = Vec::new();
        let mut query = ListQuery { limit: Some(2), sort: Some(sort.into()), ..Default::default() };
        loop {
            let page = store.list_tasks(&query, &filter).await.expect("list_tasks");
            seen.extend(page.items.iter().map(|t| t.id));
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let mut want: Vec<_> = due.iter().map(|t| t.id).collect();
        if sort == "-due_at" {
            want.reverse();
        }
        assert_eq!(seen, want, "sorted by {sort}");
    }
}

// ---------------------------------------------------------------- purchase_totals

async fn purchase_totals_per_person_and_per_company(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let acme = company(&store, &boss, "Acme").await;
    let globex = company(&store, &boss, "Globex").await;
    let at_acme = |first: &str| {
        let mut input = person_input(first, None);
        input.company_id = Some(acme.id);
        input
    };
    let ana = person(&store, &boss, at_acme("Ana")).await;
    let bo = person(&store, &boss, at_acme("Bo")).await;
    let mut elsewhere = person_input("Cy", None);
    elsewhere.company_id = Some(globex.id);
    let cy = person(&store, &boss, elsewhere).await;
    let idle = person(&store, &boss, at_acme("Idle")).await;

    purchase(&store, &boss, ana.id, money(100, "EUR")).await;
    purchase(&store, &boss, ana.id, money(250, "EUR")).await;
    purchase(&store, &boss, ana.id, money(999, "USD")).await;
    purchase(&store, &boss, bo.id, money(50, "EUR")).await;
    purchase(&store, &boss, bo.id, money(7, "GBP")).await;
    purchase(&store, &boss, cy.id, money(7_777, "EUR")).await;

    assert_eq!(
        store.purchase_totals(Some(ana.id), None).await.expect("purchase_totals of Ana"),
        vec![PurchaseTotal { count: 2, amount: sum(350, "EUR") }, PurchaseTotal { count: 1, amount: sum(999, "USD") },]
    );
    assert_eq!(
        store.purchase_totals(Some(cy.id), None).await.unwrap(),
        vec![PurchaseTotal { count: 1, amount: sum(7_777, "EUR") }]
    );
    assert_eq!(store.purchase_totals(Some(idle.id), None).await.unwrap(), Vec::new());
    assert_eq!(
        store.purchase_totals(None, Some(acme.id)).await.expect("purchase_totals of Acme"),
        vec![
            PurchaseTotal { count: 3, amount: sum(400, "EUR") },
            PurchaseTotal { count: 1, amount: sum(7, "GBP") },
            PurchaseTotal { count: 1, amount: sum(999, "USD") },
        ]
    );
    assert_eq!(
        store.purchase_totals(None, Some(globex.id)).await.unwrap(),
        vec![PurchaseTotal { count: 1, amount: sum(7_777, "EUR") }]
    );
    let empty = company(&store, &boss, "Initech").await;
    assert_eq!(store.purchase_totals(None, Some(empty.id)).await.unwrap(), Vec::new());
}

// ---------------------------------------------------------------- sums beyond i64

async fn sums_beyond_i64_are_exact(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let sales = pipeline(&store, &boss, "Sales", &["Lead", "Offer"]).await;
    // Four of these pass i64::MAX: a plain SUM fails (SQLite: integer
    // overflow; PostgreSQL: a NUMERIC beyond BIGINT), which was a 500.
    const HUGE: i64 = 3_000_000_000_000_000_000;
    for _ in 0..4 {
        deal(&store, &boss, &sales, 0, money(HUGE, "EUR"), DealStatus::Open).await;
    }
    // Remainders by 10^9 carry over: 4·HUGE + 999_999_999 + 1.
    for amount in [HUGE, HUGE, HUGE, HUGE, 999_999_999, 1] {
        deal(&store, &boss, &sales, 1, money(amount, "EUR"), DealStatus::Open).await;
    }
    deal(&store, &boss, &sales, 1, money(1_234_567_891, "USD"), DealStatus::Open).await;
    let mut sums = store.open_deal_sums(sales.id).await.expect("open_deal_sums");
    let position = |t: &StageSum| sales.stages.iter().position(|s| s.id == t.stage_id).expect("a stage of Sales");
    sums.sort_by_key(|t| (position(t), t.amount.currency));
    let (lead, offer) = (sales.stages[0].id, sales.stages[1].id);
    let huge = i128::from(HUGE);
    assert_eq!(
        sums,
        vec![
            StageSum { stage_id: lead, count: 4, amount: sum(4 * huge, "EUR") },
            StageSum { stage_id: offer, count: 6, amount: sum(4 * huge + 1_000_000_000, "EUR") },
            StageSum { stage_id: offer, count: 1, amount: sum(1_234_567_891, "USD") },
        ]
    );
    // The Money view of the same totals says what does not fit, not a database error.
    let error = store.open_deal_totals(sales.id).await.unwrap_err();
    assert!(matches!(&error, StorageError::Conflict(m) if m.contains("amount_minor")), "{error:?}");

    let ana = person(&store, &boss, person_input("Ana", None)).await;
    for amount in [HUGE, HUGE, HUGE, HUGE, HUGE, 999_999_999, 2] {
        purchase(&store, &boss, ana.id, money(amount, "EUR")).await;
    }
    let bo = person(&store, &boss, person_input("Bo", None)).await;
    for amount in [HUGE, HUGE, HUGE, HUGE] {
        purchase(&store, &boss, bo.id, money(amount, "EUR")).await;
    }
    assert_eq!(
        store.purchase_totals(Some(ana.id), None).await.expect("purchase_totals"),
        vec![PurchaseTotal { count: 7, amount: sum(5 * huge + 1_000_000_001, "EUR") }]
    );
    assert_eq!(
        store.purchase_totals(Some(bo.id), None).await.expect("purchase_totals"),
        vec![PurchaseTotal { count: 4, amount: sum(4 * huge, "EUR") }]
    );
}

// ---------------------------------------------------------------- recent_activities

async fn recent_activities_of_the_given_authors_newest_first(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let (ana, _) = user(&store, "Ana", Role::Agent).await;
    let (bo, _) = user(&store, "Bo", Role::Agent).await;
    let (cy, _) = user(&store, "Cy", Role::Agent).await;
    let customer = person(&store, &boss, person_input("Customer", None)).await;
    let hours_ago = |h: i64| OffsetDateTime::now_utc() - Duration::hours(h);
    let log = |author: UserId, hours: i64| {
        activity(&store, &boss, ActivityKind::Email, Direction::Outbound, customer.id, hours_ago(hours), Some(author))
    };

    let ana_old = log(ana.id, 30).await;
    let bo_mid = log(bo.id, 20).await;
    let ana_new = log(ana.id, 10).await;
    let cy_newest = log(cy.id, 1).await;
    let ana_oldest = log(ana.id, 50).await;

    let ids = |activities: Vec<Activity>| activities.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.recent_activities(&[ana.id, bo.id], 10).await.expect("recent_activities")),
        vec![ana_new.id, bo_mid.id, ana_old.id, ana_oldest.id],
        "only Ana's and Bo's, newest first"
    );
    assert_eq!(ids(store.recent_activities(&[ana.id, bo.id], 2).await.unwrap()), vec![ana_new.id, bo_mid.id]);
    assert_eq!(ids(store.recent_activities(&[cy.id], 10).await.unwrap()), vec![cy_newest.id]);
    assert_eq!(ids(store.recent_activities(&[], 10).await.unwrap()), Vec::new(), "no authors, no activities");
    let newest = store.recent_activities(&[ana.id], 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].fields.author_id, Some(ana.id));
    assert_eq!(newest[0].fields.occurred_at, ana_new.fields.occurred_at);
}

// ---------------------------------------------------------------- names

async fn names_for_ids_leave_missing_ids_out(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let ana = person(&store, &boss, person_input("Ana", Some("Lima"))).await;
    let bo = person(&store, &boss, person_input("Bo", None)).await;
    let _unasked = person(&store, &boss, person_input("Unasked", None)).await;
    let acme = company(&store, &boss, "Acme").await;
    let globex = company(&store, &boss, "Globex").await;
    let missing_person = PersonId::new();
    let missing_company = CompanyId::new();

    assert_eq!(
        store.person_names(&[ana.id, bo.id, missing_person]).await.expect("person_names"),
        HashMap::from([(ana.id, "Ana Lima".to_owned()), (bo.id, "Bo".to_owned())])
    );
    assert_eq!(store.person_names(&[missing_person]).await.unwrap(), HashMap::new());
    assert_eq!(store.person_names(&[]).await.unwrap(), HashMap::new());

    assert_eq!(
        store.company_names(&[acme.id, missing_company, globex.id]).await.expect("company_names"),
        HashMap::from([(acme.id, "Acme".to_owned()), (globex.id, "Globex".to_owned())])
    );
    assert_eq!(store.company_names(&[missing_company]).await.unwrap(), HashMap::new());
    assert_eq!(store.company_names(&[]).await.unwrap(), HashMap::new());
}

// ---------------------------------------------------------------- saved views

async fn saved_views_replace_by_name_and_stay_private(backend: Backend) {
    let (_db, store) = open(backend).await;
    let (_, ana) = admin(&store).await;
    let (_, bo) = user(&store, "Bo", Role::Agent).await;

    let hot = store.save_view(&ana, view_input(ListKind::People, "Hot", "?q=ana&cursor=abc")).await.expect("save");
    assert_eq!(hot.user_id, ana.user_id);
    assert_eq!(hot.fields.query.as_str(), "q=ana", "the cursor is not saved");
    let cold = store.save_view(&ana, view_input(ListKind::People, "Cold", "sort=name")).await.unwrap();
    let big = store.save_view(&ana, view_input(ListKind::Deals, "Big", "sort=-amount")).await.unwrap();
    // The same name on another list is another view.
    let deals_hot = store.save_view(&ana, view_input(ListKind::Deals, "Hot", "status=open")).await.unwrap();
    // Saving "Hot" on people again replaces it.
    let hot2 = store.save_view(&ana, view_input(ListKind::People, "Hot", "q=bo")).await.expect("replace");
    assert_ne!(hot2.id, hot.id);

    let summary = |views: Vec<rapport_domain::views::SavedView>| {
        views
            .into_iter()
            .map(|v| (v.id, v.fields.list, v.fields.name.to_string(), v.fields.query.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        summary(store.list_views(&ana, Some(ListKind::People)).await.expect("list_views")),
        vec![
            (cold.id, ListKind::People, "Cold".to_owned(), "sort=name".to_owned()),
            (hot2.id, ListKind::People, "Hot".to_owned(), "q=bo".to_owned()),
        ]
    );
    assert_eq!(
        summary(store.list_views(&ana, None).await.unwrap()),
        vec![
            (big.id, ListKind::Deals, "Big".to_owned(), "sort=-amount".to_owned()),
            (deals_hot.id, ListKind::Deals, "Hot".to_owned(), "status=open".to_owned()),
            (cold.id, ListKind::People, "Cold".to_owned(), "sort=name".to_owned()),
            (hot2.id, ListKind::People, "Hot".to_owned(), "q=bo".to_owned()),
        ],
        "by list, then by name"
    );
    assert_eq!(summary(store.list_views(&ana, Some(ListKind::Tasks)).await.unwrap()), Vec::new());

    // Bo's views are his own: the same name does not touch Ana's.
    let bos = store.save_view(&bo, view_input(ListKind::People, "Hot", "q=cy")).await.expect("Bo saves");
    assert_eq!(
        summary(store.list_views(&bo, None).await.unwrap()),
        vec![(bos.id, ListKind::People, "Hot".to_owned(), "q=cy".to_owned())]
    );
    assert_eq!(store.list_views(&ana, None).await.unwrap().len(), 4);

    // Another user's view is not found, and stays.
    match store.delete_view(&bo, cold.id).await {
        Err(StorageError::NotFound(_)) => {}
        other => panic!("deleting another user's view: expected NotFound, got {other:?}"),
    }
    assert!(store.list_views(&ana, None).await.unwrap().iter().any(|v| v.id == cold.id));
    // Even an admin cannot delete someone else's view.
    assert!(matches!(store.delete_view(&ana, bos.id).await, Err(StorageError::NotFound(_))));
    // A replaced view is gone.
    assert!(matches!(store.delete_view(&ana, hot.id).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.delete_view(&ana, ViewId::new()).await, Err(StorageError::NotFound(_))));

    store.delete_view(&ana, cold.id).await.expect("delete own view");
    assert_eq!(
        summary(store.list_views(&ana, Some(ListKind::People)).await.unwrap()),
        vec![(hot2.id, ListKind::People, "Hot".to_owned(), "q=bo".to_owned())]
    );
    assert!(matches!(store.delete_view(&ana, cold.id).await, Err(StorageError::NotFound(_))), "gone already");
    assert_eq!(store.list_views(&bo, None).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------- first admin

async fn first_admin_only_on_an_empty_database(backend: Backend) {
    let (_db, store) = open(backend).await;
    let first = store
        .create_first_admin(name("Founder"), email("founder@example.com"), &password())
        .await
        .expect("the first admin on an empty database");
    assert_eq!(first.fields.role, Role::Admin);
    assert_eq!(first.fields.email.as_str(), "founder@example.com");
    assert!(first.fields.active);
    assert_eq!(store.count_users().await.unwrap(), 1);

    match store.create_first_admin(name("Late"), email("late@example.com"), &password()).await {
        Err(StorageError::Conflict(_)) => {}
        other => panic!("a second first admin: expected Conflict, got {other:?}"),
    }
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.find_user_by_email(&email("late@example.com")).await.unwrap(), None);

    // Any user, not only an admin, closes setup.
    let (_db2, other) = open(backend).await;
    let _ = user(&other, "Viewer", Role::Viewer).await;
    assert!(matches!(
        other.create_first_admin(name("Late"), email("late@example.com"), &password()).await,
        Err(StorageError::Conflict(_))
    ));
    assert_eq!(other.count_users().await.unwrap(), 1);
}

/// Starts two setups at once and returns both outcomes.
async fn two_setups(store: &Store) -> Vec<Result<User, StorageError>> {
    let setups: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|who| {
            let store = store.clone();
            tokio::spawn(async move {
                store.create_first_admin(name(who), email(&format!("{who}@example.com")), &password()).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for setup in setups {
        outcomes.push(setup.await.expect("the setup task"));
    }
    outcomes
}

async fn exactly_one_setup_won(store: &Store, outcomes: &[Result<User, StorageError>], round: &str) {
    assert_eq!(store.count_users().await.unwrap(), 1, "{round}: exactly one user after two setups: {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{round}: exactly one setup succeeds");
    assert!(
        outcomes.iter().any(|o| matches!(o, Err(StorageError::Conflict(_)))),
        "{round}: the other is refused: {outcomes:?}"
    );
}

async fn concurrent_first_admins_make_exactly_one_user(backend: Backend) {
    // Forced: another connection holds the users table while both setups
    // start, so both are waiting at their check when it lets go.
    let (db, store) = open(backend).await;
    let conn = raw(&db).await;
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let holder = conn.begin_with_options(options).await.expect("begin the holding transaction");
    if backend == Backend::Postgres {
        holder.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.expect("lock users");
    }
    let both = tokio::spawn({
        let store = store.clone();
        async move { two_setups(&store).await }
    });
    // Until both setups wait on a lock (PostgreSQL tells), or a while (SQLite does not).
    let waiting = Query::select()
        .expr(Expr::cust(
            "(SELECT COUNT(*) FROM pg_locks WHERE NOT granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
        ))
        .to_owned();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if backend == Backend::Sqlite {
            tokio::time::sleep(std::time::Duration::from_millis(900)).await;
            break;
        }
        let row = conn.query_one(&waiting).await.expect("read pg_locks").expect("a row");
        if row.try_get_by_index::<i64>(0).expect("a count") >= 2 {
            break;
        }
    }
    holder.rollback().await.expect("let go of the users table");
    conn.close().await.expect("close the raw connection");
    let outcomes = both.await.expect("the setups");
    exactly_one_setup_won(&store, &outcomes, "forced overlap").await;

    // Left to chance, the two setups only sometimes overlap: a few more fresh databases.
    for round in 0..3 {
        let (_db, store) = open(backend).await;
        let outcomes = two_setups(&store).await;
        exactly_one_setup_won(&store, &outcomes, &format!("round {round}")).await;
    }
}

// ---------------------------------------------------------------- migration

async fn migrating_twice_changes_nothing_and_views_go_with_their_user(backend: Backend) {
    let (db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let (bo_user, bo) = user(&store, "Bo", Role::Agent).await;
    let kept = store.save_view(&boss, view_input(ListKind::People, "Mine", "q=a")).await.unwrap();
    let bos = store.save_view(&bo, view_input(ListKind::Deals, "His", "q=b")).await.unwrap();

    // Again, and from another process's connection: nothing to do, nothing lost.
    store.migrate().await.expect("migrate a second time");
    let second = Store::connect(&db.url).await.expect("a second store");
    second.migrate().await.expect("migrate from a second store");
    second.close().await.expect("close the second store");
    assert_eq!(store.count_users().await.unwrap(), 2);
    assert_eq!(store.list_views(&boss, None).await.unwrap(), vec![kept.clone()]);
    assert_eq!(store.list_views(&bo, None).await.unwrap(), vec![bos.clone()]);

    let conn = raw(&db).await;
    let rows = conn
        .query_all(Query::select().column("version").from("seaql_migrations"))
        .await
        .expect("read the migration table");
    let versions: BTreeSet<String> =
        rows.iter().map(|r| r.try_get::<String>("", "version").expect("a version")).collect();
    let expected = [
        "migration",
        "m0002_saved_views",
        "m0003_page_indexes",
        "m0004_purchase_feed",
        "m0005_customer_insights",
        "m0006_history_trash",
        "m0007_external_ids",
        "m0008_duplicates",
        "m0009_jobs",
        "m0010_tickets",
        "m0011_login_attempts",
        "m0012_mail",
        "m0013_sla_events",
        "m0014_ticket_custom_fields",
        "m0015_ticket_queue_indexes",
        "m0017_feedback",
        "m0018_style_feedback",
        "m0019_goals",
        "m0020_search_folding",
        "m0021_board_sums",
        "m0022_custom_value_text",
        "m0023_birthday_addresses",
        "m0024_insight_generations",
        "m0025_contact_due",
        "m0026_deal_totals",
        "m0027_email_lower_index",
        "m0028_search_keys",
    ];
    assert_eq!(versions, expected.iter().map(|v| v.to_string()).collect::<BTreeSet<_>>());
    assert_eq!(rows.len(), expected.len(), "each migration recorded once");

    // The Store API deletes no users (only deactivates them); the schema still
    // says a deleted user's views go with them.
    store.deactivate_user(&boss, bo_user.id).await.expect("deactivate Bo");
    assert_eq!(store.list_views(&bo, None).await.unwrap(), vec![bos], "deactivating keeps the views");
    conn.execute(Query::delete().from_table("users").and_where(Expr::col("id").eq(bo_user.id.0)))
        .await
        .expect("delete a user with views");
    conn.close().await.expect("close the raw connection");
    assert_eq!(store.list_views(&bo, None).await.unwrap(), Vec::new(), "the views went with the user");
    assert_eq!(store.list_views(&boss, None).await.unwrap(), vec![kept], "other users' views stay");
}

/// m0020 makes every stored search document again: a person stored with a
/// document from before it (accents kept, no ranking key) is found by `zoe`
/// and `obrien` once it has run.
async fn search_folding_migration_rewrites_older_documents(backend: Backend) {
    let (db, store) = open(backend).await;
    let (_, boss) = admin(&store).await;
    let zoe = person(&store, &boss, person_input("Zoë", Some("O'Brien"))).await;
    let conn = raw(&db).await;
    conn.execute(
        Query::update().table("people").value("search_text", "zoë o brien").and_where(Expr::col("id").eq(zoe.id.0)),
    )
    .await
    .expect("write a document as made before m0020");
    let search = |q: &str| {
        let query = rapport_storage::ListQuery { q: Some(q.to_owned()), ..Default::default() };
        let store = &store;
        async move {
            let page = store.list_people(&query, &rapport_storage::PersonFilter::default()).await.expect("search");
            page.items.into_iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    assert!(search("zoe").await.is_empty(), "the older document does not fold accents");

    conn.execute(
        Query::delete().from_table("seaql_migrations").and_where(Expr::col("version").eq("m0020_search_folding")),
    )
    .await
    .expect("forget that m0020 ran");
    conn.close().await.expect("close the raw connection");
    store.migrate().await.expect("run m0020 again");
    assert_eq!(search("zoe").await, [zoe.id]);
    assert_eq!(search("obrien").await, [zoe.id]);
    assert_eq!(search("zoë o'brien").await, [zoe.id]);
}
