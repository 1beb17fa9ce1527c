//! The goals page: a goal set through the form reads back with its status;
//! a bad goal shows the form again with its errors and writes nothing; the
//! form offers only the scopes the viewer may set; removing takes the goal.

use rapport_domain::Role;
use time::{Duration, OffsetDateTime};

use crate::common::{Backend, TestApp, unescape};

backend_tests!(a_goal_set_in_the_form_reads_back_and_goes, the_review_page_prints_the_month);

fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc() + Duration::days(days)).date().to_string()
}

async fn a_goal_set_in_the_form_reads_back_and_goes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let care = app.create_team("Care").await;
    let web = app.web_admin().await;
    let empty = web.get("/style/goals").await.want(200);
    assert!(empty.text.contains("No goal yet."), "{}", empty.text);
    assert!(empty.text.contains("<option value=\"business\">The business</option>"));
    assert!(empty.text.contains(&format!("<option value=\"team:{}\">Team Care</option>", care.id)));

    let due = in_days(40);
    let bad = web
        .post_form(
            "/style/goals",
            &[
                ("figure", "tasks_on_time"),
                ("scope", "business"),
                ("comparison", "natural"),
                ("target", "150"),
                ("due_on", &due),
            ],
        )
        .await
        .want(422);
    assert!(bad.text.contains("target: must be between 0 and 100 for Tasks done on time"), "{}", bad.text);
    assert!(bad.text.contains("value=\"150\""), "the form keeps what was typed");
    assert!(web.get("/style/goals").await.want(200).text.contains("No goal yet."), "nothing was written");

    web.post_form(
        "/style/goals",
        &[
            ("figure", "tasks_on_time"),
            ("scope", "business"),
            ("comparison", "natural"),
            ("target", "80"),
            ("due_on", &due),
            ("note", "Every promise kept"),
        ],
    )
    .await
    .want(303);
    let page = web.get("/style/goals").await.want(200);
    let table = unescape(&page.text[page.text.find("id=\"goals\"").expect("the goals table")..]);
    assert!(table.contains(&format!("Tasks done on time ≥ 80 by {due}")), "{table}");
    assert!(table.contains("Every promise kept") && table.contains("The business"), "{table}");
    assert!(table.contains("Not enough data yet"), "no task fell due: {table}");

    // An agent sees the business's goal but may set only their own, and not remove the business's.
    let (agent, agent_web) = app.web_user(Role::Agent, Some(care.id)).await;
    let theirs = agent_web.get("/style/goals").await.want(200);
    assert!(theirs.text.contains(&format!("<option value=\"user:{}\">", agent.id)), "their own");
    assert!(!theirs.text.contains("value=\"business\""), "not the business");
    assert!(!theirs.text.contains(&format!("value=\"team:{}\"", care.id)), "not the team");
    assert!(!theirs.text.contains("/delete\""), "nothing of theirs to remove");

    let id_at = page.text.find("/style/goals/").expect("a remove form") + "/style/goals/".len();
    let id = &page.text[id_at..id_at + 36];
    agent_web.post_form(&format!("/style/goals/{id}/delete"), &[]).await.want(403);
    web.post_form(&format!("/style/goals/{id}/delete"), &[]).await.want(303);
    assert!(web.get("/style/goals").await.want(200).text.contains("No goal yet."));
}

async fn the_review_page_prints_the_month(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let page = web.get("/style/review?month=2026-10").await.want(200);
    let text = unescape(&page.text);
    assert!(text.contains("Style review, 2026-10: The business"), "{text}");
    for section in
        ["What improved", "What got worse", "Goals", "Customers won back and lost", "Most-mentioned feedback themes"]
    {
        assert!(text.contains(section), "{section}");
    }
    assert!(text.contains("data-print"), "a print button");
    assert!(text.contains("href=\"/style/review?month=2026-09\""), "the month before");
    let bad = web.get("/style/review?month=october").await;
    assert!(bad.status == 400 || bad.status == 422, "{}", bad.status);
    let css = web.get("/assets/app.css").await.want(200);
    assert!(css.text.contains("@media print"), "a print stylesheet");
}
