//! Staff scorecards kept by a node, over a real database on SQLite and
//! PostgreSQL: a kept set is served until it is too old, then computed
//! again; who may see a kept card is judged by the staff as they are now;
//! and a keep-in-touch cadence counts as kept only when the customer was
//! touched within their cadence before the period's end.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::time::Duration as StdDuration;

use common::{open, staff, user_input};

use rapport_domain::records::{ActivityInput, ActivityKind, Direction, Links, PersonInput, UserInput};
use rapport_domain::style::Figure;
use rapport_domain::text::Name;
use rapport_domain::{Actor, PersonId, Role, TeamId};
use rapport_reports::scorecards::{ScorecardCache, ScorecardReport, StyleScope, scorecard_report};
use rapport_storage::Store;
use rapport_testing::Backend;
use time::{Duration, OffsetDateTime};

backend_tests!(kept_scorecards_are_served_until_too_old, a_cadence_is_kept_by_a_touch_within_it);

async fn team(store: &Store, admin: &Actor, name: &str) -> TeamId {
    let input = serde_json::from_value(serde_json::json!({ "name": name })).unwrap();
    store.create_team(admin, input).await.expect("a team").id
}

async fn customer(store: &Store, admin: &Actor, owner: &Actor, keep_in_touch_days: Option<i32>) -> PersonId {
    let input: PersonInput = serde_json::from_value(serde_json::json!({
        "first_name": "Ida", "lifecycle_stage": "customer", "owner_id": owner.user_id,
        "keep_in_touch_days": keep_in_touch_days,
    }))
    .unwrap();
    store.create_person(admin, input).await.expect("a person").id
}

async fn call(store: &Store, admin: &Actor, author: &Actor, person: PersonId, at: OffsetDateTime) {
    let input = ActivityInput {
        kind: ActivityKind::Call,
        direction: Some(Direction::Outbound),
        occurred_at: Some(at),
        subject: Some(Name::try_from("Check-in").unwrap()),
        body: None,
        author_id: Some(author.user_id),
        links: Links { person_id: Some(person), company_id: None, deal_id: None },
    };
    store.create_activities(admin, vec![input]).await.expect("a call");
}

fn period() -> (OffsetDateTime, OffsetDateTime) {
    let to = (OffsetDateTime::now_utc().date() + Duration::days(1)).midnight().assume_utc();
    (to - Duration::days(30), to)
}

fn touches(report: &ScorecardReport) -> Option<f64> {
    let card = report.scorecards.first().expect("a card");
    card.figures.iter().find(|f| f.figure == Figure::TouchesPerCustomer).expect("the figure").value
}

fn emails(report: &ScorecardReport) -> Vec<&str> {
    report.scorecards.iter().map(|c| c.email.as_str()).collect()
}

async fn kept_scorecards_are_served_until_too_old(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let north = team(&store, &admin, "North").await;
    let south = team(&store, &admin, "South").await;
    let boss = staff(&store, "Boss", Role::Manager, Some(north)).await;
    let ana = staff(&store, "Ana", Role::Agent, Some(north)).await;
    let ida = customer(&store, &admin, &ana, None).await;
    let (from, to) = period();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    call(&store, &admin, &ana, ida, now - Duration::days(2)).await;

    let kept = ScorecardCache::new(StdDuration::from_secs(3600));
    let ana_only = StyleScope::User(ana.user_id);
    let first = kept.report(&store, &admin, ana_only, from, to).await.unwrap();
    assert_eq!(touches(&first), Some(1.0));

    // A second call: the kept figures stay as they were, computed once.
    call(&store, &admin, &ana, ida, now - Duration::days(1)).await;
    let again = kept.report(&store, &admin, ana_only, from, to).await.unwrap();
    assert_eq!(again.computed_at, first.computed_at);
    assert_eq!(touches(&again), Some(1.0), "served from what was kept");
    assert_eq!(touches(&scorecard_report(&store, &admin, ana_only, from, to).await.unwrap()), Some(2.0));

    // Kept for no time at all: computed on every request.
    let fresh = ScorecardCache::new(StdDuration::ZERO);
    assert_eq!(touches(&fresh.report(&store, &admin, ana_only, from, to).await.unwrap()), Some(2.0));

    // Ana moves to the South team: the North manager no longer sees her
    // kept card, and she is shown in her new team.
    assert_eq!(emails(&kept.report(&store, &boss, StyleScope::Visible, from, to).await.unwrap()).len(), 2);
    store.update_user(&admin, ana.user_id, user_input("Ana", Role::Agent, Some(south)), None, None).await.unwrap();
    let seen = kept.report(&store, &boss, StyleScope::Visible, from, to).await.unwrap();
    assert_eq!(emails(&seen), vec!["boss@example.com"]);
    let south_cards = kept.report(&store, &admin, StyleScope::Team(south), from, to).await.unwrap();
    assert_eq!(emails(&south_cards), vec!["ana@example.com"]);

    // Someone who left is not shown either.
    store
        .update_user(
            &admin,
            boss.user_id,
            UserInput { active: false, ..user_input("Boss", Role::Manager, Some(north)) },
            None,
            None,
        )
        .await
        .unwrap();
    let everyone = kept.report(&store, &admin, StyleScope::Visible, from, to).await.unwrap();
    assert_eq!(emails(&everyone), vec!["admin@example.com", "ana@example.com"]);
}

async fn a_cadence_is_kept_by_a_touch_within_it(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let ana = staff(&store, "Ana", Role::Agent, None).await;
    let (from, to) = period();
    // Every 30 days: touched 10 days before the period's end (kept), 40 days
    // before (not kept), never (not kept); every 90 days: touched 60 days before (kept).
    for (cadence, days_before_end) in [(30, Some(10)), (30, Some(40)), (30, None), (90, Some(60))] {
        let person = customer(&store, &admin, &ana, Some(cadence)).await;
        if let Some(days) = days_before_end {
            call(&store, &admin, &ana, person, to - Duration::days(days)).await;
        }
    }
    let report = scorecard_report(&store, &admin, StyleScope::User(ana.user_id), from, to).await.unwrap();
    let card = report.scorecards.first().expect("Ana's card");
    let kept = card.figures.iter().find(|f| f.figure == Figure::CadenceKept).unwrap();
    assert_eq!((kept.value, kept.cases), (Some(50.0), 4));
}
