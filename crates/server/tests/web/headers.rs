//! What every page answers around its body: the content security policy,
//! compression, cache headers on assets, and HTML or JSON 404s.

use serde_json::json;

use crate::common::{Backend, Resp, TestApp, create_deal, create_person, create_sales_pipeline, unknown_id};

backend_tests!(
    pages_carry_a_strict_csp,
    pages_are_compressed_when_asked,
    assets_are_cached_for_long,
    unknown_paths_404
);

#[track_caller]
fn assert_page_csp(resp: &Resp) {
    let csp = resp.header("content-security-policy").unwrap_or_else(|| panic!("{}: no CSP", resp.what));
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{}: no script-src in {csp:?}", resp.what));
    assert_eq!(script_src, "script-src 'self'", "{}: {csp:?}", resp.what);
    assert!(!csp.contains("unsafe-inline"), "{}: the CSP allows inline code: {csp:?}", resp.what);
    assert!(!csp.contains("unsafe-eval"), "{}: the CSP allows eval: {csp:?}", resp.what);
    assert!(csp.contains("frame-ancestors 'none'"), "{}: {csp:?}", resp.what);
}

async fn pages_carry_a_strict_csp(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = create_person(&app.admin, "Csp").await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Csp deal", json!({})).await;
    let company = crate::common::create_company(&app.admin, "Csp Inc").await;

    let anonymous = app.web("anonymous");
    assert_page_csp(&anonymous.get("/login").await.want(200));
    // Redirects to the login page carry it too.
    assert_page_csp(&anonymous.get("/people").await.want(303));

    let web = app.web_admin().await;
    let pages = [
        "/".to_owned(),
        "/inbox".to_owned(),
        "/people".to_owned(),
        "/people/new".to_owned(),
        format!("/people/{}", person.id),
        format!("/people/{}/edit", person.id),
        "/companies".to_owned(),
        format!("/companies/{}", company.id),
        "/deals".to_owned(),
        format!("/deals/{}", deal.id),
        "/board".to_owned(),
        format!("/pipelines/{}/board", pipeline.id),
        "/tasks".to_owned(),
        "/search?q=csp".to_owned(),
        "/settings".to_owned(),
        "/settings/users".to_owned(),
        "/settings/fields".to_owned(),
    ];
    for path in &pages {
        let resp = web.get(path).await;
        assert!(resp.status == 200 || resp.status == 303, "{} answered {}: {}", resp.what, resp.status, resp.text);
        assert_page_csp(&resp);
        assert!(
            resp.status != 200 || resp.header("content-type").unwrap_or_default().starts_with("text/html"),
            "{}: not HTML",
            resp.what
        );
    }
    // Error pages are pages too.
    assert_page_csp(&web.get(&format!("/people/{}", unknown_id())).await.want(404));
    assert_page_csp(&web.post_raw("/people", &[("first_name", "x")]).await.want(403));
    for header in ["x-content-type-options", "x-frame-options", "referrer-policy"] {
        assert!(web.get("/people").await.header(header).is_some(), "pages lack {header}");
    }
    // The HTML 404 of an unknown path is a page too (checked last, so the rest runs first).
    assert_page_csp(&anonymous.get("/no-such-page").await.want(404));
    assert_page_csp(&web.get("/no-such-page").await.want(404));
}

async fn pages_are_compressed_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_person(&app.admin, "Compressed").await;
    let web = app.web_admin().await;
    for path in ["/people", "/login", "/assets/app.css"] {
        let request = web.request(reqwest::Method::GET, path).header("accept-encoding", "gzip");
        let response = web.api.client.execute(request.build().unwrap()).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        let encoding = response.headers().get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(encoding.as_deref(), Some("gzip"), "GET {path} with Accept-Encoding: gzip");
        let body = response.bytes().await.unwrap();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "GET {path}: the body is not gzip");
    }
    // Without asking: plain.
    let plain = web.get("/people").await.want(200);
    assert!(plain.header("content-encoding").is_none(), "compressed without being asked");
    assert!(plain.text.contains("Compressed"));
}

async fn assets_are_cached_for_long(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web("anonymous");
    let assets = [
        ("app.css", "text/css"),
        ("app.js", "text/javascript"),
        ("htmx.min.js", "text/javascript"),
        ("sortable.min.js", "text/javascript"),
        ("icon.svg", "image/svg+xml"),
    ];
    for (name, content_type) in assets {
        let resp = web.get(&format!("/assets/{name}?v=1")).await.want(200);
        assert!(!resp.text.is_empty(), "{}: empty", resp.what);
        assert!(resp.header("content-type").unwrap_or_default().starts_with(content_type), "{}", resp.what);
        let cache = resp.header("cache-control").unwrap_or_default();
        let max_age: u64 = cache
            .split(',')
            .map(str::trim)
            .find_map(|d| d.strip_prefix("max-age="))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}: no max-age in {cache:?}", resp.what));
        assert!(max_age >= 30 * 24 * 3600, "{}: cached for only {max_age}s", resp.what);
        assert!(cache.contains("immutable"), "{}: {cache:?}", resp.what);
    }
    for missing in ["/assets/nope.js", "/assets/app.css.map", "/assets/..%2Fbuild.rs", "/assets/"] {
        let resp = web.get(missing).await;
        assert_eq!(resp.status, 404, "{} answered {}", resp.what, resp.status);
        assert!(!resp.header("cache-control").unwrap_or_default().contains("immutable"), "{}", resp.what);
    }
}

async fn unknown_paths_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    for path in ["/no-such-page", "/people/new/extra", "/settings/nothing"] {
        let page = web.get(path).await.want(404);
        assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"), "{}: not HTML", page.what);
        assert!(page.text.contains("<html"), "{}: not a page: {}", page.what, page.text);
        assert!(page.text.contains("Not found"), "{}: {}", page.what, page.text);
    }
    // Signed out, the same.
    let anonymous = app.web("anonymous");
    let page = anonymous.get("/no-such-page").await.want(404);
    assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"));

    for path in ["/api/v1/no-such", "/api/v1/people/x/y/z", "/api/nothing"] {
        let resp = web.get(path).await;
        assert_eq!(resp.status, 404, "{} answered {}", resp.what, resp.status);
        assert!(resp.header("content-type").unwrap_or_default().starts_with("application/json"), "{}", resp.what);
        assert_eq!(resp.error().code, "not_found", "{}: {}", resp.what, resp.text);
    }
}
