//! Hostile input to the pages: odd query strings, ids that are not ids,
//! forms full of junk. Nothing answers 500, and nothing is written.

use crate::common::{Backend, Resp, TestApp, create_person, field_error, unknown_id};

backend_tests!(
    bad_list_filters_are_4xx_pages,
    bad_record_ids_are_404,
    junk_person_forms_are_422,
    huge_bodies_are_refused
);

#[track_caller]
fn assert_client_error_page(resp: &Resp) {
    assert!((400..500).contains(&resp.status), "{} answered {}: {}", resp.what, resp.status, resp.text);
    assert!(
        resp.header("content-type").unwrap_or_default().starts_with("text/html"),
        "{}: not an HTML page: {:?}",
        resp.what,
        resp.header("content-type")
    );
}

async fn bad_list_filters_are_4xx_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_person(&app.admin, "Listed").await;
    let web = app.web_admin().await;
    let bad = [
        "/people?owner_id=nope",
        "/people?sort=bogus",
        "/people?sort=-bogus",
        "/people?cursor=garbage",
        "/people?cursor=%FF%FE",
        "/people?lifecycle_stage=x",
        "/people?limit=-1",
        "/people?limit=nope",
        "/people?limit=99999999999999999999999",
        "/people?q=a%00b",
        "/people?q=%00",
        "/people?tag=%07",
        "/people?company_id=1",
        "/people?updated_since=yesterday",
        "/companies?owner_id=nope",
        "/companies?sort=bogus",
        "/deals?status=maybe",
        "/deals?pipeline_id=nope",
        "/deals?cursor=garbage",
        "/tasks?assignee_id=nope",
        "/tasks?sort=bogus",
        "/tasks?q=%00",
    ];
    for path in bad {
        let resp = web.get(path).await;
        assert_client_error_page(&resp);
    }
    // The lists still work after all that.
    let page = web.get("/people").await.want(200);
    assert!(page.text.contains("Listed"));
    // Empty filter fields mean "any", as the filter form sends them.
    web.get("/people?q=&owner_id=&lifecycle_stage=&sort=").await.want(200);
    // Suggestion endpoints take anything typed.
    web.get("/people/options?referred_by=%00%01").await.want(200);
    web.get("/companies/options?company=%00").await.want(200);
}

async fn bad_record_ids_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let random = unknown_id();
    let paths = [
        "/people/not-a-uuid".to_owned(),
        format!("/people/{random}"),
        "/people/not-a-uuid/edit".to_owned(),
        format!("/people/{random}/edit"),
        "/people/%00".to_owned(),
        "/companies/not-a-uuid".to_owned(),
        format!("/companies/{random}"),
        format!("/companies/{random}/edit"),
        "/deals/not-a-uuid".to_owned(),
        format!("/deals/{random}"),
        format!("/deals/{random}/edit"),
        format!("/pipelines/{random}/board"),
        "/pipelines/not-a-uuid/board".to_owned(),
        format!("/settings/users/{random}"),
        format!("/settings/pipelines/{random}"),
    ];
    for path in &paths {
        let resp = web.get(path).await;
        assert_eq!(resp.status, 404, "{} answered {}: {}", resp.what, resp.status, resp.text);
        assert_client_error_page(&resp);
    }
    // Writes to records that do not exist: 404 too, and nothing appears.
    let posts = [
        (format!("/people/{random}"), vec![("first_name", "Ghost"), ("lifecycle_stage", "lead")]),
        ("/people/not-a-uuid".to_owned(), vec![("first_name", "Ghost"), ("lifecycle_stage", "lead")]),
        (format!("/people/{random}/delete"), vec![]),
        (format!("/people/{random}/timeline"), vec![("kind", "note"), ("body", "Ghost note")]),
        (format!("/companies/{random}/timeline"), vec![("kind", "note"), ("body", "Ghost note")]),
        (format!("/deals/{random}/move"), vec![("target", "won")]),
        ("/deals/not-a-uuid/move".to_owned(), vec![("target", "won")]),
        (format!("/tasks/{random}/done"), vec![]),
        ("/tasks/not-a-uuid/done".to_owned(), vec![]),
        (format!("/tasks/{random}/reopen"), vec![]),
        ("/tasks/not-a-uuid/reopen".to_owned(), vec![]),
        (format!("/views/{random}/delete"), vec![]),
        ("/views/not-a-uuid/delete".to_owned(), vec![]),
    ];
    for (path, form) in &posts {
        let resp = web.post_form(path, form).await;
        assert_eq!(resp.status, 404, "{} answered {}: {}", resp.what, resp.status, resp.text);
    }
    assert!(app.all_people().await.is_empty(), "a write to a missing record created someone");
}

/// A valid person form, with `changes` replacing or adding fields.
fn person_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("first_name", "Valid"), ("last_name", "Person"), ("lifecycle_stage", "lead")];
    for (key, value) in changes {
        form.retain(|(k, _)| k != key);
        form.push((key, value));
    }
    form
}

async fn junk_person_forms_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let huge = "x".repeat(100 * 1024);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("first_name", person_form(&[("first_name", "Bad\u{1}Name")])),
        ("first_name", person_form(&[("first_name", "Nul\u{0}Byte")])),
        ("last_name", person_form(&[("last_name", "Esc\u{1b}[31m")])),
        ("job_title", person_form(&[("job_title", "Bell\u{7}")])),
        ("first_name", person_form(&[("first_name", &huge)])),
        ("last_name", person_form(&[("last_name", &huge)])),
        ("source", person_form(&[("source", &huge)])),
        ("preference_notes", person_form(&[("preference_notes", &huge)])),
        ("tags", person_form(&[("tags", &huge)])),
        ("email", person_form(&[("email", &huge)])),
        ("lifecycle_stage", person_form(&[("lifecycle_stage", "overlord")])),
        ("lifecycle_stage", person_form(&[("lifecycle_stage", "")])),
        ("company", person_form(&[("company", "No Such Company Ltd")])),
        ("referred_by", person_form(&[("referred_by", "nobody@example.com")])),
        ("owner_id", person_form(&[("owner_id", "not-a-user")])),
        ("email", person_form(&[("email", "not an email")])),
        ("phone", person_form(&[("phone", "call me maybe")])),
        ("other_emails", person_form(&[("other_emails", "a@example.com, nope")])),
        ("keep_in_touch_days", person_form(&[("keep_in_touch_days", "soon")])),
        ("keep_in_touch_days", person_form(&[("keep_in_touch_days", "-5")])),
        ("preferred_channel", person_form(&[("preferred_channel", "pigeon")])),
        ("time_zone", person_form(&[("time_zone", "not a zone")])),
        ("tags", person_form(&[("tags", "ok, bad\u{1}tag")])),
    ];
    for (field, form) in &cases {
        let resp = web.post_form("/people", form).await;
        let what = format!("{} with a bad {field}", resp.what);
        assert_eq!(resp.status, 422, "{what} answered {}: {}", resp.status, short(&resp.text));
        assert!(
            field_error(&resp.text, field).is_some(),
            "{what}: no message beside {field}: {}",
            short(&problem(&resp.text))
        );
    }
    // A random owner id that is a UUID but nobody's.
    let ghost = unknown_id().to_string();
    let resp = web.post_form("/people", &person_form(&[("owner_id", &ghost)])).await;
    assert_eq!(resp.status, 422, "{} with an unknown owner answered {}: {}", resp.what, resp.status, short(&resp.text));
    assert!(field_error(&resp.text, "owner_id").is_some(), "no message beside owner_id: {}", problem(&resp.text));

    assert!(app.all_people().await.is_empty(), "a rejected form created someone");
    // The same valid form does work.
    web.post_form("/people", &person_form(&[])).await.want(303);
    assert_eq!(app.all_people().await.len(), 1);
}

async fn huge_bodies_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let huge = "y".repeat(2 * 1024 * 1024);
    for with_header in [false, true] {
        let mut request = web.request(reqwest::Method::POST, "/people");
        if with_header {
            request = request.header("x-csrf-token", web.csrf.as_str());
        }
        let form =
            [("_csrf", web.csrf.as_str()), ("first_name", "Huge"), ("lifecycle_stage", "lead"), ("notes", &huge)];
        let built = request.form(&form).build().unwrap();
        // The server may stop reading early; a closed connection is a refusal too.
        match web.api.client.execute(built).await {
            Ok(response) => {
                let status = response.status().as_u16();
                assert!((400..500).contains(&status), "a 2 MiB form (header token: {with_header}) answered {status}");
            }
            Err(err) => eprintln!("a 2 MiB form (header token: {with_header}): connection ended: {err}"),
        }
    }
    assert!(app.all_people().await.is_empty(), "a 2 MiB form created someone");
    web.get("/people").await.want(200);
}

fn short(text: &str) -> String {
    text.chars().take(2000).collect()
}

/// The form's problem banner and field messages, for failure output.
fn problem(html: &str) -> String {
    html.split("error-text").skip(1).map(|p| p.chars().take(200).collect::<String>()).collect::<Vec<_>>().join(" | ")
}
