//! What SQLite alone needs: its connections' settings, its one writer, and
//! the task that checkpoints a server's write-ahead log.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::Mutex;

/// Whether SQLite reads the database file through a memory map.
#[derive(Clone, Copy)]
pub(crate) enum MemoryMap {
    On,
    Off,
}

impl MemoryMap {
    fn sqlite_bytes(self) -> &'static str {
        match self {
            MemoryMap::On => "268435456",
            MemoryMap::Off => "0",
        }
    }
}

/// Where a SQLite connection's commits checkpoint the write-ahead log.
#[derive(Clone, Copy)]
pub(crate) enum Checkpoints {
    /// In the commit that fills it past 1,000 pages (SQLite's default).
    OnCommit,
    /// Never: a task does it (`Checkpointer`).
    Background,
}

/// The options every connection pool shares, on either backend.
pub(crate) fn common_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    options
}

pub(crate) fn sqlite_options(
    url: &str,
    connections: u32,
    memory_map: MemoryMap,
    checkpoints: Checkpoints,
) -> ConnectOptions {
    let mut options = common_options(url);
    // A pool of several keeps one open; a single connection is opened once
    // and kept, with no upkeep task beside it.
    let kept = u32::from(connections > 1);
    options.max_connections(connections).min_connections(kept);
    let autocheckpoint = match checkpoints {
        Checkpoints::OnCommit => "1000",
        Checkpoints::Background => "0",
    };
    options.map_sqlx_sqlite_opts(move |opts: SqliteConnectOptions| {
        opts.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Read pages through a memory map and keep more of them per
            // connection: without this, reads are mostly pread copies.
            .pragma("mmap_size", memory_map.sqlite_bytes())
            .pragma("cache_size", "-32000")
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", autocheckpoint)
    });
    options
}

/// SQLite has one writer at a time: writers in this process queue on `lock`
/// instead of spinning on the database's lock, and `BEGIN IMMEDIATE` plus the
/// busy timeout cover writers in other processes (the CLI beside a server).
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    pub(crate) lock: Arc<Mutex<()>>,
    /// The connection every write transaction runs on. A SQLite connection
    /// drops its page cache and its memory map whenever another connection
    /// has written since its last transaction; on a connection of its own
    /// the writer finds the pages of its last write still cached.
    pub(crate) db: DatabaseConnection,
}

impl SqliteWriter {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        SqliteWriter { lock: Arc::new(Mutex::new(())), db }
    }
}

/// How often a server's write-ahead log is moved into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Copies beside the writer stop once one finds fewer new frames than this
/// (4 MB of pages): what is left is copied with the writer held back.
const FEW_FRAMES: i64 = 1_000;

/// At most this many copies beside the writer per round, should the writer
/// outpace them.
const ROUNDS_BESIDE_THE_WRITER: usize = 4;

/// The task that checkpoints a server's write-ahead log, stopped when
/// dropped.
pub(crate) struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    /// Every `CHECKPOINT_EVERY` until the store is closed. A log is started
    /// over only by a write that begins when it has been copied to its end,
    /// and one that never is grows without bound; so each round copies the
    /// log beside the writer, on a readers' connection, until little is new,
    /// then copies that little with the writer held back. The first round
    /// that finds nothing new frees the writer's page cache.
    pub(crate) fn start(readers: DatabaseConnection, writer: SqliteWriter) -> Self {
        Checkpointer(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut copied_before = None;
            let mut cache_handed_back = false;
            loop {
                ticks.tick().await;
                if readers.get_sqlite_connection_pool().is_closed()
                    || writer.db.get_sqlite_connection_pool().is_closed()
                {
                    return;
                }
                match copy_log(&readers, &writer, copied_before).await {
                    Ok(Round::Copied(frames)) => {
                        copied_before = Some(frames);
                        cache_handed_back = false;
                    }
                    Ok(Round::NothingNew) if !cache_handed_back => match hand_back_cache(&writer).await {
                        Ok(()) => cache_handed_back = true,
                        Err(error) => tracing::warn!(%error, "freeing the idle writer's page cache failed"),
                    },
                    Ok(Round::NothingNew) => {}
                    Err(error) => {
                        tracing::warn!(%error, "checkpointing the write-ahead log failed; trying again shortly");
                    }
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a round of checkpointing did.
enum Round {
    /// The log, this many frames long, is copied to its end unless a reader
    /// still needed some of it.
    Copied(i64),
    /// Nothing was written since the last round.
    NothingNew,
}

/// One round of copying the log into the database file.
async fn copy_log(
    readers: &DatabaseConnection,
    writer: &SqliteWriter,
    copied_before: Option<i64>,
) -> Result<Round, DbErr> {
    let first = checkpoint(readers).await?;
    // An idle server neither holds the writer back nor keeps its connection
    // open.
    if first.log == first.copied && copied_before == Some(first.log) {
        return Ok(Round::NothingNew);
    }
    let mut frames = first.log;
    for _ in 0..ROUNDS_BESIDE_THE_WRITER {
        let now = checkpoint(readers).await?.log;
        // A smaller log was started over meanwhile: all of it is new.
        let new = if now >= frames { now - frames } else { now };
        frames = now;
        if new < FEW_FRAMES {
            break;
        }
    }
    let _writes_wait = writer.lock.lock().await;
    Ok(Round::Copied(checkpoint(&writer.db).await?.log))
}

/// Frees the pages the writer's connection keeps cached (up to
/// `cache_size`, 32 MB): they save reading pages again while writes follow
/// one another, and are only memory held once the writes stop.
async fn hand_back_cache(writer: &SqliteWriter) -> Result<(), DbErr> {
    let _writes_wait = writer.lock.lock().await;
    writer.db.execute_unprepared("PRAGMA shrink_memory").await?;
    Ok(())
}

/// What a checkpoint found: the log's length and how much of it is now in
/// the database file, in frames.
struct Checkpointed {
    log: i64,
    copied: i64,
}

/// A passive checkpoint, which copies what no reader still needs and never
/// waits.
async fn checkpoint(db: &DatabaseConnection) -> Result<Checkpointed, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)"))
        .await?
        .ok_or_else(|| DbErr::Custom("PRAGMA wal_checkpoint answered no row".into()))?;
    Ok(Checkpointed { log: row.try_get_by_index::<i64>(1)?, copied: row.try_get_by_index::<i64>(2)? })
}

/// Drops the STAT4 samples of single-column unique indexes (each table's
/// id, a token's hash), then reloads the statistics. SQLite re-prepares a
/// statement for every new value bound to a column whose index has samples,
/// to plan for that value; but a unique key matches one row whatever the
/// value, so its samples never change a plan. A connection that loads the
/// statistics afterwards prepares a lookup by id once; one already open
/// keeps the samples it loaded (measured: docs/PERFORMANCE.md). Run after
/// each `ANALYZE`, which writes them again.
pub(crate) async fn drop_unique_key_samples<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let sampled = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("counting sqlite_stat4 answered no row".into()))?
        .try_get_by_index::<i64>(0)?;
    if sampled == 0 {
        return Ok(());
    }
    db.execute_unprepared(
        "DELETE FROM sqlite_stat4 WHERE idx IN (\
             SELECT l.name FROM sqlite_schema AS t, pragma_index_list(t.name) AS l \
             WHERE t.type = 'table' AND l.\"unique\" = 1 \
             AND (SELECT count(*) FROM pragma_index_info(l.name)) = 1); \
         ANALYZE sqlite_schema",
    )
    .await?;
    Ok(())
}
