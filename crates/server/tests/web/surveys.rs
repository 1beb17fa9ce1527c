//! The survey builder page: an admin builds a survey from nothing, edits
//! it, and sees a bad row named beside its field; others may not.

use rapport_domain::Role;
use rapport_domain::surveys::{QuestionKind, Survey, SurveyTrigger};

use crate::common::{Backend, TestApp};

backend_tests!(an_admin_builds_and_edits_a_survey_on_the_page, the_builder_names_bad_rows_and_is_for_admins);

async fn an_admin_builds_and_edits_a_survey_on_the_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let blank = web.get("/surveys/new").await.want(200);
    assert!(blank.text.contains("name=\"q2_text\""), "spare rows are offered");

    let created = web
        .post_form(
            "/surveys/new",
            &[
                ("name", "Relationship check"),
                ("expiry_days", "21"),
                ("reminder_days", "7"),
                ("active", "true"),
                ("trigger", "every"),
                ("months", "6"),
                ("audience", "segment=champions"),
                ("q0_position", "1"),
                ("q0_kind", "nps"),
                ("q0_text", "How likely are you to recommend us?"),
                ("q0_required", "true"),
                ("q1_position", "2"),
                ("q1_kind", "single_choice"),
                ("q1_text", "Which team helped you most?"),
                ("q1_choices", "Sales\nSupport\nBilling"),
                ("q2_position", "3"),
                ("q2_kind", "free_text"),
                ("q2_text", ""),
            ],
        )
        .await
        .want(303);
    let location = created.header("location").expect("a redirect to the survey");
    let surveys: Vec<Survey> =
        serde_json::from_value(app.admin.get("/api/v1/surveys").await.want(200).value()["items"].clone()).unwrap();
    let survey = surveys.iter().find(|s| s.fields.name.as_str() == "Relationship check").expect("the new survey");
    assert_eq!(location, format!("/surveys/{}", survey.id));
    let kinds: Vec<QuestionKind> = survey.fields.questions.iter().map(|q| q.kind).collect();
    assert_eq!(kinds, [QuestionKind::Nps, QuestionKind::SingleChoice], "the empty row is left out");
    assert_eq!(survey.fields.questions[0].key.as_str(), "score");
    assert_eq!(survey.fields.questions[1].choices.len(), 3);
    assert_eq!(survey.fields.trigger, SurveyTrigger::Every { months: 6, audience: Some("segment=champions".into()) });
    assert_eq!((survey.fields.expiry_days, survey.fields.reminder_days), (21, Some(7)));
    let page = web.get(&location).await.want(200);
    assert!(page.text.contains("Every 6 months"), "the survey page says how it goes out");

    // The edit form holds the survey; moving the choice question first and
    // adding a comment question saves in that order.
    let edit_path = format!("/surveys/{}/edit", survey.id);
    let edit = web.get(&edit_path).await.want(200);
    assert!(edit.text.contains("value=\"Which team helped you most?\""), "the form holds the questions");
    let version = survey.meta.version.to_string();
    web.post_form(
        &edit_path,
        &[
            ("version", &version),
            ("name", "Relationship check"),
            ("expiry_days", "21"),
            ("trigger", "manual"),
            ("q0_position", "2"),
            ("q0_kind", "nps"),
            ("q0_key", "score"),
            ("q0_text", "How likely are you to recommend us?"),
            ("q1_position", "1"),
            ("q1_kind", "single_choice"),
            ("q1_key", "which_team_helped_you"),
            ("q1_text", "Which team helped you most?"),
            ("q1_choices", "Sales\nSupport"),
            ("q2_position", "3"),
            ("q2_kind", "free_text"),
            ("q2_text", "What should we do better?"),
        ],
    )
    .await
    .want(303);
    let saved: Survey = app.admin.get(&format!("/api/v1/surveys/{}", survey.id)).await.want(200).json();
    let keys: Vec<&str> = saved.fields.questions.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(keys, ["which_team_helped_you", "score", "why"]);
    assert_eq!(saved.fields.trigger, SurveyTrigger::Manual);
    assert!(!saved.fields.active, "the unticked box switched it off");

    // Saving the stale version again is refused, not applied over the change.
    web.post_form(
        &edit_path,
        &[("version", &version), ("name", "Stale"), ("expiry_days", "21"), ("q0_kind", "nps"), ("q0_text", "Score?")],
    )
    .await
    .want(409);
}

async fn the_builder_names_bad_rows_and_is_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let refused = web
        .post_form(
            "/surveys/new",
            &[
                ("name", "Broken"),
                ("expiry_days", "30"),
                ("trigger", "every"),
                ("months", "0"),
                ("q3_kind", "single_choice"),
                ("q3_text", "Pick one"),
                ("q3_choices", "Only this"),
            ],
        )
        .await
        .want(422);
    assert!(refused.text.contains("id=\"e-q3_choices\""), "the row's options are named: {}", refused.text);
    assert!(refused.text.contains("id=\"e-months\""), "the months are named");
    assert!(refused.text.contains("value=\"Pick one\""), "what was typed stays");
    let empty = web.post_form("/surveys/new", &[("name", "Empty"), ("expiry_days", "30")]).await.want(422);
    assert!(empty.text.contains("a survey needs at least one question"), "{}", empty.text);
    let surveys = app.admin.get("/api/v1/surveys").await.want(200).value();
    assert_eq!(surveys["items"].as_array().unwrap().len(), 0, "nothing was stored");

    let bad_audience = app
        .admin
        .post(
            "/api/v1/surveys",
            &serde_json::json!({
                "name": "Odd", "questions": [{ "key": "score", "kind": "nps", "text": "Score?" }],
                "trigger": { "on": "every", "months": 6, "audience": "segment=nonsense" }
            }),
        )
        .await
        .want(422);
    assert!(bad_audience.text.contains("trigger.audience"), "{}", bad_audience.text);

    let (_, agent) = app.web_user(Role::Agent, None).await;
    agent.get("/surveys/new").await.want(403);
    agent
        .post_form(
            "/surveys/new",
            &[("name", "Mine"), ("expiry_days", "30"), ("q0_kind", "nps"), ("q0_text", "Score?")],
        )
        .await
        .want(403);
}
