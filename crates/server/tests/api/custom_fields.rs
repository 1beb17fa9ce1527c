//! Custom field definitions and the checking of values against them.

use rapport_domain::custom_fields::{CustomFieldDefinition, EntityType, FieldKind};
use rapport_domain::records::{Company, Deal, Person};
use rapport_domain::tickets::Ticket;
use serde_json::{Value, json};

use crate::common::{Backend, Page, TestApp, create_custom_field, create_person, create_sales_pipeline};

backend_tests!(
    custom_field_values_are_checked,
    custom_field_definitions_are_checked,
    tickets_carry_custom_fields_as_deals_do,
);

async fn custom_field_values_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    for (key, kind, choices) in [
        ("tier", "choice", json!(["gold", "silver"])),
        ("score", "number", json!([])),
        ("birthday", "date", json!([])),
        ("vip", "boolean", json!([])),
        ("nickname", "text", json!([])),
    ] {
        let definition = create_custom_field(
            api,
            json!({ "entity_type": "person", "key": key, "label": key.to_uppercase(), "kind": kind, "choices": choices }),
        )
        .await;
        assert_eq!(definition.field.key.as_str(), key);
        assert_eq!(definition.field.entity_type, EntityType::Person);
        assert!(!definition.field.required);
    }
    let definitions: Page<CustomFieldDefinition> = api.list("/api/v1/custom-fields").await;
    assert_eq!(definitions.items.len(), 5);
    assert!(definitions.items.iter().any(|d| d.field.kind == FieldKind::Choice && d.field.choices.len() == 2));

    let refused = [
        (json!({ "nope": 1 }), "custom_fields.nope"),
        (json!({ "score": "high" }), "custom_fields.score"),
        (json!({ "score": true }), "custom_fields.score"),
        (json!({ "tier": "bronze" }), "custom_fields.tier"),
        (json!({ "tier": 1 }), "custom_fields.tier"),
        (json!({ "birthday": "2025-02-30" }), "custom_fields.birthday"),
        (json!({ "birthday": "31/01/2000" }), "custom_fields.birthday"),
        (json!({ "vip": "yes" }), "custom_fields.vip"),
        (json!({ "nickname": "   " }), "custom_fields.nickname"),
        (json!({ "nickname": ["a"] }), "custom_fields.nickname"),
    ];
    for (values, field) in &refused {
        let error = api
            .post("/api/v1/people", &json!({ "first_name": "Ana", "custom_fields": values }))
            .await
            .want_error(422, "validation");
        assert!(error.field(field).is_some(), "{values} should be refused naming {field}: {error:?}");
    }
    // Custom fields of people do not apply to companies.
    let error = api
        .post("/api/v1/companies", &json!({ "name": "Acme", "custom_fields": { "tier": "gold" } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("custom_fields.tier").is_some(), "{error:?}");

    let person: Person = api
        .create(
            "people",
            json!({ "first_name": "Ana", "custom_fields": {
                "tier": " gold ", "score": 7.5, "birthday": "2000-01-31", "vip": true, "nickname": "Aninha" } }),
        )
        .await;
    let cf = &person.fields.custom_fields;
    assert_eq!(cf["tier"], json!("gold"));
    assert_eq!(cf["score"].as_f64(), Some(7.5));
    assert_eq!(cf["birthday"], json!("2000-01-31"));
    assert_eq!(cf["vip"], json!(true));
    assert_eq!(cf["nickname"], json!("Aninha"));
    let fetched: Person = api.fetch("people", person.id).await;
    assert_eq!(fetched.fields.custom_fields, person.fields.custom_fields);

    // A merge patch changes one value, clears another with null, keeps the rest.
    let patched: Person =
        api.update("people", person.id, json!({ "custom_fields": { "score": null, "tier": "silver" } })).await;
    let cf = &patched.fields.custom_fields;
    assert_eq!(cf.get("score").filter(|v| !v.is_null()), None, "score was not cleared: {cf:?}");
    assert_eq!(cf["tier"], json!("silver"));
    assert_eq!(cf["vip"], json!(true), "a merge patch dropped another custom value");
    let error = api
        .patch(&format!("/api/v1/people/{}", person.id), &json!({ "custom_fields": { "vip": 3 } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("custom_fields.vip").is_some(), "{error:?}");

    // Required fields, here on companies.
    let _region = create_custom_field(
        api,
        json!({ "entity_type": "company", "key": "region", "label": "Region", "kind": "text", "required": true }),
    )
    .await;
    let error = api.post("/api/v1/companies", &json!({ "name": "Acme" })).await.want_error(422, "validation");
    assert_eq!(error.field("custom_fields.region"), Some("is required"), "{error:?}");
    let error = api
        .post("/api/v1/companies", &json!({ "name": "Acme", "custom_fields": { "region": null } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("custom_fields.region").is_some(), "{error:?}");
    let company: Company =
        api.create("companies", json!({ "name": "Acme", "custom_fields": { "region": "EMEA" } })).await;
    assert_eq!(company.fields.custom_fields["region"], json!("EMEA"));
    let error = api
        .patch(&format!("/api/v1/companies/{}", company.id), &json!({ "custom_fields": { "region": null } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("custom_fields.region").is_some(), "{error:?}");

    // Deals have their own.
    create_custom_field(api, json!({ "entity_type": "deal", "key": "seats", "label": "Seats", "kind": "number" }))
        .await;
    let pipeline = create_sales_pipeline(api).await;
    let deal: Deal = api
        .create(
            "deals",
            json!({ "name": "Pilot", "amount": { "amount_minor": 1, "currency": "EUR" }, "pipeline_id": pipeline.id,
                    "stage_id": pipeline.stages[0].id, "custom_fields": { "seats": 25 } }),
        )
        .await;
    assert_eq!(deal.fields.custom_fields["seats"].as_f64(), Some(25.0));
    let page: Page<Deal> = api.list("/api/v1/deals?cf.seats=25").await;
    assert_eq!(page.items.iter().map(|d| d.id).collect::<Vec<_>>(), [deal.id]);
    let page: Page<Deal> = api.list("/api/v1/deals?cf.seats=26").await;
    assert!(page.items.is_empty());
    let page: Page<Company> = api.list("/api/v1/companies?cf.region=EMEA").await;
    assert_eq!(page.items.iter().map(|c| c.id).collect::<Vec<_>>(), [company.id]);
    let _: Value = api.get("/api/v1/people?cf.tier=silver").await.want(200).value();
}

async fn custom_field_definitions_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let bad = [
        (json!({ "entity_type": "person", "key": "Tier", "label": "T", "kind": "text" }), "key"),
        (json!({ "entity_type": "person", "key": "1tier", "label": "T", "kind": "text" }), "key"),
        (json!({ "entity_type": "person", "key": "tier", "label": "T", "kind": "colour" }), "kind"),
        (json!({ "entity_type": "planet", "key": "tier", "label": "T", "kind": "text" }), "entity_type"),
        (json!({ "entity_type": "person", "key": "tier", "label": "T", "kind": "choice" }), "choices"),
        (
            json!({ "entity_type": "person", "key": "tier", "label": "T", "kind": "choice", "choices": ["a", "a"] }),
            "choices",
        ),
        (json!({ "entity_type": "person", "key": "tier", "label": "T", "kind": "text", "choices": ["a"] }), "choices"),
    ];
    for (body, field) in &bad {
        let error = api.post("/api/v1/custom-fields", body).await.want_error(422, "validation");
        assert!(error.field(field).is_some(), "{body} should be refused naming {field}: {error:?}");
    }
    let definitions: Page<CustomFieldDefinition> = api.list("/api/v1/custom-fields").await;
    assert!(definitions.items.is_empty());
    // One key per record type.
    let body = json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "text" });
    create_custom_field(api, body.clone()).await;
    api.post("/api/v1/custom-fields", &body).await.want_error(409, "conflict");
    let company = json!({ "entity_type": "company", "key": "tier", "label": "Tier", "kind": "text" });
    create_custom_field(api, company).await;
}

async fn tickets_carry_custom_fields_as_deals_do(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let product = create_custom_field(
        api,
        json!({ "entity_type": "ticket", "key": "product", "label": "Product", "kind": "choice", "choices": ["App", "Web"] }),
    )
    .await;
    assert_eq!(product.field.entity_type, EntityType::Ticket);
    // Mail intake opens tickets without values: a ticket field cannot be required.
    let error = api
        .post(
            "/api/v1/custom-fields",
            &json!({ "entity_type": "ticket", "key": "os", "label": "OS", "kind": "text", "required": true }),
        )
        .await
        .want_error(422, "validation");
    assert!(error.field("required").is_some(), "{error:?}");
    let path = format!("/api/v1/custom-fields/{}", product.id);
    let error = api.patch(&path, &json!({ "required": true })).await.want_error(422, "validation");
    assert!(error.field("required").is_some(), "{error:?}");
    create_custom_field(api, json!({ "entity_type": "ticket", "key": "seats", "label": "Seats", "kind": "number" }))
        .await;
    create_custom_field(api, json!({ "entity_type": "deal", "key": "region", "label": "Region", "kind": "text" }))
        .await;
    let listed: Page<CustomFieldDefinition> = api.list("/api/v1/custom-fields?entity_type=ticket").await;
    let keys: Vec<&str> = listed.items.iter().map(|d| d.field.key.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&"product") && keys.contains(&"seats"), "{keys:?}");

    let ada = create_person(api, "Ada").await;
    let ticket: Ticket = api
        .create(
            "tickets",
            json!({ "requester_id": ada.id, "subject": "Crash", "custom_fields": { "product": " App ", "seats": 3 } }),
        )
        .await;
    assert_eq!(ticket.fields.custom_fields["product"], json!("App"));
    assert_eq!(ticket.fields.custom_fields["seats"], json!(3));
    assert_eq!(api.fetch::<Ticket>("tickets", ticket.id).await, ticket);

    // A deal's field is no ticket's; a bad value is named and changes nothing.
    let error = api
        .post(
            "/api/v1/tickets",
            &json!({ "requester_id": ada.id, "subject": "Other", "custom_fields": { "region": "EMEA" } }),
        )
        .await
        .want_error(422, "validation");
    assert!(error.field("custom_fields.region").is_some(), "{error:?}");
    let path = format!("/api/v1/tickets/{}", ticket.id);
    for bad in [json!({ "product": "Desktop" }), json!({ "seats": "many" })] {
        let key = bad.as_object().and_then(|o| o.keys().next().cloned()).unwrap();
        let error = api
            .patch(&path, &json!({ "subject": "Renamed", "custom_fields": bad }))
            .await
            .want_error(422, "validation");
        assert!(error.field(&format!("custom_fields.{key}")).is_some(), "{error:?}");
    }
    assert_eq!(api.fetch::<Ticket>("tickets", ticket.id).await, ticket, "a refused change changed nothing");
    let tickets: Vec<Ticket> = api.list_all("/api/v1/tickets", &[]).await;
    assert_eq!(tickets.len(), 1, "nothing was written");

    // A merge patch changes one value and clears another.
    let patched: Ticket =
        api.update("tickets", ticket.id, json!({ "custom_fields": { "product": "Web", "seats": null } })).await;
    assert_eq!(serde_json::to_value(&patched.fields.custom_fields).unwrap(), json!({ "product": "Web" }));

    // The list filters by them; text search and tags are still refused.
    let page: Page<Ticket> = api.list("/api/v1/tickets?cf.product=Web").await;
    assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), [ticket.id]);
    let page: Page<Ticket> = api.list("/api/v1/tickets?cf.product=App").await;
    assert!(page.items.is_empty(), "the old value is no longer indexed");
    let error = api.get("/api/v1/tickets?cf.region=EMEA").await.want_error(422, "validation");
    assert!(error.field("cf.region").is_some(), "{error:?}");
    let error = api.get("/api/v1/tickets?cf.product=Desktop").await.want_error(422, "validation");
    assert!(error.field("cf.product").is_some(), "{error:?}");
    let error = api.get("/api/v1/tickets?q=crash").await.want_error(422, "validation");
    assert!(error.field("q").is_some(), "{error:?}");

    // The export has a column per ticket field.
    let csv = api.get("/api/v1/export/tickets").await.want(200).text;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "cf.product").expect("a cf.product column");
    assert!(header.contains(&"cf.seats") && !header.contains(&"cf.region"), "{header:?}");
    assert_eq!(row[column], "Web");

    // Trash and restore keep the values findable.
    api.delete(&path).await.want(204);
    let page: Page<Ticket> = api.list("/api/v1/tickets?cf.product=Web").await;
    assert!(page.items.is_empty());
    let trash = api.get("/api/v1/trash?type=tickets").await.want(200).value();
    let entry = trash["items"][0]["id"].as_str().unwrap().to_owned();
    api.post(&format!("/api/v1/trash/{entry}/restore"), &json!({})).await.want(200);
    let page: Page<Ticket> = api.list("/api/v1/tickets?cf.product=Web").await;
    assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), [ticket.id], "restored with its values");

    // Deleting the definition takes its values off the tickets.
    api.delete(&format!("/api/v1/custom-fields/{}", product.id)).await.want(204);
    let fetched: Ticket = api.fetch("tickets", ticket.id).await;
    assert!(fetched.fields.custom_fields.is_empty(), "{:?}", fetched.fields.custom_fields);

    // The API document says tickets carry them and definitions may be for tickets.
    let doc = api.get("/api/v1/openapi.json").await.want(200).value();
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["TicketInput"]["properties"]["custom_fields"].is_object(), "{}", schemas["TicketInput"]);
    assert!(
        schemas["EntityType"].to_string().contains("\"ticket\""),
        "EntityType lists ticket: {}",
        schemas["EntityType"]
    );
}
