//! htmx: fragments with toasts, errors as fragments, redirects as
//! `HX-Redirect`; and tasks completed once, however often clicked.

use serde_json::json;

use crate::common::{Backend, PASSWORD, SESSION_COOKIE, TestApp, create_person, create_task, unescape};

backend_tests!(timeline_answers_fragments, htmx_redirects_become_hx_redirect, tasks_complete_once);

async fn timeline_answers_fragments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Timeline").await;
    let web = app.web_admin().await;
    let path = format!("/people/{}/timeline", person.id);

    let added =
        web.htmx_post(&path, &[("kind", "note"), ("body", "Called about the <renewal> & more")]).await.want(200);
    assert!(
        unescape(&added.text).contains("Called about the <renewal> & more"),
        "the note is not in the fragment: {}",
        added.text
    );
    assert!(!added.text.contains("<html"), "htmx got a whole page, not a fragment");
    assert!(added.text.contains("id=\"timeline\""), "not the timeline fragment: {}", added.text);
    let toast = added.header("hx-trigger").unwrap_or_default();
    assert!(toast.contains("rapport-toast"), "no toast: {toast:?}");
    let parsed: serde_json::Value = serde_json::from_str(&toast).expect("HX-Trigger is JSON");
    assert_eq!(parsed["rapport-toast"], "Note added.");
    assert_eq!(app.store.person_timeline(&app.admin_actor(), person.id).await.unwrap().len(), 1);

    // Nothing to add: the fragment again, with the error, as 422.
    let empty = web.htmx_post(&path, &[("kind", "note"), ("subject", ""), ("body", "   ")]).await.want(422);
    assert!(empty.text.contains("needs a few words"), "no error in the fragment: {}", empty.text);
    assert!(empty.text.contains("id=\"timeline\""));
    assert!(!empty.text.contains("<html"));
    let bad_kind = web.htmx_post(&path, &[("kind", "telepathy"), ("body", "Hmm")]).await.want(422);
    assert!(bad_kind.text.contains("form-problem"), "no error shown: {}", bad_kind.text);
    let bad_due = web.htmx_post(&path, &[("kind", "task"), ("subject", "Later"), ("due", "someday")]).await.want(422);
    assert!(bad_due.text.contains("must be a date"), "no due-date error: {}", bad_due.text);
    assert_eq!(
        app.store.person_timeline(&app.admin_actor(), person.id).await.unwrap().len(),
        1,
        "a refused addition was stored"
    );

    // A task from the composer, with a due date.
    let task = web
        .htmx_post(&path, &[("kind", "task"), ("subject", "Send the contract"), ("due", "2030-01-15")])
        .await
        .want(200);
    assert!(task.text.contains("Send the contract"));
    assert!(task.header("hx-trigger").unwrap_or_default().contains("Task added."));

    // Without htmx: back to the page with a flash, and errors as a page.
    let plain = web.post_form(&path, &[("kind", "call"), ("body", "Plain call")]).await.want(303);
    assert_eq!(plain.header("location"), Some(format!("/people/{}", person.id)));
    let page = web.get(&format!("/people/{}", person.id)).await.want(200);
    assert!(page.text.contains("Plain call") && page.text.contains("Call added."), "no flash or entry on the page");
    let plain_empty = web.post_form(&path, &[("kind", "note")]).await;
    assert!((400..500).contains(&plain_empty.status), "{} answered {}", plain_empty.what, plain_empty.status);
    assert_eq!(app.store.person_timeline(&app.admin_actor(), person.id).await.unwrap().len(), 3);
}

async fn htmx_redirects_become_hx_redirect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web("htmx");
    let token = web.presession_token("/login?next=%2Fpeople").await;
    let request = web.request(reqwest::Method::POST, "/login").header("hx-request", "true").form(&[
        ("_csrf", token.as_str()),
        ("email", "admin@example.com"),
        ("password", PASSWORD),
        ("next", "/people"),
    ]);
    let resp = web.send(request).await.want(200);
    assert_eq!(resp.header("hx-redirect").as_deref(), Some("/people"), "{:?}", resp.headers);
    assert!(resp.header("location").is_none(), "htmx got a Location too");
    assert!(web.cookie(SESSION_COOKIE).is_some(), "the htmx sign-in set no session");

    // Signed out, an htmx request for a page is sent to the login page.
    let anonymous = app.web("anonymous");
    let resp = anonymous.htmx_get("/people").await.want(200);
    assert_eq!(resp.header("hx-redirect").as_deref(), Some("/login?next=%2Fpeople"));

    // A plain form still gets the 303.
    let signed = app.web_admin().await;
    let person = create_person(&app.admin, "Redirected").await;
    let resp = signed.post_form(&format!("/people/{}/timeline", person.id), &[("kind", "note"), ("body", "x")]).await;
    assert_eq!(resp.status, 303);
    assert!(resp.header("hx-redirect").is_none());
}

async fn tasks_complete_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Tasked").await;
    let task = create_task(&app.admin, json!({ "title": "Call back", "person_id": person.id })).await;
    let web = app.web_admin().await;
    let path = format!("/tasks/{}/done", task.id);
    let version = task.meta.version.to_string();

    let done = web.post_form(&path, &[("version", &version)]).await.want(303);
    assert!(done.header("location").is_some());
    let stored = app.store.get_task(task.id).await.unwrap();
    assert!(stored.fields.done, "the task is not done");
    assert_eq!(stored.fields.title.as_str(), "Call back");
    assert_eq!(stored.meta.version, task.meta.version + 1);

    // Again (a second tab, a double click): no error, no change.
    web.post_form(&path, &[("version", &version)]).await.want(303);
    let htmx = web.htmx_post(&path, &[("version", &version)]).await.want(200);
    assert!(htmx.header("hx-trigger").unwrap_or_default().contains("already completed"), "{:?}", htmx.headers);
    let again = app.store.get_task(task.id).await.unwrap();
    assert!(again.fields.done);
    assert_eq!(again.meta.version, stored.meta.version, "completing twice changed the task again");

    // With htmx: the row becomes "done" with an Undo that takes the focus, a
    // toast, and the section's count goes one down.
    let other = create_task(&app.admin, json!({ "title": "Write up" })).await;
    let resp = web.htmx_post(&format!("/tasks/{}/done", other.id), &[]).await.want(200);
    let completed = app.store.get_task(other.id).await.unwrap();
    assert!(completed.fields.done);
    assert!(resp.text.contains(&format!("hx-post=\"/tasks/{}/reopen\"", other.id)), "no Undo: {}", resp.text);
    assert!(resp.text.contains("autofocus"), "the Undo button does not take the focus: {}", resp.text);
    assert!(resp.text.contains(&format!("name=\"version\" value=\"{}\"", completed.meta.version)));
    let trigger: serde_json::Value = serde_json::from_str(&resp.header("hx-trigger").unwrap_or_default()).unwrap();
    assert_eq!(trigger["rapport-task-count"], -1, "{trigger}");
    assert!(trigger["rapport-toast"].as_str().unwrap().contains("Task completed"), "{trigger}");

    // Undo opens it again: its row comes back, Complete focused, the count one up.
    let reopen = format!("/tasks/{}/reopen", other.id);
    let version = completed.meta.version.to_string();
    let resp = web.htmx_post(&reopen, &[("version", &version)]).await.want(200);
    let reopened = app.store.get_task(other.id).await.unwrap();
    assert!(!reopened.fields.done, "Undo left the task done");
    assert!(resp.text.contains(&format!("hx-post=\"/tasks/{}/done\"", other.id)), "no Complete: {}", resp.text);
    assert!(resp.text.contains("autofocus"), "{}", resp.text);
    let trigger: serde_json::Value = serde_json::from_str(&resp.header("hx-trigger").unwrap_or_default()).unwrap();
    assert_eq!(trigger["rapport-task-count"], 1, "{trigger}");
    // Twice (a double click): nothing changes, and the count stays.
    let resp = web.htmx_post(&reopen, &[("version", &version)]).await.want(200);
    assert!(!resp.header("hx-trigger").unwrap_or_default().contains("rapport-task-count"), "{:?}", resp.headers);
    assert_eq!(app.store.get_task(other.id).await.unwrap().meta.version, reopened.meta.version);
    // An Undo of a task changed since (a stale version) changes nothing.
    let _ = web.htmx_post(&format!("/tasks/{}/done", other.id), &[]).await.want(200);
    let resp = web.htmx_post(&reopen, &[("version", &version)]).await.want(200);
    assert!(resp.header("hx-trigger").unwrap_or_default().contains("Not reopened"), "{:?}", resp.headers);
    assert!(app.store.get_task(other.id).await.unwrap().fields.done);
    // Without htmx, back to where the click came from.
    let done = app.store.get_task(other.id).await.unwrap().meta.version.to_string();
    web.post_form(&reopen, &[("version", &done)]).await.want(303);
    assert!(!app.store.get_task(other.id).await.unwrap().fields.done);

    // The redirect goes back to where the click came from, if that is here.
    let third = create_task(&app.admin, json!({ "title": "Third" })).await;
    let request = web
        .request(reqwest::Method::POST, &format!("/tasks/{}/done", third.id))
        .header("referer", format!("{}/inbox", app.base_url))
        .form(&[("_csrf", web.csrf.as_str())]);
    assert_eq!(web.send(request).await.want(303).header("location").as_deref(), Some("/inbox"));
    let fourth = create_task(&app.admin, json!({ "title": "Fourth" })).await;
    let request = web
        .request(reqwest::Method::POST, &format!("/tasks/{}/done", fourth.id))
        .header("referer", "https://evil.example/phish")
        .form(&[("_csrf", web.csrf.as_str())]);
    let location = web.send(request).await.want(303).header("location").unwrap_or_default();
    assert!(location.starts_with('/') && !location.starts_with("//"), "sent elsewhere: {location}");
}
