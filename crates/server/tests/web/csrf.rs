//! Cross-site request forgery: unsafe requests need this session's token
//! (form field or header), and a page of another site is refused outright.

use crate::common::{Backend, PASSWORD, TestApp, meta_csrf};

backend_tests!(
    posts_without_a_token_are_refused,
    a_wrong_token_is_refused,
    the_header_token_works,
    another_origin_is_refused_even_with_a_token,
    login_without_the_presession_cookie_is_refused,
);

const PERSON: &[(&str, &str)] = &[("first_name", "Forged"), ("lifecycle_stage", "lead")];

async fn posts_without_a_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;

    let resp = web.post_raw("/people", PERSON).await.want(403);
    assert!(resp.text.contains("This form has expired"), "not the form-token page: {}", resp.text);
    // An empty token is no token.
    let mut with_empty: Vec<(&str, &str)> = vec![("_csrf", "")];
    with_empty.extend_from_slice(PERSON);
    web.post_raw("/people", &with_empty).await.want(403);
    // Not a form at all (JSON, multipart): no token can be read, so refused.
    let json = web.request(reqwest::Method::POST, "/people").json(&serde_json::json!({"first_name": "Forged"}));
    web.send(json).await.want(403);
    assert!(app.all_people().await.is_empty(), "a request without a token created someone");
}

async fn a_wrong_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let other = app.web_admin().await;
    assert_ne!(web.csrf, other.csrf, "two sessions share a form token");

    let mut form: Vec<(&str, &str)> = vec![("_csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")];
    form.extend_from_slice(PERSON);
    web.post_raw("/people", &form).await.want(403);
    // Another session's token is a wrong token too.
    let mut form: Vec<(&str, &str)> = vec![("_csrf", other.csrf.as_str())];
    form.extend_from_slice(PERSON);
    web.post_raw("/people", &form).await.want(403);
    // A wrong header token is not rescued by a right form token.
    let mut form: Vec<(&str, &str)> = vec![("_csrf", web.csrf.as_str())];
    form.extend_from_slice(PERSON);
    let request = web.request(reqwest::Method::POST, "/people").header("x-csrf-token", "wrong").form(&form);
    web.send(request).await.want(403);
    assert!(app.all_people().await.is_empty(), "a wrong token created someone");
}

async fn the_header_token_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let page = web.get("/people/new").await.want(200);
    let token = meta_csrf(&page.text).expect("a csrf-token meta");
    assert_eq!(token, web.csrf, "pages disagree on the form token");

    let request = web.request(reqwest::Method::POST, "/people").header("x-csrf-token", token.as_str()).form(PERSON);
    let resp = web.send(request).await.want(303);
    let people = app.all_people().await;
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].fields.first_name.as_str(), "Forged");
    assert_eq!(resp.header("location"), Some(format!("/people/{}", people[0].id)));

    // The form field works as well.
    web.post_form("/people", &[("first_name", "Second"), ("lifecycle_stage", "lead")]).await.want(303);
    assert_eq!(app.all_people().await.len(), 2);
}

async fn another_origin_is_refused_even_with_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let mut form: Vec<(&str, &str)> = vec![("_csrf", web.csrf.as_str())];
    form.extend_from_slice(PERSON);
    for origin in ["https://evil.example", "null", format!("http://{}.evil.example", app.addr.ip()).as_str()] {
        let request = web
            .request(reqwest::Method::POST, "/people")
            .header("origin", origin)
            .header("x-csrf-token", web.csrf.as_str())
            .form(&form);
        web.send(request).await.want(403);
    }
    assert!(app.all_people().await.is_empty(), "a cross-site request created someone");

    // Our own origin passes.
    let own = web.request(reqwest::Method::POST, "/people").header("origin", app.base_url.as_str()).form(&form);
    web.send(own).await.want(303);
    assert_eq!(app.all_people().await.len(), 1);
}

async fn login_without_the_presession_cookie_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A token from a real login page, sent by a client without its cookie.
    let token = app.web("page").presession_token("/login").await;
    let bare = app.web("bare");
    let form = [("_csrf", token.as_str()), ("email", "admin@example.com"), ("password", PASSWORD), ("next", "/")];
    let resp = bare.post_raw("/login", &form).await.want(403);
    assert!(bare.cookie(crate::common::SESSION_COOKIE).is_none(), "signed in without the cookie: {}", resp.text);

    // With its own cookie but another page's token: refused too.
    let web = app.web("mismatch");
    web.presession_token("/login").await;
    web.post_raw("/login", &form).await.want(403);
    assert!(web.cookie(crate::common::SESSION_COOKIE).is_none());

    // A cookie too short to be one of ours does not count, even when the form repeats it.
    let short = app.web("short");
    let request = short.request(reqwest::Method::POST, "/login").header("cookie", "rapport_csrf=abc").form(&[
        ("_csrf", "abc"),
        ("email", "admin@example.com"),
        ("password", PASSWORD),
    ]);
    short.send(request).await.want(403);
}
