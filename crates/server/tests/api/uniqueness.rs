//! Unique values: company domains (case-insensitive) and purchase references
//! (per person).

use rapport_domain::records::{Company, Purchase};
use serde_json::json;

use crate::common::{Backend, Page, TestApp, create_person, create_purchase};

backend_tests!(
    company_domain_is_unique_case_insensitively,
    purchase_reference_is_unique_per_person,
    a_new_person_with_someone_s_email_is_refused_unless_asked_for,
);

async fn company_domain_is_unique_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme: Company = api.create("companies", json!({ "name": "Acme", "domain": "Acme.Example" })).await;
    assert_eq!(acme.fields.domain.as_ref().map(|d| d.as_str()), Some("acme.example"));
    for taken in ["acme.example", "ACME.EXAMPLE", "https://www.acme.example/"] {
        let error = api
            .post("/api/v1/companies", &json!({ "name": "Acme again", "domain": taken }))
            .await
            .want_error(409, "conflict");
        assert!(!error.message.is_empty());
    }
    // Companies without a domain do not clash.
    let _: Company = api.create("companies", json!({ "name": "No domain 1" })).await;
    let _: Company = api.create("companies", json!({ "name": "No domain 2", "domain": null })).await;
    // Taking the domain by update is refused too, and changes nothing.
    let other: Company = api.create("companies", json!({ "name": "Other", "domain": "other.example" })).await;
    let path = format!("/api/v1/companies/{}", other.id);
    api.patch(&path, &json!({ "domain": "ACME.example" })).await.want_error(409, "conflict");
    api.put(&path, &json!({ "name": "Other", "domain": "acme.example" })).await.want_error(409, "conflict");
    let unchanged: Company = api.fetch("companies", other.id).await;
    assert_eq!(unchanged, other, "a refused update wrote");
    // Re-saving one's own domain is no clash.
    let _: Company = api.update("companies", acme.id, json!({ "domain": "ACME.EXAMPLE", "industry": "Tools" })).await;
    // A freed domain can be taken.
    api.delete(&format!("/api/v1/companies/{}", acme.id)).await.want(204);
    let _: Company = api.create("companies", json!({ "name": "Acme reborn", "domain": "acme.example" })).await;
    let page: Page<Company> = api.list("/api/v1/companies").await;
    assert_eq!(page.items.len(), 4);
}

async fn purchase_reference_is_unique_per_person(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ana = create_person(api, "Ana").await;
    let bruno = create_person(api, "Bruno").await;
    let first = create_purchase(api, ana.id, "2024-01-01T10:00:00Z", json!({ "reference": "ORD-1" })).await;
    assert_eq!(first.fields.reference.as_ref().map(|r| r.as_str()), Some("ORD-1"));
    let repeat = json!({ "person_id": ana.id, "occurred_at": "2024-01-02T10:00:00Z",
                         "amount": { "amount_minor": 100, "currency": "EUR" }, "reference": "ORD-1" });
    api.post("/api/v1/purchases", &repeat).await.want_error(409, "conflict");
    // The same reference for someone else is fine, and so are purchases without one.
    let _: Purchase = create_purchase(api, bruno.id, "2024-01-01T10:00:00Z", json!({ "reference": "ORD-1" })).await;
    let _: Purchase = create_purchase(api, ana.id, "2024-01-03T10:00:00Z", json!({})).await;
    let _: Purchase = create_purchase(api, ana.id, "2024-01-04T10:00:00Z", json!({ "reference": null })).await;
    let second = create_purchase(api, ana.id, "2024-01-05T10:00:00Z", json!({ "reference": "ORD-2" })).await;
    // Taking a used reference by update is refused.
    api.patch(&format!("/api/v1/purchases/{}", second.id), &json!({ "reference": "ORD-1" }))
        .await
        .want_error(409, "conflict");
    let page: Page<Purchase> = api.list("/api/v1/purchases").await;
    assert_eq!(page.items.len(), 5, "a refused purchase was written");
}

/// The rule imports follow (people are matched by email) holds for the API:
/// a second person with a known address is 409 naming who has it.
async fn a_new_person_with_someone_s_email_is_refused_unless_asked_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ada: rapport_domain::records::Person =
        api.create("people", json!({ "first_name": "Ada", "emails": [{ "address": "ada@example.com" }] })).await;
    let twin = json!({ "first_name": "Ada", "last_name": "Again",
                       "emails": [{ "address": "other@example.com" }, { "address": "ADA@example.com" }] });
    let resp = api.post("/api/v1/people", &twin).await;
    let body = resp.value();
    let error = resp.want_error(409, "conflict");
    assert_eq!(body["error"]["existing_id"], json!(ada.id), "{body}");
    let message = error.field("emails[1].address").unwrap_or_default();
    assert!(
        message.contains("ada@example.com") && message.contains("Ada") && message.contains(&ada.id.to_string()),
        "{message}"
    );
    let page: Page<rapport_domain::records::Person> = api.list("/api/v1/people").await;
    assert_eq!(page.items.len(), 1, "a refused person was written");
    // Asked for, the duplicate is made.
    api.post("/api/v1/people?allow_duplicate=false", &twin).await.want_error(409, "conflict");
    api.post("/api/v1/people?allow_duplicate=yes", &twin).await.want_error(422, "validation");
    api.post("/api/v1/people?allow_dupes=true", &twin).await.want_error(422, "validation");
    api.post("/api/v1/people?allow_duplicate=true", &twin).await.want(201);
    // A deleted person's address is free again.
    let grace: rapport_domain::records::Person =
        api.create("people", json!({ "first_name": "Grace", "emails": [{ "address": "grace@example.com" }] })).await;
    api.delete(&format!("/api/v1/people/{}", grace.id)).await.want(204);
    let _: rapport_domain::records::Person =
        api.create("people", json!({ "first_name": "Grace", "emails": [{ "address": "grace@example.com" }] })).await;
    // Other record types take no such parameter.
    api.post("/api/v1/companies?allow_duplicate=true", &json!({ "name": "Acme" })).await.want_error(422, "validation");
}
