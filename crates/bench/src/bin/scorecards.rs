//! The staff scorecards at scale (issue 13): 200 staff in 20 teams, 20,000
//! customers they own and a year of their work with them (activities,
//! tasks, tickets, closed deals, NPS answers about them) on SQLite. Times
//! `scorecard_report` for everyone over the last 365 days (it reads the
//! period and the three periods of the same length before, for the trends)
//! beside `Store::style_facts` for that one period alone and `Store::ping`,
//! and the time of that computation within; then the server time of the
//! `/style` list page and of one staff member's `/style/{user_id}` page
//! beside `/healthz`. `--scale` multiplies every row count but the staff's.
//!
//! A server keeps the scorecards it computed for a period for five minutes
//! (`ScorecardCache`): the first page request of a period computes them
//! (timed on its own), the measured ones after it render what was kept.
//!
//!     cargo run --release -p rapport-bench --bin scorecards -- --scale 1.0

use std::time::Instant;

use anyhow::{Context, Result, anyhow, ensure};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_bench::{Timings, client_with, measure, percentile, serve, session};
use rapport_domain::records::{
    ActivityInput, ActivityKind, Channel, DealInput, DealStatus, Direction, EmailEntry, LifecycleStage, Links,
    PersonInput, Preferences, TaskInput, TeamInput, UserInput, now,
};
use rapport_domain::surveys::{AnswerSource, AnswerSubject, templates};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Money, PersonId, Role, UserId};
use rapport_reports::scorecards::{StyleScope, TREND_PERIODS, scorecard_report};
use rapport_storage::{RecordedAnswer, Store};
use serde_json::json;
use time::{Duration, OffsetDateTime};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Times the staff scorecards and their pages over a year of activity by 200 staff")]
struct Args {
    /// Multiplies the row counts of customers and their year of work (the
    /// 20 teams and 200 staff stay: they are what the goal is about).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Tickets before --scale (each is written through the store: two
    /// transactions with their SLA bookkeeping).
    #[arg(long, default_value_t = 20_000)]
    tickets: usize,
    /// NPS answers about staff before --scale (one transaction each).
    #[arg(long, default_value_t = 4_000)]
    answers: usize,
    /// Runs of the whole report.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 100)]
    requests: usize,
    #[arg(long, default_value_t = 13)]
    seed: u64,
}

const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"];
const LAST: &[&str] = &["Lima", "Schmidt", "Okafor", "Nakamura", "Rossi", "Haddad", "Kowalski", "Moreau"];
const KINDS: &[ActivityKind] = &[ActivityKind::Call, ActivityKind::Email, ActivityKind::Meeting, ActivityKind::Message];
const CHANNELS: &[Channel] = &[Channel::Phone, Channel::Email, Channel::InPerson, Channel::Sms, Channel::Whatsapp];
/// Rows per bulk-create transaction.
const BATCH: usize = 5_000;
/// The work spans this long before now.
const YEAR: Duration = Duration::days(365);

fn name(raw: &str) -> Result<Name> {
    Name::try_from(raw.to_owned()).map_err(|e| anyhow!(e))
}

fn scaled(count: usize, scale: f64) -> usize {
    ((count as f64 * scale).round() as usize).max(1)
}

/// Whole seconds (what the store keeps).
fn whole(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).expect("whole seconds")
}

/// A moment in the year before `end`.
fn in_year(rng: &mut StdRng, end: OffsetDateTime) -> OffsetDateTime {
    whole(end - Duration::seconds(rng.random_range(0..YEAR.whole_seconds())))
}

fn touch(
    staff: UserId,
    person: PersonId,
    kind: ActivityKind,
    direction: Direction,
    at: OffsetDateTime,
) -> ActivityInput {
    ActivityInput {
        kind,
        direction: Some(direction),
        occurred_at: Some(whole(at)),
        subject: Some(Name::try_from(if direction == Direction::Inbound { "Question" } else { "Follow-up" }).unwrap()),
        body: None,
        author_id: Some(staff),
        links: Links { person_id: Some(person), company_id: None, deal_id: None },
    }
}

fn count(path: &std::path::Path, sql: &str) -> Result<i64> {
    Ok(rusqlite::Connection::open(path)?.query_row(sql, [], |row| row.get(0))?)
}

/// The store stamps tasks done and deals closed with the moment they are
/// written; spread them over the year as real work would be (deterministic:
/// offsets from each row's rowid), in the store's own format.
fn spread_times(path: &std::path::Path, end: OffsetDateTime) -> Result<()> {
    let db = rusqlite::Connection::open(path)?;
    let stamp = "'%Y-%m-%dT%H:%M:%SZ'";
    let end = end.format(&time::format_description::well_known::Rfc3339)?;
    // Done between three days early and five days late, never after now.
    db.execute(
        &format!(
            "UPDATE tasks SET done_at = min(?1, strftime({stamp}, due_at, printf('%+d seconds', (rowid * 2654435761) % 691200 - 259200))) WHERE done_at IS NOT NULL"
        ),
        [&end],
    )?;
    // Closed over the year, open for up to 90 days before.
    db.execute(
        &format!(
            "UPDATE deals SET closed_at = strftime({stamp}, ?1, printf('-%d seconds', (rowid * 2654435761) % 31536000)) WHERE closed_at IS NOT NULL"
        ),
        [&end],
    )?;
    db.execute(
        &format!(
            "UPDATE deals SET created_at = strftime({stamp}, closed_at, printf('-%d seconds', 3600 + (rowid * 40503) % 7776000)) WHERE closed_at IS NOT NULL"
        ),
        [],
    )?;
    Ok(())
}

struct Filled {
    admin: Actor,
    admin_cookie: String,
    staff: Vec<UserId>,
    tickets: usize,
    answers: usize,
}

async fn fill(store: &Store, path: &std::path::Path, args: &Args, end: OffsetDateTime) -> Result<Filled> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let admin_cookie = session(store, "bench-admin@example.com", Role::Admin, None).await?;
    let admin_user = store
        .find_user_by_email(&Email::parse("bench-admin@example.com").map_err(|e| anyhow!(e))?)
        .await?
        .context("the bench admin")?;
    let admin = Actor { user_id: admin_user.id, role: Role::Admin, team_id: None };

    // Teams of ten: a manager and nine agents.
    let (teams, per_team) = (20, 10);
    let mut staff = Vec::new();
    for t in 0..teams {
        let team = store.create_team(&admin, TeamInput { name: name(&format!("Team {t:02}"))? }).await?;
        for s in 0..per_team {
            let role = if s == 0 { Role::Manager } else { Role::Agent };
            let input = UserInput {
                name: name(&format!("{} {} {t}-{s}", FIRST[s % FIRST.len()], LAST[t % LAST.len()]))?,
                email: Email::parse(&format!("staff{t}-{s}@bench.example")).map_err(|e| anyhow!(e))?,
                role,
                team_id: Some(team.id),
                active: true,
            };
            staff.push(store.create_user(input, None, Some(admin.user_id)).await?.id);
        }
    }
    println!("filled: {} teams, {} staff", teams, staff.len());

    // Customers: each owned by one staff member; some with a cadence and a preferred channel.
    let mut people: Vec<(PersonId, UserId)> = Vec::new();
    let total = scaled(20_000, args.scale);
    for start in (0..total).step_by(BATCH) {
        let mut batch = Vec::new();
        let mut owners = Vec::new();
        for i in start..(start + BATCH).min(total) {
            let owner = staff[i % staff.len()];
            let email = Email::parse(&format!("customer{i}@shop.example")).map_err(|e| anyhow!(e))?;
            let preferences = Preferences {
                preferred_channel: rng.random_bool(0.5).then(|| *CHANNELS.choose(&mut rng).expect("channels")),
                ..Default::default()
            };
            let stage = if rng.random_bool(0.06) { LifecycleStage::Churned } else { LifecycleStage::Customer };
            let input = PersonInput {
                emails: vec![EmailEntry { address: email, label: None, primary: true }],
                owner_id: Some(owner),
                lifecycle_stage: stage,
                preferences,
                keep_in_touch_days: rng.random_bool(0.3).then(|| *[30, 60, 90].choose(&mut rng).expect("cadences")),
                ..PersonInput::lead(
                    name(FIRST[i % FIRST.len()])?,
                    Some(name(&format!("{}{i}", LAST[i % LAST.len()]))?),
                    Email::parse("placeholder@shop.example").map_err(|e| anyhow!(e))?,
                    None,
                )
            };
            batch.push(input);
            owners.push(owner);
        }
        let created = store.create_people(&admin, batch).await?;
        people.extend(created.into_iter().map(|p| p.id).zip(owners));
    }
    println!("filled: {} people", people.len());

    // Activities: conversations with a customer, by its owner: sometimes
    // they reach out first, the customer writes, they answer within hours
    // or days, and sometimes follow up.
    let total = scaled(200_000, args.scale);
    let mut written = 0;
    while written < total {
        let mut batch = Vec::with_capacity(BATCH + 4);
        while batch.len() < BATCH && written + batch.len() < total {
            let (person, owner) = *people.choose(&mut rng).expect("people");
            let kind = |rng: &mut StdRng| *KINDS.choose(rng).expect("kinds");
            let mut at = in_year(&mut rng, end);
            if rng.random_bool(0.3) {
                batch.push(touch(owner, person, kind(&mut rng), Direction::Outbound, at));
                at += Duration::days(rng.random_range(2..10));
            }
            batch.push(touch(owner, person, kind(&mut rng), Direction::Inbound, at));
            if rng.random_bool(0.9) {
                at += Duration::seconds((rng.random_range(0.1..48.0f64) * 3600.0) as i64);
                batch.push(touch(owner, person, kind(&mut rng), Direction::Outbound, at));
            }
            if rng.random_bool(0.4) {
                at += Duration::days(rng.random_range(5..20));
                batch.push(touch(owner, person, kind(&mut rng), Direction::Outbound, at));
            }
            batch.retain(|t| t.occurred_at.is_some_and(|at| at < end));
        }
        batch.truncate(total - written);
        written += batch.len();
        store.create_activities(&admin, batch).await?;
    }
    println!("filled: {written} activities");

    // Tasks due over the year, three in four done.
    let total = scaled(40_000, args.scale);
    for start in (0..total).step_by(BATCH) {
        let batch: Vec<TaskInput> = (start..(start + BATCH).min(total))
            .map(|_| {
                let (person, owner) = *people.choose(&mut rng).expect("people");
                TaskInput {
                    title: Name::try_from("Check in").expect("a short title"),
                    notes: None,
                    due_at: Some(in_year(&mut rng, end)),
                    assignee_id: Some(owner),
                    done: rng.random_bool(0.75),
                    links: Links { person_id: Some(person), company_id: None, deal_id: None },
                }
            })
            .collect();
        store.create_tasks(&admin, batch).await?;
    }
    println!("filled: {total} tasks");

    // Closed deals, won or lost.
    let pipeline = match store.list_pipelines().await?.into_iter().next() {
        Some(p) => p,
        None => {
            let input = json!({ "name": "Sales", "stages": [{ "name": "Lead", "win_probability": 10 },
                                                             { "name": "Proposal", "win_probability": 60 }] });
            store.create_pipeline(&admin, serde_json::from_value(input)?).await?
        }
    };
    let stage = pipeline.stages.first().context("a stage")?.id;
    let total = scaled(5_000, args.scale);
    for start in (0..total).step_by(BATCH) {
        let mut batch = Vec::new();
        for i in start..(start + BATCH).min(total) {
            let (person, owner) = *people.choose(&mut rng).expect("people");
            let input: DealInput = DealInput {
                name: name(&format!("Deal {i}"))?,
                amount: serde_json::from_value::<Money>(
                    json!({ "amount_minor": rng.random_range(10_000..5_000_000), "currency": "EUR" }),
                )?,
                pipeline_id: pipeline.id,
                stage_id: stage,
                person_id: Some(person),
                company_id: None,
                owner_id: Some(owner),
                expected_close: None,
                status: if rng.random_bool(0.45) { DealStatus::Won } else { DealStatus::Lost },
                lost_reason: None,
                tags: Vec::new(),
                external_id: None,
                custom_fields: Default::default(),
            };
            batch.push(input);
        }
        store.create_deals(&admin, batch).await?;
    }
    println!("filled: {total} deals");
    spread_times(path, end)?;

    // Tickets through the store, assigned to the requester's owner: most
    // answered within hours, most of those solved.
    let total = scaled(args.tickets, args.scale);
    let started = Instant::now();
    for i in 0..total {
        let (person, owner) = *people.choose(&mut rng).expect("people");
        let opened = in_year(&mut rng, end - Duration::days(2));
        let input = serde_json::from_value(json!({
            "requester_id": person, "subject": format!("Order question #{i}"), "assignee_id": owner,
            "channel": *["email", "web", "phone", "chat"].choose(&mut rng).expect("channels"),
        }))?;
        let ticket = store.create_ticket_at(&admin, input, opened).await?;
        if rng.random_bool(0.9) {
            let status = if rng.random_bool(0.8) { Some("solved") } else { None };
            let at = opened + Duration::seconds(rng.random_range(300..3 * 86_400));
            let body = "Thank you for writing. I have asked the carrier and will come back to you today.";
            let input = serde_json::from_value(json!({ "kind": "reply", "body": body, "status": status }))?;
            store.add_ticket_message_at(&admin, ticket.id, input, at).await?;
        }
        if (i + 1) % 5_000 == 0 {
            println!("filled: {} tickets ({:.0} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    println!("filled: {total} tickets in {:.0} s", started.elapsed().as_secs_f64());

    // NPS answers about staff, over the year.
    let survey = store.create_survey(&admin, templates().into_iter().next().context("the NPS template")?).await?;
    let total = scaled(args.answers, args.scale);
    for _ in 0..total {
        let (person, owner) = *people.choose(&mut rng).expect("people");
        let score: u8 = rng.random_range(0..=10);
        let why = if score >= 9 { "Always takes the time to listen." } else { "Quick answers, but short ones." };
        let answer = RecordedAnswer {
            survey_id: survey.id,
            person_id: person,
            subject: AnswerSubject { staff_id: Some(owner), ..Default::default() },
            given: [("score".to_owned(), vec![score.to_string()]), ("why".to_owned(), vec![why.to_owned()])].into(),
            answered_at: Some(in_year(&mut rng, end)),
            source: AnswerSource::Phone,
            external_id: None,
        };
        store.record_answer(&admin, answer).await?;
    }
    println!("filled: {total} answers");
    store.analyze().await?;
    Ok(Filled { admin, admin_cookie, staff, tickets: scaled(args.tickets, args.scale), answers: total })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::MIN, f64::max)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.scale > 0.0 && args.runs > 0 && args.requests > 0, "--scale, --runs and --requests must be > 0");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("scorecards.db");
    let store = Store::connect(&format!("sqlite://{}", path.display())).await.context("opening the database")?;
    store.migrate().await?;

    let end = now();
    let filling = Instant::now();
    let filled = fill(&store, &path, &args, end).await?;
    let fill_secs = filling.elapsed().as_secs_f64();
    let rows = |table: &str| count(&path, &format!("SELECT count(*) FROM {table}"));
    println!();
    println!("## Database (--scale {}), filled in {fill_secs:.0} s", args.scale);
    println!();
    println!("| Rows | count |");
    println!("|---|---:|");
    println!("| teams | {} |", rows("teams")?);
    println!("| active staff (with the admin) | {} |", count(&path, "SELECT count(*) FROM users WHERE active")?);
    println!("| people (owned customers) | {} |", rows("people")?);
    println!("| activities | {} |", rows("activities")?);
    println!(
        "| tasks, with detractors' follow-ups (done) | {} ({}) |",
        rows("tasks")?,
        count(&path, "SELECT count(*) FROM tasks WHERE done_at IS NOT NULL")?
    );
    println!(
        "| tickets (answered / solved) | {} ({} / {}) |",
        rows("tickets")?,
        count(&path, "SELECT count(*) FROM tickets WHERE first_responded_at IS NOT NULL")?,
        count(&path, "SELECT count(*) FROM tickets WHERE solved_at IS NOT NULL")?
    );
    println!("| closed deals | {} |", count(&path, "SELECT count(*) FROM deals WHERE closed_at IS NOT NULL")?);
    println!("| NPS answers about staff | {} |", rows("survey_answers")?);
    ensure!(rows("tickets")? as usize == filled.tickets, "tickets missing");
    ensure!(filled.answers > 0 && !filled.staff.is_empty(), "nothing filled");

    // The report, a year up to now, for everyone, as the admin.
    let (from, to) = (end - YEAR, end);
    let mut report_secs = Vec::new();
    let mut cards = 0;
    for _ in 0..args.runs {
        let timed = Instant::now();
        let report = scorecard_report(&store, &filled.admin, StyleScope::Visible, from, to).await?;
        report_secs.push(timed.elapsed().as_secs_f64());
        cards = report.scorecards.len();
    }
    // Baselines: the raw reads of one period, each of the four periods the
    // report reads, the computation over one period's facts, and a ping.
    let mut facts_secs = Vec::new();
    let mut facts_rows = 0;
    for _ in 0..args.runs {
        let timed = Instant::now();
        let facts = store.style_facts(from, to).await?;
        facts_secs.push(timed.elapsed().as_secs_f64());
        facts_rows = facts.tickets.len()
            + facts.sla.len()
            + facts.tasks.len()
            + facts.touches.len()
            + facts.owned.len()
            + facts.cadences.len()
            + facts.answers.len()
            + facts.deals.len();
    }
    let mut periods = Vec::new();
    for back in (0..=TREND_PERIODS as i32).rev() {
        let timed = Instant::now();
        store.style_facts(from - YEAR * back, to - YEAR * back).await?;
        periods.push(timed.elapsed().as_secs_f64());
    }
    let facts = store.style_facts(from, to).await?;
    let ids: Vec<UserId> = filled.staff.clone();
    let mut compute_secs = Vec::new();
    for _ in 0..args.runs {
        let timed = Instant::now();
        let computed = rapport_insights::scorecards::scorecards(&facts, &ids);
        compute_secs.push(timed.elapsed().as_secs_f64());
        ensure!(computed.len() == ids.len(), "a scorecard per staff member");
    }
    let mut pings = Vec::new();
    for _ in 0..300 {
        let timed = Instant::now();
        store.ping().await?;
        pings.push(timed.elapsed().as_secs_f64());
    }
    pings.sort_by(f64::total_cmp);

    let base = median(facts_secs.clone());
    let ms = |s: f64| s * 1000.0;
    println!();
    println!("## Scorecards for everyone over 365 days ({cards} scorecards, {} runs)", args.runs);
    println!();
    println!("| Step | median ms | max ms | ÷ style_facts (one period) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| `scorecard_report` (4 periods: the year and 3 before) | {:.0} | {:.0} | {:.2} |",
        ms(median(report_secs.clone())),
        ms(max(&report_secs)),
        median(report_secs.clone()) / base
    );
    println!(
        "| `style_facts`, the year alone ({facts_rows} facts; baseline) | {:.0} | {:.0} | 1.00 |",
        ms(base),
        ms(max(&facts_secs))
    );
    for (i, secs) in periods.iter().enumerate() {
        let label =
            if i == TREND_PERIODS { "the year".to_owned() } else { format!("{} years back", TREND_PERIODS - i) };
        println!("| `style_facts`, {label} (one run) | {:.0} | | {:.2} |", ms(*secs), secs / base);
    }
    println!(
        "| `scorecards()` over the year's facts (computation only) | {:.0} | {:.0} | {:.2} |",
        ms(median(compute_secs.clone())),
        ms(max(&compute_secs)),
        median(compute_secs.clone()) / base
    );
    println!(
        "| `Store::ping` p50 (floor, 300 calls) | {:.3} | {:.3} | {:.4} |",
        ms(percentile(&pings, 50.0)),
        ms(max(&pings)),
        percentile(&pings, 50.0) / base
    );
    let report = max(&report_secs);
    println!();
    println!(
        "Scorecards for everyone over a year: median {:.2} s, max {:.2} s (goal < 2 s: {})",
        median(report_secs.clone()),
        report,
        if report < 2.0 { "met" } else { "missed" }
    );

    // The pages, as the admin, one request at a time.
    let (base_url, server) = serve(&store).await?;
    let client = client_with(&filled.admin_cookie)?;
    let user = filled.staff[filled.staff.len() / 2];
    let urls = |path: &str| -> Vec<String> { (0..args.requests).map(|_| format!("{base_url}{path}")).collect() };
    // The first request of the period computes the scorecards every page of it then shows.
    let first =
        measure(&client, "GET /style (first request: computes)", urls("/style").into_iter().take(1).collect(), 1)
            .await?;
    // Warm-up: the connections, the pool, the pages' templates.
    for path in ["/healthz".to_owned(), "/style".to_owned(), format!("/style/{user}")] {
        measure(&client, "warm-up", urls(&path).into_iter().take(5).collect(), 1).await?;
    }
    let mut results: Vec<Timings> = Vec::new();
    for (label, path) in [
        ("GET /healthz (baseline)", "/healthz".to_owned()),
        ("GET /style (list, 30 days)", "/style".to_owned()),
        ("GET /style/{user_id} (one staff member, 30 days)", format!("/style/{user}")),
    ] {
        results.push(measure(&client, label, urls(&path), 1).await?);
        println!("measured {label}");
    }
    println!();
    println!("## Scorecard pages, {} requests each, one at a time, once computed (kept scorecards)", args.requests);
    println!();
    println!(
        "The first request of the period, which computes them: server {:.0} ms, client {:.0} ms.",
        percentile(&first.server, 50.0),
        percentile(&first.client, 50.0)
    );
    println!();
    println!("| Page | server p50 ms | server p99 ms | client p99 ms | server p99 ÷ /healthz p99 |");
    println!("|---|---:|---:|---:|---:|");
    let floor = percentile(&results[0].server, 99.0);
    for t in &results {
        println!(
            "| `{}` | {:.2} | {:.2} | {:.2} | {:.0} |",
            t.label,
            percentile(&t.server, 50.0),
            percentile(&t.server, 99.0),
            percentile(&t.client, 99.0),
            percentile(&t.server, 99.0) / floor
        );
    }
    println!();
    for t in &results[1..] {
        let p99 = percentile(&t.server, 99.0);
        println!(
            "{}: server p99 {p99:.1} ms (goal < 50 ms once computed: {})",
            t.label,
            if p99 < 50.0 { "met" } else { "missed" }
        );
    }
    server.abort();
    Ok(())
}
