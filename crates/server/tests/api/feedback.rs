//! Customer feedback through the API and the public link: an NPS survey
//! sent to a people-list audience by email (a real SMTP server), answered
//! on the emailed link, a detractor's follow-up task, the summary with its
//! interval; the token opening nothing but its survey; hostile comments
//! escaped; the role rules.

use rapport_domain::jobs::JobStatus;
use rapport_domain::surveys::{Answer, SurveyInput};
use rapport_domain::{Role, TaskId};
use rapport_storage::NewJob;
use serde_json::{Value, json};

use crate::common::{Api, Backend, TestApp, create_person_with, set_up_mail, wait_for_job, wait_for_mail};

backend_tests!(
    an_nps_survey_goes_out_is_answered_and_summarised,
    a_token_opens_its_survey_and_nothing_else,
    answers_recorded_by_staff_are_checked_and_upserted,
    surveys_follow_the_role_rules,
    a_scheduled_survey_asks_its_audience_once_per_period,
);

/// The emailed link: the line of the message that starts with the public address.
fn link_in(message: &str, base: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=\n", "");
    unfolded
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(base) && !line.ends_with("/unsubscribe"))
        .unwrap_or_else(|| panic!("no link in {message}"))
        .to_owned()
}

async fn nps_survey(app: &TestApp) -> Value {
    let templates = app.admin.get("/api/v1/survey-templates").await.want(200).value();
    let nps: SurveyInput = serde_json::from_value(templates["items"][0].clone()).unwrap();
    app.admin.post("/api/v1/surveys", &serde_json::to_value(nps).unwrap()).await.want(201).value()
}

async fn set_public_url(app: &TestApp) {
    app.admin.put("/api/v1/survey-settings", &json!({ "public_url": app.base_url, "quiet_days": 30 })).await.want(200);
}

/// Posts the public form as a customer's browser would.
async fn answer(link: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = reqwest::Client::new().post(link).form(form).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn an_nps_survey_goes_out_is_answered_and_summarised(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let smtp = set_up_mail(&app).await;
    let survey = nps_survey(&app).await;
    let id = survey["id"].as_str().unwrap();
    // Before the public address is set, nothing can be sent.
    app.admin
        .post(&format!("/api/v1/surveys/{id}/audience"), &json!({ "query": "lifecycle_stage=customer" }))
        .await
        .want_error(409, "conflict");
    set_public_url(&app).await;

    let owner = app.admin_user.id;
    let mut people = Vec::new();
    for (name, dnc) in [("Ann", false), ("Bob", false), ("Cid", true)] {
        let body = json!({
            "first_name": name, "lifecycle_stage": "customer", "owner_id": owner,
            "emails": [{ "address": format!("{}@example.com", name.to_lowercase()) }],
            "preferences": { "do_not_contact": dnc },
        });
        people.push(create_person_with(&app.admin, body).await);
    }
    create_person_with(&app.admin, json!({ "first_name": "Lead", "emails": [{ "address": "lead@example.com" }] }))
        .await;

    let queued = app
        .admin
        .post(&format!("/api/v1/surveys/{id}/audience"), &json!({ "query": "lifecycle_stage=customer" }))
        .await
        .want(202)
        .value();
    let job = wait_for_job(&app.admin, queued["job_id"].as_str().unwrap().parse().unwrap(), JobStatus::Done).await;
    let result = job.result.expect("a tally");
    assert_eq!(result["sent"], 2, "{result}");
    assert_eq!(result["skipped"]["do_not_contact"], 1, "{result}");

    let messages = wait_for_mail(&smtp, 2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    let to_ann = messages.iter().find(|m| m.contains("ann@example.com")).expect("Ann's invitation");
    let ann_link = link_in(to_ann, &app.base_url);
    let bob_link = link_in(messages.iter().find(|m| m.contains("bob@example.com")).unwrap(), &app.base_url);

    // The page opens without signing in, and a second send within the quiet period skips.
    let page = reqwest::get(&ann_link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("How likely are you to recommend us"));
    let again = app
        .admin
        .post(&format!("/api/v1/surveys/{id}/sends"), &json!({ "person_id": people[0].id, "email": false }))
        .await
        .want(200)
        .value();
    assert_eq!(again, json!({ "outcome": "skipped", "reason": "quiet_period" }));

    // Missing the score: the form comes back saying so, nothing is stored.
    let (status, body) = answer(&ann_link, &[("q_why", "hm")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("please answer this question"), "{body}");
    let (status, body) =
        answer(&ann_link, &[("q_score", "2"), ("q_why", "Late delivery again, terrible <script>alert(1)</script>")])
            .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Thank you"));
    let (status, _) = answer(&bob_link, &[("q_score", "10"), ("q_why", "Friendly support, great service")]).await;
    assert_eq!(status, 200);

    let answers: Vec<Answer> = serde_json::from_value(
        app.admin.get(&format!("/api/v1/answers?survey_id={id}")).await.want(200).value()["items"].clone(),
    )
    .unwrap();
    assert_eq!(answers.len(), 2);
    let ann = answers.iter().find(|a| a.person_id == people[0].id).unwrap();
    assert_eq!(ann.score, Some(2));
    assert!(ann.sentiment.unwrap() < -0.05, "{ann:?}");
    assert_eq!(ann.sentiment_label.as_deref(), Some("negative"));
    let task: TaskId = ann.follow_up_task_id.expect("a detractor opens a follow-up task");
    let task = app.admin.get(&format!("/api/v1/tasks/{task}")).await.want(200).value();
    assert_eq!(task["assignee_id"], json!(owner));
    assert_eq!(task["person_id"], json!(people[0].id));
    let bob = answers.iter().find(|a| a.person_id == people[1].id).unwrap();
    assert_eq!(bob.follow_up_task_id, None);

    // Changing the answer within the day keeps one answer and one task.
    let hostile = "Late delivery again, terrible <script>alert(1)</script>";
    let (status, _) = answer(&ann_link, &[("q_score", "3"), ("q_why", hostile)]).await;
    assert_eq!(status, 200);
    let ann_now: Answer = app.admin.get(&format!("/api/v1/answers/{}", ann.id)).await.want(200).json();
    assert_eq!((ann_now.score, ann_now.follow_up_task_id), (Some(3), ann.follow_up_task_id));

    // One promoter, one detractor: NPS 0; p = d = 1/2, n = 2, variance (1/2 + 1/2 − 0)/2 = 1/2,
    // half-width 1.96 × √0.5 × 100 = 138.6, clamped to ±100.
    let summary = app.admin.get(&format!("/api/v1/feedback/summary?survey_id={id}&by=staff")).await.want(200).value();
    assert_eq!(summary["nps"]["value"], 0.0, "{summary}");
    assert_eq!((summary["nps"]["low"].as_f64(), summary["nps"]["high"].as_f64()), (Some(-100.0), Some(100.0)));
    assert_eq!((summary["sent"].as_u64(), summary["answered"].as_u64()), (Some(2), Some(2)));
    assert_eq!(summary["groups"][0]["label"], "Ada Admin");
    assert_eq!(summary["follow_ups"], json!({ "opened": 1, "done": 0, "done_in_time": 0, "median_hours": null }));
    let _: Value = app.admin.update("tasks", task["id"].as_str().unwrap(), json!({ "done": true })).await;
    let summary = app.admin.get(&format!("/api/v1/feedback/summary?survey_id={id}")).await.want(200).value();
    assert_eq!(
        (summary["follow_ups"]["done"].as_u64(), summary["follow_ups"]["done_in_time"].as_u64()),
        (Some(1), Some(1))
    );
    let dashboard = app.admin.get("/feedback").await.want(200).text;
    assert!(dashboard.contains("1 of 1 done · 1 within 2 days · median 0 h"), "the dashboard shows the follow-ups");
    app.admin.get("/api/v1/feedback/summary?by=weekday").await.want_error(422, "validation");
    // Each operation refuses the parameter that belongs to another, rather than ignoring it.
    for (path, field) in [
        ("/api/v1/answers?by=month", "by"),
        ("/api/v1/feedback/summary?limit=5", "limit"),
        ("/api/v1/feedback/themes?by=month", "by"),
        ("/api/v1/feedback/themes?limit=5", "limit"),
    ] {
        let error = app.admin.get(path).await.want_error(422, "validation");
        assert!(error.fields.as_ref().is_some_and(|fields| fields.contains_key(field)), "{path}: {}", error.message);
    }

    // The people list filters by NPS group.
    let detractors = app.admin.get("/api/v1/people?nps_group=detractor").await.want(200).value();
    let ids: Vec<&str> = detractors["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [people[0].id.to_string()]);

    // Staff pages show what customers wrote, escaped.
    for page in ["/feedback", &format!("/people/{}", people[0].id), &format!("/surveys/{id}")] {
        let html = app.admin.get(page).await.want(200).text;
        assert!(!html.contains("<script>alert(1)</script>"), "{page}");
        assert!(html.contains("Late delivery again, terrible &#60;script&#62;alert(1)"), "{page} shows the comment");
    }

    // Unsubscribing from the link sets do-not-contact.
    let unsubscribe = format!("{ann_link}/unsubscribe");
    assert_eq!(reqwest::get(&unsubscribe).await.unwrap().status(), 200);
    let person = app.admin.get(&format!("/api/v1/people/{}", people[0].id)).await.want(200).value();
    assert_eq!(person["preferences"]["do_not_contact"], false, "the GET only asks");
    assert_eq!(reqwest::Client::new().post(&unsubscribe).send().await.unwrap().status(), 200);
    let person = app.admin.get(&format!("/api/v1/people/{}", people[0].id)).await.want(200).value();
    assert_eq!(person["preferences"]["do_not_contact"], true);
}

async fn a_token_opens_its_survey_and_nothing_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_public_url(&app).await;
    let survey = nps_survey(&app).await;
    let person = create_person_with(&app.admin, json!({ "first_name": "Eve" })).await;
    let sent = app
        .admin
        .post(
            &format!("/api/v1/surveys/{}/sends", survey["id"].as_str().unwrap()),
            &json!({ "person_id": person.id, "email": false }),
        )
        .await
        .want(200)
        .value();
    let link = sent["link"].as_str().unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 22, "at least 128 random bits: {token}");
    assert_eq!(reqwest::get(link).await.unwrap().status(), 200);

    // As a bearer token, a cookie or a query parameter, it opens no API route and no staff page.
    let spec = app.anonymous().get("/api/v1/openapi.json").await.want(200).value();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut tried = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let path = path.replace("{id}", &person.id.to_string()).replace("{kind}", "people");
        let url = format!("{}{path}?token={token}", app.base_url);
        for request in
            [client.get(&url).bearer_auth(token), client.get(&url).header("cookie", format!("rapport_session={token}"))]
        {
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, 401, "{path} answered {status} to a survey token");
            tried += 1;
        }
    }
    assert!(tried > 40, "only {tried} routes tried");
    for page in ["/", "/people", "/feedback", "/surveys", &format!("/people/{}", person.id)] {
        let response = client.get(format!("{}{page}", app.base_url)).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 303, "{page}");
        assert!(response.headers()["location"].to_str().unwrap().starts_with("/login"), "{page}");
    }

    // Unknown and tampered tokens get the same polite page, which names nothing.
    let closed = reqwest::get(format!("{}/s/nonsense", app.base_url)).await.unwrap();
    assert_eq!(closed.status(), 404);
    let closed = closed.text().await.unwrap();
    assert!(closed.contains("This survey is closed"));
    let tampered = reqwest::get(format!("{}/s/{}", app.base_url, &token[..token.len() - 1])).await.unwrap();
    assert_eq!(tampered.text().await.unwrap(), closed);
    assert!(!closed.contains("Eve") && !closed.contains("Net Promoter"));
}

async fn answers_recorded_by_staff_are_checked_and_upserted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let survey = nps_survey(&app).await;
    let person = create_person_with(&app.admin, json!({ "first_name": "Pat" })).await;
    let body = |score: Value| {
        json!({ "survey_id": survey["id"], "person_id": person.id, "answers": { "score": score, "why": "Price is fine" },
                "answered_at": "2026-11-02", "external_id": "call-17" })
    };
    let bad = app.admin.post("/api/v1/answers", &body(json!(11))).await.want_error(422, "validation");
    assert!(bad.fields.as_ref().is_some_and(|f| f.contains_key("score")), "{bad:?}");
    app.admin.post("/api/v1/answers", &body(json!({ "x": 1 }))).await.want_error(422, "validation");
    let mut stray = body(json!(7));
    stray["mood"] = json!("happy");
    app.admin.post("/api/v1/answers", &stray).await.want_error(422, "validation");
    let send = json!({ "person_id": person.id, "email": false, "channel": "sms" });
    app.admin
        .post(&format!("/api/v1/surveys/{}/sends", survey["id"].as_str().unwrap()), &send)
        .await
        .want_error(422, "validation");
    let first: Answer = app.admin.post("/api/v1/answers", &body(json!(7))).await.want(201).json();
    let second: Answer = app.admin.post("/api/v1/answers", &body(json!(9))).await.want(201).json();
    assert_eq!((first.id, second.score), (second.id, Some(9)), "the external id upserts");
    assert_eq!(second.answered_at.date().to_string(), "2026-11-02");
    let all = app.admin.get("/api/v1/answers").await.want(200).value();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
}

async fn surveys_follow_the_role_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_public_url(&app).await;
    let survey = nps_survey(&app).await;
    let id = survey["id"].as_str().unwrap();
    let (_, agent) = app.create_user(Role::Agent, None).await;
    let (_, viewer) = app.create_user(Role::Viewer, None).await;
    let template = serde_json::to_value(&rapport_domain::surveys::templates()[1]).unwrap();
    agent.post("/api/v1/surveys", &template).await.want(403);
    agent.put("/api/v1/survey-settings", &json!({ "quiet_days": 1 })).await.want(403);
    agent.post(&format!("/api/v1/surveys/{id}/audience"), &json!({ "query": "" })).await.want(403);
    let person = create_person_with(&agent, json!({ "first_name": "Sam" })).await;
    let outcome = agent
        .post(&format!("/api/v1/surveys/{id}/sends"), &json!({ "person_id": person.id, "email": false }))
        .await
        .want(200)
        .value();
    assert_eq!(outcome["outcome"], "sent");
    viewer
        .post(&format!("/api/v1/surveys/{id}/sends"), &json!({ "person_id": person.id, "email": false }))
        .await
        .want(403);
    let summary = viewer.get("/api/v1/feedback/summary").await.want(200).value();
    assert_eq!(summary["sent"], 1);
    bad_input_changes_nothing(&app.admin, id).await;
}

async fn bad_input_changes_nothing(admin: &Api, id: &str) {
    admin
        .put("/api/v1/survey-settings", &json!({ "public_url": "javascript:alert(1)" }))
        .await
        .want_error(422, "validation");
    let mut broken: Value = admin.get(&format!("/api/v1/surveys/{id}")).await.want(200).value();
    for key in ["id", "created_at", "updated_at", "created_by", "version"] {
        broken.as_object_mut().unwrap().remove(key);
    }
    broken["questions"] = json!([]);
    admin.put(&format!("/api/v1/surveys/{id}"), &broken).await.want_error(422, "validation");
    let stored = admin.get(&format!("/api/v1/surveys/{id}")).await.want(200).value();
    assert_eq!(stored["questions"].as_array().unwrap().len(), 2);
    admin.post(&format!("/api/v1/surveys/{id}/audience"), &json!({})).await.want_error(422, "validation");
}

async fn a_scheduled_survey_asks_its_audience_once_per_period(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _smtp = set_up_mail(&app).await;
    // No quiet period: only the survey's own schedule keeps the second run from asking again.
    app.admin.put("/api/v1/survey-settings", &json!({ "public_url": app.base_url, "quiet_days": 0 })).await.want(200);
    let mut customers = Vec::new();
    for name in ["Ann", "Bob"] {
        let body = json!({
            "first_name": name, "lifecycle_stage": "customer",
            "emails": [{ "address": format!("{}@example.com", name.to_lowercase()) }],
        });
        customers.push(create_person_with(&app.admin, body).await.id);
    }
    create_person_with(&app.admin, json!({ "first_name": "Lead", "emails": [{ "address": "lead@example.com" }] }))
        .await;
    let survey = app
        .admin
        .post(
            "/api/v1/surveys",
            &json!({
                "name": "Relationship NPS",
                "questions": [{ "key": "score", "kind": "nps", "text": "How likely are you to recommend us?" }],
                "trigger": { "on": "every", "months": 6, "audience": "lifecycle_stage=customer" },
            }),
        )
        .await
        .want(201)
        .value();
    let id = survey["id"].as_str().unwrap();

    // Run the schedule twice: the second run finds everyone's turn not yet come.
    for _ in 0..2 {
        let job = app.store.enqueue_job(NewJob::new("surveys.schedule", json!(null))).await.unwrap().expect("added");
        wait_for_job(&app.admin, job.id, JobStatus::Done).await;
    }
    let sends = app.admin.get(&format!("/api/v1/surveys/{id}/sends")).await.want(200).value();
    let mut asked: Vec<&str> =
        sends["items"].as_array().unwrap().iter().map(|s| s["person_id"].as_str().unwrap()).collect();
    asked.sort_unstable();
    let mut expected: Vec<String> = customers.iter().map(ToString::to_string).collect();
    expected.sort_unstable();
    assert_eq!(asked, expected, "each customer once, the lead never");
}
