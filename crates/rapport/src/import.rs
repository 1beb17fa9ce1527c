//! `rapport import people|companies|deals|activities|purchases|tickets|answers|vcard FILE`:
//! the command line around `rapport-import` (which reads, maps, parses and
//! stores): its options, the progress bar, the summary and the report file.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rapport_domain::{Actor, Role};
use rapport_import::{ImportMode, Kind, Mapping, Report};
use rapport_storage::{ListQuery, Store, UserFilter};

/// How many rejected rows the summary lists; `--report` has them all.
const LISTED: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    DryRun,
    AllOrNothing,
    SkipInvalid,
}

impl From<Mode> for ImportMode {
    fn from(mode: Mode) -> ImportMode {
        match mode {
            Mode::DryRun => ImportMode::DryRun,
            Mode::AllOrNothing => ImportMode::AllOrNothing,
            Mode::SkipInvalid => ImportMode::SkipInvalid,
        }
    }
}

/// The options every import from a file takes.
#[derive(Args)]
pub struct Options {
    pub file: PathBuf,
    /// A JSON file mapping the file's column names to fields: {"Vorname": "first_name", "Mail": "emails"}.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Write the columns-to-fields mapping used to this JSON file, to edit and reuse with --mapping.
    #[arg(long)]
    pub save_mapping: Option<PathBuf>,
    /// dry-run reports without writing; all-or-nothing writes every row or, if any is invalid, none;
    /// skip-invalid writes the valid rows.
    #[arg(long, value_enum, default_value = "all-or-nothing")]
    pub mode: Mode,
    /// The column separator (one character, or tab); found from the header row when absent.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Write every rejected row to this CSV file (line,column,reason).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// The email of the user the import acts as; the first admin when absent.
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: Option<String>,
    /// Create the customers that rows name by email or external id and that do not exist yet,
    /// instead of rejecting those rows.
    #[arg(long)]
    pub create_people: bool,
}

pub async fn run(store: &Store, kind: Kind, options: Options) -> Result<()> {
    let file = &options.file;
    let mapping = match &options.mapping {
        Some(path) => Some(read_mapping(path)?),
        None => None,
    };
    let delimiter = options.delimiter.as_deref().map(parse_delimiter).transpose()?;
    let actor = actor(store, options.as_user.as_deref()).await?;
    let opened = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let total = opened.metadata().ok().map(|m| m.len());
    let engine = rapport_import::Options {
        kind,
        mode: options.mode.into(),
        delimiter,
        mapping,
        create_people: options.create_people,
    };
    let bar = progress_bar(kind, total);
    let shown = bar.clone();
    let outcome = rapport_import::run(store, &actor, opened, total, engine, move |progress| {
        shown.set_position(progress.bytes_read);
        shown.set_message(format!("{} {kind}", progress.rows_read));
    })
    .await;
    bar.finish_and_clear();
    let report = outcome.with_context(|| format!("cannot import {}", file.display()))?;

    if !report.unmapped.is_empty() {
        eprintln!("warning: these columns are not imported (map them with --mapping): {}", report.unmapped.join(", "));
    }
    if let Some(path) = &options.save_mapping {
        let text = serde_json::to_string_pretty(&report.mapping())?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    summarize(&report, kind, options.mode, file);
    if let Some(path) = &options.report {
        write_report(&report, path)?;
    }
    if options.mode == Mode::AllOrNothing && !report.rejected.is_empty() {
        bail!(
            "{} of {} rows rejected, so nothing was written: correct them, or import the others with --mode skip-invalid",
            report.rejected_rows(),
            report.rows_read
        );
    }
    Ok(())
}

fn read_mapping(path: &Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the mapping {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "the mapping {} is not a JSON object of column names to fields, like {{\"Vorname\": \"first_name\"}}",
            path.display()
        )
    })
}

fn parse_delimiter(given: &str) -> Result<u8> {
    match given {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if given.len() == 1 && given.is_ascii() && given != "\"" => Ok(given.as_bytes()[0]),
        _ => bail!("--delimiter must be one character, or tab"),
    }
}

/// The user an import or restore acts as: `--as EMAIL`, or else the first admin.
pub(crate) async fn actor(store: &Store, as_user: Option<&str>) -> Result<Actor> {
    let user = match as_user {
        Some(email) => crate::find_user(store, email).await?,
        None => {
            let filter = UserFilter { role: Some(Role::Admin), active: Some(true), ..Default::default() };
            let mut query = ListQuery { limit: Some(200), ..Default::default() };
            let mut first: Option<rapport_domain::records::User> = None;
            loop {
                let page = store.list_users(&query, &filter).await?;
                for user in page.items {
                    if first.as_ref().is_none_or(|f| user.meta.created_at < f.meta.created_at) {
                        first = Some(user);
                    }
                }
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
            first.context("no active admin exists to import as: add one with `rapport user add`, or pass --as EMAIL")?
        }
    };
    if !user.fields.active {
        bail!("{} is deactivated and cannot import", user.fields.email);
    }
    Ok(Actor { user_id: user.id, role: user.fields.role, team_id: user.fields.team_id })
}

/// A bar over the file's bytes, drawn only on a terminal.
fn progress_bar(kind: Kind, total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("0 {kind}"));
    bar
}

fn summarize(report: &Report, kind: Kind, mode: Mode, file: &Path) {
    let read = report.rows_read;
    let rejected = report.rejected_rows();
    let mut counts = format!("{} created, {} updated, {} unchanged", report.created, report.updated, report.unchanged);
    if report.people_created > 0 {
        counts.push_str(&format!(" ({} new people)", report.people_created));
    }
    match mode {
        Mode::DryRun => {
            eprintln!("Dry run, nothing was written. {read} rows read: would be {counts}; {rejected} rejected.")
        }
        Mode::AllOrNothing if rejected > 0 => eprintln!("Nothing was written. {read} rows read, {rejected} rejected."),
        _ => eprintln!("Imported {kind} from {}. {read} rows read: {counts}, {rejected} rejected.", file.display()),
    }
    if report.rejected.is_empty() {
        return;
    }
    eprintln!("Rejected rows:");
    for problem in report.rejected.iter().take(LISTED) {
        match &problem.column {
            Some(column) => eprintln!("  line {}, column {column:?}: {}", problem.line, problem.reason),
            None => eprintln!("  line {}: {}", problem.line, problem.reason),
        }
    }
    if report.rejected.len() > LISTED {
        eprintln!("  ... and {} more (--report FILE lists them all)", report.rejected.len() - LISTED);
    }
}

fn write_report(report: &Report, path: &Path) -> Result<()> {
    let mut out = csv::Writer::from_path(path).with_context(|| format!("cannot create {}", path.display()))?;
    out.write_record(["line", "column", "reason"])?;
    for problem in &report.rejected {
        let line = problem.line.to_string();
        out.write_record([line.as_str(), problem.column.as_deref().unwrap_or(""), &problem.reason])?;
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
