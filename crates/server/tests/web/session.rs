//! The first-admin setup, signing in (and where to afterwards), signing out.

use crate::common::{Backend, BareApp, PASSWORD, PRESESSION_COOKIE, SESSION_COOKIE, TestApp, field_error};

backend_tests!(
    setup_creates_exactly_one_admin,
    login_refuses_a_wrong_password,
    login_goes_to_local_next_only,
    logout_ends_the_session,
);

async fn setup_creates_exactly_one_admin(backend: Backend) {
    let app = BareApp::spawn(backend).await;
    let web = app.web("setup");

    // Nobody exists: every page leads to the setup.
    let home = web.get("/").await.want(303);
    assert_eq!(home.header("location").as_deref(), Some("/setup"));
    let people = web.get("/people").await.want(303);
    assert_eq!(people.header("location").as_deref(), Some("/setup"));
    let login = web.get("/login").await.want(303);
    assert_eq!(login.header("location").as_deref(), Some("/setup"));

    let token = web.presession_token("/setup").await;
    assert!(web.cookie(PRESESSION_COOKIE).is_some(), "GET /setup set no {PRESESSION_COOKIE} cookie");

    // Everything missing: each field says so.
    let empty = web.post_raw("/setup", &[("_csrf", &token)]).await.want(422);
    for name in ["name", "email", "password"] {
        let message = field_error(&empty.text, name).unwrap_or_default();
        assert!(message.contains("is required"), "{name}: no 'is required' beside it: {}", empty.text);
    }

    // A short password, and a repeat that does not match a good one.
    let short = web
        .post_raw(
            "/setup",
            &[
                ("_csrf", &token),
                ("name", "Ada Admin"),
                ("email", "ada@example.com"),
                ("password", "short"),
                ("password_again", "short"),
            ],
        )
        .await
        .want(422);
    let message = field_error(&short.text, "password").unwrap_or_default();
    assert!(message.contains("at least 10 characters"), "no length message beside the password: {}", short.text);
    assert_eq!(input_email(&short.text), "ada@example.com", "the typed email is not shown again");

    let mismatch = web
        .post_raw(
            "/setup",
            &[
                ("_csrf", &token),
                ("name", "Ada Admin"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("password_again", "something else entirely"),
            ],
        )
        .await
        .want(422);
    let message = field_error(&mismatch.text, "password_again").unwrap_or_default();
    assert!(message.contains("does not match"), "no mismatch message beside the repeat: {}", mismatch.text);

    let bad_email = web
        .post_raw(
            "/setup",
            &[
                ("_csrf", &token),
                ("name", "Ada Admin"),
                ("email", "not an email"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await
        .want(422);
    assert!(field_error(&bad_email.text, "email").is_some(), "no message beside the email: {}", bad_email.text);
    assert_eq!(app.store.count_users().await.unwrap(), 0, "a refused setup created a user");

    // A good one: one admin, signed in.
    let done = web
        .post_raw(
            "/setup",
            &[
                ("_csrf", &token),
                ("name", "Ada Admin"),
                ("email", "Ada@Example.com"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await
        .want(303);
    assert_eq!(done.header("location").as_deref(), Some("/"));
    assert!(
        done.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap_or("").starts_with("rapport_session=")),
        "the setup did not set the session cookie: {:?}",
        done.headers
    );
    assert!(web.cookie(SESSION_COOKIE).is_some());
    assert_eq!(app.store.count_users().await.unwrap(), 1);
    let admin = app
        .store
        .find_user_by_email(&rapport_domain::Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .expect("the admin exists");
    assert_eq!(admin.fields.role, rapport_domain::access::Role::Admin);
    let home = web.get("/").await.want(200);
    assert!(home.text.contains("Ada Admin"), "the home page does not show the signed-in admin");

    // Setup is over: the page goes to the login, and a second setup is refused.
    let again = app.web("late");
    let page = again.get("/setup").await.want(303);
    assert_eq!(page.header("location").as_deref(), Some("/login"));
    let token = again.presession_token("/login").await;
    let second = again
        .post_raw(
            "/setup",
            &[
                ("_csrf", &token),
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
        )
        .await;
    assert!((400..500).contains(&second.status), "a second setup answered {}: {}", second.status, second.text);
    assert!(again.cookie(SESSION_COOKIE).is_none(), "a second setup signed someone in");
    assert_eq!(app.store.count_users().await.unwrap(), 1, "a second setup made a second user");
    let mallory = rapport_domain::Email::parse("mallory@example.com").unwrap();
    assert!(app.store.find_user_by_email(&mallory).await.unwrap().is_none());
}

fn input_email(html: &str) -> String {
    crate::common::input_value(html, "email").unwrap_or_default()
}

async fn login_refuses_a_wrong_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web("intruder");
    let token = web.presession_token("/login").await;
    let resp = web
        .post_raw(
            "/login",
            &[("_csrf", &token), ("email", "admin@example.com"), ("password", "not the password"), ("next", "/")],
        )
        .await
        .want(401);
    assert!(resp.text.contains("Wrong email or password"), "no message on the login page: {}", resp.text);
    assert!(web.cookie(SESSION_COOKIE).is_none(), "a wrong password set a session cookie");
    assert_eq!(web.get("/people").await.want(303).header("location").as_deref(), Some("/login?next=%2Fpeople"));

    // An unknown email reads the same.
    let resp = web
        .post_raw("/login", &[("_csrf", &token), ("email", "nobody@example.com"), ("password", PASSWORD)])
        .await
        .want(401);
    assert!(resp.text.contains("Wrong email or password"));
}

async fn login_goes_to_local_next_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        ("/people?lifecycle_stage=customer", "/people?lifecycle_stage=customer"),
        ("//evil.example", "/"),
        ("//evil.example/people", "/"),
        ("https://evil.example", "/"),
        ("https://evil.example/people", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ];
    for (next, want) in cases {
        let web = app.web("next");
        let token = web.presession_token("/login").await;
        let resp = web
            .post_raw(
                "/login",
                &[("_csrf", &token), ("email", "admin@example.com"), ("password", PASSWORD), ("next", next)],
            )
            .await
            .want(303);
        assert_eq!(resp.header("location").as_deref(), Some(want), "next={next:?}");
        assert!(web.cookie(SESSION_COOKIE).is_some(), "next={next:?}: not signed in");
    }

    // The login page itself keeps only a local `next` in its form.
    let web = app.web("page");
    let page = web.get("/login?next=https%3A%2F%2Fevil.example").await.want(200);
    assert_eq!(crate::common::input_value(&page.text, "next").as_deref(), Some("/"));
    let page = web.get("/login?next=%2Fdeals").await.want(200);
    assert_eq!(crate::common::input_value(&page.text, "next").as_deref(), Some("/deals"));
}

async fn logout_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let secret = web.cookie(SESSION_COOKIE).expect("a session cookie");
    web.get("/people").await.want(200);

    let out = web.post_form("/logout", &[]).await.want(303);
    assert_eq!(out.header("location").as_deref(), Some("/login"));
    assert!(web.cookie(SESSION_COOKIE).is_none(), "the session cookie was not cleared");
    assert_eq!(web.get("/people").await.want(303).header("location").as_deref(), Some("/login?next=%2Fpeople"));

    // The old cookie, replayed, opens nothing: the session is over on the server.
    let replay = app.web("replay");
    let request =
        replay.request(reqwest::Method::GET, "/people").header("cookie", format!("{SESSION_COOKIE}={secret}"));
    let resp = replay.send(request).await.want(303);
    assert!(resp.header("location").unwrap_or_default().starts_with("/login"), "{:?}", resp.header("location"));
    let api =
        replay.request(reqwest::Method::GET, "/api/v1/session").header("cookie", format!("{SESSION_COOKIE}={secret}"));
    replay.send(api).await.want(401);
}
