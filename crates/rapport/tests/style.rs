//! `rapport style scorecard` as an operator uses it, on SQLite and
//! PostgreSQL: one user, one team, everyone; table, JSON and CSV; clear
//! refusals of bad input; profiles, questions and rounds; goals and the
//! monthly review.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{rapport, refused, succeeded};
use rapport_domain::records::{TaskInput, TeamInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role, TeamId, UserId};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

backend_tests!(
    scorecards_from_the_command_line,
    profiles_questions_and_rounds_from_the_command_line,
    goals_and_the_review_from_the_command_line,
);

async fn staff(store: &Store, name: &str, email: &str, role: Role, team: Option<TeamId>) -> UserId {
    let input = UserInput {
        name: Name::try_from(name.to_owned()).unwrap(),
        email: Email::parse(email).unwrap(),
        role,
        team_id: team,
        active: true,
    };
    store.create_user(input, None, None).await.unwrap().id
}

/// A database migrated by `rapport migrate`, opened, with an admin (Boss).
async fn migrated_with_admin(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(&db.url, &["migrate"], ""));
    let store = Store::connect(&db.url).await.expect("open the database");
    let boss = staff(&store, "Boss", "boss@example.com", Role::Admin, None).await;
    (db, store, Actor { user_id: boss, role: Role::Admin, team_id: None })
}

async fn scorecards_from_the_command_line(backend: Backend) {
    let (db, store, actor) = migrated_with_admin(backend).await;
    let url = db.url.as_str();
    let care = store.create_team(&actor, TeamInput { name: Name::try_from("Care").unwrap() }).await.unwrap();
    let ana = staff(&store, "Ana Agent", "ana@example.com", Role::Agent, Some(care.id)).await;
    staff(&store, "Bo Agent", "bo@example.com", Role::Agent, Some(care.id)).await;

    // Ana: six tasks due in the last days, five done in time, one dropped.
    let now = OffsetDateTime::now_utc();
    for i in 0..6 {
        let due = (now - Duration::days(i + 1)).format(&Rfc3339).unwrap();
        let task: TaskInput = serde_json::from_value(
            json!({ "title": format!("Task {i}"), "due_at": due, "assignee_id": ana, "done": i > 0 }),
        )
        .unwrap();
        store.create_task(&actor, task).await.unwrap();
    }
    store.close().await.unwrap();

    let json =
        succeeded(rapport(url, &["style", "scorecard", "--user", "ana@example.com", "--format", "json"], "")).stdout;
    let report: Value = serde_json::from_str(&json).unwrap();
    let cards = report["scorecards"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{json}");
    assert_eq!(cards[0]["team"], "Care");
    let dropped = cards[0]["figures"].as_array().unwrap().iter().find(|f| f["figure"] == "tasks_dropped").unwrap();
    // Done late: the tasks were done now, after they fell due.
    assert_eq!(dropped["cases"], 6, "{dropped}");
    assert!((dropped["value"].as_f64().unwrap() - 100.0 / 6.0).abs() < 1e-9, "{dropped}");
    assert_eq!(dropped["enough"], true);
    assert_eq!(dropped["rank"], 50.0, "alone with enough cases in the team: the median");

    let table = succeeded(rapport(url, &["style", "scorecard", "--team", "care"], "")).stdout;
    assert!(table.contains("Ana Agent <ana@example.com> · Care") && table.contains("Bo Agent"), "{table}");
    assert!(!table.contains("Boss"), "only the team: {table}");
    assert!(table.contains("Tasks dropped") && table.contains("17%"), "{table}");
    let everyone = succeeded(rapport(url, &["style", "scorecard", "--format", "csv"], "")).stdout;
    assert!(
        everyone.starts_with("email,name,team,dimension,figure,value,cases,enough,team_median,rank,"),
        "{everyone}"
    );
    assert!(
        everyone.contains("boss@example.com")
            && everyone.contains("ana@example.com,Ana Agent,Care,follow_through,tasks_dropped,16.6667,6,true"),
        "{everyone}"
    );

    refused(rapport(url, &["style", "scorecard", "--user", "nobody@example.com"], ""), "--user");
    refused(rapport(url, &["style", "scorecard", "--user", "not an email"], ""), "--user");
    refused(rapport(url, &["style", "scorecard", "--team", "Sales"], ""), "--team");
    refused(rapport(url, &["style", "scorecard", "--user", "ana@example.com", "--team", "Care"], ""), "--team");
    refused(rapport(url, &["style", "scorecard", "--from", "2026-02-01", "--to", "2026-01-01"], ""), "--from");
    refused(rapport(url, &["style", "scorecard", "--from", "2024-01-01", "--to", "2026-01-01"], ""), "--from");
    refused(rapport(url, &["style", "scorecard", "--to", "tomorrow"], ""), "--to");
    refused(rapport(url, &["style", "scorecard", "--format", "xml"], ""), "--format");
}

async fn profiles_questions_and_rounds_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    succeeded(rapport(url, &["migrate"], ""));
    let store = Store::connect(url).await.expect("open the database");
    let sam = staff(&store, "Sam Agent", "sam@example.com", Role::Agent, None).await;
    for i in 1..=3 {
        staff(&store, &format!("Colleague {i}"), &format!("c{i}@example.com"), Role::Agent, None).await;
    }
    store.close().await.unwrap();

    let table = succeeded(rapport(url, &["style", "questions"], "")).stdout;
    assert!(table.contains("empathy") && table.contains("follow_through"), "{table}");
    let json = succeeded(rapport(url, &["style", "questions", "--format", "json"], "")).stdout;
    let questions: Value = serde_json::from_str(&json).unwrap();
    assert!(questions["questions"].as_array().unwrap().len() >= 10, "{json}");

    let colleagues = ["--colleague", "c1@example.com", "--colleague", "c2@example.com"];
    let two: Vec<&str> = ["style", "ask", "--subject", "sam@example.com"].into_iter().chain(colleagues).collect();
    refused(rapport(url, &two, ""), "--colleague");
    let mut three = two.clone();
    three.extend(["--colleague", "nobody@example.com"]);
    refused(rapport(url, &three, ""), "--colleague");
    refused(
        rapport(url, &["style", "ask", "--subject", "x@example.com", "--colleague", "c1@example.com"], ""),
        "--subject",
    );
    let mut three = two.clone();
    three.extend(["--colleague", "c3@example.com", "--days", "7"]);
    let asked = succeeded(rapport(url, &three, "")).stdout;
    assert!(asked.contains("Asked 3 colleagues about Sam Agent"), "{asked}");

    let store = Store::connect(url).await.expect("open the database");
    let rounds = store.feedback_rounds(&Actor::system(), Some(sam)).await.unwrap();
    assert_eq!(rounds.len(), 1);
    assert_eq!(rounds[0].asked, 3);
    store.close().await.unwrap();

    let table = succeeded(rapport(url, &["style", "profile", "--user", "sam@example.com"], "")).stdout;
    assert!(
        table.contains("Style profile of Sam Agent") && table.contains("Findings") && table.contains("Steps"),
        "{table}"
    );
    let json =
        succeeded(rapport(url, &["style", "profile", "--user", "sam@example.com", "--format", "json"], "")).stdout;
    let profile: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(profile["dimensions"].as_array().unwrap().len(), 5, "{json}");
    assert_eq!(profile["rounds_waiting"], 1, "{json}");
    refused(rapport(url, &["style", "profile", "--user", "nobody@example.com"], ""), "--user");
    refused(
        rapport(
            url,
            &["style", "profile", "--user", "sam@example.com", "--from", "2026-02-01", "--to", "2026-01-01"],
            "",
        ),
        "--from",
    );
}

async fn goals_and_the_review_from_the_command_line(backend: Backend) {
    let (db, store, actor) = migrated_with_admin(backend).await;
    let url = db.url.as_str();
    let due = (OffsetDateTime::now_utc() + Duration::days(30)).date();
    let goal: rapport_domain::goals::GoalInput =
        serde_json::from_value(json!({ "figure": "nps", "target": 40, "due_on": due.to_string() })).unwrap();
    store.create_goal(&actor, goal).await.unwrap();
    store.close().await.unwrap();

    let table = succeeded(rapport(url, &["style", "goals"], "")).stdout;
    assert!(table.contains(&format!("NPS of customers served ≥ 40 by {due}")), "{table}");
    assert!(table.contains("The business") && table.contains("Not enough data yet"), "{table}");
    let json: Value =
        serde_json::from_str(&succeeded(rapport(url, &["style", "goals", "--format", "json"], "")).stdout).unwrap();
    assert_eq!(json[0]["forecast"]["status"], "no_data");

    let review = succeeded(rapport(url, &["style", "review", "--month", "2026-10"], "")).stdout;
    assert!(review.contains("The style review of 2026-10 for The business."), "{review}");
    assert!(review.contains("NPS of customers served ≥ 40"), "the goals are in it: {review}");
    let json: Value = serde_json::from_str(
        &succeeded(rapport(url, &["style", "review", "--month", "2026-10", "--format", "json"], "")).stdout,
    )
    .unwrap();
    assert_eq!(json["month"], "2026-10");
    refused(rapport(url, &["style", "review", "--month", "october"], ""), "--month: expected a month such as 2026-11");
}
