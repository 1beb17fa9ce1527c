//! Bad input of every shape gets a 4xx with the JSON error shape: never a
//! 500, never a crash, and nothing written by a refused request.

use serde_json::{Value, json};

use crate::common::{Backend, RECORD_TYPES, TestApp, create_person, query};

backend_tests!(hostile_bodies_get_client_errors, hostile_list_parameters_get_client_errors);

fn hostile_bodies(person: &str) -> Vec<Value> {
    let big = "x".repeat(300_000);
    vec![
        json!(null),
        json!([]),
        json!("text"),
        json!(12),
        json!({}),
        json!({ "first_name": "\u{0}", "name": "\u{0}", "title": "\u{0}" }),
        json!({ "first_name": big, "name": big }),
        json!({ "first_name": 1, "name": [], "kind": {}, "person_id": 7 }),
        json!({ "first_name": "A", "emails": [{ "address": "a@b.co", "primary": "yes" }] }),
        json!({ "first_name": "A", "custom_fields": { "nope": "\u{0}" }, "keep_in_touch_days": 99999999999u64 }),
        json!({ "name": "A", "amount": { "amount_minor": 1e300, "currency": "EUR" } }),
        json!({ "name": "A", "amount": { "amount_minor": -5, "currency": "XXX" }, "pipeline_id": "x", "stage_id": person }),
        json!({ "person_id": person, "occurred_at": "0000-00-00T00:00:00Z", "amount": { "amount_minor": 1, "currency": "EUR" } }),
        json!({ "person_id": person, "occurred_at": "9999-12-31T23:59:59+14:00", "amount": { "amount_minor": 9223372036854775807u64, "currency": "EUR" }, "reference": "\u{0}" }),
        json!({ "kind": "call", "body": "hi", "person_id": "00000000-0000-0000-0000-000000000000" }),
        json!({ "kind": "note", "body": "hi", "person_id": person, "occurred_at": "yesterday" }),
        json!({ "name": "P", "stages": [{ "name": "S", "win_probability": 2147483648u64 }] }),
        json!({ "name": "P", "stages": [{ "name": "S", "win_probability": 5, "id": person }] }),
        json!({ "email": "x@y.co", "name": "N", "role": "admin", "password": "short" }),
        json!({ "entity_type": "person", "key": "Bad Key", "label": "L", "kind": "choice" }),
        json!({ "name": "T", "expires_in_days": 0 }),
        json!({ "first_name": "A", "tags": ["a,b"], "preferences": { "language": "english!", "time_zone": "../etc" } }),
    ]
}

async fn hostile_bodies_get_client_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Target").await;
    let person_id = person.id.to_string();
    for collection in RECORD_TYPES.iter().chain(&["tokens"]) {
        let path = format!("/api/v1/{collection}");
        for body in hostile_bodies(&person_id) {
            let response = app.admin.post(&path, &body).await;
            let shown = body.to_string().chars().take(120).collect::<String>();
            // A few bodies happen to be valid for some record types (unknown fields are ignored).
            assert!(response.status < 500, "POST {path} with {shown} got {}", response.status);
            if response.status >= 400 {
                response.error();
            } else {
                assert!(*collection != "people", "POST {path} accepted {shown}");
            }
        }
        // Raw bytes that are not JSON at all.
        let request = app
            .admin
            .request(reqwest::Method::POST, &path)
            .header("content-type", "application/json")
            .body(vec![0xff, 0xfe, 0x00, b'{']);
        let response = app.admin.send(request).await;
        assert_eq!(response.status, 400, "POST {path} with broken bytes");
    }
    // A refused PATCH leaves the record exactly as it was.
    let item = format!("/api/v1/people/{person_id}");
    let mut known = person.clone();
    for body in hostile_bodies(&person_id) {
        let response = app.admin.patch(&item, &body).await;
        assert!(response.status < 500, "PATCH {item} with {body} got {}", response.status);
        let now: rapport_domain::records::Person = app.admin.fetch("people", person.id).await;
        if response.status >= 400 {
            response.error();
            assert_eq!(now, known, "a refused PATCH ({body}) wrote");
        }
        known = now;
    }
    // No refused POST created anyone: the one person is still alone.
    let page: crate::common::Page<rapport_domain::records::Person> = app.admin.list("/api/v1/people").await;
    assert_eq!(page.items.len(), 1);
}

async fn hostile_list_parameters_get_client_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_person(&app.admin, "Listed").await;
    let params: &[(&str, &str)] = &[
        ("limit", "-1"),
        ("limit", "99999999999999999999999"),
        ("cursor", "not-a-cursor"),
        ("cursor", "WyJcdTAwMDAiLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ"),
        ("sort", "password_hash"),
        ("tag", "\u{0}"),
        ("q", "\u{0}"),
        ("updated_since", "tomorrow"),
        ("owner_id", "me"),
        ("lifecycle_stage", "alien"),
        ("cf.nope", "1"),
    ];
    // A list without search, tags or custom fields says so rather than ignore them.
    for collection in ["activities", "tasks", "purchases", "users"] {
        for (key, value) in [("q", "call"), ("tag", "vip"), ("cf.tier", "gold")] {
            let error = app
                .admin
                .get(&query(&format!("/api/v1/{collection}"), &[(key, value)]))
                .await
                .want_error(422, "validation");
            assert!(error.field(key).is_some(), "GET /api/v1/{collection}?{key}= should name {key}: {error:?}");
        }
    }
    for collection in ["people", "companies", "deals", "activities", "tasks", "purchases", "users"] {
        for (key, value) in params {
            let path = query(&format!("/api/v1/{collection}"), &[(key, value)]);
            let response = app.admin.get(&path).await;
            assert!(response.status < 500, "GET {path} got {}", response.status);
            if response.status >= 400 {
                response.error();
            }
        }
    }
}
