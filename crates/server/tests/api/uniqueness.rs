//! Unique values: company domains (case-insensitive) and purchase references
//! (per person).

use rapport_domain::records::{Company, Purchase};
use serde_json::json;

use crate::common::{Backend, Page, TestApp, create_person, create_purchase};

backend_tests!(company_domain_is_unique_case_insensitively, purchase_reference_is_unique_per_person);

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
