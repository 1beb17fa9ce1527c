//! `rapport feedback summary|themes|answers` as an operator uses it, on
//! SQLite and PostgreSQL: the figures as a table, JSON and CSV, grouping,
//! the themes with their default period, and clear refusals of bad input.

#[macro_use]
extern crate rapport_testing;

mod common;

use std::collections::BTreeMap;

use common::{rapport, refused, succeeded};
use rapport_domain::records::{PersonInput, UserInput};
use rapport_domain::surveys::{AnswerSource, AnswerSubject, templates};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role};
use rapport_storage::{RecordedAnswer, Store};
use rapport_testing::{Backend, TestDatabase};
use time::{Duration, OffsetDateTime};

backend_tests!(feedback_from_the_command_line);

async fn feedback_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    succeeded(rapport(url, &["migrate"], ""));
    let store = Store::connect(url).await.expect("open the database");
    let input = UserInput {
        name: Name::try_from("Sam Staff").unwrap(),
        email: Email::parse("sam@example.com").unwrap(),
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let sam = store.create_user(input, None, None).await.unwrap();
    let actor = Actor { user_id: sam.id, role: Role::Admin, team_id: None };
    let survey = store.create_survey(&actor, templates()[0].clone()).await.unwrap();

    // Ten NPS answers in the last few weeks: 5 promoters, 3 passives and 2
    // detractors (NPS 30); four complain of late delivery. Two older ones,
    // 100 days ago, fall in the period before the themes' default one.
    let today = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let answers: [(u8, Option<&str>, i64); 12] = [
        (10, Some("Friendly support, thank you!"), 3),
        (10, None, 4),
        (9, Some("Great product, easy to use."), 5),
        (9, None, 6),
        (9, None, 7),
        (8, Some("Late delivery, otherwise fine."), 8),
        (7, Some("Another late delivery this month."), 9),
        (7, None, 10),
        (3, Some("Late delivery again, very disappointing."), 11),
        (2, Some("The late delivery ruined our week. Terrible."), 12),
        (10, Some("Friendly support."), 100),
        (9, None, 101),
    ];
    for (i, (score, comment, days)) in answers.into_iter().enumerate() {
        let person: PersonInput =
            serde_json::from_value(serde_json::json!({ "first_name": format!("Customer{i}") })).unwrap();
        let person = store.create_person(&actor, person).await.unwrap();
        let mut given = BTreeMap::from([("score".to_owned(), vec![score.to_string()])]);
        if let Some(comment) = comment {
            given.insert("why".to_owned(), vec![comment.to_owned()]);
        }
        let answer = RecordedAnswer {
            survey_id: survey.id,
            person_id: person.id,
            subject: AnswerSubject { staff_id: Some(sam.id), ..Default::default() },
            given,
            answered_at: Some(today - Duration::days(days)),
            source: AnswerSource::Phone,
            external_id: None,
        };
        store.record_answer(&actor, answer).await.unwrap();
    }
    store.close().await.unwrap();
    let survey_id = survey.id.to_string();
    let from = (today - Duration::days(30)).date().to_string();
    let to = today.date().to_string();
    let last_month = ["--from", from.as_str(), "--to", to.as_str()];

    // The table: NPS with its interval, the counts, the rows by staff member.
    let args = [&["feedback", "summary", "--by", "staff"][..], &last_month].concat();
    let table = succeeded(rapport(url, &args, "")).stdout;
    assert!(table.contains("NPS 30 (95% CI -18 to 78), n=10"), "{table}");
    assert!(table.contains("5 promoters, 3 passives, 2 detractors"), "{table}");
    assert!(table.contains("By staff member") && table.contains("Sam Staff"), "{table}");
    assert!(table.contains("no links sent"), "{table}");

    // JSON is the summary's serde; every answer counts without a period.
    let args = [&["feedback", "summary", "--format", "json", "--survey", "Net Promoter Score"][..]].concat();
    let all: serde_json::Value = serde_json::from_str(&succeeded(rapport(url, &args, "")).stdout).unwrap();
    assert_eq!(all["answers"], 12);
    assert_eq!(all["promoters"], 7);
    assert_eq!(all["distribution"]["nps"][10], 3);
    let args = [&["feedback", "summary", "--format", "json", "--survey", survey_id.as_str()][..], &last_month].concat();
    let month: serde_json::Value = serde_json::from_str(&succeeded(rapport(url, &args, "")).stdout).unwrap();
    assert_eq!(month["nps"]["value"].as_f64().map(|v| v.round()), Some(30.0));
    assert_eq!(month["nps"]["n"], 10);

    // CSV: one row per group.
    let args = [&["feedback", "summary", "--by", "month", "--format", "csv"][..]].concat();
    let csv = succeeded(rapport(url, &args, "")).stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("key,label,answers,nps,nps_low,nps_high,"), "{csv}");
    assert!((2..=4).contains(&(lines.len() - 1)), "a row per month: {csv}");

    // The answers, newest first, in each format.
    let args = [&["feedback", "answers", "--format", "csv"][..], &last_month].concat();
    let csv = succeeded(rapport(url, &args, "")).stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 10);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("score")], "10");
    assert_eq!(&rows[0][column("comment")], "Friendly support, thank you!");
    assert_eq!(&rows[0][column("person")], "Customer0");
    assert_eq!(&rows[9][column("nps_group")], "detractor");
    assert_eq!(&rows[9][column("sentiment_label")], "negative");
    let args = ["feedback", "answers", "--format", "json", "--limit", "3"];
    let json: serde_json::Value = serde_json::from_str(&succeeded(rapport(url, &args, "")).stdout).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(3));
    let table = succeeded(rapport(url, &["feedback", "answers"], "")).stdout;
    assert!(table.contains("Net Promoter Score") && table.contains("NPS 2") && table.contains("negative"), "{table}");

    // Themes: the last 90 days against the 90 before, by default.
    let json = succeeded(rapport(url, &["feedback", "themes", "--format", "json"], "")).stdout;
    let themes: serde_json::Value = serde_json::from_str(&json).unwrap();
    let late = themes
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().is_some_and(|n| n.contains("late delivery")))
        .unwrap_or_else(|| panic!("no late delivery theme in {json}"));
    assert_eq!(late["mentions"], 4, "{late}");
    assert_eq!(late["previous_mentions"], 0, "{late}");
    let table = succeeded(rapport(url, &["feedback", "themes"], "")).stdout;
    assert!(table.contains("late delivery") && table.contains("against the 90 days before"), "{table}");
    let csv = succeeded(rapport(url, &["feedback", "themes", "--format", "csv", "--min-mentions", "1"], "")).stdout;
    assert!(csv.starts_with("key,name,mentions,share,") && csv.contains("late delivery"), "{csv}");

    // Bad input is refused with the flag named.
    refused(rapport(url, &["feedback", "summary", "--by", "colour"], ""), "--by");
    refused(rapport(url, &["feedback", "summary", "--from", "2026-13-01"], ""), "--from");
    refused(rapport(url, &["feedback", "answers", "--to", "yesterday"], ""), "--to");
    refused(rapport(url, &["feedback", "themes", "--from", "2026-02-01", "--to", "2026-01-01"], ""), "--from");
    refused(rapport(url, &["feedback", "summary", "--survey", "Nope"], ""), "--survey");
    refused(rapport(url, &["feedback", "summary", "--format", "xml"], ""), "--format");
    refused(rapport(url, &["feedback", "answers", "--limit", "0"], ""), "--limit");
    refused(rapport(url, &["feedback", "themes", "--by", "month"], ""), "--by");
}
