//! People from CSV through `rapport import people`: files as spreadsheets
//! save them, upserts by email, the three modes, mapping files, and an
//! export read back into an empty database. Then each other kind of
//! record, survey answers included.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rapport_domain::Actor;
use rapport_domain::custom_fields::{CustomFieldInput, EntityType, FieldKind};
use rapport_domain::records::Person;
use rapport_storage::{ActivityFilter, CompanyFilter, DealFilter, ListQuery, PersonFilter, PurchaseFilter, Store};
use rapport_testing::{Backend, TestDatabase};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

use common::{rapport, refused, succeeded};

backend_tests!(
    spreadsheet_csv_creates_people_exactly_and_again_nothing,
    dry_run_writes_nothing,
    all_or_nothing_refuses_every_row_for_one_bad_one,
    skip_invalid_writes_the_good_rows,
    rows_of_one_batch_find_each_other_and_what_is_stored,
    a_company_that_cannot_be_made_refuses_only_the_rows_naming_it,
    mapping_file_names_the_columns,
    export_then_import_gives_the_same_people,
    all_or_nothing_over_many_batches_rolls_back_on_one_bad_row,
    killed_import_leaves_whole_batches_and_a_rerun_completes_it,
    companies_are_found_by_external_id_domain_or_name,
    purchases_name_their_customer_and_create_people_adds_them,
    deals_and_activities_are_found_by_external_id,
    tickets_from_another_help_desk_are_found_by_their_number,
    survey_answers_are_found_by_their_external_id,
    vcards_3_and_4_become_people_with_their_company,
    an_android_vcard_2_1_export_imports_but_its_unreadable_card,
);

const ADMIN: &str = "admin@example.com";

/// A database with an admin to import as, and a `tier` custom field for people.
async fn database(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::new(backend).await;
    succeeded(rapport(
        &db.url,
        &["user", "add", "--email", ADMIN, "--name", "Admin", "--role", "admin"],
        "a-long-password\n",
    ));
    let store = Store::connect(&db.url).await.expect("open the database");
    (db, store)
}

async fn admin(store: &Store) -> Actor {
    let user = store.find_user_by_email(&rapport_domain::Email::parse(ADMIN).unwrap()).await.unwrap().unwrap();
    Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id }
}

async fn add_tier_field(store: &Store) {
    let input = CustomFieldInput {
        entity_type: EntityType::Person,
        key: "tier".to_string().try_into().unwrap(),
        label: "Tier".try_into().unwrap(),
        kind: FieldKind::Choice,
        choices: vec!["gold".try_into().unwrap(), "silver".try_into().unwrap()],
        required: false,
    };
    store.create_custom_field(&admin(store).await, input).await.expect("add the custom field");
}

async fn everyone(store: &Store) -> Vec<Person> {
    let mut query = ListQuery { limit: Some(200), ..Default::default() };
    let mut all = Vec::new();
    loop {
        let page = store.list_people(&query, &PersonFilter::default()).await.expect("list people");
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return all,
        }
    }
}

fn by_email<'a>(people: &'a [Person], email: &str) -> &'a Person {
    people
        .iter()
        .find(|p| p.fields.emails.iter().any(|e| e.address.as_str() == email))
        .unwrap_or_else(|| panic!("nobody has {email}"))
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write a file");
    path.to_str().unwrap().to_owned()
}

fn import(url: &str, args: &[&str]) -> common::Outcome {
    rapport(url, &[&["import", "people"], args].concat(), "")
}

/// As a spreadsheet saves it: a byte order mark, `;` between cells, quoted
/// cells holding `;`, `,` and a line break, two addresses in one cell,
/// headers with spaces and synonyms, and a column Rapport does not know.
const SPREADSHEET: &str = "\u{feff}First Name;Last Name;E-mail;Phone;Job Title;Lifecycle Stage;Tags;cf.tier;Colour\r\n\
Ada;Lovelace;\"ada@example.com, ada.l@example.org\";+44 20 7946 0958;\"Analyst; Engines\";customer;\"VIP; math\";gold;\"likes, commas\"\r\n\
Bob;\"Smith, Jr.\";bob@example.com;;\"Head of\nResearch\";Lead;;silver;\r\n";

async fn spreadsheet_csv_creates_people_exactly_and_again_nothing(backend: Backend) {
    let (db, store) = database(backend).await;
    add_tier_field(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", SPREADSHEET);

    let first = succeeded(import(&db.url, &[&file]));
    assert!(first.stderr.contains("2 rows read: 2 created, 0 updated, 0 unchanged, 0 rejected"), "{}", first.stderr);
    assert!(first.stderr.contains("warning") && first.stderr.contains("Colour"), "{}", first.stderr);
    let people = everyone(&store).await;
    assert_eq!(people.len(), 2);
    let ada = &by_email(&people, "ada@example.com").fields;
    assert_eq!(ada.first_name.as_str(), "Ada");
    assert_eq!(ada.last_name.as_ref().unwrap().as_str(), "Lovelace");
    let emails: Vec<&str> = ada.emails.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(emails, ["ada@example.com", "ada.l@example.org"]);
    assert!(ada.emails[0].primary);
    let phones: Vec<&str> = ada.phones.iter().map(|p| p.number.as_str()).collect();
    assert_eq!(phones, ["+44 20 7946 0958"]);
    assert_eq!(ada.job_title.as_ref().unwrap().as_str(), "Analyst; Engines");
    assert_eq!(ada.lifecycle_stage.as_str(), "customer");
    let tags: Vec<&str> = ada.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["math", "vip"]);
    assert_eq!(ada.custom_fields.get("tier"), Some(&json!("gold")));
    let bob = &by_email(&people, "bob@example.com").fields;
    assert_eq!(bob.last_name.as_ref().unwrap().as_str(), "Smith, Jr.");
    assert_eq!(bob.job_title.as_ref().unwrap().as_str(), "Head of\nResearch");
    assert_eq!(bob.lifecycle_stage.as_str(), "lead");
    assert!(bob.phones.is_empty() && bob.tags.is_empty());
    assert_eq!(bob.custom_fields.get("tier"), Some(&json!("silver")));

    // The same file again: found by email, nothing new, nothing changed.
    let again = succeeded(import(&db.url, &[&file]));
    assert!(again.stderr.contains("0 created, 0 updated, 2 unchanged"), "{}", again.stderr);
    assert_eq!(everyone(&store).await, people);

    // A row with a known address and a new value updates that person.
    let changed = write(dir.path(), "changed.csv", "email,job title,tags\nBOB@example.com,Director,new\n");
    let updated = succeeded(import(&db.url, &[&changed]));
    assert!(updated.stderr.contains("0 created, 1 updated, 0 unchanged"), "{}", updated.stderr);
    let people = everyone(&store).await;
    assert_eq!(people.len(), 2);
    let bob = &by_email(&people, "bob@example.com").fields;
    assert_eq!(bob.job_title.as_ref().unwrap().as_str(), "Director");
    assert_eq!(bob.last_name.as_ref().unwrap().as_str(), "Smith, Jr.", "what the row leaves out stays");
    store.close().await.unwrap();
}

async fn dry_run_writes_nothing(backend: Backend) {
    let (db, store) = database(backend).await;
    add_tier_field(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", SPREADSHEET);
    let outcome = succeeded(import(&db.url, &[&file, "--mode", "dry-run"]));
    assert!(outcome.stderr.contains("nothing was written"), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("would be 2 created"), "{}", outcome.stderr);
    assert!(everyone(&store).await.is_empty());

    // Acting as a viewer, or as nobody: refused, nothing written.
    let viewer = ["user", "add", "--email", "viewer@example.com", "--name", "Vi", "--role", "viewer"];
    succeeded(rapport(&db.url, &viewer, "a-long-password\n"));
    let outcome = import(&db.url, &[&file, "--as", "viewer@example.com"]);
    assert!(outcome.stderr.contains("line 2: viewers cannot change records"), "{}", outcome.stderr);
    refused(outcome, "nothing was written");
    refused(import(&db.url, &[&file, "--as", "nobody@example.com"]), "no user has the email");
    assert!(everyone(&store).await.is_empty());

    // Tabs between cells, named by --delimiter.
    let tabs = write(dir.path(), "tabs.txt", "first name\temail\nCy\tcy@example.com\n");
    let outcome = succeeded(import(&db.url, &[&tabs, "--delimiter", "tab", "--mode", "dry-run"]));
    assert!(outcome.stderr.contains("1 rows read: would be 1 created"), "{}", outcome.stderr);
    assert!(everyone(&store).await.is_empty());
    store.close().await.unwrap();
}

/// Line 3 has a bad address; line 6 (after a row whose quoted cell spans two lines) an unknown stage.
const WITH_BAD_ROWS: &str = "first_name,email,lifecycle_stage,job_title\n\
Ada,ada@example.com,customer,\n\
Bob,bob@,lead,\n\
Cy,cy@example.com,lead,\"two\nlines\"\n\
Di,di@example.com,vip,\n";

async fn all_or_nothing_refuses_every_row_for_one_bad_one(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", WITH_BAD_ROWS);
    let report = dir.path().join("report.csv");
    let outcome = import(&db.url, &[&file, "--report", report.to_str().unwrap()]);
    refused(outcome, "nothing was written");
    let outcome = import(&db.url, &[&file]);
    assert!(
        outcome.stderr.contains("line 3, column \"email\": \"bob@\" is not an email address"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 6, column \"lifecycle_stage\": must be one of"), "{}", outcome.stderr);
    assert!(everyone(&store).await.is_empty(), "nothing was written");
    let mut reader = csv::Reader::from_path(&report).expect("the report");
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][..2], ["3".to_string(), "email".to_string()]);
    assert_eq!(rows[1][..2], ["6".to_string(), "lifecycle_stage".to_string()]);
    store.close().await.unwrap();
}

async fn skip_invalid_writes_the_good_rows(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", WITH_BAD_ROWS);
    let outcome = succeeded(import(&db.url, &[&file, "--mode", "skip-invalid"]));
    assert!(
        outcome.stderr.contains("4 rows read: 2 created, 0 updated, 0 unchanged, 2 rejected"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 3, column \"email\""), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("line 6, column \"lifecycle_stage\""), "{}", outcome.stderr);
    let people = everyone(&store).await;
    assert_eq!(people.len(), 2);
    by_email(&people, "ada@example.com");
    assert_eq!(by_email(&people, "cy@example.com").fields.job_title.as_ref().unwrap().as_str(), "two\nlines");

    // More rows than one batch holds: every batch is written.
    let many: String = (0..1_205).map(|i| format!("P{i},p{i}@example.com\n")).collect();
    let many = write(dir.path(), "many.csv", &format!("first_name,email\n{many}"));
    let outcome = succeeded(import(&db.url, &[&many, "--mode", "skip-invalid"]));
    assert!(outcome.stderr.contains("1205 rows read: 1205 created"), "{}", outcome.stderr);
    assert_eq!(everyone(&store).await.len(), 2 + 1_205);
    store.close().await.unwrap();
}

/// New people are written a batch at a time: rows of one batch must still
/// find the people earlier rows created, by email and by external id, and
/// share the companies they name; refused rows leave the rest written.
const ONE_BATCH: &str = "first_name,last_name,email,external_id,company,tags,cf.tier\n\
Ada,One,ada@example.com,X1,Acme,,gold\n\
Ada,,ADA@example.com,,,vip,\n\
Bo,,bo@example.com,X2,acme,,\n\
Cy,,cy@example.com,X2,,,\n\
Dee,,dee@example.com,,Acme,,bronze\n\
,,eve@example.com,,,,\n\
Finn,,finn@example.com,,,,\n\
Olga,,old@example.com,,,,silver\n";

/// The companies a batch names are made together; one refused (here for a
/// required field a name alone cannot fill) refuses the rows naming it,
/// with the reason, and nothing else.
async fn a_company_that_cannot_be_made_refuses_only_the_rows_naming_it(backend: Backend) {
    let (db, store) = database(backend).await;
    let actor = admin(&store).await;
    let stored = serde_json::from_value(json!({"name": "Stored Co"})).unwrap();
    let stored = store.create_company(&actor, stored).await.unwrap();
    let region = CustomFieldInput {
        entity_type: EntityType::Company,
        key: "region".to_string().try_into().unwrap(),
        label: "Region".try_into().unwrap(),
        kind: FieldKind::Text,
        choices: Vec::new(),
        required: true,
    };
    store.create_custom_field(&actor, region).await.expect("a required company field");
    let dir = tempfile::tempdir().unwrap();
    let rows = "first_name,email,company\nAnn,ann@example.com,Newco\nBen,ben@example.com,Stored Co\n\
                Cat,cat@example.com,\nDan,dan@example.com,NEWCO\n";
    let file = write(dir.path(), "people.csv", rows);
    let outcome = succeeded(import(&db.url, &[&file, "--mode", "skip-invalid"]));
    assert!(
        outcome.stderr.contains("4 rows read: 2 created, 0 updated, 0 unchanged, 2 rejected"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 2") && outcome.stderr.contains("line 5"), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("region"), "the reason is named: {}", outcome.stderr);
    let people = everyone(&store).await;
    assert_eq!(by_email(&people, "ben@example.com").fields.company_id, Some(stored.id));
    assert_eq!(by_email(&people, "cat@example.com").fields.company_id, None);
    let companies = store.list_companies(&ListQuery::default(), &CompanyFilter::default()).await.unwrap();
    assert_eq!(companies.items.len(), 1, "no Newco: {:?}", companies.items);
    store.close().await.unwrap();
}

async fn rows_of_one_batch_find_each_other_and_what_is_stored(backend: Backend) {
    let (db, store) = database(backend).await;
    add_tier_field(&store).await;
    let actor = admin(&store).await;
    let old = serde_json::from_value(json!({"first_name": "Old", "emails": [{"address": "old@example.com"}]})).unwrap();
    let old = store.create_person(&actor, old).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", ONE_BATCH);
    let outcome = succeeded(import(&db.url, &[&file, "--mode", "skip-invalid"]));
    assert!(
        outcome.stderr.contains("8 rows read: 3 created, 3 updated, 0 unchanged, 2 rejected"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 6, column \"cf.tier\""), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("line 7, column \"first_name\""), "{}", outcome.stderr);

    let people = everyone(&store).await;
    assert_eq!(people.len(), 4, "Ada, Bo, Finn and Old: {people:?}");
    let ada = by_email(&people, "ada@example.com");
    let tags: Vec<&str> = ada.fields.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["vip"], "the second Ada row updated the first");
    assert_eq!(ada.fields.custom_fields.get("tier"), Some(&json!("gold")));
    let bo = by_email(&people, "bo@example.com");
    let bo_emails: Vec<&str> = bo.fields.emails.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(bo_emails, ["bo@example.com", "cy@example.com"], "Cy's row found Bo by external id X2");
    assert_eq!(bo.fields.company_id, ada.fields.company_id, "one Acme for both");
    let companies = store.list_companies(&ListQuery::default(), &CompanyFilter::default()).await.unwrap();
    assert_eq!(companies.items.len(), 1, "{:?}", companies.items);
    let olga = store.get_person(old.id).await.unwrap();
    assert_eq!(olga.fields.first_name.as_str(), "Olga");
    assert_eq!(olga.fields.custom_fields.get("tier"), Some(&json!("silver")));

    // Written together, each new person still has its history and is found by search.
    let finn = by_email(&people, "finn@example.com");
    let history = store.history(rapport_domain::history::RecordKind::People, finn.id.0).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].action, rapport_domain::history::HistoryAction::Create);
    let query = ListQuery { q: Some("acme".into()), ..Default::default() };
    let found = store.list_people(&query, &PersonFilter::default()).await.unwrap();
    let mut names: Vec<&str> = found.items.iter().map(|p| p.fields.first_name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Ada", "Cy"], "found by their company's name (Cy's row renamed Bo)");

    // Created together through the store, people are all written or none is.
    let nobody = rapport_domain::CompanyId::new();
    let inputs = vec![
        serde_json::from_value(json!({"first_name": "Gus"})).unwrap(),
        serde_json::from_value(json!({"first_name": "Hal", "company_id": nobody})).unwrap(),
    ];
    let refused = store.create_people(&actor, inputs).await.unwrap_err();
    assert!(refused.to_string().contains("company_id"), "{refused}");
    assert_eq!(everyone(&store).await.len(), 4, "Gus was not written either");
    store.close().await.unwrap();
}

async fn mapping_file_names_the_columns(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file =
        write(dir.path(), "leute.csv", "Vorname|Mail|Schlagworte|Telefon\nAda|ada@example.com|a;b|+49 30 1234567\n");
    // Without a mapping only `Mail` is known, and a new person needs a first name.
    refused(import(&db.url, &[&file]), "line 2, column \"first_name\": is required for a new person");
    // A file without a header row: no cell of its first row names a column.
    let headless = write(dir.path(), "headless.csv", "Ada,ada@example.com\nBob,bob@example.com\n");
    refused(import(&db.url, &[&headless]), "does not look like a header");
    assert!(everyone(&store).await.is_empty());

    let mapping = write(
        dir.path(),
        "mapping.json",
        r#"{"Vorname": "first_name", "mail": "emails", "Schlagworte": "tags", "Telefon": "Phone"}"#,
    );
    let saved = dir.path().join("saved.json");
    succeeded(import(&db.url, &[&file, "--mapping", &mapping, "--save-mapping", saved.to_str().unwrap()]));
    let people = everyone(&store).await;
    assert_eq!(people.len(), 1);
    let ada = &people[0].fields;
    assert_eq!(ada.first_name.as_str(), "Ada");
    assert_eq!(ada.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(ada.phones[0].number.as_str(), "+49 30 1234567");

    // The saved mapping reads the file again: the same person, unchanged.
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(saved, json!({"Vorname": "first_name", "Mail": "emails", "Schlagworte": "tags", "Telefon": "phones"}));
    let reused = write(dir.path(), "reused.json", &saved.to_string());
    let again = succeeded(import(&db.url, &[&file, "--mapping", &reused]));
    assert!(again.stderr.contains("1 unchanged"), "{}", again.stderr);

    let bad = write(dir.path(), "bad.json", r#"{"Vorname": "given"}"#);
    refused(import(&db.url, &[&file, "--mapping", &bad]), "not a field");
    store.close().await.unwrap();
}

async fn export_then_import_gives_the_same_people(backend: Backend) {
    let source = TestDatabase::new(backend).await;
    succeeded(rapport(&source.url, &["demo", "--seed", "5", "--scale", "0.02"], ""));
    // The demo enters one person twice under one email, and an import is an
    // upsert by email: the copy goes first, so both sides hold distinct people.
    let from = Store::connect(&source.url).await.unwrap();
    let email = rapport_domain::Email::parse("demo.admin@example.com").unwrap();
    let demo_admin = from.find_user_by_email(&email).await.unwrap().expect("the demo admin");
    let demo_admin = Actor { user_id: demo_admin.id, role: demo_admin.fields.role, team_id: None };
    let mut seen = std::collections::HashSet::new();
    for person in everyone(&from).await {
        let emails: Vec<String> = person.fields.emails.iter().map(|e| e.address.to_string()).collect();
        if !emails.iter().all(|email| seen.insert(email.clone())) {
            from.delete_person(&demo_admin, person.id).await.unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    let file = file.to_str().unwrap();
    succeeded(rapport(&source.url, &["export", "--type", "people", "--format", "csv", "--output", file], ""));

    let (target, store) = database(backend).await;
    let actor = admin(&store).await;
    for definition in from.list_custom_fields(Some(EntityType::Person)).await.unwrap() {
        store.create_custom_field(&actor, definition.field).await.unwrap();
    }
    let outcome = succeeded(import(&target.url, &[file]));
    assert!(!outcome.stderr.contains("warning"), "every exported column is known: {}", outcome.stderr);

    let key = |people: Vec<Person>| {
        let mut keys: Vec<String> = people
            .into_iter()
            .map(|p| {
                let f = p.fields;
                let emails: Vec<String> = f.emails.into_iter().map(|e| e.address.to_string()).collect();
                let phones: Vec<String> = f.phones.into_iter().map(|p| p.number.as_str().to_owned()).collect();
                // The CSV holds the primary address, without its label.
                let address = f.addresses.iter().find(|a| a.primary).map(|a| a.one_line());
                json!([
                    f.first_name,
                    f.last_name,
                    emails,
                    phones,
                    f.birthday,
                    address,
                    f.job_title,
                    f.lifecycle_stage,
                    f.source,
                    f.tags,
                    f.keep_in_touch_days,
                    f.custom_fields
                ])
                .to_string()
            })
            .collect();
        keys.sort();
        keys
    };
    let original = key(everyone(&from).await);
    assert_eq!(original.len(), 38, "40 people and two entered twice, three deleted by the demo and the copy here");
    assert!(original.iter().any(|k| k.contains("customer_tier")), "the demo sets custom fields");
    assert!(original.iter().any(|k| k.contains("--")), "the demo has birthdays without the year");
    assert!(original.iter().any(|k| k.contains("Portugal") || k.contains("Germany")), "the demo has addresses");
    assert_eq!(key(everyone(&store).await), original);
    from.close().await.unwrap();
    store.close().await.unwrap();
}

/// `rows` people, each with an address and a number, one per line after the header.
fn people_csv(rows: usize) -> String {
    let mut csv = String::from("first_name,last_name,email,phone\n");
    for i in 0..rows {
        csv.push_str(&format!("P{i},Person,p{i}@example.com,+1 555 {i:07}\n"));
    }
    csv
}

async fn all_or_nothing_over_many_batches_rolls_back_on_one_bad_row(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    // Three batches' worth, the bad address in the last one: the first two
    // were written in the open transaction before it was read.
    let mut csv = people_csv(2_500);
    csv.push_str("Bad,Row,bad@,+1 555 9999999\n");
    let file = write(dir.path(), "people.csv", &csv);
    let outcome = import(&db.url, &[&file]);
    assert!(outcome.stderr.contains("line 2502, column \"email\""), "{}", outcome.stderr);
    refused(outcome, "nothing was written");
    assert_eq!(store.count_people().await.unwrap(), 0);

    let dry = succeeded(import(&db.url, &[&file, "--mode", "dry-run"]));
    assert!(dry.stderr.contains("2501 rows read: would be 2500 created"), "{}", dry.stderr);
    assert_eq!(store.count_people().await.unwrap(), 0);
    store.close().await.unwrap();
}

/// One number from a `SELECT COUNT(...)`.
async fn count(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.expect("connect");
    let backend = db.get_database_backend();
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await.expect(sql).expect("one row");
    let count = row.try_get_by_index::<i64>(0).expect("a count");
    db.close().await.unwrap();
    count
}

async fn killed_import_leaves_whole_batches_and_a_rerun_completes_it(backend: Backend) {
    const ROWS: u64 = 20_000;
    const BATCH: u64 = rapport_import::BATCH as u64;
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "people.csv", &people_csv(ROWS as usize));
    let args = ["--database-url", &db.url, "import", "people", &file, "--mode", "skip-invalid"];

    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(args)
        .env("RAPPORT_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the rapport binary starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.count_people().await.unwrap() < BATCH {
        assert!(Instant::now() < deadline, "no batch was written in two minutes");
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    let stored = store.count_people().await.unwrap();
    assert!(stored < ROWS, "killed before the end: {stored}");
    assert_eq!(stored % BATCH, 0, "whole batches only: {stored}");
    let points = count(&db.url, "SELECT COUNT(*) FROM contact_points").await;
    assert_eq!(points as u64, 2 * stored, "every stored person has their address and number");
    for person in everyone(&store).await {
        assert!(!person.fields.emails.is_empty() && !person.fields.phones.is_empty(), "{person:?}");
    }

    let rerun = succeeded(import(&db.url, &[&file, "--mode", "skip-invalid"]));
    let expected = format!("{ROWS} rows read: {} created, 0 updated, {stored} unchanged, 0 rejected", ROWS - stored);
    assert!(rerun.stderr.contains(&expected), "{}", rerun.stderr);
    assert_eq!(store.count_people().await.unwrap(), ROWS);
    let addresses = count(&db.url, "SELECT COUNT(DISTINCT value) FROM contact_points WHERE kind = 'email'").await;
    assert_eq!(addresses as u64, ROWS, "nobody twice");
    store.close().await.unwrap();
}

fn import_kind(url: &str, kind: &str, args: &[&str]) -> common::Outcome {
    rapport(url, &[&["import", kind], args].concat(), "")
}

async fn companies_are_found_by_external_id_domain_or_name(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "companies.csv",
        "External ID,Company,Website,Industry,Size,Tags\n\
         crm-1,Acme,https://www.acme.example/,Tools,11-50,b2b\n\
         ,Globex,globex.example,,,\n\
         ,Initech,,Software,,\n\
         crm-4,Hooli,,,huge,\n",
    );
    let first = import_kind(&db.url, "companies", &[&file, "--mode", "skip-invalid"]);
    let first = succeeded(first);
    assert!(first.stderr.contains("4 rows read: 3 created, 0 updated, 0 unchanged, 1 rejected"), "{}", first.stderr);
    assert!(first.stderr.contains("line 5, column \"Size\": must be one of"), "{}", first.stderr);
    let again = succeeded(import_kind(&db.url, "companies", &[&file, "--mode", "skip-invalid"]));
    assert!(again.stderr.contains("0 created, 0 updated, 3 unchanged, 1 rejected"), "{}", again.stderr);

    // Found by external id (a new name), by domain (a new external id), by name in any case (a new industry).
    let changes = write(
        dir.path(),
        "changes.csv",
        "external_id,name,domain,industry\ncrm-1,Acme Corp,,\ncrm-2,,globex.example,\n,INITECH,,Consulting\n",
    );
    let changed = succeeded(import_kind(&db.url, "companies", &[&changes]));
    assert!(changed.stderr.contains("0 created, 3 updated, 0 unchanged"), "{}", changed.stderr);
    let page = store
        .list_companies(&ListQuery { limit: Some(50), ..Default::default() }, &CompanyFilter::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let by_name = |name: &str| page.items.iter().find(|c| c.fields.name.as_str() == name).unwrap().clone();
    let acme = by_name("Acme Corp");
    assert_eq!(acme.fields.external_id.as_ref().unwrap().as_str(), "crm-1");
    assert_eq!(acme.fields.domain.as_ref().unwrap().as_str(), "acme.example");
    assert_eq!(acme.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["b2b"]);
    assert_eq!(by_name("Globex").fields.external_id.as_ref().unwrap().as_str(), "crm-2");
    assert_eq!(by_name("INITECH").fields.industry.as_ref().unwrap().as_str(), "Consulting");

    // A row whose domain is another company's is refused, not merged.
    let clash = write(dir.path(), "clash.csv", "external_id,name,domain\ncrm-1,Acme Corp,globex.example\n");
    refused(import_kind(&db.url, "companies", &[&clash]), "another company has this domain");
    refused(
        import_kind(&db.url, "companies", &[&write(dir.path(), "none.csv", "industry\nTools\n")]),
        "name or domain",
    );
    store.close().await.unwrap();
}

async fn purchases_name_their_customer_and_create_people_adds_them(backend: Backend) {
    let (db, store) = database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let people = write(dir.path(), "people.csv", "external_id,first_name,email\nc-1,Ada,ada@example.com\n");
    succeeded(import(&db.url, &[&people]));
    let purchases = write(
        dir.path(),
        "purchases.csv",
        "Order Number;Customer ID;Email;Date;Total;Currency;Item\n\
         A-1;c-1;;2024-05-01;19.90;EUR;Book\n\
         A-2;;ada@example.com;2024-05-02T10:00:00Z;5;EUR;\n\
         A-3;;bob@example.com;2024-05-03 09:30;1,200.00;USD;Desk\n\
         A-4;c-9;;2024-05-04;7.5;EUR;\n\
         A-5;;cy@example.com;yesterday;1.999;EUR;\n",
    );
    // Without --create-people, unknown customers are rejected with the column that named them.
    let outcome = import_kind(&db.url, "purchases", &[&purchases]);
    assert!(
        outcome.stderr.contains("line 4, column \"Email\": no person has \"bob@example.com\""),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 5, column \"Customer ID\": no person has \"c-9\""), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("line 6, column \"Date\": must be a date"), "{}", outcome.stderr);
    assert!(outcome.stderr.contains("line 6, column \"Total\""), "{}", outcome.stderr);
    refused(outcome, "nothing was written");

    let args = [purchases.as_str(), "--mode", "skip-invalid", "--create-people"];
    let created = succeeded(import_kind(&db.url, "purchases", &args));
    assert!(
        created.stderr.contains("5 rows read: 4 created, 0 updated, 0 unchanged (2 new people), 1 rejected"),
        "{}",
        created.stderr
    );
    let again = succeeded(import_kind(&db.url, "purchases", &args));
    assert!(again.stderr.contains("0 created, 0 updated, 4 unchanged, 1 rejected"), "{}", again.stderr);

    let everybody = everyone(&store).await;
    assert_eq!(everybody.len(), 3, "Ada, and the two customers the file named");
    let ada = by_email(&everybody, "ada@example.com");
    let bob = by_email(&everybody, "bob@example.com");
    assert_eq!(bob.fields.first_name.as_str(), "bob");
    let nine = everybody.iter().find(|p| p.fields.external_id.as_ref().is_some_and(|e| e.as_str() == "c-9")).unwrap();
    let adas = bought(&store, ada.id).await;
    assert_eq!(adas.len(), 2);
    let a1 = adas.iter().find(|p| p.fields.reference.as_ref().unwrap().as_str() == "A-1").unwrap();
    assert_eq!(a1.fields.amount.amount_minor, 1990);
    assert_eq!(a1.fields.description.as_ref().unwrap().as_str(), "Book");
    let bobs = bought(&store, bob.id).await;
    assert_eq!((bobs[0].fields.amount.amount_minor, bobs[0].fields.amount.currency.as_str()), (120_000, "USD"));
    assert_eq!(bought(&store, nine.id).await.len(), 1);

    // A changed amount updates the purchase found by customer and reference.
    let changed = write(
        dir.path(),
        "changed.csv",
        "reference,customer_email,occurred_at,amount,currency\nA-2,ada@example.com,2024-05-02T10:00:00Z,6,EUR\n",
    );
    let outcome = succeeded(import_kind(&db.url, "purchases", &[&changed]));
    assert!(outcome.stderr.contains("0 created, 1 updated, 0 unchanged"), "{}", outcome.stderr);

    // Purchases are written a batch at a time: a second row with the same
    // customer and reference in one file updates what the first created.
    let twice = write(
        dir.path(),
        "twice.csv",
        "reference,customer_email,occurred_at,amount,currency\n\
         A-6,ada@example.com,2024-06-01,10,EUR\n\
         A-7,ada@example.com,2024-06-02,3,EUR\n\
         A-6,ada@example.com,2024-06-01,12,EUR\n",
    );
    let outcome = succeeded(import_kind(&db.url, "purchases", &[&twice]));
    assert!(outcome.stderr.contains("2 created, 1 updated, 0 unchanged"), "{}", outcome.stderr);
    let adas = bought(&store, ada.id).await;
    let a6 = adas.iter().find(|p| p.fields.reference.as_ref().unwrap().as_str() == "A-6").unwrap();
    assert_eq!(a6.fields.amount.amount_minor, 1200);
    assert_eq!(adas.len(), 4);
    refused(
        import_kind(&db.url, "purchases", &[&write(dir.path(), "no-ref.csv", "email,date,amount,currency\n")]),
        "reference",
    );
    store.close().await.unwrap();
}

async fn bought(store: &Store, person: rapport_domain::PersonId) -> Vec<rapport_domain::records::Purchase> {
    let filter = PurchaseFilter { person_id: Some(person), ..Default::default() };
    store.list_purchases(&ListQuery::default(), &filter).await.unwrap().items
}

async fn deals_and_activities_are_found_by_external_id(backend: Backend) {
    use rapport_domain::records::{PipelineInput, StageInput};
    let (db, store) = database(backend).await;
    let actor = admin(&store).await;
    let stage = |name: &str, win| StageInput { id: None, name: name.try_into().unwrap(), win_probability: win };
    // The first admin came with the starter pipeline; this test's deals name other stages.
    for starter in store.list_pipelines().await.unwrap() {
        store.delete_pipeline(&actor, starter.id).await.unwrap();
    }
    let sales = PipelineInput { name: "Sales".try_into().unwrap(), stages: vec![stage("New", 10), stage("Won", 100)] };
    let sales = store.create_pipeline(&actor, sales).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    succeeded(import_kind(&db.url, "companies", &[&write(dir.path(), "c.csv", "external_id,name\nco-1,Acme\n")]));

    let deals = write(
        dir.path(),
        "deals.csv",
        "Deal ID,Deal Name,Value,Currency,Stage,Email,Company,Close Date,Status\n\
         d-1,Big one,1000,EUR,,ada@example.com,Acme,2025-01-31,open\n\
         d-2,Small one,10.5,EUR,won,,,,won\n\
         d-3,Bad stage,1,EUR,Nowhere,,,,\n\
         ,No id,1,EUR,,,,,\n",
    );
    let first = succeeded(import_kind(&db.url, "deals", &[&deals, "--mode", "skip-invalid", "--create-people"]));
    assert!(
        first.stderr.contains("4 rows read: 2 created, 0 updated, 0 unchanged (1 new people), 2 rejected"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("line 4, column \"Stage\": the pipeline has no stage \"Nowhere\""),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("line 5, column \"Deal ID\": is required"), "{}", first.stderr);
    let again = succeeded(import_kind(&db.url, "deals", &[&deals, "--mode", "skip-invalid"]));
    assert!(again.stderr.contains("0 created, 0 updated, 2 unchanged, 2 rejected"), "{}", again.stderr);

    let all = store.list_deals(&ListQuery::default(), &DealFilter::default()).await.unwrap().items;
    assert_eq!(all.len(), 2);
    let big = all.iter().find(|d| d.fields.external_id.as_ref().unwrap().as_str() == "d-1").unwrap();
    assert_eq!(big.fields.pipeline_id, sales.id);
    assert_eq!(big.fields.stage_id, sales.stages[0].id, "the first stage when none is named");
    assert_eq!(big.fields.amount.amount_minor, 100_000);
    assert!(big.fields.person_id.is_some() && big.fields.company_id.is_some());
    let small = all.iter().find(|d| d.fields.external_id.as_ref().unwrap().as_str() == "d-2").unwrap();
    assert_eq!(small.fields.stage_id, sales.stages[1].id);

    let activities = write(
        dir.path(),
        "activities.csv",
        "external_id,type,date,subject,notes,customer_email,deal_external_id\n\
         a-1,call,2024-06-01T09:00:00Z,Intro,\"Talked, at length\",ada@example.com,d-1\n\
         a-2,note,2024-06-02,,Remember the budget,,d-2\n\
         a-3,fax,2024-06-03,Old,,,d-2\n",
    );
    let first = succeeded(import_kind(&db.url, "activities", &[&activities, "--mode", "skip-invalid"]));
    assert!(first.stderr.contains("3 rows read: 2 created, 0 updated, 0 unchanged, 1 rejected"), "{}", first.stderr);
    assert!(first.stderr.contains("line 4, column \"type\": must be one of"), "{}", first.stderr);
    let again = succeeded(import_kind(&db.url, "activities", &[&activities, "--mode", "skip-invalid"]));
    assert!(again.stderr.contains("0 created, 0 updated, 2 unchanged, 1 rejected"), "{}", again.stderr);
    let changed = write(dir.path(), "changed.csv", "external_id,subject\na-1,Introduction\n");
    let changed = succeeded(import_kind(&db.url, "activities", &[&changed]));
    assert!(changed.stderr.contains("0 created, 1 updated, 0 unchanged"), "{}", changed.stderr);
    let all = store.list_activities(&ListQuery::default(), &ActivityFilter::default()).await.unwrap().items;
    assert_eq!(all.len(), 2);
    let call = all.iter().find(|a| a.external_id.as_ref().unwrap().as_str() == "a-1").unwrap();
    assert_eq!(call.fields.subject.as_ref().unwrap().as_str(), "Introduction");
    assert_eq!(call.fields.body.as_ref().unwrap().as_str(), "Talked, at length");
    assert_eq!(call.fields.links.deal_id, Some(big.id));
    assert_eq!(call.fields.links.person_id, big.fields.person_id);

    // Activities are written a batch at a time: a repeated external id in
    // one file updates what its first row created, and the customer's last
    // contact follows the meeting.
    let more = write(
        dir.path(),
        "more.csv",
        "external_id,type,date,subject,customer_email,company\n\
         a-4,meeting,2024-07-01T10:00:00Z,Kick-off,ada@example.com,Acme\n\
         a-4,meeting,2024-07-01T10:00:00Z,Kick-off (moved),ada@example.com,Acme\n",
    );
    let outcome = succeeded(import_kind(&db.url, "activities", &[&more]));
    assert!(outcome.stderr.contains("1 created, 1 updated, 0 unchanged"), "{}", outcome.stderr);
    let all = store.list_activities(&ListQuery::default(), &ActivityFilter::default()).await.unwrap().items;
    let kick_off = all.iter().find(|a| a.external_id.as_ref().unwrap().as_str() == "a-4").unwrap();
    assert_eq!(kick_off.fields.subject.as_ref().unwrap().as_str(), "Kick-off (moved)");
    assert!(kick_off.fields.links.company_id.is_some());
    let ada = store.get_person(big.fields.person_id.unwrap()).await.unwrap();
    assert_eq!(ada.last_contacted_at, kick_off.fields.occurred_at);
    store.close().await.unwrap();
}

async fn tickets_from_another_help_desk_are_found_by_their_number(backend: Backend) {
    use rapport_domain::tickets::{TicketPriority, TicketStatus};
    use rapport_storage::TicketFilter;
    let (db, store) = database(backend).await;
    let actor = admin(&store).await;
    store
        .create_team(&actor, rapport_domain::records::TeamInput { name: "Support".try_into().unwrap() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // As a help desk exports them: its own column names and words.
    let file = write(
        dir.path(),
        "tickets.csv",
        "Ticket ID,Subject,State,Priority,Via,Requester,Assignee,Group,Tags,Created\n\
         Z-1,Printer on fire,open,high,web form,ada@example.com,admin@example.com,support,\"printer; urgent\",2026-11-02 09:15\n\
         Z-2,Old question,closed,medium,mail,bob@example.com,,,,2026-10-01\n\
         Z-3,Waiting on parts,on hold,low,phone,ada@example.com,,,,2026-11-20T08:00:00Z\n\
         Z-4,Bad one,stuck,low,,ada@example.com,,,,\n\
         Z-5,Nobody's,open,low,,,,,,\n\
         Z-6,Unknown agent,open,low,,ada@example.com,ghost@example.com,,,\n",
    );
    let first = succeeded(import_kind(&db.url, "tickets", &[&file, "--mode", "skip-invalid", "--create-people"]));
    assert!(
        first.stderr.contains("6 rows read: 3 created, 0 updated, 0 unchanged (2 new people), 3 rejected"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("line 5, column \"State\": must be one of"), "{}", first.stderr);
    assert!(first.stderr.contains("a new ticket needs its requester"), "{}", first.stderr);
    assert!(first.stderr.contains("no staff member signs in as ghost@example.com"), "{}", first.stderr);
    let again = succeeded(import_kind(&db.url, "tickets", &[&file, "--mode", "skip-invalid"]));
    assert!(again.stderr.contains("0 created, 0 updated, 3 unchanged, 3 rejected"), "{}", again.stderr);

    let all = store.list_tickets(&actor, &ListQuery::default(), &TicketFilter::default()).await.unwrap().items;
    assert_eq!(all.len(), 3);
    let by = |number: &str| all.iter().find(|t| t.fields.external_id.as_ref().unwrap().as_str() == number).unwrap();
    let fire = by("Z-1");
    assert_eq!((fire.fields.status, fire.fields.priority), (TicketStatus::Open, TicketPriority::High));
    assert_eq!(fire.fields.assignee_id, Some(actor.user_id));
    assert!(fire.fields.team_id.is_some(), "the team, found by name in any case");
    assert_eq!(fire.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["printer", "urgent"]);
    assert_eq!(fire.meta.created_at, time::macros::datetime!(2026-11-02 09:15 UTC), "opened when it was");
    let old = by("Z-2");
    assert_eq!(old.fields.status, TicketStatus::Closed, "a closed ticket comes in closed");
    assert!(old.clocks.closed_at.is_some());
    assert_eq!(by("Z-3").fields.status, TicketStatus::Pending);

    // A ticket custom field, as `cf.<key>`: checked against its definition.
    let product = CustomFieldInput {
        entity_type: EntityType::Ticket,
        key: "product".to_string().try_into().unwrap(),
        label: "Product".try_into().unwrap(),
        kind: FieldKind::Choice,
        choices: vec!["App".try_into().unwrap(), "Web".try_into().unwrap()],
        required: false,
    };
    store.create_custom_field(&actor, product).await.expect("add the ticket field");
    let wrong = write(dir.path(), "wrong.csv", "Ticket ID,cf.product\nZ-1,Desktop\n");
    refused(import_kind(&db.url, "tickets", &[&wrong]), "must be one of: App, Web");
    let changed = write(dir.path(), "changed.csv", "Ticket ID,State,Priority,cf.product\nZ-1,resolved,urgent,App\n");
    let changed = succeeded(import_kind(&db.url, "tickets", &[&changed]));
    assert!(changed.stderr.contains("0 created, 1 updated, 0 unchanged"), "{}", changed.stderr);
    let fire = store.get_ticket(&actor, fire.id).await.unwrap();
    assert_eq!((fire.fields.status, fire.fields.priority), (TicketStatus::Solved, TicketPriority::Urgent));
    assert_eq!(fire.fields.custom_fields.get("product"), Some(&json!("App")));
    assert_eq!(fire.fields.subject.as_str(), "Printer on fire", "what a row leaves out stays");
    let reopen = write(dir.path(), "reopen.csv", "Ticket ID,State\nZ-2,open\n");
    refused(import_kind(&db.url, "tickets", &[&reopen]), "closed ticket is final");
    store.close().await.unwrap();
}

async fn survey_answers_are_found_by_their_external_id(backend: Backend) {
    use rapport_domain::surveys::{AnswerSource, QuestionKind, Response, SurveyInput, templates};
    use rapport_storage::{AnswerFilter, TaskFilter};
    let (db, store) = database(backend).await;
    let actor = admin(&store).await;
    let nps = store.create_survey(&actor, templates()[0].clone()).await.expect("the NPS survey");
    let onboarding: SurveyInput = serde_json::from_value(json!({
        "name": "Onboarding",
        "questions": [
            { "key": "notes", "kind": "free_text", "text": "Anything else?" },
            { "key": "csat", "kind": "csat", "text": "How was it?", "required": true },
            { "key": "channel", "kind": "multiple_choice", "text": "Where?", "choices": ["Web", "Phone", "Shop"] },
        ],
    }))
    .unwrap();
    let onboarding = store.create_survey(&actor, onboarding).await.expect("a survey of our own");
    let dir = tempfile::tempdir().unwrap();
    let people = write(dir.path(), "people.csv", "first_name,email\nAda,ada@example.com\n");
    succeeded(import(&db.url, &[&people]));
    let answers = || async { store.list_answers(&AnswerFilter::default(), 50).await.unwrap() };

    // A score out of range, an unknown survey, customer and staff member: each
    // named with its line and column, and all or nothing writes nothing.
    let bad = write(
        dir.path(),
        "bad.csv",
        "Response ID,Survey,Email,Score,Staff\n\
         r-1,Net Promoter Score,ada@example.com,11,\n\
         r-2,Pulse,ada@example.com,5,\n\
         r-3,Net Promoter Score,bob@example.com,5,\n\
         r-4,Net Promoter Score,ada@example.com,5,ghost@example.com\n\
         r-5,Net Promoter Score,ada@example.com,5,\n",
    );
    let outcome = import_kind(&db.url, "answers", &[&bad]);
    for problem in [
        "line 2, column \"Score\": must be a whole number from 0 to 10",
        "line 3, column \"Survey\": no survey is called \"Pulse\"",
        "line 4, column \"Email\": no person has \"bob@example.com\"",
        "line 5, column \"Staff\": no staff member signs in as ghost@example.com",
    ] {
        assert!(outcome.stderr.contains(problem), "{problem}: {}", outcome.stderr);
    }
    refused(outcome, "nothing was written");
    assert!(answers().await.is_empty());
    assert_eq!(everyone(&store).await.len(), 1, "nobody was created");

    // The survey by name in any case or by id; the score fills its headline
    // question, the comment its first free-text one, q_<key> any question.
    let file = write(
        dir.path(),
        "answers.csv",
        &format!(
            "Response ID,Survey,Email,Date,Score,Comment,Staff,q_channel\n\
             r-1,net promoter score,ada@example.com,2026-11-02 09:15,3,\"Late again, and nobody told me. Terrible.\",admin@example.com,\n\
             r-2,Net Promoter Score,bob@example.com,2026-11-03,10,\"Friendly, helpful support!\",,\n\
             r-3,{},ada@example.com,2026-11-04T08:00:00Z,5,,,Web; Shop\n",
            onboarding.id
        ),
    );
    let first = succeeded(import_kind(&db.url, "answers", &[&file, "--create-people"]));
    assert!(
        first.stderr.contains("3 rows read: 3 created, 0 updated, 0 unchanged (1 new people), 0 rejected"),
        "{}",
        first.stderr
    );
    let again = succeeded(import_kind(&db.url, "answers", &[&file]));
    assert!(again.stderr.contains("0 created, 0 updated, 3 unchanged, 0 rejected"), "{}", again.stderr);

    let all = answers().await;
    assert_eq!(all.len(), 3);
    let by = |id: &str| all.iter().find(|a| a.external_id.as_ref().unwrap().as_str() == id).unwrap().clone();
    let late = by("r-1");
    assert_eq!((late.survey_id, late.source), (nps.id, AnswerSource::Import));
    assert_eq!((late.score_kind, late.score), (Some(QuestionKind::Nps), Some(3)));
    assert_eq!(late.answered_at, time::macros::datetime!(2026-11-02 09:15 UTC));
    assert_eq!(late.subject.staff_id, Some(actor.user_id));
    assert!(late.sentiment.unwrap() < 0.0, "{late:?}");
    let task = late.follow_up_task_id.expect("a detractor is followed up");
    let tasks = store
        .list_tasks(&ListQuery::default(), &TaskFilter { person_id: Some(late.person_id), ..Default::default() })
        .await
        .unwrap()
        .items;
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [task]);
    let happy = by("r-2");
    assert!(happy.sentiment.unwrap() > 0.0 && happy.follow_up_task_id.is_none(), "{happy:?}");
    let bob = by_email(&everyone(&store).await, "bob@example.com").clone();
    assert_eq!(happy.person_id, bob.id, "the customer was created");
    let welcome = by("r-3");
    assert_eq!(
        (welcome.survey_id, welcome.score_kind, welcome.score),
        (onboarding.id, Some(QuestionKind::Csat), Some(5))
    );
    assert_eq!(
        welcome.responses.get(&"channel".to_string().try_into().unwrap()),
        Some(&Response::Choices(vec!["Web".into(), "Shop".into()]))
    );

    // A changed score updates the answer; what the row leaves out stays.
    let changed = write(
        dir.path(),
        "changed.csv",
        "answer_id,survey,customer_email,nps\nr-1,Net Promoter Score,ada@example.com,9\n",
    );
    let changed = succeeded(import_kind(&db.url, "answers", &[&changed]));
    assert!(changed.stderr.contains("0 created, 1 updated, 0 unchanged"), "{}", changed.stderr);
    let now = answers().await;
    assert_eq!(now.len(), 3, "updated, not added");
    let late = now.into_iter().find(|a| a.id == late.id).unwrap();
    assert_eq!(late.score, Some(9));
    assert_eq!(late.comment.as_deref(), Some("Late again, and nobody told me. Terrible."));
    assert_eq!(late.answered_at, time::macros::datetime!(2026-11-02 09:15 UTC));
    assert_eq!(late.subject.staff_id, Some(actor.user_id));

    // Skip-invalid writes the good rows and reports the others.
    let mixed = write(
        dir.path(),
        "mixed.csv",
        "external_id,survey,email,score,q_colour\nr-6,Onboarding,ada@example.com,2,\nr-7,Onboarding,ada@example.com,9,\nr-8,Onboarding,ada@example.com,4,red\n",
    );
    let mixed = succeeded(import_kind(&db.url, "answers", &[&mixed, "--mode", "skip-invalid"]));
    assert!(mixed.stderr.contains("3 rows read: 1 created, 0 updated, 0 unchanged, 2 rejected"), "{}", mixed.stderr);
    assert!(mixed.stderr.contains("line 3, column \"score\": must be a whole number from 1 to 5"), "{}", mixed.stderr);
    assert!(mixed.stderr.contains("line 4, column \"q_colour\": is not a question of this survey"), "{}", mixed.stderr);
    assert_eq!(answers().await.len(), 4);
    refused(import_kind(&db.url, "answers", &[&write(dir.path(), "no-id.csv", "survey,email,score\n")]), "external_id");
    store.close().await.unwrap();
}

async fn vcards_3_and_4_become_people_with_their_company(backend: Backend) {
    let (db, store) = database(backend).await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures");
    let apple = fixtures.join("apple-3.0.vcf");
    let google = fixtures.join("google-4.0.vcf");
    let (apple, google) = (apple.to_str().unwrap(), google.to_str().unwrap());

    let outcome = import_kind(&db.url, "vcard", &[apple, "--mode", "skip-invalid"]);
    let outcome = succeeded(outcome);
    assert!(
        outcome.stderr.contains("2 rows read: 1 created, 0 updated, 0 unchanged, 1 rejected"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("line 14, column \"EMAIL\": \"not-an-address\""), "{}", outcome.stderr);
    let outcome = succeeded(import_kind(&db.url, "vcard", &[google]));
    assert!(outcome.stderr.contains("1 rows read: 1 created"), "{}", outcome.stderr);
    // Again: found by email, nothing new (the note is not added twice).
    let again = succeeded(import_kind(&db.url, "vcard", &[apple, "--mode", "skip-invalid"]));
    assert!(again.stderr.contains("0 created, 0 updated, 1 unchanged, 1 rejected"), "{}", again.stderr);
    let again = succeeded(import_kind(&db.url, "vcard", &[google]));
    assert!(again.stderr.contains("0 created, 0 updated, 1 unchanged"), "{}", again.stderr);

    let people = everyone(&store).await;
    assert_eq!(people.len(), 2);
    let ada = &by_email(&people, "ada@work.example").fields;
    assert_eq!(ada.last_name.as_ref().unwrap().as_str(), "Lovelace");
    assert_eq!(ada.phones[0].number.as_str(), "+44 20 7946 0958");
    let grace = by_email(&people, "grace@navy.example");
    let grace_id = grace.id;
    let grace = &grace.fields;
    assert_eq!(grace.job_title.as_ref().unwrap().as_str(), "Rear Admiral; Computer Scientist");
    // LANG and TZ (a UTC offset, as the zone of that offset) are her preferences; NOTE is on her timeline.
    assert_eq!(grace.preferences.language.as_ref().map(|l| l.as_str()), Some("en-US"));
    assert_eq!(grace.preferences.time_zone.as_ref().map(|z| z.as_str()), Some("Etc/GMT+5"));
    let notes = store
        .list_activities(&ListQuery::default(), &ActivityFilter { person_id: Some(grace_id), ..Default::default() })
        .await
        .unwrap()
        .items;
    let bodies: Vec<&str> = notes.iter().filter_map(|n| n.fields.body.as_ref().map(|b| b.as_str())).collect();
    assert_eq!(bodies, ["Invented the first compiler."], "one note, however often the card comes");
    let companies = store.list_companies(&ListQuery::default(), &CompanyFilter::default()).await.unwrap().items;
    let names: Vec<&str> = companies.iter().map(|c| c.fields.name.as_str()).collect();
    assert_eq!(companies.len(), 2, "{names:?}");
    let navy = companies.iter().find(|c| c.fields.name.as_str() == "US Navy").unwrap();
    assert_eq!(grace.company_id, Some(navy.id));
    store.close().await.unwrap();
}

async fn an_android_vcard_2_1_export_imports_but_its_unreadable_card(backend: Backend) {
    let (db, store) = database(backend).await;
    let android = Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures/android-2.1.vcf");
    let android = android.to_str().unwrap();
    // All or nothing: the unreadable card stops the import, and nothing is written.
    let all = import_kind(&db.url, "vcard", &[android]);
    assert!(!all.ok, "{}", all.stderr);
    assert!(
        all.stderr.contains("line 12, column \"vCard\": line 15: \"this line is not a property\""),
        "{}",
        all.stderr
    );
    assert!(everyone(&store).await.is_empty());

    let outcome = succeeded(import_kind(&db.url, "vcard", &[android, "--mode", "skip-invalid"]));
    assert!(
        outcome.stderr.contains("3 rows read: 2 created, 0 updated, 0 unchanged, 1 rejected"),
        "{}",
        outcome.stderr
    );
    let people = everyone(&store).await;
    let jorg = &by_email(&people, "joerg@example.de").fields;
    assert_eq!(jorg.first_name.as_str(), "Jörg");
    assert_eq!(jorg.phones.len(), 2);
    assert!(people.iter().any(|p| p.fields.first_name.as_str() == "François"));
    store.close().await.unwrap();
}
