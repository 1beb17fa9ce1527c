//! Bulk changes of the people, companies, deals and tasks lists through the
//! API: by ids or by the list's own query, each record by the rules of a
//! single update or delete, all or nothing, with an Undo for a bulk delete.

use rapport_domain::Role;
use rapport_domain::history::HistoryAction;
use rapport_domain::records::{Company, Deal, DealStatus, LifecycleStage, Person, Task};
use serde_json::{Value, json};

use crate::common::{
    Api, Backend, TestApp, create_company, create_deal, create_person_with, create_pipeline, create_sales_pipeline,
    create_task, history, trash, unknown_id,
};

backend_tests!(
    people_change_together_by_ids_and_by_filter,
    one_refused_record_changes_none,
    a_bulk_delete_is_undone_entry_by_entry,
    deals_move_within_their_own_pipeline,
    companies_and_tasks_change_together,
    bad_bulk_bodies_are_named,
);

async fn person(api: &Api, name: &str, stage: &str, extra: Value) -> Person {
    let mut body = json!({ "first_name": name, "lifecycle_stage": stage });
    crate::common::merge(&mut body, extra);
    create_person_with(api, body).await
}

async fn people_change_together_by_ids_and_by_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent, _) = app.create_user(Role::Agent, None).await;
    let ada = person(&app.admin, "Ada", "lead", json!({})).await;
    let bo = person(&app.admin, "Bo", "lead", json!({})).await;
    let cy = person(&app.admin, "Cy", "lead", json!({})).await;
    let dee = person(&app.admin, "Dee", "customer", json!({})).await;

    // By ids: a person named twice changes once, with a history entry of their own.
    let body = json!({ "ids": [ada.id, bo.id, ada.id], "action": "set_owner", "owner_id": agent.id });
    let answer = app.admin.post("/api/v1/people/bulk", &body).await.want(200).value();
    assert_eq!(answer, json!({ "changed": 2 }));
    for who in [&ada, &bo] {
        let now: Person = app.admin.fetch("people", who.id).await;
        assert_eq!((now.fields.owner_id, now.meta.version), (Some(agent.id), 2), "{}", who.fields.first_name);
        let entries = history(&app.admin, "people", who.id).await;
        assert_eq!(entries[0].action, HistoryAction::Update);
        assert!(entries[0].changes.iter().any(|c| c.field == "owner_id"), "{:?}", entries[0]);
    }
    let untouched: Person = app.admin.fetch("people", cy.id).await;
    assert_eq!(untouched.meta.version, 1, "a person not named stays");

    // By the list's own query: every lead, on every page (paging parameters aside).
    let body = json!({ "filter": "lifecycle_stage=lead&limit=1", "action": "add_tag", "tag": "VIP" });
    assert_eq!(app.admin.post("/api/v1/people/bulk", &body).await.want(200).value(), json!({ "changed": 3 }));
    let tagged: crate::common::Page<Person> = app.admin.get("/api/v1/people?tag=vip").await.want(200).json();
    let mut names: Vec<String> = tagged.items.iter().map(|p| p.fields.first_name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["Ada", "Bo", "Cy"], "the tag index is kept, as with a single update");
    // Adding it again changes nothing on the tags.
    app.admin.post("/api/v1/people/bulk", &body).await.want(200);
    let cy_now: Person = app.admin.fetch("people", cy.id).await;
    assert_eq!(cy_now.fields.tags.len(), 1);

    let body = json!({ "filter": "tag=vip", "action": "set_stage", "lifecycle_stage": "customer" });
    app.admin.post("/api/v1/people/bulk", &body).await.want(200);
    let body = json!({ "filter": "q=ada", "action": "remove_tag", "tag": "vip" });
    assert_eq!(app.admin.post("/api/v1/people/bulk", &body).await.want(200).value(), json!({ "changed": 1 }));
    let ada_now: Person = app.admin.fetch("people", ada.id).await;
    assert_eq!(ada_now.fields.lifecycle_stage, LifecycleStage::Customer);
    assert!(ada_now.fields.tags.is_empty());
    let dee_now: Person = app.admin.fetch("people", dee.id).await;
    assert_eq!(dee_now.meta.version, 1, "the filter chose who changed");

    // The filter builder's conditions choose too, as the list takes them.
    let body = json!({ "filter": "where=lifecycle_stage.eq.customer", "action": "add_tag", "tag": "customer" });
    assert_eq!(app.admin.post("/api/v1/people/bulk", &body).await.want(200).value(), json!({ "changed": 4 }));

    // null clears the owner.
    let body = json!({ "ids": [ada.id], "action": "set_owner", "owner_id": null });
    app.admin.post("/api/v1/people/bulk", &body).await.want(200);
    assert_eq!(app.admin.fetch::<Person>("people", ada.id).await.fields.owner_id, None);
}

async fn one_refused_record_changes_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let red = app.create_team("Red").await;
    let blue = app.create_team("Blue").await;
    let (ann, ann_api) = app.create_user(Role::Agent, Some(red.id)).await;
    let (cat, _) = app.create_user(Role::Agent, Some(blue.id)).await;
    let (_, viewer) = app.create_user(Role::Viewer, Some(red.id)).await;
    let anns = person(&app.admin, "Anns", "lead", json!({ "owner_id": ann.id })).await;
    let cats = person(&app.admin, "Cats", "lead", json!({ "owner_id": cat.id })).await;
    let before: Vec<Person> = vec![app.admin.fetch("people", anns.id).await, app.admin.fetch("people", cats.id).await];
    let unchanged = |label: &'static str| {
        let app = &app;
        let before = &before;
        async move {
            for p in before {
                let now: Person = app.admin.fetch("people", p.id).await;
                assert_eq!(&now, p, "{label}: {} changed", p.fields.first_name);
            }
        }
    };

    // Another team's person is out of reach for an agent: refused, naming them.
    let body = json!({ "ids": [anns.id, cats.id], "action": "set_stage", "lifecycle_stage": "customer" });
    let error = ann_api.post("/api/v1/people/bulk", &body).await.want_error(403, "forbidden");
    assert!(error.message.contains(&cats.id.to_string()), "{error:?}");
    unchanged("another team's person").await;
    // So is a delete of someone else's, even by filter.
    let body = json!({ "filter": "lifecycle_stage=lead", "action": "delete" });
    let error = ann_api.post("/api/v1/people/bulk", &body).await.want_error(403, "forbidden");
    assert!(error.message.contains(&cats.id.to_string()), "{error:?}");
    unchanged("a delete out of reach").await;

    // A person who does not exist.
    let missing = unknown_id();
    let body = json!({ "ids": [anns.id, missing], "action": "add_tag", "tag": "x" });
    let error = app.admin.post("/api/v1/people/bulk", &body).await.want_error(404, "not_found");
    assert!(error.message.contains(&missing.to_string()), "{error:?}");
    unchanged("a missing person").await;

    // An owner who is no staff member: refused by the store, naming the person and the field.
    let body = json!({ "ids": [anns.id], "action": "set_owner", "owner_id": unknown_id() });
    let error = app.admin.post("/api/v1/people/bulk", &body).await.want_error(422, "validation");
    assert!(error.field("owner_id").is_some() && error.message.contains(&anns.id.to_string()), "{error:?}");
    // Viewers change nothing.
    let body = json!({ "ids": [anns.id], "action": "add_tag", "tag": "x" });
    viewer.post("/api/v1/people/bulk", &body).await.want_error(403, "forbidden");
    unchanged("refused").await;

    // The agent's own goes through.
    let body = json!({ "ids": [anns.id], "action": "set_stage", "lifecycle_stage": "prospect" });
    ann_api.post("/api/v1/people/bulk", &body).await.want(200);
    let now: Person = app.admin.fetch("people", anns.id).await;
    assert_eq!(now.fields.lifecycle_stage, LifecycleStage::Prospect);
}

async fn a_bulk_delete_is_undone_entry_by_entry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let one = create_deal(&app.admin, &pipeline, "One", json!({})).await;
    let two = create_deal(&app.admin, &pipeline, "Two", json!({})).await;
    let three = create_deal(&app.admin, &pipeline, "Three", json!({})).await;
    let alone = create_deal(&app.admin, &pipeline, "Alone", json!({})).await;
    app.admin.delete(&format!("/api/v1/deals/{}", alone.id)).await.want(204);

    let body = json!({ "ids": [one.id, two.id], "action": "delete" });
    let answer = app.admin.post("/api/v1/deals/bulk", &body).await.want(200).value();
    assert_eq!(answer["changed"], 2);
    let batch = answer["batch"].as_str().expect("a delete gives its batch").to_owned();
    app.admin.get(&format!("/api/v1/deals/{}", one.id)).await.want_error(404, "not_found");
    let entries = trash(&app.admin).await;
    for deal in [&one, &two, &alone] {
        assert_eq!(entries.iter().filter(|e| e.record_id == deal.id.0).count(), 1, "one entry per record");
    }
    assert_eq!(history(&app.admin, "deals", two.id).await[0].action, HistoryAction::Delete);

    // Undo restores exactly the batch: not the deal deleted on its own.
    let undone = app.admin.post(&format!("/api/v1/bulk/{batch}/undo"), &json!({})).await.want(200).value();
    assert_eq!(undone, json!({ "restored": 2 }));
    for deal in [&one, &two, &three] {
        app.admin.get(&format!("/api/v1/deals/{}", deal.id)).await.want(200);
    }
    app.admin.get(&format!("/api/v1/deals/{}", alone.id)).await.want_error(404, "not_found");
    assert!(trash(&app.admin).await.iter().any(|e| e.record_id == alone.id.0));
    // Twice: nothing of the batch is left.
    app.admin.post(&format!("/api/v1/bulk/{batch}/undo"), &json!({})).await.want_error(404, "not_found");
    app.admin.post("/api/v1/bulk/not-a-batch/undo", &json!({})).await.want_error(404, "not_found");
}

async fn deals_move_within_their_own_pipeline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sales = create_sales_pipeline(&app.admin).await;
    let renewals = create_pipeline(&app.admin, "Renewals", &[("Due", 50), ("Signed", 90)]).await;
    let a = create_deal(&app.admin, &sales, "A", json!({})).await;
    let b = create_deal(&app.admin, &sales, "B", json!({})).await;
    let r = create_deal(&app.admin, &renewals, "R", json!({ "stage_id": renewals.stages[0].id })).await;

    let body = json!({ "ids": [a.id, b.id], "action": "set_stage", "stage_id": sales.stages[2].id });
    app.admin.post("/api/v1/deals/bulk", &body).await.want(200);
    let moved: Deal = app.admin.fetch("deals", a.id).await;
    assert_eq!((moved.fields.stage_id, moved.fields.status), (sales.stages[2].id, DealStatus::Open));

    // A stage of another pipeline refuses the whole change, naming the deal.
    let body = json!({ "ids": [a.id, r.id], "action": "set_stage", "stage_id": sales.stages[0].id });
    let error = app.admin.post("/api/v1/deals/bulk", &body).await.want_error(422, "validation");
    assert!(error.field("stage_id").is_some() && error.message.contains(&r.id.to_string()), "{error:?}");
    assert_eq!(app.admin.fetch::<Deal>("deals", a.id).await.fields.stage_id, sales.stages[2].id, "A did not move");

    // Won, by filter: each stays in its stage.
    let body = json!({ "filter": format!("pipeline_id={}", sales.id), "action": "set_stage", "status": "won" });
    assert_eq!(app.admin.post("/api/v1/deals/bulk", &body).await.want(200).value(), json!({ "changed": 2 }));
    let won: Deal = app.admin.fetch("deals", b.id).await;
    assert_eq!((won.fields.status, won.fields.stage_id), (DealStatus::Won, sales.stages[2].id));
    assert!(won.closed_at.is_some(), "closed as a single update closes it");
    assert_eq!(app.admin.fetch::<Deal>("deals", r.id).await.fields.status, DealStatus::Open);
}

async fn companies_and_tasks_change_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (agent, _) = app.create_user(Role::Agent, None).await;
    let acme = create_company(&app.admin, "Acme").await;
    let globex = create_company(&app.admin, "Globex").await;
    let body = json!({ "ids": [acme.id, globex.id], "action": "add_tag", "tag": "partner" });
    app.admin.post("/api/v1/companies/bulk", &body).await.want(200);
    let body = json!({ "filter": "tag=partner", "action": "set_owner", "owner_id": agent.id });
    assert_eq!(app.admin.post("/api/v1/companies/bulk", &body).await.want(200).value(), json!({ "changed": 2 }));
    let now: Company = app.admin.fetch("companies", globex.id).await;
    assert_eq!(now.fields.owner_id, Some(agent.id));
    assert_eq!(now.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["partner"]);

    let call = create_task(&app.admin, json!({ "title": "Call" })).await;
    let mail = create_task(&app.admin, json!({ "title": "Mail" })).await;
    let body = json!({ "ids": [call.id, mail.id], "action": "set_assignee", "assignee_id": agent.id });
    app.admin.post("/api/v1/tasks/bulk", &body).await.want(200);
    let now: Task = app.admin.fetch("tasks", mail.id).await;
    assert_eq!(now.fields.assignee_id, Some(agent.id));
    let body = json!({ "filter": format!("assignee_id={}", agent.id), "action": "delete" });
    let answer = app.admin.post("/api/v1/tasks/bulk", &body).await.want(200).value();
    assert_eq!(answer["changed"], 2);
    app.admin.get(&format!("/api/v1/tasks/{}", call.id)).await.want_error(404, "not_found");
    // A task has no tags: the schema says so, and the body is refused.
    let body = json!({ "ids": [call.id], "action": "add_tag", "tag": "x" });
    app.admin.post("/api/v1/tasks/bulk", &body).await.want_error(422, "validation");
}

async fn bad_bulk_bodies_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = person(&app.admin, "Ada", "lead", json!({})).await;
    let bulk = |body: Value| {
        let app = &app;
        async move { app.admin.post("/api/v1/people/bulk", &body).await.want_error(422, "validation") }
    };
    let error = bulk(json!({ "action": "delete" })).await;
    assert!(error.field("ids").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ada.id], "filter": "", "action": "delete" })).await;
    assert!(error.field("filter").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [], "action": "delete" })).await;
    assert!(error.field("ids").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ada.id], "action": "add_tag" })).await;
    assert!(error.field("tag").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ada.id], "action": "delete", "tag": "x" })).await;
    assert!(error.field("tag").is_some(), "a field the action does not use: {error:?}");
    let error = bulk(json!({ "ids": [ada.id], "action": "set_stage", "lifecycle_stage": "someday" })).await;
    assert!(error.field("lifecycle_stage").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ada.id], "action": "paint" })).await;
    assert!(error.field("action").is_some(), "{error:?}");
    let error = bulk(json!({ "ids": [ada.id], "action": "delete", "stage_id": unknown_id() })).await;
    assert!(error.field("stage_id").is_some(), "people have no stage_id: {error:?}");
    let error = bulk(json!({ "filter": "stage=lead", "action": "delete" })).await;
    assert!(error.field("filter.stage").is_some(), "an unknown list parameter: {error:?}");
    let error = bulk(json!({ "filter": "lifecycle_stage=churned", "action": "delete" })).await;
    assert!(error.field("filter").is_some_and(|m| m.contains("no records")), "{error:?}");
    let many: Vec<String> = (0..10_001).map(|_| unknown_id().to_string()).collect();
    let error = bulk(json!({ "ids": many, "action": "delete" })).await;
    assert!(error.field("ids").is_some_and(|m| m.contains("10000")), "{error:?}");
    assert_eq!(app.admin.fetch::<Person>("people", ada.id).await, ada, "nothing changed");

    // The OpenAPI document says what each endpoint takes and answers.
    let doc = app.admin.get("/api/v1/openapi.json").await.want(200).value();
    for (path, schema, fields) in [
        (
            "/api/v1/people/bulk",
            "PersonBulkInput",
            vec!["action", "filter", "ids", "lifecycle_stage", "owner_id", "tag"],
        ),
        ("/api/v1/companies/bulk", "CompanyBulkInput", vec!["action", "filter", "ids", "owner_id", "tag"]),
        (
            "/api/v1/deals/bulk",
            "DealBulkInput",
            vec!["action", "filter", "ids", "owner_id", "stage_id", "status", "tag"],
        ),
        ("/api/v1/tasks/bulk", "TaskBulkInput", vec!["action", "assignee_id", "filter", "ids"]),
    ] {
        let post = &doc["paths"][path]["post"];
        for status in ["200", "403", "404", "409", "422"] {
            assert!(post["responses"][status].is_object(), "{path} documents {status}: {post}");
        }
        // One closed object per selection and action: together they name every field.
        let variants = doc["components"]["schemas"][schema]["oneOf"].as_array().expect("oneOf").clone();
        let mut properties = std::collections::BTreeSet::new();
        for variant in &variants {
            assert_eq!(variant["additionalProperties"], json!(false), "{variant}");
            let required = variant["required"].as_array().expect("required");
            assert!(required.contains(&json!("action")), "{variant}");
            let by_ids = required.contains(&json!("ids"));
            assert!(by_ids != required.contains(&json!("filter")), "ids or filter, not both: {variant}");
            properties.extend(variant["properties"].as_object().expect("properties").keys().cloned());
        }
        assert_eq!(properties.iter().collect::<Vec<_>>(), fields, "{schema}");
    }
    assert!(doc["paths"]["/api/v1/bulk/{batch}/undo"]["post"].is_object());
}
