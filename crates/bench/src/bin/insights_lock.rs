//! How long the insights job holds the writer (issue 14, part 3): one
//! `Store::replace_customer_insights` of N customers (staged a chunk per
//! transaction, then made current, then the old rows deleted a chunk at a
//! time) against the old way in the same run (every row deleted and every
//! row inserted in one transaction, written here in plain SQL as the store
//! did it). For each: (a) the longest single write transaction, (b) the
//! whole replace, and (c) how long a person update takes while it runs (one
//! every 20 ms), beside the same update with nothing running.
//!
//! On a fresh database with N people inserted first (setup, not measured): a
//! SQLite file in a temporary directory, or an empty PostgreSQL database
//! (`createdb`) given with `--database-url`.
//!
//!     cargo run --release -p rapport-bench --bin insights_lock -- --people 200000
//!     cargo run --release -p rapport-bench --bin insights_lock -- --people 200000 \
//!         --database-url postgres://postgres@127.0.0.1:5432/insights_lock

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rapport_bench::percentile;
use rapport_bench::writer_lock::{Filled, updates_meanwhile};
use rapport_domain::records::now;
use rapport_domain::{Currency, Money, PersonId, Segment};
use rapport_storage::CustomerInsight;
use sea_orm::sea_query::{Expr, InsertStatement, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, ExprTrait, SqliteTransactionMode, TransactionOptions,
    TransactionTrait, Value,
};
use time::macros::date;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows per INSERT in the old way, as the store wrote them.
const OLD_INSERT_ROWS: usize = 1_000;

#[derive(Parser, Debug)]
#[command(about = "Times how long replacing every customer's insights holds the writer, new way and old")]
struct Args {
    /// People (each a customer with insights).
    #[arg(long, default_value_t = 1_000_000)]
    people: usize,
    /// An empty PostgreSQL database (or SQLite file) instead of a SQLite file in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Milliseconds between the concurrent person updates.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
}

/// One way of replacing the insights, measured.
struct Measured {
    label: &'static str,
    longest_transaction: Duration,
    whole: Duration,
    transactions: u64,
    /// Each concurrent update's time, milliseconds, sorted.
    updates: Vec<f64>,
    /// Updates refused meanwhile (SQLite's busy timeout ran out).
    failed: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.people > 0, "--people must be at least 1");
    let filled = Filled::open(args.database_url.as_deref(), "insights_lock.db", args.people).await?;
    let Filled { store, raw, actor, people, .. } = &filled;
    let started = Instant::now();
    let rows = insights(people);
    let first = store.replace_customer_insights(&rows).await?;
    store.analyze().await?;
    eprintln!("first insights stored ({} rows, {:.1} s)", first.rows, started.elapsed().as_secs_f64());

    let updated = people[people.len() / 2];
    let interval = Duration::from_millis(args.interval_ms);
    let idle = filled.idle_updates(updated, interval).await?;

    // The old way: one transaction deletes every row and inserts them all.
    let (updates, stop) = updates_meanwhile(store, actor, updated, interval);
    let t = Instant::now();
    let held = replace_in_one_transaction(raw, &rows).await?;
    let whole = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (updates, failed) = updates.await??;
    let old =
        Measured { label: "old: one transaction", longest_transaction: held, whole, transactions: 1, updates, failed };
    eprintln!("old way done ({:.1} s)", whole.as_secs_f64());

    // The new way, through the store.
    let (updates, stop) = updates_meanwhile(store, actor, updated, interval);
    let t = Instant::now();
    let written = store.replace_customer_insights(&rows).await?;
    let whole = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (updates, failed) = updates.await??;
    anyhow::ensure!(written.published && written.rows == rows.len() as u64, "the new way stored {written:?}");
    let new = Measured {
        label: "new: generations",
        longest_transaction: written.longest_transaction,
        whole,
        transactions: written.transactions,
        updates,
        failed,
    };

    let name = filled.backend();
    println!();
    println!("## Replacing {} customers' insights on {name}", people.len());
    println!();
    println!(
        "| way | longest write transaction ms | whole replace s | transactions | person update during it p50 / p99 / max ms (n) | refused |"
    );
    println!("|---|---:|---:|---:|---|---:|");
    for m in [&old, &new] {
        println!(
            "| {} | {:.1} | {:.2} | {} | {:.1} / {:.1} / {:.1} ({}) | {} |",
            m.label,
            m.longest_transaction.as_secs_f64() * 1000.0,
            m.whole.as_secs_f64(),
            m.transactions,
            percentile(&m.updates, 50.0),
            percentile(&m.updates, 99.0),
            m.updates.last().copied().unwrap_or(f64::NAN),
            m.updates.len(),
            m.failed,
        );
    }
    println!();
    println!(
        "The same person update with nothing running: p50 {:.1} ms, p99 {:.1} ms (n = {}).",
        percentile(&idle, 50.0),
        percentile(&idle, 99.0),
        idle.len()
    );
    filled.close().await
}

/// One row per person, spread over the segments and scores.
fn insights(people: &[Uuid]) -> Vec<CustomerInsight> {
    let eur = Currency::parse("EUR").expect("EUR is a currency");
    let computed_at = now();
    people
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let score = |k: usize| (((i / k) % 5) + 1) as u8;
            CustomerInsight {
                person_id: PersonId(*id),
                segment: Segment::ALL[i % Segment::ALL.len()],
                r_score: score(1),
                f_score: score(5),
                m_score: score(25),
                last_purchase: date!(2026 - 11 - 01),
                recency_days: (i % 700) as i64,
                frequency: (i % 40) as i64 + 1,
                monetary: Money::new((i % 100_000) as i64 * 100, eur),
                probability_alive: Some((i % 100) as f64 / 100.0),
                expected_purchases: Some((i % 30) as f64 / 3.0),
                expected_value: Some(Money::new((i % 50_000) as i64 * 10, eur)),
                computed_at,
            }
        })
        .collect()
}

/// The old `replace_customer_insights`: in one write transaction, every row
/// deleted, then, a thousand at a time, the people still there looked up and
/// their rows inserted (here under the current generation). Returns how long
/// the transaction held the writer.
async fn replace_in_one_transaction(raw: &DatabaseConnection, rows: &[CustomerInsight]) -> Result<Duration> {
    let sqlite = raw.get_database_backend() == DbBackend::Sqlite;
    let options = TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = raw.begin_with_options(options).await?;
    let held = Instant::now();
    let generation = txn
        .query_one(Query::select().column("current_generation").from("insights_state").and_where(Expr::col("id").eq(1)))
        .await?
        .context("the insights_state row")?
        .try_get::<i64>("", "current_generation")?;
    txn.execute_unprepared("DELETE FROM customer_insight_rows").await?;
    for chunk in rows.chunks(OLD_INSERT_ROWS) {
        let ids: Vec<Uuid> = chunk.iter().map(|r| r.person_id.0).collect();
        let present: std::collections::HashSet<Uuid> = txn
            .query_all(Query::select().column("id").from("people").and_where(Expr::col("id").is_in(ids)))
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id"))
            .collect::<Result<_, _>>()?;
        let mut insert = old_insert();
        let mut any = false;
        for row in chunk.iter().filter(|r| present.contains(&r.person_id.0)) {
            insert.values_panic(old_values(row, generation).map(Expr::from));
            any = true;
        }
        if any {
            txn.execute(&insert).await?;
        }
    }
    txn.commit().await?;
    Ok(held.elapsed())
}

fn old_insert() -> InsertStatement {
    Query::insert()
        .into_table("customer_insight_rows")
        .columns([
            "person_id",
            "generation",
            "currency",
            "segment",
            "r_score",
            "f_score",
            "m_score",
            "last_purchase",
            "recency_days",
            "frequency",
            "monetary_minor",
            "probability_alive",
            "expected_purchases",
            "expected_value_minor",
            "computed_at",
        ])
        .to_owned()
}

fn old_values(row: &CustomerInsight, generation: i64) -> [Value; 15] {
    [
        row.person_id.0.into(),
        generation.into(),
        row.monetary.currency.as_str().to_owned().into(),
        row.segment.as_str().to_owned().into(),
        i16::from(row.r_score).into(),
        i16::from(row.f_score).into(),
        i16::from(row.m_score).into(),
        row.last_purchase.into(),
        row.recency_days.into(),
        row.frequency.into(),
        row.monetary.amount_minor.into(),
        row.probability_alive.into(),
        row.expected_purchases.into(),
        row.expected_value.map(|m| m.amount_minor).into(),
        row.computed_at.into(),
    ]
}
