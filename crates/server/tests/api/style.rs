//! Staff scorecards through the API: figures read back from tasks,
//! touches and deals as the hand counts say, and who may see whose.

use rapport_domain::Role;
use rapport_domain::records::{Deal, Person};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::common::{Api, Backend, TestApp, create_deal, create_person_with, create_sales_pipeline};

backend_tests!(
    a_scorecard_counts_what_the_staff_member_did,
    scorecards_follow_the_role_rules,
    bad_scorecard_queries_are_refused,
);

fn stamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

/// The scorecard's figure `key`: (value, cases, enough).
fn figure(card: &Value, key: &str) -> (Option<f64>, u64, bool) {
    let row = card["figures"].as_array().unwrap().iter().find(|f| f["figure"] == key).expect(key);
    (row["value"].as_f64(), row["cases"].as_u64().unwrap(), row["enough"].as_bool().unwrap())
}

fn has(error: &crate::common::ApiError, field: &str) -> bool {
    error.fields.as_ref().is_some_and(|fields| fields.contains_key(field))
}

fn names(report: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        report["scorecards"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

async fn touch(api: &Api, person: &Person, kind: &str, direction: &str, at: OffsetDateTime) {
    let _: Value = api
        .create(
            "activities",
            json!({ "kind": kind, "direction": direction, "occurred_at": stamp(at), "subject": "Touch", "person_id": person.id }),
        )
        .await;
}

async fn a_scorecard_counts_what_the_staff_member_did(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.create_team("Care").await;
    let (ana, ana_api) = app.create_user(Role::Agent, Some(team.id)).await;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();

    // Tasks: one done before it fell due, one done late, one dropped; one
    // not due yet counts for nothing.
    for (due, done) in [(Duration::days(2), true), (-Duration::days(2), true), (-Duration::days(1), false)] {
        let _: Value =
            ana_api.create("tasks", json!({ "title": "Call back", "due_at": stamp(now + due), "done": done })).await;
    }
    let _: Value = ana_api.create("tasks", json!({ "title": "Later", "due_at": stamp(now + Duration::days(3)) })).await;

    // Touches with one customer who prefers the phone: her email in, Ana's
    // call 4 hours later, Ana's email the next day.
    let zoe = create_person_with(
        &ana_api,
        json!({ "first_name": "Zoë", "lifecycle_stage": "customer", "owner_id": ana.id,
                "preferences": { "preferred_channel": "phone" } }),
    )
    .await;
    touch(&ana_api, &zoe, "email", "inbound", now - Duration::days(3)).await;
    touch(&ana_api, &zoe, "call", "outbound", now - Duration::days(3) + Duration::hours(4)).await;
    touch(&ana_api, &zoe, "email", "outbound", now - Duration::days(2)).await;
    touch(&ana_api, &zoe, "note", "internal", now - Duration::days(2)).await;

    // A deal won.
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&ana_api, &pipeline, "Renewal", json!({ "person_id": zoe.id, "owner_id": ana.id })).await;
    let _: Deal = ana_api.update("deals", deal.id, json!({ "status": "won" })).await;

    let period = format!("from={}&to={}", (now - Duration::days(10)).date(), (now + Duration::days(10)).date());
    let report = ana_api.get(&format!("/api/v1/style/scorecards?{period}")).await.want(200).value();
    assert_eq!(names(&report), vec![ana.fields.email.to_string()], "an agent sees their own");
    let card = &report["scorecards"][0];
    assert_eq!(card["team"], "Care");
    let third = Some(100.0 / 3.0);
    assert_eq!(figure(card, "tasks_on_time"), (third, 3, false), "3 cases are too few to rank");
    assert_eq!(figure(card, "tasks_late").0, third);
    assert_eq!(figure(card, "tasks_dropped").0, third);
    assert_eq!(figure(card, "outbound_share"), (Some(200.0 / 3.0), 3, false));
    assert_eq!(figure(card, "reached_out_first"), (Some(0.0), 2, false), "both answered her email");
    assert_eq!(figure(card, "inbound_reply_hours"), (Some(4.0), 1, false));
    assert_eq!(figure(card, "touches_per_customer"), (Some(3.0), 1, false));
    assert_eq!(figure(card, "channel_variety").0, Some(2.0));
    assert_eq!(figure(card, "preferred_channel").0, third, "one of three touches by phone");
    assert_eq!(figure(card, "win_rate"), (Some(100.0), 1, false));
    assert_eq!(figure(card, "churned_share"), (Some(0.0), 1, false));
    assert_eq!(figure(card, "nps"), (None, 0, false));
    let on_time = card["figures"].as_array().unwrap().iter().find(|f| f["figure"] == "tasks_on_time").unwrap();
    assert!(on_time["definition"].as_str().unwrap().contains("done by the time they were due"));
    assert_eq!(on_time["rank"], Value::Null, "too few cases: no rank");
    assert_eq!(on_time["trend"].as_array().unwrap().len(), 4, "three periods before and this one");
    assert_eq!(on_time["trend"][3].as_f64(), third);
    assert_eq!(on_time["trend"][0], Value::Null);
    assert!(card["dimensions"].as_array().unwrap().iter().all(|d| d["score"].is_null()), "nothing ranked yet");
}

async fn scorecards_follow_the_role_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let care = app.create_team("Care").await;
    let sales = app.create_team("Sales").await;
    let (boss, boss_api) = app.create_user(Role::Manager, Some(care.id)).await;
    let (ana, ana_api) = app.create_user(Role::Agent, Some(care.id)).await;
    let (bo, _) = app.create_user(Role::Agent, Some(sales.id)).await;
    let (viewer, viewer_api) = app.create_user(Role::Viewer, Some(care.id)).await;

    let everyone = names(&app.admin.get("/api/v1/style/scorecards").await.want(200).value());
    for user in [&boss, &ana, &bo, &viewer] {
        assert!(everyone.contains(&user.fields.email.to_string()), "the admin sees {}", user.fields.email);
    }
    let team = names(&boss_api.get("/api/v1/style/scorecards").await.want(200).value());
    let mut care_members =
        vec![boss.fields.email.to_string(), ana.fields.email.to_string(), viewer.fields.email.to_string()];
    care_members.sort();
    assert_eq!(team, care_members, "a manager sees their team");
    let sales_cards = boss_api.get(&format!("/api/v1/style/scorecards?team_id={}", sales.id)).await.want(200).value();
    assert_eq!(names(&sales_cards), Vec::<String>::new(), "not another team's");
    boss_api.get(&format!("/api/v1/style/scorecards?user_id={}", bo.id)).await.want_error(404, "not_found");
    boss_api.get(&format!("/api/v1/style/scorecards?user_id={}", ana.id)).await.want(200);
    ana_api.get(&format!("/api/v1/style/scorecards?user_id={}", boss.id)).await.want_error(404, "not_found");
    assert_eq!(
        names(&viewer_api.get("/api/v1/style/scorecards").await.want(200).value()),
        vec![viewer.fields.email.to_string()]
    );
    app.anonymous().get("/api/v1/style/scorecards").await.want(401);
}

async fn bad_scorecard_queries_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = &app.admin;
    let error = admin.get("/api/v1/style/scorecards?from=2026-05-01&to=2026-04-01").await.want_error(422, "validation");
    assert!(has(&error, "from"), "{error:?}");
    let error = admin.get("/api/v1/style/scorecards?from=2024-01-01&to=2026-01-01").await.want_error(422, "validation");
    assert!(has(&error, "from"), "{error:?}");
    let error = admin.get("/api/v1/style/scorecards?from=yesterday").await.want(422).error();
    assert!(has(&error, "from"), "{error:?}");
    let team = app.create_team("Care").await;
    let (user, _) = app.create_user(Role::Agent, Some(team.id)).await;
    let both = format!("/api/v1/style/scorecards?user_id={}&team_id={}", user.id, team.id);
    assert!(has(&admin.get(&both).await.want(422).error(), "team_id"));
    admin.get("/api/v1/style/scorecards?user_id=nope").await.want(422);
    admin.get("/api/v1/style/scorecards?colour=blue").await.want(422);
}
