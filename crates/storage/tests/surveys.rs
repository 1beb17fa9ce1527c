//! Customer feedback surveys against a real database, on SQLite and
//! PostgreSQL: admins build surveys from the shipped templates; sending
//! needs the public address and skips whoever asked not to be contacted,
//! was asked recently, has no email or cannot be emailed; personal links
//! open, are stored hashed and take one answer whose comment is scored; an
//! unhappy answer opens one follow-up task for the customer's owner;
//! unsubscribing stops further sends; recorded answers upsert by their
//! external id; a deleted customer's sends and answers go to the trash and
//! come back; unanswered links are reminded once, on a fresh link.
//!
//! The personal link's expiry and the 24-hour edit window are read against
//! the clock (`open_survey_link` has no `_at` variant taking an instant), so
//! the `Expired` and `Used` states cannot be reached from here; what can be
//! checked is that an expired link is no longer reminded.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::BTreeMap;

use common::{open, user};
use rapport_domain::history::RecordKind;
use rapport_domain::mail::{Host, MailSecurity, OutboxStatus, Secret, SmtpSettingsInput};
use rapport_domain::records::PersonInput;
use rapport_domain::surveys::{
    AnswerSource, AnswerSubject, NpsGroup, PublicUrl, SendInput, SendOutcome, SendStatus, SkipReason, Survey,
    SurveySettings, templates,
};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, PersonId, Role, UserId};
use rapport_storage::{AnswerFilter, LinkState, ListQuery, RecordedAnswer, StorageError, Store, TaskFilter};
use rapport_testing::Backend;
use serde_json::json;
use time::{Duration, OffsetDateTime};

backend_tests!(
    admins_build_surveys_from_the_templates,
    sending_needs_the_public_address_and_skips_who_should_not_be_asked,
    a_personal_link_opens_only_with_its_exact_token,
    an_answer_on_a_link_is_scored_and_a_detractor_gets_one_follow_up,
    unsubscribing_stops_further_surveys,
    recorded_answers_upsert_by_external_id_and_filter_by_nps_group,
    a_deleted_customer_takes_their_sends_and_answers_to_the_trash_and_back,
    unanswered_links_are_reminded_once_on_a_fresh_link,
);

async fn customer(store: &Store, admin: &Actor, first: &str, email: Option<&str>, owner: Option<UserId>) -> PersonId {
    let emails = match email {
        Some(address) => json!([{ "address": address, "primary": true }]),
        None => json!([]),
    };
    let input: PersonInput =
        serde_json::from_value(json!({ "first_name": first, "emails": emails, "owner_id": owner })).expect("a person");
    store.create_person(admin, input).await.expect("create a person").id
}

fn smtp() -> SmtpSettingsInput {
    SmtpSettingsInput {
        // Nothing listens there: the outbox row is only queued, never sent here.
        host: Host::try_from("127.0.0.1".to_owned()).unwrap(),
        port: 2525,
        security: MailSecurity::None,
        username: None,
        password: Some(Secret::parse("secret").unwrap()),
        from_address: Email::parse("feedback@shop.example").unwrap(),
        from_name: None,
    }
}

/// The survey settings with a public address and the given quiet period.
async fn public(store: &Store, admin: &Actor, quiet_days: u16) {
    let settings =
        SurveySettings { public_url: Some(PublicUrl::parse("https://crm.shop.example").unwrap()), quiet_days };
    store.set_survey_settings(admin, settings).await.expect("survey settings");
}

/// The shipped NPS survey, created.
async fn nps_survey(store: &Store, admin: &Actor) -> Survey {
    store.create_survey(admin, templates()[0].clone()).await.expect("create the NPS survey")
}

fn to(person: PersonId, email: bool) -> SendInput {
    SendInput { person_id: person, subject: AnswerSubject::default(), email }
}

/// The token at the end of a personal link.
fn token_of(link: &str) -> String {
    let (base, token) = link.rsplit_once("/s/").expect("a personal link");
    assert_eq!(base, "https://crm.shop.example");
    token.to_owned()
}

fn sent(outcome: SendOutcome) -> (rapport_domain::surveys::SurveySend, String) {
    match outcome {
        SendOutcome::Sent { send, link } => (send, link),
        other => panic!("expected a send, got {other:?}"),
    }
}

fn skipped(outcome: SendOutcome) -> SkipReason {
    match outcome {
        SendOutcome::Skipped { reason } => reason,
        other => panic!("expected a skip, got {other:?}"),
    }
}

fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs {
        map.entry((*key).to_owned()).or_default().push((*value).to_owned());
    }
    map
}

async fn open_tasks(store: &Store, person: PersonId) -> Vec<rapport_domain::records::Task> {
    let filter = TaskFilter { person_id: Some(person), ..Default::default() };
    store.list_tasks(&ListQuery::default(), &filter).await.expect("list tasks").items
}

async fn admins_build_surveys_from_the_templates(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let mut made = Vec::new();
    for template in templates() {
        let survey = store.create_survey(&admin, template.clone()).await.expect("create from a template");
        assert_eq!(survey.fields, template);
        assert_eq!(survey.meta.created_by, Some(admin.user_id));
        made.push(survey);
    }
    let listed = store.list_surveys().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|s| s.fields.name.as_str()).collect();
    assert_eq!(names, ["Customer effort", "Net Promoter Score", "Support satisfaction"], "by name");
    assert_eq!(store.get_survey(made[0].id).await.unwrap(), made[0]);

    // Agents answer and send surveys but do not build them.
    let agent = user(&store, "Agent", Role::Agent, None).await;
    let denied = store.create_survey(&agent, templates()[0].clone()).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    let denied = store.update_survey(&agent, made[0].id, templates()[0].clone(), None).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
    let denied = store.set_survey_settings(&agent, SurveySettings::default()).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");

    // Invalid input is refused with the field named.
    let mut twins = templates()[0].clone();
    twins.questions[1].key = twins.questions[0].key.clone();
    match store.create_survey(&admin, twins).await {
        Err(StorageError::Invalid(errors)) => assert!(errors.get("questions[1].key").is_some(), "{errors:?}"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let mut reminder_too_late = templates()[0].clone();
    reminder_too_late.reminder_days = Some(reminder_too_late.expiry_days);
    match store.update_survey(&admin, made[0].id, reminder_too_late, None).await {
        Err(StorageError::Invalid(errors)) => assert!(errors.get("reminder_days").is_some(), "{errors:?}"),
        other => panic!("expected invalid input, got {other:?}"),
    }

    // An update bumps the version; a stale version is a conflict.
    let mut renamed = made[0].fields.clone();
    renamed.name = Name::try_from("Relationship NPS").unwrap();
    let updated = store.update_survey(&admin, made[0].id, renamed.clone(), Some(made[0].meta.version)).await.unwrap();
    assert_eq!(updated.fields.name.as_str(), "Relationship NPS");
    assert_eq!(updated.meta.version, made[0].meta.version + 1);
    let stale = store.update_survey(&admin, made[0].id, renamed, Some(made[0].meta.version)).await;
    assert!(matches!(stale, Err(StorageError::VersionMismatch { .. })), "{stale:?}");
}

async fn sending_needs_the_public_address_and_skips_who_should_not_be_asked(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let survey = nps_survey(&store, &admin).await;
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), None).await;

    let no_address = store.send_survey(&admin, survey.id, to(ada, false)).await;
    assert!(matches!(&no_address, Err(StorageError::Conflict(m)) if m.contains("public address")), "{no_address:?}");

    public(&store, &admin, 30).await;
    // Emailing needs outgoing mail; copying the link does not.
    assert_eq!(skipped(store.send_survey(&admin, survey.id, to(ada, true)).await.unwrap()), SkipReason::MailNotSetUp);
    store.set_smtp_settings(&admin, smtp()).await.unwrap();
    let before = store.outbox_backlog().await.unwrap();
    let (first, link) = sent(store.send_survey(&admin, survey.id, to(ada, true)).await.unwrap());
    assert!(first.emailed);
    assert_eq!(first.status, SendStatus::Sent);
    assert_eq!(first.expires_at - first.sent_at, Duration::days(i64::from(survey.fields.expiry_days)));
    assert!(token_of(&link).len() >= 22, "at least 128 random bits: {link}");
    assert_eq!(store.outbox_backlog().await.unwrap(), before + 1, "the email is queued");
    // The queued invitation carries the link; once it is out, the outbox keeps no usable token.
    let jobs = store.list_jobs(None, &Default::default()).await.unwrap();
    let job = jobs.iter().find(|job| job.kind == "mail.send").expect("a send job waits");
    let outbox_id = serde_json::from_value(job.payload["outbox_id"].clone()).unwrap();
    assert!(store.outbox_message(outbox_id).await.unwrap().body.contains(&link));
    store.record_send_attempt(outbox_id, OutboxStatus::Queued, "421 try later").await.unwrap();
    assert!(store.outbox_message(outbox_id).await.unwrap().body.contains(&link), "kept for the next try");
    store.record_send_attempt(outbox_id, OutboxStatus::Sent, "250 ok").await.unwrap();
    let kept = store.outbox_message(outbox_id).await.unwrap().body;
    assert!(!kept.contains(&token_of(&link)), "{kept}");
    assert!(kept.contains("/s/…") && kept.contains("Ada"), "{kept}");
    assert!(matches!(store.open_survey_link(&token_of(&link)).await.unwrap(), LinkState::Open { .. }));

    // Asked within the quiet period, by any survey.
    assert_eq!(skipped(store.send_survey(&admin, survey.id, to(ada, false)).await.unwrap()), SkipReason::QuietPeriod);
    let csat = store.create_survey(&admin, templates()[1].clone()).await.unwrap();
    assert_eq!(skipped(store.send_survey(&admin, csat.id, to(ada, true)).await.unwrap()), SkipReason::QuietPeriod);

    // Without a quiet period she may be asked again.
    public(&store, &admin, 0).await;
    let (second, _) = sent(store.send_survey(&admin, csat.id, to(ada, false)).await.unwrap());
    assert!(!second.emailed, "a link to copy");
    assert_eq!(store.outbox_backlog().await.unwrap(), before, "the first went out, nothing more queued");

    let nomail = customer(&store, &admin, "Nomail", None, None).await;
    assert_eq!(skipped(store.send_survey(&admin, survey.id, to(nomail, true)).await.unwrap()), SkipReason::NoEmail);
    sent(store.send_survey(&admin, survey.id, to(nomail, false)).await.unwrap());

    let quiet = customer(&store, &admin, "Quiet", Some("quiet@example.com"), None).await;
    let mut person = store.get_person(quiet).await.unwrap();
    person.fields.preferences.do_not_contact = true;
    store.update_person(&admin, quiet, person.fields, None).await.unwrap();
    for email in [true, false] {
        let outcome = store.send_survey(&admin, survey.id, to(quiet, email)).await.unwrap();
        assert_eq!(skipped(outcome), SkipReason::DoNotContact);
    }

    let sends = store.survey_sends(survey.id, 10).await.unwrap();
    assert_eq!(sends.len(), 2, "Ada's and Nomail's");
    assert_eq!(store.sends_count(Some(survey.id), None, None).await.unwrap(), (2, 0));
    assert_eq!(store.sends_count(None, None, None).await.unwrap(), (3, 0));

    // A survey switched off is not sent; a viewer sends nothing.
    let mut off = survey.fields.clone();
    off.active = false;
    store.update_survey(&admin, survey.id, off, None).await.unwrap();
    let refused = store.send_survey(&admin, survey.id, to(ada, false)).await;
    assert!(matches!(refused, Err(StorageError::Conflict(_))), "{refused:?}");
    let viewer = user(&store, "Viewer", Role::Viewer, None).await;
    let refused = store.send_survey(&viewer, csat.id, to(ada, false)).await;
    assert!(matches!(refused, Err(StorageError::Denied(_))), "{refused:?}");
}

async fn a_personal_link_opens_only_with_its_exact_token(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    public(&store, &admin, 30).await;
    let survey = nps_survey(&store, &admin).await;
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), None).await;
    let (send, link) = sent(store.send_survey(&admin, survey.id, to(ada, false)).await.unwrap());
    let token = token_of(&link);

    match store.open_survey_link(&token).await.unwrap() {
        LinkState::Open { survey: opened, send: send_id, answer } => {
            assert_eq!(opened.id, survey.id);
            assert_eq!(send_id, send.id);
            assert!(answer.is_none());
        }
        other => panic!("expected the open survey, got {other:?}"),
    }
    // Only the hash is stored: nothing near the token opens anything.
    let swapped: String = token
        .chars()
        .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect();
    let near = [
        swapped,
        token[..token.len() - 1].to_owned(),
        format!("{token}x"),
        String::new(),
        "unknown".to_owned(),
        token.repeat(2),
    ];
    for wrong in near {
        assert!(matches!(store.open_survey_link(&wrong).await.unwrap(), LinkState::Unknown), "{wrong:?}");
        assert!(store.answer_survey_link(&wrong, &given(&[("score", "9")])).await.unwrap().is_none());
        assert!(!store.unsubscribe_survey_link(&wrong).await.unwrap());
    }

    // An answer that breaks the survey's rules is refused with the question named.
    match store.answer_survey_link(&token, &given(&[("score", "11")])).await {
        Err(StorageError::Invalid(errors)) => assert!(errors.get("score").is_some(), "{errors:?}"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let state = store.open_survey_link(&token).await.unwrap();
    assert!(matches!(state, LinkState::Open { answer: None, .. }), "nothing was stored: {state:?}");
}

async fn an_answer_on_a_link_is_scored_and_a_detractor_gets_one_follow_up(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    public(&store, &admin, 30).await;
    let survey = nps_survey(&store, &admin).await;
    let owner = user(&store, "Owner", Role::Agent, None).await;
    let staff = user(&store, "Staff", Role::Agent, None).await;
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), Some(owner.user_id)).await;
    let input = SendInput {
        person_id: ada,
        subject: AnswerSubject { staff_id: Some(staff.user_id), ..Default::default() },
        email: false,
    };
    let (send, link) = sent(store.send_survey(&staff, survey.id, input).await.unwrap());
    let token = token_of(&link);

    let comment = "The delivery was late again and the support was terrible. Very disappointed.";
    let (answered_survey, answer) =
        store.answer_survey_link(&token, &given(&[("score", "3"), ("why", comment)])).await.unwrap().expect("open");
    assert_eq!(answered_survey.id, survey.id);
    assert_eq!((answer.score, answer.nps_group()), (Some(3), Some(NpsGroup::Detractor)));
    assert_eq!(answer.source, AnswerSource::Link);
    assert_eq!(answer.send_id, Some(send.id));
    assert_eq!(answer.person_id, ada);
    assert_eq!(answer.subject.staff_id, Some(staff.user_id), "the staff member it was sent about");
    assert_eq!(answer.comment.as_deref(), Some(comment));
    let sentiment = answer.sentiment.expect("the comment is scored");
    assert!(sentiment < 0.0, "{sentiment}");
    assert_eq!(answer.sentiment_label.as_deref(), Some("negative"));
    assert!(!answer.phrases.is_empty(), "key phrases are kept");
    assert!(answer.phrases.iter().any(|p| p.contains("delivery")), "{:?}", answer.phrases);
    assert_eq!(store.get_answer(answer.id).await.unwrap(), answer);

    let sends = store.survey_sends(survey.id, 10).await.unwrap();
    assert_eq!(sends[0].status, SendStatus::Answered);
    assert!(sends[0].answered_at.is_some());
    assert_eq!(store.sends_count(Some(survey.id), None, None).await.unwrap(), (1, 1));

    // One follow-up task, for the customer's owner, with the answer in it.
    let tasks = open_tasks(&store, ada).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task = &tasks[0];
    assert_eq!(Some(task.id), answer.follow_up_task_id);
    assert_eq!(task.fields.assignee_id, Some(owner.user_id), "the owner, not the staff member");
    assert!(task.fields.title.as_str().contains("NPS 3"), "{}", task.fields.title);
    assert!(task.fields.notes.as_ref().is_some_and(|n| n.as_str().contains("late again")));

    // Within the edit window the same link shows and changes the answer.
    match store.open_survey_link(&token).await.unwrap() {
        LinkState::Open { answer: Some(shown), .. } => assert_eq!(shown.id, answer.id),
        other => panic!("expected the answer to edit, got {other:?}"),
    }
    let (_, edited) =
        store.answer_survey_link(&token, &given(&[("score", "2"), ("why", "Still late.")])).await.unwrap().unwrap();
    assert_eq!(edited.id, answer.id, "the same answer");
    assert_eq!(edited.score, Some(2));
    assert_eq!(edited.follow_up_task_id, answer.follow_up_task_id, "no second follow-up");
    assert_eq!(open_tasks(&store, ada).await.len(), 1);
    assert_eq!(store.list_answers(&AnswerFilter::default(), 10).await.unwrap().len(), 1);

    // A happy answer opens nothing; a customer without an owner gets a task for the staff member.
    let bea = customer(&store, &admin, "Bea", None, None).await;
    let (_, link) = sent(store.send_survey(&admin, survey.id, to(bea, false)).await.unwrap());
    let (_, happy) = store
        .answer_survey_link(&token_of(&link), &given(&[("score", "10"), ("why", "Friendly support, great service!")]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(happy.follow_up_task_id, None);
    assert_eq!(happy.sentiment_label.as_deref(), Some("positive"));
    assert!(happy.sentiment.unwrap() > 0.0);
    assert!(open_tasks(&store, bea).await.is_empty());

    let cy = customer(&store, &admin, "Cy", None, None).await;
    let input = SendInput {
        person_id: cy,
        subject: AnswerSubject { staff_id: Some(staff.user_id), ..Default::default() },
        email: false,
    };
    let (_, link) = sent(store.send_survey(&admin, survey.id, input).await.unwrap());
    let (_, unhappy) = store.answer_survey_link(&token_of(&link), &given(&[("score", "0")])).await.unwrap().unwrap();
    assert_eq!(unhappy.comment, None);
    assert_eq!(unhappy.sentiment, None, "no comment, no sentiment");
    let tasks = open_tasks(&store, cy).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].fields.assignee_id, Some(staff.user_id));

    // An owner who has left: the task goes to the next one still active.
    let dee = customer(&store, &admin, "Dee", None, Some(owner.user_id)).await;
    store.deactivate_user(&admin, owner.user_id).await.unwrap();
    let input = SendInput {
        person_id: dee,
        subject: AnswerSubject { staff_id: Some(staff.user_id), ..Default::default() },
        email: false,
    };
    let (_, link) = sent(store.send_survey(&admin, survey.id, input).await.unwrap());
    store.answer_survey_link(&token_of(&link), &given(&[("score", "1")])).await.unwrap().expect("answered");
    let tasks = open_tasks(&store, dee).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].fields.assignee_id, Some(staff.user_id), "the staff member, not the owner who left");
}

async fn unsubscribing_stops_further_surveys(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    public(&store, &admin, 0).await;
    let survey = nps_survey(&store, &admin).await;
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), None).await;
    let (_, link) = sent(store.send_survey(&admin, survey.id, to(ada, false)).await.unwrap());
    assert!(!store.get_person(ada).await.unwrap().fields.preferences.do_not_contact);

    assert!(store.unsubscribe_survey_link(&token_of(&link)).await.unwrap());
    let person = store.get_person(ada).await.unwrap();
    assert!(person.fields.preferences.do_not_contact);
    assert!(store.unsubscribe_survey_link(&token_of(&link)).await.unwrap(), "twice is fine");
    assert_eq!(store.get_person(ada).await.unwrap().meta.version, person.meta.version, "and changes nothing more");

    for email in [false, true] {
        let outcome = store.send_survey(&admin, survey.id, to(ada, email)).await.unwrap();
        assert_eq!(skipped(outcome), SkipReason::DoNotContact);
    }
}

async fn recorded_answers_upsert_by_external_id_and_filter_by_nps_group(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let survey = nps_survey(&store, &admin).await;
    let agent = user(&store, "Agent", Role::Agent, None).await;
    let ada = customer(&store, &admin, "Ada", None, Some(agent.user_id)).await;
    let bea = customer(&store, &admin, "Bea", None, None).await;
    let answered_at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - Duration::days(40);
    let record = |person, score: &str, external: Option<&str>, source| RecordedAnswer {
        survey_id: survey.id,
        person_id: person,
        subject: AnswerSubject { staff_id: Some(agent.user_id), ..Default::default() },
        given: given(&[("score", score), ("why", "The price is fair")]),
        answered_at: Some(answered_at),
        source,
        external_id: external.map(|e| Name::try_from(e).unwrap()),
    };

    let first = store.record_answer(&agent, record(ada, "6", Some("legacy-17"), AnswerSource::Import)).await.unwrap();
    assert_eq!(first.source, AnswerSource::Import);
    assert_eq!(first.answered_at, answered_at);
    assert_eq!(first.send_id, None);
    assert!(first.follow_up_task_id.is_some(), "an imported detractor is followed up too");
    let again = store.record_answer(&agent, record(ada, "9", Some("legacy-17"), AnswerSource::Import)).await.unwrap();
    assert_eq!(again.id, first.id, "upserted by its external id");
    assert_eq!(again.score, Some(9));
    assert_eq!(again.follow_up_task_id, first.follow_up_task_id, "the follow-up stays");
    assert_eq!(store.list_answers(&AnswerFilter::default(), 10).await.unwrap().len(), 1);
    assert_eq!(open_tasks(&store, ada).await.len(), 1);

    store.record_answer(&agent, record(bea, "7", None, AnswerSource::Phone)).await.unwrap();
    store.record_answer(&agent, record(bea, "2", None, AnswerSource::Phone)).await.unwrap();
    store.record_answer(&agent, record(bea, "10", Some("legacy-18"), AnswerSource::Import)).await.unwrap();
    let count = |group| {
        let store = &store;
        async move {
            let filter = AnswerFilter { nps_group: Some(group), ..Default::default() };
            store.list_answers(&filter, 10).await.unwrap().iter().map(|a| a.score.unwrap()).collect::<Vec<_>>()
        }
    };
    let mut promoters = count(NpsGroup::Promoter).await;
    promoters.sort();
    assert_eq!(promoters, [9, 10]);
    assert_eq!(count(NpsGroup::Passive).await, [7]);
    assert_eq!(count(NpsGroup::Detractor).await, [2]);

    let by_person = AnswerFilter { person_id: Some(bea), ..Default::default() };
    assert_eq!(store.list_answers(&by_person, 10).await.unwrap().len(), 3);
    let recent = AnswerFilter { from: Some(answered_at + Duration::days(1)), ..Default::default() };
    assert!(store.list_answers(&recent, 10).await.unwrap().is_empty());
    let period =
        AnswerFilter { from: Some(answered_at), to: Some(answered_at + Duration::seconds(1)), ..Default::default() };
    assert_eq!(store.feedback_rows(&period).await.unwrap().len(), 4);

    // Bad answers are refused with the question named; viewers record nothing.
    match store
        .record_answer(
            &agent,
            RecordedAnswer { given: given(&[("why", "x")]), ..record(ada, "1", None, AnswerSource::Phone) },
        )
        .await
    {
        Err(StorageError::Invalid(errors)) => assert!(errors.get("score").is_some(), "{errors:?}"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let viewer = user(&store, "Viewer", Role::Viewer, None).await;
    let denied = store.record_answer(&viewer, record(ada, "5", None, AnswerSource::Phone)).await;
    assert!(matches!(denied, Err(StorageError::Denied(_))), "{denied:?}");
}

async fn a_deleted_customer_takes_their_sends_and_answers_to_the_trash_and_back(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    public(&store, &admin, 30).await;
    let survey = nps_survey(&store, &admin).await;
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), None).await;
    let bea = customer(&store, &admin, "Bea", None, None).await;
    let (_, link) = sent(store.send_survey(&admin, survey.id, to(ada, false)).await.unwrap());
    let (_, answered) =
        store.answer_survey_link(&token_of(&link), &given(&[("score", "8"), ("why", "Good")])).await.unwrap().unwrap();
    let phoned = RecordedAnswer {
        survey_id: survey.id,
        person_id: ada,
        subject: AnswerSubject::default(),
        given: given(&[("score", "9")]),
        answered_at: None,
        source: AnswerSource::Phone,
        external_id: None,
    };
    store.record_answer(&admin, phoned).await.unwrap();
    sent(store.send_survey(&admin, survey.id, to(bea, false)).await.unwrap());
    let before = store.list_answers(&AnswerFilter::default(), 10).await.unwrap();
    assert_eq!(before.len(), 2);

    store.delete_person(&admin, ada).await.unwrap();
    assert!(store.list_answers(&AnswerFilter::default(), 10).await.unwrap().is_empty());
    assert_eq!(store.survey_sends(survey.id, 10).await.unwrap().len(), 1, "Bea's stays");
    assert!(matches!(store.open_survey_link(&token_of(&link)).await.unwrap(), LinkState::Unknown));
    let trash = store.list_trash(Some(RecordKind::People), Duration::days(30), None, 10).await.unwrap();
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].attached, 4, "her email address, a send and two answers");

    store.restore_from_trash(&admin, trash[0].id).await.unwrap();
    assert_eq!(store.list_answers(&AnswerFilter::default(), 10).await.unwrap(), before);
    assert_eq!(store.survey_sends(survey.id, 10).await.unwrap().len(), 2);
    assert_eq!(store.get_answer(answered.id).await.unwrap(), answered);
    assert!(
        matches!(store.open_survey_link(&token_of(&link)).await.unwrap(), LinkState::Open { answer: Some(_), .. }),
        "the link opens again"
    );
}

async fn unanswered_links_are_reminded_once_on_a_fresh_link(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    public(&store, &admin, 0).await;
    let survey = nps_survey(&store, &admin).await;
    let days = i64::from(survey.fields.reminder_days.expect("the template reminds"));
    let ada = customer(&store, &admin, "Ada", Some("ada@example.com"), None).await;
    let bea = customer(&store, &admin, "Bea", Some("bea@example.com"), None).await;
    let cy = customer(&store, &admin, "Cy", Some("cy@example.com"), None).await;
    let dee = customer(&store, &admin, "Dee", Some("dee@example.com"), None).await;

    // Without outgoing mail there is nothing to remind by.
    assert_eq!(store.remind_unanswered(OffsetDateTime::now_utc() + Duration::days(days + 1)).await.unwrap(), 0);
    store.set_smtp_settings(&admin, smtp()).await.unwrap();
    let (_, ada_link) = sent(store.send_survey(&admin, survey.id, to(ada, true)).await.unwrap());
    let (_, bea_link) = sent(store.send_survey(&admin, survey.id, to(bea, true)).await.unwrap());
    sent(store.send_survey(&admin, survey.id, to(cy, false)).await.unwrap()); // a copied link: not reminded
    sent(store.send_survey(&admin, survey.id, to(dee, true)).await.unwrap());
    store.answer_survey_link(&token_of(&bea_link), &given(&[("score", "10")])).await.unwrap().unwrap();
    let mut person = store.get_person(dee).await.unwrap();
    person.fields.preferences.do_not_contact = true;
    store.update_person(&admin, dee, person.fields, None).await.unwrap();
    let queued = store.outbox_backlog().await.unwrap();

    let now = OffsetDateTime::now_utc();
    assert_eq!(store.remind_unanswered(now).await.unwrap(), 0, "too early");
    assert_eq!(
        store.remind_unanswered(now + Duration::days(days) + Duration::minutes(1)).await.unwrap(),
        1,
        "Ada only"
    );
    assert_eq!(store.outbox_backlog().await.unwrap(), queued + 1, "one reminder queued");
    assert_eq!(store.remind_unanswered(now + Duration::days(days + 1)).await.unwrap(), 0, "only once");
    assert_eq!(store.outbox_backlog().await.unwrap(), queued + 1);

    let sends = store.survey_sends(survey.id, 10).await.unwrap();
    let ada_send = sends.iter().find(|s| s.person_id == ada).unwrap();
    assert_eq!(ada_send.status, SendStatus::Reminded);
    assert!(ada_send.reminded_at.is_some());
    // The reminder carries a fresh link: the first one no longer opens.
    assert!(matches!(store.open_survey_link(&token_of(&ada_link)).await.unwrap(), LinkState::Unknown));

    // A link past its expiry is not reminded.
    let eve = customer(&store, &admin, "Eve", Some("eve@example.com"), None).await;
    sent(store.send_survey(&admin, survey.id, to(eve, true)).await.unwrap());
    let expired = now + Duration::days(i64::from(survey.fields.expiry_days) + 1);
    assert_eq!(store.remind_unanswered(expired).await.unwrap(), 0);
}
