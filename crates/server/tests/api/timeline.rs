//! Timelines of people and companies, and last_contacted_at.

use rapport_domain::Role;
use rapport_domain::records::{Activity, Person};
use rapport_domain::tickets::Ticket;
use serde_json::{Value, json};

use crate::common::{
    Backend, TestApp, create_activity, create_company, create_deal, create_person, create_person_with, create_purchase,
    create_sales_pipeline, create_task, parse_time,
};

backend_tests!(
    timelines_are_newest_first,
    last_contacted_at_follows_activities,
    tickets_and_their_messages_join_the_timelines
);

/// When a timeline entry happened, as the API documents it.
fn entry_time(entry: &Value) -> time::OffsetDateTime {
    let field = |name: &str| entry[name].as_str().map(parse_time);
    match entry["type"].as_str() {
        Some("activity") => field("occurred_at").or(field("created_at")),
        Some("task") => field("done_at").or(field("due_at")).or(field("created_at")),
        Some("deal") => field("closed_at").or(field("created_at")),
        Some("purchase") => field("occurred_at"),
        Some("ticket" | "ticket_message") => field("created_at"),
        other => panic!("unknown timeline entry type {other:?}: {entry}"),
    }
    .unwrap_or_else(|| panic!("no time in timeline entry {entry}"))
}

fn entries(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or_default().to_owned(), e["id"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn entry(kind: &str, id: impl std::fmt::Display) -> (String, String) {
    (kind.to_owned(), id.to_string())
}

async fn timelines_are_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme = create_company(api, "Acme").await;
    let ana = create_person_with(api, json!({ "first_name": "Ana", "company_id": acme.id })).await;
    let bruno = create_person(api, "Bruno").await;
    let pipeline = create_sales_pipeline(api).await;

    // Created in a shuffled order; the timeline sorts by when things happened.
    let purchase = create_purchase(api, ana.id, "2024-03-01T10:00:00Z", json!({ "reference": "R1" })).await;
    let old_call = create_activity(
        api,
        json!({ "kind": "call", "subject": "First call", "person_id": ana.id, "occurred_at": "2024-01-01T09:00:00Z" }),
    )
    .await;
    let task =
        create_task(api, json!({ "title": "Follow up", "person_id": ana.id, "due_at": "2024-02-01T12:00:00Z" })).await;
    let company_note = create_activity(
        api,
        json!({ "kind": "note", "body": "Company news", "company_id": acme.id, "occurred_at": "2024-04-01T08:00:00Z" }),
    )
    .await;
    let future_task = create_task(
        api,
        json!({ "title": "Renewal", "person_id": ana.id, "company_id": acme.id, "due_at": "2099-01-01T00:00:00Z" }),
    )
    .await;
    let deal = create_deal(api, &pipeline, "Pilot", json!({ "person_id": ana.id, "company_id": acme.id })).await;
    // Someone else's things stay out of Ana's timeline.
    create_activity(api, json!({ "kind": "call", "subject": "Other", "person_id": bruno.id })).await;
    create_purchase(api, bruno.id, "2024-03-05T10:00:00Z", json!({})).await;

    let page: Value = api.get(&format!("/api/v1/people/{}/timeline", ana.id)).await.want(200).json();
    assert_eq!(
        entries(&page),
        [
            entry("task", future_task.id),
            entry("deal", deal.id),
            entry("purchase", purchase.id),
            entry("task", task.id),
            entry("activity", old_call.id),
        ],
        "Ana's timeline: {page}"
    );
    let items = page["items"].as_array().unwrap();
    // Entries carry their record's fields.
    assert_eq!(items[1]["name"], "Pilot");
    assert_eq!(items[2]["amount"]["amount_minor"], 2500);
    assert_eq!(items[2]["reference"], "R1");
    assert_eq!(items[4]["subject"], "First call");
    assert_eq!(items[3]["title"], "Follow up");

    let page: Value = api.get(&format!("/api/v1/companies/{}/timeline", acme.id)).await.want(200).json();
    let company = entries(&page);
    for expected in [entry("task", future_task.id), entry("deal", deal.id), entry("activity", company_note.id)] {
        assert!(company.contains(&expected), "{expected:?} missing from the company timeline: {page}");
    }
    assert!(!company.contains(&entry("activity", old_call.id)) || company.len() > 3, "{page}");
    let times: Vec<_> = page["items"].as_array().unwrap().iter().map(entry_time).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "the company timeline is not newest first: {page}");
    let position = |e: &(String, String)| company.iter().position(|c| c == e).unwrap();
    assert!(position(&entry("deal", deal.id)) < position(&entry("activity", company_note.id)));

    // A closed deal moves to when it was closed; a done task to when it was done.
    let _: Value = api.update("deals", deal.id, json!({ "status": "won" })).await;
    let _: Value = api.update("tasks", task.id, json!({ "done": true })).await;
    let page: Value = api.get(&format!("/api/v1/people/{}/timeline", ana.id)).await.want(200).json();
    let times: Vec<_> = page["items"].as_array().unwrap().iter().map(entry_time).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "Ana's timeline is not newest first: {page}");
    assert_eq!(entries(&page)[0], entry("task", future_task.id));
    let last_two: Vec<_> = entries(&page)[3..].to_vec();
    assert_eq!(last_two, [entry("purchase", purchase.id), entry("activity", old_call.id)], "{page}");

    let nobody = create_person(api, "Nobody").await;
    let empty: Value = api.get(&format!("/api/v1/people/{}/timeline", nobody.id)).await.want(200).json();
    assert_eq!(empty["items"], json!([]));
}

async fn last_contacted_at_follows_activities(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ana = create_person(api, "Ana").await;
    assert_eq!(ana.last_contacted_at, None);
    let ana_id = ana.id;
    let last = |person: &Person| person.last_contacted_at;
    let at = |raw: &str| Some(parse_time(raw));
    let log = move |body: Value| async move {
        let mut body = body;
        body["person_id"] = json!(ana_id);
        let activity: Activity = create_activity(api, body).await;
        let person: Person = api.fetch("people", ana_id).await;
        (activity, person)
    };

    let (_, person) = log(json!({ "kind": "note", "body": "n", "occurred_at": "2024-05-01T00:00:00Z" })).await;
    assert_eq!(last(&person), None, "a note is no contact");
    let (_, person) = log(json!({ "kind": "call", "subject": "c", "direction": "inbound",
                                  "occurred_at": "2024-03-01T00:00:00Z" }))
    .await;
    assert_eq!(last(&person), at("2024-03-01T00:00:00Z"), "an inbound call");
    let (email, person) = log(json!({ "kind": "email", "subject": "e", "direction": "outbound",
                                      "occurred_at": "2024-04-01T00:00:00Z" }))
    .await;
    assert_eq!(last(&person), at("2024-04-01T00:00:00Z"), "a later outbound email");
    let (_, person) = log(json!({ "kind": "meeting", "subject": "m", "direction": "internal",
                                  "occurred_at": "2024-06-01T00:00:00Z" }))
    .await;
    assert_eq!(last(&person), at("2024-04-01T00:00:00Z"), "an internal meeting is no contact");
    let (_, person) = log(json!({ "kind": "message", "subject": "old", "direction": "inbound",
                                  "occurred_at": "2024-01-01T00:00:00Z" }))
    .await;
    assert_eq!(last(&person), at("2024-04-01T00:00:00Z"), "an older message changes nothing");
    let (message, person) = log(json!({ "kind": "message", "subject": "m", "direction": "outbound",
                                        "occurred_at": "2024-04-01T12:30:00+02:00" }))
    .await;
    assert_eq!(last(&person), at("2024-04-01T10:30:00Z"), "offsets are read, kept in UTC");

    // Moving or deleting the latest contact recomputes it.
    let _: Activity = api.update("activities", message.id, json!({ "occurred_at": "2024-07-01T00:00:00Z" })).await;
    let person: Person = api.fetch("people", ana.id).await;
    assert_eq!(last(&person), at("2024-07-01T00:00:00Z"), "after moving the latest contact");
    api.delete(&format!("/api/v1/activities/{}", message.id)).await.want(204);
    let person: Person = api.fetch("people", ana.id).await;
    assert_eq!(last(&person), at("2024-04-01T00:00:00Z"), "after deleting the latest contact");
    let _: Activity = api.update("activities", email.id, json!({ "kind": "note", "direction": "internal" })).await;
    let person: Person = api.fetch("people", ana.id).await;
    assert_eq!(last(&person), at("2024-03-01T00:00:00Z"), "after turning the email into a note");

    // Someone else's activity does not touch Ana.
    let bruno = create_person(api, "Bruno").await;
    create_activity(api, json!({ "kind": "call", "subject": "b", "person_id": bruno.id })).await;
    let person: Person = api.fetch("people", ana.id).await;
    assert_eq!(last(&person), at("2024-03-01T00:00:00Z"));
    let bruno: Person = api.fetch("people", bruno.id).await;
    assert!(bruno.last_contacted_at.is_some(), "a call now is contact");
}

async fn tickets_and_their_messages_join_the_timelines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme = create_company(api, "Acme").await;
    let ana = create_person_with(api, json!({ "first_name": "Ana", "company_id": acme.id })).await;
    let red = app.create_team("Red").await;
    let blue = app.create_team("Blue").await;
    let (_, red_agent) = app.create_user(Role::Agent, Some(red.id)).await;
    let (blue_user, _) = app.create_user(Role::Agent, Some(blue.id)).await;

    let open: Ticket = api.create("tickets", json!({ "requester_id": ana.id, "subject": "Cannot log in" })).await;
    let messages = format!("/api/v1/tickets/{}/messages", open.id);
    let asked: Value =
        api.post(&messages, &json!({ "kind": "customer", "body": "The page says no." })).await.want(201).value();
    let answered: Value =
        api.post(&messages, &json!({ "kind": "reply", "body": "Try again now?" })).await.want(201).value();
    let others: Ticket = api
        .create("tickets", json!({ "requester_id": ana.id, "subject": "Blue's ticket", "assignee_id": blue_user.id }))
        .await;

    let page: Value = api.get(&format!("/api/v1/people/{}/timeline", ana.id)).await.want(200).json();
    assert_eq!(
        entries(&page),
        [
            entry("ticket", others.id),
            entry("ticket_message", answered["message"]["id"].as_str().unwrap()),
            entry("ticket_message", asked["message"]["id"].as_str().unwrap()),
            entry("ticket", open.id),
        ],
        "{page}"
    );
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[1]["ticket_subject"], "Cannot log in");
    assert_eq!(items[1]["kind"], "reply");
    assert_eq!(items[1]["body"], "Try again now?");
    assert_eq!(items[3]["subject"], "Cannot log in");
    let times: Vec<_> = items.iter().map(entry_time).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first: {page}");

    // The company's timeline holds its people's tickets.
    let page: Value = api.get(&format!("/api/v1/companies/{}/timeline", acme.id)).await.want(200).json();
    assert!(entries(&page).contains(&entry("ticket", open.id)), "{page}");

    // An agent sees only the tickets they may open, and their messages.
    let page: Value = red_agent.get(&format!("/api/v1/people/{}/timeline", ana.id)).await.want(200).json();
    let seen = entries(&page);
    assert!(seen.contains(&entry("ticket", open.id)), "the unassigned ticket is missing: {page}");
    assert!(!seen.contains(&entry("ticket", others.id)), "another team's ticket leaked: {page}");
    assert_eq!(seen.len(), 3, "{page}");
    let page: Value = red_agent.get(&format!("/api/v1/companies/{}/timeline", acme.id)).await.want(200).json();
    assert!(!entries(&page).contains(&entry("ticket", others.id)), "another team's ticket leaked: {page}");
}
