//! Imports through the API: a preview of a file with its mapping, and import
//! jobs (upload, then poll the job for its progress and report). The jobs
//! themselves are run by [`crate::imports::ImportJobs`].

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::{FieldErrors, JobId};
use rapport_import::{ImportMode, Kind, Mapping, Options, Preview};
use serde::Serialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Items, parse_id};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Auth, NoParams, Params};
use crate::imports::{ImportJob, Received, ReceivedFile, import_error, parse_delimiter, parse_kind, parse_mode};
use crate::shape::unknown_message;

/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// The multipart form of an import (this type only describes it for OpenAPI).
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct ImportForm {
    /// The CSV (or vCard) file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(schema_with = kind_schema)]
    kind: String,
    #[schema(schema_with = mode_schema)]
    mode: Option<String>,
    #[schema(schema_with = delimiter_schema)]
    delimiter: Option<String>,
    #[schema(schema_with = mapping_schema)]
    mapping: Option<String>,
    /// Purchases, activities, deals, tickets and answers: add the people they name who do not exist yet. Not used
    /// by the preview.
    #[schema(value_type = bool, required = false)]
    create_people: Option<bool>,
}

fn kind_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Kind::ALL.map(|kind| kind.as_str())))
        .description(Some("What the file holds."))
        .build()
}

fn mode_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["", "dry-run", "all-or-nothing", "skip-invalid"]))
        .description(Some("skip-invalid when empty or left out; not used by the preview."))
        .build()
}

fn delimiter_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^(tab|[!#-/:-@\\[-`{-~])?$"))
        .description(Some(
            "One punctuation character (not '\"'), or `tab`; found from the header when empty or left out.",
        ))
        .build()
}

fn mapping_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .content_media_type("application/json")
        .description(Some(
            "A JSON object: column header → field name of the kind (`cf.<key>` for a custom field), or \"\" to leave \
             the column out; other headers are matched by name.",
        ))
        .build()
}

/// A file's first rows, as they would be imported.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewBody {
    pub delimiter: String,
    pub headers: Vec<String>,
    /// Each column and the field it fills (none: the column is left out).
    pub columns: Vec<PreviewColumn>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewColumn {
    pub header: String,
    pub field: Option<String>,
}

impl From<Preview> for PreviewBody {
    fn from(preview: Preview) -> Self {
        PreviewBody {
            delimiter: preview.delimiter.to_string(),
            headers: preview.headers,
            columns: preview
                .columns
                .into_iter()
                .map(|column| PreviewColumn { header: column.header, field: column.field })
                .collect(),
            rows: preview.rows,
        }
    }
}

/// The text fields of [`ImportForm`] (beside its file).
const FORM_FIELDS: [&str; 5] = ["kind", "mode", "delimiter", "mapping", "create_people"];

/// The import options a form names, every bad field reported at once.
fn options(form: &Received, errors: &mut FieldErrors) -> Option<Options> {
    for name in form.field_names().filter(|name| !FORM_FIELDS.contains(name)) {
        errors.add(name, unknown_message(name, FORM_FIELDS));
    }
    let kind = match form.get("kind") {
        "" => {
            errors.add("kind", "is required");
            None
        }
        raw => parse_kind(raw).map_err(|message| errors.add("kind", message)).ok(),
    };
    let mode = match form.get("mode") {
        "" => Some(ImportMode::SkipInvalid),
        raw => parse_mode(raw).map_err(|message| errors.add("mode", message)).ok(),
    };
    let delimiter = parse_delimiter(form.get("delimiter")).map_err(|message| errors.add("delimiter", message)).ok();
    let mapping = match form.get("mapping") {
        "" => Some(None),
        raw => match serde_json::from_str::<Mapping>(raw) {
            Ok(mapping) => Some(Some(mapping)),
            Err(err) => {
                errors.add("mapping", format!("must be a JSON object of column header to field name ({err})"));
                None
            }
        },
    };
    let create_people = match form.get("create_people") {
        raw if ["", "false", "0", "off"].iter().any(|no| raw.eq_ignore_ascii_case(no)) => Some(false),
        raw if ["true", "1", "on"].iter().any(|yes| raw.eq_ignore_ascii_case(yes)) => Some(true),
        _ => {
            errors.add("create_people", "must be true or false");
            None
        }
    };
    if form.file.is_none() {
        errors.add("file", "is required");
    }
    Some(Options { kind: kind?, mode: mode?, delimiter: delimiter?, mapping: mapping?, create_people: create_people? })
}

/// Reads the form after checking the caller may import at all.
async fn receive(
    state: &AppState,
    auth: &Auth,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Received, ApiError> {
    auth.actor.ensure_can_create().map_err(|denied| ApiError::Forbidden(denied.to_string()))?;
    let multipart = multipart.map_err(|_| ApiError::NotMultipart)?;
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    state.imports.receive(length, multipart).await
}

/// The first rows of a file and the field each column would fill, without importing anything.
#[utoipa::path(post, path = "/api/v1/imports/preview", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 200, body = PreviewBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<PreviewBody>, ApiError> {
    let form = receive(&state, &auth, &headers, multipart).await?;
    let mut errors = FieldErrors::new();
    let options = options(&form, &mut errors);
    errors.into_result()?;
    let (Some(options), Some(file)) = (options, &form.file) else { return Err(ApiError::Internal) };
    Ok(Json(preview_of(file, &options, PREVIEW_ROWS)?.into()))
}

/// The first `rows` rows of a received file as `options` read them.
fn preview_of(file: &ReceivedFile, options: &Options, rows: usize) -> Result<Preview, ApiError> {
    let head = file.head().map_err(|err| {
        tracing::error!(error = %err, "reading an upload back failed");
        ApiError::Internal
    })?;
    rapport_import::preview(&head, options.kind, options.delimiter, options.mapping.as_ref(), rows)
        .map_err(import_error)
}

/// Starts importing a file. The file is kept in the database and a background
/// job imports it on whichever node claims it; poll its address (the `Location` header) for progress and the report.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 202, body = ImportJob, headers(("Location" = String, description = "The job's address"))),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn start_import(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut form = receive(&state, &auth, &headers, multipart).await?;
    let mut errors = FieldErrors::new();
    let options = options(&form, &mut errors);
    errors.into_result()?;
    let (Some(options), Some(file)) = (options, form.file.take()) else { return Err(ApiError::Internal) };
    // A file whose header or mapping cannot be read is refused now, not as a failed job.
    preview_of(&file, &options, 0)?;
    let job = state.imports.start(&auth.actor, file, options).await?;
    let location = format!("/api/v1/imports/{}", job.id);
    let mut response = (StatusCode::ACCEPTED, Json(job)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One import job: its status, progress and, once done, its report with every rejected row.
/// Only the user who started it, or an admin, may see it.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = String, Path)),
    responses((status = 200, body = ImportJob), (status = 404, body = ErrorBody)))]
pub async fn get_import(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<ImportJob>, ApiError> {
    let id: Uuid = parse_id(&id, "import job")?;
    state.imports.get(&auth.actor, JobId(id)).await.map(Json)
}

/// The caller's latest 50 import jobs, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports",
    responses((status = 200, body = Items<ImportJob>), (status = 422, body = ErrorBody)))]
pub async fn list_imports(
    State(state): State<AppState>,
    auth: Auth,
    _params: Params<NoParams>,
) -> Result<Json<Items<ImportJob>>, ApiError> {
    Ok(Json(Items { items: state.imports.list(&auth.actor).await? }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preview))
        .routes(routes!(start_import, list_imports))
        .routes(routes!(get_import))
        // Uploads have their own, larger, limit (`ImportJobs::receive`).
        .layer(DefaultBodyLimit::disable())
}
