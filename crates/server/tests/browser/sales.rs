//! The sales dashboard in the browser at 1440 and 390 px: the figures, a
//! period preset, and a number clicked through to the deals behind it; on
//! a phone the tables stack as cards and nothing scrolls sideways. A stage's
//! "reached" count and an activity count lead to lists of exactly that many,
//! the deals list showing (and clearing) the filters it came with.

use rapport_domain::access::Role;
use rapport_domain::records::DealStatus;

use super::harness::{PHONE, scenario};

const WIDE: (u32, u32) = (1440, 900);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sales_dashboard_leads_from_a_figure_to_its_deals() {
    scenario("sales", |ctx| async move {
        let (ada, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
        let pipeline =
            ctx.app.create_pipeline(&admin, "Sales", &[("Lead", 10), ("Proposal", 50), ("Closing", 90)]).await;
        let today = time::OffsetDateTime::now_utc().date();
        for (name, stage, status) in [
            ("Observatory roof", 2, DealStatus::Won),
            ("Harbour lights", 1, DealStatus::Won),
            ("Library wing", 0, DealStatus::Lost),
            ("Museum café", 2, DealStatus::Open),
        ] {
            let mut deal = ctx.app.create_deal(&admin, &pipeline, name, stage).await;
            deal.fields.owner_id = Some(ada.id);
            deal.fields.status = status;
            deal.fields.expected_close = Some(today);
            ctx.store().update_deal(&admin, deal.id, deal.fields, None).await.expect("update the deal");
        }
        ctx.sign_in_ok("ada@example.com").await;

        for size in [WIDE, PHONE] {
            ctx.set_size(size).await;
            ctx.visit("/sales").await;
            ctx.find_text("#sales-summary", "67%").await;
            ctx.find_text("#sales-owner", "Ada Admin").await;
            ctx.find_text("#sales-forecast", "900.00").await;
            let overflow = ctx.js("return document.documentElement.scrollWidth - window.innerWidth;").await;
            assert!(overflow.as_i64().unwrap_or(1) <= 0, "{}: the page scrolls sideways by {overflow}", size.0);
        }
        ctx.screenshots("dashboard").await;
        ctx.screenshot_at(1440, "dashboard").await;

        // A preset keeps the page; the owner's "2" won opens the two won deals.
        ctx.set_size(WIDE).await;
        ctx.visit("/sales").await;
        ctx.find("a[href^='/sales?from=']").await.click().await.unwrap();
        ctx.wait_path("a period preset", |p| p.starts_with("/sales")).await;
        ctx.find("#sales-owner a[href*='status=won']").await.click().await.unwrap();
        ctx.wait_path("the won deals", |p| p.starts_with("/deals")).await;
        ctx.find_text("main", "Observatory roof").await;
        ctx.find_text("main", "Harbour lights").await;
        let text = ctx.js("return document.querySelector('main').innerText;").await;
        let text = text.as_str().unwrap_or_default();
        assert!(!text.contains("Library wing") && !text.contains("Museum café"), "only won deals: {text}");
        ctx.screenshots("won-deals").await;

        // A stage's "reached" count and an activity count, at both sizes: each
        // list holds as many as the figure says, and the deals list shows the
        // filters it was reached with, each one clearable.
        let person = ctx.app.create_person(&admin, "Vera", "Rubin", None).await;
        let call: rapport_domain::records::ActivityInput = serde_json::from_value(serde_json::json!({
            "kind": "call", "subject": "Dome survey", "person_id": person.id
        }))
        .unwrap();
        ctx.store().create_activity(&admin, call).await.expect("log a call");
        // The count loads after the list (htmx), so it is waited for.
        let count = "const c = document.querySelector('.list-count'); return c && c.textContent.split(' ')[0];";
        for size in [WIDE, PHONE] {
            ctx.set_size(size).await;
            ctx.visit("/sales").await;
            // Closing: reached by the won Observatory roof (and by the open Museum café).
            let reached = ctx.find("#sales-stage tbody tr:nth-child(3) a[href*='reached_stage_id']").await;
            let shown = reached.text().await.unwrap();
            reached.click().await.unwrap();
            ctx.wait_path("the deals that reached Lead", |p| p.starts_with("/deals")).await;
            ctx.wait_js(&format!("{}: the list holds the figure's deals", size.0), count, shown.clone().into()).await;
            let open = ctx.js("return document.querySelector('details.more-filters').open;").await;
            assert_eq!(open, true, "{}: the filters a drill-down set show", size.0);
            ctx.find_text("details.more-filters summary", "More filters (3 set)").await;
            let overflow = ctx.js("return document.documentElement.scrollWidth - window.innerWidth;").await;
            assert!(overflow.as_i64().unwrap_or(1) <= 0, "{}: the deals list scrolls sideways by {overflow}", size.0);
            ctx.screenshot_at(size.0, "reached-deals").await;
            ctx.set_size(size).await;
            assert_eq!(shown, "1");
            // Clearing the closing days lists every deal that ever reached Closing, the open one too.
            ctx.js("for (const id of ['#filter-closed_from', '#filter-closed_to']) { \
                      const f = document.querySelector(id); f.value = ''; \
                      f.dispatchEvent(new Event('change', { bubbles: true })); } return true;")
                .await;
            ctx.wait_js("the open deal joins", count, "2".into()).await;
            ctx.wait_path("the address drops the closing days", |p| !p.contains("closed_to=2")).await;

            ctx.visit("/sales").await;
            let calls = ctx.find("#sales-activity a[href*='kind=call']").await;
            assert_eq!(calls.text().await.unwrap(), "1");
            calls.click().await.unwrap();
            ctx.wait_path("the activities list", |p| p.starts_with("/activities")).await;
            ctx.wait_js("the call's activities", count, "1".into()).await;
            ctx.find_text("#activities", "Dome survey").await;
            let overflow = ctx.js("return document.documentElement.scrollWidth - window.innerWidth;").await;
            assert!(
                overflow.as_i64().unwrap_or(1) <= 0,
                "{}: the activities list scrolls sideways by {overflow}",
                size.0
            );
        }
        ctx.screenshots("activities").await;
        ctx.check_page().await;
    })
    .await;
}
