//! The insights benchmark: RFM and cohorts over 10,000,000 purchases on
//! SQLite, the goal being under 5 seconds end to end.
//!
//! Two commands (scripts/bench-insights.sh runs both and the CLI beside):
//!
//! - `generate --path FILE`: fills a database that `rapport migrate` has just
//!   created with synthetic people and purchases in one currency, straight
//!   through rusqlite (indexes dropped during the load and rebuilt after,
//!   then ANALYZE). Deterministic for a seed.
//! - `run --database-url URL`: times RFM and cohorts from one pass, from
//!   `Store::connect` to the finished reports, and prints each phase, the
//!   purchase feed alone (`--feed-only`) and the peak resident memory.
//!
//!     cargo run --release -p rapport-bench --bin insights -- run --database-url sqlite:///tmp/bench.db

use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_reports::{Scope, compute};
use rapport_storage::{PurchaseRow, PurchaseSink, Store};
use rusqlite::{Connection, params};
use time::macros::{datetime, format_description};
use time::{Duration, OffsetDateTime};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The generated purchases end here (the day of the measurement in docs/PERFORMANCE.md).
const END: OffsetDateTime = datetime!(2026-11-25 00:00 UTC);
/// First purchases spread over this many days before `END`.
const SPAN_DAYS: i64 = 5 * 365;
const SOURCES: &[&str] = &["website", "event", "partner", "cold outreach", "advertising", "referral"];
const FIRST: &[&str] = &["Ana", "Bruno", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"];
const LAST: &[&str] = &["Lima", "Schmidt", "Okafor", "Nakamura", "Rossi", "Haddad", "Kowalski", "Moreau"];

#[derive(Parser)]
#[command(about = "Times RFM and cohorts over millions of purchases on SQLite")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fills a freshly migrated SQLite database with people and purchases.
    Generate {
        /// The database file (made by `rapport migrate`, still empty).
        #[arg(long)]
        path: String,
        #[arg(long, default_value_t = 1_000_000)]
        people: u64,
        #[arg(long, default_value_t = 10_000_000)]
        purchases: u64,
        /// Share of the people without any purchase (leads).
        #[arg(long, default_value_t = 0.05)]
        leads: f64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Times RFM and cohorts from one pass, from connect to finished reports.
    Run {
        #[arg(long)]
        database_url: String,
        /// Only stream the purchases into a sink that counts them (no reports).
        #[arg(long)]
        feed_only: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    match Args::parse().command {
        Command::Generate { path, people, purchases, leads, seed } => generate(&path, people, purchases, leads, seed),
        Command::Run { database_url, feed_only } => run(&database_url, feed_only).await,
    }
}

// ---------------------------------------------------------------- run

/// Counts the rows of a feed and sums their amounts (so nothing is optimised away).
struct Count {
    rows: u64,
    sum: i64,
}

impl PurchaseSink for Count {
    fn purchase(&mut self, row: PurchaseRow) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(row.amount_minor);
    }
}

async fn run(url: &str, feed_only: bool) -> Result<()> {
    let as_of = OffsetDateTime::now_utc().date();
    let start = Instant::now();
    let store = Store::connect(url).await.with_context(|| format!("cannot open {url}"))?;
    let connected = start.elapsed().as_secs_f64();
    let scope = Scope::pick(&store, None).await?.context("the database holds no purchase")?;
    let scoped = start.elapsed().as_secs_f64();
    if feed_only {
        let (count, fed) = store.feed_purchases(&scope.currency, Count { rows: 0, sum: 0 }).await?;
        let total = start.elapsed().as_secs_f64();
        println!("feed only: {fed} purchases (sum {}) in {:.3} s", count.sum, total - scoped);
        println!("connect {connected:.3} s, scope {:.3} s, total {total:.3} s", scoped - connected);
    } else {
        let (rfm, cohorts) = compute::rfm_and_cohorts(&store, &scope, as_of).await?;
        let total = start.elapsed().as_secs_f64();
        let purchases: u64 = rfm.customers.iter().map(|c| c.frequency).sum();
        println!(
            "rfm+cohorts: {purchases} purchases in {}, {} customers, {} cohorts",
            scope.currency,
            rfm.customers.len(),
            cohorts.cohorts.len()
        );
        println!(
            "connect {connected:.3} s, scope {:.3} s, feed+compute {:.3} s, total {total:.3} s",
            scoped - connected,
            total - scoped
        );
    }
    if let Some(peak) = peak_rss_kib() {
        println!("peak RSS {:.0} MiB", peak as f64 / 1024.0);
    }
    store.close().await?;
    Ok(())
}

/// VmHWM of this process, in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------- generate

/// A UUID version 7 layout: a counter where the milliseconds go (so ids
/// rise in insert order and the primary keys are appended), random bits after.
fn uuid_v7(counter: u64, rng: &mut StdRng) -> [u8; 16] {
    let mut bytes: [u8; 16] = rng.random();
    let ms = 0x0190_0000_0000u64 + counter;
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    bytes
}

fn timestamp(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.format(&format).expect("a UTC timestamp formats")
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Purchases per customer: 1 + geometric-like, then nudged so they sum to `total`.
fn purchase_counts(customers: u64, total: u64, rng: &mut StdRng) -> Result<Vec<u64>> {
    if total < customers {
        bail!("{total} purchases cannot give each of {customers} customers one");
    }
    let mean = total as f64 / customers as f64;
    let mut counts: Vec<u64> = (0..customers)
        .map(|_| 1 + ((-(1.0 - rng.random::<f64>()).ln()) * (mean - 0.5)).floor().min(2_000.0) as u64)
        .collect();
    let mut sum: u64 = counts.iter().sum();
    while sum != total {
        let i = rng.random_range(0..customers as usize);
        if sum < total {
            counts[i] += 1;
            sum += 1;
        } else if counts[i] > 1 {
            counts[i] -= 1;
            sum -= 1;
        }
    }
    Ok(counts)
}

fn generate(path: &str, people: u64, purchases: u64, leads: f64, seed: u64) -> Result<()> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut db = Connection::open(path).with_context(|| format!("cannot open {path}"))?;
    let existing: i64 = db.query_row("SELECT count(*) FROM people", [], |r| r.get(0))?;
    if existing > 0 {
        bail!("{path} already holds people; generate into a freshly migrated database");
    }
    db.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")?;
    // Indexes and the search trigger go during the load and come back after:
    // building an index from sorted rows is much faster than keeping it up.
    let dropped: Vec<(String, String)> = db
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name IN ('people', 'purchases') \
             AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, sql) in &dropped {
        let kind = if sql.trim_start().to_uppercase().starts_with("CREATE TRIGGER") { "TRIGGER" } else { "INDEX" };
        db.execute_batch(&format!("DROP {kind} \"{name}\""))?;
    }
    let customers = ((people as f64) * (1.0 - leads)).round().max(1.0) as u64;
    let counts = purchase_counts(customers, purchases, &mut rng)?;
    let tx = db.transaction()?;
    {
        let mut person = tx.prepare(
            "INSERT INTO people (id, created_at, updated_at, created_by, version, first_name, last_name, emails, \
             phones, job_title, company_id, owner_id, lifecycle_stage, source, referred_by_id, tags, preferences, \
             keep_in_touch_days, last_contacted_at, custom_fields, search_text, sort_name) \
             VALUES (?1, ?2, ?2, NULL, 1, ?3, ?4, ?5, '[]', NULL, NULL, NULL, ?6, ?7, ?8, '[]', ?9, NULL, NULL, '{}', \
             ?10, ?11)",
        )?;
        let mut purchase = tx.prepare(
            "INSERT INTO purchases (id, created_at, updated_at, created_by, version, person_id, occurred_at, \
             amount_minor, currency, reference, description) VALUES (?1, ?2, ?2, NULL, 1, ?3, ?2, ?4, 'EUR', ?5, NULL)",
        )?;
        let preferences = r#"{"do_not_contact":false,"interests":[],"language":null,"notes":null,"preferred_channel":null,"time_zone":null}"#;
        let mut ids: Vec<[u8; 16]> = Vec::with_capacity(people as usize);
        let mut purchase_counter = 0u64;
        let mut times: Vec<i64> = Vec::new();
        for i in 0..people {
            let id = uuid_v7(i, &mut rng);
            ids.push(id);
            let first_name = FIRST[rng.random_range(0..FIRST.len())];
            let last_name = LAST[rng.random_range(0..LAST.len())];
            let email = format!("{}.{}{i}@example.com", first_name.to_lowercase(), last_name.to_lowercase());
            let emails = format!(r#"[{{"address":"{email}","label":"work","primary":true}}]"#);
            // First purchase spread over five years; customers stay a while
            // (exponential, two years on average), then buy no more.
            let first = END - Duration::seconds(rng.random_range(0..SPAN_DAYS * 86_400));
            let buys = counts.get(i as usize).copied().unwrap_or(0);
            let lifetime = (-(1.0 - rng.random::<f64>()).ln() * 730.0 * 86_400.0) as i64;
            let last_possible = (first + Duration::seconds(lifetime)).min(END);
            let stage = match (buys, last_possible < END) {
                (0, _) => "lead",
                (_, true) if rng.random_bool(0.3) => "churned",
                _ => "customer",
            };
            let referred_by = (i > 0 && rng.random_bool(0.1)).then(|| ids[rng.random_range(0..i as usize)]);
            let source =
                if referred_by.is_some() { "referral" } else { SOURCES[rng.random_range(0..SOURCES.len() - 1)] };
            let created =
                if buys > 0 { first } else { END - Duration::seconds(rng.random_range(0..SPAN_DAYS * 86_400)) };
            person.execute(params![
                id,
                timestamp(created),
                first_name,
                last_name,
                emails,
                stage,
                source,
                referred_by,
                preferences,
                format!("{} {} {email}", first_name.to_lowercase(), last_name.to_lowercase()),
                format!("{} {}", last_name.to_lowercase(), first_name.to_lowercase()),
            ])?;
            if buys == 0 {
                continue;
            }
            // Each customer spends around a level of their own (log-normal,
            // EUR 60 on average), each basket around it.
            let level = 6_000.0 * (0.7 * normal(&mut rng) - 0.245).exp();
            let window = (last_possible - first).whole_seconds().max(1);
            times.clear();
            times.push(0);
            times.extend((1..buys).map(|_| rng.random_range(0..window)));
            times.sort_unstable();
            for offset in &times {
                let at = timestamp(first + Duration::seconds(*offset));
                let amount = (level * (0.35 * normal(&mut rng) - 0.061).exp()).round().clamp(100.0, 1_000_000.0) as i64;
                purchase_counter += 1;
                let reference = rng.random_bool(0.8).then(|| format!("ORD-{purchase_counter:08}"));
                purchase.execute(params![uuid_v7(purchase_counter, &mut rng), at, id, amount, reference])?;
            }
            if (i + 1) % 100_000 == 0 {
                eprintln!(
                    "  {} people, {purchase_counter} purchases ({:.0} s)",
                    i + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    tx.commit()?;
    eprintln!("  rows in ({:.0} s); rebuilding the indexes and the search index", started.elapsed().as_secs_f64());
    for (_, sql) in &dropped {
        db.execute_batch(sql)?;
    }
    db.execute_batch("INSERT INTO people_fts(people_fts) VALUES ('rebuild');")?;
    eprintln!("  indexes rebuilt ({:.0} s); ANALYZE", started.elapsed().as_secs_f64());
    db.execute_batch("ANALYZE; PRAGMA journal_mode = WAL;")?;
    eprintln!("generated {people} people and {purchases} purchases in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
