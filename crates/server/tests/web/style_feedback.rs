//! Self-assessment and colleague feedback as pages: a staff member rates
//! themselves and reads the self view on their profile; colleagues asked for
//! feedback answer anonymously, and the round shows nothing until the third
//! answer, then means, spreads and comments without a name; who may open
//! which round or profile follows the role; admins edit the questions and
//! the development steps. Bad input shows the form again and writes nothing.

use rapport_domain::Role;
use rapport_domain::records::User;
use rapport_domain::style_feedback::{Questionnaire, StepCatalogue};

use crate::common::{Backend, TestApp, WebClient, actor_of, unescape};

backend_tests!(
    a_self_assessment_is_checked_saved_and_shown_on_the_profile,
    colleague_feedback_stays_anonymous_and_hidden_until_three_answered,
    admins_edit_the_questions_and_the_steps
);

/// Whether `html` names `user` (their name not followed by another digit,
/// as the test users are numbered).
fn mentions(html: &str, user: &User) -> bool {
    let name = user.fields.name.as_str();
    html.match_indices(name).any(|(at, _)| !html[at + name.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The ids in links starting with `prefix` on the page, in order.
fn linked_ids(html: &str, prefix: &str) -> Vec<String> {
    html.match_indices(prefix).map(|(at, _)| html[at + prefix.len()..at + prefix.len() + 36].to_owned()).collect()
}

/// Every question of the default questionnaire rated `rating`, as the form sends it.
fn all_rated(rating: &'static str) -> Vec<(String, &'static str)> {
    Questionnaire::default().questions.iter().map(|q| (format!("scores.{}", q.key.as_str()), rating)).collect()
}

async fn post_pairs(web: &WebClient, path: &str, pairs: &[(String, &str)]) -> crate::common::Resp {
    let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    web.post_form(path, &form).await
}

async fn a_self_assessment_is_checked_saved_and_shown_on_the_profile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.create_team("Care").await;
    let (agent, web) = app.web_user(Role::Agent, Some(team.id)).await;
    let actor = actor_of(&agent);

    // The Style page leads to the self-assessment and the feedback.
    let style = web.get("/style").await.want(200);
    assert!(style.text.contains("href=\"/style/assessment\"") && style.text.contains("href=\"/style/feedback\""));

    let page = web.get("/style/assessment").await.want(200);
    let text = unescape(&page.text);
    assert!(text.contains("You have not assessed yourself yet."), "{text}");
    for q in Questionnaire::default().questions {
        assert!(text.contains(q.text.as_str()), "the question {}", q.key.as_str());
        for value in 1..=5 {
            assert!(
                text.contains(&format!("name=\"scores.{}\" value=\"{value}\"", q.key.as_str())),
                "rating {value} of {}",
                q.key.as_str()
            );
        }
        assert!(text.contains(&format!("name=\"scores.{}\" value=\"\" checked", q.key.as_str())), "unrated at first");
    }
    assert!(text.contains("Can't judge"));
    assert!(!page.text.contains("style=") && !page.text.contains("<script>"), "the CSP allows neither");

    // Nothing rated: the form again, with the comment kept, and nothing written.
    let bad = web.post_form("/style/assessment", &[("scores.empathy", ""), ("comment", "Still learning")]).await;
    let bad = bad.want(422);
    assert!(unescape(&bad.text).contains("Rate at least one question."), "{}", bad.text);
    assert!(bad.text.contains("Still learning"), "the comment is kept");
    // A rating out of range: named beside its question, the other rating kept.
    let bad = web
        .post_form("/style/assessment", &[("scores.empathy", "9"), ("scores.clarity", "4"), ("comment", "Hm")])
        .await
        .want(422);
    assert!(bad.text.contains("must be a rating from 1 to 5"), "{}", bad.text);
    assert!(bad.text.contains("id=\"q-empathy-error\""), "the error sits with its question");
    assert!(bad.text.contains("name=\"scores.clarity\" value=\"4\" checked"), "the other rating is kept");
    let bad = web.post_form("/style/assessment", &[("scores.charm", "3")]).await.want(422);
    assert!(bad.text.contains("charm: is not a question of the questionnaire"), "{}", bad.text);
    // Without the form token: refused.
    web.post_raw("/style/assessment", &[("scores.empathy", "4")]).await.want(403);
    assert!(app.store.self_assessments(&actor, agent.id).await.unwrap().is_empty(), "nothing was written");

    // Saved: to the profile, where the self view shows.
    let mut form = all_rated("4");
    form.push(("scores.empathy".into(), "5"));
    form.retain(|(k, v)| !(k == "scores.empathy" && *v == "4"));
    form.push(("scores.product_knowledge".into(), ""));
    form.retain(|(k, v)| !(k == "scores.product_knowledge" && *v == "4"));
    form.push(("comment".into(), "I listen well"));
    let saved = post_pairs(&web, "/style/assessment", &form).await.want(303);
    assert_eq!(saved.header("location").unwrap(), format!("/style/{}", agent.id));
    let stored = app.store.self_assessments(&actor, agent.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].scores.len(), 10, "product knowledge was left unrated");
    assert_eq!(stored[0].comment.as_deref(), Some("I listen well"));

    let profile = web.get(&format!("/style/{}", agent.id)).await.want(200);
    let text = unescape(&profile.text);
    let table = &text[text.find("id=\"style-profile\"").expect("the profile table")..];
    let row = |key: &str| {
        let at = table.find(&format!("id=\"profile-{key}\"")).unwrap();
        table[at..at + table[at..].find("</tr>").unwrap()].to_owned()
    };
    // Personal touch: active listening 4, empathy 5, personal attention 4.
    assert!(row("personal_touch").contains("4.3/5"), "{}", row("personal_touch"));
    assert!(row("responsiveness").contains("4.0/5"), "{}", row("responsiveness"));
    assert!(row("outcomes").contains("4.0/5"), "customer outcomes only: {}", row("outcomes"));
    assert!(text.contains("Self view: the self-assessment of"));
    assert!(text.contains("No colleagues' view yet"));
    assert!(text.contains("href=\"/style/assessment\">Assess yourself</a>"), "own page");
    assert!(text.contains(&format!("/style/feedback?subject={}#ask", agent.id)), "ask for feedback");
    assert!(text.contains("Responsiveness") && text.contains("Rank in team"), "the scorecard is still there");

    let again = unescape(&web.get("/style/assessment").await.want(200).text);
    assert!(again.contains("You last assessed yourself on"), "{again}");

    // Someone else's profile: a manager of the team sees it, without the self-assessment link.
    let (_, manager) = app.web_user(Role::Manager, Some(team.id)).await;
    let seen = unescape(&manager.get(&format!("/style/{}", agent.id)).await.want(200).text);
    assert!(seen.contains("4.3/5"), "the manager sees the self view");
    assert!(!seen.contains("href=\"/style/assessment\">Assess yourself</a>"));
}

async fn colleague_feedback_stays_anonymous_and_hidden_until_three_answered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.create_team("Support").await;
    let other = app.create_team("Sales").await;
    let (manager, manager_web) = app.web_user(Role::Manager, Some(team.id)).await;
    let (subject, subject_web) = app.web_user(Role::Agent, Some(team.id)).await;
    let mut colleagues = Vec::new();
    for _ in 0..4 {
        colleagues.push(app.web_user(Role::Agent, Some(team.id)).await);
    }
    let (outsider, outsider_web) = app.web_user(Role::Agent, Some(other.id)).await;
    let admin = app.admin_actor();

    // The subject's form offers themselves only, and everyone else as a colleague.
    let page = subject_web.get("/style/feedback").await.want(200);
    let text = unescape(&page.text);
    assert!(text.contains("Nobody is waiting for your feedback."));
    assert!(text.contains("No feedback round yet."));
    let select = &text[text.find("name=\"subject_id\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.contains(&subject.id.to_string()) && !select.contains(&manager.id.to_string()), "{select}");
    assert!(!text.contains(&format!("name=\"colleague_ids\" value=\"{}\"", subject.id)), "not their own colleague");
    for (colleague, _) in &colleagues {
        assert!(text.contains(&format!("name=\"colleague_ids\" value=\"{}\"", colleague.id)));
    }

    // Two colleagues are too few: the form again with both ticked, nothing written.
    let (a, b, c) = (colleagues[0].0.id.to_string(), colleagues[1].0.id.to_string(), colleagues[2].0.id.to_string());
    let subject_id = subject.id.to_string();
    let bad = subject_web
        .post_form(
            "/style/feedback/rounds",
            &[("subject_id", &subject_id), ("colleague_ids", &a), ("colleague_ids", &b), ("open_days", "7")],
        )
        .await
        .want(422);
    assert!(bad.text.contains("ask at least 3 colleagues"), "{}", bad.text);
    assert!(
        bad.text.contains(&format!("value=\"{a}\" checked")) && bad.text.contains(&format!("value=\"{b}\" checked"))
    );
    assert!(bad.text.contains("value=\"7\""), "the days are kept");
    let bad = subject_web
        .post_form(
            "/style/feedback/rounds",
            &[
                ("subject_id", &subject_id),
                ("colleague_ids", &a),
                ("colleague_ids", &b),
                ("colleague_ids", &c),
                ("open_days", "400"),
            ],
        )
        .await
        .want(422);
    assert!(bad.text.contains("must be between 1 and 90"), "{}", bad.text);
    // An agent cannot ask about someone else.
    let bad = subject_web
        .post_form(
            "/style/feedback/rounds",
            &[
                ("subject_id", &manager.id.to_string()),
                ("colleague_ids", &a),
                ("colleague_ids", &b),
                ("colleague_ids", &c),
            ],
        )
        .await
        .want(422);
    assert!(bad.text.contains("is not a staff member you may ask about"), "{}", bad.text);
    subject_web
        .post_raw("/style/feedback/rounds", &[("subject_id", &subject_id), ("colleague_ids", &a)])
        .await
        .want(403);
    assert!(app.store.feedback_rounds(&admin, None).await.unwrap().is_empty(), "nothing was written");

    subject_web
        .post_form(
            "/style/feedback/rounds",
            &[
                ("subject_id", &subject_id),
                ("colleague_ids", &a),
                ("colleague_ids", &b),
                ("colleague_ids", &c),
                ("note", "How do I come across on calls?"),
            ],
        )
        .await
        .want(303);
    let rounds = app.store.feedback_rounds(&admin, None).await.unwrap();
    assert_eq!(rounds.len(), 1);
    let round_path = format!("/style/feedback/rounds/{}", rounds[0].id);
    let listed = subject_web.get("/style/feedback").await.want(200);
    assert!(listed.text.contains(&round_path) && listed.text.contains("0 of 3"), "{}", listed.text);

    // Who may open the round: the subject, their manager, an admin; not a teammate or an outsider.
    manager_web.get(&round_path).await.want(200);
    app.web_admin().await.get(&round_path).await.want(200);
    colleagues[3].1.get(&round_path).await.want(404);
    outsider_web.get(&round_path).await.want(404);
    colleagues[0].1.get(&format!("/style/{}", subject.id)).await.want(404);
    outsider_web.get(&format!("/style/{}", subject.id)).await.want(404);
    manager_web.get(&format!("/style/{}", subject.id)).await.want(200);
    manager_web.get(&format!("/style/{}", outsider.id)).await.want(404);
    assert!(!outsider_web.get("/style/feedback").await.want(200).text.contains(&round_path));
    assert!(manager_web.get("/style/feedback").await.want(200).text.contains(&round_path), "the team's rounds");

    // A colleague sees the request, counted on the Style page, and its anonymous form.
    let colleague_web = &colleagues[0].1;
    let style = colleague_web.get("/style").await.want(200);
    assert!(style.text.contains("<span class=\"badge\">1<span"), "one open request: {}", style.text);
    let asked = colleague_web.get("/style/feedback").await.want(200);
    let requests = linked_ids(&asked.text, "/style/feedback/requests/");
    assert_eq!(requests.len(), 1, "{}", asked.text);
    assert!(mentions(&asked.text, &subject), "whom the request is about");
    let request_path = format!("/style/feedback/requests/{}", requests[0]);
    // Nobody else can open or answer it.
    colleagues[1].1.get(&request_path).await.want(404);
    colleagues[1].1.post_form(&request_path, &[("scores.empathy", "1")]).await.want(404);
    let form = unescape(&colleague_web.get(&request_path).await.want(200).text);
    assert!(form.contains("Your answer is anonymous."), "{form}");
    assert!(form.contains("only once at least 3 colleagues have answered"));
    assert!(form.contains("How do I come across on calls?"));
    assert!(form.contains("name=\"scores.empathy\" value=\"5\""));
    // Nothing rated: shown again, nothing counted.
    let bad = colleague_web.post_form(&request_path, &[("comment", "Great")]).await.want(422);
    assert!(unescape(&bad.text).contains("Rate at least one question."));
    assert!(bad.text.contains("Great"));
    colleague_web.post_raw(&request_path, &[("scores.empathy", "4")]).await.want(403);
    assert_eq!(app.store.feedback_round(&admin, rounds[0].id).await.unwrap().answered, 0);

    // Three answers, each a different colleague.
    let answers: [(&str, &str, &str); 3] =
        [("5", "4", "Always patient with callers"), ("4", "2", "Replies could be faster"), ("3", "3", "")];
    for (i, (empathy, clarity, comment)) in answers.into_iter().enumerate() {
        let web = &colleagues[i].1;
        let path = if i == 0 {
            request_path.clone()
        } else {
            let page = web.get("/style/feedback").await.want(200);
            format!("/style/feedback/requests/{}", linked_ids(&page.text, "/style/feedback/requests/")[0])
        };
        let done = web
            .post_form(&path, &[("scores.empathy", empathy), ("scores.clarity", clarity), ("comment", comment)])
            .await
            .want(303);
        assert_eq!(done.header("location").as_deref(), Some("/style/feedback"));
        let thanks = web.get("/style/feedback").await.want(200);
        assert!(thanks.text.contains("Thank you for your feedback."), "the flash: {}", thanks.text);
        assert!(thanks.text.contains("Nobody is waiting for your feedback."));
        web.get(&path).await.want(404);

        let round = unescape(&subject_web.get(&round_path).await.want(200).text);
        assert!(round.contains(&format!("{} of 3", i + 1)), "{round}");
        if i < 2 {
            assert!(round.contains("Results show once 3 colleagues have answered."), "{round}");
            assert!(!round.contains("Always patient") && !round.contains("id=\"round-questions\""), "{round}");
        }
    }
    // A used request cannot be answered again.
    colleague_web.post_form(&request_path, &[("scores.empathy", "1")]).await.want(404);

    let round = unescape(&subject_web.get(&round_path).await.want(200).text);
    assert!(!round.contains("Results show once"), "{round}");
    let questions = &round[round.find("id=\"round-questions\"").unwrap()..];
    assert!(questions.contains("<td class=\"num\">4.0</td>"), "empathy's mean: {questions}");
    assert!(questions.contains("<td class=\"num\">3.0</td>"), "clarity's mean: {questions}");
    assert!(questions.contains("Rated 5 (always) by 1 of 3"), "the spread: {questions}");
    let dimensions = &round[round.find("id=\"round-dimensions\"").unwrap()..];
    assert!(dimensions.contains("Personal touch</th><td class=\"num\">4.0</td>"), "{dimensions}");
    let comments = &round[round.find("id=\"round-comments\"").unwrap()..];
    let always = comments.find("Always patient").unwrap();
    let replies = comments.find("Replies could be faster").unwrap();
    assert!(always < replies, "comments in alphabetical order");
    for (colleague, _) in &colleagues {
        assert!(!mentions(&round, colleague), "the round names {}", colleague.fields.name);
    }
    for page in [manager_web.get(&round_path).await, app.web_admin().await.get(&round_path).await] {
        let text = unescape(&page.want(200).text);
        for (colleague, _) in &colleagues {
            assert!(!mentions(&text, colleague), "the round names {}", colleague.fields.name);
        }
    }

    // The profile now has the colleagues' view: personal touch is empathy alone, 4.0.
    let profile = unescape(&subject_web.get(&format!("/style/{}", subject.id)).await.want(200).text);
    let row = &profile[profile.find("id=\"profile-personal_touch\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("4.0/5"), "{row}");
    assert!(profile.contains("Colleagues' view: <a href=\""), "the round it comes from");
    assert!(profile.contains(&round_path));
}

async fn admins_edit_the_questions_and_the_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.web_admin().await;
    let (_, agent) = app.web_user(Role::Agent, None).await;
    let (_, manager) = app.web_user(Role::Manager, None).await;
    agent.get("/settings/style").await.want(403);
    manager.get("/settings/style").await.want(403);
    agent.post_form("/settings/style/questions", &[("q0.key", "x"), ("q0.dimension", "outcomes")]).await.want(403);
    assert!(!agent.get("/settings/tokens").await.want(200).text.contains("/settings/style"), "no tab for agents");

    let page = admin.get("/settings/style").await.want(200);
    assert!(page.text.contains("href=\"/settings/style\" aria-current=\"page\">Style</a>"), "the settings tab");
    let defaults = Questionnaire::default();
    assert!(page.text.contains("name=\"q10.key\" value=\"customer_outcomes\""));
    assert!(page.text.contains("name=\"q13.key\" value=\"\""), "three empty rows to add");
    assert!(page.text.contains("name=\"s14.text\""));

    // Every row as the page sends it, with changes.
    let mut rows: Vec<(String, String)> = Vec::new();
    for (i, q) in defaults.questions.iter().enumerate() {
        rows.push((format!("q{i}.key"), q.key.as_str().to_owned()));
        rows.push((format!("q{i}.dimension"), q.dimension.as_str().to_owned()));
        rows.push((format!("q{i}.text"), q.text.to_string()));
    }
    let send = |extra: Vec<(String, String)>| {
        let mut all = rows.clone();
        all.extend(extra);
        all
    };
    let post = |pairs: Vec<(String, String)>| {
        let admin = admin.clone();
        async move {
            let form: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            admin.post_form("/settings/style/questions", &form).await
        }
    };
    // A duplicate key, a bad key and a row without a dimension: each named in its row.
    let bad = post(send(vec![
        ("q11.key".into(), "empathy".into()),
        ("q11.dimension".into(), "personal_touch".into()),
        ("q11.text".into(), "Shows it twice".into()),
        ("q12.key".into(), "Bad Key".into()),
        ("q12.dimension".into(), "".into()),
        ("q12.text".into(), "Something".into()),
    ]))
    .await
    .want(422);
    let text = unescape(&bad.text);
    assert!(text.contains("id=\"q12-key-error\">Key must be 1–32 lower-case letters"), "{text}");
    assert!(text.contains("id=\"q12-dimension-error\">Dimension: choose a dimension"));
    assert!(text.contains("value=\"Shows it twice\""), "typed values are kept");
    // With the bad row fixed, the duplicate is refused by the questionnaire's check, in its row.
    let bad = post(send(vec![
        ("q11.key".into(), "empathy".into()),
        ("q11.dimension".into(), "personal_touch".into()),
        ("q11.text".into(), "Shows it twice".into()),
    ]))
    .await
    .want(422);
    assert!(bad.text.contains("id=\"q11-key-error\">Key is used by another question"), "{}", bad.text);
    assert_eq!(app.store.style_questionnaire().await.unwrap(), defaults, "nothing was written");

    // Remove one, add one: saved.
    post(send(vec![
        ("q3.remove".into(), "true".into()),
        ("q11.key".into(), "honesty".into()),
        ("q11.dimension".into(), "outcomes".into()),
        ("q11.text".into(), "Tells customers the truth, also when it is unwelcome.".into()),
        ("q12.key".into(), "".into()),
        ("q12.dimension".into(), "".into()),
        ("q12.text".into(), "".into()),
    ]))
    .await
    .want(303);
    let saved = app.store.style_questionnaire().await.unwrap();
    assert_eq!(saved.questions.len(), 11);
    assert!(!saved.questions.iter().any(|q| q.key.as_str() == "organisation"), "removed");
    assert_eq!(saved.questions.last().unwrap().key.as_str(), "honesty");
    let page = admin.get("/settings/style").await.want(200);
    assert!(page.text.contains("The 11 questions were saved."));
    // The new question is asked in the self-assessment.
    assert!(unescape(&agent.get("/style/assessment").await.want(200).text).contains("Tells customers the truth"));

    // The steps: a step without text is refused in its row; then one removed.
    let catalogue = StepCatalogue::default();
    let mut steps: Vec<(String, String)> = Vec::new();
    for (i, s) in catalogue.steps.iter().enumerate() {
        steps.push((format!("s{i}.dimension"), s.dimension.as_str().to_owned()));
        steps.push((format!("s{i}.text"), s.text.to_string()));
    }
    let mut bad_steps = steps.clone();
    bad_steps.push(("s15.dimension".into(), "outcomes".into()));
    bad_steps.push(("s15.text".into(), "".into()));
    let form: Vec<(&str, &str)> = bad_steps.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bad = admin.post_form("/settings/style/steps", &form).await.want(422);
    assert!(bad.text.contains("id=\"s15-text-error\">Step must not be empty"), "{}", bad.text);
    assert_eq!(app.store.style_step_catalogue().await.unwrap(), catalogue, "nothing was written");
    steps.push(("s0.remove".into(), "true".into()));
    let form: Vec<(&str, &str)> = steps.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin.post_form("/settings/style/steps", &form).await.want(303);
    let saved = app.store.style_step_catalogue().await.unwrap();
    assert_eq!(saved.steps.len(), catalogue.steps.len() - 1);
    assert_eq!(saved.steps[0], catalogue.steps[1]);
    admin.post_raw("/settings/style/steps", &form).await.want(403);
}
