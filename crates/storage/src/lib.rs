//! Rapport's storage: one code path over SQLite and PostgreSQL, picked at run
//! time from the database URL. Every multi-statement write runs in one
//! transaction; every record write asks `rapport_domain::access` first.

mod archive;
mod auth;
mod common;
mod conditions;
mod entities;
mod error;
mod group_commit;
mod history;
pub mod jobs;
mod listing;
pub mod login_attempts;
pub mod mail;
mod migration;
mod records;
mod search_keys;
mod sqlite;
mod trash;
pub mod uploads;

use std::sync::Arc;

use sea_orm::{
    AccessMode, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, IsolationLevel,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::OwnedMutexGuard;

use group_commit::GroupCommit;
use rapport_domain::records::Person;
use records::person_creates::NewPerson;
use sqlite::{Checkpointer, Checkpoints, MemoryMap, SqliteWriter, common_options, sqlite_options};

pub use archive::{ArchiveError, ImportSummary};
pub use auth::{Credentials, LoginOutcome, NewToken, hash_password};
pub use error::StorageError;
pub use jobs::{Claimed, JobCounts, JobFilter, Lease, NewJob};
pub use listing::{COUNT_CAP, ListQuery, ListShape, MAX_LIMIT, Page, RELEVANCE, Total};
pub use login_attempts::LoginFailures;
pub use mail::OutboxMessage;
pub use rapport_domain::history::RecordKind;
pub use records::activities::ActivityFilter;
pub use records::answers::{AnswerFilter, FeedbackGroups, FeedbackRow, FollowUpRow, LinkState, RecordedAnswer};
pub use records::bulk::BulkDone;
pub use records::companies::CompanyFilter;
pub use records::customer_insights::{CustomerInsight, InsightsWrite, StagedInsights};
pub use records::deals::DealFilter;
pub use records::duplicates::DuplicateQuery;
pub use records::import::{
    ActivityImport, AnswerImport, CompanyImport, CompanyRef, CustomerRef, DealImport, ImportBatches, ImportMode,
    ImportReport, PersonImport, PurchaseImport, Rejection, TicketImport,
};
pub use records::insights_feed::{PersonRow, PurchaseRow, PurchaseSink};
pub use records::insights_snapshots::{NewSnapshot, SnapshotStamp, StoredSnapshot};
pub use records::merge::{MergeVersions, Merged};
pub use records::overview::{PurchaseTotal, StageSum, StageTotal};
pub use records::people::{PersonFilter, SharedEmail};
pub use records::purchases::PurchaseFilter;
pub use records::sla_events::SlaWatch;
pub use records::style_reviews::ReviewMail;
pub use records::tasks::TaskFilter;
pub use records::tickets::{TicketFilter, TicketQueue};
pub use records::timeline::{MAX_TIMELINE_PAGE, TimelinePage, TimelineQuery};
pub use records::users::UserFilter;
pub use uploads::{UPLOAD_CHUNK, Upload, UploadWriter};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The database behind Rapport: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite's one writer at a time; `None` on PostgreSQL.
    sqlite_writer: Option<SqliteWriter>,
    /// People created at the same moment, committed together.
    person_creates: Arc<GroupCommit<NewPerson, Person>>,
    /// A server's SQLite checkpoints, stopped when the last clone is dropped.
    _checkpoints: Option<Arc<Checkpointer>>,
}

/// Batches of creates committed side by side on PostgreSQL: under the
/// connection pool's 20, so reads still find a connection.
const CREATE_LANES_POSTGRES: usize = 8;

/// A write transaction. Dropped without `commit`, it rolls back.
pub(crate) struct Write {
    txn: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Write {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Write {
    pub(crate) async fn commit(self) -> Result<()> {
        if self.txn.get_database_backend() == DbBackend::Postgres {
            records::customer_insights::bump_marked_insights_version(&self.txn).await?;
        }
        self.txn.commit().await?;
        Ok(())
    }

    /// Undoes the transaction now, rather than when it is dropped, so a
    /// failing rollback is reported.
    pub(crate) async fn rollback(self) -> Result<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}

impl Store {
    /// Opens `sqlite://FILE` (created if missing) or `postgres://...`.
    ///
    /// On SQLite the writer has a connection of its own beside the readers',
    /// and the write-ahead log is checkpointed by a task every second rather
    /// than inside the commit that fills it: the checkpoint's page copies and
    /// file sync then no longer hold every queued writer up.
    pub async fn connect(url: &str) -> Result<Self> {
        // SQLite runs each connection on a thread of its own; beyond a few,
        // they only take turns on the cores (4 measured faster than 8).
        Self::connect_with(url, 4, 20, MemoryMap::On).await
    }

    /// Opens the database for a bulk load (`rapport import`), which writes a
    /// batch at a time on one connection. On SQLite without the memory map:
    /// every page a connection reads through it stays resident, so a load
    /// that reads back what it writes (the look-ups, the indexes) grew the
    /// process with the file, and with each connection again.
    pub async fn connect_for_bulk_load(url: &str) -> Result<Self> {
        Self::connect_with(url, 1, 1, MemoryMap::Off).await
    }

    /// Opens the database with one connection, for a command that runs a
    /// few statements one after another and exits (`rapport mail receive`,
    /// started once per message): every SQLite connection opens the file,
    /// starts a thread and parses the whole schema, and a pool opened a
    /// second one beside the first (docs/PERFORMANCE.md, inbound mail).
    /// Nothing may wait for a second connection while holding the first.
    pub async fn connect_single(url: &str) -> Result<Self> {
        Self::connect_with(url, 1, 1, MemoryMap::On).await
    }

    async fn connect_with(
        url: &str,
        sqlite_connections: u32,
        postgres_connections: u32,
        memory_map: MemoryMap,
    ) -> Result<Self> {
        let sqlite = url.starts_with("sqlite:");
        let options = if sqlite {
            let checkpoints = if sqlite_connections > 1 { Checkpoints::Background } else { Checkpoints::OnCommit };
            sqlite_options(url, sqlite_connections, memory_map, checkpoints)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options = common_options(url);
            options.max_connections(postgres_connections);
            options
        } else {
            return Err(StorageError::Config(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://..."
            )));
        };
        let db = Database::connect(options).await?;
        let (sqlite_writer, checkpoints) = if !sqlite {
            (None, None)
        } else if sqlite_connections > 1 {
            // A server's pool: see `connect`.
            let own = Database::connect(sqlite_options(url, 1, memory_map, Checkpoints::Background)).await?;
            let writer = SqliteWriter::new(own);
            let checkpoints = Checkpointer::start(db.clone(), writer.clone());
            (Some(writer), Some(Arc::new(checkpoints)))
        } else {
            (Some(SqliteWriter::new(db.clone())), None)
        };
        Ok(Self {
            db,
            sqlite_writer,
            person_creates: Arc::new(GroupCommit::new(if sqlite { 1 } else { CREATE_LANES_POSTGRES })),
            _checkpoints: checkpoints,
        })
    }

    /// Brings the schema of the database at `url` up to date over one
    /// connection, then closes it (`rapport migrate`; the test suites'
    /// template databases, which must have no session left).
    pub async fn migrate_database(url: &str) -> Result<()> {
        let store = Self::connect_single(url).await?;
        store.migrate().await?;
        store.close().await
    }

    /// Brings the schema up to date. Safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        migration::Migrator::up(&self.db, None).await?;
        self.refresh_statistics().await
    }

    /// SQLite plans well only with statistics, and has no autovacuum to keep
    /// them: this refreshes those that are missing or stale (cheap when none
    /// are). PostgreSQL's autovacuum does this by itself.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if self.sqlite_writer.is_some() {
            self.db.execute_unprepared("PRAGMA optimize=0x10002").await?;
        }
        Ok(())
    }

    /// Recomputes all planner statistics, after a bulk load.
    pub async fn analyze(&self) -> Result<()> {
        self.db.execute_unprepared("ANALYZE").await?;
        Ok(())
    }

    /// Recomputes the planner statistics from a sample: on SQLite from
    /// about 1,000 rows of each index (PostgreSQL always samples). For the
    /// end of `rapport demo`, where a full `ANALYZE` of a million people
    /// read the whole 17.6 GB file for six minutes.
    pub async fn analyze_sampled(&self) -> Result<()> {
        if self.is_sqlite() {
            self.db.execute_unprepared("PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA analysis_limit = 0").await?;
        } else {
            self.analyze().await?;
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite_writer.is_some()
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// How many of this build's migrations the database has not run yet: a
    /// node is ready to serve only at zero.
    pub async fn pending_migrations(&self) -> Result<usize> {
        Ok(migration::Migrator::get_pending_migrations(&self.db).await?.len())
    }

    /// The connection pool's size and how many of its connections are idle.
    pub fn pool_status(&self) -> (u32, usize) {
        if self.is_sqlite() {
            let pool = self.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        } else {
            let pool = self.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }

    /// Answers when the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        if let Some(writer) = self.sqlite_writer {
            writer.db.close().await?;
        }
        self.db.close().await?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A read-only transaction that sees one snapshot of the database, so
    /// several reads agree while other connections write.
    pub(crate) async fn read_snapshot(&self) -> std::result::Result<DatabaseTransaction, DbErr> {
        match self.backend() {
            DbBackend::Postgres => {
                self.db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await
            }
            // A SQLite read transaction sees one snapshot from its first read (WAL).
            _ => self.db.begin().await,
        }
    }

    pub(crate) async fn begin_write(&self) -> Result<Write> {
        let (writer, db) = match &self.sqlite_writer {
            Some(writer) => (Some(writer.lock.clone().lock_owned().await), &writer.db),
            None => (None, &self.db),
        };
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: writer.as_ref().map(|_| SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Write { txn, _writer: writer })
    }
}
