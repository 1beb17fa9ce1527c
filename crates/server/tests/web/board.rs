//! The pipeline board over HTTP: each column pages with "Load more" (htmx
//! gets the next cards alone, a plain link the board with that column
//! further on), a move answers only the columns it touched as out-of-band
//! swaps, Won and Lost take drops (Lost with an optional reason), and bad
//! input (unknown column, bad cursor, unknown target) is a 400 that says why.

use std::collections::HashSet;

use rapport_domain::records::{DealStatus, Pipeline};
use serde_json::json;

use crate::common::{Backend, TestApp, create_deal, create_sales_pipeline, unescape};

backend_tests!(
    load_more_pages_a_column_without_duplicates,
    bad_columns_and_cursors_are_refused,
    a_move_answers_only_the_columns_it_touched,
    deals_are_dropped_on_won_and_lost,
    the_deals_list_shows_a_closed_deal_s_outcome_as_its_stage
);

/// The deal ids on cards in `html`, in order.
fn card_ids(html: &str) -> Vec<String> {
    html.split("class=\"deal-card\" data-deal=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("the id ends")].to_owned())
        .collect()
}

/// The `<section>` of a column in a board page or answer.
fn column<'a>(html: &'a str, key: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"board-column-{key}\"")).unwrap_or_else(|| panic!("no column {key}"));
    let end = start + html[start..].find("</section>").expect("the section ends");
    &html[start..end]
}

/// The htmx address of a column's "Load more", if it has one.
fn more_hx(html: &str) -> Option<String> {
    let at = html.find("hx-get=\"")? + "hx-get=\"".len();
    Some(unescape(&html[at..at + html[at..].find('"')?]))
}

fn board_path(pipeline: &Pipeline) -> String {
    format!("/pipelines/{}/board", pipeline.id)
}

async fn load_more_pages_a_column_without_duplicates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let lead = pipeline.stages[0].id.to_string();
    let mut created = HashSet::new();
    for n in 0..120 {
        created.insert(create_deal(&app.admin, &pipeline, &format!("Deal {n:03}"), json!({})).await.id.to_string());
    }
    let web = app.web_admin().await;

    let page = web.get(&board_path(&pipeline)).await.want(200);
    let first = column(&page.text, &lead);
    assert!(first.contains(">120</span>"), "the header counts every deal: {first}");
    let mut seen = card_ids(first);
    assert_eq!(seen.len(), 50, "the first page of a column");

    // htmx: the next cards alone, with their own "Load more", until the last page.
    let mut next = more_hx(first).expect("a Load more");
    let mut pages = 1;
    loop {
        let more = web.htmx_get(&next).await.want(200);
        assert!(!more.text.contains("<section") && !more.text.contains("<html"), "only cards: {}", more.text);
        seen.extend(card_ids(&more.text));
        pages += 1;
        match more_hx(&more.text) {
            Some(href) => next = href,
            None => break,
        }
    }
    assert_eq!(pages, 3, "120 deals are 3 pages of 50");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 120, "every deal once: {} cards shown", seen.len());
    assert_eq!(unique, created, "the pages hold exactly the column's deals");

    // Without htmx, the link opens the board with that column further on.
    let plain = more_hx(first).unwrap();
    let later = web.get(&plain).await.want(200);
    let later_column = column(&later.text, &lead);
    assert!(later_column.contains("Back to the latest"), "{later_column}");
    let later_ids = card_ids(later_column);
    assert_eq!(later_ids.len(), 50);
    assert!(later_ids.iter().all(|id| !card_ids(first).contains(id)), "the second page repeats the first");
    // The other columns still start at their start.
    assert!(!column(&later.text, "won").contains("Back to the latest"));
}

async fn bad_columns_and_cursors_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let deal = create_deal(&app.admin, &pipeline, "Solo", json!({})).await;
    let web = app.web_admin().await;
    let lead = pipeline.stages[0].id;
    let board = board_path(&pipeline);

    let unknown = web.get(&format!("{board}?column=nowhere&cursor=abc")).await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
    assert!(unknown.text.contains("no column"), "{}", unknown.text);
    let foreign = web.get(&format!("{board}?column={}", uuid::Uuid::new_v4())).await;
    assert_eq!(foreign.status, 400, "{}", foreign.text);
    let cursor_alone = web.htmx_get(&format!("{board}?cursor=abc")).await;
    assert_eq!(cursor_alone.status, 400, "{}", cursor_alone.text);
    for cursor in ["abc", "%00%01", "eyJ2IjoxfQ"] {
        for answer in [
            web.get(&format!("{board}?column={lead}&cursor={cursor}")).await,
            web.htmx_get(&format!("{board}?column={lead}&cursor={cursor}")).await,
        ] {
            assert!((400..500).contains(&answer.status), "{} answered {}: {}", answer.what, answer.status, answer.text);
            assert!(unescape(&answer.text).contains("cursor"), "the answer says what was wrong: {}", answer.text);
        }
    }

    // A move to nowhere is refused and says why; the deal stays.
    let version = deal.meta.version.to_string();
    for target in ["", "nowhere", &uuid::Uuid::new_v4().to_string()] {
        let moved =
            web.htmx_post(&format!("/deals/{}/move", deal.id), &[("target", target), ("version", &version)]).await;
        assert_eq!(moved.status, 400, "{}", moved.text);
        let toast = moved.header("hx-trigger").unwrap_or_default();
        assert!(toast.contains("rapport-toast"), "no toast: {toast:?}");
        let plain =
            web.post_form(&format!("/deals/{}/move", deal.id), &[("target", target), ("version", &version)]).await;
        assert_eq!(plain.status, 400, "{}", plain.text);
    }
    assert_eq!(app.store.get_deal(deal.id).await.unwrap().meta.version, deal.meta.version);
}

async fn a_move_answers_only_the_columns_it_touched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (lead, proposal, closing) = (pipeline.stages[0].id, pipeline.stages[1].id, pipeline.stages[2].id);
    let deal = create_deal(&app.admin, &pipeline, "Moving deal", json!({})).await;
    create_deal(&app.admin, &pipeline, "Staying deal", json!({})).await;
    create_deal(&app.admin, &pipeline, "Proposed deal", json!({ "stage_id": proposal })).await;
    let web = app.web_admin().await;

    let version = deal.meta.version.to_string();
    let (from, to) = (lead.to_string(), closing.to_string());
    let moved = web
        .htmx_post(&format!("/deals/{}/move", deal.id), &[("target", &to), ("from", &from), ("version", &version)])
        .await
        .want(200);
    let toast = moved.header("hx-trigger").unwrap_or_default();
    assert!(toast.contains("Moved Moving deal to Closing"), "{toast}");
    let stored = app.store.get_deal(deal.id).await.unwrap();
    assert_eq!(stored.fields.stage_id, closing);

    // Just the two columns, each an out-of-band swap, not the board.
    assert!(!moved.text.contains("id=\"board\""), "the whole board came back");
    assert_eq!(moved.text.matches("<section ").count(), 2, "{}", moved.text);
    assert_eq!(moved.text.matches("hx-swap-oob=\"outerHTML\"").count(), 2);
    assert!(!moved.text.contains(&format!("board-column-{proposal}")), "an untouched column was sent");
    let source = column(&moved.text, &from);
    assert_eq!(card_ids(source).len(), 1, "the source keeps the other deal");
    assert!(source.contains("Staying deal") && !source.contains("Moving deal"));
    let target = column(&moved.text, &to);
    assert_eq!(card_ids(target), vec![deal.id.to_string()]);
    assert!(target.contains(">1</span>"), "the target's count is fresh: {target}");

    // A stale move (someone else moved it meanwhile) redraws where the page had it,
    // where it was dropped, and where it really is.
    let stale = web
        .htmx_post(
            &format!("/deals/{}/move", deal.id),
            &[("target", &proposal.to_string()), ("from", &from), ("version", &version)],
        )
        .await
        .want(200);
    let toast = stale.header("hx-trigger").unwrap_or_default();
    assert!(toast.contains("someone else"), "{toast}");
    assert_eq!(stale.text.matches("<section ").count(), 3, "{}", stale.text);
    assert!(card_ids(column(&stale.text, &to)).contains(&deal.id.to_string()), "the truth is shown");
    assert_eq!(app.store.get_deal(deal.id).await.unwrap().fields.stage_id, closing);
}

async fn deals_are_dropped_on_won_and_lost(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let lead = pipeline.stages[0].id.to_string();
    let winner = create_deal(&app.admin, &pipeline, "Winner", json!({})).await;
    let loser = create_deal(&app.admin, &pipeline, "Loser", json!({})).await;
    let quiet = create_deal(&app.admin, &pipeline, "Quiet loss", json!({})).await;
    let web = app.web_admin().await;

    let page = web.get(&board_path(&pipeline)).await.want(200);
    assert!(page.text.contains("data-stage-cards=\"won\"") && page.text.contains("data-stage-cards=\"lost\""));

    let won = web
        .htmx_post(
            &format!("/deals/{}/move", winner.id),
            &[("target", "won"), ("from", &lead), ("version", &winner.meta.version.to_string())],
        )
        .await
        .want(200);
    assert_eq!(app.store.get_deal(winner.id).await.unwrap().fields.status, DealStatus::Won);
    assert_eq!(card_ids(column(&won.text, "won")), vec![winner.id.to_string()]);
    assert!(column(&won.text, "won").contains("€1,000.00"), "the Won total");
    assert!(!won.text.contains("board-column-lost"));

    // Lost with a reason from the card's Move form; a drag sends none, which the model allows.
    web.htmx_post(
        &format!("/deals/{}/move", loser.id),
        &[
            ("target", "lost"),
            ("from", &lead),
            ("version", &loser.meta.version.to_string()),
            ("lost_reason", "Too dear"),
        ],
    )
    .await
    .want(200);
    let lost = app.store.get_deal(loser.id).await.unwrap();
    assert_eq!(lost.fields.status, DealStatus::Lost);
    assert_eq!(lost.fields.lost_reason.map(|r| r.to_string()).as_deref(), Some("Too dear"));
    let dropped = web
        .htmx_post(
            &format!("/deals/{}/move", quiet.id),
            &[("target", "lost"), ("from", &lead), ("version", &quiet.meta.version.to_string())],
        )
        .await
        .want(200);
    assert_eq!(app.store.get_deal(quiet.id).await.unwrap().fields.status, DealStatus::Lost);
    assert_eq!(card_ids(column(&dropped.text, "lost")).len(), 2);

    // Back from Won to a stage reopens the deal; a plain form is sent back to the board.
    let version = app.store.get_deal(winner.id).await.unwrap().meta.version.to_string();
    let back = web.post_form(&format!("/deals/{}/move", winner.id), &[("target", &lead), ("version", &version)]).await;
    assert_eq!(back.status, 303, "{}", back.text);
    assert_eq!(back.header("location").as_deref(), Some(board_path(&pipeline).as_str()));
    assert_eq!(app.store.get_deal(winner.id).await.unwrap().fields.status, DealStatus::Open);
}

/// On the deals list a won or lost deal is in the Won or Lost "stage", as on
/// the board, not in the stage it was closed from.
async fn the_deals_list_shows_a_closed_deal_s_outcome_as_its_stage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let open = create_deal(&app.admin, &pipeline, "Still open", json!({})).await;
    let won = create_deal(&app.admin, &pipeline, "Signed", json!({ "status": "won" })).await;
    assert_eq!(won.fields.status, DealStatus::Won);
    let web = app.web_admin().await;
    let page = web.get("/deals?cols=name,stage").await.want(200).text;
    let row = |name: &str| -> String {
        let at = page.find(&format!(">{name}</a>")).unwrap_or_else(|| panic!("no {name} in {page}"));
        page[at..at + page[at..].find("</tr>").expect("the row ends")].to_owned()
    };
    let first_stage = pipeline.stages[0].name.to_string();
    assert!(row("Still open").contains(&first_stage), "{}", row("Still open"));
    assert!(row("Signed").contains("Won"), "{}", row("Signed"));
    assert!(!row("Signed").contains(&first_stage), "a won deal shows its old stage: {}", row("Signed"));
    assert_eq!(open.fields.status, DealStatus::Open);
}
