//! The search dialog: Ctrl+K (or "/") anywhere, type part of a name, arrow
//! down to the result and press Enter.

use rapport_domain::access::Role;
use thirtyfour::prelude::*;

use super::harness::{Ctx, scenario};

/// The id of the element that has the focus.
async fn focused_id(ctx: &Ctx) -> String {
    ctx.js("return document.activeElement ? document.activeElement.id : '';").await.as_str().unwrap_or("").to_owned()
}

async fn wait_dialog_open(ctx: &Ctx) {
    ctx.find("dialog#search-dialog[open]").await;
    assert_eq!(focused_id(ctx).await, "search-input", "{}: the search input is not focused", ctx.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_open_a_person() {
    scenario("search", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let mary = ctx.app.create_person(&admin, "Mary", "Jackson", Some("mary@example.com")).await;
        ctx.app.create_person(&admin, "Annie", "Easley", None).await;
        ctx.sign_in_ok("ada@example.com").await;

        // "/" opens the dialog from any page, Escape closes it.
        ctx.visit("/people").await;
        ctx.find("body").await.send_keys("/").await.unwrap();
        wait_dialog_open(&ctx).await;
        ctx.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();
        ctx.gone("dialog#search-dialog[open]").await;

        // Ctrl+K opens it too.
        ctx.driver.action_chain().key_down(Key::Control).send_keys("k").key_up(Key::Control).perform().await.unwrap();
        wait_dialog_open(&ctx).await;

        ctx.find("#search-input").await.send_keys("jacks").await.unwrap();
        let hit = ctx.find_text("#search-results a", "Mary Jackson").await;
        let href = hit.attr("href").await.unwrap().unwrap_or_default();
        assert!(href.ends_with(&format!("/people/{}", mary.id)), "the result links to {href}");
        assert!(ctx.all_now("#search-results a").await.len() == 1, "Annie Easley matched 'jacks'");
        ctx.check_console().await;
        ctx.screenshots("results").await;

        ctx.driver.action_chain().send_keys(Key::Down).perform().await.unwrap();
        let focused =
            ctx.js("return document.activeElement ? document.activeElement.getAttribute('href') : null;").await;
        assert_eq!(focused.as_str(), Some(href.as_str()), "ArrowDown did not move to the first result");
        ctx.driver.action_chain().send_keys(Key::Enter).perform().await.unwrap();

        let want = format!("/people/{}", mary.id);
        ctx.wait_path("the person's page from the search", |p| p == want).await;
        ctx.check_page().await;
        assert_eq!(ctx.find("main h1").await.text().await.unwrap().trim(), "Mary Jackson");
    })
    .await;
}
