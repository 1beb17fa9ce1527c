//! The queue page's bulk form, without JavaScript: tick tickets, choose an
//! assignee or a status, apply; a refusal shows the queue again with the
//! ticks kept. And the queue's saved views.

use rapport_domain::Role;
use rapport_domain::tickets::{Ticket, TicketStatus};
use rapport_domain::views::ListKind;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, as_form, create_person, form_fields, set_field, unescape};

backend_tests!(the_queue_changes_ticked_tickets, the_queue_saves_its_filters_as_views);

async fn open_ticket(app: &TestApp, subject: &str, extra: Value) -> Ticket {
    let person = create_person(&app.admin, subject).await;
    let mut body = json!({ "requester_id": person.id, "subject": subject });
    crate::common::merge(&mut body, extra);
    app.admin.create("tickets", body).await
}

async fn fetch(app: &TestApp, ticket: &Ticket) -> Ticket {
    app.admin.fetch("tickets", ticket.id).await
}

/// The bulk form of `html` as the browser would send it, with `ids` ticked.
fn bulk_form(html: &str, ids: &[&Ticket], assignee: &str, status: &str) -> Vec<(String, String)> {
    let mut fields = form_fields(html, "/tickets/bulk");
    set_field(&mut fields, "assignee", assignee);
    set_field(&mut fields, "status", status);
    fields.extend(ids.iter().map(|t| ("ids".to_owned(), t.id.to_string())));
    fields
}

async fn the_queue_changes_ticked_tickets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let red = app.create_team("Red").await;
    let (ann, _) = app.create_user(Role::Agent, Some(red.id)).await;
    let one = open_ticket(&app, "Printer on fire", json!({})).await;
    let two = open_ticket(&app, "Cannot log in", json!({})).await;
    let three = open_ticket(&app, "Invoice question", json!({})).await;

    let page = web.get("/tickets?queue=unassigned").await.want(200);
    for ticket in [&one, &two, &three] {
        assert!(page.text.contains(&format!("name=\"ids\" value=\"{}\"", ticket.id)), "no box for {ticket:?}");
    }
    assert!(page.text.contains("data-select-all=\"ids\""), "no select-all box");
    let form = bulk_form(&page.text, &[&one, &two], &ann.id.to_string(), "");
    let done = web.post_form("/tickets/bulk", &as_form(&form)).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/tickets?queue=unassigned"), "back to the same queue");
    let back = web.get("/tickets?queue=unassigned").await.want(200);
    assert!(back.text.contains("Updated 2 tickets."), "no confirmation: {}", back.text);
    for ticket in [&one, &two] {
        assert_eq!(fetch(&app, ticket).await.fields.assignee_id, Some(ann.id));
    }
    assert_eq!(fetch(&app, &three).await.fields.assignee_id, None);

    // "Unassigned" empties the assignee; a status alone keeps it.
    let page = web.get("/tickets").await.want(200);
    let form = bulk_form(&page.text, &[&one], "none", "");
    web.post_form("/tickets/bulk", &as_form(&form)).await.want(303);
    let form = bulk_form(&page.text, &[&two], "", "pending");
    web.post_form("/tickets/bulk", &as_form(&form)).await.want(303);
    assert_eq!(fetch(&app, &one).await.fields.assignee_id, None);
    let two_now = fetch(&app, &two).await;
    assert_eq!((two_now.fields.assignee_id, two_now.fields.status), (Some(ann.id), TicketStatus::Pending));

    // A closed ticket refuses the change: nothing changes, the queue comes back with the ticks and why.
    app.admin.patch(&format!("/api/v1/tickets/{}", three.id), &json!({ "status": "closed" })).await.want(200);
    let before = [fetch(&app, &one).await, fetch(&app, &three).await];
    let page = web.get("/tickets").await.want(200);
    let form = bulk_form(&page.text, &[&one, &three], "", "solved");
    let refused = web.post_form("/tickets/bulk", &as_form(&form)).await.want(422);
    let text = unescape(&refused.text);
    assert!(text.contains("Nothing was changed: “Invoice question” was refused"), "{text}");
    assert!(text.contains("closed"), "the reason is not given: {text}");
    assert!(text.contains(&format!("value=\"{}\" aria-label=\"Select “Printer on fire”\" checked", one.id)), "{text}");
    assert_eq!([fetch(&app, &one).await, fetch(&app, &three).await], before, "something changed");

    // Nothing ticked, or nothing chosen: said so, nothing changes.
    let form = bulk_form(&page.text, &[], "", "open");
    let refused = web.post_form("/tickets/bulk", &as_form(&form)).await.want(422);
    assert!(refused.text.contains("Tick the tickets to change first."), "{}", refused.text);
    let form = bulk_form(&page.text, &[&one], "", "");
    let refused = web.post_form("/tickets/bulk", &as_form(&form)).await.want(422);
    assert!(refused.text.contains("Choose an assignee or a status to apply."), "{}", refused.text);

    // The form cannot send the browser elsewhere.
    let mut form = bulk_form(&page.text, &[&one], "", "open");
    set_field(&mut form, "back", "queue=mine&next=https://evil.example");
    let done = web.post_form("/tickets/bulk", &as_form(&form)).await.want(303);
    assert_eq!(done.header("location").as_deref(), Some("/tickets?queue=mine"));

    // Viewers get no bulk bar and may not post it.
    let (_, viewer) = app.web_user(Role::Viewer, None).await;
    let page = viewer.get("/tickets").await.want(200);
    assert!(!page.text.contains("name=\"ids\""), "a viewer gets boxes");
    viewer.post_form("/tickets/bulk", &[("ids", &one.id.to_string()), ("status", "open")]).await.want(403);
}

async fn the_queue_saves_its_filters_as_views(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    open_ticket(&app, "Urgent one", json!({ "priority": "urgent" })).await;
    let query = "queue=unassigned&priority=urgent";
    let page = web.get(&format!("/tickets?{query}")).await.want(200);
    let mut form = form_fields(&page.text, "/views");
    assert!(form.contains(&("query".to_owned(), query.to_owned())), "{form:?}");
    assert!(form.contains(&("list".to_owned(), "tickets".to_owned())), "{form:?}");
    set_field(&mut form, "name", "Urgent, nobody's");
    let saved = web.post_form("/views", &as_form(&form)).await.want(303);
    assert_eq!(saved.header("location"), Some(format!("/tickets?{query}")));

    let views = app.store.list_views(&app.admin_actor(), Some(ListKind::Tickets)).await.unwrap();
    assert_eq!(views.len(), 1, "{views:?}");
    assert_eq!(views[0].fields.query.as_str(), query);
    let current = web.get(&format!("/tickets?{query}")).await.want(200);
    let text = unescape(&current.text);
    assert!(text.contains(&format!("href=\"/tickets?{query}\" aria-current=\"true\">Urgent, nobody's")), "{text}");
    let other = unescape(&web.get("/tickets").await.want(200).text);
    assert!(other.contains("Urgent, nobody's") && !other.contains("aria-current=\"true\""), "{other}");

    // Deleted from the queue page, back to the queue.
    let deleted = web.post_form(&format!("/views/{}/delete", views[0].id), &[("list", "tickets")]).await.want(303);
    assert_eq!(deleted.header("location").as_deref(), Some("/tickets"));
    assert!(app.store.list_views(&app.admin_actor(), None).await.unwrap().is_empty());
}
