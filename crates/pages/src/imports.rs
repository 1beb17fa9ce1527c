//! The import page, in three steps: upload a file and say what it holds;
//! check a preview of its first rows and the field each column fills, and
//! pick the mode; then watch the job's progress turn into its report. The
//! upload waits between the first two steps in a temporary file, found again
//! by a random token that only its uploader may use.

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use rapport_domain::FieldErrors;
use rapport_import::{ImportError, ImportMode, Kind, Mapping, Options, Preview};
use uuid::Uuid;

use super::form::{FormData, FormView};
use super::numbers::filters;
use super::{Chrome, Signed, WebError, see_other};
use rapport_api::AppState;
use rapport_api::endpoints::imports::PREVIEW_ROWS;
use rapport_api::error::ApiError;
use rapport_api::imports::{ImportJob, mode_name, parse_delimiter, parse_kind, parse_mode};
use rapport_domain::JobId;
use rapport_domain::jobs::JobStatus;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/import", get(upload_page).post(upload).layer(DefaultBodyLimit::disable()))
        .route("/import/uploads/{token}", get(preview_page).post(choose))
        .route("/import/jobs/{id}", get(job_page))
}

/// What a file may hold, as the first step offers it.
const KINDS: &[(&str, &str)] = &[
    ("people", "People"),
    ("companies", "Companies"),
    ("deals", "Deals"),
    ("activities", "Activities"),
    ("purchases", "Purchases"),
    ("tickets", "Tickets (from another help desk)"),
    ("answers", "Survey answers"),
    ("vcard", "People from vCards (.vcf)"),
];

const MODES: &[(&str, &str, &str)] = &[
    ("skip-invalid", "Skip invalid rows", "Import the valid rows; the report lists every row left out, and why."),
    ("all-or-nothing", "All or nothing", "Import nothing unless every row is valid."),
    ("dry-run", "Dry run", "Check every row and report what would happen; change nothing."),
];

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct UploadPage {
    chrome: Chrome,
    kinds: &'static [(&'static str, &'static str)],
    form: FormView,
    jobs: Vec<JobRow>,
}

/// A recent job in the first step's list.
pub struct JobRow {
    pub id: Uuid,
    pub kind: String,
    pub file_name: String,
    pub status: JobStatus,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    token: String,
    file_name: String,
    kind_label: &'static str,
    preview: Preview,
    /// For each column: its index, header and the choices of its select.
    columns: Vec<ColumnChoice>,
    modes: &'static [(&'static str, &'static str, &'static str)],
    /// Purchases, activities, deals, tickets and answers name their customers; only they can create missing ones.
    names_people: bool,
    form: FormView,
}

pub struct ColumnChoice {
    pub index: usize,
    pub header: String,
    pub field: String,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    chrome: Chrome,
    job: ImportJob,
}

fn kind_label(kind: Kind) -> &'static str {
    let name = kind.to_string();
    KINDS.iter().find(|(value, _)| *value == name).map(|(_, label)| *label).unwrap_or("Records")
}

fn ensure_can_import(signed: &Signed) -> Result<(), WebError> {
    signed.actor.ensure_can_create().map_err(|_| WebError::Forbidden("Viewers cannot import data.".into()))
}

async fn upload_page(State(state): State<AppState>, signed: Signed) -> Result<Response, WebError> {
    ensure_can_import(&signed)?;
    show_upload(&state, &signed, FormView::from_pairs([("kind", "people".to_owned())]), StatusCode::OK).await
}

async fn show_upload(
    state: &AppState,
    signed: &Signed,
    form: FormView,
    status: StatusCode,
) -> Result<Response, WebError> {
    let jobs = state
        .imports
        .list(&signed.actor)
        .await?
        .into_iter()
        .take(10)
        .map(|job| JobRow { id: job.id.0, kind: job.kind, file_name: job.file_name, status: job.status })
        .collect();
    let page = UploadPage { chrome: signed.chrome("import", "Import"), kinds: KINDS, form, jobs };
    let mut response = signed.page(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// Step 1: keeps the file and shows its preview (through a redirect, so reloading does not upload again).
async fn upload(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    ensure_can_import(&signed)?;
    let multipart = multipart.map_err(|_| WebError::BadRequest("Send the file through the import form.".into()))?;
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let received = match state.imports.receive(length, multipart).await {
        Ok(received) => received,
        Err(ApiError::PayloadTooLarge(limit)) => {
            let form = FormView::from_pairs([("kind", "people".to_owned())]);
            let mut errors = FieldErrors::new();
            errors.add("file", format!("is larger than {} MB", limit / (1024 * 1024)));
            return show_upload(&state, &signed, with_errors(form, errors), StatusCode::PAYLOAD_TOO_LARGE).await;
        }
        Err(ApiError::Validation(errors)) => {
            return show_upload(
                &state,
                &signed,
                with_errors(FormView::default(), errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(other) => return Err(other.into()),
    };
    let mut errors = FieldErrors::new();
    let kind = parse_kind(received.get("kind")).map_err(|message| errors.add("kind", message)).ok();
    let kind_sent = received.get("kind").to_owned();
    let file = received.file.filter(|file| file.size > 0);
    if file.is_none() {
        errors.add("file", "is required: choose a file");
    }
    let (Some(kind), Some(file), true) = (kind, file, errors.is_empty()) else {
        let form = FormView::from_pairs([("kind", kind_sent)]);
        return show_upload(&state, &signed, with_errors(form, errors), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let token = state.imports.keep_upload(signed.user.id, kind, file).await?;
    Ok(see_other(&format!("/import/uploads/{token}")))
}

fn with_errors(mut form: FormView, errors: FieldErrors) -> FormView {
    form.errors = errors;
    form
}

/// Step 2: the preview, with each column's field pre-set from its header.
async fn preview_page(
    State(state): State<AppState>,
    signed: Signed,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    ensure_can_import(&signed)?;
    let form = FormView::from_pairs([("mode", mode_name(ImportMode::SkipInvalid).to_owned())]);
    show_preview(&state, &signed, &token, None, None, form, StatusCode::OK).await
}

async fn show_preview(
    state: &AppState,
    signed: &Signed,
    token: &str,
    delimiter: Option<u8>,
    mapping: Option<&Mapping>,
    mut form: FormView,
    mut status: StatusCode,
) -> Result<Response, WebError> {
    let (kind, file_name, head) = upload_head(state, signed, token).await?;
    let unreadable = |err: ImportError| {
        let mut errors = FieldErrors::new();
        errors.add("file", format!("cannot be read as {}: {err}", kind_label(kind).to_lowercase()));
        with_errors(FormView::from_pairs([("kind", kind.to_string())]), errors)
    };
    // What each header fills by its name alone: shown when the choices do not fit together.
    let by_name = match rapport_import::preview(&head, kind, delimiter, None, PREVIEW_ROWS) {
        Ok(preview) => preview,
        Err(err) => {
            return show_upload(state, signed, unreadable(err), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let preview =
        match mapping.map(|mapping| rapport_import::preview(&head, kind, delimiter, Some(mapping), PREVIEW_ROWS)) {
            None => by_name.clone(),
            Some(Ok(preview)) => preview,
            // The choices do not fit together (two columns for one field): say so beside them.
            Some(Err(err @ (ImportError::UnknownField { .. } | ImportError::SameField { .. }))) => {
                form.problem = Some(sentence(&err.to_string()));
                status = StatusCode::UNPROCESSABLE_ENTITY;
                by_name.clone()
            }
            Some(Err(err)) => {
                return show_upload(state, signed, unreadable(err), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        };
    let mut fields: Vec<Choice> = rapport_import::fields(kind)
        .iter()
        .map(|field| Choice { value: (*field).to_owned(), label: (*field).replace('_', " ") })
        .collect();
    if let Some(entity) = kind.entity_type() {
        for custom in state.store.list_custom_fields(Some(entity)).await? {
            let key = custom.field.key.as_str();
            fields.push(Choice { value: format!("cf.{key}"), label: format!("{} (custom)", custom.field.label) });
        }
    }
    let columns = preview
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let name = format!("column_{index}");
            // What the user chose, when the form is shown again; else what the preview read.
            let field =
                if form.has(&name) { form.value(&name).to_owned() } else { column.field.clone().unwrap_or_default() };
            // Any column may be left out, one its header names a field by too.
            let mut choices = vec![Choice { value: Mapping::LEAVE_OUT.to_owned(), label: "— Leave out —".into() }];
            choices.extend(fields.iter().map(|c| Choice { value: c.value.clone(), label: c.label.clone() }));
            // A custom field the header names but that is not defined still shows as chosen.
            if !field.is_empty() && !choices.iter().any(|c| c.value == field) {
                choices.push(Choice { value: field.clone(), label: field.clone() });
            }
            ColumnChoice { index, header: column.header.clone(), field, choices }
        })
        .collect();
    if form.value("delimiter").is_empty() {
        let shown = if preview.delimiter == '\t' { "tab".to_owned() } else { preview.delimiter.to_string() };
        form = merge_value(form, "delimiter", shown);
    }
    let page = PreviewPage {
        chrome: signed.chrome("import", "Import: check the columns"),
        token: token.to_owned(),
        file_name,
        kind_label: kind_label(kind),
        preview,
        columns,
        modes: MODES,
        names_people: matches!(kind, Kind::Purchases | Kind::Activities | Kind::Deals | Kind::Tickets | Kind::Answers),
        form,
    };
    let mut response = signed.page(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// A kept upload of the signed-in user: what it holds, its name and its first bytes.
async fn upload_head(state: &AppState, signed: &Signed, token: &str) -> Result<(Kind, String, Vec<u8>), WebError> {
    Ok(state.imports.upload_head(signed.user.id, token).await?)
}

/// A form view with one more value, keeping its errors.
fn merge_value(form: FormView, name: &'static str, value: String) -> FormView {
    let errors = form.errors.clone();
    let problem = form.problem.clone();
    let mut pairs: Vec<(&str, String)> = vec![(name, value)];
    for key in ["mode", "create_people"] {
        if !form.value(key).is_empty() {
            pairs.push((key, form.value(key).to_owned()));
        }
    }
    let mut merged = FormView::from_pairs(pairs);
    merged.errors = errors;
    merged.problem = problem;
    merged
}

/// An error message as a sentence: its first letter capitalized.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Step 2's form: "Preview again" shows the preview with the columns as
/// chosen; "Start import" starts the job and goes to its page.
async fn choose(
    State(state): State<AppState>,
    signed: Signed,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    ensure_can_import(&signed)?;
    let mut errors = FieldErrors::new();
    let delimiter = parse_delimiter(form.get("delimiter")).map_err(|message| errors.add("delimiter", message)).ok();
    let mode = parse_mode(form.get("mode")).map_err(|message| errors.add("mode", message)).ok();
    let create_people = form.checked("create_people");
    let (kind, _, head) = upload_head(&state, &signed, &token).await?;
    let headers = rapport_import::preview(&head, kind, delimiter.flatten(), None, 0)
        .map(|preview| preview.headers)
        .unwrap_or_default();
    // Columns are named by position in the form: headers may be anything.
    // A column the form sends empty is left out, even one its header names a
    // field by; one it does not send is matched by its header.
    let mut mapping = Mapping::default();
    for (index, header) in headers.iter().enumerate() {
        let name = format!("column_{index}");
        if form.checked(&name) {
            mapping.0.insert(header.clone(), form.get(&name).to_owned());
        }
    }
    let fits = rapport_import::preview(&head, kind, delimiter.flatten(), Some(&mapping), 0).is_ok();
    let view = FormView::rejected(&form, errors.clone());
    let (Some(delimiter), Some(mode), true, true, false) =
        (delimiter, mode, errors.is_empty(), fits, form.get("action") == "preview")
    else {
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return show_preview(&state, &signed, &token, delimiter.flatten(), Some(&mapping), view, status).await;
    };
    let (_, upload) = state.imports.kept_upload(signed.user.id, &token).await?;
    let options = Options { kind, mode, delimiter, mapping: Some(mapping), create_people };
    let job = state.imports.start_kept(&signed.actor, &upload, options).await?;
    Ok(see_other(&format!("/import/jobs/{}", job.id)))
}

/// Step 3: the job's progress, polled by htmx every second until it ends, then its report.
async fn job_page(State(state): State<AppState>, signed: Signed, Path(id): Path<String>) -> Result<Response, WebError> {
    let id: Uuid = id.parse().map_err(|_| WebError::NotFound("import"))?;
    let job = match state.imports.get(&signed.actor, JobId(id)).await {
        Err(ApiError::NotFound(_)) => return Err(WebError::NotFound("import")),
        other => other?,
    };
    let title = if job.is_finished() { "Import report" } else { "Importing…" };
    // htmx polls for the whole page and swaps in the job's part (`hx-select`).
    signed.page(&JobPage { chrome: signed.chrome("import", title), job })
}
