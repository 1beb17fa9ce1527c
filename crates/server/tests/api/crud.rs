//! Create, read, update (merge patch and full replace) and delete for every
//! record type, with versions, ETags and If-Match.

use rapport_domain::access::Role;
use rapport_domain::records::{
    Activity, Company, Deal, DealStatus, Direction, LifecycleStage, Person, Pipeline, Task, Team, User,
};
use serde_json::{Value, json};

use crate::common::{
    Api, Backend, PASSWORD, Page, TestApp, create_activity, create_company, create_deal, create_person,
    create_person_with, create_sales_pipeline, create_task, parse_time, unique,
};

backend_tests!(
    crud_round_trip_every_type,
    person_fields_patch_and_put,
    pipeline_stages_and_deal_lifecycle,
    activity_and_task_defaults,
    users_and_teams,
    user_email_is_unique,
    company_size_round_trips,
    timestamps_are_utc_whole_seconds,
);

/// Two JSON values are the same, reading RFC 3339 strings as instants.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if x != y => {
            let format = &time::format_description::well_known::Rfc3339;
            match (time::OffsetDateTime::parse(x, format), time::OffsetDateTime::parse(y, format)) {
                (Ok(x), Ok(y)) => x == y,
                _ => false,
            }
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

struct Spec {
    kind: &'static str,
    create: Value,
    /// Sent with the right If-Match (quoted); each (field, expected value) after it.
    patch: Value,
    expect: Vec<(&'static str, Value)>,
    /// Sent with an unquoted If-Match.
    patch2: Value,
    expect2: Vec<(&'static str, Value)>,
}

/// Checks a patch answer: patched fields as expected, everything else as before.
fn check_patched(kind: &str, before: &Value, after: &Value, expect: &[(&str, Value)]) {
    for (field, value) in expect {
        assert!(same(&after[*field], value), "{kind}: after PATCH {field} is {} not {value}", after[*field]);
    }
    for (key, old) in before.as_object().unwrap() {
        if ["updated_at", "version"].contains(&key.as_str()) || expect.iter().any(|(f, _)| f == key) {
            continue;
        }
        assert!(same(&after[key], old), "{kind}: PATCH changed {key} from {old} to {}", after[key]);
    }
    assert_eq!(after["version"].as_i64().unwrap(), before["version"].as_i64().unwrap() + 1, "{kind}: version");
    if let (Some(old), Some(new)) = (before["updated_at"].as_str(), after["updated_at"].as_str()) {
        assert!(parse_time(new) >= parse_time(old), "{kind}: updated_at went back");
    }
}

async fn crud_round_trip_every_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person(api, "Ana").await;
    let other_person = create_person(api, "Bruno").await;
    let company = create_company(api, "Acme").await;
    let pipeline = create_sales_pipeline(api).await;
    let team = app.create_team("Support").await;
    let (lead, proposal) = (pipeline.stages[0].id, pipeline.stages[1].id);
    let admin_id = app.admin_user.id;

    let specs = vec![
        Spec {
            kind: "people",
            create: json!({ "first_name": "Carla", "last_name": "Costa", "emails": [{ "address": "Carla@Example.com" }],
                            "company_id": company.id, "tags": ["b2b"] }),
            patch: json!({ "job_title": "CTO", "tags": ["Zeta", "alpha"] }),
            expect: vec![("job_title", json!("CTO")), ("tags", json!(["alpha", "zeta"]))],
            patch2: json!({ "job_title": null, "lifecycle_stage": "customer" }),
            expect2: vec![("job_title", Value::Null), ("lifecycle_stage", json!("customer"))],
        },
        Spec {
            kind: "companies",
            create: json!({ "name": "Globex", "domain": "globex.example", "tags": ["partner"] }),
            patch: json!({ "industry": "Retail", "tags": ["partner", "retail"] }),
            expect: vec![("industry", json!("Retail")), ("tags", json!(["partner", "retail"]))],
            patch2: json!({ "industry": null, "domain": "https://www.GLOBEX.net/" }),
            expect2: vec![("industry", Value::Null), ("domain", json!("globex.net"))],
        },
        Spec {
            kind: "deals",
            create: json!({ "name": "Pilot", "amount": { "amount_minor": 150_000, "currency": "EUR" },
                            "pipeline_id": pipeline.id, "stage_id": lead, "person_id": person.id,
                            "company_id": company.id, "expected_close": "2030-06-30" }),
            patch: json!({ "name": "Bigger pilot", "amount": { "amount_minor": 250_000, "currency": "usd" } }),
            expect: vec![
                ("name", json!("Bigger pilot")),
                ("amount", json!({ "amount_minor": 250_000, "currency": "USD" })),
            ],
            patch2: json!({ "stage_id": proposal, "expected_close": null }),
            expect2: vec![("stage_id", json!(proposal)), ("expected_close", Value::Null)],
        },
        Spec {
            kind: "activities",
            create: json!({ "kind": "call", "subject": "Intro call", "person_id": person.id,
                            "occurred_at": "2024-05-01T10:00:00Z" }),
            patch: json!({ "body": "Went well", "subject": "Intro" }),
            expect: vec![("body", json!("Went well")), ("subject", json!("Intro"))],
            patch2: json!({ "deal_id": null, "company_id": company.id, "occurred_at": "2024-05-02T09:30:00Z" }),
            expect2: vec![("company_id", json!(company.id)), ("occurred_at", json!("2024-05-02T09:30:00Z"))],
        },
        Spec {
            kind: "tasks",
            create: json!({ "title": "Send proposal", "person_id": person.id, "due_at": "2030-01-01T09:00:00Z" }),
            patch: json!({ "title": "Send the proposal", "notes": "bring pricing" }),
            expect: vec![("title", json!("Send the proposal")), ("notes", json!("bring pricing"))],
            patch2: json!({ "due_at": "2030-01-02T03:04:05Z" }),
            expect2: vec![("due_at", json!("2030-01-02T03:04:05Z"))],
        },
        Spec {
            kind: "purchases",
            create: json!({ "person_id": person.id, "occurred_at": "2024-02-03T12:00:00Z",
                            "amount": { "amount_minor": 4_999, "currency": "EUR" }, "reference": "R-1" }),
            patch: json!({ "description": "Gift card", "reference": "R-2" }),
            expect: vec![("description", json!("Gift card")), ("reference", json!("R-2"))],
            patch2: json!({ "amount": { "amount_minor": 999, "currency": "GBP" }, "person_id": other_person.id }),
            expect2: vec![
                ("amount", json!({ "amount_minor": 999, "currency": "GBP" })),
                ("person_id", json!(other_person.id)),
            ],
        },
        Spec {
            kind: "pipelines",
            create: json!({ "name": "Renewals", "stages": [{ "name": "Due", "win_probability": 60 }] }),
            patch: json!({ "name": "Renewals 2025" }),
            expect: vec![("name", json!("Renewals 2025"))],
            patch2: json!({ "name": "Renewals 2026" }),
            expect2: vec![("name", json!("Renewals 2026"))],
        },
        Spec {
            kind: "teams",
            create: json!({ "name": "North" }),
            patch: json!({ "name": "North-East" }),
            expect: vec![("name", json!("North-East"))],
            patch2: json!({ "name": "East" }),
            expect2: vec![("name", json!("East"))],
        },
        Spec {
            kind: "users",
            create: json!({ "name": "Dora", "email": format!("Dora{}@Example.com", unique()), "role": "agent",
                            "password": PASSWORD }),
            patch: json!({ "name": "Dora Dias", "role": "manager" }),
            expect: vec![("name", json!("Dora Dias")), ("role", json!("manager"))],
            patch2: json!({ "team_id": team.id }),
            expect2: vec![("team_id", json!(team.id))],
        },
        Spec {
            kind: "custom-fields",
            create: json!({ "entity_type": "person", "key": "tier", "label": "Tier", "kind": "choice",
                            "choices": ["gold", "silver"] }),
            patch: json!({ "label": "Contract tier" }),
            expect: vec![("label", json!("Contract tier"))],
            patch2: json!({ "choices": ["gold", "silver", "bronze"] }),
            expect2: vec![("choices", json!(["gold", "silver", "bronze"]))],
        },
    ];

    for spec in specs {
        let kind = spec.kind;
        let base = format!("/api/v1/{kind}");
        let created: Value = api.create(kind, spec.create.clone()).await;
        let id = created["id"].as_str().unwrap_or_else(|| panic!("{kind}: no id in {created}")).to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 7), "{kind}: id {id} is no UUIDv7");
        if kind != "custom-fields" {
            for meta in ["created_at", "updated_at"] {
                parse_time(created[meta].as_str().unwrap_or_else(|| panic!("{kind}: no {meta} in {created}")));
            }
            assert_eq!(created["created_by"], json!(admin_id), "{kind}: created_by");
        }
        for (field, value) in spec.create.as_object().unwrap() {
            if field == "password" {
                assert!(created.get("password").is_none(), "{kind}: the password is echoed");
                continue;
            }
            // Values may be normalized (emails lower-cased...), but must be present.
            assert!(!created[field].is_null(), "{kind}: {field} was sent as {value} but came back null");
        }
        let path = format!("{base}/{id}");
        let version = created["version"].as_i64().unwrap();

        let fetched: Value = api.fetch(kind, &id).await;
        assert_eq!(fetched, created, "{kind}: GET differs from the POST answer");
        let listed: Page<Value> = api.list(&list_all(&base, kind)).await;
        assert!(listed.items.iter().any(|item| item["id"] == json!(id)), "{kind}: not listed");

        // A stale If-Match is refused and writes nothing.
        let stale = format!("\"{}\"", version + 5);
        api.patch_if(&path, &stale, &spec.patch).await.want_error(412, "version_mismatch");
        let unchanged: Value = api.fetch(kind, &id).await;
        assert_eq!(unchanged, created, "{kind}: a refused PATCH wrote");

        // The right If-Match (quoted, as the ETag is) goes through.
        let resp = api.patch_if(&path, &format!("\"{version}\""), &spec.patch).await.want(200);
        let patched: Value = resp.json();
        assert_eq!(resp.etag(), Some(format!("\"{}\"", version + 1)), "{kind}: ETag after PATCH");
        check_patched(kind, &created, &patched, &spec.expect);
        let fetched: Value = api.fetch(kind, &id).await;
        assert_eq!(fetched, patched, "{kind}: GET differs from the PATCH answer");

        // Unquoted If-Match works too; the old version is now stale.
        api.patch_if(&path, &version.to_string(), &spec.patch2).await.want_error(412, "version_mismatch");
        let resp = api.patch_if(&path, &(version + 1).to_string(), &spec.patch2).await.want(200);
        let patched2: Value = resp.json();
        check_patched(kind, &patched, &patched2, &spec.expect2);

        // Delete; users are deactivated instead.
        let deleted = api.delete(&path).await.want(204);
        assert!(deleted.text.is_empty(), "{kind}: 204 with a body");
        if kind == "users" {
            let user: Value = api.fetch(kind, &id).await;
            assert_eq!(user["active"], json!(false), "a deleted user is still active");
        } else {
            api.get(&path).await.want_error(404, "not_found");
            api.delete(&path).await.want_error(404, "not_found");
            api.patch(&path, &spec.patch).await.want_error(404, "not_found");
            let listed: Page<Value> = api.list(&list_all(&base, kind)).await;
            assert!(listed.items.iter().all(|item| item["id"] != json!(id)), "{kind}: still listed after DELETE");
        }
    }
}

/// A list's address for up to 200 records: teams, pipelines and custom
/// fields are not paged, and refuse `limit`.
fn list_all(base: &str, kind: &str) -> String {
    match kind {
        "teams" | "pipelines" | "custom-fields" => base.to_string(),
        _ => crate::common::query(base, &[("limit", "200")]),
    }
}

async fn person_fields_patch_and_put(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let company = create_company(api, "Acme").await;
    let referrer = create_person(api, "Rita").await;
    let person: Person = create_person_with(
        api,
        json!({
            "first_name": "  Ana ",
            "last_name": "Lima",
            "emails": [
                { "address": "Ana.Lima@Example.COM", "label": "work" },
                { "address": "ana@home.example" , "label": "home" }
            ],
            "phones": [{ "number": "+1 (555) 010-2030", "label": "mobile", "primary": true }],
            "job_title": "Buyer",
            "company_id": company.id,
            "owner_id": app.admin_user.id,
            "lifecycle_stage": "prospect",
            "source": "event",
            "referred_by_id": referrer.id,
            "tags": ["VIP", "b2b", "vip"],
            "preferences": { "preferred_channel": "whatsapp", "language": "pt-BR", "time_zone": "Europe/Lisbon",
                             "do_not_contact": false, "interests": ["Wine"], "notes": "Prefers mornings" },
            "keep_in_touch_days": 30
        }),
    )
    .await;
    let f = &person.fields;
    assert_eq!(f.first_name.as_str(), "Ana");
    assert_eq!(f.last_name.as_ref().map(|n| n.as_str()), Some("Lima"));
    assert_eq!(f.emails[0].address.as_str(), "ana.lima@example.com");
    assert!(f.emails[0].primary && !f.emails[1].primary, "the first email becomes primary: {:?}", f.emails);
    assert_eq!(f.emails[1].label.as_ref().map(|l| l.as_str()), Some("home"));
    assert_eq!(f.phones[0].number.as_str(), "+1 (555) 010-2030");
    assert!(f.phones[0].primary);
    assert_eq!(f.company_id, Some(company.id));
    assert_eq!(f.owner_id, Some(app.admin_user.id));
    assert_eq!(f.lifecycle_stage, LifecycleStage::Prospect);
    assert_eq!(f.referred_by_id, Some(referrer.id));
    let tags: Vec<&str> = f.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["b2b", "vip"]);
    assert_eq!(f.preferences.interests.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["wine"]);
    assert_eq!(f.preferences.notes.as_ref().map(|n| n.as_str()), Some("Prefers mornings"));
    assert_eq!(f.keep_in_touch_days, Some(30));
    assert_eq!(person.last_contacted_at, None);
    assert_eq!(person.meta.created_by, Some(app.admin_user.id));
    let path = format!("/api/v1/people/{}", person.id);

    // Merge patch reaches into nested objects: the other preferences stay.
    let patched: Person = api.update("people", person.id, json!({ "preferences": { "language": "en" } })).await;
    let prefs = serde_json::to_value(&patched.fields.preferences).unwrap();
    assert_eq!(prefs["language"], "en");
    assert_eq!(prefs["preferred_channel"], "whatsapp", "a merge patch dropped a sibling field");
    assert_eq!(prefs["time_zone"], "Europe/Lisbon");
    assert_eq!(patched.fields.emails, person.fields.emails);
    assert_eq!(patched.meta.version, person.meta.version + 1);
    assert_eq!(patched.meta.created_at, person.meta.created_at);

    // A patch whose result is invalid is refused as a whole.
    let error = api
        .patch(&path, &json!({ "job_title": "Boss", "emails": [{ "address": "bad" }] }))
        .await
        .want_error(422, "validation");
    assert_eq!(error.field("emails[0].address"), Some("is not an email address"), "{error:?}");
    let error = api.patch(&path, &json!({ "first_name": null })).await.want_error(422, "validation");
    assert!(error.field("first_name").is_some(), "{error:?}");
    let error = api.patch(&path, &json!({ "keep_in_touch_days": 0 })).await.want_error(422, "validation");
    assert!(error.field("keep_in_touch_days").is_some(), "{error:?}");
    let error = api.patch(&path, &json!(["not", "an", "object"])).await;
    assert!(matches!(error.status, 400 | 422), "{} answered {}", error.what, error.status);
    error.error();
    let current: Person = api.fetch("people", person.id).await;
    assert_eq!(current, patched, "a refused PATCH wrote");

    // PUT replaces everything: what is left out is reset.
    let stale = format!("\"{}\"", person.meta.version);
    let put = api.request(reqwest::Method::PUT, &path).header("if-match", &stale).json(&json!({ "first_name": "Bea" }));
    api.send(put).await.want_error(412, "version_mismatch");
    let resp = api.put(&path, &json!({ "first_name": "Bea", "last_name": "Souza", "tags": ["new"] })).await.want(200);
    let replaced: Person = resp.json();
    assert_eq!(resp.etag(), Some(format!("\"{}\"", patched.meta.version + 1)));
    assert_eq!(replaced.id, person.id);
    assert_eq!(replaced.fields.first_name.as_str(), "Bea");
    assert!(replaced.fields.emails.is_empty() && replaced.fields.phones.is_empty());
    assert_eq!(replaced.fields.company_id, None);
    assert_eq!(replaced.fields.owner_id, None);
    assert_eq!(replaced.fields.job_title, None);
    assert_eq!(replaced.fields.lifecycle_stage, LifecycleStage::Lead);
    assert_eq!(replaced.fields.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["new"]);
    assert_eq!(replaced.fields.preferences, rapport_domain::records::Preferences::default());
    assert_eq!(replaced.meta.created_at, person.meta.created_at);
    assert_eq!(replaced.meta.created_by, person.meta.created_by);
    let error = api.put(&path, &json!({ "last_name": "Souza" })).await.want_error(422, "validation");
    assert!(error.field("first_name").is_some(), "{error:?}");
    let fetched: Person = api.fetch("people", person.id).await;
    assert_eq!(fetched, replaced);
}

async fn pipeline_stages_and_deal_lifecycle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let pipeline = create_sales_pipeline(api).await;
    let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Lead", "Proposal", "Closing"]);
    assert_eq!(pipeline.stages.iter().map(|s| s.win_probability).collect::<Vec<_>>(), [10, 50, 90]);
    assert!(pipeline.stages.windows(2).all(|w| w[0].position < w[1].position), "{:?}", pipeline.stages);
    let (lead, proposal, closing) = (pipeline.stages[0].id, pipeline.stages[1].id, pipeline.stages[2].id);

    let error = api
        .post("/api/v1/pipelines", &json!({ "name": "Bad", "stages": [{ "name": "A", "win_probability": 150 }] }))
        .await
        .want_error(422, "validation");
    assert!(error.field("stages[0].win_probability").is_some(), "{error:?}");
    let error =
        api.post("/api/v1/pipelines", &json!({ "name": "Empty", "stages": [] })).await.want_error(422, "validation");
    assert!(error.field("stages").is_some(), "{error:?}");

    let deal =
        create_deal(api, &pipeline, "Pilot", json!({ "amount": { "amount_minor": 129_900, "currency": "eur" } })).await;
    assert_eq!(deal.fields.amount.amount_minor, 129_900);
    assert_eq!(deal.fields.amount.currency.as_str(), "EUR");
    assert_eq!(deal.fields.status, DealStatus::Open);
    assert_eq!(deal.fields.stage_id, lead);
    assert_eq!(deal.closed_at, None);

    let won: Deal = api.update("deals", deal.id, json!({ "status": "won", "stage_id": closing })).await;
    let closed = won.closed_at.expect("a won deal has closed_at");
    assert!((closed - time::OffsetDateTime::now_utc()).abs() < time::Duration::minutes(5), "closed_at {closed}");
    let reopened: Deal = api.update("deals", deal.id, json!({ "status": "open" })).await;
    assert_eq!(reopened.closed_at, None, "a reopened deal keeps closed_at");
    let error = api
        .patch(&format!("/api/v1/deals/{}", deal.id), &json!({ "lost_reason": "price" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("lost_reason").is_some(), "{error:?}");
    let lost: Deal = api.update("deals", deal.id, json!({ "status": "lost", "lost_reason": "Too expensive" })).await;
    assert!(lost.closed_at.is_some());
    assert_eq!(lost.fields.lost_reason.as_ref().map(|r| r.as_str()), Some("Too expensive"));
    let back: Deal =
        api.update("deals", deal.id, json!({ "status": "open", "lost_reason": null, "stage_id": lead })).await;
    assert_eq!(back.fields.stage_id, lead);

    let error = api
        .patch(&format!("/api/v1/deals/{}", deal.id), &json!({ "amount": { "amount_minor": -1, "currency": "EUR" } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("amount.amount_minor").is_some(), "{error:?}");
    let error = api
        .patch(&format!("/api/v1/deals/{}", deal.id), &json!({ "amount": { "amount_minor": 1, "currency": "XYZ" } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("amount.currency").is_some(), "{error:?}");

    // A stage of another pipeline is refused.
    let other = create_sales_pipeline(api).await;
    let resp = api.patch(&format!("/api/v1/deals/{}", deal.id), &json!({ "stage_id": other.stages[0].id })).await;
    assert!(matches!(resp.status, 409 | 422), "{} answered {}: {}", resp.what, resp.status, resp.text);
    resp.error();

    // Reorder, rename and add stages; drop the empty one. Kept ids keep their deals.
    let path = format!("/api/v1/pipelines/{}", pipeline.id);
    let replaced: Pipeline = api
        .put(
            &path,
            &json!({ "name": "Sales 2", "stages": [
                { "id": closing, "name": "Closing", "win_probability": 95 },
                { "id": lead, "name": "New lead", "win_probability": 10 },
                { "name": "Qualified", "win_probability": 30 }
            ] }),
        )
        .await
        .want(200)
        .json();
    assert_eq!(replaced.name.as_str(), "Sales 2");
    let ids: Vec<_> = replaced.stages.iter().map(|s| s.id).collect();
    assert_eq!(&ids[..2], &[closing, lead]);
    assert!(!ids.contains(&proposal), "the dropped stage is still there");
    assert_eq!(replaced.stages[1].name.as_str(), "New lead");
    assert_eq!(replaced.stages[0].win_probability, 95);
    assert!(replaced.stages.windows(2).all(|w| w[0].position < w[1].position), "{:?}", replaced.stages);
    let still: Deal = api.fetch("deals", deal.id).await;
    assert_eq!(still.fields.stage_id, lead);

    // The stage with the deal cannot be dropped, nor the pipeline deleted.
    api.put(
        &path,
        &json!({ "name": "Sales 3", "stages": [{ "id": closing, "name": "Closing", "win_probability": 95 }] }),
    )
    .await
    .want_error(409, "conflict");
    let unchanged: Pipeline = api.fetch("pipelines", pipeline.id).await;
    assert_eq!(unchanged, replaced, "a refused PUT wrote");
    api.delete(&path).await.want_error(409, "conflict");
    api.get(&path).await.want(200);
    api.delete(&format!("/api/v1/deals/{}", deal.id)).await.want(204);
    api.delete(&path).await.want(204);
    api.get(&path).await.want_error(404, "not_found");
}

async fn activity_and_task_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person(api, "Ana").await;
    let before = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);

    let call: Activity =
        create_activity(api, json!({ "kind": "call", "subject": "Intro", "person_id": person.id })).await;
    assert_eq!(call.fields.direction, Some(Direction::Outbound));
    assert_eq!(call.fields.author_id, Some(app.admin_user.id));
    let at = call.fields.occurred_at.expect("occurred_at defaults to now");
    assert!(at >= before && at <= time::OffsetDateTime::now_utc() + time::Duration::seconds(5), "occurred_at {at}");
    assert_eq!(call.fields.links.person_id, Some(person.id));

    let note: Activity =
        create_activity(api, json!({ "kind": "note", "body": "Likes wine", "person_id": person.id })).await;
    assert_eq!(note.fields.direction, Some(Direction::Internal));

    let error = api.post("/api/v1/activities", &json!({ "kind": "call", "subject": "Nobody" })).await;
    let error = error.want_error(422, "validation");
    assert!(error.field("person_id").is_some(), "{error:?}");
    let error = api
        .post("/api/v1/activities", &json!({ "kind": "call", "person_id": person.id }))
        .await
        .want_error(422, "validation");
    assert!(error.field("body").is_some(), "{error:?}");
    let error = api
        .post("/api/v1/activities", &json!({ "kind": "telepathy", "subject": "x", "person_id": person.id }))
        .await
        .want_error(422, "validation");
    assert!(error.field("kind").is_some(), "{error:?}");

    let task: Task = create_task(api, json!({ "title": "Call back", "person_id": person.id })).await;
    assert_eq!(task.fields.assignee_id, Some(app.admin_user.id));
    assert!(!task.fields.done);
    assert_eq!(task.done_at, None);
    let done: Task = api.update("tasks", task.id, json!({ "done": true })).await;
    assert!(done.fields.done);
    let done_at = done.done_at.expect("a done task has done_at");
    assert!(done_at >= before, "done_at {done_at}");
    let undone: Task = api.update("tasks", task.id, json!({ "done": false })).await;
    assert_eq!(undone.done_at, None);
}

async fn users_and_teams(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let team: Team = app.create_team("Field sales").await;
    let teams: Page<Team> = api.list("/api/v1/teams").await;
    assert!(teams.items.iter().any(|t| t.id == team.id && t.fields.name.as_str() == "Field sales"));

    let resp = api
        .post(
            "/api/v1/users",
            &json!({ "name": "Eva", "email": "Eva@Example.com", "role": "agent", "team_id": team.id,
                     "password": PASSWORD }),
        )
        .await
        .want(201);
    assert!(!resp.text.contains(PASSWORD) && !resp.text.contains("argon2"), "{}", resp.text);
    assert!(!resp.text.contains("password"), "the user answer mentions a password: {}", resp.text);
    let eva: User = resp.json();
    assert_eq!(eva.fields.email.as_str(), "eva@example.com");
    assert_eq!(eva.fields.role, Role::Agent);
    assert_eq!(eva.fields.team_id, Some(team.id));
    assert!(eva.fields.active);

    let list = api.get("/api/v1/users").await.want(200);
    assert!(!list.text.contains("argon2") && !list.text.contains("password"), "{}", list.text);
    let users: Page<User> = list.json();
    assert!(users.items.iter().any(|u| u.id == eva.id));
    assert!(users.items.iter().any(|u| u.id == app.admin_user.id));

    let short = json!({ "name": "Eve", "email": "eve@example.com", "role": "viewer", "password": "short" });
    let error = api.post("/api/v1/users", &short).await.want_error(422, "validation");
    assert!(error.field("password").is_some(), "{error:?}");
    let no_team = json!({ "name": "Eve", "email": "eve@example.com", "role": "viewer", "team_id": crate::common::unknown_id(), "password": PASSWORD });
    let resp = api.post("/api/v1/users", &no_team).await;
    assert!(matches!(resp.status, 404 | 409 | 422), "{} answered {}: {}", resp.what, resp.status, resp.text);

    // The new user signs in, and a role change is seen on its next request.
    let eva_api: Api = app.login("eva@example.com", PASSWORD).await;
    eva_api.post("/api/v1/teams", &json!({ "name": "Mine" })).await.want_error(403, "forbidden");
    let promoted: User = api.update("users", eva.id, json!({ "role": "admin" })).await;
    assert_eq!(promoted.fields.role, Role::Admin);
    eva_api.post("/api/v1/teams", &json!({ "name": "Mine" })).await.want(201);
    let me: crate::common::SessionBody = eva_api.get("/api/v1/session").await.want(200).json();
    assert_eq!(me.user.fields.role, Role::Admin);

    // Deleting a team leaves its members without a team, or is refused while it has members.
    let resp = api.delete(&format!("/api/v1/teams/{}", team.id)).await;
    match resp.status {
        204 => {
            let eva_now: User = api.fetch("users", eva.id).await;
            assert_eq!(eva_now.fields.team_id, None, "a member of a deleted team still points at it");
        }
        409 => {
            resp.error();
        }
        other => panic!("{} answered {other}: {}", resp.what, resp.text),
    }
    // A bad enum value is named by its field, as everywhere else.
    let bad_role = json!({ "name": "Eve", "email": "eve@example.com", "role": "owner", "password": PASSWORD });
    let error = api.post("/api/v1/users", &bad_role).await.want_error(422, "validation");
    assert!(error.field("role").is_some(), "{error:?}");
}

async fn user_email_is_unique(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let body = json!({ "name": "Eva", "email": "eva@example.com", "role": "agent", "password": PASSWORD });
    let eva: User = api.create("users", body).await;
    // Emails are unique whatever their case: 409 conflict, like every unique clash.
    let clash = json!({ "name": "Eve", "email": "EVA@example.com", "role": "viewer", "password": PASSWORD });
    api.post("/api/v1/users", &clash).await.want_error(409, "conflict");
    let (other, _) = app.create_user(Role::Viewer, None).await;
    api.patch(&format!("/api/v1/users/{}", other.id), &json!({ "email": "Eva@Example.com" }))
        .await
        .want_error(409, "conflict");
    let users: Page<User> = api.list("/api/v1/users").await;
    assert_eq!(users.items.iter().filter(|u| u.fields.email == eva.fields.email).count(), 1);
}

async fn company_size_round_trips(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    // The size is written and read as its band label.
    let resp = api.post("/api/v1/companies", &json!({ "name": "Acme", "size": "51-200" })).await.want(201);
    let created = resp.value();
    assert_eq!(created["size"], json!("51-200"), "size as returned: {}", created["size"]);
    let company: Company = resp.json();
    let fetched: Company = api.fetch("companies", company.id).await;
    assert_eq!(fetched, company);
    for label in ["1-10", "11-50", "201-1000", "1001-5000", "5001+"] {
        let updated = api.patch(&format!("/api/v1/companies/{}", company.id), &json!({ "size": label })).await;
        assert_eq!(updated.want(200).value()["size"], json!(label));
    }
    let error = api.post("/api/v1/companies", &json!({ "name": "Acme", "size": "huge" })).await;
    assert!(error.want_error(422, "validation").field("size").is_some());
}

async fn timestamps_are_utc_whole_seconds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let person = create_person(api, "Ana").await;
    // Times are kept in UTC to the whole second (see ARCHITECTURE.md).
    let activity: Activity = create_activity(
        api,
        json!({ "kind": "call", "subject": "s", "person_id": person.id,
                "occurred_at": "2024-04-01T12:30:00.987654+02:00" }),
    )
    .await;
    let expected = parse_time("2024-04-01T10:30:00Z");
    assert_eq!(activity.fields.occurred_at, Some(expected), "activity occurred_at as created");
    let fetched: Activity = api.fetch("activities", activity.id).await;
    assert_eq!(fetched.fields.occurred_at, Some(expected), "activity occurred_at as read back");
    let raw = api.get(&format!("/api/v1/activities/{}", activity.id)).await.value();
    assert_eq!(raw["occurred_at"], json!("2024-04-01T10:30:00Z"), "the time as written out");
    for meta in ["created_at", "updated_at"] {
        let text = raw[meta].as_str().unwrap_or_default();
        assert!(text.ends_with('Z') && !text.contains('.'), "{meta} is not whole-second UTC: {text}");
    }
    let person: Person = api.fetch("people", person.id).await;
    assert_eq!(person.last_contacted_at, Some(expected), "last_contacted_at");

    let task: Task =
        create_task(api, json!({ "title": "t", "person_id": person.id, "due_at": "2030-01-02T03:04:05.000007-05:00" }))
            .await;
    let fetched: Task = api.fetch("tasks", task.id).await;
    assert_eq!(fetched.fields.due_at, Some(parse_time("2030-01-02T08:04:05Z")), "task due_at");
    assert_eq!(fetched, task, "a task reads back as it was created");
}
