//! Data in and out: `rapport export`, `import`, `backup` and `restore`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use rapport_import::Kind;
use rapport_storage::{ImportSummary, RecordKind, Store};

/// What `rapport import` reads.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Read a JSON archive (from `rapport export --output FILE`) into an empty database.
    Archive { file: PathBuf },
    /// Create or update people from a CSV file with a header row; a row whose email or external id is known
    /// updates that person.
    People(crate::import::Options),
    /// Create or update companies from CSV, found by external id, else domain, else name.
    Companies(crate::import::Options),
    /// Create or update deals from CSV, found by external id.
    Deals(crate::import::Options),
    /// Create or update activities from CSV, found by external id.
    Activities(crate::import::Options),
    /// Create or update purchases from CSV, found by customer and reference.
    Purchases(crate::import::Options),
    /// Create or update tickets from another help desk's CSV export, found by external id (the ticket number).
    Tickets(crate::import::Options),
    /// Create or update survey answers from CSV (the customer's email, the survey, the date and the scores), found
    /// by external id.
    Answers(crate::import::Options),
    /// Create or update people from a vCard 2.1, 3.0 or 4.0 file, found by email.
    Vcard(crate::import::Options),
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Checks `--type` and `--format` before anything is opened: a record type
/// for CSV, or none for the whole archive.
pub fn export_kind(kind: Option<String>, format: Option<String>) -> Result<Option<RecordKind>> {
    match kind {
        Some(kind) => {
            let kind = RecordKind::parse(&kind).map_err(|e| anyhow::anyhow!("--type {e}"))?;
            match format.as_deref() {
                Some("csv") => Ok(Some(kind)),
                Some(other) => bail!("--format {other:?} is not supported with --type: use --format csv"),
                None => bail!("--format is required with --type: use --format csv"),
            }
        }
        None => match format {
            Some(format) => {
                bail!("--format {format:?} needs --type; without --type the whole database goes to a JSON archive")
            }
            None => Ok(None),
        },
    }
}

pub async fn export(store: &Store, kind: Option<RecordKind>, output: &Path) -> Result<()> {
    match kind {
        Some(kind) => {
            let count = store.export_csv(kind, create(output).await?).await?;
            eprintln!("Exported {count} {kind} to {}.", output.display());
        }
        None => {
            export_archive(store, output).await?;
            eprintln!("Exported the whole database to {}.", output.display());
        }
    }
    Ok(())
}

pub async fn import(store: &Store, command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Archive { file } => {
            let summary = import_archive(store, &file).await?;
            report(&summary);
            Ok(())
        }
        ImportCommand::People(options) => crate::import::run(store, Kind::People, options).await,
        ImportCommand::Companies(options) => crate::import::run(store, Kind::Companies, options).await,
        ImportCommand::Deals(options) => crate::import::run(store, Kind::Deals, options).await,
        ImportCommand::Activities(options) => crate::import::run(store, Kind::Activities, options).await,
        ImportCommand::Purchases(options) => crate::import::run(store, Kind::Purchases, options).await,
        ImportCommand::Tickets(options) => crate::import::run(store, Kind::Tickets, options).await,
        ImportCommand::Answers(options) => crate::import::run(store, Kind::Answers, options).await,
        ImportCommand::Vcard(options) => crate::import::run(store, Kind::Vcard, options).await,
    }
}

/// An online copy: on SQLite a consistent copy of the database file, taken
/// while the server runs; on PostgreSQL the JSON archive.
pub async fn backup(store: &Store, file: &Path) -> Result<()> {
    if file.exists() {
        bail!("{} already exists: choose a new file", file.display());
    }
    if store.is_sqlite() {
        store.backup_sqlite(file).await.context("the backup failed")?;
        eprintln!("Backed up the SQLite database to {}.", file.display());
    } else {
        export_archive(store, file).await?;
        eprintln!("Backed up the database as a JSON archive to {}.", file.display());
    }
    Ok(())
}

/// Restores a SQLite backup or a JSON archive into an empty database.
pub async fn restore(store: &Store, file: &Path) -> Result<()> {
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    {
        use std::io::Read;
        let opened = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        opened.take(16).read_to_end(&mut header).with_context(|| format!("cannot read {}", file.display()))?;
    }
    if store.holds_data().await? {
        bail!("the database already holds users or records: restore only into an empty database");
    }
    let summary =
        if header == SQLITE_HEADER { restore_sqlite(store, file).await? } else { import_archive(store, file).await? };
    report(&summary);
    Ok(())
}

/// A SQLite backup is read as an archive: opened (from a copy, so the backup
/// itself is never changed) and brought up to the current schema, exported,
/// and imported. The target may then be any database, and the import's
/// checks and single transaction apply as for any archive.
async fn restore_sqlite(store: &Store, file: &Path) -> Result<ImportSummary> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let copy = dir.path().join("backup.db");
    tokio::fs::copy(file, &copy).await.with_context(|| format!("cannot copy {}", file.display()))?;
    let source = Store::connect(&format!("sqlite://{}", copy.display()))
        .await
        .with_context(|| format!("cannot open the backup {}", file.display()))?;
    source.migrate().await.context("cannot bring the backup's schema up to date")?;
    let archive = dir.path().join("archive.json");
    export_archive(&source, &archive).await?;
    source.close().await?;
    import_archive(store, &archive).await
}

async fn export_archive(store: &Store, output: &Path) -> Result<()> {
    let file = create(output).await?;
    if let Err(err) = store.export_archive(file).await {
        // A partial archive is of no use; an import would refuse it anyway.
        if let Err(removing) = tokio::fs::remove_file(output).await {
            eprintln!("could not remove the partial {}: {removing}", output.display());
        }
        return Err(err).with_context(|| format!("cannot export to {}", output.display()));
    }
    Ok(())
}

async fn import_archive(store: &Store, file: &Path) -> Result<ImportSummary> {
    let input = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    Ok(store.import_archive(input).await?)
}

async fn create(output: &Path) -> Result<tokio::io::BufWriter<tokio::fs::File>> {
    let file = tokio::fs::File::create(output).await.with_context(|| format!("cannot create {}", output.display()))?;
    Ok(tokio::io::BufWriter::new(file))
}

fn report(summary: &ImportSummary) {
    let rows: u64 = summary.tables.iter().map(|(_, count)| count).sum();
    let tables: Vec<String> = summary.tables.iter().map(|(table, count)| format!("{table} {count}")).collect();
    eprintln!("Imported {rows} rows ({}).", tables.join(", "));
}
