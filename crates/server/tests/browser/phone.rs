//! At phone width (390 px) the pages fit: the body never scrolls sideways;
//! wide tables scroll inside their `.table-wrap`.

use rapport_domain::access::Role;

use super::harness::{Ctx, PHONE, scenario};

/// The page is no wider than the phone's screen.
async fn fits(ctx: &Ctx, page: &str) {
    let width = ctx.viewport_width().await;
    assert_eq!(width, i64::from(PHONE.0), "{}: the viewport is {width} px wide, not {}", ctx.name, PHONE.0);
    let wide = ctx.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
    if wide > width + 1 {
        // Name the culprits to make the failure useful.
        // Name the outermost elements that stick out past the screen and are not
        // inside a box that scrolls or clips them, to make the failure useful.
        let culprits = ctx
            .js("const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { \
                     if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; }; \
                 const out = e => e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e); \
                 return Array.from(document.querySelectorAll('body *')).filter(e => out(e) && !(e.parentElement && out(e.parentElement))) \
                 .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
                 + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '') \
                 + ' (right edge at ' + Math.round(e.getBoundingClientRect().right) + ' px)');")
            .await;
        panic!("{}: {page} is {wide} px wide at {width} px: the body scrolls sideways; too wide: {culprits}", ctx.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone() {
    scenario("phone", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let person =
            ctx.app.create_person(&admin, "Mary", "Winston-Jackson", Some("mary.winston.jackson@example.com")).await;
        for (first, last) in [("Katherine", "Johnson"), ("Dorothy", "Vaughan"), ("Christine", "Darden")] {
            ctx.app
                .create_person(
                    &admin,
                    first,
                    last,
                    Some(&format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase())),
                )
                .await;
        }
        ctx.sign_in_ok("ada@example.com").await;

        // The pictures first, so that they are there to look at when a check fails.
        ctx.visit("/people").await;
        ctx.screenshots("people").await;
        ctx.visit(&format!("/people/{}", person.id)).await;
        ctx.screenshots("person").await;

        ctx.set_size(PHONE).await;
        ctx.visit("/people").await;
        ctx.find("#results table").await;
        fits(&ctx, "/people").await;

        ctx.visit(&format!("/people/{}", person.id)).await;
        ctx.find("main h1").await;
        fits(&ctx, "the person page").await;

        ctx.visit("/people/new").await;
        ctx.find("#f-first_name").await;
        fits(&ctx, "/people/new").await;

        ctx.visit("/").await;
        ctx.find("main").await;
        fits(&ctx, "/").await;
    })
    .await;
}

/// On a phone the navigation is a menu (every link in it, 44 px tall),
/// list tables are one card per row with each value labelled, and buttons
/// and fields are at least 44 px tall; at desktop width the sidebar shows
/// every link and no menu button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_gets_a_menu_cards_and_big_targets() {
    scenario("phone-menu", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        for (first, last) in [("Katherine", "Johnson"), ("Dorothy", "Vaughan")] {
            let email = format!("{}@example.com", first.to_lowercase());
            ctx.app.create_person(&admin, first, last, Some(&email)).await;
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit("/people").await;
        ctx.find("#results table").await;
        let shown = |css: &'static str| {
            let ctx = &ctx;
            async move {
                ctx.js(&format!(
                    "const e = document.querySelector('{css}'); return !!e && e.getClientRects().length > 0;"
                ))
                .await
                .as_bool()
                .unwrap()
            }
        };
        let links = "return Array.from(document.querySelectorAll('#main-nav a')).filter(a => a.getClientRects().length > 0).length;";
        let all_links = ctx.js("return document.querySelectorAll('#main-nav a').length;").await.as_i64().unwrap();
        assert!(all_links >= 13, "the sidebar has {all_links} links");
        assert!(!shown(".menu-button").await, "no menu button at desktop width");
        assert_eq!(ctx.js(links).await.as_i64().unwrap(), all_links, "every link in view at desktop width");

        ctx.set_size(PHONE).await;
        assert!(shown(".menu-button").await, "a menu button on a phone");
        assert_eq!(ctx.js(links).await.as_i64().unwrap(), 0, "the links fold away on a phone");
        assert_eq!(ctx.find(".menu-button").await.attr("aria-expanded").await.unwrap().as_deref(), Some("false"));
        ctx.screenshot_at(PHONE.0, "people-cards").await;
        ctx.set_size(PHONE).await;
        ctx.find(".menu-button").await.click().await.unwrap();
        assert_eq!(ctx.js(links).await.as_i64().unwrap(), all_links, "the open menu shows every link");
        assert_eq!(ctx.find(".menu-button").await.attr("aria-expanded").await.unwrap().as_deref(), Some("true"));
        let short_links = ctx
            .js("return Array.from(document.querySelectorAll('#main-nav a')).filter(a => a.getBoundingClientRect().height < 44).map(a => a.textContent);")
            .await;
        assert_eq!(short_links, serde_json::json!([]), "menu links under 44 px tall");
        ctx.screenshot_at(PHONE.0, "menu-open").await;
        ctx.set_size(PHONE).await;
        ctx.js("document.querySelector('#main-nav a').focus(); document.querySelector('#main-nav a').dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));").await;
        assert_eq!(ctx.js(links).await.as_i64().unwrap(), 0, "Escape closes the menu");
        assert_eq!(ctx.js("return document.activeElement.className;").await, serde_json::json!("menu-button"), "focus back on the button");

        // The list: cards, each value with its column's name, nothing wider than the screen.
        assert!(!shown("#results thead").await, "no table header row on a phone");
        let labels = ctx
            .js("return Array.from(document.querySelectorAll('#results tbody tr:first-child td')).map(td => getComputedStyle(td, '::before').content);")
            .await;
        let labels: Vec<String> = serde_json::from_value(labels).unwrap();
        assert!(labels.iter().any(|l| l.contains("Email")), "cells are labelled on a phone: {labels:?}");
        let wide = ctx.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
        assert!(wide <= i64::from(PHONE.0), "/people is {wide} px wide on a phone");
        let small = ctx
            .js("return Array.from(document.querySelectorAll('main button, main .button, main select, main input:not([type=checkbox]):not([type=radio]):not([type=hidden]), .topbar button'))\
                 .filter(e => e.getClientRects().length > 0 && e.getBoundingClientRect().height < 44)\
                 .map(e => e.outerHTML.slice(0, 80));")
            .await;
        assert_eq!(small, serde_json::json!([]), "tap targets under 44 px on /people");
    })
    .await;
}
