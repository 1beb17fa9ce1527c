//! Data out through the API: CSV per record type and the whole archive, for
//! admins only.

use rapport_domain::Role;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, create_custom_field, create_person_with, create_purchase};

backend_tests!(csv_export_quotes_lists_money_and_custom_fields, export_is_for_admins_only);

/// The rows of a CSV body, header first.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .into_records()
        .map(|row| row.expect("a CSV row").iter().map(str::to_owned).collect())
        .collect()
}

fn csv_header(text: &str) -> Vec<String> {
    csv::Reader::from_reader(text.as_bytes()).headers().expect("a header row").iter().map(str::to_owned).collect()
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let at = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    &row[at]
}

async fn csv_export_quotes_lists_money_and_custom_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_custom_field(
        &app.admin,
        json!({ "entity_type": "person", "key": "notes", "label": "Notes", "kind": "text" }),
    )
    .await;
    let tricky = "Big, \"quoted\" client";
    let ana = create_person_with(
        &app.admin,
        json!({
            "first_name": "Ana", "last_name": "Lima",
            "emails": [{ "address": "ana@example.com" }, { "address": "ana.lima@work.example" }],
            "tags": ["vip", "newsletter"],
            "custom_fields": { "notes": tricky },
        }),
    )
    .await;
    create_person_with(&app.admin, json!({ "first_name": "Bruno" })).await;
    create_purchase(
        &app.admin,
        ana.id,
        "2024-05-01T10:00:00Z",
        json!({ "amount": { "amount_minor": 123450, "currency": "EUR" } }),
    )
    .await;

    let resp = app.admin.get("/api/v1/export/people").await.want(200);
    assert_eq!(resp.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(resp.header("content-disposition").is_some_and(|d| d.starts_with("attachment")), "{:?}", resp.headers);
    assert!(resp.text.contains("\"Big, \"\"quoted\"\" client\""), "quoted as CSV: {}", resp.text);
    let header = csv_header(&resp.text);
    assert_eq!(&header[..4], ["id", "first_name", "last_name", "emails"]);
    assert_eq!(header.last().map(String::as_str), Some("cf.notes"));
    let rows = csv_rows(&resp.text);
    assert_eq!(rows.len(), 2, "one row per person");
    let row = rows.iter().find(|row| row[0] == ana.id.to_string()).expect("Ana's row");
    assert_eq!(cell(&header, row, "emails"), "ana@example.com; ana.lima@work.example");
    let mut tags: Vec<&str> = cell(&header, row, "tags").split("; ").collect();
    tags.sort();
    assert_eq!(tags, ["newsletter", "vip"]);
    assert_eq!(cell(&header, row, "cf.notes"), tricky);
    assert_eq!(cell(&header, row, "version"), "1");

    let purchases = app.admin.get("/api/v1/export/purchases").await.want(200);
    let header = csv_header(&purchases.text);
    let rows = csv_rows(&purchases.text);
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&header, &rows[0], "amount"), "1234.50");
    assert_eq!(cell(&header, &rows[0], "currency"), "EUR");
    assert_eq!(cell(&header, &rows[0], "person_id"), ana.id.to_string());

    // A type with no records still has its header.
    let tasks = app.admin.get("/api/v1/export/tasks").await.want(200);
    assert_eq!(csv_header(&tasks.text)[0], "id");
    assert!(csv_rows(&tasks.text).is_empty());
}

async fn export_is_for_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_person_with(&app.admin, json!({ "first_name": "Ana" })).await;
    let (_, agent) = app.create_user(Role::Agent, None).await;

    agent.get("/api/v1/export/people").await.want_error(403, "forbidden");
    agent.get("/api/v1/export").await.want_error(403, "forbidden");
    app.anonymous().get("/api/v1/export/people").await.want_error(401, "unauthorized");
    app.anonymous().get("/api/v1/export").await.want_error(401, "unauthorized");
    let error = app.admin.get("/api/v1/export/secrets").await.want_error(422, "validation");
    assert!(error.field("type").is_some_and(|m| m.contains("people")), "{error:?}");

    let resp = app.admin.get("/api/v1/export").await.want(200);
    assert!(resp.header("content-disposition").is_some_and(|d| d.starts_with("attachment")));
    let archive: Value = resp.json();
    assert_eq!(archive["format"], "rapport-archive");
    assert_eq!(archive["version"], 1);
    assert!(archive["schema"].as_str().is_some_and(|s| s.starts_with('m')), "{}", archive["schema"]);
    let users = archive["tables"]["users"].as_array().expect("the users");
    assert_eq!(users.len(), 2, "the admin and the agent");
    assert!(users.iter().all(|u| u["password_hash"].as_str().is_some_and(|h| h.starts_with("$argon2"))));
    assert_eq!(archive["tables"]["people"].as_array().map(Vec::len), Some(1));
}
