//! Acting on feedback themes from the dashboard: an admin renames and pins
//! a theme and lets the grouping decide again; a manager writes a "you
//! said, we did" note that the dashboard and the API show; an agent may do
//! neither.

use rapport_domain::Role;
use rapport_domain::surveys::{SurveyInput, ThemeNote};
use serde_json::json;

use crate::common::{Backend, TestApp, create_person_with, hidden_value};

backend_tests!(themes_are_renamed_pinned_and_noted_from_the_dashboard);

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
