//! Tickets, their conversation and the SLA settings through the JSON API.

use rapport_domain::Role;
use rapport_domain::sla::{Calendar, SlaPolicy};
use rapport_domain::tickets::{Ticket, TicketMessage, TicketStatus};
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, create_person, unknown_id};

backend_tests!(
    a_ticket_is_worked_through_its_conversation,
    policies_and_calendars_set_the_due_times,
    agents_reach_only_their_tickets,
    bad_input_is_named_and_changes_nothing,
    a_ticket_has_history_trash_and_export,
);

async fn open_ticket(app: &TestApp, person: rapport_domain::PersonId, subject: &str, extra: Value) -> Ticket {
    let mut body = json!({ "requester_id": person, "subject": subject });
    crate::common::merge(&mut body, extra);
    app.admin.create("tickets", body).await
}

async fn a_ticket_is_worked_through_its_conversation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    let resp = app.admin.post("/api/v1/tickets", &json!({ "requester_id": ada.id, "subject": "Cannot log in" })).await;
    let resp = resp.want(201);
    assert!(resp.header("location").is_some_and(|l| l.starts_with("/api/v1/tickets/")));
    assert_eq!(resp.etag().as_deref(), Some("\"1\""));
    let ticket: Ticket = resp.json();
    assert_eq!(ticket.fields.status, TicketStatus::New);
    assert_eq!(ticket.fields.priority.as_str(), "normal");

    let path = format!("/api/v1/tickets/{}/messages", ticket.id);
    let posted = app.admin.post(&path, &json!({ "kind": "note", "body": "Looking into it" })).await.want(201).value();
    assert_eq!(posted["ticket"]["status"], "new", "a note changes nothing");
    let posted = app
        .admin
        .post(&path, &json!({ "kind": "reply", "body": "Reset your password?", "status": "pending" }))
        .await
        .want(201)
        .value();
    assert_eq!(posted["ticket"]["status"], "pending");
    assert!(posted["ticket"]["first_responded_at"].is_string());
    let posted = app.admin.post(&path, &json!({ "kind": "customer", "body": "Did not help" })).await.want(201).value();
    assert_eq!(posted["ticket"]["status"], "open", "the customer's answer reopens it");
    assert_eq!(posted["message"]["person_id"], json!(ada.id));

    let messages: Vec<TicketMessage> =
        serde_json::from_value(app.admin.get(&path).await.want(200).value()["items"].clone()).unwrap();
    let kinds: Vec<&str> = messages.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["note", "reply", "customer"]);

    let solved: Ticket = app
        .admin
        .patch(&format!("/api/v1/tickets/{}", ticket.id), &json!({ "status": "solved" }))
        .await
        .want(200)
        .json();
    assert!(solved.clocks.solved_at.is_some());
    let closed: Ticket = app
        .admin
        .patch(&format!("/api/v1/tickets/{}", ticket.id), &json!({ "status": "closed" }))
        .await
        .want(200)
        .json();
    assert!(closed.clocks.closed_at.is_some());
    app.admin.post(&path, &json!({ "kind": "reply", "body": "Anything else?" })).await.want_error(409, "conflict");
    let listed: Vec<Ticket> = app.admin.list_all("/api/v1/tickets", &[("requester_id", &ada.id.to_string())]).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].message_count, 3);
}

async fn policies_and_calendars_set_the_due_times(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let periods: Vec<Value> = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        .iter()
        .map(|day| json!({ "day": day, "start": "00:00", "end": "24:00" }))
        .collect();
    let calendar: Calendar = app
        .admin
        .create(
            "calendars",
            json!({ "name": "Always", "time_zone": "Europe/Berlin", "periods": periods, "holidays": [] }),
        )
        .await;
    let policy: SlaPolicy = app
        .admin
        .create(
            "sla-policies",
            json!({ "name": "Urgent", "condition": { "priorities": ["urgent"] }, "first_response_minutes": 15,
                    "resolution_minutes": 120, "calendar_id": calendar.id }),
        )
        .await;
    let ada = create_person(&app.admin, "Ada").await;
    let urgent = open_ticket(&app, ada.id, "Down", json!({ "priority": "urgent" })).await;
    assert_eq!(urgent.clocks.sla_policy_id, Some(policy.id));
    let created = urgent.meta.created_at;
    assert_eq!(urgent.clocks.first_response_due, Some(created + time::Duration::minutes(15)));
    assert_eq!(urgent.clocks.resolution_due, Some(created + time::Duration::minutes(120)));
    let normal = open_ticket(&app, ada.id, "Question", json!({})).await;
    assert_eq!(normal.clocks.sla_policy_id, None, "no policy matches: no due times");
    assert_eq!(normal.clocks.first_response_due, None);

    let policies = app.admin.get("/api/v1/sla-policies").await.want(200).value();
    assert_eq!(policies["items"].as_array().map(Vec::len), Some(1));
    app.admin.delete(&format!("/api/v1/calendars/{}", calendar.id)).await.want_error(409, "conflict");
    app.admin.delete(&format!("/api/v1/sla-policies/{}", policy.id)).await.want(204);
    let urgent: Ticket = app.admin.fetch("tickets", urgent.id).await;
    assert_eq!(urgent.clocks.sla_policy_id, None, "its policy is gone");
    app.admin.delete(&format!("/api/v1/calendars/{}", calendar.id)).await.want(204);

    let (_, agent) = app.create_user(Role::Agent, None).await;
    agent
        .post("/api/v1/sla-policies", &json!({ "name": "Mine", "first_response_minutes": 5 }))
        .await
        .want_error(403, "forbidden");
}

async fn agents_reach_only_their_tickets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let red = app.create_team("Red").await;
    let blue = app.create_team("Blue").await;
    let (ann, ann_api) = app.create_user(Role::Agent, Some(red.id)).await;
    let (cat, cat_api) = app.create_user(Role::Agent, Some(blue.id)).await;
    let (_, viewer) = app.create_user(Role::Viewer, Some(red.id)).await;
    let ada = create_person(&app.admin, "Ada").await;
    let anns = open_ticket(&app, ada.id, "Ann's", json!({ "assignee_id": ann.id })).await;
    let cats = open_ticket(&app, ada.id, "Cat's", json!({ "assignee_id": cat.id })).await;

    ann_api.get(&format!("/api/v1/tickets/{}", cats.id)).await.want_error(404, "not_found");
    ann_api
        .post(&format!("/api/v1/tickets/{}/messages", cats.id), &json!({ "kind": "reply", "body": "Hi" }))
        .await
        .want_error(404, "not_found");
    cat_api.get(&format!("/api/v1/tickets/{}", cats.id)).await.want(200);
    let mine: Vec<Ticket> = ann_api.list_all("/api/v1/tickets", &[("queue", "mine")]).await;
    assert_eq!(mine.iter().map(|t| t.id).collect::<Vec<_>>(), vec![anns.id]);
    let all: Vec<Ticket> = ann_api.list_all("/api/v1/tickets", &[]).await;
    assert!(all.iter().all(|t| t.id != cats.id), "another team's ticket is not listed");
    viewer.get(&format!("/api/v1/tickets/{}", anns.id)).await.want(200);
    viewer
        .post("/api/v1/tickets", &json!({ "requester_id": ada.id, "subject": "From a viewer" }))
        .await
        .want_error(403, "forbidden");
}

async fn bad_input_is_named_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = create_person(&app.admin, "Ada").await;
    let error = app
        .admin
        .post("/api/v1/tickets", &json!({ "requester_id": ada.id, "subject": "Hi", "sender": "x" }))
        .await
        .want_error(422, "validation");
    assert!(
        error.message.contains("sender")
            || error.fields.iter().flatten().any(|(k, m)| k.contains("sender") || m.contains("sender")),
        "{error:?}"
    );
    let error = app
        .admin
        .post("/api/v1/tickets", &json!({ "requester_id": ada.id, "subject": "Hi", "priority": "asap" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("priority").is_some(), "{error:?}");
    let error = app
        .admin
        .post("/api/v1/tickets", &json!({ "requester_id": unknown_id(), "subject": "Hi" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("requester_id").is_some(), "{error:?}");
    let error = app
        .admin
        .post("/api/v1/tickets", &json!({ "requester_id": ada.id, "subject": "  " }))
        .await
        .want_error(422, "validation");
    assert!(error.field("subject").is_some(), "{error:?}");
    let error = app
        .admin
        .post(
            "/api/v1/calendars",
            &json!({ "name": "Bad", "time_zone": "Europe/Berlin", "periods": [{ "day": "monday", "start": "25:00", "end": "26:00" }] }),
        )
        .await
        .want_error(422, "validation");
    assert!(error.fields.iter().flatten().any(|(_, message)| message.contains("25:00")), "{error:?}");
    let error = app
        .admin
        .post("/api/v1/calendars", &json!({ "name": "Mars", "time_zone": "Mars/Olympus", "periods": [] }))
        .await
        .want_error(422, "validation");
    assert!(error.fields.iter().flatten().any(|(_, message)| message.contains("Mars/Olympus")), "{error:?}");
    let listed: Vec<Ticket> = app.admin.list_all("/api/v1/tickets", &[]).await;
    assert!(listed.is_empty(), "nothing was written");
    app.admin.get(&format!("/api/v1/tickets/{}", unknown_id())).await.want_error(404, "not_found");
    app.admin.get("/api/v1/tickets?queue=someday").await.want_error(422, "validation");
}

async fn a_ticket_has_history_trash_and_export(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let red = app.create_team("Red").await;
    let blue = app.create_team("Blue").await;
    let (ann, ann_api) = app.create_user(Role::Agent, Some(red.id)).await;
    let (_, ron_api) = app.create_user(Role::Agent, Some(red.id)).await;
    let (_, cat_api) = app.create_user(Role::Agent, Some(blue.id)).await;
    let ada = create_person(&app.admin, "Ada").await;
    let ticket = open_ticket(&app, ada.id, "Refund", json!({ "assignee_id": ann.id })).await;
    let path = format!("/api/v1/tickets/{}", ticket.id);
    ann_api.patch(&path, &json!({ "priority": "urgent" })).await.want(200);
    ann_api.post(&format!("{path}/messages"), &json!({ "kind": "reply", "body": "On it" })).await.want(201);

    // History: newest first, each change old → new, in whose name.
    let history = ann_api.get(&format!("{path}/history")).await.want(200).value();
    let items = history["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["update", "update", "create"]);
    assert_eq!(items[0]["record_type"], "tickets");
    assert_eq!(items[0]["changes"], json!([{ "field": "status", "old": "new", "new": "open" }]));
    assert_eq!(items[1]["changes"], json!([{ "field": "priority", "old": "normal", "new": "urgent" }]));
    assert_eq!(items[1]["actor_id"], json!(ann.id));
    cat_api.get(&format!("{path}/history")).await.want_error(404, "not_found");
    app.admin.get(&format!("/api/v1/tickets/{}/history", unknown_id())).await.want_error(404, "not_found");

    // Export: admins only, one row per ticket.
    let csv = app.admin.get("/api/v1/export/tickets").await.want(200);
    assert_eq!(csv.header("content-disposition").as_deref(), Some("attachment; filename=\"rapport-tickets.csv\""));
    assert!(csv.text.starts_with("id,subject,requester_id,"), "{}", csv.text);
    assert!(csv.text.contains(&format!("{},Refund,{},", ticket.id, ada.id)), "{}", csv.text);
    ann_api.get("/api/v1/export/tickets").await.want_error(403, "forbidden");

    // Delete: another team's agent does not find it, a teammate may not, the assignee may.
    cat_api.delete(&path).await.want_error(404, "not_found");
    ron_api.delete(&path).await.want_error(403, "forbidden");
    ann_api.delete(&path).await.want(204);
    ann_api.get(&path).await.want_error(404, "not_found");
    ann_api.get(&format!("{path}/messages")).await.want_error(404, "not_found");
    let history = ann_api.get(&format!("{path}/history")).await.want(200).value();
    assert_eq!(history["items"][0]["action"], "delete", "the history outlives it");

    // The trash: the ticket is there for its team, not for another's.
    let trash = ann_api.get("/api/v1/trash?type=tickets").await.want(200).value();
    assert_eq!(trash["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(trash["items"][0]["record_type"], "tickets");
    assert_eq!(trash["items"][0]["label"], "Refund");
    assert_eq!(trash["items"][0]["attached"], 1, "the reply went with it: {trash}");
    let entry = trash["items"][0]["id"].as_str().unwrap().to_owned();
    let hidden = cat_api.get("/api/v1/trash").await.want(200).value();
    assert_eq!(hidden["items"], json!([]), "another team's deleted ticket is not shown");
    cat_api.post(&format!("/api/v1/trash/{entry}/restore"), &json!({})).await.want_error(404, "not_found");
    ron_api.post(&format!("/api/v1/trash/{entry}/restore"), &json!({})).await.want_error(403, "forbidden");
    let restored = ann_api.post(&format!("/api/v1/trash/{entry}/restore"), &json!({})).await.want(200).value();
    assert_eq!(restored["record_type"], "tickets");
    assert_eq!(restored["location"], json!(path));
    let back: Ticket = ann_api.get(&path).await.want(200).json();
    assert_eq!(back.message_count, 1);
    let messages = ann_api.get(&format!("{path}/messages")).await.want(200).value();
    assert_eq!(messages["items"][0]["body"], "On it");

    // A person who asked a ticket stays while it does.
    let refused = app.admin.delete(&format!("/api/v1/people/{}", ada.id)).await.want_error(409, "conflict");
    assert!(refused.message.contains("ticket"), "{refused:?}");

    // The document says what DELETE and history answer.
    let doc = app.admin.get("/api/v1/openapi.json").await.want(200).value();
    let item = &doc["paths"]["/api/v1/tickets/{id}"]["delete"]["responses"];
    for status in ["204", "403", "404"] {
        assert!(item.get(status).is_some(), "DELETE /tickets/{{id}} documents {status}: {item}");
    }
    assert!(doc["paths"]["/api/v1/tickets/{id}/history"]["get"].is_object());
    let people_delete = &doc["paths"]["/api/v1/people/{id}"]["delete"]["responses"];
    assert!(people_delete.get("409").is_some(), "a person with tickets is 409: {people_delete}");
}
