//! Filter-builder conditions on the lists: `where=<field>.<op>[.<value>]`,
//! custom fields included, with cursors, counts and the other filters.

use rapport_domain::records::{Company, Deal, Person};
use serde_json::json;
use time::OffsetDateTime;

use crate::common::{
    Api, Backend, TestApp, create_company, create_custom_field, create_deal, create_person_with, create_sales_pipeline,
    query,
};

backend_tests!(
    people_conditions_cover_each_kind_of_field,
    custom_field_conditions_use_their_kind,
    conditions_page_and_count_with_the_other_filters,
    company_and_deal_conditions,
    bad_conditions_are_refused_naming_where,
);

/// The first names of every person matching `conditions` (and `extra` parameters), sorted.
/// The list's count (written with other sub-queries than the page) must agree.
async fn people_where(api: &Api, conditions: &[&str], extra: &[(&str, &str)]) -> Vec<String> {
    let mut params: Vec<(&str, &str)> = conditions.iter().map(|c| ("where", *c)).collect();
    params.extend_from_slice(extra);
    let mut names: Vec<String> = api
        .list_all::<Person>("/api/v1/people", &params)
        .await
        .into_iter()
        .map(|p| p.fields.first_name.to_string())
        .collect();
    names.sort();
    params.push(("count", "true"));
    let counted = api.get(&query("/api/v1/people", &params)).await.want(200).value();
    assert_eq!(counted["total"], json!(names.len()), "the count of {params:?}: {counted}");
    assert_eq!(counted["total_capped"], json!(false), "{counted}");
    names
}

fn today() -> String {
    OffsetDateTime::now_utc().date().to_string()
}

async fn three_people(app: &TestApp) -> (Person, Person, Person) {
    let api = &app.admin;
    let ana = create_person_with(
        api,
        json!({ "first_name": "Ana", "last_name": "Berg", "job_title": "Head of Sales",
            "emails": [{ "address": "ana@example.com" }], "lifecycle_stage": "customer",
            "owner_id": app.admin_user.id, "tags": ["VIP"], "keep_in_touch_days": 30 }),
    )
    .await;
    let bo = create_person_with(api, json!({ "first_name": "Bo", "lifecycle_stage": "lead", "keep_in_touch_days": 7 }))
        .await;
    let cy = create_person_with(
        api,
        json!({ "first_name": "Cy", "last_name": "Dahl", "emails": [{ "address": "cy@corp.io" }],
            "lifecycle_stage": "prospect", "tags": ["partner"] }),
    )
    .await;
    (ana, bo, cy)
}

async fn people_conditions_cover_each_kind_of_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    three_people(&app).await;
    let api = &app.admin;
    let owner = format!("owner.eq.{}", app.admin_user.id);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // Text: equality ignores case; "not" includes the empty.
        ("first_name.eq.ANA", vec!["Ana"]),
        ("first_name.ne.ana", vec!["Bo", "Cy"]),
        ("job_title.contains.sales", vec!["Ana"]),
        ("last_name.starts.da", vec!["Cy"]),
        ("last_name.empty", vec!["Bo"]),
        ("job_title.set", vec!["Ana"]),
        ("last_name.contains.%", vec![]),
        // Emails, through the contact points.
        ("email.contains.corp", vec!["Cy"]),
        ("email.eq.ANA@example.com", vec!["Ana"]),
        ("email.empty", vec!["Bo"]),
        ("email.ne.ana@example.com", vec!["Bo", "Cy"]),
        // Numbers.
        ("keep_in_touch_days.ge.30", vec!["Ana"]),
        ("keep_in_touch_days.lt.30", vec!["Bo"]),
        ("keep_in_touch_days.ne.7", vec!["Ana", "Cy"]),
        ("keep_in_touch_days.empty", vec!["Cy"]),
        // Days (UTC).
        ("last_contacted_at.empty", vec!["Ana", "Bo", "Cy"]),
        ("created_at.last.1", vec!["Ana", "Bo", "Cy"]),
        ("created_at.before.2000-01-01", vec![]),
        ("created_at.after.2000-01-01", vec!["Ana", "Bo", "Cy"]),
        // Choices and owners.
        ("lifecycle_stage.in.customer|prospect", vec!["Ana", "Cy"]),
        ("lifecycle_stage.ne.lead", vec!["Ana", "Cy"]),
        (owner.as_str(), vec!["Ana"]),
        ("owner.empty", vec!["Bo", "Cy"]),
        // Tags.
        ("tag.has.vip", vec!["Ana"]),
        ("tag.hasnot.VIP", vec!["Bo", "Cy"]),
    ];
    for (condition, want) in cases {
        assert_eq!(people_where(api, &[condition], &[]).await, want, "where={condition}");
    }
    let today = today();
    assert_eq!(people_where(api, &[&format!("created_at.on.{today}")], &[]).await, vec!["Ana", "Bo", "Cy"]);
    assert!(people_where(api, &[&format!("created_at.after.{today}")], &[]).await.is_empty());
    // Conditions AND together.
    assert_eq!(people_where(api, &["email.set", "lifecycle_stage.ne.customer"], &[]).await, vec!["Cy"]);
}

async fn custom_field_conditions_use_their_kind(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    for (key, kind, choices) in [
        ("tier", "choice", json!(["gold", "silver", "bronze"])),
        ("score", "number", json!([])),
        ("renewal", "date", json!([])),
        ("vip", "boolean", json!([])),
        ("nickname", "text", json!([])),
    ] {
        create_custom_field(
            api,
            json!({ "entity_type": "person", "key": key, "label": key.to_uppercase(), "kind": kind, "choices": choices }),
        )
        .await;
    }
    for (name, values) in [
        ("Ana", json!({ "tier": "gold", "score": 12.5, "renewal": "2026-03-01", "vip": true, "nickname": "Aninha" })),
        ("Bo", json!({ "tier": "silver", "score": 3, "renewal": "2025-12-31", "vip": false })),
        ("Cy", json!({})),
    ] {
        create_person_with(api, json!({ "first_name": name, "custom_fields": values })).await;
    }
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("custom.tier.eq.gold", vec!["Ana"]),
        ("custom.tier.in.gold|silver", vec!["Ana", "Bo"]),
        ("custom.tier.ne.gold", vec!["Bo", "Cy"]),
        ("custom.tier.empty", vec!["Cy"]),
        ("custom.tier.set", vec!["Ana", "Bo"]),
        // Numbers compare as numbers (12.5 > 3, though "12.5" < "3" as text).
        ("custom.score.gt.5", vec!["Ana"]),
        ("custom.score.le.3", vec!["Bo"]),
        ("custom.score.eq.12.5", vec!["Ana"]),
        ("custom.score.ne.3", vec!["Ana", "Cy"]),
        ("custom.renewal.before.2026-01-01", vec!["Bo"]),
        ("custom.renewal.after.2025-12-31", vec!["Ana"]),
        ("custom.renewal.on.2026-03-01", vec!["Ana"]),
        ("custom.vip.eq.false", vec!["Bo"]),
        ("custom.nickname.contains.NINH", vec!["Ana"]),
        ("custom.nickname.empty", vec!["Bo", "Cy"]),
    ];
    for (condition, want) in cases {
        assert_eq!(people_where(api, &[condition], &[]).await, want, "where={condition}");
    }
}

async fn conditions_page_and_count_with_the_other_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    create_custom_field(
        api,
        json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold", "silver"] }),
    )
    .await;
    for i in 0..7 {
        let tier = if i < 5 { "gold" } else { "silver" };
        let stage = if i % 2 == 0 { "customer" } else { "lead" };
        create_person_with(
            api,
            json!({ "first_name": format!("Person {i}"), "lifecycle_stage": stage, "custom_fields": { "tier": tier } }),
        )
        .await;
    }
    // Every page, by cursor, two at a time: the five gold ones once each.
    let paged = people_where(api, &["custom.tier.eq.gold"], &[("limit", "2"), ("sort", "-created_at")]).await;
    assert_eq!(paged, vec!["Person 0", "Person 1", "Person 2", "Person 3", "Person 4"]);
    let first =
        api.get(&query("/api/v1/people", &[("where", "custom.tier.eq.gold"), ("limit", "2"), ("count", "true")])).await;
    let body = first.want(200).value();
    assert_eq!(body["total"], json!(5));
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    let cursor = body["next_cursor"].as_str().expect("a next page").to_owned();
    let second = api
        .get(&query(
            "/api/v1/people",
            &[("where", "custom.tier.eq.gold"), ("limit", "2"), ("count", "true"), ("cursor", &cursor)],
        ))
        .await
        .want(200)
        .value();
    assert_eq!(second["total"], json!(5), "every page counts the same");
    // With the list's own filters and q.
    assert_eq!(
        people_where(api, &["custom.tier.eq.gold"], &[("lifecycle_stage", "customer")]).await,
        vec!["Person 0", "Person 2", "Person 4"]
    );
    assert_eq!(people_where(api, &["custom.tier.eq.silver"], &[("q", "person")]).await, vec!["Person 5", "Person 6"]);
}

async fn company_and_deal_conditions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    create_custom_field(
        api,
        json!({ "entity_type": "company", "key": "revenue", "label": "Revenue", "kind": "number" }),
    )
    .await;
    let acme: Company = api
        .create("companies", json!({ "name": "Acme", "size": "11-50", "custom_fields": { "revenue": 900000 } }))
        .await;
    create_company(api, "Globex").await;
    let companies = |items: Vec<Company>| {
        let mut names: Vec<String> = items.into_iter().map(|c| c.fields.name.to_string()).collect();
        names.sort();
        names
    };
    let found = api.list_all::<Company>("/api/v1/companies", &[("where", "size.in.11-50|51-200")]).await;
    assert_eq!(companies(found), vec!["Acme"]);
    let found = api.list_all::<Company>("/api/v1/companies", &[("where", "custom.revenue.ge.100000")]).await;
    assert_eq!(companies(found), vec!["Acme"]);
    let found = api.list_all::<Company>("/api/v1/companies", &[("where", "size.empty")]).await;
    assert_eq!(companies(found), vec!["Globex"]);

    let pipeline = create_sales_pipeline(api).await;
    create_deal(
        api,
        &pipeline,
        "Big",
        json!({ "amount": { "amount_minor": 500_000, "currency": "EUR" },
        "expected_close": "2026-06-30", "company_id": acme.id }),
    )
    .await;
    // 1,500 yen has no minor units: 1,500 is more than 1,000 (though 150,000 cents of euro would not be).
    create_deal(api, &pipeline, "Yen", json!({ "amount": { "amount_minor": 1_500, "currency": "JPY" } })).await;
    create_deal(
        api,
        &pipeline,
        "Small",
        json!({ "amount": { "amount_minor": 50_000, "currency": "EUR" },
        "stage_id": pipeline.stages[1].id }),
    )
    .await;
    let deals = |items: Vec<Deal>| {
        let mut names: Vec<String> = items.into_iter().map(|d| d.fields.name.to_string()).collect();
        names.sort();
        names
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("amount.gt.1000".into(), vec!["Big", "Yen"]),
        ("amount.le.500".into(), vec!["Small"]),
        ("amount.eq.5000".into(), vec!["Big"]),
        ("expected_close.before.2026-07-01".into(), vec!["Big"]),
        ("expected_close.empty".into(), vec!["Small", "Yen"]),
        (format!("stage.eq.{}", pipeline.stages[1].id), vec!["Small"]),
        (format!("company.eq.{}", acme.id), vec!["Big"]),
        ("status.eq.open".into(), vec!["Big", "Small", "Yen"]),
        ("currency.eq.jpy".into(), vec!["Yen"]),
    ];
    for (condition, want) in cases {
        let found = api.list_all::<Deal>("/api/v1/deals", &[("where", condition.as_str())]).await;
        assert_eq!(deals(found), want, "where={condition}");
    }
}

async fn bad_conditions_are_refused_naming_where(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    create_custom_field(
        api,
        json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold"] }),
    )
    .await;
    let refused = [
        ("city.eq.Oslo", "no such field: city (in city.eq.Oslo)"),
        ("first_name.lt.5", "lt does not fit a text field"),
        ("first_name.like.a", "like is not an operator"),
        ("email.empty.yes", "empty takes no value"),
        ("keep_in_touch_days.gt.many", "many is not a number"),
        ("created_at.on.2026-02-30", "2026-02-30 is not a day of the calendar"),
        ("owner.eq.me", "me is not an id"),
        ("custom.nope.eq.1", "no such custom field: nope (in custom.nope.eq.1)"),
        ("custom.tier.eq.bronze", "bronze is not one of gold (in custom.tier.eq.bronze)"),
        ("custom.tier.lt.3", "lt does not fit a choice field"),
    ];
    for (condition, message) in refused {
        let error = api.get(&query("/api/v1/people", &[("where", condition)])).await.want_error(422, "validation");
        let said = error.field("where").unwrap_or_default();
        assert!(said.starts_with(message), "where={condition}: {said:?}");
    }
    // The OpenAPI document says so: `where` is an array of patterned strings, repeated (explode).
    let doc = api.get("/api/v1/openapi.json").await.want(200).value();
    let param = |path: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "where").cloned())
    };
    for path in ["/api/v1/people", "/api/v1/companies", "/api/v1/deals"] {
        let param = param(path).unwrap_or_else(|| panic!("{path} does not document where"));
        assert_eq!(param["explode"], json!(true), "{path}");
        assert_eq!(param["style"], json!("form"), "{path}");
        assert_eq!(param["schema"]["type"], json!("array"), "{path}");
        let pattern = param["schema"]["items"]["pattern"].as_str().unwrap_or_default();
        assert!(pattern.starts_with("^(") && pattern.contains("custom\\."), "{path}: {pattern}");
    }
    assert!(param("/api/v1/tasks").is_none(), "tasks take no conditions");
    // A list without conditions does not take them.
    let error = api.get("/api/v1/tasks?where=title.eq.x").await.want_error(422, "validation");
    assert!(error.field("where").is_some_and(|m| m.starts_with("is not a parameter here")), "{error:?}");
}
