//! The one error shape, and the status and code of every kind of error.

use serde_json::json;

use crate::common::{Backend, RECORD_TYPES, TestApp, query, unknown_id};

backend_tests!(
    malformed_json_is_400,
    validation_errors_name_the_field,
    unknown_ids_are_404_for_every_type,
    bad_uuid_in_path_is_an_error,
    oversized_body_is_413,
    no_credentials_is_401,
    wrong_content_type_is_415,
    bad_list_parameters_are_422,
);

async fn malformed_json_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    for body in [r#"{"first_name": "Ana""#, "not json", "", r#"{"first_name": "Ana"} trailing"#] {
        let request =
            api.request(reqwest::Method::POST, "/api/v1/people").header("content-type", "application/json").body(body);
        api.send(request).await.want_error(400, "malformed_json");
    }
    // Nothing was written.
    let page: crate::common::Page<serde_json::Value> = api.list("/api/v1/people").await;
    assert!(page.items.is_empty(), "a refused request wrote: {:?}", page.items);
}

async fn validation_errors_name_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;

    let bad_email = json!({ "first_name": "Ana", "emails": [{ "address": "not-an-email" }] });
    let error = api.post("/api/v1/people", &bad_email).await.want_error(422, "validation");
    assert_eq!(error.field("emails[0].address"), Some("is not an email address"), "{error:?}");

    let second_bad = json!({ "first_name": "Ana", "emails": [{ "address": "a@example.com" }, { "address": "nope" }] });
    let error = api.post("/api/v1/people", &second_bad).await.want_error(422, "validation");
    assert!(error.field("emails[1].address").is_some(), "{error:?}");

    let missing = json!({ "last_name": "Lima" });
    let error = api.post("/api/v1/people", &missing).await.want_error(422, "validation");
    assert!(error.field("first_name").is_some(), "missing first_name is not named: {error:?}");

    let wrong_type = json!({ "first_name": 42 });
    let error = api.post("/api/v1/people", &wrong_type).await.want_error(422, "validation");
    assert!(error.field("first_name").is_some(), "{error:?}");

    let blank = json!({ "first_name": "   " });
    let error = api.post("/api/v1/people", &blank).await.want_error(422, "validation");
    assert_eq!(error.field("first_name"), Some("must not be empty"), "{error:?}");

    let stage = json!({ "first_name": "Ana", "lifecycle_stage": "royalty" });
    let error = api.post("/api/v1/people", &stage).await.want_error(422, "validation");
    assert!(error.field("lifecycle_stage").is_some(), "{error:?}");

    let phone = json!({ "first_name": "Ana", "phones": [{ "number": "call me" }] });
    let error = api.post("/api/v1/people", &phone).await.want_error(422, "validation");
    assert_eq!(error.field("phones[0].number"), Some("not a phone number"), "{error:?}");

    let two_primaries = json!({ "first_name": "Ana", "emails": [
        { "address": "a@example.com", "primary": true }, { "address": "b@example.com", "primary": true }] });
    let error = api.post("/api/v1/people", &two_primaries).await.want_error(422, "validation");
    assert!(error.field("emails").is_some(), "{error:?}");

    let domain = json!({ "name": "Acme", "domain": "not a domain" });
    let error = api.post("/api/v1/companies", &domain).await.want_error(422, "validation");
    assert_eq!(error.field("domain"), Some("not a domain name"), "{error:?}");

    // A link to a record that does not exist is refused, not a 500.
    let dangling = json!({ "first_name": "Ana", "company_id": unknown_id() });
    let resp = api.post("/api/v1/people", &dangling).await;
    assert!(matches!(resp.status, 404 | 409 | 422), "{} answered {}: {}", resp.what, resp.status, resp.text);
    resp.error();

    // None of those wrote anything.
    let page: crate::common::Page<serde_json::Value> = api.list("/api/v1/people").await;
    assert!(page.items.is_empty(), "a refused request wrote: {:?}", page.items);
}

async fn unknown_ids_are_404_for_every_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    for kind in RECORD_TYPES {
        let path = format!("/api/v1/{kind}/{}", unknown_id());
        api.get(&path).await.want_error(404, "not_found");
        api.delete(&path).await.want_error(404, "not_found");
    }
    let path = format!("/api/v1/people/{}", unknown_id());
    api.patch(&path, &json!({ "job_title": "CEO" })).await.want_error(404, "not_found");
    api.put(&path, &json!({ "first_name": "Ana" })).await.want_error(404, "not_found");
    api.get(&format!("/api/v1/people/{}/timeline", unknown_id())).await.want_error(404, "not_found");
    api.get(&format!("/api/v1/companies/{}/timeline", unknown_id())).await.want_error(404, "not_found");
    api.delete(&format!("/api/v1/tokens/{}", unknown_id())).await.want_error(404, "not_found");
}

async fn bad_uuid_in_path_is_an_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for kind in RECORD_TYPES {
        for id in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
            let resp = app.admin.get(&format!("/api/v1/{kind}/{id}")).await;
            assert!(matches!(resp.status, 404 | 422), "{} answered {}: {}", resp.what, resp.status, resp.text);
            let error = resp.error();
            assert!(matches!(error.code.as_str(), "not_found" | "validation"), "{} code {}", resp.what, error.code);
        }
    }
}

async fn oversized_body_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    // Valid JSON, just over 1 MiB.
    let big = json!({ "first_name": "Ana", "preferences": { "notes": "x".repeat(1024 * 1024 + 10) } });
    api.post("/api/v1/people", &big).await.want_error(413, "payload_too_large");
    // A body under the limit is read: this one fails validation, not the size check.
    let fits = json!({ "first_name": "Ana", "preferences": { "notes": "x".repeat(900 * 1024) } });
    let error = api.post("/api/v1/people", &fits).await.want_error(422, "validation");
    assert!(error.field("preferences.notes").is_some(), "{error:?}");
    let page: crate::common::Page<serde_json::Value> = api.list("/api/v1/people").await;
    assert!(page.items.is_empty());
}

async fn no_credentials_is_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app.anonymous();
    for kind in RECORD_TYPES {
        anonymous.get(&format!("/api/v1/{kind}")).await.want_error(401, "unauthorized");
    }
    anonymous.post("/api/v1/people", &json!({ "first_name": "Ana" })).await.want_error(401, "unauthorized");
    anonymous.get(&format!("/api/v1/people/{}", unknown_id())).await.want_error(401, "unauthorized");
    anonymous.get("/api/v1/tokens").await.want_error(401, "unauthorized");
    anonymous.post("/api/v1/tokens", &json!({ "name": "x" })).await.want_error(401, "unauthorized");
    let wrong_scheme = anonymous
        .request(reqwest::Method::GET, "/api/v1/people")
        .header("authorization", "Basic YWRtaW5AZXhhbXBsZS5jb206cGFzc3dvcmQ=");
    anonymous.send(wrong_scheme).await.want_error(401, "unauthorized");
    // Nothing was written by the refused create.
    let page: crate::common::Page<serde_json::Value> = app.admin.list("/api/v1/people").await;
    assert!(page.items.is_empty());
}

async fn wrong_content_type_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    let body = r#"{"first_name": "Ana"}"#;
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut request = api.request(reqwest::Method::POST, "/api/v1/people").body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        api.send(request).await.want_error(415, "unsupported_media_type");
    }
    // With a charset it is still JSON.
    let request = api
        .request(reqwest::Method::POST, "/api/v1/people")
        .header("content-type", "application/json; charset=utf-8")
        .body(body);
    api.send(request).await.want(201);
}

async fn bad_list_parameters_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = &app.admin;
    for limit in ["0", "500", "201", "-1", "abc"] {
        let error = api.get(&query("/api/v1/people", &[("limit", limit)])).await.want_error(422, "validation");
        assert!(error.field("limit").is_some(), "limit={limit}: {error:?}");
    }
    for limit in ["1", "200"] {
        api.get(&query("/api/v1/people", &[("limit", limit)])).await.want(200);
    }
    for sort in ["shoe_size", "--name", "name;drop table people"] {
        let error = api.get(&query("/api/v1/people", &[("sort", sort)])).await.want_error(422, "validation");
        assert!(error.field("sort").is_some(), "sort={sort}: {error:?}");
    }
    let error =
        api.get(&query("/api/v1/people", &[("updated_since", "yesterday")])).await.want_error(422, "validation");
    assert!(error.field("updated_since").is_some(), "{error:?}");
    let error =
        api.get(&query("/api/v1/people", &[("lifecycle_stage", "royalty")])).await.want_error(422, "validation");
    assert!(error.field("lifecycle_stage").is_some(), "{error:?}");
    let error = api.get(&query("/api/v1/people", &[("owner_id", "nobody")])).await.want_error(422, "validation");
    assert!(error.field("owner_id").is_some(), "{error:?}");
    // A cursor that was never handed out is refused, not a 500.
    let resp = api.get(&query("/api/v1/people", &[("cursor", "garbage!")])).await;
    assert!(matches!(resp.status, 400 | 422), "{} answered {}: {}", resp.what, resp.status, resp.text);
    resp.error();
}
