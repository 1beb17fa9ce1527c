//! A task's edit page: reached from the list, the inbox and the timeline,
//! saving at the version it was rendered with, showing field errors without
//! losing what was typed, the conflict form over someone else's change, and
//! the task's history beside the form.

use rapport_domain::Role;
use rapport_domain::records::Task;
use serde_json::json;

use crate::common::{
    Backend, TestApp, as_form, create_company, create_deal, create_person_with, create_sales_pipeline, create_task,
    field_error, form_fields, input_value, is_checked, rfc3339, selected_value, set_field, textarea_value, theirs_note,
    unescape,
};

backend_tests!(
    a_task_is_edited_from_its_page,
    field_errors_keep_what_was_typed,
    task_changed_through_the_api_meanwhile,
    viewers_and_strangers_cannot_edit
);

/// The History section of a page.
fn history_section(html: &str) -> &str {
    let start = html.find("id=\"history-heading\"").expect("a History section");
    let end = start + html[start..].find("</section>").expect("the section ends");
    &html[start..end]
}

async fn a_task_is_edited_from_its_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Renewal", json!({})).await;
    let grace = create_person_with(
        &app.admin,
        json!({ "first_name": "Grace", "emails": [{ "address": "grace@example.com" }] }),
    )
    .await;
    let acme = create_company(&app.admin, "Acme").await;
    let task = create_task(
        &app.admin,
        json!({ "title": "Call back", "due_at": "2030-03-04T09:30:00Z", "person_id": grace.id, "deal_id": deal.id,
                "assignee_id": app.admin_user.id }),
    )
    .await;
    let id = task.id;
    let edit_path = format!("/tasks/{id}/edit");
    let save_path = format!("/tasks/{id}");
    let web = app.web_admin().await;

    // Reached from the list, the inbox and the timeline of the person it is about.
    let list = web.get("/tasks").await.want(200);
    assert!(list.text.contains(&format!("href=\"{edit_path}\"")), "the list does not link to the edit page");
    // (The inbox lists the next two weeks and undated tasks: this one is undated.)
    let undated = create_task(&app.admin, json!({ "title": "Undated", "assignee_id": app.admin_user.id })).await;
    let inbox = web.get("/inbox").await.want(200);
    let undated_edit = format!("href=\"/tasks/{}/edit\"", undated.id);
    assert!(inbox.text.contains(&undated_edit), "the inbox has no Edit link: {}", inbox.text);
    let person = web.get(&format!("/people/{}", grace.id)).await.want(200);
    assert!(person.text.contains(&format!("href=\"{edit_path}\"")), "the timeline does not link to the task");
    // The task's own address is its edit page.
    let own = web.get(&save_path).await.want(303);
    assert_eq!(own.header("location").as_deref(), Some(edit_path.as_str()));

    // The form shows the stored task.
    let page = web.get(&edit_path).await.want(200);
    let html = &page.text;
    assert_eq!(input_value(html, "title").as_deref(), Some("Call back"));
    assert_eq!(input_value(html, "due").as_deref(), Some("2030-03-04"));
    assert_eq!(input_value(html, "person").as_deref(), Some("grace@example.com"));
    assert_eq!(selected_value(html, "assignee_id"), Some(app.admin_user.id.to_string()));
    assert_eq!(input_value(html, "version"), Some(task.meta.version.to_string()));
    assert!(!is_checked(html, "done"));
    assert!(unescape(html).contains("href=\"/deals/") && html.contains("Renewal"), "the deal is not named");
    assert!(history_section(html).contains("created it"), "no history beside the form");

    // Saving changes the title, notes, company and done, and keeps what the
    // form left as it was: the due time of day, the person and the deal.
    let mut form = form_fields(html, &save_path);
    set_field(&mut form, "title", "Call back about the renewal");
    set_field(&mut form, "notes", "Ask about the second site.");
    set_field(&mut form, "company", "acme");
    set_field(&mut form, "done", "true");
    let saved = web.post_form(&save_path, &as_form(&form)).await.want(303);
    assert_eq!(saved.header("location").as_deref(), Some(edit_path.as_str()));
    let stored = app.store.get_task(id).await.unwrap();
    let f = &stored.fields;
    assert_eq!(f.title.as_str(), "Call back about the renewal");
    assert_eq!(f.notes.as_ref().map(|n| n.as_str()), Some("Ask about the second site."));
    assert!(f.done && stored.done_at.is_some(), "not done");
    assert_eq!(f.due_at.map(rfc3339).as_deref(), Some("2030-03-04T09:30:00Z"), "the due time was lost");
    assert_eq!(f.links.person_id, Some(grace.id));
    assert_eq!(f.links.company_id, Some(acme.id));
    assert_eq!(f.links.deal_id, Some(deal.id), "the deal was dropped");
    assert_eq!(f.assignee_id, Some(app.admin_user.id));
    assert_eq!(stored.meta.version, task.meta.version + 1);

    // A new due date takes the form's day; the page shows the change in words.
    let page = web.get(&edit_path).await.want(200);
    assert!(page.text.contains("Task saved: Call back about the renewal"), "no confirmation");
    assert!(is_checked(&page.text, "done"));
    let mut form = form_fields(&page.text, &save_path);
    set_field(&mut form, "due", "2030-04-01");
    form.retain(|(name, _)| name != "done");
    web.post_form(&save_path, &as_form(&form)).await.want(303);
    let stored = app.store.get_task(id).await.unwrap();
    assert_eq!(stored.fields.due_at.map(|d| d.date().to_string()).as_deref(), Some("2030-04-01"));
    assert!(!stored.fields.done && stored.done_at.is_none(), "unticking Done did not reopen it");

    let page = web.get(&edit_path).await.want(200);
    let history = unescape(history_section(&page.text));
    assert!(
        history.contains("Title:</span> <del>Call back</del> → <ins>Call back about the renewal</ins>"),
        "{history}"
    );
    assert!(history.contains("Company:</span> <del>(none)</del> → <ins>Acme</ins>"), "{history}");
    assert!(history.contains("Done:</span> <del>no</del> → <ins>yes</ins>"), "{history}");
    assert!(history.contains("Due:</span> <del>2030-03-04 09:30 UTC</del> → <ins>2030-04-01"), "{history}");
    assert!(!history.contains(&acme.id.to_string()), "an id instead of a name: {history}");
    let all = web.get(&format!("/tasks/{id}/history")).await.want(200);
    assert!(all.text.contains("History of Call back about the renewal"), "{}", all.text);
}

async fn field_errors_keep_what_was_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app.admin, json!({ "title": "Send the offer", "notes": "Two pages" })).await;
    let id = task.id;
    let save_path = format!("/tasks/{id}");
    let web = app.web_admin().await;
    let mut form = form_fields(&web.get(&format!("/tasks/{id}/edit")).await.want(200).text, &save_path);
    set_field(&mut form, "title", "");
    set_field(&mut form, "notes", "Three pages now");
    set_field(&mut form, "due", "next week");
    set_field(&mut form, "person", "nobody@example.com");
    let refused = web.post_form(&save_path, &as_form(&form)).await.want(422);
    let html = &refused.text;
    assert_eq!(field_error(html, "title").as_deref(), Some("Title is required"));
    assert!(field_error(html, "due").is_some_and(|e| e.contains("must be a date")), "{html}");
    assert!(field_error(html, "person").is_some_and(|e| e.contains("nobody's email")), "{html}");
    assert_eq!(textarea_value(html, "notes").as_deref(), Some("Three pages now"), "the notes were lost");
    assert_eq!(input_value(html, "due").as_deref(), Some("next week"));
    assert_eq!(input_value(html, "person").as_deref(), Some("nobody@example.com"));
    assert_eq!(input_value(html, "version"), Some(task.meta.version.to_string()));
    assert!(history_section(html).contains("created it"), "the history is gone from the refused form");
    assert_eq!(app.store.get_task(id).await.unwrap().fields, task.fields, "a refused form changed the task");

    // Fixed, it saves.
    let mut again = form_fields(html, &save_path);
    set_field(&mut again, "title", "Send the offer");
    set_field(&mut again, "due", "2030-05-06");
    set_field(&mut again, "person", "");
    web.post_form(&save_path, &as_form(&again)).await.want(303);
    let saved = app.store.get_task(id).await.unwrap();
    assert_eq!(saved.fields.notes.as_ref().map(|n| n.as_str()), Some("Three pages now"));
}

async fn task_changed_through_the_api_meanwhile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app.admin, json!({ "title": "Renewal call", "notes": "Before Friday" })).await;
    let id = task.id;
    let save_path = format!("/tasks/{id}");
    let web = app.web_admin().await;
    let mut form = form_fields(&web.get(&format!("/tasks/{id}/edit")).await.want(200).text, &save_path);

    let theirs: Task =
        app.admin.update("tasks", id, json!({ "title": "Renewal call (urgent)", "due_at": "2030-01-02" })).await;

    set_field(&mut form, "title", "Renewal call with Grace");
    set_field(&mut form, "notes", "Before Thursday");
    let conflict = web.post_form(&save_path, &as_form(&form)).await.want(409);
    let html = &conflict.text;
    assert!(html.contains("Someone else changed this record"), "no conflict notice: {html}");
    assert!(html.contains(&format!("{} saved it", app.admin_user.fields.name)), "the notice does not say who");
    assert!(html.contains(&format!("href=\"/tasks/{id}/edit\">Discard mine</a>")), "no way to discard: {html}");
    assert_eq!(input_value(html, "title").as_deref(), Some("Renewal call with Grace"));
    assert_eq!(theirs_note(html, "title").as_deref(), Some("Saved meanwhile: Renewal call (urgent)"));
    assert_eq!(textarea_value(html, "notes").as_deref(), Some("Before Thursday"));
    assert_eq!(theirs_note(html, "notes"), None, "they did not change the notes");
    assert_eq!(input_value(html, "due").as_deref(), Some("2030-01-02"), "their due date is not in the form");
    assert_eq!(input_value(html, "version"), Some(theirs.meta.version.to_string()));
    assert!(history_section(html).contains("changed it"), "their change is not in the history");
    assert_eq!(app.store.get_task(id).await.unwrap().fields, theirs.fields, "the stale save was applied");

    // Saving again applies mine over theirs.
    web.post_form(&save_path, &as_form(&form_fields(html, &save_path))).await.want(303);
    let saved = app.store.get_task(id).await.unwrap();
    assert_eq!(saved.fields.title.as_str(), "Renewal call with Grace");
    assert_eq!(saved.fields.notes.as_ref().map(|n| n.as_str()), Some("Before Thursday"));
    assert_eq!(saved.fields.due_at, theirs.fields.due_at, "their due date was overwritten");
}

async fn viewers_and_strangers_cannot_edit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let task = create_task(&app.admin, json!({ "title": "Admin's own", "assignee_id": app.admin_user.id })).await;
    let id = task.id;
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    viewer.get(&format!("/tasks/{id}/edit")).await.want(403);
    viewer.post_form(&format!("/tasks/{id}"), &[("title", "Mine now"), ("version", "1")]).await.want(403);
    assert_eq!(app.store.get_task(id).await.unwrap().fields.title.as_str(), "Admin's own");

    let web = app.web_admin().await;
    web.get("/tasks/not-a-task/edit").await.want(404);
    web.get(&format!("/tasks/{}/edit", rapport_domain::TaskId(uuid::Uuid::now_v7()))).await.want(404);
}
