//! `rapport sales report` as an operator uses it, on SQLite and PostgreSQL:
//! the figures as a table, JSON and CSV, one pipeline by name, and clear
//! refusals of bad input.

#[macro_use]
extern crate rapport_testing;

mod common;

use common::{rapport, refused, succeeded};
use rapport_domain::records::{DealInput, PipelineInput, StageInput, UserInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role};
use rapport_storage::Store;
use rapport_testing::{Backend, TestDatabase};
use serde_json::{Value, json};

backend_tests!(the_sales_report_from_the_command_line);

async fn the_sales_report_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    succeeded(rapport(url, &["migrate"], ""));
    let store = Store::connect(url).await.expect("open the database");
    let input = UserInput {
        name: Name::try_from("Boss".to_owned()).unwrap(),
        email: Email::parse("boss@example.com").unwrap(),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let boss = store.create_user(input, None, None).await.unwrap().id;
    let actor = Actor { user_id: boss, role: Role::Admin, team_id: None };
    let stage = |name: &str, win| StageInput { id: None, name: name.try_into().unwrap(), win_probability: win };
    let input =
        PipelineInput { name: "Renewals".try_into().unwrap(), stages: vec![stage("Due", 40), stage("Agreed", 80)] };
    let renewals = store.create_pipeline(&actor, input).await.unwrap();
    let deal = |name: &str, status: &str, stage: usize| -> DealInput {
        serde_json::from_value(json!({
            "name": name,
            "amount": { "amount_minor": 50_000, "currency": "EUR" },
            "pipeline_id": renewals.id,
            "stage_id": renewals.stages[stage].id,
            "owner_id": boss,
            "status": status,
        }))
        .unwrap()
    };
    store
        .create_deals(&actor, vec![deal("Won one", "won", 1), deal("Lost one", "lost", 0), deal("Open one", "open", 1)])
        .await
        .unwrap();

    let json: Value =
        serde_json::from_str(&succeeded(rapport(url, &["sales", "report", "--format", "json"], "")).stdout).unwrap();
    assert_eq!((json["overall"]["won"].as_u64(), json["overall"]["lost"].as_u64()), (Some(1), Some(1)));
    assert_eq!(json["overall"]["win_rate"].as_f64(), Some(0.5));
    assert_eq!(json["by_owner"][0]["label"], "Boss");
    let no_date = json["forecast"].as_array().unwrap().iter().find(|r| r["bucket"] == "no_date").expect("no date");
    assert_eq!((no_date["deals"].as_u64(), no_date["weighted_minor"].as_i64()), (Some(1), Some(40_000)), "80%");

    let table = succeeded(rapport(url, &["sales", "report", "--pipeline", "renewals"], "")).stdout;
    assert!(table.contains("By owner") && table.contains("Boss"), "{table}");
    assert!(table.contains("50%"), "{table}");
    assert!(table.contains("Renewals · Agreed") && !table.contains("Sales ·"), "one pipeline's stages: {table}");
    assert!(table.contains("400.00 EUR"), "the weighted forecast: {table}");

    let csv = succeeded(rapport(url, &["sales", "report", "--format", "csv"], "")).stdout;
    assert!(csv.contains("# by owner\nowner,won,lost,win rate"), "{csv}");
    assert!(csv.contains("Boss,1,1,50%"), "{csv}");

    let empty = succeeded(rapport(url, &["sales", "report", "--from", "2020-01-01", "--to", "2020-01-31"], "")).stdout;
    assert!(empty.contains("no closed deals"), "{empty}");

    refused(rapport(url, &["sales", "report", "--from", "01/02/2026"], ""), "--from");
    refused(
        rapport(url, &["sales", "report", "--from", "2026-12-02", "--to", "2026-12-01"], ""),
        "must not be after to",
    );
    refused(rapport(url, &["sales", "report", "--pipeline", "Nowhere"], ""), "--pipeline");
}
