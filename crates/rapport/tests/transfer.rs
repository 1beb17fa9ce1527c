//! Data in and out from the command line: the whole database to an archive
//! and back with nothing lost, CSV exports, SQLite backups taken while a
//! server is connected, and refusals that change nothing.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::path::Path;

use rapport_storage::{Credentials, ListQuery, LoginOutcome, PersonFilter, PurchaseFilter, Store};
use rapport_testing::{Backend, TestDatabase};
use serde_json::Value;

use common::{rapport, refused, succeeded};

backend_tests!(archive_round_trip_loses_nothing, csv_export_has_one_row_per_record, bad_archives_write_nothing);

/// Demo data at a small scale; returns the demo admin's password.
fn fill_with_demo(url: &str) -> String {
    let outcome = succeeded(rapport(url, &["demo", "--seed", "11", "--scale", "0.02"], ""));
    let password = outcome.stderr.split("with the password ").nth(1).and_then(|rest| rest.split_whitespace().next());
    let password = password.unwrap_or_else(|| panic!("no demo password in {}", outcome.stderr)).to_owned();
    // An API token too, so the archive carries one.
    succeeded(rapport(url, &["token", "create", "--user", "demo.admin@example.com", "--name", "backup"], ""));
    password
}

fn export(url: &str, file: &Path) -> Value {
    succeeded(rapport(url, &["export", "--output", file.to_str().unwrap()], ""));
    read_archive(file)
}

/// An archive with `exported_at` taken out and each table's rows in one
/// order (databases may order text keys by different collations).
fn read_archive(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).expect("read the archive");
    let mut archive: Value = serde_json::from_str(&text).expect("the archive is JSON");
    assert_eq!(archive["format"], "rapport-archive");
    assert_eq!(archive["version"], 1);
    assert!(archive["exported_at"].is_string());
    archive.as_object_mut().unwrap().remove("exported_at");
    for rows in archive["tables"].as_object_mut().expect("tables").values_mut() {
        rows.as_array_mut().expect("rows").sort_by_key(|row| row.to_string());
    }
    archive
}

fn rows<'a>(archive: &'a Value, table: &str) -> &'a Vec<Value> {
    archive["tables"][table].as_array().unwrap_or_else(|| panic!("no table {table}"))
}

async fn archive_round_trip_loses_nothing(backend: Backend) {
    round_trip(backend, backend).await;
}

/// SQLite to PostgreSQL: the same archive comes out of both.
#[tokio::test]
async fn archive_moves_from_sqlite_to_postgres() {
    if rapport_testing::postgres_enabled() {
        round_trip(Backend::Sqlite, Backend::Postgres).await;
    }
}

async fn round_trip(from: Backend, to: Backend) {
    let source = TestDatabase::new(from).await;
    let target = TestDatabase::new(to).await;
    let password = fill_with_demo(&source.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = dir.path().join("first.json");
    let second = dir.path().join("second.json");

    let archive = export(&source.url, &first);
    let imported = succeeded(rapport(&target.url, &["import", "archive", first.to_str().unwrap()], ""));
    assert!(imported.stderr.contains("Imported"), "{}", imported.stderr);
    let again = export(&target.url, &second);
    assert_eq!(archive, again, "the archive of the copy differs from the original's");

    let a = Store::connect(&source.url).await.expect("open the source");
    let b = Store::connect(&target.url).await.expect("open the target");
    let all = ListQuery { limit: Some(200), ..Default::default() };
    let people = a.list_people(&all, &PersonFilter::default()).await.expect("list people").items;
    assert_eq!(rows(&archive, "people").len(), people.len(), "every person archived");
    assert_eq!(people.len(), 39, "scale 0.02 gives 40 people, two entered twice, three deleted");
    assert_eq!(rows(&archive, "trash").len(), 5, "the deleted ones are archived in the trash");
    assert!(!rows(&archive, "record_history").is_empty(), "history is archived");
    for table in
        ["users", "teams", "pipelines", "stages", "custom_fields", "companies", "contact_points", "record_tags"]
    {
        assert!(!rows(&archive, table).is_empty(), "the demo fills {table}");
    }
    for table in ["deals", "activities", "tasks", "purchases", "saved_views", "api_tokens", "custom_field_values"] {
        assert!(!rows(&archive, table).is_empty(), "the demo fills {table}");
    }
    for table in ["business_calendars", "sla_policies", "tickets", "ticket_messages"] {
        assert!(!rows(&archive, table).is_empty(), "the demo fills {table}");
    }
    // Records read back field by field, with ids, times and versions.
    for person in people.iter().take(5) {
        assert_eq!(&b.get_person(person.id).await.expect("the person is in the copy"), person);
    }
    let purchases = a.list_purchases(&all, &PurchaseFilter::default()).await.expect("list purchases").items;
    for purchase in purchases.iter().take(5) {
        assert_eq!(&b.get_purchase(purchase.id).await.expect("the purchase is in the copy"), purchase);
    }
    // Password hashes came along: the demo admin signs in to the copy.
    let credentials = Credentials { email: "demo.admin@example.com".into(), password };
    assert!(matches!(b.verify_login(&credentials).await.expect("check the login"), LoginOutcome::Valid(_)));
    // Search works in the copy: its full-text index was rebuilt.
    let name = people[0].fields.first_name.to_string();
    let search = ListQuery { q: Some(name.clone()), ..all.clone() };
    let found = b.list_people(&search, &PersonFilter::default()).await.expect("search the copy");
    assert!(found.items.iter().any(|p| p.id == people[0].id), "{name} is found in the copy");

    // A second import is refused: the target is no longer empty.
    refused(rapport(&target.url, &["import", "archive", first.to_str().unwrap()], ""), "empty database");
    a.close().await.expect("close");
    b.close().await.expect("close");
}

async fn csv_export_has_one_row_per_record(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    fill_with_demo(&db.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = export(&db.url, &dir.path().join("all.json"));
    for (kind, table) in [
        ("people", "people"),
        ("companies", "companies"),
        ("deals", "deals"),
        ("activities", "activities"),
        ("tasks", "tasks"),
        ("purchases", "purchases"),
        ("tickets", "tickets"),
    ] {
        let file = dir.path().join(format!("{kind}.csv"));
        succeeded(rapport(
            &db.url,
            &["export", "--type", kind, "--format", "csv", "--output", file.to_str().unwrap()],
            "",
        ));
        let mut reader = csv::Reader::from_path(&file).expect("open the CSV");
        assert_eq!(reader.headers().expect("a header")[0].to_owned(), "id");
        let count = reader.records().inspect(|row| assert!(row.is_ok(), "a CSV row: {row:?}")).count();
        assert_eq!(count, rows(&archive, table).len(), "one {kind} row per record");
    }
    let out = dir.path().join("x.csv");
    let out = out.to_str().unwrap();
    refused(rapport(&db.url, &["export", "--type", "secrets", "--format", "csv", "--output", out], ""), "--type");
    refused(rapport(&db.url, &["export", "--type", "people", "--format", "xlsx", "--output", out], ""), "--format");
    refused(rapport(&db.url, &["export", "--format", "csv", "--output", out], ""), "--format");
    assert!(!Path::new(out).exists(), "a refused export writes no file");
}

async fn bad_archives_write_nothing(backend: Backend) {
    let source = TestDatabase::new(backend).await;
    let target = TestDatabase::new(backend).await;
    fill_with_demo(&source.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let good = dir.path().join("good.json");
    export(&source.url, &good);
    let text = std::fs::read_to_string(&good).expect("read the archive");

    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write a file");
        path.to_str().unwrap().to_owned()
    };
    let truncated = write("truncated.json", &text[..text.len() * 2 / 3]);
    refused(rapport(&target.url, &["import", "archive", &truncated], ""), "damaged or incomplete");
    let other = write("other.json", r#"{"format": "someone-else", "version": 1, "tables": {}}"#);
    refused(rapport(&target.url, &["import", "archive", &other], ""), "not a Rapport archive");
    let newer = text.replacen("\"version\":1", "\"version\":2", 1);
    refused(rapport(&target.url, &["import", "archive", &write("newer.json", &newer)], ""), "version 2");
    let not_json = write("notes.txt", "hello");
    refused(rapport(&target.url, &["import", "archive", &not_json], ""), "not a Rapport archive");
    let bad_row = text.replacen("\"password_hash\":\"", "\"password_hash\":5,\"x\":\"", 1);
    refused(rapport(&target.url, &["import", "archive", &write("bad.json", &bad_row)], ""), "damaged");

    let store = Store::connect(&target.url).await.expect("open the target");
    assert!(!store.holds_data().await.expect("look"), "refused imports wrote nothing");
    store.close().await.expect("close");

    // Restoring into a database with data is refused, and changes nothing.
    let before = read_archive(&good);
    refused(rapport(&source.url, &["restore", good.to_str().unwrap()], ""), "empty database");
    assert_eq!(export(&source.url, &dir.path().join("after.json")), before);
}

/// SQLite: a backup taken while a server holds the database open restores
/// every row into a new database.
#[tokio::test]
async fn sqlite_backup_while_connected_restores_every_row() {
    let live = TestDatabase::new(Backend::Sqlite).await;
    fill_with_demo(&live.url);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let backup = dir.path().join("rapport.backup");
    let backup = backup.to_str().unwrap();

    // The server's connection stays open, mid-read, while the backup runs.
    let server = Store::connect(&live.url).await.expect("open the live database");
    let all = ListQuery { limit: Some(10), ..Default::default() };
    server.list_people(&all, &PersonFilter::default()).await.expect("the server reads");
    let made = succeeded(rapport(&live.url, &["backup", backup], ""));
    assert!(made.stderr.contains("SQLite"), "{}", made.stderr);
    assert!(std::fs::read(backup).expect("the backup exists").starts_with(b"SQLite format 3\0"));
    refused(rapport(&live.url, &["backup", backup], ""), "already exists");

    let restored = TestDatabase::new(Backend::Sqlite).await;
    succeeded(rapport(&restored.url, &["restore", backup], ""));
    let original = export(&live.url, &dir.path().join("live.json"));
    assert_eq!(export(&restored.url, &dir.path().join("restored.json")), original, "every table's rows");
    server.close().await.expect("close");

    // Into a database that holds data: refused, and nothing changes.
    refused(rapport(&restored.url, &["restore", backup], ""), "empty database");
    assert_eq!(export(&restored.url, &dir.path().join("again.json")), original);
}
