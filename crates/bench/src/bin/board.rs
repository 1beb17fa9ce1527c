//! The pipeline board's benchmark (issue 16): a pipeline with 10,000 open
//! deals (plus won and lost ones) over a database filled by `rapport demo`
//! (100,000 people at `--scale 50`). It measures, beside /healthz in the same
//! run, the server time (`Server-Timing`) of the board page, of a column's
//! "Load more" (htmx), and of a move (htmx, answering the moved card and the
//! two touched columns' figures), and the board's size compressed as a
//! browser asks for it.
//!
//!     scripts/bench-board.sh                     # the pages benchmark's database, made first if missing
//!     cargo run --release -p rapport-bench --bin board -- --database-url sqlite:///tmp/demo.db

use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rapport_bench::{client_with, measure, percentile, ratio, serve, session, time_all};
use rapport_domain::records::{DealInput, DealStatus, Pipeline, PipelineInput, StageInput};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, Role};
use rapport_storage::{DealFilter, ListQuery, PersonFilter, Store};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, HeaderMap, HeaderValue};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PIPELINE: &str = "Bench board";
const STAGES: [(&str, i32); 6] =
    [("Lead", 10), ("Qualified", 20), ("Demo", 40), ("Proposal", 60), ("Negotiation", 80), ("Closing", 90)];

#[derive(Parser, Debug)]
#[command(about = "Measures the pipeline board with 10,000 open deals: page, load more, move")]
struct Args {
    /// A database filled by `rapport demo` (it gets an admin "bench-board@example.com"
    /// and, once, the pipeline "Bench board" with its deals).
    #[arg(long)]
    database_url: String,
    /// Open deals in the bench pipeline, made when the pipeline is.
    #[arg(long, default_value_t = 10_000)]
    open: usize,
    /// Requests per measured GET.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Moves measured (half there, half back; at most 398: one page of deals).
    #[arg(long, default_value_t = 398)]
    moves: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.requests == 0 || args.concurrency == 0 || !(2..=398).contains(&args.moves) {
        return Err(anyhow!("--requests and --concurrency must be at least 1, --moves 2 to 398"));
    }
    let store = Store::connect(&args.database_url).await.context("opening the database")?;
    store.migrate().await?;
    let cookie = session(&store, "bench-board@example.com", Role::Admin, None).await?;
    let admin = store
        .find_user_by_email(&Email::parse("bench-board@example.com").map_err(|e| anyhow!(e))?)
        .await?
        .ok_or_else(|| anyhow!("the bench admin"))?;
    let actor = Actor { user_id: admin.id, role: Role::Admin, team_id: None };
    let pipeline = bench_pipeline(&store, &actor, args.open).await?;
    store.analyze().await?;

    let open = store.open_deal_sums(pipeline.id).await?.iter().map(|s| s.count).sum::<i64>();
    println!("Pipeline {PIPELINE}: {open} open deals in {} stages", pipeline.stages.len());

    let (base, server) = serve(&store).await?;
    let client = client_with(&cookie)?;
    let board = format!("{base}/pipelines/{}/board", pipeline.id);
    let page = client.get(&board).send().await?.error_for_status()?.text().await?;
    let csrf = attribute_after(&page, "name=\"csrf-token\" content=\"").ok_or_else(|| anyhow!("no CSRF token"))?;
    let more = attribute_after(&page, "hx-get=\"").ok_or_else(|| anyhow!("no Load more on the board"))?;
    // Askama writes `&` in an attribute as `&#38;`.
    let more = format!("{base}{}", more.replace("&#38;", "&").replace("&amp;", "&"));
    let mut htmx_headers = HeaderMap::new();
    htmx_headers.insert("hx-request", HeaderValue::from_static("true"));
    htmx_headers.insert("x-csrf-token", HeaderValue::from_str(&csrf)?);
    let htmx = reqwest::Client::builder()
        .default_headers({
            let mut h = htmx_headers.clone();
            h.insert(reqwest::header::COOKIE, HeaderValue::from_str(&cookie)?);
            h
        })
        .tcp_nodelay(true)
        .timeout(std::time::Duration::from_secs(60))
        .build()?;

    measure(&client, "warm-up", (0..50).map(|_| board.clone()).collect(), args.concurrency).await?;
    let mut results = vec![
        measure(
            &client,
            "GET /healthz (baseline)",
            (0..args.requests).map(|_| format!("{base}/healthz")).collect(),
            args.concurrency,
        )
        .await?,
        measure(
            &client,
            "GET /pipelines/{id}/board",
            (0..args.requests).map(|_| board.clone()).collect(),
            args.concurrency,
        )
        .await?,
        measure(
            &htmx,
            "GET … ?column=&cursor= (Load more, htmx)",
            (0..args.requests).map(|_| more.clone()).collect(),
            args.concurrency,
        )
        .await?,
    ];

    // Moves: deals of the first stage to the second, then back.
    let (first, second) = (pipeline.stages[0].id, pipeline.stages[1].id);
    let query =
        ListQuery { limit: Some((args.moves / 2 + 1) as u64), sort: Some("-updated_at".into()), ..Default::default() };
    let filter = DealFilter {
        pipeline_id: Some(pipeline.id),
        stage_id: Some(first),
        status: Some(DealStatus::Open),
        ..Default::default()
    };
    let mut movers: Vec<String> =
        store.list_deals(&query, &filter).await?.items.iter().map(|d| d.id.to_string()).collect();
    // One more, moved once unmeasured for the size of a move's answer.
    let sample = movers.pop().ok_or_else(|| anyhow!("no open deals in the first stage"))?;
    let sample_form = vec![("target", second.to_string()), ("from", first.to_string())];
    let move_size = post_size(&htmx, &format!("{base}/deals/{sample}/move"), &sample_form).await?;
    let mut moves = Vec::new();
    for (from, to) in [(first, second), (second, first)] {
        for deal in &movers {
            moves.push((
                format!("{base}/deals/{deal}/move"),
                vec![("target", to.to_string()), ("from", from.to_string())],
            ));
        }
    }
    let moves = moves.into_iter().map(|(url, form)| htmx.post(url).form(&form)).collect();
    results.push(time_all("POST /deals/{id}/move (htmx)", moves, args.concurrency, moved).await?);

    println!();
    println!("## Server time at concurrency {}", args.concurrency);
    println!();
    println!(
        "| Request | n | server p50 ms | server p99 ms | client p99 ms | server p99 ÷ /healthz | client p99 ÷ /healthz | goal |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    let baseline = percentile(&results[0].server, 99.0);
    let baseline_client = percentile(&results[0].client, 99.0);
    let goals = [None, Some(50.0), Some(50.0), Some(20.0)];
    for (t, goal) in results.iter().zip(goals) {
        let p99 = percentile(&t.server, 99.0);
        let verdict = goal.map(|g| format!("< {g} ms: {}", if p99 < g { "met" } else { "missed" })).unwrap_or_default();
        println!(
            "| `{}` | {} | {:.2} | {p99:.2} | {:.2} | {} | {} | {verdict} |",
            t.label,
            t.server.len(),
            percentile(&t.server, 50.0),
            percentile(&t.client, 99.0),
            ratio(p99, baseline, 0),
            ratio(percentile(&t.client, 99.0), baseline_client, 0)
        );
    }

    println!();
    println!("## Sizes");
    println!();
    for (label, url, client) in [("board", &board, &client), ("Load more", &more, &htmx)] {
        let plain = client.get(url).send().await?.bytes().await?.len();
        let response = client.get(url).header(ACCEPT_ENCODING, "br, gzip").send().await?;
        let encoding =
            response.headers().get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
        let compressed = response.bytes().await?.len();
        println!(
            "{label}: {:.1} KB, {:.1} KB {encoding}{}",
            plain as f64 / 1024.0,
            compressed as f64 / 1024.0,
            if label == "board" {
                format!(" (goal < 60 KB: {})", if compressed < 60 * 1024 { "met" } else { "missed" })
            } else {
                String::new()
            }
        );
    }
    println!("a move's answer: {:.1} KB uncompressed", move_size as f64 / 1024.0);
    server.abort();
    Ok(())
}

/// The text of an attribute value that follows `marker` in `html`.
fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

/// Posts one form and returns its answer's size.
async fn post_size(client: &reqwest::Client, url: &str, form: &[(&str, String)]) -> Result<usize> {
    let response = client.post(url).form(form).send().await?;
    let status = response.status();
    let size = response.bytes().await?.len();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(size)
}

/// A move's answer: the "Moved" toast, and the card put into its new column.
fn moved(headers: &HeaderMap, body: &[u8]) -> Result<()> {
    let toast = headers.get("hx-trigger").and_then(|v| v.to_str().ok()).unwrap_or("");
    anyhow::ensure!(toast.contains("Moved"), "no \"Moved\" toast: {toast}");
    let body = String::from_utf8_lossy(body);
    anyhow::ensure!(body.contains("hx-swap-oob=\"afterbegin:"), "the card is not in the answer: {body}");
    Ok(())
}

/// The bench pipeline, made with its deals the first time: `open` open deals
/// over six stages, and a fifth as many won and a tenth as many lost, for
/// customers of the demo data.
async fn bench_pipeline(store: &Store, actor: &Actor, open: usize) -> Result<Pipeline> {
    if let Some(pipeline) = store.list_pipelines().await?.into_iter().find(|p| p.name.as_str() == PIPELINE) {
        return Ok(pipeline);
    }
    let name = |raw: &str| Name::try_from(raw.to_owned()).map_err(|e| anyhow!(e));
    let stages = STAGES
        .iter()
        .map(|(stage, p)| Ok(StageInput { id: None, name: name(stage)?, win_probability: *p }))
        .collect::<Result<Vec<_>>>()?;
    let pipeline = store.create_pipeline(actor, PipelineInput { name: name(PIPELINE)?, stages }).await?;
    let people =
        store.list_people(&ListQuery { limit: Some(200), ..Default::default() }, &PersonFilter::default()).await?;
    anyhow::ensure!(!people.items.is_empty(), "the database has no people: fill it with `rapport demo` first");
    let mut rng = StdRng::seed_from_u64(16);
    let eur = Currency::parse("EUR").map_err(|e| anyhow!(e))?;
    let started = Instant::now();
    let statuses = std::iter::repeat_n(DealStatus::Open, open)
        .chain(std::iter::repeat_n(DealStatus::Won, open / 5))
        .chain(std::iter::repeat_n(DealStatus::Lost, open / 10));
    let mut batch = Vec::new();
    for (n, status) in statuses.enumerate() {
        let person = people.items.choose(&mut rng).expect("people");
        let stage = pipeline.stages.choose(&mut rng).expect("stages");
        batch.push(DealInput {
            name: name(&format!("Bench deal {n} for {}", person.fields.full_name()))?,
            amount: Money::new(rng.random_range(5..500) * 10_000, eur),
            pipeline_id: pipeline.id,
            stage_id: stage.id,
            person_id: Some(person.id),
            company_id: person.fields.company_id,
            owner_id: person.fields.owner_id,
            expected_close: None,
            status,
            lost_reason: None,
            tags: Vec::new(),
            external_id: None,
            custom_fields: Default::default(),
        });
        if batch.len() == 500 {
            store.create_deals(actor, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.create_deals(actor, batch).await?;
    }
    println!("made {PIPELINE} with {open} open deals in {:.1} s", started.elapsed().as_secs_f64());
    Ok(pipeline)
}
