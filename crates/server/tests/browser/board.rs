//! The pipeline board: a deal moves to another stage by dragging its card
//! (SortableJS in fallback mode, driven by real pointer events) or through
//! the stage menu on the card, and the move is saved.
//!
//! DOM contract: `#board`; each column's card list has
//! `data-stage-cards="<stage uuid>"`; cards are `.deal-card[data-deal="<deal uuid>"]`
//! holding a `select[name=target]`.

use std::time::{Duration, Instant};

use rapport_domain::access::Role;
use rapport_domain::records::{Deal, Pipeline};
use rapport_domain::{DealId, StageId};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use super::harness::{Ctx, POLL, WAIT, scenario};

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

/// Waits until the store has the deal in `stage`.
async fn wait_stored_stage(ctx: &Ctx, deal: DealId, stage: StageId) {
    let started = Instant::now();
    loop {
        let now = ctx.store().get_deal(deal).await.unwrap();
        if now.fields.stage_id == stage {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "{}: after {WAIT:?} the store still has the deal in stage {:?}, not {stage:?}",
            ctx.name,
            now.fields.stage_id
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the card sits in the column of `stage` (after the swap) and nowhere else.
async fn wait_card_in(ctx: &Ctx, deal: DealId, stage: StageId) {
    ctx.find(&format!("#board [data-stage-cards='{stage}'] .deal-card[data-deal='{deal}']")).await;
    let copies = ctx.all_now(&format!(".deal-card[data-deal='{deal}']")).await.len();
    assert_eq!(copies, 1, "{}: the card is shown {copies} times", ctx.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_a_deal_to_another_stage() {
    scenario("board-drag", |ctx| async move {
        let (pipeline, deal) = board_with_a_deal(&ctx).await;
        ctx.screenshots("board").await;
        let (from, to) = (pipeline.stages[0].id, pipeline.stages[1].id);

        let board = ctx.find("#board").await;
        let card = ctx.find(&format!(".deal-card[data-deal='{}']", deal.id)).await;
        let target = ctx.find(&format!("[data-stage-cards='{to}']")).await;
        card.scroll_into_view().await.unwrap();
        let a = card.rect().await.unwrap();
        let b = target.rect().await.unwrap();
        // From the card's centre to the target list's centre (or a little below its top, if tall).
        let (ax, ay) = (a.x + a.width / 2.0, a.y + a.height / 2.0);
        let (bx, by) = (b.x + b.width / 2.0, b.y + (b.height / 2.0).min(40.0));
        let steps = 20;
        let mut chain = ctx
            .driver
            .action_chain_with_delay(None, Some(Duration::from_millis(25)))
            .move_to_element_center(&card)
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

        // Saved, and the board swapped in again with the card in its new column.
        wait_stored_stage(&ctx, deal.id, to).await;
        board.wait_until().wait(WAIT, POLL).stale().await.expect("the board is swapped after the move");
        wait_card_in(&ctx, deal.id, to).await;
        let left = ctx.all_now(&format!("[data-stage-cards='{from}'] .deal-card[data-deal='{}']", deal.id)).await;
        assert!(left.is_empty(), "the card is still in the first column");
        ctx.check_console().await;
        ctx.screenshots("board-after-drag").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_a_deal_with_the_stage_menu() {
    scenario("board-select", |ctx| async move {
        let (pipeline, deal) = board_with_a_deal(&ctx).await;
        let to = pipeline.stages[2].id;

        let select = ctx.find(&format!(".deal-card[data-deal='{}'] select[name=target]", deal.id)).await;
        SelectElement::new(&select).await.unwrap().select_by_value(&to.to_string()).await.unwrap();

        wait_stored_stage(&ctx, deal.id, to).await;
        wait_card_in(&ctx, deal.id, to).await;
        ctx.check_console().await;
        ctx.screenshots("board-after-select").await;
    })
    .await;
}
