//! Acting on feedback themes from the dashboard: an admin renames and pins
//! a theme and lets the grouping decide again; a manager writes a "you
//! said, we did" note that the dashboard and the API show; an agent may do
//! neither. The dashboard's charts are SVG images of its period.

use rapport_domain::Role;
use rapport_domain::surveys::{SurveyInput, ThemeNote};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person_with, hidden_value};

backend_tests!(themes_are_renamed_pinned_and_noted_from_the_dashboard, the_dashboard_draws_its_charts_as_svg);

async fn themes_are_renamed_pinned_and_noted_from_the_dashboard(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let templates = app.admin.get("/api/v1/survey-templates").await.want(200).value();
    let nps: SurveyInput = serde_json::from_value(templates["items"][0].clone()).unwrap();
    let survey = app.admin.post("/api/v1/surveys", &serde_json::to_value(nps).unwrap()).await.want(201).value();
    let comments = ["Late delivery again", "The late delivery ruined it", "Another late delivery, sadly"];
    for (i, why) in comments.iter().enumerate() {
        let person = create_person_with(&app.admin, json!({ "first_name": format!("Customer {i}") })).await;
        let answer =
            json!({ "survey_id": survey["id"], "person_id": person.id, "answers": { "score": 3, "why": why } });
        app.admin.post("/api/v1/answers", &answer).await.want(201);
    }

    let web = app.web_admin().await;
    let page = web.get("/feedback").await.want(200);
    let themes = &page.text[page.text.find("id=\"feedback-themes\"").expect("the themes table")..];
    assert!(themes.contains(">late delivery"), "{themes}");
    let key = hidden_value(themes, "key").expect("the theme's key in its form");
    // The second table groups as asked, and keeps the period in its links.
    assert!(page.text.contains("<h2 id=\"feedback-groups-heading\">By staff member</h2>"));
    let by_stage = web.get("/feedback?by=stage").await.want(200);
    assert!(by_stage.text.contains("<h2 id=\"feedback-groups-heading\">By lifecycle stage</h2>"));
    assert!(by_stage.text.contains("&amp;by=segment\">segment</a>"), "a link to each other grouping");
    let bad = web.get("/feedback?by=weekday").await.want(400);
    assert!(bad.text.contains("by: must be one of"), "{}", bad.text);

    web.post_form(
        "/feedback/themes",
        &[("back", "/feedback?survey_id="), ("key", &key), ("name", "Slow shipping"), ("pinned", "true")],
    )
    .await
    .want(303);
    let rules = app.admin.get("/api/v1/feedback/theme-rules").await.want(200).value();
    assert_eq!(rules["items"], json!([{ "phrase": key, "theme": "Slow shipping", "pinned": true }]));
    let page = web.get("/feedback").await.want(200);
    assert!(page.text.contains("Slow shipping <span class=\"badge\">Pinned</span>"), "renamed and pinned");
    // A form pointed elsewhere still comes back to the dashboard.
    let away = web.post_form("/feedback/themes/reset", &[("back", "https://evil.example/"), ("key", &key)]).await;
    assert_eq!(away.want(303).header("location").as_deref(), Some("/feedback"));
    let rules = app.admin.get("/api/v1/feedback/theme-rules").await.want(200).value();
    assert_eq!(rules["items"], json!([]), "the grouping decides again");

    let (_, manager) = app.web_user(Role::Manager, None).await;
    manager
        .post_form(
            "/feedback/notes",
            &[("back", "/feedback"), ("theme", "late delivery"), ("body", "We <b>moved</b> to a faster courier.")],
        )
        .await
        .want(303);
    manager.post_form("/feedback/notes", &[("theme", "late delivery"), ("body", "  ")]).await.want(400);
    let notes: Vec<ThemeNote> = serde_json::from_value(
        app.admin.get("/api/v1/feedback/theme-notes?theme=LATE%20DELIVERY").await.want(200).value()["items"].clone(),
    )
    .unwrap();
    assert_eq!(notes.len(), 1, "one note, found without case");
    let page = web.get("/feedback").await.want(200);
    let section = &page.text[page.text.find("id=\"feedback-notes\"").expect("the notes")..];
    assert!(section.contains("We &#60;b&#62;moved&#60;/b&#62; to a faster courier."), "escaped: {section}");

    let (_, agent) = app.web_user(Role::Agent, None).await;
    agent.post_form("/feedback/notes", &[("theme", "late delivery"), ("body", "Mine")]).await.want(403);
    agent.post_form("/feedback/themes", &[("key", &key), ("name", "Mine")]).await.want(403);
    agent.post_form(&format!("/feedback/notes/{}/delete", notes[0].id), &[]).await.want(403);
    web.post_form(&format!("/feedback/notes/{}/delete", notes[0].id), &[]).await.want(303);
    let left = app.admin.get("/api/v1/feedback/theme-notes").await.want(200).value();
    assert_eq!(left["items"], json!([]));
}

async fn the_dashboard_draws_its_charts_as_svg(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let templates = app.admin.get("/api/v1/survey-templates").await.want(200).value();
    // The NPS, CSAT and CES templates, in that order.
    let mut surveys = Vec::new();
    for k in 0..3 {
        let input: SurveyInput = serde_json::from_value(templates["items"][k].clone()).unwrap();
        surveys.push(app.admin.post("/api/v1/surveys", &serde_json::to_value(input).unwrap()).await.want(201).value());
    }
    let answers = [
        (0, 9, "2025-01-15"),
        (0, 3, "2025-01-20"),
        (0, 10, "2025-02-10"),
        (1, 5, "2025-01-16"),
        (1, 2, "2025-02-11"),
        (2, 6, "2025-01-17"),
        (2, 4, "2025-02-12"),
    ];
    for (i, (survey, score, day)) in answers.into_iter().enumerate() {
        let person = create_person_with(&app.admin, json!({ "first_name": format!("Customer {i}") })).await;
        let answer = json!({ "survey_id": surveys[survey]["id"], "person_id": person.id,
            "answers": { "score": score }, "answered_at": day });
        app.admin.post("/api/v1/answers", &answer).await.want(201);
    }

    let web = app.web_admin().await;
    let period = "survey_id=&from=2025-01-01&to=2025-02-28";
    let names = ["nps_trend.svg", "csat_trend.svg", "ces_trend.svg", "nps_distribution.svg"];
    for name in names {
        let chart = web.get(&format!("/feedback/charts/{name}?{period}")).await.want(200);
        assert_eq!(chart.header("content-type").as_deref(), Some("image/svg+xml"), "{}", chart.what);
        assert_eq!(chart.header("cache-control").as_deref(), Some("private, no-cache"), "{}", chart.what);
        assert!(chart.text.starts_with("<svg") || chart.text.starts_with("<?xml"), "{}: {}", chart.what, chart.text);
        assert!(chart.text.contains("2025-01-01 to 2025-02-28"), "{}: the period in the title", chart.what);
        assert!(!chart.text.contains("No answers in this period"), "{}", chart.what);
        if name.ends_with("_trend.svg") {
            // Each month's label as a text of its own (not the title's days).
            assert!(chart.text.contains("\n2025-01\n") && chart.text.contains("\n2025-02\n"), "{}", chart.what);
        }
    }
    let distribution = web.get(&format!("/feedback/charts/nps_distribution.svg?{period}")).await;
    assert!(distribution.text.contains("Promoters (9–10)"), "the legend");

    // One survey's answers only, or a period without answers: the chart says so.
    let csat_only = format!("survey_id={}&from=2025-01-01&to=2025-02-28", surveys[1]["id"].as_str().unwrap());
    let chart = web.get(&format!("/feedback/charts/csat_trend.svg?{csat_only}")).await.want(200);
    assert!(chart.text.contains("\n2025-02\n"), "{}", chart.text);
    let chart = web.get(&format!("/feedback/charts/nps_trend.svg?{csat_only}")).await.want(200);
    assert!(chart.text.contains("No answers in this period"), "{}", chart.text);
    let chart = web.get("/feedback/charts/nps_distribution.svg?from=2024-01-01&to=2024-01-31").await.want(200);
    assert!(chart.text.contains("No answers in this period"), "{}", chart.text);

    // A bad query answers as the page does; an unknown chart is not found.
    for query in ["from=someday", "from=2025-03-01&to=2025-01-01", "survey_id=not-a-survey"] {
        let page = web.get(&format!("/feedback?{query}")).await;
        assert!((400..500).contains(&page.status), "{}: {}", page.what, page.status);
        let chart = web.get(&format!("/feedback/charts/nps_trend.svg?{query}")).await;
        assert_eq!(chart.status, page.status, "{}", chart.what);
    }
    web.get("/feedback/charts/nope.svg").await.want(404);
    web.get("/feedback/charts/nps_trend.png").await.want(404);

    // Signed out: to the sign-in page, as the dashboard.
    let anonymous = app.web("anonymous");
    assert_eq!(anonymous.get("/feedback").await.status, 303);
    for name in names {
        let chart = anonymous.get(&format!("/feedback/charts/{name}?{period}")).await;
        assert_eq!(chart.status, 303, "{}", chart.what);
    }

    // The page shows each chart inline above its table, with the period and
    // a mark per month or score saying its value; none without answers.
    let page = web.get(&format!("/feedback?{period}")).await.want(200);
    let html = crate::common::unescape(&page.text);
    for title in [
        "Net Promoter Score by month, 2025-01-01 to 2025-02-28",
        "Customer satisfaction (CSAT) by month, 2025-01-01 to 2025-02-28",
        "Customer effort (CES) by month, 2025-01-01 to 2025-02-28",
        "NPS answers by score, 2025-01-01 to 2025-02-28",
    ] {
        assert!(html.contains(title), "no {title:?}: {html}");
    }
    assert_eq!(page.text.matches("<svg class=\"chart-svg\"").count(), 4, "four inline charts");
    assert!(html.contains("<title>2025-01: "), "a month's mark: {html}");
    assert!(html.contains("(95% interval "), "a month's interval");
    assert!(html.contains("<title>Score 9: "), "a score's mark");
    let months = page.text.find("id=\"feedback-months\"").expect("the months table");
    assert!(page.text.find("Net Promoter Score by month").is_some_and(|at| at < months), "the trend above its table");
    assert!(page.text.contains("aria-label=\"Line chart of the Net Promoter Score by month"));
    let csat_page = crate::common::unescape(&web.get(&format!("/feedback?{csat_only}")).await.want(200).text);
    assert!(csat_page.contains("Customer satisfaction (CSAT) by month"));
    assert!(!csat_page.contains("Net Promoter Score by month") && !csat_page.contains("NPS answers by score,"));
    let empty = web.get("/feedback?from=2024-01-01&to=2024-01-31").await.want(200);
    assert!(!empty.text.contains("chart-svg"), "no chart without answers");
}
