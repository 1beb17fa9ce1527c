//! Goals through the API: set for the business, a team or a person by whoever
//! may; read back with their figure per period, progress and forecast; bad
//! goals refused by field with nothing written; removed by whoever may.

use rapport_domain::Role;
use rapport_domain::jobs::JobStatus;
use rapport_domain::records::Person;
use rapport_storage::NewJob;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::common::{Api, Backend, TestApp, create_person_with, set_up_mail, wait_for_job, wait_for_mail};

backend_tests!(
    a_goal_reads_back_with_its_forecast,
    who_sets_sees_and_removes_goals,
    bad_goals_are_refused_by_field,
    the_review_is_each_viewers_own,
    last_months_review_is_emailed_once,
);

fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc() + Duration::days(days)).date().to_string()
}

/// Sets a goal and returns it.
async fn set_goal(api: &Api, body: Value) -> Value {
    api.post("/api/v1/style/goals", &body).await.want(201).value()
}

/// The goals the client sees, as (title, scope name) pairs, in due order.
async fn goals(api: &Api) -> Vec<Value> {
    api.get("/api/v1/style/goals").await.want(200).value()["items"].as_array().unwrap().clone()
}

async fn emails(api: &Api, person: &Person, inbound: usize, outbound: usize, days_ago: i64) {
    let at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(days_ago);
    for (i, direction) in
        std::iter::repeat_n("inbound", inbound).chain(std::iter::repeat_n("outbound", outbound)).enumerate()
    {
        let _: Value = api
            .create(
                "activities",
                json!({ "kind": "email", "direction": direction, "subject": "Order",
                        "occurred_at": (at + Duration::minutes(i as i64)).format(&Rfc3339).unwrap(),
                        "person_id": person.id }),
            )
            .await;
    }
}

async fn a_goal_reads_back_with_its_forecast(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ana, ana_api) = app.create_user(Role::Agent, None).await;
    let zoe = create_person_with(&ana_api, json!({ "first_name": "Zoë" })).await;
    // Ana's outbound share: 60 % a period ago, 80 % now.
    emails(&ana_api, &zoe, 4, 6, 45).await;
    emails(&ana_api, &zoe, 2, 8, 3).await;

    let goal = set_goal(
        &ana_api,
        json!({ "figure": "outbound_share", "scope": { "kind": "user", "user_id": ana.id },
                "target": 88, "due_on": in_days(15), "note": "More proactive" }),
    )
    .await;
    assert_eq!(goal["comparison"], "at_least", "the figure's better side");
    assert_eq!(goal["scope_name"], ana.fields.name.to_string());
    let listed = goals(&ana_api).await;
    assert_eq!(listed.len(), 1);
    let progress = &listed[0];
    assert_eq!(progress["goal"]["id"], goal["id"]);
    assert_eq!(progress["title"], format!("Outbound touches ≥ 88 by {}", in_days(15)));
    assert_eq!(progress["days_left"], 15);
    let points: Vec<(f64, f64)> = progress["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["day"].as_f64().unwrap(), p["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(points, [(-30.0, 60.0), (0.0, 80.0)]);
    // +20 a month: 90 in 15 days, on track for 88; 20 of the 28 points from 60 to 88 done.
    let forecast = &progress["forecast"];
    assert!((forecast["forecast"].as_f64().unwrap() - 90.0).abs() < 1e-9);
    assert_eq!(forecast["status"], "on_track");
    assert!((forecast["progress"].as_f64().unwrap() - 20.0 / 28.0 * 100.0).abs() < 1e-9);
    assert!((forecast["per_month"].as_f64().unwrap() - 20.0).abs() < 1e-9);

    // A lower-is-better figure with no data yet.
    let response =
        set_goal(&app.admin, json!({ "figure": "first_response_hours", "target": 4, "due_on": in_days(90) })).await;
    assert_eq!(response["comparison"], "at_most");
    assert_eq!(response["scope"], json!({ "kind": "business" }));
    let all = goals(&app.admin).await;
    let business = all.iter().find(|g| g["goal"]["id"] == response["id"]).unwrap();
    assert_eq!(business["forecast"]["status"], "no_data");
    assert_eq!(business["forecast"]["current"], Value::Null);
}

async fn who_sets_sees_and_removes_goals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let care = app.create_team("Care").await;
    let sales = app.create_team("Sales").await;
    let (_boss, boss_api) = app.create_user(Role::Manager, Some(care.id)).await;
    let (ana, ana_api) = app.create_user(Role::Agent, Some(care.id)).await;
    let (bo, bo_api) = app.create_user(Role::Agent, Some(sales.id)).await;
    let (_viewer, viewer_api) = app.create_user(Role::Viewer, Some(care.id)).await;
    let nps = |scope: Value| json!({ "figure": "nps", "scope": scope, "target": 50, "due_on": in_days(60) });

    boss_api.post("/api/v1/style/goals", &nps(json!({ "kind": "business" }))).await.want_error(403, "forbidden");
    boss_api
        .post("/api/v1/style/goals", &nps(json!({ "kind": "team", "team_id": sales.id })))
        .await
        .want_error(403, "forbidden");
    ana_api
        .post("/api/v1/style/goals", &nps(json!({ "kind": "user", "user_id": bo.id })))
        .await
        .want_error(403, "forbidden");
    viewer_api
        .post("/api/v1/style/goals", &nps(json!({ "kind": "user", "user_id": _viewer.id })))
        .await
        .want_error(403, "forbidden");
    let business = set_goal(&app.admin, nps(json!({ "kind": "business" }))).await;
    let care_goal = set_goal(&boss_api, nps(json!({ "kind": "team", "team_id": care.id }))).await;
    let anas = set_goal(&ana_api, nps(json!({ "kind": "user", "user_id": ana.id }))).await;
    let bos = set_goal(&bo_api, nps(json!({ "kind": "user", "user_id": bo.id }))).await;

    let ids = |list: Vec<Value>| {
        let mut ids: Vec<String> = list.iter().map(|g| g["goal"]["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let expect = |goals: &[&Value]| {
        let mut ids: Vec<String> = goals.iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(goals(&ana_api).await), expect(&[&business, &care_goal, &anas]));
    assert_eq!(ids(goals(&boss_api).await), expect(&[&business, &care_goal, &anas]));
    assert_eq!(ids(goals(&bo_api).await), expect(&[&business, &bos]));
    assert_eq!(ids(goals(&app.admin).await).len(), 4);

    let path = |goal: &Value| format!("/api/v1/style/goals/{}", goal["id"].as_str().unwrap());
    ana_api.delete(&path(&care_goal)).await.want_error(403, "forbidden");
    ana_api.delete(&path(&bos)).await.want_error(404, "not_found");
    boss_api.delete(&path(&anas)).await.want(204);
    ana_api.delete("/api/v1/style/goals/not-an-id").await.want_error(404, "not_found");
    assert_eq!(ids(goals(&ana_api).await), expect(&[&business, &care_goal]));
}

async fn bad_goals_are_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let refuse = |body: Value, field: &'static str| {
        let admin = &app.admin;
        async move {
            let error = admin.post("/api/v1/style/goals", &body).await.want_error(422, "validation");
            assert!(error.field(field).is_some(), "{field} in {error:?} for {body}");
        }
    };
    refuse(json!({ "figure": "charm", "target": 1, "due_on": in_days(5) }), "figure").await;
    refuse(json!({ "figure": "tasks_on_time", "target": 120, "due_on": in_days(5) }), "target").await;
    refuse(json!({ "figure": "nps", "target": 10, "due_on": in_days(0) }), "due_on").await;
    refuse(json!({ "figure": "nps", "target": 10, "due_on": "next june" }), "due_on").await;
    refuse(json!({ "figure": "nps", "target": 10, "due_on": in_days(5), "owner": "me" }), "owner").await;
    refuse(json!({ "figure": "nps", "target": 10, "due_on": in_days(5), "scope": { "kind": "team", "team_id": uuid::Uuid::nil() } }), "scope.team_id").await;
    assert!(goals(&app.admin).await.is_empty(), "nothing was written");
}

async fn the_review_is_each_viewers_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let care = app.create_team("Care").await;
    let (_boss, boss_api) = app.create_user(Role::Manager, Some(care.id)).await;
    let (ana, ana_api) = app.create_user(Role::Agent, Some(care.id)).await;
    let zoe = create_person_with(&ana_api, json!({ "first_name": "Zoë" })).await;
    // Ana's outbound share moves from 50 % to 90 % between the last two 30-day stretches.
    emails(&ana_api, &zoe, 5, 5, 40).await;
    emails(&ana_api, &zoe, 1, 9, 2).await;

    let this_month = OffsetDateTime::now_utc().date().replace_day(1).unwrap();
    let label = format!("{}-{:02}", this_month.year(), u8::from(this_month.month()));
    let review = app.admin.get(&format!("/api/v1/style/review?month={label}")).await.want(200).value();
    assert_eq!(review["month"], label);
    assert_eq!(review["scope"], json!({ "kind": "business" }));
    assert!(review["customers"]["won_back"].is_u64() && review["themes"].is_array());
    let team = boss_api.get("/api/v1/style/review").await.want(200).value();
    assert_eq!(team["scope"], json!({ "kind": "team", "team_id": care.id }));
    assert_eq!(team["scope_name"], "Care");
    let own = ana_api.get("/api/v1/style/review").await.want(200).value();
    assert_eq!(own["scope"], json!({ "kind": "user", "user_id": ana.id }));

    for (month, message) in [
        ("2026-13", "expected a month such as 2026-11"),
        ("next", "expected a month such as 2026-11"),
        ("2999-01", "must not be after this month"),
    ] {
        let error = ana_api.get(&format!("/api/v1/style/review?month={month}")).await.want_error(422, "validation");
        assert_eq!(error.field("month"), Some(message), "{month}");
    }
    ana_api.get("/api/v1/style/review?months=2026-01").await.want_error(422, "validation");
}

/// The `style.review` job emails last month's review through the outbox
/// and a real SMTP server, to the admin (the business's) and to a manager
/// (their team's), once however often it runs.
async fn last_months_review_is_emailed_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let care = app.create_team("Care").await;
    let (boss, boss_api) = app.create_user(Role::Manager, Some(care.id)).await;
    // Goals give the reviews something to tell.
    set_goal(&app.admin, json!({ "figure": "outbound_share", "target": 80, "due_on": in_days(60) })).await;
    let team = json!({ "kind": "team", "team_id": care.id });
    set_goal(&boss_api, json!({ "figure": "nps", "scope": team, "target": 50, "due_on": in_days(60) })).await;
    let smtp = set_up_mail(&app).await;
    let mut results = Vec::new();
    for _ in 0..2 {
        let job = app.store.enqueue_job(NewJob::new("style.review", json!(null))).await.unwrap().expect("added");
        results.push(wait_for_job(&app.admin, job.id, JobStatus::Done).await.result.expect("a result"));
    }
    let month = OffsetDateTime::now_utc().date().replace_day(1).unwrap().previous_day().unwrap();
    let label = format!("{}-{:02}", month.year(), u8::from(month.month()));
    // The reviews may have gone out by the job that runs at start-up: then both say so.
    assert!(results.iter().all(|r| r["month"] == label.as_str()), "{results:?}");
    assert_eq!(results[1], json!({ "month": label, "sent": 0, "already": true }), "{results:?}");

    let messages: Vec<String> =
        wait_for_mail(&smtp, 2).await.iter().map(|m| m.replace("=\r\n", "").replace("=\n", "")).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let to = |email: &str| {
        messages.iter().find(|m| m.contains(&format!("To: {email}"))).unwrap_or_else(|| panic!("none to {email}"))
    };
    let business = to(app.admin_user.fields.email.as_str());
    assert!(business.contains(&format!("Style review for {label}: The business")), "{business}");
    assert!(business.contains("Outbound touches"), "the business's goal: {business}");
    let care_review = to(boss.fields.email.as_str());
    assert!(care_review.contains(&format!("Style review for {label}: Care")), "{care_review}");
    assert!(care_review.contains("NPS"), "the team's goal: {care_review}");
    // Nothing more arrives.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 2);
}
