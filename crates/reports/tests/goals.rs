//! Goals and the monthly review over a real database, on SQLite and
//! PostgreSQL: a figure measured per 30-day period for the business, a team
//! and a staff member, against values worked out by hand, with the forecast
//! from its trend; who may set and see which goal; the review's figures
//! that moved, its customers won back and lost, and its one email per month.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{open, staff};

use rapport_domain::goals::{Comparison, GoalInput, GoalScope};
use rapport_domain::records::{ActivityInput, ActivityKind, Direction, Links, PersonInput, PurchaseInput, TeamInput};
use rapport_domain::style::Figure;
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role};
use rapport_insights::goals::GoalStatus;
use rapport_reports::goals::goal_report;
use rapport_reports::review::{month_start, monthly_review, previous_month};
use rapport_storage::{StorageError, Store};
use rapport_testing::Backend;
use time::{Duration, OffsetDateTime};

backend_tests!(
    a_goal_follows_its_figure_per_period_and_forecasts_the_trend,
    who_sets_and_sees_which_goal,
    the_review_tells_what_moved_and_who_came_back_or_left,
);

async fn customer(store: &Store, admin: &Actor) -> PersonId {
    let input: PersonInput = serde_json::from_value(serde_json::json!({ "first_name": "Ida" })).unwrap();
    store.create_person(admin, input).await.expect("a person").id
}

/// `inbound` and `outbound` emails by `author` with `person`, `days_ago`.
async fn touches(
    store: &Store,
    admin: &Actor,
    author: &Actor,
    person: PersonId,
    days_ago: i64,
    inbound: usize,
    outbound: usize,
) {
    let at = (OffsetDateTime::now_utc() - Duration::days(days_ago)).replace_nanosecond(0).unwrap();
    touches_at(store, admin, author, person, at, inbound, outbound).await;
}

/// `inbound` and `outbound` emails by `author` with `person`, from `at`.
async fn touches_at(
    store: &Store,
    admin: &Actor,
    author: &Actor,
    person: PersonId,
    at: OffsetDateTime,
    inbound: usize,
    outbound: usize,
) {
    let input = |direction, i: usize| ActivityInput {
        kind: ActivityKind::Email,
        direction: Some(direction),
        occurred_at: Some(at + Duration::minutes(i as i64)),
        subject: Some(Name::try_from("Order").unwrap()),
        body: None,
        author_id: Some(author.user_id),
        links: Links { person_id: Some(person), company_id: None, deal_id: None },
    };
    let mut all: Vec<ActivityInput> = (0..inbound).map(|i| input(Direction::Inbound, i)).collect();
    all.extend((0..outbound).map(|i| input(Direction::Outbound, inbound + i)));
    store.create_activities(admin, all).await.expect("touches");
}

async fn a_goal_follows_its_figure_per_period_and_forecasts_the_trend(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let team = store.create_team(&admin, TeamInput { name: Name::try_from("North").unwrap() }).await.unwrap().id;
    let ann = staff(&store, "Ann", Role::Agent, Some(team)).await;
    let ben = staff(&store, "Ben", Role::Agent, None).await;
    let person = customer(&store, &admin).await;
    // Ann's outbound share: 5 of 10 two periods ago, 7 of 10 one period ago, 9 of 10 now.
    touches(&store, &admin, &ann, person, 75, 5, 5).await;
    touches(&store, &admin, &ann, person, 45, 3, 7).await;
    touches(&store, &admin, &ann, person, 5, 1, 9).await;
    // Ben, outside the team: 10 of 10 now (in the business's figure only).
    touches(&store, &admin, &ben, person, 5, 0, 10).await;

    let due = |days| (OffsetDateTime::now_utc() + Duration::days(days)).date();
    let goal = |scope, target, days| GoalInput {
        figure: Figure::OutboundShare,
        scope,
        comparison: None,
        target,
        due_on: due(days),
        note: None,
    };
    store.create_goal(&admin, goal(GoalScope::User { user_id: ann.user_id }, 95.0, 10)).await.unwrap();
    store.create_goal(&admin, goal(GoalScope::Team { team_id: team }, 99.0, 20)).await.unwrap();
    store.create_goal(&admin, goal(GoalScope::Business, 90.0, 30)).await.unwrap();

    let today = OffsetDateTime::now_utc().date();
    let report = goal_report(&store, &admin, today).await.unwrap();
    assert_eq!(report.len(), 3);
    let [anns, teams, business] = [&report[0], &report[1], &report[2]];
    assert_eq!(anns.goal.scope_name, "Ann");
    assert_eq!(anns.goal.comparison, Comparison::AtLeast);
    let values: Vec<(f64, f64)> = anns.points.iter().map(|p| (p.day, p.value)).collect();
    assert_eq!(values, [(-60.0, 50.0), (-30.0, 70.0), (0.0, 90.0)]);
    // +20 points a month: 96.7 in 10 days, on track for 95.
    let ahead = anns.forecast.forecast.unwrap();
    assert!((ahead - (90.0 + 20.0 / 3.0)).abs() < 1e-9, "{ahead}");
    assert_eq!(anns.forecast.status, GoalStatus::OnTrack);
    assert!((anns.forecast.progress.unwrap() - 40.0 / 45.0 * 100.0).abs() < 1e-9);
    // The team is Ann alone: 90 + 20 × 20/30 = 103.3 in 20 days, kept at 100.
    assert_eq!(teams.points.len(), 3);
    assert_eq!(teams.forecast.forecast, Some(100.0));
    assert_eq!(teams.forecast.status, GoalStatus::OnTrack);
    // The business adds Ben now: 19 of 20 = 95 %.
    let latest = business.points.last().unwrap();
    assert_eq!((latest.day, latest.value), (0.0, 95.0));
    assert_eq!(business.forecast.current, Some(95.0));
    assert_eq!(business.title, format!("Outbound touches ≥ 90 by {}", due(30)));
}

async fn who_sets_and_sees_which_goal(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let north = store.create_team(&admin, TeamInput { name: Name::try_from("North").unwrap() }).await.unwrap().id;
    let south = store.create_team(&admin, TeamInput { name: Name::try_from("South").unwrap() }).await.unwrap().id;
    let manager = staff(&store, "Manager", Role::Manager, Some(north)).await;
    let ann = staff(&store, "Ann", Role::Agent, Some(north)).await;
    let sam = staff(&store, "Sam", Role::Agent, Some(south)).await;
    let due = (OffsetDateTime::now_utc() + Duration::days(60)).date();
    let goal =
        |scope| GoalInput { figure: Figure::Nps, scope, comparison: None, target: 50.0, due_on: due, note: None };

    let denied = store.create_goal(&manager, goal(GoalScope::Business)).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    let denied = store.create_goal(&manager, goal(GoalScope::Team { team_id: south })).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    let denied = store.create_goal(&ann, goal(GoalScope::User { user_id: sam.user_id })).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    let business = store.create_goal(&admin, goal(GoalScope::Business)).await.unwrap();
    let norths = store.create_goal(&manager, goal(GoalScope::Team { team_id: north })).await.unwrap();
    let anns = store.create_goal(&ann, goal(GoalScope::User { user_id: ann.user_id })).await.unwrap();
    let sams = store.create_goal(&admin, goal(GoalScope::User { user_id: sam.user_id })).await.unwrap();
    let bad = GoalInput { target: 150.0, ..goal(GoalScope::Business) };
    assert!(matches!(store.create_goal(&admin, bad).await, Err(StorageError::Invalid(_))));

    let ids = |goals: Vec<rapport_domain::goals::Goal>| {
        let mut ids: Vec<_> = goals.into_iter().map(|g| g.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<rapport_domain::GoalId>| {
        v.sort();
        v
    };
    assert_eq!(ids(store.goals(&ann).await.unwrap()), sorted(vec![business.id, norths.id, anns.id]));
    assert_eq!(ids(store.goals(&manager).await.unwrap()), sorted(vec![business.id, norths.id, anns.id]));
    assert_eq!(ids(store.goals(&sam).await.unwrap()), sorted(vec![business.id, sams.id]));
    assert_eq!(ids(store.goals(&admin).await.unwrap()).len(), 4);

    assert!(matches!(store.delete_goal(&ann, norths.id).await, Err(StorageError::Denied(_))));
    assert!(matches!(store.delete_goal(&ann, sams.id).await, Err(StorageError::NotFound(_))));
    store.delete_goal(&manager, anns.id).await.unwrap();
    assert_eq!(ids(store.goals(&ann).await.unwrap()), sorted(vec![business.id, norths.id]));
}

async fn the_review_tells_what_moved_and_who_came_back_or_left(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ann = staff(&store, "Ann", Role::Agent, None).await;
    let today = OffsetDateTime::now_utc().date();
    let month = previous_month(month_start(today));
    let before = previous_month(month);
    let noon = |day: time::Date| day.midnight().assume_utc() + Duration::hours(12);
    let person = |name: &str| serde_json::from_value::<PersonInput>(serde_json::json!({ "first_name": name })).unwrap();
    let back = store.create_person(&admin, person("Back")).await.unwrap().id;
    let gone = store.create_person(&admin, person("Gone")).await.unwrap().id;
    let steady = store.create_person(&admin, person("Steady")).await.unwrap().id;
    // Ann's outbound share: 5 of 10 the month before, 9 of 10 in the month.
    touches_at(&store, &admin, &ann, steady, noon(before + Duration::days(9)), 5, 5).await;
    touches_at(&store, &admin, &ann, steady, noon(month + Duration::days(9)), 1, 9).await;

    // Back bought 200 days before the month and again in it; Gone last
    // bought 80 days before the month, so 90 days ran out in it; Steady buys
    // every 20 days.
    let eur = Currency::parse("EUR").unwrap();
    let buy = |person_id, day: time::Date| PurchaseInput {
        person_id,
        occurred_at: noon(day),
        amount: Money::new(1000, eur),
        reference: None,
        description: None,
    };
    let mut purchases = vec![buy(back, month - Duration::days(200)), buy(back, month + Duration::days(3))];
    purchases.push(buy(gone, month - Duration::days(80)));
    for k in 0..8 {
        purchases.push(buy(steady, month - Duration::days(100) + Duration::days(20 * k)));
    }
    store.create_purchases(&admin, purchases).await.unwrap();

    let review = monthly_review(&store, &admin, month, today, 90).await.unwrap();
    assert_eq!(review.month, format!("{}-{:02}", month.year(), u8::from(month.month())));
    assert_eq!(review.scope_name, "The business");
    let improved: Vec<(Figure, f64, f64)> = review.improved.iter().map(|c| (c.figure, c.before, c.now)).collect();
    assert_eq!(improved, [(Figure::OutboundShare, 50.0, 90.0)]);
    assert!(review.worse.is_empty(), "{:?}", review.worse);
    assert_eq!((review.customers.won_back, review.customers.lost), (1, 1));
    assert_eq!(review.customers.won_back_named[0].name, "Back");
    assert_eq!(review.customers.lost_named[0].name, "Gone");

    // Ann's own review has her figures; the customers are the business's.
    let own = monthly_review(&store, &ann, month, today, 90).await.unwrap();
    assert_eq!(own.scope_name, "Ann");
    assert_eq!(own.improved.len(), 1);

    // Mailed once per month, however often the job asks.
    let label = review.month.clone();
    let mail = |to: &str| rapport_storage::ReviewMail {
        to: Email::parse(to).unwrap(),
        subject: format!("Style review for {label}"),
        body: "…".into(),
    };
    assert_eq!(store.style_review_sent().await.unwrap(), None);
    assert!(store.queue_style_reviews(&label, "shop.example", vec![mail("boss@example.com")]).await.unwrap());
    assert!(!store.queue_style_reviews(&label, "shop.example", vec![mail("boss@example.com")]).await.unwrap());
    assert_eq!(store.style_review_sent().await.unwrap(), Some(label));
}
