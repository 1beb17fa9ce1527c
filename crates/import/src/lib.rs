//! Rapport's import engine, shared by the `rapport import` command and the
//! server's upload endpoints: CSV read as a stream (any delimiter, UTF-8 with
//! or without a byte order mark, quoted cells), columns mapped to fields by
//! header name or a saved mapping, every cell parsed into domain types, and
//! the rows upserted in batches through `rapport_storage::ImportBatches`.
//!
//! A file is never held whole: a blocking thread reads and parses it into
//! batches of `BATCH` rows and hands them over a channel of two, so memory is
//! bounded by a few batches whatever the file's size.

mod mapping;
mod rows;
mod source;
mod vcard;

use std::fmt;
use std::io::Read;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rapport_domain::Actor;
use rapport_domain::custom_fields::{CustomFieldInput, EntityType};
use rapport_storage::{
    ActivityImport, AnswerImport, CompanyImport, DealImport, PersonImport, PurchaseImport, Rejection, StorageError,
    Store, TicketImport,
};
use serde::{Deserialize, Serialize};

pub use mapping::{Mapping, fields};
pub use rapport_storage::ImportMode;

use mapping::Plan;
use rows::RowParser;

/// Rows per batch: per transaction in skip-invalid mode, and the unit of progress.
pub const BATCH: usize = 1_000;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    People,
    Companies,
    Deals,
    Activities,
    Purchases,
    /// Tickets from another help desk, found again by their external id.
    Tickets,
    /// Survey answers from another tool, found again by their external id.
    Answers,
    /// People from a vCard 3.0 or 4.0 file.
    Vcard,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::People,
        Kind::Companies,
        Kind::Deals,
        Kind::Activities,
        Kind::Purchases,
        Kind::Tickets,
        Kind::Answers,
        Kind::Vcard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::People => "people",
            Kind::Companies => "companies",
            Kind::Deals => "deals",
            Kind::Activities => "activities",
            Kind::Purchases => "purchases",
            Kind::Tickets => "tickets",
            Kind::Answers => "answers",
            Kind::Vcard => "vcard",
        }
    }

    /// The custom fields its rows may carry.
    pub fn entity_type(self) -> Option<EntityType> {
        match self {
            Kind::People | Kind::Vcard => Some(EntityType::Person),
            Kind::Companies => Some(EntityType::Company),
            Kind::Deals => Some(EntityType::Deal),
            Kind::Tickets => Some(EntityType::Ticket),
            Kind::Activities | Kind::Purchases | Kind::Answers => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ImportError;
    fn from_str(raw: &str) -> Result<Kind, ImportError> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| ImportError::UnknownKind(raw.to_owned()))
    }
}

/// How to run an import.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Options {
    pub kind: Kind,
    pub mode: ImportMode,
    /// The column separator; found from the header line when absent.
    pub delimiter: Option<u8>,
    pub mapping: Option<Mapping>,
    /// Purchases, activities, deals, tickets and answers naming a customer who does not exist create them instead
    /// of being rejected.
    pub create_people: bool,
}

/// The first rows of a file as they would be read, with the field each column fills.
#[derive(Serialize, Clone, Debug)]
pub struct Preview {
    pub delimiter: char,
    pub headers: Vec<String>,
    pub columns: Vec<Column>,
    /// The first data rows, cell by cell.
    pub rows: Vec<Vec<String>>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub header: String,
    /// The field it fills; none when it is not imported.
    pub field: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Progress {
    pub rows_read: u64,
    pub bytes_read: u64,
    pub total_bytes: Option<u64>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Report {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// One entry per problem (a row may have several), in file order.
    pub rejected: Vec<RejectedRow>,
    /// Whether anything was committed.
    pub written: bool,
    /// Customers created because rows named them and `create_people` was on.
    pub people_created: u64,
    /// Data rows read (blank rows are skipped).
    pub rows_read: u64,
    /// Every column of the file with the field it filled.
    pub columns: Vec<Column>,
    /// Columns not imported (neither a field nor Rapport's own), with why.
    pub unmapped: Vec<String>,
}

impl Report {
    /// How many rows were rejected (a row with two problems counts once).
    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<u64> = self.rejected.iter().map(|r| r.line).collect();
        lines.dedup();
        lines.len()
    }

    /// The mapping that reads the same file the same way again: each
    /// column's field, and the columns that filled none left out.
    pub fn mapping(&self) -> Mapping {
        Mapping(
            self.columns
                .iter()
                .filter(|c| !c.header.is_empty())
                .map(|c| (c.header.clone(), c.field.clone().unwrap_or_else(|| Mapping::LEAVE_OUT.to_owned())))
                .collect(),
        )
    }
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct RejectedRow {
    /// The line the row starts on (a quoted cell may span several).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("the file is not UTF-8 text (line {line}): save it as CSV UTF-8")]
    NotUtf8 { line: u64 },
    #[error("the file is empty: it needs a header row and one row per record")]
    Empty,
    #[error("line {line} is not valid CSV: {reason}")]
    Malformed { line: u64, reason: String },
    #[error("line {line} is not valid vCard (2.1, 3.0 or 4.0): {reason}")]
    MalformedVcard { line: u64, reason: String },
    #[error(
        "the first row does not look like a header: none of its cells ({cells}) names a known column. \
         The file needs a header row naming its columns ({known}), or a mapping that says which column is which"
    )]
    NoHeader { cells: String, known: String },
    #[error("the mapping maps {header:?} to {field:?}, which is not a field: use {known}")]
    UnknownField { header: String, field: String, known: String },
    #[error("the columns {first:?} and {second:?} both fill {field}: map one of them elsewhere")]
    SameField { first: String, second: String, field: String },
    #[error("importing {kind} needs a column for {field}")]
    MissingColumn { kind: Kind, field: String },
    #[error(
        "{0:?} is not a kind of import: use people, companies, deals, activities, purchases, tickets, answers or vcard"
    )]
    UnknownKind(String),
    #[error("importing {0} is not supported yet")]
    Unsupported(Kind),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads the header and the first `rows` data rows of `bytes` (the start of a
/// file is enough) and says which field each column fills. Any `cf.<key>` is
/// taken as a custom field here; the import checks the key.
pub fn preview(
    bytes: &[u8],
    kind: Kind,
    delimiter: Option<u8>,
    mapping: Option<&Mapping>,
    rows: usize,
) -> Result<Preview, ImportError> {
    let mut opened = source::open(bytes, delimiter, Arc::default())?;
    let plan = Plan::new(kind, opened.headers.clone(), mapping, None)?;
    let mut first = Vec::with_capacity(rows);
    for record in opened.reader.records() {
        if first.len() == rows {
            break;
        }
        match record {
            Ok(record) => first.push(record.iter().map(str::to_owned).collect()),
            // The start of a file may end inside a row, or a character.
            Err(_) if !first.is_empty() => break,
            Err(err) => return Err(source::read_error(err)),
        }
    }
    Ok(Preview {
        delimiter: char::from(opened.delimiter),
        headers: opened.headers,
        columns: plan.described(),
        rows: first,
    })
}

/// What the reading thread hands to the writer.
enum Batch {
    People(Vec<PersonImport>),
    Companies(Vec<CompanyImport>),
    Purchases(Vec<PurchaseImport>),
    Deals(Vec<DealImport>),
    Activities(Vec<ActivityImport>),
    Tickets(Vec<TicketImport>),
    Answers(Vec<AnswerImport>),
}

struct Parsed {
    batch: Batch,
    rejected: Vec<Rejection>,
    /// Rows read from the start of the file to the end of this batch.
    rows_read: u64,
    last: bool,
}

impl Parsed {
    fn new(kind: Kind, rows_read: u64) -> Result<Parsed, ImportError> {
        let batch = match kind {
            Kind::People => Batch::People(Vec::with_capacity(BATCH)),
            Kind::Companies => Batch::Companies(Vec::with_capacity(BATCH)),
            Kind::Purchases => Batch::Purchases(Vec::with_capacity(BATCH)),
            Kind::Deals => Batch::Deals(Vec::with_capacity(BATCH)),
            Kind::Activities => Batch::Activities(Vec::with_capacity(BATCH)),
            Kind::Tickets => Batch::Tickets(Vec::with_capacity(BATCH)),
            Kind::Answers => Batch::Answers(Vec::with_capacity(BATCH)),
            other => return Err(ImportError::Unsupported(other)),
        };
        Ok(Parsed { batch, rejected: Vec::new(), rows_read, last: false })
    }

    fn len(&self) -> usize {
        let rows = match &self.batch {
            Batch::People(rows) => rows.len(),
            Batch::Companies(rows) => rows.len(),
            Batch::Purchases(rows) => rows.len(),
            Batch::Deals(rows) => rows.len(),
            Batch::Activities(rows) => rows.len(),
            Batch::Tickets(rows) => rows.len(),
            Batch::Answers(rows) => rows.len(),
        };
        rows + self.rejected.len()
    }

    /// Parses one row into this batch, or its rejection.
    fn push(&mut self, parser: &RowParser, line: u64, record: &csv::StringRecord) {
        let rejected = match &mut self.batch {
            Batch::People(rows) => parser.person(line, record).map(|row| rows.push(row)),
            Batch::Companies(rows) => parser.company(line, record).map(|row| rows.push(row)),
            Batch::Purchases(rows) => parser.purchase(line, record).map(|row| rows.push(row)),
            Batch::Deals(rows) => parser.deal(line, record).map(|row| rows.push(row)),
            Batch::Activities(rows) => parser.activity(line, record).map(|row| rows.push(row)),
            Batch::Tickets(rows) => parser.ticket(line, record).map(|row| rows.push(row)),
            Batch::Answers(rows) => parser.answer(line, record).map(|row| rows.push(row)),
        };
        if let Err(rejection) = rejected {
            self.rejected.push(rejection);
        }
    }
}

/// Imports `source` as `actor`. `total_bytes`, when known, is passed through to
/// `progress`, which is called after every batch. Rows that cannot be read or
/// stored are reported; a file that cannot be read at all, or a database
/// error, is an error (and rolls back what is not yet committed).
pub async fn run<R: Read + Send + 'static>(
    store: &Store,
    actor: &Actor,
    source: R,
    total_bytes: Option<u64>,
    options: Options,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<Report, ImportError> {
    let custom: Vec<CustomFieldInput> = match options.kind.entity_type() {
        Some(entity) => store.list_custom_fields(Some(entity)).await?.into_iter().map(|d| d.field).collect(),
        None => Vec::new(),
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (plan_tx, plan_rx) = tokio::sync::oneshot::channel();
    let (batch_tx, mut batch_rx) = tokio::sync::mpsc::channel::<Parsed>(2);
    let reader = {
        let (kind, delimiter, mapping, count) = (options.kind, options.delimiter, options.mapping, bytes_read.clone());
        tokio::task::spawn_blocking(move || {
            if kind == Kind::Vcard {
                if plan_tx.send((Vec::new(), Vec::new())).is_err() {
                    return Ok(());
                }
                let cards = vcard::Cards::new(std::io::BufReader::new(source::Counted::new(source, count)));
                return read_cards(cards, &batch_tx);
            }
            let opened = source::open(source, delimiter, count)?;
            let plan = Plan::new(kind, opened.headers.clone(), mapping.as_ref(), Some(&custom))?;
            plan.ensure_header()?;
            plan.ensure_required()?;
            let described = (plan.described(), plan.unmapped.clone());
            let parser = RowParser { plan, custom };
            // The writer is gone when it failed: its error is the one to report.
            if plan_tx.send(described).is_err() {
                return Ok(());
            }
            read_batches(opened.reader, &parser, &batch_tx)
        })
    };

    let mut report = Report::default();
    let written = match plan_rx.await {
        Ok((columns, unmapped)) => {
            report.columns = columns;
            report.unmapped = unmapped;
            write_batches(
                store,
                actor,
                options.mode,
                options.create_people,
                &mut batch_rx,
                &bytes_read,
                total_bytes,
                &progress,
                &mut report,
            )
            .await
        }
        // The reader stopped before the header was understood: its error says why.
        Err(_) => Ok(None),
    };
    drop(batch_rx);
    let read = reader.await.map_err(|err| ImportError::Unreadable(err.to_string()))?;
    let stored = written?;
    read?;
    let Some(stored) = stored else { return Err(ImportError::Unreadable("the reader stopped".into())) };
    report.created = stored.created;
    report.updated = stored.updated;
    report.unchanged = stored.unchanged;
    report.written = stored.written;
    report.people_created = stored.people_created;
    report.rejected = stored
        .rejected
        .iter()
        .flat_map(|rejection| {
            let columns = &report.columns;
            rejection.errors.iter().map(move |(field, reason)| RejectedRow {
                line: rejection.line,
                column: column_of(columns, field),
                reason: reason.clone(),
            })
        })
        .collect();
    Ok(report)
}

/// The column a validation message's field came from (see `Plan::column_of`).
fn column_of(columns: &[Column], error_key: &str) -> Option<String> {
    if error_key == "row" {
        return None;
    }
    let field = error_key.strip_prefix("custom_fields.").map(|key| format!("cf.{key}"));
    let field = field.as_deref().unwrap_or(error_key);
    let column = columns.iter().find(|c| c.field.as_deref() == Some(field)).map(|c| c.header.clone());
    Some(column.unwrap_or_else(|| error_key.to_owned()))
}

/// Reads and parses every row, handing them over in batches; the last one
/// says so, so that a reader that failed halfway is never taken for a whole
/// file. Stops quietly when the writer has gone.
fn read_batches<R: Read>(
    mut reader: csv::Reader<R>,
    parser: &RowParser,
    out: &tokio::sync::mpsc::Sender<Parsed>,
) -> Result<(), ImportError> {
    let mut record = csv::StringRecord::new();
    let kind = parser.plan.kind;
    let mut parsed = Parsed::new(kind, 0)?;
    loop {
        let more = reader.read_record(&mut record).map_err(source::read_error)?;
        if more && !record.iter().all(|cell| cell.trim().is_empty()) {
            // The line the row starts on: a quoted cell may span several.
            let line = record.position().map_or(parsed.rows_read + 2, |p| p.line());
            parsed.rows_read += 1;
            parsed.push(parser, line, &record);
        }
        parsed.last = !more;
        if parsed.len() == BATCH || parsed.last {
            let next = Parsed::new(kind, parsed.rows_read)?;
            if out.blocking_send(std::mem::replace(&mut parsed, next)).is_err() || !more {
                return Ok(());
            }
        }
    }
}

/// Reads vCards into batches of people, as `read_batches` reads CSV rows.
fn read_cards<R: std::io::BufRead>(
    mut cards: vcard::Cards<R>,
    out: &tokio::sync::mpsc::Sender<Parsed>,
) -> Result<(), ImportError> {
    let mut parsed = Parsed::new(Kind::People, 0)?;
    loop {
        let card = cards.next_card()?;
        if let Some(card) = &card {
            parsed.rows_read += 1;
            match (&mut parsed.batch, card.person()) {
                (Batch::People(rows), Ok(row)) => rows.push(row),
                (_, Err(rejection)) => parsed.rejected.push(rejection),
                (_, Ok(_)) => return Err(ImportError::Unsupported(Kind::Vcard)),
            }
        }
        parsed.last = card.is_none();
        if parsed.len() == BATCH || parsed.last {
            let next = Parsed::new(Kind::People, parsed.rows_read)?;
            if out.blocking_send(std::mem::replace(&mut parsed, next)).is_err() || card.is_none() {
                return Ok(());
            }
        }
    }
}

/// Stores every batch as it arrives; `None` when the reader stopped early (its error says why).
#[allow(clippy::too_many_arguments)]
async fn write_batches(
    store: &Store,
    actor: &Actor,
    mode: ImportMode,
    create_people: bool,
    batches: &mut tokio::sync::mpsc::Receiver<Parsed>,
    bytes_read: &AtomicU64,
    total_bytes: Option<u64>,
    progress: &(impl Fn(&Progress) + Send + Sync),
    report: &mut Report,
) -> Result<Option<rapport_storage::ImportReport>, ImportError> {
    let mut import = store.begin_import(actor, mode).await?;
    while let Some(parsed) = batches.recv().await {
        let last = parsed.last;
        for rejection in parsed.rejected {
            import.reject(rejection);
        }
        match parsed.batch {
            Batch::People(rows) => import.people(rows).await?,
            Batch::Companies(rows) => import.companies(rows).await?,
            Batch::Purchases(rows) => import.purchases(rows, create_people).await?,
            Batch::Deals(rows) => import.deals(rows, create_people).await?,
            Batch::Activities(rows) => import.activities(rows, create_people).await?,
            Batch::Tickets(rows) => import.tickets(rows, create_people).await?,
            Batch::Answers(rows) => import.answers(rows, create_people).await?,
        }
        report.rows_read = parsed.rows_read;
        progress(&Progress {
            rows_read: parsed.rows_read,
            bytes_read: bytes_read.load(Ordering::Relaxed),
            total_bytes,
        });
        if last {
            return Ok(Some(import.finish().await?));
        }
    }
    // Dropped unfinished: what is open rolls back.
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_shows_the_first_rows_and_their_fields() {
        let file =
            "\u{feff}Vorname;E-mail;Colour\nAda;ada@example.com;\"a; b\"\nBob;bob@example.com;\nCy;cy@example.com;\n";
        let mapping = Mapping([("Vorname".to_string(), "first_name".to_string())].into());
        let preview = preview(file.as_bytes(), Kind::People, None, Some(&mapping), 2).unwrap();
        assert_eq!(preview.delimiter, ';');
        assert_eq!(preview.headers, ["Vorname", "E-mail", "Colour"]);
        let fields: Vec<Option<&str>> = preview.columns.iter().map(|c| c.field.as_deref()).collect();
        assert_eq!(fields, [Some("first_name"), Some("emails"), None]);
        assert_eq!(preview.rows, [["Ada", "ada@example.com", "a; b"], ["Bob", "bob@example.com", ""]]);
    }

    #[test]
    fn a_mapping_leaves_out_a_recognized_column_and_a_saved_one_keeps_it_out() {
        let file = "First name,E-mail,Colour\nAda,ada@example.com,x\n";
        let mapping = Mapping([("E-mail".to_string(), Mapping::LEAVE_OUT.to_string())].into());
        let shown = preview(file.as_bytes(), Kind::People, None, Some(&mapping), 1).unwrap();
        let fields: Vec<Option<&str>> = shown.columns.iter().map(|c| c.field.as_deref()).collect();
        assert_eq!(fields, [Some("first_name"), None, None], "the email column is still read");
        let report = Report { columns: shown.columns.clone(), ..Default::default() };
        let saved = report.mapping();
        let pairs = [("First name", "first_name"), ("E-mail", ""), ("Colour", "")];
        assert_eq!(saved, Mapping(pairs.map(|(h, f)| (h.to_string(), f.to_string())).into()));
        let again = preview(file.as_bytes(), Kind::People, None, Some(&saved), 1).unwrap();
        assert_eq!(again.columns, shown.columns, "the saved mapping reads the file another way");
    }

    #[test]
    fn a_preview_of_a_cut_file_stops_at_the_cut() {
        let preview = preview(b"first name,email\nAda,ada@example.com\n\"Bo", Kind::People, None, None, 10).unwrap();
        assert_eq!(preview.rows.len(), 2, "csv reads the cut row as it is: {:?}", preview.rows);
        assert!(matches!(preview_err(b"\xff\xfe"), ImportError::NotUtf8 { .. }));
        assert!(matches!("contacts".parse::<Kind>(), Err(ImportError::UnknownKind(_))));
        assert_eq!("vcard".parse::<Kind>().unwrap(), Kind::Vcard);
        assert_eq!("answers".parse::<Kind>().unwrap(), Kind::Answers);
        assert_eq!(serde_json::to_value(ImportMode::SkipInvalid).unwrap(), "skip-invalid");
    }

    /// The server spawns imports as tasks: the future must be `Send`.
    #[test]
    fn an_import_can_run_on_a_spawned_task() {
        fn send<T: Send + 'static>(_: T) {}
        async fn spawned(store: Store, actor: Actor, options: Options) {
            let _ = run(&store, &actor, std::io::empty(), None, options, |_| {}).await;
        }
        let _ = |store: Store, actor: Actor, options: Options| send(spawned(store, actor, options));
    }

    fn preview_err(bytes: &[u8]) -> ImportError {
        preview(bytes, Kind::People, None, None, 5).err().unwrap()
    }
}
