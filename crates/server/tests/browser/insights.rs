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

/// Waits until every chart on the page (an image, or inline SVG in a named
/// region) has loaded and has a size.
async fn charts_drawn(ctx: &Ctx, at_least: u64) {
    let started = std::time::Instant::now();
    loop {
        let state = ctx
            .js("const imgs = [...document.querySelectorAll('main img')]; \
                 const svgs = [...document.querySelectorAll('main svg.chart-svg')]; \
                 const named = svgs.every(s => (s.closest('[role=region]')?.getAttribute('aria-label') || '').length > 20); \
                 return { n: imgs.length + svgs.length, done: imgs.every(i => i.complete), \
                          drawn: imgs.filter(i => i.complete && i.naturalWidth > 0).length \
                                 + svgs.filter(s => s.getBoundingClientRect().width > 100).length, \
                          alts: named && imgs.every(i => (i.getAttribute('alt') || '').length > 20) };")
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
        ctx.find_text("main svg.chart-svg text", "Customer survival by segment").await;

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

/// Turns the open page dark as `prefers-color-scheme: dark` would (as the
/// axe-core pass does: chromedriver here has no media emulation).
async fn go_dark(ctx: &Ctx) {
    ctx.js(
        "for (const sheet of document.styleSheets) for (const rule of sheet.cssRules) { \
           if (!(rule instanceof CSSMediaRule)) continue; \
           const m = rule.media.mediaText; \
           if (m.includes('prefers-color-scheme: dark')) rule.media.mediaText = m.replace(/\\(prefers-color-scheme: dark\\)/, 'all'); \
         } \
         document.documentElement.style.colorScheme = 'dark'; return true;",
    )
    .await;
}

/// The tooltip's text when it shows, else null.
const TIP: &str = "const t = document.querySelector('.chart-tip'); \
                   return t && !t.hidden && t.getBoundingClientRect().width > 0 ? t.textContent : null;";

/// How many rows the people list shows (one page, up to 50).
async fn listed_rows(ctx: &Ctx) -> u64 {
    ctx.all_now("#results tbody tr").await.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_show_values_on_hover_and_focus_and_lead_to_the_customers() {
    scenario("charts", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        demo_shop(&ctx, &admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        ctx.set_size((1440, 900)).await;

        // Hover a segment's bar: the tooltip says its figures.
        ctx.visit("/insights").await;
        charts_drawn(&ctx, 1).await;
        let marks = ctx.all_now("main svg.chart-svg a.chart-mark").await;
        assert_eq!(marks.len(), 22, "{}: one mark per bar in each of the two panels", ctx.name);
        let mut chosen = None;
        for mark in &marks {
            let title = mark.attr("aria-label").await.unwrap().unwrap_or_default();
            let count: u64 = title.split(": ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
            if count > 0 {
                chosen = Some((mark.clone(), title, count));
                break;
            }
        }
        let (mark, title, count) = chosen.expect("a segment with customers");
        ctx.driver.action_chain().move_to_element_center(&mark).perform().await.unwrap();
        ctx.wait_js("the tooltip on hover", TIP, serde_json::json!(title)).await;
        ctx.screenshot_at(1440, "segments-hover").await;

        // From the keyboard: the chart region, then its first mark, shows the tooltip too.
        ctx.js("document.querySelector('main .chart-scroll').focus(); return true;").await;
        ctx.driver.active_element().await.unwrap().send_keys(thirtyfour::prelude::Key::Tab).await.unwrap();
        let first = ctx.js("return document.activeElement.getAttribute('aria-label');").await;
        assert!(
            first.as_str().is_some_and(|t| t.contains(" customers (")),
            "{}: Tab did not reach the first mark: {first}",
            ctx.name
        );
        ctx.wait_js("the tooltip on focus", TIP, first.clone()).await;
        ctx.screenshot_at(1440, "segments-focus").await;

        // Click: the people list of exactly that segment.
        let href = mark.attr("href").await.unwrap().unwrap_or_default();
        ctx.js("window.scrollTo(0, 0); return true;").await;
        mark.click().await.unwrap();
        ctx.wait_path("the segment's people", |p| p == href).await;
        ctx.check_page().await;
        assert_eq!(listed_rows(&ctx).await, count, "{}: {href}", ctx.name);

        // A cohort's label leads to its customers; a cell to those who bought that month.
        ctx.visit("/insights/cohorts").await;
        charts_drawn(&ctx, 1).await;
        let label = ctx.find("main a.chart-mark[href^='/people?first_purchase_month=']:not([href*='purchased_in'])").await;
        let title = label.attr("aria-label").await.unwrap().unwrap_or_default();
        let size: u64 = title.split(": ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).expect("a size");
        let href = label.attr("href").await.unwrap().unwrap_or_default();
        ctx.driver.action_chain().move_to_element_center(&label).perform().await.unwrap();
        ctx.wait_js("the cohort's tooltip", TIP, serde_json::json!(title)).await;
        label.click().await.unwrap();
        ctx.wait_path("the cohort's people", |p| p == href).await;
        assert_eq!(listed_rows(&ctx).await, size.min(50), "{}: {href}", ctx.name);

        // At 390 px: no sideways page, chart text at least 11 px, the chart
        // scrolls in its own focusable, named region.
        ctx.set_size((390, 844)).await;
        for (path, charts) in [("/insights", 1), ("/insights/cohorts", 1), ("/insights/churn", 2), ("/insights/value", 0)] {
            ctx.visit(path).await;
            charts_drawn(&ctx, charts).await;
            let state = ctx
                .js("const svgs = [...document.querySelectorAll('main svg.chart-svg')]; \
                     const px = svgs.flatMap(s => { const k = s.getBoundingClientRect().width / s.viewBox.baseVal.width; \
                       return [...s.querySelectorAll('text')].filter(t => !t.closest('.chart-marks')) \
                         .map(t => parseFloat(t.getAttribute('font-size')) * k); }); \
                     const regions = [...document.querySelectorAll('main .chart-scroll')]; \
                     return { page: document.documentElement.scrollWidth, smallest: Math.min(99, ...px), \
                              regions: regions.every(r => r.tabIndex === 0 && r.getAttribute('role') === 'region' && r.getAttribute('aria-label')) };")
                .await;
            assert!(state["page"].as_i64().unwrap_or(999) <= 390, "{}: {path} is wider than the phone: {state}", ctx.name);
            assert!(state["smallest"].as_f64().unwrap_or(0.0) >= 11.0, "{}: {path}: text under 11 px: {state}", ctx.name);
            assert_eq!(state["regions"], true, "{}: {path}: {state}", ctx.name);
        }
        ctx.visit("/insights/cohorts").await;
        let cell = ctx.find("main a.chart-mark[href*='purchased_in']").await;
        cell.scroll_into_view().await.unwrap();
        ctx.driver.action_chain().move_to_element_center(&cell).perform().await.unwrap();
        let cell_title = cell.attr("aria-label").await.unwrap().unwrap_or_default();
        ctx.wait_js("a cell's tooltip at 390 px", TIP, serde_json::json!(cell_title)).await;
        let page = ctx.js("return document.documentElement.scrollWidth;").await;
        assert!(page.as_i64().unwrap_or(999) <= 390, "{}: the tooltip widens the page: {page}", ctx.name);
        ctx.screenshots("cohorts").await;

        // Survival: one curve highlighted, another chosen from the links.
        ctx.visit("/insights/churn?group_by=segment").await;
        assert_eq!(ctx.all_now("main svg.chart-svg polygon").await.len(), 1, "{}: one band", ctx.name);
        ctx.find_text(".curve-picker a[aria-current]", "All customers").await;
        let other = ctx.all_now(".curve-picker a:not([aria-current])").await.pop().expect("a segment's link");
        let group = other.text().await.unwrap();
        other.click().await.unwrap();
        ctx.wait_path("another curve", |p| p.contains("curve=")).await;
        ctx.find_text(".curve-picker a[aria-current]", group.trim()).await;
        let mark = ctx.find("section[aria-labelledby=survival-heading] svg.chart-svg g.chart-mark").await;
        let said = mark.attr("aria-label").await.unwrap().unwrap_or_default();
        assert!(said.starts_with(&format!("{}, day ", group.trim())), "{}: {said}", ctx.name);
        ctx.screenshots("survival").await;

        // Dark mode: chart text takes the page's text colour, no white boxes.
        for path in ["/insights", "/insights/churn"] {
            ctx.visit(path).await;
            go_dark(&ctx).await;
            let colours = ctx
                .js("const s = document.querySelector('main svg.chart-svg'); \
                     const text = s.querySelector('text[fill=\"#000000\"]'); \
                     const boxes = [...s.querySelectorAll('rect')].map(r => getComputedStyle(r).fill) \
                       .filter(f => f === 'rgb(255, 255, 255)'); \
                     return { text: getComputedStyle(text).fill, body: getComputedStyle(document.body).color, white: boxes.length };")
                .await;
            assert_eq!(colours["text"], colours["body"], "{}: {path}: {colours}", ctx.name);
            assert_eq!(colours["white"], 0, "{}: {path}: white boxes in dark mode: {colours}", ctx.name);
            ctx.screenshot_at(1440, &format!("{}-dark", path.trim_start_matches('/').replace('/', "-"))).await;
        }
    })
    .await;
}

/// What a chart on the page open now shows at this width: the page's own
/// width, the smallest chart text in px, whether every chart fits its card
/// or scrolls in its own box, and the first chart's colours.
const CHART_STATE: &str = "const svgs = [...document.querySelectorAll('main svg.chart-svg')]; \
    const px = svgs.flatMap(s => { const k = s.getBoundingClientRect().width / s.viewBox.baseVal.width; \
      return [...s.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * k); }); \
    const white = svgs.flatMap(s => [...s.querySelectorAll('rect')]).filter(r => getComputedStyle(r).fill === 'rgb(255, 255, 255)'); \
    const text = svgs.map(s => s.querySelector('text[fill=\"#000000\"]')).find(t => t); \
    return { page: document.documentElement.scrollWidth, view: window.innerWidth, n: svgs.length, \
             smallest: Math.min(99, ...px), white: white.length, \
             text: text ? getComputedStyle(text).fill : null, body: getComputedStyle(document.body).color };";

/// Checks the open page's charts: no sideways page, no text under 11 px, no
/// white box, text in the page's colour.
async fn charts_readable(ctx: &Ctx, what: &str) {
    let state = ctx.js(CHART_STATE).await;
    assert!(state["n"].as_u64().unwrap_or(0) > 0, "{}: {what}: no chart: {state}", ctx.name);
    assert!(
        state["page"].as_i64() <= state["view"].as_i64(),
        "{}: {what}: the page scrolls sideways: {state}",
        ctx.name
    );
    assert!(state["smallest"].as_f64().unwrap_or(0.0) >= 11.0, "{}: {what}: text under 11 px: {state}", ctx.name);
    assert_eq!(state["white"], 0, "{}: {what}: a white box: {state}", ctx.name);
    assert_eq!(state["text"], state["body"], "{}: {what}: chart text not in the page's colour: {state}", ctx.name);
}

/// Hovers `mark` and waits for the tooltip to say its title; returns it.
async fn hover_says(ctx: &Ctx, mark: &thirtyfour::WebElement, what: &str) -> String {
    mark.scroll_into_view().await.unwrap();
    let title = mark.attr("aria-label").await.unwrap().unwrap_or_default();
    ctx.driver.action_chain().move_to_element_center(mark).perform().await.unwrap();
    ctx.wait_js(what, TIP, serde_json::json!(title)).await;
    title
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchase_and_style_charts_show_values_and_lead_to_what_is_behind_them() {
    scenario("chart-marks", |ctx| async move {
        let (ada, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let people = demo_shop(&ctx, &admin).await;
        // Customer05 bought six times; twice on the latest day.
        let person = &people[5];
        let store = ctx.store();
        let latest = store
            .list_purchases(
                &rapport_storage::ListQuery { limit: Some(1), sort: Some("-occurred_at".into()), ..Default::default() },
                &rapport_storage::PurchaseFilter { person_id: Some(person.id), ..Default::default() },
            )
            .await
            .unwrap()
            .items
            .remove(0);
        let mut again = latest.fields.clone();
        again.amount = Money::new(500, Currency::parse("EUR").unwrap());
        store.create_purchase(&admin, again).await.unwrap();
        // Ada's own tasks: some done late, this period and the one before.
        let now = OffsetDateTime::now_utc();
        for days in [2, 3, 4, 5, 6, 33, 34] {
            let input = rapport_domain::records::TaskInput {
                title: super::harness::name_of(&format!("Follow up {days}")),
                notes: None,
                due_at: Some(now - Duration::days(days)),
                assignee_id: Some(ada.id),
                done: days % 2 == 0,
                links: rapport_domain::records::Links { person_id: Some(person.id), company_id: None, deal_id: None },
            };
            store.create_task(&admin, input).await.unwrap();
        }
        ctx.sign_in_ok("ada@example.com").await;

        let person_page = format!("/people/{}", person.id);
        for (width, height) in [(1440, 900), (390, 844)] {
            ctx.set_size((width, height)).await;
            ctx.visit(&person_page).await;
            ctx.check_page().await;
            charts_drawn(&ctx, 1).await;
            charts_readable(&ctx, &format!("the customer page at {width} px")).await;
            // The chart fits its card: it neither scrolls nor spills out.
            let fits = ctx
                .js("const box = document.querySelector('#customer-value .chart-card'); \
                     return box.scrollWidth <= box.clientWidth && box.getBoundingClientRect().right <= \
                       document.querySelector('#customer-value').getBoundingClientRect().right;")
                .await;
            assert_eq!(fits, true, "{}: the purchase chart overflows its card at {width} px", ctx.name);
            let marks = ctx.all_now("#customer-value svg.chart-svg a.chart-mark").await;
            assert_eq!(marks.len(), 6, "{}: a mark per day they bought", ctx.name);
            let title = hover_says(&ctx, marks.last().unwrap(), "the latest day's tooltip").await;
            assert!(title.contains(": 2 purchases, "), "{}: {title}", ctx.name);
            // From the keyboard: the chart's region, then Tab to the first day.
            ctx.js("document.querySelector('#customer-value .chart-card').focus(); return true;").await;
            ctx.driver.active_element().await.unwrap().send_keys(thirtyfour::prelude::Key::Tab).await.unwrap();
            let first = ctx.js("return document.activeElement.getAttribute('aria-label');").await;
            assert!(first.as_str().is_some_and(|t| t.contains(": 1 purchase, ")), "{}: Tab reached {first}", ctx.name);
            ctx.wait_js("the first day's tooltip on focus", TIP, first.clone()).await;
            ctx.screenshot_at(width, "person-chart-focus").await;
            ctx.set_size((width, height)).await;
        }
        // Following the latest day lands on its purchases: as many as it said.
        let mark = ctx.all_now("#customer-value svg.chart-svg a.chart-mark").await.pop().unwrap();
        mark.scroll_into_view().await.unwrap();
        let href = mark.attr("href").await.unwrap().unwrap_or_default();
        assert!(href.starts_with(&format!("/purchases?person_id={}&since=", person.id)), "{href}");
        mark.click().await.unwrap();
        ctx.wait_path("the day's purchases", |p| p == href).await;
        ctx.check_page().await;
        ctx.find_text("#results .list-count", "2 purchases").await;
        assert_eq!(ctx.all_now("#results tbody tr").await.len(), 2, "{}: {href}", ctx.name);
        ctx.screenshots("person-chart-day").await;
        ctx.visit(&person_page).await;
        ctx.screenshots("person-chart").await;

        // The scorecard: the radar and each figure's trend are inline and touchable.
        let style_page = format!("/style/{}", ada.id);
        for (width, height) in [(1440, 900), (390, 844)] {
            ctx.set_size((width, height)).await;
            ctx.visit(&style_page).await;
            ctx.check_page().await;
            charts_readable(&ctx, &format!("the scorecard at {width} px")).await;
            let axis = ctx.find("#style-radar a.chart-mark[href*='#style-follow_through-heading']").await;
            let said = hover_says(&ctx, &axis, "a radar axis's tooltip").await;
            assert!(said.starts_with("Follow-through: "), "{}: {said}", ctx.name);
            let spark = ctx.all_now("#figure-tasks_late a.chart-mark").await;
            assert_eq!(spark.len(), 4, "{}: a mark per period", ctx.name);
            hover_says(&ctx, &spark[3], "a trend period's tooltip").await;
        }
        ctx.screenshots("style-person").await;
        // Each period of the trend leads to that period's scorecard, whose row says the same value.
        for i in [3, 2] {
            ctx.visit(&style_page).await;
            let mark = ctx.all_now("#figure-tasks_late a.chart-mark").await.remove(i);
            let title = mark.attr("aria-label").await.unwrap().unwrap_or_default();
            let value = title.rsplit(": ").next().unwrap_or_default().to_owned();
            let href = mark.attr("href").await.unwrap().unwrap_or_default();
            mark.scroll_into_view().await.unwrap();
            mark.click().await.unwrap();
            let path = href.split('#').next().unwrap().to_owned();
            ctx.wait_path("the period's scorecard", |p| p == path).await;
            ctx.check_page().await;
            let shown = ctx.find("#figure-tasks_late td.num").await.text().await.unwrap();
            let want = if value == "no value" { "—".to_owned() } else { value };
            assert_eq!(shown.trim(), want, "{}: {title} led to {href}", ctx.name);
            // The radar's axis leads to its dimension's figures on the page.
        }
        ctx.visit(&style_page).await;
        let axis = ctx.find("#style-radar a.chart-mark[href*='#style-follow_through-heading']").await;
        axis.click().await.unwrap();
        ctx.wait_js(
            "the dimension's figures in view",
            "const h = document.getElementById('style-follow_through-heading').getBoundingClientRect(); \
             return location.hash === '#style-follow_through-heading' && h.top >= 0 && h.top < window.innerHeight;",
            serde_json::json!(true),
        )
        .await;

        // Dark mode: the customer page's and the scorecard's charts follow the theme.
        for path in [&person_page, &style_page, &"/insights/cohorts".to_owned(), &"/sales".to_owned()] {
            for (width, height) in [(1440, 900), (390, 844)] {
                ctx.set_size((width, height)).await;
                ctx.visit(path).await;
                go_dark(&ctx).await;
                if path.as_str() != "/sales" {
                    charts_readable(&ctx, &format!("{path} dark at {width} px")).await;
                }
                let name = path.trim_start_matches('/').split('/').next().unwrap_or("page").to_owned();
                // Each chart up close, as the page shows it.
                for (i, chart) in ctx.all_now("main .chart-scroll").await.iter().take(2).enumerate() {
                    chart.scroll_into_view().await.unwrap();
                    let file =
                        super::harness::screenshot_dir().join(format!("{}-{name}-chart{i}-dark-{width}.png", ctx.name));
                    chart.screenshot(&file).await.unwrap();
                }
                ctx.screenshot_at(width, &format!("{name}-dark")).await;
            }
        }
    })
    .await;
}
