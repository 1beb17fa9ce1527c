//! The first admin sets Rapport up, signs out and in again, and a wrong
//! password is turned away on the login page.

use futures::FutureExt;

use super::harness::{PASSWORD, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_admin_setup_and_login() {
    scenario("setup", |ctx| async move {
        assert_eq!(ctx.store().count_users().await.unwrap(), 0, "the database starts empty");

        // Nobody exists yet: the home page sends the browser to the setup.
        ctx.visit("/").await;
        ctx.wait_path("the redirect to /setup", |p| p.starts_with("/setup")).await;
        ctx.check_page().await;
        ctx.screenshots("setup").await;

        ctx.fill("#f-name", "Grace Admin").await;
        ctx.fill("#f-email", "grace@example.com").await;
        ctx.fill("#f-password", PASSWORD).await;
        ctx.fill("#f-password_again", PASSWORD).await;
        ctx.button("Create admin account").await.click().await.unwrap();

        // Signed in on the home page.
        ctx.wait_path("the home page after the setup", |p| p == "/").await;
        ctx.check_page().await;
        ctx.button("Sign out").await;
        ctx.find_text(".topbar .who", "Grace Admin").await;
        assert_eq!(ctx.store().count_users().await.unwrap(), 1, "the setup made one user");
        ctx.screenshots("home").await;

        // Signing out lands on the login page.
        ctx.button("Sign out").await.click().await.unwrap();
        ctx.wait_path("the login page after signing out", |p| p.starts_with("/login")).await;
        ctx.check_page().await;
        ctx.screenshots("login").await;

        // A wrong password shows the error on the login page.
        ctx.sign_in("grace@example.com", "not the password at all").await;
        let problem = ctx.find(".form-problem").await;
        let text = problem.text().await.unwrap();
        assert!(!text.trim().is_empty(), "the login page shows an empty error");
        assert!(ctx.path().await.starts_with("/login"), "a wrong password left the login page");
        assert!(ctx.all_now("meta[name=csrf-token]").await.is_empty(), "a wrong password signed in");
        assert!(text.to_lowercase().contains("password"), "the error does not say what was wrong: {text:?}");
        ctx.check_page().await;
        ctx.screenshots("login-error").await;

        // The right one signs in again.
        ctx.sign_in("grace@example.com", PASSWORD).await;
        ctx.wait_path("the home page after signing in", |p| p == "/").await;
        ctx.check_page().await;
        ctx.button("Sign out").await;
    })
    .await;
}

/// The console check itself: an inline script, which the CSP forbids, is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_check_catches_csp_violations() {
    scenario("csp-check", |ctx| async move {
        ctx.visit("/setup").await;
        ctx.js("const s = document.createElement('script'); s.textContent = 'window.__inline = 1;'; document.body.appendChild(s); return null;")
            .await;
        let ran = ctx.js("return window.__inline === 1;").await;
        assert_eq!(ran, false, "the CSP let an inline script run");
        let caught = std::panic::AssertUnwindSafe(ctx.check_console()).catch_unwind().await;
        assert!(caught.is_err(), "check_console did not notice the CSP violation");
    })
    .await;
}
