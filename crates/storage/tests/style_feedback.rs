//! Self-assessments and colleague feedback rounds against a real database,
//! on SQLite and PostgreSQL: the questionnaire ships a default that only
//! admins replace; a round shows its results only from the third answer;
//! each request takes one answer and only from its colleague; who may see
//! whose style follows the role; and no row of any table ties an answer to
//! the colleague who gave it.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::BTreeMap;

use common::{open, user};
use rapport_domain::records::TeamInput;
use rapport_domain::style::Dimension;
use rapport_domain::style_feedback::{FeedbackRoundInput, Questionnaire, RatingsInput, StyleQuestion};
use rapport_domain::surveys::QuestionKey;
use rapport_domain::text::{LongText, Name};
use rapport_domain::{Actor, Role};
use rapport_storage::{StorageError, Store};
use rapport_testing::Backend;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

backend_tests!(
    the_questionnaire_ships_a_default_that_only_admins_replace,
    a_round_shows_its_results_only_from_the_third_answer,
    a_request_takes_one_answer_and_only_from_its_colleague,
    who_sees_whose_style_follows_the_role,
    no_row_ties_an_answer_to_the_colleague_who_gave_it,
);

fn ratings(pairs: &[(&str, u8)], comment: Option<&str>) -> RatingsInput {
    RatingsInput {
        scores: pairs.iter().map(|(k, r)| ((*k).to_owned(), *r)).collect(),
        comment: comment.map(|c| LongText::try_from(c).unwrap()),
    }
}

fn round(subject: &Actor, colleagues: &[&Actor]) -> FeedbackRoundInput {
    FeedbackRoundInput {
        subject_id: subject.user_id,
        colleague_ids: colleagues.iter().map(|c| c.user_id).collect(),
        open_days: None,
        note: None,
    }
}

/// The one open request `colleague` has.
async fn request_of(store: &Store, colleague: &Actor) -> rapport_domain::FeedbackRequestId {
    let pending = store.pending_feedback_requests(colleague).await.expect("requests");
    assert_eq!(pending.len(), 1, "one open request");
    pending[0].id
}

async fn the_questionnaire_ships_a_default_that_only_admins_replace(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let agent = user(&store, "Agent", Role::Agent, None).await;
    let shipped = store.style_questionnaire().await.unwrap();
    assert_eq!(shipped, Questionnaire::default());

    let mut edited = shipped.clone();
    edited.questions.truncate(3);
    edited.questions.push(StyleQuestion {
        key: QuestionKey::parse("patience").unwrap(),
        dimension: Dimension::PersonalTouch,
        text: Name::try_from("Stays patient with difficult customers.").unwrap(),
    });
    let refused = store.set_style_questionnaire(&agent, edited.clone()).await;
    assert!(matches!(refused, Err(StorageError::Denied(_))), "{refused:?}");

    let mut twice = edited.clone();
    twice.questions.push(twice.questions[0].clone());
    match store.set_style_questionnaire(&admin, twice).await {
        Err(StorageError::Invalid(errors)) => {
            assert_eq!(errors.get("questions[4].key"), Some("is used by another question"))
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(store.style_questionnaire().await.unwrap(), shipped, "nothing changed");

    // A round made before the edit keeps the questions it was made with.
    let team: Vec<Actor> = futures_join(&store, &["Ann", "Ben", "Cal"]).await;
    let before = store.create_feedback_round(&admin, round(&agent, &[&team[0], &team[1], &team[2]])).await.unwrap();
    store.set_style_questionnaire(&admin, edited.clone()).await.unwrap();
    assert_eq!(store.style_questionnaire().await.unwrap(), edited);
    assert_eq!(store.feedback_round(&admin, before.id).await.unwrap().questions, shipped.questions);
    // A self-assessment is checked against the current questions.
    let stale = store.add_self_assessment(&agent, ratings(&[("empathy", 4)], None)).await;
    assert!(matches!(stale, Err(StorageError::Invalid(_))), "{stale:?}");
    let own = store.add_self_assessment(&agent, ratings(&[("patience", 2)], Some("Working on it"))).await.unwrap();
    assert_eq!(own.scores[&QuestionKey::parse("patience").unwrap()], 2);

    let catalogue = store.style_step_catalogue().await.unwrap();
    assert!(catalogue.for_dimension(Dimension::FollowThrough).count() >= 2);
    assert!(matches!(store.set_style_step_catalogue(&agent, catalogue.clone()).await, Err(StorageError::Denied(_))));
}

/// Agents named `names`, without a team.
async fn futures_join(store: &Store, names: &[&str]) -> Vec<Actor> {
    let mut actors = Vec::new();
    for name in names {
        actors.push(user(store, name, Role::Agent, None).await);
    }
    actors
}

async fn a_round_shows_its_results_only_from_the_third_answer(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let subject = user(&store, "Subject", Role::Agent, None).await;
    let c = futures_join(&store, &["Ann", "Ben", "Cal", "Dee"]).await;
    let made = store.create_feedback_round(&subject, round(&subject, &[&c[0], &c[1], &c[2], &c[3]])).await.unwrap();
    assert_eq!((made.asked, made.answered), (4, 0));
    assert!(made.open);

    for (i, (empathy, comment)) in [(5, "zebra-like calm"), (2, "apple of the team"), (4, "mango")].iter().enumerate() {
        assert!(store.feedback_round(&subject, made.id).await.unwrap().results.is_none(), "hidden at {i} answers");
        let id = request_of(&store, &c[i]).await;
        store
            .answer_feedback_request(&c[i], id, ratings(&[("empathy", *empathy), ("clarity", 3)], Some(comment)))
            .await
            .unwrap();
    }
    let shown = store.feedback_round(&subject, made.id).await.unwrap();
    assert_eq!(shown.answered, 3);
    let results = shown.results.expect("shown from the third answer");
    let empathy = results.questions.iter().find(|q| q.key.as_str() == "empathy").unwrap();
    assert_eq!(empathy.counts, [0, 1, 0, 1, 1]);
    assert_eq!(empathy.ratings, 3);
    assert!((empathy.mean.unwrap() - 11.0 / 3.0).abs() < 1e-9);
    let unrated = results.questions.iter().find(|q| q.key.as_str() == "follow_through").unwrap();
    assert_eq!((unrated.mean, unrated.ratings), (None, 0));
    // Personal touch is empathy alone here (5, 2, 4); responsiveness clarity (3, 3, 3).
    let by_dimension: BTreeMap<Dimension, Option<f64>> =
        results.dimensions.iter().map(|d| (d.dimension, d.mean)).collect();
    assert_eq!(by_dimension[&Dimension::Responsiveness], Some(3.0));
    assert!((by_dimension[&Dimension::PersonalTouch].unwrap() - 11.0 / 3.0).abs() < 1e-9);
    assert_eq!(by_dimension[&Dimension::FollowThrough], None);
    assert_eq!(results.comments, ["apple of the team", "mango", "zebra-like calm"], "sorted, not in arrival order");
    // The listing shows the same; the fourth colleague can still answer.
    let listed = store.feedback_rounds(&admin, None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].results.is_some());
    assert_eq!(store.pending_feedback_requests(&c[3]).await.unwrap().len(), 1);
}

async fn a_request_takes_one_answer_and_only_from_its_colleague(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let subject = user(&store, "Subject", Role::Agent, None).await;
    let c = futures_join(&store, &["Ann", "Ben", "Cal"]).await;
    let made = store.create_feedback_round(&admin, round(&subject, &[&c[0], &c[1], &c[2]])).await.unwrap();
    let ann = request_of(&store, &c[0]).await;

    // Someone else's request is not found, and takes nothing.
    let stolen = store.answer_feedback_request(&c[1], ann, ratings(&[("empathy", 1)], None)).await;
    assert!(matches!(stolen, Err(StorageError::NotFound(_))), "{stolen:?}");
    // Bad ratings are refused by field and use nothing up.
    match store.answer_feedback_request(&c[0], ann, ratings(&[("empathy", 6), ("charm", 2)], None)).await {
        Err(StorageError::Invalid(errors)) => {
            assert_eq!(errors.get("scores.empathy"), Some("must be a rating from 1 to 5"));
            assert_eq!(errors.get("scores.charm"), Some("is not a question of the questionnaire"));
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert_eq!(store.feedback_round(&admin, made.id).await.unwrap().answered, 0);
    store.answer_feedback_request(&c[0], ann, ratings(&[("empathy", 4)], None)).await.unwrap();
    let again = store.answer_feedback_request(&c[0], ann, ratings(&[("empathy", 5)], None)).await;
    assert!(matches!(again, Err(StorageError::NotFound(_))), "{again:?}");
    assert!(store.pending_feedback_requests(&c[0]).await.unwrap().is_empty());
    assert_eq!(store.feedback_round(&admin, made.id).await.unwrap().answered, 1);

    // A round needs three colleagues other than the subject, all active staff.
    let short = store.create_feedback_round(&admin, round(&subject, &[&c[0], &c[1], &subject])).await;
    assert!(matches!(short, Err(StorageError::Invalid(_))), "{short:?}");
    let ghost = Actor { user_id: rapport_domain::UserId::new(), role: Role::Agent, team_id: None };
    match store.create_feedback_round(&admin, round(&subject, &[&c[0], &c[1], &ghost])).await {
        Err(StorageError::Invalid(errors)) => assert!(errors.get("colleague_ids").is_some()),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(store.feedback_rounds(&admin, None).await.unwrap().len(), 1, "nothing else was made");
}

async fn who_sees_whose_style_follows_the_role(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let north = store.create_team(&admin, TeamInput { name: Name::try_from("North").unwrap() }).await.unwrap().id;
    let south = store.create_team(&admin, TeamInput { name: Name::try_from("South").unwrap() }).await.unwrap().id;
    let manager = user(&store, "Manager", Role::Manager, Some(north)).await;
    let ann = user(&store, "Ann", Role::Agent, Some(north)).await;
    let ben = user(&store, "Ben", Role::Agent, Some(north)).await;
    let sam = user(&store, "Sam", Role::Agent, Some(south)).await;
    let cal = user(&store, "Cal", Role::Agent, Some(south)).await;

    // Ann asks about herself; Ben may not ask about Ann; the manager may not ask about Sam.
    let anns = store.create_feedback_round(&ann, round(&ann, &[&ben, &sam, &cal])).await.unwrap();
    let refused = store.create_feedback_round(&ben, round(&ann, &[&manager, &sam, &cal])).await;
    assert!(matches!(refused, Err(StorageError::NotFound(_))), "{refused:?}");
    let refused = store.create_feedback_round(&manager, round(&sam, &[&ann, &ben, &cal])).await;
    assert!(matches!(refused, Err(StorageError::NotFound(_))), "{refused:?}");
    let sams = store.create_feedback_round(&admin, round(&sam, &[&ann, &ben, &cal])).await.unwrap();
    store.add_self_assessment(&ann, ratings(&[("empathy", 5)], None)).await.unwrap();

    let ids = |rounds: Vec<rapport_domain::style_feedback::FeedbackRound>| {
        rounds.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(store.feedback_rounds(&ann, None).await.unwrap()), vec![anns.id]);
    assert_eq!(ids(store.feedback_rounds(&ben, None).await.unwrap()), vec![]);
    assert_eq!(ids(store.feedback_rounds(&manager, None).await.unwrap()), vec![anns.id]);
    assert_eq!(ids(store.feedback_rounds(&admin, None).await.unwrap()), vec![sams.id, anns.id]);
    assert!(matches!(store.feedback_round(&ben, anns.id).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.feedback_round(&manager, sams.id).await, Err(StorageError::NotFound(_))));
    assert!(store.feedback_round(&manager, anns.id).await.is_ok());
    assert!(matches!(store.feedback_rounds(&ben, Some(ann.user_id)).await, Err(StorageError::NotFound(_))));

    assert_eq!(store.self_assessments(&manager, ann.user_id).await.unwrap().len(), 1);
    assert_eq!(store.self_assessments(&admin, ann.user_id).await.unwrap().len(), 1);
    assert!(matches!(store.self_assessments(&ben, ann.user_id).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.self_assessments(&sam, ann.user_id).await, Err(StorageError::NotFound(_))));
}

/// Every row of every table, as one line of text each.
async fn every_row(conn: &DatabaseConnection, backend: DbBackend) -> Vec<(String, String)> {
    let tables_sql = match backend {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        _ => "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'",
    };
    let tables: Vec<String> = conn
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect();
    let mut rows = Vec::new();
    for table in tables {
        let select = match backend {
            DbBackend::Sqlite => {
                let columns: Vec<String> = conn
                    .query_all_raw(Statement::from_string(backend, format!("PRAGMA table_info(\"{table}\")")))
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| row.try_get::<String>("", "name").unwrap())
                    .collect();
                let quoted: Vec<String> = columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!("SELECT {} AS line FROM \"{table}\"", quoted.join(" || '|' || "))
            }
            _ => format!("SELECT row_to_json(t)::text AS line FROM \"{table}\" t"),
        };
        for row in conn.query_all_raw(Statement::from_string(backend, select)).await.unwrap() {
            rows.push((table.clone(), row.try_get::<String>("", "line").unwrap()));
        }
    }
    rows
}

async fn no_row_ties_an_answer_to_the_colleague_who_gave_it(backend: Backend) {
    let (db, store, admin) = open(backend).await;
    let subject = user(&store, "Subject", Role::Agent, None).await;
    let c = futures_join(&store, &["Ann", "Ben", "Cal"]).await;
    let made = store.create_feedback_round(&admin, round(&subject, &[&c[0], &c[1], &c[2]])).await.unwrap();
    let comments = ["written-by-ann", "written-by-ben", "written-by-cal"];
    let mut request_ids = Vec::new();
    for (colleague, comment) in c.iter().zip(comments) {
        let id = request_of(&store, colleague).await;
        request_ids.push(id.to_string());
        store.answer_feedback_request(colleague, id, ratings(&[("empathy", 3)], Some(comment))).await.unwrap();
    }
    assert!(store.feedback_round(&admin, made.id).await.unwrap().results.is_some());

    let conn = Database::connect(&db.url).await.unwrap();
    let dialect = conn.get_database_backend();
    let rows = every_row(&conn, dialect).await;
    let colleague_ids: Vec<String> = c.iter().map(|a| a.user_id.to_string()).collect();
    let mut seen = 0;
    for (table, line) in &rows {
        if comments.iter().any(|comment| line.contains(comment)) {
            seen += 1;
            for id in colleague_ids.iter().chain(&request_ids) {
                assert!(!line.contains(id.as_str()), "{table} ties an answer to {id}: {line}");
            }
        }
        if line.contains("empathy") && table != "style_feedback_rounds" && table != "app_settings" {
            panic!("{table} keeps a rating apart from its round's tally: {line}");
        }
    }
    assert_eq!(seen, 1, "the comments live in one row, the round's tally");
    // A request row keeps who was asked and whether they answered: no time,
    // no answer, nothing more.
    let columns_sql = match dialect {
        DbBackend::Sqlite => "SELECT name FROM pragma_table_info('style_feedback_requests') ORDER BY name".to_owned(),
        _ => "SELECT column_name::text AS name FROM information_schema.columns \
              WHERE table_name = 'style_feedback_requests' ORDER BY column_name"
            .to_owned(),
    };
    let columns: Vec<String> = conn
        .query_all_raw(Statement::from_string(dialect, columns_sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect();
    assert_eq!(columns, ["colleague_id", "id", "round_id", "used"]);
    conn.close().await.unwrap();
}
