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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rapport_bench::percentile;
use rapport_domain::records::{UserInput, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Currency, Email, Money, PersonId, Role, Segment};
use rapport_storage::{CustomerInsight, Store};
use sea_orm::sea_query::{Expr, InsertStatement, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, ExprTrait, SqliteTransactionMode, TransactionOptions,
    TransactionTrait, Value,
};
use time::macros::date;
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// People per multi-row INSERT in the setup, and per transaction.
const SETUP_ROWS: usize = 1_000;
const SETUP_ROWS_PER_TRANSACTION: usize = 50_000;
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
    let dir = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/insights_lock.db", dir.path().display()),
    };
    let store = Store::connect(&url).await.with_context(|| format!("opening {url}"))?;
    store.migrate().await?;
    // A plain connection beside the store: for the setup and the old way.
    let raw = sea_orm::Database::connect(url.as_str()).await?;
    let backend = raw.get_database_backend();

    let started = Instant::now();
    let actor = admin(&store).await?;
    let people = insert_people(&raw, args.people).await?;
    store.analyze().await?;
    eprintln!("{} people in {:.1} s", people.len(), started.elapsed().as_secs_f64());
    let rows = insights(&people);
    let first = store.replace_customer_insights(&rows).await?;
    store.analyze().await?;
    eprintln!("first insights stored ({} rows, {:.1} s)", first.rows, started.elapsed().as_secs_f64());

    let updated = people[people.len() / 2];
    let interval = Duration::from_millis(args.interval_ms);
    let idle = {
        let mut idle = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            update(&store, &actor, updated).await?;
            idle.push(t.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(interval).await;
        }
        idle.sort_by(f64::total_cmp);
        idle
    };

    // The old way: one transaction deletes every row and inserts them all.
    let (updates, stop) = updates_meanwhile(&store, &actor, updated, interval);
    let t = Instant::now();
    let held = replace_in_one_transaction(&raw, &rows).await?;
    let whole = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (updates, failed) = updates.await??;
    let old =
        Measured { label: "old: one transaction", longest_transaction: held, whole, transactions: 1, updates, failed };
    eprintln!("old way done ({:.1} s)", whole.as_secs_f64());

    // The new way, through the store.
    let (updates, stop) = updates_meanwhile(&store, &actor, updated, interval);
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

    let name = match backend {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        _ => "?",
    };
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
    store.close().await?;
    raw.close().await?;
    Ok(())
}

async fn admin(store: &Store) -> Result<Actor> {
    let input = UserInput {
        name: Name::try_from("Bench admin").map_err(anyhow::Error::msg)?,
        email: Email::parse("bench-insights-lock@example.com").map_err(anyhow::Error::msg)?,
        role: Role::Admin,
        team_id: None,
        active: true,
    };
    let user = store.create_user(input, None, None).await?;
    Ok(Actor { user_id: user.id, role: Role::Admin, team_id: None })
}

/// Inserts `count` people with multi-row INSERTs; their ids, in order.
async fn insert_people(raw: &DatabaseConnection, count: usize) -> Result<Vec<Uuid>> {
    let existing = raw
        .query_one(Query::select().expr_as(Expr::cust("count(*)"), "n").from("people"))
        .await?
        .context("a count")?
        .try_get::<i64>("", "n")?;
    if existing > 0 {
        bail!("the database already holds people: give a fresh one");
    }
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::now_v7()).collect();
    let created = now();
    let preferences = r#"'{"do_not_contact":false,"interests":[],"language":null,"notes":null,"preferred_channel":null,"time_zone":null}'"#;
    for (t, transaction) in ids.chunks(SETUP_ROWS_PER_TRANSACTION).enumerate() {
        let txn = raw.begin().await?;
        for chunk in transaction.chunks(SETUP_ROWS) {
            let mut insert = Query::insert();
            insert.into_table("people").columns([
                "id",
                "created_at",
                "updated_at",
                "version",
                "first_name",
                "emails",
                "phones",
                "lifecycle_stage",
                "tags",
                "preferences",
                "custom_fields",
                "search_text",
                "sort_name",
            ]);
            for (i, id) in chunk.iter().enumerate() {
                let name = format!("Customer{}", t * SETUP_ROWS_PER_TRANSACTION + i);
                insert.values_panic([
                    (*id).into(),
                    created.into(),
                    created.into(),
                    1i64.into(),
                    name.clone().into(),
                    Expr::cust("'[]'"),
                    Expr::cust("'[]'"),
                    Expr::cust("'customer'"),
                    Expr::cust("'[]'"),
                    Expr::cust(preferences),
                    Expr::cust("'{}'"),
                    format!("|{}|{0}|| {0}", name.to_lowercase()).into(),
                    name.to_lowercase().into(),
                ]);
            }
            txn.execute(&insert).await?;
        }
        txn.commit().await?;
        eprintln!("  {} people", ((t + 1) * SETUP_ROWS_PER_TRANSACTION).min(count));
    }
    Ok(ids)
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

/// A person update: the job title changes each time.
async fn update(store: &Store, actor: &Actor, id: Uuid) -> Result<()> {
    let mut input = store.get_person(PersonId(id)).await?.fields;
    let title = format!("Buyer {}", Uuid::now_v7().simple());
    input.job_title = Some(Name::try_from(title).map_err(anyhow::Error::msg)?);
    store.update_person(actor, PersonId(id), input, None).await?;
    Ok(())
}

type Updates = tokio::task::JoinHandle<Result<(Vec<f64>, usize)>>;

/// Updates one person every `interval` (or as soon as the last one is done)
/// until told to stop: each update's time in milliseconds, sorted, and how
/// many were refused.
fn updates_meanwhile(store: &Store, actor: &Actor, id: Uuid, interval: Duration) -> (Updates, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (store, actor, stopped) = (store.clone(), *actor, Arc::clone(&stop));
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut times, mut failed) = (Vec::new(), 0);
        while !stopped.load(Ordering::Relaxed) {
            ticks.tick().await;
            let t = Instant::now();
            match update(&store, &actor, id).await {
                Ok(()) => times.push(t.elapsed().as_secs_f64() * 1000.0),
                Err(err) => {
                    eprintln!("  a concurrent update failed after {:.0} ms: {err}", t.elapsed().as_secs_f64() * 1000.0);
                    failed += 1;
                }
            }
        }
        times.sort_by(f64::total_cmp);
        Ok((times, failed))
    });
    (task, stop)
}
