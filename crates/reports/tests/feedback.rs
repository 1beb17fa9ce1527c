//! The feedback summary over a real database, on SQLite and PostgreSQL,
//! against figures worked out by hand: NPS with its interval, the CSAT
//! share, the CES mean, the distribution, the response rate, and the rows
//! by staff member, by month and by survey.

#[macro_use]
extern crate rapport_testing;

use std::collections::BTreeMap;

use rapport_domain::records::{PersonInput, UserInput};
use rapport_domain::surveys::{
    AnswerSource, AnswerSubject, PublicUrl, SendInput, SendOutcome, SurveySettings, templates,
};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, PersonId, Role, SurveyId, UserId};
use rapport_reports::feedback::{Figures, GroupBy, summary};
use rapport_storage::{AnswerFilter, RecordedAnswer, Store};
use rapport_testing::{Backend, TestDatabase};
use rapport_text::Estimate;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

backend_tests!(the_summary_matches_hand_computed_figures);

/// The two-sided 95 % normal quantile.
const Z: f64 = 1.959_963_984_540_054;

async fn open(backend: Backend) -> (TestDatabase, Store, Actor) {
    let db = TestDatabase::migrated(backend, Store::migrate_database).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let admin = staff(&store, "Admin", Role::Admin).await;
    (db, store, admin)
}

async fn staff(store: &Store, name: &str, role: Role) -> Actor {
    let input = UserInput {
        name: Name::try_from(name).unwrap(),
        email: Email::parse(&format!("{}@example.com", name.to_lowercase())).unwrap(),
        role,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await.expect("create a user");
    Actor { user_id: user.id, role, team_id: None }
}

async fn customer(store: &Store, admin: &Actor, n: usize) -> PersonId {
    let input: PersonInput =
        serde_json::from_value(serde_json::json!({ "first_name": format!("Customer {n}") })).unwrap();
    store.create_person(admin, input).await.expect("create a person").id
}

fn given(score: u8) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("score".to_owned(), vec![score.to_string()])])
}

fn close(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() < 1e-9, "{what}: {actual} against {expected}");
}

fn estimate(actual: Option<Estimate>, value: f64, low: f64, high: f64, n: u64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: no estimate"));
    close(actual.value, value, what);
    close(actual.low, low, what);
    close(actual.high, high, what);
    assert_eq!(actual.n, n, "{what}");
}

/// NPS of p promoters and d detractors among n, with the normal interval of
/// variance (p + d − (p − d)²)/n on the shares.
fn nps_by_hand(promoters: f64, detractors: f64, n: f64) -> (f64, f64, f64) {
    let (p, d) = (promoters / n, detractors / n);
    let half = Z * ((p + d - (p - d).powi(2)) / n).sqrt();
    (100.0 * (p - d), (100.0 * (p - d - half)).max(-100.0), (100.0 * (p - d + half)).min(100.0))
}

fn nps_of(figures: &Figures) -> f64 {
    figures.nps.expect("an NPS").value
}

async fn the_summary_matches_hand_computed_figures(backend: Backend) {
    let (_db, store, admin) = open(backend).await;
    let alice = staff(&store, "Alice", Role::Agent).await;
    let bob = staff(&store, "Bob", Role::Agent).await;
    let settings =
        SurveySettings { public_url: Some(PublicUrl::parse("https://crm.example.com").unwrap()), quiet_days: 0 };
    store.set_survey_settings(&admin, settings).await.unwrap();
    let ids: Vec<SurveyId> = {
        let mut ids = Vec::new();
        for template in templates() {
            ids.push(store.create_survey(&admin, template).await.unwrap().id);
        }
        ids
    };
    let (nps, csat, ces) = (ids[0], ids[1], ids[2]);
    let mut people = Vec::new();
    for n in 0..20 {
        people.push(customer(&store, &admin, n).await);
    }

    // Four NPS links sent about Alice; three answered (10, 8 and 2), one not.
    let mut tokens = Vec::new();
    for person in &people[..4] {
        let input = SendInput {
            person_id: *person,
            subject: AnswerSubject { staff_id: Some(alice.user_id), ..Default::default() },
            email: false,
        };
        match store.send_survey(&admin, nps, input).await.unwrap() {
            SendOutcome::Sent { link, .. } => tokens.push(link.rsplit_once("/s/").unwrap().1.to_owned()),
            other => panic!("not sent: {other:?}"),
        }
    }
    for (token, score) in tokens.iter().zip([10, 8, 2]) {
        store.answer_survey_link(token, &given(score)).await.unwrap().expect("the link opens");
    }

    // Seven NPS answers by phone: Alice's 10 and Bob's 9, 9, 9 in January
    // 2025; Bob's 7, 7 and 5 in February 2025.
    let january = datetime!(2025-01-15 10:00 UTC);
    let february = datetime!(2025-02-15 10:00 UTC);
    let march = datetime!(2025-03-15 10:00 UTC);
    let phoned = [
        (alice.user_id, 10, january),
        (bob.user_id, 9, january),
        (bob.user_id, 9, january),
        (bob.user_id, 9, january),
        (bob.user_id, 7, february),
        (bob.user_id, 7, february),
        (bob.user_id, 5, february),
    ];
    let record =
        |survey: SurveyId, person: PersonId, staff: Option<UserId>, score: u8, at: OffsetDateTime| RecordedAnswer {
            survey_id: survey,
            person_id: person,
            subject: AnswerSubject { staff_id: staff, ..Default::default() },
            given: given(score),
            answered_at: Some(at),
            source: AnswerSource::Phone,
            external_id: None,
        };
    for (i, (staff_id, score, at)) in phoned.into_iter().enumerate() {
        store.record_answer(&admin, record(nps, people[4 + i], Some(staff_id), score, at)).await.unwrap();
    }
    // CSAT 5, 4, 4, 2 and CES 7, 5, 3 in March 2025, about nobody in particular.
    for (i, score) in [5, 4, 4, 2].into_iter().enumerate() {
        store.record_answer(&admin, record(csat, people[11 + i], None, score, march)).await.unwrap();
    }
    for (i, score) in [7, 5, 3].into_iter().enumerate() {
        store.record_answer(&admin, record(ces, people[15 + i], None, score, march)).await.unwrap();
    }

    let all = summary(&store, &AnswerFilter::default(), None).await.unwrap();
    let total = &all.total;
    assert_eq!(total.answers, 17);
    // NPS: 5 promoters (10, 10, 9, 9, 9), 3 passives (8, 7, 7), 2 detractors
    // (2, 5) of n = 10: p = 0.5, d = 0.2, NPS = 100 × (0.5 − 0.2) = 30.
    // Variance (p + d − (p − d)²)/n = (0.7 − 0.09)/10 = 0.061, standard error
    // √0.061 = 0.246982, half-width 1.959964 × 0.246982 = 0.484075, so the
    // interval is 30 ± 48.41: −18.41 to 78.41.
    assert_eq!((total.promoters, total.passives, total.detractors), (5, 3, 2));
    let (value, low, high) = nps_by_hand(5.0, 2.0, 10.0);
    estimate(total.nps, value, low, high, 10, "NPS");
    close(value, 30.0, "NPS by hand");
    assert!((low - -18.4075).abs() < 1e-3 && (high - 78.4075).abs() < 1e-3, "{low} to {high}");

    // CSAT: 3 of 4 answers are 4 or 5, 75 %; the Wilson interval with
    // z² = 3.841459: centre (0.75 + z²/8) / (1 + z²/4) = 0.627527, half-width
    // z √(0.75 × 0.25 / 4 + z²/64) / (1 + z²/4) = 0.326886: 30.06 % to 95.44 %.
    let z2 = Z * Z;
    let centre = (0.75 + z2 / 8.0) / (1.0 + z2 / 4.0);
    let wilson = Z * (0.75 * 0.25 / 4.0 + z2 / 64.0).sqrt() / (1.0 + z2 / 4.0);
    estimate(total.csat, 75.0, 100.0 * (centre - wilson), 100.0 * (centre + wilson), 4, "CSAT");
    let csat_figures = total.csat.unwrap();
    assert!((csat_figures.low - 30.06).abs() < 0.01 && (csat_figures.high - 95.44).abs() < 0.01, "{csat_figures:?}");

    // CES: 7, 5, 3 have mean 5 and standard deviation √((4 + 0 + 4)/2) = 2;
    // t(0.975, 2) = 4.302653, half-width 4.302653 × 2 / √3 = 4.968275.
    let half = 4.302_652_729_749_464 * 2.0 / 3.0_f64.sqrt();
    let ces_figures = total.ces.expect("a CES");
    assert_eq!(ces_figures.n, 3);
    close(ces_figures.value, 5.0, "CES");
    assert!((ces_figures.low - (5.0 - half)).abs() < 1e-6 && (ces_figures.high - (5.0 + half)).abs() < 1e-6);
    assert!((half - 4.968275).abs() < 1e-5, "{half}");

    assert_eq!(all.distribution.nps, [0, 0, 1, 0, 0, 1, 0, 2, 1, 3, 2]);
    assert_eq!(all.distribution.csat, [0, 1, 0, 2, 1]);
    assert_eq!(all.distribution.ces, [0, 0, 1, 0, 1, 0, 1]);

    // Response rate: 3 of the 4 links sent were answered (phoned answers
    // had no link); Wilson interval as above with p = 0.75 and n = 4.
    assert_eq!((all.sent, all.answered), (4, 3));
    estimate(all.response_rate, 0.75, centre - wilson, centre + wilson, 4, "response rate");
    assert!(all.groups.is_empty(), "not grouped unless asked");

    // By staff member, most answers first: nobody (the 7 CSAT and CES
    // answers), Bob (9, 9, 9, 7, 7, 5: NPS (3 − 1)/6 = 33.3), Alice (10, 8, 2,
    // 10: NPS (2 − 1)/4 = 25).
    let by_staff = summary(&store, &AnswerFilter::default(), Some(GroupBy::Staff)).await.unwrap();
    let rows: Vec<(&str, &str, u64)> =
        by_staff.groups.iter().map(|g| (g.key.as_str(), g.label.as_str(), g.figures.answers)).collect();
    let (alice_key, bob_key) = (alice.user_id.to_string(), bob.user_id.to_string());
    assert_eq!(rows, [("none", "(none)", 7), (bob_key.as_str(), "Bob", 6), (alice_key.as_str(), "Alice", 4)]);
    assert!(by_staff.groups[0].figures.nps.is_none(), "no NPS answers about nobody");
    let (bob_nps, bob_low, bob_high) = nps_by_hand(3.0, 1.0, 6.0);
    estimate(by_staff.groups[1].figures.nps, bob_nps, bob_low, bob_high, 6, "Bob's NPS");
    close(bob_nps, 100.0 / 3.0, "Bob's NPS by hand");
    close(nps_of(&by_staff.groups[2].figures), 25.0, "Alice's NPS");
    assert_eq!(by_staff.total, all.total, "grouping leaves the total alone");

    // By month, in order: January (10, 9, 9, 9: NPS 100), February (7, 7, 5:
    // NPS −33.3), March (CSAT and CES only), and this month's link answers
    // (10, 8, 2: NPS 0).
    let by_month = summary(&store, &AnswerFilter::default(), Some(GroupBy::Month)).await.unwrap();
    let today = OffsetDateTime::now_utc();
    let this_month = format!("{}-{:02}", today.year(), u8::from(today.month()));
    let rows: Vec<(String, u64)> = by_month.groups.iter().map(|g| (g.key.clone(), g.figures.answers)).collect();
    assert_eq!(
        rows,
        [("2025-01".to_owned(), 4), ("2025-02".to_owned(), 3), ("2025-03".to_owned(), 7), (this_month.clone(), 3)]
    );
    assert_eq!(by_month.groups[0].label, "2025-01");
    close(nps_of(&by_month.groups[0].figures), 100.0, "January");
    close(nps_of(&by_month.groups[1].figures), -100.0 / 3.0, "February");
    assert!(by_month.groups[2].figures.nps.is_none() && by_month.groups[2].figures.csat.is_some());
    close(nps_of(&by_month.groups[3].figures), 0.0, "this month");

    // By survey, with its name.
    let by_survey = summary(&store, &AnswerFilter::default(), Some(GroupBy::Survey)).await.unwrap();
    let rows: Vec<(&str, u64)> = by_survey.groups.iter().map(|g| (g.label.as_str(), g.figures.answers)).collect();
    assert_eq!(rows, [("Net Promoter Score", 10), ("Support satisfaction", 4), ("Customer effort", 3)]);

    // A filter narrows the answers and the sends alike.
    let only_nps = AnswerFilter { survey_id: Some(nps), ..Default::default() };
    let narrowed = summary(&store, &only_nps, None).await.unwrap();
    assert_eq!((narrowed.total.answers, narrowed.sent, narrowed.answered), (10, 4, 3));
    assert!(narrowed.total.csat.is_none());
    let only_csat = AnswerFilter { survey_id: Some(csat), ..Default::default() };
    let narrowed = summary(&store, &only_csat, None).await.unwrap();
    assert_eq!((narrowed.total.answers, narrowed.sent), (4, 0));
    assert!(narrowed.response_rate.is_none(), "nothing sent, no rate");
    let january_only =
        AnswerFilter { from: Some(january - Duration::days(1)), to: Some(february), ..Default::default() };
    let narrowed = summary(&store, &january_only, None).await.unwrap();
    assert_eq!((narrowed.total.answers, narrowed.total.promoters), (4, 4));
    assert_eq!(narrowed.sent, 0, "no links were sent in January 2025");
}
