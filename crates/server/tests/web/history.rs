//! History on the record pages (who, when, each field old → new in words)
//! and the trash page: deleting offers an undo, the trash lists what was
//! deleted and restores it, viewers look but cannot restore.

use rapport_domain::Role;
use rapport_domain::history::RecordKind;
use rapport_domain::records::Deal;
use serde_json::json;

use crate::common::{
    Backend, TestApp, as_form, create_company, create_deal, create_person, create_person_with, create_sales_pipeline,
    form_fields, set_field, unescape,
};

backend_tests!(
    history_on_record_pages,
    long_histories_link_to_all,
    trash_lists_and_restores,
    viewers_see_the_trash_but_cannot_restore,
    tickets_have_history_and_go_to_the_trash
);

/// The History section of a record page.
fn history_section(html: &str) -> &str {
    let start = html.find("id=\"history-heading\"").expect("a History section");
    let end = start + html[start..].find("</section>").expect("the section ends");
    &html[start..end]
}

async fn history_on_record_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = create_company(&app.admin, "Acme & Co").await;
    let person = create_person(&app.admin, "Ada").await;
    let web = app.web_admin().await;
    let save_path = format!("/people/{}", person.id);
    let mut form = form_fields(&web.get(&format!("/people/{}/edit", person.id)).await.want(200).text, &save_path);
    set_field(&mut form, "last_name", "Lovelace");
    set_field(&mut form, "company", "Acme & Co");
    web.post_form(&save_path, &as_form(&form)).await.want(303);

    let page = web.get(&save_path).await.want(200);
    let history = &unescape(history_section(&page.text));
    let admin = app.admin_user.fields.name.to_string();
    assert!(history.contains(&format!("<strong>{admin}</strong> created it")), "{history}");
    assert!(history.contains(&format!("<strong>{admin}</strong> changed it")), "{history}");
    assert!(history.contains("Last name:</span> <del>(none)</del> → <ins>Lovelace</ins>"), "{history}");
    assert!(history.contains("Company:</span> <del>(none)</del> → <ins>Acme & Co</ins>"), "{history}");
    assert!(!history.contains("interests"), "an unchanged default is listed: {history}");
    assert!(!history.contains(&acme.id.to_string()), "an id instead of the company's name: {history}");
    assert!(history.find("changed it") < history.find("created it"), "not newest first: {history}");
    assert!(history.contains("<time datetime=\""), "no time: {history}");

    // Deals: money formatted, stages by name.
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Renewal", json!({})).await;
    let _: Deal = app
        .admin
        .update(
            "deals",
            deal.id,
            json!({ "amount": { "amount_minor": 250_000, "currency": "EUR" }, "stage_id": pipeline.stages[2].id }),
        )
        .await;
    let page = web.get(&format!("/deals/{}", deal.id)).await.want(200);
    let history = history_section(&page.text);
    assert!(history.contains("<del>€1,000.00</del> → <ins>€2,500.00</ins>"), "{history}");
    assert!(history.contains("Stage:</span> <del>Lead</del> → <ins>Closing</ins>"), "{history}");

    // Companies too.
    let page = web.get(&format!("/companies/{}", acme.id)).await.want(200);
    assert!(history_section(&page.text).contains("created it"));
}

async fn long_histories_link_to_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Busy").await;
    for round in 0..22 {
        let _: rapport_domain::records::Person =
            app.admin.update("people", person.id, json!({ "job_title": format!("Title {round}") })).await;
    }
    let web = app.web_admin().await;
    let page = web.get(&format!("/people/{}", person.id)).await.want(200);
    let history = history_section(&page.text);
    assert_eq!(history.matches("changed it").count(), 20, "the record page shows the latest 20");
    assert!(history.contains("<del>Title 20</del> → <ins>Title 21</ins>"), "the newest is missing");
    let all = format!("/people/{}/history", person.id);
    assert!(history.contains(&format!("href=\"{all}\">Show all 23 changes</a>")), "{history}");

    let page = web.get(&all).await.want(200);
    assert_eq!(page.text.matches("changed it").count(), 22);
    assert_eq!(page.text.matches("created it").count(), 1);
    assert!(page.text.contains("<del>(none)</del> → <ins>Title 0</ins>"));
    web.get(&format!("/people/{}/history", rapport_domain::PersonId(uuid::Uuid::now_v7()))).await.want(404);
}

async fn trash_lists_and_restores(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person_with(&app.admin, json!({ "first_name": "Grace", "last_name": "Hopper" })).await;
    let company = create_company(&app.admin, "Globex").await;
    let web = app.web_admin().await;

    // Deleting says where it went and offers to undo it.
    let deleted = web.post_form(&format!("/people/{}/delete", person.id), &[]).await.want(303);
    assert_eq!(deleted.header("location").as_deref(), Some("/people"));
    let entries = app.store.list_trash(None, time::Duration::days(30), None, 10).await.unwrap();
    let entry = entries.iter().find(|e| e.record_id == person.id.0).expect("the person is in the trash");
    assert_eq!(entry.record_type, RecordKind::People);
    let list = web.get("/people").await.want(200);
    assert!(list.text.contains("Grace Hopper was moved to the trash."), "no notice: {}", list.text);
    assert!(list.text.contains(&format!("action=\"/trash/{}/restore\"", entry.id)), "no undo button");
    let again = web.get("/people").await.want(200);
    assert!(!again.text.contains("moved to the trash"), "the notice is shown twice");

    // The trash page lists it with who and when, and filters by type.
    let trash = web.get("/trash").await.want(200);
    assert!(trash.text.contains("<strong>Grace Hopper</strong>"), "{}", trash.text);
    assert!(trash.text.contains(&format!("Deleted by {}", app.admin_user.fields.name)));
    assert!(trash.text.contains("purged for good"));
    assert!(trash.text.contains(&format!("action=\"/trash/{}/restore\"", entry.id)));
    web.post_form(&format!("/companies/{}/delete", company.id), &[]).await.want(303);
    let people_only = web.get("/trash?type=people").await.want(200);
    assert!(people_only.text.contains("Grace Hopper") && !people_only.text.contains("<strong>Globex</strong>"));
    let companies_only = web.get("/trash?type=companies").await.want(200);
    assert!(companies_only.text.contains("<strong>Globex</strong>") && !companies_only.text.contains("Grace Hopper"));
    web.get("/trash?type=junk").await.want(400);

    // Restoring brings the person back, to their page; their history says so.
    let restored = web.post_form(&format!("/trash/{}/restore", entry.id), &[]).await.want(303);
    assert_eq!(restored.header("location"), Some(format!("/people/{}", person.id)));
    assert_eq!(app.store.get_person(person.id).await.unwrap().fields.full_name(), "Grace Hopper");
    let page = web.get(&format!("/people/{}", person.id)).await.want(200);
    let history = history_section(&page.text);
    assert!(history.contains("moved it to the trash") && history.contains("restored it from the trash"), "{history}");

    // Restoring twice: a message, not an error.
    let twice = web.post_form(&format!("/trash/{}/restore", entry.id), &[]).await.want(303);
    assert_eq!(twice.header("location").as_deref(), Some("/trash"));
    assert!(web.get("/trash").await.want(200).text.contains("Not restored"));
}

async fn viewers_see_the_trash_but_cannot_restore(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Deleted").await;
    app.admin.delete(&format!("/api/v1/people/{}", person.id)).await.want(204);
    let entries = app.store.list_trash(None, time::Duration::days(30), None, 10).await.unwrap();
    let entry = &entries[0];
    let (_, viewer) = app.web_user(Role::Viewer, None).await;

    let trash = viewer.get("/trash").await.want(200);
    assert!(trash.text.contains("<strong>Deleted</strong>"));
    assert!(!trash.text.contains("/restore\""), "a viewer is offered Restore");
    let refused = viewer.post_form(&format!("/trash/{}/restore", entry.id), &[]).await.want(303);
    assert_eq!(refused.header("location").as_deref(), Some("/trash"));
    assert!(viewer.get("/trash").await.want(200).text.contains("Not restored"));
    assert!(app.store.get_person(person.id).await.is_err(), "a viewer restored a person");
}

async fn tickets_have_history_and_go_to_the_trash(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    let ticket: rapport_domain::tickets::Ticket =
        app.admin.create("tickets", json!({ "requester_id": ada.id, "subject": "Refund please" })).await;
    app.admin.patch(&format!("/api/v1/tickets/{}", ticket.id), &json!({ "priority": "urgent" })).await.want(200);
    let web = app.web_admin().await;
    let path = format!("/tickets/{}", ticket.id);

    // The page shows its history in words and a Delete button that asks first.
    let page = web.get(&path).await.want(200);
    let history = unescape(history_section(&page.text));
    assert!(history.contains("Priority:</span> <del>Normal</del> → <ins>Urgent</ins>"), "{history}");
    assert!(history.contains("created it"), "{history}");
    assert!(page.text.contains(&format!("action=\"/tickets/{}/delete\"", ticket.id)), "no Delete button");
    assert!(page.text.contains("data-confirm=\"Move the ticket"), "no confirmation");
    let all = web.get(&format!("{path}/history")).await.want(200);
    assert!(all.text.contains("changed it") && all.text.contains("created it"));
    // An agent may not delete a ticket in the queue, so is not offered to.
    let (_, agent) = app.web_user(Role::Agent, None).await;
    let seen = agent.get(&path).await.want(200);
    assert!(!seen.text.contains("/delete\""), "an agent is offered Delete");

    // The requester stays while the ticket does.
    let refused = web.post_form(&format!("/people/{}/delete", ada.id), &[]).await.want(303);
    assert_eq!(refused.header("location"), Some(format!("/people/{}", ada.id)));
    assert!(
        web.get(&format!("/people/{}", ada.id))
            .await
            .want(200)
            .text
            .contains("Not deleted: this person asked a ticket")
    );

    // Deleting goes to the queues with an undo; the trash lists and restores it.
    let deleted = web.post_form(&format!("{path}/delete"), &[]).await.want(303);
    assert_eq!(deleted.header("location").as_deref(), Some("/tickets"));
    web.get(&path).await.want(404);
    let entries = app.store.list_trash(Some(RecordKind::Tickets), time::Duration::days(30), None, 10).await.unwrap();
    let entry = &entries[0];
    let trash = web.get("/trash?type=tickets").await.want(200);
    assert!(trash.text.contains("<strong>Refund please</strong>"), "{}", trash.text);
    assert!(trash.text.contains(&format!("action=\"/trash/{}/restore\"", entry.id)));
    let restored = web.post_form(&format!("/trash/{}/restore", entry.id), &[]).await.want(303);
    assert_eq!(restored.header("location"), Some(path.clone()));
    let page = web.get(&path).await.want(200);
    let history = history_section(&page.text);
    assert!(history.contains("moved it to the trash") && history.contains("restored it from the trash"), "{history}");
}
