//! Self-assessments, colleague feedback and the style profile through the
//! API: the questionnaire admins edit; ratings refused by field with nothing
//! written; results only from the third answer and never who answered; each
//! request answered once by its own colleague; who sees whose style.

use rapport_domain::Role;
use rapport_domain::records::User;
use serde_json::{Value, json};

use crate::common::{Api, Backend, Resp, TestApp};

backend_tests!(
    the_questionnaire_and_steps_are_admins_to_edit,
    bad_ratings_are_refused_by_field,
    results_show_from_the_third_answer_without_names,
    each_sees_only_the_style_they_may,
    the_profile_finds_a_gap_and_suggests_steps,
);

/// The current question keys.
async fn question_keys(api: &Api) -> Vec<String> {
    let questionnaire = api.get("/api/v1/style/questions").await.want(200).value();
    questionnaire["questions"].as_array().unwrap().iter().map(|q| q["key"].as_str().unwrap().to_owned()).collect()
}

/// Every question rated `score`.
async fn all_rated(api: &Api, score: u8) -> Value {
    let scores: serde_json::Map<String, Value> =
        question_keys(api).await.into_iter().map(|k| (k, json!(score))).collect();
    json!({ "scores": scores })
}

async fn self_assessments(api: &Api, user: &User) -> Resp {
    api.get(&format!("/api/v1/style/self-assessments?user_id={}", user.id)).await
}

/// Asks `colleagues` about `subject` as `api`; returns the round.
async fn ask(api: &Api, subject: &User, colleagues: &[&User]) -> Value {
    let ids: Vec<_> = colleagues.iter().map(|c| c.id).collect();
    api.post("/api/v1/style/feedback-rounds", &json!({ "subject_id": subject.id, "colleague_ids": ids }))
        .await
        .want(201)
        .value()
}

/// The client's one open request about the round `round`.
async fn request_in(api: &Api, round: &Value) -> String {
    let requests = api.get("/api/v1/style/feedback-requests").await.want(200).value();
    let request = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["round_id"] == round["id"])
        .unwrap_or_else(|| panic!("{} has no request in the round: {requests}", api.label))
        .clone();
    request["id"].as_str().unwrap().to_owned()
}

async fn answer(api: &Api, request: &str, body: &Value) -> Resp {
    api.post(&format!("/api/v1/style/feedback-requests/{request}/answer"), body).await
}

async fn profile(api: &Api, user: &User) -> Resp {
    api.get(&format!("/api/v1/style/profiles/{}", user.id)).await
}

async fn the_questionnaire_and_steps_are_admins_to_edit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, agent) = app.create_user(Role::Agent, None).await;

    let keys = question_keys(&agent).await;
    assert!(keys.len() >= 10, "the shipped questionnaire: {keys:?}");
    assert!(keys.contains(&"empathy".to_owned()) && keys.contains(&"follow_through".to_owned()), "{keys:?}");

    let edited = json!({ "questions": [
        { "key": "empathy", "dimension": "personal_touch", "text": "Shows they understand how the customer feels." },
        { "key": "speed", "dimension": "responsiveness", "text": "Answers quickly." },
    ] });
    agent.put("/api/v1/style/questions", &edited).await.want_error(403, "forbidden");
    assert_eq!(question_keys(&agent).await, keys, "a refused edit changes nothing");

    let saved = app.admin.put("/api/v1/style/questions", &edited).await.want(200).value();
    assert_eq!(saved, edited);
    assert_eq!(question_keys(&agent).await, ["empathy", "speed"]);

    let error = app
        .admin
        .put("/api/v1/style/questions", &json!({ "questions": [], "colour": "red" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("colour").is_some(), "the unknown field is named: {error:?}");
    app.admin.put("/api/v1/style/questions", &json!({ "questions": [] })).await.want_error(422, "validation");
    assert_eq!(question_keys(&agent).await, ["empathy", "speed"], "a refused edit changes nothing");

    let steps = agent.get("/api/v1/style/development-steps").await.want(200).value();
    assert!(!steps["steps"].as_array().unwrap().is_empty(), "shipped steps: {steps}");
    let new_steps =
        json!({ "steps": [{ "dimension": "follow_through", "text": "Write every promise down as a task." }] });
    agent.put("/api/v1/style/development-steps", &new_steps).await.want_error(403, "forbidden");
    app.admin.put("/api/v1/style/development-steps", &new_steps).await.want(200);
    assert_eq!(agent.get("/api/v1/style/development-steps").await.want(200).value(), new_steps);
}

async fn bad_ratings_are_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ana, api) = app.create_user(Role::Agent, None).await;

    let error = api
        .post("/api/v1/style/self-assessments", &json!({ "scores": { "empathy": 6 } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("scores.empathy").is_some(), "{error:?}");
    let error = api
        .post("/api/v1/style/self-assessments", &json!({ "scores": { "empathy": 4, "charm": 3 } }))
        .await
        .want_error(422, "validation");
    assert!(error.field("scores.charm").is_some(), "{error:?}");
    let error = api
        .post("/api/v1/style/self-assessments", &json!({ "scores": { "empathy": 4 }, "mood": "good" }))
        .await
        .want_error(422, "validation");
    assert!(error.field("mood").is_some(), "{error:?}");
    let mine = api.get("/api/v1/style/self-assessments").await.want(200).value();
    assert_eq!(mine["items"], json!([]), "nothing written");

    let made = api
        .post("/api/v1/style/self-assessments", &json!({ "scores": { "empathy": 4 }, "comment": "Getting better." }))
        .await
        .want(201)
        .value();
    assert_eq!(made["user_id"], json!(ana.id));
    assert_eq!(made["scores"], json!({ "empathy": 4 }));
    let mine = self_assessments(&api, &ana).await.want(200).value();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["comment"], "Getting better.");
}

async fn results_show_from_the_third_answer_without_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (sam, sam_api) = app.create_user(Role::Agent, None).await;
    let (c1, c1_api) = app.create_user(Role::Agent, None).await;
    let (c2, c2_api) = app.create_user(Role::Agent, None).await;
    let (c3, c3_api) = app.create_user(Role::Agent, None).await;

    let error = app
        .admin
        .post("/api/v1/style/feedback-rounds", &json!({ "subject_id": sam.id, "colleague_ids": [c1.id, c2.id] }))
        .await
        .want_error(422, "validation");
    assert!(error.field("colleague_ids").is_some(), "{error:?}");
    assert_eq!(app.admin.get("/api/v1/style/feedback-rounds").await.want(200).value()["items"], json!([]));

    let round = ask(&app.admin, &sam, &[&c1, &c2, &c3]).await;
    assert_eq!(round["asked"], 3);
    assert_eq!(round["answered"], 0);
    let round_path = format!("/api/v1/style/feedback-rounds/{}", round["id"].as_str().unwrap());
    let body = all_rated(&c1_api, 4).await;
    let (r1, r2, r3) =
        (request_in(&c1_api, &round).await, request_in(&c2_api, &round).await, request_in(&c3_api, &round).await);

    // Someone else's request is not found, and stays open for its colleague.
    answer(&c2_api, &r1, &body).await.want_error(404, "not_found");
    answer(&sam_api, &r1, &body).await.want_error(404, "not_found");

    for (n, (api, request)) in [(&c1_api, &r1), (&c2_api, &r2)].into_iter().enumerate() {
        answer(api, request, &body).await.want(204);
        let got = sam_api.get(&round_path).await.want(200).value();
        assert_eq!(got["answered"], n as u64 + 1);
        assert_eq!(got["results"], Value::Null, "no results after {} answers: {got}", n + 1);
        let list = sam_api.get("/api/v1/style/feedback-rounds").await.want(200).value();
        assert_eq!(list["items"][0]["results"], Value::Null, "{list}");
        let view = profile(&sam_api, &sam).await.want(200).value();
        assert_eq!(view["colleagues"], Value::Null, "{view}");
        for dimension in view["dimensions"].as_array().unwrap() {
            assert_eq!(dimension["colleague_rating"], Value::Null, "{view}");
        }
    }
    // A used request cannot answer again.
    answer(&c1_api, &r1, &body).await.want_error(404, "not_found");
    answer(&c3_api, &r3, &body).await.want(204);

    let resp = sam_api.get(&round_path).await.want(200);
    let got = resp.value();
    assert_eq!(got["answered"], 3);
    let results = &got["results"];
    assert!(results.is_object(), "results from the third answer: {got}");
    assert!(results["questions"].as_array().unwrap().iter().all(|q| q["mean"] == json!(4.0)), "{results}");
    let list = sam_api.get(&format!("/api/v1/style/feedback-rounds?subject_id={}", sam.id)).await.want(200);
    assert!(list.value()["items"][0]["results"].is_object());
    let view = profile(&sam_api, &sam).await.want(200).value();
    assert!(view["dimensions"].as_array().unwrap().iter().any(|d| d["colleague_rating"] == json!(4.0)), "{view}");
    // Nobody ever learns who answered.
    for text in [&resp.text, &list.text, &app.admin.get(&round_path).await.want(200).text] {
        for colleague in [&c1, &c2, &c3] {
            assert!(!text.contains(&colleague.id.to_string()), "a colleague's id shows: {text}");
            assert!(!text.contains(colleague.fields.email.as_str()), "a colleague's email shows: {text}");
        }
    }
    assert_eq!(c1_api.get("/api/v1/style/feedback-requests").await.want(200).value()["items"], json!([]));
}

/// Staff members with a round about each.
type Seen<'a> = Vec<(&'a User, &'a Value)>;

async fn each_sees_only_the_style_they_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.create_team("North").await;
    let (_, manager) = app.create_user(Role::Manager, Some(team.id)).await;
    let (ana, ana_api) = app.create_user(Role::Agent, Some(team.id)).await;
    let (bob, bob_api) = app.create_user(Role::Agent, None).await;
    let (c1, _) = app.create_user(Role::Agent, None).await;
    let (c2, _) = app.create_user(Role::Agent, None).await;
    let (c3, _) = app.create_user(Role::Agent, None).await;
    for api in [&ana_api, &bob_api] {
        api.post("/api/v1/style/self-assessments", &json!({ "scores": { "empathy": 3 } })).await.want(201);
    }
    let ana_round = ask(&ana_api, &ana, &[&c1, &c2, &c3]).await;
    let bob_round = ask(&app.admin, &bob, &[&c1, &c2, &c3]).await;
    // An agent cannot ask about someone else.
    ana_api
        .post("/api/v1/style/feedback-rounds", &json!({ "subject_id": bob.id, "colleague_ids": [c1.id, c2.id, c3.id] }))
        .await
        .want_error(404, "not_found");

    let round_path = |round: &Value| format!("/api/v1/style/feedback-rounds/{}", round["id"].as_str().unwrap());
    let subjects = |list: Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|r| r["subject_id"].as_str().unwrap().to_owned()).collect()
    };
    // (viewer, whose style they see, whose not)
    let cases: [(&Api, Seen, Seen); 4] = [
        (&ana_api, vec![(&ana, &ana_round)], vec![(&bob, &bob_round)]),
        (&bob_api, vec![(&bob, &bob_round)], vec![(&ana, &ana_round)]),
        (&manager, vec![(&ana, &ana_round)], vec![(&bob, &bob_round)]),
        (&app.admin, vec![(&ana, &ana_round), (&bob, &bob_round)], vec![]),
    ];
    for (viewer, seen, unseen) in cases {
        for (user, round) in &seen {
            profile(viewer, user).await.want(200);
            assert_eq!(self_assessments(viewer, user).await.want(200).value()["items"].as_array().unwrap().len(), 1);
            viewer.get(&round_path(round)).await.want(200);
            let list = viewer.get(&format!("/api/v1/style/feedback-rounds?subject_id={}", user.id)).await.want(200);
            assert_eq!(subjects(list.value()), [user.id.to_string()]);
        }
        for (user, round) in &unseen {
            profile(viewer, user).await.want_error(404, "not_found");
            self_assessments(viewer, user).await.want_error(404, "not_found");
            viewer.get(&round_path(round)).await.want_error(404, "not_found");
            viewer
                .get(&format!("/api/v1/style/feedback-rounds?subject_id={}", user.id))
                .await
                .want_error(404, "not_found");
        }
        let all = subjects(viewer.get("/api/v1/style/feedback-rounds").await.want(200).value());
        let mut want: Vec<String> = seen.iter().map(|(u, _)| u.id.to_string()).collect();
        let mut all_sorted = all.clone();
        all_sorted.sort();
        want.sort();
        assert_eq!(all_sorted, want, "{} sees the rounds about", viewer.label);
    }
}

async fn the_profile_finds_a_gap_and_suggests_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (sam, sam_api) = app.create_user(Role::Agent, None).await;
    let mut colleagues = Vec::new();
    for _ in 0..3 {
        colleagues.push(app.create_user(Role::Agent, None).await);
    }
    let body = all_rated(&sam_api, 5).await;
    sam_api.post("/api/v1/style/self-assessments", &body).await.want(201);
    let refs: Vec<&User> = colleagues.iter().map(|(u, _)| u).collect();
    let round = ask(&sam_api, &sam, &refs).await;
    for (i, (_, api)) in colleagues.iter().enumerate() {
        let request = request_in(api, &round).await;
        answer(api, &request, &all_rated(api, 1 + (i % 2) as u8).await).await.want(204);
    }

    let view = profile(&sam_api, &sam).await.want(200).value();
    assert_eq!(view["user_id"], json!(sam.id));
    let dimensions = view["dimensions"].as_array().unwrap();
    assert_eq!(dimensions.len(), 5, "{view}");
    for dimension in dimensions {
        assert_eq!(dimension["self_rating"], json!(5.0), "{view}");
        let colleague = dimension["colleague_rating"].as_f64().unwrap();
        assert!((1.0..=2.0).contains(&colleague), "{view}");
        assert!(dimension.get("measured").is_some(), "{view}");
    }
    let findings = view["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["kind"] == "gap"), "a gap: {view}");
    assert!(!view["steps"].as_array().unwrap().is_empty(), "steps suggested: {view}");
    assert_eq!(view["colleagues"]["answered"], 3);
    assert_eq!(view["colleagues"]["round_id"], round["id"]);

    sam_api
        .get(&format!("/api/v1/style/profiles/{}?from=2026-02-01&to=2026-01-01", sam.id))
        .await
        .want_error(422, "validation");
}
