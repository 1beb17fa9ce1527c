//! The public survey answer page under a burst (issue 12): N customers
//! (200 by default) open their personal link at once, then all send their
//! answer at once, on SQLite. Server time (p50/p99, from each response's
//! `Server-Timing` header) and the client's wall time of the page and of
//! the answer, beside /healthz measured at the same concurrency in the same
//! run.
//!
//! The survey pages are rate-limited per client address (30 a minute, keyed
//! by the connection's peer address, no proxy header), so every customer
//! connects from an address of its own on the loopback network
//! (127.R.x.y: Linux routes all of 127.0.0.0/8 to the loopback interface)
//! and makes three survey requests at most; the limiter stays on and is
//! part of what is measured. `--spread-ms` spreads each burst's requests
//! evenly over that time instead, to measure an arrival rate.
//!
//!     cargo run --release -p rapport-bench --bin survey_page     # --customers, --rounds, --spread-ms

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use clap::Parser;
use rapport_bench::{Timings, percentile, serve, server_millis, session};
use rapport_domain::records::PersonInput;
use rapport_domain::surveys::{AnswerSubject, PublicUrl, SendInput, SendOutcome, SurveySettings, templates};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, Role};
use rapport_storage::{SharedEmail, Store};
use tokio::sync::Barrier;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Measures the public survey answer page with many customers answering at once")]
struct Args {
    /// Customers answering at once (the requests in flight).
    #[arg(long, default_value_t = 200)]
    customers: usize,
    /// Bursts, each with customers of its own (their samples are pooled).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Spread each burst's requests evenly over this many milliseconds
    /// (0: all in the same instant), for an arrival rate rather than a burst.
    #[arg(long, default_value_t = 0)]
    spread_ms: u64,
}

/// Reasons customers give, as they would type them.
const WHY: &[&str] = &[
    "Delivery was late twice this month.",
    "Friendly support, they solved it the same day.",
    "Good value, but the app is slow.",
    "Everything arrived on time. Thank you!",
    "Billing was confusing and nobody answered my email.",
];

/// One customer: their link, and a client that connects from their own address.
struct Customer {
    link: String,
    client: reqwest::Client,
}

/// The loopback address of customer `index` of round `round` (never .0 or .255).
fn address(round: usize, index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1 + round as u8, 1 + (index / 250) as u8, 1 + (index % 250) as u8))
}

/// What one request did: server time, wall time.
type Sample = (f64, f64);

/// Every customer sends one request at the same moment (after a barrier),
/// or, with a `spread`, customer i of n at i/n of it; `request` builds it
/// from the customer and their index. Each response must have `status` and
/// contain `expect`.
async fn burst<F>(
    customers: &[Arc<Customer>],
    spread: Duration,
    label: &str,
    status: u16,
    expect: &str,
    request: F,
) -> Result<Vec<Sample>>
where
    F: Fn(&Customer, usize) -> reqwest::RequestBuilder,
{
    let barrier = Arc::new(Barrier::new(customers.len()));
    let mut in_flight = Vec::new();
    for (i, customer) in customers.iter().enumerate() {
        let builder = request(customer, i);
        let barrier = barrier.clone();
        let label = label.to_owned();
        let expect = expect.to_owned();
        let offset = spread.mul_f64(i as f64 / customers.len() as f64);
        in_flight.push(tokio::spawn(async move {
            barrier.wait().await;
            tokio::time::sleep(offset).await;
            let started = Instant::now();
            let response = builder.send().await?;
            let code = response.status();
            let server = server_millis(response.headers());
            let body = response.text().await?;
            let wall = started.elapsed().as_secs_f64() * 1000.0;
            ensure!(code.as_u16() == status, "{label}: customer {i} got {code}");
            ensure!(body.contains(&expect), "{label}: customer {i}'s response lacks {expect:?}");
            let server = server.ok_or_else(|| anyhow!("no Server-Timing header on {label}"))?;
            Ok::<_, anyhow::Error>((server, wall))
        }));
    }
    let mut samples = Vec::with_capacity(customers.len());
    for task in in_flight {
        samples.push(task.await??);
    }
    Ok(samples)
}

fn name(raw: &str) -> Result<Name> {
    Name::try_from(raw.to_owned()).map_err(|e| anyhow!(e))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.customers > 0 && args.rounds > 0, "--customers and --rounds must be at least 1");
    ensure!(args.customers <= 250 * 250 && args.rounds <= 250, "at most 62,500 customers and 250 rounds");
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("survey-page.db").display());
    let store = Store::connect(&url).await.context("opening the database")?;
    store.migrate().await?;

    // The public address must be known before a link is made: serve first.
    let (base, server) = serve(&store).await?;
    session(&store, "bench-admin@example.com", Role::Admin, None).await?;
    let admin_user = store
        .find_user_by_email(&Email::parse("bench-admin@example.com").map_err(|e| anyhow!(e))?)
        .await?
        .context("the bench admin")?;
    let admin = Actor { user_id: admin_user.id, role: Role::Admin, team_id: None };
    let public_url = PublicUrl::parse(&base).map_err(|e| anyhow!(e))?;
    store.set_survey_settings(&admin, SurveySettings { public_url: Some(public_url), ..Default::default() }).await?;
    let nps = templates().into_iter().next().context("the shipped NPS survey")?;
    let survey = store.create_survey(&admin, nps).await?;

    let filling = Instant::now();
    let mut rounds = Vec::new();
    for round in 0..args.rounds {
        let mut customers = Vec::with_capacity(args.customers);
        for i in 0..args.customers {
            let email = Email::parse(&format!("customer{round}-{i}@shop.example")).map_err(|e| anyhow!(e))?;
            let input = PersonInput::lead(name(&format!("Customer{i}"))?, Some(name("Bench")?), email, None);
            let person = store.add_person(&admin, input, SharedEmail::Refuse).await?;
            let send = SendInput { person_id: person.id, subject: AnswerSubject::default(), email: false };
            let SendOutcome::Sent { link, .. } = store.send_survey(&admin, survey.id, send).await? else {
                return Err(anyhow!("customer {i} was not sent the survey"));
            };
            let client = reqwest::Client::builder()
                .local_address(address(round, i))
                .tcp_nodelay(true)
                .timeout(std::time::Duration::from_secs(60))
                .build()?;
            customers.push(Arc::new(Customer { link, client }));
        }
        rounds.push(customers);
    }
    store.analyze().await?;
    println!(
        "Database: {} customers, each sent the NPS survey on a personal link; made in {:.1} s",
        args.customers * args.rounds,
        filling.elapsed().as_secs_f64()
    );

    let mut healthz = Timings { label: "GET /healthz (baseline)".into(), server: Vec::new(), client: Vec::new() };
    let mut page = Timings { label: "GET /s/{token} (survey page)".into(), server: Vec::new(), client: Vec::new() };
    let mut answer = Timings { label: "POST /s/{token} (answer)".into(), server: Vec::new(), client: Vec::new() };
    let mut per_round = Vec::new();
    let spread = Duration::from_millis(args.spread_ms);
    for (round, customers) in rounds.into_iter().enumerate() {
        // Each customer's connection is opened (and the database pool's
        // connections) before anything is measured; /readyz reads the database
        // and is not rate-limited.
        burst(&customers, Duration::ZERO, "warm-up", 200, "ready", |c, _| c.client.get(format!("{base}/readyz")))
            .await?;
        let started = Instant::now();
        let health =
            burst(&customers, spread, &healthz.label, 200, "ok", |c, _| c.client.get(format!("{base}/healthz")))
                .await?;
        let health_all = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let shown =
            burst(&customers, spread, &page.label, 200, "name=\"q_score\"", |c, _| c.client.get(c.link.as_str()))
                .await?;
        let shown_all = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let answered = burst(&customers, spread, &answer.label, 200, "Thank you", |c, i| {
            let score = (i % 11).to_string();
            c.client.post(c.link.as_str()).form(&[("q_score", score.as_str()), ("q_why", WHY[i % WHY.len()])])
        })
        .await?;
        let answered_all = started.elapsed().as_secs_f64() * 1000.0;
        let p99 = |samples: &[Sample]| {
            let mut server: Vec<f64> = samples.iter().map(|s| s.0).collect();
            server.sort_by(f64::total_cmp);
            percentile(&server, 99.0)
        };
        per_round.push((round + 1, p99(&health), p99(&shown), p99(&answered), health_all, shown_all, answered_all));
        for (timings, samples) in [(&mut healthz, health), (&mut page, shown), (&mut answer, answered)] {
            timings.server.extend(samples.iter().map(|s| s.0));
            timings.client.extend(samples.iter().map(|s| s.1));
        }
        println!("measured round {}", round + 1);
    }
    let answered = store.survey_sends(survey.id, (args.customers * args.rounds) as u64).await?;
    let answered = answered.iter().filter(|s| s.answered_at.is_some()).count();
    ensure!(answered == args.customers * args.rounds, "only {answered} links are answered");

    // `percentile` reads sorted values.
    let results: Vec<Timings> = [healthz, page, answer]
        .into_iter()
        .map(|mut t| {
            t.server.sort_by(f64::total_cmp);
            t.client.sort_by(f64::total_cmp);
            t
        })
        .collect();
    println!();
    let arriving = match args.spread_ms {
        0 => "at once".to_owned(),
        ms => format!("arriving evenly over {ms} ms"),
    };
    println!(
        "## {} customers {arriving}, {} rounds ({} requests per kind)",
        args.customers,
        args.rounds,
        args.customers * args.rounds
    );
    println!();
    println!(
        "| Request | server p50 ms | server p99 ms | wall p50 ms | wall p99 ms | server p99 ÷ /healthz | wall p99 ÷ /healthz |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let server_base = percentile(&results[0].server, 99.0);
    let wall_base = percentile(&results[0].client, 99.0);
    for t in &results {
        println!(
            "| `{}` | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} |",
            t.label,
            percentile(&t.server, 50.0),
            percentile(&t.server, 99.0),
            percentile(&t.client, 50.0),
            percentile(&t.client, 99.0),
            percentile(&t.server, 99.0) / server_base,
            percentile(&t.client, 99.0) / wall_base,
        );
    }
    println!();
    println!(
        "| Round | /healthz server p99 ms | page server p99 ms | answer server p99 ms | whole burst ms (healthz / page / answer) |"
    );
    println!("|---:|---:|---:|---:|---|");
    for (round, h, s, a, h_all, s_all, a_all) in &per_round {
        println!("| {round} | {h:.2} | {s:.2} | {a:.2} | {h_all:.0} / {s_all:.0} / {a_all:.0} |");
    }
    println!();
    for t in &results[1..] {
        let server = percentile(&t.server, 99.0);
        let wall = percentile(&t.client, 99.0);
        let verdict = |p99: f64| if p99 < 20.0 { "met" } else { "missed" };
        println!(
            "{}: server p99 {server:.2} ms (goal < 20 ms: {}), wall p99 {wall:.2} ms (< 20 ms: {})",
            t.label,
            verdict(server),
            verdict(wall)
        );
    }
    server.abort();
    Ok(())
}
