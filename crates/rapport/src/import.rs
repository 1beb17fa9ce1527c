//! `rapport import people FILE`: people from a CSV file. Reading the file
//! (its delimiter, byte order mark, header and column names) is the command
//! line's concern, so it lives here; every cell is parsed into the domain's
//! types at this edge, and storage (`Store::import_people`) is handed parsed
//! rows only, as the API hands it parsed JSON.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use rapport_domain::custom_fields::{CustomFieldInput, EntityType};
use rapport_domain::records::{LifecycleStage, Phone};
use rapport_domain::text::{Name, Tag};
use rapport_domain::{Actor, Email, FieldErrors, Role};
use rapport_storage::{ImportMode, ImportReport, ListQuery, PersonImport, Rejection, Store, UserFilter};

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

/// `rapport import people`'s arguments.
pub struct Options {
    pub file: PathBuf,
    pub mapping: Option<PathBuf>,
    pub save_mapping: Option<PathBuf>,
    pub mode: Mode,
    pub delimiter: Option<String>,
    pub report: Option<PathBuf>,
    pub as_user: Option<String>,
}

/// A person's field that a column fills.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Field {
    FirstName,
    LastName,
    Emails,
    Phones,
    JobTitle,
    LifecycleStage,
    Source,
    Tags,
    KeepInTouchDays,
    Custom(String),
}

const FIELD_NAMES: &str =
    "first_name, last_name, emails, phones, job_title, lifecycle_stage, source, tags, keep_in_touch_days or cf.<key>";

/// Columns `rapport export --type people` writes that are Rapport's own
/// (ids, links, times): read back as known, and left out.
const EXPORT_ONLY: &[&str] = &[
    "id",
    "companyid",
    "ownerid",
    "referredbyid",
    "donotcontact",
    "lastcontactedat",
    "createdat",
    "updatedat",
    "version",
];

/// Lower-case, without spaces, `_` and `-`: `First Name`, `first_name` and `FIRST-NAME` are one column.
fn normalize(header: &str) -> String {
    header.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).flat_map(char::to_lowercase).collect()
}

impl Field {
    /// The field a column header (or a mapping file's target) names, synonyms included.
    fn recognize(header: &str) -> Option<Field> {
        let header = header.trim();
        if let Some(prefix) = header.get(..3)
            && prefix.eq_ignore_ascii_case("cf.")
        {
            return Some(Field::Custom(header[3..].trim().to_lowercase()));
        }
        Some(match normalize(header).as_str() {
            "firstname" | "first" | "givenname" | "forename" => Field::FirstName,
            "lastname" | "last" | "surname" | "familyname" => Field::LastName,
            "email" | "emails" | "emailaddress" | "emailaddresses" | "mail" => Field::Emails,
            "phone" | "phones" | "phonenumber" | "phonenumbers" | "telephone" | "tel" | "mobile" => Field::Phones,
            "jobtitle" | "title" | "position" => Field::JobTitle,
            "lifecyclestage" | "lifecycle" | "stage" => Field::LifecycleStage,
            "source" | "leadsource" => Field::Source,
            "tags" | "tag" | "labels" => Field::Tags,
            "keepintouchdays" | "keepintouch" => Field::KeepInTouchDays,
            _ => return None,
        })
    }

    /// The name the domain's validation messages use for the field.
    fn error_key(&self) -> String {
        match self {
            Field::Custom(key) => format!("custom_fields.{key}"),
            other => other.target(),
        }
    }

    /// The name a mapping file uses for the field.
    fn target(&self) -> String {
        match self {
            Field::FirstName => "first_name".into(),
            Field::LastName => "last_name".into(),
            Field::Emails => "emails".into(),
            Field::Phones => "phones".into(),
            Field::JobTitle => "job_title".into(),
            Field::LifecycleStage => "lifecycle_stage".into(),
            Field::Source => "source".into(),
            Field::Tags => "tags".into(),
            Field::KeepInTouchDays => "keep_in_touch_days".into(),
            Field::Custom(key) => format!("cf.{key}"),
        }
    }
}

/// Which field each column fills, from the header row and the mapping.
struct Plan {
    headers: Vec<String>,
    columns: Vec<Option<Field>>,
    custom: Vec<CustomFieldInput>,
}

impl Plan {
    fn new(
        file: &Path,
        headers: Vec<String>,
        mapping: &BTreeMap<String, String>,
        custom: Vec<CustomFieldInput>,
    ) -> Result<Plan> {
        let mut mapped = BTreeMap::new();
        for (header, target) in mapping {
            let field = Field::recognize(target).with_context(|| {
                format!("the mapping maps {header:?} to {target:?}, which is not a field: use {FIELD_NAMES}")
            })?;
            mapped.insert(normalize(header), field);
        }
        let mut columns = Vec::with_capacity(headers.len());
        let (mut unknown, mut left_out) = (Vec::new(), Vec::new());
        for header in &headers {
            let field = mapped.get(&normalize(header)).cloned().or_else(|| Field::recognize(header));
            let field = match field {
                Some(Field::Custom(key)) if !custom.iter().any(|d| d.key.as_str() == key) => {
                    unknown.push(format!("{header} (no custom field {key:?} for people)"));
                    None
                }
                Some(field) => Some(field),
                None if EXPORT_ONLY.contains(&normalize(header).as_str()) => {
                    left_out.push(header.clone());
                    None
                }
                None => {
                    unknown.push(header.clone());
                    None
                }
            };
            if let Some(field) = &field
                && let Some(other) = columns.iter().position(|c: &Option<Field>| c.as_ref() == Some(field))
            {
                bail!(
                    "the columns {:?} and {header:?} both fill {}: map one of them elsewhere",
                    headers[other],
                    field.target()
                );
            }
            columns.push(field);
        }
        if columns.iter().all(Option::is_none) {
            bail!(
                "the first row of {} does not look like a header: none of its cells ({}) names a known column. \
                 The file needs a header row naming its columns ({FIELD_NAMES}), or a mapping file (--mapping) \
                 that says which column is which",
                file.display(),
                headers.join(", ")
            );
        }
        if !unknown.is_empty() {
            eprintln!("warning: these columns are not imported (map them with --mapping): {}", unknown.join(", "));
        }
        if !left_out.is_empty() {
            eprintln!("note: these columns are Rapport's own and are not imported: {}", left_out.join(", "));
        }
        Ok(Plan { headers, columns, custom })
    }

    /// The column a validation message's field came from, or the field itself when no column fills it.
    fn column_of(&self, error_key: &str) -> String {
        self.columns
            .iter()
            .position(|c| c.as_ref().is_some_and(|f| f.error_key() == error_key))
            .map(|i| self.headers[i].clone())
            .unwrap_or_else(|| error_key.to_owned())
    }

    /// The mapping that `--save-mapping` writes: every column that fills a field.
    fn mapping(&self) -> BTreeMap<String, String> {
        self.headers
            .iter()
            .zip(&self.columns)
            .filter_map(|(header, field)| field.as_ref().map(|f| (header.clone(), f.target())))
            .collect()
    }

    /// One row into a person's values, or every reason it cannot be.
    fn parse(&self, line: u64, cells: &csv::StringRecord) -> Result<PersonImport, Rejection> {
        let mut row = PersonImport { line, ..Default::default() };
        let mut errors = FieldErrors::new();
        if cells.len() > self.headers.len() {
            errors.add("row", format!("has {} cells, the header {}", cells.len(), self.headers.len()));
        }
        for (cell, field) in cells.iter().zip(&self.columns) {
            let cell = cell.trim();
            let Some(field) = field.as_ref().filter(|_| !cell.is_empty()) else { continue };
            if let Err(reason) = self.fill(&mut row, field, cell) {
                errors.add(field.error_key(), reason);
            }
        }
        match errors.into_result() {
            Ok(()) => Ok(row),
            Err(errors) => Err(Rejection { line, errors }),
        }
    }

    fn fill(&self, row: &mut PersonImport, field: &Field, cell: &str) -> Result<(), String> {
        // Lists: several values in one cell, split on `;` or `,` (neither
        // can be part of an address, a number or a tag).
        let items = || cell.split([';', ',']).map(str::trim).filter(|item| !item.is_empty());
        match field {
            Field::FirstName => row.first_name = Some(Name::try_from(cell)?),
            Field::LastName => row.last_name = Some(Name::try_from(cell)?),
            Field::JobTitle => row.job_title = Some(Name::try_from(cell)?),
            Field::Source => row.source = Some(Name::try_from(cell)?),
            Field::Emails => {
                for item in items() {
                    row.emails.push(Email::parse(item).map_err(|e| format!("{item:?} {e}"))?);
                }
            }
            Field::Phones => {
                for item in items() {
                    row.phones.push(Phone::try_from(item.to_owned()).map_err(|e| format!("{item:?} is {e}"))?);
                }
            }
            Field::Tags => {
                for item in items() {
                    row.tags.push(Tag::try_from(item.to_owned())?);
                }
            }
            Field::LifecycleStage => row.lifecycle_stage = Some(LifecycleStage::parse(&cell.to_lowercase())?),
            Field::KeepInTouchDays => {
                row.keep_in_touch_days = Some(cell.parse().map_err(|_| "must be a whole number of days".to_string())?)
            }
            Field::Custom(key) => {
                let definition =
                    self.custom.iter().find(|d| d.key.as_str() == key).expect("planned columns are defined");
                row.custom_fields.insert(key.clone(), definition.value_from_text(cell)?);
            }
        }
        Ok(())
    }
}

pub async fn people(store: &Store, options: Options) -> Result<()> {
    let file = &options.file;
    let mapping = match &options.mapping {
        Some(path) => read_mapping(path)?,
        None => BTreeMap::new(),
    };
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Spreadsheets often save UTF-8 with a byte order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if let Err(err) = std::str::from_utf8(bytes) {
        let line = bytes[..err.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        bail!("{} is not UTF-8 text (line {line}): save it as CSV UTF-8", file.display());
    }
    let delimiter = match &options.delimiter {
        Some(given) => parse_delimiter(given)?,
        None => sniff_delimiter(bytes),
    };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("cannot read the header row of {}", file.display()))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        bail!("{} is empty: it needs a header row and one row per person", file.display());
    }
    let custom = store.list_custom_fields(Some(EntityType::Person)).await?.into_iter().map(|d| d.field).collect();
    let plan = Plan::new(file, headers, &mapping, custom)?;
    if let Some(path) = &options.save_mapping {
        let text = serde_json::to_string_pretty(&plan.mapping())?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    let actor = actor(store, options.as_user.as_deref()).await?;

    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    for (index, cells) in reader.records().enumerate() {
        let cells = cells.with_context(|| format!("cannot read {}", file.display()))?;
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        // The line the row starts on: a quoted cell may span several.
        let line = cells.position().map_or(index as u64 + 2, |p| p.line());
        match plan.parse(line, &cells) {
            Ok(row) => rows.push(row),
            Err(rejection) => rejected.push(rejection),
        }
    }
    let read = (rows.len() + rejected.len()) as u64;
    // With a row already rejected, all-or-nothing will write nothing; a dry
    // run still finds what the database would refuse, for a full report.
    let mode = match options.mode {
        Mode::AllOrNothing if !rejected.is_empty() => ImportMode::DryRun,
        mode => mode.into(),
    };
    let progress = progress_bar(rows.len() as u64);
    let mut report = store.import_people(&actor, rows, mode, || progress.inc(1)).await?;
    progress.finish_and_clear();
    report.rejected.append(&mut rejected);
    report.rejected.sort_by_key(|r| r.line);
    summarize(&plan, &report, read, options.mode, file);
    if let Some(path) = &options.report {
        write_report(&plan, &report, path)?;
    }
    if options.mode == Mode::AllOrNothing && !report.rejected.is_empty() {
        bail!(
            "{} of {read} rows rejected, so nothing was written: correct them, or import the others with --mode skip-invalid",
            report.rejected.len()
        );
    }
    Ok(())
}

fn read_mapping(path: &Path) -> Result<BTreeMap<String, String>> {
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

/// The candidate seen most often outside quotes on the header line; a comma when none is.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &byte in bytes {
        if byte == b'\n' && !quoted {
            break;
        }
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = CANDIDATES.iter().position(|c| *c == byte) {
            counts[i] += 1;
        }
    }
    let best = (0..CANDIDATES.len()).rev().max_by_key(|i| counts[*i]).unwrap_or(0);
    CANDIDATES[best]
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

fn progress_bar(rows: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("people");
    bar
}

/// Every problem as (line, column, reason), in file order.
fn problems<'a>(plan: &'a Plan, report: &'a ImportReport) -> impl Iterator<Item = (u64, String, &'a str)> + 'a {
    report
        .rejected
        .iter()
        .flat_map(move |r| r.errors.iter().map(move |(field, reason)| (r.line, plan.column_of(field), reason.as_str())))
}

fn summarize(plan: &Plan, report: &ImportReport, read: u64, mode: Mode, file: &Path) {
    let rejected = report.rejected.len();
    let counts = format!("{} created, {} updated, {} unchanged", report.created, report.updated, report.unchanged);
    match mode {
        Mode::DryRun => {
            eprintln!("Dry run, nothing was written. {read} rows read: would be {counts}; {rejected} rejected.")
        }
        Mode::AllOrNothing if rejected > 0 => eprintln!("Nothing was written. {read} rows read, {rejected} rejected."),
        _ => eprintln!("Imported people from {}. {read} rows read: {counts}, {rejected} rejected.", file.display()),
    }
    let all: Vec<_> = problems(plan, report).collect();
    if all.is_empty() {
        return;
    }
    eprintln!("Rejected rows:");
    for (line, column, reason) in all.iter().take(LISTED) {
        eprintln!("  line {line}, column {column:?}: {reason}");
    }
    if all.len() > LISTED {
        eprintln!("  ... and {} more (--report FILE lists them all)", all.len() - LISTED);
    }
}

fn write_report(plan: &Plan, report: &ImportReport, path: &Path) -> Result<()> {
    let mut out = csv::Writer::from_path(path).with_context(|| format!("cannot create {}", path.display()))?;
    out.write_record(["line", "column", "reason"])?;
    for (line, column, reason) in problems(plan, report) {
        out.write_record([line.to_string().as_str(), &column, reason])?;
    }
    out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
