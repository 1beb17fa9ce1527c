//! Bulk changes of tickets through the API: assign and move the status of
//! several at once, by the rules of a single update, all or nothing.

use rapport_domain::Role;
use rapport_domain::sla::Calendar;
use rapport_domain::tickets::{Ticket, TicketStatus};
use rapport_domain::views::SavedView;
use serde_json::{Value, json};

use crate::common::{Backend, Page, TestApp, create_person, unknown_id};

backend_tests!(
    tickets_are_assigned_and_moved_together,
    one_refused_ticket_changes_none,
    bad_bulk_bodies_are_named,
    the_queue_saves_views,
);

async fn open_ticket(app: &TestApp, subject: &str, extra: Value) -> Ticket {
    let person = create_person(&app.admin, subject).await;
    let mut body = json!({ "requester_id": person.id, "subject": subject });
    crate::common::merge(&mut body, extra);
    app.admin.create("tickets", body).await
}

async fn fetch(app: &TestApp, ticket: &Ticket) -> Ticket {
    app.admin.fetch("tickets", ticket.id).await
}

async fn tickets_are_assigned_and_moved_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let red = app.create_team("Red").await;
    let (ann, _) = app.create_user(Role::Agent, Some(red.id)).await;
    let periods: Vec<Value> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        .iter()
        .map(|day| json!({ "day": day, "start": "00:00", "end": "24:00" }))
        .collect();
    let calendar: Calendar = app
        .admin
        .create("calendars", json!({ "name": "Always", "time_zone": "UTC", "periods": periods, "holidays": [] }))
        .await;
    app.admin
        .post(
            "/api/v1/sla-policies",
            &json!({ "name": "Urgent", "condition": { "priorities": ["urgent"] }, "resolution_minutes": 120,
                     "calendar_id": calendar.id }),
        )
        .await
        .want(201);
    let one = open_ticket(&app, "One", json!({ "priority": "urgent" })).await;
    let two = open_ticket(&app, "Two", json!({})).await;
    let three = open_ticket(&app, "Three", json!({})).await;
    assert!(one.clocks.resolution_due.is_some(), "the urgent policy applies");

    let body = json!({ "ids": [one.id, two.id, one.id], "assignee_id": ann.id, "status": "pending" });
    let answer = app.admin.post("/api/v1/tickets/bulk", &body).await.want(200).value();
    assert_eq!(answer, json!({ "updated": 2 }), "a ticket named twice counts once");
    for ticket in [&one, &two] {
        let now = fetch(&app, ticket).await;
        assert_eq!(now.fields.assignee_id, Some(ann.id), "{}", now.fields.subject);
        assert_eq!(now.fields.team_id, Some(red.id), "the team is the assignee's, as with a single update");
        assert_eq!(now.fields.status, TicketStatus::Pending);
        assert_eq!(now.meta.version, 2, "changed once");
    }
    assert_eq!(fetch(&app, &one).await.clocks.resolution_due, None, "pending stops the resolution clock");
    let untouched = fetch(&app, &three).await;
    assert_eq!((untouched.fields.assignee_id, untouched.meta.version), (None, 1), "a ticket not named stays");

    // Only the status: each keeps its assignee, and the clock runs again.
    let body = json!({ "ids": [one.id], "status": "open" });
    app.admin.post("/api/v1/tickets/bulk", &body).await.want(200);
    let reopened = fetch(&app, &one).await;
    assert_eq!((reopened.fields.assignee_id, reopened.fields.status), (Some(ann.id), TicketStatus::Open));
    assert!(reopened.clocks.resolution_due.is_some(), "open again, the resolution clock runs");

    // null unassigns; the status stays.
    let body = json!({ "ids": [one.id, two.id], "assignee_id": null });
    app.admin.post("/api/v1/tickets/bulk", &body).await.want(200);
    let (one, two) = (fetch(&app, &one).await, fetch(&app, &two).await);
    assert_eq!((one.fields.assignee_id, one.fields.status), (None, TicketStatus::Open));
    assert_eq!((two.fields.assignee_id, two.fields.status), (None, TicketStatus::Pending));
}

async fn one_refused_ticket_changes_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let red = app.create_team("Red").await;
    let blue = app.create_team("Blue").await;
    let (ann, ann_api) = app.create_user(Role::Agent, Some(red.id)).await;
    let (cat, _) = app.create_user(Role::Agent, Some(blue.id)).await;
    let (_, viewer) = app.create_user(Role::Viewer, Some(red.id)).await;
    let anns = open_ticket(&app, "Ann's", json!({ "assignee_id": ann.id })).await;
    let queue = open_ticket(&app, "Unassigned", json!({})).await;
    let cats = open_ticket(&app, "Cat's", json!({ "assignee_id": cat.id })).await;
    let before = [fetch(&app, &anns).await, fetch(&app, &queue).await, fetch(&app, &cats).await];
    let unchanged = |label: &'static str| {
        let app = &app;
        let before = &before;
        async move {
            for ticket in before {
                assert_eq!(&fetch(app, ticket).await, ticket, "{label}: {} changed", ticket.fields.subject);
            }
        }
    };

    // Another team's ticket is not found for an agent, and names it.
    let body = json!({ "ids": [queue.id, anns.id, cats.id], "status": "pending" });
    let error = ann_api.post("/api/v1/tickets/bulk", &body).await.want_error(404, "not_found");
    assert!(error.message.contains(&cats.id.to_string()), "{error:?}");
    unchanged("another team's ticket").await;

    // A ticket that does not exist.
    let missing = unknown_id();
    let body = json!({ "ids": [queue.id, missing], "status": "open" });
    let error = app.admin.post("/api/v1/tickets/bulk", &body).await.want_error(404, "not_found");
    assert!(error.message.contains(&missing.to_string()), "{error:?}");
    unchanged("a missing ticket").await;

    // An agent may hand tickets to themselves or their team only.
    let body = json!({ "ids": [queue.id], "assignee_id": cat.id });
    let error = ann_api.post("/api/v1/tickets/bulk", &body).await.want_error(403, "forbidden");
    assert!(error.message.contains(&queue.id.to_string()), "{error:?}");
    viewer
        .post("/api/v1/tickets/bulk", &json!({ "ids": [queue.id], "status": "open" }))
        .await
        .want_error(403, "forbidden");
    unchanged("out of reach").await;

    // A closed ticket is final: it refuses the whole change.
    app.admin.patch(&format!("/api/v1/tickets/{}", cats.id), &json!({ "status": "closed" })).await.want(200);
    let closed = fetch(&app, &cats).await;
    let body = json!({ "ids": [queue.id, cats.id], "status": "solved" });
    let error = app.admin.post("/api/v1/tickets/bulk", &body).await.want_error(409, "conflict");
    assert!(error.message.contains(&cats.id.to_string()) && error.message.contains("closed"), "{error:?}");
    assert_eq!(fetch(&app, &queue).await, before[1], "the open ticket was not solved");
    assert_eq!(fetch(&app, &cats).await, closed);

    // The agent's own and the unassigned queue's go through.
    let body = json!({ "ids": [queue.id, anns.id], "assignee_id": ann.id, "status": "open" });
    assert_eq!(ann_api.post("/api/v1/tickets/bulk", &body).await.want(200).value(), json!({ "updated": 2 }));
    assert_eq!(fetch(&app, &queue).await.fields.assignee_id, Some(ann.id));
}

async fn bad_bulk_bodies_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ticket = open_ticket(&app, "Help", json!({})).await;
    let ticket = fetch(&app, &ticket).await;
    let bulk = |body: Value| {
        let app = &app;
        async move { app.admin.post("/api/v1/tickets/bulk", &body).await.want_error(422, "validation") }
    };
    let error = bulk(json!({ "ids": [ticket.id], "status": "open", "team_id": null })).await;
    assert!(error.field("team_id").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [], "status": "open" })).await;
    assert!(error.field("ids").is_some(), "{error:?}");
    let error = bulk(json!({ "status": "open" })).await;
    assert!(error.field("ids").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ticket.id] })).await;
    assert!(error.field("assignee_id").is_some(), "nothing to change: {error:?}");
    let error = bulk(json!({ "ids": ["nope"], "status": "open" })).await;
    assert!(error.fields.iter().flatten().any(|(field, _)| field.starts_with("ids")), "{error:?}");
    let error = bulk(json!({ "ids": [ticket.id], "status": "someday" })).await;
    assert!(error.field("status").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ticket.id], "assignee_id": "nobody" })).await;
    assert!(error.field("assignee_id").is_some(), "{error:?}");
    let many: Vec<String> = (0..501).map(|_| unknown_id().to_string()).collect();
    let error = bulk(json!({ "ids": many, "status": "open" })).await;
    assert!(error.field("ids").is_some_and(|m| m.contains("500")), "{error:?}");
    // An assignee who is no staff member is refused by the store, naming the ticket and the field.
    let error = bulk(json!({ "ids": [ticket.id], "assignee_id": unknown_id() })).await;
    assert!(error.field("assignee_id").is_some() && error.message.contains(&ticket.id.to_string()), "{error:?}");
    assert_eq!(fetch(&app, &ticket).await, ticket, "nothing changed");

    // The OpenAPI document says what the endpoint takes and answers.
    let doc = app.admin.get("/api/v1/openapi.json").await.want(200).value();
    let post = &doc["paths"]["/api/v1/tickets/bulk"]["post"];
    assert!(post["responses"]["200"].is_object() && post["responses"]["422"].is_object(), "{post}");
    let input = &doc["components"]["schemas"]["TicketBulkInput"];
    let properties: Vec<&String> = input["properties"].as_object().expect("properties").keys().collect();
    assert_eq!(properties, ["assignee_id", "ids", "status"], "{input}");
    assert_eq!(input["required"], json!(["ids"]), "{input}");
}

async fn the_queue_saves_views(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({ "list": "tickets", "name": "Urgent breaches", "query": "queue=breached&priority=urgent" });
    let saved: SavedView = app.admin.post("/api/v1/views", &body).await.want(201).json();
    let listed: Page<SavedView> = app.admin.get("/api/v1/views?list=tickets").await.want(200).json();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, saved.id);
    assert_eq!(listed.items[0].fields.query.as_str(), "queue=breached&priority=urgent");
    let value = app.admin.get("/api/v1/views?list=tickets").await.want(200).value();
    assert_eq!(value["items"][0]["list"], "tickets");
}
