//! The sales dashboard page: its figures, and each number one click from
//! the deals (or tasks) behind it; a bad period named.

use rapport_domain::Role;
use serde_json::json;

use crate::common::{Backend, TestApp, create_deal, create_person_with, create_sales_pipeline, create_task, unescape};

backend_tests!(the_sales_page_shows_the_figures_and_leads_to_the_deals_behind_them);

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
