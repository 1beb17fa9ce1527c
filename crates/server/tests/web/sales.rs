//! The sales dashboard page: its figures, and each number one click from
//! the deals (or tasks) behind it; a bad period named.

use rapport_domain::Role;
use serde_json::json;

use crate::common::{
    Backend, TestApp, create_activity, create_deal, create_person_with, create_sales_pipeline, create_task, unescape,
};

backend_tests!(
    the_sales_page_shows_the_figures_and_leads_to_the_deals_behind_them,
    every_count_on_the_sales_page_leads_to_a_list_of_exactly_that_many
);

/// The address of the first link in `html` showing `text` (as its text, or a bar's value).
fn href_of(html: &str, text: &str) -> String {
    let at = html.find(&format!(">{text}</")).unwrap_or_else(|| panic!("a link {text:?} in {html}"));
    let start = html[..at].rfind("href=\"").expect("a link") + 6;
    unescape(html[start..].split('"').next().unwrap())
}

/// The table with this id, up to its end.
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("the table {id}"));
    let rest = &html[start..];
    &rest[..rest.find("</table>").expect("the table's end")]
}

async fn the_sales_page_shows_the_figures_and_leads_to_the_deals_behind_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (agent, _) = app.create_user(Role::Agent, None).await;
    let referred = create_person_with(&app.admin, json!({ "first_name": "Ada", "source": "Trade fair" })).await;
    let owned = |status: &str| json!({ "status": status, "owner_id": agent.id, "person_id": referred.id });
    create_deal(&app.admin, &pipeline, "Big win", owned("won")).await;
    create_deal(&app.admin, &pipeline, "Small win", owned("won")).await;
    create_deal(&app.admin, &pipeline, "Near miss", owned("lost")).await;
    create_deal(&app.admin, &pipeline, "Someone else's", json!({ "status": "won" })).await;
    let today = time::OffsetDateTime::now_utc().date();
    create_deal(
        &app.admin,
        &pipeline,
        "Coming up",
        json!({ "stage_id": pipeline.stages[2].id, "expected_close": today.to_string() }),
    )
    .await;
    let task = create_task(&app.admin, json!({ "title": "Send the contract", "assignee_id": agent.id })).await;
    app.admin.patch(&format!("/api/v1/tasks/{}", task.id), &json!({ "done": true })).await.want(200);

    let web = app.web_admin().await;
    let home = web.get("/").await.want(200);
    assert!(home.text.contains("<a href=\"/sales\""), "the navigation has Sales");
    let page = web.get("/sales").await.want(200);
    assert!(page.text.contains("<strong>75%</strong>"), "3 won of 4 closed");
    assert!(page.text.contains("Win rate: of the deals closed in this period, the share that was won."));

    // The agent's row: 2 won, 1 lost, 67%; "2" leads to exactly their won deals.
    let owners = table(&page.text, "sales-owner");
    let row = &owners[owners.find(agent.fields.name.as_str()).expect("the agent's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("67%"), "{row}");
    let won = web.get(&href_of(row, "2")).await.want(200);
    assert!(won.text.contains("Big win") && won.text.contains("Small win"), "the won deals are listed");
    assert!(!won.text.contains("Near miss") && !won.text.contains("Someone else"), "only the agent's won deals");
    let lost = web.get(&href_of(row, "1")).await.want(200);
    assert!(lost.text.contains("Near miss") && !lost.text.contains("Big win"));

    // By source: the trade fair's three deals.
    let sources = table(&page.text, "sales-source");
    let row = &sources[sources.find("Trade fair").expect("the source's row")..];
    let rate = web.get(&href_of(row, "67%")).await.want(200);
    for name in ["Big win", "Small win", "Near miss"] {
        assert!(rate.text.contains(name), "{name} came from the trade fair");
    }
    assert!(!rate.text.contains("Someone else"), "that deal's person has no source");

    // The forecast: 1,000.00 EUR in Closing (90%) this month, weighted 900.00.
    let forecast = table(&page.text, "sales-forecast");
    assert!(forecast.contains("900.00"), "{forecast}");
    let open = web.get(&href_of(forecast, "1")).await.want(200);
    assert!(open.text.contains("Coming up") && !open.text.contains("Big win"));

    // Activity: the agent's done task leads to the tasks list.
    let activity = table(&page.text, "sales-activity");
    let row = &activity[activity.find(agent.fields.name.as_str()).expect("the agent's activity")..];
    let tasks = web.get(&href_of(row, "1")).await.want(200);
    assert!(tasks.text.contains("Send the contract"));

    // Another period, and a bad one.
    let past = web.get("/sales?from=2020-01-01&to=2020-01-31").await.want(200);
    assert!(past.text.contains("no closed deals") && past.text.contains("No closed deals in this period."));
    let bad = web.get("/sales?from=2026-12-02&to=2026-12-01").await.want(400);
    assert!(bad.text.contains("must not be after to"), "{}", bad.text);
}

/// Every link in `html` whose text is a count: (its address, the count).
fn counted_links(html: &str) -> Vec<(String, u64)> {
    html.split("<a href=\"")
        .skip(1)
        .filter_map(|rest| {
            let (href, after) = rest.split_once('"')?;
            let text = after.strip_prefix('>')?.split('<').next()?;
            let count = text.replace(',', "").parse::<u64>().ok()?;
            Some((unescape(href), count))
        })
        .collect()
}

/// The "12 deals" a list page says it holds (asked with `count=true`, as without JavaScript).
fn list_count(html: &str) -> u64 {
    let marker = "<p class=\"list-count\">";
    let at = html.find(marker).expect("the list's count") + marker.len();
    html[at..].split(' ').next().unwrap().replace(',', "").parse().expect("a count")
}

async fn every_count_on_the_sales_page_leads_to_a_list_of_exactly_that_many(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pipeline = create_sales_pipeline(&app.admin).await;
    let (lead, proposal) = (pipeline.stages[0].id, pipeline.stages[1].id);
    let (agent, agent_api) = app.create_user(Role::Agent, None).await;
    let fair = create_person_with(&app.admin, json!({ "first_name": "Ada", "source": "Trade fair" })).await;
    let walk_in = create_person_with(&app.admin, json!({ "first_name": "Bo" })).await;
    let today = time::OffsetDateTime::now_utc().date();
    // The agent's deal moves Lead → Proposal and is won; two deals nobody owns
    // close from Lead (one with no person, one whose person has no source);
    // two stay open, one with no expected close.
    let moved =
        create_deal(&app.admin, &pipeline, "Moved", json!({ "owner_id": agent.id, "person_id": fair.id })).await;
    app.admin.patch(&format!("/api/v1/deals/{}", moved.id), &json!({ "stage_id": proposal })).await.want(200);
    app.admin.patch(&format!("/api/v1/deals/{}", moved.id), &json!({ "status": "won" })).await.want(200);
    create_deal(&app.admin, &pipeline, "Lost alone", json!({ "status": "lost" })).await;
    create_deal(&app.admin, &pipeline, "Won walk-in", json!({ "status": "won", "person_id": walk_in.id })).await;
    create_deal(&app.admin, &pipeline, "Dated", json!({ "expected_close": today.to_string() })).await;
    create_deal(&app.admin, &pipeline, "Undated", json!({ "stage_id": proposal })).await;
    for kind in ["call", "call", "email", "message"] {
        create_activity(&agent_api, json!({ "kind": kind, "subject": "Hello", "person_id": fair.id })).await;
    }
    create_activity(&app.admin, json!({ "kind": "meeting", "subject": "Visit", "person_id": walk_in.id })).await;
    create_activity(&app.admin, json!({ "kind": "note", "body": "Likes blue", "person_id": walk_in.id })).await;
    for (title, assignee) in [("Send", agent.id), ("Call back", agent.id), ("Chase", app.admin_user.id)] {
        let task = create_task(&app.admin, json!({ "title": title, "assignee_id": assignee })).await;
        app.admin.patch(&format!("/api/v1/tasks/{}", task.id), &json!({ "done": true })).await.want(200);
    }
    // Not counted: a task still open, and an activity long before the period.
    create_task(&app.admin, json!({ "title": "Later", "assignee_id": agent.id })).await;
    create_activity(
        &agent_api,
        json!({ "kind": "call", "subject": "Old", "occurred_at": "2020-01-05T10:00:00Z", "person_id": fair.id }),
    )
    .await;

    let web = app.web_admin().await;
    let page = web.get("/sales").await.want(200);
    let tables = &page.text[page.text.find("id=\"sales-summary\"").expect("the summary")..];
    let links = counted_links(tables);
    // Every kind of drill-down is among them, so none is left untested.
    for wanted in [
        "has_owner=false",
        "has_source=false",
        "reached_stage_id=",
        "has_expected_close=false",
        "/activities?",
        "kind=call",
        "/tasks?",
        "done_from=",
    ] {
        assert!(links.iter().any(|(href, _)| href.contains(wanted)), "no link with {wanted}: {links:?}");
    }
    for (href, shown) in &links {
        let list = web.get(&format!("{href}&count=true")).await.want(200);
        assert_eq!(list_count(&list.text), *shown, "{href} lists another number than the page shows");
    }
    // The figures themselves, so that equal counts are the right ones.
    let shown = |href_part: &str| links.iter().find(|(href, _)| href.contains(href_part)).map(|(_, n)| *n);
    assert_eq!(shown(&format!("reached_stage_id={lead}")), Some(3), "every closed deal began in Lead");
    assert_eq!(shown(&format!("reached_stage_id={proposal}")), Some(1), "only the moved one reached Proposal");
    assert_eq!(shown(&format!("staff_id={}&kind=call", agent.id)), Some(2), "the agent's two calls in the period");
    assert_eq!(shown(&format!("assignee_id={}", agent.id)), Some(2), "the agent's two done tasks");
    assert_eq!(shown("has_expected_close=false"), Some(1));
    let reached = web.get(&format!("/deals?reached_stage_id={proposal}&closed_from={today}&closed_to={today}")).await;
    assert!(reached.text.contains("Moved") && !reached.text.contains("Lost alone"), "only the moved deal");

    // The deals list shows the filters a drill-down set, open under "More filters".
    let no_owner = links.iter().find(|(href, _)| href.contains("has_owner=false")).unwrap();
    let list = web.get(&no_owner.0).await.want(200);
    assert!(list.text.contains("<details class=\"more-filters\" open>"), "the filters show");
    assert!(list.text.contains("More filters (3 set)"), "closed from, closed to, no owner");
    assert!(list.text.contains(&format!("name=\"closed_to\" type=\"date\" value=\"{today}\"")));
    assert!(list.text.contains("<option value=\"false\" selected>No</option>"), "Has an owner: No");
    let plain = web.get("/deals").await.want(200);
    assert!(plain.text.contains("<details class=\"more-filters\">"), "closed when none is set");

    // The activities list: the period's activities, whose staff member and kind show.
    let calls = links.iter().find(|(href, _)| href.contains("kind=call")).unwrap();
    let list = web.get(&calls.0).await.want(200);
    assert!(list.text.contains(agent.fields.name.as_str()) && !list.text.contains(">Old<"), "{}", list.text);
    web.get("/activities?occurred_from=someday").await.want(400);
}
