//! The pipeline board: a deal moves to another column by dragging its card
//! (SortableJS in fallback mode, driven by real pointer events) or, from the
//! keyboard, with the card's "Move" link and the board's move dialog, Won
//! included; the move redraws no column, only the card and the two
//! columns' figures. A long column scrolls on its own under a header that
//! stays in view, the board fits the window (the Lost column and the
//! sideways scrollbar within reach), and "Load more" shows a column's next
//! deals.
//!
//! DOM contract: `#board`; each column is `section#board-column-<key>`, its
//! figures (count badge, sums) `#board-column-<key>-figures`, its card list
//! `[data-stage-cards="<stage uuid | won | lost>"]`; cards are
//! `.deal-card[data-deal="<deal uuid>"]` with an `a.move` link that opens
//! `dialog#board-move`, whose form holds `select[name=target]`; a column's
//! next page is `.more a`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rapport_domain::access::Role;
use rapport_domain::records::{Deal, DealStatus, Pipeline};
use rapport_domain::{DealId, StageId};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use super::harness::{Ctx, PHONE, POLL, WAIT, scenario};

const WIDE: (u32, u32) = (1440, 900);

async fn board_with_a_deal(ctx: &Ctx) -> (Pipeline, Deal) {
    let (_, admin) = ctx.app.create_user("Ada Admin", "ada@example.com", Role::Admin).await;
    let pipeline = ctx.app.create_pipeline(&admin, "Sales", &[("Lead", 10), ("Proposal", 50), ("Closing", 90)]).await;
    let deal = ctx.app.create_deal(&admin, &pipeline, "Observatory roof", 0).await;
    ctx.sign_in_ok("ada@example.com").await;
    ctx.visit(&format!("/pipelines/{}/board", pipeline.id)).await;
    ctx.find("#board").await;
    let card = format!("[data-stage-cards='{}'] .deal-card[data-deal='{}']", pipeline.stages[0].id, deal.id);
    ctx.find(&card).await;
    (pipeline, deal)
}

/// Waits until the store has the deal as `check` wants it.
async fn wait_stored(ctx: &Ctx, deal: DealId, what: &str, check: impl Fn(&Deal) -> bool) {
    let started = Instant::now();
    loop {
        let now = ctx.store().get_deal(deal).await.unwrap();
        if check(&now) {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "{}: after {WAIT:?} the store still has the deal in stage {:?}, {:?}, not {what}",
            ctx.name,
            now.fields.stage_id,
            now.fields.status
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn wait_stored_stage(ctx: &Ctx, deal: DealId, stage: StageId) {
    wait_stored(ctx, deal, &format!("stage {stage}"), |d| {
        d.fields.stage_id == stage && d.fields.status == DealStatus::Open
    })
    .await;
}

/// Waits until the card sits in the column `key` (after the swap) and nowhere else.
async fn wait_card_in(ctx: &Ctx, deal: DealId, key: &str) {
    ctx.find(&format!("#board [data-stage-cards='{key}'] .deal-card[data-deal='{deal}']")).await;
    let copies = ctx.all_now(&format!(".deal-card[data-deal='{deal}']")).await.len();
    assert_eq!(copies, 1, "{}: the card is shown {copies} times", ctx.name);
}

/// Waits until column `key`'s header counts `count` deals (the move's answer is in).
async fn wait_count(ctx: &Ctx, key: &str, count: &str) {
    let started = Instant::now();
    loop {
        let now = ctx
            .js(&format!(
                "var b = document.querySelector('#board-column-{key}-figures .badge'); return b ? b.textContent : null;"
            ))
            .await;
        if now.as_str() == Some(count) {
            return;
        }
        assert!(started.elapsed() < WAIT, "{}: column {key} counts {now}, not {count}", ctx.name);
        tokio::time::sleep(POLL).await;
    }
}

/// Drags `card` onto the card list `target` with real pointer moves.
async fn drag(ctx: &Ctx, card: &WebElement, target: &WebElement) {
    card.scroll_into_view().await.unwrap();
    let a = card.rect().await.unwrap();
    let b = target.rect().await.unwrap();
    // From the card's name (its top) to the target list's centre (or a little below its top, if tall).
    let (ax, ay) = (a.x + a.width / 2.0, a.y + 10.0);
    let (bx, by) = (b.x + b.width / 2.0, b.y + (b.height / 2.0).min(40.0));
    let steps = 20;
    let mut chain = ctx
        .driver
        .action_chain_with_delay(None, Some(Duration::from_millis(25)))
        .move_to_element_with_offset(card, 0, (10.0 - a.height / 2.0).round() as i64)
        .click_and_hold()
        // Past SortableJS's tolerance, so that the drag starts.
        .move_by_offset(0, 6)
        .move_by_offset(0, -6);
    let (mut done_x, mut done_y) = (0i64, 0i64);
    for step in 1..=steps {
        let x = ((bx - ax) * f64::from(step) / f64::from(steps)).round() as i64;
        let y = ((by - ay) * f64::from(step) / f64::from(steps)).round() as i64;
        chain = chain.move_by_offset(x - done_x, y - done_y);
        (done_x, done_y) = (x, y);
    }
    chain.move_by_offset(1, 1).move_by_offset(-1, -1).release().perform().await.expect("the drag gestures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_a_deal_to_another_stage_and_to_won() {
    scenario("board-drag", |ctx| async move {
        let (pipeline, deal) = board_with_a_deal(&ctx).await;
        ctx.set_size(WIDE).await;
        let (from, to) = (pipeline.stages[0].id, pipeline.stages[1].id);
        let untouched = ctx.find(&format!("#board-column-{}", pipeline.stages[2].id)).await;
        let source = ctx.find(&format!("#board-column-{from}")).await;

        let card = ctx.find(&format!(".deal-card[data-deal='{}']", deal.id)).await;
        let target = ctx.find(&format!("[data-stage-cards='{to}']")).await;
        drag(&ctx, &card, &target).await;

        // Saved, both headers count afresh, the card is in its new column; no column was redrawn.
        wait_stored_stage(&ctx, deal.id, to).await;
        wait_count(&ctx, &to.to_string(), "1").await;
        wait_count(&ctx, &from.to_string(), "0").await;
        wait_card_in(&ctx, deal.id, &to.to_string()).await;
        let left = ctx.all_now(&format!("[data-stage-cards='{from}'] .deal-card[data-deal='{}']", deal.id)).await;
        assert!(left.is_empty(), "the card is still in the first column");
        assert!(source.is_displayed().await.is_ok(), "the source column was redrawn");
        assert!(untouched.is_displayed().await.is_ok(), "a column the move did not touch was redrawn");
        assert!(ctx.all_now("#board").await.len() == 1, "the board is there once");

        // The card the answer put in takes drags again: on to Won.
        let card = ctx.find(&format!(".deal-card[data-deal='{}']", deal.id)).await;
        let won = ctx.find("[data-stage-cards='won']").await;
        drag(&ctx, &card, &won).await;
        wait_stored(&ctx, deal.id, "won", |d| d.fields.status == DealStatus::Won).await;
        wait_count(&ctx, "won", "1").await;
        wait_card_in(&ctx, deal.id, "won").await;
        ctx.wait_toast("Moved Observatory roof to Won").await;
        ctx.check_console().await;
        ctx.screenshot_at(1440, "board-after-drag").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_a_deal_to_won_from_the_keyboard() {
    scenario("board-keyboard", |ctx| async move {
        let (pipeline, deal) = board_with_a_deal(&ctx).await;
        let card = format!(".deal-card[data-deal='{}']", deal.id);

        // Tab to the card's "Move", open the dialog with Enter (focus on its column choice,
        // the card's own column not offered), pick Won, Enter on the button.
        let link = ctx.find(&format!("{card} a.move")).await;
        link.focus().await.unwrap();
        link.send_keys(Key::Enter).await.unwrap();
        let select = ctx.find("#board-move select[name=target]").await;
        assert!(select.is_displayed().await.unwrap(), "Enter opens the move dialog");
        let state = ctx
            .js(&format!(
                "var s = document.querySelector('#board-move select[name=target]'); \
                 return [document.activeElement === s, s.querySelector('option[value=\"{}\"]').disabled, \
                 document.getElementById('board-move-title').textContent];",
                pipeline.stages[0].id
            ))
            .await;
        assert_eq!(state, serde_json::json!([true, true, "Move Observatory roof"]), "{}: the dialog", ctx.name);
        SelectElement::new(&select).await.unwrap().select_by_value("won").await.unwrap();
        ctx.screenshot_at(1440, "board-move-form").await;
        let button = ctx.find("#board-move button[type=submit]").await;
        button.focus().await.unwrap();
        button.send_keys(Key::Enter).await.unwrap();

        wait_stored(&ctx, deal.id, "won", |d| d.fields.status == DealStatus::Won).await;
        wait_count(&ctx, "won", "1").await;
        wait_card_in(&ctx, deal.id, "won").await;
        assert!(!select.is_displayed().await.unwrap(), "the dialog closes");
        // Focus is back on the moved card, in its new column.
        let started = Instant::now();
        loop {
            let focused = ctx
                .js(&format!(
                    "var a = document.activeElement; return !!(a && a.closest('[data-stage-cards=won] .deal-card[data-deal=\"{}\"]'));",
                    deal.id
                ))
                .await;
            if focused == true {
                break;
            }
            assert!(started.elapsed() < WAIT, "{}: focus did not return to the moved card", ctx.name);
            tokio::time::sleep(POLL).await;
        }

        // And back to a stage with the select and Enter: the deal is open again.
        let lead = pipeline.stages[0].id;
        ctx.find(&format!("{card} a.move")).await.send_keys(Key::Enter).await.unwrap();
        SelectElement::new(&select).await.unwrap().select_by_value(&lead.to_string()).await.unwrap();
        ctx.find("#board-move button[type=submit]").await.send_keys(Key::Enter).await.unwrap();
        wait_stored_stage(&ctx, deal.id, lead).await;
        wait_count(&ctx, &lead.to_string(), "1").await;
        wait_count(&ctx, "won", "0").await;
        wait_card_in(&ctx, deal.id, &lead.to_string()).await;
        ctx.check_console().await;
    })
    .await;
}

/// Sizes of the board's parts at the window's size now.
async fn layout(ctx: &Ctx, lead: StageId) -> serde_json::Value {
    ctx.js(&format!(
        "var board = document.getElementById('board'); \
         var column = document.getElementById('board-column-{lead}'); \
         var header = column.querySelector('header'); \
         column.scrollTop = 1500; \
         var c = column.getBoundingClientRect(), h = header.getBoundingClientRect(), b = board.getBoundingClientRect(); \
         var cards = Array.from(column.querySelectorAll('.deal-card')).map(function (x) {{ return x.getBoundingClientRect().height; }}); \
         board.scrollLeft = board.scrollWidth; \
         var lost = document.getElementById('board-column-lost').getBoundingClientRect(); \
         var out = {{ scrolled: column.scrollTop, headerGap: Math.abs(h.top - c.top - column.clientTop), \
           pageHeight: document.documentElement.scrollHeight, windowHeight: window.innerHeight, \
           windowWidth: window.innerWidth, boardBottom: b.bottom, lostLeft: lost.left, lostRight: lost.right, \
           cardMax: Math.max.apply(null, cards), cardMin: Math.min.apply(null, cards) }}; \
         board.scrollLeft = 0; column.scrollTop = 0; return out;"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_column_scrolls_under_its_header_and_loads_more() {
    scenario("board-long", |ctx| async move {
        let (_, admin) = ctx.app.create_user("Ada Lovelace", "ada@example.com", Role::Admin).await;
        let stages = [("Lead", 10), ("Qualified", 20), ("Demo", 40), ("Proposal", 60), ("Negotiation", 80), ("Closing", 90)];
        let pipeline = ctx.app.create_pipeline(&admin, "Sales", &stages).await;
        let lead = pipeline.stages[0].id;
        let company = ctx.app.create_company(&admin, "Northwind Traders").await;
        let mut created = HashSet::new();
        for n in 0..80 {
            let mut input = ctx.app.create_deal(&admin, &pipeline, &format!("Renewal of the annual plan {n:02}"), 0).await;
            input.fields.owner_id = Some(admin.user_id);
            input.fields.company_id = Some(company.id);
            let deal = ctx.store().update_deal(&admin, input.id, input.fields, None).await.expect("an owner");
            created.insert(deal.id.to_string());
        }
        for (n, stage) in [1, 1, 2, 4, 5].into_iter().enumerate() {
            ctx.app.create_deal(&admin, &pipeline, &format!("Other deal {n}"), stage).await;
        }
        ctx.sign_in_ok("ada@example.com").await;
        ctx.visit(&format!("/pipelines/{}/board", pipeline.id)).await;
        ctx.find("#board").await;

        for (size, label) in [(WIDE, "1440"), (PHONE, "390")] {
            ctx.set_size(size).await;
            let at = layout(&ctx, lead).await;
            let num = |key: &str| at[key].as_f64().unwrap_or(f64::NAN);
            assert!(num("scrolled") > 1000.0, "{label}: the column scrolls on its own: {at}");
            assert!(num("headerGap") < 2.0, "{label}: the column header stays in view when scrolled: {at}");
            assert!(
                num("pageHeight") <= num("windowHeight") * 1.3,
                "{label}: the board makes the page tall: {at}"
            );
            assert!(num("boardBottom") <= num("windowHeight"), "{label}: the sideways scrollbar is below the window: {at}");
            assert!(
                num("lostLeft") >= 0.0 && num("lostRight") <= num("windowWidth"),
                "{label}: the Lost column is out of reach: {at}"
            );
            // About 65 px; on a phone the Move button is a 44 px tap target.
            let tallest = if size == WIDE { 75.0 } else { 100.0 };
            assert!(num("cardMax") <= tallest && num("cardMin") >= 40.0, "{label}: cards are not compact: {at}");
        }
        ctx.set_size(WIDE).await;
        ctx.screenshot_at(1440, "board").await;
        ctx.screenshot_at(390, "board").await;

        // Load more: the next 30 cards join the column, no card twice, and the link is gone.
        let column = format!("#board-column-{lead}");
        assert_eq!(ctx.all_now(&format!("{column} .deal-card")).await.len(), 50);
        let more = ctx.find(&format!("{column} .more a")).await;
        more.scroll_into_view().await.unwrap();
        more.click().await.unwrap();
        let started = Instant::now();
        while ctx.all_now(&format!("{column} .deal-card")).await.len() < 80 {
            assert!(started.elapsed() < WAIT, "{}: Load more did not bring the rest", ctx.name);
            tokio::time::sleep(POLL).await;
        }
        let ids = ctx
            .js(&format!(
                "return Array.from(document.querySelectorAll('{column} .deal-card')).map(function (c) {{ return c.dataset.deal; }});"
            ))
            .await;
        let ids: Vec<String> = serde_json::from_value(ids).unwrap();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), 80, "no card twice");
        assert_eq!(unique, created);
        assert!(ctx.all_now(&format!("{column} .more")).await.is_empty(), "Load more stays after the last page");
        ctx.js(&format!("document.querySelector('{column}').scrollTop = 99999; return null;")).await;
        ctx.screenshot_at(1440, "board-loaded-more").await;
        ctx.check_console().await;
    })
    .await;
}
