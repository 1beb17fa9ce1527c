//! The import page's three steps through plain form posts: upload, the
//! preview with its column choices, then the job's page until its report.

use std::time::{Duration, Instant};

use rapport_domain::Role;

use crate::common::{Backend, Part, TestApp, WebClient, selected_value, unescape};

backend_tests!(
    a_file_is_imported_through_the_three_steps,
    uploads_need_the_form_token_first,
    viewers_and_other_users_are_kept_out,
    a_bad_upload_is_shown_again
);

const PEOPLE: &str = "Vorname,Nachname,Email address\nAna,Lima,ana@example.com\nBruno,Costa,bruno@example.com\n,Nobody,nobody@example.com\n";

/// Uploads `contents` as `kind` through step 1; returns the preview's path.
pub async fn upload(web: &WebClient, kind: &str, contents: &str) -> String {
    let resp = web
        .post_upload("/import", &[Part::File("file", "people.csv", contents.as_bytes()), Part::Text("kind", kind)])
        .await;
    let resp = resp.want(303);
    let location = resp.header("location").expect("a redirect to the preview");
    assert!(location.starts_with("/import/uploads/"), "{location}");
    location
}

/// Reloads a job's page until it shows the report.
pub async fn report_page(web: &WebClient, path: &str) -> String {
    let started = Instant::now();
    loop {
        let page = web.get(path).await.want(200);
        if !page.text.contains("hx-trigger=\"every 1s\"") {
            return page.text;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the import did not finish: {}", page.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number shown for a count (`<b data-count="NAME">N</b>`).
pub fn count(html: &str, name: &str) -> String {
    let needle = format!("data-count=\"{name}\">");
    let at = html.find(&needle).unwrap_or_else(|| panic!("no {name} count in {html}")) + needle.len();
    html[at..].split('<').next().unwrap_or_default().to_owned()
}

async fn a_file_is_imported_through_the_three_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;

    let page = web.get("/import").await.want(200);
    assert!(page.text.contains("enctype=\"multipart/form-data\""));
    assert!(page.text.contains("href=\"/import\" aria-current=\"page\""), "the nav marks Import");

    let preview_path = upload(&web, "people", PEOPLE).await;
    let preview = web.get(&preview_path).await.want(200);
    assert!(preview.text.contains("Bruno"), "the rows are shown");
    assert!(preview.text.contains("people.csv"));
    // Headers that name no field are left out until someone picks one.
    assert_eq!(selected_value(&preview.text, "column_0").as_deref(), Some(""), "Vorname names no field");
    assert_eq!(selected_value(&preview.text, "column_2").as_deref(), Some("emails"), "the email column is found");
    assert_eq!(selected_value(&preview.text, "mode").as_deref(), None, "mode is a radio group");
    assert!(preview.text.contains("value=\"skip-invalid\" checked"), "skip invalid is the default");

    // "Preview again" keeps the choices.
    let columns = [("column_0", "first_name"), ("column_1", "last_name"), ("column_2", "emails")];
    let mut form = vec![("action", "preview"), ("mode", "skip-invalid"), ("delimiter", ",")];
    form.extend_from_slice(&columns);
    let again = web.post_form(&preview_path, &form).await.want(200);
    assert_eq!(selected_value(&again.text, "column_0").as_deref(), Some("first_name"), "the choice is kept");
    assert_eq!(selected_value(&again.text, "column_1").as_deref(), Some("last_name"));

    // A field that does not exist is named.
    let bad = web
        .post_form(&preview_path, &[("action", "start"), ("mode", "skip-invalid"), ("column_0", "shoe_size")])
        .await
        .want(422);
    assert!(unescape(&bad.text).contains("\"shoe_size\", which is not a field"), "{}", bad.text);
    let twice = web
        .post_form(&preview_path, &[("action", "start"), ("mode", "skip-invalid"), ("column_0", "emails")])
        .await
        .want(422);
    assert!(twice.text.contains("both fill emails"), "{}", twice.text);
    assert!(
        app.imports.list(&app.admin_actor()).await.expect("list the imports").is_empty(),
        "a refused form started a job"
    );

    let mut form = vec![("action", "start"), ("mode", "skip-invalid"), ("delimiter", ",")];
    form.extend_from_slice(&columns);
    let started = web.post_form(&preview_path, &form).await.want(303);
    let job_path = started.header("location").expect("a redirect to the job");
    assert!(job_path.starts_with("/import/jobs/"), "{job_path}");

    let report = unescape(&report_page(&web, &job_path).await);
    assert_eq!(count(&report, "created"), "2");
    assert_eq!(count(&report, "rejected"), "1");
    assert!(report.contains("<td class=\"num\">4</td>"), "the rejected row's line: {report}");
    let mut names: Vec<String> = app.all_people().await.iter().map(|p| p.fields.full_name()).collect();
    names.sort();
    assert_eq!(names, ["Ana Lima", "Bruno Costa"]);

    // The upload was used up: its preview is gone.
    web.get(&preview_path).await.want(404);
    // The first step lists the job.
    let page = web.get("/import").await.want(200);
    assert!(page.text.contains(&format!("href=\"{job_path}\"")), "the job is not listed");
}

async fn uploads_need_the_form_token_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let file = Part::File("file", "people.csv", PEOPLE.as_bytes());
    // No token.
    web.api.post_multipart("/import", &[Part::Text("kind", "people"), file]).await.want(403);
    // A wrong one.
    web.api
        .post_multipart("/import", &[Part::Text("_csrf", "forged"), Part::Text("kind", "people"), file])
        .await
        .want(403);
    // The right one, but after the file.
    let token = web.csrf.clone();
    web.api
        .post_multipart("/import", &[file, Part::Text("kind", "people"), Part::Text("_csrf", &token)])
        .await
        .want(403);
    // And the right one first.
    upload(&web, "people", PEOPLE).await;
}

async fn viewers_and_other_users_are_kept_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    let (_, agent) = app.web_user(Role::Agent, None).await;

    viewer.get("/import").await.want(403);
    let people = viewer.get("/people").await.want(200);
    assert!(!people.text.contains("href=\"/import\""), "viewers see no Import link");
    viewer
        .post_upload("/import", &[Part::File("file", "a.csv", PEOPLE.as_bytes()), Part::Text("kind", "people")])
        .await
        .want(403);

    let preview_path = upload(&web, "people", PEOPLE).await;
    agent.get(&preview_path).await.want(404);
    agent.post_form(&preview_path, &[("action", "start"), ("mode", "skip-invalid")]).await.want(404);
    let started = web
        .post_form(&preview_path, &[("action", "start"), ("mode", "dry-run"), ("column_2", "emails")])
        .await
        .want(303);
    let job_path = started.header("location").expect("the job's page");
    agent.get(&job_path).await.want(404);
    report_page(&web, &job_path).await;
    agent.get("/import/jobs/not-a-job").await.want(404);
    assert!(app.all_people().await.is_empty(), "a dry run imported someone");
}

async fn a_bad_upload_is_shown_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let empty =
        web.post_upload("/import", &[Part::File("file", "", b""), Part::Text("kind", "people")]).await.want(422);
    assert!(unescape(&empty.text).contains("The file is required"), "{}", empty.text);
    let kind = web
        .post_upload("/import", &[Part::File("file", "a.csv", PEOPLE.as_bytes()), Part::Text("kind", "spaceships")])
        .await
        .want(422);
    assert!(kind.text.contains("id=\"e-kind\""), "{}", kind.text);

    app.imports.set_upload_limit(1024);
    let big = "x".repeat(4096);
    let too_big = web
        .post_upload("/import", &[Part::File("file", "big.csv", big.as_bytes()), Part::Text("kind", "people")])
        .await
        .want(413);
    assert!(too_big.text.contains("id=\"e-file\""), "{}", too_big.text);
}
