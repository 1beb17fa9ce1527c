//! The support desk at scale, on SQLite: with 100,000 tickets and 500,000
//! messages, the server time of the queue page (several queues and
//! filters, as an admin and as an agent) and of the ticket page, beside
//! /healthz in the same run; and how long a calendar change takes when it
//! recomputes the due times of every open ticket, beside the same change to
//! a calendar no policy uses.
//!
//! A thousand tickets with five messages each are written through the
//! store (so their clocks are real); the rest are copies of them with new
//! ids, shifted back a few minutes per copy, written with SQL.
//!
//!     cargo run --release -p rapport-bench --bin tickets

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, ensure};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_bench::{client_with, measure, print_timings, serve, session};
use rapport_domain::records::{PersonInput, TeamInput, now};
use rapport_domain::sla::CalendarInput;
use rapport_domain::text::Name;
use rapport_domain::tickets::{MessageInput, TicketInput};
use rapport_domain::{Actor, Email, PersonId, Role, TicketId};
use rapport_storage::{SharedEmail, Store};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Measures the ticket queue, the ticket page and the SLA recompute with many tickets")]
struct Args {
    /// Tickets in the database (a multiple of --template).
    #[arg(long, default_value_t = 100_000)]
    tickets: usize,
    /// Tickets written through the store, then copied.
    #[arg(long, default_value_t = 1_000)]
    template: usize,
    /// Messages on each ticket.
    #[arg(long, default_value_t = 5)]
    messages: usize,
    /// Requesters.
    #[arg(long, default_value_t = 5_000)]
    people: usize,
    /// Requests per measured page kind.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

fn name(raw: &str) -> Result<Name> {
    Name::try_from(raw.to_owned()).map_err(|e| anyhow!(e))
}

/// Office hours, Monday to Friday, in Berlin; `end` is the closing hour.
fn office_hours(label: &str, end: &str) -> Result<CalendarInput> {
    let periods: Vec<_> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|day| json!({ "day": day, "start": "09:00", "end": end }))
        .collect();
    Ok(serde_json::from_value(json!({
        "name": label, "time_zone": "Europe/Berlin", "periods": periods, "holidays": ["2026-12-24", "2026-12-25"]
    }))?)
}

const SUBJECTS: &[&str] = &[
    "Order has not arrived",
    "Invoice shows the wrong address",
    "Cannot sign in",
    "Refund for a damaged parcel",
    "Change my subscription",
    "Question about the warranty",
];

/// The template tickets through the store: requesters, assignees,
/// priorities and a conversation of `messages` that leaves each ticket
/// open, pending or solved.
async fn write_template(
    store: &Store,
    admin: &Actor,
    args: &Args,
    people: &[PersonId],
    agents: &[rapport_domain::UserId],
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(11);
    let started = now();
    for i in 0..args.template {
        let opened = started - Duration::minutes(rng.random_range(60..60 * 24 * 45));
        let assignee = if rng.random_bool(0.8) { agents.choose(&mut rng).copied() } else { None };
        let priority = ["low", "normal", "normal", "normal", "high", "urgent"].choose(&mut rng).copied();
        let channel = ["email", "web", "phone", "chat"].choose(&mut rng).copied();
        let input: TicketInput = serde_json::from_value(json!({
            "requester_id": people.choose(&mut rng).context("people")?,
            "subject": format!("{} (#{i})", SUBJECTS.choose(&mut rng).context("subjects")?),
            "channel": channel,
            "priority": priority,
            "assignee_id": assignee,
        }))?;
        let ticket = store.create_ticket_at(admin, input, opened).await?;
        let ending = rng.random_range(0..10);
        let mut at = opened;
        for m in 0..args.messages {
            at = (at + Duration::minutes(rng.random_range(5..600))).min(started);
            let last = m + 1 == args.messages;
            let (kind, body) = match m % 3 {
                0 => ("customer", "Hello, my order from last week has still not arrived. Could you check where it is?"),
                1 => ("reply", "Thank you for writing. I have asked the carrier and will come back to you today."),
                _ => ("note", "Carrier says the parcel is at the depot; call them again tomorrow."),
            };
            let status = match (last, ending) {
                (true, 0..=5) => Some("solved"),
                (true, 6) => Some("pending"),
                _ => None,
            };
            let input: MessageInput = serde_json::from_value(json!({ "kind": kind, "body": body, "status": status }))?;
            store.add_ticket_message_at(admin, ticket.id, input, at).await?;
        }
    }
    Ok(())
}

/// Copies the template tickets and their messages until there are
/// `tickets`: new ids, every time shifted back 7 minutes per copy, no
/// external id, mail token or email Message-ID (those are one ticket's own).
fn copy_template(path: &std::path::Path, args: &Args) -> Result<()> {
    let mut db = rusqlite::Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "NORMAL")?;
    let columns = |db: &rusqlite::Connection, table: &str| -> Result<Vec<(String, String)>> {
        let mut statement = db.prepare(&format!("PRAGMA table_info({table})"))?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(1)?, row.get::<_, String>(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let unique = ["external_id", "mail_token", "email_message_id"];
    let select = |table_columns: &[(String, String)], id: &str, ticket_id: &str| -> String {
        table_columns
            .iter()
            .map(|(column, kind)| match column.as_str() {
                "id" => id.to_owned(),
                "ticket_id" => ticket_id.to_owned(),
                c if unique.contains(&c) => "NULL".to_owned(),
                c if kind.starts_with("timestamp") => {
                    format!("strftime('%Y-%m-%dT%H:%M:%SZ', t.\"{c}\", ?1)")
                }
                c => format!("t.\"{c}\""),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ticket_columns = columns(&db, "tickets")?;
    let message_columns = columns(&db, "ticket_messages")?;
    let names = |cols: &[(String, String)]| cols.iter().map(|(c, _)| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let copy_tickets = format!(
        "INSERT INTO tickets ({}) SELECT {} FROM tickets t JOIN temp.copy m ON t.id = m.old",
        names(&ticket_columns),
        select(&ticket_columns, "m.new", "")
    );
    let copy_messages = format!(
        "INSERT INTO ticket_messages ({}) SELECT {} FROM ticket_messages t JOIN temp.copy m ON t.ticket_id = m.old",
        names(&message_columns),
        select(&message_columns, "randomblob(16)", "m.new")
    );
    db.execute_batch("CREATE TEMP TABLE template AS SELECT id FROM tickets")?;
    for copy in 1..args.tickets / args.template {
        let shift = format!("-{} minutes", copy * 7);
        let tx = db.transaction()?;
        tx.execute_batch(
            "DROP TABLE IF EXISTS temp.copy; CREATE TEMP TABLE copy AS SELECT id AS old, randomblob(16) AS new FROM temp.template",
        )?;
        tx.execute(&copy_tickets, [&shift])?;
        tx.execute(&copy_messages, [&shift])?;
        tx.commit()?;
    }
    Ok(())
}

/// Some ticket ids, for the ticket page.
fn sample_tickets(path: &std::path::Path, count: usize) -> Result<Vec<TicketId>> {
    let db = rusqlite::Connection::open(path)?;
    let mut statement = db.prepare("SELECT id FROM tickets ORDER BY random() LIMIT ?1")?;
    let rows = statement.query_map([count as i64], |row| row.get::<_, Vec<u8>>(0))?;
    rows.map(|bytes| Ok(TicketId(Uuid::from_slice(&bytes?)?))).collect()
}

fn count(path: &std::path::Path, sql: &str) -> Result<i64> {
    Ok(rusqlite::Connection::open(path)?.query_row(sql, [], |row| row.get(0))?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.template > 0 && args.tickets >= args.template, "--tickets must be at least --template (> 0)");
    ensure!(args.requests > 0 && args.concurrency > 0, "--requests and --concurrency must be at least 1");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tickets.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.context("opening the database")?;
    store.migrate().await?;

    let filling = Instant::now();
    let admin_cookie = session(&store, "bench-admin@example.com", Role::Admin, None).await?;
    let admin_user = store
        .find_user_by_email(&Email::parse("bench-admin@example.com").map_err(|e| anyhow!(e))?)
        .await?
        .context("the bench admin")?;
    let admin = Actor { user_id: admin_user.id, role: Role::Admin, team_id: None };
    let mut agents = Vec::new();
    let mut agent_cookie = String::new();
    for t in 0..3 {
        let team = store.create_team(&admin, TeamInput { name: name(&format!("Team {t}"))? }).await?;
        for a in 0..4 {
            let email = format!("agent{t}{a}@bench.example");
            let cookie = session(&store, &email, Role::Agent, Some(team.id)).await?;
            if agent_cookie.is_empty() {
                agent_cookie = cookie;
            }
            let user = store.find_user_by_email(&Email::parse(&email).map_err(|e| anyhow!(e))?).await?;
            agents.push(user.context("the agent just made")?.id);
        }
    }
    let mut people = Vec::new();
    for i in 0..args.people {
        let email = Email::parse(&format!("customer{i}@shop.example")).map_err(|e| anyhow!(e))?;
        let input = PersonInput::lead(name(&format!("Customer{i}"))?, Some(name("Bench")?), email, None);
        people.push(store.add_person(&admin, input, SharedEmail::Refuse).await?.id);
    }
    let calendar = store.create_calendar(&admin, office_hours("Office hours", "17:00")?).await?;
    let unused = store.create_calendar(&admin, office_hours("Unused", "17:00")?).await?;
    let policy = json!({ "name": "Standard", "first_response_minutes": 240, "next_response_minutes": 480,
                         "resolution_minutes": 2880, "calendar_id": calendar.id });
    store.create_sla_policy(&admin, serde_json::from_value(policy)?).await?;
    write_template(&store, &admin, &args, &people, &agents).await?;
    copy_template(&path, &args)?;
    store.analyze().await?;
    let tickets = count(&path, "SELECT count(*) FROM tickets")?;
    let messages = count(&path, "SELECT count(*) FROM ticket_messages")?;
    let open = count(&path, "SELECT count(*) FROM tickets WHERE status IN ('new', 'open', 'pending')")?;
    println!(
        "Database: {tickets} tickets ({open} open), {messages} messages, {} people, {} agents; filled in {:.0} s",
        people.len(),
        agents.len(),
        filling.elapsed().as_secs_f64()
    );

    let (base, server) = serve(&store).await?;
    let as_admin = client_with(&admin_cookie)?;
    let as_agent = client_with(&agent_cookie)?;
    let mut rng = StdRng::seed_from_u64(7);
    let sampled = sample_tickets(&path, args.requests.min(5_000))?;
    let distinct: HashSet<_> = sampled.iter().collect();
    ensure!(distinct.len() == sampled.len(), "sampled the same ticket twice");

    let admin_queues = ["", "queue=unassigned", "queue=due_soon", "queue=breached", "status=open", "priority=urgent"];
    let agent_queues = ["queue=mine", "queue=team", "queue=unassigned", "", "status=pending"];
    let urls = |queues: &[&str]| -> Vec<String> {
        (0..args.requests).map(|i| format!("{base}/tickets?{}", queues[i % queues.len()])).collect()
    };
    let ticket_urls: Vec<String> =
        (0..args.requests).map(|_| format!("{base}/tickets/{}", sampled.choose(&mut rng).expect("tickets"))).collect();
    measure(&as_admin, "warm-up", ticket_urls[..200.min(ticket_urls.len())].to_vec(), args.concurrency).await?;
    let runs = [
        ("GET /healthz (baseline)", &as_admin, (0..args.requests).map(|_| format!("{base}/healthz")).collect()),
        ("GET /tickets (queue page, admin)", &as_admin, urls(&admin_queues)),
        ("GET /tickets (queue page, agent)", &as_agent, urls(&agent_queues)),
        ("GET /tickets/{id} (ticket page, admin)", &as_admin, ticket_urls),
    ];
    let mut results = Vec::new();
    for (label, client, urls) in runs {
        results.push(measure(client, label, urls, args.concurrency).await?);
        println!("measured {label}");
    }
    print_timings(&results, args.requests, args.concurrency);

    // A calendar change recomputes every open ticket under it; the same change to the
    // unused calendar (no ticket to recompute) is the baseline.
    let change = |calendar: &rapport_domain::sla::Calendar| -> Result<CalendarInput> {
        office_hours(calendar.fields.name.as_str(), "18:00")
    };
    let timed = Instant::now();
    store.update_calendar(&admin, unused.id, change(&unused)?, None).await?;
    let baseline = timed.elapsed().as_secs_f64();
    let timed = Instant::now();
    store.update_calendar(&admin, calendar.id, change(&calendar)?, None).await?;
    let recompute = timed.elapsed().as_secs_f64();
    println!();
    println!("## SLA recompute after a calendar change ({open} open tickets)");
    println!();
    println!("| Change | seconds | ratio to baseline |");
    println!("|---|---:|---:|");
    println!("| the unused calendar (baseline) | {baseline:.3} | 1.0 |");
    println!("| the policy's calendar | {recompute:.3} | {:.0} |", recompute / baseline);
    println!("SLA recompute: {recompute:.2} s (goal < 2 s: {})", if recompute < 2.0 { "met" } else { "missed" });
    server.abort();
    Ok(())
}
