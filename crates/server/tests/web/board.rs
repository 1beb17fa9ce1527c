//! The pipeline board over HTTP: each column pages with "Load more" (htmx
//! gets the next cards alone, a plain link the board with that column
//! further on), a move answers the moved card and the touched columns'
//! figures as out-of-band swaps (a refused or overtaken one redraws the
//! columns), the cards share one move dialog and without JavaScript a card's
//! "Move" opens a page with the form, Won and Lost take drops (Lost with an
//! optional reason), and bad input (unknown column, bad cursor, unknown
//! target) is a 400 that says why.

use std::collections::HashSet;

use rapport_domain::records::{DealStatus, Pipeline};
use serde_json::json;

use crate::common::{Backend, TestApp, create_deal, create_sales_pipeline, unescape};

backend_tests!(
    load_more_pages_a_column_without_duplicates,
    bad_columns_and_cursors_are_refused,
    a_move_answers_the_card_and_the_two_headers,
    cards_share_one_move_dialog_and_move_without_javascript,
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

/// The deal ids of the cards a move's answer puts first in column `key`.
fn inserted(html: &str, key: &str) -> Vec<String> {
    html.split(&format!("hx-swap-oob=\"afterbegin:#board-column-{key} .cards\">"))
        .skip(1)
        .flat_map(|rest| card_ids(&rest[..rest.find("</article>").expect("the card ends")]))
        .collect()
}

/// The figures (count and sums) a move's answer gives column `key`, if any.
fn figures<'a>(html: &'a str, key: &str) -> Option<&'a str> {
    let marker = format!("hx-swap-oob=\"innerHTML:#board-column-{key}-figures\">");
    let start = html.find(&marker)? + marker.len();
    let mut depth = 1;
    let mut at = start;
    // To the wrapper's own closing tag: the figures hold a <div> of sums.
    while depth > 0 {
        let open = html[at..].find("<div").map(|i| at + i);
        let close = at + html[at..].find("</div>").expect("the figures end");
        match open {
            Some(open) if open < close => (depth, at) = (depth + 1, open + 4),
            _ => (depth, at) = (depth - 1, close + 6),
        }
    }
    Some(&html[start..at - 6])
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

async fn a_move_answers_the_card_and_the_two_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (lead, proposal, closing) = (pipeline.stages[0].id, pipeline.stages[1].id, pipeline.stages[2].id);
    let euros = |minor: i64| json!({ "amount": { "amount_minor": minor, "currency": "EUR" } });
    let deal = create_deal(&app.admin, &pipeline, "Moving deal", euros(250_000)).await;
    create_deal(&app.admin, &pipeline, "Staying deal", euros(100_000)).await;
    create_deal(
        &app.admin,
        &pipeline,
        "Staying too",
        json!({ "amount": { "amount_minor": 5_000, "currency": "USD" } }),
    )
    .await;
    create_deal(&app.admin, &pipeline, "Proposed deal", json!({ "stage_id": proposal })).await;
    let mut waiting = euros(40_000);
    waiting["stage_id"] = json!(closing);
    create_deal(&app.admin, &pipeline, "Closing deal", waiting).await;
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

    // No column is redrawn: the card leaves wherever it is and goes first in its new column.
    assert!(!moved.text.contains("id=\"board\"") && !moved.text.contains("<section"), "{}", moved.text);
    let taken = format!("hx-swap-oob=\"delete:#board .deal-card[data-deal='{}']\"", deal.id);
    assert_eq!(moved.text.matches(&taken).count(), 1, "the card is not taken out: {}", moved.text);
    assert!(moved.text.find(&taken) < moved.text.find("afterbegin:"), "taken out after it is put in");
    assert_eq!(inserted(&moved.text, &to), vec![deal.id.to_string()], "{}", moved.text);
    assert_eq!(card_ids(&moved.text), vec![deal.id.to_string()], "one card only");
    assert!(moved.text.contains(&format!("data-version=\"{}\"", stored.meta.version)), "the card's new version");
    assert!(moved.text.contains("€2,500.00") && moved.text.contains("/move\""), "the card's amount and Move link");

    // Both headers' figures, fresh: counts and sums per currency; no other column's.
    let source = figures(&moved.text, &from).expect("the source column's figures");
    assert!(source.contains(">2</span>"), "the source's count: {source}");
    assert!(source.contains("€1,000.00") && source.contains("$50.00"), "the source's sums: {source}");
    assert!(!source.contains("€3,500.00"), "the source still counts the moved deal: {source}");
    let target = figures(&moved.text, &to).expect("the target column's figures");
    assert!(target.contains(">2</span>"), "the target's count: {target}");
    assert!(target.contains("€2,900.00") && !target.contains('$'), "the target's sum: {target}");
    assert!(figures(&moved.text, &proposal.to_string()).is_none(), "an untouched column's figures were sent");
    assert_eq!(moved.text.matches("hx-swap-oob=").count(), 4, "{}", moved.text);

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

/// The board has one move dialog, not a form per card; a card's "Move" is a
/// link to a page with the form, which a plain POST sends back to the board.
async fn cards_share_one_move_dialog_and_move_without_javascript(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    for n in 0..3 {
        create_deal(&app.admin, &pipeline, &format!("Deal {n}"), json!({})).await;
    }
    let deal = create_deal(&app.admin, &pipeline, "Walking deal", json!({})).await;
    let web = app.web_admin().await;

    let page = web.get(&board_path(&pipeline)).await.want(200).text;
    assert_eq!(card_ids(&page).len(), 4);
    assert_eq!(page.matches("<dialog id=\"board-move\"").count(), 1, "one move dialog");
    assert_eq!(page.matches("name=\"target\"").count(), 1, "one column choice for the board");
    assert_eq!(page.matches("class=\"move\" href=\"/deals/").count(), 4, "a Move link per card");

    let form = web.get(&format!("/deals/{}/move", deal.id)).await.want(200).text;
    assert!(form.contains("Move Walking deal"), "{form}");
    assert!(form.contains(&format!("action=\"/deals/{}/move\"", deal.id)), "{form}");
    let lead = pipeline.stages[0].id.to_string();
    assert!(form.contains(&format!("<option value=\"{lead}\" disabled>")), "its own column is not a choice: {form}");
    assert!(form.contains("<option value=\"won\">") && form.contains("<option value=\"lost\">"));
    assert!(form.contains(&format!("href=\"{}\"", board_path(&pipeline))), "Cancel goes back to the board");

    let version = deal.meta.version.to_string();
    let proposal = pipeline.stages[1].id.to_string();
    let plain = web
        .post_form(
            &format!("/deals/{}/move", deal.id),
            &[("target", &proposal), ("from", &lead), ("version", &version)],
        )
        .await;
    assert_eq!(plain.status, 303, "{}", plain.text);
    assert_eq!(plain.header("location").as_deref(), Some(board_path(&pipeline).as_str()));
    assert_eq!(app.store.get_deal(deal.id).await.unwrap().fields.stage_id, pipeline.stages[1].id);
    web.get(&format!("/deals/{}/move", uuid::Uuid::new_v4())).await.want(404);
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
    assert_eq!(inserted(&won.text, "won"), vec![winner.id.to_string()]);
    assert!(figures(&won.text, "won").is_some_and(|f| f.contains("€1,000.00")), "the Won total");
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
    assert_eq!(inserted(&dropped.text, "lost"), vec![quiet.id.to_string()]);
    assert!(figures(&dropped.text, "lost").is_some_and(|f| f.contains(">2</span>")), "{}", dropped.text);

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
