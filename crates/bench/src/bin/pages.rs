//! The web pages' benchmark: server time (p50/p99, from each response's
//! `Server-Timing` header) of the people list (unfiltered, with filters, a
//! search, with filter-builder conditions and their count, which the page
//! loads after itself, and the API list with conditions), the home page (the
//! bench admin's and a sales agent's) and the customer page, beside
//! /healthz measured in the same run, and the compressed size of every page.
//!
//! Run it against a database filled by `rapport demo` (scripts/bench-pages.sh
//! makes one with 100,000 people first):
//!
//!     cargo run --release -p rapport-bench --bin pages -- --database-url sqlite:///tmp/demo.db

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rapport_bench::{client_with, measure, print_timings, serve, server_millis, session};
use rapport_domain::Role;
use rapport_storage::{ListQuery, PersonFilter, Store, UserFilter};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};

/// A sales agent of `rapport demo`, with a book of customers of their own.
const AGENT: &str = "leo.brandt@example.com";

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Measures the server time and compressed size of Rapport's web pages")]
struct Args {
    /// A database filled by `rapport demo` (it gets one more admin, "bench-pages@example.com").
    #[arg(long)]
    database_url: String,
    /// Requests per measured page kind.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.requests == 0 || args.concurrency == 0 {
        return Err(anyhow!("--requests and --concurrency must be at least 1"));
    }
    let store = Store::connect(&args.database_url).await.context("opening the database")?;
    store.migrate().await?;
    store.analyze().await?;
    let cookie = session(&store, "bench-pages@example.com", Role::Admin, None).await?;

    let mut rng = StdRng::seed_from_u64(7);
    let mut people = Vec::new();
    let mut query = ListQuery { limit: Some(200), ..Default::default() };
    loop {
        let page = store.list_people(&query, &PersonFilter::default()).await?;
        people.extend(page.items.iter().map(|p| p.id));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    anyhow::ensure!(!people.is_empty(), "the database has no people: fill it with `rapport demo` first");
    let total_users = store.list_users(&ListQuery::default(), &UserFilter::default()).await?.items.len();

    let (base, server) = serve(&store).await?;

    let client = client_with(&cookie)?;
    // The home page as the demo's sales agent sees it: people of their own
    // to keep in touch with, tasks and a team's activity, which the bench
    // admin, who owns nothing, has none of.
    let agent = client_with(&session(&store, AGENT, Role::Agent, None).await?)?;

    // A search prefix that matches: the first three letters of a sampled surname.
    let sample = store.get_person(people[people.len() / 2]).await?;
    let search = format!("q={}", surname_prefix(&sample));
    // The search row rotates through the prefixes of twenty sampled people, so no one answer is cached.
    let mut searches = Vec::new();
    for id in people.choose_multiple(&mut rng, 20) {
        searches.push(format!("q={}", surname_prefix(&store.get_person(*id).await?)));
    }
    let filters = [
        "",
        "lifecycle_stage=customer",
        "tag=vip",
        "sort=last_contacted_at",
        "sort=-last_contacted_at",
        search.as_str(),
        "lifecycle_stage=lead&sort=-updated_at",
    ];
    println!("Database: {} people, {total_users} staff; list filters: {}", people.len(), filters.join(" | "));
    // Filter-builder queries: two conditions each, one of them on a custom field.
    let conditions = [
        "where=custom.customer_tier.eq.gold&where=lifecycle_stage.ne.lead",
        "where=custom.customer_tier.in.gold%7Csilver&where=created_at.last.365",
        "where=email.contains.example&where=custom.customer_tier.eq.silver",
        "where=tag.has.vip&where=custom.customer_tier.set",
    ];
    println!("Filter-builder queries: {}", conditions.join(" | "));
    let person = |rng: &mut StdRng| people.choose(rng).expect("sampled people").to_string();
    let warmup: Vec<String> = (0..200).map(|_| format!("{base}/people/{}", person(&mut rng))).collect();
    measure(&client, "warm-up", warmup, args.concurrency).await?;

    let mut runs = vec![
        (
            "GET /healthz (baseline)".to_owned(),
            (0..args.requests).map(|_| format!("{base}/healthz")).collect::<Vec<_>>(),
        ),
        (
            "GET /people (list page, with filters)".to_owned(),
            (0..args.requests).map(|i| format!("{base}/people?{}", filters[i % filters.len()])).collect(),
        ),
        (
            "GET /people (list page, no filter)".to_owned(),
            (0..args.requests).map(|_| format!("{base}/people")).collect(),
        ),
        (
            "GET /people?q= (search, surname prefixes)".to_owned(),
            (0..args.requests).map(|i| format!("{base}/people?{}", searches[i % searches.len()])).collect(),
        ),
        ("GET / (home page)".to_owned(), (0..args.requests).map(|_| format!("{base}/")).collect()),
    ];
    // One row per filter-builder query, so a slow one shows as itself rather than as the rows' shared p99.
    for condition in conditions {
        let shown = condition.replace("where=", "").replace('&', " & ").replace("%7C", "|");
        runs.push((
            format!("GET /people (list page, filter builder: {shown})"),
            (0..args.requests).map(|_| format!("{base}/people?{condition}")).collect(),
        ));
    }
    runs.extend([
        (
            "GET /people/count (filter builder, loaded after the page)".to_owned(),
            (0..args.requests).map(|i| format!("{base}/people/count?{}", conditions[i % conditions.len()])).collect(),
        ),
        (
            "GET /api/v1/people (filter builder, count)".to_owned(),
            (0..args.requests)
                .map(|i| format!("{base}/api/v1/people?count=true&{}", conditions[i % conditions.len()]))
                .collect(),
        ),
        (
            "GET /people/{id} (customer page)".to_owned(),
            (0..args.requests).map(|_| format!("{base}/people/{}", person(&mut rng))).collect(),
        ),
    ]);
    let mut results = Vec::new();
    for (label, urls) in runs {
        let timings = measure(&client, &label, urls, args.concurrency).await?;
        println!("measured {label}");
        results.push(timings);
    }
    let label = format!("GET / (home page, {AGENT})");
    results.push(
        measure(&agent, &label, (0..args.requests).map(|_| format!("{base}/")).collect(), args.concurrency).await?,
    );
    println!("measured {label}");

    print_timings(&results, args.requests, args.concurrency);

    // Every page once, compressed as a browser asks for it.
    let some = person(&mut rng);
    let company =
        store.list_companies(&ListQuery { limit: Some(1), ..Default::default() }, &Default::default()).await?;
    let deal = store.list_deals(&ListQuery { limit: Some(1), ..Default::default() }, &Default::default()).await?;
    let mut pages = vec![
        "/".to_owned(),
        "/inbox".to_owned(),
        "/people".to_owned(),
        format!("/people?{search}"),
        format!("/people/{some}"),
        format!("/people/{some}/edit"),
        "/people/new".to_owned(),
        "/companies".to_owned(),
        "/deals".to_owned(),
        "/tasks".to_owned(),
        "/tasks/new".to_owned(),
        "/board".to_owned(),
        format!("/search?{search}"),
        "/settings/users".to_owned(),
        "/settings/teams".to_owned(),
        "/settings/pipelines".to_owned(),
        "/settings/fields".to_owned(),
        "/settings/tokens".to_owned(),
    ];
    if let Some(company) = company.items.first() {
        pages.push(format!("/companies/{}", company.id));
    }
    if let Some(deal) = deal.items.first() {
        pages.push(format!("/deals/{}", deal.id));
        pages.push(format!("/pipelines/{}/board", deal.fields.pipeline_id));
    }
    println!();
    println!("## Page sizes (goal: every page < 100 KB compressed)");
    println!();
    println!("| Page | status | encoding | compressed KB | server ms |");
    println!("|---|---:|---|---:|---:|");
    let mut largest = 0usize;
    for path in &pages {
        let response = client.get(format!("{base}{path}")).header(ACCEPT_ENCODING, "br, gzip").send().await?;
        let status = response.status().as_u16();
        let encoding =
            response.headers().get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned();
        let server = server_millis(response.headers()).unwrap_or(f64::NAN);
        let bytes = response.bytes().await?.len();
        largest = largest.max(bytes);
        println!("| `{path}` | {status} | {encoding} | {:.1} | {server:.2} |", bytes as f64 / 1024.0);
    }
    println!();
    println!(
        "Largest page: {:.1} KB compressed (goal < 100 KB: {})",
        largest as f64 / 1024.0,
        if largest < 100 * 1024 { "met" } else { "missed" }
    );
    server.abort();
    Ok(())
}

/// The first three letters of a person's surname (or first name), lower-cased: a search that matches.
fn surname_prefix(person: &rapport_domain::records::Person) -> String {
    let name = person.fields.last_name.as_ref().unwrap_or(&person.fields.first_name);
    name.to_string().to_lowercase().chars().take(3).collect()
}
