//! External ids through the API: an integration sets, changes and clears a
//! record's key in its own system; a key another record of the kind has is
//! 409 naming the field and that record; an import then finds the record
//! by it.

use std::time::{Duration, Instant};

use rapport_domain::records::{Company, Deal, Person};
use serde_json::{Value, json};

use crate::common::{Api, Backend, Page, Part, TestApp, create_sales_pipeline};

backend_tests!(
    people_take_an_external_id_on_create_and_update,
    companies_and_deals_take_one_too,
    a_taken_external_id_is_409_naming_the_field_and_the_holder,
    an_import_finds_the_record_by_the_external_id_the_api_set,
    the_openapi_document_describes_the_field,
);

fn external(record: &Value) -> &Value {
    &record["external_id"]
}

async fn people_take_an_external_id_on_create_and_update(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    // Set on create, trimmed like every name.
    let ada: Person = api.create("people", json!({ "first_name": "Ada", "external_id": "  crm-1 " })).await;
    assert_eq!(ada.fields.external_id.as_ref().map(|e| e.as_str()), Some("crm-1"));
    let path = format!("/api/v1/people/{}", ada.id);
    assert_eq!(external(&api.get(&path).await.want(200).value()), &json!("crm-1"));

    // A blank one is refused, naming the field.
    let error = api.post("/api/v1/people", &json!({ "first_name": "B", "external_id": "  " })).await;
    let error = error.want_error(422, "validation");
    assert!(error.field("external_id").is_some(), "{error:?}");

    // Changed by PUT (a full replace) and kept by a PATCH that leaves it out.
    let put = api.put(&path, &json!({ "first_name": "Ada", "external_id": "crm-2" })).await.want(200).value();
    assert_eq!(external(&put), &json!("crm-2"));
    let patched = api.patch(&path, &json!({ "job_title": "Analyst" })).await.want(200).value();
    assert_eq!(external(&patched), &json!("crm-2"), "a PATCH without it keeps it");
    let patched = api.patch(&path, &json!({ "external_id": "crm-3" })).await.want(200).value();
    assert_eq!(external(&patched), &json!("crm-3"));

    // Cleared by PATCH null, and by a PUT without it.
    let cleared = api.patch(&path, &json!({ "external_id": null })).await.want(200).value();
    assert_eq!(external(&cleared), &Value::Null);
    api.patch(&path, &json!({ "external_id": "crm-4" })).await.want(200);
    let replaced = api.put(&path, &json!({ "first_name": "Ada" })).await.want(200).value();
    assert_eq!(external(&replaced), &Value::Null, "PUT replaces the record: no external id means none");

    // The history has every change of it, old → new.
    let history = api.get(&format!("{path}/history")).await.want(200).value();
    let changes: Vec<(Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|entry| entry["changes"].as_array().unwrap().clone())
        .filter(|change| change["field"] == "external_id")
        .map(|change| (change["old"].clone(), change["new"].clone()))
        .collect();
    assert!(changes.contains(&(json!("crm-1"), json!("crm-2"))), "{history}");
    assert!(changes.contains(&(json!("crm-3"), Value::Null)), "{history}");
    assert!(changes.contains(&(json!("crm-4"), Value::Null)), "{history}");

    // Unknown fields are still refused beside it.
    let error = api
        .post("/api/v1/people", &json!({ "first_name": "C", "external_id": "crm-9", "external_key": "x" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("external_key").is_some(), "{error:?}");
}

async fn companies_and_deals_take_one_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let acme: Company = api.create("companies", json!({ "name": "Acme", "external_id": "co-1" })).await;
    assert_eq!(acme.fields.external_id.as_ref().map(|e| e.as_str()), Some("co-1"));
    let acme: Company = api.update("companies", acme.id, json!({ "external_id": "co-2" })).await;
    assert_eq!(acme.fields.external_id.as_ref().map(|e| e.as_str()), Some("co-2"));
    let path = format!("/api/v1/companies/{}", acme.id);
    let replaced = api.put(&path, &json!({ "name": "Acme" })).await.want(200).value();
    assert_eq!(external(&replaced), &Value::Null);

    let pipeline = create_sales_pipeline(api).await;
    let body = json!({ "name": "Big", "amount": { "amount_minor": 100, "currency": "EUR" },
                       "pipeline_id": pipeline.id, "stage_id": pipeline.stages[0].id, "external_id": "d-1" });
    let deal: Deal = api.create("deals", body.clone()).await;
    assert_eq!(deal.fields.external_id.as_ref().map(|e| e.as_str()), Some("d-1"));
    // Moving the deal on (a PATCH of another field) keeps its key.
    let moved: Deal = api.update("deals", deal.id, json!({ "stage_id": pipeline.stages[1].id })).await;
    assert_eq!(moved.fields.external_id.as_ref().map(|e| e.as_str()), Some("d-1"));
    let mut changed = body.clone();
    changed["external_id"] = json!("d-2");
    let put = api.put(&format!("/api/v1/deals/{}", deal.id), &changed).await.want(200).value();
    assert_eq!(external(&put), &json!("d-2"));
    // The same key on records of different kinds is no clash.
    let _: Person = api.create("people", json!({ "first_name": "Dee", "external_id": "d-2" })).await;
    let _: Company = api.create("companies", json!({ "name": "Dee Ltd", "external_id": "d-2" })).await;
}

/// The refusal for KIND: 409, `external_id` named, the holder in `existing_id`.
#[track_caller]
fn taken(resp: crate::common::Resp, holder: impl std::fmt::Display, value: &str) {
    let body = resp.value();
    let error = resp.want_error(409, "conflict");
    assert_eq!(body["error"]["existing_id"], json!(holder.to_string()), "{body}");
    let message = error.field("external_id").unwrap_or_else(|| panic!("no external_id field: {body}"));
    assert!(message.contains(value) && message.contains(&holder.to_string()), "{message}");
}

async fn a_taken_external_id_is_409_naming_the_field_and_the_holder(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;

    // People.
    let ada: Person = api.create("people", json!({ "first_name": "Ada", "external_id": "crm-1" })).await;
    let bob: Person = api.create("people", json!({ "first_name": "Bob", "external_id": "crm-2" })).await;
    taken(api.post("/api/v1/people", &json!({ "first_name": "Eve", "external_id": "crm-1" })).await, ada.id, "crm-1");
    let bob_path = format!("/api/v1/people/{}", bob.id);
    taken(api.patch(&bob_path, &json!({ "external_id": "crm-1" })).await, ada.id, "crm-1");
    taken(api.put(&bob_path, &json!({ "first_name": "Bob", "external_id": "crm-1" })).await, ada.id, "crm-1");
    assert_eq!(api.fetch::<Person>("people", bob.id).await, bob, "a refused update wrote");
    assert_eq!(api.fetch::<Person>("people", ada.id).await, ada, "the holder changed");
    let people: Page<Person> = api.list("/api/v1/people").await;
    assert_eq!(people.items.len(), 2, "a refused person was written");
    // Saving one's own key again is no clash; a freed key can be taken.
    let _: Person = api.update("people", ada.id, json!({ "external_id": "crm-1", "job_title": "Analyst" })).await;
    let _: Person = api.update("people", ada.id, json!({ "external_id": null })).await;
    let bob: Person = api.update("people", bob.id, json!({ "external_id": "crm-1" })).await;
    assert_eq!(bob.fields.external_id.as_ref().map(|e| e.as_str()), Some("crm-1"));
    // A deleted person's key is free too (their record is in the trash).
    api.delete(&bob_path).await.want(204);
    let _: Person = api.create("people", json!({ "first_name": "Eve", "external_id": "crm-1" })).await;

    // Companies.
    let acme: Company = api.create("companies", json!({ "name": "Acme", "external_id": "co-1" })).await;
    let globex: Company = api.create("companies", json!({ "name": "Globex" })).await;
    taken(api.post("/api/v1/companies", &json!({ "name": "Initech", "external_id": "co-1" })).await, acme.id, "co-1");
    let globex_path = format!("/api/v1/companies/{}", globex.id);
    taken(api.patch(&globex_path, &json!({ "external_id": "co-1" })).await, acme.id, "co-1");
    assert_eq!(api.fetch::<Company>("companies", globex.id).await, globex, "a refused update wrote");

    // Deals.
    let pipeline = create_sales_pipeline(api).await;
    let deal = |name: &str, external: Value| {
        json!({ "name": name, "amount": { "amount_minor": 100, "currency": "EUR" },
                "pipeline_id": pipeline.id, "stage_id": pipeline.stages[0].id, "external_id": external })
    };
    let big: Deal = api.create("deals", deal("Big", json!("d-1"))).await;
    let small: Deal = api.create("deals", deal("Small", Value::Null)).await;
    taken(api.post("/api/v1/deals", &deal("Other", json!("d-1"))).await, big.id, "d-1");
    taken(api.put(&format!("/api/v1/deals/{}", small.id), &deal("Small", json!("d-1"))).await, big.id, "d-1");
    assert_eq!(api.fetch::<Deal>("deals", small.id).await, small, "a refused update wrote");
    let deals: Page<Deal> = api.list("/api/v1/deals").await;
    assert_eq!(deals.items.len(), 2, "a refused deal was written");
}

/// Runs an import of CONTENTS as KIND and waits for its report.
async fn import(api: &Api, kind: &str, contents: &str) -> Value {
    let resp = api
        .post_multipart(
            "/api/v1/imports",
            &[Part::Text("kind", kind), Part::File("file", "rows.csv", contents.as_bytes())],
        )
        .await
        .want(202);
    let id = resp.value()["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    loop {
        let job = api.get(&format!("/api/v1/imports/{id}")).await.want(200).value();
        if job["status"] == "done" || job["status"] == "failed" {
            assert_eq!(job["status"], "done", "{job}");
            return job["report"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the import did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_import_finds_the_record_by_the_external_id_the_api_set(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let ada: Person = api
        .create(
            "people",
            json!({ "first_name": "Ada", "emails": [{ "address": "ada@example.com" }], "external_id": "crm-7" }),
        )
        .await;
    let acme: Company = api.create("companies", json!({ "name": "Acme Corp", "external_id": "co-9" })).await;

    // The row has another address and no name: only the external id finds Ada.
    let report = import(api, "people", "external_id,job_title,emails\ncrm-7,Engineer,ada@work.example\n").await;
    assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(0), Some(1)), "{report}");
    let people: Page<Person> = api.list("/api/v1/people").await;
    assert_eq!(people.items.len(), 1, "the import added a person instead of finding Ada");
    let now: Person = api.fetch("people", ada.id).await;
    assert_eq!(now.fields.job_title.as_ref().map(|t| t.as_str()), Some("Engineer"));
    assert_eq!(now.fields.emails.len(), 2);
    assert_eq!(now.fields.external_id.as_ref().map(|e| e.as_str()), Some("crm-7"));

    // A company by its external id, under another name.
    let report = import(api, "companies", "external_id,name,industry\nco-9,ACME,Tools\n").await;
    assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(0), Some(1)), "{report}");
    let now: Company = api.fetch("companies", acme.id).await;
    assert_eq!(now.fields.industry.as_ref().map(|i| i.as_str()), Some("Tools"));

    // Changed through the API, the old key no longer finds the record: a new person is made.
    let _: Person = api.update("people", ada.id, json!({ "external_id": "crm-8" })).await;
    let report = import(api, "people", "external_id,first_name\ncrm-7,Other\ncrm-8,Ada\n").await;
    assert_eq!((report["created"].as_u64(), report["unchanged"].as_u64()), (Some(1), Some(1)), "{report}");
}

async fn the_openapi_document_describes_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.anonymous().get("/api/v1/openapi.json").await.want(200).value();
    let schemas = &doc["components"]["schemas"];
    for schema in ["PersonInput", "Person", "CompanyInput", "Company", "DealInput", "Deal"] {
        let properties = properties(schemas, &schemas[schema]);
        let field = properties
            .iter()
            .find_map(|p| p.get("external_id"))
            .unwrap_or_else(|| panic!("{schema} has no external_id: {}", schemas[schema]));
        let text = field.to_string();
        // A string: inline, or the `Name` schema (trimmed text of up to 200 characters).
        assert!(
            text.contains("\"string\"") || text.contains("#/components/schemas/Name"),
            "{schema}.external_id: {text}"
        );
        assert!(text.contains("null"), "{schema}.external_id is optional: {text}");
        assert!(text.contains("another system"), "{schema}.external_id is not described: {text}");
    }
    assert_eq!(schemas["Name"]["type"], json!("string"), "{}", schemas["Name"]);
    // Input bodies do not require it.
    for schema in ["PersonInput", "CompanyInput", "DealInput"] {
        let required = schemas[schema]["required"].as_array().cloned().unwrap_or_default();
        assert!(!required.contains(&json!("external_id")), "{schema} requires external_id");
    }
}

/// Every `properties` object of SCHEMA, through `allOf` and `$ref`s.
fn properties<'a>(schemas: &'a Value, schema: &'a Value) -> Vec<&'a serde_json::Map<String, Value>> {
    let mut found = Vec::new();
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return properties(schemas, &schemas[name]);
    }
    if let Some(props) = schema["properties"].as_object() {
        found.push(props);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        found.extend(properties(schemas, part));
    }
    found
}
