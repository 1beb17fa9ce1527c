//! The customer page at 1440 and 390 px: the timeline's kind filter and
//! "Load more" clicked through htmx, the value panel's figures on one line
//! each and the email address whole at 1440 px, and on a phone the value,
//! next steps and deals above the timeline. The company page names each
//! entry's person.

use rapport_domain::access::{Actor, Role};
use rapport_domain::records::{ActivityInput, ActivityKind, Links, PurchaseInput, TaskInput};
use rapport_domain::text::LongText;
use rapport_domain::{Currency, Money};
use time::{Duration, OffsetDateTime};

use super::harness::{Ctx, PHONE, name_of, scenario};

const WIDE: (u32, u32) = (1440, 900);

async fn customer(ctx: &Ctx, admin: &Actor) -> (rapport_domain::records::Person, rapport_domain::records::Company) {
    let store = ctx.store();
    let company = ctx.app.create_company(admin, "Larsen Bakeries").await;
    let mut rosa = ctx
        .app
        .create_person(admin, "Rosa", "Larsen", Some("rosa.larsen-johannesdottir@larsen-bakeries.example.com"))
        .await;
    let mut input = rosa.fields.clone();
    input.company_id = Some(company.id);
    rosa = store.update_person(admin, rosa.id, input, None).await.expect("set the company");
    let colleague = ctx.app.create_person(admin, "Ivar", "Berg", None).await;
    let mut input = colleague.fields.clone();
    input.company_id = Some(company.id);
    let colleague = store.update_person(admin, colleague.id, input, None).await.expect("set the company");

    let now = OffsetDateTime::now_utc();
    for i in 0..40_i64 {
        let input = PurchaseInput {
            person_id: rosa.id,
            occurred_at: now - Duration::days(3 + i * 9),
            amount: Money::new(2_000 + 137 * i, Currency::parse("EUR").expect("a currency")),
            reference: None,
            description: Some(LongText::try_from(format!("Bread order {i}").as_str()).expect("a description")),
        };
        store.create_purchase(admin, input).await.expect("create a purchase");
    }
    for (i, kind) in [ActivityKind::Call, ActivityKind::Note, ActivityKind::Email, ActivityKind::Meeting]
        .into_iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        let input = ActivityInput {
            kind,
            direction: None,
            occurred_at: Some(now - Duration::days(1 + 11 * i as i64)),
            subject: Some(name_of(&format!("Talk {i} about the spring menu"))),
            body: None,
            author_id: None,
            links: Links { person_id: Some(rosa.id), company_id: Some(company.id), deal_id: None },
        };
        store.create_activity(admin, input).await.expect("create an activity");
    }
    let input = ActivityInput {
        kind: ActivityKind::Call,
        direction: None,
        occurred_at: Some(now - Duration::hours(5)),
        subject: Some(name_of("Ivar asked for a tasting")),
        body: None,
        author_id: None,
        links: Links { person_id: Some(colleague.id), company_id: Some(company.id), deal_id: None },
    };
    store.create_activity(admin, input).await.expect("create an activity");
    let task = TaskInput {
        title: name_of("Send the autumn price list"),
        notes: None,
        due_at: Some(now + Duration::days(2)),
        assignee_id: None,
        done: false,
        links: Links { person_id: Some(rosa.id), company_id: None, deal_id: None },
    };
    store.create_task(admin, task).await.expect("create a task");
    let pipeline = ctx.app.create_pipeline(admin, "Sales", &[("Lead", 10), ("Proposal", 50)]).await;
    let deal = ctx.app.create_deal(admin, &pipeline, "Wholesale contract", 1).await;
    let mut input = deal.fields.clone();
    input.person_id = Some(rosa.id);
    store.update_deal(admin, deal.id, input, None).await.expect("link the deal");
    ctx.app.insights.refresh_if_changed().await.expect("compute the insights");
    (rosa, company)
}

/// The kinds of the timeline's entries now.
async fn kinds(ctx: &Ctx) -> Vec<String> {
    let found =
        ctx.js("return [...document.querySelectorAll('#timeline .timeline .dot')].map(d => d.classList[1]);").await;
    found.as_array().expect("a list").iter().map(|k| k.as_str().unwrap_or_default().to_owned()).collect()
}

/// Waits until the timeline shows `count` entries.
async fn wait_entries(ctx: &Ctx, count: usize) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let now = kinds(ctx).await;
        if now.len() == count {
            return now;
        }
        assert!(started.elapsed() < super::harness::WAIT, "{}: {} entries, not {count}", ctx.name, now.len());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Clicks the timeline filter `label` and waits for htmx to show it.
async fn filter(ctx: &Ctx, label: &str) {
    ctx.find_text(".timeline-kinds a", label).await.click().await.expect("click a filter");
    ctx.find_text(".timeline-kinds a.current", label).await;
}

async fn top(ctx: &Ctx, css: &str) -> f64 {
    ctx.js(&format!("return document.querySelector({css:?}).getBoundingClientRect().top + window.scrollY;"))
        .await
        .as_f64()
        .unwrap_or_else(|| panic!("no {css}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_page_filters_pages_and_fits() {
    scenario("customer_page", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let (rosa, company) = customer(&ctx, &admin).await;
        ctx.sign_in_ok("ada@example.com").await;
        let page = format!("/people/{}", rosa.id);

        // The pictures first, so that they are there to look at when a check fails.
        ctx.visit(&page).await;
        ctx.screenshot_at(1440, "person").await;
        ctx.screenshots("person").await;
        ctx.visit(&format!("/companies/{}", company.id)).await;
        ctx.screenshot_at(1440, "company").await;

        for (size, label) in [(WIDE, "1440"), (PHONE, "390")] {
            ctx.set_size(size).await;
            ctx.visit(&page).await;
            let all = wait_entries(&ctx, 25).await;
            assert!(all.contains(&"purchase".to_owned()) && all.contains(&"call".to_owned()), "{label}: {all:?}");

            // Purchases only, then the older ones with "Load more": 25 + 15, no duplicates.
            filter(&ctx, "Purchases").await;
            let shown = wait_entries(&ctx, 25).await;
            assert!(shown.iter().all(|k| k == "purchase"), "{label}: {shown:?}");
            let path = ctx.wait_path("the filter in the address", |p| p.contains("kind=purchases")).await;
            assert!(path.starts_with(&page), "{path}");
            ctx.find("#composer-subject").await;
            ctx.button("Load more").await.click().await.expect("click Load more");
            let shown = wait_entries(&ctx, 40).await;
            assert!(shown.iter().all(|k| k == "purchase"), "{label}: {shown:?}");
            // The focus is on the first entry added, not lost to the top of the page.
            ctx.wait_js(
                &format!("{label}: the focus on the 26th entry"),
                "const f = document.activeElement; \
                 return f && f.matches('#timeline .timeline > li') ? [...f.parentElement.children].indexOf(f) : -1;",
                serde_json::json!(25),
            )
            .await;
            let orders = ctx
                .js("return [...document.querySelectorAll('#timeline .timeline .body')].map(b => b.textContent);")
                .await;
            let orders: Vec<String> =
                orders.as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_owned()).collect();
            let want: Vec<String> = (0..40).map(|i| format!("Bread order {i}")).collect();
            assert_eq!(orders, want, "{label}: newest first, each once");
            assert!(ctx.all_now(".timeline-more").await.is_empty(), "{label}: Load more after the last page");
            if label == "1440" {
                ctx.screenshot_at(1440, "purchases-loaded").await;
                ctx.set_size(WIDE).await;
            }

            // Conversations: the activities alone.
            filter(&ctx, "Conversations").await;
            let shown = wait_entries(&ctx, 8).await;
            assert!(shown.iter().all(|k| ["call", "note", "email", "meeting"].contains(&k.as_str())), "{shown:?}");
            filter(&ctx, "All").await;
            wait_entries(&ctx, 25).await;
            ctx.check_console().await;
        }

        // At 1440 px: the right column is wide enough for each value on one line,
        // and the email address is whole (cut short with its full text in the title, never broken).
        ctx.set_size(WIDE).await;
        ctx.visit(&page).await;
        let width = ctx.js("return document.querySelector('.side-right').getBoundingClientRect().width;").await;
        assert!(width.as_f64().unwrap() >= 340.0, "the right column is {width} px");
        // Lines of each figure and of its label: its text's boxes that do not overlap in height.
        let lines = ctx
            .js("const lines = e => { const r = document.createRange(); r.selectNodeContents(e); \
                   const boxes = [...r.getClientRects()].filter(b => b.width > 0).sort((a, b) => a.top - b.top); \
                   let n = 0, bottom = -1e9; for (const b of boxes) { if (b.top >= bottom - 1) { n++; } bottom = Math.max(bottom, b.bottom); } \
                   return n; }; \
                 return [...document.querySelectorAll('#customer-value dd, #customer-value dt')] \
                   .map(d => [d.textContent.trim(), lines(d)]);")
            .await;
        for pair in lines.as_array().expect("value figures") {
            assert!(pair[1].as_i64().unwrap() <= 1, "{pair} wraps");
        }
        assert!(lines.as_array().unwrap().len() >= 8, "{lines}");
        let email = ctx
            .js("const a = document.querySelector('.customer-profile a[href^=\"mailto:\"]'); \
                 const lh = parseFloat(getComputedStyle(a).lineHeight) || 20; \
                 const r = document.createRange(); r.selectNodeContents(a); \
                 const tops = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))); \
                 return [a.getAttribute('title'), tops.size, a.getBoundingClientRect().height <= lh * 1.3, \
                         [...a.getClientRects()].map(b => [b.top, b.height, b.width])];")
            .await;
        assert_eq!(email[0], "rosa.larsen-johannesdottir@larsen-bakeries.example.com");
        assert_eq!(email[1], 1, "the address breaks over lines: {email}");
        assert_eq!(email[2], true, "the address breaks over lines: {email}");
        let summary = ctx.find(".purchase-summary").await.text().await.unwrap();
        assert!(summary.contains("40 purchases") && summary.contains("All 40 purchases"), "{summary}");

        // On a phone, value, next steps and deals come before the timeline.
        ctx.set_size(PHONE).await;
        ctx.visit(&page).await;
        // What a phone shows first, and where the timeline starts.
        let dir = super::harness::screenshot_dir();
        ctx.driver.screenshot(&dir.join("customer_page-phone-top.png")).await.expect("a screenshot");
        ctx.js("document.querySelector('.timeline-col').scrollIntoView(); return 0;").await;
        ctx.driver.screenshot(&dir.join("customer_page-phone-timeline.png")).await.expect("a screenshot");
        ctx.js("window.scrollTo(0, 0); return 0;").await;
        let timeline = top(&ctx, ".timeline-col").await;
        for panel in ["#customer-value", "#customer-next-steps", "#customer-deals", ".customer-profile"] {
            let at = top(&ctx, panel).await;
            assert!(at < timeline, "{panel} at {at} px, below the timeline at {timeline} px");
        }
        assert!(timeline < 2600.0, "the timeline starts {timeline} px down");
        let wide = ctx.js("return document.documentElement.scrollWidth;").await.as_i64().unwrap();
        assert!(wide <= i64::from(PHONE.0) + 1, "the page is {wide} px wide on a phone");

        // The purchases list of this customer, from the summary.
        ctx.set_size(WIDE).await;
        ctx.visit(&page).await;
        ctx.find_text(".purchase-summary a", "All 40 purchases").await.click().await.expect("click All purchases");
        ctx.wait_path("the customer's purchases", |p| p.starts_with("/purchases?person_id=")).await;
        ctx.find_text("#results", "Bread order 0").await;
        ctx.screenshot_at(1440, "purchases-list").await;

        // The company page names whose each entry is.
        ctx.visit(&format!("/companies/{}", company.id)).await;
        ctx.find_text(".timeline .entry-person", "Ivar Berg").await;
        ctx.find_text(".timeline .entry-person", "Rosa Larsen").await;
    })
    .await;
}
