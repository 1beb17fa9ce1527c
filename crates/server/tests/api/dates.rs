//! Date-time fields and parameters take RFC 3339 or a bare date (midnight
//! UTC), and a value that is neither gets an error saying what is expected.

use serde_json::json;

use rapport_domain::records::{Purchase, Task};

use crate::common::{
    Backend, Page, TestApp, create_deal, create_person, create_purchase, create_sales_pipeline, create_task, query,
    rfc3339,
};

backend_tests!(
    dates_are_midnight_utc_and_bad_date_times_say_what_is_expected,
    date_filters_take_a_date,
    date_fields_say_what_they_expect
);

const EXPECTED: &str = "such as 2026-01-05T09:30:00Z, or a date such as 2026-01-05";

async fn dates_are_midnight_utc_and_bad_date_times_say_what_is_expected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = api.post("/api/v1/people", &json!({ "first_name": "Ana" })).await.want(201).value();
    let person_id = person["id"].clone();

    // A bare date is midnight UTC, in bodies...
    let purchase = json!({ "person_id": person_id, "occurred_at": "2026-01-05",
        "amount": { "amount_minor": 1250, "currency": "EUR" } });
    let made = api.post("/api/v1/purchases", &purchase).await.want(201).value();
    assert_eq!(made["occurred_at"], "2026-01-05T00:00:00Z", "{made}");
    let call = json!({ "kind": "call", "subject": "Hello", "person_id": person_id, "occurred_at": "2026-01-05" });
    let made = api.post("/api/v1/activities", &call).await.want(201).value();
    assert_eq!(made["occurred_at"], "2026-01-05T00:00:00Z", "{made}");
    let task = json!({ "title": "Call back", "due_at": "2026-01-06" });
    let made = api.post("/api/v1/tasks", &task).await.want(201).value();
    assert_eq!(made["due_at"], "2026-01-06T00:00:00Z", "{made}");
    // ...while a full date-time keeps its instant.
    let call = json!({ "kind": "call", "subject": "Later", "person_id": person_id,
        "occurred_at": "2026-01-05T09:30:00+01:00" });
    let made = api.post("/api/v1/activities", &call).await.want(201).value();
    assert_eq!(made["occurred_at"], "2026-01-05T08:30:00Z", "{made}");

    // ...and in the list parameter.
    let page: Page<serde_json::Value> = api.list(&query("/api/v1/people", &[("updated_since", "2000-01-01")])).await;
    assert_eq!(page.items.len(), 1);
    let page: Page<serde_json::Value> = api.list(&query("/api/v1/people", &[("updated_since", "2999-01-01")])).await;
    assert!(page.items.is_empty());

    // Anything else names the field and says what it expects.
    for bad in [json!("2026-01-05 09:30"), json!("yesterday"), json!("2026-02-30"), json!(20260105)] {
        let purchase = json!({ "person_id": person_id, "occurred_at": bad,
            "amount": { "amount_minor": 1250, "currency": "EUR" } });
        let error = api.post("/api/v1/purchases", &purchase).await.want_error(422, "validation");
        let message = error.field("occurred_at").unwrap_or_default();
        assert!(message.contains(EXPECTED), "{bad}: {error:?}");
        assert!(!message.contains("separator"), "{bad}: {error:?}");
        let task = json!({ "title": "Call back", "due_at": bad });
        let error = api.post("/api/v1/tasks", &task).await.want_error(422, "validation");
        assert!(error.field("due_at").unwrap_or_default().contains(EXPECTED), "{bad}: {error:?}");
    }
    let error =
        api.get(&query("/api/v1/people", &[("updated_since", "2026-01-05 09:30")])).await.want_error(422, "validation");
    assert!(error.field("updated_since").unwrap_or_default().contains(EXPECTED), "{error:?}");
}

/// The lists' own date-time filters (`since`, `until`, `due_before`) read a
/// date as midnight UTC too, and name themselves when they cannot.
async fn date_filters_take_a_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person(api, "Buyer").await;
    for at in ["2026-01-04T23:59:59Z", "2026-01-05T00:00:00Z", "2026-01-06T12:00:00Z"] {
        create_purchase(api, person.id, at, json!({})).await;
        create_task(api, json!({ "title": format!("Due {at}"), "due_at": at })).await;
    }
    let purchases: Page<Purchase> =
        api.list(&query("/api/v1/purchases", &[("since", "2026-01-05"), ("until", "2026-01-06")])).await;
    let made: Vec<String> = purchases.items.iter().map(|p| rfc3339(p.fields.occurred_at)).collect();
    assert_eq!(made, ["2026-01-05T00:00:00Z"]);
    let tasks: Page<Task> = api.list(&query("/api/v1/tasks", &[("due_before", "2026-01-05")])).await;
    let due: Vec<String> = tasks.items.iter().filter_map(|t| t.fields.due_at).map(rfc3339).collect();
    assert_eq!(due, ["2026-01-04T23:59:59Z"]);
    for (list, parameter) in [("purchases", "since"), ("purchases", "until"), ("tasks", "due_before")] {
        let path = query(&format!("/api/v1/{list}"), &[(parameter, "2026-01-05 09:30")]);
        let error = api.get(&path).await.want_error(422, "validation");
        let message = error.field(parameter).unwrap_or_default();
        assert!(message.contains(EXPECTED) && !message.contains("separator"), "{list}?{parameter}: {error:?}");
    }
}

/// Fields that hold a date alone (a deal's `expected_close`, a calendar's
/// `holidays`) take `YYYY-MM-DD`, and say so when given anything else.
async fn date_fields_say_what_they_expect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let pipeline = create_sales_pipeline(api).await;
    let deal = create_deal(api, &pipeline, "Renewal", json!({ "expected_close": "2030-06-30" })).await;
    assert_eq!(deal.fields.expected_close, Some(time::macros::date!(2030 - 06 - 30)));
    let item = format!("/api/v1/deals/{}", deal.id);
    for bad in [json!("2030-06-30T09:30:00Z"), json!("30/06/2030"), json!("2030-02-30"), json!(20300630)] {
        let error = api.patch(&item, &json!({ "expected_close": bad })).await.want_error(422, "validation");
        let message = error.field("expected_close").unwrap_or_default();
        assert!(message.ends_with("expected a date such as 2026-01-05"), "{bad}: {error:?}");
    }
    let calendar = json!({ "name": "Office", "time_zone": "Europe/Paris", "periods": [], "holidays": ["2026-12-25", "25/12/2026"] });
    let error = api.post("/api/v1/calendars", &calendar).await.want_error(422, "validation");
    let messages: Vec<&String> = error.fields.iter().flat_map(|f| f.values()).collect();
    assert!(messages.iter().any(|m| m.contains("expected a date such as 2026-01-05")), "{error:?}");
    let calendars: Page<serde_json::Value> = api.list("/api/v1/calendars").await;
    assert!(calendars.items.is_empty(), "a refused calendar was written");
}
