//! The `rapport` binary as an operator uses it: users, tokens, demo data,
//! and clear refusals with a non-zero exit. Each test runs on SQLite and on
//! PostgreSQL.

#[macro_use]
extern crate rapport_testing;

mod common;

use rapport_domain::duplicates::{DuplicatePair, ReasonKind};
use rapport_domain::records::LifecycleStage;
use rapport_storage::{Credentials, ListQuery, LoginOutcome, PersonFilter, Store};
use rapport_testing::{Backend, TestDatabase};

use common::{rapport, refused};

backend_tests!(
    users_and_tokens_from_the_command_line,
    demo_fills_an_empty_database_deterministically,
    insights_from_the_command_line,
);

async fn users_and_tokens_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    assert!(rapport(url, &["migrate"], "").ok);

    refused(
        rapport(url, &["user", "add", "--email", "not-an-email", "--name", "Ann", "--role", "admin"], "long-enough-1"),
        "--email",
    );
    refused(
        rapport(
            url,
            &["user", "add", "--email", "ann@example.com", "--name", "Ann", "--role", "owner"],
            "long-enough-1",
        ),
        "--role",
    );
    refused(
        rapport(url, &["user", "add", "--email", "ann@example.com", "--name", "Ann", "--role", "admin"], "short\n"),
        "password",
    );
    let added = rapport(
        url,
        &["user", "add", "--email", "Ann@Example.com", "--name", "Ann Admin", "--role", "admin"],
        "long-enough-1\n",
    );
    assert!(added.ok, "{}", added.stderr);
    refused(
        rapport(
            url,
            &["user", "add", "--email", "ann@example.com", "--name", "Ann", "--role", "agent"],
            "another-password",
        ),
        "already exists",
    );

    let listed = rapport(url, &["user", "list"], "");
    assert!(listed.ok && listed.stdout.contains("ann@example.com\tAnn Admin\tadmin\tactive"), "{}", listed.stdout);
    refused(
        rapport(url, &["user", "set-role", "--email", "ann@example.com", "--role", "viewer"], ""),
        "last active admin",
    );

    let created = rapport(url, &["token", "create", "--user", "ann@example.com", "--expires-in", "30"], "");
    assert!(created.ok, "{}", created.stderr);
    let token = created.stdout.trim();
    assert!(
        token.starts_with("rpt_") && !token.contains('\n'),
        "token create prints only the token: {:?}",
        created.stdout
    );
    refused(rapport(url, &["token", "create", "--user", "nobody@example.com"], ""), "no user has the email");
    refused(rapport(url, &["token", "create", "--user", "ann@example.com", "--expires-in", "0"], ""), "--expires-in");

    let store = Store::connect(url).await.expect("open the database");
    let (actor, user) = store.token_user(token).await.expect("look up the token").expect("the token works");
    assert_eq!(user.fields.email.as_str(), "ann@example.com");
    assert_eq!(actor.user_id, user.id);
    // The first admin starts Rapport as the setup page does: with a pipeline to put deals in.
    let pipelines = store.list_pipelines().await.expect("list pipelines");
    let stages: Vec<&str> = pipelines.iter().flat_map(|p| p.stages.iter().map(|s| s.name.as_str())).collect();
    assert_eq!(pipelines.len(), 1, "{pipelines:?}");
    assert_eq!((pipelines[0].name.as_str(), stages), ("Sales", vec!["Lead", "Qualified", "Proposal", "Negotiation"]));

    let listed = rapport(url, &["token", "list"], "");
    assert!(listed.ok && listed.stdout.contains("expires"), "{}", listed.stdout);
    let id = listed.stdout.split('\t').next().expect("a token line").to_owned();
    assert!(rapport(url, &["token", "revoke", &id], "").ok);
    assert!(rapport(url, &["token", "list"], "").stdout.contains("revoked"));
    assert!(store.token_user(token).await.expect("look up the token").is_none(), "a revoked token still works");
    refused(rapport(url, &["token", "revoke", "not-an-id"], ""), "not a token id");

    assert!(rapport(url, &["user", "passwd", "--email", "ann@example.com"], "a-new-password-2\n").ok);
    let login = |password: &str| Credentials { email: "ann@example.com".into(), password: password.into() };
    assert!(matches!(store.verify_login(&login("a-new-password-2")).await.expect("verify"), LoginOutcome::Valid(_)));
    assert!(matches!(store.verify_login(&login("long-enough-1")).await.expect("verify"), LoginOutcome::Invalid));
    store.close().await.expect("close the database");
}

async fn demo_fills_an_empty_database_deterministically(backend: Backend) {
    let first = TestDatabase::new(backend).await;
    let second = TestDatabase::new(backend).await;
    let mut outcomes = Vec::new();
    for db in [&first, &second] {
        let outcome = rapport(&db.url, &["demo", "--seed", "7", "--scale", "0.05"], "");
        assert!(outcome.ok, "{}", outcome.stderr);
        outcomes.push(outcome);
    }
    refused(rapport(&first.url, &["demo"], ""), "already holds people");
    refused(rapport(&first.url, &["demo", "--scale", "0"], ""), "--scale");
    refused(rapport(&first.url, &["demo", "--scale", "501"], ""), "at most 500");

    let mut seen = Vec::new();
    for (db, outcome) in [&first, &second].into_iter().zip(outcomes) {
        let store = Store::connect(&db.url).await.expect("open the database");
        // The demo admin can sign in at once with the password printed, and finds saved views.
        let password = outcome
            .stderr
            .split("with the password ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no demo password in {}", outcome.stderr));
        let credentials =
            rapport_storage::Credentials { email: "demo.admin@example.com".into(), password: password.to_owned() };
        let admin = match store.verify_login(&credentials).await.expect("check the demo login") {
            rapport_storage::LoginOutcome::Valid(user) => user,
            rapport_storage::LoginOutcome::Invalid => panic!("the printed demo password does not sign in"),
        };
        let actor = rapport_domain::Actor { user_id: admin.id, role: admin.fields.role, team_id: None };
        let views = store.list_views(&actor, None).await.expect("list views");
        assert!(views.len() >= 4, "the demo admin has saved views: {views:?}");
        let query = ListQuery { limit: Some(200), ..Default::default() };
        let people = store.list_people(&query, &PersonFilter::default()).await.expect("list people").items;
        assert_eq!(people.len(), 99, "scale 0.05 gives 100 people, two entered twice, three deleted");
        let trash = store.list_trash(None, time::Duration::days(30), None, 50).await.expect("list the trash");
        assert_eq!(trash.len(), 5, "three people and two deals are in the trash: {trash:?}");
        assert!(people.iter().any(|p| p.fields.referred_by_id.is_some()), "demo data has referrals");
        assert!(people.iter().any(|p| p.fields.lifecycle_stage == LifecycleStage::Customer));
        assert!(people.iter().any(|p| p.last_contacted_at.is_some()), "activities set last contact");
        let purchases =
            store.list_purchases(&query, &rapport_storage::PurchaseFilter::default()).await.expect("list purchases");
        assert_eq!(purchases.items.len(), 200, "a full first page of purchases");
        assert!(purchases.next_cursor.is_some(), "scale 0.05 gives 1,000 purchases");
        seen.push(people.iter().map(|p| (p.fields.full_name(), p.fields.primary_email().cloned())).collect::<Vec<_>>());
        store.close().await.expect("close the database");
    }
    assert_eq!(seen[0], seen[1], "the same seed gives the same people");

    // The people and the company entered twice are found.
    let people = json(&first.url, &["duplicates", "people", "--format", "json"]);
    let pairs: Vec<DuplicatePair> = serde_json::from_value(people).expect("duplicate pairs");
    for reason in [ReasonKind::SameEmail, ReasonKind::SamePhone] {
        assert!(pairs.iter().any(|p| p.reasons.iter().any(|r| r.kind == reason)), "{reason:?} in {pairs:#?}");
    }
    assert!(pairs.windows(2).all(|w| w[0].score >= w[1].score), "strongest first");
    let companies = json(&first.url, &["duplicates", "companies", "--min-score", "90", "--format", "json"]);
    let pairs: Vec<DuplicatePair> = serde_json::from_value(companies).expect("duplicate pairs");
    assert!(
        pairs.iter().any(|p| [&p.a.name, &p.b.name].contains(&&"ACME Inc.".to_owned())
            && [&p.a.name, &p.b.name].contains(&&"Acme Inc".to_owned())),
        "{pairs:#?}"
    );
    assert!(pairs.iter().all(|p| p.score >= 90));
    let table = rapport(&first.url, &["duplicates", "companies"], "");
    assert!(
        table.ok && table.stdout.contains("ACME Inc.") && table.stdout.contains("Similar name: "),
        "{}",
        table.stdout
    );
    refused(rapport(&first.url, &["duplicates", "people", "--min-score", "101"], ""), "--min-score");

    // The pair found by email, merged and unmerged.
    let people = json(&first.url, &["duplicates", "people", "--format", "json"]);
    let pairs: Vec<DuplicatePair> = serde_json::from_value(people).expect("duplicate pairs");
    let pair = pairs.iter().find(|p| p.reasons.iter().any(|r| r.kind == ReasonKind::SameEmail)).expect("an email pair");
    let (a, b) = (pair.a.id.to_string(), pair.b.id.to_string());
    refused(rapport(&first.url, &["merge", "people", &a, &b, "--take", "emails=other"], ""), "fields.emails");
    refused(rapport(&first.url, &["merge", "people", &a, &b, "--take", "first_name=both"], ""), "first_name=both");
    refused(rapport(&first.url, &["merge", "people", &a, "nobody"], ""), "OTHER");
    let merged = rapport(&first.url, &["merge", "people", &a, &b, "--take", "first_name=other"], "");
    assert!(merged.ok, "{}", merged.stderr);
    let undo = merged.stdout.split("rapport merge undo ").nth(1).map(str::trim).expect("the undo command is printed");
    let after = json(&first.url, &["duplicates", "people", "--format", "json"]);
    assert!(!after.to_string().contains(&b), "the merged person is gone from the pairs");
    let undone = rapport(&first.url, &["merge", "undo", undo], "");
    assert!(undone.ok && undone.stdout.contains(&b), "{} {}", undone.stdout, undone.stderr);
    refused(rapport(&first.url, &["merge", "undo", undo], ""), "not undone");
    refused(rapport(&first.url, &["duplicates", "deals"], ""), "deals");
}

fn json(url: &str, args: &[&str]) -> serde_json::Value {
    let outcome = rapport(url, args, "");
    assert!(outcome.ok, "{args:?}: {}", outcome.stderr);
    serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("{args:?} prints JSON ({e}): {}", outcome.stdout))
}

fn number(value: &serde_json::Value, what: &str) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("{what} is a number: {value}"))
}

fn within_unit(value: &serde_json::Value, what: &str) {
    let x = number(value, what);
    assert!((0.0..=1.0).contains(&x), "{what} = {x} lies in [0, 1]");
}

async fn insights_from_the_command_line(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let url = db.url.as_str();
    let empty = rapport(url, &["insights", "rfm"], "");
    assert!(empty.ok && empty.stdout.contains("no purchases yet"), "{} {}", empty.stdout, empty.stderr);
    let demo = rapport(url, &["demo", "--seed", "7", "--scale", "0.05"], "");
    assert!(demo.ok, "{}", demo.stderr);
    let as_of = ["--as-of", "2100-01-01"];

    let rfm = json(url, &["insights", "rfm", "--format", "json", as_of[0], as_of[1]]);
    let customers = rfm["customers"].as_array().expect("rfm customers").len() as u64;
    assert!(customers > 0, "the demo has customers with purchases");
    let segments = rfm["segments"].as_array().expect("rfm segments");
    assert_eq!(segments.len(), 11, "every segment is listed");
    let sized: u64 = segments.iter().map(|s| s["customers"].as_u64().expect("segment size")).sum();
    assert_eq!(sized, customers, "segment sizes sum to the customers with purchases");
    assert_eq!(rfm["as_of"], "2100-01-01");

    let cohorts = json(url, &["insights", "cohorts", "--format", "json", as_of[0], as_of[1]]);
    let list = cohorts["cohorts"].as_array().expect("cohorts");
    assert!(!list.is_empty());
    for cohort in list {
        assert_eq!(number(&cohort["retention"][0], "month-0 retention"), 1.0, "{cohort}");
    }
    let in_cohorts: u64 = list.iter().map(|c| c["size"].as_u64().expect("cohort size")).sum();
    assert_eq!(in_cohorts, customers, "every customer is in one cohort");

    let churn = json(url, &["insights", "churn", "--format", "json", "--churn-days", "90", as_of[0], as_of[1]]);
    assert_eq!(churn["definition"]["days"], 90);
    within_unit(&churn["churned_share"], "churned share");
    let monthly = churn["monthly"].as_array().expect("monthly churn");
    assert!(!monthly.is_empty());
    for month in monthly {
        if !month["churn_rate"].is_null() {
            within_unit(&month["churn_rate"], "monthly churn rate");
        }
    }
    for curve in churn["survival"].as_array().expect("survival curves") {
        for point in curve["points"].as_array().expect("points") {
            within_unit(&point["survival"], "survival");
        }
    }

    let by_segment = json(
        url,
        &[
            "insights",
            "churn",
            "--format",
            "json",
            "--definition",
            "lifecycle",
            "--group-by",
            "segment",
            as_of[0],
            as_of[1],
        ],
    );
    assert_eq!(by_segment["definition"]["kind"], "lifecycle_churned");
    within_unit(&by_segment["churned_share"], "churned share (lifecycle)");
    let groups: Vec<&str> = by_segment["survival"]
        .as_array()
        .expect("survival curves")
        .iter()
        .map(|c| c["group"].as_str().expect("a group label"))
        .collect();
    assert!(groups.iter().any(|g| ["Champions", "Loyal", "Hibernating", "Lost"].contains(g)), "by segment: {groups:?}");
    assert!(!groups.iter().any(|g| ["website", "event", "referral"].contains(g)), "not by source: {groups:?}");

    let clv = json(
        url,
        &["insights", "clv", "--format", "json", "--unit", "weeks", "--horizon", "26", "--discount-rate", "0.05"],
    );
    assert_eq!(number(&clv["horizon"], "horizon"), 26.0);
    assert_eq!(number(&clv["annual_discount_rate"], "discount rate"), 0.05);
    assert_eq!(clv["time_unit"], "weeks");
    for p in ["r", "alpha", "a", "b"] {
        let value = number(&clv["model"]["bgnbd"]["params"][p], p);
        assert!(value > 0.0 && value.is_finite(), "BG/NBD {p} = {value}");
    }
    for p in ["p", "q", "gamma"] {
        let value = number(&clv["model"]["gamma_gamma"]["params"][p], p);
        assert!(value > 0.0 && value.is_finite(), "Gamma-Gamma {p} = {value}");
    }
    // Demo customers spend at levels of their own, so the spend model is not degenerate.
    assert!(number(&clv["model"]["gamma_gamma"]["params"]["q"], "q") > 1.0, "Gamma-Gamma q > 1");
    let valued = clv["customers"].as_array().expect("clv customers");
    assert_eq!(valued.len() as u64, customers, "every customer with a purchase is valued");
    for customer in valued {
        within_unit(&customer["probability_alive"], "P(alive)");
        assert!(number(&customer["expected_purchases"], "expected purchases") >= 0.0);
        let value = number(&customer["lifetime_value"], "lifetime value");
        assert!(value >= 0.0 && value.is_finite(), "lifetime value {value}");
    }

    let referrals = json(url, &["insights", "referrals", "--format", "json"]);
    within_unit(&referrals["share_referred"], "share referred");
    assert!(referrals["referred_customers"].as_u64().expect("referred") > 0, "the demo has referred customers");

    // Tables and CSV.
    for command in ["rfm", "cohorts", "churn", "clv", "referrals"] {
        let table = rapport(url, &["insights", command], "");
        assert!(table.ok && table.stdout.lines().count() > 3, "{command}: {} {}", table.stdout, table.stderr);
        let csv = rapport(url, &["insights", command, "--format", "csv"], "");
        assert!(csv.ok, "{command}: {}", csv.stderr);
        let columns = csv.stdout.lines().next().expect("a csv header").split(',').count();
        assert!(columns >= 3 && csv.stdout.lines().all(|l| l.split(',').count() == columns), "{}", csv.stdout);
    }
    let segments_csv = rapport(url, &["insights", "rfm", "--format", "csv"], "").stdout;
    assert_eq!(segments_csv.lines().count(), 12, "a header and one row per segment");

    refused(rapport(url, &["insights", "rfm", "--format", "xml"], ""), "--format");
    refused(rapport(url, &["insights", "cohorts", "--as-of", "2024-13-01"], ""), "not a date");
    refused(rapport(url, &["insights", "clv", "--horizon", "0"], ""), "--horizon");
    refused(rapport(url, &["insights", "clv", "--unit", "months"], ""), "--unit");
    refused(rapport(url, &["insights", "clv", "--discount-rate", "1"], ""), "--discount-rate");
    refused(rapport(url, &["insights", "clv", "--discount-rate", "-0.1"], ""), "--discount-rate");
    refused(rapport(url, &["insights", "churn", "--definition", "never"], ""), "--definition");
    refused(rapport(url, &["insights", "churn", "--group-by", "owner"], ""), "--group-by");
    refused(rapport(url, &["insights", "forecast"], ""), "forecast");
    refused(rapport(url, &["insights", "rfm", "--currency", "JPY"], ""), "no purchase is in JPY");
}
