//! What the writer-lock benchmarks (`insights_lock`, `bulk_lock`) share: a
//! fresh database filled with people in bulk, an admin to act as, and a
//! person update sent every few milliseconds while a long write runs, each
//! timed: how long another writer waits behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rapport_domain::records::{UserInput, now};
use rapport_domain::text::Name;
use rapport_domain::{Actor, Email, PersonId, Role};
use rapport_storage::Store;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};
use uuid::Uuid;

/// People per multi-row INSERT in the setup, and per transaction.
const SETUP_ROWS: usize = 1_000;
const SETUP_ROWS_PER_TRANSACTION: usize = 50_000;

/// A fresh database with `people` people and an admin, ready to measure.
pub struct Filled {
    pub store: Store,
    /// A plain connection beside the store: for the setup and raw statements.
    pub raw: DatabaseConnection,
    pub actor: Actor,
    /// The people's ids, in order.
    pub people: Vec<Uuid>,
    /// The SQLite file's directory, when no database was given.
    _dir: tempfile::TempDir,
}

impl Filled {
    /// Opens `database_url` (an empty database), or a SQLite file named
    /// `file` in a temporary directory, migrates it and inserts the people.
    pub async fn open(database_url: Option<&str>, file: &str, people: usize) -> Result<Filled> {
        let dir = tempfile::tempdir()?;
        let url = match database_url {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}/{file}", dir.path().display()),
        };
        let store = Store::connect(&url).await.with_context(|| format!("opening {url}"))?;
        store.migrate().await?;
        let raw = sea_orm::Database::connect(url.as_str()).await?;
        let started = Instant::now();
        let actor = admin(&store).await?;
        let people = insert_people(&raw, people).await?;
        store.analyze().await?;
        eprintln!("{} people in {:.1} s", people.len(), started.elapsed().as_secs_f64());
        Ok(Filled { store, raw, actor, people, _dir: dir })
    }

    /// The backend's name, for the printed table.
    pub fn backend(&self) -> &'static str {
        match self.raw.get_database_backend() {
            DbBackend::Sqlite => "SQLite",
            DbBackend::Postgres => "PostgreSQL",
            _ => "?",
        }
    }

    /// Fifty updates of person `id` with nothing else running, one every
    /// `interval`: each one's time in milliseconds, sorted.
    pub async fn idle_updates(&self, id: Uuid, interval: Duration) -> Result<Vec<f64>> {
        let mut idle = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            update(&self.store, &self.actor, id).await?;
            idle.push(t.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(interval).await;
        }
        idle.sort_by(f64::total_cmp);
        Ok(idle)
    }

    pub async fn close(self) -> Result<()> {
        self.store.close().await?;
        self.raw.close().await?;
        Ok(())
    }
}

async fn admin(store: &Store) -> Result<Actor> {
    let input = UserInput {
        name: Name::try_from("Bench admin").map_err(anyhow::Error::msg)?,
        email: Email::parse("bench-writer@example.com").map_err(anyhow::Error::msg)?,
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

/// A person update: the job title changes each time.
pub async fn update(store: &Store, actor: &Actor, id: Uuid) -> Result<()> {
    let mut input = store.get_person(PersonId(id)).await?.fields;
    let title = format!("Buyer {}", Uuid::now_v7().simple());
    input.job_title = Some(Name::try_from(title).map_err(anyhow::Error::msg)?);
    store.update_person(actor, PersonId(id), input, None).await?;
    Ok(())
}

pub type Updates = tokio::task::JoinHandle<Result<(Vec<f64>, usize)>>;

/// Updates one person every `interval` (or as soon as the last one is done)
/// until told to stop: each update's time in milliseconds, sorted, and how
/// many were refused.
pub fn updates_meanwhile(store: &Store, actor: &Actor, id: Uuid, interval: Duration) -> (Updates, Arc<AtomicBool>) {
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
