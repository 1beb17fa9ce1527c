//! Health check, OpenAPI document and the docs page.

use serde_json::{Value, json};

use crate::common::{Backend, TestApp};

backend_tests!(healthz_answers_without_credentials, openapi_document_and_docs_page, metrics_need_their_token);

async fn healthz_answers_without_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let resp = app.anonymous().get("/healthz").await.want(200);
    assert_eq!(resp.value(), json!({ "status": "ok" }));
    assert!(resp.header("content-type").unwrap_or_default().starts_with("application/json"), "{resp:?}");
    let resp = app.anonymous().get("/readyz").await.want(200);
    assert_eq!(resp.value(), json!({ "status": "ready" }), "migrated and reachable");
}

async fn openapi_document_and_docs_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app.anonymous();
    // The document is public or needs a login; either way it is served to a signed-in user.
    let mut resp = anonymous.get("/api/v1/openapi.json").await;
    if resp.status == 401 {
        resp = app.admin.get("/api/v1/openapi.json").await;
    }
    let doc: Value = resp.want(200).json();
    assert_eq!(doc["openapi"], "3.1.0", "openapi version");
    let paths = doc["paths"].as_object().expect("paths is an object");
    for path in [
        "/api/v1/people",
        "/api/v1/people/{id}",
        "/api/v1/companies",
        "/api/v1/deals",
        "/api/v1/activities",
        "/api/v1/tasks",
        "/api/v1/purchases",
        "/api/v1/pipelines",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/custom-fields",
        "/api/v1/session",
        "/api/v1/tokens",
        "/api/v1/export",
        "/api/v1/export/{type}",
    ] {
        assert!(paths.contains_key(path), "the OpenAPI document has no path {path}; it has {:?}", paths.keys());
    }
    let people = &paths["/api/v1/people"];
    assert!(people.get("get").is_some() && people.get("post").is_some(), "GET and POST /api/v1/people: {people}");
    // Every operation has its own id, as OpenAPI requires and client generators need.
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice ({method} {path})");
            }
        }
    }
    assert!(operation_ids.len() > 50, "only {} operations", operation_ids.len());
    // Every reference resolves: a client generator (or schemathesis) cannot
    // use a parameter whose schema is missing.
    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    let mut unresolved = std::collections::BTreeSet::new();
    let mut stack = vec![&doc];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let name = target.strip_prefix("#/components/schemas/").unwrap_or(target);
                    if !schemas.contains_key(name) {
                        unresolved.insert(target.clone());
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(unresolved.is_empty(), "references to no component: {unresolved:?}");
    // The shared extractors' answers are documented on every operation that can give them.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let documented = |status: &str| operation["responses"].get(status).is_some();
            if operation["requestBody"]["content"].get("application/json").is_some() {
                assert!(documented("400"), "{method} {path} does not document 400 (a body that is not JSON)");
            }
            if path.contains("{id}") {
                assert!(documented("404"), "{method} {path} does not document 404 (an unknown id)");
            }
        }
    }

    let mut page = anonymous.get("/api/docs/").await;
    if page.status == 401 {
        page = app.admin.get("/api/docs/").await;
    }
    let page = page.want(200);
    assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"), "{:?}", page.headers);
    assert!(page.text.to_lowercase().contains("swagger"), "the docs page is not Swagger UI: {}", page.text);
    // It works with no internet: nothing is fetched from a CDN, the bundle is served here.
    for cdn in ["unpkg.com", "cdn.jsdelivr", "cdnjs.cloudflare"] {
        assert!(!page.text.contains(cdn), "the docs page loads from {cdn}: {}", page.text);
    }
    if page.text.contains("swagger-ui-bundle.js") {
        let mut bundle = anonymous.get("/api/docs/swagger-ui-bundle.js").await;
        if bundle.status == 401 {
            bundle = app.admin.get("/api/docs/swagger-ui-bundle.js").await;
        }
        let bundle = bundle.want(200);
        assert!(bundle.text.len() > 10_000, "the Swagger UI bundle is not served");
    }
}

async fn metrics_need_their_token(backend: Backend) {
    let off = TestApp::spawn(backend).await;
    off.anonymous().get("/metrics").await.want(404);

    let app = TestApp::spawn_with(backend, |config| config.metrics_token = Some("scrape-me".into())).await;
    app.anonymous().get("/metrics").await.want(401);
    app.client_with_token("wrong").get("/metrics").await.want(401);
    app.admin.get("/api/v1/people").await.want(200);
    app.admin.get("/api/v1/nothing-here").await.want(404);
    let resp = app.client_with_token("scrape-me").get("/metrics").await.want(200);
    let body = resp.text.clone();
    assert!(
        body.contains("rapport_http_requests_total{method=\"GET\",route=\"/api/v1/people\",status=\"200\"} 1"),
        "{body}"
    );
    assert!(body.contains("route=\"(none)\",status=\"404\""), "unmatched paths are one series: {body}");
    assert!(body.contains("rapport_http_request_duration_seconds_bucket{"), "{body}");
    assert!(body.contains("rapport_db_pool_connections "), "{body}");
    assert!(body.contains("rapport_jobs{status=\"failed\"} 0"), "{body}");
    assert!(body.ends_with("# EOF\n"), "OpenMetrics text ends with EOF");
    let id = app.anonymous().get("/healthz").await.header("x-request-id").expect("a request id");
    assert!(!id.is_empty());
}
