//! How long a bulk change holds the writer: `Store::bulk_people` setting the
//! lifecycle stage of 10,000 people (`BULK_MAX`, the most one bulk change
//! takes) in one transaction, against the baseline of the same 10,000
//! changes made one person update at a time, and how long a person update
//! sent every 20 ms waits while the bulk change runs.
//!
//! On a fresh database with N people inserted first (setup, not measured): a
//! SQLite file in a temporary directory, or an empty PostgreSQL database
//! (`createdb`) given with `--database-url`.
//!
//!     cargo run --release -p rapport-bench --bin bulk_lock -- --people 100000
//!     cargo run --release -p rapport-bench --bin bulk_lock -- --people 100000 \
//!         --database-url postgres://postgres@127.0.0.1:5432/bulk_lock

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rapport_bench::percentile;
use rapport_bench::writer_lock::{Filled, updates_meanwhile};
use rapport_domain::PersonId;
use rapport_domain::bulk::{BULK_MAX, BulkChange};
use rapport_domain::records::LifecycleStage;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Times how long a bulk change of many people holds the writer")]
struct Args {
    /// People in the database.
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// People the bulk change takes (at most the bulk limit).
    #[arg(long, default_value_t = BULK_MAX)]
    changed: usize,
    /// An empty PostgreSQL database (or SQLite file) instead of a SQLite file in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Milliseconds between the concurrent person updates.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (1..=BULK_MAX).contains(&args.changed) && args.changed < args.people,
        "--changed must be 1 to {BULK_MAX} and below --people"
    );
    let filled = Filled::open(args.database_url.as_deref(), "bulk_lock.db", args.people).await?;
    let Filled { store, actor, people, .. } = &filled;
    let changed: Vec<PersonId> = people[..args.changed].iter().map(|id| PersonId(*id)).collect();
    // Updated meanwhile: a person the bulk change does not take.
    let bystander = *people.last().context("at least one person")?;
    let interval = Duration::from_millis(args.interval_ms);
    let idle = filled.idle_updates(bystander, interval).await?;

    // The baseline: the same change, one person update (one transaction) at a time.
    let t = Instant::now();
    for id in &changed {
        let mut input = store.get_person(*id).await?.fields;
        input.lifecycle_stage = LifecycleStage::Prospect;
        store.update_person(actor, *id, input, None).await?;
    }
    let one_at_a_time = t.elapsed();
    eprintln!("one at a time done ({:.1} s)", one_at_a_time.as_secs_f64());

    let (updates, stop) = updates_meanwhile(store, actor, bystander, interval);
    let t = Instant::now();
    let done = store.bulk_people(actor, &changed, &BulkChange::SetStage(LifecycleStage::Churned)).await?;
    let bulk = t.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (updates, failed) = updates.await??;
    anyhow::ensure!(done.changed == changed.len(), "the bulk change took {} people", done.changed);

    let name = filled.backend();
    let per_record = |d: Duration| d.as_secs_f64() * 1e6 / changed.len() as f64;
    println!();
    println!("## A bulk change of {} people among {} on {name}", changed.len(), people.len());
    println!();
    println!("| way | whole s | per person µs | ratio to one at a time |");
    println!("|---|---:|---:|---:|");
    println!(
        "| one person update at a time (baseline) | {:.2} | {:.0} | 1.00 |",
        one_at_a_time.as_secs_f64(),
        per_record(one_at_a_time)
    );
    println!(
        "| one bulk change (one transaction) | {:.2} | {:.0} | {:.2} |",
        bulk.as_secs_f64(),
        per_record(bulk),
        bulk.as_secs_f64() / one_at_a_time.as_secs_f64()
    );
    println!();
    println!(
        "A person update during the bulk change: p50 {:.1} / p99 {:.1} / max {:.1} ms (n = {}, {failed} refused); \
         with nothing running: p50 {:.1}, p99 {:.1} ms.",
        percentile(&updates, 50.0),
        percentile(&updates, 99.0),
        updates.last().copied().unwrap_or(f64::NAN),
        updates.len(),
        percentile(&idle, 50.0),
        percentile(&idle, 99.0),
    );
    filled.close().await
}
