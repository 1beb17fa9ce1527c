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
    /// then copies that little with the writer held back.
    pub(crate) fn start(readers: DatabaseConnection, writer: SqliteWriter) -> Self {
        Checkpointer(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut copied_before = None;
            loop {
                ticks.tick().await;
                if readers.get_sqlite_connection_pool().is_closed()
                    || writer.db.get_sqlite_connection_pool().is_closed()
                {
                    return;
                }
                match copy_log(&readers, &writer, copied_before).await {
                    Ok(frames) => copied_before = Some(frames),
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

/// One round; answers the log's length in frames, copied to its end unless
/// a reader still needed some of it.
async fn copy_log(
    readers: &DatabaseConnection,
    writer: &SqliteWriter,
    copied_before: Option<i64>,
) -> Result<i64, DbErr> {
    let first = checkpoint(readers).await?;
    // Nothing written since the last round: an idle server neither holds the
    // writer back nor keeps its connection open.
    if first.log == first.copied && copied_before == Some(first.log) {
        return Ok(first.log);
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
    Ok(checkpoint(&writer.db).await?.log)
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
