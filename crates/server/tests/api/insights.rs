//! Insights through the API: reports the job computed (not the request),
//! each customer's insights, segments as a people filter, churn under other
//! definitions, and refused parameters.

use rapport_domain::records::Person;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::common::{Backend, TestApp, create_person, create_person_with, create_purchase, rfc3339};

backend_tests!(reports_come_from_the_job_and_follow_new_purchases, churn_parameters_are_checked);

fn days_ago(days: i64) -> String {
    rfc3339(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(days))
}

/// Twelve customers: customer `i` bought `i + 1` times, the last time `10 * i`
/// days ago, each time for `10 + i` EUR; and one person who never bought.
async fn customers(app: &TestApp) -> (Vec<Person>, Person) {
    let mut people = Vec::new();
    for i in 0..12i64 {
        let source = if i % 2 == 0 { "Website" } else { "Event" };
        let person =
            create_person_with(&app.admin, json!({"first_name": format!("Buyer {i}"), "source": source})).await;
        for k in 0..=i {
            let at = days_ago(10 * i + 30 * k);
            let amount = json!({"amount": {"amount_minor": (10 + i) * 100, "currency": "EUR"}});
            create_purchase(&app.admin, person.id, &at, amount).await;
        }
        people.push(person);
    }
    let prospect = create_person(&app.admin, "Prospect").await;
    (people, prospect)
}

fn segment_total(report: &Value, field: &str) -> i64 {
    report["segments"].as_array().expect("segments").iter().map(|s| s[field].as_i64().expect("a number")).sum()
}

async fn reports_come_from_the_job_and_follow_new_purchases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.anonymous().get("/api/v1/insights/rfm").await.want(401);
    app.insights.refresh_if_changed().await.expect("compute the insights");
    let empty = app.admin.get("/api/v1/insights/rfm").await.want(200).value();
    assert_eq!(empty["report"], Value::Null, "no purchases, no report: {empty}");

    let (people, prospect) = customers(&app).await;
    app.insights.refresh_if_changed().await.expect("compute the insights");
    let version = app.store.insights_data_version().await.unwrap();

    let rfm = app.admin.get("/api/v1/insights/rfm").await.want(200).value();
    assert_eq!(rfm["version"], json!(version), "the report reflects the latest data");
    assert_eq!(rfm["stale"], json!(false));
    assert_eq!(rfm["scope"]["currency"], json!("EUR"));
    let report = &rfm["report"];
    assert_eq!(report["customers"], json!(12), "the prospect is not a customer");
    assert_eq!(segment_total(report, "customers"), 12);
    // Customer i spent (i + 1) * (10 + i) EUR.
    let spent: i64 = (0..12i64).map(|i| (i + 1) * (10 + i) * 100).sum();
    assert_eq!(report["total_value_minor"], json!(spent));
    assert_eq!(segment_total(report, "value_minor"), spent);

    // Served from the snapshot: asking again computes nothing new.
    let again = app.admin.get("/api/v1/insights/rfm").await.want(200).value();
    assert_eq!(again["computed_at"], rfm["computed_at"]);

    let cohorts = app.admin.get("/api/v1/insights/cohorts").await.want(200).value();
    assert_eq!(cohorts["report"]["customers"], json!(12));
    let referrals = app.admin.get("/api/v1/insights/referrals").await.want(200).value();
    assert_eq!(referrals["report"]["referrals"]["customers"], json!(12));
    let clv = app.admin.get("/api/v1/insights/clv").await.want(200).value();
    let fitted = &clv["report"]["clv"];
    assert!(
        fitted["model"]["bgnbd"]["params"]["r"].as_f64().is_some() || clv["report"]["error"].is_string(),
        "either a fit or the reason there is none: {clv}"
    );
    let overview = app.admin.get("/api/v1/insights").await.want(200).value();
    assert_eq!(overview["report"]["rfm"]["customers"], json!(12));
    assert_eq!(overview["report"]["settings"]["churn_days"], json!(180));

    // Each customer's insights, and the segment filter that lists them.
    let top = &people[11];
    let mine = app.admin.get(&format!("/api/v1/people/{}/insights", top.id)).await.want(200).value();
    let insight = &mine["insight"];
    assert_eq!(insight["frequency"], json!(12));
    assert_eq!(insight["monetary"]["amount_minor"], json!(25_200));
    let segment = insight["segment"].as_str().expect("a segment").to_owned();
    let listed = app.admin.get(&format!("/api/v1/people?segment={segment}&limit=100")).await.want(200).value();
    let listed: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert!(listed.contains(&top.id.to_string().as_str()), "{segment} lists its member");
    for person in &people {
        let theirs = app.admin.get(&format!("/api/v1/people/{}/insights", person.id)).await.want(200).value();
        let same = theirs["insight"]["segment"].as_str() == Some(segment.as_str());
        assert_eq!(listed.contains(&person.id.to_string().as_str()), same, "the filter matches the stored segment");
    }
    let none = app.admin.get(&format!("/api/v1/people/{}/insights", prospect.id)).await.want(200).value();
    assert_eq!(none["insight"], Value::Null);
    app.admin.get(&format!("/api/v1/people/{}/insights", uuid::Uuid::now_v7())).await.want(404);
    app.admin.get("/api/v1/people/not-an-id/insights").await.want_error(404, "not_found");
    let bad = app.admin.get("/api/v1/people?segment=best").await.want(422).error();
    assert!(bad.field("segment").is_some(), "the refused filter is named: {bad:?}");

    // A new purchase makes the snapshot stale until the job has run again.
    create_purchase(&app.admin, prospect.id, &days_ago(1), json!({})).await;
    assert!(app.store.insights_data_version().await.unwrap() > version);
    app.insights.refresh_if_changed().await.expect("compute the insights");
    let rfm = app.admin.get("/api/v1/insights/rfm").await.want(200).value();
    assert_eq!(rfm["report"]["customers"], json!(13));
    let newcomer = app.admin.get(&format!("/api/v1/people/{}/insights", prospect.id)).await.want(200).value();
    assert_eq!(newcomer["insight"]["frequency"], json!(1));
}

async fn churn_parameters_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    customers(&app).await;
    app.insights.refresh_if_changed().await.expect("compute the insights");

    let default = app.admin.get("/api/v1/insights/churn").await.want(200).value();
    assert_eq!(default["report"]["definition"], json!({"kind": "no_purchase_for", "days": 180}));
    assert_eq!(default["report"]["customers"], json!(12));
    let groups: Vec<&str> =
        default["report"]["survival"].as_array().unwrap().iter().map(|c| c["group"].as_str().unwrap()).collect();
    assert!(groups.contains(&"Website") && groups.contains(&"Event"), "curves by source: {groups:?}");

    let short = app.admin.get("/api/v1/insights/churn?days=20").await.want(200).value();
    assert_eq!(short["report"]["definition"], json!({"kind": "no_purchase_for", "days": 20}));
    assert!(
        short["report"]["churned"].as_i64() > default["report"]["churned"].as_i64(),
        "a shorter period churns more customers"
    );
    let by_segment = app.admin.get("/api/v1/insights/churn?group_by=segment").await.want(200).value();
    let labels: Vec<&str> =
        by_segment["report"]["survival"].as_array().unwrap().iter().map(|c| c["group"].as_str().unwrap()).collect();
    assert!(!labels.contains(&"Website"), "curves by segment, not source: {labels:?}");
    let lifecycle = app.admin.get("/api/v1/insights/churn?definition=lifecycle").await.want(200).value();
    assert_eq!(lifecycle["report"]["definition"], json!({"kind": "lifecycle_churned"}));
    assert_eq!(lifecycle["report"]["churned"], json!(0), "nobody's stage is churned");

    for (query, field) in [
        ("days=0", "days"),
        ("days=3651", "days"),
        ("days=abc", "days"),
        ("days=-5", "days"),
        ("group_by=nope", "group_by"),
        ("definition=sometimes", "definition"),
        ("definition=lifecycle&days=30", "days"),
    ] {
        let error = app.admin.get(&format!("/api/v1/insights/churn?{query}")).await.want(422).error();
        assert!(error.field(field).is_some(), "{query}: {field} is named in {error:?}");
    }
    app.admin.get("/api/v1/insights/churn?colour=red").await.want(422);
}
