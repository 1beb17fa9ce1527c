//! Insights in a real browser, over demo-like data (thirty customers with
//! purchases over two years, a few referred): every tab loads with its charts
//! drawn, a segment leads to its people, and a customer's page shows their
//! value panel and purchase chart.

use rapport_domain::access::{Actor, Role};
use rapport_domain::records::{Person, PurchaseInput};
use rapport_domain::{Currency, Money, PersonId};
use time::{Duration, OffsetDateTime};

use super::harness::{Ctx, scenario};

/// Thirty customers: customer `i` bought `i % 6 + 1` times, every
/// `30 * (i % 5 + 1)` days, the last time `i * 23 + 1` days ago.
async fn demo_shop(ctx: &Ctx, admin: &Actor) -> Vec<Person> {
    let store = ctx.store();
    let now = OffsetDateTime::now_utc();
    let referrer = ctx.app.create_person(admin, "Rita", "Referrer", None).await;
    let mut people = Vec::new();
    for i in 0..30_i64 {
        let mut person = ctx.app.create_person(admin, &format!("Customer{i:02}"), "Shopper", None).await;
        if i < 5 {
            let mut input = person.fields.clone();
            input.referred_by_id = Some(referrer.id);
            person = store.update_person(admin, person.id, input, None).await.expect("set the referrer");
        }
        for k in 0..(i % 6 + 1) {
            let input = PurchaseInput {
                person_id: person.id,
                occurred_at: now - Duration::days(i * 23 + 1 + 30 * (i % 5 + 1) * k),
                amount: Money::new(1_000 + 250 * i + 100 * k, Currency::parse("EUR").expect("a currency")),
                reference: None,
                description: None,
            };
            store.create_purchase(admin, input).await.expect("create a purchase");
        }
        people.push(person);
    }
    ctx.app.insights.refresh_if_changed().await.expect("compute the insights");
    people
}

/// Waits until every chart image on the page has loaded and has a size.
async fn charts_drawn(ctx: &Ctx, at_least: u64) {
    let started = std::time::Instant::now();
    loop {
        let state = ctx
            .js("const imgs = [...document.querySelectorAll('main img')]; \
                 return { n: imgs.length, done: imgs.every(i => i.complete), \
                          drawn: imgs.filter(i => i.complete && i.naturalWidth > 0).length, \
                          alts: imgs.every(i => (i.getAttribute('alt') || '').length > 20) };")
            .await;
        let (n, drawn) = (state["n"].as_u64().unwrap_or(0), state["drawn"].as_u64().unwrap_or(0));
        if state["done"] == true && n >= at_least {
            let path = ctx.path().await;
            assert_eq!(drawn, n, "{}: {path}: {drawn} of {n} charts drawn", ctx.name);
            assert_eq!(state["alts"], true, "{}: {path}: a chart without a describing alt text", ctx.name);
            return;
        }
        assert!(started.elapsed() < super::harness::WAIT, "{}: charts did not load: {state}", ctx.name);
        tokio::time::sleep(super::harness::POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_pages_segments_and_the_value_panel() {
    scenario("insights", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let people = demo_shop(&ctx, &admin).await;
        ctx.sign_in_ok("ada@example.com").await;

        // The nav leads to the insights.
        ctx.visit("/").await;
        ctx.find_text("nav a", "Insights").await.click().await.unwrap();
        ctx.wait_path("the insights page", |p| p == "/insights").await;
        ctx.check_page().await;
        assert_eq!(ctx.find("main h1").await.text().await.unwrap().trim(), "Insights");
        charts_drawn(&ctx, 1).await;
        ctx.screenshots("segments").await;

        // Every tab draws its charts.
        for (tab, path, charts) in [
            ("Cohorts", "/insights/cohorts", 1),
            ("Churn", "/insights/churn", 2),
            ("Lifetime value", "/insights/value", 0),
            ("Referrals", "/insights/referrals", 0),
        ] {
            ctx.find_text(".settings-tabs a", tab).await.click().await.unwrap();
            ctx.wait_path(tab, |p| p == path).await;
            ctx.check_page().await;
            charts_drawn(&ctx, charts).await;
            ctx.screenshots(path.trim_start_matches("/insights/")).await;
        }

        // Another churn definition, chosen with the form.
        ctx.visit("/insights/churn").await;
        ctx.fill("#f-days", "60").await;
        ctx.find("#f-group_by option[value=segment]").await.click().await.unwrap();
        ctx.button("Show").await.click().await.unwrap();
        ctx.wait_path("the churn page for 60 days", |p| p.contains("days=60") && p.contains("group_by=segment")).await;
        ctx.check_page().await;
        ctx.find_text("main p", "no purchase for 60 days").await;
        charts_drawn(&ctx, 2).await;
        let src = ctx.find("main img[src*='survival']").await.attr("src").await.unwrap().unwrap_or_default();
        assert!(src.contains("group_by=segment"), "the survival chart ignores the choice: {src}");

        // A segment leads to its people, and only them.
        ctx.visit("/insights").await;
        ctx.find("main table a[href^='/people?segment=']").await;
        // The first segment with customers in it.
        let mut chosen = None;
        for row in ctx.all_now("main table tbody tr").await {
            let cells = row.find_all(thirtyfour::By::Css("td")).await.unwrap();
            let count: u64 = cells[1].text().await.unwrap().trim().parse().unwrap_or(0);
            if count > 0 {
                chosen = Some((cells[0].find(thirtyfour::By::Css("a")).await.unwrap(), count));
                break;
            }
        }
        let (link, count) = chosen.unwrap_or_else(|| panic!("no segment with customers"));
        let href = link.attr("href").await.unwrap().unwrap_or_default();
        link.click().await.unwrap();
        ctx.wait_path("the segment's people", |p| p == href).await;
        ctx.check_page().await;
        let rows = ctx.all_now("#results tbody tr").await;
        assert_eq!(rows.len() as u64, count, "{}: the list has {} people, the segment {count}", ctx.name, rows.len());
        let chosen_segment = ctx.js("return document.querySelector('#filter-segment').value;").await;
        assert_eq!(format!("/people?segment={}", chosen_segment.as_str().unwrap_or("")), href);
        ctx.screenshots("segment-people").await;

        // Open a customer from the list: their value panel and purchase chart.
        let first = ctx.find("#results tbody tr a[href^='/people/']").await;
        let person_href = first.attr("href").await.unwrap().unwrap_or_default();
        first.click().await.unwrap();
        ctx.wait_path("the customer's page", |p| p == person_href).await;
        ctx.check_page().await;
        let id: PersonId = person_href.trim_start_matches("/people/").parse().expect("a person id");
        assert!(people.iter().any(|p| p.id == id), "not one of the customers: {person_href}");
        let insight = ctx.store().customer_insight(id).await.unwrap().expect("an insight");
        let panel = ctx.find("section[aria-labelledby=value-heading]").await;
        let text = panel.text().await.unwrap();
        assert!(text.contains(insight.segment.label()), "the panel has no segment: {text}");
        assert!(text.contains("next 12 months"), "the panel does not say the horizon: {text}");
        assert!(text.contains(&format!("R{} F{} M{}", insight.r_score, insight.f_score, insight.m_score)), "{text}");
        charts_drawn(&ctx, 1).await;
        ctx.screenshots("person-value").await;

        // The segment badge leads back to the segment.
        panel.find(thirtyfour::By::Css("a.badge")).await.unwrap().click().await.unwrap();
        let want = format!("/people?segment={}", insight.segment.as_str());
        ctx.wait_path("the segment from the badge", |p| p == want).await;
        ctx.check_page().await;
    })
    .await;
}
