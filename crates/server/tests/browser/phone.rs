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
