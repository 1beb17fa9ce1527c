//! Date-time fields and parameters take RFC 3339 or a bare date (midnight
//! UTC), and a value that is neither gets an error saying what is expected.

use serde_json::json;

use crate::common::{Backend, Page, TestApp, query};

backend_tests!(dates_are_midnight_utc_and_bad_date_times_say_what_is_expected);

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
