//! Signing in and out, session cookies, API tokens, the failed-login limit,
//! and deactivated users.

use rapport_domain::access::Role;
use rapport_domain::records::{ApiToken, Person, User};
use serde::Deserialize;
use serde_json::json;

use crate::common::{Api, Backend, PASSWORD, Page, SessionBody, TestApp, create_person};

backend_tests!(
    session_cookie_login_and_logout,
    wrong_credentials_are_refused,
    api_tokens_create_use_list_revoke,
    failed_logins_are_limited_per_account,
    deactivated_user_is_signed_out,
);

#[derive(Debug, Deserialize)]
struct CreatedToken {
    token: String,
    api_token: ApiToken,
}

async fn session_cookie_login_and_logout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = app.anonymous();
    let resp =
        api.post("/api/v1/session", &json!({ "email": "ADMIN@example.com", "password": PASSWORD })).await.want(200);
    let body: SessionBody = resp.json();
    assert_eq!(body.user.id, app.admin_user.id);
    assert_eq!(body.user.fields.role, Role::Admin);
    assert!(!resp.text.contains("password"), "the login answer mentions a password: {}", resp.text);

    let cookie = resp
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("rapport_session="))
        .unwrap_or_else(|| panic!("no rapport_session cookie in {:?}", resp.headers))
        .to_owned();
    let attributes = cookie.to_lowercase();
    assert!(attributes.contains("httponly"), "the session cookie is not HttpOnly: {cookie}");
    assert!(attributes.contains("samesite=lax"), "the session cookie is not SameSite=Lax: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert!(pair.len() > "rapport_session=".len() + 16, "a short session secret: {pair}");

    let me: SessionBody = api.get("/api/v1/session").await.want(200).json();
    assert_eq!(me.user.id, app.admin_user.id);
    assert_eq!(me.user.fields.email.as_str(), "admin@example.com");

    // The cookie, replayed by hand from another client, works until logout.
    let replay = Api::new(&app.base_url, "replayed cookie", None);
    let replayed = replay.request(reqwest::Method::GET, "/api/v1/people").header("cookie", &pair);
    replay.send(replayed).await.want(200);

    let logout = api.delete("/api/v1/session").await.want(204);
    assert!(logout.text.is_empty(), "204 with a body: {}", logout.text);
    api.get("/api/v1/session").await.want_error(401, "unauthorized");
    api.get("/api/v1/people").await.want_error(401, "unauthorized");
    // Logging out ends the session on the server, not only in the browser.
    let replayed = replay.request(reqwest::Method::GET, "/api/v1/people").header("cookie", &pair);
    replay.send(replayed).await.want_error(401, "unauthorized");
    // A made-up cookie is no session either.
    let forged = replay.request(reqwest::Method::GET, "/api/v1/people").header("cookie", "rapport_session=forged");
    replay.send(forged).await.want_error(401, "unauthorized");

    // And signing in again works.
    let again = app.login("admin@example.com", PASSWORD).await;
    again.get("/api/v1/people").await.want(200);
}

async fn wrong_credentials_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let api = app.anonymous();
    let wrong_password =
        api.post("/api/v1/session", &json!({ "email": "admin@example.com", "password": "not the password" })).await;
    assert!(wrong_password.headers.get("set-cookie").is_none(), "a failed login set a cookie");
    wrong_password.want_error(401, "invalid_credentials");
    let unknown = api.post("/api/v1/session", &json!({ "email": "nobody@example.com", "password": PASSWORD })).await;
    unknown.want_error(401, "invalid_credentials");
    // Still signed out.
    api.get("/api/v1/session").await.want_error(401, "unauthorized");
}

async fn api_tokens_create_use_list_revoke(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = time::OffsetDateTime::now_utc();
    let ci: CreatedToken =
        app.admin.post("/api/v1/tokens", &json!({ "name": "ci", "expires_in_days": 30 })).await.want(201).json();
    assert!(ci.token.starts_with("rpt_"), "token {:?} does not start with rpt_", ci.token);
    assert!(ci.token.len() >= 24, "a short token: {:?}", ci.token);
    assert_eq!(ci.api_token.name.as_str(), "ci");
    assert_eq!(ci.api_token.user_id, app.admin_user.id);
    assert_eq!(ci.api_token.revoked_at, None);
    let expires = ci.api_token.expires_at.expect("an expiry was asked for");
    let in_30_days = before + time::Duration::days(30);
    assert!(
        (expires - in_30_days).abs() < time::Duration::hours(1),
        "expires_at {expires} is not 30 days after {before}"
    );

    let forever: CreatedToken = app.admin.post("/api/v1/tokens", &json!({ "name": "forever" })).await.want(201).json();
    assert_eq!(forever.api_token.expires_at, None);
    assert_ne!(forever.token, ci.token);

    // The token signs requests in.
    let bearer = app.client_with_token(&ci.token);
    bearer.get("/api/v1/people").await.want(200);
    let person: Person = bearer.create("people", json!({ "first_name": "Tokened" })).await;
    assert_eq!(person.meta.created_by, Some(app.admin_user.id));

    // The list shows the user's tokens, with expiry, never the secret.
    let list = app.admin.get("/api/v1/tokens").await.want(200);
    assert!(!list.text.contains(&ci.token) && !list.text.contains(&forever.token), "secrets listed: {}", list.text);
    let page: Page<ApiToken> = list.json();
    let listed_ci = page.items.iter().find(|t| t.id == ci.api_token.id).expect("the ci token is listed");
    assert_eq!(listed_ci.name.as_str(), "ci");
    assert_eq!(listed_ci.expires_at, Some(expires));
    assert!(page.items.iter().any(|t| t.id == forever.api_token.id && t.expires_at.is_none()));

    // Another user sees only its own tokens and cannot revoke the admin's.
    let (_agent, agent) = app.create_user(Role::Agent, None).await;
    let theirs: Page<ApiToken> = agent.get("/api/v1/tokens").await.want(200).json();
    assert!(theirs.items.iter().all(|t| t.user_id != app.admin_user.id), "{theirs:?}");
    let resp = agent.delete(&format!("/api/v1/tokens/{}", ci.api_token.id)).await;
    assert!(matches!(resp.status, 403 | 404), "{} answered {}: {}", resp.what, resp.status, resp.text);
    resp.error();
    bearer.get("/api/v1/people").await.want(200);

    // Revoked, it no longer works; the other token still does.
    app.admin.delete(&format!("/api/v1/tokens/{}", ci.api_token.id)).await.want(204);
    bearer.get("/api/v1/people").await.want_error(401, "unauthorized");
    app.client_with_token(&forever.token).get("/api/v1/people").await.want(200);
    let page: Page<ApiToken> = app.admin.get("/api/v1/tokens").await.want(200).json();
    if let Some(revoked) = page.items.iter().find(|t| t.id == ci.api_token.id) {
        assert!(revoked.revoked_at.is_some(), "a revoked token is listed as live: {revoked:?}");
    }

    // Made-up tokens get nowhere.
    app.client_with_token("rpt_not-a-real-token").get("/api/v1/people").await.want_error(401, "unauthorized");
    app.client_with_token("").get("/api/v1/people").await.want_error(401, "unauthorized");
}

async fn failed_logins_are_limited_per_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (target, _) = app.create_user(Role::Agent, None).await;
    let (other, _) = app.create_user(Role::Agent, None).await;
    let email = target.fields.email.as_str();
    let api = app.anonymous();
    for attempt in 1..=5 {
        let resp = api.post("/api/v1/session", &json!({ "email": email, "password": "wrong password!" })).await;
        assert_eq!(resp.status, 401, "failed attempt {attempt}: {} {}", resp.status, resp.text);
        assert_eq!(resp.error().code, "invalid_credentials", "attempt {attempt}");
    }
    // Now even the right password is refused.
    let resp = api.post("/api/v1/session", &json!({ "email": email, "password": PASSWORD })).await;
    assert!(resp.headers.get("set-cookie").is_none(), "a locked account got a session cookie");
    resp.want_error(429, "rate_limited");
    api.get("/api/v1/session").await.want_error(401, "unauthorized");

    // Another account is not locked out.
    let ok = app.anonymous();
    ok.post("/api/v1/session", &json!({ "email": other.fields.email.as_str(), "password": PASSWORD })).await.want(200);
}

async fn deactivated_user_is_signed_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.create_team("Field sales").await;
    let (user, agent) = app.create_user(Role::Agent, Some(team.id)).await;
    let token: CreatedToken = agent.post("/api/v1/tokens", &json!({ "name": "script" })).await.want(201).json();
    let bearer = app.client_with_token(&token.token);
    agent.get("/api/v1/people").await.want(200);
    bearer.get("/api/v1/people").await.want(200);
    create_person(&agent, "Before").await;

    app.admin.delete(&format!("/api/v1/users/{}", user.id)).await.want(204);
    let after: User = app.admin.fetch("users", user.id).await;
    assert!(!after.fields.active, "a deleted user is still active: {after:?}");
    assert_eq!(after.fields.email, user.fields.email);
    assert_eq!(after.fields.team_id, Some(team.id), "deactivating changed the team");
    // Deactivating again changes nothing and is not an error.
    app.admin.delete(&format!("/api/v1/users/{}", user.id)).await.want(204);
    let again: User = app.admin.fetch("users", user.id).await;
    assert_eq!(again.meta.version, after.meta.version, "a second deactivation wrote again");

    agent.get("/api/v1/people").await.want_error(401, "unauthorized");
    bearer.get("/api/v1/people").await.want_error(401, "unauthorized");
    let resp = app
        .anonymous()
        .post("/api/v1/session", &json!({ "email": user.fields.email.as_str(), "password": PASSWORD }))
        .await;
    assert!(matches!(resp.status, 401 | 403), "a deactivated user signed in: {} {}", resp.status, resp.text);
    resp.error();
}
