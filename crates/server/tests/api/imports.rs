//! Imports through the API: a preview, jobs run to their report, who may
//! import and see a job, bad fields, and the upload limit.

use std::time::{Duration, Instant};

use rapport_domain::Role;
use serde::Deserialize;

use crate::common::{Api, Backend, Part, TestApp};

backend_tests!(
    preview_shows_the_first_rows_and_their_fields,
    a_job_runs_to_its_report,
    viewers_may_not_import,
    a_job_is_seen_only_by_its_starter_and_admins,
    bad_fields_are_named,
    purchases_create_the_people_they_name_when_asked,
    uploads_over_the_limit_are_refused,
    vcards_bring_birthdays_and_addresses,
    csv_columns_bring_a_birthday_and_an_address
);

#[derive(Debug, Deserialize)]
struct Preview {
    delimiter: String,
    headers: Vec<String>,
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Column {
    header: String,
    field: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Job {
    id: String,
    kind: String,
    mode: String,
    status: String,
    progress: Progress,
    report: Option<Report>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Progress {
    rows_read: u64,
    bytes_read: u64,
    total_bytes: Option<u64>,
    percent: Option<u8>,
}

#[derive(Debug, Deserialize)]
struct Report {
    created: u64,
    updated: u64,
    unchanged: u64,
    rejected: Vec<Rejected>,
    rejected_rows: u64,
    written: bool,
    rows_read: u64,
    people_created: u64,
}

#[derive(Debug, Deserialize)]
struct Rejected {
    line: u64,
    column: Option<String>,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct Jobs {
    items: Vec<Job>,
}

/// Three people, the third without the first name a new person needs (line 4).
const PEOPLE: &str = "first_name;last_name;emails\nAna;Lima;ana@example.com\nBruno;Costa;bruno@example.com\n;Nobody;nobody@example.com\n";

fn csv(contents: &str) -> Part<'_> {
    Part::File("file", "people.csv", contents.as_bytes())
}

/// Starts an import; wants 202 with the job's address.
async fn start(api: &Api, parts: &[Part<'_>]) -> Job {
    let resp = api.post_multipart("/api/v1/imports", parts).await.want(202);
    let job: Job = resp.json();
    assert_eq!(resp.header("location"), Some(format!("/api/v1/imports/{}", job.id)), "{}", resp.what);
    job
}

/// Polls a job until it is done or failed.
async fn finished(api: &Api, id: &str) -> Job {
    let started = Instant::now();
    loop {
        let job: Job = api.get(&format!("/api/v1/imports/{id}")).await.want(200).json();
        if job.status == "done" || job.status == "failed" {
            return job;
        }
        assert!(["queued", "running"].contains(&job.status.as_str()), "unknown status {job:?}");
        assert!(started.elapsed() < Duration::from_secs(60), "the job did not finish: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn preview_shows_the_first_rows_and_their_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app.admin.post_multipart("/api/v1/imports/preview", &[csv(PEOPLE), Part::Text("kind", "people")]).await;
    let preview: Preview = resp.want(200).json();
    assert_eq!(preview.delimiter, ";", "found from the header");
    assert_eq!(preview.headers, ["first_name", "last_name", "emails"]);
    let fields: Vec<Option<&str>> = preview.columns.iter().map(|c| c.field.as_deref()).collect();
    assert_eq!(fields, [Some("first_name"), Some("last_name"), Some("emails")], "{preview:?}");
    assert_eq!(preview.columns[2].header, "emails");
    assert_eq!(preview.rows.len(), 3);
    assert_eq!(preview.rows[1], ["Bruno", "Costa", "bruno@example.com"]);

    // A mapping changes the fields; nothing is imported by a preview.
    let mapping = r#"{"last_name": "first_name", "first_name": "last_name"}"#;
    let resp = app
        .admin
        .post_multipart(
            "/api/v1/imports/preview",
            &[Part::Text("kind", "people"), Part::Text("mapping", mapping), csv(PEOPLE)],
        )
        .await;
    let preview: Preview = resp.want(200).json();
    assert_eq!(preview.columns[0].field.as_deref(), Some("last_name"), "{preview:?}");
    assert_eq!(preview.columns[1].field.as_deref(), Some("first_name"), "{preview:?}");
    assert!(app.all_people().await.is_empty(), "a preview imported someone");
}

async fn a_job_runs_to_its_report(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = start(&app.admin, &[Part::Text("kind", "people"), csv(PEOPLE)]).await;
    assert_eq!((job.kind.as_str(), job.mode.as_str()), ("people", "skip-invalid"), "the default mode");
    assert!(["queued", "running", "done"].contains(&job.status.as_str()), "{job:?}");

    let job = finished(&app.admin, &job.id).await;
    assert_eq!(job.status, "done", "{job:?}");
    assert_eq!(job.error, None);
    assert_eq!(job.progress.total_bytes, Some(PEOPLE.len() as u64));
    assert_eq!(job.progress.bytes_read, PEOPLE.len() as u64);
    assert_eq!(job.progress.percent, Some(100));
    assert!(job.progress.rows_read >= 3, "{job:?}");
    let report = job.report.expect("a report when done");
    assert_eq!((report.created, report.updated, report.unchanged), (2, 0, 0), "{report:?}");
    assert!(report.written);
    assert_eq!((report.rejected.len(), report.rejected_rows, report.rows_read), (1, 1, 3), "{report:?}");
    let rejected = &report.rejected[0];
    assert_eq!(rejected.line, 4);
    assert_eq!(rejected.column.as_deref(), Some("first_name"), "{rejected:?}");
    assert!(!rejected.reason.is_empty());
    let mut names: Vec<String> = app.all_people().await.iter().map(|p| p.fields.full_name()).collect();
    names.sort();
    assert_eq!(names, ["Ana Lima", "Bruno Costa"]);

    // Again, all or nothing: the invalid row stops it, and the people already there are left alone.
    let again =
        start(&app.admin, &[Part::Text("kind", "people"), Part::Text("mode", "all-or-nothing"), csv(PEOPLE)]).await;
    let again = finished(&app.admin, &again.id).await;
    let report = again.report.expect("a report");
    assert!(!report.written, "{report:?}");
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(app.all_people().await.len(), 2);

    // A dry run of the valid rows: unchanged, nothing written.
    let valid = "first_name;last_name;emails\nAna;Lima;ana@example.com\n";
    let dry = start(&app.admin, &[Part::Text("kind", "people"), Part::Text("mode", "dry-run"), csv(valid)]).await;
    let dry = finished(&app.admin, &dry.id).await;
    let report = dry.report.expect("a report");
    assert_eq!((report.created, report.updated, report.unchanged, report.written), (0, 0, 1, false), "{report:?}");

    // The caller's jobs, newest first.
    let jobs: Jobs = app.admin.get("/api/v1/imports").await.want(200).json();
    let ids: Vec<&str> = jobs.items.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, [dry.id.as_str(), again.id.as_str(), job.id.as_str()]);
}

async fn viewers_may_not_import(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, viewer) = app.create_user(Role::Viewer, None).await;
    let error = viewer
        .post_multipart("/api/v1/imports", &[Part::Text("kind", "people"), csv(PEOPLE)])
        .await
        .want_error(403, "forbidden");
    assert!(!error.message.is_empty());
    viewer
        .post_multipart("/api/v1/imports/preview", &[Part::Text("kind", "people"), csv(PEOPLE)])
        .await
        .want_error(403, "forbidden");
    app.anonymous()
        .post_multipart("/api/v1/imports", &[Part::Text("kind", "people"), csv(PEOPLE)])
        .await
        .want_error(401, "unauthorized");
    let jobs: Jobs = viewer.get("/api/v1/imports").await.want(200).json();
    assert!(jobs.items.is_empty());
    assert!(app.all_people().await.is_empty());
}

async fn a_job_is_seen_only_by_its_starter_and_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, agent) = app.create_user(Role::Agent, None).await;
    let (_, other) = app.create_user(Role::Manager, None).await;
    let job = start(&agent, &[Part::Text("kind", "people"), csv(PEOPLE)]).await;
    finished(&agent, &job.id).await;

    let path = format!("/api/v1/imports/{}", job.id);
    other.get(&path).await.want_error(404, "not_found");
    let seen: Job = app.admin.get(&path).await.want(200).json();
    assert_eq!(seen.id, job.id);
    let theirs: Jobs = other.get("/api/v1/imports").await.want(200).json();
    assert!(theirs.items.is_empty(), "another user's job is listed");
    let admins: Jobs = app.admin.get("/api/v1/imports").await.want(200).json();
    assert!(admins.items.is_empty(), "the list is the caller's own");
    let mine: Jobs = agent.get("/api/v1/imports").await.want(200).json();
    assert_eq!(mine.items.len(), 1);

    agent.get(&format!("/api/v1/imports/{}", uuid::Uuid::now_v7())).await.want_error(404, "not_found");
    agent.get("/api/v1/imports/not-an-id").await.want_error(404, "not_found");
}

async fn bad_fields_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases: Vec<(Vec<Part<'_>>, &str)> = vec![
        (vec![Part::Text("kind", "spaceships"), csv(PEOPLE)], "kind"),
        (vec![csv(PEOPLE)], "kind"),
        (vec![Part::Text("kind", "people"), Part::Text("mode", "sometimes"), csv(PEOPLE)], "mode"),
        (vec![Part::Text("kind", "people"), Part::Text("mapping", "{not json"), csv(PEOPLE)], "mapping"),
        (
            vec![Part::Text("kind", "people"), Part::Text("mapping", r#"{"emails": "shoe_size"}"#), csv(PEOPLE)],
            "mapping",
        ),
        (vec![Part::Text("kind", "people"), Part::Text("delimiter", "ab"), csv(PEOPLE)], "delimiter"),
        (vec![Part::Text("kind", "people"), Part::Text("create_people", "perhaps"), csv(PEOPLE)], "create_people"),
        (vec![Part::Text("kind", "people")], "file"),
        (vec![Part::Text("kind", "people"), Part::Text("knd", "people"), csv(PEOPLE)], "knd"),
    ];
    for path in ["/api/v1/imports", "/api/v1/imports/preview"] {
        for (parts, field) in &cases {
            let error = app.admin.post_multipart(path, parts).await.want_error(422, "validation");
            assert!(error.field(field).is_some(), "{path} {parts:?}: {field} is not named: {error:?}");
        }
        let resp = app.admin.post(path, &serde_json::json!({ "kind": "people" })).await;
        resp.want_error(415, "unsupported_media_type");
    }
    let jobs: Jobs = app.admin.get("/api/v1/imports").await.want(200).json();
    assert!(jobs.items.is_empty(), "a refused upload started a job");
}

async fn uploads_over_the_limit_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.imports.set_upload_limit(64 * 1024);
    // Long rows, so that the file is big but quick to import.
    let padding = "x".repeat(190);
    let mut big = String::from("first_name,last_name,emails\n");
    let mut row = 0;
    while big.len() <= 100 * 1024 {
        big.push_str(&format!("Person{row},{padding},person{row}@example.com\n"));
        row += 1;
    }
    let error = app
        .admin
        .post_multipart("/api/v1/imports", &[Part::Text("kind", "people"), csv(&big)])
        .await
        .want_error(413, "payload_too_large");
    assert!(error.message.contains("65536"), "{error:?}");
    let jobs: Jobs = app.admin.get("/api/v1/imports").await.want(200).json();
    assert!(jobs.items.is_empty());

    // Under it, the same file goes through.
    app.imports.set_upload_limit(1024 * 1024);
    let job = start(&app.admin, &[Part::Text("kind", "people"), csv(&big)]).await;
    let job = finished(&app.admin, &job.id).await;
    assert_eq!(job.report.expect("a report").created, row);
}

async fn purchases_create_the_people_they_name_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let purchases =
        "reference,customer_email,occurred_at,amount,currency\nA-1,zoe@example.com,2024-05-02T10:00:00Z,12.50,EUR\n";
    let file = Part::File("file", "purchases.csv", purchases.as_bytes());

    let refused = start(&app.admin, &[Part::Text("kind", "purchases"), file]).await;
    let report = finished(&app.admin, &refused.id).await.report.expect("a report");
    assert_eq!((report.created, report.rejected_rows), (0, 1), "{report:?}");
    assert_eq!(report.rejected[0].column.as_deref(), Some("customer_email"), "{report:?}");
    assert!(app.all_people().await.is_empty());

    let job = start(&app.admin, &[Part::Text("kind", "purchases"), Part::Text("create_people", "true"), file]).await;
    let report = finished(&app.admin, &job.id).await.report.expect("a report");
    assert_eq!((report.created, report.people_created, report.rejected_rows), (1, 1, 0), "{report:?}");
    let people = app.all_people().await;
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].fields.primary_email().map(|e| e.as_str()), Some("zoe@example.com"));
}

/// vCard 2.1 (a quoted-printable ADR), 3.0 and 4.0 (a BDAY without the
/// year): each card's birthday and addresses; a BDAY given as text is left
/// out, one that is no real day rejects its card, by line.
async fn vcards_bring_birthdays_and_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let file = include_str!("../../../import/tests/fixtures/birthdays-addresses.vcf");
    let parts = [Part::Text("kind", "vcard"), Part::File("file", "contacts.vcf", file.as_bytes())];
    let job = finished(&app.admin, &start(&app.admin, &parts).await.id).await;
    let report = job.report.expect("a report");
    assert_eq!((report.created, report.rejected_rows), (4, 1), "{report:?}");
    assert_eq!(report.rejected[0].line, 31, "{report:?}");
    assert_eq!(report.rejected[0].column.as_deref(), Some("BDAY"), "{report:?}");
    let people = app.all_people().await;
    let by_email = |address: &str| {
        people
            .iter()
            .find(|p| p.fields.emails.iter().any(|e| e.address.as_str() == address))
            .unwrap_or_else(|| panic!("{address} was not imported"))
            .fields
            .clone()
    };
    let jorg = by_email("joerg.mueller@example.de");
    assert_eq!(jorg.birthday.map(String::from).as_deref(), Some("1970-03-01"));
    assert_eq!(jorg.addresses[0].one_line(), "Hauptstraße 5, 80331 München, Bayern, Deutschland");
    assert!(jorg.addresses[0].primary, "the only address is the primary one");
    let ada = by_email("ada.lovelace@example.com");
    assert_eq!(ada.birthday.map(String::from).as_deref(), Some("1985-04-15"));
    let primary: Vec<bool> = ada.addresses.iter().map(|a| a.primary).collect();
    assert_eq!(primary, [false, true], "PREF marks the primary one");
    let grace = by_email("grace.hopper@example.org");
    assert_eq!(grace.birthday.map(String::from).as_deref(), Some("--12-09"));
    assert_eq!(by_email("old.soul@example.org").birthday, None);

    // Again: nothing new, and the addresses are not added twice.
    let again = finished(&app.admin, &start(&app.admin, &parts).await.id).await;
    let report = again.report.expect("a report");
    assert_eq!((report.created, report.updated, report.unchanged), (0, 0, 4), "{report:?}");
}

async fn csv_columns_bring_a_birthday_and_an_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let file = "first_name,email,DOB,Street,City,State,ZIP,Country\n\
                Ana,ana@example.com,1985-04-15,Rua Augusta 10,Lisbon,,1100-053,Portugal\n\
                Bea,bea@example.com,--12-24,,,,,\n\
                Cy,cy@example.com,1985-02-30,,Porto,,,\n\
                Di,di@example.com,,,Boston,MA,02108;,\n";
    let parts = [Part::Text("kind", "people"), csv(file)];
    let job = finished(&app.admin, &start(&app.admin, &parts).await.id).await;
    let report = job.report.expect("a report");
    assert_eq!((report.created, report.rejected_rows), (2, 2), "{report:?}");
    let reasons: Vec<(u64, Option<&str>)> = report.rejected.iter().map(|r| (r.line, r.column.as_deref())).collect();
    assert_eq!(reasons, [(4, Some("DOB")), (5, Some("ZIP"))], "named by their columns: {report:?}");
    let people = app.all_people().await;
    let ana = &people.iter().find(|p| p.fields.first_name.as_str() == "Ana").expect("Ana").fields;
    assert_eq!(ana.birthday.map(String::from).as_deref(), Some("1985-04-15"));
    assert_eq!(ana.addresses.len(), 1);
    assert_eq!(ana.addresses[0].one_line(), "Rua Augusta 10, 1100-053 Lisbon, Portugal");
    let bea = &people.iter().find(|p| p.fields.first_name.as_str() == "Bea").expect("Bea").fields;
    assert_eq!((bea.birthday.map(String::from).as_deref(), bea.addresses.len()), (Some("--12-24"), 0));

    // A later file adds a second address to Ana, and leaves her birthday when it has none.
    let more = "email,city,country\nana@example.com,Porto,Portugal\nana@example.com,Lisbon,Portugal\n";
    let job = finished(&app.admin, &start(&app.admin, &[Part::Text("kind", "people"), csv(more)]).await.id).await;
    let report = job.report.expect("a report");
    assert_eq!((report.updated, report.rejected_rows), (2, 0), "{report:?}");
    let ana = app.all_people().await.into_iter().find(|p| p.fields.first_name.as_str() == "Ana").expect("Ana").fields;
    let towns: Vec<&str> = ana.addresses.iter().map(|a| a.locality.as_ref().unwrap().as_str()).collect();
    assert_eq!(towns, ["Lisbon", "Porto", "Lisbon"], "a new address is added, with different parts each time");
    assert!(ana.addresses[0].primary && !ana.addresses[1].primary);
    assert_eq!(ana.birthday.map(String::from).as_deref(), Some("1985-04-15"));
}
